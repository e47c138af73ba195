#!/usr/bin/env bash
# The ping benchmark: meetingd.ping round trips against meetingd and against a
# bare libzmq REQ/REP server in C, with 1, 4 and 8 concurrent clients, then
# the ratios and the goals (p50 within 1.25x, throughput at 8 clients >= 0.8x).
#
# Usage: Benchmarks/ping/run.sh
# Env:   MEETINGD_BIN   use this meetingd instead of building one in release mode
#        BENCH_SECONDS  seconds per measurement (default 3)
#        BENCH_ROUNDS   rounds; each figure is the median over rounds (default 3)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
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
cc -std=c11 -O2 "$here/echo_server.c" $zmq -o "$work/echo_server"
cc -std=c11 -O2 -pthread "$here/loadgen.c" $zmq -o "$work/loadgen"
if [ -z "${MEETINGD_BIN:-}" ]; then
    (cd "$root" && swift build -c release)
    MEETINGD_BIN="$(cd "$root" && swift build -c release --show-bin-path)/meetingd"
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

meetingd_ep="tcp://127.0.0.1:$(free_port)"
start meetingd "$meetingd_ep" "$MEETINGD_BIN" serve --endpoint "$meetingd_ep"
echo_ep="tcp://127.0.0.1:$(free_port)"
start echo "$echo_ep" "$work/echo_server" "$echo_ep"

# measure SERVER ENDPOINT CLIENTS: one loadgen run, tagged with the server.
measure() {
    "$work/loadgen" -c "$3" -d "$seconds" "$2" | sed "s/^{/{\"server\":\"$1\",/" >>"$work/results.jsonl"
}

echo "warming up, then $rounds rounds of ${seconds}s per server and client count..." >&2
"$work/loadgen" -c 8 -d 1 "$meetingd_ep" >/dev/null
"$work/loadgen" -c 8 -d 1 "$echo_ep" >/dev/null
for round in $(seq "$rounds"); do
    for clients in 1 4 8; do
        # Alternate which server goes first, so drift (thermal, neighbours)
        # does not always favour the same one.
        if [ $((round % 2)) -eq 1 ]; then
            measure meetingd "$meetingd_ep" "$clients"; measure echo "$echo_ep" "$clients"
        else
            measure echo "$echo_ep" "$clients"; measure meetingd "$meetingd_ep" "$clients"
        fi
    done
done

python3 - "$work/results.jsonl" <<'PY'
import json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1])]
def median(server, clients, key):
    return statistics.median(r[key] for r in runs if r["server"] == server and r["clients"] == clients)

print(f"{'clients':>7} | {'meetingd p50/p99 us':>20} {'rps':>8} | {'echo p50/p99 us':>20} {'rps':>8}"
      f" | {'p50 x':>6} {'p99 x':>6} {'rps x':>6}")
ratios = {}
for c in (1, 4, 8):
    m = {k: median("meetingd", c, k) for k in ("p50_us", "p99_us", "throughput_rps")}
    e = {k: median("echo", c, k) for k in ("p50_us", "p99_us", "throughput_rps")}
    ratios[c] = {k: m[k] / e[k] for k in m}
    print(f"{c:>7} | {m['p50_us']:>9.1f}/{m['p99_us']:<10.1f} {m['throughput_rps']:>8.0f}"
          f" | {e['p50_us']:>9.1f}/{e['p99_us']:<10.1f} {e['throughput_rps']:>8.0f}"
          f" | {ratios[c]['p50_us']:>6.2f} {ratios[c]['p99_us']:>6.2f} {ratios[c]['throughput_rps']:>6.2f}")
errors = sum(r["errors"] for r in runs)
if errors:
    print(f"warning: {errors} requests timed out or got an error reply")
p50, rps = ratios[1]["p50_us"], ratios[8]["throughput_rps"]
print(f"goal: ping p50 (1 client) within 1.25x of echo: {p50:.2f}x  {'MET' if p50 <= 1.25 else 'MISSED'}")
print(f"goal: throughput at 8 clients >= 0.8x of echo: {rps:.2f}x  {'MET' if rps >= 0.8 else 'MISSED'}")
PY
