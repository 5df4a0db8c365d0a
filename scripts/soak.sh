#!/usr/bin/env bash
# Bounded load soak of POST /v1/triage, run by hand (not in CI: it wants the whole machine
# for a minute). Builds the release binary, starts it on a free 127.0.0.1 port (no API
# keys, no rate limit), drives it with wrk for SOAK_DURATION (60 s) at SOAK_CONNECTIONS
# (128) connections with a mix of the golden vignettes in tests/cases/, then stops it.
# Passes only with zero socket errors and zero non-2xx responses.
#
#   bash scripts/soak.sh
#   SOAK_DURATION=10s SOAK_CONNECTIONS=32 bash scripts/soak.sh    # a quick look
#
# Traffic goes to 127.0.0.1 only; wrk stops by itself after the duration (and a hard
# `timeout` guards it), and the server is stopped on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
root=$(pwd)

duration=${SOAK_DURATION:-60s}
connections=${SOAK_CONNECTIONS:-128}
threads=${SOAK_THREADS:-$(nproc)}
host=127.0.0.1

if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "installing wrk (Debian package)"
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is not installed: apt-get install -y wrk" >&2
        exit 1
    fi
fi

work="$root/target/soak"
rm -rf "$work"
mkdir -p "$work/bodies"

stop_server_on_exit

# Every vignette's request body, one file each: self-care, consultation and emergency
# outcomes, patient and clinician audiences.
python3 - "$root/tests/cases" "$work/bodies" <<'EOF'
import json, pathlib, sys
cases, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
n = 0
for path in sorted(cases.glob("*.json")):
    request = json.loads(path.read_text())["request"]
    (out / path.name).write_text(json.dumps(request, separators=(",", ":")))
    n += 1
if n < 2:
    sys.exit("fewer than two vignettes in tests/cases")
print(f"{n} vignette bodies")
EOF
bodies=("$work"/bodies/*.json)

cargo build --release --locked --quiet

port=$(free_port)
base="http://$host:$port"
APP_ENV=local \
    APP__SERVER__HOST="$host" \
    APP__SERVER__PORT="$port" \
    APP__LOG__LEVEL=warn \
    APP__AUTH__ENABLED=false \
    APP__RATE_LIMIT__ENABLED=false \
    target/release/spasm-triage >"$work/server.log" 2>&1 &
server_pid=$!
wait_ready "$port" "$server_pid" "$work/server.log" 10
# Every body is a 200 before the soak starts (a 4xx mix would make the soak meaningless).
python3 - "$base" "${bodies[@]}" <<'EOF'
import sys, urllib.request
base = sys.argv[1]
for path in sys.argv[2:]:
    req = urllib.request.Request(base + "/v1/triage", data=open(path, "rb").read(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200, (path, r.status)
EOF

rss_before=$(ps -o rss= -p "$server_pid" | tr -d ' ')
echo "soak: $duration, $connections connections, $threads wrk threads, ${#bodies[@]} bodies -> $base/v1/triage"
wrk_limit=$(( $(python3 -c "import re,sys; m=re.fullmatch(r'(\d+)([smh]?)', sys.argv[1]); print(int(m[1]) * {'': 1, 's': 1, 'm': 60, 'h': 3600}[m[2]])" "$duration") + 60 ))
timeout "$wrk_limit" wrk --threads "$threads" --connections "$connections" --duration "$duration" \
    --timeout 5s --latency --script scripts/soak.lua "$base/v1/triage" -- "${bodies[@]}" | tee "$work/wrk.txt"
rss_after=$(ps -o rss= -p "$server_pid" | tr -d ' ')

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "soak: FAIL, the server died during the soak (see $work/server.log)" >&2
    exit 1
fi

result=$(grep '^SOAK_RESULT ' "$work/wrk.txt" || true)
if [[ -z "$result" ]]; then
    echo "soak: FAIL, wrk printed no result" >&2
    exit 1
fi
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$result"; }
requests=$(field requests)
non2xx=$(field non2xx)
socket_errors=$(( $(field connect) + $(field read) + $(field write) + $(field timeout) ))
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
echo
echo "soak: requests=$requests requests/s=$rps non2xx=$non2xx socket_errors=$socket_errors server_rss_kb=$rss_before->$rss_after"
if (( requests == 0 || non2xx != 0 || socket_errors != 0 )); then
    echo "soak: FAIL" >&2
    exit 1
fi
echo "soak: PASS"
