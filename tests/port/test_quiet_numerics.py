"""No NumPy RuntimeWarning where PyTorch is silent: log/sqrt/pow outside their domain give
nan, division by zero and exp overflow give inf, in forward and backward, with PyTorch's
values."""

import warnings

import numpy as np
import pytest

import tinygrad_fm as tg

CASES = {
    "log": lambda lib, x: lib.log(x),
    "sqrt": lambda lib, x: lib.sqrt(x),
    "div": lambda lib, x: 1 / x,
    "div_tensor": lambda lib, x: x / (x * 0),
    "pow_half": lambda lib, x: x ** 0.5,
    "pow_negative": lambda lib, x: x ** -1,
    "pow_tensor": lambda lib, x: x ** (x * 0.5),
    "exp_overflow": lambda lib, x: lib.exp(x * 1000),
    "log1p": lambda lib, x: lib.log1p(x - 1),
    "rsqrt": lambda lib, x: lib.rsqrt(x),
    "floordiv": lambda lib, x: x // (x * 0),
    "sin_inf": lambda lib, x: lib.sin(x / 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_runtime_warning_and_torchs_values(name):
    x0 = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    fn = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = tg.tensor(x0, requires_grad=True)
        out = fn(tg, x)
        if out.requires_grad:
            out.sum().backward()
        converted = tg.tensor([np.nan, np.inf]).long()  # unspecified values, no warning
    assert converted.dtype == np.int64
    torch = pytest.importorskip("torch")
    t = torch.tensor(x0, requires_grad=True)
    expected = fn(torch, t)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    if expected.requires_grad and out.requires_grad:
        expected.sum().backward()
        np.testing.assert_array_equal(np.isnan(x.grad.numpy()), np.isnan(t.grad.numpy()))
        finite = np.isfinite(t.grad.numpy())
        np.testing.assert_allclose(x.grad.numpy()[finite], t.grad.numpy()[finite], rtol=1e-6)
