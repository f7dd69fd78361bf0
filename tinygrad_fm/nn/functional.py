"""Stateless layers and losses, with PyTorch's ``torch.nn.functional`` names and ``dim``.

The losses that run every training step are single fused ``ArrayFunction`` s:
``cross_entropy`` computes the log-probabilities once (stably, from the logits) and its
backward is ``(softmax - target distribution) * grad / N``. The binary cross-entropies,
``smooth_l1_loss``/``huber_loss`` and the activations ``gelu``, ``silu``, ``elu`` and
``logsigmoid`` are fused the same way, each with PyTorch's formula and gradient.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _recording, ops
from ..autograd import ArrayFunction
from ..ops.common import constant
from ..ops.compiled import kernels as compiled_kernels
from ..random import numpy_rng
from ..tensor import Tensor, one_hot

__all__ = [
    "linear", "relu", "tanh", "sigmoid", "leaky_relu", "softmax", "log_softmax",
    "dropout", "one_hot", "cross_entropy", "nll_loss", "mse_loss",
    "gelu", "silu", "elu", "softplus", "logsigmoid", "log_sigmoid",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss", "smooth_l1_loss",
    "huber_loss",
    "batch_norm", "layer_norm", "group_norm", "dropout1d", "dropout2d", "embedding",
    "embedding_bag",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "pad",
    "interpolate", "relu6", "hardtanh", "hardswish", "mish",
    "scaled_dot_product_attention",
    "softmin", "glu", "softsign", "tanhshrink", "hardsigmoid", "selu", "celu", "threshold",
    "prelu", "rrelu", "hardshrink", "softshrink", "gumbel_softmax", "normalize", "cosine_similarity", "pairwise_distance", "kl_div",
    "instance_norm", "bilinear", "pixel_shuffle", "pixel_unshuffle",
    "soft_margin_loss", "margin_ranking_loss", "triplet_margin_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "cosine_embedding_loss", "hinge_embedding_loss", "multi_margin_loss",
    "multilabel_soft_margin_loss",
    "rms_norm", "alpha_dropout", "feature_alpha_dropout", "upsample", "upsample_nearest",
    "upsample_bilinear", "lp_pool1d", "lp_pool2d", "affine_grid", "grid_sample",
    "conv3d", "max_pool3d", "avg_pool3d",
]

REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(value, op: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return Tensor(value)
    except TypeError as error:
        raise TypeError(f"{op}: expected a Tensor or an ndarray, got "
                        f"{type(value).__name__} ({error})") from None


def _check_floating(tensor: Tensor, op: str) -> None:
    if tensor.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {tensor.dtype}; "
                        "convert it first, e.g. x.float()")


# --------------------------------------------------------------------------- layers


def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight.T + bias`` as one op; ``weight`` has shape (out, in)."""
    if not isinstance(input, (Tensor, np.ndarray)):
        input = _as_tensor(input, "linear")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        bias_dtype = "" if bias is None else f", bias {bias.dtype}"
        raise TypeError(f"linear: input ({input.dtype}) and weight ({weight.dtype}"
                        f"{bias_dtype}) must have the same dtype, so that nothing is "
                        "silently promoted; convert the input (x.float()) or the module "
                        "(module.to(dtype))")
    return ops.Linear.apply(input, weight, bias)


def relu(input, inplace: bool = False) -> Tensor:
    """``max(input, 0)``. ``inplace`` is accepted for PyTorch compatibility; the result
    is always a new tensor (the input is never overwritten)."""
    return _as_tensor(input, "relu").relu()


def tanh(input) -> Tensor:
    return _as_tensor(input, "tanh").tanh()


def sigmoid(input) -> Tensor:
    return _as_tensor(input, "sigmoid").sigmoid()


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``; ``inplace`` as in
    :func:`relu`."""
    return _as_tensor(input, "leaky_relu").leaky_relu(negative_slope)


def softmax(input, dim: int) -> Tensor:
    return _as_tensor(input, "softmax").softmax(dim)


def log_softmax(input, dim: int) -> Tensor:
    return _as_tensor(input, "log_softmax").log_softmax(dim)


def check_dropout_probability(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
            or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be a number between 0 and 1, but "
                         f"got {p!r}")
    return float(p)


class Dropout(ArrayFunction):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""

    draws_random = True  # tinygrad_fm.jit: its forward draws the mask, again at each replay

    @staticmethod
    def forward(ctx, x, p):
        keep = numpy_rng().random(x.shape, dtype=np.float32) >= p
        mask = keep.astype(x.dtype)
        mask *= 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (mask,) = ctx.saved_tensors
        return grad * constant(mask), None


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout in training mode; the input itself otherwise (or when p == 0).
    ``inplace`` as in :func:`relu`: the input is never overwritten."""
    p = check_dropout_probability(p)
    input = _as_tensor(input, "dropout")
    if not training or p == 0.0:
        return input
    _check_floating(input, "dropout")
    return Dropout.apply(input, p)


# --------------------------------------------------------------------------- convolution, pooling, padding, resampling
#
# Convolutions and pools run as 2-D ops on (N, C, H, W); 1-D forms add an H = 1 axis and
# unbatched inputs a batch axis, both removed from the result. ``op`` names the caller
# (the function, or the module's class) in error messages.


def _ntuple(value, n: int, name: str, op: str, minimum: int = 0) -> tuple:
    items = (value,) * n if isinstance(value, (int, np.integer)) else value
    if (not isinstance(items, (tuple, list)) or len(items) != n
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                   for v in items)):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a tuple of {n} such "
                         f"ints, got {value!r}")
    return tuple(int(v) for v in items)


def _spatial_input(input, dims: int, op: str, layout: str):
    """``input`` as a 4-D tensor, and the function that gives a 4-D result its rank back."""
    input = _as_tensor(input, op)
    if input.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D "
                         f"(batched, {layout}) input, got shape {tuple(input.shape)}")
    _check_floating(input, op)
    unbatched = input.ndim == dims + 1
    x = input.unsqueeze(0) if unbatched else input
    if dims == 1:
        x = x.unsqueeze(2)

    def restore(result: Tensor) -> Tensor:
        if dims == 1:
            result = result.squeeze(2)
        return result.squeeze(0) if unbatched else result

    return x, restore


def _lift(values: tuple, dims: int, fill) -> tuple:
    """A 1-D argument as its 2-D form (the added H axis first)."""
    return values if dims == 2 else (fill,) + values


def _check_same_dtype(input: Tensor, weight: Tensor, bias, op: str) -> None:
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        bias_dtype = "" if bias is None else f", bias {bias.dtype}"
        raise TypeError(f"{op}: input ({input.dtype}) and weight ({weight.dtype}{bias_dtype}) "
                        "must have the same dtype, so that nothing is silently promoted; "
                        "convert the input (x.float()) or the module (module.to(dtype))")


def _conv_padding(padding, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> tuple:
    """((before, after), ...) per spatial axis from an int, a tuple, 'valid' or 'same'
    (which puts the odd extra on the right, as PyTorch)."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple of {dims} ints, 'valid' "
                             f"or 'same', got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride}); give the padding as numbers instead")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _ntuple(padding, dims, "padding", op))


def _conv_arguments(input, weight, bias, stride, dilation, groups, dims: int, op: str,
                    transposed: bool):
    x, restore = _spatial_input(input, dims, op, "(N, C, L)" if dims == 1 else "(N, C, H, W)")
    weight = _as_tensor(weight, op)
    layout = "in_channels, out_channels/groups" if transposed else \
        "out_channels, in_channels/groups"
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight must be {dims + 2}-D ({layout}, *kernel_size), got "
                         f"shape {tuple(weight.shape)}")
    if bias is not None:
        bias = _as_tensor(bias, op)
    _check_same_dtype(x, weight, bias, op)
    stride = _ntuple(stride, dims, "stride", op, minimum=1)
    dilation = _ntuple(dilation, dims, "dilation", op, minimum=1)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    channels = x.shape[1]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected or (transposed and channels % groups):
        rule = ("in_channels = weight.shape[0]" if transposed else
                "in_channels = weight.shape[1] * groups")
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} has {channels} channels, "
                         f"but weight of shape {tuple(weight.shape)} with groups={groups} "
                         f"expects {expected} ({rule})")
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if not transposed and out_channels % groups:
        raise ValueError(f"{op}: out_channels = {out_channels} (weight of shape "
                         f"{tuple(weight.shape)}) must be divisible by groups={groups}")
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},) (one per output "
                         f"channel), got {tuple(bias.shape)}")
    w = weight.unsqueeze(2) if dims == 1 else weight
    return x, w, bias, stride, dilation, groups, restore


def _conv(input, weight, bias, stride, padding, dilation, groups, dims: int, op: str):
    x, w, bias, stride, dilation, groups, restore = _conv_arguments(
        input, weight, bias, stride, dilation, groups, dims, op, transposed=False)
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, kernel, stride, dilation, op)
    size = tuple(x.shape[4 - dims:])
    padded = tuple(n + a + b for n, (a, b) in zip(size, pads))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(s > p for s, p in zip(span, padded)):
        raise ValueError(f"{op}: the kernel {kernel} (dilation {dilation}: it spans {span}) "
                         f"is larger than the padded input {padded} (input of shape "
                         f"{tuple(input.shape)}, padding {pads}); use a smaller kernel or "
                         "more padding")
    geometry = ops.ConvGeometry(_lift(stride, dims, 1), _lift(pads, dims, (0, 0)),
                                _lift(dilation, dims, 1), groups, tuple(x.shape[2:]),
                                tuple(w.shape[2:]))
    return restore(ops.Conv.apply(x, w, bias, geometry))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D cross-correlation of (N, C, L) with weight (out, C/groups, K); ``padding`` is
    an int, ``'valid'`` or ``'same'``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) with weight (out, C/groups, KH, KW);
    ``padding`` is an int, a pair, ``'valid'`` or ``'same'``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    dims: int, op: str):
    x, w, bias, stride, dilation, groups, restore = _conv_arguments(
        input, weight, bias, stride, dilation, groups, dims, op, transposed=True)
    padding = _ntuple(padding, dims, "padding", op)
    output_padding = _ntuple(output_padding, dims, "output_padding", op)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                         f"stride {stride} or dilation {dilation}")
    kernel = tuple(weight.shape[2:])
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in zip(
        x.shape[4 - dims:], stride, padding, dilation, kernel, output_padding))
    if any(n <= 0 for n in size):
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} with kernel {kernel}, "
                         f"stride {stride}, padding {padding} gives an empty output {size}")
    # The convolution this is the adjoint of: output_padding's extra rows are positions
    # of its input that no window reaches.
    pads = tuple((p, p - o) for p, o in zip(padding, output_padding))
    geometry = ops.ConvGeometry(_lift(stride, dims, 1), _lift(pads, dims, (0, 0)),
                                _lift(dilation, dims, 1), groups, _lift(size, dims, 1),
                                tuple(w.shape[2:]))
    return restore(ops.ConvTranspose.apply(x, w, bias, geometry))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """The adjoint of conv1d in its input ("deconvolution"); weight (in, out/groups, K)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """The adjoint of conv2d in its input ("deconvolution"); weight (in, out/groups, KH,
    KW). The output is (H - 1) * stride - 2 * padding + dilation * (KH - 1) +
    output_padding + 1 high, and as wide by the same rule."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


def _block_geometry(kernel_size, dilation, padding, stride, size: tuple, op: str):
    kernel = _ntuple(kernel_size, 2, "kernel_size", op, minimum=1)
    dilation = _ntuple(dilation, 2, "dilation", op, minimum=1)
    padding = _ntuple(padding, 2, "padding", op)
    stride = _ntuple(stride, 2, "stride", op, minimum=1)
    geometry = ops.ConvGeometry(stride, tuple((p, p) for p in padding), dilation, 1, size,
                                kernel)
    if any(o <= 0 for o in geometry.output_size):
        raise ValueError(f"{op}: kernel_size {kernel} (dilation {dilation}) does not fit in "
                         f"the padded input {geometry.padded_size} (size {size}, padding "
                         f"{padding}); no sliding block remains")
    return geometry


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks of (N, C, H, W) as columns (N, C*KH*KW, L) ("im2col")."""
    input = _as_tensor(input, "unfold")
    if input.ndim not in (3, 4):
        raise ValueError(f"unfold: expected a 3-D (unbatched) or 4-D (N, C, H, W) input, "
                         f"got shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    geometry = _block_geometry(kernel_size, dilation, padding, stride, tuple(x.shape[2:]),
                               "unfold")
    out = ops.Unfold.apply(x, geometry)
    return out.squeeze(0) if input.ndim == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns (N, C*KH*KW, L) summed into an (N, C, *output_size) image ("col2im"),
    the adjoint of :func:`unfold`."""
    input = _as_tensor(input, "fold")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D (unbatched) or 3-D (N, C*KH*KW, L) input, "
                         f"got shape {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    size = _ntuple(output_size, 2, "output_size", "fold", minimum=1)
    geometry = _block_geometry(kernel_size, dilation, padding, stride, size, "fold")
    blocks = math.prod(geometry.kernel)
    count = math.prod(geometry.output_size)
    if x.shape[1] % blocks or x.shape[2] != count:
        raise ValueError(f"fold: input of shape {tuple(input.shape)} does not fit "
                         f"output_size={size}, kernel_size={geometry.kernel}: dimension 1 "
                         f"must be divisible by {blocks} (KH*KW) and dimension 2 must be "
                         f"the number of sliding blocks {count} "
                         f"({' * '.join(map(str, geometry.output_size))})")
    out = ops.Fold.apply(x, geometry)
    return out.squeeze(0) if input.ndim == 2 else out


def _pool_geometry(x: Tensor, kernel_size, stride, padding, dilation, ceil_mode, dims: int,
                   op: str):
    kernel = _ntuple(kernel_size, dims, "kernel_size", op, minimum=1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ntuple(stride, dims, "stride", op, minimum=1)
    padding = _ntuple(padding, dims, "padding", op)
    dilation = _ntuple(dilation, dims, "dilation", op, minimum=1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} should be at most half of the kernel "
                         f"size {kernel}")
    size = tuple(x.shape[4 - dims:])
    out = tuple(ops.pooled_size(n, k, s, p, d, bool(ceil_mode)) for n, k, s, p, d in
                zip(size, kernel, stride, padding, dilation))
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: input of spatial size {size} is too small for kernel "
                         f"{kernel} (dilation {dilation}, padding {padding}): the output "
                         f"would be {out}")
    return ops.PoolGeometry(_lift(kernel, dims, 1), _lift(stride, dims, 1),
                            _lift(padding, dims, 0), _lift(dilation, dims, 1),
                            tuple(x.shape[2:]), _lift(out, dims, 1))


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              dims: int, op: str):
    x, restore = _spatial_input(input, dims, op, "(N, C, L)" if dims == 1 else "(N, C, H, W)")
    geometry = _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, dims, op)
    found = [] if return_indices else None
    out = restore(ops.MaxPool.apply(x, geometry, found))
    if not return_indices:
        return out
    return out, restore(Tensor(found[0]))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, L); with ``return_indices`` also each maximum's
    position in L (int64)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, H, W) (padding counts as -inf); with
    ``return_indices`` also each maximum's flat position h * W + w (int64)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, dims: int, op: str):
    x, restore = _spatial_input(input, dims, op, "(N, C, L)" if dims == 1 else "(N, C, H, W)")
    geometry = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, dims, op)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(
                divisor_override, (int, np.integer)) or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        divisor = divisor_override
    else:
        divisor = ops.avg_pool_divisor(geometry, bool(count_include_pad))
    return restore(ops.AvgPool.apply(x, geometry, divisor))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over windows of (N, C, L); padding counts as zeros in the mean unless
    ``count_include_pad=False``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over windows of (N, C, H, W); ``divisor_override`` replaces the window size."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


# --- 3-D convolution and pooling
#
# The conv and pool ops are 2-D; a 3-D window is its depth taps' 2-D windows combined:
# for depth tap k, the input slices at depths d * stride + k * dilation (for every output
# depth d) are folded into the batch, run through the 2-D op, and the taps are summed
# (conv, average) or maxed. Padding is applied up front, so the 2-D ops run unpadded.


def _volume_input(input, op: str):
    """``input`` as (N, C, D, H, W), and the function that restores an unbatched rank."""
    input = _floating_input(input, op)
    if input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-D (unbatched) or 5-D (batched, (N, C, D, H, W)) "
                         f"input, got shape {tuple(input.shape)}")
    unbatched = input.ndim == 4
    return (input.unsqueeze(0) if unbatched else input,
            lambda out: out.squeeze(0) if unbatched else out)


def _depth_taps(x: Tensor, taps: int, stride: int, dilation: int, op: str):
    """For each depth tap: the (N * D_out, C, H, W) slices it reads, and D_out."""
    batch, channels, depth, height, width = x.shape
    out_depth = (depth - dilation * (taps - 1) - 1) // stride + 1
    if out_depth < 1:
        raise ValueError(f"{op}: the (padded) input depth {depth} is smaller than the kernel "
                         f"depth {taps} (dilation {dilation})")
    for k in range(taps):
        start = k * dilation
        slab = x[:, :, start:start + stride * (out_depth - 1) + 1:stride]
        yield slab.transpose(1, 2).reshape(batch * out_depth, channels, height, width), \
            out_depth


def _from_depth_batch(out: Tensor, batch: int, out_depth: int) -> Tensor:
    return out.reshape((batch, out_depth) + tuple(out.shape[1:])).transpose(1, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D convolution of (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out) with weight
    (out_channels, in_channels/groups, KD, KH, KW); ``padding`` an int, a triple,
    'valid' or 'same'."""
    op = "conv3d"
    x, restore = _volume_input(input, op)
    weight = _as_tensor(weight, op)
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be 5-D (out_channels, in_channels/groups, KD, "
                         f"KH, KW), got shape {tuple(weight.shape)}")
    bias = None if bias is None else _as_tensor(bias, op)
    _check_same_dtype(x, weight, bias, op)
    kernel = tuple(weight.shape[2:])
    stride = _ntuple(stride, 3, "stride", op, minimum=1)
    dilation = _ntuple(dilation, 3, "dilation", op, minimum=1)
    pads = _conv_padding(padding, kernel, stride, dilation, op)
    if any(any(pair) for pair in pads):
        x = pad(x, tuple(w for pair in reversed(pads) for w in pair))
    out = None
    for k, (slab, out_depth) in enumerate(_depth_taps(x, kernel[0], stride[0], dilation[0],
                                                      op)):
        term = _conv(slab, weight[:, :, k], None, stride[1:], 0, dilation[1:], groups, 2, op)
        out = term if out is None else out + term
    out = _from_depth_batch(out, x.shape[0], out_depth)
    if bias is not None:
        if tuple(bias.shape) != (weight.shape[0],):
            raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},) (one per "
                             f"output channel), got {tuple(bias.shape)}")
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return restore(out)


def _pool3d_arguments(kernel_size, stride, padding, dilation, ceil_mode, op: str):
    kernel = _ntuple(kernel_size, 3, "kernel_size", op, minimum=1)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ntuple(stride, 3, "stride", op, minimum=1)
    padding = _ntuple(padding, 3, "padding", op)
    dilation = _ntuple(dilation, 3, "dilation", op, minimum=1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} should be at most half of the kernel "
                         f"size {kernel}")
    if ceil_mode:
        raise ValueError(f"{op}: ceil_mode=True is not supported for 3-D pooling; pad the "
                         "input (F.pad) to the size you need instead")
    return kernel, stride, padding, dilation


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False) -> Tensor:
    """Max over windows of (N, C, D, H, W) (padding counts as -inf). ``ceil_mode`` and
    ``return_indices`` are not supported."""
    op = "max_pool3d"
    if return_indices:
        raise ValueError(f"{op}: return_indices=True is not supported for 3-D pooling")
    kernel, stride, padding, dilation = _pool3d_arguments(kernel_size, stride, padding,
                                                          dilation, ceil_mode, op)
    x, restore = _volume_input(input, op)
    if any(padding):
        x = pad(x, tuple(p for p in reversed(padding) for _ in range(2)), value=-math.inf)
    out = None
    for slab, out_depth in _depth_taps(x, kernel[0], stride[0], dilation[0], op):
        pooled = _max_pool(slab, kernel[1:], stride[1:], 0, dilation[1:], False, False, 2, op)
        out = pooled if out is None else out.maximum(pooled)
    return restore(_from_depth_batch(out, x.shape[0], out_depth))


def _window_counts(size: int, out: int, kernel: int, stride: int, padding: int,
                   include_pad: bool) -> np.ndarray:
    """How many positions each output's window covers on one axis (PyTorch's avg_pool
    divisor factor): inside the padded input, or inside the input only."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over windows of (N, C, D, H, W); padding counts as zeros in the mean unless
    ``count_include_pad=False``; ``divisor_override`` replaces the window size.
    ``ceil_mode`` is not supported."""
    op = "avg_pool3d"
    kernel, stride, padding, _ = _pool3d_arguments(kernel_size, stride, padding, 1, ceil_mode,
                                                   op)
    x, restore = _volume_input(input, op)
    sizes = tuple(x.shape[2:])
    if any(padding):
        x = pad(x, tuple(p for p in reversed(padding) for _ in range(2)))
    total = None
    for slab, out_depth in _depth_taps(x, kernel[0], stride[0], 1, op):
        window_sum = _avg_pool(slab, kernel[1:], stride[1:], 0, False, True, 1, 2, op)
        total = window_sum if total is None else total + window_sum
    total = _from_depth_batch(total, x.shape[0], out_depth)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(
                divisor_override, (int, np.integer)) or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        return restore(total / total.dtype.type(divisor_override))
    counts = [_window_counts(n, o, k, s, p, bool(count_include_pad)) for n, o, k, s, p in
              zip(sizes, total.shape[2:], kernel, stride, padding)]
    divisor = np.einsum("i,j,k->ijk", *counts).astype(total.dtype)
    return restore(total / divisor)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, dims: int, op: str) -> Tensor:
    # PyTorch's formula: the window mean of x**p times the window size, to the power 1/p;
    # sign(s) * relu(|s|) keeps a negative sum (odd p) from giving NaN's gradient a path.
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) \
            or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a non-zero number, got {norm_type!r}")
    kernel = _ntuple(kernel_size, dims, "kernel_size", op, minimum=1)
    powered = _as_tensor(input, op) ** norm_type
    mean = _avg_pool(powered, kernel, stride, 0, ceil_mode, True, None, dims, op)
    return ((mean.sign() * mean.abs().relu()) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling of (N, C, L): ``(sum over the window of x**p) ** (1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, "lp_pool1d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling of (N, C, H, W): ``(sum over the window of x**p) ** (1/p)``."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, "lp_pool2d")


def _adaptive_size(output_size, x: Tensor, dims: int, op: str) -> tuple:
    items = (output_size,) * dims if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    size = tuple(x.shape[4 - dims:])
    if len(items) != dims or any(
            v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))
                               or v < 1) for v in items):
        raise ValueError(f"{op}: output_size must be a positive int or a tuple of {dims} "
                         f"positive ints (None keeps the input's size), got {output_size!r}")
    return tuple(n if v is None else int(v) for n, v in zip(size, items))


def _adaptive_avg_matrix(size: int, out: int, dtype) -> np.ndarray:
    start, end = ops.adaptive_bins(size, out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg_pool(input, output_size, dims: int, op: str) -> Tensor:
    x, restore = _spatial_input(input, dims, op, "(N, C, L)" if dims == 1 else "(N, C, H, W)")
    out_size = _lift(_adaptive_size(output_size, x, dims, op), dims, 1)
    h, w = x.shape[2:]
    # Each bin's mean is a linear map per axis: (OH, H) @ x @ (W, OW).
    if out_size[1] != w:
        x = x @ Tensor(_adaptive_avg_matrix(w, out_size[1], x.dtype).T)
    if out_size[0] != h:
        x = Tensor(_adaptive_avg_matrix(h, out_size[0], x.dtype)) @ x
    return restore(x)


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Means over ``output_size`` near-equal bins of L (PyTorch's bin edges)."""
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Means over an output_size grid of near-equal bins (None keeps that size)."""
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def _adaptive_max_pool(input, output_size, return_indices, dims: int, op: str):
    x, restore = _spatial_input(input, dims, op, "(N, C, L)" if dims == 1 else "(N, C, H, W)")
    out_size = _lift(_adaptive_size(output_size, x, dims, op), dims, 1)
    found = [] if return_indices else None
    out = restore(ops.AdaptiveMaxPool.apply(x, out_size, found))
    if not return_indices:
        return out
    return out, restore(Tensor(found[0]))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_pool(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maxima over an output_size grid of near-equal bins; with ``return_indices`` also
    each maximum's flat position h * W + w."""
    return _adaptive_max_pool(input, output_size, return_indices, 2, "adaptive_max_pool2d")


PAD_MODES = ops.padding.PAD_MODES


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last len(pad) // 2 axes: ``pad`` = (last_before, last_after,
    second_last_before, ...), as PyTorch; negative widths crop. Modes: ``'constant'``
    (``value``, default 0), ``'reflect'`` (mirror without the edge), ``'replicate'``
    (repeat the edge), ``'circular'`` (wrap around)."""
    input = _as_tensor(input, "pad")
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if (not isinstance(pad, (tuple, list)) or len(pad) % 2
            or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pad)):
        raise ValueError(f"pad: pad must be a tuple of ints of even length (before, after "
                         f"for the last axis, then the one before, ...), got {pad!r}")
    axes = len(pad) // 2
    if axes > input.ndim:
        raise ValueError(f"pad: {len(pad)} widths pad {axes} axes, but the input of shape "
                         f"{tuple(input.shape)} has {input.ndim}")
    widths = tuple((int(pad[2 * k]), int(pad[2 * k + 1])) for k in reversed(range(axes)))
    sizes = input.shape[input.ndim - axes:]
    if mode == "constant":
        value = 0 if value is None else value
    else:
        if value not in (None, 0):
            raise ValueError(f"pad: value={value!r} only applies to mode='constant', not "
                             f"{mode!r}")
        if not 1 <= axes <= 3 or input.ndim not in (axes + 1, axes + 2):
            raise ValueError(f"pad: mode {mode!r} pads the last 1-3 axes of a tensor with one "
                             f"or two more (batch, channel), got {len(pad)} widths for shape "
                             f"{tuple(input.shape)}")
        limit, rule = (lambda n: n - 1, "less than") if mode == "reflect" else \
            (lambda n: n, "at most")
        if any(max(b, a) > limit(n) for (b, a), n in zip(widths, sizes)):
            if mode != "replicate":
                raise ValueError(f"pad: with mode {mode!r} each width must be {rule} the "
                                 f"size of its axis; got pad {tuple(pad)} for shape "
                                 f"{tuple(input.shape)}")
    out_sizes = tuple(n + b + a for (b, a), n in zip(widths, sizes))
    if any(n < 0 for n in out_sizes):
        raise ValueError(f"pad: pad {tuple(pad)} crops more than the input of shape "
                         f"{tuple(input.shape)} holds")
    spec = ops.PadSpec(widths, mode, value, tuple(input.shape))
    return ops.Pad.apply(input, spec)


INTERPOLATE_MODES = ("nearest", "nearest-exact", "linear", "bilinear")


def _nearest_matrix(size: int, out: int, scale, exact: bool, dtype) -> np.ndarray:
    # PyTorch computes the source index in float32: floor(dst * scale).
    scale = np.float32(size / out if scale is None else 1.0 / scale)
    positions = np.arange(out, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    source = np.minimum(np.floor(positions * scale).astype(np.int64), size - 1)
    matrix = np.zeros((out, size), dtype=dtype)
    matrix[np.arange(out), source] = 1
    return matrix


def _linear_matrix(size: int, out: int, scale, align_corners: bool, dtype) -> np.ndarray:
    positions = np.arange(out, dtype=np.float64)
    if align_corners:
        source = positions * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        step = size / out if scale is None else 1.0 / scale
        source = np.maximum((positions + 0.5) * step - 0.5, 0.0)
    low = np.minimum(source.astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    weight_high = source - low
    matrix = np.zeros((out, size))
    np.add.at(matrix, (np.arange(out), low), 1 - weight_high)
    np.add.at(matrix, (np.arange(out), high), weight_high)
    return matrix.astype(dtype)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias: bool = False):
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``: modes
    ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D) and ``'bilinear'`` (4-D, with
    ``align_corners``), PyTorch's source positions. Each axis is a linear map, applied
    as a matrix product, so it is differentiable."""
    input = _as_tensor(input, "interpolate")
    if mode not in INTERPOLATE_MODES:
        raise ValueError(f"interpolate: mode must be one of {INTERPOLATE_MODES}, got {mode!r}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    dims = input.ndim - 2
    needed = {"linear": 1, "bilinear": 2}.get(mode)
    if dims not in (1, 2) or (needed is not None and dims != needed):
        wanted = f"a {needed + 2}-D input" if needed else "a 3-D (N, C, L) or 4-D input"
        raise ValueError(f"interpolate: mode {mode!r} needs {wanted}, got shape "
                         f"{tuple(input.shape)}")
    _check_floating(input, "interpolate")
    if needed is None and align_corners is not None:
        raise ValueError("interpolate: align_corners can only be set with the interpolating "
                         "modes 'linear' and 'bilinear'")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        out_sizes = _ntuple(size, dims, "size", "interpolate", minimum=1)
        scales = (None,) * dims
    else:
        factors = (scale_factor,) * dims if not isinstance(scale_factor, (tuple, list)) \
            else tuple(scale_factor)
        if len(factors) != dims or any(not isinstance(f, (int, float)) or f <= 0
                                       for f in factors):
            raise ValueError(f"interpolate: scale_factor must be a positive number or a "
                             f"tuple of {dims}, got {scale_factor!r}")
        out_sizes = tuple(int(math.floor(n * float(f))) for n, f in zip(in_sizes, factors))
        if any(n < 1 for n in out_sizes):
            raise ValueError(f"interpolate: scale_factor {scale_factor!r} makes the input of "
                             f"shape {tuple(input.shape)} empty")
        scales = (None,) * dims if recompute_scale_factor else tuple(map(float, factors))
    x = input
    for axis, n, out, scale in zip(range(2, input.ndim), in_sizes, out_sizes, scales):
        if mode in ("nearest", "nearest-exact"):
            if n == out:
                continue
            matrix = _nearest_matrix(n, out, scale, mode == "nearest-exact", x.dtype)
        else:
            matrix = _linear_matrix(n, out, scale, bool(align_corners), x.dtype)
        if axis == input.ndim - 1:
            x = x @ Tensor(matrix.T)
        else:
            x = Tensor(matrix) @ x
    return x


def _warn_deprecated_upsample(name: str) -> None:
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest",
             align_corners=None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (warns, as PyTorch's)."""
    _warn_deprecated_upsample("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None) -> Tensor:
    """Deprecated: :func:`interpolate` with mode 'nearest' (warns, as PyTorch's)."""
    _warn_deprecated_upsample("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None) -> Tensor:
    """Deprecated: :func:`interpolate` with mode 'bilinear' and ``align_corners=True``
    (warns, as PyTorch's)."""
    _warn_deprecated_upsample("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _grid_axis(size: int, align_corners: bool, dtype) -> np.ndarray:
    """The normalised [-1, 1] coordinates of ``size`` pixels: their centres, or with
    ``align_corners`` the corner pixels' centres at -1 and 1."""
    if align_corners:
        return np.linspace(-1, 1, size, dtype=np.float64).astype(dtype) if size > 1 \
            else np.zeros(1, dtype)
    return ((np.arange(size, dtype=np.float64) * 2 + 1) / size - 1).astype(dtype)


def affine_grid(theta, size, align_corners=None) -> Tensor:
    """PyTorch's ``F.affine_grid`` for 2-D: the (N, H, W, 2) sampling grid (x, y) of the
    affine maps ``theta`` (N, 2, 3) over an output of ``size`` (N, C, H, W);
    differentiable in ``theta``. ``align_corners=None`` means False, as PyTorch's."""
    op = "affine_grid"
    theta = _floating_input(theta, op)
    size = tuple(int(n) for n in size)
    if len(size) != 4:
        raise ValueError(f"{op}: only 2-D grids are supported: size must be (N, C, H, W), got "
                         f"{size}")
    if theta.shape != (size[0], 2, 3):
        raise ValueError(f"{op}: expected theta of shape ({size[0]}, 2, 3) for size {size}, "
                         f"got shape {theta.shape}")
    if min(size) <= 0:
        raise ValueError(f"{op}: size must be positive, got {size}")
    height, width = size[2:]
    align_corners = _grid_align_corners(align_corners)
    xs = _grid_axis(width, align_corners, theta.dtype)
    ys = _grid_axis(height, align_corners, theta.dtype)
    base = np.stack([np.broadcast_to(xs, (height, width)),
                     np.broadcast_to(ys[:, None], (height, width)),
                     np.ones((height, width), theta.dtype)], axis=-1)
    grid = Tensor(base.reshape(1, height * width, 3)) @ theta.transpose(1, 2)
    return grid.reshape(size[0], height, width, 2)


def _grid_align_corners(align_corners) -> bool:
    if align_corners is None:  # PyTorch's warning, word for word
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if "
                      "the old behavior is desired. See the documentation of grid_sample for "
                      "details.", stacklevel=3)
    return bool(align_corners)


GRID_SAMPLE_MODES = ("bilinear", "nearest")
GRID_SAMPLE_PADDING = ("zeros", "border", "reflection")


def _inside_or_constant(coord: Tensor, low: float, high: float) -> Tensor:
    """``clamp(coord, low, high)`` with PyTorch's grid_sample gradient: 0 wherever the
    coordinate is clipped, including exactly at the bounds."""
    inside = (coord.data > low) & (coord.data < high)
    return coord.where(inside, np.clip(coord.data, low, high).astype(coord.dtype))


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """PyTorch's reflect_coordinates: fold ``coord`` into [low, high] by reflections."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    flips = np.floor(distance.data / span)
    extra = distance - (flips * span).astype(coord.dtype)
    return (extra + low).where(flips % 2 == 0, (span - extra) + low)


def _source_coordinate(coord: Tensor, size: int, padding_mode: str,
                       align_corners: bool) -> Tensor:
    """A normalised grid coordinate as a pixel position of an axis of ``size``."""
    if align_corners:
        coord = (coord + 1) * ((size - 1) / 2)
    else:
        coord = ((coord + 1) * size - 1) / 2
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners \
            else _reflect(coord, -1, 2 * size - 1)
    if padding_mode != "zeros":
        coord = _inside_or_constant(coord, 0, size - 1)
    return coord


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners=None) -> Tensor:
    """PyTorch's ``F.grid_sample`` for 2-D: sample (N, C, H, W) ``input`` at the (x, y)
    positions of ``grid`` (N, Ho, Wo, 2), normalised to [-1, 1]; ``mode`` 'bilinear' or
    'nearest', ``padding_mode`` 'zeros', 'border' or 'reflection'. Differentiable in the
    input, and (bilinear) in the grid. ``align_corners=None`` means False."""
    op = "grid_sample"
    input, grid = _floating_input(input, op), _floating_input(grid, op)
    if mode not in GRID_SAMPLE_MODES:
        raise ValueError(f"{op}: mode must be one of {GRID_SAMPLE_MODES} (bicubic is not "
                         f"supported), got {mode!r}")
    if padding_mode not in GRID_SAMPLE_PADDING:
        raise ValueError(f"{op}: padding_mode must be one of {GRID_SAMPLE_PADDING}, got "
                         f"{padding_mode!r}")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 \
            or grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) and a grid (N, Ho, Wo, 2) "
                         f"with the same N (5-D volumes are not supported), got input "
                         f"{input.shape} and grid {grid.shape}")
    if input.dtype != grid.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and grid ({grid.dtype}) must have the "
                        "same dtype; convert one of them")
    align_corners = _grid_align_corners(align_corners)
    batch, channels, height, width = input.shape
    points = grid.shape[1] * grid.shape[2]
    flat_grid = grid.reshape(batch, points, 2)
    x = _source_coordinate(flat_grid[:, :, 0], width, padding_mode, align_corners)
    y = _source_coordinate(flat_grid[:, :, 1], height, padding_mode, align_corners)
    flat_input = input.reshape(batch, channels, height * width)

    def corner(column: np.ndarray, row: np.ndarray) -> tuple:
        """The input at integer positions (N, P), zero outside, and the inside mask."""
        inside = (column >= 0) & (column < width) & (row >= 0) & (row < height)
        index = np.where(inside, row * width + column, 0).astype(np.int64)
        index = np.broadcast_to(index[:, None, :], (batch, channels, points))
        return flat_input.gather(2, index), inside[:, None, :].astype(input.dtype)

    if mode == "nearest":  # round half to even, as PyTorch's nearbyint
        values, inside = corner(np.rint(x.data).astype(np.int64),
                                np.rint(y.data).astype(np.int64))
        out = values * inside
    else:
        left, top = np.floor(x.data), np.floor(y.data)
        right_weight = (x - left.astype(x.dtype)).reshape(batch, 1, points)
        bottom_weight = (y - top.astype(y.dtype)).reshape(batch, 1, points)
        left, top = left.astype(np.int64), top.astype(np.int64)
        out = None
        for column, column_weight in ((left, 1 - right_weight), (left + 1, right_weight)):
            for row, row_weight in ((top, 1 - bottom_weight), (top + 1, bottom_weight)):
                values, inside = corner(column, row)
                term = values * (column_weight * row_weight * inside)
                out = term if out is None else out + term
    return out.reshape(batch, channels, grid.shape[1], grid.shape[2])


# --------------------------------------------------------------------------- losses


def _check_reduction(reduction, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(losses: np.ndarray, reduction: str):
    # np.add.reduce: the sum np.mean and np.sum compute, without their Python wrappers
    # (about 10 us a call, which a training step at batch 64 notices).
    if reduction == "mean":
        return np.add.reduce(losses, axis=None) / losses.size
    if reduction == "sum":
        return np.add.reduce(losses, axis=None)
    return losses


def _upstream_scale(grad: np.ndarray, reduction: str, count: int, class_axis: int):
    """The output gradient, shaped to broadcast over the classes of each sample."""
    if reduction == "mean":
        return grad / count
    if reduction == "sum":
        return grad
    return np.expand_dims(grad, class_axis)


def _class_axis(input: Tensor, op: str) -> int:
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis, shape (N, C) or (C,), got a "
                         "0-d tensor")
    return 1 if input.ndim >= 2 else 0


def _check_class_target_shape(target: np.ndarray, input_shape: tuple, class_axis: int,
                              op: str) -> None:
    expected = input_shape[:class_axis] + input_shape[class_axis + 1:]
    if target.shape != expected:
        raise ValueError(f"{op}: target of shape {target.shape} does not fit input of shape "
                         f"{input_shape}: class-index targets need shape {expected}")


def _out_of_range(value, num_classes: int, ignore_index: int, op: str) -> ValueError:
    return ValueError(f"{op}: target contains class index {value}, out of range for "
                      f"{num_classes} classes (valid indices are 0..{num_classes - 1}, "
                      f"or ignore_index={ignore_index} for entries to leave out)")


def _class_targets(target: np.ndarray, num_classes: int, ignore_index: int, op: str):
    """``(target, valid)``: the class indices with the ignored entries set to class 0, and
    a boolean mask of the entries kept (None when none is ignored). Checked here, in the
    op, so that a captured step checks every batch: an index out of range that is not
    ``ignore_index`` is a ValueError."""
    if target.size == 0:
        return target, None
    low, high = target.min(), target.max()
    if 0 <= low and high < num_classes and not low <= ignore_index <= high:
        return target, None  # the common case: two reductions, nothing ignored
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= num_classes))
    if bad.any():
        raise _out_of_range(target[bad].flat[0], num_classes, ignore_index, op)
    if valid.all():
        return target, None
    return np.where(valid, target, 0), valid


def _gather_index(target: np.ndarray, class_axis: int):
    """The index of each sample's target class in the (log-)probabilities: plain fancy
    indexing for (N, C), which is faster, else an index for take_along_axis."""
    if target.ndim == 1 and class_axis == 1:
        return (np.arange(len(target)), target)
    return np.expand_dims(target, class_axis)


def _gather(values: np.ndarray, index, class_axis: int) -> np.ndarray:
    if type(index) is tuple:
        return values[index]
    return np.take_along_axis(values, index, axis=class_axis).squeeze(class_axis)


def _scatter_subtract(values: np.ndarray, index, amount, class_axis: int) -> None:
    """values[sample, target class] -= amount (a scalar or one value per sample)."""
    if type(index) is tuple:
        values[index] -= amount
    else:
        picked = np.take_along_axis(values, index, axis=class_axis)
        amount = np.expand_dims(amount, class_axis) if np.ndim(amount) else amount
        np.put_along_axis(values, index, picked - amount, axis=class_axis)


def _picked_losses(log_probs, target, weight, class_axis: int, ignore_index: int, op: str):
    """The weighted negative log-likelihood of class indices: ``(losses, index, valid,
    row_weight, denominator)``, where ``losses[n] = -row_weight[n] * log_probs[n,
    target[n]]``, ``row_weight[n]`` is the sample's class weight, 0 where ignored (None
    when every one is 1), ``valid`` the mask of kept samples (None: all) and
    ``denominator`` what "mean" divides by (PyTorch's summed weights of the kept
    samples)."""
    target, valid = _class_targets(target, log_probs.shape[class_axis], ignore_index, op)
    index = _gather_index(target, class_axis)
    losses = -_gather(log_probs, index, class_axis)
    row_weight = None if weight is None else weight[target]
    if valid is not None:
        row_weight = valid.astype(log_probs.dtype) if row_weight is None \
            else row_weight * valid
    if row_weight is None:
        return losses, index, valid, None, losses.size
    losses *= row_weight
    return losses, index, valid, row_weight, np.add.reduce(row_weight, axis=None)


def _class_weights(weight, input: Tensor, op: str):
    """``weight`` as an array of the input's dtype, one per class (or None)."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{op}: weight got the string {weight!r}; the third argument is the "
                        f"per-class weight, as in PyTorch: pass reduction={weight!r} by name")
    array = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    num_classes = input.shape[_class_axis(input, op)]
    if array.shape != (num_classes,):
        raise ValueError(f"{op}: weight must hold one value per class, shape "
                         f"({num_classes},), got shape {array.shape}")
    if array.dtype.kind != "f":
        raise TypeError(f"{op}: weight must be floating point, got dtype {array.dtype}")
    return array.astype(input.dtype, copy=False)


def _along_classes(values: np.ndarray, ndim: int, class_axis: int) -> np.ndarray:
    """Per-class ``values`` shaped to broadcast along the class axis of an ndim array."""
    return values.reshape((-1,) + (1,) * (ndim - class_axis - 1))


def _mean_over(losses: np.ndarray, reduction: str, denominator):
    """:func:`_reduce`, with "mean" dividing by ``denominator`` (PyTorch's sum of the
    kept samples' class weights; 0 when every sample is ignored, which gives NaN as in
    PyTorch)."""
    if reduction != "mean":
        return _reduce(losses, reduction)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.add.reduce(losses, axis=None) / denominator


class CrossEntropy(ArrayFunction):
    """Cross-entropy from logits against class indices or class probabilities, with
    PyTorch's per-class ``weight``, ``ignore_index`` (indices only) and
    ``label_smoothing``.

    Every case is ``loss_n = -sum_c A[n, c] * log_softmax(z)[n, c]`` for coefficients
    ``A``: with class indices ``y``, ``A[n] = kept_n * ((1 - eps) * w[y_n] * onehot(y_n)
    + eps / C * w)``; with probabilities ``q``, ``A = w * ((1 - eps) * q + eps / C)``
    (``w`` = 1 without weights, ``kept_n`` = 0 where ``y_n == ignore_index``). The
    gradient is ``(softmax(z) * sum_c A[n, c] - A) * upstream``. "mean" divides by the
    number of samples for probabilities, and by ``sum_n kept_n * w[y_n]`` for class
    indices, as PyTorch does.
    """

    @staticmethod
    def forward(ctx, logits, target, weight, class_axis, reduction, label_smoothing,
                ignore_index):
        num_classes = logits.shape[class_axis]
        indices = target.dtype.kind in "iu"
        compiled = _compiled_cross_entropy(logits, target, weight, label_smoothing)
        if compiled is not None:  # one pass instead of a dozen NumPy calls
            log_probs = np.empty_like(logits)
            losses = np.empty(len(target), logits.dtype)
            ignored = compiled.cross_entropy_rows(logits, target, ignore_index, log_probs,
                                                  losses)
            if ignored < 0:
                raise _out_of_range(target[-ignored - 1], num_classes, ignore_index,
                                    "cross_entropy")
            valid = row_weight = None
            if ignored:  # the gradient's kernel has no mask: the NumPy backward does it
                valid = target != ignore_index
                target = np.where(valid, target, 0)
                row_weight = valid.astype(logits.dtype)
            ctx.save_for_backward(log_probs, _gather_index(target, class_axis), valid,
                                  row_weight)
            ctx.weight = None
            ctx.meta = (class_axis, reduction, label_smoothing, num_classes, True,
                        len(losses) - ignored)
            return _mean_over(losses, reduction, len(losses) - ignored)
        log_probs = ops.log_softmax_array(logits, class_axis)
        along = None if weight is None else _along_classes(weight, logits.ndim, class_axis)
        if indices:
            losses, index, valid, row_weight, denominator = _picked_losses(
                log_probs, target, weight, class_axis, ignore_index, "cross_entropy")
            if label_smoothing:
                losses *= 1.0 - label_smoothing
                spread = log_probs.sum(axis=class_axis) if along is None \
                    else (log_probs * along).sum(axis=class_axis)
                if valid is not None:
                    spread *= valid
                losses -= (label_smoothing / num_classes) * spread
            ctx.save_for_backward(log_probs, index, valid, row_weight)
        else:
            coefficients = target
            if label_smoothing:
                coefficients = target * (1.0 - label_smoothing) + label_smoothing / num_classes
            if along is not None:
                coefficients = coefficients * along
            losses = -np.sum(coefficients * log_probs, axis=class_axis)
            ctx.save_for_backward(log_probs, coefficients, None, None)
            denominator = losses.size
        ctx.weight = along
        ctx.meta = (class_axis, reduction, label_smoothing, num_classes, indices, denominator)
        return _mean_over(losses, reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        log_probs, target, valid, row_weight = ctx.saved_tensors
        class_axis, reduction, smoothing, num_classes, indices, denominator = ctx.meta
        along = ctx.weight
        # Every sample ignored: a NaN mean, but a zero gradient, as in PyTorch.
        scale = _upstream_scale(grad, reduction, denominator or 1, class_axis)
        if indices and along is None and row_weight is None and not smoothing and \
                type(target) is tuple and np.ndim(scale) == 0 and \
                scale.dtype == log_probs.dtype:
            compiled = compiled_kernels(log_probs.dtype)
            if compiled is not None:
                grad_logits = np.empty_like(log_probs)
                one = log_probs.dtype.type(1)
                compiled.cross_entropy_grad(log_probs, target[1], scale[()], one, grad_logits)
                return grad_logits, None, None, None, None, None, None
        grad_logits = np.exp(log_probs)
        if indices:
            # sum_c A[n, c] = kept_n * ((1 - eps) * w[y_n] + eps / C * sum(w))
            if along is not None or row_weight is not None:
                kept = np.ones(grad_logits.shape[:class_axis] + grad_logits.shape[
                    class_axis + 1:], log_probs.dtype) if valid is None else valid
                total = (1.0 - smoothing) * (kept if row_weight is None else row_weight)
                if smoothing:
                    weight_sum = num_classes if along is None else along.sum()
                    total = total + (smoothing / num_classes) * weight_sum * kept
                grad_logits *= np.expand_dims(total, class_axis)
            if smoothing:
                spread = smoothing / num_classes if along is None else \
                    (smoothing / num_classes) * along
                if valid is not None:
                    spread = spread * np.expand_dims(valid, class_axis)
                grad_logits -= spread
            picked = 1.0 - smoothing
            if row_weight is not None:
                picked = picked * row_weight
            _scatter_subtract(grad_logits, target, picked, class_axis)
        else:
            # d/dz of -sum(A log softmax(z)) = softmax(z) * sum(A) - A; sum(A) need not be 1.
            grad_logits *= np.sum(target, axis=class_axis, keepdims=True)
            grad_logits -= target
        grad_logits *= scale
        grad_target = None
        if ctx.needs_input_grad[1]:
            grad_target = log_probs * (-(1.0 - smoothing) * scale)
            if along is not None:
                grad_target *= along
        return grad_logits, grad_target, None, None, None, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        logits, target = inputs[0], inputs[1]
        log_probs, saved_target, valid, row_weight = ctx.saved_tensors
        class_axis, reduction, smoothing, num_classes, indices, denominator = ctx.meta
        along = ctx.weight
        scale = _upstream_scale_tensor(grad, reduction, denominator or 1, class_axis)
        probs = logits.softmax(class_axis)
        if indices:
            # The coefficients A, a constant: (1 - eps) * row_weight * onehot + eps/C * w.
            one_hot = np.zeros(log_probs.shape, dtype=log_probs.dtype)
            picked = (1.0 - smoothing) * (1.0 if row_weight is None else row_weight)
            _scatter_subtract(one_hot, saved_target, -np.asarray(picked), class_axis)
            spread = smoothing / num_classes * (1.0 if along is None else along)
            spread = np.broadcast_to(spread, log_probs.shape)
            if valid is not None:
                spread = spread * np.expand_dims(valid, class_axis)
            coefficients = one_hot + spread
            total = coefficients.sum(axis=class_axis, keepdims=True)
            return (probs * constant(total) - constant(coefficients)) * scale, \
                None, None, None, None, None, None
        distribution = target * (1.0 - smoothing) + smoothing / num_classes if smoothing \
            else target
        if along is not None:
            distribution = distribution * constant(along)
        grad_logits = (probs * distribution.sum(class_axis, keepdims=True)
                       - distribution) * scale
        grad_target = None
        if ctx.needs_input_grad[1]:
            grad_target = logits.log_softmax(class_axis) * (-(1.0 - smoothing)) * scale
            if along is not None:
                grad_target = grad_target * constant(along)
        return grad_logits, grad_target, None, None, None, None, None


def _compiled_cross_entropy(logits, target, weight, label_smoothing):
    """The compiled kernels (:mod:`tinygrad_fm.ops.compiled`) when they can compute this
    cross-entropy: (N, C) logits with C > 0, C-contiguous, of a dtype they are compiled
    for, int64 class indices, no class weights, no label smoothing. Else None (the NumPy
    path)."""
    if label_smoothing or weight is not None or logits.ndim != 2 or \
            logits.shape[1] == 0 or target.dtype != np.int64 or \
            not logits.flags.c_contiguous:
        return None
    return compiled_kernels(logits.dtype)


def _upstream_scale_tensor(grad, reduction: str, count, class_axis: int):
    """:func:`_upstream_scale` for a Tensor gradient (double backward)."""
    if reduction == "mean":
        return grad / count
    if reduction == "sum":
        return grad
    return grad.unsqueeze(class_axis)


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` and ``reduce`` flags, turned into a
    ``reduction`` as PyTorch does (``reduce=False`` wins; then ``size_average``)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """PyTorch's ``F.cross_entropy`` for logits of shape (N, C), (C,) or (N, C, d1, ...).

    ``target``: class indices (an integer array or Tensor of shape (N,), () or
    (N, d1, ...)) or class probabilities (a float array or Tensor shaped like
    ``input``; a Tensor that requires grad gets a gradient). ``weight``: one rescaling
    factor per class (not differentiated, as in PyTorch). ``ignore_index``: class-index
    entries equal to it add nothing, to the loss or to the "mean"'s denominator.
    ``"mean"`` divides by the summed weights of the kept samples for class indices and by
    the number of samples for probabilities, as PyTorch does.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                         f"{label_smoothing!r}")
    input = _as_tensor(input, "cross_entropy")
    _check_floating(input, "cross_entropy")
    class_axis = _class_axis(input, "cross_entropy")
    weight = _class_weights(weight, input, "cross_entropy")
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    kind = target_array.dtype.kind
    if kind in "iu":
        _check_class_target_shape(target_array, input.shape, class_axis, "cross_entropy")
        target = target_array
    elif kind == "f":
        if target_array.shape != input.shape:
            raise ValueError(
                f"cross_entropy: target of shape {target_array.shape} does not fit input of "
                f"shape {input.shape}: give class probabilities of shape {input.shape} or "
                "integer class indices of shape "
                f"{input.shape[:class_axis] + input.shape[class_axis + 1:]}")
        if ignore_index != -100:
            raise ValueError("cross_entropy: ignore_index applies to class-index targets "
                             "only, and the target holds probabilities; leave it out")
        if isinstance(target, Tensor) and target.requires_grad:
            target = target.astype(input.dtype)
        else:
            target = target_array.astype(input.dtype, copy=False)
    else:
        raise TypeError(f"cross_entropy: target must hold integer class indices or float "
                        f"class probabilities, got dtype {target_array.dtype}")
    return CrossEntropy.apply(input, target, weight, class_axis, reduction,
                              float(label_smoothing), int(ignore_index))


class NLLLoss(ArrayFunction):
    """Negative log-likelihood: ``loss_n = -w[y_n] * input[n, y_n]``, 0 where ``y_n``
    is ``ignore_index``; "mean" divides by the kept samples' summed weights."""

    @staticmethod
    def forward(ctx, log_probs, target, weight, class_axis, reduction, ignore_index):
        losses, index, _, row_weight, denominator = _picked_losses(
            log_probs, target, weight, class_axis, ignore_index, "nll_loss")
        ctx.meta = (log_probs.shape, index, row_weight, class_axis, reduction, denominator)
        return _mean_over(losses, reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        shape, index, row_weight, class_axis, reduction, denominator = ctx.meta
        scale = _upstream_scale(grad, reduction, denominator or 1, class_axis)  # as above
        if reduction == "none":
            scale = np.squeeze(scale, class_axis)
        picked = scale if row_weight is None else scale * row_weight
        grad_input = np.zeros(shape, dtype=grad.dtype)
        _scatter_subtract(grad_input, index, picked, class_axis)
        return grad_input, None, None, None, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shape, index, row_weight, class_axis, reduction, denominator = ctx.meta
        picked = np.zeros(shape, dtype=grad.dtype)
        _scatter_subtract(picked, index, 1.0 if row_weight is None else row_weight,
                          class_axis)
        return constant(picked) * _upstream_scale_tensor(grad, reduction, denominator or 1,
                                                         class_axis), \
            None, None, None, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.nll_loss``: ``input`` holds log-probabilities, ``target`` class
    indices; ``weight`` and ``ignore_index`` as in :func:`cross_entropy`."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    input = _as_tensor(input, "nll_loss")
    _check_floating(input, "nll_loss")
    class_axis = _class_axis(input, "nll_loss")
    weight = _class_weights(weight, input, "nll_loss")
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype "
                        f"{target.dtype}")
    _check_class_target_shape(target, input.shape, class_axis, "nll_loss")
    return NLLLoss.apply(input, target, weight, class_axis, reduction, int(ignore_index))


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Squared error, averaged (``"mean"``), summed (``"sum"``) or per element."""
    input, target = _loss_inputs(input, target, "mse_loss", reduction)
    diff = input - target
    return _reduce_tensor(diff * diff, reduction)


def _reduce_tensor(losses: Tensor, reduction: str) -> Tensor:
    """:func:`_reduce` for losses built from Tensor ops (so the reduction is recorded)."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


# --------------------------------------------------------------------------- smooth activations

# Cephes' rational approximations of erf and erfc (Moshier, ndtr.c; relative error about
# 1e-16 in float64). NumPy has no erf, and the core package needs NumPy only.
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
          7.00332514112805075473E3, 5.55923013010394962768E4)
_ERF_U = (3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
          2.26290000613890934246E4, 4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
           9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q = (1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
           1.65666309194161350182E3, 5.57535340817727675546E2)
_ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
           6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
_ERFC_S = (2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
           1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)


def _polynomial(x, coefficients, leading_one=False):
    """Horner's rule, highest power first (Cephes' polevl; p1evl with ``leading_one``)."""
    result = x + coefficients[0] if leading_one else np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x), the standard normal CDF, in float64 to about 1e-16 relative error
    (Cephes' ndtr: erf near 0, erfc in the tails, so neither tail loses digits)."""
    x = np.asarray(x, dtype=np.float64)
    z = x * math.sqrt(0.5)
    a = np.abs(z)
    small = a < 1.0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        z2 = z * z
        erf = z * _polynomial(z2, _ERF_T) / _polynomial(z2, _ERF_U, leading_one=True)
        middle = a < 8.0
        numerator = np.where(middle, _polynomial(a, _ERFC_P),
                             _polynomial(a, _ERFC_R))
        denominator = np.where(middle, _polynomial(a, _ERFC_Q, leading_one=True),
                               _polynomial(a, _ERFC_S, leading_one=True))
        half_erfc = 0.5 * np.exp(-z2) * numerator / denominator  # 0.5 * erfc(|z|)
    half_erfc = np.where(np.isnan(half_erfc) & ~np.isnan(x), 0.0, half_erfc)  # |x| = inf
    tail = np.where(z > 0, 1.0 - half_erfc, half_erfc)
    return np.where(small, 0.5 + 0.5 * erf, tail)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715
GELU_APPROXIMATIONS = ("none", "tanh")


def check_gelu_approximation(approximate, op: str = "gelu") -> str:
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"{op}: approximate must be one of {GELU_APPROXIMATIONS}, got "
                         f"{approximate!r}")
    return approximate


class Gelu(ArrayFunction):
    """``x * Phi(x)``, or with ``approximate="tanh"``
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (PyTorch's two forms)."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            with np.errstate(over="ignore"):  # x^3 = inf only where tanh is +-1 anyway
                inner = (x + _GELU_CUBIC * (x * x * x)) * _SQRT_2_OVER_PI
            t = np.tanh(inner)
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = normal_cdf(x).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, saved = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = saved
            # Beyond |x| = 20, tanh is exactly +-1 and 1 - t^2 is 0: clipping x there keeps
            # 0 * inf (x^2 overflowing) out of the second term without changing it.
            x = np.clip(x, -20.0, 20.0)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * (x * x))
            slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner
        else:
            with np.errstate(over="ignore"):  # x * x = inf only where the pdf is 0 anyway
                pdf = np.exp(-0.5 * (x * x)) * _INV_SQRT_2PI
            slope = saved + x * pdf
        return grad * slope, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        if ctx.approximate == "tanh":
            clipped = x.clip(-20.0, 20.0)
            t = ((x + _GELU_CUBIC * (x * x * x)) * _SQRT_2_OVER_PI).tanh()
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * (clipped * clipped))
            slope = 0.5 * (1 + t) + 0.5 * clipped * (1 - t * t) * d_inner
        else:
            slope = NormalCdf.apply(x) + x * _normal_pdf(x)
        return grad * slope, None


def _normal_pdf(x):
    """The standard normal density of a Tensor (recorded)."""
    return (x * x * -0.5).exp() * _INV_SQRT_2PI


class NormalCdf(ArrayFunction):
    """Phi(x), the standard normal CDF (exact gelu's double backward needs it as an op)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return normal_cdf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return grad * (np.exp(-0.5 * (x * x)) * _INV_SQRT_2PI).astype(grad.dtype)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * _normal_pdf(inputs[0])


def gelu(input, approximate: str = "none") -> Tensor:
    """PyTorch's ``F.gelu``: ``x * Phi(x)`` with Phi the standard normal CDF (exact, from
    erf), or the tanh approximation with ``approximate="tanh"``."""
    check_gelu_approximation(approximate)
    input = _as_tensor(input, "gelu")
    _check_floating(input, "gelu")
    return Gelu.apply(input, approximate)


class Silu(ArrayFunction):
    """``x * sigmoid(x)``; slope ``s (1 + x (1 - s))``."""

    @staticmethod
    def forward(ctx, x):
        s = ops.stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s * (1 + x * (1 - s)))

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        s = x.sigmoid()
        return grad * (s * (1 + x * (1 - s)))


def silu(input, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish); ``inplace`` as in :func:`relu`."""
    input = _as_tensor(input, "silu")
    _check_floating(input, "silu")
    return Silu.apply(input)


def relu6(input, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``, as PyTorch's (a hardtanh: slope 1 strictly inside (0, 6))."""
    input = _as_tensor(input, "relu6")
    _check_floating(input, "relu6")
    return input.relu6()


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """``x`` clipped to [min_val, max_val]; slope 1 strictly inside, 0 outside."""
    input = _as_tensor(input, "hardtanh")
    _check_floating(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return input.hardtanh(min_val, max_val)


def hardswish(input, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    input = _as_tensor(input, "hardswish")
    _check_floating(input, "hardswish")
    return input.hardswish()


def mish(input, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    input = _as_tensor(input, "mish")
    _check_floating(input, "mish")
    return input.mish()


class Elu(ArrayFunction):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``; slope 1 or ``alpha * exp(x)``."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * (ctx.alpha * np.exp(np.minimum(x, 0)))), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (x,) = ctx.saved_tensors
        negative_slope = inputs[0].clip(max=0).exp() * ctx.alpha
        return grad * ops.Where.apply(x > 0, np.ones((), dtype=grad.dtype), negative_slope), None


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """PyTorch's ``F.elu``; ``inplace`` as in :func:`relu`."""
    input = _as_tensor(input, "elu")
    _check_floating(input, "elu")
    return Elu.apply(input, float(alpha))


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``
    (PyTorch's definition; the same op as ``Tensor.softplus``)."""
    input = _as_tensor(input, "softplus")
    _check_floating(input, "softplus")
    return input.softplus(beta, threshold)


def _log_sigmoid_array(x):
    # log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)): no overflow for any x.
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class LogSigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _log_sigmoid_array(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ops.stable_sigmoid(-x)

    differentiable_backward = staticmethod(
        lambda ctx, grad, inputs, output: grad * (-inputs[0]).sigmoid())


def logsigmoid(input) -> Tensor:
    """``log(sigmoid(x))``, computed stably (finite for any finite x)."""
    input = _as_tensor(input, "logsigmoid")
    _check_floating(input, "logsigmoid")
    return LogSigmoid.apply(input)


log_sigmoid = logsigmoid  # PyTorch's functional name is logsigmoid; both are accepted


# --------------------------------------------------------------------------- binary and robust losses


def _loss_scale(grad: np.ndarray, reduction: str, count: int):
    """The output gradient per element of an elementwise loss."""
    return grad / count if reduction == "mean" else grad


def _loss_operand(value, input: Tensor, op: str, name: str, shape=None):
    """``value`` (target, weight, ...) in the input's dtype: a Tensor stays one (so it can
    get a gradient), anything else becomes an array. ``shape``: the exact shape required;
    otherwise it must broadcast to the input's shape."""
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must be numeric, got dtype {array.dtype}")
    if isinstance(value, Tensor):
        value = value.astype(input.dtype)
    else:
        value = array.astype(input.dtype, copy=False)
    value_shape = value.shape
    if shape is not None:
        if value_shape != shape:
            raise ValueError(f"{op}: input of shape {input.shape} and {name} of shape "
                             f"{value_shape} must have the same shape")
    else:
        try:
            fits = np.broadcast_shapes(value_shape, input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{op}: {name} of shape {value_shape} does not broadcast to the "
                             f"input's shape {input.shape}")
    return value


def _loss_inputs(input, target, op: str, reduction: str):
    _check_reduction(reduction, op)
    input = _as_tensor(input, op)
    _check_floating(input, op)
    # PyTorch only warns on a shape mismatch, but broadcasting (N, 1) against (N,) gives
    # an (N, N) loss without complaint, so mismatched shapes are refused (as in mse_loss).
    target = _loss_operand(target, input, op, "target", shape=input.shape)
    return input, target


class BinaryCrossEntropy(ArrayFunction):
    """``-w (t log x + (1 - t) log(1 - x))`` with each log clamped at -100 (PyTorch's
    convention, so x = 0 or 1 gives a finite loss). The input gradient is PyTorch's,
    ``w (x - t) / max(x (1 - x), 1e-12)``; target and weight get the derivative of the
    loss as computed (with the clamped logs)."""

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        unweighted = -(t * log_x + (1 - t) * log_1mx)
        losses = unweighted if w is None else unweighted * w
        ctx.save_for_backward(x, t, w, log_x, log_1mx, unweighted)
        ctx.meta = (reduction, losses.size)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, w, log_x, log_1mx, unweighted = ctx.saved_tensors
        reduction, count = ctx.meta
        scale = _loss_scale(grad, reduction, count)
        need_x, need_t, need_w, _ = ctx.needs_input_grad
        grad_w = unweighted * scale if need_w else None
        if w is not None:
            scale = scale * w
        grad_x = grad_t = None
        if need_x:
            grad_x = (x - t) / np.maximum((1 - x) * x, 1e-12) * scale
        if need_t:
            grad_t = (log_1mx - log_x) * scale
        return grad_x, grad_t, grad_w, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, t, w = inputs[:3]
        reduction, count = ctx.meta
        scale = grad / count if reduction == "mean" else grad
        need_x, need_t, need_w, _ = ctx.needs_input_grad
        with np.errstate(divide="ignore"):
            log_x = x.log().clip(min=-100)
            log_1mx = (1 - x).log().clip(min=-100)
        grad_w = -(t * log_x + (1 - t) * log_1mx) * scale if need_w else None
        if w is not None:
            scale = scale * w
        grad_x = (x - t) / ((1 - x) * x).clip(min=1e-12) * scale if need_x else None
        grad_t = (log_1mx - log_x) * scale if need_t else None
        return grad_x, grad_t, grad_w, None


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.binary_cross_entropy`` on probabilities ``input`` in [0, 1].

    ``target`` has the input's shape; ``weight`` rescales each element's loss and must
    broadcast to the input's shape. ``"mean"`` averages over all elements. For logits use
    :func:`binary_cross_entropy_with_logits`, which is stable and faster.
    """
    input, target = _loss_inputs(input, target, "binary_cross_entropy", reduction)
    probabilities = input.data
    inside = (probabilities >= 0) & (probabilities <= 1)
    if not inside.all():
        bad = probabilities[~inside].flat[0]
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], "
                         f"found {bad}; for logits use binary_cross_entropy_with_logits "
                         "(or apply sigmoid first)")
    if weight is not None:
        weight = _loss_operand(weight, input, "binary_cross_entropy", "weight")
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


class BinaryCrossEntropyWithLogits(ArrayFunction):
    """``w ((1 - t) x - (1 + (p - 1) t) log sigmoid(x))`` from logits ``x``, with
    ``p = pos_weight`` (1 when None): PyTorch's stable form, finite for any finite x."""

    @staticmethod
    def forward(ctx, x, t, w, p, reduction):
        log_sig = _log_sigmoid_array(x)
        coefficient = None if p is None else 1 + (p - 1) * t
        unweighted = (1 - t) * x - (log_sig if p is None else coefficient * log_sig)
        losses = unweighted if w is None else unweighted * w
        ctx.save_for_backward(x, t, w, p, log_sig, coefficient, unweighted)
        ctx.meta = (reduction, losses.size)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, w, p, log_sig, coefficient, unweighted = ctx.saved_tensors
        reduction, count = ctx.meta
        scale = _loss_scale(grad, reduction, count)
        need_x, need_t, need_w, need_p, _ = ctx.needs_input_grad
        grad_w = unweighted * scale if need_w else None
        if w is not None:
            scale = scale * w
        grad_x = grad_t = grad_p = None
        if need_x:
            s = ops.stable_sigmoid(x)
            grad_x = (s - t if p is None else coefficient * s - p * t) * scale
        if need_t:
            grad_t = (-x if p is None else -x - (p - 1) * log_sig) * scale
        if need_p:
            grad_p = -t * log_sig * scale
        return grad_x, grad_t, grad_w, grad_p, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, t, w, p = inputs[:4]
        reduction, count = ctx.meta
        scale = grad / count if reduction == "mean" else grad
        need_x, need_t, need_w, need_p, _ = ctx.needs_input_grad
        log_sig = LogSigmoid.apply(x)
        coefficient = None if p is None else 1 + (p - 1) * t
        grad_w = None
        if need_w:
            unweighted = (1 - t) * x - (log_sig if p is None else coefficient * log_sig)
            grad_w = unweighted * scale
        if w is not None:
            scale = scale * w
        grad_x = grad_t = grad_p = None
        if need_x:
            s = x.sigmoid()
            grad_x = (s - t if p is None else coefficient * s - p * t) * scale
        if need_t:
            grad_t = (-x if p is None else -x - (p - 1) * log_sig) * scale
        if need_p:
            grad_p = -t * log_sig * scale
        return grad_x, grad_t, grad_w, grad_p, None


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """PyTorch's ``F.binary_cross_entropy_with_logits``: sigmoid and binary cross-entropy
    in one stable op (logits of any finite size give a finite loss and gradient).

    ``weight`` rescales each element's loss; ``pos_weight`` (e.g. shape (C,) for
    (N, C) multi-label logits) weights the positive term ``t log sigmoid(x)``. Both must
    broadcast to the input's shape; Tensors among them that require grad get gradients.
    """
    op = "binary_cross_entropy_with_logits"
    input, target = _loss_inputs(input, target, op, reduction)
    if weight is not None:
        weight = _loss_operand(weight, input, op, "weight")
    if pos_weight is not None:
        pos_weight = _loss_operand(pos_weight, input, op, "pos_weight")
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Absolute error, averaged (``"mean"``), summed (``"sum"``) or per element; the
    gradient at a zero difference is 0, as in PyTorch."""
    input, target = _loss_inputs(input, target, "l1_loss", reduction)
    return _reduce_tensor((input - target).abs(), reduction)


class RobustRegressionLoss(ArrayFunction):
    """Smooth L1 (``kind="smooth_l1"``, ``param=beta``) or Huber (``param=delta``) loss:
    quadratic for ``|d| < param``, linear beyond; Huber = beta * smooth L1 with beta =
    delta. The slope is clip(d / beta, -1, 1) or clip(d, -delta, delta) (PyTorch's)."""

    @staticmethod
    def forward(ctx, x, t, kind, param, reduction):
        d = x - t
        a = np.abs(d)
        if kind == "smooth_l1":
            losses = np.where(a < param, (0.5 / param) * (d * d), a - 0.5 * param)
        else:
            losses = np.where(a < param, 0.5 * (d * d), param * (a - 0.5 * param))
        ctx.save_for_backward(d)
        ctx.meta = (kind, param, reduction, losses.size)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        kind, param, reduction, count = ctx.meta
        if kind == "smooth_l1":
            slope = np.clip(d / param, -1, 1)
        else:
            slope = np.clip(d, -param, param)
        grad_x = slope * _loss_scale(grad, reduction, count)
        need_x, need_t = ctx.needs_input_grad[:2]
        return (grad_x if need_x else None), (-grad_x if need_t else None), None, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, t = inputs[:2]
        kind, param, reduction, count = ctx.meta
        d = x - t
        slope = (d / param).clip(-1, 1) if kind == "smooth_l1" else d.clip(-param, param)
        grad_x = slope * (grad / count if reduction == "mean" else grad)
        need_x, need_t = ctx.needs_input_grad[:2]
        return (grad_x if need_x else None), (-grad_x if need_t else None), None, None, None


def _check_positive_number(value, name: str, op: str, allow_zero: bool) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer,
                                                             np.floating))
          and (value >= 0 if allow_zero else value > 0) and math.isfinite(value))
    if not ok:
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{op}: {name} must be a {bound} finite number, got {value!r}")
    return float(value)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """PyTorch's ``F.smooth_l1_loss``: ``0.5 d^2 / beta`` for ``|d| < beta``, else
    ``|d| - 0.5 beta``; ``beta=0`` is :func:`l1_loss` (as in PyTorch)."""
    beta = _check_positive_number(beta, "beta", "smooth_l1_loss", allow_zero=True)
    if beta == 0.0:
        return l1_loss(input, target, reduction)
    input, target = _loss_inputs(input, target, "smooth_l1_loss", reduction)
    return RobustRegressionLoss.apply(input, target, "smooth_l1", beta, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """PyTorch's ``F.huber_loss``: ``0.5 d^2`` for ``|d| < delta``, else
    ``delta (|d| - 0.5 delta)``; ``delta`` must be positive."""
    delta = _check_positive_number(delta, "delta", "huber_loss", allow_zero=False)
    input, target = _loss_inputs(input, target, "huber_loss", reduction)
    return RobustRegressionLoss.apply(input, target, "huber", delta, reduction)


# --------------------------------------------------------------------------- normalisation


def _check_affine(input: Tensor, weight, bias, shape: tuple, op: str, what: str):
    for name, param in (("weight", weight), ("bias", bias)):
        if param is None:
            continue
        if not isinstance(param, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got "
                            f"{type(param).__name__}")
        if param.shape != shape:
            raise ValueError(f"{op}: {name} of shape {param.shape} does not fit input of shape "
                             f"{input.shape}: it needs shape {shape} ({what})")
        if param.dtype != input.dtype:
            raise TypeError(f"{op}: input ({input.dtype}) and {name} ({param.dtype}) must have "
                            "the same dtype, so that nothing is silently promoted; convert "
                            "the input (x.float()) or the module (module.to(dtype))")


def _check_stat(stat, op: str, name: str, channels: int):
    """A running statistic: None, or a Tensor or ndarray of shape (channels,). A Tensor
    (a module's buffer) is passed to the op as it is, so that a captured step
    (tinygrad_fm.jit) reads and updates the live buffer at every replay."""
    if stat is None:
        return None
    array = stat.data if isinstance(stat, Tensor) else stat
    if not isinstance(array, np.ndarray) or array.shape != (channels,):
        raise ValueError(f"{op}: {name} must be a tensor of shape ({channels},) (one value per "
                         f"channel), got {getattr(array, 'shape', type(array).__name__)}")
    return stat


def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.batch_norm`` over the channels (axis 1) of an (N, C, *) input.

    ``training``: normalise with the batch's (biased) statistics and, when the running
    statistics are given, update them in place with
    ``running = (1 - momentum) * running + momentum * batch`` (the variance unbiased,
    n / (n - 1)). Otherwise normalise with ``running_mean`` / ``running_var``.
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps, None, "batch_norm")


def _batch_norm(input, running_mean, running_var, weight, bias, training: bool, momentum,
                eps: float, num_batches_tracked, op: str) -> Tensor:
    """:func:`batch_norm`; ``num_batches_tracked`` (a 0-d int64 Tensor, or None) is
    counted up by each training batch, and ``momentum=None`` then averages cumulatively."""
    input = _as_tensor(input, op)
    _check_floating(input, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C) or (N, C, *), got shape "
                         f"{input.shape}")
    channels = input.shape[1]
    running_mean = _check_stat(running_mean, op, "running_mean", channels)
    running_var = _check_stat(running_var, op, "running_var", channels)
    _check_affine(input, weight, bias, (channels,), op, "one value per channel")
    stat_axes = (0,) + tuple(range(2, input.ndim))
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var must be given when "
                             "training=False (they are what eval mode normalises with)")
        return ops.Normalize.apply(input, weight, bias, running_mean, running_var, stat_axes,
                                   (1,), eps)
    if input.data.size // max(channels, 1) <= 1:
        raise ValueError(f"{op}: expected more than 1 value per channel when training, got "
                         f"input of shape {input.shape}")
    if momentum is None and num_batches_tracked is None and (running_mean is not None
                                                             or running_var is not None):
        raise ValueError(f"{op}: momentum=None (a cumulative average) needs the count of "
                         "batches seen (num_batches_tracked)")
    return ops.Normalize.apply(input, weight, bias, None, None, stat_axes, (1,), eps,
                               running_mean, running_var, num_batches_tracked, momentum)


def _normalized_shape(normalized_shape, op: str) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape,
                                                                          bool):
        return (int(normalized_shape),)
    try:
        shape = tuple(int(n) for n in normalized_shape)
    except TypeError:
        raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}") from None
    if not shape:
        raise ValueError(f"{op}: normalized_shape must have at least one dimension")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.layer_norm``: normalise over the last ``len(normalized_shape)`` axes
    (which must equal ``normalized_shape``), then scale by ``weight`` and shift by ``bias``
    (both of that shape, or None)."""
    op = "layer_norm"
    input = _as_tensor(input, op)
    _check_floating(input, op)
    shape = _normalized_shape(normalized_shape, op)
    k = len(shape)
    if input.shape[input.ndim - k:] != shape or input.ndim < k:
        raise ValueError(f"{op}: given normalized_shape={list(shape)}, expected an input of "
                         f"shape [*, {', '.join(map(str, shape))}], but got input of shape "
                         f"{input.shape}")
    _check_affine(input, weight, bias, shape, op, "normalized_shape")
    axes = tuple(range(input.ndim - k, input.ndim))
    return ops.Normalize.apply(input, weight, bias, None, None, axes, axes, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor:
    """PyTorch's ``F.rms_norm``: ``input / sqrt(mean(input**2) + eps) * weight`` over the
    last ``len(normalized_shape)`` axes; ``eps=None`` is the input dtype's machine epsilon."""
    op = "rms_norm"
    input = _floating_input(input, op)
    shape = _normalized_shape(normalized_shape, op)
    k = len(shape)
    if input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(f"{op}: given normalized_shape={list(shape)}, expected an input of "
                         f"shape [*, {', '.join(map(str, shape))}], but got input of shape "
                         f"{input.shape}")
    _check_affine(input, weight, None, shape, op, "normalized_shape")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    out = input * (input.square().mean(axes, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.group_norm``: the C channels of an (N, C, *) input in ``num_groups``
    groups, each normalised over its channels and positions; then a per-channel scale
    and shift."""
    op = "group_norm"
    input = _as_tensor(input, op)
    _check_floating(input, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *), got shape "
                         f"{input.shape}")
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(f"{op}: the number of channels must be divisible by num_groups, but "
                         f"got input of shape {input.shape} and num_groups={num_groups}")
    _check_affine(input, weight, bias, (channels,), op, "one value per channel")
    if input.shape[0] * (channels // num_groups) * math.prod(input.shape[2:]) == 1:
        raise ValueError(f"{op}: expected more than 1 value per channel when training (as "
                         f"PyTorch checks), got input of shape {input.shape}")
    grouped_shape = (input.shape[0], num_groups, channels // num_groups, -1)
    grouped = input.reshape(grouped_shape)
    param_shape = (num_groups, channels // num_groups)
    weight = None if weight is None else weight.reshape(param_shape)
    bias = None if bias is None else bias.reshape(param_shape)
    out = ops.Normalize.apply(grouped, weight, bias, None, None, (2, 3), (1, 2), eps)
    return out.reshape(input.shape)


def _feature_dropout(input: Tensor, p: float, training: bool, mask_shape: tuple) -> Tensor:
    if not training or p == 0.0:
        return input
    _check_floating(input, "dropout")
    if p == 1.0:
        return input * np.zeros(mask_shape, dtype=input.dtype)
    keep = numpy_rng().random(mask_shape, dtype=np.float32) >= p
    return input * (keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p)))


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: each channel of an (N, C, L) or (C, L) input is zeroed with
    probability p (the rest scaled by 1 / (1 - p)) in training; the input otherwise."""
    p = check_dropout_probability(p)
    input = _as_tensor(input, "dropout1d")
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{input.shape}")
    mask_shape = input.shape[:-1] + (1,)
    return _feature_dropout(input, p, training, mask_shape)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability p.

    As in PyTorch, a 3-D input is taken as (N, C, L) (with a warning), and other ranks
    are accepted with a warning, the first two axes taken as N and C."""
    import warnings
    p = check_dropout_probability(p)
    input = _as_tensor(input, "dropout2d")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: received a {input.ndim}-D input (shape {input.shape}); "
                      "dropout2d is for 3-D or 4-D inputs, use dropout instead", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input; as in PyTorch it is taken as (N, C, L) "
                      "and whole channels are zeroed (use dropout1d to say so)", stacklevel=2)
    if input.ndim < 2:
        mask_shape = input.shape
    else:
        mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _feature_dropout(input, p, training, mask_shape)


# SELU's -scale * alpha: the value alpha dropout sets dropped units to before its affine
# correction, so that a SELU network's activations keep zero mean and unit variance.
SELU_SATURATION = 1.7580993408473766


class AlphaDropout(ArrayFunction):
    """Alpha dropout: units kept with probability 1 - p (a mask of ``mask_shape``,
    broadcast over the input) become ``a * x + c``, dropped ones ``a * (-alpha) + c``, with
    PyTorch's a and c; the gradient is ``a`` on kept units, 0 on dropped ones."""

    draws_random = True  # tinygrad_fm.jit: its forward draws the mask, again at each replay

    @staticmethod
    def forward(ctx, x, p, mask_shape):
        keep = (numpy_rng().random(mask_shape, dtype=np.float32) >= p).astype(x.dtype)
        scale = 1.0 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
        # PyTorch's b = (keep - 1) * alpha * a + alpha * a * p, then x * keep * a + b.
        shift = (keep - 1) * (SELU_SATURATION * scale) + SELU_SATURATION * scale * p
        scaled_keep = keep * x.dtype.type(scale)
        ctx.save_for_backward(scaled_keep)
        return (x * scaled_keep + shift).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (scaled_keep,) = ctx.saved_tensors
        return grad * scaled_keep, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (scaled_keep,) = ctx.saved_tensors
        return grad * constant(scaled_keep), None, None


def _alpha_dropout(input, p, training: bool, feature: bool, op: str) -> Tensor:
    p = check_dropout_probability(p)
    input = _as_tensor(input, op)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    _check_floating(input, op)
    if p == 1.0:  # PyTorch: input * 0 (the affine correction divides by zero)
        return input * np.zeros((), dtype=input.dtype)
    if feature:
        if input.ndim < 2:
            raise ValueError(f"{op}: expected an input with at least 2 axes (N, C, *), got "
                             f"shape {input.shape}; use alpha_dropout for elementwise masks")
        mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    else:
        mask_shape = input.shape
    return AlphaDropout.apply(input, p, mask_shape)


def alpha_dropout(input, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """PyTorch's alpha dropout (for SELU networks) in training mode, its mask drawn from
    the framework's generator; the input itself otherwise (note PyTorch's default
    ``training=False``)."""
    return _alpha_dropout(input, p, training, False, "alpha_dropout")


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: one draw per (sample, channel) of an (N, C, *)
    input, as PyTorch's."""
    return _alpha_dropout(input, p, training, True, "feature_alpha_dropout")


# --------------------------------------------------------------------------- embedding


def _embedding_indices(input, num_embeddings: int, op: str) -> np.ndarray:
    indices = np.asarray(input.data if isinstance(input, Tensor) else input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor (int64, as in PyTorch), got "
                        f"dtype {indices.dtype} (shape {indices.shape})")
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(f"{op}: index {bad} is out of range for an embedding of "
                             f"{num_embeddings} rows (indices of shape {indices.shape} must lie "
                             f"in [0, {num_embeddings}))")
    return indices


def _padding_index(padding_idx, num_embeddings: int, op: str):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx={padding_idx} must be within the "
                         f"{num_embeddings} rows (in [-{num_embeddings}, {num_embeddings}))")
    return int(padding_idx) % num_embeddings


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """PyTorch's ``F.embedding``: the rows of ``weight`` (num_embeddings, dim) at the
    integer ``input`` indices, shape ``input.shape + (dim,)``.

    The row ``padding_idx`` gets no gradient. With ``max_norm``, the looked-up rows whose
    norm exceeds it are first rescaled in place (as PyTorch does).
    ``scale_grad_by_freq`` divides each row's gradient by its count in ``input``.
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use "
                                  "sparse=False (the gradient is a dense array)")
    return _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                      op="embedding")


def _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq,
               op: str) -> Tensor:
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    indices = _embedding_indices(input, weight.shape[0], op)
    padding_idx = _padding_index(padding_idx, weight.shape[0], op)
    return ops.EmbeddingLookup.apply(weight, indices, padding_idx, bool(scale_grad_by_freq),
                                     None if max_norm is None else float(max_norm),
                                     float(norm_type))


EMBEDDING_BAG_MODES = ("sum", "mean", "max")


def _bag_layout(indices: np.ndarray, offsets, include_last_offset: bool, op: str):
    """(positions, valid): for each bag (row) the positions of its entries in the flat
    input, padded to the longest bag (``valid`` False there)."""
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None when the input is 2-D (one bag "
                             f"per row), got input of shape {indices.shape}")
        positions = np.arange(indices.size).reshape(indices.shape)
        return positions, np.ones(indices.shape, dtype=bool)
    if indices.ndim != 1:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D (bags of equal "
                         f"length), got shape {indices.shape}")
    if offsets is None:
        raise ValueError(f"{op}: a 1-D input needs offsets (the start of each bag)")
    offsets = np.asarray(offsets.data if isinstance(offsets, Tensor) else offsets)
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or (
            offsets.size and (offsets[0] != 0 or np.any(np.diff(offsets) < 0)
                              or offsets[-1] > indices.size)):
        raise ValueError(f"{op}: offsets must be a 1-D integer tensor starting at 0, "
                         f"non-decreasing and at most the input length {indices.size}, got "
                         f"{offsets.tolist()}")
    if include_last_offset:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts, ends = offsets, np.append(offsets[1:], indices.size)
    lengths = ends - starts
    width = max(int(lengths.max()) if lengths.size else 0, 1)
    steps = np.arange(width)
    valid = steps[None, :] < lengths[:, None]
    positions = np.where(valid, starts[:, None] + steps[None, :], 0)
    return positions, valid


def _embedding_bag(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode,
                   per_sample_weights, include_last_offset, padding_idx, op: str) -> Tensor:
    if mode not in EMBEDDING_BAG_MODES:
        raise ValueError(f"{op}: mode must be one of {EMBEDDING_BAG_MODES}, got {mode!r}")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D Tensor (num_embeddings, embedding_dim), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    indices = _embedding_indices(input, weight.shape[0], op)
    positions, valid = _bag_layout(indices, offsets, include_last_offset, op)
    padding_idx = _padding_index(padding_idx, weight.shape[0], op)
    flat = indices.reshape(-1)
    if padding_idx is not None and flat.size:
        valid = valid & (flat[positions] != padding_idx)
    rows = _embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, op)
    # An empty input still gives a result connected to the weight (a zero gradient).
    bags = rows[positions] if flat.size else weight[np.zeros(positions.shape, np.int64)] * 0
    keep = valid[..., None].astype(weight.dtype)
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"{op}: per_sample_weights is only supported for mode='sum', got "
                             f"mode={mode!r}")
        sample_weights = _as_tensor(per_sample_weights, op)
        if sample_weights.shape != indices.shape:
            raise ValueError(f"{op}: per_sample_weights of shape {sample_weights.shape} must "
                             f"have the input's shape {indices.shape}")
        if flat.size:
            bags = bags * sample_weights.reshape(-1)[positions][..., None]
        else:  # connected, with a zero (empty) gradient
            bags = bags + sample_weights.sum() * 0
    if mode == "max":
        out = bags.masked_fill(~valid[..., None], -np.inf).amax(1)
        return out.masked_fill(~valid.any(axis=1, keepdims=True), 0.0)
    out = (bags * keep).sum(1)
    if mode == "mean":
        out = out / np.maximum(keep.sum(axis=1), 1)
    return out


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None) -> Tensor:
    """PyTorch's ``F.embedding_bag``: the sum, mean or max of the embeddings in each bag.

    Bags are the rows of a 2-D ``input``, or, for a 1-D input, the runs that start at
    ``offsets`` (with ``include_last_offset`` the last offset closes the last bag).
    Entries equal to ``padding_idx`` are left out (and not counted by the mean); an empty
    bag gives zeros. ``per_sample_weights`` (the input's shape) scale the entries of a sum.
    """
    if sparse:
        raise NotImplementedError("embedding_bag: sparse gradients are not supported; use "
                                  "sparse=False (the gradient is a dense array)")
    return _embedding_bag(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq,
                          mode, per_sample_weights, include_last_offset, padding_idx,
                          op="embedding_bag")


# --------------------------------------------------------------------------- attention


def attention_bias(mask, dtype, op: str, allowed_when_true: bool):
    """A boolean or float attention mask as an additive float bias array (-inf where
    attention is not allowed). ``allowed_when_true``: the boolean convention, True =
    may attend (``scaled_dot_product_attention``) or True = masked out (the
    ``MultiheadAttention`` masks)."""
    array = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if array.dtype == bool:
        blocked = ~array if allowed_when_true else array
        return np.where(blocked, -np.inf, 0.0).astype(dtype)
    if array.dtype.kind != "f":
        raise TypeError(f"{op}: a mask must be boolean or floating point, got dtype "
                        f"{array.dtype} (shape {array.shape})")
    return array.astype(dtype, copy=False)


def attention_weights_and_output(query: Tensor, key: Tensor, value: Tensor, bias,
                                 dropout_p: float, scale: float):
    """``softmax(q k^T * scale + bias) @ v`` over the last two axes, and the (dropped-out)
    attention weights. ``bias`` is an additive array (or None). Rows where every key is
    masked (-inf) attend to nothing: their weights and output are 0 (as PyTorch's
    ``scaled_dot_product_attention``), not NaN, and they pass no gradient."""
    scores = (query * query.dtype.type(scale)) @ key.transpose(-2, -1)
    dead_rows = None
    if bias is not None:
        dead = np.isneginf(bias).all(axis=-1, keepdims=True)
        if dead.any():
            bias = np.where(dead, 0, bias).astype(bias.dtype)  # keep softmax finite
            dead_rows = dead
        scores = scores + bias
    weights = scores.softmax(-1)
    if dead_rows is not None:
        weights = weights * (~dead_rows).astype(weights.dtype)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value, weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """PyTorch's ``F.scaled_dot_product_attention``: ``softmax(Q K^T * scale + mask) V``
    for query (..., L, E), key (..., S, E) and value (..., S, Ev).

    ``attn_mask``: boolean (True = may attend) or a float bias added to the scores,
    broadcastable to (..., L, S). ``is_causal``: position i attends to keys 0..i (the
    top-left aligned lower triangle); no ``attn_mask`` then. ``scale`` defaults to
    1/sqrt(E). ``dropout_p`` drops attention weights (always: pass 0 in eval).
    ``enable_gqa``: key/value heads (axis -3) may be fewer than the query's and are
    shared by groups of query heads. Rows with every key masked give 0.
    """
    op = "scaled_dot_product_attention"
    query, key, value = (_as_tensor(t, op) for t in (query, key, value))
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_floating(t, op)
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dimensions (..., length, "
                             f"features), got shape {t.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{op}: query {query.shape}, key {key.shape} and value "
                         f"{value.shape} do not fit: query and key need the same last axis "
                         "(E), key and value the same length (S)")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads:
            raise ValueError(f"{op}: with enable_gqa the query's {heads} heads must be a "
                             f"multiple of the key's {kv_heads} (shapes {query.shape}, "
                             f"{key.shape})")
        repeat = np.repeat(np.arange(kv_heads), heads // kv_heads)
        index = (Ellipsis, repeat, slice(None), slice(None))
        key, value = key[index], value[index]
    dropout_p = check_dropout_probability(dropout_p)
    length, source = query.shape[-2], key.shape[-2]
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")
        bias = attention_bias(np.tril(np.ones((length, source), dtype=bool)), query.dtype, op,
                              allowed_when_true=True)
    elif attn_mask is not None:
        bias = attention_bias(attn_mask, query.dtype, op, allowed_when_true=True)
        try:
            np.broadcast_shapes(bias.shape, query.shape[:-2] + (length, source))
        except ValueError:
            raise ValueError(f"{op}: attn_mask of shape {bias.shape} does not broadcast to "
                             f"the attention shape {query.shape[:-2] + (length, source)}"
                             ) from None
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    output, _ = attention_weights_and_output(query, key, value, bias, dropout_p, scale)
    return output



# --------------------------------------------------------------------------- everyday activations
#
# Built from differentiable Tensor ops (so every gradient, and gradients of gradients,
# come from ops that are already checked); only rrelu's training mode, which draws noise,
# is its own ArrayFunction so that a captured step (tinygrad_fm.jit) draws again at each
# replay.


def _floating_input(input, op: str) -> Tensor:
    input = _as_tensor(input, op)
    _check_floating(input, op)
    return input


def _implicit_softmax_dim(ndim: int) -> int:
    """PyTorch's legacy choice when softmax/softmin get no ``dim``: 0 for 0-, 1- and 3-D
    inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-input, dim)``; ``dtype`` converts the input first, as in PyTorch."""
    input = _floating_input(input, "softmin")
    if dtype is not None:
        input = input.astype(dtype)
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=2)
        dim = _implicit_softmax_dim(input.ndim)
    return (-input).softmax(dim)


def glu(input, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second."""
    input = _floating_input(input, "glu")
    if input.ndim == 0:
        raise ValueError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size "
                         f"{input.shape[dim]} (input shape {input.shape})")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def softsign(input) -> Tensor:
    """``x / (1 + |x|)``."""
    input = _floating_input(input, "softsign")
    return input / (input.abs() + 1)


def tanhshrink(input) -> Tensor:
    """``x - tanh(x)``."""
    input = _floating_input(input, "tanhshrink")
    return input - input.tanh()


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``: slope 1/6 strictly inside (-3, 3), 0 outside (PyTorch's)."""
    input = _floating_input(input, "hardsigmoid")
    return (input + 3).relu6() / 6


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al.
    (2017), PyTorch's ``F.selu``."""
    return elu(input, SELU_ALPHA) * SELU_SCALE


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` = ``alpha * elu(x / alpha)``."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the negative part divides by it)")
    input = _floating_input(input, "celu")
    return elu(input / alpha, 1.0) * alpha


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    input = _floating_input(input, "hardshrink")
    return input.where(np.abs(input.data) > lambd, 0)


def softshrink(input, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    if not lambd >= 0:
        raise ValueError(f"softshrink: lambd must be greater or equal to 0, but found to be "
                         f"{lambd}")
    input = _floating_input(input, "softshrink")
    return (input - input.clip(-lambd, lambd)).where(np.abs(input.data) > lambd, 0)


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value`` (gradient 0 there)."""
    input = _as_tensor(input, "threshold")
    return input.where(input.data > threshold, value)


def prelu(input, weight) -> Tensor:
    """``x`` where positive, else ``weight * x``; ``weight`` holds one slope, or one per
    channel (axis 1 of the input)."""
    input = _floating_input(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    if weight.dtype != input.dtype:
        raise TypeError(f"prelu: input ({input.dtype}) and weight ({weight.dtype}) must have "
                        "the same dtype, so that nothing is silently promoted; convert the "
                        "input (x.float()) or the module (module.to(dtype))")
    count = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or count not in (1, channels):
        raise ValueError(f"prelu: weight of shape {weight.shape} does not fit input of shape "
                         f"{input.shape}: give one slope, or one per channel ({channels}, "
                         "axis 1 of the input)")
    slope = weight.reshape((count,) + (1,) * (input.ndim - 2)) if input.ndim >= 2 and \
        count > 1 else weight.reshape(())
    return input.where(input.data > 0, input * slope)


class RandomizedLeakyReLU(ArrayFunction):
    """rrelu in training: each non-positive element is scaled by its own slope drawn from
    U(lower, upper); the gradient is the same per-element slope."""

    draws_random = True  # tinygrad_fm.jit: its forward draws the slopes, again at each replay

    @staticmethod
    def forward(ctx, x, lower, upper):
        slopes = numpy_rng().random(x.shape, dtype=np.float64) * (upper - lower) + lower
        noise = np.where(x > 0, 1.0, slopes).astype(x.dtype)
        ctx.save_for_backward(noise)
        return x * noise

    @staticmethod
    def backward(ctx, grad):
        (noise,) = ctx.saved_tensors
        return grad * noise, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (noise,) = ctx.saved_tensors
        return grad * constant(noise), None, None


def _check_rrelu_bounds(lower, upper, op: str) -> tuple:
    if not lower <= upper:
        raise ValueError(f"{op}: lower bound {lower} must not exceed the upper bound {upper}")
    return float(lower), float(upper)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: in training the negative slopes are drawn per element from
    U(lower, upper) with the framework's generator (``manual_seed`` makes them
    reproducible, not equal to PyTorch's draws); otherwise the fixed slope
    ``(lower + upper) / 2``."""
    lower, upper = _check_rrelu_bounds(lower, upper, "rrelu")
    input = _floating_input(input, "rrelu")
    if not training:
        return input.leaky_relu((lower + upper) / 2)
    return RandomizedLeakyReLU.apply(input, lower, upper)


class AddGumbelNoise(ArrayFunction):
    """``x + g`` with g drawn from Gumbel(0, 1) as ``-log(Exponential(1))`` (PyTorch's
    construction); the gradient passes straight through."""

    draws_random = True  # tinygrad_fm.jit: its forward draws the noise, again at each replay

    @staticmethod
    def forward(ctx, x):
        noise = -np.log(numpy_rng().exponential(size=x.shape))
        return x + noise.astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad

    differentiable_backward = staticmethod(lambda ctx, grad, inputs, output: grad)


def gumbel_softmax(logits, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution over ``dim``:
    ``softmax((logits + g) / tau)`` with Gumbel noise g from the framework's generator.
    ``hard``: the one-hot of its argmax, with the soft sample's gradient
    (straight-through), as PyTorch's."""
    logits = _floating_input(logits, "gumbel_softmax")
    if not tau > 0:
        raise ValueError(f"gumbel_softmax: tau must be positive, got {tau!r}")
    soft = (AddGumbelNoise.apply(logits) / tau).softmax(dim)
    if not hard:
        return soft
    axis = dim % soft.ndim if soft.ndim else 0
    one_hot_sample = np.zeros_like(soft.data)
    np.put_along_axis(one_hot_sample, np.expand_dims(soft.data.argmax(axis), axis), 1, axis)
    # The value is the one-hot sample; the gradient is the soft sample's.
    return soft + (one_hot_sample - soft.data)


# --------------------------------------------------------------------------- distances


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    input = _floating_input(input, "normalize")
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps)


def _broadcast_pair(x1, x2, op: str) -> tuple:
    x1, x2 = _floating_input(x1, op), _floating_input(x2, op)
    if x1.dtype != x2.dtype:
        raise TypeError(f"{op}: x1 ({x1.dtype}) and x2 ({x2.dtype}) must have the same dtype, "
                        "so that nothing is silently promoted; convert one of them")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not "
                         "broadcast together") from None
    return x1.expand(shape), x2.expand(shape)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` (each operand
    normalised first, as PyTorch 2 does, so the result stays within [-1, 1])."""
    x1, x2 = _broadcast_pair(x1, x2, "cosine_similarity")
    x1_norm = _clamp_min_passing_gradient(x1.norm(2, dim, keepdim=True), eps)
    x2_norm = _clamp_min_passing_gradient(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / x1_norm) * (x2 / x2_norm)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last axis (PyTorch adds eps to the difference)."""
    x1, x2 = _broadcast_pair(x1, x2, "pairwise_distance")
    if x1.ndim == 0:
        raise ValueError("pairwise_distance: inputs must have at least 1 dimension")
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


# --------------------------------------------------------------------------- kl_div, instance_norm, bilinear

KL_DIV_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """PyTorch's ``F.kl_div``: ``input`` holds log-probabilities, ``target`` probabilities
    (or log-probabilities with ``log_target=True``); pointwise
    ``target * (log(target) - input)`` (0 where target is 0). ``"batchmean"`` divides the
    sum by the batch size (the KL divergence per sample); ``"mean"`` by the element
    count, as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in KL_DIV_REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be one of {KL_DIV_REDUCTIONS}, got "
                         f"{reduction!r}")
    input = _floating_input(input, "kl_div")
    target = _loss_operand(target, input, "kl_div", "target")
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if log_target:
        losses = target.exp() * (target - input)
    else:
        positive = target.data > 0
        # xlogy(t, t): log is taken of 1 where t is 0, so those elements are exactly 0.
        safe_log = target.where(positive, 1).log()
        losses = target * safe_log - target * input
    if reduction == "mean":
        warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size, as "
                      "the KL divergence's definition does (PyTorch's warning).", UserWarning,
                      stacklevel=2)
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce_tensor(losses, reduction)


def _update_instance_running_stats(input: Tensor, running_mean, running_var, momentum):
    """PyTorch's instance_norm update: each running statistic moves towards the mean over
    the batch of the per-instance mean and unbiased variance."""
    if _recording.recorder is not None:
        from ..jit import CaptureError

        raise CaptureError("instance_norm with running statistics inside a captured "
                           "function: the update happens outside the recorded ops; run it "
                           "without tinygrad_fm.jit")
    axes = tuple(range(2, input.ndim))
    count = math.prod(input.shape[2:])
    x = input.data.astype(np.float64)
    means = x.mean(axis=axes).mean(axis=0)
    variances = x.var(axis=axes, ddof=1 if count > 1 else 0).mean(axis=0)
    for stat, batch in ((running_mean, means), (running_var, variances)):
        if stat is not None:
            array = stat.data if isinstance(stat, Tensor) else stat
            array[...] = (1 - momentum) * array + momentum * batch


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.instance_norm``: each channel of each sample of an (N, C, *) input
    normalised over its positions, then a per-channel scale and shift.
    ``use_input_stats=False`` normalises with the running statistics instead; with
    ``use_input_stats`` they are updated in place when given."""
    op = "instance_norm"
    input = _floating_input(input, op)
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input of shape (N, C, *) with at least one "
                         f"spatial axis, got shape {input.shape}")
    channels = input.shape[1]
    running_mean = _check_stat(running_mean, op, "running_mean", channels)
    running_var = _check_stat(running_var, op, "running_var", channels)
    _check_affine(input, weight, bias, (channels,), op, "one value per channel")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum,
                          eps)
    if math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"{op}: expected more than 1 spatial element when training, got "
                         f"input of shape {input.shape}")
    out = ops.Normalize.apply(input, weight, bias, None, None, tuple(range(2, input.ndim)),
                              (1,), eps)
    if running_mean is not None or running_var is not None:
        _update_instance_running_stats(input, running_mean, running_var, momentum)
    return out


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` for x1 (*, in1), x2 (*, in2), weight (out, in1, in2)."""
    op = "bilinear"
    input1, input2 = _floating_input(input1, op), _floating_input(input2, op)
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"{op}: weight must be a 3-D Tensor (out, in1, in2), got "
                         f"{getattr(weight, 'shape', type(weight).__name__)}")
    out_features, in1, in2 = weight.shape
    if input1.shape[-1:] != (in1,) or input2.shape[-1:] != (in2,) or \
            input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"{op}: inputs of shapes {input1.shape} and {input2.shape} do not fit "
                         f"weight {weight.shape}: they need shapes (*, {in1}) and (*, {in2}) "
                         "with the same leading axes")
    _check_same_dtype(input1, weight, bias, op)
    _check_same_dtype(input2, weight, bias, op)
    batch = input1.shape[:-1]
    left = input1.reshape(-1, in1) @ weight.permute(1, 0, 2).reshape(in1, out_features * in2)
    out = (left.reshape(-1, out_features, in2) * input2.reshape(-1, 1, in2)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(batch + (out_features,))


def _check_factor(factor, name: str, op: str) -> int:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor <= 0:
        raise ValueError(f"{op}: {name} must be a positive integer, got {factor!r}")
    return int(factor)


def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r), PyTorch's element order."""
    op = "pixel_shuffle"
    r = _check_factor(upscale_factor, "upscale_factor", op)
    input = _as_tensor(input, op)
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"{op}: expected an input of shape (*, C * {r * r}, H, W) (channels "
                         f"divisible by upscale_factor squared), got shape {input.shape}")
    *lead, c, h, w = input.shape
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of :func:`pixel_shuffle`."""
    op = "pixel_unshuffle"
    r = _check_factor(downscale_factor, "downscale_factor", op)
    input = _as_tensor(input, op)
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"{op}: expected an input of shape (*, C, H, W) with H and W "
                         f"divisible by downscale_factor={r}, got shape {input.shape}")
    *lead, c, h, w = input.shape
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(lead + (c * r * r, h // r, w // r))


# --------------------------------------------------------------------------- more losses


def _clamp_min_passing_gradient(value: Tensor, minimum: float) -> Tensor:
    """``value`` raised to at least ``minimum`` with the gradient of ``value`` itself:
    PyTorch clamps these in place under ``no_grad`` (gaussian_nll_loss's variance,
    cosine_similarity's norms), so the clamp is invisible to backward."""
    raised = np.maximum(value.data, minimum) - value.data
    return value + raised.astype(value.dtype, copy=False)


def _reduce_loss(losses: Tensor, size_average, reduce, reduction: str, op: str) -> Tensor:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    return _reduce_tensor(losses, reduction)


def _signed_target(target, like: Tensor, op: str) -> Tensor:
    """A target of +1/-1 labels in ``like``'s dtype, broadcastable to its shape."""
    target = _loss_operand(target, like, op, "target")
    return target if isinstance(target, Tensor) else Tensor(target)


def soft_margin_loss(input, target, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` for labels y = +1/-1 (computed as ``-logsigmoid(y x)``)."""
    _check_reduction(_legacy_reduction(size_average, reduce, reduction), "soft_margin_loss")
    input, target = _loss_inputs(input, target, "soft_margin_loss", "none")
    return _reduce_loss(-logsigmoid(input * target), size_average, reduce, reduction,
                        "soft_margin_loss")


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: y = 1 ranks x1 above x2, y = -1 below."""
    op = "margin_ranking_loss"
    input1, input2 = _broadcast_pair(input1, input2, op)
    target = _signed_target(target, input1, op)
    losses = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce_loss(losses, size_average, reduce, reduction, op)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(d(a, p) - d(a, n) + margin, 0)`` with d = :func:`pairwise_distance`;
    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al.)."""
    op = "triplet_margin_loss"
    anchor, positive, negative = (_floating_input(t, op) for t in (anchor, positive,
                                                                   negative))
    if not anchor.ndim == positive.ndim == negative.ndim or anchor.ndim not in (1, 2):
        raise ValueError(f"{op}: anchor, positive and negative must all be 1-D (D) or all "
                         f"2-D (N, D), got shapes {anchor.shape}, {positive.shape}, "
                         f"{negative.shape}")
    positive_distance = pairwise_distance(anchor, positive, p, eps)
    negative_distance = pairwise_distance(anchor, negative, p, eps)
    if swap:
        negative_distance = negative_distance.minimum(pairwise_distance(positive, negative,
                                                                        p, eps))
    losses = (positive_distance - negative_distance + margin).clamp_min(0)
    return _reduce_loss(losses, size_average, reduce, reduction, op)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under Poisson(rate): ``exp(x) - t x`` with
    ``log_input`` (x = log rate), else ``x - t log(x + eps)``; ``full`` adds Stirling's
    ``t log t - t + log(2 pi t) / 2`` where t > 1."""
    op = "poisson_nll_loss"
    _check_reduction(_legacy_reduction(size_average, reduce, reduction), op)
    input, target = _loss_inputs(input, target, op, "none")
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if log_input:
        losses = input.exp() - target * input
    else:
        losses = input - target * (input + eps).log()
    if full:
        above_one = target.data > 1
        safe = target.where(above_one, 1)
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        losses = losses + stirling.where(above_one, 0)
    return _reduce_loss(losses, size_average, reduce, reduction, op)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """``(log(max(var, eps)) + (input - target)^2 / max(var, eps)) / 2`` (+ log(2 pi) / 2
    with ``full``). ``var`` has the input's shape, or lacks its last axis, or has size 1
    there (one variance shared by the features)."""
    op = "gaussian_nll_loss"
    _check_reduction(reduction, op)
    input = _floating_input(input, op)
    target = _loss_operand(target, input, op, "target")
    var = var if isinstance(var, Tensor) else Tensor(np.asarray(var, dtype=input.dtype))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1:] == (1,)):
            raise ValueError(f"{op}: var of shape {var.shape} does not fit input of shape "
                             f"{input.shape}: give the input's shape, the input's shape "
                             "without its last axis, or that with a last axis of size 1")
    if var.dtype != input.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and var ({var.dtype}) must have the same "
                        "dtype, so that nothing is silently promoted")
    if np.any(var.data < 0):
        raise ValueError(f"{op}: var has negative entry/entries; variances must be >= 0")
    var = _clamp_min_passing_gradient(var, eps)
    diff = input - target
    losses = (var.log() + diff * diff / var) * 0.5
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce_tensor(losses, reduction)


COSINE_EMBEDDING_EPSILON = 1e-12  # PyTorch's, added to each squared magnitude


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` for y = 1 and ``max(0, cos(x1, x2) - margin)`` for y = -1,
    the cosine along the last axis of (N, D) or (D,) inputs (target (N,) or 0-d)."""
    op = "cosine_embedding_loss"
    input1, input2 = _floating_input(input1, op), _floating_input(input2, op)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ValueError(f"{op}: input1 and input2 must have the same shape, (N, D) or (D,); "
                         f"got {input1.shape} and {input2.shape}")
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.shape != input1.shape[:-1]:
        raise ValueError(f"{op}: target of shape {labels.shape} does not fit inputs of shape "
                         f"{input1.shape}: it needs shape {input1.shape[:-1]}")
    dot = (input1 * input2).sum(-1)
    magnitude1 = (input1 * input1).sum(-1) + COSINE_EMBEDDING_EPSILON
    magnitude2 = (input2 * input2).sum(-1) + COSINE_EMBEDDING_EPSILON
    cos = dot / (magnitude1 * magnitude2).sqrt()
    losses = (1 - cos).where(labels == 1, 0) + (cos - margin).clamp_min(0).where(labels == -1,
                                                                                   0)
    return _reduce_loss(losses, size_average, reduce, reduction, op)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where y = 1 and ``max(0, margin - x)`` where y = -1 (``x`` is typically a
    distance)."""
    op = "hinge_embedding_loss"
    input = _floating_input(input, op)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.shape != input.shape:
        raise ValueError(f"{op}: target of shape {labels.shape} must have the input's shape "
                         f"{input.shape}")
    losses = (margin - input).clamp_min(0).where(labels != 1, 0) + input.where(labels != -1, 0)
    return _reduce_loss(losses, size_average, reduce, reduction, op)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Per sample, the mean over the C classes of the binary cross-entropy of
    ``sigmoid(x_c)`` against the 0/1 label ``y_c`` (times ``weight_c``); ``input`` and
    ``target`` have shape (N, C) or (C,)."""
    op = "multilabel_soft_margin_loss"
    _check_reduction(_legacy_reduction(size_average, reduce, reduction), op)
    input, target = _loss_inputs(input, target, op, "none")
    if input.ndim == 0:
        raise ValueError(f"{op}: expected an (N, C) or (C,) input, got a 0-d tensor")
    losses = -(logsigmoid(input) * target + logsigmoid(-input) * (1 - target))
    if weight is not None:
        losses = losses * _loss_operand(weight, input, op, "weight")
    per_sample = losses.sum(-1) / input.shape[-1]
    return _reduce_loss(per_sample, size_average, reduce, reduction, op)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C`` per
    sample of an (N, C) or (C,) input with class indices ``target``; p is 1 or 2."""
    op = "multi_margin_loss"
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p!r}")
    input = _floating_input(input, op)
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected an (N, C) or (C,) input, got shape {input.shape}")
    batched = input.ndim == 2
    scores = input if batched else input.reshape(1, -1)
    classes = scores.shape[1]
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype "
                        f"{labels.dtype}")
    labels = labels.reshape(-1)
    if labels.shape != (scores.shape[0],):
        raise ValueError(f"{op}: target of shape {np.shape(target)} does not fit input of "
                         f"shape {input.shape}: one class index per sample")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise IndexError(f"{op}: target holds class indices outside [0, {classes})")
    rows = np.arange(scores.shape[0])
    margins = (scores - scores[rows, labels].reshape(-1, 1) + margin).clamp_min(0)
    if p == 2:
        margins = margins * margins
    if weight is not None:
        margins = margins * _class_weights(weight, input, op)[labels].reshape(-1, 1)
    others = np.ones(scores.shape, dtype=input.dtype)
    others[rows, labels] = 0
    losses = (margins * others).sum(1) / classes
    if not batched:
        losses = losses.reshape(())
    return _reduce_loss(losses, size_average, reduce, reduction, op)
