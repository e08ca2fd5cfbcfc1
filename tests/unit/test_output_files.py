"""logflow.convert writing several files: max_rows_per_file, target_file_size, partition_by."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import logflow
from logflow.cli import main as cli_main
from logflow.errors import ConfigError, DecodeError

DEFAULT = "__HIVE_DEFAULT_PARTITION__"


def _tree(root: Path) -> list[str]:
    """Every file and directory under ``root``, relative, hidden ones included, sorted."""
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        out += [os.path.normpath(os.path.join(rel, n)) for n in dirs + files]
    return sorted(out)


def _hive(root: Path) -> pa.Table:
    return ds.dataset(root, format="parquet", partitioning="hive").to_table()


def _duckdb(root: Path) -> pa.Table:
    glob = str(root / "**" / "*.parquet")
    out = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning = true)").arrow()
    # duckdb >= 1.4 returns a reader, older versions a table
    return out.read_all() if isinstance(out, pa.RecordBatchReader) else out


def _same_rows(
    got: pa.Table, expected: pa.Table, key: str, same_data, partitions: tuple[str, ...] = ()
) -> None:
    """Same rows whatever the order and column order; partition columns come back typed
    as the reader infers them from directory names, so ``expected`` is cast to ``got``'s
    types first, and their types are not compared."""
    got = got.select(expected.column_names).sort_by(key)
    expected = expected.sort_by(key)
    same_data(got, expected, untyped=partitions)


def _assert_files(r: logflow.ConvertResult, dst: Path) -> None:
    assert r.files, "no files"
    assert all(Path(f).is_file() and Path(f).is_relative_to(dst) for f in r.files)
    assert all(Path(f).name.startswith("part-") for f in r.files)
    assert r.bytes_written == sum(Path(f).stat().st_size for f in r.files)
    assert r.rows_read == r.rows_written + r.rows_quarantined + r.rows_skipped
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in r.files) == r.rows_written
    # nothing else is left in the output: no staging directory, no temporary files
    data = {os.path.relpath(f, dst) for f in r.files}
    assert {p for p in _tree(dst) if not (dst / p).is_dir()} == data


@pytest.fixture(scope="module")
def single(
    event_log_csv: Path, tmp_path_factory: pytest.TempPathFactory, reference_reader, types_agree
) -> pa.Table:
    """The event log converted to one file, as the reference for the multi-file outputs.

    Its types are checked against pyarrow's reading of the CSV, since the tests compare
    with logflow's own output."""
    dst = tmp_path_factory.mktemp("single") / "events.parquet"
    logflow.convert(event_log_csv, dst)
    table = pq.read_table(dst)
    types_agree(table.schema, reference_reader(event_log_csv).schema)
    return table


# ------------------------------------------------------------------------ rolling files


def test_max_rows_per_file_splits_in_order(event_log_csv, out_dir, single):
    dst = out_dir / "events"
    r = logflow.convert(event_log_csv, dst, max_rows_per_file=30_000)
    _assert_files(r, dst)
    assert [os.path.relpath(f, dst) for f in r.files] == [f"part-{i:05d}.parquet" for i in range(7)]
    counts = [pq.ParquetFile(f).metadata.num_rows for f in r.files]
    assert counts == [30_000] * 6 + [20_000]
    assert r.rows_written == 200_000
    assert r.schema == single.schema
    assert ds.dataset(dst, format="parquet").to_table().equals(single)


def test_target_file_size_splits_near_the_target(event_log_csv, out_dir, single):
    dst = out_dir / "events"
    target = 1_000_000
    r = logflow.convert(event_log_csv, dst, target_file_size="1MB")
    _assert_files(r, dst)
    sizes = [Path(f).stat().st_size for f in r.files]
    assert len(sizes) >= 3, sizes
    # every file but the last ends near the target (documented: about 7/8 of it to a
    # little past it)
    for s in sizes[:-1]:
        assert target * 0.8 < s < target * 1.1, sizes
    assert ds.dataset(dst, format="parquet").to_table().equals(single)
    # an int is bytes; the same target gives the same split
    again = logflow.convert(event_log_csv, out_dir / "again", target_file_size=target)
    assert [Path(f).stat().st_size for f in again.files] == sizes


def test_rows_and_size_together_whichever_first(event_log_csv, out_dir, single):
    dst = out_dir / "events"
    r = logflow.convert(event_log_csv, dst, max_rows_per_file=50_000, target_file_size="2MiB")
    _assert_files(r, dst)
    assert all(pq.ParquetFile(f).metadata.num_rows <= 50_000 for f in r.files)
    assert ds.dataset(dst, format="parquet").to_table().equals(single)


@pytest.mark.parametrize(
    "size",
    ["128MB", "128 mb", "1GiB", "512M", "1.5GB", 1, 1 << 40],
)
def test_target_file_size_forms(sample_csv, out_dir, size):
    r = logflow.convert(sample_csv, out_dir / "d", target_file_size=size)
    assert len(r.files) == 1 and r.rows_written == 12


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_file_size": "12 parsecs"},
        {"target_file_size": "MB"},
        {"target_file_size": ""},
        {"target_file_size": "0"},
        {"target_file_size": 0},
        {"target_file_size": -5},
        {"target_file_size": True},
        {"target_file_size": 1.5},
        {"max_rows_per_file": 0},
        {"max_rows_per_file": -1},
        {"partition_by": [1]},
        {"partition_by": ["activity", "activity"]},
    ],
    ids=repr,
)
def test_bad_options_are_config_errors(sample_csv, out_dir, list_dir, kwargs):
    with pytest.raises(ConfigError):
        logflow.convert(sample_csv, out_dir / "d", **kwargs)
    assert list_dir(out_dir) == []


def test_empty_input_keeps_its_schema_in_one_file(write_csv, out_dir):
    src = write_csv("a,b\n")
    r = logflow.convert(src, out_dir / "d", max_rows_per_file=10)
    assert r.rows_written == 0
    assert [os.path.basename(f) for f in r.files] == ["part-00000.parquet"]
    assert pq.read_table(r.files[0]).column_names == ["a", "b"]
    # partitioned, there is no partition to write: an empty directory
    r = logflow.convert(src, out_dir / "p", partition_by="a")
    assert r.files == () and r.bytes_written == 0
    assert os.listdir(out_dir / "p") == []


# ------------------------------------------------------------------------- partitions


def test_partition_by_one_column(event_log_csv, out_dir, single, same_data):
    dst = out_dir / "events"
    r = logflow.convert(event_log_csv, dst, partition_by="activity")
    _assert_files(r, dst)
    activities = sorted(set(single.column("activity").to_pylist()))
    assert sorted(os.listdir(dst)) == [f"activity={a}" for a in activities]
    assert all(os.listdir(dst / d) == ["part-00000.parquet"] for d in os.listdir(dst))
    # the files do not hold the partition column; the result schema is the rows'
    assert "activity" not in pq.read_schema(r.files[0]).names
    assert r.schema == single.schema
    _same_rows(_hive(dst), single, "event_id", same_data, ("activity",))
    _same_rows(_duckdb(dst), single, "event_id", same_data, ("activity",))
    # rows keep their input order within a partition
    for f in r.files:
        ids = pq.read_table(f).column("event_id").to_pylist()
        assert ids == sorted(ids)


def test_partition_by_two_columns_nests_in_order(event_log_csv, out_dir, single, same_data):
    dst = out_dir / "events"
    r = logflow.convert(event_log_csv, dst, partition_by=["success", "activity"])
    _assert_files(r, dst)
    # outer level first; nulls in the default partition
    assert sorted(os.listdir(dst)) == [
        "success=__HIVE_DEFAULT_PARTITION__",
        "success=false",
        "success=true",
    ]
    assert all(
        Path(f).relative_to(dst).parts[0].startswith("success=")
        and Path(f).relative_to(dst).parts[1].startswith("activity=")
        for f in r.files
    )
    assert {"success", "activity"}.isdisjoint(pq.read_schema(r.files[0]).names)
    hive = _hive(dst)
    assert hive.column("success").null_count == single.column("success").null_count
    _same_rows(hive, single, "event_id", same_data, ("success", "activity"))
    _same_rows(_duckdb(dst), single, "event_id", same_data, ("success", "activity"))


def test_partition_by_with_max_rows_per_file(event_log_csv, out_dir, single, same_data):
    dst = out_dir / "events"
    r = logflow.convert(event_log_csv, dst, partition_by="activity", max_rows_per_file=15_000)
    _assert_files(r, dst)
    per_dir = {d: sorted(os.listdir(dst / d)) for d in os.listdir(dst)}
    # 200,000 rows over 5 activities: 40,000 each, 3 files of at most 15,000
    assert all(
        names == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
        for names in per_dir.values()
    ), per_dir
    _same_rows(_hive(dst), single, "event_id", same_data, ("activity",))


AWKWARD = [
    "a/b",
    "x=y",
    "100%",
    "%2F",
    "café ✓",
    "日本語",
    " spaced out ",
    "a+b",
    "..",
    "__HIVE_DEFAULT_PARTITION__x",
    "colon: and ?*#'\\",
    "tab\there",
    "new\nline",
    "[brackets]{braces}^",
]


def test_partition_values_are_escaped_and_read_back(write_csv, out_dir, same_data):
    rows = [(i, v) for i, v in enumerate(AWKWARD)] + [(len(AWKWARD), None)]

    def field(v: str | None) -> str:
        return "" if v is None else '"' + v.replace('"', '""') + '"'

    src = write_csv("id,key\n" + "".join(f"{i},{field(v)}\n" for i, v in rows) * 3)
    dst = out_dir / "d"
    r = logflow.convert(src, dst, partition_by="key", header=True, delimiter=",", quote='"')
    _assert_files(r, dst)
    names = set(os.listdir(dst))
    assert len(names) == len(rows)
    for name in ["key=a%2Fb", "key=x%3Dy", "key=100%25", "key=%252F", "key=café ✓", "key=日本語"]:
        assert name in names, sorted(names)
    assert "key=tab%09here" in names and "key=new%0Aline" in names
    assert f"key={DEFAULT}" in names
    assert all("/" not in n and n.count("=") == 1 for n in names)
    expected = pa.table(
        {
            "id": pa.array([i for _ in range(3) for i, _ in rows], pa.int64()),
            "key": pa.array([v for _ in range(3) for _, v in rows], pa.string()),
        }
    )
    by = ["id", "key"]
    for got in (_hive(dst), _duckdb(dst)):
        got = got.select(by).sort_by([("id", "ascending")])
        same_data(got, expected.sort_by([("id", "ascending")]))


def test_partition_by_typed_columns(write_csv, out_dir, same_data, types_agree):
    src = write_csv(
        "id,day,n,flag,x\n"
        + "".join(
            f"{i},2024-05-0{1 + i % 3},{i % 4 - 1},{'true' if i % 2 else 'false'},{i / 4}\n"
            for i in range(40)
        )
    )
    dst = out_dir / "d"
    r = logflow.convert(src, dst, partition_by=["day", "n"])
    _assert_files(r, dst)
    assert sorted(os.listdir(dst)) == ["day=2024-05-01", "day=2024-05-02", "day=2024-05-03"]
    assert sorted(os.listdir(dst / "day=2024-05-01")) == ["n=-1", "n=0", "n=1", "n=2"]
    reference = pq.read_table(logflow.convert(src, out_dir / "one.parquet").files[0])
    types_agree(reference.schema, pcsv.read_csv(src).schema)
    _same_rows(_duckdb(dst), reference, "id", same_data, ("day", "n"))
    # floats are allowed (one directory per value)
    f = logflow.convert(src, out_dir / "f", partition_by="x")
    assert len(f.files) == 40
    assert "x=0.25" in os.listdir(out_dir / "f")
    # decimals too (20-digit ids), written in full
    big = write_csv("id,v\n12345678901234567890,1\n12345678901234567890,2\n7,3\n")
    d = logflow.convert(big, out_dir / "dec", partition_by="id")
    assert d.schema.field("id").type == pa.decimal128(20, 0)
    assert sorted(os.listdir(out_dir / "dec")) == ["id=12345678901234567890", "id=7"]


def test_unknown_partition_column(sample_csv, out_dir, list_dir):
    with pytest.raises(ConfigError) as e:
        logflow.convert(sample_csv, out_dir / "d", partition_by=["activity", "nope"])
    msg = str(e.value)
    assert "'nope'" in msg or '"nope"' in msg
    for column in ["event_id", "ts", "case_id", "activity", "amount", "success"]:
        assert f'"{column}"' in msg, msg
    assert list_dir(out_dir) == []


def test_partition_by_every_column_is_refused(write_csv, out_dir, list_dir):
    with pytest.raises(ConfigError):
        logflow.convert(write_csv("a,b\n1,2\n"), out_dir / "d", partition_by=["a", "b"])
    assert list_dir(out_dir) == []


def test_many_partitions_past_the_open_file_bound(write_csv, out_dir, same_data):
    # 300 partitions interleaved row by row: at most 64 files are open at once; rows of the
    # others wait in memory (well under its bound here), so each partition still gets one
    # file, and nothing is lost.
    src = write_csv("id,key\n" + "".join(f"{i},k{i % 300}\n" for i in range(30_000)))
    dst = out_dir / "d"
    r = logflow.convert(src, dst, partition_by="key")
    _assert_files(r, dst)
    assert len(os.listdir(dst)) == 300
    assert len(r.files) == 300
    table = _hive(dst).select(["id", "key"]).sort_by("id")
    assert table.column("id").to_pylist() == list(range(30_000))
    assert table.column("key").to_pylist() == [f"k{i % 300}" for i in range(30_000)]


# ------------------------------------------------------------- atomicity and the directory


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_rows_per_file": 100_000},
        {"target_file_size": "1MB"},
        {"partition_by": "b"},
    ],
    ids=["rows", "size", "partition"],
)
def test_late_decode_error_leaves_nothing(late_bad_csv, out_dir, list_dir, kwargs):
    late = late_bad_csv("int")
    with pytest.raises(DecodeError) as e:
        logflow.convert(late.path, out_dir / "d", **kwargs)
    assert e.value.line == late.line
    assert list_dir(out_dir) == [], "the directory it created is gone too"
    # an existing directory stays, empty
    (out_dir / "kept").mkdir()
    with pytest.raises(DecodeError):
        logflow.convert(late.path, out_dir / "kept", **kwargs)
    assert list_dir(out_dir) == ["kept"]
    assert list_dir(out_dir / "kept") == []


def test_interrupt_while_writing_leaves_nothing(csv_30mb, out_dir, list_dir):
    def progress(*_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        logflow.convert(csv_30mb, out_dir / "d", partition_by="success", progress=progress)
    assert list_dir(out_dir) == []


def test_interrupt_after_commit_takes_the_dataset_back(csv_30mb, out_dir, list_dir):
    # Deterministic form of a race: the callback raises only once the job has put its files
    # in place (a tick landing at the very end of a run).
    dst = out_dir / "d"

    def progress(*_: int) -> None:
        deadline = time.monotonic() + 10
        while not (dst / "part-00000.parquet").exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        logflow.convert(csv_30mb, dst, max_rows_per_file=100_000, progress=progress)
    assert list_dir(out_dir) == []


def test_missing_parents_are_created_and_removed_on_failure(late_bad_csv, sample_csv, out_dir):
    dst = out_dir / "a" / "b" / "c"
    with pytest.raises(DecodeError):
        logflow.convert(late_bad_csv("int").path, dst, max_rows_per_file=100_000)
    assert os.listdir(out_dir) == []
    r = logflow.convert(sample_csv, dst, max_rows_per_file=5)
    assert len(r.files) == 3


def test_foreign_files_in_dst_are_refused(sample_csv, out_dir):
    dst = out_dir / "d"
    dst.mkdir()
    (dst / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"notes\.txt"):
        logflow.convert(sample_csv, dst, max_rows_per_file=5)
    assert os.listdir(dst) == ["notes.txt"]
    file = out_dir / "f.parquet"
    file.write_bytes(b"x")
    with pytest.raises(ConfigError, match="directory"):
        logflow.convert(sample_csv, file, partition_by="activity")
    assert file.read_bytes() == b"x"


def test_an_earlier_dataset_is_replaced(sample_csv, out_dir):
    dst = out_dir / "d"
    logflow.convert(sample_csv, dst, partition_by="activity")
    assert all("=" in n for n in os.listdir(dst))
    r = logflow.convert(sample_csv, dst, max_rows_per_file=5)
    assert _tree(dst) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert ds.dataset(dst, format="parquet").to_table().num_rows == 12
    r = logflow.convert(sample_csv, dst, max_rows_per_file=100)
    assert _tree(dst) == ["part-00000.parquet"]
    assert r.rows_written == 12


def test_quarantine_with_partitions(write_csv, out_dir, same_data):
    good = [(i, f"k{i % 3}") for i in range(3000)]
    lines = ["id,kind\n"]
    bad = []
    for i, k in good:
        lines.append(f"{i},{k}\n")
        if i % 500 == 250:
            bad.append(f"{i},{k},extra\n")
            lines.append(bad[-1])
    src = write_csv("".join(lines))
    dst = out_dir / "d"
    r = logflow.convert(src, dst, partition_by="kind", error_policy="quarantine")
    _assert_files(r, dst)
    assert (r.rows_read, r.rows_written, r.rows_quarantined) == (3006, 3000, 6)
    # the quarantine files sit beside the dataset directory, not in it
    assert r.quarantine_path == str(out_dir / "d.quarantine.csv")
    assert r.errors_path == str(out_dir / "d.errors.parquet")
    assert Path(r.quarantine_path).read_text() == "id,kind\n" + "".join(bad)
    assert pq.read_table(r.errors_path).num_rows == 6
    assert sorted(os.listdir(dst)) == ["kind=k0", "kind=k1", "kind=k2"]
    expected = pa.table({"id": [i for i, _ in good], "kind": [k for _, k in good]})
    _same_rows(_hive(dst), expected, "id", same_data, ("kind",))


# --------------------------------------------------------------------------------- CLI


def test_cli_options(sample_csv, out_dir, capsys):
    dst = out_dir / "d"
    code = cli_main(
        ["convert", str(sample_csv), str(dst), "--partition-by", "activity,success", "-q"]
    )
    assert code == 0
    assert all(n.startswith("activity=") for n in os.listdir(dst))
    assert _hive(dst).num_rows == 12
    code = cli_main(["convert", str(sample_csv), str(out_dir / "r"), "--max-rows-per-file", "2"])
    assert code == 0
    out = capsys.readouterr().out
    assert f"-> {out_dir / 'r'} (6 files)" in out
    assert "12 rows written" in out
    code = cli_main(["convert", str(sample_csv), str(out_dir / "s"), "--target-file-size", "1GB"])
    assert code == 0
    assert os.listdir(out_dir / "s") == ["part-00000.parquet"]


def test_cli_bad_options(sample_csv, out_dir, capsys):
    assert cli_main(["convert", str(sample_csv), str(out_dir / "x"), "--partition-by", "nope"]) == 1
    assert "nope" in capsys.readouterr().err
    size = ["convert", str(sample_csv), str(out_dir / "x"), "--target-file-size", "lots"]
    assert cli_main(size) == 1
    assert "lots" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli_main(["convert", str(sample_csv), str(out_dir / "x"), "--max-rows-per-file", "0"])
    assert e.value.code == 2
    assert os.listdir(out_dir) == []


# ------------------------------------------------------------------------ wide tables


@pytest.fixture(scope="module")
def wide_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    """1,500 columns (wider than one block of encoders), 400 rows, several types, with the
    table pyarrow reads from it."""

    cols = 1500
    lines = ["key," + ",".join(f"c{i}" for i in range(cols))]
    for r in range(400):
        cells = [str(r % 4)]
        for i in range(cols):
            kind = i % 3
            if (r + i) % 11 == 0:
                cells.append("")
            elif kind == 0:
                cells.append(str(r * cols + i))
            elif kind == 1:
                cells.append(f"{(r + i) / 8}")
            else:
                cells.append(f"w{(r * i) % 17}")
        lines.append(",".join(cells))
    src = tmp_path_factory.mktemp("wide") / "wide.csv"
    src.write_text("\n".join(lines) + "\n")
    return src, pcsv.read_csv(src, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))


def test_a_wide_table_converts_whole(wide_csv, out_dir, same_data):
    src, expected = wide_csv
    r = logflow.convert(src, out_dir / "wide.parquet")
    assert r.rows_written == 400
    got = pq.read_table(r.files[0])
    assert got.num_columns == 1501
    same_data(got, expected)
    # One row group, every column chunk with statistics.
    meta = pq.ParquetFile(r.files[0]).metadata
    assert meta.num_row_groups == 1
    assert all(meta.row_group(0).column(i).statistics is not None for i in range(0, 1501, 97))


def test_a_wide_table_split_and_partitioned(wide_csv, out_dir, same_data):
    src, expected = wide_csv
    split = logflow.convert(src, out_dir / "split", max_rows_per_file=150)
    _assert_files(split, out_dir / "split")
    assert [pq.ParquetFile(f).metadata.num_rows for f in split.files] == [150, 150, 100]
    same_data(pa.concat_tables(pq.read_table(f) for f in split.files), expected)
    parts = logflow.convert(src, out_dir / "parts", partition_by="key")
    _assert_files(parts, out_dir / "parts")
    assert sorted(os.listdir(out_dir / "parts")) == [f"key={k}" for k in range(4)]
    got = _hive(out_dir / "parts")
    got = got.select(expected.column_names).cast(expected.schema)
    same_data(
        got.sort_by([("key", "ascending"), ("c0", "ascending")]),
        expected.sort_by([("key", "ascending"), ("c0", "ascending")]),
    )
