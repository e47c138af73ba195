#!/usr/bin/env python3
"""Bounded, steady request load for the reload test.

load.py --endpoint E [--endpoint E2 ...] --clients N --seconds S [--stop-file F]
        [--timeout-ms T] [--method M --params JSON ...]

Runs N client threads (spread over the endpoints), each with its own REQ
socket sending one request after another: meetingd.ping and the extra methods
given, in turn. A request counts as ok when its reply is a JSON-RPC result with
the matching id, as failed when it is an error or a malformed reply, and as
lost when no reply came within the timeout (the socket is then replaced, and
the client goes on). Stops after S seconds or once the stop file exists,
whichever is first, and prints one JSON line of totals. Exits 0 only when
every request was answered ok.
"""
import argparse
import json
import os
import sys
import threading
import time

import zmq


def client(n, endpoint, calls, deadline, stop_file, timeout_ms, totals, lock, ctx):
    ok = failed = lost = 0
    examples = []
    sock = None
    i = 0
    while time.monotonic() < deadline and not (stop_file and os.path.exists(stop_file)):
        if sock is None:
            sock = ctx.socket(zmq.REQ)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(endpoint)
        method, params = calls[i % len(calls)]
        i += 1
        rid = f"{n}-{i}"
        request = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            request["params"] = params
        sock.send_string(json.dumps(request))
        if sock.poll(timeout_ms, zmq.POLLIN):
            raw = sock.recv()
            try:
                reply = json.loads(raw)
                good = reply.get("id") == rid and "result" in reply and "error" not in reply
            except ValueError:
                reply, good = raw[:200], False
            if good:
                ok += 1
            else:
                failed += 1
                if len(examples) < 3:
                    examples.append({"method": method, "reply": reply})
        else:
            lost += 1
            if len(examples) < 3:
                examples.append({"method": method, "lost_after_ms": timeout_ms, "endpoint": endpoint})
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    with lock:
        totals["ok"] += ok
        totals["failed"] += failed
        totals["lost"] += lost
        totals["examples"].extend(examples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", action="append", required=True)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--stop-file")
    ap.add_argument("--timeout-ms", type=int, default=10000)
    ap.add_argument("--method", action="append", default=[])
    ap.add_argument("--params", action="append", default=[])
    args = ap.parse_args()
    calls = [("meetingd.ping", None)]
    for k, m in enumerate(args.method):
        calls.append((m, json.loads(args.params[k]) if k < len(args.params) else None))
    ctx = zmq.Context()
    totals = {"ok": 0, "failed": 0, "lost": 0, "examples": []}
    lock = threading.Lock()
    # Hard bound: the run itself plus one timeout per client to finish its last request.
    deadline = time.monotonic() + min(args.seconds, 600)
    threads = [threading.Thread(target=client, daemon=True,
                                args=(n, args.endpoint[n % len(args.endpoint)], calls, deadline,
                                      args.stop_file, args.timeout_ms, totals, lock, ctx))
               for n in range(args.clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + args.timeout_ms / 1000 + 5)
    totals["clients"] = args.clients
    totals["seconds"] = round(time.monotonic() - start, 2)
    totals["requests"] = totals["ok"] + totals["failed"] + totals["lost"]
    totals["unfinished_clients"] = sum(t.is_alive() for t in threads)
    print(json.dumps(totals))
    sys.stdout.flush()
    good = totals["failed"] == 0 and totals["lost"] == 0 and totals["ok"] > 0 and totals["unfinished_clients"] == 0
    os._exit(0 if good else 1)


if __name__ == "__main__":
    main()
