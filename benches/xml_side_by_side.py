#!/usr/bin/env python3
"""XML and XES side by side: logflow against rustxes, a generic XML file, and hostile input.

Every measurement runs in a fresh subprocess; wall time and peak RSS (``ru_maxrss`` of the
child, as the shared yardstick measures it) are printed as a table:

- ``xes``: the event log (``--xes``, default the yardstick's 500,000-event ``events.xes``)
  converted by logflow and imported by rustxes (when ``--rustxes-python`` names an
  interpreter that has it, default this one), round after round, so both see the same
  machine load;
- ``xml``: a generic XML record file of the same size (generated once next to the log:
  ``<events><event id=...><case>...</case>...</event>``), converted by logflow;
- ``bomb``: a billion-laughs document and a quadratic blow-up, which logflow refuses;
- ``deep`` (with ``--deep``): a 1 GB document nested 1 GB deep, and a 1 GB file of records
  each nested 200 elements deep; both are written to ``--work`` first.

    python benches/xml_side_by_side.py --runs 3
    python benches/xml_side_by_side.py --xes /path/events.xes --rustxes-python /venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

WORKER = """
import json, sys, time
tool, src, dst = sys.argv[1:4]
t = time.perf_counter()
out = {}
try:
    if tool == "rustxes":
        import rustxes
        df, _ = rustxes.import_xes(src)
        out["rows"] = df.height
    else:
        import logflow
        r = logflow.convert(src, dst)
        out["rows"] = r.rows_written
except Exception as e:
    out["error"] = f"{type(e).__name__}: {e}"[:200]
out["seconds"] = time.perf_counter() - t
print(json.dumps(out))
"""


def run(python: str, tool: str, src: Path, dst: Path) -> dict[str, object]:
    """One measurement in a fresh process: its own timing, and the child's peak RSS."""
    proc = subprocess.Popen(
        [python, "-c", WORKER, tool, str(src), str(dst)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    result: dict[str, object] = json.loads(out) if out.strip() else {"error": f"exit {status}"}
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def generic_xml(like: Path, out: Path) -> Path:
    """A generic XML record file about the size of ``like``: attributes and child elements."""
    if out.is_file() and out.stat().st_size >= like.stat().st_size * 0.99:
        return out
    rng = random.Random(1)
    target = like.stat().st_size
    activities = ["Create Order", "Approve Order", "Pick Items", "Ship", "Send Reminder"]
    written = 0
    with open(out, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<events>\n')
        i = 0
        while written < target:
            i += 1
            rec = (
                f'  <event id="{i}" case="case_{i // 7}">'
                f"<activity>{rng.choice(activities)}</activity>"
                f"<resource>user_{rng.randint(1, 9999)}</resource>"
                f"<time>2024-01-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:"
                f"{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}+00:00</time>"
                f"<lifecycle>complete</lifecycle><amount>{rng.randint(0, 99999) / 100}</amount>"
                f"<tag>t{i % 5}</tag><tag>x</tag></event>\n"
            )
            written += f.write(rec)
        f.write("</events>\n")
    return out


def bombs(work: Path) -> list[Path]:
    laughs = "".join(
        f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" if i else "<!ENTITY l0 'lol'>" for i in range(10)
    )
    a = work / "billion_laughs.xml"
    a.write_text(f"<!DOCTYPE r [{laughs}]>\n<r><x>&l9;</x><x>1</x></r>\n")
    big = "x" * 100_000
    b = work / "quadratic.xml"
    b.write_text(f"<!DOCTYPE r [<!ENTITY b '{big}'>]>\n<r><x>{'&b;' * 100_000}</x><x>1</x></r>\n")
    return [a, b]


def deep_files(work: Path, size: int = 1 << 30) -> list[Path]:
    nested = work / "nested_1gb.xml"
    if not nested.is_file():
        with open(nested, "w") as f:
            block = "<a>" * (1 << 20)
            for _ in range(size // len(block)):
                f.write(block)
    records = work / "deep_records_1gb.xml"
    if not records.is_file():
        rec = "<r>" + "<a>" * 200 + "1" + "</a>" * 200 + "</r>\n"
        with open(records, "w") as f:
            f.write("<rows>\n")
            for _ in range(size // len(rec)):
                f.write(rec)
            f.write("</rows>\n")
    return [nested, records]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--xes", type=Path, default=None, help="the event log (default: generated)")
    ap.add_argument("--runs", type=int, default=3, help="rounds (3)")
    ap.add_argument("--rustxes-python", default=sys.executable, help="interpreter with rustxes")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "logflow-xml")
    ap.add_argument("--deep", action="store_true", help="also the 1 GB nested documents")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    xes = args.xes
    if xes is None:
        from data import ensure_data

        xes = ensure_data(1_000_000, formats=("xes",)) / "events.xes"
    xml = generic_xml(xes, args.work / "events_generic.xml")
    me = sys.executable
    rows = []
    for r in range(args.runs):
        for name, python, tool, src in [
            ("xes", me, "logflow", xes),
            ("xes", args.rustxes_python, "rustxes", xes),
            ("xml", me, "logflow", xml),
        ]:
            res = run(python, tool, src, args.work / f"out_{name}.parquet")
            res.update(case=name, tool=tool, round=r + 1, mb=src.stat().st_size / 1e6)
            rows.append(res)
    for src in bombs(args.work) + (deep_files(args.work) if args.deep else []):
        res = run(me, "logflow", src, args.work / "out_hostile.parquet")
        res.update(case=src.stem, tool="logflow", round=1, mb=src.stat().st_size / 1e6)
        rows.append(res)
    print(
        f"{'case':<18} {'tool':<8} {'round':>5} {'MB':>8} {'seconds':>8} {'MB/s':>7} "
        f"{'peak RSS MB':>11}  result"
    )
    for x in rows:
        secs = float(x.get("seconds", 0.0))  # type: ignore[arg-type]
        rate = float(x["mb"]) / secs if secs else 0.0  # type: ignore[arg-type]
        result = x.get("error") or f"{x.get('rows'):,} rows"
        print(
            f"{x['case']:<18} {x['tool']:<8} {x['round']:>5} {x['mb']:>8.1f} {secs:>8.3f} "
            f"{rate:>7.1f} {x['peak_rss_mb']:>11.1f}  {result}"
        )
    for r in range(args.runs):
        pair = {x["tool"]: x for x in rows if x["case"] == "xes" and x["round"] == r + 1}
        if "logflow" in pair and "rustxes" in pair and "error" not in pair["rustxes"]:
            ratio = float(pair["logflow"]["seconds"]) / float(pair["rustxes"]["seconds"])  # type: ignore[arg-type]
            print(f"round {r + 1}: logflow / rustxes time = {ratio:.2f}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(__file__).resolve().parent / "results" / f"xml_side_by_side_{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1, default=str))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
