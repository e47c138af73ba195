"""Issue 14, hardening: who may connect (CURVE with an allow-list), how many may
(limits.max_connections), and that a stop always ends. Real daemon, real sockets."""
import os
import re
import resource
import select
import signal
import socket
import stat
import subprocess
import time

import pytest
import zmq

from meetingd_client import CTX, MEETINGD, ROOT, CorpusDaemon, check_config, free_port

NO_REPLY_MS = 2000
PING = b'{"jsonrpc":"2.0","id":1,"method":"meetingd.ping"}'
PONG = b'{"jsonrpc":"2.0","id":1,"result":"pong"}'

curve_only = pytest.mark.skipif(not zmq.has("curve"), reason="this libzmq has no CURVE (zmq_has('curve') is false)")


def keygen(path):
    """`meetingd keygen PATH`; the pair as Z85 bytes (public, secret)."""
    made = subprocess.run([str(MEETINGD), "keygen", str(path)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made
    return (path.with_suffix(".pub").read_bytes().strip(), path.with_suffix(".key").read_bytes().strip())


def ping_with(endpoint, keys=None, timeout_ms=NO_REPLY_MS):
    """The reply to a ping from a REQ socket, with CURVE `keys` (server public,
    client public, client secret) or plain; None when nothing came back."""
    sock = CTX.socket(zmq.REQ)
    sock.linger = 0
    if keys:
        sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = keys
    sock.connect(endpoint)
    try:
        sock.send(PING)
        return sock.recv() if sock.poll(timeout_ms, zmq.POLLIN) else None
    finally:
        sock.close()


def wait_for_log(d, text, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in d.log_path.read_text(errors="replace"):
            return
        assert d.process.poll() is None, d.log_path.read_text(errors="replace")[-3000:]
        time.sleep(0.05)
    pytest.fail(f"{text!r} not logged:\n{d.log_path.read_text(errors='replace')[-3000:]}")


# --- CURVE

@curve_only
def test_keygen_writes_a_private_secret_and_a_public_key(tmp_path):
    public, secret = keygen(tmp_path / "alice")
    key_file, pub_file = tmp_path / "alice.key", tmp_path / "alice.pub"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(pub_file.stat().st_mode) == 0o644
    for path in (key_file, pub_file):
        lines = path.read_text().splitlines()
        assert len(lines) == 1 and len(lines[0]) == 40, lines
    assert zmq.curve_public(secret) == public
    again = subprocess.run([str(MEETINGD), "keygen", str(tmp_path / "alice")], capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "not overwritten" in again.stderr, again
    assert key_file.read_bytes().strip() == secret


@pytest.fixture(scope="module")
def curve_daemon(tmp_path_factory):
    if not zmq.has("curve"):
        pytest.skip("this libzmq has no CURVE")
    keys = tmp_path_factory.mktemp("keys")
    authorized = keys / "authorized"
    authorized.mkdir()
    server_public, _ = keygen(keys / "server")
    alice = keygen(authorized / "alice")
    (authorized / "alice.key").rename(keys / "alice.key")  # only public keys in the allow-list folder
    bob = keygen(keys / "bob")
    d = CorpusDaemon([ROOT / "Samples"], workers=1, curve=(server_public, *alice), extra_config=(
        f"security:\n  curve:\n    secret_key_file: {keys / 'server.key'}\n    authorized_keys_dir: {authorized}\n"))
    d.keys = {"server": server_public, "alice": alice, "bob": bob, "dir": keys, "authorized": authorized}
    yield d
    d.stop()


def test_an_authorized_key_is_answered(curve_daemon):
    keys = curve_daemon.keys
    assert ping_with(curve_daemon.endpoint, (keys["server"], *keys["alice"]), timeout_ms=10_000) == PONG


def test_an_unknown_key_gets_nothing_and_is_logged_once(curve_daemon):
    keys = curve_daemon.keys
    for _ in range(2):
        assert ping_with(curve_daemon.endpoint, (keys["server"], *keys["bob"])) is None
    log = curve_daemon.log_path.read_text(errors="replace")
    assert log.count(keys["bob"][0].decode()) == 1, log[-3000:]
    assert curve_daemon.call("meetingd.ping") == "pong"


def test_a_plain_client_gets_nothing(curve_daemon):
    assert ping_with(curve_daemon.endpoint) is None
    assert curve_daemon.call("meetingd.ping") == "pong"


def test_a_client_with_the_wrong_server_key_gets_nothing(curve_daemon):
    keys = curve_daemon.keys
    assert ping_with(curve_daemon.endpoint, (keys["bob"][0], *keys["alice"])) is None
    assert curve_daemon.call("meetingd.ping") == "pong"


def test_meetingctl_connects_with_its_key_pair(curve_daemon):
    keys = curve_daemon.keys
    meetingctl = MEETINGD.parent / "meetingctl"
    common = ["ping", "--endpoint", curve_daemon.endpoint, "--timeout", "2000"]
    answered = subprocess.run([str(meetingctl), *common, "--retries", "2", "--curve-server-key", str(keys["dir"] / "server.pub"),
                               "--curve-key", str(keys["dir"] / "alice.key")], capture_output=True, text=True, timeout=60)
    assert answered.returncode == 0 and "pong" in answered.stdout, answered
    refused = subprocess.run([str(meetingctl), *common, "--retries", "1", "--curve-server-key", str(keys["dir"] / "server.pub"),
                              "--curve-key", str(keys["dir"] / "bob.key")], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3, refused


def test_a_reload_that_adds_a_key_lets_it_in(curve_daemon):
    keys = curve_daemon.keys
    assert ping_with(curve_daemon.endpoint, (keys["server"], *keys["bob"])) is None
    (keys["authorized"] / "bob.pub").write_bytes((keys["dir"] / "bob.pub").read_bytes())
    curve_daemon.process.send_signal(signal.SIGHUP)
    wait_for_log(curve_daemon, "reloaded the authorized keys")
    assert ping_with(curve_daemon.endpoint, (keys["server"], *keys["bob"]), timeout_ms=10_000) == PONG
    assert curve_daemon.call("meetingd.ping") == "pong"


def test_sigterm_stops_a_curve_daemon_cleanly(curve_daemon):
    """The ZAP handler thread ends with the context, so the stop is the usual one."""
    curve_daemon.process.send_signal(signal.SIGTERM)
    assert curve_daemon.process.wait(timeout=20) == 0, curve_daemon.log_path.read_text(errors="replace")[-3000:]


@curve_only
def test_a_secret_key_others_can_read_is_refused_unless_it_is_a_systemd_credential(tmp_path):
    keygen(tmp_path / "server")
    keygen(tmp_path / "client")
    (tmp_path / "client.key").chmod(0o640)
    meetingctl = [str(MEETINGD.parent / "meetingctl"), "ping", "--endpoint", f"tcp://127.0.0.1:{free_port()}",
                  "--timeout", "200", "--retries", "1",
                  "--curve-server-key", str(tmp_path / "server.pub"), "--curve-key", str(tmp_path / "client.key")]
    refused = subprocess.run(meetingctl, capture_output=True, text=True, timeout=60)
    assert refused.returncode not in (0, 3) and "chmod 600" in refused.stderr, refused
    # systemd's credentials carry an ACL whose mask shows as group bits; systemd keeps them to the service.
    credential = subprocess.run(meetingctl, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert credential.returncode == 3 and "no reply" in credential.stderr, credential


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://192.0.2.1:5555", "tcp://eth0:5555"])
def test_a_network_endpoint_without_curve_is_refused(tmp_path, endpoint):
    checked = check_config(tmp_path, f'endpoints: ["{endpoint}"]\n')
    assert checked.returncode == 1, checked
    assert "allow_plaintext_network" in checked.stdout and endpoint in checked.stdout, checked
    allowed = check_config(tmp_path, f'endpoints: ["{endpoint}"]\nsecurity: {{allow_plaintext_network: true}}\n')
    assert allowed.returncode == 0, allowed
    with_curve = check_config(tmp_path, f'endpoints: ["{endpoint}"]\n'
                                        "security: {curve: {secret_key_file: s.key, authorized_keys_dir: clients}}\n")
    assert with_curve.returncode == 0, with_curve


@pytest.mark.parametrize("endpoint", ["tcp://127.0.0.1:5555", "tcp://localhost:5555", "tcp://[::1]:5555", "ipc:///tmp/x.sock"])
def test_loopback_and_ipc_stay_plain_by_default(tmp_path, endpoint):
    checked = check_config(tmp_path, f'endpoints: ["{endpoint}"]\n')
    assert checked.returncode == 0, checked


# --- connections are capped

def cpu_seconds(pid):
    """The process's user plus system CPU time so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_file_limit(pid):
    line = next(line for line in open(f"/proc/{pid}/limits") if line.startswith("Max open files"))
    return int(line.split()[3])


def start_with_few_descriptors():
    """The daemon starts with a soft limit of 128 open files, below what 80
    connections and its own files need; the hard limit stays as it is."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def closed_by_peer(connections, enough, timeout_s):
    """How many of `connections` the other end has closed, once `enough` have or
    `timeout_s` is over (what it sends first, such as ZMTP's greeting, is read
    and dropped)."""
    waiting, closed = list(connections), 0
    deadline = time.monotonic() + timeout_s
    while closed < enough and time.monotonic() < deadline:
        readable, _, _ = select.select(waiting, [], [], 0.2)
        for conn in readable:
            try:
                ended = conn.recv(4096) == b""
            except ConnectionResetError:
                ended = True
            if ended:
                waiting.remove(conn)
                closed += 1
    return closed


def test_idle_connections_past_the_cap_neither_lock_clients_out_nor_spin():
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 1024:
        pytest.skip("the hard open file limit is too low to raise")
    d = CorpusDaemon([ROOT / "Samples"], extra_config="limits: {max_connections: 50}\n",
                     preexec_fn=start_with_few_descriptors)
    idle = []
    try:
        pid = d.process.pid
        assert open_file_limit(pid) > 128, "the daemon did not raise its open file limit to fit max_connections"
        host, port = d.endpoint.removeprefix("tcp://").rsplit(":", 1)
        for _ in range(80):
            idle.append(socket.create_connection((host, int(port)), timeout=10))
        # Well within libzmq's own 30 s handshake timeout, which would close them too.
        assert closed_by_peer(idle, enough=30, timeout_s=15) >= 30, "the connections past the cap were not closed"
        assert d.call("meetingd.ping") == "pong"
        before = cpu_seconds(pid)
        time.sleep(2)
        assert cpu_seconds(pid) - before < 0.3, "the daemon spins"
        assert d.call("meetingd.ping") == "pong"
        assert "limits.max_connections reached" in d.log_path.read_text(errors="replace")
    finally:
        for conn in idle:
            conn.close()
        d.stop()


def test_a_burst_of_connections_past_one_monitor_batch_is_all_counted():
    """The broker reads at most 64 monitor events a turn, and the monitor's descriptor announces
    only what comes after it was drained: events past a full batch must be read on the next turns.
    While the daemon is stopped (SIGSTOP) the kernel completes 100 connections (libzmq's backlog);
    once it runs again, libzmq accepts them in a row, each an event, and past the cap of 10 the
    oldest are closed: exactly 90, had every event been read."""
    d = CorpusDaemon([ROOT / "Samples"], extra_config="limits: {max_connections: 10}\n")
    burst = []
    try:
        pid = d.process.pid
        host, port = d.endpoint.removeprefix("tcp://").rsplit(":", 1)
        os.kill(pid, signal.SIGSTOP)
        try:
            for _ in range(100):
                burst.append(socket.create_connection((host, int(port)), timeout=10))
        finally:
            os.kill(pid, signal.SIGCONT)
        # Well within libzmq's own 30 s handshake timeout, which would close them too. A closed
        # connection reads as closed again, so the second count holds the first.
        assert closed_by_peer(burst, enough=90, timeout_s=15) == 90, "connection events were lost"
        assert closed_by_peer(burst, enough=91, timeout_s=1) == 90, "connections within the cap were closed"
        assert d.call("meetingd.ping") == "pong"
        before = cpu_seconds(pid)
        time.sleep(2)
        assert cpu_seconds(pid) - before < 0.3, "the daemon spins"
    finally:
        for conn in burst:
            conn.close()
        d.stop()


# --- a stop always ends

def test_sigterm_during_a_stuck_request_exits_within_the_grace(tmp_path):
    from test_protocol import build_hello
    module_dir = build_hello(tmp_path / "modules")
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = tmp_path / "meetingd.yaml"
    config.write_text(f'endpoints: ["{endpoint}"]\nworkers: 2\nmodule_dirs: ["{module_dir}"]\n'
                      "modules:\n  hello: {}\nlimits: {shutdown_grace_ms: 1000}\n")
    log_path = tmp_path / "meetingd.stderr"
    with open(log_path, "w") as log:
        serve = subprocess.Popen([str(MEETINGD), "serve", "--config", str(config)], stdout=log, stderr=log)
    sleeper = CTX.socket(zmq.DEALER)
    sleeper.linger = 0
    sleeper.connect(endpoint)
    try:
        assert ping_with(endpoint, timeout_ms=30_000) == PONG, log_path.read_text()
        sleeper.send_multipart([b"", b'{"jsonrpc":"2.0","id":1,"method":"hello.sleep","params":{"ms":60000}}'])
        time.sleep(0.5)  # a worker takes it; the other still answers
        assert ping_with(endpoint, timeout_ms=10_000) == PONG
        serve.send_signal(signal.SIGTERM)
        started = time.monotonic()
        # The grace (1 s) plus the close margin (2 s), with room for a loaded machine; the sleep is 60 s.
        returncode = serve.wait(timeout=20)
        assert time.monotonic() - started < 20
        assert returncode != 0
        log_text = log_path.read_text(errors="replace")
        assert "stuck in hello.sleep" in log_text, log_text[-3000:]
    finally:
        sleeper.close()
        if serve.poll() is None:
            serve.kill()
            serve.wait()


# The daemon's own "serving" line, not "received signal 15 before serving".
SERVING_LINE = re.compile(r"^\S+ info meetingd: serving(?: |$)", re.M)


def test_sigterm_right_at_start_always_ends(tmp_path):
    """A stop asked for at any moment of the start (before the server exists, while its workers
    open their modules, before the broker's first poll) ends the daemon: systemctl stop right
    after systemctl start."""
    corpus = tmp_path / "corpus.sqlite"
    ingest = subprocess.run([str(MEETINGD), "ingest", "--corpus", str(corpus), str(ROOT / "Samples")],
                            capture_output=True, text=True, timeout=600)
    assert ingest.returncode == 0, ingest
    config = tmp_path / "meetingd.yaml"
    config.write_text(f"endpoints: [tcp://127.0.0.1:{free_port()}]\nworkers: 2\ncorpus: {corpus}\n"
                      f"module_dirs: [{MEETINGD.parent}]\nmodules:\n  lookup: {{}}\n  search: {{}}\n  summarise: {{}}\n")
    log_path = tmp_path / "meetingd.stderr"
    # After fixed delays, and the moment the daemon logs "serving", just before its broker's loop.
    for delay in [0.02, 0.05, 0.1, 0.2, 0.4, "serving"]:
        with open(log_path, "w") as log:
            serve = subprocess.Popen([str(MEETINGD), "serve", "--config", str(config)], stdout=log, stderr=log)
        try:
            if delay == "serving":
                deadline = time.monotonic() + 60
                while not SERVING_LINE.search(log_path.read_text(errors="replace")) and time.monotonic() < deadline:
                    time.sleep(0.001)
            else:
                time.sleep(delay)
            serve.send_signal(signal.SIGTERM)
            try:
                returncode = serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail(f"SIGTERM {delay} after start was lost:\n{log_path.read_text(errors='replace')[-3000:]}")
            log_text = log_path.read_text(errors="replace")
            # Before it blocks signals (the runtime's start), SIGTERM's default action ends it.
            assert returncode in (0, -signal.SIGTERM), (delay, returncode, log_text[-3000:])
            if SERVING_LINE.search(log_text):
                assert returncode == 0 and "stopped" in log_text, (delay, log_text[-3000:])
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
