"""The metrics through a real daemon: known traffic over ZeroMQ, then a scrape over
HTTP with curl, parsed with prometheus_client's own parser, must count exactly that
traffic; a scraper asking for OpenMetrics (as Prometheus does) gets it, checked by
prometheus_client's strict OpenMetrics parser; `meetingd.metrics` over ZeroMQ serves
the same text; the listener keeps serving across a reload; a bad `metrics.listen` is
refused with a clear error.

Counts are compared as differences between two scrapes, so the pings the test
harness sends while the daemon starts cannot blur them."""
import json
import signal
import socket
import subprocess
import time
from collections import Counter

import pytest

from meetingd_client import ROOT, CorpusDaemon, RPCError, check_config, flood_with_slow_calls, free_port

parser = pytest.importorskip("prometheus_client.parser",
                             reason="prometheus_client is not installed (pip install prometheus-client, "
                                    "or apt-get install python3-prometheus-client for the system python)")
openmetrics_parser = pytest.importorskip("prometheus_client.openmetrics.parser")


def samples(text):
    """{(sample name, ((label, value), ...)): value} from Prometheus text, read by prometheus_client."""
    found = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scraped, name, **labels):
    return scraped.get((name, tuple(sorted(labels.items()))), 0)


# What Prometheus 2.x and 3.x send when scraping.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def curl(url, accept=None):
    """The body and Content-Type curl gets; fails the test on any HTTP error."""
    headers = ["-H", f"Accept: {accept}"] if accept else []
    done = subprocess.run(["curl", "-sS", "--fail", "--max-time", "10", *headers, "-w", "\n%{content_type}", url],
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    body, _, content_type = done.stdout.rpartition("\n")
    return body, content_type


def metrics_daemon(workers=2, limits=None):
    port = free_port()
    extra = f"metrics: {{listen: 127.0.0.1:{port}}}\n"
    if limits:
        extra += f"limits: {limits}\n"
    d = CorpusDaemon([ROOT / "Samples"], workers=workers, extra_config=extra)
    d.metrics_url = f"http://127.0.0.1:{port}/metrics"
    return d


def scrape(d):
    body, _ = curl(d.metrics_url)
    return samples(body)


def error_code(reply):
    return reply["error"]["code"] if "error" in reply else None


def test_a_scrape_counts_the_requests_errors_and_latencies_sent():
    d = metrics_daemon()
    try:
        body, content_type = curl(d.metrics_url)
        assert content_type.startswith("text/plain"), content_type
        before = samples(body)

        pings, searches = 7, 4
        for i in range(pings):
            assert d.call("meetingd.ping") == "pong"
        for _ in range(searches):
            d.call("search.query", {"q": "council"})
        bad = [b"{not json", b"[1,", {"jsonrpc": "2.0", "id": 1, "method": "no.such"},
               {"jsonrpc": "2.0", "id": 2, "method": "no.such.either"}, {"jsonrpc": "2.0", "id": 3, "method": "nope.x"},
               {"jsonrpc": "2.0", "id": 4, "method": "meetingd.ping", "params": {"x": 1}}]
        sent_codes = Counter(error_code(json.loads(d.raw(body))) for body in bad)
        assert sent_codes == {-32700: 2, -32601: 3, -32602: 1}, sent_codes

        after = scrape(d)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        # The invalid params call names its method; the rest have none that exists.
        assert delta("meetingd_requests_total", method="meetingd.ping") == pings + 1
        assert delta("meetingd_requests_total", method="search.query") == searches
        assert delta("meetingd_requests_total", method="(invalid)") == 5
        for code, count in sent_codes.items():
            assert delta("meetingd_request_errors_total", code=str(code)) == count, code
        total_errors = sum(v for (name, _), v in after.items() if name == "meetingd_request_errors_total") \
            - sum(v for (name, _), v in before.items() if name == "meetingd_request_errors_total")
        assert total_errors == len(bad)
        for method, count in (("meetingd.ping", pings + 1), ("search.query", searches)):
            assert delta("meetingd_request_duration_seconds_count", method=method) == count
            assert delta("meetingd_request_duration_seconds_bucket", method=method, le="+Inf") == count
            assert delta("meetingd_request_duration_seconds_sum", method=method) > 0

        status = d.call("meetingd.status")
        assert value(after, "meetingd_corpus_meetings") == status["corpus"]["meetings"] == 1
        assert value(after, "meetingd_corpus_turns") == status["corpus"]["turns"] > 0
        assert value(after, "meetingd_workers") == 2
        assert value(after, "meetingd_queue_depth") == 0
        assert value(after, "meetingd_workers_busy") == 0
        assert value(after, "meetingd_reloads_total", result="applied") == 0

        missing = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", d.metrics_url + "x"],
                                 capture_output=True, text=True, timeout=20)
        assert missing.stdout == "404"
        assert d.alive()
    finally:
        d.stop()


def open_metrics_samples(text):
    """({(sample name, labels): value}, {family name: (type, help)}) read by the OpenMetrics parser,
    which refuses text without `# EOF`, a counter family named with _total, and the like."""
    found, families = {}, {}
    for family in openmetrics_parser.text_string_to_metric_families(text):
        families[family.name] = (family.type, family.documentation)
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found, families


def test_a_scraper_asking_for_openmetrics_gets_it_with_help_for_every_family():
    d = metrics_daemon()
    try:
        body, content_type = curl(d.metrics_url, accept=PROMETHEUS_ACCEPT)
        assert content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8", content_type
        assert body.endswith("# EOF\n") and body.count("# EOF") == 1
        before, families = open_metrics_samples(body)
        for _ in range(5):
            d.call("meetingd.ping")
        d.raw(b"{not json")
        after, _ = open_metrics_samples(curl(d.metrics_url, accept=PROMETHEUS_ACCEPT)[0])

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        assert delta("meetingd_requests_total", method="meetingd.ping") == 5
        assert delta("meetingd_request_errors_total", code="-32700") == 1
        assert delta("meetingd_request_duration_seconds_count", method="meetingd.ping") == 5
        assert families["meetingd_requests"][0] == "counter" and "meetingd_requests_total" not in families
        assert families["meetingd_request_duration_seconds"][0] == "histogram"
        assert families["meetingd_corpus_meetings"][0] == "gauge"
        undocumented = [name for name, (_, help_text) in families.items() if not help_text]
        assert undocumented == [] and len(families) >= 15, families

        # Without OpenMetrics in Accept: the 0.0.4 text, now with a HELP line per family too.
        plain, content_type = curl(d.metrics_url)
        assert content_type == "text/plain; version=0.0.4; charset=utf-8" and "# EOF" not in plain
        documented = {family.name: family.documentation for family in parser.text_string_to_metric_families(plain)}
        assert set(documented) == set(families) and all(documented.values()), documented
        # And over ZeroMQ, either format on request.
        over_zeromq, _ = open_metrics_samples(d.call("meetingd.metrics", {"format": "openmetrics"}))
        assert value(over_zeromq, "meetingd_requests_total", method="meetingd.ping") \
            == value(after, "meetingd_requests_total", method="meetingd.ping")
        assert "# EOF" not in d.call("meetingd.metrics")
        with pytest.raises(RPCError) as refused:
            d.call("meetingd.metrics", {"format": "json"})
        assert refused.value.code == -32602
    finally:
        d.stop()


def test_meetingd_metrics_over_zeromq_is_the_same_text():
    d = metrics_daemon()
    try:
        for _ in range(3):
            d.call("meetingd.ping")
        first = d.call("meetingd.metrics")
        over_http = scrape(d)
        second = samples(d.call("meetingd.metrics"))
        first = samples(first)
        # Nothing but the two meetingd.metrics calls happened between them.
        assert value(second, "meetingd_requests_total", method="meetingd.metrics") \
            == value(first, "meetingd_requests_total", method="meetingd.metrics") + 1
        for scraped in (first, second):
            assert value(scraped, "meetingd_requests_total", method="meetingd.ping") \
                == value(over_http, "meetingd_requests_total", method="meetingd.ping") >= 3
        assert set(name for name, _ in first) == set(name for name, _ in over_http)
    finally:
        d.stop()


def test_metrics_over_zeromq_without_a_listener_count_the_ingest_at_start():
    # The corpus already holds Samples' one file: the ingest at start finds it unchanged.
    d = CorpusDaemon([ROOT / "Samples"], workers=1, extra_config=f"ingest: [{ROOT / 'Samples'}]\n")
    try:
        before = samples(d.call("meetingd.metrics"))
        for _ in range(5):
            d.call("meetingd.ping")
        after = samples(d.call("meetingd.metrics"))
        assert value(after, "meetingd_requests_total", method="meetingd.ping") \
            - value(before, "meetingd_requests_total", method="meetingd.ping") == 5
        assert value(after, "meetingd_ingest_runs_total") == 1
        assert value(after, "meetingd_ingest_files_done") == value(after, "meetingd_ingest_files_found") == 1
        assert value(after, "meetingd_ingest_bytes_done") == value(after, "meetingd_ingest_bytes_found") > 0
        assert value(after, "meetingd_ingest_meetings_written_total") == 0
        assert value(after, "meetingd_ingest_failed_files_total") == 0
        assert value(after, "meetingd_ingest_last_finished_timestamp_seconds") > time.time() - 600
    finally:
        d.stop()


def test_errors_the_broker_and_the_reply_limit_answer_are_counted():
    """One worker and one place in the queue: of eight slow calls sent at once, some are
    turned away by the broker (-32006) and the rest answered -32008 (over the reply limit)."""
    d = metrics_daemon(workers=1, limits="{max_queued: 1, max_reply_bytes: 4096}")
    try:
        before = scrape(d)
        codes = Counter(error_code(reply) for reply in flood_with_slow_calls(d.endpoint))
        assert codes[-32006] > 0, codes
        after = scrape(d)
        for code, count in codes.items():
            if code is not None:
                assert value(after, "meetingd_request_errors_total", code=str(code)) \
                    - value(before, "meetingd_request_errors_total", code=str(code)) == count, (code, codes)
        # The broker's refusals never reach a worker, so they are not requests to a method.
        assert value(after, "meetingd_requests_total", method="summarise.meeting") \
            - value(before, "meetingd_requests_total", method="summarise.meeting") == 8 - codes[-32006]
    finally:
        d.stop()


def reload(d, edit):
    """Edits the config with `edit(text)`, sends SIGHUP; the reload record and whether it took effect."""
    generation = d.call("meetingd.status")["reload"]["generation"]
    attempts = d.call("meetingd.status")["reload"]["attempts"]
    d.config.write_text(edit(d.config.read_text()))
    d.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = d.call("meetingd.status")["reload"]
        if status["attempts"] > attempts:
            return status, status["generation"] > generation
        time.sleep(0.05)
    raise AssertionError(f"no reload:\n{d.log_path.read_text(errors='replace')[-3000:]}")


def test_the_listener_keeps_serving_across_reloads_and_a_new_address_needs_a_restart():
    d = metrics_daemon()
    try:
        assert value(scrape(d), "meetingd_reloads_total", result="applied") == 0
        status, applied = reload(d, lambda text: text + "log_level: info\n")
        assert applied and status["restart_needed"] == []
        assert value(scrape(d), "meetingd_reloads_total", result="applied") == 1

        old_address, new_port = d.metrics_url.split("/")[2], free_port()
        status, applied = reload(d, lambda text: text.replace(old_address, f"127.0.0.1:{new_port}"))
        assert applied
        assert any(note.startswith(f"metrics.listen changed to 127.0.0.1:{new_port}") for note in status["restart_needed"]), status
        assert "restart needed: metrics.listen changed" in d.log_path.read_text()
        scraped = scrape(d)  # still the old address
        assert value(scraped, "meetingd_reloads_total", result="applied") == 2
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", new_port), timeout=5).close()

        status, applied = reload(d, lambda text: text.replace(f"127.0.0.1:{new_port}", "nowhere"))
        assert not applied and "metrics.listen" in status["error"], status
        scraped = scrape(d)
        assert value(scraped, "meetingd_reloads_total", result="refused") == 1
        assert value(scraped, "meetingd_reloads_total", result="applied") == 2
    finally:
        d.stop()


@pytest.mark.parametrize("section,expected", [
    ("{listen: nowhere}", "metrics.listen: expected HOST:PORT"),
    ("{listen: 127.0.0.1:0}", "port from 1 to 65535"),
    ("{listen: 127.0.0.1:70000}", "port from 1 to 65535"),
    ("{listen: example.org:9464}", "must be an IPv4 address, an IPv6 address in brackets, or localhost"),
    ("{listen: 9464}", "metrics.listen: expected HOST:PORT"),
    ("{port: 9464}", "metrics: unknown key 'port' (known: listen)"),
    ("9464", "metrics: expected a mapping"),
])
def test_check_config_names_a_bad_metrics_section(tmp_path, section, expected):
    checked = check_config(tmp_path, f"corpus: {tmp_path}/corpus.sqlite\nmetrics: {section}\n")
    assert checked.returncode == 1 and expected in checked.stdout, checked.stdout


@pytest.mark.parametrize("listen,shown", [("localhost:9464", "127.0.0.1:9464"), ('"[::1]:9464"', "[::1]:9464")])
def test_check_config_shows_the_metrics_address(tmp_path, listen, shown):
    checked = check_config(tmp_path, f"corpus: {tmp_path}/corpus.sqlite\nmetrics: {{listen: {listen}}}\n")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout.rsplit("\n", 2)[0])["metrics"] == {"listen": shown}


def test_a_metrics_address_in_use_stops_serve():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"metrics.listen: cannot listen on 127.0.0.1:{port}"):
            CorpusDaemon([ROOT / "Samples"], workers=1, extra_config=f"metrics: {{listen: 127.0.0.1:{port}}}\n")
