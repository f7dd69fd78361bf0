"""Binary ops, true division and float functions give PyTorch's result dtype (and values),
where NumPy's rules differ: integer or bool with float, 0-d tensors, Python and NumPy
scalars, integer true division, exp/sqrt/... of integers."""

import numpy as np
import pytest

import tinygrad_fm

torch = pytest.importorskip("torch")

EXPRESSIONS = [
    "i / 2", "i / i", "2.5 / i", "f32 / i", "i * 2.5", "2.5 * i", "i - 0.5", "b * 2.5",
    "u8 * 2.5", "(i > 0) * 1.5", "i * np.float64(2.5)", "i + f32", "f32 + i", "f16 + i",
    "i8 + f16", "f32 + f64_0d", "f64_0d * f32", "i + f64_0d", "i + i64_0d", "i8 + i64_0d",
    "b + i64_0d", "i ** 0.5", "i ** 2", "2 ** i", "2.0 ** i", "i.pow(2.0)", "i + i8", "b + b",
    "b + 1", "i * True", "i // 2", "i % 2", "i - i", "i.exp()", "i.sqrt()", "i.sigmoid()",
    "i.tanh()", "i.log()", "i.sin()", "i.cos()", "i.reciprocal()", "i.rsqrt()", "i.log1p()",
    "i.expm1()", "torch.maximum(i, f32)", "torch.minimum(f16, i)", "torch.where(i > 1, i, 0.5)",
    "torch.where(i > 1, 0.5, i)", "torch.where(i > 1, f32, i)", "f32 * np.float64(2)",
    "f64 + f32", "f32 + 1", "f16 * 3.0",
]


def _operands(framework):
    t = framework.tensor
    return dict(np=np, torch=framework, i=t([1, 2, 3]), i8=t([1, -2, 3], dtype=framework.int8),
                u8=t([1, 2, 3], dtype=framework.uint8), b=t([True, False, True]),
                f16=t([1.5, 2.0, 3.0], dtype=framework.float16), f32=t([1.5, 2.0, 3.0]),
                f64=t([1.5, 2.0, 3.0], dtype=framework.float64),
                f64_0d=t(2.0, dtype=framework.float64), i64_0d=t(4))


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_result_dtype_and_values_match_torch(expression):
    ours = eval(expression, _operands(tinygrad_fm))  # noqa: S307 - our own table
    theirs = eval(expression, _operands(torch))  # noqa: S307
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(np.asarray(ours.tolist(), dtype=np.float64),
                               np.asarray(theirs.tolist(), dtype=np.float64), rtol=1e-3)


def test_a_promoted_float_operand_keeps_its_gradient():
    """float32 with a float64 0-d tensor computes in float32 and both get gradients of
    their own dtype."""
    x = tinygrad_fm.tensor([1.0, 2.0], requires_grad=True)
    scale = tinygrad_fm.tensor(3.0, dtype=tinygrad_fm.float64, requires_grad=True)
    y = x * scale
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and scale.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])
    np.testing.assert_allclose(scale.grad.data, 3.0)
