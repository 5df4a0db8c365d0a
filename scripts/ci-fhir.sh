#!/usr/bin/env bash
# FHIR conformance: build and start the release server on a free port, then validate every
# Questionnaire, GuidanceResponse (with its contained RiskAssessment and Parameters) and
# OperationOutcome it produces against the FHIR R4B models of fhir.resources
# (scripts/validate_fhir.py). Exits non-zero on any validation error.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

# Pinned and verified: fhir.resources 8.3.0 (pydantic 2), R4B models under fhir.resources.R4B.
FHIR_RESOURCES_VERSION=8.3.0
venv=target/fhir-venv
# And FHIR R4 (4.0.1) itself, the version the service claims: fhir.resources 6.4.0, whose
# default models are 4.0.1, on pydantic 1.
R4_FHIR_RESOURCES_VERSION=6.4.0
R4_PYDANTIC_VERSION=1.10.27
r4_venv=target/fhir-r4-venv

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "fhir.resources==${FHIR_RESOURCES_VERSION}"
if [[ ! -x "$r4_venv/bin/python" ]]; then
  python3 -m venv "$r4_venv"
fi
"$r4_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "fhir.resources==${R4_FHIR_RESOURCES_VERSION}" "pydantic==${R4_PYDANTIC_VERSION}"

cargo build --release --locked

port=$(free_port)
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
wait_ready "$port" "$server" "$log" 30

FHIR_MODELS=R4 "$r4_venv/bin/python" scripts/validate_fhir.py "$base"
FHIR_MODELS=R4B "$venv/bin/python" scripts/validate_fhir.py "$base"
