#!/usr/bin/env bash
# What request logging costs (issue 15): meetingd.ping throughput and p50 with
# 4 clients (Benchmarks/ping/loadgen.c) at log_level info, which writes no line
# per request (the baseline: only the request id's stamp and the per-thread
# context remain), and at log_level debug, one line per request to a file, in
# the text and the json format. Rounds interleave the three daemons; each
# figure is the median over rounds, printed with its ratio to the baseline.
#
# Usage: Benchmarks/logs/run.sh
# Env:   MEETINGD_BIN   use this meetingd instead of building one in release mode
#        BENCH_SECONDS  seconds per measurement (default 3)
#        BENCH_ROUNDS   rounds (default 3)
source "$(dirname "$0")/../ping/common.sh"

# serve NAME LEVEL FORMAT: a daemon with built-in methods only, its log in $work/NAME.log.
declare -A endpoint
serve() {
    local name=$1 ep
    ep="tcp://127.0.0.1:$(free_port)"
    endpoint[$name]=$ep
    printf 'endpoints: ["%s"]\nworkers: 2\ncorpus: %s/none.sqlite\nmodules: {}\nlog_level: %s\nlog_format: %s\n' \
        "$ep" "$work" "$2" "$3" > "$work/$name.yaml"
    start "$name" "$ep" "$MEETINGD_BIN" serve --config "$work/$name.yaml"
}

kinds=(info debug-text debug-json)
serve info info text
serve debug-text debug text
serve debug-json debug json

for round in $(seq "$rounds"); do
    for kind in "${kinds[@]}"; do
        "$work/loadgen" -c 4 -d "$seconds" "${endpoint[$kind]}" | sed "s/^/$kind /" >> "$work/results"
    done
done
echo "debug lines written: text $(grep -c ' request ' "$work/debug-text.log"), json $(grep -c '"message":"request"' "$work/debug-json.log")"

python3 - "$work/results" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    kind, figures = line.split(" ", 1)
    runs.setdefault(kind, []).append(json.loads(figures))
def median(kind, key):
    return statistics.median(run[key] for run in runs[kind])
base_rps, base_p50 = median("info", "throughput_rps"), median("info", "p50_us")
print(f"{'log':<12} {'req/s':>9} {'ratio':>6} {'p50 us':>8} {'ratio':>6}  errors")
for kind in ("info", "debug-text", "debug-json"):
    rps, p50 = median(kind, "throughput_rps"), median(kind, "p50_us")
    errors = sum(run["errors"] for run in runs[kind])
    print(f"{kind:<12} {rps:>9.0f} {rps / base_rps:>6.2f} {p50:>8.0f} {p50 / base_p50:>6.2f}  {errors}")
PY
