"""logflow.detect on generated 64 KiB samples: how long one detection takes.

The five samples come from ``detect_accuracy.synthetic_samples`` (plain comma CSV, quoted
fields with line breaks, semicolons with decimal commas, TSV, and windows-1252 text), each
just over 64 KiB so detection sees a full sample. ``extra_info`` records the file and sample
sizes and what was detected; each case also checks that the detected dialect is the one the
sample was written with. Run with ``pytest benches/bench_detect.py --benchmark-enable``; with
benchmarks disabled (the default in pyproject) each case runs once, which checks the benches
still work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detect_accuracy import SAMPLE_BYTES, canonical, decode, show_dialect, synthetic_samples

SAMPLES = synthetic_samples()


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("detect")
    for name, (data, _truth) in SAMPLES.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("name", list(SAMPLES))
def test_detect_speed(benchmark, sample_dir, name):
    import logflow

    data, truth = SAMPLES[name]
    src = sample_dir / name

    benchmark.group = "detect 64 KiB sample"
    benchmark.extra_info["input_bytes"] = len(data)
    benchmark.extra_info["sample_bytes"] = min(len(data), SAMPLE_BYTES)
    result = benchmark(logflow.detect, src)

    assert result.dialect is not None, f"no dialect for {name} (format {result.format.value})"
    d = result.dialect
    benchmark.extra_info["encoding"] = result.encoding.value
    benchmark.extra_info["dialect"] = show_dialect(d.delimiter, d.quote, d.escape)
    benchmark.extra_info["header"] = d.header
    if benchmark.stats:
        benchmark.extra_info["sample_mb_per_s"] = (
            min(len(data), SAMPLE_BYTES) / 1e6 / benchmark.stats.stats.median
        )

    text = decode(data)
    got = canonical(d.delimiter, d.quote, d.escape, text)
    want = canonical(truth.delimiter, truth.quote, truth.escape, text)
    assert got == want, (
        f"{name}: detected {show_dialect(*got)}, written as {show_dialect(*want)} ({d.evidence})"
    )
    assert d.header == truth.header
