#!/usr/bin/env bash
# The dashboard workload on the single-node embedded PostgreSQL and on an embedded Citus
# cluster (1 coordinator + 2 workers), one after the other with the same scale, seed and
# iterations; prints a Markdown table of P95 and shared buffers per call for each query.
# Usage: benches/citus_dashboard.sh   (PGPERF=path/to/pgperf SCALE=0.1 ITERATIONS=60 WORKERS=2
# FIRST=citus to run the distributed side first, so drift of a shared machine shows)
set -euo pipefail
bin=${PGPERF:-target/release/pgperf}
scale=${SCALE:-0.1}
iterations=${ITERATIONS:-60}
workers=${WORKERS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(bench --scale "$scale" --iterations "$iterations" --warmup 5 --rng-seed 42)
# Exit 1 (a budget breached) is a finding, not a failure of the comparison.
run() {
  local name=$1; shift
  "$bin" "${common[@]}" "$@" --out "$out/$name" >/dev/null 2>"$out/$name.log" ||
    { [ $? -eq 1 ] || { cat "$out/$name.log" >&2; exit 3; }; }
}
if [ "${FIRST:-single}" = citus ]; then
  run citus --citus-workers "$workers"; run single
else
  run single; run citus --citus-workers "$workers"
fi
echo "scale $scale, $iterations iterations, $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| query | P95 single node | P95 Citus 1+$workers | buffers/call single | buffers/call Citus | Citus plan |"
echo "|---|---|---|---|---|---|"
jq -r -n --slurpfile a "$out"/single/*/results.json --slurpfile b "$out"/citus/*/results.json '
  def p95: if .latency then (.latency.p95.value_us / 1000 * 100 | round / 100 | tostring) + " ms" else "-" end;
  def buffers: if .server and .server.calls > 0
    then ((.server.shared_blks_hit + .server.shared_blks_read) / .server.calls * 10 | round / 10 | tostring)
    else "-" end;
  def strategy: (.plan.distributed // null) as $d
    | if $d then "\($d.strategy), \($d.task_count) tasks" else "local" end;
  ($b[0].queries | map({(.name): .}) | add) as $citus
  | $a[0].queries[]
  | . as $q | $citus[$q.name] as $c
  | "| \($q.name) | \($q | p95) | \($c | p95) | \($q | buffers) | \($c | buffers) | \($c | strategy) |"'
