"""``logflow`` subcommands. Errors print one line and exit non-zero, never a traceback."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence

import logflow
from logflow.cli.output import ProgressBar
from logflow.errors import LogflowError

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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="logflow",
        description="Stream data files into analysis-ready Parquet.",
    )
    p.add_argument("--version", action="version", version=f"logflow {logflow.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("convert", help="convert a CSV/TSV file to Parquet")
    c.add_argument("src", help="input file")
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
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    c.set_defaults(run=_convert)

    d = sub.add_parser("detect", help="say what a file is: format, encoding, dialect, columns")
    d.add_argument("src", help="input file")
    d.add_argument("--json", action="store_true", help="print JSON instead of text")
    d.set_defaults(run=_detect)
    return p


def _detect(args: argparse.Namespace) -> int:
    det = logflow.detect(args.src)
    info: dict[str, object] = {
        "path": det.path,
        "format": dataclasses.asdict(det.format),
        "compression": dataclasses.asdict(det.compression),
        "encoding": dataclasses.asdict(det.encoding),
        "dialect": dataclasses.asdict(det.dialect) if det.dialect else None,
        "columns": [
            {
                "name": f.name,
                "type": str(f.type),
                "null_tokens": list(nulls),
                "format": det.date_formats.get(f.name)
                or ("decimal comma" if f.name in det.decimal_comma else None),
            }
            for f, nulls in zip(det.schema or [], det.null_tokens, strict=False)
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
    for f, nulls in zip(det.schema or [], det.null_tokens, strict=False):
        fmt = det.date_formats.get(f.name) or (
            "decimal comma" if f.name in det.decimal_comma else None
        )
        extra = f"  format: {fmt}" if fmt else ""
        extra += f"  nulls: {', '.join(nulls)}" if nulls else ""
        print(f"  {'column':<12} {f.name}: {f.type}{extra}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    bar = ProgressBar()
    try:
        result = logflow.convert(
            args.src,
            args.dst,
            compression=args.compression,
            compression_level=args.compression_level,
            delimiter=args.delimiter,
            header=False if args.no_header else None,
            row_group_size=args.row_group_size,
            error_policy=args.error_policy,
            on_cast_error=args.on_cast_error,
            encoding=args.encoding,
            threads=args.threads,
            progress=None if args.quiet else bar,
            max_rows_per_file=args.max_rows_per_file,
            target_file_size=args.target_file_size,
            partition_by=args.partition_by,
        )
    finally:
        bar.close()
    if not args.quiet:
        if len(result.files) > 3:
            print(f"{args.src} -> {args.dst} ({len(result.files):,} files)")
        else:
            print(f"{args.src} -> {', '.join(result.files)}")
        print(result.summary())
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
