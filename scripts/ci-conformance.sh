#!/usr/bin/env bash
# API contract conformance, on a clean clone with only Rust, Python 3.11+ with pip, and
# Node 20+ with npm preinstalled:
#   1. redocly lint (recommended rules + redocly.yaml) on the committed openapi/openapi.json
#   2. the TypeScript client: types generated from the committed spec, tsc --strict --noEmit
#   3. the release build, started on a free 127.0.0.1 port with API keys on
#   4. schemathesis: every check, a fixed seed, --max-examples 200 (and at least that many
#      cases for every operation with parameters or a body), no failure
#   5. the TypeScript client's live check (every golden vignette through the typed client)
# The server is stopped on exit, whatever happens. Only 127.0.0.1 is contacted (and the
# package registries while installing).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_SEED=${SCHEMATHESIS_SEED:-20261125}
SCHEMATHESIS_MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-200}

export CARGO_TERM_COLOR=never
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export NO_UPDATE_NOTIFIER=1
export npm_config_fund=false
export npm_config_audit=false
export npm_config_update_notifier=false
export PIP_DISABLE_PIP_VERSION_CHECK=1

work="$root/target/conformance"
mkdir -p "$work"

step_started=0
step() {
    local now
    now=$(date +%s)
    if ((step_started > 0)); then
        printf '   (%ss)\n' "$((now - step_started))"
    fi
    step_started=$now
    printf '\n== conformance: %s ==\n' "$*"
}

# Checks run to the end and report together; installs, the build and the start are fatal.
passed=()
failed=()
check() {
    local name=$1
    shift
    if "$@"; then
        passed+=("$name")
    else
        failed+=("$name")
        printf '!! conformance: %s FAILED\n' "$name"
    fi
}

stop_server_on_exit

step "install: schemathesis $SCHEMATHESIS_VERSION (Python venv in target/conformance)"
venv="$work/venv"
schemathesis() { "$venv/bin/python" -m schemathesis.cli "$@"; }
if ! schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    rm -rf "$venv" "$work/pylib"
    if python3 -m venv "$venv"; then
        "$venv/bin/python" -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
    else
        # No venv module (Debian without python3-venv): a private --target directory.
        echo "python3 -m venv is unavailable; installing into target/conformance/pylib"
        PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --target "$work/pylib" \
            "schemathesis==$SCHEMATHESIS_VERSION"
        schemathesis() { PYTHONPATH="$work/pylib" python3 -m schemathesis.cli "$@"; }
    fi
fi
schemathesis --version

step "install: TypeScript client and @redocly/cli (npm ci, clients/typescript/package-lock.json)"
npm ci --prefix clients/typescript --no-audit --no-fund --loglevel=error
bin="$root/clients/typescript/node_modules/.bin"

step "redocly lint openapi/openapi.json (recommended + redocly.yaml)"
"$bin/redocly" --version
check "redocly lint" "$bin/redocly" lint --config redocly.yaml --format codeframe

step "TypeScript client: generate types from the committed spec, tsc --strict --noEmit"
# From clients/typescript/ (not the root, whose redocly.yaml lint rules it would apply).
(cd clients/typescript && "$bin/openapi-typescript" ../../openapi/openapi.json --output src/schema.d.ts)
check "tsc --strict --noEmit" "$bin/tsc" --strict --noEmit -p clients/typescript
# The client must keep compiling against the types of every committed older release
# (tests/compat/<release>/openapi.json): a form pinned to an old release can still upgrade
# the client. The current types are generated last, so the build below uses them.
for old_spec in tests/compat/*/openapi.json; do
    release=$(basename "$(dirname "$old_spec")")
    (cd clients/typescript && "$bin/openapi-typescript" "../../$old_spec" --output src/schema.d.ts)
    check "tsc --strict --noEmit against the $release types" "$bin/tsc" --strict --noEmit -p clients/typescript
done
(cd clients/typescript && "$bin/openapi-typescript" ../../openapi/openapi.json --output src/schema.d.ts)
rm -rf clients/typescript/.build
"$bin/tsc" -p clients/typescript || true

step "cargo build --release --locked"
cargo build --release --locked

step "start target/release/spasm-triage on a free 127.0.0.1 port, API keys on"
port=$(free_port)
base="http://127.0.0.1:$port"
# A throwaway key for this run; the server is given only its SHA-256.
api_key=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
key_sha256=$(printf '%s' "$api_key" | python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
APP_ENV=local \
    APP__SERVER__HOST=127.0.0.1 \
    APP__SERVER__PORT="$port" \
    APP__SERVER__WORKERS=2 \
    APP__LOG__LEVEL=warn \
    APP__AUTH__ENABLED=true \
    APP__AUTH__KEYS="[{\"client\": \"ci-conformance\", \"sha256\": \"$key_sha256\"}]" \
    APP__RATE_LIMIT__ENABLED=false \
    APP__AUTH__FAILURES_PER_MINUTE=1000000 \
    APP__AUTH__FAILURE_BURST=1000000 \
    target/release/spasm-triage >"$work/server.log" 2>&1 &
server_pid=$!
wait_ready "$port" "$server_pid" "$work/server.log" 60
echo "ready at $base"
# The release binary serves exactly the committed spec that the tools below read.
python3 - "$base" "$api_key" <<'EOF'
import json, sys, urllib.request
base, key = sys.argv[1], sys.argv[2]
req = urllib.request.Request(base + "/openapi.json", headers={"X-API-Key": key})
with urllib.request.urlopen(req, timeout=5) as r:
    served = json.load(r)
with open("openapi/openapi.json") as f:
    committed = json.load(f)
if served != committed:
    sys.exit("the served /openapi.json differs from openapi/openapi.json: regenerate it with "
             "`cargo run --quiet -- openapi > openapi/openapi.json`")
print("served /openapi.json == openapi/openapi.json")
EOF

step "schemathesis: --checks all, --max-examples $SCHEMATHESIS_MAX_EXAMPLES, --seed $SCHEMATHESIS_SEED"
# The failed-authentication throttle is raised above: ignored_auth sends missing and wrong
# keys from this one address on purpose, and a 429 there would mask what it checks.
# The spec declares API keys (production turns them on), so the server runs with keys on and
# schemathesis sends this run's key; its ignored_auth check then also proves that every
# protected operation refuses a missing or wrong key. Against a server with keys off that
# check fails by design.
run_schemathesis() {
    local status=0
    rm -rf "$work/schemathesis"
    (
        cd "$work"
        schemathesis --config-file "$root/scripts/schemathesis.toml" run "$root/openapi/openapi.json" \
            --url "$base" \
            --checks all \
            --max-examples "$SCHEMATHESIS_MAX_EXAMPLES" \
            --seed "$SCHEMATHESIS_SEED" \
            --generation-database none \
            --header "X-API-Key: $api_key" \
            --request-timeout 10 \
            --no-color \
            --report junit,ndjson \
            --report-dir "$work/schemathesis"
    ) || status=1
    # Cases sent per operation, from the NDJSON event stream (then deleted: it holds every
    # response). An operation with parameters or a body must get the full --max-examples;
    # one without (the GETs) has only a handful of distinct requests to make (methods,
    # headers, keys), and Hypothesis stops once it has made them.
    python3 - "$work/schemathesis" "$SCHEMATHESIS_MAX_EXAMPLES" "$root/openapi/openapi.json" <<'EOF'
import collections, glob, json, os, sys
report_dir, wanted, spec_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
streams = sorted(glob.glob(f"{report_dir}/*.ndjson"))
if not streams:
    sys.exit("no schemathesis NDJSON report")
cases = collections.defaultdict(set)
with open(streams[-1]) as f:
    for line in f:
        finished = json.loads(line).get("ScenarioFinished")
        if finished:
            recorder = finished.get("recorder", {})
            cases[recorder.get("label", "?")].update(recorder.get("cases", {}))
for stream in streams:
    os.remove(stream)
with open(spec_path) as f:
    spec = json.load(f)
short = []
for path, item in spec["paths"].items():
    for method, op in item.items():
        if method not in ("get", "put", "post", "delete", "patch"):
            continue
        label = f"{method.upper()} {path}"
        has_inputs = bool(op.get("parameters") or op.get("requestBody"))
        need = wanted if has_inputs else 1
        n = len(cases.get(label, ()))
        print(f"  {n:6d} cases  {label}" + ("" if has_inputs else "  (no inputs to vary)"))
        if n < need:
            short.append(f"{label} ({n} < {need})")
if short:
    sys.exit("too few generated cases: " + ", ".join(short))
EOF
    local counted=$?
    return $((status || counted))
}
check "schemathesis" run_schemathesis

step "TypeScript client against the live server (every vignette in tests/cases/)"
check "TypeScript client, live" env SPASM_TRIAGE_URL="$base" SPASM_TRIAGE_API_KEY="$api_key" \
    node clients/typescript/.build/smoke.js "$root/tests/cases"

step "done"
for name in "${passed[@]+"${passed[@]}"}"; do echo "  passed: $name"; done
for name in "${failed[@]+"${failed[@]}"}"; do echo "  FAILED: $name"; done
echo "conformance: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
