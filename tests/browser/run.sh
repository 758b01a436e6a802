#!/usr/bin/env bash
# Browser test of the HTML report (issue 6). Renders the fixture reports with `pgperf report`,
# opens each in headless Chromium, asserts that the main sections exist in the DOM and that the
# console stayed silent (the report has no script, so any console line, a CSP violation
# included, is a failure), and saves a screenshot of each report.
#
# Needs Debian's `chromium` (scripts/setup.sh installs it: apt-get install -y chromium); installs
# nothing itself. Run by tests/report_browser.rs, or by hand:
#   tests/browser/run.sh [OUT_DIR]          (default target/browser-test)
# PGPERF=path/to/pgperf uses that binary instead of building one; CHROMIUM=path picks the browser.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/browser-test}
fixtures=$root/tests/fixtures/report
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}

fail() { echo "browser test: $*" >&2; exit 1; }

[ -n "$chromium" ] || fail "chromium not found: install it with apt-get install -y chromium (scripts/setup.sh does)"
if [ -z "${PGPERF:-}" ]; then
  cargo build --quiet --manifest-path "$root/Cargo.toml" --bin pgperf
  PGPERF=$root/target/debug/pgperf
fi
mkdir -p "$out"

# chrome ARGS...: one headless Chromium with a fresh profile and no network chatter.
chrome() {
  local profile status=0
  profile=$(mktemp -d)
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@" || status=$?
  rm -rf "$profile"
  return $status
}

# console_of NAME FILE: dumps the DOM to OUT/NAME.dom and prints the page's console lines.
console_of() {
  chrome --enable-logging=stderr --v=0 --dump-dom "file://$2" >"$out/$1.dom" 2>"$out/$1.log" \
    || fail "$1: chromium failed, see $out/$1.log"
  grep -F ':CONSOLE' "$out/$1.log" || true
}

# check_page NAME FILE SECTION_ID...: sections present, console silent, screenshot saved.
check_page() {
  local name=$1 html=$2 messages
  shift 2
  messages=$(console_of "$name" "$html")
  [ -z "$messages" ] || fail "$name: console messages:"$'\n'"$messages"
  for id in "$@"; do
    grep -q "id=\"$id\"" "$out/$name.dom" || fail "$name: section #$id is missing from the DOM"
  done
  rm -f "$out/$name.png"
  chrome --window-size=1400,3000 --screenshot="$out/$name.png" "file://$html" >/dev/null 2>&1 \
    || fail "$name: screenshot failed"
  [ -s "$out/$name.png" ] || fail "$name: no screenshot written"
  echo "ok: $name ($(wc -c <"$html") bytes; screenshot $out/$name.png)"
}

# The console check must be able to fail: a page with a script error has to be caught.
cat >"$out/control.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><script>not_defined()</script></body></html>
HTML
[ -n "$(console_of control "$out/control.html")" ] \
  || fail "the console check caught nothing on a page with a script error; chromium's logging changed"

"$PGPERF" report "$fixtures/bench_dashboard.json" -o "$out/bench.html"
check_page bench "$out/bench.html" summary queries environment run-warnings

"$PGPERF" report "$fixtures/advice_dashboard.json" -o "$out/advice.html"
check_page advice "$out/advice.html" advice migration

"$PGPERF" report "$fixtures/bench_dashboard.json" "$fixtures/advice_dashboard.json" \
  -o "$out/combined.html"
check_page combined "$out/combined.html" summary queries advice migration environment

"$PGPERF" report "$fixtures/check_dashboard.json" -o "$out/check.html"
check_page check "$out/check.html" check

"$PGPERF" report "$fixtures/bench_dashboard.json" "$fixtures/check_dashboard.json" \
  -o "$out/bench-check.html"
check_page bench-check "$out/bench-check.html" check summary queries environment

echo "browser test: all reports passed"
