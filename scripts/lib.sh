# Shared shell helpers for the scripts that start the server. Source it:
#   source "$(dirname "$0")/lib.sh"

# A free loopback port, chosen by the kernel (bind to port 0), else by probing.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    while :; do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# wait_ready PORT [PID] [LOG] [TIMEOUT_S]: poll GET /ready on 127.0.0.1:PORT with bash's own
# /dev/tcp (no process per attempt) until it answers 200. Fails, printing LOG, when PID exits
# first or TIMEOUT_S (default 30) passes. Polls every READY_POLL_S seconds (default 0.1; the
# benchmark sets 0.002 so that its start-up figure is not rounded up to the poll interval).
wait_ready() {
    local port=$1 pid=${2:-} log=${3:-} deadline=$((SECONDS + ${4:-30})) line
    while ((SECONDS < deadline)); do
        if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
            printf 'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
            line=
            IFS= read -r -t 2 line <&3 || true
            exec 3<&- 3>&-
            [[ $line == "HTTP/1.1 200"* ]] && return 0
        fi 2>/dev/null
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            echo "the server exited before it was ready" >&2
            [[ -n $log && -f $log ]] && cat "$log" >&2
            return 1
        fi
        sleep "${READY_POLL_S:-0.1}"
    done
    echo "port $port never became ready" >&2
    [[ -n $log && -f $log ]] && cat "$log" >&2
    return 1
}

# stop_server_on_exit: after it, set server_pid=$! when the server starts; on exit (or Ctrl-C)
# the server gets SIGTERM and is waited for.
server_pid=""
stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
stop_server_on_exit() {
    trap stop_server EXIT
    trap 'exit 130' INT TERM
}
