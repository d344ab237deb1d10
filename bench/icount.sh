#!/usr/bin/env bash
# Instructions per message for each fixture (bench/icount.rs), from two
# callgrind runs (1,000 and 11,000 iterations): the difference removes
# start-up cost. Then the same for a whole call (bench/call_icount.rs,
# 1,000 and 3,000 calls), counting only the engine's entry points, not the
# UAs' message building: instructions per call.
# Usage: bench/icount.sh   (needs valgrind: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."

# bench_bin NAME: builds the bench target and prints its executable.
bench_bin() {
  cargo bench --bench "$1" --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import sys,json
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]==sys.argv[1] and m.get("executable"): print(m["executable"])' "$1" | tail -1
}

# count ARGS...: instructions callgrind counts for one run.
count() {
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1
  grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
  rm -f "$out"
}

bin=$(bench_bin icount)
[[ -n "$bin" ]] || { echo "icount bench did not build" >&2; exit 1; }
printf '%-22s %12s\n' fixture instr/msg
for f in bench/fixtures/*.sip; do
  a=$(count "$bin" "$f" 1000); b=$(count "$bin" "$f" 11000)
  printf '%-22s %12d\n' "$(basename "$f" .sip)" $(( (b - a) / 10000 ))
done

call_bin=$(bench_bin call_icount)
[[ -n "$call_bin" ]] || { echo "call_icount bench did not build" >&2; exit 1; }
toggles=(--toggle-collect='call_icount::handle' --toggle-collect='call_icount::recycle'
  --toggle-collect='call_icount::timeout')
a=$(count "${toggles[@]}" "$call_bin" 1000); b=$(count "${toggles[@]}" "$call_bin" 3000)
printf '%-22s %12d\n' "call (instr/call)" $(( (b - a) / 2000 ))
