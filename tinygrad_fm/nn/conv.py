"""Convolution layers (PyTorch's names, arguments, defaults, initialisation and reprs):
Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, and Unfold/Fold."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import DEFAULT_DTYPE
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolutions share: arguments, parameters, initialisation, repr."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 output_padding, groups, bias, padding_mode, dtype):
        super().__init__()
        name, dims = type(self).__name__, self._dims
        for value, what in ((in_channels, "in_channels"), (out_channels, "out_channels"),
                            (groups, "groups")):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
                    value < (1 if what == "groups" else 0):
                raise ValueError(f"{name}: {what} must be a "
                                 f"{'positive' if what == 'groups' else 'non-negative'} int, "
                                 f"got {value!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} must be divisible by "
                             f"groups={groups}")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels={out_channels} must be divisible by "
                             f"groups={groups}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = (int(in_channels),
                                                            int(out_channels), int(groups))
        self.kernel_size = F._ntuple(kernel_size, dims, "kernel_size", name, minimum=1)
        self.stride = F._ntuple(stride, dims, "stride", name, minimum=1)
        self.dilation = F._ntuple(dilation, dims, "dilation", name, minimum=1)
        if isinstance(padding, str) and not self._transposed:
            # Validates 'same' against the stride; the string itself is kept, as PyTorch.
            widths = F._conv_padding(padding, self.kernel_size, self.stride, self.dilation,
                                     name)
            self.padding = padding
        else:
            self.padding = F._ntuple(padding, dims, "padding", name)
            widths = tuple((p, p) for p in self.padding)
        # F.pad's order: the last axis first.
        self._reversed_padding_repeated_twice = tuple(
            w for pair in reversed(widths) for w in pair)
        self.output_padding = F._ntuple(output_padding, dims, "output_padding", name)
        self.transposed = self._transposed
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's: kaiming_uniform_(a=sqrt(5)) for the weight, U(+-1/sqrt(fan_in)) for
        the bias, fan_in read from the weight's shape."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=DEFAULT_DTYPE):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0,
                         groups, bias, padding_mode, dtype)

    def forward(self, input):
        name = type(self).__name__
        if self.padding_mode != "zeros":
            input = F._as_tensor(input, name)
            if input.ndim not in (self._dims + 1, self._dims + 2):
                F._spatial_input(input, self._dims, name, "")  # raises the rank error
            padded = F.pad(input, self._reversed_padding_repeated_twice,
                           mode=self.padding_mode)
            return F._conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                           self.groups, self._dims, name)
        return F._conv(input, self.weight, self.bias, self.stride, self.padding,
                       self.dilation, self.groups, self._dims, name)


class Conv1d(_Conv):
    """1-D convolution of (N, C_in, L) -> (N, C_out, L_out); weight (out_channels,
    in_channels/groups, kernel_size). ``padding`` is an int, ``'valid'`` or ``'same'``;
    ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'."""

    _dims = 1


class Conv2d(_Conv):
    """2-D convolution of (N, C_in, H, W) -> (N, C_out, H_out, W_out); weight
    (out_channels, in_channels/groups, KH, KW). ``padding`` is an int, a pair, ``'valid'``
    or ``'same'``; ``padding_mode`` 'zeros', 'reflect', 'replicate' or 'circular'."""

    _dims = 2


class Conv3d(_Conv):
    """3-D convolution of (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out); weight
    (out_channels, in_channels/groups, KD, KH, KW); see :func:`F.conv3d`."""

    _dims = 3

    def forward(self, input):
        if self.padding_mode != "zeros":
            padded = F.pad(F._as_tensor(input, "Conv3d"), self._reversed_padding_repeated_twice,
                           mode=self.padding_mode)
            return F.conv3d(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                            self.groups)
        return F.conv3d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", dtype=DEFAULT_DTYPE):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         output_padding, groups, bias, padding_mode, dtype)

    def _output_padding(self, input, output_size) -> tuple:
        """The output_padding that gives ``output_size`` (PyTorch's forward argument)."""
        if output_size is None:
            return self.output_padding
        name, dims = type(self).__name__, self._dims
        requested = tuple(output_size)[-dims:]
        sizes = tuple(input.shape[-dims:])
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            sizes, self.stride, self.padding, self.dilation, self.kernel_size))
        if len(requested) != dims or any(
                not small <= r < small + s for r, small, s in
                zip(requested, smallest, self.stride)):
            raise ValueError(f"{name}: requested output_size {tuple(output_size)}, but for an "
                             f"input of shape {tuple(input.shape)} the sizes possible are "
                             f"{smallest} to "
                             f"{tuple(m + s - 1 for m, s in zip(smallest, self.stride))}")
        return tuple(r - small for r, small in zip(requested, smallest))

    def forward(self, input, output_size=None):
        input = F._as_tensor(input, type(self).__name__)
        output_padding = self._output_padding(input, output_size)
        return F._conv_transpose(input, self.weight, self.bias, self.stride, self.padding,
                                 output_padding, self.groups, self.dilation, self._dims,
                                 type(self).__name__)


class ConvTranspose1d(_ConvTranspose):
    """The adjoint of Conv1d ("deconvolution"): (N, C_in, L) -> (N, C_out, L_out) with
    L_out = (L - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1;
    weight (in_channels, out_channels/groups, K)."""

    _dims = 1


class ConvTranspose2d(_ConvTranspose):
    """The adjoint of Conv2d ("deconvolution"); each output side is
    (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1; weight
    (in_channels, out_channels/groups, KH, KW). ``forward(input, output_size)`` picks the
    output_padding that gives output_size."""

    _dims = 2


class Unfold(Module):
    """``F.unfold`` as a module: sliding blocks as columns (N, C*KH*KW, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """``F.fold`` as a module: columns summed back into an image of ``output_size``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
