# Boots systemd as PID 1 in fresh namespaces and drives it. Sourced by run.sh.
#   ns_boot          boot it (sets SD_PID, NS_WORK); returns once it is running
#   in_ns CMD...     run CMD inside it (its mount, PID, net, UTS and cgroup namespaces)
#   ns_poweroff      power it off (always; SIGKILL to its PID 1 if it dawdles) and clean up
# Needs root, util-linux unshare/nsenter, overlayfs and a cgroup2 hierarchy.

NS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SD_PID=""
UNSHARE_PID=""
NS_WORK=""
NS_CGROUP=""

ns_cgroup_root() {
    if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo /sys/fs/cgroup
    elif [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then echo /sys/fs/cgroup/unified
    else return 1; fi
}

in_ns() {
    nsenter -t "$SD_PID" -m -p -n -u -C -- "$@"
}

ns_boot() {
    local cgroot i state
    cgroot=$(ns_cgroup_root) || { echo "no cgroup2 hierarchy: cannot boot systemd here" >&2; return 1; }
    NS_WORK=$(mktemp -d /tmp/meetingd-systemd.XXXXXX)
    # A cgroup of its own, which becomes the root of the namespace's cgroup2 view.
    NS_CGROUP=$cgroot/meetingd-systemd-test.$$
    mkdir -p "$NS_CGROUP"
    setsid sh -c 'echo $$ > "$1/cgroup.procs" && exec unshare --cgroup --fork --pid --mount --net --uts \
        --mount-proc --propagation private "$2" "$3"' sh "$NS_CGROUP" "$NS_HERE/ns-init" "$NS_WORK" \
        </dev/null >"$NS_WORK/console.log" 2>&1 &
    UNSHARE_PID=$!
    for i in $(seq 100); do
        SD_PID=$(pgrep -P "$UNSHARE_PID" 2>/dev/null | head -1 || true)
        [ -n "$SD_PID" ] && [ "$(readlink "/proc/$SD_PID/exe" 2>/dev/null)" = "$(readlink -f /lib/systemd/systemd)" ] && break
        SD_PID=""
        sleep 0.1
    done
    if [ -z "$SD_PID" ]; then
        echo "systemd did not start in the namespace; console:" >&2
        cat "$NS_WORK/console.log" >&2
        return 1
    fi
    for i in $(seq 120); do
        state=$(in_ns systemctl is-system-running 2>/dev/null || true)
        case $state in running|degraded) break ;; esac
        sleep 0.5
    done
    case $state in
        running|degraded) echo "systemd booted as PID 1 in a namespace (host pid $SD_PID): $state" ;;
        *) echo "systemd did not finish booting (state: ${state:-none}); console:" >&2
           tail -30 "$NS_WORK/console.log" >&2
           return 1 ;;
    esac
}

ns_processes() {  # the namespace's processes as the host sees them, with their parents
    local nspid p pp
    nspid=$(readlink "/proc/$SD_PID/ns/pid" 2>/dev/null) || return 0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$nspid" ] || continue
        pp=$(awk '/^PPid:/ {print $2}' "$p/status" 2>/dev/null)
        echo "    host pid ${p#/proc/} ($(awk '/^State:/ {print $2}' "$p/status" 2>/dev/null)) $(tr '\0' ' ' < "$p/cmdline" 2>/dev/null | head -c 120)  <- parent $pp: $(tr '\0' ' ' < "/proc/$pp/cmdline" 2>/dev/null | head -c 120)"
    done
}

ns_poweroff() {
    local i
    if [ -n "$SD_PID" ] && kill -0 "$SD_PID" 2>/dev/null; then
        timeout 15 nsenter -t "$SD_PID" -m -p -- systemctl --no-block poweroff >/dev/null 2>&1 || true
        for i in $(seq 300); do
            kill -0 "$SD_PID" 2>/dev/null || break
            if [ "$i" = 100 ]; then
                echo "systemd still shutting down after 10 s; its jobs and processes:" >&2
                timeout 5 nsenter -t "$SD_PID" -m -p -- systemctl list-jobs --no-pager 2>&1 | sed 's/^/    /' >&2
                ns_processes >&2
            fi
            sleep 0.1
        done
        if kill -0 "$SD_PID" 2>/dev/null; then
            echo "systemd did not power off within 30 s; killing its PID namespace" >&2
            kill -KILL "$SD_PID" 2>/dev/null || true
        fi
    fi
    if [ -n "$UNSHARE_PID" ]; then
        for i in $(seq 100); do kill -0 "$UNSHARE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$UNSHARE_PID" 2>/dev/null || true
        wait "$UNSHARE_PID" 2>/dev/null || true
    fi
    # The namespace's cgroups are empty once its PID 1 is gone.
    if [ -n "$NS_CGROUP" ] && [ -d "$NS_CGROUP" ]; then
        [ -e "$NS_CGROUP/cgroup.kill" ] && echo 1 > "$NS_CGROUP/cgroup.kill" 2>/dev/null || true
        for i in $(seq 50); do
            find "$NS_CGROUP" -depth -type d -exec rmdir {} \; 2>/dev/null || true
            [ -d "$NS_CGROUP" ] || break
            sleep 0.1
        done
    fi
    [ -n "$NS_WORK" ] && rm -rf "$NS_WORK"
    SD_PID="" UNSHARE_PID="" NS_CGROUP="" NS_WORK=""
}
