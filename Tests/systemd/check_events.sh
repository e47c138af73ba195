# The event stream under systemd (issue 16). Sourced by run.sh once the service and the
# inbox path unit run; uses its helpers (ns, nsh, sc, ctl, check, info, drop, STAGE, ART).
# Turns the stream on (ipc:///run/meetingd/events.sock; endpoints need a restart), then
# a subscriber outside the service sees the inbox path unit's ingest of a dropped file as
# meeting.added, and an alert's hits for it (not for a meeting without its phrase); a reload between two drops loses nothing: the
# numbers run on, daemon.reloaded between them, as events.since has them. The config is
# put back (and the service restarted) at the end.

EVENTS_CONF=/etc/meetingd/meetingd.yaml
EVENTS_ENDPOINT=ipc:///run/meetingd/events.sock
EVENTS_OUT=$ART/events.jsonl

events_received() {  # events_received TOPIC MEETING: that line is in the subscriber's output
    grep -q "\"topic\": \"$1\".*\"meeting\": \"$2\"" "$EVENTS_OUT"
}

events_stream() {
    local stop=/run/meetingd-events.stop sub seqs since
    nsh 10 "cp $EVENTS_CONF $EVENTS_CONF.before-events && printf 'events:\n  endpoints: [$EVENTS_ENDPOINT]\n  poll_ms: 1000\n' >> $EVENTS_CONF" || return 1
    sc restart meetingd.service || return 1
    ctl call alerts.add '{"name": "remote", "q": "\"simpler remote\""}' --json >/dev/null || { info "alerts.add failed"; return 1; }
    nsh 5 "rm -f $stop"
    ns 200 python3 "$STAGE/Tests/systemd/subscribe.py" --endpoint "$EVENTS_ENDPOINT" --stop-file "$stop" --seconds 180 \
        > "$EVENTS_OUT" 2>"$ART/events.err" &
    sub=$!
    sleep 1  # the subscription reaches the publisher
    # planning.txt: ingested by the inbox path unit, seen by the subscriber outside the service.
    drop Tests/MeetingIngestTests/Fixtures/planning.txt || return 1
    wait_for 60 events_received meeting.added planning || { info "no meeting.added for planning within 60 s"; }
    sc reload meetingd.service || info "reload failed"
    drop Tests/MeetingIngestTests/Fixtures/interview.srt || return 1
    wait_for 60 events_received meeting.added interview || { info "no meeting.added for interview within 60 s"; }
    nsh 5 "touch $stop"
    wait "$sub"
    info "received: $(grep -o '^{"topic": "[a-z.]*"' "$EVENTS_OUT" | sed 's/{"topic": //' | tr '\n' ' ')"
    seqs=$(python3 - "$EVENTS_OUT" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
meetings = [l["event"]["seq"] for l in lines if l["topic"].startswith("meeting.")]
print(" ".join(map(str, meetings)))
PY
)
    since=$(ctl call events.since '{"seq": 0}' --json | python3 -c 'import json,sys; print(" ".join(str(e["seq"]) for e in json.load(sys.stdin)["events"]))')
    info "meeting.* sequence numbers received: $seqs; events.since has: $since"
    nsh 10 "mv $EVENTS_CONF.before-events $EVENTS_CONF && rm -f $stop"  # the purge check counts what is left
    sc restart meetingd.service
    # Everything logged from the first number received on reached the subscriber, in order, with the reload between.
    [ -n "$seqs" ] && [[ " $since " == *" $seqs"* ]] && [[ "$since" == *"${seqs##* }" ]] &&
        grep -q '"topic": "daemon.reloaded"' "$EVENTS_OUT" && events_received alert.remote planning &&
        ! events_received alert.remote interview
}
check "a subscriber outside the service gets the inbox's meeting.added and an alert; a reload mid-stream loses nothing" events_stream
