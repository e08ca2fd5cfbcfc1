#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the bundled samples (tests/data/csv/) and the
# csv-spectrum conformance files (${LOGFLOW_CONFORMANCE:-../shared/conformance}, relative to
# the repository root). Each seed is stored as-is (its first byte then picks the reader
# options) and once more behind a few option bytes, so the fuzzer starts from valid CSV under
# several dialects. Safe to re-run: seeds are overwritten, fuzzer-found inputs kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
conformance="${LOGFLOW_CONFORMANCE:-../shared/conformance}"
case "$conformance" in
    /*) ;;
    *) conformance="$root/$conformance" ;;
esac

sources=("$root"/tests/data/csv/*)
if compgen -G "$conformance/csv-spectrum/csvs/*.csv" > /dev/null; then
    sources+=("$conformance"/csv-spectrum/csvs/*.csv)
else
    echo "seed.sh: no csv-spectrum files under $conformance/csv-spectrum/csvs (set LOGFLOW_CONFORMANCE); using tests/data/csv only" >&2
fi

# Option bytes (see rust/logflow-core/tests/support/fuzz_checks.rs). decode_csv reads one:
# 0xc1 comma + defaults, 0xc0 sniffed delimiter, 0x01 comma + strict 1-row batches from
# 1-byte chunks, 0x61 comma, no header, permissive. decode_csv_chunked reads a second one
# (batch_rows, chunk size): 0x00 1 row / 1 byte, 0x1a 3 rows / 5 bytes, 0x2c 5 rows /
# 16 bytes, 0x3f 1 row / 4096 bytes.
declare -A prefixes=(
    [decode_csv]="c1 c0 01 61"
    [decode_csv_chunked]="c100 c11a c02c 413f 812c"
)

n=0
for target in decode_csv decode_csv_chunked; do
    dir="$here/corpus/$target"
    mkdir -p "$dir"
    for src in "${sources[@]}"; do
        [ -f "$src" ] || continue
        base="$(basename "$src")"
        cp "$src" "$dir/seed-raw-$base"
        n=$((n + 1))
        for p in ${prefixes[$target]}; do
            { printf "$(sed 's/../\\x&/g' <<< "$p")"; cat "$src"; } > "$dir/seed-$p-$base"
            n=$((n + 1))
        done
    done
done
# input: an option byte 00 (detect everything), then each file plain, gzip- and
# xz-compressed, and in UTF-16LE with a byte order mark.
dir="$here/corpus/input"
mkdir -p "$dir"
for src in "${sources[@]}"; do
    [ -f "$src" ] || continue
    base="$(basename "$src")"
    { printf '\x00'; cat "$src"; } > "$dir/seed-plain-$base"
    { printf '\x00'; gzip -c "$src"; } > "$dir/seed-gzip-$base"
    if command -v xz > /dev/null; then
        { printf '\x00'; xz -c "$src"; } > "$dir/seed-xz-$base"
    fi
    { printf '\x00\xff\xfe'; iconv -f UTF-8 -t UTF-16LE "$src" 2> /dev/null || true; } > "$dir/seed-utf16-$base"
    n=$((n + 4))
done
# decode_avro: the conformance Avro files as they are. native: the conformance Avro,
# Parquet and Arrow IPC files under 256 KiB behind option byte 00 (format detected).
mkdir -p "$here/corpus/decode_avro" "$here/corpus/native"
binaries=()
for d in arrow-testing/data/avro arrow-testing/data/parquet parquet-testing/bad_data \
    arrow-testing/data/arrow-ipc-stream/integration/1.0.0-littleendian; do
    for f in "$conformance/$d"/*; do
        [ -f "$f" ] && [ "$(wc -c < "$f")" -lt 262144 ] && binaries+=("$f")
    done
done
for f in "${binaries[@]}"; do
    base="$(basename "$f")"
    case "$base" in
        *.avro) cp "$f" "$here/corpus/decode_avro/seed-$base"; n=$((n + 1)) ;;
    esac
    { printf '\x00'; cat "$f"; } > "$here/corpus/native/seed-$base"
    n=$((n + 1))
done
# Other targets (e.g. detect) take the files as they are.
others="$(cd "$here" && cargo fuzz list 2> /dev/null | grep -vx -e decode_csv -e decode_csv_chunked -e input -e native -e decode_avro || true)"
for target in $others; do
    dir="$here/corpus/$target"
    mkdir -p "$dir"
    for src in "${sources[@]}"; do
        [ -f "$src" ] || continue
        cp "$src" "$dir/seed-raw-$(basename "$src")"
        n=$((n + 1))
    done
done
echo "seed.sh: wrote $n seed inputs under $here/corpus/"
