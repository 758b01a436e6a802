#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then runs formatting and
# lint checks, every unit and integration test (each starts its own private PostgreSQL), the
# report's browser test and the project's own performance gate. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo nextest run --locked --no-fail-fast
# The project's own performance gate: a migration that loses an index fails here.
bash scripts/gate.sh
