"""Module, Parameter, containers, state dicts and checkpoint save/load."""

import copy
import os
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        self.head = nn.Linear(2, 1, bias=False)
        self.scale = nn.Parameter([1.5])

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


# --------------------------------------------------------------------------- Parameter


def test_parameter_requires_grad_and_defaults_to_float32():
    param = nn.Parameter([1.0, 2.0])
    assert param.requires_grad and param.is_leaf
    assert param.dtype == np.float32
    assert isinstance(param, Tensor)


def test_parameter_shares_memory_with_its_array_and_tensor():
    array = np.zeros(3, dtype=np.float32)
    assert nn.Parameter(array).data is array
    tensor = Tensor(array)
    assert nn.Parameter(tensor).data is array


def test_parameter_rejects_integer_data():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


def test_parameter_can_be_frozen_and_reprs_as_parameter():
    assert not nn.Parameter([1.0], requires_grad=False).requires_grad
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\nTensor(")


def test_ops_on_parameters_give_plain_tensors_in_the_graph():
    param = nn.Parameter([2.0, 3.0])
    out = (param * param).sum()
    assert type(out) is Tensor
    out.backward()
    np.testing.assert_allclose(param.grad.data, [4.0, 6.0])


# --------------------------------------------------------------------------- registration


def test_parameters_and_modules_register_in_definition_order_with_dotted_names():
    model = Encoder()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight",
                     "encoder.2.bias", "head.weight"]
    assert [name for name, _ in model.named_children()] == ["encoder", "head"]
    assert [name for name, _ in model.named_modules()] == [
        "", "encoder", "encoder.0", "encoder.1", "encoder.2", "head"]
    assert len(list(model.parameters())) == 6
    assert list(model.children()) == [model.encoder, model.head]


def test_sequential_and_module_list_register_their_modules():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 1))
    model = nn.Sequential(nn.Linear(3, 2), layers)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.1.weight",
                     "1.1.bias", "1.2.weight", "1.2.bias"]


def test_a_plain_list_of_modules_is_not_registered():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

    assert list(Holder().parameters()) == []


def test_shared_parameter_and_module_appear_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    tied = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    tied[1].weight = tied[0].weight
    assert len(list(tied.parameters())) == 3
    # The state dict keeps both names, so it loads into an untied copy too.
    assert list(tied.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_reassigning_replaces_and_deleting_unregisters():
    model = nn.Linear(2, 2)
    new_weight = nn.Parameter(np.ones((2, 2), dtype=np.float32))
    model.weight = new_weight
    assert model.weight is new_weight
    assert [name for name, _ in model.named_parameters()] == ["weight", "bias"]
    del model.bias
    assert [name for name, _ in model.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="bias"):
        model.bias


def test_assigning_a_plain_tensor_to_a_parameter_name_is_refused():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        model.weight = Tensor(np.zeros((2, 2), dtype=np.float32))


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_invalid_child_names_are_refused():
    model = nn.Module()
    with pytest.raises(KeyError, match="dot"):
        model.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="Parameter"):
        model.register_parameter("w", Tensor([1.0]))


def test_buffers_are_saved_but_are_not_parameters():
    model = nn.Linear(2, 2)
    model.register_buffer("running_mean", Tensor(np.arange(2, dtype=np.float32)))
    model.register_buffer("scratch", Tensor(np.zeros(2, dtype=np.float32)), persistent=False)
    assert [name for name, _ in model.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in model.named_buffers()] == ["running_mean", "scratch"]
    assert list(model.state_dict()) == ["weight", "bias", "running_mean"]
    model.running_mean = np.array([5.0, 6.0], dtype=np.float32)
    np.testing.assert_array_equal(model.state_dict()["running_mean"], [5.0, 6.0])


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# --------------------------------------------------------------------------- modes, grads


def test_train_and_eval_propagate_to_every_submodule():
    model = Encoder()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model.encoder[1].training


def test_zero_grad_sets_to_none_or_zeroes_in_place():
    model = nn.Linear(3, 2)
    model(Tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and not grad.data.any()
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_to_float64_makes_a_whole_model_gradcheckable():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3)), requires_grad=True)
    assert model(x).dtype == np.float64
    assert tg.gradcheck(lambda x: model(x), [x])
    with pytest.raises(TypeError, match="same dtype"):
        model(Tensor(np.zeros((2, 3), dtype=np.float32)))


def test_deepcopy_gives_an_independent_module():
    model = Encoder()
    clone = copy.deepcopy(model)
    assert clone.head.weight is not model.head.weight
    np.testing.assert_array_equal(clone.head.weight.data, model.head.weight.data)
    clone.head.weight.data[...] = 0
    assert model.head.weight.data.any()


# --------------------------------------------------------------------------- containers


def test_sequential_indexing_slicing_len_append_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [name for name, _ in head.named_children()] == ["1", "2"]  # keys kept, as torch
    model.append(nn.Sigmoid())
    assert len(model) == 4 and isinstance(model[3], nn.Sigmoid)
    with pytest.raises(IndexError, match="out of range"):
        model[4]
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_forward_chains_and_accepts_named_steps():
    tg.manual_seed(0)
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [name for name, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    expected = np.tanh(x @ model.fc.weight.data.T + model.fc.bias.data)
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-6)


def test_module_list_indexing_and_assignment():
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    layers[1] = nn.Sigmoid()
    assert isinstance(layers[-1], nn.Sigmoid) and len(layers) == 2
    assert isinstance(layers[:1], nn.ModuleList) and len(layers[:1]) == 1
    with pytest.raises(IndexError):
        layers[2]


def test_module_dict_registers_in_insertion_order_with_keys_as_prefixes():
    tg.manual_seed(0)
    layers = nn.ModuleDict({"encoder": nn.Linear(4, 3), "act": nn.ReLU()})
    layers["head"] = nn.Linear(3, 1)
    assert list(layers) == ["encoder", "act", "head"] and len(layers) == 3
    assert list(layers.keys()) == ["encoder", "act", "head"]
    assert list(layers.values()) == [layers["encoder"], layers["act"], layers["head"]]
    assert [k for k, _ in layers.items()] == ["encoder", "act", "head"]
    assert "head" in layers and "tail" not in layers and 3 not in layers
    assert layers.encoder is layers["encoder"]  # attribute access, as in torch
    assert [name for name, _ in layers.named_parameters()] == [
        "encoder.weight", "encoder.bias", "head.weight", "head.bias"]
    assert list(layers.state_dict()) == ["encoder.weight", "encoder.bias", "head.weight",
                                         "head.bias"]
    model = nn.Sequential(layers)
    assert [name for name, _ in model.named_parameters(prefix="m")][0] == "m.0.encoder.weight"
    # Replacing a key keeps its place; the old module's parameters are gone.
    old = layers["encoder"]
    layers["encoder"] = nn.Linear(4, 3)
    assert list(layers) == ["encoder", "act", "head"] and layers["encoder"] is not old
    assert all(p is not old.weight for p in layers.parameters())


def test_module_dict_from_pairs_update_pop_del_and_clear():
    layers = nn.ModuleDict([("b", nn.ReLU()), ("a", nn.Tanh())])
    assert list(layers) == ["b", "a"]
    layers.update(OrderedDict([("c", nn.Sigmoid()), ("b", nn.Identity())]))
    assert list(layers) == ["b", "a", "c"] and isinstance(layers["b"], nn.Identity)
    layers.update([("d", nn.ReLU())])
    layers.update(nn.ModuleDict({"e": nn.Tanh()}))
    assert list(layers) == ["b", "a", "c", "d", "e"]
    popped = layers.pop("a")
    assert isinstance(popped, nn.Tanh) and list(layers) == ["b", "c", "d", "e"]
    del layers["c"]
    assert list(layers) == ["b", "d", "e"] and len(layers) == 3
    layers.clear()
    assert len(layers) == 0 and list(layers.children()) == []
    assert len(nn.ModuleDict()) == 0 and nn.ModuleDict(None).training


def test_module_dict_errors_name_the_problem():
    layers = nn.ModuleDict({"fc": nn.Linear(2, 2)})
    with pytest.raises(KeyError, match="'missing' is not in this ModuleDict.*'fc'"):
        layers["missing"]
    with pytest.raises(KeyError, match="missing"):
        layers.pop("missing")
    with pytest.raises(KeyError, match="missing"):
        del layers["missing"]
    with pytest.raises(TypeError, match="not a Module subclass"):
        layers["x"] = lambda x: x
    with pytest.raises(TypeError, match="strings"):
        nn.ModuleDict({1: nn.ReLU()})
    for key in ("a.b", ""):
        with pytest.raises(KeyError, match="invalid name"):
            nn.ModuleDict({key: nn.ReLU()})
    for key in ("keys", "training", "update", "forward"):
        with pytest.raises(KeyError, match=f"attribute '{key}' already exists"):
            nn.ModuleDict({key: nn.ReLU()})
    with pytest.raises(TypeError, match="iterable of key/value pairs, but got int"):
        nn.ModuleDict(5)
    with pytest.raises(TypeError, match="element #1 should be a \\(key, module\\) pair"):
        nn.ModuleDict([("a", nn.ReLU()), 3])
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        nn.ModuleDict([("a", nn.ReLU(), 1)])
    assert list(layers) == ["fc"]  # nothing was added by the failed calls
    with pytest.raises(NotImplementedError, match="forward"):
        layers(Tensor([1.0, 2.0]))


def test_module_dict_state_dict_round_trip_and_deepcopy():
    tg.manual_seed(3)
    model = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.Sequential(nn.Linear(3, 1))})
    tg.manual_seed(4)
    other = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.Sequential(nn.Linear(3, 1))})
    other.load_state_dict(model.state_dict())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], value)
    clone = copy.deepcopy(model)
    assert list(clone) == ["a", "b"] and clone["a"] is not model["a"]
    np.testing.assert_array_equal(clone["a"].weight.data, model["a"].weight.data)


def test_module_dict_state_dict_keys_and_repr_equal_torchs():
    torch = pytest.importorskip("torch")

    def build(nn_):
        heads = nn_.ModuleDict({"cls": nn_.Linear(8, 10), "reg": nn_.Sequential(
            nn_.Linear(8, 4), nn_.ReLU(), nn_.Linear(4, 1))})
        heads["aux"] = nn_.ModuleDict([("drop", nn_.Dropout(0.1)),
                                       ("out", nn_.Linear(8, 2, bias=False))])
        heads.update({"act": nn_.Tanh()})
        return nn_.Sequential(OrderedDict([("body", nn_.Linear(3, 8)), ("heads", heads)]))

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleDict()) == repr(torch.nn.ModuleDict()) == "ModuleDict()"
    for shape_a, shape_b in zip((v.shape for v in ours.state_dict().values()),
                                (tuple(v.shape) for v in theirs.state_dict().values())):
        assert shape_a == shape_b


# --------------------------------------------------------------------------- repr


def test_repr_is_a_tree_like_pytorch():
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Sequential(nn.Linear(128, 10), nn.LogSoftmax(dim=1)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2, inplace=False)\n"
        "  (3): Sequential(\n"
        "    (0): Linear(in_features=128, out_features=10, bias=True)\n"
        "    (1): LogSoftmax(dim=1)\n"
        "  )\n"
        ")")
    torch = pytest.importorskip("torch")
    reference = torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Sequential(torch.nn.Linear(128, 10), torch.nn.LogSoftmax(dim=1)))
    assert repr(model) == repr(reference)


# --------------------------------------------------------------------------- state dict


def test_state_dict_holds_detached_tensors_sharing_memory_and_round_trips():
    tg.manual_seed(1)
    model = Encoder()
    state = model.state_dict()
    assert list(state) == ["scale", "encoder.0.weight", "encoder.0.bias",
                           "encoder.2.weight", "encoder.2.bias", "head.weight"]
    assert all(isinstance(v, Tensor) and not v.requires_grad for v in state.values())
    state["head.weight"][...] = 7.0  # as in PyTorch: a view of the parameter
    assert np.all(model.head.weight.data == 7.0)
    snapshot = copy.deepcopy(model.state_dict())  # the PyTorch way to keep a copy
    snapshot["head.weight"][...] = 1.0
    assert np.all(model.head.weight.data == 7.0)

    tg.manual_seed(2)
    other = Encoder()
    x = Tensor(np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32))
    assert not np.allclose(other(x).data, model(x).data)
    result = other.load_state_dict(model.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_load_state_dict_copies_in_place_so_optimizer_views_stay_valid():
    model = nn.Linear(3, 2)
    array = model.weight.data
    view = array.reshape(-1)  # what an optimizer holding a flat view would see
    new_weight = np.arange(6, dtype=np.float64).reshape(2, 3)
    model.load_state_dict({"weight": new_weight, "bias": Tensor([1.0, 2.0])})
    assert model.weight.data is array and model.weight.dtype == np.float32
    np.testing.assert_array_equal(view, np.arange(6))
    np.testing.assert_array_equal(model.bias.data, [1.0, 2.0])


def test_strict_loading_lists_missing_unexpected_and_mismatched_keys():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    before = model.state_dict()
    state = model.state_dict()
    del state["1.bias"]
    state["extra.weight"] = np.zeros(2)
    state["0.weight"] = np.zeros((3, 2), dtype=np.float32)
    state["0.bias"] = np.full(2, 9.0, dtype=np.float32)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "Missing key(s) in state_dict: \"1.bias\"" in message
    assert "Unexpected key(s) in state_dict: \"extra.weight\"" in message
    assert "size mismatch for 0.weight" in message and "(3, 2)" in message \
        and "(2, 3)" in message
    # Nothing was written: the valid 0.bias entry did not get through either.
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_non_strict_loading_returns_the_keys_and_loads_the_rest():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    state = {"0.bias": np.array([4.0, 5.0]), "head.weight": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.weight", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["head.weight"]
    np.testing.assert_array_equal(model[0].bias.data, [4.0, 5.0])


def test_shape_and_dtype_mismatches_raise_even_when_not_strict():
    model = nn.Linear(3, 2)
    with pytest.raises(nn.StateDictError, match="size mismatch for bias"):
        model.load_state_dict({"bias": np.zeros(3)}, strict=False)
    with pytest.raises(nn.StateDictError, match="dtype mismatch for bias"):
        model.load_state_dict({"bias": np.zeros(2, dtype=np.complex64)}, strict=False)


# --------------------------------------------------------------------------- save / load


def _checkpoint():
    tg.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer_state = {
        "state": {0: {"step": 3, "exp_avg": np.ones((3, 4), dtype=np.float32),
                      "max": np.float64(2.5)},
                  3: {"step": 7, "momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                          "weight_decay": 0, "amsgrad": False, "foreach": None,
                          "name": "all", "params": [0, 1, 2, 3]}],
    }
    return {"model": model.state_dict(), "optimizer": optimizer_state, "epoch": 3,
            "best_accuracy": float("nan"), "history": [0.5, float("inf"), 2],
            "counts": np.arange(5, dtype=np.int16)}


def _assert_same(loaded, original):
    if isinstance(original, dict):  # state dicts are OrderedDicts; they load as dicts
        assert isinstance(loaded, dict), (loaded, original)
    else:
        assert type(loaded) is type(original), (loaded, original)
    if isinstance(original, dict):
        assert list(loaded) == list(original)
        for key in original:
            _assert_same(loaded[key], original[key])
    elif isinstance(original, (list, tuple)):
        assert len(loaded) == len(original)
        for a, b in zip(loaded, original):
            _assert_same(a, b)
    elif isinstance(original, Tensor):
        assert isinstance(loaded, Tensor) and loaded.dtype == original.dtype
        assert np.array_equal(loaded.data, original.data, equal_nan=True)
    elif isinstance(original, (np.ndarray, np.generic)):
        assert loaded.dtype == original.dtype and loaded.shape == original.shape
        assert np.array_equal(loaded, original, equal_nan=True)
    elif isinstance(original, float) and np.isnan(original):
        assert np.isnan(loaded)
    else:
        assert loaded == original


def test_save_load_round_trip_is_exact(tmp_path):
    checkpoint = _checkpoint()
    path = tmp_path / "checkpoint.npz"
    nn.save(checkpoint, path)
    loaded = nn.load(path)
    _assert_same(loaded, checkpoint)
    assert list(loaded["optimizer"]["state"]) == [0, 3]  # int keys stay ints
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    # Arrays are plain .npz members named by their key path.
    with np.load(path, allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["model/0.weight"],
                                      checkpoint["model"]["0.weight"])
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz"]


def test_a_loaded_checkpoint_restores_a_model(tmp_path):
    tg.manual_seed(4)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    nn.save({"model": model.state_dict()}, tmp_path / "ckpt")
    tg.manual_seed(5)
    fresh = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    fresh.load_state_dict(nn.load(tmp_path / "ckpt")["model"])
    x = Tensor(np.ones((2, 4), dtype=np.float32))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_tensors_come_back_as_tensors(tmp_path):
    nn.save({"t": Tensor([1.0, 2.0], requires_grad=True)}, tmp_path / "t.npz")
    loaded = nn.load(tmp_path / "t.npz")["t"]
    assert isinstance(loaded, Tensor) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded.data, [1.0, 2.0])


def test_failed_save_leaves_the_previous_file_intact_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    nn.save({"epoch": 1, "w": np.zeros(3)}, path)
    previous = path.read_bytes()

    def failing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"epoch": 2, "w": np.ones(3)}, path)
    assert path.read_bytes() == previous
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    monkeypatch.undo()
    assert nn.load(path)["epoch"] == 1


def test_object_arrays_are_refused_on_save(tmp_path):
    with pytest.raises(ValueError, match="pickle") as info:
        nn.save({"model": {"bad": np.array([{"a": 1}], dtype=object)}}, tmp_path / "x.npz")
    assert "model/bad" in str(info.value)
    assert not os.listdir(tmp_path)


def test_a_malicious_npz_with_an_object_array_does_not_load(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([object()], dtype=object), ok=np.zeros(2))
    with pytest.raises(ValueError, match="pickle"):
        nn.load(path)


def test_unsupported_values_and_keys_are_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="set"):
        nn.save({"a": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be str or int"):
        nn.save({(1, 2): 3}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="same name"):
        nn.save({"a/b": np.zeros(1), "a": {"b": np.ones(1)}}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)


def test_a_plain_npz_loads_as_a_flat_dict(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.eye(2, dtype=np.float32))
    loaded = nn.load(path)
    assert list(loaded) == ["weight"]
    assert loaded["weight"].dtype == np.float32
