"""``import tinygrad_fm as torch``: the namespace, dtypes, devices, conversions, random
numbers and module conversions behave as PyTorch's."""

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn


def test_the_namespace_after_one_import():
    torch = tg
    for name in ("nn", "nn.functional", "nn.init", "nn.utils", "optim", "optim.lr_scheduler",
                 "utils", "utils.data", "autograd", "linalg", "return_types", "cuda"):
        obj = torch
        for part in name.split("."):
            obj = getattr(obj, part)
    assert torch.autograd.Function is tg.Function and callable(torch.autograd.gradcheck)
    for name in ("Dataset", "TensorDataset", "DataLoader", "random_split", "Subset",
                 "RandomSampler", "SequentialSampler", "BatchSampler", "default_collate"):
        assert hasattr(torch.utils.data, name), name
    assert torch.cuda.is_available() is False and torch.backends.mps.is_available() is False


def test_dtype_names_compare_with_tensor_dtypes_as_in_torch():
    torch = pytest.importorskip("torch")
    pairs = {"float32": np.float32, "float": np.float32, "float64": np.float64,
             "double": np.float64, "float16": np.float16, "half": np.float16,
             "int64": np.int64, "long": np.int64, "int32": np.int32, "int": np.int32,
             "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}
    for name, numpy_type in pairs.items():
        ours = tg.zeros(2, dtype=getattr(tg, name))
        theirs = torch.zeros(2, dtype=getattr(torch, name))
        assert ours.dtype == getattr(tg, name) == numpy_type, name
        assert str(theirs.dtype) == "torch." + np.dtype(numpy_type).name.replace("bool", "bool")
        assert ours.dtype != (tg.int64 if name != "int64" and name != "long" else tg.float32)


def test_tensor_conversions_match_torch():
    torch = pytest.importorskip("torch")
    x0 = np.array([[1.7, -2.2], [0.0, 3.5]], dtype=np.float32)
    t, o = torch.tensor(x0), tg.tensor(x0)
    for name in ("float", "double", "half", "long", "int", "bool", "short", "byte"):
        ours, theirs = getattr(o, name)(), getattr(t, name)()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
        assert ours.dtype == theirs.numpy().dtype, name
    assert o.to(tg.float64).dtype == np.float64 and o.to("cpu") is o
    assert o.to(tg.device("cpu"), tg.float16).dtype == np.float16
    assert o.to(o.long()).dtype == np.int64 and o.type_as(o.int()).dtype == np.int32
    assert o.to(dtype=tg.double, device="cpu").dtype == np.float64
    assert o.type() == t.type() == "torch.FloatTensor" and o.long().type() == t.long().type()
    assert o.type(tg.float64).dtype == np.float64 and o.type("torch.LongTensor").dtype == np.int64
    assert o.cpu() is o and o.contiguous() is o and o.T.contiguous().is_contiguous()
    assert o.tolist() == t.tolist() and o[0, 0].item() == t[0, 0].item()
    assert o.is_floating_point() and not o.long().is_floating_point()
    assert str(o.device) == str(t.device) == "cpu" and o.device == tg.device("cpu")
    assert repr(tg.device("cuda", 0)) == repr(torch.device("cuda", 0))
    assert tg.device("cuda:1").index == 1 and tg.device("cpu") == "cpu"
    assert o.new_zeros(3).dtype == np.float32 and o.new_ones((2, 2)).shape == (2, 2)
    assert o.new_full((2,), 7).tolist() == [7.0, 7.0] and o.new_tensor([1, 2]).dtype == np.float32


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_other_devices_raise_an_error_naming_them(device):
    x = tg.ones(2)
    with pytest.raises(RuntimeError, match=f"device '{device}' is not available"):
        x.to(device)
    with pytest.raises(RuntimeError, match=f"'{device}'"):
        tg.zeros(2, device=device)
    with pytest.raises(RuntimeError, match=f"'{device}'"):
        nn.Linear(2, 2).to(device)
    with pytest.raises(RuntimeError, match="'cuda'"):
        x.cuda()


def test_module_conversions():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    assert model.to("cpu") is model and model.cpu() is model
    assert all(p.dtype == np.float64 for p in model.double().parameters())
    assert all(p.dtype == np.float16 for p in model.half().parameters())
    assert all(p.dtype == np.float32 for p in model.float().parameters())
    assert all(p.dtype == np.float64 for p in model.to(tg.float64).parameters())
    assert all(p.dtype == np.float32 for p in model.to(tg.zeros(1)).parameters())
    assert all(p.dtype == np.float64 for p in model.to("cpu", tg.double).parameters())
    with pytest.raises(TypeError, match="floating point"):
        model.to(tg.int64)
    state = model.state_dict()
    assert all(isinstance(v, Tensor) for v in state.values())
    model.load_state_dict({k: v.numpy() for k, v in state.items()})  # arrays work too


def test_manual_seed_makes_every_draw_reproducible():
    def draws():
        layer = nn.Linear(3, 3)
        dropped = nn.functional.dropout(tg.ones(50), 0.5)
        loader = tg.utils.data.DataLoader(list(range(10)), batch_size=10, shuffle=True)
        return [tg.rand(3), tg.randn(2, 2), tg.randint(0, 10, (4,)), tg.randperm(6),
                tg.normal(0.0, 1.0, (3,)), tg.bernoulli(tg.full((5,), 0.5)),
                tg.multinomial(tg.ones(5), 3), tg.empty(3).uniform_(-1, 1),
                tg.empty(3).normal_(), tg.randint_like(tg.zeros(3), 5),
                layer.weight.detach(), dropped, next(iter(loader))]
    tg.manual_seed(42)
    first = draws()
    tg.manual_seed(42)
    second = draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    tg.manual_seed(43)
    assert not np.array_equal(draws()[0].numpy(), first[0].numpy())


def test_generators_are_independent_and_their_state_round_trips():
    g = tg.Generator().manual_seed(0)
    a = tg.rand(4, generator=g)
    state = g.get_state()
    b = tg.randn(3, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(tg.randn(3, generator=g).numpy(), b.numpy())
    h = tg.Generator().manual_seed(0)
    np.testing.assert_array_equal(tg.rand(4, generator=h).numpy(), a.numpy())
    tg.manual_seed(0)
    tg.rand(100)  # the default generator's use does not touch g
    assert g.initial_seed() == 0 and isinstance(g.seed(), int)
    with pytest.raises(TypeError, match="get_state"):
        g.set_state(tg.zeros(3))


def test_random_factories_have_torchs_shapes_dtypes_and_ranges():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    cases = [
        (lambda lib: lib.rand(2, 3), None), (lambda lib: lib.randn((2, 3)), None),
        (lambda lib: lib.randn(2, dtype=lib.float64), None),
        (lambda lib: lib.randint(5, (3, 2)), (0, 5)), (lambda lib: lib.randint(-2, 3, (10,)),
                                                         (-2, 3)),
        (lambda lib: lib.randperm(7), (0, 7)), (lambda lib: lib.normal(2.0, 0.5, (4,)), None),
        (lambda lib: lib.normal(lib.zeros(3), lib.ones(3)), None),
        (lambda lib: lib.bernoulli(lib.full((6,), 0.3)), (0, 2)),
        (lambda lib: lib.multinomial(lib.tensor([0.1, 0.0, 0.9]), 2), (0, 3)),
        (lambda lib: lib.multinomial(lib.ones(2, 4), 6, replacement=True), (0, 4)),
        (lambda lib: lib.randint_like(lib.zeros(2, 2), 3, 7), (3, 7)),
        (lambda lib: lib.rand_like(lib.zeros(2, dtype=lib.float64)), (0, 1)),
    ]
    for i, (fn, bounds) in enumerate(cases):
        ours, theirs = fn(tg), fn(torch)
        assert ours.shape == tuple(theirs.shape), i
        assert ours.dtype == theirs.numpy().dtype, i
        if bounds:
            assert bounds[0] <= ours.numpy().min() and ours.numpy().max() < bounds[1], i
    assert sorted(tg.randperm(7).tolist()) == list(range(7))
    assert sorted(tg.multinomial(tg.tensor([0.1, 0.0, 0.9]), 2).tolist()) == [0, 2]


def test_multinomial_frequencies_and_errors():
    g = tg.Generator().manual_seed(1)
    weights = tg.tensor([1.0, 3.0, 0.0, 6.0])
    draws = tg.multinomial(weights, 20000, replacement=True, generator=g).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20000, [0.1, 0.3, 0, 0.6],
                               atol=0.015)
    firsts = [tg.multinomial(weights, 2, generator=g).tolist()[0] for _ in range(3000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=4) / 3000, [0.1, 0.3, 0, 0.6],
                               atol=0.03)
    with pytest.raises(ValueError, match="without replacement"):
        tg.multinomial(weights, 4)
    with pytest.raises(ValueError, match="non-negative"):
        tg.multinomial(tg.tensor([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match="positive sum"):
        tg.multinomial(tg.zeros(3), 1)


def test_in_place_random_fills_follow_torchs_leaf_rule():
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.uniform_()
    with tg.no_grad():
        w.uniform_(2, 3)
    assert ((w.numpy() >= 2) & (w.numpy() < 3)).all() and w.dtype == np.float32
    x = tg.zeros(1000).bernoulli_(0.25)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and 0.15 < x.numpy().mean() < 0.35
    assert tg.zeros(5, dtype=tg.int64).random_(0, 3).numpy().max() < 3
    assert (tg.zeros(100).exponential_() > 0).all()


def test_set_num_threads_resizes_the_blas_pool_as_torch_set_num_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
        pools = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                 if p.get("user_api") == "blas"]
        assert pools and set(pools) == {1}
        for bad in (0, -2, 1.5, True):
            with pytest.raises(ValueError, match="positive integer"):
                tg.set_num_threads(bad)
    finally:
        tg.set_num_threads(before)
    assert tg.get_num_threads() == before
