#!/usr/bin/env bash
# Two sipedge builds side by side under the same call load: an A/B test of
# a change's CPU cost that a noisy machine cannot blur. Both servers run at
# the same time, each with its own SIPp callee and caller, so whatever slows
# the machine down slows both; the ratio of their CPU per call is far
# steadier than two runs one after the other. (On the 2-vCPU VM this was
# written on, back-to-back runs of one build moved by 20 to 50%; side by
# side, one build against itself stayed within 3%.)
#
# Usage: loadtest/ab-calls.sh BIN_A BIN_B [ROUNDS=4] [RATE=250] [DURATION=20] [SHARDS=2]
#
# Each round: both servers on 127.0.0.1 (ports 5070 and 5080, swapped
# every round so neither build keeps the same ports), the callee registered
# (register.xml), then RATE calls/s each (calls/uac-call.xml against
# calls/uas-answer.xml) for DURATION s. CPU time of each server is taken
# from /proc over the middle of the run (from 5 s in to 3 s before the
# end), and the round prints both servers' CPU ms per 1000 calls and B/A;
# the last line is the median B/A. Exit status: non-zero when a call
# failed or a server died.
#
# Environment: ENV_A, ENV_B  extra environment for each build ("VAR=1 ...");
#   ARGS_A, ARGS_B  extra sipedge arguments (default: --set usrloc.db_mode=0);
#   LOADTEST_OUT=dir (default target/loadtest/ab-<timestamp>).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=ab-calls
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

usage() {
    echo "usage: $0 BIN_A BIN_B [ROUNDS=4] [RATE=250] [DURATION=20] [SHARDS=2]" >&2
    exit 2
}
(($# >= 2)) || usage
BIN_A="$(realpath "$1")" BIN_B="$(realpath "$2")"
ROUNDS="${3:-4}" RATE="${4:-250}" DURATION="${5:-20}" SHARDS="${6:-2}"
for v in ROUNDS RATE DURATION SHARDS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || usage
done
((DURATION >= 10)) || die "DURATION must be at least 10 s (CPU is measured from 5 s in to 3 s before the end)"
[[ -x "$BIN_A" && -x "$BIN_B" ]] || die "BIN_A and BIN_B must be executables"
ensure_cmds sipp:sip-tester
CALLS="$SCRIPT_DIR/calls"
OUT="${LOADTEST_OUT:-${CARGO_TARGET_DIR:-$LT_ROOT/target}/loadtest/ab-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
IP=127.0.0.1
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

# start_side DIR BIN PORT ENV ARGS: starts a server and its callee; the
# server's pid goes to SIDE_PID, both pids to PIDS.
start_side() {
    local dir="$1" bin="$2" port="$3" envs="$4" args="$5"
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # ENV_* and ARGS_* are word lists on purpose
    env $envs "$bin" --listen "udp:$IP:$port" --shards "$SHARDS" --control off $args >"$dir/server.log" 2>&1 &
    SIDE_PID=$!
    PIDS+=("$SIDE_PID")
    SERVER_PID="$SIDE_PID" SERVER_KIND="$bin"
    wait_ready "$IP" "$port" "$IP" "" "$dir" || die "$bin did not start on $port (see $dir/server.log)"
    (cd "$dir" && sipp "$IP:$port" -sf "$SCRIPT_DIR/register.xml" -i "$IP" -p $((port + 2)) -nostdin \
        -key aor_prefix callee -m 1 -timeout 10s -timeout_error >register.out 2>&1) ||
        die "the callee could not register with $bin"
    (cd "$dir" && exec sipp "$IP:$port" -sf "$CALLS/uas-answer.xml" -i "$IP" -p $((port + 2)) -nostdin \
        -buff_size 8388608 >uas.out 2>&1) &
    PIDS+=("$!")
}

# caller DIR PORT: places RATE calls/s for DURATION s; runs in the background.
caller() {
    local dir="$1" port="$2" count=$((RATE * DURATION))
    (cd "$dir" && timeout $((DURATION + 90)) sipp "$IP:$port" -sf "$CALLS/uac-call.xml" -i "$IP" \
        -p $((port + 1)) -nostdin -default_behaviors all,-abortunexp -key callee callee1 \
        -r "$RATE" -m "$count" -l "$(sipp_call_limit "$RATE")" -buff_size 8388608 \
        -timeout "$((DURATION + 60))s" -timeout_error -trace_stat -stf stat.csv -fd 1 >uac.out 2>&1) || true
}

ratios=()
failed=0
printf '%-6s %-6s %14s %14s %8s\n' round A-port "A ms/1000" "B ms/1000" "B/A"
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then pa=5070 pb=5080; else pa=5080 pb=5070; fi
    da="$OUT/round$r/a" db="$OUT/round$r/b"
    PIDS=()
    start_side "$da" "$BIN_A" "$pa" "${ENV_A:-}" "${ARGS_A:---set usrloc.db_mode=0}"
    sa="$SIDE_PID"
    start_side "$db" "$BIN_B" "$pb" "${ENV_B:-}" "${ARGS_B:---set usrloc.db_mode=0}"
    sb="$SIDE_PID"
    caller "$da" "$pa" &
    ca=$!
    caller "$db" "$pb" &
    cb=$!
    sleep 5
    a0="$(tree_cpu_ticks "$sa")" b0="$(tree_cpu_ticks "$sb")"
    sleep $((DURATION - 8))
    a1="$(tree_cpu_ticks "$sa")" b1="$(tree_cpu_ticks "$sb")"
    wait "$ca" "$cb" || true
    for s in "$sa" "$sb"; do kill -0 "$s" 2>/dev/null || { log "round $r: a server died"; failed=1; }; done
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
    for d in "$da" "$db"; do
        S_OK=0 S_FAIL=0
        [[ -s "$d/stat.csv" ]] && eval "$(sipp_stats "$d/stat.csv")"
        ((S_FAIL == 0 && S_OK == RATE * DURATION)) || {
            log "round $r: $S_FAIL failed, $S_OK of $((RATE * DURATION)) calls completed (see $d)"
            failed=1
        }
    done
    calls=$((RATE * (DURATION - 8)))
    line="$(awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v hz="$CLK_TCK" -v n="$calls" 'BEGIN {
        printf "%14.0f %14.0f %8.3f", a / hz / n * 1e6, b / hz / n * 1e6, (a > 0 ? b / a : 0) }')"
    printf '%-6s %-6s %s\n' "$r" "$pa" "$line"
    ratios+=("$(awk '{ print $3 }' <<<"$line")")
done
printf 'median CPU ratio B/A over %d rounds: %.3f\n' "$ROUNDS" "$(median "${ratios[@]}")"
exit "$failed"
