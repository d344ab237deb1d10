#!/usr/bin/env bash
# Fuzz every sipedge parser for a while; any panic is a bug (DESIGN.md, "Bad input").
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     # default: 60 s, every target
#
# Works from any directory and on the stable toolchain: cargo-fuzz passes nightly-only
# rustc flags (-Zsanitizer=address, sanitizer coverage), and RUSTC_BOOTSTRAP=1 lets the
# stable compiler accept them. Each target keeps a growing corpus in fuzz/corpus/TARGET,
# seeded from tests/torture/*.sip (message) and fuzz/seeds/uri/ (uri). Exits non-zero on a
# crash, a hang (-timeout) or a build failure, and prints the path of the crashing input.
#
# Environment: FUZZ_SANITIZER (address, the default, or none for a faster build);
# SIPEDGE_NO_INSTALL=1 fails instead of installing cargo-fuzz.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
cd "$FUZZ_DIR"

SECONDS_PER_TARGET="${1:-60}"
if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]  (got '$SECONDS_PER_TARGET')" >&2
    exit 2
fi
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
    TARGETS=(message uri)
fi
SANITIZER="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    if [[ "${SIPEDGE_NO_INSTALL:-}" == 1 ]]; then
        echo "fuzz/run.sh: cargo-fuzz is missing and SIPEDGE_NO_INSTALL=1; run: cargo install cargo-fuzz --locked" >&2
        exit 1
    fi
    echo "fuzz/run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

# The stable compiler accepts -Z flags only with this; harmless on nightly.
export RUSTC_BOOTSTRAP=1

seed_corpus() {
    local target="$1" corpus="$FUZZ_DIR/corpus/$1"
    mkdir -p "$corpus"
    case "$target" in
        message)
            # The RFC 4475 torture messages; -n keeps whatever the corpus already holds.
            shopt -s nullglob
            local seeds=("$ROOT"/tests/torture/*.sip)
            shopt -u nullglob
            if ((${#seeds[@]})); then
                cp -n "${seeds[@]}" "$corpus"/
            fi
            ;;
        uri)
            cp -n "$FUZZ_DIR"/seeds/uri/* "$corpus"/
            ;;
    esac
}

# Build first, so a compile error is not mistaken for a crash.
if ! cargo fuzz build --fuzz-dir "$FUZZ_DIR" --sanitizer "$SANITIZER"; then
    echo "fuzz/run.sh: building the fuzz targets failed" >&2
    exit 1
fi

status=0
for target in "${TARGETS[@]}"; do
    seed_corpus "$target"
    log="$(mktemp)"
    echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
    # -timeout: an input that takes seconds is an unbounded parse, reported like a crash.
    if cargo fuzz run --fuzz-dir "$FUZZ_DIR" --sanitizer "$SANITIZER" "$target" \
        "$FUZZ_DIR/corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=16384 -timeout=10 2>&1 | tee "$log"; then
        echo "== $target: no crash"
    else
        status=1
        echo "== $target: FAILED" >&2
        grep -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to /crashing input: /' >&2 || true
        echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir $FUZZ_DIR --sanitizer $SANITIZER $target <crashing input>" >&2
    fi
    rm -f "$log"
done
exit "$status"
