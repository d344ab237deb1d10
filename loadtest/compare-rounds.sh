#!/usr/bin/env bash
# The REGISTER comparison repeated, for a ratio that outlives the noise of
# a shared machine: one run of compare-register.sh measures each server
# once, minutes apart, and on a small VM either side can move by 15%.
#
# Usage: loadtest/compare-rounds.sh [ROUNDS=5] [RATE=2000] [COUNT=40000] [WORKERS=2]
#
# Each round measures both servers with compare-register.sh --only, the
# order alternating between rounds (sipedge first, then Kamailio first, ...),
# and prints the round's CPU per 1000 REGISTERs for each and their ratio;
# the last line is the median ratio. Exit status: non-zero when a run
# failed. The environment of compare-register.sh applies.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROUNDS="${1:-${ROUNDS:-5}}" RATE="${2:-${RATE:-2000}}" COUNT="${3:-${COUNT:-40000}}" WORKERS="${4:-${WORKERS:-2}}"
for v in ROUNDS RATE COUNT WORKERS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROUNDS] [RATE] [COUNT] [WORKERS]" >&2; exit 2; }
done

# cpu_per_1000 KIND -> the server's CPU s per 1000 REGISTERs, from one run.
cpu_per_1000() {
    local out
    out="$("$SCRIPT_DIR/compare-register.sh" "$RATE" "$COUNT" "$WORKERS" --only "$1" 2>/dev/null)" || {
        echo "compare-register.sh --only $1 failed:" >&2
        echo "$out" | tail -n 20 >&2
        return 1
    }
    echo "$out" | awk '/Server CPU s per 1000 REG/ { print $NF }'
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
median="$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
echo "median CPU ratio sipedge/kamailio over $ROUNDS rounds ($COUNT REGISTERs at $RATE/s, $WORKERS workers): $median"
