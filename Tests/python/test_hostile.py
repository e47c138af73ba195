"""A hostile client: each test sends what one of issue 14's defects was
reproduced with, over real sockets to a real daemon on a real corpus, checks
the answer the daemon now gives, and that it still answers a ping after."""
import json
import re
import signal
import sqlite3
import subprocess
import time

import pytest
import zmq

from meetingd_client import CTX, MEETINGD, ROOT, SEED_ID, CorpusDaemon, RPCError, check_config, free_port
from test_protocol import build_hello

NO_REPLY_MS = 2000


@pytest.fixture(scope="module")
def daemon():
    d = CorpusDaemon([ROOT / "Samples"])
    yield d
    d.stop()


def error_of(d, method, params):
    with pytest.raises(RPCError) as raised:
        d.call(method, params)
    assert d.call("meetingd.ping") == "pong"
    return raised.value


def dealer_exchange(d, frames, timeout_ms=NO_REPLY_MS):
    """Sends one multipart message from a DEALER; the reply's frames, or None."""
    sock = CTX.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(d.endpoint)
    try:
        sock.send_multipart(frames)
        return sock.recv_multipart() if sock.poll(timeout_ms, zmq.POLLIN) else None
    finally:
        sock.close()


PING = b'{"jsonrpc":"2.0","id":1,"method":"meetingd.ping"}'


# --- 9: ids come back as written, byte for byte

@pytest.mark.parametrize("id_text", [
    b"9223372036854775808", b"-9223372036854775809", b"1e400", b"1.50", b"-0", b"12345678901234567890.5e-3",
    b'"\\u0041\\/b"',
])
def test_id_is_echoed_byte_for_byte(daemon, id_text):
    reply = daemon.raw(b'{"jsonrpc":"2.0","id":' + id_text + b',"method":"meetingd.ping"}')
    assert reply == b'{"jsonrpc":"2.0","id":' + id_text + b',"result":"pong"}'


def test_ids_in_a_batch_and_in_errors_are_echoed_as_written(daemon):
    reply = daemon.raw(b'[{"jsonrpc":"2.0","id":1e400,"method":"meetingd.ping"},'
                       b' {"method":"nope.x","id" : 9223372036854775808 ,"jsonrpc":"2.0"}]')
    assert re.fullmatch(rb'\[\{"jsonrpc":"2.0","id":1e400,"result":"pong"\},'
                        rb'\{"jsonrpc":"2.0","id":9223372036854775808,"error":.*\}\]', reply), reply
    assert daemon.call("meetingd.ping") == "pong"


# --- 7: NUL in a string param is refused, never cut short on its way to SQLite

def test_nul_in_an_id_param_is_refused(daemon):
    error = error_of(daemon, "lookup.meeting", {"id": SEED_ID + "\u0000anything"})
    assert error.code == -32602 and error.data["field"] == "id", error.data


def test_nul_in_a_nested_param_is_refused(daemon):
    error = error_of(daemon, "search.query", {"q": "vaccine", "markers": {"open": "<\u0000", "close": ">"}})
    assert error.code == -32602 and error.data["field"] == "markers.open", error.data


def test_other_control_characters_are_carried_intact(daemon):
    error = error_of(daemon, "lookup.meeting", {"id": SEED_ID + "\u0001"})
    assert error.code == -32004 and error.data["id"] == SEED_ID + "\u0001", error.data


# --- 5: lengths count Unicode scalars, and no SQL reaches the client

ACCENTED = "a" + "\u0301" * 25_000  # one grapheme cluster, 25,001 scalars


@pytest.mark.parametrize("method, params, field", [
    ("search.suggest", {"q": ACCENTED}, "q"),
    ("search.query", {"q": "vaccine", "place": ACCENTED}, "place"),
    ("search.query", {"q": "vaccine", "markers": {"open": "\u0301" * 100_000, "close": "]"}}, "markers.open"),
])
def test_max_length_counts_unicode_scalars(daemon, method, params, field):
    error = error_of(daemon, method, params)
    assert error.code == -32602 and error.data["field"] == field, error.data
    assert len(error.message) < 200, error.message  # the value is not echoed whole
    assert not re.search(r"SELECT|LIKE|GLOB", error.message), error.message


def test_short_values_made_of_combining_marks_still_pass(daemon):
    assert "completions" in json.dumps(daemon.call("search.suggest", {"q": "a" + "\u0301" * 10}))


# --- 8: a damaged corpus page is "unavailable", as documented

def damage_turn_pages(corpus):
    with sqlite3.connect(corpus) as db:
        pages = [row[0] for row in db.execute("SELECT pageno FROM dbstat WHERE name = 'turn' AND pagetype = 'leaf'")]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    assert pages
    with open(corpus, "r+b") as file:
        for page in pages:
            file.seek((page - 1) * page_size)
            file.write(b"\xa5" * page_size)


def test_damaged_corpus_page_is_unavailable():
    d = CorpusDaemon([ROOT / "Samples"], before_serve=damage_turn_pages)
    try:
        for method in ["summarise.meeting", "lookup.turns"]:
            params = {"meeting": SEED_ID}
            error = error_of(d, method, params)
            assert error.code == -32007, (method, error.code, error.message)
            assert "SELECT" not in error.message, error.message
    finally:
        d.stop()


# --- 6: limits are bounded where they are read, so no later arithmetic traps

@pytest.mark.parametrize("key", ["request_deadline_ms", "shutdown_grace_ms", "max_queued", "max_message_bytes",
                                 "max_reply_bytes", "max_batch", "max_envelope_frames"])
def test_check_config_refuses_a_limit_past_its_bound(tmp_path, key):
    checked = check_config(tmp_path, f"limits: {{{key}: 100000000000000}}\n")
    assert checked.returncode == 1, checked
    assert f"limits.{key}" in checked.stdout + checked.stderr, checked


def test_reload_refuses_a_huge_deadline_and_sigterm_still_stops_cleanly():
    d = CorpusDaemon([ROOT / "Samples"])
    try:
        d.config.write_text(d.config.read_text()
                            + "limits: {request_deadline_ms: 100000000000000, shutdown_grace_ms: 100000000000000}\n")
        d.process.send_signal(signal.SIGHUP)
        for _ in range(200):
            if "reload refused" in d.log_path.read_text(errors="replace") or d.process.poll() is not None:
                break
            time.sleep(0.05)
        assert d.process.poll() is None, f"meetingd exited with {d.process.returncode}"
        assert "limits.request_deadline_ms" in d.log_path.read_text(errors="replace")
        assert d.call("meetingd.ping") == "pong"
        d.process.send_signal(signal.SIGTERM)
        assert d.process.wait(timeout=20) == 0
    finally:
        d.stop()


# --- 2: the whole message is limited, and envelopes are few and small

def test_many_megabyte_envelope_frames_are_dropped(daemon):
    frames = [b"x" * 1_000_000] * 40 + [PING]
    assert dealer_exchange(daemon, frames) is None
    assert daemon.call("meetingd.ping") == "pong"


@pytest.mark.parametrize("envelope", [[b"e"] * 5, [b"x" * 256, b""]], ids=["five-frames", "a-256-byte-frame"])
def test_envelopes_past_the_limits_are_dropped(daemon, envelope):
    assert dealer_exchange(daemon, [*envelope, PING]) is None
    assert daemon.call("meetingd.ping") == "pong"


def test_an_envelope_within_the_limits_is_carried_back(daemon):
    envelope = [b"a" * 255, b"b", b"c", b""]
    reply = dealer_exchange(daemon, [*envelope, PING], timeout_ms=10_000)
    assert reply == [*envelope, b'{"jsonrpc":"2.0","id":1,"result":"pong"}']


# --- 3: batches are capped, and so are replies

def test_a_megabyte_batch_is_refused_whole(daemon):
    body = b"[" + b",".join([b"1"] * 500_000) + b"]"
    assert len(body) < 1_048_576
    reply = json.loads(daemon.raw(body))
    assert reply["id"] is None and reply["error"]["code"] == -32600, reply
    assert reply["error"]["data"]["limit"] == 100
    assert daemon.call("meetingd.ping") == "pong"


def test_a_batch_at_the_limit_is_answered(daemon):
    replies = json.loads(daemon.raw([{"jsonrpc": "2.0", "id": i, "method": "meetingd.ping"} for i in range(100)]))
    assert [r["id"] for r in replies] == list(range(100))


def test_a_reply_past_the_limit_becomes_an_error():
    d = CorpusDaemon([ROOT / "Samples"], extra_config="limits: {max_reply_bytes: 4096}\n")
    try:
        reply = json.loads(d.raw({"jsonrpc": "2.0", "id": 7, "method": "rpc.discover"}))
        assert reply["id"] == 7 and reply["error"]["code"] == -32008, reply
        assert reply["error"]["data"]["limit"] == 4096
        replies = json.loads(d.raw([{"jsonrpc": "2.0", "id": i, "method": "lookup.meeting", "params": {"id": SEED_ID}}
                                    for i in range(20)]))
        assert len(replies) == 20 and sum(len(json.dumps(r)) for r in replies) < 4096 + 20 * 300
        assert replies[-1]["error"]["code"] == -32008, replies[-1]
        assert d.call("meetingd.ping") == "pong"
    finally:
        d.stop()


# --- 10: control characters from file names and requests never reach a terminal or the log raw

PLAIN_TRANSCRIPT = "Alice: We open the meeting.\nBob: And we close it again.\n"


def test_a_file_name_with_control_characters_is_refused_and_shown_escaped(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "evil\x1b[31mred\nforged line.txt").write_text(PLAIN_TRANSCRIPT)
    (folder / "fine.txt").write_text(PLAIN_TRANSCRIPT)
    corpus = tmp_path / "corpus.sqlite"
    ingest = subprocess.run([str(MEETINGD), "ingest", "--corpus", str(corpus), str(folder)],
                            capture_output=True, timeout=120)
    output = ingest.stdout + ingest.stderr
    assert ingest.returncode == 1, output
    assert b"\x1b" not in output and b"red\nforged" not in output, output
    assert b"evil\\u{1b}[31mred\\u{a}forged line" in output and b"control characters" in output, output
    with sqlite3.connect(corpus) as db:
        assert [row[0] for row in db.execute("SELECT id FROM meeting")] == ["fine"]


def test_a_file_name_with_control_characters_reaches_the_daemon_log_escaped(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "evil\x1b[2J\ninfo meetingd: forged.txt").write_text(PLAIN_TRANSCRIPT)
    d = CorpusDaemon([ROOT / "Samples"], extra_config=f'ingest: ["{folder}"]\n')
    try:
        with pytest.raises(RPCError) as refused:
            d.call("lookup.meeting", {"id": "evil\x1b[2J\ninfo meetingd: forged"})
        assert refused.value.code == -32004
        d.stop_process()
        log = d.log_path.read_bytes()
        assert b"\x1b" not in log and b"\ninfo meetingd: forged" not in log, log[-2000:]
        assert b"evil\\u{1b}[2J\\u{a}info meetingd: forged" in log, log[-2000:]
    finally:
        d.stop()


# --- 11: a module library others could write is refused, or loaded with a loud warning

def serve_hello(tmp_path, module_dir, extra=""):
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = tmp_path / "meetingd.yaml"
    config.write_text(f'endpoints: ["{endpoint}"]\nworkers: 1\nmodule_dirs: ["{module_dir}"]\n'
                      f"modules:\n  hello: {{}}\n{extra}")
    return subprocess.Popen([str(MEETINGD), "serve", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), endpoint


@pytest.mark.parametrize("writable", ["folder", "library"])
def test_a_group_or_world_writable_module_is_refused(tmp_path, writable):
    module_dir = build_hello(tmp_path / "modules")
    (module_dir if writable == "folder" else module_dir / "hello.so").chmod(0o777 if writable == "folder" else 0o775)
    serve, _ = serve_hello(tmp_path, module_dir)
    try:
        _, stderr = serve.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        serve.kill()
        pytest.fail(f"meetingd serves an insecure module:\n{serve.communicate()[1]}")
    assert serve.returncode != 0, stderr
    assert b"writable by its group or by everyone" in stderr and b"hello.so" in stderr, stderr


def test_allow_insecure_modules_loads_with_a_warning(tmp_path):
    module_dir = build_hello(tmp_path / "modules")
    module_dir.chmod(0o777)
    serve, endpoint = serve_hello(tmp_path, module_dir, "allow_insecure_modules: true\n")
    try:
        sock = CTX.socket(zmq.REQ)
        sock.linger = 0
        sock.connect(endpoint)
        sock.send(PING)
        assert sock.poll(30_000, zmq.POLLIN), "no reply"
        assert json.loads(sock.recv())["result"] == "pong"
        sock.close()
    finally:
        serve.terminate()
        try:
            _, stderr = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise
    assert b"critical" in stderr and b"insecure module" in stderr, stderr


# --- 5 (end): an internal error says where to look, not what the SQL was

def drop_sections(corpus):
    with sqlite3.connect(corpus) as db:
        db.execute("DROP TABLE section")


def test_an_internal_error_keeps_its_detail_in_the_log():
    d = CorpusDaemon([ROOT / "Samples"], before_serve=drop_sections)
    try:
        reply = json.loads(d.raw({"jsonrpc": "2.0", "id": "find-me", "method": "lookup.meeting", "params": {"id": SEED_ID}}))
        error = reply["error"]
        assert error["code"] == -32603 and "lookup.meeting" in error["message"], error
        assert not re.search(r"SELECT|section|SQLite", json.dumps(error)), error
        assert d.call("meetingd.ping") == "pong"
        log = d.log_path.read_text(errors="replace")
        assert re.search(r'internal error detail=.*no such table: section.* method=lookup.meeting request_id=[1-9][0-9]* rpc_id="find-me"', log), log[-2000:]
    finally:
        d.stop()
