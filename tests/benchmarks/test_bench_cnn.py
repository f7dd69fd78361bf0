"""The CNN benchmark runs, and its contenders do the same work (no timings asserted)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cnn.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_cnn", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_contenders_start_equal_and_train_alike(bench):
    # Same initial weights and batches: without dropout (whose masks are each
    # framework's own draws) both end at the same weights, so the timings compare
    # the same work.
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 256)
    data = bench.batches(images, labels, 64, 4)
    ours, captured, theirs = bench.make_contenders(bench.initial_state(), use_torch=True,
                                                   threads=1)
    assert (ours.name, captured.name, theirs.name) == ("tinygrad_fm", "captured", "pytorch")
    for contender in (ours, captured, theirs):
        contender.model[9].p = 0.0
        contender.run(data)
    assert ours.steps == captured.steps == theirs.steps == 4
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-4)
    # The captured step replays the eager one: the same numbers.
    np.testing.assert_array_equal(captured.losses, ours.losses)
    for (name, a), b, c in zip(ours.model.state_dict().items(),
                               theirs.model.state_dict().values(),
                               captured.model.state_dict().values()):
        np.testing.assert_allclose(a, b.numpy(), atol=2e-4, err_msg=name)
        np.testing.assert_array_equal(a, c, err_msg=name)
    assert all(ours.seconds[p] > 0 for p in bench.PHASES)
    assert ours.timed_steps == 3 and captured.timed_steps == 2 and captured.seconds["step"] > 0


def test_quick_run_reports_phases_and_ratio(bench, capsys):
    pytest.importorskip("torch")
    assert bench.main(["--batches", "4", "--chunk", "2", "--no-memory", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio tinygrad_fm / pytorch" in out and "optimizer ms" in out
    assert "ratio captured / pytorch" in out


def test_memory_probe_reports_a_peak(bench):
    before, peak = bench.peak_memory_mb(2)
    assert 0 < before <= peak < 4096
