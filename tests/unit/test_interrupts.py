"""Progress reports and Ctrl-C, proven in-process and without timing assumptions.

A validation check (:class:`logflow.rules.Check`) runs on the writing thread in input
order, so it can hold a conversion at its first batch: the tests use it to make "the run
is still going" a fact rather than a matter of speed.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Iterator

import pytest

import logflow
from logflow.rules import Check

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals are delivered to the main thread",
)


def test_convert_reports_progress_mid_run(csv_50mb, out_dir):
    reported = threading.Event()
    calls: list[tuple[int, int, int]] = []

    def progress(done: int, total: int, rows: int) -> None:
        calls.append((done, total, rows))
        reported.set()

    def hold(batch: object) -> None:
        # The first batch waits for a report: the run cannot end before one arrives.
        assert reported.wait(60), "no progress report while the conversion was held"

    r = logflow.convert(
        csv_50mb, out_dir / "p.parquet", progress=progress, rules=[Check(hold)], threads=2
    )
    size = csv_50mb.stat().st_size
    done, total, rows = calls[0]
    # Mid-run: two threads keep at most 6 chunks of 4 MiB in flight, a fraction of the file,
    # and no row was written yet.
    assert total == size
    assert 0 < done < size
    assert rows < r.rows_read
    assert calls[-1] == (size, size, r.rows_read)
    done_seq = [c[0] for c in calls]
    assert done_seq == sorted(done_seq)


@pytest.fixture
def sigint_handled() -> Iterator[threading.Event]:
    """SIGINT raises KeyboardInterrupt as Python's default handler does, and says so."""
    handled = threading.Event()

    def handler(signum: int, frame: object) -> None:
        handled.set()
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield handled
    finally:
        signal.signal(signal.SIGINT, old)


def test_sigint_stops_an_in_process_convert(csv_50mb, out_dir, list_dir, sigint_handled):
    started = threading.Event()
    release = threading.Event()
    batches = 0

    def hold(batch: object) -> None:
        nonlocal batches
        batches += 1
        started.set()
        release.wait(60)

    def interrupt() -> None:
        started.wait(60)
        os.kill(os.getpid(), signal.SIGINT)
        # The main thread runs the handler within one 100 ms slice; then the held batch
        # goes on and the job sees it was cancelled.
        sigint_handled.wait(60)
        release.set()

    t = threading.Thread(target=interrupt)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            logflow.convert(csv_50mb, out_dir / "big.parquet", rules=[Check(hold)], threads=2)
    finally:
        release.set()
        t.join()
    assert sigint_handled.is_set()
    assert list_dir(out_dir) == [], "output or temporary file left after SIGINT"
    # It stopped part way: far fewer batches checked than the file holds (>600 of them).
    assert batches < 100


def _threads_now() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_sigint_stops_an_in_process_read(csv_50mb, sigint_handled):
    before = _threads_now()
    stream = logflow.read(csv_50mb, threads=2, batch_size=10_000)
    got = 0
    sent = threading.Event()

    def interrupt() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        sent.set()

    with pytest.raises(KeyboardInterrupt):
        for batch in stream:
            got += batch.num_rows
            if got == 10_000:
                # From another thread, while this one decodes on (the handler runs at the
                # next bytecode after the batch in hand).
                threading.Thread(target=interrupt).start()
                sent.wait(60)
    assert sigint_handled.is_set()
    assert 10_000 <= got < 100_000
    # The stream's decode threads go once it is dropped.
    del stream
    gc.collect()
    for _ in range(500):
        if _threads_now() <= before:
            break
        threading.Event().wait(0.01)
    assert _threads_now() <= before
