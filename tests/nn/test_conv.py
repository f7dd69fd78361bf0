"""Convolutions, unfold/fold and padding: against PyTorch from the same inputs and weights,
float64 gradchecks over drawn geometries, modules (init, repr, state dict), errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import helpers as tst
import tinygrad_fm as tg
import tinygrad_fm.optim  # noqa: F401  (torch.optim under the name torch)
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _torch_grads(fn, arrays, upstream):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _our_grads(fn, arrays, upstream):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(upstream)
    return out.data, [t.grad.data for t in tensors]


def assert_matches_torch(ours, theirs, arrays, rtol=1e-7, atol=1e-9, seed=0):
    """Outputs and gradients (from one random upstream gradient) of ``ours`` and
    ``theirs`` agree on the same float64 inputs."""
    tensors = [torch.tensor(a) for a in arrays]
    expected_shape = theirs(*tensors).shape
    upstream = np.random.default_rng(seed).normal(size=tuple(expected_shape))
    expected, expected_grads = _torch_grads(theirs, arrays, upstream)
    got, got_grads = _our_grads(ours, arrays, upstream)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    for mine, reference in zip(got_grads, expected_grads):
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol)


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for shape in shapes]


# --------------------------------------------------------------------------- functional


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_matches_torch(dims, data, bias, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(dims))
    arrays = _arrays(seed, x_shape, w_shape) + ([_arrays(seed + 1, (w_shape[0],))[0]]
                                                 if bias else [])
    ours = F.conv1d if dims == 1 else F.conv2d
    theirs = torch.nn.functional.conv1d if dims == 1 else torch.nn.functional.conv2d
    assert_matches_torch(lambda *t: ours(*t, **kwargs), lambda *t: theirs(*t, **kwargs),
                         arrays)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_transpose_matches_torch(dims, data, bias, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(dims, transposed=True))
    arrays = _arrays(seed, x_shape, w_shape) + (
        [_arrays(seed + 1, (w_shape[1] * kwargs["groups"],))[0]] if bias else [])
    ours = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    theirs = torch.nn.functional.conv_transpose1d if dims == 1 else \
        torch.nn.functional.conv_transpose2d
    assert_matches_torch(lambda *t: ours(*t, **kwargs), lambda *t: theirs(*t, **kwargs),
                         arrays)


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_conv2d_gradcheck(data, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(2))
    x, w, b = _arrays(seed, x_shape, w_shape, (w_shape[0],))
    assert tg.gradcheck(lambda *t: F.conv2d(*t, **kwargs), [Tensor(x, requires_grad=True),
                        Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)])


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_conv1d_gradcheck(data, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(1))
    x, w = _arrays(seed, x_shape, w_shape)
    assert tg.gradcheck(lambda *t: F.conv1d(*t, **kwargs), [Tensor(x, requires_grad=True),
                        Tensor(w, requires_grad=True)])


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_conv_transpose_gradcheck(dims, data, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(dims, transposed=True))
    x, w, b = _arrays(seed, x_shape, w_shape, (w_shape[1] * kwargs["groups"],))
    fn = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    assert tg.gradcheck(lambda *t: fn(*t, **kwargs), [Tensor(x, requires_grad=True),
                        Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)])


def test_conv_keeps_float32_and_large_batches_match_in_chunks(monkeypatch):
    # A tiny chunk budget forces the batch to be unfolded in several pieces (and the
    # weight gradient to rebuild them): the results must not change.
    x, w = (a.astype(np.float32) for a in _arrays(3, (5, 4, 9, 8), (6, 2, 3, 3)))
    kwargs = dict(stride=(2, 1), padding=1, groups=2)
    reference = _our_grads(lambda *t: F.conv2d(*t, **kwargs), [x, w], np.ones((5, 6, 5, 8),
                                                                               np.float32))
    monkeypatch.setattr(tg.ops.conv, "UNFOLD_CHUNK_ELEMENTS", 50)
    chunked = _our_grads(lambda *t: F.conv2d(*t, **kwargs), [x, w], np.ones((5, 6, 5, 8),
                                                                             np.float32))
    for got, expected in zip([chunked[0]] + chunked[1], [reference[0]] + reference[1]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kwargs)
    np.testing.assert_allclose(chunked[0], theirs.numpy(), rtol=1e-4, atol=1e-4)


def test_unbatched_inputs_give_unbatched_outputs():
    x, w = _arrays(0, (3, 6, 5), (4, 3, 3, 3))
    out = F.conv2d(Tensor(x), Tensor(w), padding=1)
    assert out.shape == (4, 6, 5)
    np.testing.assert_allclose(out.data, torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(w), padding=1).numpy(), rtol=1e-10)
    assert F.conv1d(Tensor(x[:, 0]), Tensor(w[:, :, 0])).shape == (4, 3)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2,
                                    padding=1, dilation=(1, 2)),
                                    dict(kernel_size=3, padding=2, stride=(1, 3))])
def test_unfold_fold_match_torch_and_gradcheck(kwargs):
    (x,) = _arrays(1, (2, 3, 6, 7))
    assert_matches_torch(lambda t: F.unfold(t, **kwargs),
                         lambda t: torch.nn.functional.unfold(t, **kwargs), [x])
    columns = torch.nn.functional.unfold(torch.tensor(x), **kwargs).shape
    (c,) = _arrays(2, tuple(columns))
    assert_matches_torch(lambda t: F.fold(t, (6, 7), **kwargs),
                         lambda t: torch.nn.functional.fold(t, (6, 7), **kwargs), [c])
    assert tg.gradcheck(lambda t: F.unfold(t, **kwargs), [Tensor(x[:1, :2], requires_grad=True)])
    (small,) = _arrays(3, (1,) + tuple(torch.nn.functional.unfold(
        torch.tensor(x[:1, :2]), **kwargs).shape[1:]))
    assert tg.gradcheck(lambda t: F.fold(t, (6, 7), **kwargs), [Tensor(small,
                                                                        requires_grad=True)])
    assert nn.Unfold(**kwargs)(Tensor(x)).shape == tuple(columns)
    assert repr(nn.Fold((6, 7), **kwargs)) == repr(torch.nn.Fold((6, 7), **kwargs))


# --------------------------------------------------------------------------- pad


PAD_CASES = [((1, 2), "constant"), ((2, 0, 1, 3), "constant"), ((-1, 2, 1, -2), "constant"),
             ((2, 1), "reflect"), ((1, 3, 2, 0), "reflect"), ((3, 1), "replicate"),
             ((4, 1, 0, 5), "replicate"), ((2, 3), "circular"), ((1, 2, 4, 0), "circular"),
             ((1, 1, 1, 1, 1, 1), "constant"), ((1, 0, 2, 1, 1, 2), "replicate")]


@pytest.mark.parametrize("widths, mode", PAD_CASES)
def test_pad_matches_torch_and_gradchecks(widths, mode):
    # Non-constant modes pad the last 1-3 axes of a tensor with batch and channel axes.
    shape = {2: (2, 3, 5), 4: (2, 3, 4, 5), 6: (1, 2, 3, 4, 5)}[len(widths)]
    if mode == "constant":
        shape = (2,) + shape
    (x,) = _arrays(4, shape)
    value = {"constant": 1.5}.get(mode)
    kwargs = {"mode": mode} if value is None else {"mode": mode, "value": value}
    assert_matches_torch(lambda t: F.pad(t, widths, **kwargs),
                         lambda t: torch.nn.functional.pad(t, widths, **kwargs), [x])
    assert tg.gradcheck(lambda t: F.pad(t, widths, **kwargs),
                        [Tensor(x[:1, :1], requires_grad=True)])
    assert F.pad(Tensor(x.astype(np.float32)), widths, **kwargs).dtype == np.float32


def test_pad_modules_match_torch():
    (x,) = _arrays(5, (2, 3, 4, 5))
    for name, args in [("ZeroPad2d", (1,)), ("ConstantPad2d", ((1, 0, 2, 1), -2.0)),
                       ("ReflectionPad2d", ((1, 2, 3, 0),)), ("ReplicationPad2d", (2,)),
                       ("CircularPad2d", ((1, 1, 0, 2),)), ("ZeroPad1d", ((1, 2),)),
                       ("ConstantPad1d", (2, 3.0)), ("ReflectionPad1d", (3,)),
                       ("ReplicationPad1d", ((0, 4),)), ("CircularPad1d", (2,))]:
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
        data = x if name.endswith("2d") else x[0]
        np.testing.assert_allclose(ours(Tensor(data)).data,
                                   theirs(torch.tensor(data)).numpy(), rtol=1e-12)


def test_pad_errors_name_the_problem():
    x = Tensor(np.zeros((1, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="reflect.*less than"):
        F.pad(x, (3, 0, 0, 0), mode="reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match="has 4"):
        F.pad(x, (1,) * 10)
    with pytest.raises(ValueError, match="last 1-3 axes"):
        F.pad(Tensor(np.zeros(5)), (1, 1), mode="replicate")


# --------------------------------------------------------------------------- modules


MODULE_CASES = [
    ("Conv2d", (3, 8, 3), {}),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=(1, 0), dilation=(2, 1), groups=2,
                                    bias=False)),
    ("Conv2d", (2, 4, 4), dict(padding="same", padding_mode="reflect")),
    ("Conv2d", (2, 4, 3), dict(padding=2, padding_mode="circular")),
    ("Conv2d", (2, 2, 3), dict(padding=(1, 2), padding_mode="replicate", groups=2)),
    ("Conv2d", (2, 4, 3), dict(padding="valid")),
    ("Conv1d", (3, 6, 5), dict(stride=2, padding=2, groups=3)),
    ("Conv1d", (2, 3, 4), dict(padding="same", dilation=2, padding_mode="circular")),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("ConvTranspose2d", (2, 3, (2, 3)), dict(stride=(1, 2), dilation=2, bias=False)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3, padding=1, output_padding=2)),
]


@pytest.mark.parametrize("name, args, kwargs", MODULE_CASES)
def test_conv_module_loads_torch_weights_and_matches(name, args, kwargs):
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs, dtype=np.float64)
    assert repr(ours) == repr(theirs)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in state.items()}
    ours.load_state_dict(state)
    dims = 1 if name.endswith("1d") else 2
    (x,) = _arrays(6, (2, args[0]) + (7,) * dims)
    tx = torch.tensor(x, requires_grad=True)
    expected = theirs(tx)
    upstream = np.random.default_rng(7).normal(size=tuple(expected.shape))
    expected.backward(torch.tensor(upstream))
    ox = Tensor(x, requires_grad=True)
    out = ours(ox)
    out.backward(upstream)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    for (key, param), (_, reference) in zip(ours.named_parameters(),
                                            theirs.named_parameters()):
        np.testing.assert_allclose(param.grad.data, reference.grad.numpy(), rtol=1e-9,
                                   atol=1e-10, err_msg=key)


def test_conv_module_float32_in_float32_out_and_gradcheck():
    tg.manual_seed(0)
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode="reflect")
    x = Tensor(np.random.default_rng(0).normal(size=(2, 2, 5, 5)).astype(np.float32),
               requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == np.float32
    layer.double()
    assert tg.gradcheck(lambda t: layer(t), [Tensor(x.data.astype(np.float64),
                                                    requires_grad=True)])


@pytest.mark.parametrize("name, args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 12, 5)),
                                        ("ConvTranspose2d", (24, 8, 4))])
def test_conv_init_is_torch_kaiming_uniform(name, args):
    tg.manual_seed(0)
    layer = getattr(nn, name)(*args, groups=2)
    fan_in = layer.weight.shape[1] * math.prod(layer.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in))
    weight = layer.weight.data.astype(np.float64)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    assert weight.var() == pytest.approx(bound ** 2 / 3, rel=0.1)
    assert np.abs(layer.bias.data).max() <= bound
    assert layer.bias.data.std() > 0.2 * bound
    reference = getattr(torch.nn, name)(*args, groups=2)
    assert tuple(reference.weight.shape) == layer.weight.shape
    assert layer.weight.dtype == layer.bias.dtype == np.float32


def test_conv_transpose_output_size_picks_output_padding():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).double()
    layer.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    (x,) = _arrays(8, (1, 2, 4, 5))
    out = layer(Tensor(x), output_size=(8, 10))
    assert out.shape == (1, 3, 8, 10)
    np.testing.assert_allclose(out.data, theirs(torch.tensor(x), output_size=(8, 10))
                               .detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="sizes possible are"):
        layer(Tensor(x), output_size=(11, 10))


def test_conv_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels=3 must be divisible by "
                                         r"groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels=5 must be divisible by groups=2"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int.*'valid' or 'same'"):
        F.conv2d(Tensor(np.zeros((1, 1, 3, 3))), Tensor(np.zeros((1, 1, 3, 3))),
                 padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    layer = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d: input of shape \(2, 5, 8, 8\) has 5 "
                                         r"channels, but weight of shape \(4, 3, 3, 3\)"):
        layer(Tensor(np.zeros((2, 5, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d: expected a 3-D \(unbatched\) or 4-D"):
        layer(Tensor(np.zeros((8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d: the kernel \(3, 3\).*larger than the "
                                         r"padded input \(2, 2\)"):
        layer(Tensor(np.zeros((1, 3, 2, 2), np.float32)))
    with pytest.raises(TypeError, match="float64.*float32"):
        layer(Tensor(np.zeros((1, 3, 5, 5))))
    with pytest.raises(ValueError, match=r"Conv1d: expected a 2-D \(unbatched\) or 3-D"):
        nn.Conv1d(1, 1, 3, padding_mode="reflect")(Tensor(np.zeros((1, 1, 5, 5),
                                                                   np.float32)))
    with pytest.raises(ValueError, match="output_padding .* must be smaller"):
        F.conv_transpose2d(Tensor(np.zeros((1, 1, 3, 3))), Tensor(np.zeros((1, 1, 3, 3))),
                           stride=2, output_padding=2)
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        F.conv2d(Tensor(np.zeros((1, 3, 5, 5))), Tensor(np.zeros((4, 3, 3, 3))),
                 Tensor(np.zeros(3)))


# --------------------------------------------------------------------------- double backward


def _differentiable_backward_matches(function, out, grad):
    """The op's Tensor-level backward computes what its array backward computes."""
    ctx = out._ctx
    inputs = ctx.parents
    arrays = function.backward(ctx, grad)
    with tg.no_grad():
        tensors = function.differentiable_backward(ctx, Tensor(grad), inputs, out)
    for array, tensor in zip(arrays, tensors):
        assert (array is None) == (tensor is None)
        if array is not None:
            np.testing.assert_allclose(tensor.data, array, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True])
def test_differentiable_backward_of_convolutions_matches_backward(transposed):
    x, w, b = _arrays(9, (2, 4, 6, 5), (4, 3, 3, 2), (6,))
    tensors = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    kwargs = dict(stride=2, padding=1, groups=2, dilation=(1, 2))
    out = (F.conv_transpose2d(*tensors, output_padding=1, **kwargs) if transposed else
           F.conv2d(tensors[0], Tensor(np.swapaxes(w, 0, 1).reshape(6, 2, 3, 2).copy(),
                                       requires_grad=True), tensors[2], **kwargs))
    grad = np.random.default_rng(1).normal(size=out.shape)
    _differentiable_backward_matches(out._ctx.function, out, grad)
    geometry = out._ctx.parents[3]
    weight_grad = tg.ops.ConvWeightGrad.apply(tensors[0], Tensor(grad, requires_grad=True),
                                              geometry) if not transposed else None
    if weight_grad is not None:
        _differentiable_backward_matches(tg.ops.ConvWeightGrad, weight_grad,
                                         np.random.default_rng(2).normal(
                                             size=weight_grad.shape))
        assert tg.gradcheck(lambda a, g: tg.ops.ConvWeightGrad.apply(a, g, geometry),
                            [Tensor(x[:1], requires_grad=True),
                             Tensor(grad[:1], requires_grad=True)])


def test_differentiable_backward_of_pad_and_unfold_matches_backward():
    (x,) = _arrays(10, (2, 3, 5, 4))
    for out in (F.pad(Tensor(x, requires_grad=True), (2, 1, 1, 3), mode="reflect"),
                F.pad(Tensor(x, requires_grad=True), (2, -1), value=3.0),
                F.unfold(Tensor(x, requires_grad=True), 2, padding=1)):
        _differentiable_backward_matches(out._ctx.function, out,
                                         np.random.default_rng(3).normal(size=out.shape))
    columns = Tensor(np.random.default_rng(4).normal(size=(2, 12, 6)), requires_grad=True)
    folded = F.fold(columns, (3, 4), 2)
    _differentiable_backward_matches(tg.ops.Fold, folded,
                                     np.random.default_rng(5).normal(size=folded.shape))


# --------------------------------------------------------------------------- a PyTorch program


def test_pytorch_cnn_program_runs_unchanged():
    """A small PyTorch training loop, run once with torch and once with tinygrad_fm as
    ``torch``, from the same weights: same losses step by step."""

    def program(torch, weights):
        nn = torch.nn
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(4, 6, 3, padding="same", groups=2), nn.ReLU(),
                              nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(24, 3))
        model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(3):
            x = torch.tensor(rng.normal(size=(4, 1, 8, 8)).astype(np.float32))
            y = torch.tensor(rng.integers(0, 3, size=4))
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding="same", groups=2), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d((2, 2)), torch.nn.Flatten(), torch.nn.Linear(24, 3))
    weights = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    np.testing.assert_allclose(program(tg, weights), program(torch, weights), rtol=1e-5)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_conv_gradgradcheck(dims, data, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(dims))
    x, w, b = _arrays(seed, x_shape, w_shape, (w_shape[0],))
    fn = F.conv1d if dims == 1 else F.conv2d
    assert tg.gradgradcheck(lambda *t: fn(*t, **kwargs), [Tensor(x, requires_grad=True),
                            Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)])


@given(data=st.data(), seed=st.integers(0, 2**16))
def test_conv_transpose_gradgradcheck(data, seed):
    x_shape, w_shape, kwargs = data.draw(tst.conv_cases(2, transposed=True))
    x, w, b = _arrays(seed, x_shape, w_shape, (w_shape[1] * kwargs["groups"],))
    assert tg.gradgradcheck(lambda *t: F.conv_transpose2d(*t, **kwargs),
                            [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True),
                             Tensor(b, requires_grad=True)])


def test_conv_third_derivative_is_a_convolution_too():
    # d/dx of (d/dw of sum(conv(x, w)^2)) . v needs the weight gradient's own gradient.
    x, w = _arrays(11, (1, 2, 5, 5), (3, 2, 3, 3))
    assert tg.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1) ** 2,
                            [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)])


@pytest.mark.parametrize("widths, mode", [((2, 1, 1, 3), "reflect"), ((1, -1), "constant"),
                                          ((2, 2), "circular"), ((3, 0, 1, 1), "replicate")])
def test_pad_gradgradcheck(widths, mode):
    (x,) = _arrays(12, (1, 2, 4, 4) if len(widths) == 4 else (1, 2, 4))
    assert tg.gradgradcheck(lambda t: F.pad(t, widths, mode=mode) ** 2,
                            [Tensor(x, requires_grad=True)])


def test_unfold_fold_gradgradcheck():
    (x,) = _arrays(13, (1, 2, 4, 5))
    assert tg.gradgradcheck(lambda t: F.unfold(t, 2, padding=1, stride=(1, 2)) ** 2,
                            [Tensor(x, requires_grad=True)])
    (c,) = _arrays(14, (1, 8, 12))
    assert tg.gradgradcheck(lambda t: F.fold(t, (4, 5), 2) ** 2,
                            [Tensor(c, requires_grad=True)])
