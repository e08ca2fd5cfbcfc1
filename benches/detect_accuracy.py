"""CSV dialect detection, side by side: logflow against csv.Sniffer, CleverCSV and DuckDB.

For every file of one or more annotated corpora, each tool guesses the delimiter, quote and
escape character; the script scores the guesses against the annotated dialect, times every
tool per file and prints a markdown table per corpus, one over all corpora, a speed summary
and the files logflow got wrong.

Usage::

    python benches/detect_accuracy.py                          # the shared conformance suites
    python benches/detect_accuracy.py DIR_OR_ANNOTATIONS [...] [--json OUT] [--synthetic]

A corpus argument is one of:

- a csv-spectrum checkout (``csvs/`` + ``json/``): every file is comma, double quote, quotes
  doubled, with a header; the script checks that reading each CSV with that dialect gives the
  rows of its ``json/`` twin and notes any file where it does not;
- a CSVW test suite checkout (``tests/manifest-*.jsonld``): every ``.csv``/``.tsv`` under
  ``tests/``, comma, double quote, quotes doubled, unless a metadata file describing it sets
  ``delimiter``, ``quoteChar`` or ``doubleQuote`` (invalid values are ignored, as the CSVW
  spec has processors do); a file served as ``text/csv;header=absent`` has no header;
- an annotation file, or a directory holding one (``dialects.jsonl``, ``dialects.json``,
  ``dialects.csv``, ``annotations.*``, or the only ``*.json``/``*.jsonl`` with annotations).

Annotation format (the JSON-lines format of the CleverCSV paper's published detection
results, so its reference annotations can be used unchanged): one object per line::

    {"filename": "data/a.csv", "status": "OK",
     "dialect": {"delimiter": ";", "quotechar": "\\"", "escapechar": ""}}

``""`` means none (a delimiter of ``""`` is a single-column file). ``status`` is optional;
records whose status is not ``OK`` (e.g. ``SKIP``) are left out. An optional boolean
``header`` (top level or inside ``dialect``) adds a header check. A JSON list of such objects,
or an object mapping file name to dialect, works too, as does a CSV file with the columns
``filename,delimiter,quotechar,escapechar[,header]`` (``\\t`` or ``tab`` for a tab, empty for
none). File names are resolved against the annotation file's folder, its parents (up to four
levels), ``--data-root`` and the current directory, in that order.

What is compared, per file:

- ``logflow``: ``logflow.detect(path)`` (reads its own 64 KiB sample; it also detects
  compression, encoding and header and infers the columns, all inside the timing);
- ``sniffer``: ``csv.Sniffer().sniff(sample)`` + ``has_header(sample)`` on the first 64 KiB,
  decoded as UTF-8, else windows-1252 (reading and decoding are inside the timing);
- ``clevercsv``: ``clevercsv.Detector().detect(sample)`` on the same sample (its header
  answer, ``Detector().has_header(sample)``, which detects again, is outside the timing);
- ``duckdb``: ``SELECT Delimiter, Quote, Escape, HasHeader FROM sniff_csv(path)`` on one
  connection (DuckDB samples the file itself; ``(empty)`` means none).

Scoring. A guess is right when delimiter, quote and escape all equal the annotation after
both are put in a canonical form against the file's own text (its first 16 MiB):

- an escape equal to the quote character means quotes are doubled, the same as no escape;
- a delimiter, quote or escape character that never occurs in the file is the same as none
  (so a file without any ``"`` has no quote to get wrong, and a file without a delimiter is
  single-column whatever delimiter is named).

``same rows`` is a second, looser score: the file read with Python's csv module under the
guessed dialect gives exactly the rows it gives under the annotated one (unknown when a
character is longer than one, which Python's csv cannot read). A tool ``failed`` on a file
when it raised or gave no dialect; failures count as wrong in every score. ``header`` is
scored on files whose header is known. Times are the median of ``--repeat`` runs per file,
then the median over files; the speed summary also gives the median over files of at least
64 KiB, i.e. the time per full 64 KiB sample.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

BENCHES = Path(__file__).resolve().parent
REPO = BENCHES.parent
CONFORMANCE = Path(os.environ.get("LOGFLOW_CONFORMANCE", REPO.parent / "shared" / "conformance"))
DEFAULT_SUITES = ("csv-spectrum", "csvw")

SAMPLE_BYTES = 64 * 1024
"""Bytes the Python-side detectors see, and the size of a full logflow sample."""
TEXT_CAP = 16 << 20
"""Bytes of each file used for the canonical form and the same-rows check."""
TOOL_NAMES = ("logflow", "sniffer", "clevercsv", "duckdb")
ANNOTATION_NAMES = (
    "dialects.jsonl",
    "dialects.json",
    "dialects.csv",
    "annotations.jsonl",
    "annotations.json",
    "annotations.csv",
)


# --------------------------------------------------------------------------------------------
# data model


@dataclass(frozen=True)
class Truth:
    """The annotated dialect of one file; ``""``/``None`` mean none."""

    delimiter: str
    quote: str | None
    escape: str | None
    header: bool | None = None
    notes: str = ""


@dataclass(frozen=True)
class Case:
    """One annotated file of a corpus."""

    corpus: str
    name: str
    path: Path
    truth: Truth


@dataclass(frozen=True)
class Guess:
    """What one tool said about one file."""

    delimiter: str
    quote: str | None
    escape: str | None
    header: bool | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """One tool on one file: its guess or its failure, its times and its scores."""

    tool: str
    guess: Guess | None
    error: str | None
    times_ms: list[float]
    dialect_ok: bool = False
    same_rows: bool | None = None
    header_ok: bool | None = None

    @property
    def failed(self) -> bool:
        """Whether the tool raised or gave no dialect."""
        return self.guess is None

    @property
    def ms(self) -> float:
        """Median time of the runs on this file."""
        return statistics.median(self.times_ms)


@dataclass
class FileResult:
    """Every tool's outcome on one file."""

    case: Case
    size: int
    outcomes: dict[str, Outcome]


class NoAnswer(Exception):
    """A tool ran but gave no dialect."""


# --------------------------------------------------------------------------------------------
# text helpers


def decode(data: bytes) -> str:
    """Decode as a user would: UTF-8 (BOM allowed, a character cut at the end dropped), UTF-16
    when a BOM says so, else windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=False)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> str:
    """The first ``size`` bytes of ``path``, decoded."""
    with open(path, "rb") as f:
        return decode(f.read(size))


def show(ch: str | None) -> str:
    """A dialect character for people: ``none``, ``\\t``, ``space``, or itself."""
    if not ch:
        return "none"
    names = {"\t": "\\t", " ": "space", "\r": "\\r", "\n": "\\n", "\\": "\\\\"}
    return names.get(ch, ch)


def show_dialect(delimiter: str | None, quote: str | None, escape: str | None) -> str:
    """``d=, q=" e=none``."""
    return f"d={show(delimiter)} q={show(quote)} e={show(escape)}"


def canonical(
    delimiter: str | None, quote: str | None, escape: str | None, text: str
) -> tuple[str, str, str]:
    """Put a dialect in the form the scores compare, given the file's text (see module doc)."""
    d, q, e = delimiter or "", quote or "", escape or ""
    if e and e == q:
        e = ""  # an escape equal to the quote is the doubled quote
    if d and d not in text:
        d = ""
    if q and q not in text:
        q = ""
    if e and e not in text:
        e = ""
    return d, q, e


def _rows(text: str, delimiter: str, quote: str, escape: str) -> Iterator[list[str]]:
    if not delimiter:
        # a single-column file: any character the text does not hold
        delimiter = next(c for c in "\x1f\x1e\x1d\x00\ufffe" if c not in text)
    kwargs: dict[str, Any] = {"delimiter": delimiter, "strict": False, "doublequote": True}
    if quote:
        kwargs.update(quotechar=quote, quoting=csv.QUOTE_MINIMAL)
    else:
        kwargs.update(quotechar=None, quoting=csv.QUOTE_NONE)
    if escape:
        kwargs["escapechar"] = escape
    return csv.reader(io.StringIO(text, newline=""), **kwargs)


def same_rows(text: str, a: tuple[str, str, str], b: tuple[str, str, str]) -> bool | None:
    """Whether Python's csv reads ``text`` into the same rows under dialects ``a`` and ``b``.

    ``None`` when a dialect has a character Python's csv cannot take (longer than one).
    """
    if a == b:
        return True
    if any(len(c) > 1 for c in (*a, *b)):
        return None
    old = csv.field_size_limit(1 << 30)
    try:
        outputs = []
        for dialect in (a, b):
            try:
                outputs.append(list(_rows(text, *dialect)))
            except csv.Error as e:
                outputs.append([[f"csv.Error: {e}"]])
        return outputs[0] == outputs[1]
    finally:
        csv.field_size_limit(old)


# --------------------------------------------------------------------------------------------
# corpora


def load_corpus(arg: Path, data_root: Path | None = None) -> tuple[str, list[Case], list[str]]:
    """Load one corpus argument: returns its name, its cases and notes about the loading."""
    if arg.is_file():
        return load_annotations(arg, data_root)
    if not arg.is_dir():
        raise SystemExit(f"{arg}: no such file or directory")
    if (arg / "csvs").is_dir() and (arg / "json").is_dir():
        return load_csv_spectrum(arg)
    if any(next((arg / sub).glob("manifest-*.jsonld"), None) for sub in ("tests", ".")):
        return load_csvw(arg)
    return load_annotations(find_annotation_file(arg), data_root, name=arg.name)


def load_csv_spectrum(root: Path) -> tuple[str, list[Case], list[str]]:
    """csv-spectrum: every file is RFC 4180 with a header; its JSON twin is checked."""
    cases: list[Case] = []
    notes: list[str] = []
    for path in sorted((root / "csvs").glob("*.csv")):
        note = _check_spectrum_json(path, root / "json" / f"{path.stem}.json")
        if note:
            notes.append(f"{path.name}: {note}")
        truth = Truth(",", '"', None, header=True, notes=note)
        cases.append(Case(root.name, path.name, path, truth))
    return root.name, cases, notes


def _check_spectrum_json(csv_path: Path, json_path: Path) -> str:
    """Empty when ``csv_path`` read as comma/double-quote/header gives ``json_path``'s rows."""
    if not json_path.is_file():
        return f"no {json_path.name} to check against"
    expected = json.loads(json_path.read_text(encoding="utf-8", errors="replace"))
    if isinstance(expected, dict):
        expected = [expected]
    text = decode(csv_path.read_bytes())
    got = list(csv.DictReader(io.StringIO(text, newline="")))
    if len(got) != len(expected):
        return f"{len(got)} rows read, json/{json_path.name} has {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        for key in e:
            if g.get(key) != e[key]:
                return (
                    f"json/{json_path.name} row {i} {key!r} is {e[key]!r}, "
                    f"the CSV has {g.get(key)!r}"
                )
    return ""


def load_csvw(root: Path) -> tuple[str, list[Case], list[str]]:
    """CSVW: every CSV/TSV under tests/, with the dialect its metadata gives (default RFC)."""
    tests = root / "tests" if (root / "tests").is_dir() else root
    header_absent: set[str] = set()
    for manifest in sorted(tests.glob("manifest-*.jsonld")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        for entry in data.get("entries", []):
            content_type = str(entry.get("contentType", "")).replace(" ", "").lower()
            if "header=absent" in content_type:
                header_absent.add(_strip_query(entry["action"]))
    hints = _csvw_dialect_hints(tests)
    cases: list[Case] = []
    notes: list[str] = []
    files = sorted(p for p in tests.rglob("*") if p.suffix in (".csv", ".tsv") and p.is_file())
    for path in files:
        name = path.relative_to(tests).as_posix()
        truth, note = _csvw_truth(name, hints.get(name, []), name not in header_absent)
        if "conflicting" in note:
            notes.append(f"{name}: {note}")
        cases.append(Case(root.name, name, path, truth))
    return root.name, cases, notes


def _strip_query(ref: str) -> str:
    return ref.split("?", 1)[0].split("#", 1)[0]


def _csvw_dialect_hints(tests: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Map each CSV (path relative to ``tests``) to (metadata file, dialect) pairs naming it."""
    hints: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for meta in sorted(tests.rglob("*.json")):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or "@context" not in data:
            continue
        group = _csvw_dialect(data.get("dialect"), meta.parent)
        tables = data.get("tables")
        if isinstance(tables, list):
            pairs = [
                (t["url"], {**group, **_csvw_dialect(t.get("dialect"), meta.parent)})
                for t in tables
                if isinstance(t, dict) and isinstance(t.get("url"), str)
            ]
        elif isinstance(data.get("url"), str):
            pairs = [(data["url"], group)]
        else:
            pairs = []
        for url, dialect in pairs:
            if "://" in url:
                continue
            target = (meta.parent / _strip_query(url)).resolve()
            try:
                rel = target.relative_to(tests.resolve()).as_posix()
            except ValueError:
                continue
            hints.setdefault(rel, []).append((meta.relative_to(tests).as_posix(), dialect))
    return hints


def _csvw_dialect(value: object, base: Path) -> dict[str, Any]:
    if isinstance(value, str):  # a reference to a dialect description
        target = base / value
        try:
            value = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
    return value if isinstance(value, dict) else {}


def _csvw_other_settings(dialect: dict[str, Any]) -> list[str]:
    """The valid, non-default settings beyond delimiter/quote/escape, for the notes."""
    out = []
    if isinstance(dialect.get("commentPrefix"), str):
        out.append(f"commentPrefix={dialect['commentPrefix']!r}")
    for key, default in (("skipRows", 0), ("skipColumns", 0), ("headerRowCount", 1)):
        value = dialect.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value != default:
            out.append(f"{key}={value}")
    if dialect.get("header") is False:
        out.append("header=false")
    return out


def _csvw_truth(
    name: str, hints: list[tuple[str, dict[str, Any]]], header: bool
) -> tuple[Truth, str]:
    """The dialect of one CSVW file from the valid metadata settings that describe it."""
    values: dict[str, set[Any]] = {"delimiter": set(), "quote": set(), "escape": set()}
    other: set[str] = set()
    for _meta, dialect in hints:
        if isinstance(dialect.get("delimiter"), str) and dialect["delimiter"]:
            values["delimiter"].add(dialect["delimiter"])
        if "quoteChar" in dialect and (
            dialect["quoteChar"] is None or isinstance(dialect["quoteChar"], str)
        ):
            values["quote"].add(dialect["quoteChar"] or None)
        if isinstance(dialect.get("doubleQuote"), bool):
            values["escape"].add(None if dialect["doubleQuote"] else "\\")
        other.update(_csvw_other_settings(dialect))
    default: dict[str, Any] = {"delimiter": ",", "quote": '"', "escape": None}
    chosen: dict[str, Any] = {}
    notes: list[str] = []
    for key, found in values.items():
        if len(found) == 1:
            chosen[key] = next(iter(found))
        else:
            chosen[key] = default[key]
            if len(found) > 1:
                notes.append(f"conflicting {key} hints {sorted(map(repr, found))}, default kept")
    if other:
        notes.append("metadata also sets " + ", ".join(sorted(other)))
    if not header:
        notes.append("served as text/csv;header=absent")
    note = "; ".join(notes)
    return Truth(chosen["delimiter"], chosen["quote"], chosen["escape"], header, note), note


def find_annotation_file(folder: Path) -> Path:
    """The annotation file of a corpus folder (see the module doc for the names tried)."""
    for name in ANNOTATION_NAMES:
        if (folder / name).is_file():
            return folder / name
    candidates = []
    for path in sorted([*folder.glob("*.jsonl"), *folder.glob("*.json")]):
        try:
            records = _read_json_records(path)
        except (ValueError, UnicodeDecodeError):
            continue
        if records and all(isinstance(r, dict) and "filename" in r for r in records[:5]):
            candidates.append(path)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise SystemExit(
            f"{folder}: no annotation file ({', '.join(ANNOTATION_NAMES)}, or a *.json[l] of "
            "records with a 'filename')"
        )
    raise SystemExit(f"{folder}: several annotation files, pass one: {candidates}")


def _read_json_records(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and "filename" in data:
        return [data]
    if isinstance(data, dict):  # {filename: dialect}
        return [{"filename": k, "dialect": v} for k, v in data.items()]
    raise ValueError(f"{path}: not a list or object")


_CHAR_NAMES = {"\\t": "\t", "tab": "\t", "space": " ", "none": "", "\\\\": "\\"}


def _char(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return _CHAR_NAMES.get(text.lower() if len(text) > 2 else text, text)


def _bool(value: object) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text)


def load_annotations(
    path: Path, data_root: Path | None, name: str | None = None
) -> tuple[str, list[Case], list[str]]:
    """Cases from an annotation file (JSON lines, JSON or CSV; see the module doc)."""
    name = name or path.stem
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            records: list[Any] = [
                {
                    "filename": row["filename"],
                    "dialect": {k: row.get(k) for k in ("delimiter", "quotechar", "escapechar")},
                    "header": row.get("header") or None,
                }
                for row in csv.DictReader(f)
            ]
    else:
        records = _read_json_records(path)
    bases = [path.parent, *list(path.parent.parents)[:4]]
    if data_root is not None:
        bases.append(data_root)
    bases.append(Path.cwd())
    cases: list[Case] = []
    skipped = missing = 0
    notes: list[str] = []
    for record in records:
        if str(record.get("status", "OK")).upper() != "OK" or "dialect" not in record:
            skipped += 1
            continue
        dialect = record["dialect"] or {}
        filename = str(record["filename"])
        found = _resolve(filename, bases)
        if found is None:
            missing += 1
            if missing <= 5:
                notes.append(f"{filename}: not found")
            continue
        header = _bool(record.get("header", dialect.get("header")))
        truth = Truth(
            _char(dialect.get("delimiter")),
            _char(dialect.get("quotechar")) or None,
            _char(dialect.get("escapechar")) or None,
            header,
        )
        cases.append(Case(name, filename, found, truth))
    if skipped:
        notes.append(f"{skipped} records without status OK or a dialect left out")
    if missing:
        notes.append(f"{missing} annotated files not found (pass --data-root)")
    return name, cases, notes


def _resolve(filename: str, bases: Sequence[Path]) -> Path | None:
    p = Path(filename)
    if p.is_absolute():
        return p if p.is_file() else None
    for base in bases:
        if (base / p).is_file():
            return base / p
    for base in bases[:1]:
        if (base / p.name).is_file():
            return base / p.name
    return None


# --------------------------------------------------------------------------------------------
# synthetic 64 KiB samples (shared with bench_detect.py)

_WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu"
).split()
_NAMES_1252 = (
    "Müller Jäger Größe Café Crème Brûlée Ærø Señor Ångström Zoë Façade Naïve Œuvre Smørrebrød"
).split()


def _fill(
    header: str, row: Callable[[random.Random, int], str], size: int, encoding: str = "utf-8"
) -> bytes:
    """The header, then seeded rows until the encoded file holds at least ``size`` bytes."""
    rng = random.Random(20240601)
    out = [(header + "\n").encode(encoding)]
    total = len(out[0])
    i = 0
    while total < size:
        i += 1
        out.append((row(rng, i) + "\n").encode(encoding))
        total += len(out[-1])
    return b"".join(out)


def _plain(rng: random.Random, i: int) -> str:
    return (
        f"{i},{rng.choice(_WORDS)}{rng.randrange(100)},{rng.uniform(0, 1e4):.2f},"
        f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T"
        f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00,{rng.choice(('true', 'false'))}"
    )


def _quoted(rng: random.Random, i: int) -> str:
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(2, 9)))
    if i % 3 == 0:
        words += ', said "' + rng.choice(_WORDS) + '"'
    if i % 5 == 0:
        words += "\nsecond line, " + rng.choice(_WORDS)
    comment = '"' + words.replace('"', '""') + '"'
    author = f'"{rng.choice(_WORDS).title()}, {rng.choice(_WORDS).title()}"'
    return f"{i},{author},{comment},{rng.randrange(10)}"


def _decimal_comma(cents: int) -> str:
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def _semicolon(rng: random.Random, i: int) -> str:
    qty = rng.randrange(1, 50)
    cents = rng.randrange(100, 500000)
    item = rng.choice(_WORDS).title()
    if i % 4 == 0:
        item = f'"{item}; {rng.choice(_WORDS)}"'
    day, month = rng.randrange(1, 29), rng.randrange(1, 13)
    return f"{day:02d}.{month:02d}.2024;{item};{qty};{_decimal_comma(cents)};" + _decimal_comma(
        cents * qty
    )


def _tsv(rng: random.Random, i: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 6)))
    return f"{i}\t{text}, {rng.choice(_WORDS)}\t{rng.uniform(-100, 100):.3f}\t{rng.randrange(9)}"


def _cp1252(rng: random.Random, i: int) -> str:
    name = f"{rng.choice(_NAMES_1252)} {rng.choice(_NAMES_1252)}"
    amount = f"{rng.randrange(1, 10000)},{rng.randrange(100):02d} €"
    note = "„" + rng.choice(_WORDS) + "\u201c \u2013 " + rng.choice(_NAMES_1252)
    return f'{i},{name},"{amount}",{note},{rng.choice(("oui", "non"))}'


def synthetic_samples(size: int = SAMPLE_BYTES) -> dict[str, tuple[bytes, Truth]]:
    """Five generated files of just over ``size`` bytes each, with their dialects.

    ``plain.csv`` (comma, no quotes), ``quoted_multiline.csv`` (quoted fields with commas,
    doubled quotes and line breaks), ``semicolon_decimal_comma.csv`` (``;`` with ``12,50``
    numbers), ``tabs.tsv`` (tab, fields holding commas) and ``windows1252.csv`` (comma,
    windows-1252 text with accents, ``€`` and typographic quotes). Deterministic.
    """
    rfc = Truth(",", '"', None, header=True)
    return {
        "plain.csv": (_fill("id,user,amount,ts,ok", _plain, size), rfc),
        "quoted_multiline.csv": (_fill("id,author,comment,score", _quoted, size), rfc),
        "semicolon_decimal_comma.csv": (
            _fill("datum;artikel;menge;preis;summe", _semicolon, size),
            Truth(";", '"', None, header=True),
        ),
        "tabs.tsv": (
            _fill("id\ttext\tvalue\tcode", _tsv, size),
            Truth("\t", '"', None, header=True),
        ),
        "windows1252.csv": (_fill("nr,name,betrag,notiz,aktiv", _cp1252, size, "cp1252"), rfc),
    }


def write_synthetic(folder: Path, size: int = SAMPLE_BYTES) -> list[Case]:
    """Write :func:`synthetic_samples` into ``folder`` and return them as cases."""
    cases = []
    for name, (data, truth) in synthetic_samples(size).items():
        path = folder / name
        path.write_bytes(data)
        cases.append(Case("synthetic", name, path, truth))
    return cases


# --------------------------------------------------------------------------------------------
# tools


@dataclass(frozen=True)
class Tool:
    """A detector: ``detect`` is timed; ``header`` (optional) is asked once, untimed."""

    name: str
    detect: Callable[[Path], Guess]
    header: Callable[[Path], bool | None] | None = None


def _logflow_tool() -> Tool:
    import logflow

    def detect(path: Path) -> Guess:
        d = logflow.detect(path)
        if d.dialect is None:
            raise NoAnswer(f"no dialect (format {d.format.value}, encoding {d.encoding.value})")
        info = {
            "format": d.format.value,
            "encoding": d.encoding.value,
            "confidence": round(d.dialect.confidence, 3),
            "evidence": d.dialect.evidence,
            "skip_lines": d.dialect.skip_lines,
        }
        dl = d.dialect
        return Guess(dl.delimiter, dl.quote, dl.escape, dl.header, info)

    return Tool("logflow", detect)


def _sniffer_tool() -> Tool:
    def detect(path: Path) -> Guess:
        sample = read_sample(path)
        sniffer = csv.Sniffer()
        dialect = sniffer.sniff(sample)
        try:
            header: bool | None = sniffer.has_header(sample)
        except csv.Error:
            header = None
        info = {"doublequote": dialect.doublequote}
        return Guess(dialect.delimiter, dialect.quotechar, dialect.escapechar, header, info)

    return Tool("sniffer", detect)


def _clevercsv_tool() -> Tool:
    import clevercsv

    def detect(path: Path) -> Guess:
        dialect = clevercsv.Detector().detect(read_sample(path))
        if dialect is None:
            raise NoAnswer("no dialect")
        return Guess(dialect.delimiter, dialect.quotechar or None, dialect.escapechar or None)

    def header(path: Path) -> bool | None:
        try:
            return bool(clevercsv.Detector().has_header(read_sample(path)))
        except Exception:
            return None

    return Tool("clevercsv", detect, header)


def _duckdb_tool() -> Tool:
    import duckdb

    con = duckdb.connect()

    def none_if_empty(value: str | None) -> str | None:
        return None if value in (None, "", "(empty)", "\x00") else value

    def detect(path: Path) -> Guess:
        row = con.execute(
            "SELECT Delimiter, Quote, Escape, HasHeader FROM sniff_csv(?)", [str(path)]
        ).fetchone()
        if row is None:
            raise NoAnswer("sniff_csv returned no row")
        delimiter, quote, escape, header = row
        return Guess(
            none_if_empty(delimiter) or "", none_if_empty(quote), none_if_empty(escape), header
        )

    return Tool("duckdb", detect)


_FACTORIES: dict[str, tuple[Callable[[], Tool], str]] = {
    "logflow": (_logflow_tool, "install the logflow wheel"),
    "sniffer": (_sniffer_tool, ""),
    "clevercsv": (_clevercsv_tool, "python3 -m pip install clevercsv"),
    "duckdb": (_duckdb_tool, "python3 -m pip install duckdb"),
}


def make_tools(names: Sequence[str]) -> tuple[list[Tool], list[str]]:
    """The tools that can run, and a message for each one that cannot."""
    tools, skipped = [], []
    for name in names:
        factory, hint = _FACTORIES[name]
        try:
            tools.append(factory())
        except ImportError as e:
            skipped.append(f"{name} skipped: cannot import it ({e}); {hint}")
    return tools, skipped


# --------------------------------------------------------------------------------------------
# running and scoring


def run_case(case: Case, tools: Sequence[Tool], repeat: int) -> FileResult:
    """Run every tool on one file, ``repeat`` times each, and score the answers."""
    with open(case.path, "rb") as f:
        head = f.read(TEXT_CAP)
    text = decode(head)
    t = case.truth
    truth = canonical(t.delimiter, t.quote, t.escape, text)
    outcomes: dict[str, Outcome] = {}
    for tool in tools:
        guess: Guess | None = None
        error: str | None = None
        times: list[float] = []
        for _ in range(repeat):
            start = time.perf_counter()
            try:
                guess = tool.detect(case.path)
            except Exception as e:
                times.append((time.perf_counter() - start) * 1e3)
                guess, error = None, f"{type(e).__name__}: {e}".strip()
                break
            times.append((time.perf_counter() - start) * 1e3)
        outcome = Outcome(tool.name, guess, error, times)
        if guess is not None:
            if tool.header is not None:
                guess = outcome.guess = replace(guess, header=tool.header(case.path))
            got = canonical(guess.delimiter, guess.quote, guess.escape, text)
            outcome.dialect_ok = got == truth
            outcome.same_rows = same_rows(text, truth, got)
            if t.header is not None:
                outcome.header_ok = guess.header == t.header
        elif t.header is not None:
            outcome.header_ok = False
        if guess is None:
            outcome.same_rows = False
        outcomes[tool.name] = outcome
    return FileResult(case, case.path.stat().st_size, outcomes)


def warm_up(tools: Sequence[Tool], case: Case) -> None:
    """One untimed call per tool (imports, connections, caches)."""
    for tool in tools:
        try:
            tool.detect(case.path)
        except Exception:
            pass


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:.1f}% ({hits}/{total})" if total else "-"


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def accuracy_table(results: Sequence[FileResult], tools: Sequence[str]) -> str:
    """The markdown accuracy/time table of ``results``, one row per tool."""
    lines = [
        "| tool | files | dialect right | same rows | failed | header right | median ms/file |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in tools:
        outs = [r.outcomes[name] for r in results if name in r.outcomes]
        n = len(outs)
        rows_known = [o for o in outs if o.same_rows is not None]
        headers = [o for o in outs if o.header_ok is not None]
        lines.append(
            f"| {name} | {n} | {_pct(sum(o.dialect_ok for o in outs), n)} "
            f"| {_pct(sum(bool(o.same_rows) for o in rows_known), len(rows_known))} "
            f"| {_pct(sum(o.failed for o in outs), n)} "
            f"| {_pct(sum(bool(o.header_ok) for o in headers), len(headers))} "
            f"| {_ms(_median([o.ms for o in outs]))} |"
        )
    return "\n".join(lines)


def speed_table(results: Sequence[FileResult], tools: Sequence[str]) -> str:
    """Median times per file and per full 64 KiB sample, and each tool's ratio to logflow."""
    full = [r for r in results if r.size >= SAMPLE_BYTES]
    per_file = {n: _median([r.outcomes[n].ms for r in results if n in r.outcomes]) for n in tools}
    per_full = {n: _median([r.outcomes[n].ms for r in full if n in r.outcomes]) for n in tools}

    def ratio(values: dict[str, float | None], name: str) -> str:
        base, value = values.get("logflow"), values.get(name)
        return f"{value / base:.1f}x" if base and value is not None else "-"

    lines = [
        f"| tool | median ms/file ({len(results)} files) | vs logflow "
        f"| median ms per 64 KiB sample ({len(full)} files >= 64 KiB) | vs logflow |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in tools:
        lines.append(
            f"| {name} | {_ms(per_file[name])} | {ratio(per_file, name)} "
            f"| {_ms(per_full[name])} | {ratio(per_full, name)} |"
        )
    if not full:
        lines.append("")
        lines.append("No file reaches 64 KiB here; add --synthetic for full-sample timings.")
    return "\n".join(lines)


def misses(results: Sequence[FileResult], tool: str) -> list[str]:
    """One markdown bullet per file ``tool`` got wrong or failed on."""
    out = []
    for r in results:
        o = r.outcomes.get(tool)
        if o is None or o.dialect_ok:
            continue
        t = r.case.truth
        line = f"- `{r.case.name}`: truth {show_dialect(t.delimiter, t.quote, t.escape)}; "
        if o.guess is None:
            first = (o.error or "").splitlines()[0] if o.error else ""
            line += f"{tool} failed ({first[:200]})"
        else:
            g = o.guess
            line += f"{tool} {show_dialect(g.delimiter, g.quote, g.escape)}"
            line += f"; same rows: {'unknown' if o.same_rows is None else o.same_rows}"
            if g.info.get("evidence"):
                line += f"; confidence {g.info['confidence']}, {g.info['evidence']}"
        if t.notes:
            line += f" [{t.notes}]"
        out.append(line)
    return out


def report(
    corpora: Sequence[tuple[str, list[FileResult], list[str]]],
    tools: Sequence[str],
    miss_tools: Sequence[str],
) -> str:
    """The whole markdown report."""
    parts = []
    everything: list[FileResult] = []
    for name, results, notes in corpora:
        everything.extend(results)
        parts.append(f"## {name} ({len(results)} files)\n\n{accuracy_table(results, tools)}")
        for note in notes:
            parts.append(f"note: {note}")
        for tool in miss_tools:
            wrong = misses(results, tool)
            if wrong:
                parts.append(f"{tool} wrong on {len(wrong)}:\n\n" + "\n".join(wrong))
    if len(corpora) > 1:
        parts.append(f"## overall ({len(everything)} files)\n\n{accuracy_table(everything, tools)}")
    parts.append(f"## speed\n\n{speed_table(everything, tools)}")
    return "\n\n".join(parts) + "\n"


def to_json(
    corpora: Sequence[tuple[str, list[FileResult], list[str]]], tools: Sequence[str], repeat: int
) -> dict[str, Any]:
    """The raw per-file results, for ``--json``."""
    versions: dict[str, str] = {"python": sys.version.split()[0]}
    for module in ("logflow", "clevercsv", "duckdb"):
        try:
            versions[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            pass
    files = []
    for _name, results, _notes in corpora:
        for r in results:
            files.append(
                {
                    "corpus": r.case.corpus,
                    "file": r.case.name,
                    "path": str(r.case.path),
                    "bytes": r.size,
                    "truth": asdict(r.case.truth),
                    "tools": {
                        name: {
                            "guess": asdict(o.guess) if o.guess else None,
                            "error": o.error,
                            "dialect_ok": o.dialect_ok,
                            "same_rows": o.same_rows,
                            "header_ok": o.header_ok,
                            "times_ms": [round(t, 4) for t in o.times_ms],
                        }
                        for name, o in r.outcomes.items()
                    },
                }
            )
    return {
        "sample_bytes": SAMPLE_BYTES,
        "repeat": repeat,
        "tools": list(tools),
        "versions": versions,
        "files": files,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Dialect detection accuracy and speed: logflow, csv.Sniffer, CleverCSV, "
        "DuckDB.",
    )
    parser.add_argument(
        "corpora",
        nargs="*",
        type=Path,
        help="csv-spectrum or CSVW folders, annotation files or folders holding one "
        f"(default: {', '.join(DEFAULT_SUITES)} under $LOGFLOW_CONFORMANCE)",
    )
    parser.add_argument("--tools", default=",".join(TOOL_NAMES), help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per file and tool")
    parser.add_argument("--json", type=Path, help="write the raw per-file results here")
    parser.add_argument("--data-root", type=Path, help="where annotated file names resolve")
    parser.add_argument(
        "--synthetic", action="store_true", help="add the five generated 64 KiB samples"
    )
    parser.add_argument(
        "--misses",
        default="logflow",
        help="tools whose wrong files are listed (comma-separated, 'all' or 'none')",
    )
    args = parser.parse_args(argv)

    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    unknown = sorted(set(names) - set(TOOL_NAMES))
    if unknown:
        parser.error(f"unknown tools {unknown}; choose from {', '.join(TOOL_NAMES)}")
    tools, skipped = make_tools(names)
    for message in skipped:
        print(message, file=sys.stderr)
    tool_names = [t.name for t in tools]
    if not tools:
        print("no tool can run", file=sys.stderr)
        return 1
    miss_tools = {"all": tool_names, "none": []}.get(
        args.misses, [n for n in args.misses.split(",") if n in tool_names]
    )

    paths = list(args.corpora)
    if not paths and not args.synthetic:
        paths = [CONFORMANCE / s for s in DEFAULT_SUITES]
        absent = [p for p in paths if not p.is_dir()]
        if absent:
            print(
                f"conformance suites not found: {', '.join(map(str, absent))} (set "
                "LOGFLOW_CONFORMANCE, or name corpora on the command line)",
                file=sys.stderr,
            )
            return 1

    corpora: list[tuple[str, list[FileResult], list[str]]] = []
    with tempfile.TemporaryDirectory(prefix="detect-accuracy-") as tmp:
        loaded = [load_corpus(p, args.data_root) for p in paths]
        if args.synthetic:
            loaded.append(("synthetic", write_synthetic(Path(tmp)), []))
        for name, cases, notes in loaded:
            if not cases:
                print(f"{name}: no files, skipped", file=sys.stderr)
                continue
            print(f"{name}: {len(cases)} files ...", file=sys.stderr, flush=True)
            warm_up(tools, cases[0])
            results = [run_case(c, tools, max(1, args.repeat)) for c in cases]
            corpora.append((name, results, notes))

    header = "# Dialect detection: " + ", ".join(tool_names)
    if skipped:
        header += "\n\n" + "\n".join(f"note: {m}" for m in skipped)
    print(header + "\n\n" + report(corpora, tool_names, miss_tools), end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(corpora, tool_names, args.repeat), indent=1))
        print(f"\nraw results: {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
