"""Pooling: max (with indices), average, and adaptive max; forward beside backward.

Every op works on 4-D arrays (N, C, H, W); 1-D pools are 2-D ones with H = 1. Like the
convolutions, they work channels-last and return (N, C, OH, OW) views of channels-last
memory. Windows are never copied out: the pools loop over the KH*KW kernel offsets and
read, for each, one strided slice holding that offset of every window, so each pass is
a vectorised operation over the whole output.

Max pooling keeps, per output, which kernel offset won (the first maximum, as PyTorch);
backward routes the gradient there. Its gradient of gradients is again a scatter, built
from Tensor ops (``scatter_add``) on the flat indices PyTorch's ``return_indices`` gives.
Average pooling's backward is a transposed depthwise convolution with a ones kernel,
which is how its differentiable backward is written.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autograd import ArrayFunction
from .compiled import kernels
from .conv import ConvGeometry, ConvTranspose, channels_first, channels_last

__all__ = ["PoolGeometry", "MaxPool", "AvgPool", "AdaptiveMaxPool", "adaptive_bins",
           "pooled_size", "avg_pool_divisor", "max_pool_indices"]


class PoolGeometry(NamedTuple):
    kernel: tuple  # (KH, KW)
    stride: tuple
    padding: tuple  # (ph, pw), on both sides
    dilation: tuple
    input_size: tuple  # (H, W)
    output_size: tuple  # (OH, OW), ceil_mode already applied

    @property
    def extra(self) -> tuple:
        """Positions past the padded input that ceil_mode's last window reaches."""
        return tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
                     for o, s, d, k, n, p in zip(self.output_size, self.stride, self.dilation,
                                                 self.kernel, self.input_size, self.padding))

    @property
    def conv_padding(self) -> tuple:
        return tuple((p, p + e) for p, e in zip(self.padding, self.extra))

    def as_conv(self, channels: int) -> ConvGeometry:
        """The depthwise convolution that sums each window."""
        return ConvGeometry(self.stride, self.conv_padding, self.dilation, channels,
                            self.input_size, self.kernel)


def pooled_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                ceil_mode: bool) -> int:
    """PyTorch's pooling output length: with ceil_mode the last window may hang over
    the end, but must start inside the input or the left padding."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _padded(xh: np.ndarray, geometry: PoolGeometry, value) -> np.ndarray:
    (ph, pw), (eh, ew) = geometry.padding, geometry.extra
    if not (ph or pw or eh or ew):
        return xh
    n, h, w, c = xh.shape
    out = np.full((n, h + 2 * ph + eh, w + 2 * pw + ew, c), value, dtype=xh.dtype)
    out[:, ph:ph + h, pw:pw + w] = xh
    return out


def _crop(gp: np.ndarray, geometry: PoolGeometry) -> np.ndarray:
    (ph, pw), (h, w) = geometry.padding, geometry.input_size
    return gp if gp.shape[1:3] == (h, w) else gp[:, ph:ph + h, pw:pw + w]


def _windows(geometry: PoolGeometry):
    return geometry.as_conv(1).window_slices()


def _non_overlapping(geometry: PoolGeometry) -> bool:
    return all(s >= d * (k - 1) + 1 for s, d, k in
               zip(geometry.stride, geometry.dilation, geometry.kernel))


def _scatter_tensor(grad, flat_indices: np.ndarray, input_shape: tuple):
    """Tensor ops: ``grad`` (N, C, OH, OW) added at flat (h*W + w) positions of an
    (N, C, H, W) zero tensor -- the differentiable form of the max pools' backward."""
    from ..tensor import Tensor

    n, c = input_shape[:2]
    zeros = Tensor.zeros(n, c, input_shape[2] * input_shape[3], dtype=grad.dtype)
    return zeros.scatter_add(2, flat_indices.reshape(n, c, -1),
                             grad.reshape(n, c, -1)).reshape(*input_shape)


class MaxPool(ArrayFunction):
    """Max over windows; ``found``, when a list, receives PyTorch's indices.

    PyTorch's scan picks each window's first maximum (NaN wins; a window of -inf points
    at its first position inside the input) and backward routes the gradient there.
    The compiled kernel (:mod:`.compiled`) runs that scan in one pass and keeps the
    winning offsets. Without it, the maximum is a chain of ``np.maximum`` over the kernel
    offsets and backward finds the first offset equal to it -- the same choice whenever
    every maximum is finite, without an index array kept from forward; ``return_indices``
    or a non-finite maximum runs the scan in NumPy instead.
    """

    @staticmethod
    def forward(ctx, x, geometry, found=None):
        xp = _padded(channels_last(x), geometry, -np.inf)
        ctx.geometry, ctx.input_shape, ctx.which = geometry, x.shape, None
        compiled = kernels(x.dtype)
        if compiled is not None:
            out, ctx.which = _compiled_scan(compiled, xp, geometry, x)
        else:
            candidates = [xp[:, rows, cols] for _, _, (rows, cols) in _windows(geometry)]
            out = np.array(candidates[0], order="C") if len(candidates) == 1 else \
                np.maximum(candidates[0], candidates[1])
            for candidate in candidates[2:]:
                np.maximum(out, candidate, out=out)
            if found is not None or (out.dtype.kind == "f" and not np.isfinite(out).all()):
                out, ctx.which = _scan_max(candidates, geometry, x)
        if found is not None:
            found.append(max_pool_indices(ctx.which, geometry))
        ctx.save_for_backward(*((xp, out) if ctx.which is None else (None, None)))
        return channels_first(out)

    @staticmethod
    def backward(ctx, grad):
        geometry = ctx.geometry
        xp, out = ctx.saved_tensors
        gh = channels_last(grad)
        n, _, _, c = gh.shape
        (ph, pw), (eh, ew), (h, w) = geometry.padding, geometry.extra, geometry.input_size
        assign = _non_overlapping(geometry)
        # Windows that tile the input exactly write every position: no zeroing needed.
        tiled = assign and geometry.kernel == geometry.stride and not (ph or pw) and all(
            o * s == size for o, s, size in zip(geometry.output_size, geometry.stride,
                                                geometry.input_size))
        gp = (np.empty if tiled else np.zeros)((n, h + 2 * ph + eh, w + 2 * pw + ew, c),
                                               dtype=grad.dtype)
        compiled = kernels(grad.dtype)
        if compiled is not None and ctx.which is not None:
            compiled.max_pool_route(np.ascontiguousarray(gh), ctx.which, *geometry.kernel,
                                    *geometry.stride, *geometry.dilation, assign, gp)
            return channels_first(_crop(gp, geometry)), None, None
        windows = list(_windows(geometry))
        taken = None
        for k, (_, _, (rows, cols)) in enumerate(windows):
            if ctx.which is not None:
                hit = ctx.which == k
            else:
                hit = xp[:, rows, cols] == out
                if taken is None:
                    taken = hit
                else:
                    np.greater(hit, taken, out=hit)  # equal here and not at an earlier offset
                    if k < len(windows) - 1:
                        taken |= hit
            if assign:
                np.multiply(gh, hit, out=gp[:, rows, cols])
            else:
                gp[:, rows, cols] += gh * hit
        return channels_first(_crop(gp, geometry)), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        which = ctx.which
        if which is None:
            xp, out = ctx.saved_tensors
            which = np.zeros(out.shape, np.int32)
            for k in reversed(range(np.prod(ctx.geometry.kernel))):
                rows, cols = list(_windows(ctx.geometry))[k][2]
                which[xp[:, rows, cols] == out] = k  # the earliest offset is written last
        return _scatter_tensor(grad, max_pool_indices(which, ctx.geometry),
                               ctx.input_shape), None, None


def _scan_max(candidates: list, geometry: PoolGeometry, x: np.ndarray):
    """PyTorch's scan: (maxima, kernel offset of each), channels-last."""
    index_type = np.uint8 if len(candidates) < 256 else np.int32
    n, c = x.shape[:2]
    if any(geometry.padding):
        # Start from -inf at the window's first position inside the input, so that a
        # window of -inf (or of padding only) points into the input.
        out = np.full((n,) + geometry.output_size + (c,), -np.inf, dtype=x.dtype)
        which = np.empty(out.shape, index_type)
        which[...] = _first_inside(geometry).astype(index_type)[:, :, None]
        first = 0
    else:
        out = np.array(candidates[0], order="C")
        which = np.zeros(out.shape, index_type)
        first = 1
    for k in range(first, len(candidates)):
        candidate = candidates[k]
        better = candidate > out
        better |= candidate != candidate  # NaN wins, as in PyTorch
        np.copyto(out, candidate, where=better)
        np.copyto(which, k, where=better)
    return out, which


def _compiled_scan(compiled, xp: np.ndarray, geometry: PoolGeometry, x: np.ndarray):
    """:func:`_scan_max` in one compiled pass over ``xp``."""
    n, c = x.shape[:2]
    index_type = np.uint8 if np.prod(geometry.kernel) < 256 else np.int32
    out = np.empty((n,) + geometry.output_size + (c,), dtype=x.dtype)
    which = np.empty(out.shape, index_type)
    first = _first_inside(geometry).astype(index_type)
    compiled.max_pool_scan(np.ascontiguousarray(xp), *geometry.kernel, *geometry.stride,
                           *geometry.dilation, first, out, which)
    return out, which


def _first_inside(geometry: PoolGeometry) -> np.ndarray:
    """(OH, OW): per output, the kernel offset of its window's first position that is not
    left or top padding."""
    firsts = []
    for o, s, d, p in zip(geometry.output_size, geometry.stride, geometry.dilation,
                          geometry.padding):
        before = p - np.arange(o) * s  # padding positions ahead of the window's start
        firsts.append(np.maximum(0, -(-before // d)))
    return firsts[0][:, None] * geometry.kernel[1] + firsts[1][None, :]


def max_pool_indices(which: np.ndarray, geometry: PoolGeometry) -> np.ndarray:
    """PyTorch's ``return_indices``: for each output, the flat position h*W + w of its
    maximum in the (unpadded) input plane, as an (N, C, OH, OW) int64 array."""
    kw_count = geometry.kernel[1]
    (sh, sw), (dh, dw), (ph, pw) = geometry.stride, geometry.dilation, geometry.padding
    oh, ow = geometry.output_size
    kh, kw = np.divmod(channels_first(which).astype(np.int64), kw_count)
    rows = np.arange(oh).reshape(oh, 1) * sh - ph + kh * dh
    cols = np.arange(ow) * sw - pw + kw * dw
    return rows * geometry.input_size[1] + cols


class AvgPool(ArrayFunction):
    """Window sums divided by ``divisor`` (an (OH, OW) array or a number)."""

    @staticmethod
    def forward(ctx, x, geometry, divisor):
        xp = _padded(channels_last(x), geometry, 0)
        total = None
        for _, _, (rows, cols) in _windows(geometry):
            window = xp[:, rows, cols]
            total = np.array(window, order="C") if total is None else \
                np.add(total, window, out=total)
        ctx.geometry = geometry
        ctx.divisor = _divisor_channels_last(divisor, total.dtype)
        total /= ctx.divisor
        return channels_first(total)

    @staticmethod
    def backward(ctx, grad):
        geometry = ctx.geometry
        share = channels_last(grad) / ctx.divisor
        n, _, _, c = share.shape
        (ph, pw), (eh, ew), (h, w) = geometry.padding, geometry.extra, geometry.input_size
        gp = np.zeros((n, h + 2 * ph + eh, w + 2 * pw + ew, c), dtype=share.dtype)
        for _, _, (rows, cols) in _windows(geometry):
            gp[:, rows, cols] += share
        return channels_first(_crop(gp, geometry)), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from ..tensor import Tensor

        channels = grad.shape[1]
        divisor = ctx.divisor[:, :, 0] if np.ndim(ctx.divisor) else ctx.divisor  # (OH, OW)
        ones = Tensor(np.ones((channels, 1) + ctx.geometry.kernel, dtype=grad.dtype))
        return ConvTranspose.apply(grad / Tensor(np.asarray(divisor, grad.dtype)), ones, None,
                                   ctx.geometry.as_conv(channels)), None, None


def _divisor_channels_last(divisor, dtype):
    if np.ndim(divisor) == 0:
        return dtype.type(divisor)
    return np.asarray(divisor, dtype=dtype)[:, :, None]  # (OH, OW, 1)


def avg_pool_divisor(geometry: PoolGeometry, count_include_pad: bool) -> np.ndarray:
    """PyTorch's per-output divisor: the window's extent clipped to the padded input
    (count_include_pad) or to the input itself."""
    counts = []
    for o, s, k, n, p in zip(geometry.output_size, geometry.stride, geometry.kernel,
                             geometry.input_size, geometry.padding):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return np.outer(counts[0], counts[1])


def adaptive_bins(size: int, out: int):
    """PyTorch's adaptive pooling bins: [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


class AdaptiveMaxPool(ArrayFunction):
    """Max over PyTorch's adaptive bins. Bins may differ in length by one and overlap;
    each is read as ``max_len`` index offsets, repeating its last position."""

    @staticmethod
    def forward(ctx, x, output_size, found=None):
        n, c, h, w = x.shape
        (rows_start, rows_end), (cols_start, cols_end) = (
            adaptive_bins(h, output_size[0]), adaptive_bins(w, output_size[1]))
        out = best = None
        for a in range(int((rows_end - rows_start).max())):
            rows = np.minimum(rows_start + a, rows_end - 1)
            for b in range(int((cols_end - cols_start).max())):
                cols = np.minimum(cols_start + b, cols_end - 1)
                candidate = x[:, :, rows[:, None], cols[None, :]]
                flat = rows[:, None] * w + cols[None, :]
                if out is None:
                    out, best = candidate, np.broadcast_to(flat, candidate.shape).copy()
                    continue
                better = candidate > out
                np.copyto(out, candidate, where=better)
                np.copyto(best, np.broadcast_to(flat, best.shape), where=better)
        ctx.indices = best
        ctx.input_shape = x.shape
        if found is not None:
            found.append(best)
        return out

    @staticmethod
    def backward(ctx, grad):
        return scatter_flat(grad, ctx.indices, ctx.input_shape), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return _scatter_tensor(grad, ctx.indices, ctx.input_shape), None, None


def scatter_flat(grad: np.ndarray, indices: np.ndarray, input_shape: tuple) -> np.ndarray:
    """Add ``grad`` (N, C, OH, OW) at flat plane positions ``indices`` of an
    (N, C, H, W) array of zeros (positions may repeat)."""
    n, c, h, w = input_shape
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
    summed = np.bincount((planes + indices).ravel(), weights=grad.ravel(),
                         minlength=n * c * h * w)
    return summed.astype(grad.dtype, copy=False).reshape(input_shape)
