"""Memory stays bounded whatever the input size: a subprocess converts an input many times
larger than the bound, and its peak resident set (``VmHWM``) must stay under it.

The inputs are generated as gzip members written one after another (a valid gzip file,
read in one stream): a block of rows is compressed once and repeated, so a 1.5 GB input
takes a few MB on disk and a fraction of a second to write.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

BOUND = 256 << 20
"""The memory bound a conversion promises on this suite's machines (2 cores): 256 MiB."""
INPUT_BYTES = 6 * BOUND
"""Decompressed input: six times the bound."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's"),
]


def _csv_block() -> tuple[bytes, bytes]:
    rows = []
    for i in range(250):
        rows.append(
            f"{i},2024-01-{1 + i % 28:02d}T08:{i % 60:02d}:{(i * 7) % 60:02d},C-{i % 97},"
            f"activity number {i % 13} with some words,{i}.25,{'true' if i % 3 else 'false'},"
            f"{'x' * (i % 40)}\n"
        )
    header = b"event_id,ts,case_id,activity,amount,success,note\n"
    return header, "".join(rows).encode()


def _jsonl_block() -> tuple[bytes, bytes]:
    rows = []
    for i in range(180):
        rec = {
            "event_id": i,
            "ts": f"2024-01-{1 + i % 28:02d}T08:{i % 60:02d}:00Z",
            "case": {"id": f"C-{i % 97}", "tags": ["a", "b"][: i % 3]},
            "amount": i + 0.25,
            "note": "x" * (i % 40),
        }
        rows.append(json.dumps(rec) + "\n")
    return b"", "".join(rows).encode()


def _json_block() -> tuple[bytes, bytes, bytes]:
    """One JSON document: an array of records (each followed by a comma, the last one
    closing the array)."""
    _, lines = _jsonl_block()
    block = b"".join(line.rstrip(b"\n") + b",\n" for line in lines.splitlines(keepends=True))
    return b"[\n", block, b'{"event_id": -1}\n]\n'


def _xml_block() -> tuple[bytes, bytes, bytes]:
    rows = []
    for i in range(200):
        rows.append(
            f'<row id="{i}"><ts>2024-01-{1 + i % 28:02d}T08:{i % 60:02d}:00</ts>'
            f"<case>C-{i % 97}</case><amount>{i}.25</amount><note>{'x' * (i % 40)}</note>"
            f"<tag>a</tag><tag>b</tag></row>\n"
        )
    header = b'<?xml version="1.0" encoding="UTF-8"?>\n<rows>\n'
    return header, "".join(rows).encode(), b"</rows>\n"


def _xes_block() -> tuple[bytes, bytes, bytes]:
    traces = []
    for t in range(40):
        events = "".join(
            f'<event><string key="concept:name" value="activity {e % 13}"/>'
            f'<string key="org:resource" value="R{(t + e) % 7}"/>'
            f'<date key="time:timestamp" value="2024-01-{1 + t % 28:02d}T08:{e:02d}:00.000+00:00"/>'
            f'<float key="amount" value="{e}.5"/></event>\n'
            for e in range(5)
        )
        traces.append(f'<trace><string key="concept:name" value="C-{t}"/>\n{events}</trace>\n')
    header = b'<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n'
    return header, "".join(traces).encode(), b"</log>\n"


BLOCKS = {
    "csv": lambda: (*_csv_block(), b""),
    "jsonl": lambda: (*_jsonl_block(), b""),
    "json": _json_block,
    "xml": _xml_block,
    "xes": _xes_block,
}


def _write_gzip(path: Path, header: bytes, block: bytes, footer: bytes = b"") -> int:
    """Header, then the block repeated to INPUT_BYTES, then the footer, as concatenated
    gzip members."""
    repeat = 16 << 20
    big = block * (repeat // len(block))
    member = gzip.compress(big, compresslevel=6, mtime=0)
    total = 0
    with path.open("wb") as f:
        if header:
            f.write(gzip.compress(header, mtime=0))
            total += len(header)
        while total < INPUT_BYTES:
            f.write(member)
            total += len(big)
        if footer:
            f.write(gzip.compress(footer, mtime=0))
            total += len(footer)
    return total


_CHILD = """
import json, sys, logflow
src, dst = sys.argv[1], sys.argv[2]
r = logflow.convert(src, dst, profile=True)
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rows": r.rows_written, "written": r.bytes_written,
                  "checksum": r.checksum_in == r.checksum_out,
                  "hwm_kib": int(hwm.split()[1])}))
"""


@pytest.mark.parametrize("fmt", sorted(BLOCKS))
def test_peak_rss_stays_under_the_bound(fmt, tmp_path):
    header, block, footer = BLOCKS[fmt]()
    src = tmp_path / f"big.{fmt}.gz"
    size = _write_gzip(src, header, block, footer)
    assert size >= 6 * BOUND and src.stat().st_size < size / 20
    dst = tmp_path / "out.parquet"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(src), str(dst)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["rows"] > 1_000_000
    assert got["checksum"]
    peak = got["hwm_kib"] << 10
    assert peak < BOUND, f"peak RSS {peak / 2**20:.0f} MiB converting {size / 2**30:.1f} GiB"
