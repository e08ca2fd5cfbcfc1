"""Validation of user SQL with sqlglot: one read-only query over known tables.

A query passes when it parses (DuckDB dialect) to exactly one ``SELECT``, ``WITH ...
SELECT`` or set operation (``UNION``/``INTERSECT``/``EXCEPT``); every table it reads is a
known table or one of its own CTEs (no table functions, no file paths, no other catalogs);
and every function is on the allow-list below. What DuckDB runs is the SQL sqlglot
generates back from the checked tree, never the text as given, so a comment or a quirk
of the text cannot smuggle anything past the check.

Table references are replaced by markers carrying a random token; the engine swaps them
for the views of the snapshots it reads.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from logflow.errors import SqlNotAllowedError

__all__ = ["ALLOWED_FUNCTIONS", "ValidatedQuery", "validate"]

# sqlglot expression classes (by key) that are plain functions and operators with no
# access to files, settings or the catalog.
_SAFE_KEYS = """
abs acos acosh addmonths and anonymousaggfunc anyvalue approxdistinct approxquantile argmax
argmin array arrayagg arrayall arrayany arrayappend arraycompact arrayconcat arraycontains
arraycontainsall arraydistinct arrayfilter arrayfirst arrayintersect arraylast arraymax
arraymin arrayoverlaps arrayposition arrayprepend arrayremove arrayreverse arraysize
arrayslice arraysort arraysum arraytostring ascii asin asinh atan atan2 atanh avg
bitlength bitwiseandagg bitwisecount bitwiseoragg bitwisexoragg booland boolnot boolor
bytelength case cast cbrt ceil chr coalesce collate concat concatws contains corr cos cosh
cot count countif covarpop covarsamp cumedist currentdate currenttime currenttimestamp
date dateadd datebin datediff datefromparts datestrtodate datesub datetime datetimeadd
datetimediff datetimesub datetimetrunc datetodatestr datetrunc day dayname dayofmonth
dayofweek dayofweekiso dayofyear decode degrees denserank encode endswith exists exp
extract factorial first firstvalue floor format fromiso8601timestamp generatedatearray
greatest groupconcat grouping hex hour if initcap isinf isnan jarowinklersimilarity
jsonarray jsonextract jsonextractscalar jsonformat jsonobject jsontype kurtosis lag last
lastday lastvalue lead least left length levenshtein list ln log lower lowerhex
makeinterval map max md5 median min minute mode month monthname monthsbetween nextday
normalize nthvalue ntile nullif nvl2 or overlay pad parsejson percentilecont
percentiledisc percentrank pi pow quantile quarter radians rand randn rank reduce
regexpcount regexpextract regexpextractall regexpfullmatch regexpilike regexplike
regexpreplace regexpsplit repeat replace reverse right round rownumber safedivide second
sha sha2 sign sin sinh skewness soundex split splitpart sqrt startswith stddev stddevpop
stddevsamp strposition strtodate strtotime strtounix struct structextract substring sum
tan tanh time timeadd timediff timestamp timestampadd timestampdiff timestampfromparts
timestampsub timestamptrunc timestrtodate timestrtotime timestrtounix timesub timetostr
timetotimestr timetounix timetrunc toarray tobase64 todays todouble tonumber transform
translate trim trunc try trycast typeof unhex unicode unixdate unixmicros unixmillis
unixseconds unixtostr unixtotime unixtotimestr unnest upper utcdate utctime utctimestamp
uuid variance variancepop week weekofyear widthbucket xor year yearofweek yearofweekiso
""".split()

# DuckDB functions sqlglot has no class for (they parse as Anonymous), by name.
_SAFE_NAMES = """
age any_value approx_count_distinct arg_max arg_min array_length array_to_string
bit_and bit_count bit_or bit_xor bool_and bool_or cardinality century concat_ws
contains date_diff date_part date_sub datediff datepart datesub day decade
element_at entropy epoch epoch_ms epoch_ns epoch_us era even favg fsum gamma gcd
greatest_common_divisor hash histogram ifnull instr isfinite isodow isoyear lcm
least_common_multiple len lgamma list_aggregate list_any_value list_avg list_concat
list_contains list_count list_distinct list_element list_extract list_filter list_has
list_has_all list_has_any list_max list_min list_position list_reduce list_reverse
list_slice list_sort list_sum list_transform list_unique list_value log10 log2 lpad
ltrim make_date make_time make_timestamp map_entries map_extract map_keys map_values
max_by microsecond millennium millisecond min_by nanosecond nfc_normalize not_ilike
not_like position prefix printf product regexp_matches reservoir_quantile row rpad
rtrim str_split string_agg string_split string_split_regex strftime strip_accents
strptime struct_extract struct_pack suffix time_bucket timezone timezone_hour
timezone_minute to_days to_hours to_json to_microseconds to_milliseconds to_minutes
to_months to_seconds to_timestamp to_years try_strptime ucase lcase weekday yearweek
""".split()

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(_SAFE_KEYS) | frozenset(_SAFE_NAMES)
"""Function names a query may call: sqlglot expression keys and DuckDB function names."""

# Statement and clause kinds refused wherever they appear in the tree.
_FORBIDDEN_NODES = (
    "Into",
    "Insert",
    "Update",
    "Delete",
    "Create",
    "Drop",
    "Alter",
    "AlterTable",
    "Merge",
    "Copy",
    "Command",
    "Set",
    "SetItem",
    "Pragma",
    "Attach",
    "Detach",
    "Use",
    "Install",
    "Describe",
    "Show",
    "Summarize",
    "Transaction",
    "Commit",
    "Rollback",
    "LoadData",
    "Export",
    "Analyze",
    "Refresh",
    "Cache",
    "Uncache",
    "Grant",
    "Revoke",
)
_TABLE_ARGS_ALLOWED = {"this", "db", "alias", "joins", "laterals", "pivots", "sample"}
_PATH_LIKE = re.compile(
    r"[/\\*?]|\.(csv|tsv|txt|json|jsonl|ndjson|parquet|arrow|db|duckdb|xlsx)$", re.I
)
_TOKEN = secrets.token_hex(8)
_MARKER = re.compile(rf"__lf_{_TOKEN}_(\d+)__")


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """Keep sqlglot's "falling back to a Command" log line off the caller's stderr."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _statement_kind(node: Any) -> str:  # noqa: ANN401 - any sqlglot node
    key = str(getattr(node, "key", type(node).__name__)).upper()
    if key == "COMMAND":
        return str(node.this).split()[0].upper() if node.this else "COMMAND"
    return key


@dataclass(frozen=True)
class ValidatedQuery:
    """A checked query: its generated SQL with table markers, and the tables it reads."""

    sql: str
    """DuckDB SQL generated from the checked tree, table references as markers."""
    tables: tuple[str, ...]
    """The ``namespace.table`` names read, marker ``i`` standing for ``tables[i]``."""

    def render(self, views: list[str]) -> str:
        """The SQL with marker ``i`` replaced by the quoted view name ``views[i]``."""
        return _MARKER.sub(
            lambda m: '"' + views[int(m.group(1))].replace('"', '""') + '"', self.sql
        )


def validate(
    sql: str,
    resolve: Callable[[str | None, str], str | None],
) -> ValidatedQuery:
    """Check ``sql`` and mark its table references.

    Args:
        sql: The user's query.
        resolve: ``resolve(namespace or None, table)`` returns the full ``namespace.table``
            name of a known table, or ``None``.

    Raises:
        logflow.errors.SqlNotAllowedError: Anything but one read-only query over known
            tables with allowed functions; the message says what was refused.
        logflow.errors.TableNotFoundError: A table reference names no known table.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from logflow.errors import TableNotFoundError

    try:
        with _quiet_sqlglot():
            parsed = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SqlNotAllowedError(f"cannot parse the query: {first}") from None
    if not parsed:
        raise SqlNotAllowedError("empty query: give one SELECT statement")
    if len(parsed) > 1:
        kinds = ", ".join(_statement_kind(s) for s in parsed)
        raise SqlNotAllowedError(f"one statement per query; got {len(parsed)} ({kinds})")
    root = parsed[0]
    if not isinstance(root, (exp.Select, exp.SetOperation, exp.Subquery)):
        raise SqlNotAllowedError(
            f"only read queries (SELECT, WITH, UNION/INTERSECT/EXCEPT) are allowed; "
            f"got {_statement_kind(root)}"
        )
    forbidden = tuple(getattr(exp, n) for n in _FORBIDDEN_NODES if hasattr(exp, n))
    for node in root.walk():
        if isinstance(node, forbidden):
            raise SqlNotAllowedError(f"{_statement_kind(node)} is not allowed in a query")

    ctes = {cte.alias_or_name.lower() for cte in root.find_all(exp.CTE)}
    tables: list[str] = []
    index: dict[str, int] = {}
    renames: dict[tuple[str, str], str] = {}
    for table in list(root.find_all(exp.Table)):
        target = table.this
        if not isinstance(target, exp.Identifier):
            what = target.sql(dialect="duckdb") if target is not None else "?"
            fn = what.split("(")[0]
            raise SqlNotAllowedError(f"table function {fn} is not allowed; query tables by name")
        extra = [k for k, v in table.args.items() if v and k not in _TABLE_ARGS_ALLOWED]
        if extra:
            raise SqlNotAllowedError(
                f"table reference {table.sql(dialect='duckdb')!r} uses {', '.join(extra)}, "
                "which is not allowed"
            )
        name = target.name
        ns = table.text("db") or None
        if ns is None and name.lower() in ctes:
            continue
        if _PATH_LIKE.search(name) or (ns is not None and _PATH_LIKE.search(ns)):
            raise SqlNotAllowedError(f"a file path is not a table: {name!r}")
        full = resolve(ns, name)
        if full is None:
            shown = f"{ns}.{name}" if ns else name
            raise TableNotFoundError(f"no table {shown}")
        if full not in index:
            index[full] = len(tables)
            tables.append(full)
        alias = table.alias or name
        marker = exp.Table(this=exp.to_identifier(f"__lf_{_TOKEN}_{index[full]}__"))
        for key in ("joins", "laterals", "pivots", "sample"):
            if table.args.get(key):
                marker.set(key, table.args[key])
        marker.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        table.replace(marker)
        if ns is not None:
            renames[(ns.lower(), name.lower())] = alias

    for func in root.find_all(exp.Func):
        if isinstance(func, exp.Anonymous):
            fname = str(func.name).lower()
            if fname not in ALLOWED_FUNCTIONS:
                raise SqlNotAllowedError(f"function {fname}() is not allowed")
        elif func.key not in ALLOWED_FUNCTIONS:
            name = func.sql_name().lower() if hasattr(func, "sql_name") else func.key
            raise SqlNotAllowedError(f"function {name}() is not allowed")

    if renames:
        for col in root.find_all(exp.Column):
            db, tbl = col.text("db"), col.text("table")
            if db and (db.lower(), tbl.lower()) in renames:
                col.set("db", None)
                col.set("catalog", None)
                col.set("table", exp.to_identifier(renames[(db.lower(), tbl.lower())]))

    return ValidatedQuery(root.sql(dialect="duckdb", comments=False), tuple(tables))


class ValidationCache:
    """Validated queries by their exact text and the table set they were checked against."""

    def __init__(self, size: int = 512) -> None:
        self._data: OrderedDict[tuple[str, Any], ValidatedQuery] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, Any]) -> ValidatedQuery | None:
        """The cached validation, if any."""
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def put(self, key: tuple[str, Any], value: ValidatedQuery) -> None:
        """Remember a validation."""
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
