"""A subscriber outside the service: prints every event stream message as one JSON
line {"topic", "event"} (flushed) until the stop file exists or the time is up.

    python3 subscribe.py --endpoint ipc:///run/meetingd/events.sock --stop-file F --seconds 120
"""
import argparse
import json
import os
import sys
import time

import zmq

parser = argparse.ArgumentParser()
parser.add_argument("--endpoint", required=True)
parser.add_argument("--stop-file", required=True)
parser.add_argument("--seconds", type=float, default=120)
args = parser.parse_args()

sub = zmq.Context.instance().socket(zmq.SUB)
sub.setsockopt(zmq.LINGER, 0)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(args.endpoint)
print(json.dumps({"topic": "subscribed"}), flush=True)
deadline = time.monotonic() + args.seconds
while time.monotonic() < deadline and not os.path.exists(args.stop_file):
    if sub.poll(200):
        topic, body = sub.recv_multipart()
        print(json.dumps({"topic": topic.decode(), "event": json.loads(body)}), flush=True)
sys.exit(0)
