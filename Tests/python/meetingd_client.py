"""Shared by the module tests: a real meetingd serving a real corpus, and a small
JSON-RPC client. The corpus is the bundled seed page plus the QMSum validation
meetings, ingested with `meetingd ingest` into a temporary SQLite file."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import zmq

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
MEETINGD = Path(os.environ.get("MEETINGD_BIN", ROOT / ".build/debug/meetingd"))
CTX = zmq.Context.instance()
SEED_ID = "000_16830d1d99dc7d5d"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_config(directory, text):
    """`meetingd check-config` on a config of `text` written into `directory`."""
    config = Path(directory) / "meetingd.yaml"
    config.write_text(text)
    return subprocess.run([str(MEETINGD), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=60)


def send_at_once(endpoint, body, count, timeout_ms=60_000):
    """Sends `body` `count` times at once from one DEALER, then reads every reply frame;
    TimeoutError when one does not come within `timeout_ms`."""
    sock = CTX.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    try:
        for _ in range(count):
            sock.send_multipart([b"", body])
        replies = []
        for _ in range(count):
            if not sock.poll(timeout_ms, zmq.POLLIN):
                raise TimeoutError(f"{len(replies)} of {count} replies in {timeout_ms} ms")
            replies.append(sock.recv_multipart()[-1])
        return replies
    finally:
        sock.close()


def flood_with_slow_calls(endpoint, count=8):
    """Sends `count` slow calls (summarising the seed page) at once on one connection; their replies."""
    slow = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "summarise.meeting", "params": {"meeting": SEED_ID}}).encode()
    return [json.loads(reply) for reply in send_at_once(endpoint, slow, count)]


class RPCError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")


class CorpusDaemon:
    """`meetingd serve` with the stock modules on a corpus ingested from `sources`."""

    # A class default too, for tests that build one around a daemon of their own (object.__new__).
    curve = None

    def __init__(self, sources, workers=2, extra_config="", before_serve=None, curve=None, preexec_fn=None,
                 summarise_config="{}", corpus=None):
        """`extra_config` is YAML added to the config (e.g. `limits: {...}`), `summarise_config` the
        summarise module's section (a YAML flow mapping);
        `before_serve(corpus_path)` may change the ingested corpus before it is served;
        `curve` is the (server public, client public, client secret) keys this client
        connects with, for a daemon that takes CURVE clients only;
        `corpus`: serve this corpus as it is instead of one ingested from `sources`."""
        if curve:
            self.curve = curve
        self.directory = Path(tempfile.mkdtemp(prefix="meetingd-py-"))
        self.corpus = corpus or self.directory / "corpus.sqlite"
        if corpus is None:
            ingest = subprocess.run([str(MEETINGD), "ingest", "--corpus", str(self.corpus), *map(str, sources)],
                                    capture_output=True, text=True, timeout=600)
            if ingest.returncode != 0:
                raise RuntimeError(f"ingest failed:\n{ingest.stdout}\n{ingest.stderr}")
        if before_serve:
            before_serve(self.corpus)
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        config = self.config = self.directory / "meetingd.yaml"
        config.write_text(
            f"endpoints: [{self.endpoint}]\nworkers: {workers}\ncorpus: {self.corpus}\n"
            f"module_dirs: [{MEETINGD.parent}]\n"
            f"modules:\n  lookup: {{}}\n  search: {{}}\n  summarise: {summarise_config}\n  events: {{}}\n{extra_config}")
        self.log_path = self.directory / "meetingd.stderr"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([str(MEETINGD), "serve", "--config", str(config)],
                                        stdout=self.log, stderr=self.log, preexec_fn=preexec_fn)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"meetingd exited:\n{self.log_path.read_text()}")
            try:
                if self.call("meetingd.ping", timeout_ms=500) == "pong":
                    return
            except (TimeoutError, RPCError):
                pass
        raise RuntimeError(f"meetingd did not answer:\n{self.log_path.read_text()}")

    def raw(self, body, timeout_ms=10000):
        """Sends one frame (bytes as they are, anything else as JSON); returns the reply frame."""
        sock = CTX.socket(zmq.REQ)
        sock.linger = 0
        if self.curve:
            sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = self.curve
        sock.connect(self.endpoint)
        try:
            sock.send(body if isinstance(body, bytes) else json.dumps(body).encode())
            if not sock.poll(timeout_ms, zmq.POLLIN):
                raise TimeoutError(f"no reply from {self.endpoint} in {timeout_ms} ms")
            return sock.recv()
        finally:
            sock.close()

    def call(self, method, params=None, timeout_ms=10000):
        """The result of one call, or RPCError with the JSON-RPC error."""
        reply = json.loads(self.raw({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}, timeout_ms))
        if "error" in reply:
            raise RPCError(reply["error"])
        return reply["result"]

    def alive(self):
        return self.process.poll() is None and self.call("meetingd.ping") == "pong"

    def stop_process(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def stop(self):
        self.stop_process()
        self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)
