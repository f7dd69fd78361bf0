"""Differentiable primitives, one module per family, each forward beside its backward.

common (axis helpers), arithmetic, unary, matmul, reduce (and softmax), movement,
indexing, norm (batch/layer/group normalisation), embedding, conv (convolution, its
adjoint, unfold/fold), padding, pool, nograd (array functions without a gradient),
pointwise (more elementwise functions), special (erf, lgamma,
digamma and their kin), linalg (einsum, solve, inv, det), recurrent
(fused LSTM/GRU cell steps). ``ops.X`` names every op whatever its family.

Every op works on NumPy arrays. Backward returns gradients in the broadcast (output)
shape where that is natural; the engine sums them back to each input's shape. Ops check
``ctx.needs_input_grad`` so that no gradient is computed that nobody asked for, and
activations keep their *output* for backward (tanh' = 1 - y^2) instead of recomputing.

Python scalars are passed through untouched: under NumPy's promotion rules they never
turn a float32 array into float64, and their gradient is never needed.
"""

# ruff: noqa: F401,F403
from .common import AxisError, _broadcast_error, _expand_reduced, _reduced_count, normalize_axis, quiet_numpy, reduction_axes
from .arithmetic import *
from .matmul import *
from .unary import *
from .reduce import *
from .movement import *
from .indexing import *
from .norm import *
from .embedding import *
from .conv import *
from .padding import *
from .pool import *
from .nograd import *
from .pointwise import *
from .special import *
from .linalg import *
from .recurrent import *
