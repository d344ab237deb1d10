# shellcheck shell=bash disable=SC2153 # inputs are globals set by the caller
# Shared shell functions of the REGISTER load tools
# (compare-register.sh, natlab-register.sh, natlab.sh). Source it:
#
#   LT_NAME=compare-register . "$SCRIPT_DIR/lib.sh"
#
# Conventions follow run-options.sh: `set -euo pipefail` in the caller,
# log lines on stderr prefixed with [LT_NAME], results kept under
# target/loadtest/, SIPp run non-interactively with the same flags.
#
# The main entry point is lt_measure KIND (KIND = sipedge | kamailio): it
# starts one server, probes it, drives loadtest/register.xml through SIPp,
# measures the server's CPU and the response times, stops the server and
# stores everything in the associative array RES["KIND.field"];
# lt_print_table prints the side-by-side table from RES.

LT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_ROOT="$(cd "$LT_DIR/.." && pwd)"
LT_NAME="${LT_NAME:-loadtest}"
REGISTER_XML="$LT_DIR/register.xml"
OPTIONS_XML="$LT_DIR/options.xml"
LATENCY_PY="$LT_DIR/latency.py"
KAMAILIO_RUN="$LT_DIR/kamailio/run-stock.sh"

log() { printf '[%s] %s\n' "$LT_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- packages
LT_APT_UPDATED=0
apt_install() { # apt_install PKG... (Debian; SIPEDGE_NO_INSTALL=1 refuses)
    [[ "${SIPEDGE_NO_INSTALL:-0}" != 1 ]] || die "missing: $* (SIPEDGE_NO_INSTALL=1, not installing)"
    command -v apt-get >/dev/null 2>&1 || die "missing: $*; install them with your package manager"
    [[ "$(id -u)" == 0 ]] || die "missing: $*; run as root (apt-get install $*)"
    log "installing: $*"
    if ((LT_APT_UPDATED == 0)); then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        LT_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

# ensure_cmds CMD:PACKAGE ... installs the packages of the missing commands.
ensure_cmds() {
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd="${spec%%:*}" pkg="${spec#*:}"
        PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
    case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
}

# lt_args MAX_POSITIONAL ARG...: the command line shared by the REGISTER
# tools, [POSITIONAL...] [--only sipedge|kamailio] [-h]. Sets POS and KINDS;
# calls the script's usage() on anything else.
lt_args() {
    local max="$1" only=""
    shift
    POS=()
    while (($#)); do
        case "$1" in
        --only) (($# >= 2)) || usage; only="$2"; shift 2 ;;
        --only=*) only="${1#--only=}"; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) usage ;;
        *) POS+=("$1"); shift ;;
        esac
    done
    ((${#POS[@]} <= max)) || usage
    # The servers a script measures: LT_KINDS when it sets one, else both.
    local all=("${LT_KINDS[@]:-sipedge kamailio}")
    # shellcheck disable=SC2206 # split the default on purpose
    all=(${all[*]})
    if [[ -z "$only" ]]; then
        KINDS=("${all[@]}")
    elif [[ " ${all[*]} " == *" $only "* ]]; then
        KINDS=("$only")
    else
        log "--only takes one of: ${all[*]}; got '$only'"
        usage
    fi
}

# lt_positive VAR...: each variable must hold a positive integer.
lt_positive() {
    local v
    for v in "$@"; do
        [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { log "$v must be a positive integer, got '${!v}'"; usage; }
    done
}

# lt_prepare CMD:PACKAGE...: installs what a measurement of KINDS needs
# (plus the given extras), stops a system Kamailio, raises limits.
lt_prepare() {
    local deps=(sipp:sip-tester sipsak:sipsak python3:python3 awk:mawk "$@")
    [[ " ${KINDS[*]} " != *" kamailio "* ]] || deps+=(kamailio:kamailio)
    [[ "${LATENCY_CAPTURE:-1}" != 1 ]] || deps+=(tcpdump:tcpdump)
    ensure_cmds "${deps[@]}"
    [[ " ${KINDS[*]} " != *" kamailio "* ]] || stop_system_kamailio
    raise_limits
}

# Debian starts kamailio.service on install (where systemd runs): stop and
# disable it so no system instance competes for the CPU or a port.
stop_system_kamailio() {
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        if systemctl is-active --quiet kamailio 2>/dev/null || systemctl is-enabled --quiet kamailio 2>/dev/null; then
            log "stopping and disabling the system kamailio service"
            systemctl stop kamailio 2>/dev/null || true
            systemctl disable kamailio 2>/dev/null || true
        fi
    elif [[ -x /etc/init.d/kamailio ]]; then
        /etc/init.d/kamailio stop >/dev/null 2>&1 || true
    fi
    local others
    others="$(pgrep -x kamailio 2>/dev/null | tr '\n' ' ' || true)"
    [[ -z "$others" ]] || log "WARNING: kamailio processes not started by this run are alive (pids $others); they share the CPU with the measurement"
}

raise_limits() {
    # io_uring (glommio) needs locked memory; raise the soft limit if we may.
    ulimit -l unlimited 2>/dev/null || ulimit -l 65536 2>/dev/null || true
    # SIPp wants its concurrent-call limit (-l) below the open-files limit.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

sipp_call_limit() { # sipp_call_limit RATE -> -l value, as in run-options.sh
    local limit=$(($1 * 10)) nofile
    nofile="$(ulimit -n)"
    if [[ "$nofile" != unlimited ]] && ((limit > nofile - 100)); then
        limit=$((nofile > 200 ? nofile - 100 : 100))
    fi
    echo "$limit"
}

# ---------------------------------------------------------------- ports
# Hex ports of every bound UDP socket, from /proc (no ss/netstat needed).
udp_port_in_use() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v p=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 }
                      END { exit !found }' /proc/net/udp /proc/net/udp6 2>/dev/null
}

free_udp_port() { # free_udp_port START [EXCLUDE...]
    local p x skip
    for ((p = $1; p < $1 + 2000 && p < 65536; p++)); do
        skip=0
        for x in "${@:2}"; do [[ "$p" == "$x" ]] && skip=1; done
        ((skip)) && continue
        udp_port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free UDP port from $1"
}

# ---------------------------------------------------------------- CPU
CLK_TCK="$(getconf CLK_TCK)"

# PIDs of ROOT and all its descendants (from the ppid field of /proc/*/stat).
proc_tree_pids() {
    local root="$1" f line rest pid
    local -A kids=()
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        pid="${line%% *}"
        rest="${line##*) }" # drop "pid (comm) ", comm may hold spaces
        rest="${rest#* }"   # drop state: ppid is next
        kids[${rest%% *}]+=" $pid"
    done
    local queue=("$root") out=() p
    while ((${#queue[@]})); do
        p="${queue[0]}"
        queue=("${queue[@]:1}")
        [[ -r "/proc/$p/stat" ]] || continue
        out+=("$p")
        # shellcheck disable=SC2206 # split on purpose
        [[ -z "${kids[$p]:-}" ]] || queue+=(${kids[$p]})
    done
    echo "${out[*]}"
}

# utime+stime+cutime+cstime, in clock ticks, summed over a process tree: all
# threads of every process, plus children already reaped by a member.
tree_cpu_ticks() {
    local total=0 p stat
    for p in $(proc_tree_pids "$1"); do
        stat="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        stat="${stat##*) }"
        # shellcheck disable=SC2086 # split on purpose
        set -- $stat
        # After the cut, field 1 is state (stat field 3): utime..cstime are 14..17.
        total=$((total + ${12} + ${13} + ${14} + ${15}))
    done
    echo "$total"
}

# On-CPU nanoseconds (first field of /proc/PID/task/TID/schedstat) summed
# over every thread of the tree: the same time as utime+stime, without the
# 1/CLK_TCK truncation per process that matters for short runs of a
# many-process server. Empty when the kernel has no schedstat.
tree_cpu_ns() {
    local p f v total=0 seen=0
    for p in $(proc_tree_pids "$1"); do
        for f in /proc/"$p"/task/*/schedstat; do
            { read -r v _ <"$f"; } 2>/dev/null || continue
            total=$((total + v)) seen=1
        done
    done
    ((seen)) && echo "$total" || echo ""
}

# ---------------------------------------------------------------- sipedge
# resolve_sipedge: sets SIPEDGE_BIN (building it unless told not to).
# Returns 1 (after logging why) when no binary can be had.
resolve_sipedge() {
    [[ -z "${SIPEDGE_CMD:-}" ]] || { log "sipedge command from SIPEDGE_CMD (no build)"; return 0; }
    if [[ -n "${SIPEDGE_BIN:-}" ]]; then
        [[ -x "$SIPEDGE_BIN" ]] || { log "SIPEDGE_BIN=$SIPEDGE_BIN is not an executable file"; return 1; }
        log "sipedge binary from SIPEDGE_BIN=$SIPEDGE_BIN (no build)"
        return 0
    fi
    SIPEDGE_BIN="${CARGO_TARGET_DIR:-$LT_ROOT/target}/release/sipedge"
    if [[ "${SIPEDGE_NO_BUILD:-0}" != 1 ]]; then
        if [[ -f "$HOME/.cargo/env" ]] && ! command -v cargo >/dev/null 2>&1; then
            # shellcheck disable=SC1091 # rustup's env file, outside the repo
            . "$HOME/.cargo/env"
        fi
        command -v cargo >/dev/null 2>&1 || { log "cargo not found (bash tests/run.sh deps installs it)"; return 1; }
        log "cargo build --release"
        (cd "$LT_ROOT" && cargo build --release >&2) || { log "cargo build --release failed"; return 1; }
    fi
    [[ -x "$SIPEDGE_BIN" ]] || { log "$SIPEDGE_BIN not found; run cargo build --release"; return 1; }
}

# server_cmd KIND IP PORT WORKERS RUNDIR -> the command line, for bash -c "exec ..."
server_cmd() {
    local kind="$1" ip="$2" port="$3" workers="$4" rundir="$5" cmd
    case "$kind" in
    sipedge)
        if [[ -n "${SIPEDGE_CMD:-}" ]]; then
            cmd="${SIPEDGE_CMD//\{PORT\}/$port}"
            cmd="${cmd//\{SHARDS\}/$workers}"
            cmd="${cmd//\{IP\}/$ip}"
        else
            printf -v cmd '%q --listen udp:%s:%s --shards %s --control off' "$SIPEDGE_BIN" "$ip" "$port" "$workers"
            # Extra flags, e.g. SIPEDGE_ARGS="--cores 0,1 --set core.foo=bar" (word-split).
            [[ -z "${SIPEDGE_ARGS:-}" ]] || cmd+=" $SIPEDGE_ARGS"
        fi
        ;;
    kamailio)
        printf -v cmd '%q %q %q %q %q' "$KAMAILIO_RUN" "$ip" "$port" "$workers" "$rundir"
        ;;
    forwarder)
        # compare-calls.sh's floor: relays to the callee at FORWARD_TO.
        printf -v cmd '%q %q %q' "$FORWARDER_BIN" "$ip:$port" "$FORWARD_TO"
        ;;
    uring-fwd)
        # compare-calls.sh's I/O floor: the same relay on sipedge's ring.
        printf -v cmd '%q %q %q' "$URING_FWD_BIN" "$ip:$port" "$FORWARD_TO"
        ;;
    *) die "unknown server kind '$kind'" ;;
    esac
    echo "$cmd"
}

# ---------------------------------------------------------------- processes
# Commands run in a network namespace through an array prefix, so that
# `"${prefix[@]}" cmd &` leaves $! = the command's own PID (ip netns exec
# execs the command; it does not fork).
ns_prefix() { # ns_prefix NAME ARRAYVAR
    local -n _arr="$2"
    if [[ -n "$1" ]]; then _arr=(ip netns exec "$1"); else _arr=(); fi
}

SERVER_PID=""
SERVER_KIND=""
# start_server KIND IP PORT WORKERS DIR NETNS: sets SERVER_PID.
start_server() {
    local kind="$1" ip="$2" port="$3" workers="$4" dir="$5" ns="$6" cmd pre=()
    cmd="$(server_cmd "$kind" "$ip" "$port" "$workers" "$dir/run")"
    ns_prefix "$ns" pre
    printf '%s\n' "${pre[*]:+${pre[*]} }$cmd" >"$dir/server.cmd"
    log "starting $kind${ns:+ in netns $ns}: $cmd"
    "${pre[@]}" bash -c "exec $cmd" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    SERVER_KIND="$kind"
}

server_alive() { [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; }

# stop_server -> 0 if the server (and every process of its tree) exited
# within STOP_TIMEOUT_S (default 5) of SIGTERM; stragglers get SIGKILL.
stop_server() {
    [[ -n "$SERVER_PID" ]] || return 0
    local pid="$SERVER_PID" tree i p rc=0
    SERVER_PID=""
    tree="$(proc_tree_pids "$pid")"
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    for ((i = 0; i < ${STOP_TIMEOUT_S:-5} * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$SERVER_KIND (pid $pid) still running ${STOP_TIMEOUT_S:-5} s after SIGTERM; sending SIGKILL"
        rc=1
    fi
    # Only the processes of the tree recorded above, by PID.
    for p in $tree; do
        if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
    done
    wait "$pid" 2>/dev/null || true
    return "$rc"
}

# probe_options IP PORT UA_IP NETNS: does the server answer an OPTIONS?
probe_options() {
    local ip="$1" port="$2" ua_ip="$3" ns="$4" pre=()
    ns_prefix "$ns" pre
    if command -v sipsak >/dev/null 2>&1; then
        timeout 2 "${pre[@]}" sipsak -H "$ua_ip" -s "sip:$ip:$port" >/dev/null 2>&1
    else
        timeout 3 "${pre[@]}" sipp "$ip:$port" -sf "$OPTIONS_XML" -m 1 -i "$ua_ip" \
            -nostdin -timeout 2s -timeout_error >/dev/null 2>&1
    fi
}

# wait_ready IP PORT UA_IP NETNS DIR: up to 10 s for an answer to OPTIONS.
wait_ready() {
    local i
    for ((i = 0; i < 100; i++)); do
        server_alive || { tail -n 30 "$5/server.log" >&2; log "$SERVER_KIND exited during start-up"; return 1; }
        probe_options "$1" "$2" "$3" "$4" && return 0
        sleep 0.1
    done
    tail -n 30 "$5/server.log" >&2
    log "$SERVER_KIND did not answer OPTIONS on udp:$1:$2 within 10 s"
    return 1
}

# ---------------------------------------------------------------- capture
CAP_PID=""
# start_capture NETNS IFACE PORT FILE: tcpdump of the server's UDP port.
start_capture() {
    local ns="$1" ifc="$2" port="$3" file="$4" pre=() i
    ns_prefix "$ns" pre
    # -w - : written by the shell, so tcpdump's AppArmor profile and its
    # privilege drop do not matter; -B: a 64 MiB ring against drops.
    "${pre[@]}" tcpdump -i "$ifc" -n -s 0 --time-stamp-precision nano -B 65536 \
        -w - "udp port $port" >"$file" 2>"$file.log" &
    CAP_PID=$!
    for ((i = 0; i < 50; i++)); do
        grep -q 'listening on' "$file.log" 2>/dev/null && return 0
        kill -0 "$CAP_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$file.log" >&2
    stop_capture
    return 1
}

# stop_capture -> prints the number of packets tcpdump says the kernel dropped
stop_capture() {
    [[ -n "$CAP_PID" ]] || return 0
    local pid="$CAP_PID" i
    CAP_PID=""
    # tcpdump reads the kernel ring (TPACKET_V3) a block at a time, and a
    # block is handed over when full or after its 1 s timeout; SIGINT stops
    # the loop at once, so wait for the last partial block first.
    sleep "${CAPTURE_FLUSH_S:-1.5}"
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- SIPp
# sipp_stats STATCSV: shell assignments S_* from the last line of SIPp's
# -trace_stat CSV (columns picked by name, as in run-options.sh).
sipp_stats() {
    awk -F';' -v q="'" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { last = $0 }
    END {
        n = split(last, v, ";")
        printf "S_OK=%d\n",      v[col["SuccessfulCall(C)"]]
        printf "S_FAIL=%d\n",    v[col["FailedCall(C)"]]
        printf "S_UNEXP=%d\n",   v[col["FailedUnexpectedMessage(C)"]]
        printf "S_REGEXP=%d\n",  v[col["FailedRegexpDoesntMatch(C)"]]
        printf "S_OOC=%d\n",     v[col["OutOfCallMsgs(C)"]]
        printf "S_DEAD=%d\n",    v[col["DeadCallMsgs(C)"]]
        printf "S_RETRANS=%d\n", v[col["Retransmissions(C)"]]
        printf "S_TIMEOUT=%d\n", v[col["FailedMaxUDPRetrans(C)"]] + v[col["FailedTimeoutOnRecv(C)"]]
        printf "S_CREATED=%d\n", v[col["TotalCallCreated"]]
        printf "S_RATE=" q "%s" q "\n", v[col["CallRate(C)"]]
        printf "S_FATAL=%d\n",   v[col["FatalErrors(C)"]]
    }' "$1"
}

# "times" prints "XmY.ZZZs XmY.ZZZs" per line; line 2 is the children (sipp).
sipp_cpu_s() {
    awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
        printf "%.3f", t }' "$1" 2>/dev/null || true
}

# SIPP_BASE: flags of every SIPp run of the REGISTER scenario.
sipp_base_args() { # sipp_base_args IP PORT UA_IP UA_PORT -> prints nothing, sets SIPP_BASE
    # shellcheck disable=SC2054 # the comma belongs to the -default_behaviors value
    SIPP_BASE=("$1:$2" -sf "$REGISTER_XML" -i "$3" -p "$4" -nostdin
        -default_behaviors abortunexp,pingreply -buff_size 8388608 -max_recv_loops 10000)
}

# first_reply MESSAGES_LOG: the first final (non-1xx) SIP message SIPp
# received, from its -trace_msg log.
first_reply() {
    awk '/message received/ { on = 1; started = 0; n = 0; next }
         on && /^--------------------/ { if (n && msg !~ /^SIP\/2\.0 1[0-9][0-9] /) { printf "%s", msg; exit } on = 0; msg = ""; n = 0; next }
         on { sub(/\r$/, ""); if (started || $0 != "") { started = 1; msg = msg $0 "\n"; n++ } }
         END { if (on && n && msg !~ /^SIP\/2\.0 1[0-9][0-9] /) printf "%s", msg }' "$1" 2>/dev/null
}

# probe_register DIR: one REGISTER (AOR prefix "probe") with -trace_msg; the
# reply lands in DIR/probe-reply.txt. Returns SIPp's exit status.
probe_register() {
    local dir="$1" pre=() rc=0
    ns_prefix "$UA_NS" pre
    sipp_base_args "$SRV_IP" "$SRV_PORT" "$UA_IP" "$UA_PORT"
    (cd "$dir" && timeout 40 "${pre[@]}" sipp "${SIPP_BASE[@]}" -key aor_prefix probe -m 1 \
        -timeout 35s -timeout_error -trace_msg -message_file "$dir/probe-messages.log" \
        -trace_err -error_file "$dir/probe-errors.log") >"$dir/probe-sipp.out" 2>&1 || rc=$?
    first_reply "$dir/probe-messages.log" >"$dir/probe-reply.txt"
    return "$rc"
}

# ---------------------------------------------------------------- measure
# Results: RES["kind.field"]. Inputs (globals): SRV_IP SRV_PORT (empty: pick a
# free one from 5070) SRV_NS UA_IP UA_PORT (empty: pick) UA_NS CAP_NS CAP_IF
# RATE COUNT WORKERS OUT, and EXPECT_RECEIVED (natlab: the NAT's public IP
# that must appear as received="sip:IP:port" in the probe's 200).
declare -A RES=()

lt_fail() { # lt_fail KIND WHY
    RES[$1.errors]+="${RES[$1.errors]:+; }$2"
    log "FAIL ($1): $2"
}

lt_measure() {
    local kind="$1" dir port uaport pre=() rc cpu0 cpu1 ns0 ns1="" nproc sipp_rc=0 limit
    dir="$OUT/$kind"
    mkdir -p "$dir/run"
    RES[$kind.status]=run
    RES[$kind.errors]=""

    if [[ "$kind" == sipedge ]] && ! resolve_sipedge; then
        lt_fail "$kind" "no sipedge binary (build failed?)"
        return 0
    fi
    port="${SRV_PORT_FIXED:-$(free_udp_port 5070)}"
    uaport="${UA_PORT_FIXED:-$(free_udp_port $((port + 1)) "$port")}"
    SRV_PORT="$port" UA_PORT="$uaport"
    RES[$kind.addr]="udp:$SRV_IP:$SRV_PORT"

    start_server "$kind" "$SRV_IP" "$SRV_PORT" "$WORKERS" "$dir" "$SRV_NS"
    if ! wait_ready "$SRV_IP" "$SRV_PORT" "$UA_IP" "$UA_NS" "$dir"; then
        lt_fail "$kind" "server did not start (see $dir/server.log)"
        stop_server || true
        return 0
    fi
    log "$kind pid $SERVER_PID answers OPTIONS on udp:$SRV_IP:$SRV_PORT"

    # One REGISTER first: its 200 is kept and checked, and a server that does
    # not register (e.g. answers 501) is not loaded with COUNT failures.
    rc=0
    probe_register "$dir" || rc=$?
    RES[$kind.probe]="$(head -n 1 "$dir/probe-reply.txt" 2>/dev/null || true)"
    if ((rc != 0)); then
        lt_fail "$kind" "probe REGISTER failed: ${RES[$kind.probe]:-no reply} (see $dir/probe-*)"
        if [[ "${FORCE_LOAD:-0}" != 1 ]]; then
            stop_server || lt_fail "$kind" "did not stop within ${STOP_TIMEOUT_S:-5} s of SIGTERM"
            RES[$kind.status]=skipped
            return 0
        fi
    fi
    if [[ -n "${EXPECT_RECEIVED:-}" ]]; then
        check_received "$kind" "$dir/probe-reply.txt"
    fi

    if [[ "${LATENCY_CAPTURE:-1}" == 1 ]]; then
        start_capture "$CAP_NS" "$CAP_IF" "$SRV_PORT" "$dir/capture.pcap" ||
            lt_fail "$kind" "tcpdump did not start (LATENCY_CAPTURE=0 runs without it)"
    fi

    limit="$(sipp_call_limit "$RATE")"
    ns_prefix "$UA_NS" pre
    sipp_base_args "$SRV_IP" "$SRV_PORT" "$UA_IP" "$UA_PORT"
    local sipp_pin=()
    [[ -z "${SIPP_CPUS:-}" ]] || sipp_pin=(taskset -c "$SIPP_CPUS")
    nproc="$(proc_tree_pids "$SERVER_PID" | wc -w)"
    RES[$kind.procs]="$nproc"
    cpu0="$(tree_cpu_ticks "$SERVER_PID")"
    ns0="$(tree_cpu_ns "$SERVER_PID")"
    log "sipp: $COUNT REGISTERs at $RATE/s from udp:$UA_IP:$UA_PORT${UA_NS:+ (netns $UA_NS)}; results in $dir"
    (
        cd "$dir"
        rc=0
        "${pre[@]}" "${sipp_pin[@]}" sipp "${SIPP_BASE[@]}" -key aor_prefix u \
            -r "$RATE" -m "$COUNT" -l "$limit" \
            -timeout "$((COUNT / RATE + 60))s" -timeout_error \
            -trace_stat -stf "$dir/stat.csv" -fd 1 \
            -trace_screen -screen_file "$dir/screen.log" \
            -trace_err -error_file "$dir/errors.log" \
            -trace_rtt -rtt_freq 1 || rc=$?
        times >"$dir/sipp.times"
        exit "$rc"
    ) >"$dir/sipp.out" 2>&1 || sipp_rc=$?
    if server_alive; then
        cpu1="$(tree_cpu_ticks "$SERVER_PID")"
        ns1="$(tree_cpu_ns "$SERVER_PID")"
    else
        cpu1=""
        lt_fail "$kind" "server died during the run (see $dir/server.log)"
    fi
    stop_capture
    stop_server || lt_fail "$kind" "did not stop within ${STOP_TIMEOUT_S:-5} s of SIGTERM"
    RES[$kind.sipp_rc]="$sipp_rc"
    mv "$dir"/register_*_rtt.csv "$dir/sipp-rtt.csv" 2>/dev/null || true

    lt_collect "$kind" "$dir" "$cpu0" "$cpu1"
    if [[ -n "$ns0" && -n "$ns1" && "${RES[$kind.ok]:-0}" -gt 0 ]]; then
        RES[$kind.ns_s]="$(awk -v t=$((ns1 - ns0)) 'BEGIN { printf "%.3f", t / 1e9 }')"
        RES[$kind.ns_per_k]="$(awk -v t=$((ns1 - ns0)) -v n="${RES[$kind.ok]}" 'BEGIN { printf "%.4f", t / 1e9 / n * 1000 }')"
    fi
    RES[$kind.status]="done"
}

# lt_collect KIND DIR CPU0 CPU1: SIPp counters, CPU, latency -> RES.
lt_collect() {
    local kind="$1" dir="$2" cpu0="$3" cpu1="$4" v line
    if [[ ! -s "$dir/stat.csv" ]]; then
        tail -n 20 "$dir/sipp.out" >&2
        lt_fail "$kind" "sipp wrote no statistics (rc ${RES[$kind.sipp_rc]})"
        return 0
    fi
    # shellcheck disable=SC2034 # assigned by eval, read through ${!line}
    local S_OK S_FAIL S_UNEXP S_REGEXP S_OOC S_DEAD S_RETRANS S_TIMEOUT S_CREATED S_RATE S_FATAL
    eval "$(sipp_stats "$dir/stat.csv")"
    for v in OK FAIL UNEXP REGEXP OOC DEAD RETRANS TIMEOUT CREATED RATE FATAL; do
        line="S_$v"
        RES[$kind.${v,,}]="${!line}"
    done
    RES[$kind.sipp_cpu]="$(sipp_cpu_s "$dir/sipp.times")"
    if [[ -n "$cpu1" ]]; then
        RES[$kind.cpu_s]="$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')"
        RES[$kind.cpu_per_k]="$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$S_OK" \
            'BEGIN { if (n > 0) printf "%.4f", t / hz / n * 1000; else print "n/a" }')"
    fi

    ((S_FAIL == 0)) || lt_fail "$kind" "$S_FAIL failed REGISTER(s) ($S_TIMEOUT timed out, $S_UNEXP unexpected replies, $S_REGEXP 200s without Contact expires=); see $dir/errors.log"
    ((S_OOC == 0)) || lt_fail "$kind" "$S_OOC out-of-call message(s); see $dir/errors.log"
    ((S_OK == COUNT)) || lt_fail "$kind" "$S_OK of $COUNT REGISTERs got their 200"
    ((S_FATAL == 0)) || lt_fail "$kind" "SIPp reported $S_FATAL fatal error(s)"
    [[ "${RES[$kind.sipp_rc]}" == 0 ]] || lt_fail "$kind" "sipp exited with ${RES[$kind.sipp_rc]}"

    # Latency: the capture when there is one (microsecond resolution), and
    # SIPp's own rtt CSV (4 ms ticks) for reference.
    # shellcheck disable=SC2034 # assigned by eval, read through ${!line}
    local LAT_SRC LAT_N LAT_P50_MS LAT_P90_MS LAT_P99_MS LAT_P999_MS LAT_MAX_MS LAT_MEAN_MS \
        LAT_REQUESTS LAT_UNANSWERED LAT_PACKETS LAT_STATUSES LAT_NON_SIP
    if [[ -s "$dir/capture.pcap" ]]; then
        if eval "$(python3 "$LATENCY_PY" --dump "$dir/latency-us.txt" pcap "$dir/capture.pcap" --port "$SRV_PORT")"; then
            for v in SRC N P50_MS P90_MS P99_MS P999_MS MAX_MS MEAN_MS REQUESTS UNANSWERED STATUSES NON_SIP; do
                line="LAT_$v"
                RES[$kind.lat_${v,,}]="${!line}"
            done
        else
            lt_fail "$kind" "could not read $dir/capture.pcap"
        fi
        RES[$kind.cap_drops]="$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$dir/capture.pcap.log" | head -n 1)"
        if [[ "${KEEP_PCAP:-0}" != 1 ]]; then rm -f "$dir/capture.pcap"; fi
    fi
    if [[ -s "$dir/sipp-rtt.csv" ]] &&
        eval "$(python3 "$LATENCY_PY" --prefix RTT_ sipp-rtt "$dir/sipp-rtt.csv")"; then
        RES[$kind.rtt_p50]="$RTT_P50_MS" RES[$kind.rtt_p99]="$RTT_P99_MS" RES[$kind.rtt_max]="$RTT_MAX_MS"
    fi
    if [[ -z "${RES[$kind.lat_src]:-}" && -n "${RES[$kind.rtt_p50]:-}" ]]; then
        # No capture: fall back to SIPp's figures.
        RES[$kind.lat_src]="sipp-rtt" RES[$kind.lat_n]="$RTT_N"
        RES[$kind.lat_p50_ms]="$RTT_P50_MS" RES[$kind.lat_p90_ms]="$RTT_P90_MS"
        RES[$kind.lat_p99_ms]="$RTT_P99_MS" RES[$kind.lat_p999_ms]="$RTT_P999_MS"
        RES[$kind.lat_max_ms]="$RTT_MAX_MS" RES[$kind.lat_mean_ms]="$RTT_MEAN_MS"
    fi
}

# check_received KIND REPLYFILE: the 200 must carry
# received="sip:$EXPECT_RECEIVED:<port>" on its Contact, and where the Via
# carries rport=N the port must be the same N.
check_received() {
    local kind="$1" reply="$2" contact via recv_port rport
    contact="$(grep -i -E '^(contact|m)[[:space:]]*:' "$reply" || true)"
    via="$(grep -i -E '^(via|v)[[:space:]]*:' "$reply" | head -n 1 || true)"
    recv_port="$(grep -o -i -E "received=\"sip:${EXPECT_RECEIVED//./\\.}:[0-9]+\"" <<<"$contact" |
        head -n 1 | sed -E 's/.*:([0-9]+)"$/\1/' || true)"
    RES[$kind.reply_lines]="$(printf '%s\n%s' "$via" "$contact")"
    if [[ -z "$recv_port" ]]; then
        RES[$kind.received]="MISSING"
        lt_fail "$kind" "200 OK Contact lacks received=\"sip:$EXPECT_RECEIVED:<port>\" (see $reply)"
        return 0
    fi
    RES[$kind.received]="$EXPECT_RECEIVED:$recv_port"
    rport="$(grep -o -i -E ';rport=[0-9]+' <<<"$via" | head -n 1 | cut -d= -f2 || true)"
    if [[ -z "$rport" ]]; then
        log "WARNING ($kind): the 200's Via carries no rport value to cross-check the port"
    elif [[ "$rport" != "$recv_port" ]]; then
        lt_fail "$kind" "received port $recv_port differs from the Via rport=$rport in the same 200"
    fi
    log "$kind: 200 OK carries received=\"sip:$EXPECT_RECEIVED:$recv_port\""
}

# ---------------------------------------------------------------- report
ratio() { # ratio A B -> A/B with 2 decimals, or "-" if either is not a number
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "-" }'
}

median() { # median NUMBER... -> their median (the mean of the middle two for an even count)
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# lt_print_table TITLE KIND...: side by side; a ratio column when both
# sipedge and kamailio were measured.
lt_print_table() {
    local title="$1" k
    shift
    local kinds=("$@") both=0
    [[ " ${kinds[*]} " == *" sipedge "* && " ${kinds[*]} " == *" kamailio "* ]] && both=1
    echo
    echo "=== $title ==="
    local hdr
    hdr="$(printf '  %-30s' "")"
    for k in "${kinds[@]}"; do hdr+="$(printf ' %22s' "$k")"; done
    ((both)) && hdr+="$(printf ' %18s' "sipedge/kamailio")"
    echo "$hdr"

    row() { # row LABEL FIELD [ratio]
        local label="$1" field="$2" r="${3:-}" line
        line="$(printf '  %-30s' "$label")"
        for k in "${kinds[@]}"; do line+="$(printf ' %22s' "${RES[$k.$field]:--}")"; done
        if ((both)) && [[ -n "$r" ]]; then
            line+="$(printf ' %18s' "$(ratio "${RES[sipedge.$field]:-}" "${RES[kamailio.$field]:-}")")"
        fi
        echo "$line"
    }
    row "Server address" addr
    row "Server processes (tree)" procs
    row "REGISTER sent" created
    row "200 OK received" ok
    row "Failed REGISTERs" fail
    row "  of which timed out" timeout
    row "  unexpected reply" unexp
    row "  200 without expires=" regexp
    row "Out-of-call messages" ooc
    row "Retransmissions" retrans
    row "Achieved rate (cps)" rate
    row "Server CPU (user+sys) s" cpu_s ratio
    row "Server CPU s per 1000 REG" cpu_per_k ratio
    row "  same from schedstat (ns)" ns_per_k ratio
    row "Latency source" lat_src
    row "  requests timed" lat_n
    row "  p50 ms" lat_p50_ms ratio
    row "  p90 ms" lat_p90_ms ratio
    row "  p99 ms" lat_p99_ms ratio
    row "  p99.9 ms" lat_p999_ms ratio
    row "  max ms" lat_max_ms ratio
    row "  capture drops (kernel)" cap_drops
    row "Non-SIP datagrams (keepalives)" lat_non_sip
    row "SIPp rtt p50/p99 ms (4ms tick)" rtt_pair
    row "SIPp CPU s" sipp_cpu
    [[ -z "${EXPECT_RECEIVED:-}" ]] || row "received=\"sip:...\" in 200" received
    for k in "${kinds[@]}"; do
        local verdict
        if [[ -n "${RES[$k.errors]:-}" ]]; then verdict="FAIL"; else verdict="PASS"; fi
        RES[$k.verdict]="$verdict"
    done
    row "Result" verdict
    echo
    for k in "${kinds[@]}"; do
        [[ -z "${RES[$k.probe]:-}" ]] || printf '  %-9s probe reply: %s\n' "$k:" "${RES[$k.probe]}"
        [[ -z "${RES[$k.reply_lines]:-}" ]] || printf '%s\n' "${RES[$k.reply_lines]}" | sed "s/^/            /"
        [[ -z "${RES[$k.errors]:-}" ]] || printf '  %-9s FAIL: %s\n' "$k:" "${RES[$k.errors]}"
    done
    if ((both)); then
        echo
        printf '  Headline ratios (sipedge/kamailio, lower is better): CPU per 1000 REGISTER %s, p99 %s\n' \
            "$(ratio "${RES[sipedge.cpu_per_k]:-}" "${RES[kamailio.cpu_per_k]:-}")" \
            "$(ratio "${RES[sipedge.lat_p99_ms]:-}" "${RES[kamailio.lat_p99_ms]:-}")"
    fi
    echo "  Files: $OUT/<server>/{stat.csv,screen.log,errors.log,sipp.out,sipp-rtt.csv,latency-us.txt,probe-reply.txt,server.log}"
    echo
}

# rtt_pair is derived for the table.
lt_finish_fields() {
    local k
    for k in "$@"; do
        if [[ -n "${RES[$k.rtt_p50]:-}" ]]; then
            RES[$k.rtt_pair]="${RES[$k.rtt_p50]}/${RES[$k.rtt_p99]}"
        fi
    done
}
