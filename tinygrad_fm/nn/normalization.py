"""Normalisation layers and structured dropout: BatchNorm1d/2d/3d, InstanceNorm1d/2d, LayerNorm,
RMSNorm, GroupNorm, Dropout1d/2d, AlphaDropout, FeatureAlphaDropout (PyTorch's names, arguments, initialisation, reprs and state-dict
keys)."""

from __future__ import annotations

import numpy as np

from ..tensor import DEFAULT_DTYPE, Tensor
from . import functional as F
from . import init
from .layers import _check_size
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm",
           "RMSNorm", "GroupNorm", "Dropout1d", "Dropout2d", "AlphaDropout",
           "FeatureAlphaDropout"]


def _affine_parameters(module: Module, affine: bool, bias: bool, shape, dtype) -> None:
    """Register ``weight`` and ``bias`` (None when not ``affine``; ``bias`` None too
    when ``bias=False``), to be filled by :func:`_reset_affine`."""
    module.register_parameter("weight", Parameter(np.empty(shape, dtype=dtype))
                              if affine else None)
    module.register_parameter("bias", Parameter(np.empty(shape, dtype=dtype))
                              if affine and bias else None)


def _reset_affine(module: Module) -> None:
    """The identity transform: weight ones, bias zeros."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _BatchNorm(Module):
    """Batch normalisation over the channels (axis 1); see :func:`F.batch_norm`.

    ``momentum=None`` keeps a cumulative average of the batch statistics (factor
    ``1 / num_batches_tracked``). With ``track_running_stats=False`` there are no running
    statistics and batch statistics are used in eval mode too.
    """

    _input_ranks: tuple = ()
    _input_names: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=DEFAULT_DTYPE, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = _check_size(num_features, "num_features", name)
        self.eps = eps
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        _affine_parameters(self, self.affine, bias, self.num_features, dtype)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.ndim not in self._input_ranks:
            raise ValueError(f"{name}: expected {self._input_names} input, got shape "
                             f"{input.shape} ({input.ndim}-D)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: input of shape {input.shape} has {input.shape[1]} "
                             f"channels (axis 1), but the layer was built for num_features="
                             f"{self.num_features}")

    def forward(self, input):
        name = type(self).__name__
        input = F._as_tensor(input, name)
        self._check_input(input)
        use_batch_stats = self.training or self.running_mean is None
        # In training the running statistics are updated (and the batches counted) only
        # when they are tracked; in eval mode they are what is normalised with (None
        # without tracking: batch statistics then).
        update = not self.training or self.track_running_stats
        counter = self.num_batches_tracked if self.training and self.track_running_stats \
            else None
        return F._batch_norm(input, self.running_mean if update else None,
                             self.running_var if update else None, self.weight, self.bias,
                             use_batch_stats, self.momentum, self.eps, counter, name)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of an (N, C) or (N, C, L) input over N (and L), per channel."""

    _input_ranks = (2, 3)
    _input_names = "a 2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of an (N, C, H, W) input over N, H and W, per channel."""

    _input_ranks = (4,)
    _input_names = "a 4-D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of an (N, C, D, H, W) input over N, D, H and W, per channel."""

    _input_ranks = (5,)
    _input_names = "a 5-D (N, C, D, H, W)"


class _InstanceNorm(_BatchNorm):
    """Instance normalisation: each channel of each sample normalised over its positions
    (see :func:`F.instance_norm`). PyTorch's defaults: no affine transform and no running
    statistics; with ``track_running_stats`` eval mode normalises with them. An unbatched
    input (one axis fewer) is taken as a batch of one."""

    _spatial_dims = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=DEFAULT_DTYPE, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        name = type(self).__name__
        input = F._as_tensor(input, name)
        batched_rank = self._spatial_dims + 2
        unbatched = input.ndim == batched_rank - 1
        if unbatched:
            input = input.unsqueeze(0)
        self._check_input(input)
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, use_input_stats, momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of an (N, C, L) or (C, L) input over L."""

    _input_ranks = (3,)
    _input_names = "a 3-D (N, C, L) or 2-D (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of an (N, C, H, W) or (C, H, W) input over H and W."""

    _spatial_dims = 2
    _input_ranks = (4,)
    _input_names = "a 4-D (N, C, H, W) or 3-D (C, H, W)"


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` axes; with
    ``elementwise_affine`` an elementwise weight (ones) and bias (zeros, unless
    ``bias=False``) of that shape follow."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.normalized_shape = F._normalized_shape(normalized_shape, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        _affine_parameters(self, self.elementwise_affine, bias, self.normalized_shape, dtype)
        _reset_affine(self)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        input = F._as_tensor(input, "LayerNorm")
        k = len(self.normalized_shape)
        if input.shape[max(input.ndim - k, 0):] != self.normalized_shape:
            raise ValueError(f"LayerNorm: input of shape {input.shape} does not end in "
                             f"normalized_shape={self.normalized_shape}; expected shape "
                             f"(*, {', '.join(map(str, self.normalized_shape))})")
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` axes (see
    :func:`F.rms_norm`); ``eps=None`` uses the input dtype's machine epsilon; with
    ``elementwise_affine`` an elementwise weight (ones) of that shape follows."""

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.normalized_shape = F._normalized_shape(normalized_shape, "RMSNorm")
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        _affine_parameters(self, self.elementwise_affine, False, self.normalized_shape, dtype)
        _reset_affine(self)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Split the C channels of an (N, C, *) input into ``num_groups`` groups and normalise
    each group over its channels and positions; with ``affine`` a per-channel weight
    (ones) and bias (zeros) follow."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=DEFAULT_DTYPE, *, bias: bool = True):
        super().__init__()
        self.num_groups = _check_size(num_groups, "num_groups", "GroupNorm")
        self.num_channels = _check_size(num_channels, "num_channels", "GroupNorm")
        if self.num_groups == 0 or self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by "
                             f"num_groups={num_groups}")
        self.eps = eps
        self.affine = bool(affine)
        _affine_parameters(self, self.affine, bias, self.num_channels, dtype)
        _reset_affine(self)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        input = F._as_tensor(input, "GroupNorm")
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected an input of shape (N, {self.num_channels}, "
                             f"*), got shape {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class Dropout1d(Module):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability p in training
    mode (the rest scaled by 1 / (1 - p)); the identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = F.check_dropout_probability(p)
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout1d):
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability p in
    training mode; see :func:`F.dropout2d` for 3-D inputs."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class AlphaDropout(Dropout1d):
    """Alpha dropout for SELU networks (see :func:`F.alpha_dropout`) in training mode; the
    identity in eval mode."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout1d):
    """Alpha dropout of whole channels of an (N, C, *) input (see
    :func:`F.feature_alpha_dropout`) in training mode; the identity in eval mode."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
