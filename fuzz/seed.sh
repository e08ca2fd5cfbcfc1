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
# XML targets: the bundled XML and XES samples (and with LOGFLOW_CONFORMANCE, the W3C
# suite's documents), each behind a few option bytes (see xml_checks.rs): 00 strict, 1-byte
# chunks; 0b permissive, 8-byte chunks; 2e flattened, 64-byte chunks; 47 strict schema,
# 4096-byte chunks (for XES: the trace table).
xml_sources=("$root"/tests/data/xml/*)
xes_sources=("$root"/tests/data/xes/*.xes)
if [ -d "$conformance/xml-conformance/xmlconf/xmltest" ]; then
    while IFS= read -r f; do
        xml_sources+=("$f")
    done < <(find "$conformance/xml-conformance/xmlconf/xmltest" -name '*.xml' -size -8k | sort | head -400)
fi
for target in decode_xml decode_xml_chunked decode_xes decode_xes_chunked; do
    dir="$here/corpus/$target"
    mkdir -p "$dir"
    case "$target" in
        decode_xes*) files=("${xes_sources[@]}" "${xml_sources[@]:0:3}") ;;
        *) files=("${xml_sources[@]}") ;;
    esac
    for src in "${files[@]}"; do
        [ -f "$src" ] || continue
        base="$(echo "$src" | tr '/' '_' | tail -c 80)"
        for p in 00 0b 2e 47; do
            { printf "$(sed 's/../\\x&/g' <<< "$p")"; cat "$src"; } > "$dir/seed-$p-$base"
            n=$((n + 1))
        done
    done
done
# Other targets (e.g. detect) take the files as they are.
others="$(cd "$here" && cargo fuzz list 2> /dev/null | grep -vx -e decode_csv -e decode_csv_chunked -e input -e decode_xml -e decode_xml_chunked -e decode_xes -e decode_xes_chunked || true)"
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
