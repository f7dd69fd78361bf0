"""Pooling and resampling: max/avg/adaptive pools and interpolate against PyTorch from the
same inputs, float64 gradchecks over drawn geometries, modules' reprs, indices, errors."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import helpers as tst
import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

torch = pytest.importorskip("torch")


def _compare(ours, theirs, x, rtol=1e-10, atol=1e-12, seed=0):
    tx = torch.tensor(x, requires_grad=True)
    expected = theirs(tx)
    upstream = np.random.default_rng(seed).normal(size=tuple(expected.shape))
    expected.backward(torch.tensor(upstream))
    ox = Tensor(x, requires_grad=True)
    got = ours(ox)
    got.backward(upstream)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)


def _distinct(draw_shape, seed):
    """Values pairwise apart (a unique maximum in every window, so central differences
    never straddle a switch of the winner)."""
    size = int(np.prod(draw_shape))
    rng = np.random.default_rng(seed)
    return (rng.permutation(size) * 0.5 + rng.uniform(0, 0.1, size)).reshape(draw_shape)


# --------------------------------------------------------------------------- max pooling


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_max_pool_matches_torch_with_indices(dims, data, seed):
    shape, kwargs = data.draw(tst.pool_cases(dims, max_pool=True))
    x = _distinct(shape, seed)
    ours = F.max_pool1d if dims == 1 else F.max_pool2d
    theirs = torch.nn.functional.max_pool1d if dims == 1 else torch.nn.functional.max_pool2d
    # A window wholly in the padding (possible with dilation) gives -inf, and PyTorch an
    # index outside the input: a degenerate case left out.
    assume(np.isfinite(theirs(torch.tensor(x), **kwargs).numpy()).all())
    _compare(lambda t: ours(t, **kwargs), lambda t: theirs(t, **kwargs), x)
    out, indices = ours(Tensor(x), **kwargs, return_indices=True)
    expected, expected_indices = theirs(torch.tensor(x), **kwargs, return_indices=True)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, expected_indices.numpy())


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_max_pool_gradcheck(dims, data, seed):
    shape, kwargs = data.draw(tst.pool_cases(dims, max_pool=True))
    fn = F.max_pool1d if dims == 1 else F.max_pool2d
    assume(np.isfinite(fn(Tensor(_distinct(shape, seed)), **kwargs).data).all())
    tst.assert_gradcheck(lambda t: fn(t, **kwargs), _distinct(shape, seed))


def test_max_pool_ties_and_nan_follow_torch():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0],
                    [np.nan, 3.0, 5.0, 5.0], [3.0, 3.0, 5.0, np.nan]]]], np.float32)
    out, indices = F.max_pool2d(Tensor(x), 2, return_indices=True)
    expected, expected_indices = torch.nn.functional.max_pool2d(torch.tensor(x), 2,
                                                                return_indices=True)
    np.testing.assert_array_equal(out.data, expected.numpy())
    np.testing.assert_array_equal(indices.data, expected_indices.numpy())
    finite = np.nan_to_num(x, nan=-1.0)
    _compare(lambda t: F.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2),
             finite.astype(np.float64))


def test_max_pool_keeps_float32_and_works_on_channels_last_memory():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
    x = Tensor(base.transpose(0, 3, 1, 2), requires_grad=True)  # NCHW view of NHWC memory
    out = nn.MaxPool2d(2)(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == np.float32
    reference = torch.nn.functional.max_pool2d(torch.tensor(x.data), 2)
    np.testing.assert_array_equal(out.data, reference.numpy())


# --------------------------------------------------------------------------- average pooling


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_avg_pool_matches_torch_and_gradchecks(dims, data, seed):
    shape, kwargs = data.draw(tst.pool_cases(dims, max_pool=False))
    x = np.random.default_rng(seed).normal(size=shape)
    ours = F.avg_pool1d if dims == 1 else F.avg_pool2d
    theirs = torch.nn.functional.avg_pool1d if dims == 1 else torch.nn.functional.avg_pool2d
    _compare(lambda t: ours(t, **kwargs), lambda t: theirs(t, **kwargs), x)
    tst.assert_gradcheck(lambda t: ours(t, **kwargs), x)


def test_avg_pool_divisor_override_matches_torch():
    (x,) = [np.random.default_rng(1).normal(size=(2, 3, 7, 6))]
    kwargs = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, divisor_override=4)
    _compare(lambda t: F.avg_pool2d(t, **kwargs),
             lambda t: torch.nn.functional.avg_pool2d(t, **kwargs), x)
    assert F.avg_pool2d(Tensor(x.astype(np.float32)), 2).dtype == np.float32


# --------------------------------------------------------------------------- adaptive pools


ADAPTIVE_SIZES = [(1, 1), (3, 2), (4, None), (5, 7), 2]


@pytest.mark.parametrize("output_size", ADAPTIVE_SIZES)
def test_adaptive_pools_match_torch(output_size):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 3, 7, 5))
    _compare(lambda t: F.adaptive_avg_pool2d(t, output_size),
             lambda t: torch.nn.functional.adaptive_avg_pool2d(t, output_size), x)
    distinct = _distinct((2, 3, 7, 5), 3)
    _compare(lambda t: F.adaptive_max_pool2d(t, output_size),
             lambda t: torch.nn.functional.adaptive_max_pool2d(t, output_size), distinct)
    out, indices = F.adaptive_max_pool2d(Tensor(distinct), output_size, return_indices=True)
    _, expected = torch.nn.functional.adaptive_max_pool2d(torch.tensor(distinct), output_size,
                                                          return_indices=True)
    np.testing.assert_array_equal(indices.data, expected.numpy())
    size_1d = output_size[0] if isinstance(output_size, tuple) else output_size
    _compare(lambda t: F.adaptive_avg_pool1d(t, size_1d),
             lambda t: torch.nn.functional.adaptive_avg_pool1d(t, size_1d), x[:, :, 0])
    _compare(lambda t: F.adaptive_max_pool1d(t, size_1d),
             lambda t: torch.nn.functional.adaptive_max_pool1d(t, size_1d), distinct[:, :, 0])


@given(h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 4), ow=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_adaptive_pools_gradcheck(h, w, oh, ow, seed):
    x = _distinct((1, 2, h, w), seed)
    tst.assert_gradcheck(lambda t: F.adaptive_avg_pool2d(t, (oh, ow)), x)
    tst.assert_gradcheck(lambda t: F.adaptive_max_pool2d(t, (oh, ow)), x)


# --------------------------------------------------------------------------- interpolate


INTERPOLATE_CASES = [
    dict(size=(7, 5), mode="nearest"), dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=(1.5, 0.7), mode="nearest"), dict(size=(3, 8), mode="nearest-exact"),
    dict(size=(7, 9), mode="bilinear"), dict(size=(7, 9), mode="bilinear", align_corners=True),
    dict(scale_factor=1.7, mode="bilinear"), dict(size=(2, 3), mode="bilinear"),
    dict(scale_factor=0.6, mode="bilinear", align_corners=True),
    dict(scale_factor=2.5, mode="bilinear", recompute_scale_factor=True),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
]


@pytest.mark.parametrize("kwargs", INTERPOLATE_CASES)
def test_interpolate_matches_torch(kwargs):
    x = np.random.default_rng(4).normal(size=(2, 3, 4, 5))
    _compare(lambda t: F.interpolate(t, **kwargs),
             lambda t: torch.nn.functional.interpolate(t, **kwargs), x, rtol=1e-6, atol=1e-7)
    assert F.interpolate(Tensor(x.astype(np.float32)), **kwargs).dtype == np.float32
    tst.assert_gradcheck(lambda t: F.interpolate(t, **kwargs), x[:1, :1])


@pytest.mark.parametrize("kwargs", [dict(size=9, mode="linear"),
                                    dict(scale_factor=1.5, mode="linear", align_corners=True),
                                    dict(scale_factor=3, mode="nearest")])
def test_interpolate_1d_matches_torch(kwargs):
    x = np.random.default_rng(5).normal(size=(2, 3, 5))
    _compare(lambda t: F.interpolate(t, **kwargs),
             lambda t: torch.nn.functional.interpolate(t, **kwargs), x, rtol=1e-6, atol=1e-7)


def test_upsample_module_matches_torch():
    x = np.random.default_rng(6).normal(size=(1, 2, 3, 4)).astype(np.float32)
    for args in [dict(scale_factor=2), dict(size=(5, 6), mode="bilinear"),
                 dict(scale_factor=(2, 3), mode="bilinear", align_corners=True)]:
        ours, theirs = nn.Upsample(**args), torch.nn.Upsample(**args)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_interpolate_errors():
    x = Tensor(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="'linear' needs a 3-D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(x, scale_factor=2, mode="bicubic")


# --------------------------------------------------------------------------- modules, errors


def test_pool_module_reprs_match_torch():
    for name, args, kwargs in [("MaxPool2d", (2,), {}), ("MaxPool2d", (3, 2, 1, 2), {}),
                               ("MaxPool1d", (3,), dict(ceil_mode=True)),
                               ("AvgPool2d", ((2, 3),), dict(padding=1)), ("AvgPool1d", (3,), {}),
                               ("AdaptiveAvgPool2d", ((None, 3),), {}),
                               ("AdaptiveAvgPool1d", (4,), {}), ("AdaptiveMaxPool2d", (2,), {})]:
        assert repr(getattr(nn, name)(*args, **kwargs)) == \
            repr(getattr(torch.nn, name)(*args, **kwargs))


def test_pool_modules_match_torch():
    x = _distinct((2, 3, 9, 8), 7)
    for name, args, kwargs in [("MaxPool2d", (3, 2, 1), dict(ceil_mode=True)),
                               ("MaxPool1d", (2,), {}), ("AvgPool1d", (3, 2, 1), {}),
                               ("AvgPool2d", (3,), dict(stride=2, padding=1,
                                                        count_include_pad=False)),
                               ("AdaptiveAvgPool2d", ((4, 3),), {}),
                               ("AdaptiveMaxPool2d", ((2, 5),), {})]:
        data = x[:, :, 0] if name.endswith("1d") else x
        _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs),
                 data)
    out, indices = nn.MaxPool2d(2, return_indices=True)(Tensor(x))
    assert out.shape == indices.shape == (2, 3, 4, 4)


def test_unbatched_pools():
    x = _distinct((3, 6, 5), 8)
    _compare(lambda t: F.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2), x)
    _compare(lambda t: F.avg_pool1d(t, 2), lambda t: torch.nn.functional.avg_pool1d(t, 2), x[0])


def test_pool_errors_name_the_layer_and_shapes():
    x = Tensor(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"MaxPool2d: padding \(2, 2\) should be at most "
                                         r"half of the kernel size \(2, 2\)"):
        nn.MaxPool2d(2, padding=2)(x)
    with pytest.raises(ValueError, match=r"max_pool2d: input of spatial size \(4, 4\) is "
                                         "too small for kernel"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"AvgPool2d: expected a 3-D \(unbatched\) or 4-D"):
        nn.AvgPool2d(2)(Tensor(np.zeros((4, 4), np.float32)))
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="output_size must be a positive int"):
        F.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(TypeError, match="floating point"):
        F.max_pool2d(Tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)


# --------------------------------------------------------------------------- double backward


def _differentiable_backward_matches(out, grad):
    ctx = out._ctx
    arrays = ctx.function.backward(ctx, grad)
    with tg.no_grad():
        tensors = ctx.function.differentiable_backward(ctx, Tensor(grad), ctx.parents, out)
    for array, tensor in zip(arrays, tensors):
        assert (array is None) == (tensor is None)
        if array is not None:
            np.testing.assert_allclose(tensor.data, array, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("pool", [
    lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True),
    lambda t: F.max_pool2d(t, 2, dilation=2),
    lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda t: F.avg_pool2d(t, 2, divisor_override=3),
    lambda t: F.adaptive_max_pool2d(t, (3, 4)),
])
def test_differentiable_backward_of_pools_matches_backward(pool):
    x = Tensor(_distinct((2, 3, 7, 6), 9), requires_grad=True)
    out = pool(x)
    _differentiable_backward_matches(out, np.random.default_rng(1).normal(size=out.shape))


@pytest.mark.parametrize("pool", [
    lambda t: F.max_pool2d(t, 2) ** 2,
    lambda t: F.max_pool2d(t, 3, 2, 1, dilation=(1, 2), ceil_mode=True) ** 2,
    lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2,
    lambda t: F.avg_pool1d(t[:, :, 0], 2) ** 2,
    lambda t: F.adaptive_max_pool2d(t, (3, 2)) ** 2,
    lambda t: F.adaptive_avg_pool2d(t, (4, 3)) ** 2,
    lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear") ** 2,
    lambda t: F.interpolate(t, size=(3, 7), mode="nearest") ** 2,
])
def test_pools_gradgradcheck(pool):
    assert tg.gradgradcheck(pool, [Tensor(_distinct((1, 2, 5, 6), 10), requires_grad=True)])
