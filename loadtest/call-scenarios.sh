#!/usr/bin/env bash
# The call conformance scenarios of loadtest/calls/, run against one server.
#
# Usage: loadtest/call-scenarios.sh [kamailio|sipedge] [COUNT=20]
#
# For each scenario the callee (SIPp UAS on 127.0.0.1:CALLEE_PORT) first
# registers sip:callee1@127.0.0.1:PORT (loadtest/register.xml), then the
# caller (SIPp UAC) places COUNT calls through the server on
# 127.0.0.1:PORT:
#   call      uac-call.xml     / uas-answer.xml  INVITE 180 200 ACK BYE 200
#   busy      uac-busy.xml     / uas-busy.xml    INVITE 486 ACK
#   cancel    uac-cancel.xml   / uas-ring.xml    INVITE 180 CANCEL 200 487 ACK
#   unknown   uac-unknown.xml  (no callee)       INVITE 404 ACK
#   noanswer  uac-noanswer.xml / uas-ring.xml    INVITE 180 ... 408 ACK
#             (only with NOANSWER=1: it lasts fr_inv_timer, 120 s)
# A scenario passes when both SIPp instances exit 0 (every call ended as
# the scenario says). Exit status: the number of failed scenarios.
# Kamailio runs its stock cfg with WITH_NAT (loadtest/kamailio/run-stock.sh).
#
# Environment: PORT (5070), CALLER_PORT (5071), CALLEE_PORT (5072),
# WORKERS (2), RATE (calls/s, 50), NOANSWER=1, and SIPEDGE_* as in
# compare-register.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=call-scenarios
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

KIND="${1:-kamailio}"
[[ "$KIND" == kamailio || "$KIND" == sipedge ]] || die "usage: $0 [kamailio|sipedge] [COUNT]"
COUNT="${2:-20}"
PORT="${PORT:-5070}" CALLER_PORT="${CALLER_PORT:-5071}" CALLEE_PORT="${CALLEE_PORT:-5072}"
WORKERS="${WORKERS:-2}" RATE="${RATE:-50}"
IP=127.0.0.1
CALLS="$SCRIPT_DIR/calls"
OUT="${LOADTEST_OUT:-$LT_ROOT/target/loadtest/calls-$KIND-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT/run"

DEPS=(sipp:sip-tester sipsak:sipsak)
[[ "$KIND" != kamailio ]] || DEPS+=(kamailio:kamailio)
ensure_cmds "${DEPS[@]}"
[[ "$KIND" != sipedge ]] || resolve_sipedge || die "no sipedge binary"
[[ "$KIND" != kamailio ]] || stop_system_kamailio
trap 'stop_server || true; kill $(jobs -p) 2>/dev/null || true' EXIT

start_server "$KIND" "$IP" "$PORT" "$WORKERS" "$OUT" ""
wait_ready "$IP" "$PORT" "$IP" "" "$OUT" || die "$KIND did not start"

sipp_run() { # sipp_run NAME SCENARIO EXTRA... -> SIPp's exit status
    local name="$1" sf="$2"
    shift 2
    (cd "$OUT" && timeout "${SIPP_TIMEOUT:-300}" sipp "$IP:$PORT" -sf "$sf" -i "$IP" -nostdin \
        -trace_err -error_file "$name.errors.log" -message_file "$name.messages.log" -trace_msg \
        "$@" >"$name.out" 2>&1)
}

register_callee() {
    sipp_run "$1.register" "$SCRIPT_DIR/register.xml" -key aor_prefix callee -m 1 -p "$CALLEE_PORT" -timeout 10s
}

failed=0
run_scenario() { # run_scenario NAME UAS|- DURATION_MS
    local name="$1" uas="$2" hold="$3" uas_pid="" rc_uac rc_uas=0 callee=callee1 uas_timeout=60s
    [[ "$name" != noanswer ]] || uas_timeout=200s
    # Never registered: the unknown-user scenario.
    [[ "$uas" != - ]] || callee="nobody$RANDOM"
    if [[ "$uas" != - ]]; then
        register_callee "$name" || { log "$name: the callee could not register"; failed=$((failed + 1)); return; }
        sipp_run "$name.uas" "$CALLS/$uas" -p "$CALLEE_PORT" -m "$COUNT" -timeout "$uas_timeout" &
        uas_pid=$!
        sleep 0.5
    fi
    set +e
    sipp_run "$name.uac" "$CALLS/uac-$name.xml" -key callee "$callee" -p "$CALLER_PORT" \
        -m "$COUNT" -r "$RATE" -d "$hold" -timeout 300s
    rc_uac=$?
    if [[ -n "$uas_pid" ]] && ((rc_uac != 0)); then
        # The calls failed: the callee would wait for calls that never come.
        pkill -f -- "sipp .*-p $CALLEE_PORT" 2>/dev/null
    fi
    if [[ -n "$uas_pid" ]]; then
        wait "$uas_pid"
        rc_uas=$?
    fi
    set -e
    if ((rc_uac == 0 && rc_uas == 0)); then
        log "$name: PASS ($COUNT calls)"
    else
        log "$name: FAIL (caller exit $rc_uac, callee exit $rc_uas; see $OUT/$name.*)"
        failed=$((failed + 1))
    fi
}

run_scenario call uas-answer.xml 200
run_scenario busy uas-busy.xml 0
run_scenario cancel uas-ring.xml 0
run_scenario unknown - 0
[[ "${NOANSWER:-0}" != 1 ]] || run_scenario noanswer uas-ring.xml 0

stop_server || log "$KIND did not stop cleanly"
log "$KIND: $failed scenario(s) failed; results in $OUT"
exit "$failed"
