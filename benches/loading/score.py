"""Load every polluted file with every system, zero configuration, and score it like Pollock.

Reads the manifest that ``pollute.py`` wrote, loads each polluted file with each system under
test and compares the loaded table with the file's clean target the way the Pollock benchmark
(VLDB 2023) does, then prints a markdown report: the simple and weighted Pollock scores per
system, a per-family breakdown, where logflow loses points (with the exception messages of
failed loads) and the extra pollutions of the ``extended`` suite.

Usage::

    python benches/loading/score.py [--data DIR] [--systems a,b,...] [--jobs N]
                                    [--json OUT] [--markdown OUT] [--limit N]

Systems (each called with nothing but the path, except the reference):

======================  =======================================================================
``logflow``             ``pyarrow.table(logflow.read(path))``
``logflow-convert``     ``logflow.convert(path, tmp.parquet)``, read back with pyarrow
``logflow-perm``        ``pyarrow.table(logflow.read(path, error_policy="permissive"))``
``logflow-text``        ``pyarrow.table(logflow.read(path, infer_types=False))``: text mode
                        (every value as written), as the benchmark's own harness loads
``pandas``              ``pandas.read_csv(path)``
``polars``              ``polars.read_csv(path)``
``duckdb``              ``duckdb.connect().read_csv(path)`` (its sniffer detects everything)
``clevercsv``           ``clevercsv.read_dataframe(path)`` (skipped when not installed)
``clevercsv-rows``      ``clevercsv.read_table(path)``: CleverCSV's sniffer and its lenient
                        reader, first row as header, as the benchmark's CleverCSV script loads
``csv-sniffer``         ``csv.Sniffer`` on the whole file, then ``csv.reader``: the benchmark's
                        script for Python's csv module (given the encoding, as there)
``csv-true``            Python's ``csv`` module given the file's true dialect, its preamble
                        lines skipped and its footnote / second-table lines dropped: the
                        reference
======================  =======================================================================

How a load becomes a table, as in the benchmark: each system's scripts there write what they
loaded to a CSV file (a data frame with ``to_csv(index=False)``: the column names, then the
rows, nulls as empty fields), or the line ``Application Error`` when loading raised, and the
scorer reads that CSV back. Here every data frame goes through the same
``to_csv(index=False)``, Arrow tables (logflow, Polars, DuckDB) through ``to_pandas()`` with
integer and boolean columns kept as such (so an integer column holding nulls is written
``2``, not ``2.0``); the row-based loaders write their rows with ``csv.writer``. A typed
value is compared in the text pandas writes for it (a date as ``2018-01-28``, a float as
``74.69``).

Scoring (per file, ten measures in [0, 1]; ``clean`` is the target, ``loaded`` the table):

- ``success``: 0 when loading raised, else 1. A failed load scores 0 on all ten.
- header precision / recall / F1: the multiset of the *normalised* cells of the first row of
  ``clean`` against that of ``loaded``.
- record precision / recall / F1: the multiset of records (every row after the first, its
  normalised cells concatenated, so cell boundaries do not matter).
- cell precision / recall / F1: the multiset of all *raw* cells, header included, positions
  ignored.
- precision is |common| / |clean| and recall |common| / |loaded| (the benchmark's naming,
  the reverse of the usual one); F1 is their harmonic mean; no common element gives 0 for
  all three; an empty clean table (or no clean records) gives 1.

Normalising a value (the benchmark's typed canonical form, re-implemented): empty stays
empty; ``True``/``true``/``False``/``false`` and integers equal to 0 or 1 become ``1``/``0``;
other integers ``str(int(v))``; floats ``str(float(v))``; times (``H:MM[:SS]``) ``HH:MM:SS``;
anything ``dateutil`` parses (with ``' . , ; - / '`` as jump characters) its
``YYYY-MM-DD HH:MM:SS``; a currency sign or code next to an amount, sign plus
``str(float(amount))``; anything else lower-cased. The benchmark uses the ``timeparser`` and
``price-parser`` packages for times and prices; the rules above cover the values of the
generated table.

Per file, ``score = sum of the ten measures`` (0 to 10). The simple Pollock score is the mean
over the files of the ``pollock`` suite; the weighted score weighs each file by how often its
pollution occurs in real-world files (the benchmark's published weights, normalised over the
files present). Files of the ``extended`` suite are reported separately.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import time as dtime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".data"
LOAD_TIMEOUT_S = 120

MEASURES = (
    "success",
    "header_precision",
    "header_recall",
    "header_f1",
    "record_precision",
    "record_recall",
    "record_f1",
    "cell_precision",
    "cell_recall",
    "cell_f1",
)
LOGFLOW_SYSTEMS = ("logflow", "logflow-convert", "logflow-perm", "logflow-text")
ALL_SYSTEMS = (
    *LOGFLOW_SYSTEMS,
    "pandas",
    "polars",
    "duckdb",
    "clevercsv",
    "clevercsv-rows",
    "csv-sniffer",
    "csv-true",
)

Rows = list[list[str]]


# --------------------------------------------------------------------------------------------
# Loading: every system returns the table as the rows of the CSV its benchmark script writes.
# --------------------------------------------------------------------------------------------


def _frame_rows(frame: pd.DataFrame) -> Rows:
    """A pandas data frame as the benchmark sees it: ``to_csv(index=False)`` read back."""
    text = frame.to_csv(index=False)
    return list(csv.reader(io.StringIO(text)))


def _arrow_rows(table: pa.Table) -> Rows:
    """An Arrow table as a data frame, its values written as Arrow holds them.

    An integer or boolean column with nulls stays integer or boolean (plain ``to_pandas()``
    would turn it into floats and write ``2.0``).
    """
    import pandas as pd
    import pyarrow as pa

    def mapper(t: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
        if pa.types.is_integer(t):
            return pd.Int64Dtype()
        if pa.types.is_boolean(t):
            return pd.BooleanDtype()
        return None

    return _frame_rows(pa.table(table).to_pandas(types_mapper=mapper))


def load_logflow(path: str, entry: dict[str, Any]) -> Rows:
    """``pyarrow.table(logflow.read(path))`` with the defaults (strict)."""
    import pyarrow as pa

    import logflow

    return _arrow_rows(pa.table(logflow.read(path)))


def load_logflow_convert(path: str, entry: dict[str, Any]) -> Rows:
    """``logflow.convert(path, dst)`` with the defaults, then the Parquet file read back."""
    import pyarrow.parquet as pq

    import logflow

    with tempfile.TemporaryDirectory(prefix="pollock-") as tmp:
        dst = os.path.join(tmp, "out.parquet")
        logflow.convert(path, dst)
        return _arrow_rows(pq.read_table(dst))


def load_logflow_permissive(path: str, entry: dict[str, Any]) -> Rows:
    """``pyarrow.table(logflow.read(path, error_policy="permissive"))``."""
    import pyarrow as pa

    import logflow

    return _arrow_rows(pa.table(logflow.read(path, error_policy="permissive")))


def load_logflow_text(path: str, entry: dict[str, Any]) -> Rows:
    """``pyarrow.table(logflow.read(path, infer_types=False))``: text mode."""
    import pyarrow as pa

    import logflow

    return _arrow_rows(pa.table(logflow.read(path, infer_types=False)))


def load_pandas(path: str, entry: dict[str, Any]) -> Rows:
    """``pandas.read_csv(path)``."""
    import pandas as pd

    return _frame_rows(pd.read_csv(path))


def load_polars(path: str, entry: dict[str, Any]) -> Rows:
    """``polars.read_csv(path)``."""
    import polars as pl

    return _arrow_rows(pl.read_csv(path).to_arrow())


def load_duckdb(path: str, entry: dict[str, Any]) -> Rows:
    """``read_csv(path)`` on a fresh DuckDB connection (auto-detection)."""
    import duckdb

    con = duckdb.connect()
    try:
        return _arrow_rows(con.read_csv(path).arrow().read_all())
    finally:
        con.close()


def load_clevercsv(path: str, entry: dict[str, Any]) -> Rows:
    """``clevercsv.read_dataframe(path)``."""
    import clevercsv

    return _frame_rows(clevercsv.read_dataframe(path))


def load_clevercsv_rows(path: str, entry: dict[str, Any]) -> Rows:
    """``clevercsv.read_table(path)``: its sniffer and its lenient reader.

    Rows as parsed, the first taken as the header, as the benchmark's CleverCSV script loads.
    """
    import clevercsv

    buf = io.StringIO()
    csv.writer(buf).writerows(clevercsv.read_table(path))
    return list(csv.reader(io.StringIO(buf.getvalue())))


def load_csv_sniffer(path: str, entry: dict[str, Any]) -> Rows:
    """Python's ``csv.Sniffer`` on the whole file, then ``csv.reader`` with what it found.

    This is the benchmark's script for Python's csv module (which is given the encoding too).
    """
    with open(path, encoding=entry["dialect"]["encoding"], newline="") as f:
        text = f.read()
    dialect = csv.Sniffer().sniff(text)
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return list(csv.reader(io.StringIO(buf.getvalue())))


def load_csv_true(path: str, entry: dict[str, Any]) -> Rows:
    """Python's csv module with the file's true dialect (the reference)."""
    d = entry["dialect"]
    delimiter: str = d["delimiter"] or ","
    quote: str = d["quotechar"] or '"'
    escape: str = d["escapechar"]
    with open(path, encoding=d["encoding"], newline="") as f:
        reader = csv.reader(
            f,
            delimiter=delimiter[0],
            skipinitialspace=len(delimiter) > 1 and delimiter[1:].isspace(),
            quotechar=quote,
            doublequote=escape == quote,
            escapechar=escape if escape and escape != quote else None,
        )
        rows = list(reader)
    rows = rows[d["preamble_lines"] :]
    tail = d["footnote_lines"] + d["extra_table_lines"]
    if tail:
        rows = rows[:-tail]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return list(csv.reader(io.StringIO(buf.getvalue())))


LOADERS: dict[str, Callable[[str, dict[str, Any]], Rows]] = {
    "logflow": load_logflow,
    "logflow-convert": load_logflow_convert,
    "logflow-perm": load_logflow_permissive,
    "logflow-text": load_logflow_text,
    "pandas": load_pandas,
    "polars": load_polars,
    "duckdb": load_duckdb,
    "clevercsv": load_clevercsv,
    "clevercsv-rows": load_clevercsv_rows,
    "csv-sniffer": load_csv_sniffer,
    "csv-true": load_csv_true,
}


def available(system: str) -> bool:
    """Whether the library a system needs can be imported."""
    module = {
        "logflow-convert": "logflow",
        "logflow-perm": "logflow",
        "logflow-text": "logflow",
        "clevercsv-rows": "clevercsv",
        "csv-sniffer": "csv",
        "csv-true": "csv",
    }.get(system, system)
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Scoring.
# --------------------------------------------------------------------------------------------

_TIME = re.compile(r"^\s*(\d{1,2})([: ])(\d{1,2})(?:\2(\d{1,2}))?\s*$")
_PRICE = re.compile(
    r"^\s*(?:(?P<c1>[$€£¥₹]|[A-Z]{3})\s?(?P<a1>[-+]?\d[\d,]*(?:\.\d+)?)"
    r"|(?P<a2>[-+]?\d[\d,]*(?:\.\d+)?)\s?(?P<c2>[$€£¥₹]|[A-Z]{3}))\s*$"
)


@functools.cache
def _dateparser() -> tuple[Any, Any]:
    from dateutil import parser

    class _Info(parser.parserinfo):
        JUMP = [" ", ".", ",", ";", "-", "/", "'"]  # noqa: RUF012 (dateutil's own layout)

    return parser.parse, _Info()


def _int(v: str) -> int | None:
    try:
        return int(v)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1 << 20)
def normalize(v: str) -> str:
    """The benchmark's typed canonical form of a value (see the module docstring)."""
    if v == "" or v.isspace():
        return v.lower()
    i = _int(v)
    if v in ("True", "true", "False", "false") or i in (0, 1):
        if v in ("False", "false", "0"):
            return "0"
        if v in ("True", "true", "1"):
            return "1"
        return str(bool(i))
    if i is not None:
        return str(i)
    try:
        return str(float(v))
    except ValueError:
        pass
    m = _TIME.match(v)
    if m and int(m[1]) < 24 and int(m[3]) < 60 and int(m[4] or 0) < 60:
        return str(dtime(int(m[1]), int(m[3]), int(m[4] or 0)))
    parse, info = _dateparser()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(parse(v, parserinfo=info))
    except (ValueError, OverflowError, TypeError):
        pass
    m = _PRICE.match(v)
    if m:
        amount = (m["a1"] or m["a2"]).replace(",", "")
        return (m["c1"] or m["c2"]) + str(float(amount))
    return v.lower()


def _prf(clean: Counter[str], loaded: Counter[str]) -> tuple[float, float, float]:
    """Pollock's precision (common / clean), recall (common / loaded) and F1."""
    n_clean, n_loaded = sum(clean.values()), sum(loaded.values())
    if n_clean == 0:
        return 1.0, 1.0, 1.0
    common = sum((clean & loaded).values())
    if common == 0:
        return 0.0, 0.0, 0.0
    p, r = common / n_clean, common / n_loaded
    return p, r, 2 * p * r / (p + r)


def measure(clean: Rows, loaded: Rows | None) -> dict[str, float]:
    """The ten measures of one load; ``loaded`` is None when loading failed."""
    if loaded is None:
        return dict.fromkeys(MEASURES, 0.0)
    out = {"success": 1.0}
    if not clean:
        out.update(dict.fromkeys(MEASURES[1:], 1.0))
        return out
    if loaded:
        header = _prf(Counter(map(normalize, clean[0])), Counter(map(normalize, loaded[0])))
    else:
        header = (0.0, 0.0, 0.0)
    records = _prf(
        Counter("".join(map(normalize, r)) for r in clean[1:]),
        Counter("".join(map(normalize, r)) for r in loaded[1:]),
    )
    cells = _prf(Counter(c for r in clean for c in r), Counter(c for r in loaded for c in r))
    for name, (p, r, f) in zip(("header", "record", "cell"), (header, records, cells), strict=True):
        out[f"{name}_precision"], out[f"{name}_recall"], out[f"{name}_f1"] = p, r, f
    return out


def typed_cell_measures(clean: Rows, loaded: Rows | None) -> tuple[float, float, float]:
    """Cell precision, recall and F1 on *normalised* cells.

    Not part of the score: it shows how much of the cell measures a system loses only by
    writing typed values differently (a date parsed and printed ISO, say).
    """
    if loaded is None:
        return 0.0, 0.0, 0.0
    if not clean:
        return 1.0, 1.0, 1.0
    return _prf(
        Counter(normalize(c) for r in clean for c in r),
        Counter(normalize(c) for r in loaded for c in r),
    )


# --------------------------------------------------------------------------------------------
# Running.
# --------------------------------------------------------------------------------------------


class LoadTimeout(Exception):
    """A load ran longer than ``LOAD_TIMEOUT_S``."""


def _on_alarm(signum: int, frame: object) -> None:
    raise LoadTimeout(f"no result after {LOAD_TIMEOUT_S} s")


def read_clean(data: Path, rel: str) -> Rows:
    """A clean target table."""
    with open(data / rel, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _short_error(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:400]}"


def run_file(job: tuple[Path, dict[str, Any], tuple[str, ...]]) -> dict[str, Any]:
    """Load one file with every system and measure each load."""
    data, entry, systems = job
    path = str(data / entry["file"])
    clean = read_clean(data, entry["clean"])
    result: dict[str, Any] = {"file": Path(entry["file"]).name, "systems": {}}
    signal.signal(signal.SIGALRM, _on_alarm)
    for system in systems:
        start = time.perf_counter()
        loaded: Rows | None
        error = None
        try:
            signal.alarm(LOAD_TIMEOUT_S)
            try:
                loaded = LOADERS[system](path, entry)
            finally:
                signal.alarm(0)
        except Exception as e:  # any failure to load is the system's failure
            loaded, error = None, _short_error(e)
        elapsed = time.perf_counter() - start
        m = measure(clean, loaded)
        typed = typed_cell_measures(clean, loaded)
        result["systems"][system] = {
            "measures": m,
            "score": sum(m.values()),
            "score_typed_cells": sum(m.values())
            - sum(m[k] for k in ("cell_precision", "cell_recall", "cell_f1"))
            + sum(typed),
            "error": error,
            "shape": [len(loaded), max((len(r) for r in loaded), default=0)] if loaded else None,
            "header": loaded[0][:12] if loaded else None,
            "seconds": round(elapsed, 4),
        }
    if any(s.startswith("logflow") for s in systems):
        result["detected"] = _detected(path)
    return result


def _detected(path: str) -> str | None:
    """What ``logflow.detect`` makes of the file, in one line."""
    try:
        import logflow

        d = logflow.detect(path).dialect
    except Exception as e:
        return _short_error(e)
    if d is None:
        return "no dialect"
    return (
        f"delimiter={d.delimiter!r} quote={d.quote!r} escape={d.escape!r} header={d.header} "
        f"skip_lines={d.skip_lines} ragged={d.ragged}"
    )


# --------------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------------


@dataclass
class Scores:
    """Aggregate scores of one system over a set of files."""

    files: int
    failed: int
    simple: float
    weighted: float | None
    simple_typed_cells: float
    header_f1: float
    record_f1: float
    cell_f1: float


def aggregate(
    results: list[dict[str, Any]],
    entries: dict[str, dict[str, Any]],
    system: str,
) -> Scores:
    """Simple and weighted Pollock scores and mean F1s of ``system`` over ``results``."""
    rows = [r for r in results if system in r["systems"]]
    n = len(rows)
    if n == 0:
        return Scores(0, 0, 0.0, None, 0.0, 0.0, 0.0, 0.0)
    per = [r["systems"][system] for r in rows]
    weights = [entries[r["file"]]["weight"] for r in rows]
    weighted = None
    if all(w is not None for w in weights) and sum(weights) > 0:
        total = sum(weights)
        weighted = sum(p["score"] * w / total for p, w in zip(per, weights, strict=True))
    mean = lambda key: sum(p["measures"][key] for p in per) / n  # noqa: E731
    return Scores(
        files=n,
        failed=sum(p["error"] is not None for p in per),
        simple=sum(p["score"] for p in per) / n,
        weighted=weighted,
        simple_typed_cells=sum(p["score_typed_cells"] for p in per) / n,
        header_f1=mean("header_f1"),
        record_f1=mean("record_f1"),
        cell_f1=mean("cell_f1"),
    )


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


_NUMBERS = re.compile(r"\d+")


def error_kind(message: str) -> str:
    """A failure message with paths, numbers and quoted values blanked out, to group by.

    ``expected 9 fields, found 10`` becomes ``expected N fields, found more``.
    """

    def count(m: re.Match[str]) -> str:
        expected, found = int(m[1]), int(m[2])
        return f"expected N fields, found {'more' if found > expected else 'fewer'}"

    m = re.sub(r"expected (\d+) fields, found (\d+)", count, message)
    m = re.sub(r"\S*\.csv\b", "<file>", m)
    m = re.sub(r"'[^']*'|\"[^\"]*\"", "<v>", m)
    return _NUMBERS.sub("N", m)[:240]


def report(
    results: list[dict[str, Any]],
    entries: dict[str, dict[str, Any]],
    systems: tuple[str, ...],
    skipped: dict[str, str],
) -> str:
    """The markdown report."""
    pollock = [r for r in results if entries[r["file"]]["suite"] == "pollock"]
    extended = [r for r in results if entries[r["file"]]["suite"] == "extended"]
    lines: list[str] = ["# Pollock loading benchmark, zero configuration", ""]
    lines.append(
        f"{len(pollock)} files of the `pollock` suite, {len(extended)} of the `extended` "
        "suite. Scores are out of 10 (ten measures per file); `csv-true` is given the true "
        "dialect, every other system only the path."
    )
    if skipped:
        lines += ["", "Skipped: " + "; ".join(f"`{k}` ({v})" for k, v in skipped.items())]
    lines += ["", "## Pollock scores (`pollock` suite)", ""]
    table_rows = []
    for s in systems:
        a = aggregate(pollock, entries, s)
        table_rows.append(
            [
                f"`{s}`",
                str(a.files),
                str(a.failed),
                _fmt(a.simple),
                _fmt(a.weighted),
                _fmt(a.header_f1, 3),
                _fmt(a.record_f1, 3),
                _fmt(a.cell_f1, 3),
                _fmt(a.simple_typed_cells),
            ]
        )
    lines += _table(
        [
            "system",
            "files",
            "failed",
            "simple",
            "weighted",
            "header F1",
            "record F1",
            "cell F1",
            "simple, cells normalised",
        ],
        table_rows,
    )
    lines += [
        "",
        "`simple, cells normalised` is not a Pollock score: the same, with the cell measures "
        "taken on normalised values, to show what writing typed values differently costs.",
    ]

    # Per family, every system: mean score (0-10) of the family's files.
    families = _families(pollock, entries)
    lines += ["", "## Mean score per pollution family (`pollock` suite, out of 10)", ""]
    lines += _table(
        ["family", "files", *systems],
        (
            [f, str(len(fr))]
            + [_fmt(sum(r["systems"][s]["score"] for r in fr) / len(fr)) for s in systems]
            for f, fr in families.items()
        ),
    )

    for s in (x for x in systems if x in LOGFLOW_SYSTEMS):
        lines += _logflow_section(s, pollock, extended, entries)

    if extended:
        lines += ["", "## `extended` suite: mean score per family (out of 10)", ""]
        ext_families = _families(extended, entries)
        lines += _table(
            ["family", "files", *systems],
            (
                [f, str(len(fr))]
                + [_fmt(sum(r["systems"][s]["score"] for r in fr) / len(fr)) for s in systems]
                for f, fr in ext_families.items()
            ),
        )
    return "\n".join(lines) + "\n"


def _families(
    results: list[dict[str, Any]],
    entries: dict[str, dict[str, Any]],
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        out[entries[r["file"]]["family"]].append(r)
    return dict(out)


def _logflow_section(
    system: str,
    pollock: list[dict[str, Any]],
    extended: list[dict[str, Any]],
    entries: dict[str, dict[str, Any]],
) -> list[str]:
    """Where one logflow entry point loses points, family by family, with its failures."""
    lines = ["", f"## Where `{system}` loses points", ""]
    n = len(pollock)
    weights = {r["file"]: entries[r["file"]]["weight"] or 0.0 for r in pollock}
    total_w = sum(weights.values()) or 1.0
    rows = []
    fams = _families(pollock, entries)
    order = sorted(fams, key=lambda f: -sum(10 - r["systems"][system]["score"] for r in fams[f]))
    for f in order:
        fr = fams[f]
        per = [r["systems"][system] for r in fr]
        lost_simple = sum(10 - p["score"] for p in per) / n
        lost_weighted = (
            sum((10 - p["score"]) * weights[r["file"]] for p, r in zip(per, fr, strict=True))
            / total_w
        )
        failed = sum(p["error"] is not None for p in per)
        rows.append(
            [
                f,
                str(len(fr)),
                str(failed),
                _fmt(sum(p["score"] for p in per) / len(fr)),
                _fmt(lost_simple, 3),
                _fmt(lost_weighted, 3),
            ]
        )
    lines += _table(
        ["family", "files", "failed", "mean score", "simple points lost", "weighted points lost"],
        rows,
    )
    lines += _row_position_table(system, pollock, entries)
    lines += ["", f"Failures of `{system}` by message (numbers and paths blanked):", ""]
    kinds: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in [*pollock, *extended]:
        err = r["systems"][system]["error"]
        if err:
            kinds[(entries[r["file"]]["family"], error_kind(err))].append(r["file"])
    rows = []
    for (fam, kind), files in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        example = files[0]
        rows.append([fam, str(len(files)), f"`{example}`", kind.replace("|", "\\|")])
    lines += _table(["family", "files", "example", "message"], rows) if rows else ["none"]
    # Loads that succeeded but lost points: the file-level ones, one by one.
    rows = []
    for r in [*pollock, *extended]:
        p = r["systems"][system]
        if p["error"] is None and p["score"] < 9.999 and entries[r["file"]]["level"] != "row":
            m = p["measures"]
            rows.append(
                [
                    f"`{r['file']}`",
                    _fmt(p["score"]),
                    _fmt(m["header_f1"]),
                    _fmt(m["record_f1"]),
                    _fmt(m["cell_f1"]),
                    f"{p['shape'][0]}x{p['shape'][1]}" if p["shape"] else "-",
                    ", ".join(p["header"][:4]).replace("|", "\\|")[:60] if p["header"] else "-",
                    (r.get("detected") or "").replace("|", "\\|"),
                ]
            )
    if rows:
        lines += [
            "",
            f"File- and table-level files `{system}` loaded but not perfectly "
            "(shape = rows x columns of the loaded CSV, header row included):",
            "",
        ]
        lines += _table(
            [
                "file",
                "score",
                "header F1",
                "record F1",
                "cell F1",
                "shape",
                "loaded header",
                "logflow.detect",
            ],
            rows,
        )
    return lines


def _row_position_table(
    system: str, pollock: list[dict[str, Any]], entries: dict[str, dict[str, Any]]
) -> list[str]:
    """Row-level families split by the damaged row: the header (row 0) or a data row."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in pollock:
        e = entries[r["file"]]
        if e["level"] == "row":
            where = "header row" if e["params"].get("row") == 0 else "a data row"
            groups[(e["family"], where)].append(r["systems"][system])
    if not groups:
        return []
    rows = [
        [
            fam,
            where,
            str(len(per)),
            str(sum(p["error"] is not None for p in per)),
            _fmt(sum(p["score"] for p in per) / len(per)),
            _fmt(sum(p["measures"]["header_f1"] for p in per) / len(per)),
            _fmt(sum(p["measures"]["record_f1"] for p in per) / len(per)),
        ]
        for (fam, where), per in sorted(groups.items())
    ]
    return [
        "",
        f"Row-level families of `{system}` by the damaged row:",
        "",
        *_table(
            ["family", "damaged", "files", "failed", "mean score", "header F1", "record F1"],
            rows,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="pollute.py's output")
    ap.add_argument(
        "--systems",
        default=",".join(ALL_SYSTEMS),
        help=f"comma-separated, from: {', '.join(ALL_SYSTEMS)}",
    )
    ap.add_argument("--suite", choices=["pollock", "extended", "all"], default="all")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--limit", type=int, help="only the first N files (for a smoke test)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the raw results here")
    ap.add_argument("--markdown", type=Path, metavar="OUT", help="also write the report here")
    ap.add_argument(
        "--from-json",
        type=Path,
        metavar="IN",
        help="no loading: write the report of results saved earlier with --json",
    )
    args = ap.parse_args(argv)

    manifest_path = args.data / "manifest.json"
    if not manifest_path.exists():
        print(f"{manifest_path} not found: run pollute.py first", file=sys.stderr)
        return 1
    manifest = json.loads(manifest_path.read_text())
    files = [e for e in manifest["files"] if args.suite in ("all", e["suite"])]
    if args.limit:
        files = files[: args.limit]
    entries = {Path(e["file"]).name: e for e in files}

    wanted = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in LOADERS]
    if unknown:
        print(f"unknown systems: {', '.join(unknown)}", file=sys.stderr)
        return 2
    skipped = {s: "not installed" for s in wanted if not available(s)}
    systems = tuple(s for s in wanted if s not in skipped)

    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        systems = tuple(s for s in saved["systems"] if s in systems)
        results = [r for r in saved["files"] if r["file"] in entries]
        text = report(results, entries, systems, saved.get("skipped", {}))
        print(text)
        if args.markdown:
            args.markdown.write_text(text)
        return 0

    jobs = [(args.data, e, systems) for e in files]
    start = time.perf_counter()
    results: list[dict[str, Any]] = []
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, args.jobs), maxtasksperchild=200) as pool:
        for i, res in enumerate(pool.imap_unordered(run_file, jobs, chunksize=4), 1):
            results.append(res)
            if i % 100 == 0 or i == len(jobs):
                print(
                    f"{i}/{len(jobs)} files, {time.perf_counter() - start:.0f} s", file=sys.stderr
                )
    order = {Path(e["file"]).name: i for i, e in enumerate(files)}
    results.sort(key=lambda r: order[r["file"]])

    text = report(results, entries, systems, skipped)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "systems": systems,
                    "skipped": skipped,
                    "summary": {
                        s: aggregate(
                            [r for r in results if entries[r["file"]]["suite"] == "pollock"],
                            entries,
                            s,
                        ).__dict__
                        for s in systems
                    },
                    "files": [
                        {
                            **r,
                            "family": entries[r["file"]]["family"],
                            "suite": entries[r["file"]]["suite"],
                            "weight": entries[r["file"]]["weight"],
                        }
                        for r in results
                    ],
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
