"""``logflow`` subcommands. Errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from collections.abc import Sequence

import logflow
from logflow.cli.output import ProgressBar, print_rows, write_result
from logflow.errors import ConfigError, LogflowError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _one_char(value: str) -> str:
    if value in ("\\t", "tab"):
        return "\t"
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"expected one character, got {value!r}")
    return value


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return n


def _columns(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected column names separated by commas, got {value!r}"
        )
    return names


def _sheet(value: str | None) -> str | int | None:
    """A sheet as the command line names it: digits are a position, anything else a name."""
    if value is not None and value.isdigit():
        return int(value)
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="logflow",
        description="Stream data files into analysis-ready Parquet.",
    )
    p.add_argument("--version", action="version", version=f"logflow {logflow.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser(
        "convert",
        help="convert CSV, TSV, JSON, JSON Lines, XML, XES, Parquet, Avro, ORC, Arrow or Excel "
        "files to Parquet",
    )
    c.add_argument(
        "src",
        nargs="+",
        help="input file(s): paths, directories, globs (quoted: 'logs/2024-*.csv.gz'), zip "
        "archives, or URLs (s3://, gs://, az://, http(s)://, file://); many become one output",
    )
    c.add_argument(
        "dst",
        help="output Parquet file; a directory with --max-rows-per-file, --target-file-size "
        "or --partition-by",
    )
    c.add_argument(
        "--compression",
        default="zstd",
        choices=["zstd", "snappy", "gzip", "lz4", "none"],
        help="Parquet codec (default: zstd)",
    )
    c.add_argument("--compression-level", type=int, default=None, help="codec level")
    c.add_argument(
        "--format",
        default=None,
        choices=[
            "csv",
            "tsv",
            "json",
            "jsonl",
            "xml",
            "xes",
            "parquet",
            "avro",
            "orc",
            "arrow",
            "arrow-stream",
            "xlsx",
            "xlsb",
            "xls",
            "ods",
        ],
        help="input format (default: detected from the bytes)",
    )
    c.add_argument(
        "--columns",
        type=_columns,
        default=None,
        metavar="COL[,COL]",
        help="binary formats: read only these columns, in this order",
    )
    c.add_argument(
        "--sheet",
        default=None,
        metavar="NAME|N",
        help="workbooks: the sheet, by name or 0-based position (default: the first non-empty one)",
    )
    c.add_argument(
        "--delimiter", type=_one_char, default=None, help="field delimiter (default: detected)"
    )
    c.add_argument("--no-header", action="store_true", help="the first line is data, not names")
    c.add_argument("--row-group-size", type=int, default=None, help="most rows per row group")
    c.add_argument(
        "--error-policy",
        default="strict",
        choices=["strict", "permissive", "quarantine"],
        help="bad rows: fail (strict, default), drop (permissive) or keep aside (quarantine)",
    )
    c.add_argument(
        "--on-cast-error",
        default="reject",
        choices=["reject", "null"],
        help="a value that does not fit its column: reject the row (default) or store null",
    )
    c.add_argument(
        "--encoding", default=None, help="text encoding, e.g. latin-1 (default: detected)"
    )
    c.add_argument(
        "--schema-policy",
        default=None,
        choices=["strict", "merge", "evolve"],
        help="fields or types that change after the sample: bad rows (strict), widen the "
        "schema (merge, default for JSON), or also keep misfits as JSON text (evolve)",
    )
    c.add_argument(
        "--no-infer-types",
        action="store_true",
        help="text mode: every column is text, each value exactly as written",
    )
    c.add_argument(
        "--records-path",
        default=None,
        metavar="PATH",
        help="JSON: the key path of the records array, e.g. data.items; XML: the element "
        "path of the records, e.g. catalog/book (default: found)",
    )
    c.add_argument(
        "--flatten",
        action="store_true",
        help="JSON, XML: nested objects as parent.child columns instead of structs",
    )
    c.add_argument(
        "--tables",
        default="events",
        choices=["events", "traces", "both"],
        help="XES: one row per event (default), per trace, or both (the traces to "
        "DST_STEM.traces.parquet)",
    )
    c.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads decoding and encoding (default: one per core)",
    )
    c.add_argument(
        "--max-rows-per-file",
        type=_positive_int,
        default=None,
        metavar="N",
        help="write DST as a directory of files of at most N rows each",
    )
    c.add_argument(
        "--target-file-size",
        default=None,
        metavar="SIZE",
        help="write DST as a directory of files of about SIZE each (bytes, 128MB, 1GiB, ...)",
    )
    c.add_argument(
        "--partition-by",
        type=_columns,
        default=None,
        metavar="COL[,COL]",
        help="write DST as a Hive-partitioned directory: DST/COL=value/part-00000.parquet",
    )
    c.add_argument(
        "--include-file-name",
        nargs="?",
        const="file_name",
        default=None,
        metavar="COLUMN",
        help="add a column naming each row's source (default name: file_name)",
    )
    c.add_argument(
        "--fingerprint",
        default=None,
        choices=["sha256"],
        help="hash each source's content as it is read (shown with --sources)",
    )
    _storage_option(c)
    c.add_argument(
        "--sources", action="store_true", help="print each source's rows and fingerprint"
    )
    shown = c.add_mutually_exclusive_group()
    shown.add_argument(
        "--profile",
        action="store_true",
        help="print the profile of the rows (made while converting) after the summary",
    )
    shown.add_argument(
        "--no-profile",
        action="store_true",
        help="do not profile the rows (saves the few percent of time it costs)",
    )
    c.add_argument(
        "--verify",
        action="store_true",
        help="read the output back and check its checksum before putting it in place",
    )
    c.add_argument(
        "--rules",
        default=None,
        metavar="FILE",
        help="validation rules from a TOML or YAML file (bad rows follow --error-policy)",
    )
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    c.set_defaults(run=_convert)

    pr = sub.add_parser(
        "profile", help="what a file holds: per column nulls, distinct values, min, max, ..."
    )
    pr.add_argument("src", help="input file")
    pr.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pr.add_argument(
        "--state",
        action="store_true",
        help="with --json, include the sketches (to merge reports later)",
    )
    pr.add_argument(
        "--format",
        default=None,
        choices=["csv", "tsv", "json", "jsonl"],
        help="input format (default: detected from the bytes)",
    )
    pr.add_argument(
        "--delimiter", type=_one_char, default=None, help="field delimiter (default: detected)"
    )
    pr.add_argument("--no-header", action="store_true", help="the first line is data, not names")
    pr.add_argument(
        "--encoding", default=None, help="text encoding, e.g. latin-1 (default: detected)"
    )
    pr.add_argument(
        "--error-policy",
        default="permissive",
        choices=["strict", "permissive"],
        help="bad rows: count them by reason (permissive, default) or fail (strict)",
    )
    pr.add_argument(
        "--records-path", default=None, metavar="PATH", help="JSON: the records array's path"
    )
    pr.add_argument("--flatten", action="store_true", help="JSON: nested objects as columns")
    pr.add_argument("--threads", type=int, default=None, help="threads decoding")
    pr.add_argument(
        "--rules", default=None, metavar="FILE", help="validation rules to count breaks of"
    )
    pr.set_defaults(run=_profile)

    d = sub.add_parser("detect", help="say what a file is: format, encoding, dialect, columns")
    d.add_argument("src", help="input file, glob, directory or URL (the first file is examined)")
    _storage_option(d)
    d.add_argument("--json", action="store_true", help="print JSON instead of text")
    d.add_argument(
        "--no-infer-types", action="store_true", help="report text mode's columns (all text)"
    )
    d.set_defaults(run=_detect)
    _table_commands(sub)
    return p


def _storage_value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _storage_pair(value: str) -> tuple[str, object]:
    key, sep, text = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return key, _storage_value(text)


def _storage_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--storage-option",
        dest="storage_options",
        type=_storage_pair,
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="a setting for URLs: endpoint=..., region=..., client_options.allow_http=true; "
        "for http(s): timeout=30, max_size=..., retries=3 (repeatable)",
    )


def _storage_options(pairs: list[tuple[str, object]] | None) -> dict[str, object] | None:
    """``a.b=1`` pairs as nested dicts."""
    if not pairs:
        return None
    out: dict[str, object] = {}
    for key, value in pairs:
        *parents, last = key.split(".")
        here = out
        for part in parents:
            nested = here.setdefault(part, {})
            if not isinstance(nested, dict):
                raise ConfigError(f"--storage-option {key}: {part} is not a group")
            here = nested
        here[last] = value
    return out


def _warehouse_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--warehouse",
        default=None,
        metavar="DIR",
        help="the warehouse folder (default: $LOGFLOW_WAREHOUSE or ./warehouse)",
    )
    p.add_argument(
        "--catalog",
        default=None,
        metavar="URI",
        help="Iceberg catalog database, e.g. postgresql://user@host/db (default: SQLite "
        "inside the warehouse)",
    )


def _table_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    i = sub.add_parser("ingest", help="convert a file into a table, committed as one snapshot")
    i.add_argument("src", help="input file")
    i.add_argument("table", help="table name: TABLE or NAMESPACE.TABLE (created if missing)")
    i.add_argument("--mode", default="append", choices=["append", "overwrite"])
    i.add_argument(
        "--partition-by",
        type=_columns,
        default=None,
        metavar="SPEC[,SPEC]",
        help="for a new table: columns, or day(ts), month(ts), hour(ts), year(ts), "
        "bucket(N, col), truncate(W, col)",
    )
    i.add_argument(
        "--table-format",
        default=None,
        choices=["iceberg", "delta", "parquet"],
        help="format of a new table (default: iceberg)",
    )
    i.add_argument(
        "--schema-policy",
        default="evolve",
        choices=["strict", "merge", "evolve"],
        help="how the input's columns may differ from the table's (default: evolve)",
    )
    i.add_argument(
        "--error-policy",
        default="strict",
        choices=["strict", "permissive", "quarantine"],
        help="bad rows: fail (default), drop, or keep aside",
    )
    i.add_argument("--force", action="store_true", help="ingest even if this input was before")
    i.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    _warehouse_option(i)
    i.set_defaults(run=_ingest)

    q = sub.add_parser("query", help="run one read-only SQL query over the tables")
    q.add_argument("sql", help="a SELECT (DuckDB dialect)")
    q.add_argument(
        "--format",
        default="table",
        choices=["table", "csv", "json", "parquet", "arrow"],
        help="output format (default: an aligned table)",
    )
    q.add_argument("-o", "--output", default=None, metavar="FILE", help="write here, not stdout")
    q.add_argument(
        "--as-of",
        default=None,
        metavar="ID|TIME",
        help="read the tables as of a snapshot id or an ISO time",
    )
    q.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    q.add_argument(
        "--max-rows",
        type=_positive_int,
        default=50,
        metavar="N",
        help="rows shown in table format (default: 50)",
    )
    _warehouse_option(q)
    q.set_defaults(run=_query)

    t = sub.add_parser("tables", help="list the tables")
    t.add_argument("namespace", nargs="?", default=None)
    _warehouse_option(t)
    t.set_defaults(run=_tables)

    s = sub.add_parser("snapshots", help="list a table's snapshots, oldest first")
    s.add_argument("table")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _warehouse_option(s)
    s.set_defaults(run=_snapshots)

    c = sub.add_parser("compact", help="rewrite a table's small files in one snapshot")
    c.add_argument("table")
    c.add_argument("--target-file-size", default="128MB", metavar="SIZE")
    _warehouse_option(c)
    c.set_defaults(run=_compact)


def _engine(args: argparse.Namespace) -> logflow.Engine:
    return logflow.Engine(args.warehouse, catalog=args.catalog)


def _ingest(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        r = engine.ingest(
            args.src,
            args.table,
            mode=args.mode,
            partition_by=args.partition_by,
            table_format=args.table_format,
            schema_policy=args.schema_policy,
            error_policy=args.error_policy,
            force=args.force,
        )
    if not args.quiet:
        if r.skipped:
            print(f"{args.src}: already in {r.table} (snapshot {r.snapshot_id}); nothing done")
        else:
            assert r.convert is not None
            print(f"{args.src} -> {r.table} (snapshot {r.snapshot_id}, {len(r.files):,} files)")
            print(r.convert.summary())
    return 0


def _as_of(text: str | None) -> int | datetime.datetime | None:
    if text is None:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--as-of: expected a snapshot id or an ISO time, got {text!r}") from None


def _query(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        result = engine.query(args.sql, as_of=_as_of(args.as_of), timeout=args.timeout)
    write_result(result.to_arrow(), args.format, args.output, max_rows=args.max_rows)
    return 0


def _tables(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        for name in engine.tables(args.namespace):
            print(name)
    return 0


def _snapshots(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        table = engine.table(args.table)
        snaps = table.snapshots()
        current = table.current_snapshot()
    rows = [
        {
            "snapshot_id": s.snapshot_id,
            "parent_id": s.parent_id,
            "timestamp": s.timestamp.isoformat(),
            "operation": s.operation,
            "current": current is not None and s.snapshot_id == current.snapshot_id,
            "rows": s.summary.get("logflow.rows", s.summary.get("added-records", "")),
            "source": s.summary.get("logflow.source.path", ""),
        }
        for s in snaps
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_rows(rows)
    return 0


def _compact(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        r = engine.compact(args.table, target_file_size=args.target_file_size)
    if r.snapshot_ids:
        print(
            f"{args.table}: {len(r.files_removed):,} files -> {len(r.files_added):,} "
            f"(snapshot {r.snapshot_ids[0]})"
        )
    else:
        print(f"{args.table}: nothing to compact")
    return 0


def _detect(args: argparse.Namespace) -> int:
    det = logflow.detect(
        args.src,
        infer_types=not args.no_infer_types,
        storage_options=_storage_options(args.storage_options),
    )
    info: dict[str, object] = {
        "path": det.path,
        "format": dataclasses.asdict(det.format),
        "compression": dataclasses.asdict(det.compression),
        "encoding": dataclasses.asdict(det.encoding),
        "dialect": dataclasses.asdict(det.dialect) if det.dialect else None,
        "records_path": det.records_path,
        "xes": dataclasses.asdict(det.xes) if det.xes else None,
        "columns": [
            {
                "name": f.name,
                "type": str(f.type),
                "null_tokens": list(nulls),
                "format": det.date_formats.get(f.name)
                or ("decimal comma" if f.name in det.decimal_comma else None),
            }
            for f, nulls in zip(
                det.schema or [],
                list(det.null_tokens) + [()] * len(det.schema or []),
                strict=False,
            )
        ],
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{det.path}")
    for key in ("format", "compression", "encoding"):
        f = getattr(det, key)
        print(f"  {key:<12} {f.value}  ({f.confidence:.0%}: {f.evidence})")
    if det.dialect:
        dl = det.dialect
        print(
            f"  {'dialect':<12} delimiter={dl.delimiter!r} quote={dl.quote!r} "
            f"escape={dl.escape!r} header={dl.header} skip_lines={dl.skip_lines} "
            + ("skip_initial_space=True " if dl.skip_initial_space else "")
            + f"({dl.confidence:.0%}: {dl.evidence})"
        )
    if det.records_path is not None:
        print(f"  {'records':<12} {det.records_path or '(the top-level array)'}")
    if det.xes is not None:
        log = det.xes
        print(f"  {'xes':<12} version {log.version or '?'}, features {log.features or '-'}")
        for e in log.extensions:
            print(f"  {'extension':<12} {e['name']} ({e['prefix']}: {e['uri']})")
        for c in log.classifiers:
            print(f"  {'classifier':<12} {c['name']}: {c['keys']}")
        for scope, attrs in log.globals.items():
            keys = ", ".join(f"{a.key} ({a.type})" for a in attrs)
            print(f"  {'global':<12} {scope}: {keys}")
    nulls_of = list(det.null_tokens) + [()] * len(det.schema or [])
    for f, nulls in zip(det.schema or [], nulls_of, strict=False):
        fmt = det.date_formats.get(f.name) or (
            "decimal comma" if f.name in det.decimal_comma else None
        )
        extra = f"  format: {fmt}" if fmt else ""
        extra += f"  nulls: {', '.join(nulls)}" if nulls else ""
        print(f"  {'column':<12} {f.name}: {f.type}{extra}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    src: str | list[str] = args.src[0] if len(args.src) == 1 else list(args.src)
    try:
        result = logflow.convert(
            src,
            args.dst,
            compression=args.compression,
            compression_level=args.compression_level,
            format=args.format,
            delimiter=args.delimiter,
            header=False if args.no_header else None,
            row_group_size=args.row_group_size,
            error_policy=args.error_policy,
            on_cast_error=args.on_cast_error,
            encoding=args.encoding,
            schema_policy=args.schema_policy,
            infer_types=not args.no_infer_types,
            records_path=args.records_path,
            flatten=args.flatten,
            threads=args.threads,
            progress=None if args.quiet else bar,
            max_rows_per_file=args.max_rows_per_file,
            target_file_size=args.target_file_size,
            partition_by=args.partition_by,
            tables=args.tables,
            columns=args.columns,
            sheet=_sheet(args.sheet),
            include_file_name=args.include_file_name or False,
            fingerprint=args.fingerprint,
            storage_options=_storage_options(args.storage_options),
            profile=not args.no_profile,
            verify=args.verify,
            rules=args.rules,
        )
    finally:
        bar.close()
    if not args.quiet:
        shown = src if isinstance(src, str) else f"{len(src)} inputs"
        if len(result.sources) > 1:
            shown = f"{shown} ({len(result.sources):,} sources)"
        if len(result.files) > 3:
            print(f"{shown} -> {args.dst} ({len(result.files):,} files)")
        else:
            print(f"{shown} -> {', '.join(result.files)}")
        print(result.summary())
        if args.sources:
            for s in result.sources:
                fp = s.fingerprint
                ident = fp.sha256 or fp.etag or (f"mtime {fp.mtime:.0f}" if fp.mtime else "")
                print(
                    f"  {s.path}: {s.rows_read:,} read, {s.rows_written:,} written, "
                    f"{s.rows_quarantined:,} quarantined, {s.rows_skipped:,} skipped; "
                    f"{fp.size if fp.size is not None else '?'} bytes {ident}".rstrip()
                )
        if args.verify:
            print(f"verified: checksum {result.checksum_out}")
        if args.profile and result.quality is not None:
            print()
            print(result.quality.render())
    return 0


def _profile(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    try:
        report = logflow.profile(
            args.src,
            format=args.format,
            delimiter=args.delimiter,
            header=False if args.no_header else None,
            encoding=args.encoding,
            error_policy=args.error_policy,
            records_path=args.records_path,
            flatten=args.flatten,
            threads=args.threads,
            progress=bar,
            rules=args.rules,
        )
    finally:
        bar.close()
    if args.json:
        print(report.to_json(state=args.state))
    else:
        print(report.render())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except LogflowError as e:
        print(f"logflow: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (`logflow detect FILE | head`): not an error of ours. Point
        # stdout at /dev/null so the interpreter's final flush does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as e:
        print(f"logflow: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("logflow: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
