r"""Validation rules, checked while a file converts.

Pass them to :func:`logflow.convert` (or :func:`logflow.profile`) as ``rules=[...]``: rule
objects, or the path of a TOML or YAML file that lists them. A row that breaks a rule is a
bad row under the error policy, with the rule's name as its reason: ``"strict"`` raises
:class:`~logflow.errors.RuleViolationError`, ``"permissive"`` drops and counts it,
``"quarantine"`` keeps it byte for byte in the quarantine file. A null passes every rule but
:class:`NotNull`.

Example:
    >>> from logflow.rules import NotNull, Range, Regex, Unique
    >>> rules = [
    ...     NotNull("event_id"),
    ...     Unique("event_id"),
    ...     Range("amount", min=0, max=10_000),
    ...     Regex("case_id", r"C-\d+"),
    ... ]
    >>> import logflow
    >>> r = logflow.convert("tests/data/csv/sample.csv", "/tmp/s.parquet", rules=rules)
    >>> r.rows_written
    12

The same rules in a TOML file (``rules="rules.toml"``)::

    [[rule]]
    kind = "not_null"
    column = "event_id"

    [[rule]]
    kind = "range"
    column = "amount"
    min = 0
    max = 10000

A YAML file holds the same list under ``rule:`` (or as its top level). ``kind = "check"``
names its function as ``function = "package.module:name"``.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logflow.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "AllowedValues",
    "Check",
    "Length",
    "NotNull",
    "Range",
    "Regex",
    "Rule",
    "Unique",
    "load_rules",
]

Value = (
    bool | int | float | str | datetime.date | datetime.datetime | datetime.time | decimal.Decimal
)
"""A bound or an allowed value: a number, text, or a date, time or timestamp."""


def _value(v: Value) -> bool | int | float | str:
    """A value as the native module takes it: dates, times and decimals as ISO text."""
    if isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    raise ConfigError(f"a rule value must be a number, text, date or time, got {v!r}")


@dataclass(frozen=True)
class Rule:
    """Base class of the rules; ``name`` is the reason rows that break it are counted under.

    By default the name is ``kind:column`` (``not_null:event_id``).
    """

    name: str | None = field(default=None, kw_only=True)
    """The rule's name (its reason in results and error tables)."""

    def _native(self) -> dict[str, Any]:  # pragma: no cover - every rule overrides it
        raise NotImplementedError

    def _with_name(self, d: dict[str, Any]) -> dict[str, Any]:
        if self.name is not None:
            d["name"] = self.name
        return d


@dataclass(frozen=True)
class NotNull(Rule):
    """The column holds a value in every row.

    Example:
        >>> NotNull("event_id")
        NotNull(name=None, column='event_id')
    """

    column: str
    """The column checked."""

    def _native(self) -> dict[str, Any]:
        return self._with_name({"kind": "not_null", "column": self.column})


@dataclass(frozen=True)
class Unique(Rule):
    """No two rows share the values of these columns; the first row with a key is kept.

    Rows with a null in the key are not checked. Exact (keys are compared by 128-bit
    hashes) in bounded memory: past ``memory`` bytes of keys (64 MiB by default, about 2.8
    million keys), keys spill to sorted files in the temporary directory, which are removed
    when the run ends.

    Example:
        >>> Unique(["case_id", "event_id"]).columns
        ('case_id', 'event_id')
    """

    columns: str | Sequence[str]
    """The key: one column, or several."""
    memory: int | None = None
    """Bytes of keys kept in memory before spilling to disk."""

    def __post_init__(self) -> None:
        cols = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        if not cols or not all(isinstance(c, str) for c in cols):
            raise ConfigError(f"Unique takes column names, got {self.columns!r}")
        object.__setattr__(self, "columns", cols)

    def _native(self) -> dict[str, Any]:
        return self._with_name(
            {"kind": "unique", "columns": list(self.columns), "memory": self.memory}
        )


@dataclass(frozen=True)
class Range(Rule):
    """The value lies between ``min`` and ``max`` (both included; either may be left out).

    Numbers for numeric columns, dates, times and timestamps (or their ISO text) for those
    columns, text (compared byte by byte) for text columns.

    Example:
        >>> Range("amount", min=0)
        Range(name=None, column='amount', min=0, max=None)
    """

    column: str
    """The column checked."""
    min: Value | None = None
    """The smallest value allowed."""
    max: Value | None = None
    """The largest value allowed."""

    def _native(self) -> dict[str, Any]:
        if self.min is None and self.max is None:
            raise ConfigError(f"Range({self.column!r}): give min, max or both")
        return self._with_name(
            {
                "kind": "range",
                "column": self.column,
                "min": None if self.min is None else _value(self.min),
                "max": None if self.max is None else _value(self.max),
            }
        )


@dataclass(frozen=True)
class Regex(Rule):
    r"""The whole text value matches ``pattern`` (Rust ``regex`` syntax; no look-around).

    Example:
        >>> Regex("case_id", r"C-\d{4}").pattern
        'C-\\d{4}'
    """

    column: str
    """The column checked (a text column)."""
    pattern: str
    """The pattern the whole value must match."""

    def _native(self) -> dict[str, Any]:
        return self._with_name({"kind": "regex", "column": self.column, "pattern": self.pattern})


@dataclass(frozen=True)
class AllowedValues(Rule):
    """The value is one of ``values`` (compared as values: ``5`` allows ``5.0``).

    Example:
        >>> AllowedValues("country", ["DE", "FR"]).values
        ('DE', 'FR')
    """

    column: str
    """The column checked."""
    values: Iterable[Value]
    """The values allowed."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))

    def _native(self) -> dict[str, Any]:
        return self._with_name(
            {"kind": "allowed", "column": self.column, "values": [_value(v) for v in self.values]}
        )


@dataclass(frozen=True)
class Length(Rule):
    """The text value has between ``min`` and ``max`` characters (both included).

    Example:
        >>> Length("country", min=2, max=2)
        Length(name=None, column='country', min=2, max=2)
    """

    column: str
    """The column checked (a text column)."""
    min: int | None = None
    """Fewest characters."""
    max: int | None = None
    """Most characters."""

    def _native(self) -> dict[str, Any]:
        if self.min is None and self.max is None:
            raise ConfigError(f"Length({self.column!r}): give min, max or both")
        return self._with_name(
            {"kind": "length", "column": self.column, "min": self.min, "max": self.max}
        )


@dataclass(frozen=True)
class Check(Rule):
    """A function called with each batch of rows, in input order, on one thread at a time.

    It gets a :class:`pyarrow.RecordBatch` (the rows as decoded; a batch may lack columns
    the output gains later, for JSON whose schema widens) and returns, for each row,
    whether it passes: a boolean array (pyarrow or NumPy), a list of booleans, or one
    boolean (``None`` passes every row). A null counts as failing. The function runs
    with the GIL held, once per batch (up to 65,536 rows); what it raises stops the run and
    is raised by :func:`logflow.convert`.

    Example:
        >>> import pyarrow.compute as pc
        >>> positive = Check(lambda b: pc.greater(b["amount"], 0), name="positive")
    """

    function: Callable[[pa.RecordBatch], Any]
    """The check."""

    def _native(self) -> dict[str, Any]:
        name = self.name or getattr(self.function, "__name__", "check")
        return {"kind": "check", "function": self.function, "name": f"check:{name}"}


RulesLike = Sequence[Rule] | str | os.PathLike[str]
"""Rules: rule objects, or the path of a TOML or YAML file listing them."""

_KINDS: dict[str, Callable[..., Rule]] = {
    "not_null": NotNull,
    "unique": Unique,
    "range": Range,
    "regex": Regex,
    "allowed": AllowedValues,
    "allowed_values": AllowedValues,
    "length": Length,
    "check": Check,
}


def _function(path: str) -> Callable[[pa.RecordBatch], Any]:
    module, _, name = path.partition(":")
    if not module or not name:
        raise ConfigError(f"a check's function is 'package.module:name', got {path!r}")
    try:
        f = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"cannot load the check function {path!r}: {e}") from e
    if not callable(f):
        raise ConfigError(f"{path!r} is not callable")
    return f  # type: ignore[no-any-return]


def _from_mapping(entry: Mapping[str, Any], where: str) -> Rule:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: each rule is a table with a kind, got {entry!r}")
    args = dict(entry)
    kind = args.pop("kind", None)
    make = _KINDS.get(str(kind))
    if make is None:
        raise ConfigError(f"{where}: unknown rule kind {kind!r}; use one of {sorted(_KINDS)}")
    if kind == "check" and isinstance(args.get("function"), str):
        args["function"] = _function(args["function"])
    if kind == "unique" and "column" in args:
        args["columns"] = args.pop("column")
    try:
        return make(**args)
    except TypeError as e:
        raise ConfigError(f"{where}: {kind} rule: {e}") from None


def load_rules(path: str | os.PathLike[str]) -> list[Rule]:
    """Read rules from a TOML (``.toml``) or YAML (``.yaml``, ``.yml``) file.

    The file lists rules as tables with a ``kind`` (``not_null``, ``unique``, ``range``,
    ``regex``, ``allowed``, ``length``, ``check``) and the rule's arguments, under ``rule``
    (or ``rules``); a YAML file may also be the list itself.

    Args:
        path: The file.

    Returns:
        The rules, in the file's order.

    Raises:
        logflow.errors.ConfigError: The file is not valid, names an unknown kind, or gives
            a rule arguments it does not take.

    Example:
        >>> rules = load_rules("rules.toml")  # doctest: +SKIP
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    data: Any
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as e:
            raise ConfigError("reading rules from YAML needs PyYAML: pip install pyyaml") from e
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {e}") from None
    else:
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: not valid TOML: {e}") from None
    if isinstance(data, Mapping):
        data = data.get("rule", data.get("rules", []))
    if not isinstance(data, list):
        raise ConfigError(f"{p}: expected a list of rules under 'rule'")
    return [_from_mapping(e, f"{p}: rule {i + 1}") for i, e in enumerate(data)]


def _native_rules(rules: RulesLike | None) -> list[dict[str, Any]] | None:
    """Rules as the native module takes them."""
    if rules is None:
        return None
    if isinstance(rules, str | os.PathLike):
        rules = load_rules(rules)
    out = []
    for r in rules:
        if not isinstance(r, Rule):
            raise ConfigError(f"rules takes logflow.rules objects or a file path, got {r!r}")
        out.append(r._native())
    return out


def _run_check(function: Callable[[pa.RecordBatch], Any], batch: object) -> bytes:
    """Call a check with one batch; its answer as one byte (0 or 1) per row."""
    import numpy as np
    import pyarrow as pa

    rb = pa.record_batch(batch)
    n = int(rb.num_rows)
    result = function(rb)
    if result is None:
        return b"\x01" * n
    if isinstance(result, bool | np.bool_):
        return (b"\x01" if result else b"\x00") * n
    if isinstance(result, pa.ChunkedArray):
        result = result.combine_chunks()
    if isinstance(result, pa.Array):
        flags = result.cast(pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False)
    else:
        flags = np.asarray(result)
        if flags.dtype == object:
            flags = np.array([bool(v) if v is not None else False for v in flags])
    flags = np.asarray(flags, dtype=bool)
    if flags.shape != (n,):
        raise ValueError(
            f"the check returned {flags.size} flags for a batch of {n} rows; return one per row"
        )
    return bytes(flags.astype(np.uint8).tobytes())
