#!/usr/bin/env bash
# Runs the cargo-fuzz targets. Exits non-zero when any target crashes, panics, times out or
# fails to build.
#
#   fuzz/run.sh smoke          replay each target's corpus (seeded by seed.sh), then fuzz
#                              each for FUZZ_SMOKE_SECONDS (default 10; 0 = replay only)
#   fuzz/run.sh long SECONDS   fuzz each target for SECONDS (one after the other)
#
# Works on the stable toolchain: with the default FUZZ_SANITIZER=none cargo-fuzz passes no
# -Z flag. FUZZ_SANITIZER=address (or another cargo-fuzz sanitizer) needs -Zsanitizer, so the
# script sets RUSTC_BOOTSTRAP=1 for it and builds into its own target dir. The first build
# compiles arrow/parquet with coverage instrumentation: about 9 minutes on 2 cores.
# Needs `cargo install cargo-fuzz` (0.13) and a C++ compiler (libfuzzer-sys builds libFuzzer).
# Runs every target `cargo fuzz list` shows; FUZZ_TARGETS="decode_csv" restricts them.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

usage() {
    echo "usage: $0 smoke | long SECONDS" >&2
    exit 2
}

mode="${1:-}"
case "$mode" in
    smoke) seconds="${FUZZ_SMOKE_SECONDS:-10}" ;;
    long)
        seconds="${2:-}"
        [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage
        ;;
    *) usage ;;
esac

if ! cargo fuzz --version > /dev/null 2>&1; then
    echo "run.sh: cargo-fuzz is missing; install it with: cargo install cargo-fuzz" >&2
    exit 2
fi

read -r -a targets <<< "${FUZZ_TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"
sanitizer="${FUZZ_SANITIZER:-none}"
build_args=(--sanitizer "$sanitizer")
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
    build_args+=(--target-dir "$here/target/$sanitizer")
fi
# -timeout: one input taking this long is a hang, reported like a crash.
fuzz_args=(-timeout=10)

for t in "${targets[@]}"; do
    if [ -z "$(ls -A "corpus/$t" 2> /dev/null)" ]; then
        ./seed.sh || exit 1
        break
    fi
done
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
done

cargo fuzz build "${build_args[@]}" || exit 1

failed=()
for t in "${targets[@]}"; do
    echo "=== $t: $mode"
    ok=1
    if [ "$mode" = smoke ]; then
        cargo fuzz run "${build_args[@]}" "$t" "corpus/$t" -- "${fuzz_args[@]}" -runs=0 || ok=0
    fi
    if [ "$ok" = 1 ] && [ "$seconds" -gt 0 ]; then
        cargo fuzz run "${build_args[@]}" "$t" "corpus/$t" -- "${fuzz_args[@]}" \
            -max_total_time="$seconds" -print_final_stats=1 || ok=0
    fi
    if [ "$ok" = 0 ]; then
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "run.sh: FAILED: ${failed[*]}" >&2
    echo "Inputs are in fuzz/artifacts/<target>/. Minimize one with" >&2
    echo "  cd fuzz && cargo fuzz tmin ${build_args[*]} <target> artifacts/<target>/<file>" >&2
    echo "then save it under rust/logflow-core/tests/fuzz_regressions/<target>/." >&2
    exit 1
fi
echo "run.sh: ${targets[*]}: no crash"
