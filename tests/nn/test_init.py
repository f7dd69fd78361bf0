"""nn.init: fills in place with the right distribution, gains and fans like PyTorch."""

import math

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import init

# A non-square weight so that fan_in (1000) and fan_out (500) differ.
SHAPE = (500, 1000)
FAN_IN, FAN_OUT = 1000, 500


def fresh():
    return nn.Parameter(np.full(SHAPE, np.nan, dtype=np.float32))


def sample_stats(tensor):
    values = tensor.data.astype(np.float64)
    return values.mean(), values.var()


UNIFORM = 1 / 3   # variance of U(-1, 1)
CASES = [
    # (name, call, expected mean, expected variance, uniform bound or None)
    ("uniform_", lambda t: init.uniform_(t, -2.0, 4.0), 1.0, 36 / 12, (-2.0, 4.0)),
    ("normal_", lambda t: init.normal_(t, 0.5, 2.0), 0.5, 4.0, None),
    ("xavier_uniform_", lambda t: init.xavier_uniform_(t, gain=2.0), 0.0,
     4.0 * 2 / (FAN_IN + FAN_OUT), 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("xavier_normal_", lambda t: init.xavier_normal_(t), 0.0, 2 / (FAN_IN + FAN_OUT), None),
    ("kaiming_uniform_ relu fan_in",
     lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), 0.0, 2 / FAN_IN,
     math.sqrt(6 / FAN_IN)),
    ("kaiming_uniform_ a=sqrt(5)", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 0.0,
     UNIFORM / FAN_IN, 1 / math.sqrt(FAN_IN)),
    ("kaiming_normal_ relu fan_out",
     lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), 0.0,
     2 / FAN_OUT, None),
    ("kaiming_normal_ leaky 0.2",
     lambda t: init.kaiming_normal_(t, a=0.2), 0.0, 2 / (1 + 0.04) / FAN_IN, None),
]


@pytest.mark.parametrize("name,call,mean,variance,bound", CASES, ids=[c[0] for c in CASES])
def test_init_statistics(name, call, mean, variance, bound):
    tg.manual_seed(0)
    tensor = fresh()
    array = tensor.data
    assert call(tensor) is tensor
    assert tensor.data is array and tensor.dtype == np.float32  # in place, float32 kept
    sample_mean, sample_variance = sample_stats(tensor)
    std = math.sqrt(variance)
    # With 500k samples the sample mean is within 6e-3 std and the variance within 1%.
    assert abs(sample_mean - mean) < 0.006 * std
    assert sample_variance == pytest.approx(variance, rel=0.01)
    if bound is not None:
        low, high = bound if isinstance(bound, tuple) else (-bound, bound)
        assert array.min() >= low and array.max() <= high
        assert array.min() < low + 0.001 * (high - low)  # the whole interval is used
        assert array.max() > high - 0.001 * (high - low)


def test_constant_zeros_and_ones_fill_in_place():
    tensor = nn.Parameter(np.empty((3, 4), dtype=np.float32))
    array = tensor.data
    init.constant_(tensor, 2.5)
    assert tensor.data is array and np.all(array == 2.5)
    init.zeros_(tensor)
    assert not array.any()
    init.ones_(tensor)
    assert np.all(array == 1.0)


def test_init_follows_manual_seed_and_keeps_float64():
    tensor = Tensor(np.empty((4, 5)))
    tg.manual_seed(11)
    first = init.kaiming_normal_(tensor).data.copy()
    tg.manual_seed(11)
    second = init.kaiming_normal_(tensor).data
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float64


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'gelu'"):
        init.calculate_gain("gelu")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for nonlinearity, param in [("linear", None), ("sigmoid", None), ("tanh", None),
                                ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.3),
                                ("selu", None), ("conv1d", None)]:
        assert init.calculate_gain(nonlinearity, param) == pytest.approx(
            torch.nn.init.calculate_gain(nonlinearity, param))


def test_fan_in_and_fan_out_like_torch():
    assert init.calculate_fan_in_and_fan_out(np.empty((3, 5))) == (5, 3)
    # Convolution weights (out, in, kh, kw): the receptive field multiplies both.
    assert init.calculate_fan_in_and_fan_out(Tensor(np.empty((8, 4, 3, 2)))) == (24, 48)
    assert init._calculate_fan_in_and_fan_out is init.calculate_fan_in_and_fan_out
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(Tensor(np.empty(5, dtype=np.float32)))


def test_init_argument_errors():
    weight = Tensor(np.empty((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(weight, mode="fan_avg")
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(Tensor(np.zeros(3, dtype=np.int64)))
    with pytest.raises(ValueError, match="std"):
        init.normal_(weight, std=-1.0)


def test_empty_tensors_are_a_no_op():
    empty = Tensor(np.empty((0, 3), dtype=np.float32))
    assert init.kaiming_uniform_(empty) is empty
    assert init.xavier_normal_(empty) is empty
