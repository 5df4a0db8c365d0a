#!/usr/bin/env bash
# FHIR conformance: build and start the release server on a free port, then validate every
# Questionnaire, GuidanceResponse (with its contained RiskAssessment and Parameters) and
# OperationOutcome it produces against the FHIR R4B models of fhir.resources
# (scripts/validate_fhir.py). Exits non-zero on any validation error.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned and verified: fhir.resources 8.3.0 (pydantic 2), R4B models under fhir.resources.R4B.
FHIR_RESOURCES_VERSION=8.3.0
venv=target/fhir-venv

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "fhir.resources==${FHIR_RESOURCES_VERSION}"

cargo build --release --locked

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
APP__SERVER__HOST=127.0.0.1 APP__SERVER__PORT="$port" target/release/spasm-triage >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

base="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 150); do
  if "$venv/bin/python" -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('$base/ready', timeout=1).status != 200)" 2>/dev/null; then
    ready=1
    break
  fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the server exited before it was ready:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
if [[ $ready -ne 1 ]]; then
  echo "the server was not ready after 30 s:" >&2
  cat "$log" >&2
  exit 1
fi

"$venv/bin/python" scripts/validate_fhir.py "$base"
