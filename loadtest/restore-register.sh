#!/usr/bin/env bash
# Registers COUNT distinct AORs with SIPp, reports the server's memory per
# binding, then restarts it three ways and reports what came back:
#   db_mode 2: SIGTERM + restart  (all bindings expected back)
#   db_mode 2: kill -9 + restart  (all but the last timer_interval expected)
#   db_mode 1: kill -9 + restart  (all bindings expected back)
# with the reload time sipedge logs. Counts come from the control API
# (stats: usrloc:location-contacts).
#
# Usage: loadtest/restore-register.sh [COUNT=100000] [RATE=4000] [SHARDS=2]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COUNT="${1:-100000}" RATE="${2:-4000}" SHARDS="${3:-2}"
PORT="${SIPEDGE_PORT:-5080}" CTL="${SIPEDGE_CONTROL_PORT:-5081}" SIPP_PORT="${SIPP_PORT:-5082}"
BIN="${SIPEDGE_BIN:-target/release/sipedge}"
[[ -n "${SIPEDGE_BIN:-}" ]] || cargo build --release --quiet
OUT="$(mktemp -d /tmp/sipedge-restore.XXXXXX)"
DATA="$OUT/data"
PID=""
trap '[[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; true' EXIT

start() { # mode
    "$BIN" --listen "udp:127.0.0.1:$PORT" --shards "$SHARDS" --control "127.0.0.1:$CTL" \
        --set "usrloc.db_mode=$1" --set "usrloc.db_path=$DATA" --set "registrar.max_expires=7200" \
        2>>"$OUT/server.log" &
    PID=$!
    for _ in $(seq 100); do
        curl -sf -d '{"jsonrpc":"2.0","method":"core.version","id":1}' "http://127.0.0.1:$CTL/RPC" >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "server did not start" >&2; exit 1
}
contacts() {
    sleep 1.2 # counters are published once a second
    curl -s -d '{"jsonrpc":"2.0","method":"stats.get_statistics","params":["usrloc:location-contacts"],"id":1}' \
        "http://127.0.0.1:$CTL/RPC" | sed -n 's/.*location-contacts = \([0-9]*\).*/\1/p'
}
rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$PID/status"; }
reload_line() { grep 'restored' "$OUT/server.log" | tail -1 | sed 's/.*location store [^:]*: //'; }


run_sipp() {
    local xml rc=0; xml="$(pwd)/loadtest/register.xml"
    (cd "$OUT" && sipp "127.0.0.1:$PORT" -sf "$xml" -key aor_prefix u -r "$RATE" -m "$COUNT" \
        -i 127.0.0.1 -p "$SIPP_PORT" -nostdin -timeout "$((COUNT / RATE + 60))s" -l "$((RATE * 4))" \
        -default_behaviors abortunexp >/dev/null 2>&1) || rc=$?
    echo "sipp exit $rc (0: every REGISTER got its 200)"
}

echo "== $COUNT REGISTERs at $RATE/s, $SHARDS shards, db_mode 2"
rm -rf "$DATA"; start 2
before=$(rss_kb)
run_sipp
n=$(contacts); after=$(rss_kb)
echo "bindings: $n; RSS $before KiB -> $after KiB: $(( (after - before) * 1024 / (n > 0 ? n : 1) )) bytes per binding"

echo "== SIGTERM + restart (db_mode 2)"
kill -TERM "$PID"; wait "$PID" || true; start 2
echo "restored $(contacts) of $n; $(reload_line)"

echo "== kill -9 + restart (db_mode 2: the last timer_interval may be lost)"
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; start 2
echo "restored $(contacts) of $n; $(reload_line)"

echo "== db_mode 1: $COUNT REGISTERs, kill -9 + restart"
kill -TERM "$PID"; wait "$PID" || true
rm -rf "$DATA"; start 1
run_sipp
n=$(contacts)
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; start 1
echo "restored $(contacts) of $n; $(reload_line)"
kill -TERM "$PID"; wait "$PID" || true; PID=""
echo "logs: $OUT/server.log"
