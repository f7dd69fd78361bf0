"""The numba kernels behind :mod:`tinygrad_fm.ops.compiled` (imported only with numba).

Each kernel does, per element and in the same order, the float operations of the NumPy
code it replaces (no fastmath: no reassociation, no fused multiply-add), so results are
the same numbers (but for the exponentials and logarithms of the cross-entropy, see
:mod:`.compiled`); what it saves is the passes over memory, the temporaries and the
calls. Arrays of the pools and convolutions are channels-last (N, H, W, C); the
innermost loop runs over channels, contiguous in memory, and vectorizes. ``cache=True`` keeps the
compiled code on disk, so only the first process compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def max_pool_scan(xp, kh, kw, sh, sw, dh, dw, first, out, which):
    """PyTorch's max-pool scan over channels-last ``xp`` (padded with -inf): ``out`` gets
    each window's maximum and ``which`` the kernel offset i*KW + j of its first maximum;
    NaN wins. Each window starts from -inf at offset ``first[oh, ow]`` (its first
    position inside the input: 0 without padding, which is the same as starting from
    the window's first value)."""
    if kh == 2 and kw == 2:
        _max_pool_scan_2x2(xp, sh, sw, dh, dw, first, out, which)
        return
    channels = out.shape[3]
    best = np.empty(channels, out.dtype)
    arg = np.empty(channels, which.dtype)
    for n in range(out.shape[0]):
        for oh in range(out.shape[1]):
            for ow in range(out.shape[2]):
                best[:] = -np.inf
                arg[:] = first[oh, ow]
                for k in range(kh * kw):
                    src = xp[n, oh * sh + (k // kw) * dh, ow * sw + (k % kw) * dw]
                    for c in range(channels):  # selects, not branches: it vectorizes
                        value = src[c]
                        better = (value > best[c]) | (value != value)
                        best[c] = value if better else best[c]
                        arg[c] = k if better else arg[c]
                out[n, oh, ow] = best
                which[n, oh, ow] = arg


@njit(cache=True, error_model="numpy")
def _max_pool_scan_2x2(xp, sh, sw, dh, dw, first, out, which):
    """:func:`max_pool_scan` for 2x2 windows, the four offsets unrolled (5x faster)."""
    channels = out.shape[3]
    for n in range(out.shape[0]):
        for oh in range(out.shape[1]):
            top, bottom = xp[n, oh * sh], xp[n, oh * sh + dh]
            for ow in range(out.shape[2]):
                a, b = top[ow * sw], top[ow * sw + dw]
                c_, d = bottom[ow * sw], bottom[ow * sw + dw]
                maxima, args = out[n, oh, ow], which[n, oh, ow]
                start = first[oh, ow]
                for c in range(channels):
                    best, arg = -np.inf, start
                    value = a[c]
                    if value > best or value != value:
                        best, arg = value, 0
                    value = b[c]
                    if value > best or value != value:
                        best, arg = value, 1
                    value = c_[c]
                    if value > best or value != value:
                        best, arg = value, 2
                    value = d[c]
                    if value > best or value != value:
                        best, arg = value, 3
                    maxima[c], args[c] = best, arg


@njit(cache=True, error_model="numpy")
def max_pool_route(grad, which, kh, kw, sh, sw, dh, dw, assign, gp):
    """Route each output's gradient to its window's winning offset in ``gp`` (padded,
    channels-last). Where windows do not overlap (``assign``) each window writes its
    positions, the gradient at the winner and 0 elsewhere (``gp`` need not be zeroed
    where the windows tile it). Else ``gp`` is zeroed and the gradients are added offset
    by offset, the order of the NumPy backward."""
    n_count, oh_count, ow_count, channels = grad.shape
    if assign:
        for n in range(n_count):
            for oh in range(oh_count):
                for ow in range(ow_count):
                    source, winners = grad[n, oh, ow], which[n, oh, ow]
                    for k in range(kh * kw):
                        target = gp[n, oh * sh + (k // kw) * dh, ow * sw + (k % kw) * dw]
                        for c in range(channels):
                            target[c] = source[c] if winners[c] == k else 0.0
        return
    for n in range(n_count):
        for k in range(kh * kw):
            i, j = k // kw, k % kw
            for oh in range(oh_count):
                row = oh * sh + i * dh
                for ow in range(ow_count):
                    source, winners = grad[n, oh, ow], which[n, oh, ow]
                    target = gp[n, row, ow * sw + j * dw]
                    for c in range(channels):
                        if winners[c] == k:
                            target[c] += source[c]


@njit(cache=True, error_model="numpy")
def col2im(columns, sh, sw, dh, dw, top, left, gx):
    """Sum the columns (n, OH, OW, KH, KW, C) of a convolution's input gradient into the
    zeroed ``gx`` (n, H, W, C), reading the columns once in memory order: each input
    position takes its windows' entries in the order (i, j) descending, as the NumPy
    loop in ``conv_input_grad`` adds them."""
    n_count, h_count, w_count, channels = gx.shape
    _, oh_count, ow_count, kh, kw, _ = columns.shape
    for n in range(n_count):
        for oh in range(oh_count):
            for ow in range(ow_count):
                for i in range(kh):
                    h = oh * sh - top + i * dh
                    if h < 0 or h >= h_count:
                        continue
                    for j in range(kw):
                        w = ow * sw - left + j * dw
                        if w < 0 or w >= w_count:
                            continue
                        target, source = gx[n, h, w], columns[n, oh, ow, i, j]
                        for c in range(channels):
                            target[c] += source[c]


@njit(cache=True, error_model="numpy")
def cross_entropy_rows(logits, target, ignore_index, log_probs, losses):
    """Per row of (N, C) ``logits``: ``log_probs`` gets the row's log-softmax (the row
    minus its maximum, minus the log of the sum of the exponentials; NaN wins the
    maximum) and ``losses`` minus its entry at the row's class index ``target[n]``, or 0
    where ``target[n] == ignore_index``. Returns how many rows were ignored, or -(n + 1)
    for the first row n whose index is out of range (and not ignored). The exponentials
    and the logarithm are libm's (numba's), not NumPy's own vectorized ones, so they may
    differ from the NumPy path in the last bit."""
    ignored = 0
    classes = logits.shape[1]
    for n in range(logits.shape[0]):
        picked = target[n]
        if picked == ignore_index:
            ignored += 1
        elif picked < 0 or picked >= classes:
            return -(n + 1)
        row, out = logits[n], log_probs[n]
        top = row[0]
        for c in range(1, classes):
            value = row[c]
            if value > top or value != value:
                top = value
        shifted = row[0] - top
        out[0] = shifted
        total = np.exp(shifted)  # the dtype's own arithmetic from here on
        for c in range(1, classes):
            shifted = row[c] - top
            out[c] = shifted
            total += np.exp(shifted)
        log_total = np.log(total)
        for c in range(classes):
            out[c] -= log_total
        losses[n] = 0 if picked == ignore_index else -out[picked]
    return ignored


@njit(cache=True, error_model="numpy")
def cross_entropy_grad(log_probs, target, scale, one, grad):
    """The gradient of :func:`cross_entropy_rows`' losses, summed with weight ``scale``:
    ``(exp(log_probs) - [c == target]) * scale`` per entry, as the NumPy path computes
    it (``scale`` and ``one`` are scalars of the logits' dtype, so that no step rounds
    differently)."""
    for n in range(log_probs.shape[0]):
        picked = target[n]
        for c in range(log_probs.shape[1]):
            value = np.exp(log_probs[n, c])
            if c == picked:
                value = value - one
            grad[n, c] = value * scale
