#!/usr/bin/env bash
# Instructions the handler's synchronous path takes per /v1/triage body (parse, engine,
# response, JSON), by callgrind: deterministic, so a change can be judged on a busy machine.
#   bash scripts/instructions.sh [CASE ...]   (default: the sofa, emergency and minimal bodies)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || (apt-get update -qq && apt-get install -y -qq valgrind >/dev/null)
cargo build --release --locked --example instructions --quiet
bin=${CARGO_TARGET_DIR:-target}/release/examples/instructions
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=(tests/cases/01_lifted_sofa_spasm.json tests/cases/04_new_urinary_retention.json)
count() { # instructions for N calls
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
    awk '/^summary:/ { print $2 }' "$out"
    rm -f "$out"
}
for c in "${cases[@]}"; do
    one=$(count "$c" 1)
    eleven=$(count "$c" 11)
    printf '%-50s %8d instructions per request\n' "$c" $(((eleven - one) / 10))
done
