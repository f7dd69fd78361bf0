"""Fixtures of the examples' tests: a stand-in wandb, the scripts run as programs, and the
``needs_data`` marker (tests that train on Fashion-MNIST)."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_data"):
        folder = os.environ.get("FASHION_MNIST_DIR")
        if not (folder and Path(folder).is_dir()):
            pytest.skip("set FASHION_MNIST_DIR to a folder with the Fashion-MNIST IDX files "
                        "(make test does this when ../shared/datasets exists)")


class FakeRun:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.id = "fake123"
        self.dir = str(Path(kwargs["dir"]) / "wandb" / "offline-run-x" / "files")
        self.summary = {}
        self.logged = []
        self.exit_code = "open"

    def log(self, data, step=None):
        self.logged.append((step, data))

    def finish(self, exit_code=None):
        self.exit_code = exit_code


def make_fake_wandb(logged_in: bool):
    """A stand-in for the wandb module that records its runs in ``module.runs``."""
    module = types.ModuleType("wandb")
    module.runs = []
    module.login = lambda prompt=True, verify=True: logged_in if not prompt else \
        pytest.fail("wandb.login must not prompt")

    def init(settings=None, **kwargs):
        run = FakeRun(**kwargs)
        module.runs.append(run)
        return run

    module.init = init
    module.Settings = lambda **kwargs: kwargs
    module.Image = lambda path: ("image", Path(path).name)
    module.Table = lambda columns: types.SimpleNamespace(columns=columns, rows=[],
                                                         add_data=lambda *r: None)
    module.plot = types.SimpleNamespace(
        confusion_matrix=lambda **kwargs: ("confusion_matrix", kwargs))
    return module


@pytest.fixture
def fake_wandb(monkeypatch):
    """``fake_wandb(logged_in)``: install a stand-in wandb module in place of the real one
    (with $WANDB_MODE unset) and return it; ``fake_wandb.make(logged_in)`` only builds one."""

    def install(logged_in: bool):
        module = make_fake_wandb(logged_in)
        monkeypatch.setitem(sys.modules, "wandb", module)
        monkeypatch.delenv("WANDB_MODE", raising=False)
        return module

    install.make = make_fake_wandb
    return install


@pytest.fixture(scope="session")
def fake_wandb_module():
    """``fake_wandb_module(logged_in)`` builds a stand-in wandb module without installing
    it (for fixtures wider than one test, which install it themselves)."""
    return make_fake_wandb


@pytest.fixture
def run_example():
    """``run_example("fashion_mnist.py", *args, timeout=180, env_extra=None)``: run a
    script of examples/ from the repository root, as a user would; returns the
    CompletedProcess (text output)."""

    def run(script, *args, timeout=180, env_extra=None):
        env = dict(os.environ, WANDB_SILENT="true")
        env.pop("WANDB_MODE", None)
        env.update(env_extra or {})
        return subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)],
                              capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env=env)

    return run
