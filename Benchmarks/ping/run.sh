#!/usr/bin/env bash
# The ping benchmark: meetingd.ping round trips against meetingd and against a
# bare libzmq REQ/REP server in C, with 1, 4 and 8 concurrent clients, then
# the ratios and the goals (p50 within 1.25x, throughput at 8 clients >= 0.8x).
#
# Usage: Benchmarks/ping/run.sh
# Env:   MEETINGD_BIN   use this meetingd instead of building one in release mode
#        BENCH_SECONDS  seconds per measurement (default 3)
#        BENCH_ROUNDS   rounds; each figure is the median over rounds (default 3)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
cc -std=c11 -O2 "$here/echo_server.c" $zmq -o "$work/echo_server"

meetingd_ep="tcp://127.0.0.1:$(free_port)"
# Built-in methods only: the stock modules need a corpus, and a ping reaches none of them.
printf 'endpoints: ["%s"]\ncorpus: %s/none.sqlite\nmodules: {}\n' "$meetingd_ep" "$work" > "$work/meetingd.yaml"
start meetingd "$meetingd_ep" "$MEETINGD_BIN" serve --config "$work/meetingd.yaml"
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
