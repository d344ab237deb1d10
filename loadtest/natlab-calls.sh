#!/usr/bin/env bash
# Calls through a real NAT (loadtest/natlab.sh), both ways, through sipedge.
#
# Usage: loadtest/natlab-calls.sh [COUNT=10]
#
# sipedge runs in se-pub on 198.51.100.1:5060. The NATed phone is SIPp in
# se-ua on 192.168.77.10:5072, behind the MASQUERADE router (198.51.100.2);
# the public phone is SIPp in se-pub on 198.51.100.1:5072. Each phone
# registers first (its private Contact is fixed by the registrar), then:
#   inbound   the public phone calls the NATed one (calls/uac-call.xml
#             against calls/uas-answer.xml): INVITE reaches the NATed phone
#             through the NAT binding its REGISTER opened; ACK and the
#             public caller's BYE follow the Record-Route and the contact
#             alias into the NAT
#   outbound  the NATed phone calls the public one: its Contact is aliased,
#             ACK and the NATed caller's BYE reach the public phone, and
#             every response finds its way back through the NAT
# Each direction passes when both SIPp instances end every call as their
# scenario says. NAT_RANDOM_FULLY=1 uses --random-fully. Exit status: the
# number of failed directions. Needs root (network namespaces).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=natlab-calls
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

COUNT="${1:-${COUNT:-10}}"
[[ "$COUNT" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [COUNT]"
LAB="$SCRIPT_DIR/natlab.sh"
CALLS="$SCRIPT_DIR/calls"
PUB=198.51.100.1 UA=192.168.77.10 PHONE_PORT=5072 CALLER_PORT=5071
OUT="${LOADTEST_OUT:-${CARGO_TARGET_DIR:-$LT_ROOT/target}/loadtest/natlab-calls-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
ensure_cmds sipp:sip-tester
resolve_sipedge || die "no sipedge binary"
# Memory-only location table: nothing of the lab outlives it.
SIPEDGE_ARGS="${SIPEDGE_ARGS:---set usrloc.db_mode=0}"

bash "$LAB" up >"$OUT/natlab-up.log" 2>&1 || die "natlab up failed (see $OUT/natlab-up.log)"
trap 'stop_server || true; kill $(jobs -p) 2>/dev/null || true; bash "$LAB" down >/dev/null 2>&1 || true' EXIT
mkdir -p "$OUT/sipedge/run"
start_server sipedge "$PUB" 5060 2 "$OUT/sipedge" se-pub
sleep 0.5
server_alive || die "sipedge did not start (see $OUT/sipedge/server.log)"

sipp_in() { # sipp_in NS NAME IP PORT ARGS... (in $OUT)
    local ns="$1" name="$2" ip="$3" port="$4"
    shift 4
    (cd "$OUT" && timeout 120 bash "$LAB" exec "$ns" sipp "$PUB:5060" -i "$ip" -p "$port" -nostdin \
        -trace_err -error_file "$name.errors.log" -trace_msg -message_file "$name.messages.log" \
        "$@" >"$name.out" 2>&1)
}

failed=0
direction() { # direction NAME CALLEE_NS CALLEE_IP CALLER_NS CALLER_IP AOR
    local name="$1" cns="$2" cip="$3" rns="$4" rip="$5" aor="$6" uas_pid rc_uac=0 rc_uas=0
    if ! sipp_in "$cns" "$name.register" "$cip" "$PHONE_PORT" -sf "$SCRIPT_DIR/register.xml" \
        -key aor_prefix "$aor" -m 1 -timeout 10s -timeout_error; then
        log "$name: the callee did not register (see $OUT/$name.register.*)"
        failed=$((failed + 1))
        return
    fi
    sipp_in "$cns" "$name.uas" "$cip" "$PHONE_PORT" -sf "$CALLS/uas-answer.xml" -m "$COUNT" -timeout 60s &
    uas_pid=$!
    sleep 0.5
    sipp_in "$rns" "$name.uac" "$rip" "$CALLER_PORT" -sf "$CALLS/uac-call.xml" -key callee "${aor}1" \
        -m "$COUNT" -r 10 -d 100 -timeout 60s -timeout_error || rc_uac=$?
    wait "$uas_pid" || rc_uas=$?
    if ((rc_uac == 0 && rc_uas == 0)); then
        log "$name: PASS ($COUNT calls: INVITE/180/200/ACK/BYE/200 end to end)"
    else
        log "$name: FAIL (caller exit $rc_uac, callee exit $rc_uas; see $OUT/$name.*)"
        failed=$((failed + 1))
    fi
}

direction inbound ua "$UA" pub "$PUB" natphone
direction outbound pub "$PUB" ua "$UA" pubphone

stop_server || log "sipedge did not stop cleanly"
log "$failed direction(s) failed; results in $OUT"
exit "$failed"
