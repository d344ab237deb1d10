#!/usr/bin/env bash
# A comparison repeated, for a ratio that outlives the noise of a shared
# machine: one run of compare-register.sh or compare-calls.sh measures each
# server once, minutes apart, and on a small VM either side can move by 15%
# (Kamailio's CPU per call by 20%).
#
# Usage: loadtest/compare-rounds.sh [ROUNDS=5] [RATE=2000] [COUNT=40000] [WORKERS=2]
#        loadtest/compare-rounds.sh calls [ROUNDS=5] [RATE=500] [DURATION=30] [WORKERS=2]
#
# Each round measures both servers with compare-register.sh --only (or
# compare-calls.sh --only, without its search for the highest rate), the
# order alternating between rounds (sipedge first, then Kamailio first,
# ...), and prints the round's CPU per 1000 REGISTERs (calls) for each and
# their ratio; the last line is the median ratio. Exit status: non-zero
# when a run failed. The environment of the script it runs applies.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=compare-rounds
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"
usage() {
    echo "usage: $0 [ROUNDS] [RATE] [COUNT] [WORKERS]   or   $0 calls [ROUNDS] [RATE] [DURATION] [WORKERS]" >&2
    exit 2
}
if [[ "${1:-}" == calls ]]; then
    shift
    WHAT=calls SCRIPT=compare-calls.sh LABEL="Server CPU s per 1000 calls"
    ROUNDS="${1:-${ROUNDS:-5}}" RATE="${2:-${RATE:-500}}" AMOUNT="${3:-${DURATION:-30}}" WORKERS="${4:-${WORKERS:-2}}"
    # The rounds compare CPU per call; the highest-rate search is skipped.
    export MAX_RATES=""
else
    WHAT=REGISTERs SCRIPT=compare-register.sh LABEL="Server CPU s per 1000 REG"
    ROUNDS="${1:-${ROUNDS:-5}}" RATE="${2:-${RATE:-2000}}" AMOUNT="${3:-${COUNT:-40000}}" WORKERS="${4:-${WORKERS:-2}}"
fi
for v in ROUNDS RATE AMOUNT WORKERS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || usage
done

# cpu_per_1000 KIND -> the server's CPU s per 1000 REGISTERs (calls), from one run.
cpu_per_1000() {
    local out
    out="$("$SCRIPT_DIR/$SCRIPT" "$RATE" "$AMOUNT" "$WORKERS" --only "$1" 2>/dev/null)" || {
        echo "$SCRIPT --only $1 failed:" >&2
        echo "$out" | tail -n 20 >&2
        return 1
    }
    # With --only the table has one server column, right after the label.
    echo "$out" | awk -v label="$LABEL" 'i = index($0, label) { $0 = substr($0, i + length(label)); print $1 }'
}

ratios=()
printf '%-6s %-10s %12s %12s %8s\n' round first sipedge kamailio ratio
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then
        first=sipedge
        s="$(cpu_per_1000 sipedge)"
        export SIPEDGE_NO_BUILD=1
        k="$(cpu_per_1000 kamailio)"
    else
        first=kamailio
        k="$(cpu_per_1000 kamailio)"
        s="$(cpu_per_1000 sipedge)"
    fi
    ratio="$(awk -v s="$s" -v k="$k" 'BEGIN { printf "%.3f", s / k }')"
    ratios+=("$ratio")
    printf '%-6s %-10s %12s %12s %8s\n' "$r" "$first" "$s" "$k" "$ratio"
done
median="$(median "${ratios[@]}")"
if [[ "$WHAT" == calls ]]; then
    echo "median CPU ratio sipedge/kamailio over $ROUNDS rounds ($RATE calls/s for $AMOUNT s, $WORKERS workers): $median"
else
    echo "median CPU ratio sipedge/kamailio over $ROUNDS rounds ($AMOUNT REGISTERs at $RATE/s, $WORKERS workers): $median"
fi
