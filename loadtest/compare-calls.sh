#!/usr/bin/env bash
# Call load, sipedge, Kamailio and two trivial UDP forwarders side by side
# in the same run.
#
# Usage: loadtest/compare-calls.sh [RATE=500] [DURATION=60] [WORKERS=2]
#                                  [--only sipedge|kamailio|forwarder|uring-fwd]
#
# For each server, on 127.0.0.1: the callee (SIPp UAS, calls/uas-answer.xml)
# registers sip:callee1 (not with the forwarders, which have no registrar),
# then the caller (SIPp UAC, calls/uac-call.xml) places RATE calls/s for
# DURATION s through the server: INVITE, 100, 180, 200, ACK and BYE, 200,
# the ACK and BYE following the Record-Route. Servers:
#   sipedge    --shards WORKERS
#   kamailio   Debian's stock kamailio.cfg with -A WITH_NAT, -n WORKERS
#              (loadtest/kamailio/run-stock.sh)
#   forwarder  loadtest/udp-forwarder.rs: relays datagrams between caller
#              and callee, parsing nothing (it adds a Record-Route line to
#              each INVITE so the ACK and BYE come back through it): the
#              floor, what relaying the same datagrams costs.
#   uring-fwd  loadtest/uring-forwarder.rs: the same relay on sipedge's
#              own io_uring loop (runtime::ring), one thread, also sending
#              the 100 Trying a stateful proxy sends: sipedge's datagrams
#              through sipedge's kind of I/O, with no SIP work (the I/O floor).
# Reported per server: the calls and failed calls, the CPU time of the
# server's process tree per 1000 calls (/proc), the call set-up time
# INVITE→200 at the caller (SIPp rtt, p50/p90/p99/p99.9/max), and the
# highest rate of MAX_RATES that SIPp sustained for STEP_S seconds with
# under 0.1% failed calls; then the ratios sipedge/kamailio,
# sipedge/forwarder and sipedge/uring-fwd. Performance is never asserted: the exit status is
# non-zero only when a server failed calls in the main run or crashed.
#
# Environment: RATE, DURATION, WORKERS (a positional argument wins);
#   HOLD_MS (0)               pause between ACK and BYE
#   MAX_RATES ("500 1000 1500 2000 3000 4000")  rates tried for the max
#                             sustained rate, in order; "" skips the search
#   STEP_S (10)               seconds of each step of that search
#   PORT (5070) CALLER_PORT (5071) CALLEE_PORT (5072)
#   SIPEDGE_BIN, SIPEDGE_ARGS, SIPEDGE_NO_BUILD=1, KAMAILIO_* as in
#   compare-register.sh; LOADTEST_OUT=dir (default target/loadtest/calls-<timestamp>)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=compare-calls
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() {
    echo "usage: $0 [RATE=500] [DURATION=60] [WORKERS=2] [--only sipedge|kamailio|forwarder|uring-fwd]" >&2
    exit 2
}

LT_KINDS=(sipedge kamailio forwarder uring-fwd)
lt_args 3 "$@"
RATE="${POS[0]:-${RATE:-500}}"
DURATION="${POS[1]:-${DURATION:-60}}"
WORKERS="${POS[2]:-${WORKERS:-2}}"
lt_positive RATE DURATION WORKERS
HOLD_MS="${HOLD_MS:-0}"
MAX_RATES="${MAX_RATES-500 1000 1500 2000 3000 4000}"
STEP_S="${STEP_S:-10}"
PORT="${PORT:-5070}" CALLER_PORT="${CALLER_PORT:-5071}" CALLEE_PORT="${CALLEE_PORT:-5072}"
IP=127.0.0.1
CALLS="$SCRIPT_DIR/calls"
COUNT=$((RATE * DURATION))

# No capture: latency comes from SIPp's rtt CSV.
extra=()
[[ " ${KINDS[*]} " != *" forwarder "* ]] || extra+=(rustc:rustc)
LATENCY_CAPTURE=0 lt_prepare "${extra[@]}"

OUT="${LOADTEST_OUT:-${CARGO_TARGET_DIR:-$LT_ROOT/target}/loadtest/calls-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
FORWARD_TO="$IP:$CALLEE_PORT"
FORWARDER_BIN="$OUT/udp-forwarder"
if [[ " ${KINDS[*]} " == *" forwarder "* ]]; then
    rustc -O --edition 2021 -o "$FORWARDER_BIN" "$SCRIPT_DIR/udp-forwarder.rs" || die "udp-forwarder did not build"
fi
if [[ " ${KINDS[*]} " == *" sipedge "* ]]; then
    resolve_sipedge || die "no sipedge binary"
fi
URING_FWD_BIN="${CARGO_TARGET_DIR:-$LT_ROOT/target}/release/examples/uring-forwarder"
if [[ " ${KINDS[*]} " == *" uring-fwd "* ]]; then
    log "cargo build --release --example uring-forwarder"
    (cd "$LT_ROOT" && cargo build --release --example uring-forwarder >&2) || die "uring-forwarder did not build"
fi
trap 'stop_server || true; kill $(jobs -p) 2>/dev/null || true' EXIT

declare -A RES=()

# calls_run DIR RATE COUNT: runs callee and caller, leaving stat.csv and
# rtt.csv in DIR (a caller that fails shows there as failed or missing calls).
calls_run() {
    local dir="$1" rate="$2" count="$3" uas_pid limit
    mkdir -p "$dir"
    limit=$((rate * (HOLD_MS / 1000 + 10) + 100))
    (cd "$dir" && exec sipp "$IP:$PORT" -sf "$CALLS/uas-answer.xml" -i "$IP" -p "$CALLEE_PORT" -nostdin \
        -buff_size 8388608 -trace_err -error_file uas.errors.log >uas.out 2>&1) &
    uas_pid=$!
    sleep 0.3
    (cd "$dir" && timeout $((count / rate + 120)) sipp "$IP:$PORT" -sf "$CALLS/uac-call.xml" -i "$IP" \
        -p "$CALLER_PORT" -nostdin -default_behaviors all,-abortunexp -key callee callee1 -r "$rate" -m "$count" -l "$limit" -d "$HOLD_MS" \
        -buff_size 8388608 -timeout "$((count / rate + 60))s" -timeout_error \
        -trace_stat -stf stat.csv -fd 1 -trace_err -error_file uac.errors.log \
        -trace_rtt -rtt_freq 1 >uac.out 2>&1) || true
    sleep 0.5
    kill "$uas_pid" 2>/dev/null || true
    wait "$uas_pid" 2>/dev/null || true
    mv "$dir"/uac-call_*_rtt.csv "$dir/rtt.csv" 2>/dev/null || true
}

# calls_counts DIR -> "OK FAILED"
calls_counts() {
    # shellcheck disable=SC2034 # assigned by eval, only two are read
    local S_OK=0 S_FAIL=0 S_UNEXP S_REGEXP S_OOC S_DEAD S_RETRANS S_TIMEOUT S_CREATED S_RATE S_FATAL
    if [[ -s "$1/stat.csv" ]]; then eval "$(sipp_stats "$1/stat.csv")"; fi
    echo "$S_OK $S_FAIL"
}

measure() {
    local kind="$1" dir="$OUT/$1" cpu0 cpu1 ok fail r best="" n
    mkdir -p "$dir/run"
    RES[$kind.errors]=""
    start_server "$kind" "$IP" "$PORT" "$WORKERS" "$dir" ""
    if [[ "$kind" == forwarder || "$kind" == uring-fwd ]]; then
        sleep 0.3
        server_alive || { RES[$kind.errors]="did not start"; return 0; }
    else
        wait_ready "$IP" "$PORT" "$IP" "" "$dir" || { RES[$kind.errors]="did not start"; stop_server || true; return 0; }
        (cd "$dir" && sipp "$IP:$PORT" -sf "$SCRIPT_DIR/register.xml" -i "$IP" -p "$CALLEE_PORT" -nostdin \
            -key aor_prefix callee -m 1 -timeout 10s -timeout_error >register.out 2>&1) ||
            { RES[$kind.errors]="the callee could not register"; stop_server || true; return 0; }
    fi
    log "$kind: $COUNT calls at $RATE/s"
    cpu0="$(tree_cpu_ticks "$SERVER_PID")"
    calls_run "$dir/main" "$RATE" "$COUNT"
    if server_alive; then cpu1="$(tree_cpu_ticks "$SERVER_PID")"; else cpu1=""; RES[$kind.errors]+="died during the run; "; fi
    read -r ok fail <<<"$(calls_counts "$dir/main")"
    RES[$kind.ok]="$ok" RES[$kind.fail]="$fail"
    ((fail == 0 && ok == COUNT)) || RES[$kind.errors]+="$fail failed, $ok of $COUNT calls completed (see $dir/main); "
    if [[ -n "$cpu1" && "$ok" -gt 0 ]]; then
        RES[$kind.cpu_s]="$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')"
        RES[$kind.cpu_per_k]="$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v n="$ok" 'BEGIN { printf "%.4f", t / hz / n * 1000 }')"
    fi
    local RTT_N RTT_P50_MS RTT_P90_MS RTT_P99_MS RTT_P999_MS RTT_MAX_MS RTT_MEAN_MS
    if [[ -s "$dir/main/rtt.csv" ]] && eval "$(python3 "$LATENCY_PY" --prefix RTT_ sipp-rtt "$dir/main/rtt.csv")"; then
        RES[$kind.p50]="$RTT_P50_MS" RES[$kind.p90]="$RTT_P90_MS" RES[$kind.p99]="$RTT_P99_MS"
        RES[$kind.p999]="$RTT_P999_MS" RES[$kind.max]="$RTT_MAX_MS"
    fi
    # Highest sustained rate: each step STEP_S seconds, under 0.1% failed.
    for r in $MAX_RATES; do
        server_alive || break
        n=$((r * STEP_S))
        calls_run "$dir/max-$r" "$r" "$n"
        read -r ok fail <<<"$(calls_counts "$dir/max-$r")"
        log "$kind: $r/s for ${STEP_S}s: $ok ok, $fail failed"
        if ((ok > 0 && fail * 1000 < n && ok + fail >= n)); then best="$r"; else break; fi
    done
    RES[$kind.max_cps]="${best:-<${MAX_RATES%% *}}"
    [[ -n "$MAX_RATES" ]] || RES[$kind.max_cps]="-"
    stop_server || RES[$kind.errors]+="did not stop within ${STOP_TIMEOUT_S:-5} s of SIGTERM; "
}

for kind in "${KINDS[@]}"; do
    measure "$kind"
done

{
    echo
    echo "=== Call load, udp $IP: $COUNT calls at $RATE/s, hold ${HOLD_MS} ms, $WORKERS worker(s) ($(date '+%F %T'), $(nproc) CPUs, $(uname -r)) ==="
    line="$(printf '  %-34s' "")"
    for k in "${KINDS[@]}"; do line+="$(printf ' %12s' "$k")"; done
    line+="$(printf ' %18s %19s %19s' "sipedge/kamailio" "sipedge/forwarder" "sipedge/uring-fwd")"
    echo "$line"
    row() { # row LABEL FIELD [ratio]
        local l
        l="$(printf '  %-34s' "$1")"
        for k in "${KINDS[@]}"; do l+="$(printf ' %12s' "${RES[$k.$2]:--}")"; done
        if [[ -n "${3:-}" ]]; then
            l+="$(printf ' %18s %19s %19s' "$(ratio "${RES[sipedge.$2]:-}" "${RES[kamailio.$2]:-}")" \
                "$(ratio "${RES[sipedge.$2]:-}" "${RES[forwarder.$2]:-}")" \
                "$(ratio "${RES[sipedge.$2]:-}" "${RES[uring-fwd.$2]:-}")")"
        fi
        echo "$l"
    }
    row "Calls completed" ok
    row "Failed calls" fail
    row "Server CPU (user+sys) s" cpu_s ratio
    row "Server CPU s per 1000 calls" cpu_per_k ratio
    row "INVITE->200 p50 ms (SIPp rtt)" p50 ratio
    row "  p90 ms" p90 ratio
    row "  p99 ms" p99 ratio
    row "  p99.9 ms" p999 ratio
    row "  max ms" max ratio
    row "Max sustained calls/s (<0.1% fail)" max_cps ratio
    for k in "${KINDS[@]}"; do
        [[ -z "${RES[$k.errors]}" ]] || printf '  %-10s FAIL: %s\n' "$k:" "${RES[$k.errors]}"
    done
    echo "  Files: $OUT/<server>/{main,max-RATE}/{stat.csv,uac.out,uas.out,rtt.csv}, server.log"
    echo
} | tee "$OUT/summary.txt"

fail=0
for k in "${KINDS[@]}"; do [[ -z "${RES[$k.errors]}" ]] || fail=1; done
exit "$fail"
