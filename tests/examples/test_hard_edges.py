"""Hard edges (issue 16): every bad input ends with one clear message and a non-zero exit,
never a traceback, and every fault (signals, kills, full disk) leaves what was finished
intact. Each test reproduces one way a hostile but realistic user breaks the examples."""

from __future__ import annotations

import errno
import os
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sweep
from experiment import sweep_spec
from experiment.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from experiment.sweep_spec import SweepConfigError, expand
from fashion_mnist import MLPConfig

from tests.examples.test_sweep import lines_of, small_sweep, stand_in_train, validate

pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


# ----------------------------------------------------------------------------- sweep files


def test_a_huge_grid_is_refused_without_building_it_and_counted_lazily():
    wide = small_sweep(seed={"distribution": "int_uniform", "min": 0, "max": 2_000_000_000})
    spec = validate(wide)
    started = time.process_time()
    with pytest.raises(SweepConfigError) as error:
        expand(spec)
    assert "2,000,000,001 configurations" in str(error.value)
    assert "--count" in str(error.value)
    # With a count, the first combinations are listed without the rest.
    assert expand(spec, count=3) == [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    fine = validate(small_sweep(learning_rate={"distribution": "q_uniform", "min": 1e-3,
                                               "max": 1, "q": 1e-12},
                                hidden_size={"values": [8, 16]}))
    assert [g["hidden_size"] for g in expand(fine, count=3)] == [8, 16, 8]
    # Many moderate lists multiply into an absurd grid just the same.
    many = validate(small_sweep(**{name: {"values": list(range(1, 101))} for name in
                                   ("epochs", "batch_size", "hidden_size", "num_layers",
                                    "seed")}))
    with pytest.raises(SweepConfigError, match="10,000,000,000 configurations"):
        expand(many)
    assert len(expand(many, count=5)) == 5
    assert time.process_time() - started < 5  # nothing of the size of the grid was built


@pytest.mark.parametrize("name, spec, expected", [
    ("epochs", {"distribution": "uniform", "min": 1, "max": 5},
     "parameters.epochs: epochs takes whole numbers, but the uniform distribution draws "
     "real numbers"),
    ("batch_size", {"distribution": "log_uniform_values", "min": 16, "max": 256},
     "parameters.batch_size: batch_size takes whole numbers, but the log_uniform_values"),
    ("num_layers", {"distribution": "q_uniform", "min": 1, "max": 4, "q": 0.5},
     "parameters.num_layers: num_layers takes whole numbers, but q_uniform with step q=0.5"),
    ("epochs", {"min": 1.0, "max": 5.0},
     "parameters.epochs: epochs takes whole numbers, but the uniform distribution"),
    ("optimizer", {"distribution": "uniform", "min": 0, "max": 1},
     "parameters.optimizer: optimizer takes one of sgd"),
])
def test_a_distribution_of_the_wrong_type_is_refused_when_the_file_is_read(name, spec,
                                                                            expected):
    with pytest.raises(SweepConfigError) as error:
        validate({"method": "random", "parameters": {name: spec}})
    assert expected in str(error.value)


def test_online_validation_refuses_a_real_valued_distribution_for_a_whole_number_flag():
    with pytest.raises(SweepConfigError, match="parameters.epochs: epochs takes whole"):
        validate({"method": "bayes", "parameters": {"epochs": {
            "distribution": "normal", "mu": 5, "sigma": 1}}}, offline=False)


def test_the_sweep_file_type_error_ends_the_command_with_status_2(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("method: random\nparameters:\n  epochs:\n    distribution: uniform\n"
                    "    min: 1\n    max: 3\n")
    status = sweep.main(["--config", str(path), "--offline", "--count", "2", "--out",
                         str(tmp_path / "out"), "--wandb-mode", "disabled"],
                        train_fn=stand_in_train)
    assert status == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "parameters.epochs" in err and "overrides" not in err


@pytest.mark.parametrize("changed", [["--epochs-override", "3"], ["--limit-train", "900"],
                                     ["--seed", "4"]])
def test_resume_with_another_budget_is_refused(tmp_path, capsys, changed):
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8, 16]\n")
    argv = ["--config", str(config), "--offline", "--out", str(tmp_path / "out"),
            "--wandb-mode", "disabled", "--epochs-override", "2", "--limit-train", "500"]
    assert sweep.main(argv + ["--count", "1"], train_fn=stand_in_train) == 0
    capsys.readouterr()
    before = (tmp_path / "out" / "results.jsonl").read_bytes()
    resumed = argv + ["--resume"]
    for flag, value in zip(changed[::2], changed[1::2]):
        if flag in resumed:
            resumed[resumed.index(flag) + 1] = value
        else:
            resumed += [flag, value]
    assert sweep.main(resumed, train_fn=stand_in_train) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err and changed[0] in err, err
    assert (tmp_path / "out" / "results.jsonl").read_bytes() == before
    # The same budget resumes.
    assert sweep.main(argv + ["--resume"], train_fn=stand_in_train) == 0
    assert [r["config"]["epochs"] for r in lines_of(tmp_path / "out" / "results.jsonl")] == [2, 2]


def test_a_sweep_out_holding_a_training_run_is_refused(tmp_path, capsys):
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8]\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    (run / "summary.json").write_text('{"status": "finished"}')
    status = sweep.main(["--config", str(config), "--offline", "--out", str(run),
                         "--wandb-mode", "disabled"], train_fn=stand_in_train)
    assert status == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds a run" in err and "--out" in err
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "summary.json"]
    assert (run / "summary.json").read_text() == '{"status": "finished"}'


# ----------------------------------------------------------------------------- output folders


def _fashion_mnist(argv):
    import fashion_mnist

    return fashion_mnist.main([*map(str, argv)])


QUICK = ["-e", "1", "--limit-train", "300", "--wandb-mode", "disabled", "-q"]


def _files(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.needs_data
def test_out_holding_a_run_is_refused_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert _fashion_mnist([*QUICK, "--save", "--out", out]) == 0
    capsys.readouterr()
    before = _files(out)
    assert _fashion_mnist([*QUICK, "-a", "relu", "--out", out]) == EXIT_USAGE
    message = _one_error(capsys)
    assert f"--out {out} holds a run already" in message
    assert f"--resume {out}" in message and "new --out" in message and "--overwrite" in message
    assert _files(out) == before  # nothing mixed in

    assert _fashion_mnist([*QUICK, "-a", "relu", "--out", out, "--overwrite"]) == 0
    assert json.loads((out / "config.json").read_text())["activation"] == "ReLU"
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1
    assert not (out / "checkpoint.npz").exists()  # the old run's checkpoint went with it
    capsys.readouterr()

    # Without a checkpoint, --resume is no way out; the message says so.
    assert _fashion_mnist([*QUICK, "--out", out]) == EXIT_USAGE
    assert "it has no checkpoint, so --resume cannot continue it" in _one_error(capsys)


@pytest.mark.needs_data
def test_resume_into_another_runs_folder_is_refused(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert _fashion_mnist([*QUICK, "--save", "--lr-schedule", "constant", "--out", first]) == 0
    assert _fashion_mnist([*QUICK, "--out", second]) == 0
    capsys.readouterr()
    before = _files(second)
    assert _fashion_mnist(["--resume", first, "-e", "2", "--out", second, "-q",
                           "--wandb-mode", "disabled"]) == EXIT_USAGE
    assert f"--out {second} holds a run already" in _one_error(capsys)
    assert _files(second) == before


def test_the_cnn_example_refuses_a_folder_holding_a_run(tmp_path, capsys):
    import fashion_mnist_cnn

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "metrics.jsonl").write_text("")
    assert fashion_mnist_cnn.main(["--out", str(tmp_path), "--wandb-mode", "disabled"]) \
        == EXIT_USAGE
    assert "holds a run already (config.json, metrics.jsonl)" in _one_error(capsys)


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_a_report_out_holding_other_work_is_refused(tmp_path, capsys, kind):
    import report

    (tmp_path / ("config.json" if kind == "run" else "results.jsonl")).write_text("{}\n")
    before = _files(tmp_path)
    assert report.main(["--out", str(tmp_path), "--budget", "tiny", "-q"]) == EXIT_USAGE
    assert f"holds a {kind}" in _one_error(capsys)
    assert _files(tmp_path) == before and not (tmp_path / "figures").exists()


# Each way --out cannot be written, made real where the machine allows (root ignores
# permissions, so those are simulated at the system call).
def _out_problems(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    yield "/dev/null", "is a file, not a folder"
    yield blocker / "out", "a part of the path is a file"
    for code, reason in ((errno.EACCES, "permission denied"),
                         (errno.EROFS, "read-only"), (errno.ENOSPC, "the disk is full")):
        def refuse(path, *args, code=code, **kwargs):
            raise OSError(code, os.strerror(code), str(path))

        monkeypatch.setattr(os, "mkdir", refuse)
        yield tmp_path / "new" / "out", reason
        monkeypatch.undo()


@pytest.mark.needs_data
def test_an_out_that_cannot_be_written_gives_one_message(tmp_path, monkeypatch, capsys):
    import report

    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8]\n")
    tried = 0
    for out, reason in _out_problems(tmp_path, monkeypatch):
        for command in (
                lambda: _fashion_mnist([*QUICK, "--out", out]),
                lambda: sweep.main(["--config", str(config), "--offline", "--out", str(out),
                                    "--wandb-mode", "disabled"], train_fn=stand_in_train),
                lambda: report.main(["--out", str(out), "--budget", "tiny", "-q"])):
            assert command() == EXIT_FAILED, (out, reason)
            message = _one_error(capsys)
            assert message.startswith("error: ") and reason in message, message
            tried += 1
    assert tried == 15


class FullDisk:
    """Makes the disk 'fill up' once the first checkpoint is written: from then on every
    atomic write (checkpoint, JSON) fails with ENOSPC midway, after its temporary file
    was created, while a short appended line still fits, as on a nearly full disk."""

    def __init__(self, monkeypatch):
        from experiment import files
        from tinygrad_fm.nn import serialization

        self.full, real = False, serialization.atomic_write

        import contextlib

        @contextlib.contextmanager
        def atomic_write(path, *args, **kwargs):
            with real(path, *args, **kwargs) as file:
                if self.full:
                    file.write(b"x" if "b" in (args[0] if args else kwargs.get("mode", "wb"))
                               else "x")
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                yield file
            if Path(path).name == "checkpoint.npz":
                self.full = True

        monkeypatch.setattr(serialization, "atomic_write", atomic_write)
        monkeypatch.setattr(files, "atomic_write", atomic_write)


def _temporaries(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.needs_data
def test_a_full_disk_stops_the_run_with_its_last_checkpoint_intact(tmp_path, monkeypatch,
                                                                    capsys):
    from tinygrad_fm import nn

    out = tmp_path / "run"
    FullDisk(monkeypatch)
    argv = ["-e", "3", "--limit-train", "300", "--lr-schedule", "constant",
            "--wandb-mode", "disabled", "-q", "--save", "--out", out]
    assert _fashion_mnist(argv) == EXIT_FAILED
    message = _one_error(capsys)
    assert "No space" in message or "the disk is full" in message
    assert f"the checkpoint of epoch 1 in {out / 'checkpoint.npz'} is intact" in message
    assert f"--resume {out / 'checkpoint.npz'}" in message
    assert nn.load(out / "checkpoint.npz")["epoch"] == 1
    # metrics.jsonl never runs ahead of the checkpoint; nothing half-written is left
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1
    assert _temporaries(out) == []

    monkeypatch.undo()  # space is freed
    assert _fashion_mnist(["--resume", out, "-q", "--wandb-mode", "disabled"]) == 0
    assert [json.loads(line)["epoch"] for line in
            (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    assert json.loads((out / "summary.json").read_text())["status"] == "finished"


def test_a_full_disk_stops_a_sweep_with_its_recorded_rows_intact(tmp_path, monkeypatch,
                                                                 capsys):
    import multiprocessing

    from experiment import sweep_runner

    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8, 16, 32]\n")
    real, rows = sweep_runner.append_json_line, []

    def append(path, row, sync=False):
        if rows:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        rows.append(row)
        real(path, row, sync)

    monkeypatch.setattr(sweep_runner, "append_json_line", append)
    argv = ["--config", str(config), "--offline", "--out", str(tmp_path / "out"),
            "--wandb-mode", "disabled", "--workers", "1"]
    assert sweep.main(argv, train_fn=stand_in_train) == EXIT_FAILED
    message = _one_error_line(capsys)
    assert "results.jsonl: the disk is full" in message
    assert [r["parameters"]["hidden_size"] for r in lines_of(tmp_path / "out" / "results.jsonl")] == [8]
    assert multiprocessing.active_children() == []
    monkeypatch.undo()
    assert sweep.main(argv + ["--resume"], train_fn=stand_in_train) == 0
    assert len(lines_of(tmp_path / "out" / "results.jsonl")) == 3


def _one_error_line(capsys) -> str:
    """The one error line of a command that also printed progress on stdout."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.strip()]
    return line


# ----------------------------------------------------------------------------- impossible sizes


def _limited_memory():
    limit = 3 * 1024 ** 3  # a reproduction that tries to allocate must fail, not swap
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.needs_data
@pytest.mark.parametrize("script, flags, expected", [
    ("fashion_mnist.py", ["-sz", "100000000"],
     "-nhl 4 -sz 100000000: training this network needs about"),
    ("fashion_mnist.py", ["-nhl", "1000", "-sz", "100000"], "-nhl 1000 -sz 100000"),
    ("fashion_mnist.py", ["--augment-shift", "100000"],
     "--augment-shift 100000 would move the 28x28-pixel images out of the frame"),
    ("fashion_mnist.py", ["--augment-shift", "28"], "fewer pixels than the image side (28)"),
    ("fashion_mnist_cnn.py", ["-c", "100000"], "-c 100000 -sz 128: training this network"),
])
def test_impossible_sizes_are_refused_before_anything_is_allocated(tmp_path, script, flags,
                                                                   expected):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *flags, "-e", "1", "--limit-train", "100",
         "--wandb-mode", "disabled", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, preexec_fn=_limited_memory)
    assert result.returncode == EXIT_USAGE, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert expected in result.stderr
    assert not (tmp_path / "run").exists()  # nothing written, not even an empty folder


# ----------------------------------------------------------------------------- faults


def _start(argv, env_extra=None, **options):
    import os as _os

    env = dict(_os.environ, WANDB_SILENT="true", **(env_extra or {}))
    env.pop("WANDB_MODE", None)
    return subprocess.Popen([sys.executable, str(EXAMPLES / "fashion_mnist.py"), *map(str, argv)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **options)


def _wait_for(path: Path, process, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {path.name} appeared: {process.communicate()}")
        assert time.monotonic() < deadline, f"{path.name} did not appear"
        time.sleep(0.05)


LONG_RUN = ["-e", "500", "--limit-train", "1000", "--lr-schedule", "constant", "--save", "-q"]


@pytest.mark.needs_data
def test_leftover_temporary_files_of_a_killed_write_are_removed_on_resume(tmp_path):
    from tinygrad_fm import nn

    out = tmp_path / "run"
    process = _start([*LONG_RUN, "--wandb-mode", "disabled", "--out", out])
    _wait_for(out / "checkpoint.npz", process)
    process.kill()  # SIGKILL: no chance to clean anything up
    process.communicate(timeout=30)
    kept = nn.load(out / "checkpoint.npz")["epoch"]
    # what a SIGKILL in the middle of atomic_write leaves
    leftovers = [".checkpoint.npz.0123456789ab.tmp", ".summary.json.abcdef012345.tmp"]
    for name in leftovers:
        (out / name).write_bytes(b"half a file")
    (out / "notes.tmp").write_text("the user's own file")
    result = subprocess.run([sys.executable, str(EXAMPLES / "fashion_mnist.py"), "--resume",
                             str(out), "-e", str(kept + 1), "-q", "--wandb-mode", "disabled"],
                            capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert _temporaries(out) == ["notes.tmp"]
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs == list(range(1, kept + 2))  # nothing of the killed run was lost
    assert nn.load(out / "checkpoint.npz")["epoch"] == kept + 1


@pytest.mark.needs_data
def test_an_interrupt_with_save_before_any_epoch_ends_says_no_epoch_finished(tmp_path):
    out = tmp_path / "run"
    process = _start(["-e", "1", "--save", "--wandb-mode", "disabled", "--out", out, "-q"])
    # samples.png is the last thing written before epoch 1, which takes seconds here
    _wait_for(out / "samples.png", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert "interrupted after 0 completed epoch(s); no epoch finished, so no checkpoint was " \
           "written yet" in stderr
    assert "add --save" not in stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"


# A stand-in wandb whose runs take seconds to finish, as wandb's do when it syncs; the
# run says when it starts finishing, so that a second signal can be sent right then.
SLOW_WANDB = '''
import os, time, types
from pathlib import Path

class Run:
    id = "slow1"
    def __init__(self, dir, **kwargs):
        self.dir = str(Path(dir) / "wandb" / "offline-run-slow" / "files")
        self.summary = {}
    def log(self, *args, **kwargs):
        pass
    def finish(self, exit_code=None):
        Path(os.environ["FINISHING_MARKER"]).touch()
        time.sleep(float(os.environ.get("FINISH_SECONDS", "4")))

def login(prompt=True, verify=True):
    return False

def init(settings=None, **kwargs):
    return Run(**kwargs)

Settings = lambda **kwargs: kwargs
Image = lambda path: path
plot = types.SimpleNamespace(confusion_matrix=lambda **kwargs: None)
'''


@pytest.mark.needs_data
@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_stop_while_the_first_is_recorded_still_exits_130(tmp_path, second):
    from tinygrad_fm import nn

    fake = tmp_path / "fake" / "wandb"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(SLOW_WANDB)
    marker, out = tmp_path / "finishing", tmp_path / "run"
    process = _start([*LONG_RUN, "--wandb-mode", "offline", "--out", out],
                     env_extra={"PYTHONPATH": str(fake.parent), "FINISHING_MARKER": str(marker)})
    _wait_for(out / "checkpoint.npz", process)
    process.send_signal(signal.SIGINT)
    _wait_for(marker, process, seconds=60)
    process.send_signal(second)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr and "continue with --resume" in stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    assert nn.load(out / "checkpoint.npz")["epoch"] >= 1


@pytest.mark.needs_data
def test_sigterm_of_a_single_run_stops_it_like_ctrl_c(tmp_path):
    out = tmp_path / "run"
    process = _start([*LONG_RUN, "--wandb-mode", "disabled", "--out", out])
    _wait_for(out / "checkpoint.npz", process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert re_search(r"interrupted after \d+ completed epoch\(s\); the checkpoint of epoch \d+ "
                     r"is kept in \S+; continue with --resume", stderr)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["error"] == \
        "stopped with Ctrl-C or SIGTERM"
    assert summary["epochs_completed"] == len((out / "metrics.jsonl").read_text().splitlines())


def re_search(pattern, text):
    import re

    return re.search(pattern, text)


# ----------------------------------------------------------------------------- divergence


@pytest.mark.needs_data
@pytest.mark.parametrize("flags, cause", [
    (["-eps", "0"], "-eps 0 lets adam divide by zero"),
    (["-o", "rmsprop", "-eps", "0"], "-eps 0 lets rmsprop divide by zero"),
    (["-o", "sgd", "-w_d", "1e30"], "-w_d 1e+30 with -lr 0.001: each step takes"),
    (["-o", "sgd", "-a", "relu", "-lr", "1e6"], "Try a smaller learning rate, e.g. -lr 100000"),
])
def test_divergence_names_the_setting_that_caused_it(tmp_path, capsys, flags, cause):
    assert _fashion_mnist([*flags, *QUICK, "--out", tmp_path / "run"]) == EXIT_FAILED
    message = _one_error(capsys)
    assert message.startswith("error: training diverged") and cause in message
    if "-lr" not in flags:
        assert "smaller learning rate" not in message


@pytest.mark.needs_data
def test_a_checkpoint_holding_nan_weights_is_refused_on_resume(tmp_path, capsys):
    from tinygrad_fm import nn

    out = tmp_path / "run"
    assert _fashion_mnist([*QUICK, "--save", "--lr-schedule", "constant", "--out", out]) == 0
    state = nn.load(out / "checkpoint.npz")
    state["model"]["2.weight"][0, 0] = float("nan")
    nn.save(state, out / "checkpoint.npz")
    capsys.readouterr()
    before = _files(out)
    assert _fashion_mnist(["--resume", out, "-e", "2", "-q", "--wandb-mode", "disabled"]) \
        == EXIT_FAILED
    message = _one_error(capsys)
    assert "holds NaN or infinite values (2.weight)" in message
    assert "smaller learning rate" not in message
    assert _files(out) == before


# ----------------------------------------------------------------------------- bad checkpoints


def _tamper(key):
    def change(state):
        import numpy as np

        if key == "shape":
            state["model"]["0.weight"] = np.zeros((3, 3), np.float32)
        elif key == "extra":
            state["model"]["9.weight"] = np.zeros(3, np.float32)
        elif key == "missing":
            del state["model"]["0.bias"]
        elif key == "history":
            del state["history"]
        elif key == "generator":
            state["generator"] = {"bit_generator": "nonsense"}
        elif key == "optimizer":
            state["optimizer"] = {"state": "?"}
        elif key == "format":
            state["format"] = 99
        elif key == "config":
            state["config"] = ["not", "a", "mapping"]
        elif key == "another_model":
            state["config"] = {**state["config"], "channels": 32}
        elif key == "time":
            state["train_time_s"] = "soon"
        return state

    return change


def _bytes_change(kind):
    def change(data: bytes) -> bytes:
        if kind == "empty":
            return b""
        if kind == "half":
            return data[:len(data) // 2]
        if kind == "head":
            return data[:100]
        if kind == "bit_flip":
            middle = len(data) // 2
            return data[:middle] + bytes([data[middle] ^ 0x40]) + data[middle + 1:]
        if kind == "text":
            return b"this is not a checkpoint\n"
        if kind == "foreign_npz":
            import io

            import numpy as np

            buffer = io.BytesIO()
            np.savez(buffer, weights=np.ones(3))
            return buffer.getvalue()
        if kind == "pickle_npz":
            import io

            import numpy as np

            buffer = io.BytesIO()
            np.savez(buffer, payload=np.array([{"a": 1}], dtype=object))
            return buffer.getvalue()
        raise AssertionError(kind)

    return change


BAD_CHECKPOINTS = ([("bytes", kind) for kind in ("empty", "half", "head", "bit_flip", "text",
                                                "foreign_npz", "pickle_npz")]
                   + [("state", key) for key in ("shape", "extra", "missing", "history",
                                                 "generator", "optimizer", "format", "config",
                                                 "another_model", "time")])


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "run"
    assert _fashion_mnist([*QUICK, "--save", "--lr-schedule", "constant", "--out", out]) == 0
    return out / "checkpoint.npz"


@pytest.mark.needs_data
@pytest.mark.parametrize("how, kind", BAD_CHECKPOINTS)
def test_resuming_a_damaged_checkpoint_gives_one_message_naming_it(tmp_path, capsys,
                                                                   good_checkpoint, how, kind):
    from tinygrad_fm import nn

    path = tmp_path / "checkpoint.npz"
    if how == "bytes":
        path.write_bytes(_bytes_change(kind)(good_checkpoint.read_bytes()))
    else:
        nn.save(_tamper(kind)(nn.load(good_checkpoint)), path)
    capsys.readouterr()
    before = _files(tmp_path)
    status = _fashion_mnist(["--resume", path, "-e", "2", "-q", "--wandb-mode", "disabled"])
    message = _one_error(capsys)
    assert status in (EXIT_FAILED, EXIT_USAGE)
    assert message.startswith("error: ") and str(path) in message, message
    assert "pickled" not in message or kind == "pickle_npz"
    assert _files(tmp_path) == before  # nothing written beside it


@pytest.mark.needs_data
@pytest.mark.parametrize("where", ["missing", "folder_without_one"])
def test_resuming_from_nowhere_names_the_path(tmp_path, capsys, where):
    target = tmp_path / "nothing-here.npz" if where == "missing" else tmp_path
    assert _fashion_mnist(["--resume", target, "-q", "--wandb-mode", "disabled"]) == EXIT_FAILED
    message = _one_error(capsys)
    assert "no checkpoint at" in message and str(tmp_path) in message


STUBBORN_TRAINING = '''
import os, signal, time
from pathlib import Path

def train(config, options):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # makes stopping the workers take a while
    Path(os.environ["STARTED_MARKER"]).touch()
    time.sleep(120)
'''


def _start_sweep(tmp_path, name: str, training_source: str, *extra_argv):
    """A sweep over hidden sizes 8 and 16 in a child process, training with module
    ``name`` (``training_source``, written to tmp_path; it touches $STARTED_MARKER when
    the run to interrupt has begun): (process, the marker, the sweep's argv)."""
    (tmp_path / f"{name}.py").write_text(training_source)
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8, 16]\n")
    marker = tmp_path / "started"
    argv = ["--config", str(config), "--offline", "--out", str(tmp_path / "out"),
            "--wandb-mode", "disabled", *extra_argv]
    driver = (f"import sys; sys.path[:0] = [{str(EXAMPLES)!r}, {str(tmp_path)!r}]\n"
              f"import {name}, sweep\nfrom experiment.cli import exit_with\n"
              f"exit_with(lambda: sweep.main({argv!r}, train_fn={name}.train))\n")
    env = dict(__import__("os").environ, STARTED_MARKER=str(marker))
    process = subprocess.Popen([sys.executable, "-c", driver], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, marker, argv


def test_a_second_ctrl_c_while_a_sweep_stops_its_workers_still_exits_130(tmp_path):
    process, marker, _ = _start_sweep(tmp_path, "stubborn", STUBBORN_TRAINING)
    try:
        _wait_for(marker, process, seconds=60)
        process.send_signal(signal.SIGINT)
        time.sleep(1.0)  # the sweep is now waiting for its stubborn worker to stop
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr and "continue with:" in stderr


def test_random_samples_of_a_huge_integer_range_are_drawn_without_listing_it():
    spec = validate(small_sweep(method="random", seed={"distribution": "int_uniform",
                                                       "min": 0, "max": 2_000_000_000}))
    started = time.process_time()
    samples = expand(spec, count=5, seed=1)
    assert time.process_time() - started < 2
    assert len({s["seed"] for s in samples}) == 5
    assert all(0 <= s["seed"] <= 2_000_000_000 for s in samples)


def test_a_sweep_in_which_every_run_failed_exits_1(tmp_path, capsys):
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [13]\n"
                      "  learning_rate:\n    values: [0.001]\n")
    status = sweep.main(["--config", str(config), "--offline", "--out", str(tmp_path / "out"),
                         "--wandb-mode", "disabled"], train_fn=stand_in_train)
    assert status == EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: no run of the sweep finished" in err
    assert [r["status"] for r in lines_of(tmp_path / "out" / "results.jsonl")] == ["failed"]


SLOW_SECOND_RUN = '''
import os, time
from pathlib import Path

def train(config, options):
    if config.hidden_size == 16:
        Path(os.environ["STARTED_MARKER"]).touch()
        time.sleep(120)
    history = [{"epoch": 1, "val_accuracy": 0.5, "val_loss": 1.0}]
    return {"status": "finished", "history": history, "test_accuracy": 0.5,
            "test_loss": 1.0, "wandb_dir": None}
'''


def test_sigterm_stops_a_sweep_like_ctrl_c_and_resume_runs_the_rest(tmp_path, capsys):
    process, marker, argv = _start_sweep(tmp_path, "slow", SLOW_SECOND_RUN, "--workers", "1")
    out = tmp_path / "out"
    try:
        _wait_for(marker, process, seconds=60)
        time.sleep(0.5)  # let the sweep record the first run
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert "interrupted: 1 of 2 runs are recorded" in stderr and "--resume" in stderr
    assert [r["parameters"]["hidden_size"] for r in lines_of(out / "results.jsonl")] == [8]
    assert sweep.main(argv + ["--resume"], train_fn=stand_in_train) == 0
    assert [r["parameters"]["hidden_size"] for r in lines_of(out / "results.jsonl")] == [8, 16]


@pytest.mark.needs_data
def test_compare_losses_refuses_its_own_earlier_folder_unless_overwrite(tmp_path, capsys):
    import compare_losses

    argv = [*QUICK, "--out", str(tmp_path / "cmp")]
    assert compare_losses.main(argv) == 0
    capsys.readouterr()
    assert compare_losses.main(argv) == EXIT_USAGE
    assert "holds a run already" in _one_error(capsys)
    assert compare_losses.main([*argv, "--overwrite"]) == 0


def test_an_appended_line_that_does_not_fit_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    from experiment import files

    path = tmp_path / "metrics.jsonl"
    files.append_json_line(path, {"epoch": 1})
    before = path.read_bytes()

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", disk_full)  # the data went in, syncing failed
    with pytest.raises(OSError):
        files.append_json_line(path, {"epoch": 2, "val_loss": 0.5}, sync=True)
    assert path.read_bytes() == before


@pytest.mark.needs_data
def test_ctrl_c_wrapped_by_python_during_an_import_stops_the_run_like_ctrl_c(tmp_path):
    # Python wraps a KeyboardInterrupt raised in __set_name__ (a Ctrl-C while matplotlib
    # is imported for the first figure) into a RuntimeError
    from experiment.config import RunOptions
    from experiment.training import TrainingInterrupted, TrainingRun, build_optimizer
    from tinygrad_fm import nn

    options = RunOptions(out_dir=tmp_path, save=True, wandb_mode="disabled", quiet=True)
    with pytest.raises(TrainingInterrupted, match="no epoch finished"):
        with TrainingRun(MLPConfig, MLPConfig(epochs=1, limit_train=300), options) as run:
            data = run.image_data()
            model = nn.Linear(data.features, data.num_classes)
            run.start(model, build_optimizer(run.config, model.parameters()), data=data)
            raise RuntimeError("Error calling __set_name__") from KeyboardInterrupt()
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "interrupted"
