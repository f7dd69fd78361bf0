"""The benchmark runs, and its contenders do the same work (no timings are asserted)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mlp.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_mlp", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def synthetic(n=320):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n)


def test_tinygrad_fm_and_numpy_contenders_train_the_same_network(bench):
    # A benchmark comparing different work would be meaningless: after the same batches
    # from the same initial weights, both end at the same weights.
    images, labels = synthetic()
    ours, by_hand = bench.TinygradFM(), bench.NumpyByHand()
    before = [w.copy() for w in by_hand.weights()]
    for contender in (ours, by_hand):
        contender.epoch(images, labels, 32, epoch=0)
    for a, b, w0 in zip(ours.weights(), by_hand.weights(), before):
        assert not np.allclose(b, w0)  # it trained
        np.testing.assert_allclose(a, b, atol=1e-4)  # 1e-4: a tenth of one Adam step


def test_pytorch_contender_trains_the_same_network(bench):
    torch = pytest.importorskip("torch")
    images, labels = synthetic()
    ours, theirs = bench.TinygradFM(), bench.Torch(torch)
    for contender in (ours, theirs):
        contender.epoch(images, labels, 32, epoch=0)
    for a, b in zip(ours.weights(), theirs.weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)  # 1e-4: a tenth of one Adam step


def test_captured_contender_trains_bit_identically_to_the_eager_one(bench):
    images, labels = synthetic()
    eager, captured = bench.TinygradFM(), bench.TinygradFMCaptured()
    for contender in (eager, captured):
        contender.epoch(images, labels, 32, epoch=0)  # 10 steps: 2 recordings, 8 replays
    assert captured.step.captures == 1
    for a, b in zip(eager.weights(), captured.weights()):
        np.testing.assert_array_equal(a, b)


def test_jax_contender_trains_the_same_network(bench):
    found = bench.import_jax()
    if found is None:
        pytest.skip("jax and optax are not installed")
    images, labels = synthetic()
    ours, theirs = bench.TinygradFM(), bench.Jax(*found)
    for contender in (ours, theirs):
        contender.epoch(images, labels, 32, epoch=0)
    for a, b in zip(ours.weights(), theirs.weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)  # 1e-4: a tenth of one Adam step


def test_measure_reports_every_contender_per_batch_size(bench):
    images, labels = synthetic(128)
    results = bench.measure(images, labels, [32, 64], rounds=2)
    assert list(results) == [32, 64]
    for row in results.values():
        assert set(row) == {"tinygrad_fm", "captured", "numpy", "matmul floor"}
        assert all(t > 0 for t in row.values())


def test_quick_run_prints_the_table(bench, capsys, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    assert bench.main(["--quick", "--no-torch", "--no-jax"]) == 0
    out = capsys.readouterr().out
    assert "data: synthetic, 640 images" in out
    assert "PyTorch not installed: skipped" in out and "JAX not installed: skipped" in out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["batch"])
    header, row = lines[at], lines[at + 1]
    assert header.split() == ["batch", "tinygrad_fm", "captured", "numpy", "matmul", "floor",
                              "tg/numpy", "tg/floor", "cap/floor", "cap/tg"]
    assert row.split()[0] == "64" and len(row.split()) == 9
    assert "forward+backward step at batch 64" in out


def test_forward_backward_gradients_agree(bench):
    # The forward+backward comparison times the same gradients.
    images, labels = synthetic(64)
    x, y = np.multiply(images, np.float32(1 / 255)), labels
    ours, by_hand = bench.TinygradFM(), bench.NumpyByHand()
    ours.forward_backward(x, y)
    theirs = by_hand.forward_backward(x, y)
    linears = [m for m in ours.model if isinstance(m, bench.nn.Linear)]
    mine = [m.weight.grad.numpy() for m in linears] + [m.bias.grad.numpy() for m in linears]
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    step = bench.measure_step(images, labels, 32, rounds=1)
    assert set(step) == {"tinygrad_fm", "numpy"} and all(t > 0 for t in step.values())


def test_peak_memory_counts_the_example_not_the_parent(bench, monkeypatch, tmp_path):
    # A 200 MB array in this process must not show up in the child's peak (ru_maxrss of
    # children would count the forked copy of this process).
    ballast = np.ones(200 * 2**20 // 8)
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "examples").mkdir()
    # The example imports its harness from beside it, as the real one does.
    (tmp_path / "examples" / "harness_beside.py").write_text("SIZE = 50 * 2**20 // 8\n")
    (tmp_path / "examples" / "fashion_mnist.py").write_text(
        "import numpy as np\nfrom harness_beside import SIZE\nbuf = np.ones(SIZE)\n"
        "print('fifty MB touched')\n")
    peak = bench.peak_memory_of_example(1)
    assert 50 < peak < 150 < ballast.nbytes / 2**20


def test_numpy_contender_computes_the_same_loss_value(bench):
    images, labels = synthetic(64)
    x, y = np.multiply(images, np.float32(1 / 255)), labels
    by_hand = bench.NumpyByHand()
    by_hand.forward_backward(x, y)
    ours = bench.TinygradFM()
    loss = bench.F.cross_entropy(ours.model(bench.tg.Tensor(x)), y)
    assert by_hand.loss == pytest.approx(loss.item(), rel=1e-5)


def test_a_failing_example_run_is_reported_not_a_traceback(bench, monkeypatch, tmp_path,
                                                            capsys):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "fashion_mnist.py").write_text(
        "import sys\nsys.exit('no dataset here: set FASHION_MNIST_DIR')\n")
    monkeypatch.setattr(bench, "measure", lambda *a, **k: {64: {"tinygrad_fm": 1.0,
                                                               "captured": 0.8,
                                                               "numpy": 1.0,
                                                               "matmul floor": 0.5}})
    monkeypatch.setattr(bench, "measure_step", lambda *a, **k: {"tinygrad_fm": 1.0,
                                                                "numpy": 1.0})
    monkeypatch.setattr(bench, "load_images", lambda n: ([], [], "synthetic"))
    assert bench.main(["--batch-sizes", "64", "--no-torch", "--no-jax"]) == 1
    out = capsys.readouterr().out
    assert "the example run failed (exit 1): no dataset here: set FASHION_MNIST_DIR" in out
