#!/usr/bin/env bash
# Run every sipedge test stage. The one command to run on a fresh Debian box:
#
#   bash tests/run.sh                 # all stages
#   bash tests/run.sh clippy test     # only the named stages, in order
#
# Stages: deps fmt clippy test doc loadtest fuzz
#   deps      install sipp (sip-tester), sipsak and valgrind with apt-get if missing,
#             make sure cargo (with rustfmt and clippy) is available
#   fmt       cargo fmt --all -- --check
#   clippy    cargo clippy --all-targets -- -D warnings
#   test      cargo test --all-targets
#   doc       cargo test --doc (skipped when the package has no library target)
#   loadtest  loadtest/run-options.sh 2000 5 2: a short SIPp OPTIONS smoke test,
#             the SIPp call scenarios, and one short run of each measuring
#             tool (compare-calls.sh's I/O floor, bench/icount-calls.sh)
#   fuzz      fuzz/run.sh ${FUZZ_SECONDS:-20}, when fuzz/run.sh exists
#
# Environment: FUZZ_SECONDS (default 20); SIPEDGE_NO_INSTALL=1 never installs
# anything (fails instead); CI=true is accepted and changes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ALL_STAGES=(deps fmt clippy test doc loadtest fuzz)
if (($#)); then
    STAGES=("$@")
    for s in "${STAGES[@]}"; do
        [[ " ${ALL_STAGES[*]} " == *" $s "* ]] || {
            echo "tests/run.sh: unknown stage '$s' (stages: ${ALL_STAGES[*]})" >&2
            exit 2
        }
    done
else
    STAGES=("${ALL_STAGES[@]}")
fi

STAGE=""
STARTED=$SECONDS
banner() {
    STAGE="$1"
    shift
    printf '\n==================== [%s] %s ====================\n' "$STAGE" "$*"
}
finish() {
    local rc=$?
    if ((rc != 0)); then
        printf '\nsipedge tests: stage "%s" FAILED (exit %d) after %ds\n' "${STAGE:-setup}" "$rc" $((SECONDS - STARTED)) >&2
    fi
}
trap finish EXIT
die() { echo "tests/run.sh: $*" >&2; exit 1; }

# Root runs apt-get directly; others need sudo.
SUDO=()
if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi
APT_UPDATED=0
apt_install() {
    [[ "${SIPEDGE_NO_INSTALL:-0}" != 1 ]] || die "missing: $* (SIPEDGE_NO_INSTALL=1, not installing)"
    command -v apt-get >/dev/null 2>&1 || die "missing: $*; install them with your package manager"
    if [[ "$(id -u)" != 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "missing: $*; run as root or install sudo"
    fi
    if ((APT_UPDATED == 0)); then
        "${SUDO[@]}" apt-get update
        APT_UPDATED=1
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

stage_deps() {
    banner deps "system packages, Rust toolchain, limits"
    if ! command -v sipp >/dev/null 2>&1 || ! command -v sipsak >/dev/null 2>&1; then
        apt_install sip-tester sipsak
    fi
    # The NAT lab test (tests/natlab.rs): namespaces, MASQUERADE, python3.
    local lab=()
    command -v ip >/dev/null 2>&1 || lab+=(iproute2)
    command -v iptables >/dev/null 2>&1 || lab+=(iptables)
    command -v python3 >/dev/null 2>&1 || lab+=(python3)
    ((${#lab[@]} == 0)) || apt_install "${lab[@]}"
    # bench/icount-calls.sh in the loadtest stage runs sipedge under callgrind.
    command -v valgrind >/dev/null 2>&1 || apt_install valgrind
    # Rust links with the system C toolchain, and glommio builds C code.
    if ! command -v cc >/dev/null 2>&1; then
        apt_install build-essential
    fi
    if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
        # shellcheck disable=SC1091 # rustup's env file, outside the repo
        . "$HOME/.cargo/env"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        # Debian's own rustc is too old for edition 2024: use rustup.
        [[ "${SIPEDGE_NO_INSTALL:-0}" != 1 ]] || die "cargo not found; install Rust with https://rustup.rs"
        command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
        echo "cargo not found: installing the stable toolchain with rustup"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
            sh -s -- -y --profile minimal --component rustfmt,clippy
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    if command -v rustup >/dev/null 2>&1; then
        cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
        cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
    fi
    local v
    v="$(sipp -v 2>&1 || true)"
    v="${v#*SIPp v}"
    echo "sipp:   v${v%%[[:space:]]*}"
    v="$(sipsak -V 2>&1 || true)"
    echo "sipsak: ${v%%$'\n'*}"
    echo "cargo:  $(cargo --version)"
    echo "rustc:  $(rustc --version)"
    echo "kernel: $(uname -r)"
    echo "memlock (ulimit -l): $(ulimit -l) KiB, nofile (ulimit -n): $(ulimit -n)"
}

# Tool lookups the later stages need even when deps is not run.
ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -f "$HOME/.cargo/env" ]]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found (run the deps stage, or install Rust with https://rustup.rs)"
}

stage_fmt() {
    banner fmt "cargo fmt --all -- --check"
    cargo fmt --all -- --check
}

stage_clippy() {
    banner clippy "cargo clippy --all-targets -- -D warnings"
    cargo clippy --all-targets -- -D warnings
}

stage_test() {
    banner test "cargo test --all-targets"
    cargo test --all-targets
}

stage_doc() {
    banner doc "cargo test --doc"
    # Doc tests exist only for library targets; cargo refuses --doc without one.
    if cargo metadata --no-deps --format-version 1 |
        grep -Eq '"kind":\[[^]]*"(lib|rlib|proc-macro)"'; then
        cargo test --doc
    else
        echo "no library target: no doc tests to run (skipped)"
    fi
}

stage_loadtest() {
    banner loadtest "loadtest/run-options.sh 2000 5 2 (SIPp OPTIONS smoke test)"
    bash loadtest/run-options.sh 2000 5 2
    # The call conformance suite: call, busy, cancel, unknown user and no
    # answer (fr_inv_timer shortened to 3 s so it fits a CI run).
    banner loadtest "loadtest/call-scenarios.sh sipedge 50 (SIPp call flows, NOANSWER=1)"
    NOANSWER=1 SIPEDGE_ARGS="--set tm.fr_inv_timer=3000 --set usrloc.db_mode=0" bash loadtest/call-scenarios.sh sipedge 50
    # The measuring tools still run (their numbers are not checked): the
    # I/O floor of compare-calls.sh, and instructions per call under
    # callgrind.
    banner loadtest "loadtest/compare-calls.sh 200 5 2 --only uring-fwd (the I/O floor relays calls)"
    MAX_RATES="" bash loadtest/compare-calls.sh 200 5 2 --only uring-fwd
    banner loadtest "bench/icount-calls.sh 100 300 (sipedge under callgrind)"
    SIPEDGE_NO_BUILD=1 bash bench/icount-calls.sh 100 300
}

stage_fuzz() {
    if [[ -f fuzz/run.sh ]]; then
        banner fuzz "fuzz/run.sh ${FUZZ_SECONDS:-20}"
        bash fuzz/run.sh "${FUZZ_SECONDS:-20}"
    else
        banner fuzz "fuzz/run.sh not present (skipped)"
    fi
}

# io_uring (glommio) needs locked memory: glommio refuses to start below
# 512 KiB, and registers per-shard buffers beyond that.
ulimit -l unlimited 2>/dev/null || ulimit -l 65536 2>/dev/null || ulimit -l "$(ulimit -H -l)" 2>/dev/null || true
MEMLOCK="$(ulimit -l)"
if [[ "$MEMLOCK" != unlimited ]] && ((MEMLOCK < 512)); then
    echo "WARNING: ulimit -l is ${MEMLOCK} KiB; glommio needs at least 512 KiB (see tuning/README.md)" >&2
fi

# The deps stage installs sipp and sipsak: tests that drive them must not
# skip themselves here (tests/common/mod.rs tool_missing).
export SIPEDGE_REQUIRE_TOOLS=1

for s in "${STAGES[@]}"; do
    [[ "$s" == deps ]] || ensure_cargo
    "stage_$s"
done

STAGE=""
printf '\n%s stage(s) in %ds: %s\n' "${#STAGES[@]}" $((SECONDS - STARTED)) "${STAGES[*]}"
if (($#)); then
    echo "sipedge tests: selected stages passed (${STAGES[*]})"
else
    echo "sipedge tests: all stages passed"
fi
