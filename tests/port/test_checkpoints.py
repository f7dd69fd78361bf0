"""torch.save / torch.load of nested checkpoints without pickle: round trips of model,
optimizer and scheduler state through paths and file objects, real torch's state dicts
loading into ours, and clear refusals of malformed structures and zip bombs."""

import io
import json
import zipfile

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn, optim
from tinygrad_fm.nn import serialization


def _trained():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    scheduler = optim.lr_scheduler.StepLR(optimizer, 2, 0.5)
    for _ in range(3):
        loss = model(tg.randn(5, 3)).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler


def test_nested_checkpoint_round_trips_through_a_path_and_a_file_object(tmp_path):
    model, optimizer, scheduler = _trained()
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "epoch": 3, "best": 0.25,
                  "tags": ("a", None, True), "rng": tg.get_rng_state(), "raw": np.arange(3)}
    buffer = io.BytesIO()
    tg.save(checkpoint, buffer)
    buffer.seek(0)
    for loaded in (tg.load(buffer), _through_file(checkpoint, tmp_path / "ckpt.pt")):
        assert loaded["epoch"] == 3 and loaded["best"] == 0.25
        assert loaded["tags"] == ("a", None, True)
        assert isinstance(loaded["model"]["0.weight"], Tensor)
        np.testing.assert_array_equal(loaded["raw"], np.arange(3))
        fresh, fresh_optimizer, fresh_scheduler = _trained()
        fresh.load_state_dict(loaded["model"])
        fresh_optimizer.load_state_dict(loaded["optimizer"])
        fresh_scheduler.load_state_dict(loaded["scheduler"])
        assert fresh_scheduler.get_last_lr() == scheduler.get_last_lr()
        for a, b in zip(fresh.parameters(), model.parameters()):
            np.testing.assert_array_equal(a.data, b.data)
        generator = tg.Generator().set_state(loaded["rng"])
        np.testing.assert_array_equal(generator.rng.random(3),
                                      tg.Generator().set_state(tg.get_rng_state()).rng.random(3))


def _through_file(obj, path):
    tg.save(obj, path)
    return tg.load(path, map_location="cpu", weights_only=True)


def test_a_real_torch_state_dict_loads_into_our_model():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                    torch.nn.Linear(4, 2))
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ours.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert list(ours.state_dict()) == list(reference.state_dict())


def test_load_refuses_other_devices_by_name(tmp_path):
    tg.save({"a": 1}, tmp_path / "x.pt")
    with pytest.raises(RuntimeError, match="'cuda:0' is not available"):
        tg.load(tmp_path / "x.pt", map_location="cuda:0")


def _with_structure(tmp_path, structure_text, arrays=None):
    path = tmp_path / "bad.npz"
    members = dict(arrays or {})
    members[serialization.STRUCTURE_KEY] = np.array(structure_text)
    np.savez(path, **members)
    return path


@pytest.mark.parametrize("root", [
    {"dict": 5}, {"dict": [[1]]}, {"dict": [[[1], {"value": 1}]]}, {"list": {"a": 1}},
    {"tensor": 3}, {"array": "missing"}, {"value": [1, 2]}, {"float": 1.5}, {"weird": 1},
    [1, 2], {"tensor": "x", "array": "x"}, {"scalar": "x"},
])
def test_malformed_structures_give_one_clear_error_naming_the_file(tmp_path, root):
    text = json.dumps({"format": 1, "root": root})
    path = _with_structure(tmp_path, text, {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="bad.npz") as error:
        tg.load(path)
    assert "damaged" in str(error.value) or "not written by save" in str(error.value)


def test_deeply_nested_structure_is_refused_without_recursion_error(tmp_path):
    deep = '{"list": [' * 100000 + '{"value": 1}' + ']}' * 100000
    path = _with_structure(tmp_path, '{"format": 1, "root": ' + deep + '}')
    with pytest.raises(ValueError, match="bad.npz"):
        tg.load(path)
    nested = {"value": 1}
    for _ in range(serialization.MAX_DEPTH + 5):
        nested = {"list": [nested]}
    path = _with_structure(tmp_path, json.dumps({"format": 1, "root": nested}))
    with pytest.raises(ValueError, match="nested more than"):
        tg.load(path)
    with pytest.raises(ValueError, match="not valid JSON"):
        tg.load(_with_structure(tmp_path, "{not json"))
    with pytest.raises(ValueError, match="lacks"):
        tg.load(_with_structure(tmp_path, '{"root": {"value": 1}}'))


def test_a_zip_bomb_is_refused_from_its_declared_sizes_before_reading(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("a.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "|u1", "fortran_order": False, "shape": (64 * 2**20,)})
            chunk = bytes(2**20)
            for _ in range(64):
                member.write(chunk)
    assert path.stat().st_size < 2**20  # 64 MiB of zeros in well under 1 MiB
    with pytest.raises(ValueError, match="zip bomb"):
        tg.load(path, max_bytes=2**20)
    assert tg.load(path)["a.npy".removesuffix(".npy")].size == 64 * 2**20  # under the default
    monkey_limit = serialization.MAX_UNCOMPRESSED_BYTES
    try:
        serialization.MAX_UNCOMPRESSED_BYTES = 2**20
        with pytest.raises(ValueError, match="bomb.npz"):
            tg.load(path)
    finally:
        serialization.MAX_UNCOMPRESSED_BYTES = monkey_limit


def test_save_is_atomic_and_refuses_unsupported_values(tmp_path):
    path = tmp_path / "c.pt"
    tg.save({"a": 1}, path)
    with pytest.raises(TypeError, match="cannot store a object"):
        tg.save({"a": object()}, path)
    assert tg.load(path) == {"a": 1}  # the failed save left the old file in place
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]
    tg.save([tg.ones(2), 3], path)  # not only dicts at the top, as torch.save
    loaded = tg.load(path)
    assert isinstance(loaded, list) and loaded[1] == 3
