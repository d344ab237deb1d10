#!/usr/bin/env bash
# Instructions per message for each fixture, from two callgrind runs
# (1,000 and 11,000 iterations): the difference removes start-up cost.
# Usage: bench/icount.sh   (needs valgrind: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bench icount >/dev/null 2>&1 || cargo bench --bench icount --no-run
bin=$(cargo bench --bench icount --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import sys,json
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="icount" and m.get("executable"): print(m["executable"])' | tail -1)
count() {
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" >/dev/null 2>&1
  grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
  rm -f "$out"
}
printf '%-22s %12s\n' fixture instr/msg
for f in bench/fixtures/*.sip; do
  a=$(count "$f" 1000); b=$(count "$f" 11000)
  printf '%-22s %12d\n' "$(basename "$f" .sip)" $(( (b - a) / 10000 ))
done
