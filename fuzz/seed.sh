#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the bundled samples (tests/data/csv/) and the
# csv-spectrum conformance files (${LOGFLOW_CONFORMANCE:-../shared/conformance}, relative to
# the repository root). Each seed is stored as-is (its first byte then picks the reader
# options) and once more behind a few option bytes, so the fuzzer starts from valid CSV under
# several dialects. The JSON targets get JSON and JSON Lines samples written here and the
# JSONTestSuite parsing cases ($conformance/jsontestsuite/test_parsing/), the same way.
# Safe to re-run: seeds are overwritten, fuzzer-found inputs kept.
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

# JSON targets. Option bytes (see rust/logflow-core/tests/support/json_fuzz_checks.rs):
# decode_json reads two: 00c0 everything found, strict, default sizes; 0508 JSON hint,
# permissive, 2-byte chunks, 1-row batches; 1550 JSON, permissive, strict schema, 3-byte
# chunks, 2-row batches, 16-byte records; 2ab0 JSON Lines, quarantine, evolve, 64-byte
# chunks, 7-row batches, 64-byte records; bec4 JSON Lines hint, unparsable values as nulls,
# fixed schema, flattened one level, records path `items`. decode_jsonl_lines reads one:
# 00 merge, 1-byte chunks, 1-row batches; 05 strict schema, 2-byte chunks; 2e evolve,
# 5-byte chunks, 32-byte records; ff fixed schema, 4096-byte chunks, 32-byte records.
# decode_json_chunked reads two: 0000 1-row batches from 1-byte chunks; 4012 unparsable
# values as nulls, 3 rows, 3 bytes; 3022 flattened, 3 rows, 7 bytes; 0c3e records path
# `items`, 7 rows, 4096 bytes; 0813 top-level array, 4 rows, 3 bytes.
declare -A json_prefixes=(
    [decode_json]="00c0 0508 1550 2ab0 bec4"
    [decode_jsonl_lines]="00 05 2e ff"
    [decode_json_chunked]="0000 4012 3022 0c3e 0813"
)
samples="$(mktemp -d)"
trap 'rm -rf "$samples"' EXIT
printf '%s\n' \
    '{"id": 1, "name": "a", "x": 1.5, "ok": true, "ts": "2024-05-01T10:00:00Z", "tags": ["a", "b"], "geo": {"lat": 1.0, "lon": 2}}' \
    '{"id": 2, "name": null, "x": 2, "ok": false, "ts": "2024-05-02T11:00:00Z", "tags": [], "geo": null}' \
    '{"id": 3, "name": "c\u00e9\ud83d\ude00", "x": -0.5e3, "ok": null, "ts": null, "tags": null, "geo": {"lat": -1.5}}' \
    > "$samples/lines.jsonl"
printf '%s' '[{"a": 1, "b": "x"}, {"a": 2, "b": "y", "c": [1, 2]}, {"a": null, "b": "z"}]' > "$samples/array.json"
printf '%s' '{"meta": {"count": 2, "next": null}, "items": [{"a": 1, "d": "2024-01-02"}, {"a": 2, "d": "2024-01-03"}], "total": 2}' > "$samples/items.json"
printf '%s' '{"data": {"items": [{"k": "v1", "n": 10}, {"k": "v2", "n": 20.5}]}, "ok": true}' > "$samples/data-items.json"
printf '%s' '{"a":1}{"a":2} {"a":3}' > "$samples/values.json"
printf '%s\n' 1 '"x"' '[1,2]' '{"a":1}' null true > "$samples/scalars.jsonl"
printf '\xef\xbb\xbf{"a": 1, "b": "x"}\r\n\r\n  \r\n{"a": 2, "b": "y"}\r\n' > "$samples/crlf-bom.jsonl"
printf '%s\n' '{"a": 1}' '{"a": 2}' '{"a": 4.5, "b": 1}' '{"a": "five", "c": {"d": [1, {"e": null}]}}' '{"a": {"x": 1}}' > "$samples/evolving.jsonl"
printf '[\n  {\n    "a": 1,\n    "s": "q\\"uote"\n  },\n  {\n    "a": 2\n  }\n]\n' > "$samples/pretty.json"
printf '%s\n' '{"a": 1}' '{"a": 2,}' '{"a": 3}' 'not json' '{"a": "4"}' > "$samples/bad-line.jsonl"
json_sources=("$samples"/*)
if compgen -G "$conformance/jsontestsuite/test_parsing/*.json" > /dev/null; then
    # The few cases over 64 KiB (100 000 brackets) would make libFuzzer's inputs as long.
    while IFS= read -r -d '' f; do
        json_sources+=("$f")
    done < <(find "$conformance/jsontestsuite/test_parsing" -name '*.json' -size -64k -print0 | sort -z)
else
    echo "seed.sh: no JSONTestSuite files under $conformance/jsontestsuite/test_parsing; using the generated JSON samples only" >&2
fi
for target in decode_json decode_jsonl_lines decode_json_chunked; do
    dir="$here/corpus/$target"
    mkdir -p "$dir"
    for src in "${json_sources[@]}"; do
        base="$(basename "$src")"
        for p in ${json_prefixes[$target]}; do
            { printf "$(sed 's/../\\x&/g' <<< "$p")"; cat "$src"; } > "$dir/seed-$p-$base"
            n=$((n + 1))
        done
    done
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

# sources: an option byte (00 bytes, 01 seekable, 03 seekable + hash), then zip archives of
# the samples: stored and deflated members, a folder, many members.
dir="$here/corpus/sources"
mkdir -p "$dir"
if command -v python3 > /dev/null; then
    python3 - "$dir" "${sources[@]}" <<'PY'
import io, sys, zipfile
out, files = sys.argv[1], [f for f in sys.argv[2:] if f.endswith(".csv")][:8]
for method, tag in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        z.writestr("dir/", b"")
        for i, f in enumerate(files):
            z.write(f, f"dir/{i}.csv")
    for opt in (b"\x00", b"\x01", b"\x03"):
        with open(f"{out}/seed-{tag}-{opt.hex()}.zip", "wb") as w:
            w.write(opt + b.getvalue())
PY
    n=$((n + 6))
fi

# Other targets (e.g. detect) take the files as they are.
others="$(cd "$here" && cargo fuzz list 2> /dev/null | grep -vx -e decode_csv -e decode_csv_chunked -e input -e sources -e decode_json -e decode_jsonl_lines -e decode_json_chunked -e decode_xml -e decode_xml_chunked -e decode_xes -e decode_xes_chunked -e native -e decode_avro || true)"
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
