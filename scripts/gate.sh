#!/usr/bin/env bash
# The project's own performance gate (part of scripts/test.sh, so CI runs it): bench the
# bundled dashboard workload at a small scale on a private PostgreSQL and compare with the
# committed baseline on the signals that do not depend on a noisy machine: plan shapes, shared
# buffers per call, rows per call and errors. A migration that loses an index fails here.
# The embedded server's clock is pinned (--clock, libfaketime) because the dashboard's queries
# read now() and current_date: with the real clock, rows and plans drift with the time of day
# and the committed baseline would fail on any other day. `check` reuses the baseline's clock.
#
# Refresh the baseline after an intended change:
#   bash scripts/gate.sh --refresh
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=reports/baseline/dashboard.json
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --locked -q
pgperf=target/debug/pgperf

if [ "${1:-}" = "--refresh" ]; then
  "$pgperf" bench --scale 0.05 --iterations 30 --warmup 5 --clock 2026-12-02T12:00:00Z --out "$out"
  mkdir -p "$(dirname "$baseline")"
  cp "$out/latest/results.json" "$baseline"
  echo "gate: baseline refreshed: $baseline" >&2
  exit 0
fi

# The table goes to the log; on GitHub Actions, check itself appends the Markdown to the step
# summary (GITHUB_STEP_SUMMARY) and annotates failing queries (GITHUB_ACTIONS).
set +e
"$pgperf" check --baseline "$baseline" --fail-on plan,buffers,rows,errors --out "$out/check"
status=$?
set -e
exit $status
