#!/usr/bin/env bash
# Start Debian's Kamailio with its STOCK routing script as the peer sipedge is
# measured against. Runs in the foreground and execs kamailio, so the PID of
# this script is the PID of kamailio's main process.
#
# Usage: loadtest/kamailio/run-stock.sh IP PORT WORKERS RUNDIR
#
# What it runs (nothing of the routing logic is changed):
#
#   kamailio -f /etc/kamailio/kamailio.cfg   the stock script of the Debian package
#            -A WITH_NAT                      #!define WITH_NAT: nat_uac_test("19"),
#                                             fix_nated_register(), received_avp,
#                                             nathelper keepalives (no DB, usrloc in memory)
#            -l udp:IP:PORT                   listen= (only this UDP socket)
#            -n WORKERS                       children= (UDP receiver processes)
#            -DD -E                           foreground, log to stderr
#            -m SHM_MB -M PKG_MB              memory pools (100k in-memory contacts
#                                             need more than the 64 MB default)
#            -Y RUNDIR -P RUNDIR/kamailio.pid runtime files (ctl/RPC sockets, fifo)
#                                             away from /run/kamailio, so a run never
#                                             touches a system instance
#
# Kamailio forks helper processes besides the WORKERS receivers (timers,
# ctl/RPC, TCP main, usrloc timer): a CPU measurement must add up the whole
# process tree (loadtest/lib.sh tree_cpu_ticks does).
#
# Environment:
#   KAMAILIO_BIN     kamailio binary (default: kamailio from PATH, /usr/sbin)
#   KAMAILIO_CFG     routing script (default /etc/kamailio/kamailio.cfg)
#   KAMAILIO_SHM_MB  shared memory in MB (default 1024)
#   KAMAILIO_PKG_MB  private memory per process in MB (default 16)
#   KAMAILIO_ARGS    extra command-line flags, word-split (e.g. "-A WITH_DEBUG")
set -euo pipefail

if (($# != 4)); then
    echo "usage: $0 IP PORT WORKERS RUNDIR" >&2
    exit 2
fi
IP="$1" PORT="$2" WORKERS="$3" RUNDIR="$4"

KAMAILIO_BIN="${KAMAILIO_BIN:-$(PATH="$PATH:/usr/sbin:/sbin" command -v kamailio || true)}"
[[ -n "$KAMAILIO_BIN" && -x "$KAMAILIO_BIN" ]] || {
    echo "run-stock.sh: kamailio not found (Debian: apt-get install kamailio)" >&2
    exit 1
}
KAMAILIO_CFG="${KAMAILIO_CFG:-/etc/kamailio/kamailio.cfg}"
[[ -r "$KAMAILIO_CFG" ]] || { echo "run-stock.sh: $KAMAILIO_CFG not readable" >&2; exit 1; }

mkdir -p "$RUNDIR"
# shellcheck disable=SC2086 # KAMAILIO_ARGS is split on purpose
exec "$KAMAILIO_BIN" -f "$KAMAILIO_CFG" -A WITH_NAT \
    -l "udp:$IP:$PORT" -n "$WORKERS" \
    -DD -E \
    -m "${KAMAILIO_SHM_MB:-1024}" -M "${KAMAILIO_PKG_MB:-16}" \
    -Y "$RUNDIR" -P "$RUNDIR/kamailio.pid" \
    ${KAMAILIO_ARGS:-}
