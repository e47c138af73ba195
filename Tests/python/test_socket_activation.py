"""Socket activation as systemd does it: a listening socket passed as fd 3 with
LISTEN_FDS and LISTEN_PID is adopted (ZMQ_USE_FD), not bound anew. The port is
held by that socket, so a fresh bind would fail and the daemon would not start."""
import json
import os
import signal
import socket
import subprocess
import sys

import zmq

from meetingd_client import MEETINGD, CTX


def test_adopts_a_passed_listening_socket(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    endpoint = f"tcp://127.0.0.1:{port}"
    config = tmp_path / "meetingd.yaml"
    config.write_text(f"endpoints: [{endpoint}]\nworkers: 1\ncorpus: {tmp_path}/none.sqlite\nmodules: {{}}\n")
    log = open(tmp_path / "stderr", "w")
    fd = listener.fileno()
    # A small launcher moves the socket to fd 3 and names its own pid, which exec keeps.
    launcher = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.close(int(sys.argv[1])); "
                "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid())); os.execv(sys.argv[2], sys.argv[2:])")
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, str(fd), str(MEETINGD), "serve", "--config", str(config)],
        pass_fds=(fd,), stdout=log, stderr=log)
    listener.close()
    try:
        sock = CTX.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(endpoint)
        sock.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "meetingd.ping"}).encode())
        assert sock.poll(15000, zmq.POLLIN), (tmp_path / "stderr").read_text()
        assert json.loads(sock.recv())["result"] == "pong"
        sock.close()
        assert "socket_activated=1" in (tmp_path / "stderr").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        log.close()
