#!/usr/bin/env bash
# REGISTER through a NAT: the registrar's NAT handling, checked and measured.
#
# Usage: loadtest/natlab-register.sh [COUNT=1000] [--only sipedge|kamailio]
#
# Brings up the NAT lab (loadtest/natlab.sh: UA 192.168.77.10 in netns se-ua
# behind a MASQUERADE router se-nat, proxy 198.51.100.1 in netns se-pub),
# then for each server (sipedge, then Kamailio's stock script with WITH_NAT,
# both listening on udp:198.51.100.1:5060 inside se-pub):
#
#   1. waits until it answers OPTIONS sent from se-ua;
#   2. sends one REGISTER from se-ua with SIPp -trace_msg (Contact and Via
#      carry 192.168.77.10:5060) and checks that the 200 OK's Contact carries
#      received="sip:198.51.100.2:<port>", the address the NAT gave the UA;
#      where the 200's Via has rport=N (RFC 3581), <port> must equal N;
#   3. runs COUNT REGISTERs (distinct AORs) at RATE/s from se-ua and reports,
#      like compare-register.sh, the server's CPU per 1000 REGISTERs, the
#      failures and the response-time percentiles (capture on se-pub0, on the
#      server's side of the NAT).
#
# The lab is taken down at exit (NATLAB_KEEP=1 leaves it up to look around).
# Exit status: non-zero when a server failed a REGISTER, lacked the received
# parameter, crashed or did not stop; the table is printed regardless.
# Performance is never asserted.
#
# Environment: RATE (default 500), WORKERS (default 2), COUNT (a positional
# argument wins), NAT_RANDOM_FULLY=1 (MASQUERADE --random-fully), NATLAB_KEEP=1,
# and the variables of compare-register.sh (SIPEDGE_*, KAMAILIO_*,
# LATENCY_CAPTURE, KEEP_PCAP, FORCE_LOAD, LOADTEST_OUT, SIPEDGE_NO_INSTALL).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=natlab-register
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() {
    echo "usage: $0 [COUNT=1000] [--only sipedge|kamailio]   (env: RATE=500 WORKERS=2 NAT_RANDOM_FULLY=1 NATLAB_KEEP=1)" >&2
    exit 2
}

lt_args 1 "$@"
COUNT="${POS[0]:-${COUNT:-1000}}"
RATE="${RATE:-500}"
WORKERS="${WORKERS:-2}"
lt_positive RATE COUNT WORKERS
[[ "$(id -u)" == 0 ]] || die "needs root (network namespaces)"

lt_prepare ip:iproute2 iptables:iptables

OUT="${LOADTEST_OUT:-${CARGO_TARGET_DIR:-$LT_ROOT/target}/loadtest/natlab-register-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# Lab addresses (loadtest/natlab.sh).
SRV_NS=se-pub SRV_IP=198.51.100.1 SRV_PORT_FIXED=5060
UA_NS=se-ua UA_IP=192.168.77.10 UA_PORT_FIXED=5060
CAP_NS=se-pub CAP_IF=se-pub0
EXPECT_RECEIVED=198.51.100.2
SRV_PORT="" UA_PORT=""

cleanup() {
    stop_capture || true
    stop_server || true
    if [[ "${NATLAB_KEEP:-0}" == 1 ]]; then
        log "NATLAB_KEEP=1: lab left up (loadtest/natlab.sh down removes it)"
    else
        bash "$SCRIPT_DIR/natlab.sh" down >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$SCRIPT_DIR/natlab.sh" up
log "REGISTER through NAT: $COUNT at $RATE/s, $WORKERS worker(s), servers: ${KINDS[*]}; results in $OUT"
for kind in "${KINDS[@]}"; do
    lt_measure "$kind"
done
lt_finish_fields "${KINDS[@]}"

NAT_MODE="MASQUERADE"
[[ "${NAT_RANDOM_FULLY:-0}" != 1 ]] || NAT_MODE+=" --random-fully"
lt_print_table "REGISTER through NAT ($NAT_MODE): UA $UA_IP -> $EXPECT_RECEIVED -> udp:$SRV_IP:$SRV_PORT_FIXED, $COUNT REGISTERs at $RATE/s, $WORKERS worker(s) ($(date '+%F %T'))" \
    "${KINDS[@]}" | tee "$OUT/summary.txt"

fail=0
for kind in "${KINDS[@]}"; do
    [[ -z "${RES[$kind.errors]:-}" ]] || fail=1
done
if ((fail)); then
    log "FAIL (see above); results in $OUT"
    exit 1
fi
log "PASS; results in $OUT"
