#!/usr/bin/env bash
# HTTP benchmark of POST /v1/triage against the framework ceiling (examples/ceiling.rs),
# in three alternating rounds, on 127.0.0.1 only. Prints requests/s, p50, p99, errors for both
# and the ratio (each round and the medians), the real server's peak RSS under load (VmHWM) and its start → /ready time.
#
#   bash scripts/bench-http.sh
#
# Environment (all optional):
#   CASE=tests/cases/01_lifted_sofa_spasm.json   golden case whose `request` is the body
#   DURATION=15s  WARMUP=5s  THREADS=2  CONNECTIONS=64   wrk settings (same for both)
#   STARTS=5      start-up measurements (median reported)
#   RUNS=3        alternating service/ceiling rounds (medians reported)
#   SKIP_BUILD=1  use the binaries already built (SERVER=…, CEILING=… to pick others)
# The service runs with its defaults (config/default.toml: info logs, workers = one per
# core); its logs go to /dev/null (formatted, not stored).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# Start-up is timed by polling /ready: poll finely, or the figure is the poll interval.
export READY_POLL_S=0.002

cd "$(dirname "$0")/.."
ROOT=$PWD
CASE=${CASE:-tests/cases/01_lifted_sofa_spasm.json}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-5s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
STARTS=${STARTS:-5}
RUNS=${RUNS:-3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SERVER=${SERVER:-$TARGET_DIR/release/spasm-triage}
CEILING=${CEILING:-$TARGET_DIR/release/examples/ceiling}

command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
command -v curl >/dev/null || (apt-get update && apt-get install -y curl)

if [[ -z ${SKIP_BUILD:-} ]]; then
    cargo build --release --locked --bin spasm-triage --example ceiling
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start the service on a port; sets STARTED_PID and STARTED_MS (process start → /ready).
start_server() {
    local port=$1 t0 t1
    t0=$EPOCHREALTIME
    APP__SERVER__PORT=$port APP__SERVER__HOST=127.0.0.1 "$SERVER" >/dev/null 2>"$WORK/server.err" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    wait_ready "$port"
    t1=$EPOCHREALTIME
    STARTED_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# The request body: the golden case's `request`, compact.
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["request"], separators=(",", ":")), end="")' \
    "$CASE" >"$WORK/body.json"
cat >"$WORK/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
export BODY_FILE=$WORK/body.json

# 1. Start-up: process start → /ready answering, STARTS times.
startups=()
for _ in $(seq "$STARTS"); do
    port=$(free_port)
    start_server "$port"
    startups+=("$STARTED_MS")
    stop "$STARTED_PID"
done
startup_median=$(printf '%s\n' "${startups[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

# 2. The real server and the ceiling, the ceiling's body the size of the real response.
real_port=$(free_port)
start_server "$real_port"
real_pid=$STARTED_PID
read -r real_status real_bytes < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' \
    -H 'content-type: application/json' --data-binary @"$BODY_FILE" "http://127.0.0.1:$real_port/v1/triage")
[[ $real_status == 200 ]] || { echo "the service answered $real_status to the benchmark body" >&2; exit 1; }
rss_idle_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$real_pid/status")

ceiling_port=$(free_port)
"$CEILING" "$ceiling_port" "$real_bytes" >/dev/null 2>&1 &
ceiling_pid=$!
PIDS+=("$ceiling_pid")
wait_ready "$ceiling_port"
ceiling_bytes=$(curl -s -o /dev/null -w '%{size_download}' \
    -H 'content-type: application/json' --data-binary @"$BODY_FILE" "http://127.0.0.1:$ceiling_port/v1/triage")

run_wrk() { # port duration → RESULT line
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$WORK/post.lua" "http://127.0.0.1:$1/v1/triage" |
        grep '^RESULT'
}
# CPU time (user + system) a process has used, in µs.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d", ($12 + $13) * 1e6 / hz }' "/proc/$1/stat"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" ${1#RESULT }"; }

echo "warming up both servers ($WARMUP each)..." >&2
run_wrk "$real_port" "$WARMUP" >/dev/null
run_wrk "$ceiling_port" "$WARMUP" >/dev/null
# Alternating rounds (service, ceiling, service, ...), so that a change in what else the
# machine is doing falls on both; the figures reported are the medians over the rounds.
reals=() ceilings=() real_cpus=() ceiling_cpus=()
for round in $(seq "$RUNS"); do
    echo "round $round of $RUNS: /v1/triage, then the ceiling ($DURATION each)..." >&2
    c0=$(cpu_us "$real_pid")
    reals+=("$(run_wrk "$real_port" "$DURATION")")
    real_cpus+=($(($(cpu_us "$real_pid") - c0)))
    c0=$(cpu_us "$ceiling_pid")
    ceilings+=("$(run_wrk "$ceiling_port" "$DURATION")")
    ceiling_cpus+=($(($(cpu_us "$ceiling_pid") - c0)))
done
rss_peak_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$real_pid/status")

errors() { echo $(($(field "$1" connect) + $(field "$1" read) + $(field "$1" write) + $(field "$1" timeout))); }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "body: $CASE ($(wc -c <"$BODY_FILE") B in); response $real_bytes B (service), $ceiling_bytes B (ceiling)"
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per run after a $WARMUP warm-up each; $RUNS alternating rounds"
echo
printf '%-6s %-10s %9s %8s %8s %8s %9s %7s %8s %12s\n' round server 'req/s' 'p50 ms' 'p99 ms' 'max ms' requests errors 'non-2xx' 'CPU µs/req'
ratios=() total_errors=0 total_non2xx=0
for i in $(seq 0 $((RUNS - 1))); do
    for name in service ceiling; do
        if [[ $name == service ]]; then r=${reals[$i]} cpu=${real_cpus[$i]}; else r=${ceilings[$i]} cpu=${ceiling_cpus[$i]}; fi
        total_errors=$((total_errors + $(errors "$r")))
        total_non2xx=$((total_non2xx + $(field "$r" status)))
        printf '%-6s %-10s %9s %8s %8s %8s %9s %7s %8s %11s\n' "$((i + 1))" "$name" "$(field "$r" rps)" "$(field "$r" p50_ms)" \
            "$(field "$r" p99_ms)" "$(field "$r" max_ms)" "$(field "$r" requests)" "$(errors "$r")" "$(field "$r" status)" \
            "$(awk -v c="$cpu" -v n="$(field "$r" requests)" 'BEGIN { printf "%.1f", c / n }')"
    done
    ratios+=("$(awk -v a="$(field "${reals[$i]}" rps)" -v b="$(field "${ceilings[$i]}" rps)" 'BEGIN { printf "%.3f", a / b }')")
done
per_request() { # results cpus → CPU µs per request of each round
    local -n results=$1 cpus=$2
    for i in "${!results[@]}"; do
        awk -v c="${cpus[$i]}" -v n="$(field "${results[$i]}" requests)" 'BEGIN { printf "%.1f\n", c / n }'
    done
}
echo
echo "median over $RUNS rounds:"
echo "  service  $(for r in "${reals[@]}"; do field "$r" rps; done | median) req/s, p99 $(for r in "${reals[@]}"; do field "$r" p99_ms; done | median) ms, CPU $(per_request reals real_cpus | median) µs/req"
echo "  ceiling  $(for r in "${ceilings[@]}"; do field "$r" rps; done | median) req/s, p99 $(for r in "${ceilings[@]}"; do field "$r" p99_ms; done | median) ms, CPU $(per_request ceilings ceiling_cpus | median) µs/req"
echo "throughput ratio service/ceiling: median $(printf '%s\n' "${ratios[@]}" | median) (rounds: ${ratios[*]})"
echo "errors (connect, read, write, timeout) and non-2xx over all runs: $total_errors, $total_non2xx"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these $(nproc) cores)"
echo "service RSS: $((rss_idle_kb / 1024)) MiB idle after one request, peak (VmHWM) $((rss_peak_kb / 1024)) MiB ($rss_peak_kb kB) under load"
echo "service start → /ready: median ${startup_median} ms over $STARTS starts (${startups[*]} ms)"
