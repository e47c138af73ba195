# Sourced by the benchmarks that drive meetingd with loadgen.c (ping/run.sh, logs/run.sh):
# BENCH_SECONDS and BENCH_ROUNDS read into $seconds and $rounds, a work folder ($work)
# removed on exit with every server started in it, loadgen built there, $MEETINGD_BIN
# built in release mode unless given, and `free_port` and `start`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-3}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

zmq=$(pkg-config --cflags --libs libzmq)
cc -std=c11 -O2 -pthread "$root/Benchmarks/ping/loadgen.c" $zmq -o "$work/loadgen"
if [ -z "${MEETINGD_BIN:-}" ]; then
    (cd "$root" && swift build -c release --scratch-path .build-release --product meetingd)
    MEETINGD_BIN="$(cd "$root" && swift build -c release --scratch-path .build-release --show-bin-path)/meetingd"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME ENDPOINT COMMAND...: runs a server in the background and waits
# until it answers a ping (60 tries at most); its stderr goes to $work/NAME.log.
start() {
    local name=$1 endpoint=$2
    shift 2
    "$@" 2>"$work/$name.log" &
    pids+=($!)
    for _ in $(seq 60); do
        kill -0 "${pids[-1]}" 2>/dev/null || break
        if "$work/loadgen" -n 1 -t 500 "$endpoint" | grep -q '"requests":1,'; then return; fi
        sleep 0.5
    done
    echo "$name did not answer a ping on $endpoint; its log:" >&2
    tail -n 20 "$work/$name.log" >&2
    exit 1
}
