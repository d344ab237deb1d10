#!/usr/bin/env bash
# Instructions per call of the real binary: the release build of sipedge
# under callgrind, driven by SIPp over loopback with the call scenario of
# loadtest/compare-calls.sh (INVITE/100/180/200/ACK/BYE/200, record-routed,
# callee registered). Unlike bench/icount.sh's call count, which counts the
# engine's entry points only, this counts everything the process runs in
# user space: the shard loop, the ring, the timers, the allocator. Kernel
# work is not counted (callgrind sees user space only).
#
# Two runs, with LOW and HIGH calls; (HIGH run - LOW run) / (HIGH - LOW)
# removes start-up and shutdown. The count hardly depends on the machine's
# load (repeated runs of one build agreed within 1%: how many turns the
# shard loop takes still varies a little), so a change's user-space cost
# can be read from one pair of runs where timed runs move by 20% or more.
#
# Usage: bench/icount-calls.sh [LOW=500] [HIGH=1500] [SHARDS=1]
#   RATE (default 50 calls/s: valgrind slows sipedge some 50 times).
#   SIPEDGE_BIN / SIPEDGE_NO_BUILD as for the loadtest scripts.
#   KEEP=dir keeps both callgrind outputs there (for callgrind_annotate).
# Needs valgrind and SIPp (apt-get install valgrind sip-tester).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=icount-calls
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/../loadtest/lib.sh"

LOW="${1:-500}" HIGH="${2:-1500}" SHARDS="${3:-1}" RATE="${RATE:-50}"
for v in LOW HIGH SHARDS RATE; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [LOW=500] [HIGH=1500] [SHARDS=1]"
done
((HIGH > LOW)) || die "HIGH must be above LOW"
ensure_cmds valgrind sipp:sip-tester
resolve_sipedge || die "no sipedge binary"
CALLS="$SCRIPT_DIR/../loadtest/calls"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# count N: total instructions of one sipedge run that carries N calls.
# Runs in a command substitution, a subshell: its own EXIT trap stops
# whatever it started, also when it dies half way.
count() {
    local n="$1" dir="$WORK/$1" port ua uas i out
    SPID="" UPID=""
    trap 'kill -KILL $SPID $UPID 2>/dev/null || true' EXIT
    mkdir -p "$dir"
    port="$(free_udp_port 5070)"
    ua="$(free_udp_port 5071 "$port")"
    uas="$(free_udp_port 5072 "$port" "$ua")"
    out="$dir/callgrind.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$SIPEDGE_BIN" \
        --listen "udp:127.0.0.1:$port" --shards "$SHARDS" --control off \
        --set usrloc.db_mode=0 >"$dir/server.log" 2>&1 &
    SPID=$!
    # Under valgrind start-up takes seconds: wait for the callee's
    # registration to succeed.
    for ((i = 0; i < 120; i++)); do
        kill -0 "$SPID" 2>/dev/null || { tail -20 "$dir/server.log" >&2; die "sipedge exited"; }
        if timeout 5 sipp "127.0.0.1:$port" -sf "$SCRIPT_DIR/../loadtest/register.xml" -i 127.0.0.1 \
            -p "$uas" -nostdin -key aor_prefix callee -m 1 -timeout 4s -timeout_error \
            >"$dir/reg.out" 2>&1; then
            break
        fi
        ((i < 119)) || die "the callee could not register"
    done
    sipp "127.0.0.1:$port" -sf "$CALLS/uas-answer.xml" -i 127.0.0.1 -p "$uas" -nostdin \
        >"$dir/uas.out" 2>&1 &
    UPID=$!
    sleep 0.5
    timeout $((n / RATE + 120)) sipp "127.0.0.1:$port" -sf "$CALLS/uac-call.xml" -i 127.0.0.1 \
        -p "$ua" -nostdin -key callee callee1 -r "$RATE" -m "$n" -timeout $((n / RATE + 60))s \
        >"$dir/uac.out" 2>&1 || die "SIPp failed calls (see $dir)"
    kill "$UPID" 2>/dev/null || true
    wait "$UPID" 2>/dev/null || true
    UPID=""
    # The counts are dumped while sipedge still runs (to $out.1): under
    # valgrind a SIGTERM sometimes goes unanswered, and a killed process
    # writes no profile.
    callgrind_control -d "$SPID" >/dev/null 2>&1 || die "callgrind_control could not dump sipedge's counts"
    # The totals line comes last: wait until the dump is complete.
    for ((i = 0; i < 100; i++)); do grep -qE '^(summary|totals):' "$out.1" 2>/dev/null && break; sleep 0.1; done
    kill -TERM "$SPID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
    SPID=""
    [[ -s "$out.1" ]] || die "no counts dumped (see $dir)"
    [[ -n "${KEEP:-}" ]] && mkdir -p "$KEEP" && cp "$out.1" "$KEEP/callgrind.$n.out"
    grep -E '^(summary|totals):' "$out.1" | head -1 | awk '{print $2}'
}

log "sipedge under callgrind, $SHARDS shard(s), $RATE calls/s: $LOW calls, then $HIGH"
a="$(count "$LOW")"
b="$(count "$HIGH")"
printf '%-28s %12d\n' "instructions per call" $(((b - a) / (HIGH - LOW)))
