"""The compiled (numba) kernels of max pooling and of the convolution's input gradient
give the same numbers as the NumPy code they replace -- bit for bit, ties, NaN and
infinities included -- and follow PyTorch where NaN decides a window; the cross-entropy
kernels agree with NumPy to a few units in the last place (libm's exp and log against
NumPy's). Without numba the NumPy path runs; ``use(False)`` forces it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import helpers as tst
from tinygrad_fm import Tensor
from tinygrad_fm.nn import functional as F
from tinygrad_fm.ops import compiled

pytest.importorskip("numba")

# inf - inf in the tests' own sums of NaN- and inf-holding outputs.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered")


def _values(shape, seed, dtype):
    """Small integers (many ties, as after a ReLU), with a few NaN and infinities."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(dtype)
    specials = rng.random(shape)
    x[specials < 0.03] = np.nan
    x[(specials >= 0.03) & (specials < 0.05)] = -np.inf
    x[(specials >= 0.05) & (specials < 0.06)] = np.inf
    return x


def _max_pool_both_ways(fn, x, upstream):
    results = []
    for enabled in (True, False):
        with compiled.use(enabled):
            t = Tensor(x, requires_grad=True)
            out, indices = fn(t, return_indices=True)
            plain = fn(t)
            (plain * Tensor(upstream)).sum().backward()
            results.append((out.data, indices.data, plain.data, t.grad.data))
    return results


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_max_pool_kernel_equals_numpy(dims, dtype, data, seed):
    shape, kwargs = data.draw(tst.pool_cases(dims, max_pool=True))
    x = _values(shape, seed, dtype)
    fn = F.max_pool1d if dims == 1 else F.max_pool2d
    out_shape = fn(Tensor(x), **kwargs).shape
    upstream = np.random.default_rng(seed).normal(size=out_shape).astype(dtype)
    fast, reference = _max_pool_both_ways(lambda t, **k: fn(t, **kwargs, **k), x, upstream)
    for a, b in zip(fast, reference):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_max_pool_routes_the_gradient_to_nan_as_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[1.0, np.nan, 0.0, 2.0], [np.nan, 0.0, 2.0, 2.0],
                    [-np.inf, -np.inf, 5.0, 5.0], [-np.inf, -np.inf, 5.0, np.inf]]]], np.float32)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2).sum().backward()
    for enabled in (True, False):
        with compiled.use(enabled):
            t = Tensor(x, requires_grad=True)
            F.max_pool2d(t, 2).sum().backward()
            np.testing.assert_array_equal(t.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_convolution_input_gradient_kernel_equals_numpy(dims, dtype, data, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(dims))
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=x_shape).astype(dtype), rng.normal(size=w_shape).astype(dtype)
    conv = F.conv1d if dims == 1 else F.conv2d
    grads = []
    for enabled in (True, False):
        with compiled.use(enabled):
            t = Tensor(x, requires_grad=True)
            out = conv(t, Tensor(w), **kwargs)
            upstream = np.random.default_rng(seed).normal(size=out.shape).astype(dtype)
            (out * Tensor(upstream)).sum().backward()
            grads.append(t.grad.data)
    assert grads[0].dtype == dtype
    np.testing.assert_array_equal(*grads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(rows=st.integers(1, 40), classes=st.integers(1, 12), seed=st.integers(0, 2**16),
       spread=st.sampled_from([1.0, 40.0]), specials=st.booleans())
def test_cross_entropy_kernels_agree_with_numpy(dtype, reduction, rows, classes, seed, spread,
                                                 specials):
    rng = np.random.default_rng(seed)
    logits = _values((rows, classes), seed, dtype) if specials else \
        (rng.normal(size=(rows, classes)) * spread).astype(dtype)
    target = rng.integers(0, classes, rows)
    upstream = rng.normal(size=rows if reduction == "none" else ()).astype(dtype)
    kernels = compiled.kernels()
    calls = []
    rows_kernel, grad_kernel = kernels.cross_entropy_rows, kernels.cross_entropy_grad
    results = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernels, "cross_entropy_rows",
                      lambda *a: calls.append("rows") or rows_kernel(*a))
        patch.setattr(kernels, "cross_entropy_grad",
                      lambda *a: calls.append("grad") or grad_kernel(*a))
        for enabled in (True, False):
            with compiled.use(enabled):
                t = Tensor(logits, requires_grad=True)
                loss = F.cross_entropy(t, target, reduction=reduction)
                loss.backward(Tensor(upstream))
                results.append((loss.data, t.grad.data))
    # The kernels ran with use(True) only; the gradient's for a scalar loss only.
    assert calls == ["rows"] + ["grad"] * (reduction != "none")
    eps = np.finfo(dtype).eps
    for fast, reference in zip(*results):
        assert fast.dtype == reference.dtype == dtype
        np.testing.assert_allclose(fast, reference, rtol=16 * eps, atol=16 * eps)


def test_cross_entropy_kernels_take_only_what_they_compute():
    """Label smoothing, class probabilities, more than two axes and other index dtypes
    take the NumPy path (the results agree with it exactly there)."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 5)).astype(np.float32)
    cases = [(logits, rng.integers(0, 5, 4), {"label_smoothing": 0.1}),
             (logits, rng.random((4, 5)).astype(np.float32), {}),
             (logits.reshape(4, 5, 1), rng.integers(0, 5, (4, 1)), {}),
             (logits, rng.integers(0, 5, 4).astype(np.int32), {})]
    for x, target, kwargs in cases:
        losses = []
        for enabled in (True, False):
            with compiled.use(enabled):
                losses.append(F.cross_entropy(Tensor(x), target, **kwargs).data)
        np.testing.assert_array_equal(*losses)


def test_use_false_and_the_environment_variable_turn_the_kernels_off(monkeypatch):
    assert compiled.kernels() is not None
    with compiled.use(False):
        assert compiled.kernels() is None
    assert compiled.kernels() is not None
    monkeypatch.setattr(compiled, "_MODULE", False)  # as if numba were missing
    assert compiled.kernels() is None


def test_half_precision_takes_the_numpy_path():
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 6, 6)).astype(np.float16),
               requires_grad=True)
    w = Tensor(np.random.default_rng(1).normal(size=(4, 3, 3, 3)).astype(np.float16))
    out, _ = F.max_pool2d(F.conv2d(x, w, padding=1), 2, return_indices=True)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == np.float16
    assert compiled.kernels(np.float16) is None and compiled.kernels(np.float32) is not None
