"""Convolution: conv, its adjoint conv_transpose, the weight gradient, unfold and fold.

Every op works on 4-D arrays (N, C, H, W); 1-D convolutions are 2-D ones with H = 1.
Three bilinear ops close under differentiation, so gradients of any order stay
convolutions::

    Conv(x, w)             dx = ConvTranspose(g, w)    dw = ConvWeightGrad(x, g)
    ConvTranspose(y, w)    dy = Conv(g, w)             dw = ConvWeightGrad(g, y)
    ConvWeightGrad(x, g)   dx = ConvTranspose(g, gw)   dg = Conv(x, gw)

all sharing one :class:`ConvGeometry` (that of the convolution whose adjoint
``ConvTranspose`` is). Unfold and Fold are each other's adjoint in the same way.

Layout: internally the ops work channels-last (N, H, W, C). A convolution is one matrix
product per group over the whole batch: the strided view of the padded input's windows
is copied once into a (rows, KH*KW*C) matrix ("im2col", whose rows are whole channel
runs in this layout) and multiplied by the weight. Outputs are returned as (N, C, H, W)
*views* of channels-last memory: elementwise ops keep that layout, and the next
convolution or pooling reads it without a transposing copy. The unfolded input is built
per chunk of the batch so that it never exceeds ``UNFOLD_CHUNK_ELEMENTS`` elements; when
the whole batch fits in one chunk it is kept for the weight gradient instead of being
rebuilt in backward.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import ArrayFunction, is_grad_enabled
from .compiled import kernels

__all__ = ["ConvGeometry", "Conv", "ConvTranspose", "ConvWeightGrad", "Unfold", "Fold"]

# Elements of unfolded input built at once (64 MB in float32).
UNFOLD_CHUNK_ELEMENTS = 1 << 24


class ConvGeometry(NamedTuple):
    """The shape facts of one 2-D convolution of an (N, C, H, W) input."""

    stride: tuple  # (sh, sw)
    padding: tuple  # ((top, bottom), (left, right)), zeros
    dilation: tuple  # (dh, dw)
    groups: int
    input_size: tuple  # (H, W) before padding
    kernel: tuple  # (KH, KW)

    @property
    def padded_size(self) -> tuple:
        return tuple(n + before + after for n, (before, after)
                     in zip(self.input_size, self.padding))

    @property
    def output_size(self) -> tuple:
        return tuple((p - d * (k - 1) - 1) // s + 1 for p, d, k, s
                     in zip(self.padded_size, self.dilation, self.kernel, self.stride))

    def window_slices(self):
        """For each kernel offset (kh, kw): the slices of the padded (H, W) plane that
        the offset reads, one per output position."""
        (oh, ow), (sh, sw), (dh, dw) = self.output_size, self.stride, self.dilation
        for kh in range(self.kernel[0]):
            for kw in range(self.kernel[1]):
                yield kh, kw, (slice(kh * dh, kh * dh + sh * (oh - 1) + 1, sh),
                               slice(kw * dw, kw * dw + sw * (ow - 1) + 1, sw))


def channels_last(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> a (N, H, W, C) view."""
    return x.transpose(0, 2, 3, 1)


def channels_first(x: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> a (N, C, H, W) view."""
    return x.transpose(0, 3, 1, 2)


def _reframe(x: np.ndarray, size: tuple, offset: tuple, value=0) -> np.ndarray:
    """(N, H, W, C) -> (N, *size, C) whose position (i, j) holds x[i + oi, j + oj], or
    ``value`` where that lies outside ``x`` (a view when nothing lies outside)."""
    h, w = x.shape[1:3]
    (oi, oj), (sh, sw) = offset, size
    if 0 <= oi and oi + sh <= h and 0 <= oj and oj + sw <= w:
        return x[:, oi:oi + sh, oj:oj + sw]
    out = np.full((x.shape[0], sh, sw, x.shape[3]), value, dtype=x.dtype)
    i0, j0 = max(0, -oi), max(0, -oj)
    i1, j1 = min(sh, h - oi), min(sw, w - oj)
    if i1 > i0 and j1 > j0:
        out[:, i0:i1, j0:j1] = x[:, i0 + oi:i1 + oi, j0 + oj:j1 + oj]
    return out


def pad_channels_last(xh: np.ndarray, padding, value=0) -> np.ndarray:
    """``xh`` (N, H, W, C) with ``padding`` ((top, bottom), (left, right)) of ``value``;
    negative widths crop."""
    (top, bottom), (left, right) = padding
    h, w = xh.shape[1:3]
    return _reframe(xh, (h + top + bottom, w + left + right), (-top, -left), value)


def _batch_chunks(batch: int, per_sample: int):
    step = max(1, UNFOLD_CHUNK_ELEMENTS // max(per_sample, 1))
    return [(start, min(start + step, batch)) for start in range(0, batch, step)]


def _group_weight(weight: np.ndarray, groups: int) -> np.ndarray:
    """(O, Cg, KH, KW) -> (G, O/G, KH*KW*Cg): rows ordered like the unfolded windows."""
    out_channels, cg, kh, kw = weight.shape
    grouped = weight.reshape(groups, out_channels // groups, cg, kh, kw)
    return grouped.transpose(0, 1, 3, 4, 2).reshape(groups, out_channels // groups,
                                                    kh * kw * cg)


def _unfold_channels_last(xp: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """The windows of padded ``xp`` (n, Hp, Wp, C) as a (G, n*OH*OW, KH*KW*Cg) matrix."""
    n, _, _, c = xp.shape
    (oh, ow), (kh, kw), g = geometry.output_size, geometry.kernel, geometry.groups
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    s_n, s_h, s_w, s_c = xp.strides
    cg = c // g
    if g == 1 and cg < 4:
        # Few channels: NumPy copies the windows' runs of cg values slowly; one strided
        # copy per kernel offset is 3x faster.
        out = np.empty((n, oh, ow, kh, kw, cg), dtype=xp.dtype)
        for i, j, (rows, cols) in geometry.window_slices():
            out[:, :, :, i, j] = xp[:, rows, cols]
        return out.reshape(1, n * oh * ow, kh * kw * cg)
    windows = as_strided(xp, (n, oh, ow, kh, kw, g, cg),
                         (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c * cg, s_c),
                         writeable=False)
    if g == 1:
        return windows.reshape(1, n * oh * ow, kh * kw * cg)
    return windows.transpose(5, 0, 1, 2, 3, 4, 6).reshape(g, n * oh * ow, kh * kw * cg)


def conv_forward(xp: np.ndarray, weight: np.ndarray, geometry: ConvGeometry,
                 keep_unfolded: bool = False):
    """Convolve padded channels-last ``xp`` with ``weight`` (O, Cg, KH, KW).

    Returns the channels-last output (N, OH, OW, O) and the unfolded input when
    ``keep_unfolded`` and it was built in one piece (else None).
    """
    n = xp.shape[0]
    out_channels, cg, kh, kw = weight.shape
    g = geometry.groups
    oh, ow = geometry.output_size
    kernel_t = _group_weight(weight, g).transpose(0, 2, 1)  # (G, K, Og)
    out = np.empty((n, oh, ow, out_channels), dtype=np.result_type(xp, weight))
    chunks = _batch_chunks(n, oh * ow * kh * kw * cg * g)
    unfolded = None
    for start, stop in chunks:
        unfolded = _unfold_channels_last(xp[start:stop], geometry)
        rows = unfolded.shape[1]
        if g == 1:
            np.matmul(unfolded[0], kernel_t[0], out=out[start:stop].reshape(rows,
                                                                           out_channels))
        else:
            product = np.matmul(unfolded, kernel_t)  # (G, rows, Og)
            out[start:stop] = product.transpose(1, 0, 2).reshape(stop - start, oh, ow,
                                                                 out_channels)
    return out, (unfolded if keep_unfolded and len(chunks) == 1 else None)


def _input_windows(geometry: ConvGeometry):
    """For each kernel offset (i, j) that reaches the unpadded input: the slices of the
    input it writes and of the output positions that write them (padding skipped)."""
    per_axis = []
    for o, s, d, (before, _), n, k in zip(geometry.output_size, geometry.stride,
                                           geometry.dilation, geometry.padding,
                                           geometry.input_size, geometry.kernel):
        axis = []
        for offset in range(k):
            shift = offset * d - before  # input position of output 0
            first = max(0, -(-(-shift) // s))  # the first output landing at >= 0
            last = min(o - 1, (n - 1 - shift) // s)
            axis.append(None if last < first else (
                slice(first * s + shift, last * s + shift + 1, s), slice(first, last + 1)))
        per_axis.append(axis)
    for i, rows in enumerate(per_axis[0]):
        for j, cols in enumerate(per_axis[1]):
            if rows is not None and cols is not None:
                yield i, j, rows, cols


def conv_input_grad(gh: np.ndarray, weight: np.ndarray, geometry: ConvGeometry):
    """The adjoint of :func:`conv_forward` in its input: output gradient ``gh``
    (N, OH, OW, O) -> gradient of the unpadded input (N, H, W, C) ("col2im").

    One matrix product gives every window's columns; each input position then sums the
    entries of the windows that read it, kernel offsets in (i, j) descending order --
    the order in which the compiled kernel, reading the columns once in memory order,
    meets them, so that both give the same numbers."""
    n, oh, ow, out_channels = gh.shape
    _, cg, kh, kw = weight.shape
    g = geometry.groups
    og = out_channels // g
    kernel = _group_weight(weight, g)  # (G, Og, K)
    h, w = geometry.input_size
    dtype = np.result_type(gh, weight)
    compiled = kernels(dtype) if g == 1 else None
    gx = np.zeros((n, h, w, g, cg), dtype=dtype)
    for start, stop in _batch_chunks(n, oh * ow * kh * kw * cg * g):
        rows = (stop - start) * oh * ow
        if g == 1:  # plain 2-D product and 6-D views: numpy iterates them fastest
            columns = np.matmul(gh[start:stop].reshape(rows, og), kernel[0]).reshape(
                stop - start, oh, ow, kh, kw, cg)
            target = gx[start:stop, :, :, 0]
            if compiled:
                (top, _), (left, _) = geometry.padding
                compiled.col2im(columns, *geometry.stride, *geometry.dilation, top, left,
                                target)
                continue
            pick = lambda i, j, src_rows, src_cols: columns[:, src_rows, src_cols, i, j]
        else:
            gm = gh[start:stop].reshape(rows, g, og).transpose(1, 0, 2)  # (G, rows, Og)
            columns = np.matmul(gm, kernel).reshape(g, stop - start, oh, ow, kh, kw, cg)
            columns = columns.transpose(1, 2, 3, 0, 4, 5, 6)  # (n, OH, OW, G, KH, KW, Cg)
            target = gx[start:stop]
            pick = lambda i, j, src_rows, src_cols: columns[:, src_rows, src_cols, :, i, j]
        for i, j, (dst_rows, src_rows), (dst_cols, src_cols) in \
                reversed(list(_input_windows(geometry))):
            target[:, dst_rows, dst_cols] += pick(i, j, src_rows, src_cols)
    return gx.reshape(n, h, w, g * cg)


def conv_weight_grad(xp: np.ndarray, gh: np.ndarray, geometry: ConvGeometry,
                     weight_shape: tuple, unfolded=None) -> np.ndarray:
    """The gradient of the weight (O, Cg, KH, KW) from padded input ``xp`` and output
    gradient ``gh`` (N, OH, OW, O), both channels-last."""
    out_channels, cg, kh, kw = weight_shape
    g = geometry.groups
    og = out_channels // g
    n, oh, ow, _ = gh.shape
    total = None
    chunks = [(0, n)] if unfolded is not None else _batch_chunks(n, oh * ow * kh * kw * cg * g)
    for start, stop in chunks:
        columns = unfolded if unfolded is not None else \
            _unfold_channels_last(xp[start:stop], geometry)
        rows = (stop - start) * oh * ow
        gm_t = gh[start:stop].reshape(rows, g, og).transpose(1, 2, 0)  # (G, Og, rows)
        part = np.matmul(gm_t, columns)  # (G, Og, K)
        total = part if total is None else total + part
    grad = total.reshape(g, og, kh, kw, cg).transpose(0, 1, 4, 2, 3)
    return np.ascontiguousarray(grad.reshape(out_channels, cg, kh, kw))


def _bias_grad(grad: np.ndarray) -> np.ndarray:
    """The sum over (N, H, W) of each channel. NumPy adds a channels-last (rows, C) array
    one row at a time, slow when C is small; up to 1024 rows' worth of values are added
    side by side first (a row of f*C), then the f partial sums."""
    gh = channels_last(grad)
    if not gh.flags.c_contiguous or gh.size == 0:
        return np.add.reduce(gh, axis=(0, 1, 2))
    channels = gh.shape[3]
    side = math.gcd(gh.size // channels, max(1, 1024 // channels))
    wide = gh.reshape(-1, side * channels).sum(axis=0)
    return wide.reshape(side, channels).sum(axis=0)


def _add_bias_channels_last(out: np.ndarray, bias) -> None:
    if bias is not None:
        out += bias


def _tensor_bias_grad(grad):
    return grad.sum(axis=(0, 2, 3))


class Conv(ArrayFunction):
    """``y = conv(x, weight) + bias`` (cross-correlation, as PyTorch) with zero padding
    from ``geometry``; x (N, C, H, W), weight (O, C/groups, KH, KW), bias (O,) or None."""

    @staticmethod
    def forward(ctx, x, weight, bias, geometry):
        xp = pad_channels_last(channels_last(x), geometry.padding)
        need_weight = ctx.needs_input_grad[1] and is_grad_enabled()
        out, unfolded = conv_forward(xp, weight, geometry, keep_unfolded=need_weight)
        _add_bias_channels_last(out, bias)
        ctx.geometry = geometry
        ctx.unfolded = unfolded
        keep_input = need_weight and unfolded is None
        ctx.save_for_backward(xp if keep_input else None, weight)
        return channels_first(out)

    @staticmethod
    def backward(ctx, grad):
        xp, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geometry = ctx.geometry
        gh = channels_last(grad)
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = channels_first(conv_input_grad(gh, weight, geometry))
        if need_w:
            grad_w = conv_weight_grad(xp, gh, geometry, weight.shape, ctx.unfolded)
        if need_b:
            grad_b = _bias_grad(grad)
        return grad_x, grad_w, grad_b, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, weight, _bias, geometry = inputs
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        return (ConvTranspose.apply(grad, weight, None, geometry) if need_x else None,
                ConvWeightGrad.apply(x, grad, geometry) if need_w else None,
                _tensor_bias_grad(grad) if need_b else None, None)


class ConvTranspose(ArrayFunction):
    """The adjoint of :class:`Conv` in its input, plus a bias: y (N, O, OH, OW) ->
    (N, C, H, W), with ``geometry`` that of the convolution (H, W its input size) and
    weight (O, C/groups, KH, KW) -- PyTorch's ``conv_transpose2d`` weight layout
    (in_channels, out_channels/groups, KH, KW) read from the transposed side."""

    @staticmethod
    def forward(ctx, y, weight, bias, geometry):
        ctx.geometry = geometry
        ctx.save_for_backward(y if ctx.needs_input_grad[1] else None, weight)
        out = conv_input_grad(channels_last(y), weight, geometry)
        if bias is not None:
            out = out + bias
        return channels_first(out)

    @staticmethod
    def backward(ctx, grad):
        y, weight = ctx.saved_tensors
        need_y, need_w, need_b = ctx.needs_input_grad[:3]
        geometry = ctx.geometry
        gp = pad_channels_last(channels_last(grad), geometry.padding)
        grad_y = grad_w = grad_b = None
        unfolded = None
        if need_y:
            out, unfolded = conv_forward(gp, weight, geometry, keep_unfolded=need_w)
            grad_y = channels_first(out)
        if need_w:
            grad_w = conv_weight_grad(gp, channels_last(y), geometry, weight.shape, unfolded)
        if need_b:
            grad_b = _bias_grad(grad)
        return grad_y, grad_w, grad_b, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        y, weight, _bias, geometry = inputs
        need_y, need_w, need_b = ctx.needs_input_grad[:3]
        return (Conv.apply(grad, weight, None, geometry) if need_y else None,
                ConvWeightGrad.apply(grad, y, geometry) if need_w else None,
                _tensor_bias_grad(grad) if need_b else None, None)


class ConvWeightGrad(ArrayFunction):
    """The weight gradient of :class:`Conv` as an op of its own (bilinear in the input
    ``x`` and the output gradient ``g``), so that it can be differentiated again."""

    @staticmethod
    def forward(ctx, x, g, geometry):
        ctx.geometry = geometry
        ctx.save_for_backward(x, g)
        (kh, kw), groups = geometry.kernel, geometry.groups
        shape = (g.shape[1], x.shape[1] // groups, kh, kw)
        xp = pad_channels_last(channels_last(x), geometry.padding)
        return conv_weight_grad(xp, channels_last(g), geometry, shape)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        geometry = ctx.geometry
        grad_x = grad_g = None
        if need_x:
            grad_x = channels_first(conv_input_grad(channels_last(g), grad, geometry))
        if need_g:
            xp = pad_channels_last(channels_last(x), geometry.padding)
            grad_g = channels_first(conv_forward(xp, grad, geometry)[0])
        return grad_x, grad_g, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, g, geometry = inputs
        need_x, need_g = ctx.needs_input_grad[:2]
        return (ConvTranspose.apply(g, grad, None, geometry) if need_x else None,
                Conv.apply(x, grad, None, geometry) if need_g else None, None)


# --------------------------------------------------------------------------- unfold / fold


def _unfold(x: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """(N, C, H, W) -> (N, C*KH*KW, OH*OW), channel-major as ``torch.nn.functional.unfold``."""
    n, c = x.shape[:2]
    xp = pad_channels_last(channels_last(x), geometry.padding)
    (oh, ow), (kh, kw) = geometry.output_size, geometry.kernel
    (sh, sw), (dh, dw) = geometry.stride, geometry.dilation
    s_n, s_h, s_w, s_c = xp.strides
    windows = as_strided(xp, (n, c, kh, kw, oh, ow),
                         (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False)
    return windows.reshape(n, c * kh * kw, oh * ow)


def _fold(columns: np.ndarray, geometry: ConvGeometry) -> np.ndarray:
    """The adjoint of :func:`_unfold`: sum each column back into its window."""
    n = columns.shape[0]
    (oh, ow), (kh, kw) = geometry.output_size, geometry.kernel
    c = columns.shape[1] // (kh * kw)
    hp, wp = geometry.padded_size
    blocks = columns.reshape(n, c, kh, kw, oh, ow)
    out = np.zeros((n, c, hp, wp), dtype=columns.dtype)
    for i, j, (rows_slice, cols_slice) in geometry.window_slices():
        out[:, :, rows_slice, cols_slice] += blocks[:, :, i, j]
    (top, _), (left, _) = geometry.padding
    h, w = geometry.input_size
    return out[:, :, top:top + h, left:left + w]


class Unfold(ArrayFunction):
    """Sliding blocks of (N, C, H, W) as columns (N, C*KH*KW, L) ("im2col")."""

    @staticmethod
    def forward(ctx, x, geometry):
        ctx.geometry = geometry
        return _unfold(x, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _fold(grad, ctx.geometry), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return Fold.apply(grad, inputs[1]), None


class Fold(ArrayFunction):
    """Columns (N, C*KH*KW, L) summed back into an (N, C, H, W) image ("col2im")."""

    @staticmethod
    def forward(ctx, columns, geometry):
        ctx.geometry = geometry
        return _fold(columns, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _unfold(grad, ctx.geometry), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return Unfold.apply(grad, inputs[1]), None
