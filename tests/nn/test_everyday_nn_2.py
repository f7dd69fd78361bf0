"""More everyday nn pieces against PyTorch: RMSNorm / rms_norm, alpha dropout, the
deprecated upsample aliases and Upsampling modules, LP pooling (values, dtypes, gradients
against torch; float64 gradchecks; module reprs and state_dict keys)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn
from tinygrad_fm.jit import jit
from tinygrad_fm.nn import functional as F

from helpers import assert_gradcheck, assert_matches_torch, float_arrays

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _both(array, requires_grad=True):
    return (Tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def _assert_same_forward_and_grad(ours_fn, theirs_fn, array, rtol=1e-5, atol=1e-6):
    """Same values, dtype and input gradient of sum(out * w) in our framework and torch."""
    ours_x, theirs_x = _both(array)
    ours, theirs = ours_fn(ours_x), theirs_fn(theirs_x)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)
    weight = np.random.default_rng(3).standard_normal(ours.shape).astype(array.dtype)
    (ours * Tensor(weight)).sum().backward()
    (theirs * torch.tensor(weight)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- RMSNorm


@pytest.mark.parametrize("shape, normalized, eps", [((4, 6), 6, None), ((2, 3, 5), (3, 5), 1e-3),
                                                    ((5,), [5], 1e-6)])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_module_matches_torch(shape, normalized, eps, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    ours, theirs = nn.RMSNorm(normalized, eps, affine), torch.nn.RMSNorm(normalized, eps, affine)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if affine:
        weight = rng.standard_normal(ours.weight.shape).astype(np.float32)
        ours.weight.data[...] = weight
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(weight))
    _assert_same_forward_and_grad(ours, theirs, x)
    if affine:
        np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon():
    # A zero row: the output is 0 * rsqrt(eps) = 0 either way, so compare a tiny row whose
    # mean square is comparable to float32's epsilon, where eps changes the result.
    x = np.full((1, 4), 3e-4, np.float32)
    ours = F.rms_norm(Tensor(x), (4,))
    theirs = TF.rms_norm(torch.tensor(x), (4,))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5)
    assert not np.allclose(ours.data, 1.0, rtol=1e-3)  # eps matters here


@settings(max_examples=15, deadline=None)
@given(float_arrays((3, 4)), float_arrays((4,)))
def test_rms_norm_gradients(x, w):
    assert_matches_torch(lambda m, a, b: m.nn.functional.rms_norm(a, (4,), b, eps=1e-5), x, w)
    assert_gradcheck(lambda a, b: F.rms_norm(a, (4,), b, eps=1e-5), x, w)


def test_rms_norm_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"normalized_shape=\[3\]"):
        F.rms_norm(Tensor(np.ones((2, 4), np.float32)), 3)
    with pytest.raises(TypeError, match="same dtype"):
        F.rms_norm(Tensor(np.ones((2, 4), np.float32)), 4, Tensor(np.ones(4)))
    with pytest.raises(TypeError, match="floating point"):
        F.rms_norm(Tensor(np.ones((2, 4), np.int64)), 4)


# --------------------------------------------------------------------------- alpha dropout


ALPHA = 1.7580993408473766


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_takes_torchs_two_values(p):
    # With a constant input the output holds exactly two values (kept, dropped): the same
    # two as PyTorch's, whichever units each framework happens to drop.
    x = np.full((50, 40), 0.3, np.float32)
    tg.manual_seed(0)
    ours = F.alpha_dropout(Tensor(x), p, training=True)
    torch.manual_seed(0)
    theirs = TF.alpha_dropout(torch.tensor(x), p, training=True)
    ours_values, theirs_values = np.unique(ours.data), np.unique(theirs.numpy())
    assert ours.dtype == np.float32 and len(ours_values) == 2
    np.testing.assert_allclose(ours_values, theirs_values, rtol=1e-6)
    dropped = ours.data == ours_values.min()  # a * alpha * (p - 1) < 0 < kept values
    assert abs(dropped.mean() - p) < 0.05


def test_alpha_dropout_keeps_selu_statistics_and_gradient_is_the_scale():
    x = np.random.default_rng(1).standard_normal((400, 250)).astype(np.float32)
    tensor = Tensor(x, requires_grad=True)
    tg.manual_seed(3)
    out = F.alpha_dropout(tensor, 0.3, training=True)
    assert abs(out.data.mean()) < 0.02 and abs(out.data.std() - 1) < 0.02
    out.sum().backward()
    scale = 1 / np.sqrt((ALPHA ** 2 * 0.3 + 1) * 0.7)
    kept = x * scale + ALPHA * scale * 0.3
    grad = tensor.grad.data
    assert set(np.unique(grad)) == {np.float32(0), np.float32(scale)}
    np.testing.assert_allclose(out.data[grad > 0], kept[grad > 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.data[grad == 0], ALPHA * scale * (0.3 - 1), rtol=1e-6)


def test_feature_alpha_dropout_masks_whole_channels():
    x = np.random.default_rng(2).standard_normal((6, 8, 3, 5))
    tensor = Tensor(x, requires_grad=True)
    tg.manual_seed(5)
    out = F.feature_alpha_dropout(tensor, 0.5, training=True)
    out.sum().backward()
    per_channel = tensor.grad.data.reshape(6, 8, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # one draw per channel
    assert 0 < (per_channel[..., 0] == 0).sum() < 48
    theirs = TF.feature_alpha_dropout(torch.tensor(np.full((6, 8, 3, 5), 0.3)), 0.5, True)
    ours = F.feature_alpha_dropout(Tensor(np.full((6, 8, 3, 5), 0.3)), 0.5, True)
    np.testing.assert_allclose(np.unique(ours.data), np.unique(theirs.numpy()), rtol=1e-12)


def test_alpha_dropout_eval_p0_and_p1_as_torch():
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    for module in (nn.AlphaDropout(0.4), nn.FeatureAlphaDropout(0.4)):
        module.eval()
        np.testing.assert_array_equal(module(Tensor(x)).data, x)
    # training=False by default, as PyTorch's
    np.testing.assert_array_equal(F.alpha_dropout(Tensor(x), 0.5).data, x)
    np.testing.assert_array_equal(F.alpha_dropout(Tensor(x), 0.0, True).data, x)
    np.testing.assert_array_equal(F.alpha_dropout(Tensor(x), 1.0, True).data,
                                  TF.alpha_dropout(torch.tensor(x), 1.0, True).numpy())
    assert repr(nn.AlphaDropout()) == repr(torch.nn.AlphaDropout())
    assert repr(nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(1.5)
    with pytest.raises(ValueError, match="at least 2 axes"):
        F.feature_alpha_dropout(Tensor(x[0]), 0.5, True)


def test_alpha_dropout_reproducible_and_redrawn_under_jit():
    x = np.random.default_rng(6).standard_normal((8, 16)).astype(np.float32)
    layer = nn.AlphaDropout(0.5)

    def step(x):
        return layer(x) * 1.0

    captured = jit(step)
    tg.manual_seed(9)
    eager = [step(Tensor(x)).data.copy() for _ in range(3)]
    tg.manual_seed(9)
    replayed = [captured(Tensor(x)).data.copy() for _ in range(3)]
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(replayed[1], replayed[2])  # fresh masks at each replay


# --------------------------------------------------------------------------- upsample aliases


@pytest.mark.parametrize("name, kwargs", [
    ("upsample", dict(scale_factor=2, mode="bilinear", align_corners=False)),
    ("upsample", dict(size=(5, 7))),
    ("upsample_nearest", dict(scale_factor=3)),
    ("upsample_bilinear", dict(size=(5, 6))),
])
def test_upsample_aliases_warn_and_match_torch(name, kwargs):
    x = np.random.default_rng(7).standard_normal((2, 3, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        _assert_same_forward_and_grad(lambda t: getattr(F, name)(t, **kwargs),
                                      lambda t: getattr(TF, name)(t, **kwargs), x)


@pytest.mark.parametrize("kind, kwargs", [("UpsamplingNearest2d", dict(scale_factor=2)),
                                          ("UpsamplingBilinear2d", dict(size=(5, 7))),
                                          ("UpsamplingBilinear2d", dict(scale_factor=2))])
def test_upsampling_modules_match_torch(kind, kwargs):
    x = np.random.default_rng(8).standard_normal((2, 3, 3, 4)).astype(np.float32)
    ours, theirs = getattr(nn, kind)(**kwargs), getattr(torch.nn, kind)(**kwargs)
    assert repr(ours) == repr(theirs)
    _assert_same_forward_and_grad(ours, theirs, x)


# --------------------------------------------------------------------------- LP pooling


@pytest.mark.parametrize("norm_type, kernel, stride, ceil_mode", [
    (2, 3, None, False), (1.5, 2, 1, False), (3, 2, 2, True), (1, 3, 2, False)])
def test_lp_pool1d_matches_torch(norm_type, kernel, stride, ceil_mode):
    x = np.random.default_rng(9).uniform(0.1, 2, (2, 3, 9)).astype(np.float32)
    ours = nn.LPPool1d(norm_type, kernel, stride, ceil_mode)
    theirs = torch.nn.LPPool1d(norm_type, kernel, stride, ceil_mode)
    assert repr(ours) == repr(theirs)
    _assert_same_forward_and_grad(ours, theirs, x)


@pytest.mark.parametrize("norm_type, kernel, stride, ceil_mode", [
    (2, 2, None, False), (1.5, (2, 3), 1, False), (3, 2, (2, 1), True)])
def test_lp_pool2d_matches_torch(norm_type, kernel, stride, ceil_mode):
    x = np.random.default_rng(10).uniform(0.1, 2, (2, 3, 6, 7)).astype(np.float32)
    ours = nn.LPPool2d(norm_type, kernel, stride, ceil_mode)
    theirs = torch.nn.LPPool2d(norm_type, kernel, stride, ceil_mode)
    assert repr(ours) == repr(theirs)
    _assert_same_forward_and_grad(ours, theirs, x)


def test_lp_pool_gradients_and_signed_inputs():
    x = np.random.default_rng(11).standard_normal((1, 2, 4, 4))
    assert_matches_torch(lambda m, a: m.nn.functional.lp_pool2d(a, 2, 2), x)
    assert_gradcheck(lambda a: F.lp_pool2d(a, 2, 2), x)
    # odd p with a negative window sum: PyTorch gives 0 there (relu of the sum), not NaN
    assert_matches_torch(lambda m, a: m.nn.functional.lp_pool1d(a, 3, 2), x.reshape(1, 2, 16))
    with pytest.raises(ValueError, match="norm_type must be a non-zero number"):
        F.lp_pool1d(Tensor(x.reshape(1, 2, 16)), 0, 2)


# --------------------------------------------------------------------------- affine_grid, grid_sample


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch(mode, padding_mode, align_corners):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 5, 6))
    grid = rng.uniform(-1.4, 1.4, (2, 4, 7, 2))  # some points outside, for the padding
    assert_matches_torch(lambda m, a, g: m.nn.functional.grid_sample(
        a, g, mode, padding_mode, align_corners), x, grid)
    ours = F.grid_sample(Tensor(x.astype(np.float32)), Tensor(grid.astype(np.float32)), mode,
                         padding_mode, align_corners)
    theirs = TF.grid_sample(torch.tensor(x, dtype=torch.float32),
                            torch.tensor(grid, dtype=torch.float32), mode, padding_mode,
                            align_corners)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck_in_input_and_grid(padding_mode):
    rng = np.random.default_rng(13)
    x, grid = rng.standard_normal((1, 2, 4, 3)), rng.uniform(-1.2, 1.2, (1, 3, 2, 2))
    assert_gradcheck(lambda a, g: F.grid_sample(a, g, "bilinear", padding_mode, False), x, grid)


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch_and_feeds_grid_sample(align_corners):
    rng = np.random.default_rng(14)
    theta = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.2]], [[1.0, 0, 0], [0, 1.0, 0]]])
    x = rng.standard_normal((2, 3, 5, 4))
    assert_matches_torch(lambda m, t: m.nn.functional.affine_grid(
        t, (2, 3, 6, 5), align_corners), theta)
    assert_matches_torch(lambda m, t, a: m.nn.functional.grid_sample(
        a, m.nn.functional.affine_grid(t, (2, 3, 6, 5), align_corners),
        align_corners=align_corners), theta, x)
    assert_gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 2), align_corners), theta)
    # the identity transform with align_corners=True reproduces the image exactly
    identity = F.grid_sample(Tensor(x), F.affine_grid(Tensor(np.tile(theta[1], (2, 1, 1))),
                                                      (2, 3, 5, 4), True), align_corners=True)
    if align_corners:
        np.testing.assert_allclose(identity.data, x, atol=1e-12)


def test_grid_sample_arguments_and_default_warning():
    x, grid = Tensor(np.zeros((1, 1, 3, 3), np.float32)), Tensor(np.zeros((1, 2, 2, 2), np.float32))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(Tensor(np.zeros((1, 2, 3), np.float32)), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="bicubic is not supported"):
        F.grid_sample(x, grid, "bicubic", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        F.grid_sample(x, grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(TypeError, match="same dtype"):
        F.grid_sample(x, Tensor(np.zeros((1, 2, 2, 2))), align_corners=False)
    with pytest.raises(ValueError, match=r"theta of shape \(1, 2, 3\)"):
        F.affine_grid(Tensor(np.zeros((1, 3, 3), np.float32)), (1, 1, 2, 2), False)


# --------------------------------------------------------------------------- LazyLinear


@pytest.mark.parametrize("bias", [True, False])
def test_lazy_linear_infers_in_features_and_becomes_linear(bias):
    ours, theirs = nn.LazyLinear(3, bias=bias), torch.nn.LazyLinear(3, bias=bias)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours.weight) == repr(theirs.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        ours.weight.shape
    assert ours.has_uninitialized_params()
    x = np.random.default_rng(15).standard_normal((2, 5, 4)).astype(np.float32)
    out = ours(Tensor(x))
    theirs(torch.tensor(x))
    assert type(ours) is nn.Linear and repr(ours) == repr(theirs)
    assert type(ours.weight) is nn.Parameter and ours.weight.shape == (3, 4)
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    bound = 1 / np.sqrt(4)
    assert np.all(np.abs(ours.weight.data) <= bound) and ours.weight.data.std() > 0
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(out.data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)  # float32 matmuls, summed in different orders
    assert out.dtype == np.float32


def test_lazy_linear_optimizer_made_before_the_first_call_trains_it():
    ours = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    optimizer = tg.optim.SGD(ours.parameters(), lr=0.1)
    x = np.random.default_rng(16).standard_normal((8, 3)).astype(np.float32)
    first = ours(Tensor(x)).square().mean()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    their_optimizer = torch.optim.SGD(theirs.parameters(), lr=0.1)
    first.backward()
    optimizer.step()
    theirs(torch.tensor(x)).square().mean().backward()
    their_optimizer.step()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), rtol=1e-5,
                                   atol=1e-7)
    assert ours(Tensor(x)).square().mean().item() < first.item()


# --------------------------------------------------------------------------- 3-D conv, pool, norm


CONV3D_CASES = [dict(), dict(stride=2, padding=1), dict(padding="same"),
                dict(stride=(1, 2, 1), padding=(2, 0, 1), dilation=(2, 1, 1), groups=2),
                dict(padding=1, padding_mode="circular")]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own copy
@pytest.mark.parametrize("kwargs", CONV3D_CASES)
def test_conv3d_module_matches_torch(kwargs):
    torch.manual_seed(0)
    theirs = torch.nn.Conv3d(4, 6, (3, 2, 3), **kwargs)
    ours = nn.Conv3d(4, 6, (3, 2, 3), **kwargs)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    ours.weight.data[...] = theirs.weight.detach().numpy()
    ours.bias.data[...] = theirs.bias.detach().numpy()
    x = np.random.default_rng(17).standard_normal((2, 4, 6, 7, 5)).astype(np.float32)
    _assert_same_forward_and_grad(ours, theirs, x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-4)


def test_conv3d_gradients_and_unbatched_input():
    rng = np.random.default_rng(18)
    x, w, b = rng.standard_normal((1, 2, 4, 3, 3)), rng.standard_normal((2, 2, 2, 2, 2)), \
        rng.standard_normal(2)
    assert_matches_torch(lambda m, *a: m.nn.functional.conv3d(*a, stride=(2, 1, 1), padding=1),
                         x, w, b)
    assert_gradcheck(lambda *a: F.conv3d(*a, padding=(1, 0, 1)), x, w, b)
    unbatched = F.conv3d(Tensor(x[0]), Tensor(w), Tensor(b))
    np.testing.assert_allclose(unbatched.data, F.conv3d(Tensor(x), Tensor(w), Tensor(b)).data[0])
    with pytest.raises(ValueError, match="4-D .* or 5-D"):
        F.conv3d(Tensor(x[0, 0]), Tensor(w))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=(3, 2, 2), stride=1, padding=(1, 1, 0),
                                         dilation=(2, 1, 2))])
def test_max_pool3d_matches_torch(kwargs):
    ours, theirs = nn.MaxPool3d(**kwargs), torch.nn.MaxPool3d(**kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(19).standard_normal((2, 3, 6, 7, 5)).astype(np.float32)
    _assert_same_forward_and_grad(ours, theirs, x)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2),
                                    dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=3, stride=2, padding=1,
                                         count_include_pad=False),
                                    dict(kernel_size=(3, 2, 2), stride=1, padding=(1, 1, 0),
                                         divisor_override=5)])
def test_avg_pool3d_matches_torch(kwargs):
    ours, theirs = nn.AvgPool3d(**kwargs), torch.nn.AvgPool3d(**kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(20).standard_normal((2, 3, 6, 7, 5)).astype(np.float32)
    _assert_same_forward_and_grad(ours, theirs, x)


def test_pool3d_unsupported_options_say_so():
    x = Tensor(np.zeros((1, 1, 4, 4, 4), np.float32))
    with pytest.raises(ValueError, match="ceil_mode=True is not supported"):
        F.max_pool3d(x, 2, ceil_mode=True)
    with pytest.raises(ValueError, match="return_indices=True is not supported"):
        F.max_pool3d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match="ceil_mode=True is not supported"):
        nn.AvgPool3d(2, ceil_mode=True)(x)


def test_batch_norm3d_matches_torch():
    ours, theirs = nn.BatchNorm3d(3, momentum=0.2), torch.nn.BatchNorm3d(3, momentum=0.2)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(21).standard_normal((2, 3, 4, 3, 5)).astype(np.float32) * 2 + 1
    _assert_same_forward_and_grad(ours, theirs, x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-5)
    ours.eval(), theirs.eval()
    _assert_same_forward_and_grad(ours, theirs, x)
    with pytest.raises(ValueError, match="5-D"):
        ours(Tensor(x[0]))


# --------------------------------------------------------------------------- spectral_norm


def _spectral_pair(make, **kwargs):
    """The same module with spectral_norm in both frameworks, sharing weights and u, v."""
    torch.manual_seed(1)
    theirs = torch.nn.utils.spectral_norm(make(torch), **kwargs)
    ours = nn.utils.spectral_norm(make(tg), **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for key, value in theirs.state_dict().items():
        ours.state_dict()[key].data[...] = value.numpy()
    return ours, theirs


@pytest.mark.parametrize("make, shape, kwargs", [
    (lambda lib: lib.nn.Linear(5, 4), (3, 5), {}),
    (lambda lib: lib.nn.Conv2d(2, 3, 3), (2, 2, 5, 5), dict(n_power_iterations=2)),
    (lambda lib: lib.nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 4), {}),
    (lambda lib: lib.nn.Linear(4, 6), (2, 4), dict(dim=1, eps=1e-6)),
])
def test_spectral_norm_matches_torch(make, shape, kwargs):
    ours, theirs = _spectral_pair(make, **kwargs)
    x = np.random.default_rng(22).standard_normal(shape).astype(np.float32)
    for _ in range(3):  # each training forward advances the power iteration
        _assert_same_forward_and_grad(ours, theirs, x, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.weight_u.data, theirs.weight_u.numpy(), rtol=1e-4,
                                   atol=1e-5)
    np.testing.assert_allclose(ours.weight_orig.grad.data, theirs.weight_orig.grad.numpy(),
                               rtol=1e-4, atol=1e-5)
    ours.eval(), theirs.eval()
    before = ours.weight_u.data.copy()
    _assert_same_forward_and_grad(ours, theirs, x, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ours.weight_u.data, before)  # eval: no power iteration


def test_remove_spectral_norm_matches_torch_and_rejects_twice():
    ours, theirs = _spectral_pair(lambda lib: lib.nn.Linear(5, 4))
    x = np.random.default_rng(23).standard_normal((3, 5)).astype(np.float32)
    ours(Tensor(x)), theirs(torch.tensor(x))
    torch.nn.utils.remove_spectral_norm(theirs)
    nn.utils.remove_spectral_norm(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(ours)
    layer = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(layer)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_spectral_norm_gradcheck():
    layer = nn.utils.spectral_norm(nn.Linear(3, 2).double())
    layer.eval()  # fixed u, v: a differentiable function of weight_orig
    x = np.random.default_rng(24).standard_normal((4, 3))

    def run(weight_orig):
        layer._parameters["weight_orig"] = weight_orig
        return layer(Tensor(x))

    assert_gradcheck(run, layer.weight_orig.data.copy())
