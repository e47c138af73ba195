# Structured journal fields (issue 15, Logs). Sourced by run.sh once the service runs;
# uses its helpers (ns, nsh, sc, ctl, check, info, ART). Restarts the service with
# MEETINGD_LOG_LEVEL=debug (a drop-in in /run), so that it logs one line per request,
# sends a ping and then a request that fails, and reads `journalctl -u meetingd -o json`:
# the entry about the second has the fields the daemon sent through the native protocol,
# and a request id of its own. The drop-in is removed and the service restarted at the end.

JOURNAL_DROPIN=/run/systemd/system/meetingd.service.d/50-test-debug-log.conf

journal_fields() {
    local out rc
    nsh 10 "mkdir -p ${JOURNAL_DROPIN%/*} && printf '[Service]\nEnvironment=MEETINGD_LOG_LEVEL=debug\n' > $JOURNAL_DROPIN" || return 1
    sc daemon-reload && sc restart meetingd.service || return 1
    ctl ping >/dev/null 2>&1
    # A meeting no corpus holds: -32004, so the entry carries the error's code too.
    ctl call lookup.meeting '{"id": "journal-fields-check"}' --json --timeout 5000 --retries 1 >/dev/null 2>&1
    sleep 1  # the entry reaches journald
    ns 20 journalctl -u meetingd.service -o json --no-pager > "$ART/journal.json" 2>/dev/null
    out=$(python3 - "$ART/journal.json" <<'PY'
import json, re, sys
entries = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
about = [e for e in entries if e.get("MEETINGD_METHOD") == "lookup.meeting" and "MEETINGD_RPC_ID" in e]
if not about:
    sys.exit("no journal entry with MEETINGD_METHOD=lookup.meeting and MEETINGD_RPC_ID")
e = about[-1]
print({k: v for k, v in e.items() if k.startswith("MEETINGD_") or k in ("PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE")})
ok = (e.get("MEETINGD_METHOD") == "lookup.meeting" and re.fullmatch(r"[1-9][0-9]*", e.get("MEETINGD_REQUEST_ID", ""))
      and re.fullmatch(r"[0-9]+\.[0-9]+", e.get("MEETINGD_MS", "")) and e.get("MEETINGD_CODE") == "-32004"
      and e.get("PRIORITY") == "7" and e.get("SYSLOG_IDENTIFIER") == "meetingd" and e.get("CODE_FILE", "").endswith(".swift")
      and "request_id=" + e["MEETINGD_REQUEST_ID"] in e.get("MESSAGE", ""))
# The ping before it, in the same process, has another id.
pings = {x.get("MEETINGD_REQUEST_ID") for x in entries if x.get("MEETINGD_METHOD") == "meetingd.ping" and x.get("_PID") == e.get("_PID")}
sys.exit(0 if ok and pings and e["MEETINGD_REQUEST_ID"] not in pings else 1)
PY
)
    rc=$?
    info "the entry about the request: $out"
    nsh 10 "rm -f $JOURNAL_DROPIN && rmdir ${JOURNAL_DROPIN%/*} 2>/dev/null; true"
    sc daemon-reload && sc restart meetingd.service
    [ "$rc" = 0 ] && wait_for 10 ping_ok
}
check "journalctl -u meetingd -o json: a request's entry has MEETINGD_METHOD, MEETINGD_REQUEST_ID, MEETINGD_MS, MEETINGD_CODE" journal_fields
