#!/usr/bin/env bash
# meetingd under a real systemd. Boots systemd as PID 1 in fresh PID, mount,
# network, UTS and cgroup namespaces (lib.sh, ns-init: /etc, /usr and /var are
# overlays that vanish at power-off, so the host is left as it was), installs
# the Debian packages into it with `apt-get install ./meetingd_*.deb`, and
# checks: the package's files, man pages and completions, a C module and a
# Swift module built outside the tree against meetingd-dev alone (and a copy
# of the Swift one from another MeetingKit build refused), and with systemctl: start waits
# for READY, STATUS=, the journal's fields, the inbox, reload under load, a refused reload, the
# metrics (ipc, and HTTP with the README's drop-in), restart after SIGKILL,
# the watchdog, a clean stop, the hardening figure, then
# `apt-get remove` and `apt-get purge`. Prints PASS/FAIL per check and
# "N passed, M failed"; exits non-zero if any failed. Always powers that
# systemd off.
#
#   Tests/systemd/run.sh [--no-build]     (root; builds the packages with scripts/package
#                                          unless --no-build; MEETINGD_DEB_DIR: where the
#                                          .debs are, default .build-deb)
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
. Tests/systemd/lib.sh

DEB_DIR=${MEETINGD_DEB_DIR:-$REPO/.build-deb}
ART=$REPO/.build-systemd/systemd-test   # logs of the last run: install, load, journal
SECURITY_GOAL=1.5
build=1
[ "${1:-}" = "--no-build" ] && build=0

passed=0 failed=0
STAGE=""
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {  # check NAME CMD...: PASS when CMD succeeds
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
info() { echo "     $*"; }
finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$SD_PID" ]; then
        ns 30 journalctl --no-pager -o short-monotonic > "$ART/journal.txt" 2>/dev/null
        if [ "$failed" -gt 0 ]; then
            echo "---- journal of the failed run: meetingd lines, warnings and up (all of it: $ART/journal.txt) ----"
            grep -E "meetingd|systemd\[1\]: meetingd" "$ART/journal.txt" | grep -Ev "\] vm meetingd\[[0-9]+\]: (info|debug)|Started|Starting|Stopp|Reload|Deactivated" | tail -60 | sed 's/^/     /'
        fi
    fi
    if [ -n "$SD_PID" ]; then
        local cg=$NS_CGROUP sd=$SD_PID
        ns_poweroff
        if ! kill -0 "$sd" 2>/dev/null && [ ! -d "$cg" ]; then pass "systemd powered off, its cgroup removed"
        else fail "systemd powered off, its cgroup removed"; fi
    else
        ns_poweroff
    fi
    [ -n "$STAGE" ] && rm -rf "$STAGE"
    echo "$passed passed, $failed failed"
    if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
    exit "$rc"
}
trap finish EXIT
trap 'fail "interrupted"; exit 1' INT TERM

# ns SECS CMD...: CMD inside the namespaced systemd's world, killed after SECS.
ns() {
    local secs=$1; shift
    timeout -k 5 $((secs + 10)) nsenter -t "$SD_PID" -m -p -n -u -C -- timeout -k 5 "$secs" "$@"
}
nsh() { local secs=$1; shift; ns "$secs" sh -c "$*"; }
sc() { ns 120 systemctl --no-pager "$@"; }
prop() { ns 20 systemctl show -P "$2" "$1"; }
# The ipc endpoint by name: the config may be broken on purpose.
ctl() { ns 30 env MEETINGD_ENDPOINT=ipc:///run/meetingd/meetingd.sock /usr/bin/meetingctl "$@"; }
ping_ok() { ctl ping --timeout 2000 --retries 1 >/dev/null 2>&1; }
ping_tcp() { ctl ping --endpoint tcp://127.0.0.1:5555 --timeout 2000 --retries 1 >/dev/null 2>&1; }
wait_for() {  # wait_for SECS CMD...: poll CMD every 0.2 s until it succeeds, for SECS at most
    local end=$((SECONDS + $1)); shift
    while [ "$SECONDS" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
    return 1
}
until_pid_changes() {  # until_pid_changes OLDPID SECS: a new main pid, active again
    local end=$((SECONDS + $2)) pid
    while [ "$SECONDS" -lt "$end" ]; do
        pid=$(mainpid)
        if [ "$pid" != "$1" ] && [ "$pid" != 0 ] && [ "$(prop meetingd.service ActiveState)" = active ]; then
            echo "$pid"; return 0
        fi
        sleep 0.2
    done
    mainpid; return 1
}
mainpid() { prop meetingd.service MainPID; }

if [ "$(id -u)" -ne 0 ]; then echo "run.sh: needs root (it boots systemd in namespaces)"; exit 1; fi

# ---- the packages ----
if [ "$build" = 1 ] && [ -z "${MEETINGD_DEB_DIR:-}" ]; then
    if ! timeout 3600 scripts/package; then fail "scripts/package"; exit 1; fi
fi
mkdir -p "$ART"
debs=$(ls "$DEB_DIR"/meetingd_*.deb "$DEB_DIR"/meetingd-dev_*.deb 2>/dev/null)
if [ "$(wc -l <<<"$debs")" != 2 ]; then
    fail "one meetingd_*.deb and one meetingd-dev_*.deb in $DEB_DIR"; exit 1
fi

# Inside the namespace /tmp and /run are fresh tmpfs, so a checkout under either
# would be out of sight there: what the namespace needs is copied to the host's
# /var/tmp, which its /var overlay shows (and whose changes it never writes back).
STAGE=$(mktemp -d /var/tmp/meetingd-systemd-test.XXXXXX)
cp -r --parents Samples Tests/systemd Tests/MeetingIngestTests/Fixtures "$STAGE/"
cp $debs "$STAGE/"
# The out-of-tree modules: hello.c alone, and the echo-swift package, away from
# the tree and its headers (other_build.py is the test's, not the module's).
mkdir -p "$STAGE/hello-c" && cp Plugins/hello-c/hello.c "$STAGE/hello-c/"
cp -r Tests/systemd/echo-swift "$STAGE/echo-swift" && rm -rf "$STAGE/echo-swift/.build"
# The toolchain that built the packages, as an outside author needs the same one;
# the namespace has no network, so SwiftPM gets GRDB from a copy of this machine's
# repository cache, in a HOME of its own (the host's is left alone).
SWIFT=$(command -v swift)  # by this name: the driver reads what to be from it
SWIFTPM_CACHE=.cache/org.swift.swiftpm/repositories
mkdir -p "$STAGE/home/$SWIFTPM_CACHE" && cp -r "$HOME/$SWIFTPM_CACHE"/GRDB.swift-* "$STAGE/home/$SWIFTPM_CACHE/" 2>/dev/null

# ---- boot ----
if ns_boot; then pass "systemd boots as PID 1 in fresh namespaces"; else fail "systemd boots as PID 1 in fresh namespaces"; exit 1; fi

# ---- install ----
# What is there before, to compare with what a purge leaves (not counting
# the logs, and man-db's cache of the pages this test reads).
leftovers() { nsh 60 "find /etc /usr /var /run \\( -path /var/tmp -o -path /var/log -o -path /var/cache/man \\) -prune -o -name '*meetingd*' -print | sort"; }
BEFORE=$(leftovers)
# A container image's policy-rc.d forbids starting services; a real machine has
# none, and the overlay keeps its removal from the host.
ns 10 rm -f /usr/sbin/policy-rc.d
if ns 600 sh -c "cd '$STAGE' && DEBIAN_FRONTEND=noninteractive apt-get install -y ./meetingd_*.deb ./meetingd-dev_*.deb" > "$ART/install.log" 2>&1; then
    pass "apt-get install ./meetingd_*.deb ./meetingd-dev_*.deb"
else
    fail "apt-get install ./meetingd_*.deb ./meetingd-dev_*.deb"; sed 's/^/     /' "$ART/install.log" | tail -20; exit 1
fi
started_by_install() {
    local u
    for u in meetingd.socket meetingd.service meetingd-ingest.path; do
        [ "$(prop $u UnitFileState)/$(prop $u ActiveState)" = enabled/active ] || { info "$u: $(prop $u UnitFileState)/$(prop $u ActiveState)"; return 1; }
    done
    wait_for 10 ping_ok
}
check "the install enables and starts the socket, the service and the inbox watch" started_by_install
ldd_clean() {
    local out
    out=$(nsh 60 'for f in /usr/lib/meetingd/meetingd /usr/lib/meetingd/meetingctl /usr/lib/meetingd/*.so /usr/lib/meetingd/modules/*.so; do ldd "$f" | sed "s|^|$f: |"; done')
    # Everything resolves, and the Swift runtime comes from the package, not the build machine's toolchain.
    [ -n "$out" ] && ! grep -Eq "not found|/opt/swift" <<<"$out" || { grep -E "not found|/opt/swift" <<<"$out" | head | sed 's/^/     /'; return 1; }
}
check "ldd resolves every library of the binaries and modules, the Swift runtime from /usr/lib/meetingd" ldd_clean
verify_clean() {
    local out
    out=$(ns 60 systemd-analyze verify /lib/systemd/system/meetingd.service /lib/systemd/system/meetingd.socket \
          /lib/systemd/system/meetingd-ingest.service /lib/systemd/system/meetingd-ingest.path 2>&1)
    [ -z "$out" ] || { sed 's/^/     /' <<<"$out"; return 1; }
}
check "systemd-analyze verify reports nothing on the units" verify_clean
check "the meetingd user and group exist" ns 10 getent passwd meetingd
man_pages() {
    local page out
    for page in meetingd meetingctl 5:meetingd.yaml 7:meetingd-module; do
        case $page in *:*) out=$(ns 30 env MANWIDTH=80 man -P cat "${page%%:*}" "${page#*:}" 2>&1) ;;
                      *) out=$(ns 30 env MANWIDTH=80 man -P cat "$page" 2>&1) ;; esac
        grep -q "^NAME" <<<"$out" || { info "man $page: $(head -c 200 <<<"$out")"; return 1; }
    done
    ns 30 env MANWIDTH=80 man -P cat meetingd | grep -q "check-config"
}
check "man meetingd, meetingctl, meetingd.yaml(5) and meetingd-module(7) work" man_pages
completions() {
    nsh 20 'bash -c ". /usr/share/bash-completion/completions/meetingctl && complete -p meetingctl"' >/dev/null &&
    nsh 10 'test -s /usr/share/zsh/vendor-completions/_meetingd && test -s /usr/share/fish/vendor_completions.d/meetingd.fish'
}
check "bash, zsh and fish completions are installed" completions
CONF=/etc/meetingd/meetingd.yaml
out_of_tree_module() {
    local abi pc
    abi=$(sed -n 's/^#define MEETINGD_ABI_VERSION \([0-9]*\).*/\1/p' Sources/MeetingKit/Sources/CMeetingdModule/include/meetingd_module.h)
    pc=$(ns 10 pkg-config --modversion meetingd-module)
    info "pkg-config --modversion meetingd-module: $pc (the header in the tree: ABI $abi)"
    [ -n "$abi" ] && [ "$pc" = "$abi" ] || return 1
    # Only what meetingd-dev installed: no -I into the source tree.
    nsh 60 "cd '$STAGE/hello-c' && cc -std=c11 -O2 -Wall -fPIC -shared -fvisibility=hidden \$(pkg-config --cflags meetingd-module) hello.c -o hello.so" || return 1
    ns 10 install -m 0644 "$STAGE/hello-c/hello.so" /usr/lib/meetingd/modules/hello.so
}
check "the hello-c module builds outside the tree against meetingd-dev alone (pkg-config meetingd-module)" out_of_tree_module
echo_says() {  # echo_says TEXT: echo.say answers TEXT
    [ "$(ctl call echo.say "{\"text\": \"$1\"}" --json --timeout 5000 --retries 1 2>&1)" = "\"$1\"" ]
}
swift_module() {
    local t0 own
    # Its Package.swift names /usr/share/meetingd/MeetingKit (meetingd-dev) and nothing of the tree.
    t0=$SECONDS
    nsh 2400 "cd '$STAGE/echo-swift' && HOME='$STAGE/home' '$SWIFT' build" > "$ART/echo-swift-build.log" 2>&1 ||
        { tail -20 "$ART/echo-swift-build.log" | sed 's/^/     /'; return 1; }
    info "swift build of echo-swift against /usr/share/meetingd/MeetingKit: $((SECONDS - t0)) s"
    ns 10 install -m 0644 "$STAGE/echo-swift/.build/debug/libecho.so" /usr/lib/meetingd/modules/libecho.so || return 1
    # Served from now on (the later checks restart with it); taken out again if it fails.
    nsh 10 "cp $CONF $CONF.noecho && printf '  echo: {}\n' >> $CONF"
    own=$(ctl call meetingd.status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["meetingkit_build"])')
    info "the daemon's build: $own; the module's: $(ns 10 grep -ao 'MeetingKit [0-9a-f]\{16\}, Swift [0-9.]*' /usr/lib/meetingd/modules/libecho.so)"
    if sc reload meetingd.service && echo_says "from outside the tree"; then
        ns 10 rm "$CONF.noecho"
    else
        nsh 10 "mv $CONF.noecho $CONF"; sc reload meetingd.service; return 1
    fi
}
check "a Swift module built outside the tree against meetingd-dev alone is loaded and served" swift_module
swift_module_other_build() {
    local out own other rc
    # Not in the modules folder, which the package removes on purge.
    ns 10 install -d -m 0755 /var/lib/meetingd-other-build || return 1
    out=$(ns 20 python3 "$STAGE/Tests/systemd/other_build.py" /usr/lib/meetingd/modules/libecho.so /var/lib/meetingd-other-build/libecho.so) ||
        { ns 10 rm -r /var/lib/meetingd-other-build; return 1; }
    own=$(sed -n 1p <<<"$out"); other=$(sed -n 2p <<<"$out")
    nsh 10 "cp $CONF $CONF.good && sed -i 's|^  echo: {}|  echo: {path: /var/lib/meetingd-other-build/libecho.so}|' $CONF"
    sc reload meetingd.service >/dev/null 2>&1; rc=$?
    refused() { ns 20 journalctl -u meetingd.service --no-pager -n 200 | grep -F "/var/lib/meetingd-other-build/libecho.so" |
                grep -F "built against $other" | grep -qF "$own"; }
    wait_for 10 refused; local logged=$?
    nsh 10 "mv $CONF.good $CONF && rm -r /var/lib/meetingd-other-build"
    info "systemctl reload with a copy built against '$other': exit $rc; logged naming both builds: $([ $logged = 0 ] && echo yes || echo no)"
    [ "$rc" != 0 ] && [ "$logged" = 0 ] && echo_says "still served"
}
check "a Swift module built against another MeetingKit is refused, the log naming both builds and the file" swift_module_other_build

# ---- start ----
start_ready() {
    local t0 t1 started active
    # The install started it: stop it to see a start of its own.
    sc stop meetingd.service || return 1
    t0=$(date +%s%N)
    sc start meetingd.socket meetingd.service || return 1
    t1=$(date +%s%N)
    info "systemctl start returned after $(( (t1 - t0) / 1000000 )) ms"
    # No retries, no wait: ready means answering right now, on both endpoints.
    ping_ok || { info "no pong over ipc right after start"; return 1; }
    ping_tcp || { info "no pong over tcp right after start"; return 1; }
    [ "$(prop meetingd.service ActiveState)/$(prop meetingd.service SubState)" = active/running ] || return 1
    started=$(prop meetingd.service ExecMainStartTimestampMonotonic)
    active=$(prop meetingd.service ActiveEnterTimestampMonotonic)
    info "READY=1 came $(( (active - started) / 1000 )) ms after exec"
    [ "$active" -gt "$started" ]
}
check "start returns once the daemon is ready, and it answers at once (ipc and tcp)" start_ready
socket_adopted() {
    # The tcp listener belongs to meetingd.socket; the service has no network.
    [ "$(prop meetingd.socket ActiveState)" = active ] &&
    [ "$(prop meetingd.service PrivateNetwork)" = yes ] && ping_tcp
}
check "the tcp listener comes from meetingd.socket while the service has PrivateNetwork=yes" socket_adopted
ipc_group_only() {
    local mode outsider member
    mode=$(ns 10 stat -c '%a %U:%G' /run/meetingd)
    info "/run/meetingd: $mode"
    # nobody, without and then with the meetingd group.
    ns 20 setpriv --reuid=nobody --regid=nogroup --clear-groups env MEETINGD_ENDPOINT=ipc:///run/meetingd/meetingd.sock \
        /usr/bin/meetingctl ping --timeout 1000 --retries 1 >/dev/null 2>&1; outsider=$?
    ns 20 setpriv --reuid=nobody --regid=nogroup --groups=meetingd env MEETINGD_ENDPOINT=ipc:///run/meetingd/meetingd.sock \
        /usr/bin/meetingctl ping --timeout 2000 --retries 1 >/dev/null 2>&1; member=$?
    info "ping over ipc as nobody: exit $outsider; as nobody in group meetingd: exit $member"
    [ "$mode" = "770 meetingd:meetingd" ] && [ "$outsider" != 0 ] && [ "$member" = 0 ]
}
check "the ipc socket is for root and the meetingd group only (RuntimeDirectoryMode=0770)" ipc_group_only
status_line() {
    local text out
    text=$(prop meetingd.service StatusText)
    out=$(sc status meetingd.service 2>&1)
    info "StatusText: $text"
    [ -n "$text" ] && grep -q "Status: \"" <<<"$out"
}
check "systemctl status shows the daemon's STATUS= line" status_line
journal_ok() {
    local out
    out=$(ns 20 journalctl -u meetingd.service -o verbose --no-pager 2>/dev/null)
    # Entries arrive with their own priorities, and without a raw "<N>" prefix.
    grep -q "MESSAGE=" <<<"$out" && ! grep -Eq "MESSAGE=<[0-7]>" <<<"$out" && grep -q "PRIORITY=" <<<"$out"
}
check "the daemon logs to the journal, each entry with its priority" journal_ok
. Tests/systemd/check_journal.sh  # structured journal fields (issue 15)

# ---- the inbox ----
SAMPLE=$(ls Samples/* | head -1)
SAMPLE_ID=$(basename "${SAMPLE%.*}")
lookup_sample() { ctl call lookup.meeting "{\"id\":\"$SAMPLE_ID\"}" --json --timeout 3000 --retries 1 >/dev/null 2>&1; }
inbox_served() {
    local pid0 pid1
    sc start meetingd-ingest.path || return 1
    pid0=$(mainpid)
    if lookup_sample; then info "$SAMPLE_ID is already in the corpus before the drop"; return 1; fi
    # Written under a hidden name, then renamed in: ingest never sees half a file.
    nsh 20 "cp '$STAGE/$SAMPLE' /var/lib/meetingd/inbox/.$SAMPLE_ID.part && chown meetingd:meetingd /var/lib/meetingd/inbox/.$SAMPLE_ID.part && mv /var/lib/meetingd/inbox/.$SAMPLE_ID.part /var/lib/meetingd/inbox/$(basename "$SAMPLE")" || return 1
    wait_for 60 lookup_sample || { info "not served within 60 s"; sc status meetingd-ingest.service | sed 's/^/     /'; return 1; }
    pid1=$(mainpid)
    info "served $SAMPLE_ID; ingest result: $(prop meetingd-ingest.service Result); daemon pid $pid0 -> $pid1"
    [ "$pid0" = "$pid1" ] && [ "$(prop meetingd.service NRestarts)" = 0 ]
}
check "a transcript dropped into the inbox is served without a restart" inbox_served

drop() {  # drop FILE: into the inbox under a hidden name, then renamed
    local name; name=$(basename "$1")
    nsh 20 "cp '$STAGE/$1' /var/lib/meetingd/inbox/.$name.part && mv /var/lib/meetingd/inbox/.$name.part /var/lib/meetingd/inbox/$name"
}
inbox_broken_file() {
    local fixtures=Tests/MeetingIngestTests/Fixtures end result
    drop "$fixtures/broken_timing.vtt" || return 1
    end=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$end" ]; do
        result=$(prop meetingd-ingest.service Result)
        [ "$result" != success ] && [ "$(prop meetingd-ingest.service ActiveState)" != activating ] && break
        sleep 0.2
    done
    info "after a broken transcript: meetingd-ingest.service Result=$result, path $(prop meetingd-ingest.path ActiveState)"
    drop "$fixtures/standup.vtt" || return 1
    lookup_standup() { ctl call lookup.meeting '{"id":"standup"}' --json --timeout 3000 --retries 1 >/dev/null 2>&1; }
    wait_for 60 lookup_standup || { info "standup not served within 60 s"; return 1; }
    nsh 10 "rm -f /var/lib/meetingd/inbox/broken_timing.vtt"
    [ "$result" = exit-code ] && [ "$(prop meetingd-ingest.path ActiveState)" = active ] && ping_ok
}
check "a broken transcript fails meetingd-ingest.service, and the inbox keeps working" inbox_broken_file
. Tests/systemd/check_events.sh  # the event stream under systemd (issue 16)

# ---- reload under load ----
nsh 10 "cp $CONF $CONF.orig"
with_hello() {  # the config plus the hello module, and a worker count
    nsh 10 "sed -e 's/^workers: .*/workers: ${1:-0}/' $CONF.orig > $CONF.new && printf '  hello:\n    settings: {greeting: Howdy}\n' >> $CONF.new && mv $CONF.new $CONF"
}
reload_under_load() {
    local out rc pid0 stop=/run/meetingd-load.stop
    pid0=$(mainpid)
    with_hello 0 || return 1
    nsh 5 "rm -f $stop"
    ns 200 python3 "$STAGE/Tests/systemd/load.py" --endpoint ipc:///run/meetingd/meetingd.sock \
        --endpoint tcp://127.0.0.1:5555 --clients 6 --seconds 120 --stop-file "$stop" --timeout-ms 10000 \
        --method search.query --params '{"q": "vaccine"}' \
        --method lookup.meeting --params "{\"id\": \"$SAMPLE_ID\"}" > "$ART/load.json" 2>"$ART/load.err" &
    local load=$!
    sleep 2
    sc reload meetingd.service; rc=$?
    info "systemctl reload (adds the hello module): exit $rc"
    sleep 1
    nsh 10 "sed -i 's/greeting: Howdy/greeting: Hiya/' $CONF"
    sc reload meetingd.service || rc=1
    info "second reload (changes a module setting): exit $rc"
    sleep 2
    nsh 5 "touch $stop"
    wait "$load"; local lrc=$?
    info "load: $(cat "$ART/load.json") $(head -c 300 "$ART/load.err")"
    out=$(ctl call hello.greet '{"name": "systemd"}' --json 2>&1)
    info "hello.greet after the reloads: $out"
    info "main pid $pid0 -> $(mainpid), NRestarts $(prop meetingd.service NRestarts) (a restart here means the daemon crashed under load)"
    [ "$rc" = 0 ] && [ "$lrc" = 0 ] && grep -q "Hiya" <<<"$out" && [ "$(mainpid)" = "$pid0" ]
}
check "reload under load from 6 clients: zero failed or lost requests, new config in effect" reload_under_load

refused_reload() {
    local pid0 rc out status
    pid0=$(mainpid)
    nsh 10 "cp $CONF $CONF.good && printf 'workers: [not a number\nbogus_key: 1\n' >> $CONF"
    sc reload meetingd.service >/dev/null 2>&1; rc=$?
    info "systemctl reload with a broken config: exit $rc"
    out=$(ctl call hello.greet '{"name": "x"}' --json 2>&1)
    status=$(prop meetingd.service StatusText)
    info "StatusText: $status"
    info "hello.greet on the old config: $out"
    ping_ok; local alive=$?
    nsh 10 "mv $CONF.good $CONF"
    [ "$rc" != 0 ] && [ "$(mainpid)" = "$pid0" ] && [ "$(prop meetingd.service ActiveState)" = active ] &&
        [ "$alive" = 0 ] && grep -q Hiya <<<"$out" && grep -q "refused" <<<"$status"
}
check "reload with a broken config fails, and the daemon keeps serving on the old one" refused_reload

# ---- metrics ----
metrics_over_ipc() {  # the reloads so far as meetingd.status counts them, and the load's searches
    local text applied refused
    text=$(ctl call meetingd.metrics --json | python3 -c 'import json, sys; print(json.load(sys.stdin))') || return 1
    read -r applied refused < <(ctl call meetingd.status --json |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["reload"]; print(r["generation"], r["attempts"] - r["generation"])')
    info "meetingd.status: $applied reloads applied, $refused refused; metrics: $(grep -E '^meetingd_(reloads_total|requests_total\{method="search.query"\})' <<<"$text" | tr '\n' ' ')"
    [ "${refused:-0}" -ge 1 ] &&
        grep -qx "meetingd_reloads_total{result=\"applied\"} $applied" <<<"$text" &&
        grep -qx "meetingd_reloads_total{result=\"refused\"} $refused" <<<"$text" &&
        grep -qE '^meetingd_requests_total\{method="search.query"\} [1-9]' <<<"$text"
}
check "meetingd.metrics over the ipc socket counts the reloads and the load's requests" metrics_over_ipc

metrics_over_http() {  # the drop-in the README gives for metrics.listen under the packaged unit
    local pid0 body rc=0 dropin=/etc/systemd/system/meetingd.service.d/metrics.conf
    pid0=$(mainpid)
    nsh 10 "mkdir -p ${dropin%/*} && printf '[Service]\nPrivateNetwork=no\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\nIPAddressAllow=localhost\n' > $dropin" &&
        nsh 10 "cp $CONF $CONF.nometrics && printf 'metrics: {listen: 127.0.0.1:9464}\n' >> $CONF" &&
        sc daemon-reload && sc restart meetingd.service || rc=1
    body=$(ns 20 curl -sS --fail --max-time 5 http://127.0.0.1:9464/metrics 2>&1) || rc=1
    info "curl http://127.0.0.1:9464/metrics: $(grep -c '^meetingd_' <<<"$body") samples; $(grep '^meetingd_corpus_meetings' <<<"$body")"
    nsh 10 "rm -f $dropin && mv $CONF.nometrics $CONF" && sc daemon-reload && sc restart meetingd.service || rc=1
    [ "$rc" = 0 ] && grep -qE '^meetingd_corpus_meetings [1-9]' <<<"$body" && wait_for 10 ping_ok
}
check "metrics.listen serves over HTTP with the README's drop-in (PrivateNetwork=no, AF_INET)" metrics_over_http

# ---- crash: SIGKILL ----
restart_after_kill() {
    local pid0 n0 pid1
    pid0=$(mainpid); n0=$(prop meetingd.service NRestarts)
    sc kill -s SIGKILL meetingd.service || return 1
    pid1=$(until_pid_changes "$pid0" 60)
    info "pid $pid0 -> $pid1, NRestarts $n0 -> $(prop meetingd.service NRestarts)"
    [ "$pid1" != "$pid0" ] && [ "$pid1" != 0 ] && wait_for 10 ping_ok
}
check "systemctl kill -s SIGKILL is followed by an automatic restart" restart_after_kill

# ---- hang: the watchdog ----
watchdog_restart() {
    local pid0 pid1 i rc
    nsh 10 "mkdir -p /run/systemd/system/meetingd.service.d && printf '[Service]\nWatchdogSec=3s\n' > /run/systemd/system/meetingd.service.d/50-test-watchdog.conf"
    with_hello 1 || return 1
    sc daemon-reload && sc restart meetingd.service || return 1
    pid0=$(mainpid)
    info "WatchdogUSec=$(prop meetingd.service WatchdogUSec), workers: 1, pid $pid0"
    # One request that blocks the only worker for 60 s; nobody waits for it.
    # (The client gives up by itself after 15 s: signalling it could leave a stopped
    # nsenter behind, and a zombie that holds up the power-off.)
    ctl call hello.sleep '{"ms": 60000}' --timeout 15000 --retries 1 >/dev/null 2>&1 &
    local sleeper=$!
    pid1=$(until_pid_changes "$pid0" 45)
    info "pid $pid0 -> $pid1 after the hang"
    # PID 1's own lines reach the journal a moment later.
    watchdog_logged() { ns 20 journalctl -u meetingd.service --no-pager -n 300 | grep -q "Watchdog timeout"; }
    wait_for 15 watchdog_logged; rc=$?
    wait "$sleeper" 2>/dev/null
    [ "$rc" = 0 ] || info "no 'Watchdog timeout' in the journal"
    nsh 10 "rm -rf /run/systemd/system/meetingd.service.d && cp $CONF.orig $CONF"
    sc daemon-reload
    sc restart meetingd.service
    [ "$rc" = 0 ] && [ "$pid1" != "$pid0" ] && [ "$pid1" != 0 ] && wait_for 10 ping_ok
}
check "a hung daemon (one worker blocked in hello.sleep) is restarted by the watchdog" watchdog_restart

# ---- stop ----
clean_stop() {
    local t0 t1 ms crc
    # A request in flight when the stop comes must still be answered.
    with_hello 0 && sc reload meetingd.service >/dev/null || return 1
    ctl call hello.sleep '{"ms": 1500}' --json --timeout 15000 --retries 1 > "$ART/inflight.out" 2>&1 &
    local client=$!
    sleep 0.5
    t0=$(date +%s%N)
    sc stop meetingd.service 2>/dev/null || return 1
    t1=$(date +%s%N); ms=$(( (t1 - t0) / 1000000 ))
    wait "$client"; crc=$?
    info "stop took $ms ms with a 1.5 s request in flight (its reply: $(head -c 80 "$ART/inflight.out"), exit $crc)"
    info "Result=$(prop meetingd.service Result) ExecMainCode=$(prop meetingd.service ExecMainCode) ExecMainStatus=$(prop meetingd.service ExecMainStatus)"
    nsh 10 "cp $CONF.orig $CONF"
    [ "$ms" -lt 20000 ] && [ "$crc" = 0 ] && grep -q slept_ms "$ART/inflight.out" &&
        [ "$(prop meetingd.service Result)" = success ] && [ "$(prop meetingd.service ExecMainCode)" = 1 ] &&
        [ "$(prop meetingd.service ExecMainStatus)" = 0 ] && [ "$(prop meetingd.service ActiveState)" = inactive ]
}
check "stop finishes the request in flight and completes within TimeoutStopSec with exit status 0" clean_stop

# ---- hardening ----
security_ok() {
    local line figure
    line=$(ns 60 systemd-analyze security meetingd.service --no-pager 2>&1 | grep "Overall exposure level")
    figure=$(sed -E 's/.*: ([0-9.]+).*/\1/' <<<"$line")
    info "systemd-analyze security meetingd.service: $figure (goal <= $SECURITY_GOAL); meetingd-ingest.service: $(ns 60 systemd-analyze security meetingd-ingest.service --no-pager 2>&1 | grep "Overall exposure level" | sed -E 's/.*: ([0-9.]+).*/\1/')"
    ns 60 systemd-analyze security --offline=yes --threshold=15 /lib/systemd/system/meetingd.service >/dev/null 2>&1 || return 1
    awk -v f="$figure" -v g="$SECURITY_GOAL" 'BEGIN { exit !(f != "" && f + 0 <= g + 0) }'
}
check "systemd-analyze security meetingd.service <= $SECURITY_GOAL" security_ok

# ---- remove and purge ----
remove_then_purge() {
    local after
    # What this test itself put there: the hello module, a copy of the config, the load's stop file.
    ns 10 rm -f /usr/lib/meetingd/modules/hello.so /usr/lib/meetingd/modules/libecho.so "$CONF.orig" /run/meetingd-load.stop
    ns 300 env DEBIAN_FRONTEND=noninteractive apt-get remove -y meetingd > "$ART/uninstall.log" 2>&1 || { tail "$ART/uninstall.log"; return 1; }
    nsh 10 '! ls /usr/lib/meetingd/meetingd /lib/systemd/system/meetingd.service /usr/bin/meetingctl /usr/include/meetingd 2>/dev/null | grep -q .' || return 1
    [ "$(prop meetingd.service LoadState)" = not-found ] || return 1
    nsh 10 'test -e /var/lib/meetingd/corpus.sqlite && test -e /etc/meetingd/meetingd.yaml' || { info "the corpus or the config did not survive apt-get remove"; return 1; }
    ns 300 env DEBIAN_FRONTEND=noninteractive apt-get purge -y meetingd >> "$ART/uninstall.log" 2>&1 || { tail "$ART/uninstall.log"; return 1; }
    after=$(leftovers)
    if [ "$after" != "$BEFORE" ]; then
        info "left after the purge:"; diff <(echo "$BEFORE") <(echo "$after") | sed 's/^/     /'; return 1
    fi
    # Debian keeps system users on purge.
    ns 10 getent passwd meetingd >/dev/null && info "the meetingd user stays, as Debian policy has it"
}
check "apt-get remove keeps the corpus and config; purge leaves nothing named meetingd but the user" remove_then_purge
