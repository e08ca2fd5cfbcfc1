"""Write polluted variants of one clean CSV table, after the Pollock data-loading benchmark.

Pollock (Vitagliano et al., VLDB 2023; github.com/HPI-Information-Systems/Pollock) takes one
clean source table, writes 2,289 polluted versions of it plus the source itself, loads every
file with each system under test and scores how close each loaded table is to the clean one.
This script re-creates its file set from its description and published file layout (the code
here is written from scratch):

- the ``pollock`` suite, the 2,290 files of the published benchmark for a table of 84 rows
  (header + 83 records) by 9 columns: the source, 12 file-level and 10 table-level
  ("structural") pollutions, and for every row ``r`` (0 is the header) and column ``c``: an
  extra delimiter before cell ``c`` (``row_more_sep``), a missing delimiter before cell ``c``
  (``row_less_sep``, ``c >= 1``), a stray unescaped quote at the start of cell ``c``
  (``row_extra_quote``) and row ``r`` delimited by spaces (``row_field_delimiter``);
- the ``extended`` suite: pollutions the benchmark's own polluter library defines but its
  published file set leaves out (text encodings, footnotes, other preambles, empty rows, rows
  with fewer or more fields, a row with another line ending, quote or escape character,
  empty header cells, two tables separated by a blank line). They are reported apart and do
  not count in the Pollock scores.

Every polluted file comes with its clean target table: the table the file is meant to hold
once the pollution is undone (for ``row_extra_quote`` the stray quote is part of the cell, as
in the benchmark; preamble, footnote and second-table rows are not part of the target; for
``file_no_header`` the target has no header row). Targets are written once per distinct table
under ``clean/`` as RFC 4180 CSV (every field quoted, LF line ends).

Usage::

    python benches/loading/pollute.py [--out DIR] [--seed N] [--source CLEAN.csv]
                                      [--suite pollock|extended|all] [--sample K]

``--source`` pollutes your own clean CSV (comma, double quote, quotes doubled, one header
row); without it a Pollock-like table is generated from ``--seed``: 83 product records with a
day-first date (the day is always 13 or more, so the date is unambiguous), a time, a quantity,
a product id, a price with a currency sign, product names and descriptions with commas,
apostrophes and inch marks (``24"``), a URL and an empty comment column. ``--sample K`` keeps
K files of each row-level family (chosen with ``--seed``) for a quick run.

Output (default ``benches/loading/.data/``)::

    csv/<name>.csv        the polluted files
    clean/<digest>.csv    the clean target tables
    manifest.json         per file: family, parameters, true dialect, weight, clean target
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import io
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / ".data"

SOURCE_QUOTE = '"'
"""Quote character of the clean source; escape sequences stay bound to it (see Table)."""

# Weight of every file of a family in the weighted Pollock score: how often the pollution was
# seen in the benchmark's survey of real-world CSV files (its published per-file weights; the
# score normalises them over the files present).
POLLOCK_WEIGHTS: dict[str, float] = {
    "source": 1.0,
    "file_no_payload": 15.0,
    "file_no_trailing_newline": 184.0,
    "file_double_trailing_newline": 5.0,
    "file_no_header": 470.0,
    "file_header_multirow_2": 47.0,
    "file_header_multirow_3": 47.0,
    "file_preamble": 282.0,
    "file_multitable_less": 188.0 / 3,
    "file_multitable_same": 188.0 / 3,
    "file_multitable_more": 188.0 / 3,
    "file_header_only": 3.0,
    "file_one_data_row": 4.0,
    "file_record_delimiter_0xD": 7.0,
    "file_record_delimiter_0xA": 1691.0,
    "file_field_delimiter_0x9": 4.0,
    "file_field_delimiter_0x3B": 834.0,
    "file_field_delimiter_0x20": 4.0,
    "file_field_delimiter_0x2C_0x20": 101.0,
    "file_quotation_char_0x27": 11.0,
    "file_escape_char_0x5C": 1.0,
    "file_escape_char_0x00": 7.0,
    "row_less_sep": 0.36775106082036774,
    "row_more_sep": 0.36775106082036774,
    "row_extra_quote": 1.0 / 108,
    "row_field_delimiter": 1.0 / 7,
}


# --------------------------------------------------------------------------------------------
# The table model: cells, rows and how they are written out.
# --------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One field: its text, whether it is enclosed in quotes, and raw text after the quote."""

    text: str
    quoted: bool = False
    stray: str = ""
    """Written as is right after the opening quote (or first, when unquoted); part of the
    clean value. ``row_extra_quote`` puts an unescaped quote character here."""

    @property
    def value(self) -> str:
        """The cell as the clean target holds it."""
        return self.stray + self.text


@dataclass
class Row:
    """One record line: cells, the delimiters between them and the line ending."""

    cells: list[Cell]
    role: str
    """``header``, ``data``, ``preamble``, ``footnote``, ``extra_table`` or ``blank``; only
    header and data rows are part of the clean target."""
    delims: list[str] = field(default_factory=list)
    """``delims[i]`` is written between cell ``i`` and ``i + 1``."""
    lead: str = ""
    """Written before the first cell (``row_more_sep`` at column 0 puts a delimiter here)."""
    end: str = "\r\n"
    quote: str | None = None
    """Quote character of this row when it differs from the table's."""
    escape: str | None = None
    """Escape character of this row when it differs from the table's."""


@dataclass
class Table:
    r"""A whole file: rows plus the dialect they are written in.

    Like the benchmark, which records each cell's escape characters when it reads the source,
    a quote character inside a value is always written as ``escape + '"'`` (the source's
    quote); changing the quote character later changes only the enclosing quotes. So
    ``file_quotation_char_0x27`` still has ``""`` inside fields and does not escape the
    apostrophes, and ``file_escape_char_0x5C`` writes ``\\"``.
    """

    rows: list[Row]
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    encoding: str = "utf-8"

    def set_delimiter(self, delimiter: str) -> None:
        """Use ``delimiter`` between every pair of cells of every row."""
        self.delimiter = delimiter
        for row in self.rows:
            row.delims = [delimiter] * (len(row.cells) - 1)

    def render(self) -> str:
        """The file's text."""
        out: list[str] = []
        for row in self.rows:
            quote = row.quote if row.quote is not None else self.quote
            escape = row.escape if row.escape is not None else self.escape
            out.append(row.lead)
            for i, cell in enumerate(row.cells):
                body = cell.stray + cell.text.replace(SOURCE_QUOTE, escape + SOURCE_QUOTE)
                out.append(quote + body + quote if cell.quoted else body)
                if i < len(row.cells) - 1:
                    out.append(row.delims[i])
            out.append(row.end)
        return "".join(out)

    def encode(self) -> bytes:
        """The file's bytes in its encoding (``utf-16`` and ``utf-8-sig`` start with a BOM)."""
        return self.render().encode(self.encoding)

    def clean(self) -> list[list[str]]:
        """The clean target table.

        One header row (several header rows joined per column with a space) and the data
        rows; preamble, footnote and extra-table rows are left out.
        """
        headers = [r for r in self.rows if r.role == "header"]
        out: list[list[str]] = []
        if len(headers) == 1:
            out.append([c.value for c in headers[0].cells])
        elif headers:
            width = max(len(r.cells) for r in headers)
            out.append(
                [
                    " ".join(r.cells[i].value for r in headers if i < len(r.cells))
                    for i in range(width)
                ]
            )
        out.extend([c.value for c in r.cells] for r in self.rows if r.role == "data")
        return out

    def dialect(self) -> dict[str, object]:
        """The true loading parameters, as a reference loader needs them."""
        first_header = next((i for i, r in enumerate(self.rows) if r.role in ("header", "data")), 0)
        ends = [r.end for r in self.rows if r.end]
        return {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "quotechar": self.quote,
            "escapechar": self.escape,
            "record_delimiter": max(set(ends), key=ends.count) if ends else "",
            "preamble_lines": first_header,
            "header_lines": sum(r.role == "header" for r in self.rows),
            "footnote_lines": sum(r.role == "footnote" for r in self.rows),
            "extra_table_lines": sum(r.role == "extra_table" for r in self.rows),
        }


def make_row(values: list[str], role: str, quoted: set[int] | None = None) -> Row:
    """A comma-delimited row.

    A cell is quoted when listed in ``quoted`` or when its value holds a comma, quote or line
    break (as the benchmark's minimal quoting does).
    """
    cells = [
        Cell(v, quoted=(quoted is not None and i in quoted) or any(ch in v for ch in ',"\r\n'))
        for i, v in enumerate(values)
    ]
    return Row(cells=cells, role=role, delims=[","] * (len(cells) - 1))


def table_from_csv(path: Path) -> Table:
    """Read a clean CSV into the model, keeping which fields were quoted.

    The file is comma-delimited, quotes with ``"``, escapes quotes by doubling them and has
    one header row.
    """
    text = path.read_text(encoding="utf-8-sig")
    rows: list[Row] = []
    for i, (values, quoted) in enumerate(_split_records(text)):
        rows.append(make_row(values, "header" if i == 0 else "data", quoted))
    if not rows:
        raise SystemExit(f"{path}: no rows")
    return Table(rows=rows)


def _split_records(text: str) -> Iterator[tuple[list[str], set[int]]]:
    """RFC 4180 records of ``text`` with the indexes of their quoted fields."""
    i, n = 0, len(text)
    while i < n:
        values: list[str] = []
        quoted: set[int] = set()
        while True:
            buf: list[str] = []
            if i < n and text[i] == '"':
                quoted.add(len(values))
                i += 1
                while i < n:
                    if text[i] == '"':
                        if i + 1 < n and text[i + 1] == '"':
                            buf.append('"')
                            i += 2
                            continue
                        i += 1
                        break
                    buf.append(text[i])
                    i += 1
            while i < n and text[i] not in ",\r\n":
                buf.append(text[i])
                i += 1
            values.append("".join(buf))
            if i < n and text[i] == ",":
                i += 1
                continue
            break
        if text.startswith("\r\n", i):
            i += 2
        elif i < n:
            i += 1
        if values != [""]:
            yield values, quoted


# --------------------------------------------------------------------------------------------
# A Pollock-like clean source table.
# --------------------------------------------------------------------------------------------

_ITEMS = (
    "Hiking Boots|Running Jacket|Trail Shoes|Fly Rod|Throw Pillow|Suspenders|"
    "Cotton Towel|Cycling Jersey|Silk Underwear|Dining Table|No-Show Socks|Down Vest|"
    "Tropic Cap|3-in-1 Jacket|Oxford Shirt|Good Mocs|Sweater Fleece|Boxer|Mountain Bike|"
    "Leather Sofa|Snowshoes Set|Tippet Material|Wet Suit|Heated Insoles|Base Layer|"
    "Quarter-Zip Hoodie|Tee|Pullover|Running Vest|Rolling Duffle|Linen Shirt|"
    "Hunting Shoes|Loafers|Sneaker|Biking Shorts|Stove Kit|Travel Lock|Game Center|"
    "Ragg Sweater|Coffee Press|Canvas Shirt|Wool Coat|Sandals|Flannel Tunic|Wool Hat|"
    "Coffee Table|Baseball Hat|Beach Chair|Reversible Jacket|Swimwear|Ear Warmer|"
    "Camp Light|Field Watch|Capris|Ceramic Lamp|Hydration Pack|Sunglasses|Havana Hat|"
    "Headlamp"
).split("|")
_WHO = ["Men's", "Women's", "Kids'", "Girls'", ""]
_VARIANTS = (
    "Short-Sleeve|Hooded|Plaid|Print|Two-Pack|Tall|Slim|Camo|Extra-Large|Leather Mesh|"
    "Low Ventilated|Traditional Fit"
).split("|")
_OPENERS = (
    "Designed for|Made with|Inspired by|Built for|Perfect for|Crafted from|Ideal for|Tested in"
).split("|")
_OBJECTS = (
    "long days on the trail|cold, wet weather|the classroom and the world outside|"
    "warm-weather adventures|rivers, lakes and tidal rips|year-round comfort|"
    "hikes, bike rides and walks around town|a custom-like feel|all-day comfort|"
    "the most rigorous adventures"
).split("|")
_CLAIMS = (
    "it won't chip, peel, warp or crack|you'll never want to take it off|"
    "it dries quickly and resists odor|it's our most popular style|"
    "it delivers warmth without bulk|it keeps you cool, dry and protected|"
    "it's durable enough for everyday use|it packs down small and weighs only 2.4 oz"
).split("|")
_PREFIXES = ["MG", "RI", "CC", "YY", "BH", "HK", "AN", "ZN", "GN", "ON", "WH"]
HEADER = [
    "DATE",
    "TIME",
    "Qty",
    "PRODUCTID",
    "Price",
    "ProductType",
    "ProductDescription",
    "URL",
    "Comments",
]


def generate_source(seed: int, n_records: int = 83) -> Table:
    """A Pollock-like product table of ``n_records`` records plus a header (9 columns)."""
    rng = random.Random(seed)
    rows = [make_row(HEADER, "header", quoted={6, 7})]
    month, day, minute = 1, 28, 0
    used_ids: set[str] = set()
    for i in range(n_records):
        day += 1
        if day > 28:
            month, day = month % 12 + 1, 13
        minute = (minute + 15) % (24 * 60)
        while True:
            pid = f"{rng.choice(_PREFIXES)}-{rng.randint(1000, 9999)}"
            if pid not in used_ids:
                used_ids.add(pid)
                break
        qty = rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 4]) if rng.random() < 0.8 else rng.randint(5, 33)
        price = rng.randint(10, 9999) / 100
        price_s = f"${price:.2f}"
        if i % 17 == 5:
            price_s = f"${int(price)}"  # whole dollars, no decimals
        elif i % 13 == 4:
            price_s = f"${price:g}"  # trailing zero dropped: $43.4, $0.9
        who = rng.choice(_WHO)
        item = rng.choice(_ITEMS)
        ptype = f"{who} {item}".strip()
        if i % 3 == 1:
            ptype += ", " + rng.choice(_VARIANTS)
        if i % 19 == 7:
            ptype += f', {rng.choice([5, 10, 24, 48])}"'  # inch mark: a quote inside a value
        if i == 11:
            ptype = ptype.replace(" ", "  ", 1)  # a double space
        desc = (
            f"{rng.choice(_OPENERS)} {rng.choice(_OBJECTS)}, this "
            f"{item.lower()} is what you need: {rng.choice(_CLAIMS)}."
        )
        if i % 4 == 0:
            desc += f" {rng.choice(_OPENERS)} {rng.choice(_OBJECTS)}."
        if i == 11:
            # a backslash before an apostrophe and an inch mark: what trips escape sniffers
            desc = "Amazingly crisp action in our 8\\'9\" length rod, designed for her."
        values = [
            f"{day:02d}/{month:02d}/2018",
            f"{minute // 60:02d}:{minute % 60:02d}",
            str(qty),
            pid,
            price_s,
            ptype,
            desc,
            f"https://www.example.com/product/{pid.replace('-', '_')}.html",
            "",
        ]
        rows.append(make_row(values, "data", quoted={6, 7}))
    return Table(rows=rows)


def with_accents(table: Table) -> Table:
    """A copy with non-ASCII letters in a few names, for the encoding pollutions."""
    t = copy.deepcopy(table)
    words = ["Café", "Zürich", "Señora", "Crème", "Øresund", "Åland", "naïve", "Façade"]
    data = [r for r in t.rows if r.role == "data"]
    for k, row in enumerate(data[::7]):
        cell = row.cells[5] if len(row.cells) > 5 else row.cells[-1]
        cell.text = f"{words[k % len(words)]} {cell.text}"
    return t


# --------------------------------------------------------------------------------------------
# Pollutions. Each takes a deep copy of the clean table and changes it in place.
# --------------------------------------------------------------------------------------------


def _hexname(chars: str) -> str:
    return "_".join(f"0x{ord(c):X}" for c in chars) if chars else "0x00"


def _width(t: Table) -> int:
    return max(len(r.cells) for r in t.rows)


def no_payload(t: Table) -> None:
    """An empty file: 0 bytes, empty target."""
    t.rows.clear()


def last_line_end(t: Table, end: str) -> None:
    """The last record ends with ``end`` (``""``: no final line break)."""
    t.rows[-1].end = end


def remove_header(t: Table) -> None:
    """The header row is gone (the target has no header either)."""
    t.rows = [r for r in t.rows if r.role != "header"]


def multirow_header(t: Table, extra: int) -> None:
    """The header written ``1 + extra`` times; the target joins them per column."""
    header = next(r for r in t.rows if r.role == "header")
    t.rows[0:0] = [copy.deepcopy(header) for _ in range(extra)]


def preamble(t: Table, n_rows: int, delimited: bool, empty_row: bool) -> None:
    """``n_rows`` lines of ``PREAMBLE`` before the table.

    Each is padded to the table's width with empty cells when ``delimited``; with
    ``empty_row`` an empty line (delimited like the preamble) follows them.
    """
    width = _width(t)
    rows: list[Row] = []
    for _ in range(n_rows):
        values = ["PREAMBLE"] + [""] * (width - 1) if delimited else ["PREAMBLE"]
        rows.append(make_row(values, "preamble"))
    if empty_row:
        rows.append(make_row([""] * width if delimited else [""], "preamble"))
    for r in rows:
        r.delims = [t.delimiter] * (len(r.cells) - 1)
    t.rows[0:0] = rows


def footnote(t: Table, n_rows: int, delimited: bool, empty_row: bool) -> None:
    """``n_rows`` lines of ``FOOTNOTE`` after the table (see :func:`preamble`)."""
    width = _width(t)
    rows: list[Row] = []
    if empty_row:
        rows.append(make_row([""] * width if delimited else [""], "footnote"))
    for _ in range(n_rows):
        values = ["FOOTNOTE"] + [""] * (width - 1) if delimited else ["FOOTNOTE"]
        rows.append(make_row(values, "footnote"))
    for r in rows:
        r.delims = [t.delimiter] * (len(r.cells) - 1)
    t.rows.extend(rows)


def second_table(t: Table, n_rows: int, n_cols: int, blank_line: bool) -> None:
    """A second table after the first; only the first is the target.

    The second table is the first ``n_rows`` rows of the first (header included) cut or padded
    to ``n_cols`` columns (padding repeats the last cell under the names ``col1``, ``col2``,
    ...), written with minimal quoting, after an empty line when ``blank_line``.
    """
    width = _width(t)
    added: list[Row] = []
    if blank_line:
        added.append(make_row([""], "extra_table"))
    for k, row in enumerate(t.rows[:n_rows]):
        values = [c.value for c in row.cells][:n_cols]
        for extra in range(n_cols - width):
            values.append(f"col{extra + 1}" if k == 0 else (values[width - 1] if width else ""))
        added.append(make_row(values, "extra_table"))
    t.rows.extend(added)


def keep_rows(t: Table, n_rows: int) -> None:
    """Only the first ``n_rows`` rows (header included)."""
    t.rows = t.rows[:n_rows]


def more_sep(t: Table, row: int, col: int) -> None:
    """Row ``row`` gets one more delimiter, in front of cell ``col``."""
    r = t.rows[row]
    if col == 0:
        r.lead = t.delimiter + r.lead
    else:
        r.delims[col - 1] = t.delimiter + r.delims[col - 1]


def less_sep(t: Table, row: int, col: int) -> None:
    """Row ``row`` loses the delimiter in front of cell ``col`` (``col >= 1``)."""
    t.rows[row].delims[col - 1] = ""


def extra_quote(t: Table, row: int, col: int) -> None:
    """Cell ``col`` of row ``row`` starts with an unescaped quote character.

    The target keeps the quote as part of the value.
    """
    cell = t.rows[row].cells[col]
    cell.stray = t.quote + cell.stray


def row_delimiter(t: Table, row: int, delimiter: str) -> None:
    """Row ``row`` delimited with ``delimiter`` instead of the table's."""
    r = t.rows[row]
    r.delims = [delimiter] * (len(r.cells) - 1)


def record_delimiter(t: Table, end: str) -> None:
    """Every record ends with ``end``."""
    for r in t.rows:
        r.end = end


def field_delimiter(t: Table, delimiter: str) -> None:
    """Every field delimited with ``delimiter``; quoting left as it was for commas."""
    t.set_delimiter(delimiter)


def quotation_char(t: Table, quote: str) -> None:
    """Quoted fields enclosed in ``quote``.

    Values keep their escaped ``"`` (``""``) and their unescaped ``quote`` characters.
    """
    t.quote = quote


def escape_char(t: Table, escape: str) -> None:
    """A ``"`` inside a value written as ``escape + '"'`` (``""``: not escaped at all)."""
    t.escape = escape


def encoding(t: Table, codec: str) -> None:
    """The file written in encoding ``codec``."""
    t.encoding = codec


def row_fields(t: Table, row: int, n_cells: int) -> None:
    """Row ``row`` cut or padded to ``n_cells`` cells.

    0 makes it an empty line, left out of the target; padding repeats its last cell, and the
    target has the row as written.
    """
    r = t.rows[row]
    if n_cells == 0:
        t.rows[row] = Row(cells=[Cell("")], role="blank", end=r.end)
        return
    if n_cells < len(r.cells):
        r.cells = r.cells[:n_cells]
        r.delims = r.delims[: n_cells - 1]
    else:
        last = r.cells[-1]
        for _ in range(n_cells - len(r.cells)):
            r.cells.append(copy.deepcopy(last))
            r.delims.append(t.delimiter)


def row_line_end(t: Table, row: int, end: str) -> None:
    """Row ``row`` ends with ``end`` instead of the table's line ending."""
    t.rows[row].end = end


def row_quote(t: Table, row: int, quote: str) -> None:
    """Quoted fields of row ``row`` enclosed in ``quote``."""
    t.rows[row].quote = quote


def row_escape(t: Table, row: int, escape: str) -> None:
    """Every cell of row ``row`` ends with a ``"``, escaped with ``escape`` in that row only.

    This is the benchmark's ``changeRowEscapeChar``.
    """
    r = t.rows[row]
    for cell in r.cells:
        cell.text += SOURCE_QUOTE
    r.escape = escape


def empty_header_cell(t: Table, col: int) -> None:
    """Header cell ``col`` is empty."""
    header = next(r for r in t.rows if r.role == "header")
    header.cells[col].text = ""
    header.cells[col].stray = ""


# --------------------------------------------------------------------------------------------
# The suites.
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One polluted file to write."""

    name: str
    family: str
    level: str
    """``file``, ``table`` (structural) or ``row``, as the benchmark groups them."""
    apply: Callable[[Table], None]
    params: dict[str, object] = field(default_factory=dict)
    base: str = "source"
    """``source``, or ``accented`` for the copy with non-ASCII names."""


def _c(
    name: str,
    family: str,
    level: str,
    fn: Callable[..., None],
    base: str = "source",
    **params: object,
) -> Case:
    return Case(name, family, level, lambda t: fn(t, **params), params, base)


def pollock_cases(t: Table) -> list[Case]:
    """The benchmark's published file set for table ``t``."""
    n_rows, n_cols = len(t.rows), _width(t)
    last_col = n_cols - 1
    cases = [
        _c("source.csv", "source", "file", lambda _t: None),
        _c("file_no_payload.csv", "file_no_payload", "file", no_payload),
        _c(
            "file_no_trailing_newline.csv",
            "file_no_trailing_newline",
            "file",
            last_line_end,
            end="",
        ),
        _c(
            "file_double_trailing_newline.csv",
            "file_double_trailing_newline",
            "file",
            last_line_end,
            end="\r\n\r\n",
        ),
        _c("file_no_header.csv", "file_no_header", "file", remove_header),
        _c(
            "file_header_multirow_2.csv", "file_header_multirow_2", "file", multirow_header, extra=1
        ),
        _c(
            "file_header_multirow_3.csv", "file_header_multirow_3", "file", multirow_header, extra=2
        ),
        _c(
            "file_preamble.csv",
            "file_preamble",
            "file",
            preamble,
            n_rows=1,
            delimited=True,
            empty_row=True,
        ),
        _c(
            "file_multitable_less.csv",
            "file_multitable_less",
            "file",
            second_table,
            n_rows=n_rows - 1,
            n_cols=last_col,
            blank_line=False,
        ),
        _c(
            "file_multitable_same.csv",
            "file_multitable_same",
            "file",
            second_table,
            n_rows=n_rows - 1,
            n_cols=n_cols,
            blank_line=False,
        ),
        _c(
            "file_multitable_more.csv",
            "file_multitable_more",
            "file",
            second_table,
            n_rows=n_rows - 1,
            n_cols=n_cols + 1,
            blank_line=False,
        ),
        _c("file_header_only.csv", "file_header_only", "file", keep_rows, n_rows=1),
        _c("file_one_data_row.csv", "file_one_data_row", "file", keep_rows, n_rows=2),
    ]
    for end in ("\n", "\r"):
        fam = f"file_record_delimiter_{_hexname(end)}"
        cases.append(_c(f"{fam}.csv", fam, "table", record_delimiter, end=end))
    for delim in (";", "\t", ", ", " "):
        fam = f"file_field_delimiter_{_hexname(delim)}"
        cases.append(_c(f"{fam}.csv", fam, "table", field_delimiter, delimiter=delim))
    cases.append(
        _c(
            "file_quotation_char_0x27.csv",
            "file_quotation_char_0x27",
            "table",
            quotation_char,
            quote="'",
        )
    )
    for esc in ("\\", ""):
        fam = f"file_escape_char_{_hexname(esc)}"
        cases.append(_c(f"{fam}.csv", fam, "table", escape_char, escape=esc))
    for i in range(n_rows):
        for j in range(n_cols):
            cases.append(
                _c(f"row_more_sep_row{i}_col{j}.csv", "row_more_sep", "row", more_sep, row=i, col=j)
            )
            if j > 0:
                cases.append(
                    _c(
                        f"row_less_sep_row{i}_col{j}.csv",
                        "row_less_sep",
                        "row",
                        less_sep,
                        row=i,
                        col=j,
                    )
                )
            cases.append(
                _c(
                    f"row_extra_quote{i}_col{j}.csv",
                    "row_extra_quote",
                    "row",
                    extra_quote,
                    row=i,
                    col=j,
                )
            )
        cases.append(
            _c(
                f"row_field_delimiter_{i}_0x20.csv",
                "row_field_delimiter",
                "row",
                row_delimiter,
                row=i,
                delimiter=" ",
            )
        )
    return cases


def extended_cases(t: Table) -> list[Case]:
    """Pollutions of the benchmark's polluter library left out of its published file set."""
    n_rows, n_cols = len(t.rows), _width(t)
    picks = sorted({1, 2, n_rows // 2, n_rows - 1})  # first data rows, middle, last
    cases = [
        _c(
            "ext_encoding_utf-8-sig.csv",
            "ext_encoding",
            "file",
            encoding,
            "accented",
            codec="utf-8-sig",
        ),
        _c("ext_encoding_utf-16.csv", "ext_encoding", "file", encoding, "accented", codec="utf-16"),
        _c(
            "ext_encoding_latin-1.csv",
            "ext_encoding",
            "file",
            encoding,
            "accented",
            codec="latin-1",
        ),
        _c("ext_encoding_utf-8.csv", "ext_encoding", "file", encoding, "accented", codec="utf-8"),
    ]
    for delimited in (True, False):
        for empty in (True, False):
            tag = f"{'' if delimited else 'not_'}delimited{'_empty_row' if empty else ''}"
            cases.append(
                _c(
                    f"ext_preamble_3_{tag}.csv",
                    "ext_preamble",
                    "file",
                    preamble,
                    n_rows=3,
                    delimited=delimited,
                    empty_row=empty,
                )
            )
            cases.append(
                _c(
                    f"ext_footnote_3_{tag}.csv",
                    "ext_footnote",
                    "file",
                    footnote,
                    n_rows=3,
                    delimited=delimited,
                    empty_row=empty,
                )
            )
    for cols in (n_cols - 1, n_cols, n_cols + 1):
        cases.append(
            _c(
                f"ext_multitable_blank_line_{cols}cols.csv",
                "ext_multitable_blank_line",
                "file",
                second_table,
                n_rows=n_rows - 1,
                n_cols=cols,
                blank_line=True,
            )
        )
    for row in picks:
        cases.append(
            _c(f"ext_row_empty_{row}.csv", "ext_row_empty", "row", row_fields, row=row, n_cells=0)
        )
        cases.append(
            _c(
                f"ext_row_fewer_fields_{row}.csv",
                "ext_row_fewer_fields",
                "row",
                row_fields,
                row=row,
                n_cells=max(1, n_cols // 2),
            )
        )
        cases.append(
            _c(
                f"ext_row_more_fields_{row}.csv",
                "ext_row_more_fields",
                "row",
                row_fields,
                row=row,
                n_cells=n_cols + 6,
            )
        )
        cases.append(
            _c(
                f"ext_row_line_end_{row}_0xA.csv",
                "ext_row_line_end",
                "row",
                row_line_end,
                row=row,
                end="\n",
            )
        )
        cases.append(
            _c(
                f"ext_row_quote_{row}_0x27.csv",
                "ext_row_quote",
                "row",
                row_quote,
                row=row,
                quote="'",
            )
        )
        cases.append(
            _c(
                f"ext_row_escape_{row}_0x5C.csv",
                "ext_row_escape",
                "row",
                row_escape,
                row=row,
                escape="\\",
            )
        )
        cases.append(
            _c(
                f"ext_row_delimiter_{row}_0x3B.csv",
                "ext_row_delimiter",
                "row",
                row_delimiter,
                row=row,
                delimiter=";",
            )
        )
    for col in sorted({0, 2, n_cols - 1}):
        cases.append(
            _c(
                f"ext_header_empty_col{col}.csv",
                "ext_header_empty_cell",
                "file",
                empty_header_cell,
                col=col,
            )
        )
    return cases


def sample_row_level(cases: list[Case], k: int, seed: int) -> list[Case]:
    """Keep at most ``k`` cases of each row-level family (seeded choice), all others."""
    rng = random.Random(seed)
    by_family: dict[str, list[Case]] = {}
    for c in cases:
        by_family.setdefault(c.family, []).append(c)
    keep: set[str] = set()
    for members in by_family.values():
        chosen = (
            members if members[0].level != "row" or len(members) <= k else (rng.sample(members, k))
        )
        keep.update(c.name for c in chosen)
    return [c for c in cases if c.name in keep]


def write_clean(rows: list[list[str]], clean_dir: Path) -> str:
    """Write a target table once (named by its digest); its path relative to the output."""
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    data = buf.getvalue().encode("utf-8")
    name = hashlib.sha256(data).hexdigest()[:16] + ".csv"
    path = clean_dir / name
    if not path.exists():
        path.write_bytes(data)
    return f"clean/{name}"


def main(argv: list[str] | None = None) -> int:
    """Write the polluted files, their targets and the manifest."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--seed", type=int, default=20230828, help="seed of the generated table")
    ap.add_argument("--source", type=Path, help="a clean CSV to pollute instead")
    ap.add_argument("--suite", choices=["pollock", "extended", "all"], default="all")
    ap.add_argument("--sample", type=int, metavar="K", help="K files per row-level family")
    args = ap.parse_args(argv)

    source = table_from_csv(args.source) if args.source else generate_source(args.seed)
    bases = {"source": source, "accented": with_accents(source)}
    cases: list[Case] = []
    if args.suite in ("pollock", "all"):
        cases += pollock_cases(source)
    if args.suite in ("extended", "all"):
        cases += extended_cases(source)
    if args.sample:
        cases = sample_row_level(cases, args.sample, args.seed)

    csv_dir, clean_dir = args.out / "csv", args.out / "clean"
    for d in (csv_dir, clean_dir):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.csv"):
            old.unlink()

    entries = []
    for case in cases:
        t = copy.deepcopy(bases[case.base])
        case.apply(t)
        (csv_dir / case.name).write_bytes(t.encode())
        rows = t.clean()
        entries.append(
            {
                "file": f"csv/{case.name}",
                "family": case.family,
                "level": case.level,
                "suite": "extended" if case.family.startswith("ext_") else "pollock",
                "params": {k: v for k, v in case.params.items()},
                "weight": POLLOCK_WEIGHTS.get(case.family),
                "dialect": t.dialect(),
                "clean": write_clean(rows, clean_dir),
                "clean_shape": [len(rows), max((len(r) for r in rows), default=0)],
            }
        )
    manifest = {
        "benchmark": "Pollock re-creation",
        "seed": args.seed,
        "source": str(args.source) if args.source else "generated",
        "source_shape": [len(source.rows), _width(source)],
        "files": entries,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    n_pollock = sum(e["suite"] == "pollock" for e in entries)
    print(
        f"wrote {len(entries)} files ({n_pollock} pollock, {len(entries) - n_pollock} extended)"
        f" and {len(list(clean_dir.glob('*.csv')))} clean tables to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
