#!/usr/bin/env bash
# REGISTER load, sipedge and Kamailio side by side in the same run.
#
# Usage: loadtest/compare-register.sh [RATE=2000] [COUNT=100000] [WORKERS=2]
#                                     [--only sipedge|kamailio]
#
# Drives the same SIPp scenario (loadtest/register.xml: one REGISTER per
# call, each for a distinct AOR, 200 expected) first against sipedge
# (--shards WORKERS), then against Debian's Kamailio running its stock
# /etc/kamailio/kamailio.cfg with -A WITH_NAT and -n WORKERS
# (loadtest/kamailio/run-stock.sh), one after the other on 127.0.0.1. For
# each server it reports the CPU time of the whole server process tree per
# 1000 REGISTERs, the failures, and the response-time percentiles
# p50/p90/p99/p99.9/max, then the sipedge/kamailio ratios. Performance is
# never asserted: the exit status is non-zero only when a server failed
# (a REGISTER not answered 200, a server that crashed or did not stop), and
# the table is printed regardless.
#
# Arguments may also come from the environment (RATE, COUNT, WORKERS); a
# positional argument wins. `--only KIND` measures one server (debugging).
#
# Environment (see also loadtest/README.md):
#   SIPEDGE_BIN, SIPEDGE_CMD ({PORT} {SHARDS} {IP}), SIPEDGE_ARGS,
#   SIPEDGE_NO_BUILD=1        as in run-options.sh
#   KAMAILIO_CFG, KAMAILIO_SHM_MB, KAMAILIO_PKG_MB, KAMAILIO_ARGS
#                             see loadtest/kamailio/run-stock.sh
#   LATENCY_CAPTURE=0         no tcpdump: percentiles from SIPp's rtt CSV
#                             (4 ms resolution) instead of the capture
#   KEEP_PCAP=1               keep capture.pcap (deleted after analysis)
#   SIPP_CPUS=LIST            pin SIPp with taskset -c LIST
#   FORCE_LOAD=1              run the load even when the probe REGISTER failed
#   LOADTEST_OUT=dir          results (default target/loadtest/register-<timestamp>)
#   SIPEDGE_NO_INSTALL=1      never apt-get install (fail instead)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=compare-register
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() {
    echo "usage: $0 [RATE=2000] [COUNT=100000] [WORKERS=2] [--only sipedge|kamailio]" >&2
    exit 2
}

lt_args 3 "$@"
RATE="${POS[0]:-${RATE:-2000}}"
COUNT="${POS[1]:-${COUNT:-100000}}"
WORKERS="${POS[2]:-${WORKERS:-2}}"
lt_positive RATE COUNT WORKERS

# shellcheck disable=SC2119 # no packages beyond the common ones
lt_prepare

OUT="${LOADTEST_OUT:-${CARGO_TARGET_DIR:-$LT_ROOT/target}/loadtest/register-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# Everything on loopback: server and SIPp on 127.0.0.1, capture on lo.
SRV_IP=127.0.0.1 SRV_NS="" UA_IP=127.0.0.1 UA_NS="" CAP_NS="" CAP_IF=lo
SRV_PORT="" UA_PORT=""
SRV_PORT_FIXED="${SIPEDGE_PORT:-}" UA_PORT_FIXED="${SIPP_PORT:-}"
EXPECT_RECEIVED=""

cleanup() {
    stop_capture || true
    stop_server || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "REGISTER load: $COUNT at $RATE/s, $WORKERS worker(s), servers: ${KINDS[*]}; results in $OUT"
for kind in "${KINDS[@]}"; do
    lt_measure "$kind"
done
lt_finish_fields "${KINDS[@]}"

lt_print_table "REGISTER load, udp 127.0.0.1: $COUNT REGISTERs at $RATE/s, $WORKERS worker(s) ($(date '+%F %T'), $(nproc) CPUs, $(uname -r))" \
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
