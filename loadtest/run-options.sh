#!/usr/bin/env bash
# SIPp OPTIONS load test against sipedge.
#
# Usage: loadtest/run-options.sh [RATE=5000] [DURATION_S=30] [SHARDS=2]
#
# Builds sipedge in release mode, starts it on a free UDP port on 127.0.0.1,
# waits until it answers OPTIONS, then drives RATE*DURATION_S OPTIONS through
# SIPp (loadtest/options.xml) at RATE per second. Prints SIPp's final counts,
# the response times and the CPU time the server used during the run. Exits
# non-zero if any call failed, any unexpected message was seen, SIPp did not
# finish every call, or the server did not exit within 2 s of SIGTERM.
#
# Environment:
#   SIPEDGE_BIN   binary to run instead of target/release/sipedge (no build)
#   SIPEDGE_CMD   full server command instead of the binary; "{PORT}" is
#                 replaced by the chosen UDP port, "{SHARDS}" by SHARDS
#                 (no build). Run through `bash -c "exec ..."`, so the PID
#                 measured is the server itself.
#                 Example: SIPEDGE_CMD='python3 /tmp/responder.py --port {PORT}'
#   SIPEDGE_ARGS  extra flags appended to the sipedge command line
#                 (e.g. "--cores 2,3"); ignored with SIPEDGE_CMD
#   SIPEDGE_NO_BUILD=1   skip `cargo build --release`
#   SIPEDGE_PORT  UDP port for the server (default: 5070, or the next free one)
#   SIPP_PORT     local UDP port for SIPp (default: next free one after the server)
#   LOADTEST_OUT  where to keep SIPp's CSV, screen, error and server logs
#                 (default: target/loadtest/options-<timestamp>)
set -euo pipefail

RATE="${1:-5000}"
DURATION_S="${2:-30}"
SHARDS="${3:-2}"

for v in RATE DURATION_S SHARDS; do
    if ! [[ "${!v}" =~ ^[1-9][0-9]*$ ]]; then
        echo "run-options.sh: $v must be a positive integer, got '${!v}'" >&2
        echo "usage: $0 [RATE=5000] [DURATION_S=30] [SHARDS=2]" >&2
        exit 2
    fi
done

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
SCENARIO="$SCRIPT_DIR/options.xml"
CALLS=$((RATE * DURATION_S))
HOST=127.0.0.1

log() { printf '[run-options] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v sipp >/dev/null 2>&1 || die "sipp not found (Debian: apt-get install sip-tester)"

# io_uring (glommio) needs locked memory; raise the soft limit if we may.
ulimit -l unlimited 2>/dev/null || ulimit -l 65536 2>/dev/null || true
# SIPp wants its concurrent-call limit (-l) below the open-files limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CALL_LIMIT=$((RATE * 10))
NOFILE="$(ulimit -n)"
if [[ "$NOFILE" != unlimited ]] && ((CALL_LIMIT > NOFILE - 100)); then
    CALL_LIMIT=$((NOFILE > 200 ? NOFILE - 100 : 100))
fi

# ---------------------------------------------------------------- build
if [[ -n "${SIPEDGE_CMD:-}" ]]; then
    log "server command from SIPEDGE_CMD (no build)"
elif [[ -n "${SIPEDGE_BIN:-}" ]]; then
    [[ -x "$SIPEDGE_BIN" ]] || die "SIPEDGE_BIN=$SIPEDGE_BIN is not an executable file"
    log "server binary from SIPEDGE_BIN=$SIPEDGE_BIN (no build)"
else
    SIPEDGE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/sipedge"
    if [[ "${SIPEDGE_NO_BUILD:-0}" != 1 ]]; then
        log "cargo build --release"
        (cd "$ROOT" && cargo build --release)
    fi
    [[ -x "$SIPEDGE_BIN" ]] || die "$SIPEDGE_BIN not found; run cargo build --release"
fi

# ---------------------------------------------------------------- ports
# Hex ports of every bound UDP socket, from /proc (no ss/netstat needed).
udp_port_in_use() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v p=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 }
                      END { exit !found }' /proc/net/udp /proc/net/udp6 2>/dev/null
}

free_udp_port() { # free_udp_port START [EXCLUDE]
    local p
    for ((p = $1; p < $1 + 2000 && p < 65536; p++)); do
        [[ "$p" == "${2:-}" ]] && continue
        udp_port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free UDP port from $1"
}

PORT="${SIPEDGE_PORT:-$(free_udp_port 5070)}"
SIPP_PORT="${SIPP_PORT:-$(free_udp_port $((PORT + 1)) "$PORT")}"

OUT="${LOADTEST_OUT:-${CARGO_TARGET_DIR:-$ROOT/target}/loadtest/options-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# ---------------------------------------------------------------- server
if [[ -n "${SIPEDGE_CMD:-}" ]]; then
    SERVER_CMD="${SIPEDGE_CMD//\{PORT\}/$PORT}"
    SERVER_CMD="${SERVER_CMD//\{SHARDS\}/$SHARDS}"
else
    printf -v SERVER_CMD '%q --listen udp:%s:%s --shards %s --control off' "$SIPEDGE_BIN" "$HOST" "$PORT" "$SHARDS"
    # Extra flags, e.g. SIPEDGE_ARGS="--cores 2,3 --set core.foo=bar" (word-split).
    [[ -z "${SIPEDGE_ARGS:-}" ]] || SERVER_CMD+=" $SIPEDGE_ARGS"
fi

SERVER_PID=""
stop_server() { # stop_server -> 0 if it exited within 2 s of SIGTERM
    [[ -n "$SERVER_PID" ]] || return 0
    local pid="$SERVER_PID" i
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    log "server (pid $pid) still running 2 s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
}
trap 'stop_server || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting: $SERVER_CMD"
bash -c "exec $SERVER_CMD" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!

server_alive() { kill -0 "$SERVER_PID" 2>/dev/null; }

probe() {
    if command -v sipsak >/dev/null 2>&1; then
        timeout 2 sipsak -H "$HOST" -s "sip:$HOST:$PORT" >/dev/null 2>&1
    else
        timeout 3 sipp "$HOST:$PORT" -sf "$SCENARIO" -m 1 -i "$HOST" -p "$SIPP_PORT" \
            -nostdin -timeout 2s -timeout_error >/dev/null 2>&1
    fi
}

ready=0
for ((i = 0; i < 100; i++)); do # up to ~10 s
    server_alive || { cat "$OUT/server.log" >&2; die "server exited during start-up"; }
    if probe; then ready=1; break; fi
    sleep 0.1
done
if [[ $ready != 1 ]]; then
    tail -n 50 "$OUT/server.log" >&2
    die "server did not answer OPTIONS on udp:$HOST:$PORT within 10 s"
fi
log "server pid $SERVER_PID answers on udp:$HOST:$PORT"

# utime + stime of the server process (all threads), in clock ticks.
cpu_ticks() {
    local stat
    stat="$(cat "/proc/$1/stat")" || return 1
    stat="${stat##*) }" # drop "pid (comm) ", comm may hold spaces
    # shellcheck disable=SC2086 # split on purpose
    set -- $stat
    # After the cut, field 1 is state (stat field 3): utime is 14, stime 15.
    echo $((${12} + ${13}))
}
CLK_TCK="$(getconf CLK_TCK)"
CPU0="$(cpu_ticks "$SERVER_PID")"

# ---------------------------------------------------------------- sipp
log "sipp: $CALLS OPTIONS at $RATE/s (~${DURATION_S} s), $SHARDS shard(s), results in $OUT"
SIPP_RC=0
(
    cd "$OUT"
    rc=0
    sipp "$HOST:$PORT" -sf "$SCENARIO" \
        -r "$RATE" -m "$CALLS" -l "$CALL_LIMIT" \
        -i "$HOST" -p "$SIPP_PORT" \
        -nostdin -default_behaviors abortunexp,pingreply -timeout "$((DURATION_S + 60))s" -timeout_error \
        -buff_size 8388608 -max_recv_loops 10000 \
        -trace_stat -stf "$OUT/stat.csv" -fd 1 \
        -trace_screen -screen_file "$OUT/screen.log" \
        -trace_err -error_file "$OUT/errors.log" || rc=$?
    # This subshell's only child was sipp, so the children line of `times`
    # is sipp's own CPU time.
    times >"$OUT/sipp.times"
    exit "$rc"
) >"$OUT/sipp.out" 2>&1 || SIPP_RC=$?

if server_alive; then
    CPU1="$(cpu_ticks "$SERVER_PID")"
else
    CPU1=""
fi
SERVER_OK=1
server_alive || { log "server died during the run"; SERVER_OK=0; }
if ! stop_server; then SERVER_OK=0; fi

# ---------------------------------------------------------------- report
[[ -s "$OUT/stat.csv" ]] || { tail -n 40 "$OUT/sipp.out" >&2; die "sipp wrote no statistics (rc $SIPP_RC)"; }

# Last line of the CSV holds the final cumulative values; pick columns by name.
# Times are "HH:MM:SS:usec"; convert to milliseconds.
eval "$(awk -F';' -v q="'" '
    function ms(t,  a) { split(t, a, ":"); return sprintf("%.3f", ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4] / 1000) }
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { last = $0 }
    END {
        n = split(last, v, ";")
        printf "S_OK=%d\n",      v[col["SuccessfulCall(C)"]]
        printf "S_FAIL=%d\n",    v[col["FailedCall(C)"]]
        printf "S_UNEXP=%d\n",   v[col["FailedUnexpectedMessage(C)"]]
        printf "S_OOC=%d\n",     v[col["OutOfCallMsgs(C)"]]
        printf "S_DEAD=%d\n",    v[col["DeadCallMsgs(C)"]]
        printf "S_RETRANS=%d\n", v[col["Retransmissions(C)"]]
        printf "S_TIMEOUT=%d\n", v[col["FailedMaxUDPRetrans(C)"]] + v[col["FailedTimeoutOnRecv(C)"]]
        printf "S_CREATED=%d\n", v[col["TotalCallCreated"]]
        printf "S_RATE=" q "%s" q "\n",    v[col["CallRate(C)"]]
        printf "S_RT_MS=" q "%s" q "\n",   ms(v[col["ResponseTime1(C)"]])
        printf "S_RTSD_MS=" q "%s" q "\n", ms(v[col["ResponseTime1StDev(C)"]])
        printf "S_FATAL=%d\n",   v[col["FatalErrors(C)"]]
    }' "$OUT/stat.csv")"

# Response-time repartition, as SIPp printed it on exit.
REPARTITION="$(awk '/Average Response Time Repartition 1/ { on = 1; next }
                    on && /Average Call Length Repartition/ { exit }
                    on { print }' "$OUT/screen.log" 2>/dev/null || true)"

echo
echo "=== SIPp OPTIONS load test: $CALLS calls at $RATE/s, $SHARDS shard(s), udp:$HOST:$PORT ==="
printf '  %-24s %s\n' \
    "Calls created" "$S_CREATED / $CALLS" \
    "Successful call" "$S_OK" \
    "Failed call" "$S_FAIL" \
    "  of which timed out" "$S_TIMEOUT" \
    "Unexpected messages" "$S_UNEXP" \
    "Out-of-call messages" "$S_OOC" \
    "Dead-call messages" "$S_DEAD (late answers to retransmissions; informational)" \
    "Retransmissions" "$S_RETRANS" \
    "Achieved call rate" "$S_RATE cps" \
    "Response time mean" "$S_RT_MS ms (SIPp resolution is 1 ms)" \
    "Response time stdev" "$S_RTSD_MS ms" \
    "sipp exit code" "$SIPP_RC"
if [[ -n "$REPARTITION" ]]; then
    echo "  Response time repartition:"
    printf '%s\n' "$REPARTITION"
fi
if [[ -n "$CPU1" ]]; then
    CPU_S="$(awk -v t=$((CPU1 - CPU0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')"
    CPU_PER_K="$(awk -v t=$((CPU1 - CPU0)) -v hz="$CLK_TCK" -v n="$S_OK" \
        'BEGIN { if (n > 0) printf "%.4f", t / hz / n * 1000; else print "n/a" }')"
    printf '  %-24s %s\n' \
        "Server CPU (user+sys)" "$CPU_S s during the run (${CLK_TCK} Hz ticks)" \
        "Server CPU per 1000" "$CPU_PER_K s per 1000 OPTIONS"
fi
# "times" prints "XmY.ZZZs XmY.ZZZs" per line; line 2 is the children (sipp).
SIPP_CPU="$(awk 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
        printf "%.3f", t }' "$OUT/sipp.times" 2>/dev/null || true)"
if [[ -n "$SIPP_CPU" ]]; then
    printf '  %-24s %s\n' "SIPp CPU (user+sys)" "$SIPP_CPU s (SIPp is single-threaded: near the elapsed time means SIPp, not the server, is the limit)"
fi
echo "  Files: $OUT/{stat.csv,screen.log,errors.log,sipp.out,server.log}"
echo

fail=0
((S_FAIL == 0)) || { log "FAIL: $S_FAIL failed call(s)"; fail=1; }
((S_UNEXP == 0 && S_OOC == 0)) || { log "FAIL: unexpected messages ($S_UNEXP in call, $S_OOC out of call); see $OUT/errors.log"; fail=1; }
((S_OK == CALLS)) || { log "FAIL: $S_OK of $CALLS calls succeeded"; fail=1; }
((S_FATAL == 0)) || { log "FAIL: SIPp reported $S_FATAL fatal error(s)"; fail=1; }
if ((SIPP_RC != 0)); then
    log "FAIL: sipp exited with $SIPP_RC (0 = all calls succeeded, 1 = some failed, other = error)"
    if [[ -s "$OUT/errors.log" ]]; then
        log "first lines of $OUT/errors.log:"
        head -n 30 "$OUT/errors.log" >&2
    else
        tail -n 20 "$OUT/sipp.out" >&2
    fi
    fail=1
fi
((SERVER_OK == 1)) || { log "FAIL: server died or did not stop within 2 s of SIGTERM"; tail -n 20 "$OUT/server.log" >&2; fail=1; }
if ((fail)); then
    exit 1
fi
log "PASS"
