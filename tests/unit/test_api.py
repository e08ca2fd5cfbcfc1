"""The public surface: a snapshot of ``__all__``, docstrings, and native-symbol coverage."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import re
import subprocess
import sys
import types

import pytest

import logflow
import logflow.detection
import logflow.io
import logflow.quality
import logflow.rules
from logflow import _native, errors

PUBLIC = [
    "ConvertResult",
    "Detection",
    "Engine",
    "ErrorSample",
    "Fingerprint",
    "QualityReport",
    "SourceResult",
    "Stream",
    "__version__",
    "convert",
    "detect",
    "errors",
    "profile",
    "read",
    "write",
]

# Every public name of logflow._native must either be used by a Python wrapper (the check
# below looks for `_native.<name>` in the wrapper sources) or be listed here with a reason.
NATIVE_ALLOWLIST = {
    "__version__": "re-exported as logflow.__version__",
    "build_profile": "diagnostic only (debug/release), not part of the public API",
    "BatchStream": "returned by read and wrapped by logflow.Stream",
    "Batch": "returned by BatchStream.next_batch, converted to pyarrow.RecordBatch by Stream",
    "Schema": "returned inside convert's stats, converted to pyarrow.Schema by convert",
}
NATIVE_EXPECTED = {
    "convert",
    "detect",
    "merge_profiles",
    "profile",
    "profile_stream",
    "read",
    "read_stream",
    "write",
    "BatchStream",
    "Batch",
    "Schema",
    "__version__",
    "build_profile",
}


def test_api_all_snapshot():
    assert sorted(logflow.__all__) == PUBLIC


def test_api_all_names_exist():
    for name in logflow.__all__:
        assert hasattr(logflow, name), name


def test_api_no_unlisted_public_names():
    public = {n for n in vars(logflow) if not n.startswith("_")}
    # submodules imported as a side effect are fine; anything else must be in __all__
    extra = {
        n
        for n in public - set(logflow.__all__)
        if not isinstance(getattr(logflow, n), types.ModuleType)
    }
    assert extra == set()


def test_api_version_is_a_version_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", logflow.__version__)
    assert logflow.__version__ == _native.__version__


def _public_callables():
    for name in logflow.__all__:
        obj = getattr(logflow, name)
        if callable(obj):
            yield name, obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (
                        callable(member) or isinstance(member, property)
                    ):
                        yield f"{name}.{attr}", member


@pytest.mark.parametrize(("name", "obj"), list(_public_callables()), ids=lambda x: str(x))
def test_api_public_callables_have_docstrings(name, obj):
    doc = inspect.getdoc(obj.fget if isinstance(obj, property) else obj)
    assert doc and doc.strip(), f"{name} has no docstring"


def test_api_module_docstrings():
    for module in (logflow, logflow.io, logflow.detection, logflow.quality, logflow.rules, errors):
        assert inspect.getdoc(module), module.__name__


def test_api_errors_have_docstrings():
    for name in errors.__all__:
        assert inspect.getdoc(getattr(errors, name)), name


def test_api_native_symbols_expected():
    public = {n for n in dir(_native) if not n.startswith("_") or n == "__version__"}
    assert public == NATIVE_EXPECTED, "native module changed: update the wrappers and this test"


def test_api_native_symbols_wrapped_or_allowlisted():
    wrappers = (logflow, logflow.io, logflow.detection, logflow.quality, logflow.rules)
    sources = "".join(inspect.getsource(m) for m in wrappers)
    missing = []
    native = {n for n in dir(_native) if not n.startswith("_") or n == "__version__"}
    for name in sorted(native):
        used = re.search(rf"_native\.{re.escape(name)}\b", sources) or re.search(
            rf"from logflow\._native import [^\n]*\b{re.escape(name)}\b", sources
        )
        if not used and name not in NATIVE_ALLOWLIST:
            missing.append(name)
    assert missing == [], f"native symbols neither wrapped nor allowlisted: {missing}"


def test_api_native_allowlist_has_no_stale_entries():
    assert set(NATIVE_ALLOWLIST) <= set(dir(_native))


def test_api_convert_result_is_frozen_dataclass(sample_csv, out_dir):
    assert dataclasses.is_dataclass(logflow.ConvertResult)
    params = logflow.ConvertResult.__dataclass_params__
    assert params.frozen
    r = logflow.convert(sample_csv, out_dir / "s.parquet")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.rows_written = 0  # type: ignore[misc]
    fields = [f.name for f in dataclasses.fields(r)]
    assert fields == [
        "rows_read",
        "rows_written",
        "rows_quarantined",
        "rows_skipped",
        "bytes_read",
        "bytes_written",
        "files",
        "duration_s",
        "schema",
        "errors_by_reason",
        "error_samples",
        "values_nulled",
        "quarantine_path",
        "errors_path",
        "input_compression",
        "input_encoding",
        "format",
        "sources",
        "checksum_in",
        "checksum_out",
        "quality",
    ]
    assert isinstance(r.files, tuple)
    # a clean input: nothing bad, nothing nulled, no quarantine files
    assert r.errors_by_reason == {}
    assert r.error_samples == ()
    assert r.values_nulled == 0
    assert r.quarantine_path is None
    assert r.errors_path is None
    assert (r.input_compression, r.input_encoding) == ("none", "utf-8")


def test_api_convert_does_not_import_pyarrow_until_the_schema_is_read(sample_csv, out_dir):
    # pyarrow's import takes a fifth of a second and starts numpy's thread pool: a
    # conversion must not pay for it. The schema is still a pyarrow.Schema when read.
    code = (
        "import sys, logflow\n"
        f"r = logflow.convert({str(sample_csv)!r}, {str(out_dir / 'lazy.parquet')!r})\n"
        "r.summary(); repr(r)\n"
        "assert 'pyarrow' not in sys.modules, 'convert imported pyarrow'\n"
        "import pyarrow as pa\n"
        "assert isinstance(r.schema, pa.Schema) and r.schema.names[0] == 'event_id'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_api_convert_result_pickles_with_its_schema(sample_csv, out_dir):
    r = logflow.convert(sample_csv, out_dir / "p.parquet")
    back = pickle.loads(pickle.dumps(r))
    assert back == r
    assert back.schema.equals(r.schema)


def test_api_error_sample_is_frozen_dataclass():
    assert logflow.ErrorSample in (getattr(logflow, n) for n in logflow.__all__)
    assert logflow.ErrorSample.__dataclass_params__.frozen
    fields = [f.name for f in dataclasses.fields(logflow.ErrorSample)]
    assert fields == ["line", "offset", "record", "column", "reason", "detail", "raw"]


def test_api_error_policy_options():
    convert = inspect.signature(logflow.convert).parameters
    assert convert["error_policy"].default == "strict"
    assert convert["on_cast_error"].default == "reject"
    assert convert["threads"].default is None
    read = inspect.signature(logflow.read).parameters
    assert read["error_policy"].default == "permissive"
    assert read["on_cast_error"].default == "reject"


def test_api_convert_keyword_only_options():
    sig = inspect.signature(logflow.convert)
    positional = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional == ["src", "dst"]
    assert sig.parameters["compression"].default == "zstd"


def test_api_read_keyword_only_options():
    sig = inspect.signature(logflow.read)
    positional = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional == ["src"]


def test_api_native_classes_are_frozen(sample_csv):
    # pyo3 `frozen` classes with no __dict__ reject new attributes on instances.
    stream = _native.read(str(sample_csv))
    with pytest.raises(AttributeError):
        stream.anything = 1  # type: ignore[attr-defined]
    batch = stream.next_batch()
    assert batch is not None and batch.num_rows == 12
    with pytest.raises(AttributeError):
        batch.num_rows = 0  # type: ignore[misc]


def test_native_result_keys_are_the_result_fields(sample_csv, tmp_path):
    # The result's shape is defined once, by ConvertResult: the native dict must carry
    # exactly its fields, for convert and write alike.
    fields = {f.name for f in dataclasses.fields(logflow.ConvertResult)}
    stats = _native.convert(str(sample_csv), str(tmp_path / "a.parquet"))
    assert set(stats) == fields
    import pyarrow as pa

    stats = _native.write(pa.table({"a": [1]}), str(tmp_path / "b.parquet"))
    assert set(stats) == fields
