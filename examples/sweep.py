"""Hyper-parameter sweeps of examples/fashion_mnist.py, online with wandb's sweep service or
offline on this machine, and the analysis of their results.

    python examples/sweep.py --count 20                      # wandb sweep + agent (logged in)
    python examples/sweep.py --offline --count 20 --workers 2  # the same file, run here
    python examples/sweep.py --offline --count 20 --workers 2 --resume   # after Ctrl-C
    python examples/sweep.py --analyze runs/sweeps/sweep/results.jsonl

The sweep file (default examples/sweep.yaml) is in wandb's sweep-configuration format;
its parameter names are the long flags of fashion_mnist.py, so a sweep run is exactly a
training run.

Online (the default when wandb has credentials) creates the sweep with ``wandb.sweep``,
prints its id and the ``wandb agent ENTITY/PROJECT/ID`` command that starts more agents on
other machines, and runs an agent here with ``wandb.agent``: wandb's controller hands out
the configurations (grid, random or bayes).

Offline (``--offline``, or automatically without wandb credentials) expands the file here
(``grid``: every combination in a stable order; ``random``: ``--count`` seeded samples;
``bayes`` needs wandb's service) and runs the configurations in ``--workers`` processes,
each with a single-threaded BLAS. Everything goes into one folder (``--out``, default
``runs/sweeps/<sweep file name>``): ``results.jsonl`` (one JSON object per finished run,
appended as runs finish), ``runs/<run name>-<key>/`` (each run's folder and offline wandb
run, all in one wandb group), and the analysis (``summary.md``, ``summary.json``, PNGs).

Programmatic use (the report does this)::

    import sweep, sweep_analysis
    spec = sweep.validate_sweep_config(sweep.load_sweep_config("examples/sweep.yaml"))
    rows = sweep.run_sweep(spec, "runs/sweeps/quick", workers=2, count=10, seed=0,
                           overrides={"epochs": 2, "limit_train": 5000})
    summary = sweep_analysis.analyze("runs/sweeps/quick/results.jsonl")

Public API::

    load_sweep_config(path) -> dict
    validate_sweep_config(config, offline=True) -> SweepSpec
    expand(spec, count=None, seed=0) -> list[dict]          (the sweep's parameter values)
    config_key(config) -> str                                (stable hash of a run config)
    run_sweep(spec, out_dir, *, workers, count, seed, resume, overrides, ...) -> list[dict]
    run_online(sweep_config, *, count, project, entity, out_dir, ...) -> sweep id
    read_results(path) -> list[dict]
    SweepConfigError, SweepInterrupted, SweepWorkerDied
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import shlex
import shutil
import signal
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402
import fashion_mnist  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG = EXAMPLES_DIR / "sweep.yaml"
DEFAULT_ROOT = Path("runs") / "sweeps"
RESULTS_NAME = "results.jsonl"

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

METHODS = ("grid", "random", "bayes")
#: Top-level keys of wandb's sweep configuration that this script understands.
SWEEP_KEYS = ("method", "metric", "parameters", "run_cap", "name", "description", "project",
              "entity", "program", "command", "early_terminate")
METRIC_NAMES = ("val_accuracy", "val_loss", "train_accuracy", "train_loss", "test_accuracy",
                "test_loss")
#: Distributions the offline sweep samples itself.
OFFLINE_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "uniform", "q_uniform",
                         "log_uniform_values")
#: Everything else wandb's service knows; accepted online only.
WANDB_ONLY_DISTRIBUTIONS = ("log_uniform", "q_log_uniform", "q_log_uniform_values",
                            "inv_log_uniform", "inv_log_uniform_values", "normal", "q_normal",
                            "log_normal", "q_log_normal", "beta", "q_beta")
PARAMETER_FIELDS = ("values", "value", "distribution", "min", "max", "q", "probabilities",
                    "mu", "sigma", "a", "b")
#: Configuration keys that name where a run is logged, not what it trains.
LOGGING_KEYS = ("wandb_project", "wandb_entity")

#: Worker processes run with a single-threaded BLAS, so K workers use K cores.
PINNED_THREADS_ENVIRONMENT = {
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1",
}


class SweepConfigError(ValueError):
    """The sweep file is malformed; the message names the offending key."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an offline sweep; every recorded run is kept for ``--resume``."""

    def __init__(self, recorded: int, total: int, results_path: Path):
        self.recorded, self.total, self.results_path = recorded, total, results_path
        super().__init__(f"interrupted: {recorded} of {total} runs are recorded in "
                         f"{results_path}; the runs in progress were stopped and will run "
                         "again with --resume")


class SweepWorkerDied(RuntimeError):
    """A worker process died without reporting (killed, out of memory)."""


# ----------------------------------------------------------------------------- the sweep file


@dataclass(frozen=True)
class Parameter:
    """One entry of ``parameters``: fixed ``values`` (categorical or constant) or a
    numeric distribution between ``low`` and ``high``."""

    name: str
    distribution: str
    values: tuple = ()
    probabilities: Optional[tuple] = None
    low: Optional[float] = None
    high: Optional[float] = None
    q: Optional[float] = None

    def sample(self, rng: np.random.Generator):
        if self.distribution == "constant":  # no draw: pinning a setting leaves the others'
            return self.values[0]              # samples as they were
        if self.distribution == "categorical":
            index = rng.choice(len(self.values), p=self.probabilities)
            return self.values[int(index)]
        if self.distribution == "int_uniform":
            return int(rng.integers(int(self.low), int(self.high), endpoint=True))
        if self.distribution == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.distribution == "q_uniform":
            return _quantise(rng.uniform(self.low, self.high), self.q)
        if self.distribution == "log_uniform_values":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        raise SweepConfigError(f"parameters.{self.name}: the {self.distribution} distribution "
                               "is sampled by wandb's sweep service only")

    def grid_values(self) -> tuple:
        if self.distribution in ("constant", "categorical"):
            return self.values
        if self.distribution == "int_uniform":
            return tuple(range(int(self.low), int(self.high) + 1))
        if self.distribution == "q_uniform":
            steps = math.floor((self.high - self.low) / self.q + 1e-9)
            return tuple(dict.fromkeys(_quantise(self.low + i * self.q, self.q)
                                       for i in range(steps + 1)))
        raise SweepConfigError(
            f"parameters.{self.name}: method grid needs discrete values, but it has the "
            f"continuous {self.distribution} distribution; give 'values' (or int_uniform / "
            "q_uniform), or use method random")

    @property
    def discrete(self) -> bool:
        return self.distribution in ("constant", "categorical", "int_uniform", "q_uniform")


def _quantise(value: float, q: float):
    quantised = round(round(value / q) * q, 12)
    return int(quantised) if float(q).is_integer() else float(quantised)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file: ``raw`` is the mapping exactly as read."""

    raw: dict
    method: str
    metric: dict
    parameters: tuple
    run_cap: Optional[int] = None

    @property
    def name(self) -> Optional[str]:
        return self.raw.get("name")


def load_sweep_config(path) -> dict:
    """The sweep file read with PyYAML (a mapping); YAML syntax errors name the file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SweepConfigError(f"cannot read the sweep file {path}: {error.strerror}") from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SweepConfigError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(config, dict):
        raise SweepConfigError(f"{path}: a sweep file is a mapping with method, metric and "
                               f"parameters, got {type(config).__name__}")
    return config


def validate_sweep_config(config: Mapping, offline: bool = True) -> SweepSpec:
    """Check a sweep configuration and return it parsed.

    Rejects unknown top-level keys, an unknown ``method``, a ``metric`` that training
    does not log, parameter names that are not flags of fashion_mnist.py, malformed
    values and distributions (each error names its key). ``offline=False`` also accepts
    the distributions only wandb's service samples.
    """
    if not isinstance(config, Mapping):
        raise SweepConfigError(f"a sweep configuration is a mapping, got {type(config).__name__}")
    unknown = [key for key in config if key not in SWEEP_KEYS]
    if unknown:
        raise SweepConfigError(f"unknown key {unknown[0]!r} in the sweep file; valid keys: "
                               f"{', '.join(SWEEP_KEYS)}")
    method = config.get("method")
    if method not in METHODS:
        raise SweepConfigError(f"method: {method!r} is not one of {', '.join(METHODS)}")
    metric = _validate_metric(config.get("metric"))
    run_cap = config.get("run_cap")
    if run_cap is not None and (isinstance(run_cap, bool) or not isinstance(run_cap, int)
                                or run_cap < 1):
        raise SweepConfigError(f"run_cap: expected a positive integer, got {run_cap!r}")
    for key in ("name", "description", "project", "entity", "program"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise SweepConfigError(f"{key}: expected text, got {config[key]!r}")
    parameters = config.get("parameters")
    if not isinstance(parameters, Mapping) or not parameters:
        raise SweepConfigError("parameters: expected a mapping of flag names of "
                               "fashion_mnist.py to their values or distributions")
    parsed = tuple(_parse_parameter(name, spec, offline) for name, spec in parameters.items())
    return SweepSpec(raw=dict(config), method=method, metric=metric, parameters=parsed,
                     run_cap=run_cap)


def _validate_metric(metric) -> dict:
    if metric is None:
        return {"name": "val_accuracy", "goal": "maximize"}
    if not isinstance(metric, Mapping):
        raise SweepConfigError(f"metric: expected a mapping with name and goal, got {metric!r}")
    unknown = [key for key in metric if key not in ("name", "goal", "target")]
    if unknown:
        raise SweepConfigError(f"metric.{unknown[0]}: unknown key; metric takes name, goal "
                               "and target")
    if metric.get("name") not in METRIC_NAMES:
        raise SweepConfigError(f"metric.name: {metric.get('name')!r} is not a metric the "
                               f"training logs ({', '.join(METRIC_NAMES)})")
    if metric.get("goal", "minimize") not in ("maximize", "minimize"):
        raise SweepConfigError(f"metric.goal: {metric['goal']!r} is not maximize or minimize")
    return dict(metric)


def _canonical(name: str, value):
    """``value`` as the training script understands it (``relu`` -> ``ReLU``, ``'1e-3'``
    -> 0.001), or SweepConfigError naming the parameter."""
    where = f"parameters.{name}"
    if value is None:
        raise SweepConfigError(f"{where}: null is not a value (leave the parameter out to "
                               "use the script's default)")
    if isinstance(value, (list, dict)):
        raise SweepConfigError(f"{where}: expected a single value, got {value!r}")
    try:
        return fashion_mnist.resolve_config({name: value})[name]
    except fashion_mnist.ConfigError as error:
        raise SweepConfigError(f"{where}: {error}") from None


def _parse_parameter(name, spec, offline: bool) -> Parameter:
    where = f"parameters.{name}"
    if name not in fashion_mnist.DEFAULTS:
        raise SweepConfigError(f"{where}: not a flag of fashion_mnist.py; valid names: "
                               f"{', '.join(fashion_mnist.DEFAULTS)}")
    if not isinstance(spec, Mapping):
        raise SweepConfigError(f"{where}: expected a mapping such as {{values: [...]}} or "
                               f"{{distribution: uniform, min: ..., max: ...}}, got {spec!r}")
    unknown = [key for key in spec if key not in PARAMETER_FIELDS]
    if unknown:
        raise SweepConfigError(f"{where}.{unknown[0]}: unknown key; a parameter takes "
                               f"{', '.join(PARAMETER_FIELDS)}")
    distribution = spec.get("distribution")
    if distribution is None:  # wandb's inference
        if "values" in spec:
            distribution = "categorical"
        elif "value" in spec:
            distribution = "constant"
        elif "min" in spec and "max" in spec:
            bounds = (spec["min"], spec["max"])
            integers = all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
            distribution = "int_uniform" if integers else "uniform"
        else:
            raise SweepConfigError(f"{where}: give 'values', 'value', or a distribution "
                                   "with 'min' and 'max'")
    known = OFFLINE_DISTRIBUTIONS + (() if offline else WANDB_ONLY_DISTRIBUTIONS)
    if distribution not in known:
        hint = (" (wandb's service also knows " + ", ".join(WANDB_ONLY_DISTRIBUTIONS)
                + "; run the sweep online for those)") if offline else ""
        raise SweepConfigError(f"{where}.distribution: {distribution!r} is not one of "
                               f"{', '.join(known)}{hint}")
    if distribution in WANDB_ONLY_DISTRIBUTIONS:
        return Parameter(name, distribution)
    if distribution in ("constant", "categorical"):
        return _parse_values(name, spec, distribution)
    for key in ("min", "max"):
        if key not in spec:
            raise SweepConfigError(f"{where}.{key}: the {distribution} distribution needs "
                                   "min and max")
        bound = spec[key]
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise SweepConfigError(f"{where}.{key}: expected a number, got {bound!r}")
        _canonical(name, bound)
    low, high = spec["min"], spec["max"]
    if not low < high:
        raise SweepConfigError(f"{where}: min ({low}) must be below max ({high})")
    if distribution == "int_uniform" and not all(isinstance(b, int) for b in (low, high)):
        raise SweepConfigError(f"{where}: int_uniform needs integer min and max, got "
                               f"{low!r} and {high!r}")
    if distribution == "log_uniform_values" and low <= 0:
        raise SweepConfigError(f"{where}.min: log_uniform_values needs min > 0, got {low}")
    q = None
    if distribution == "q_uniform":
        q = spec.get("q", 1)
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not q > 0:
            raise SweepConfigError(f"{where}.q: expected a positive step, got {q!r}")
    elif "q" in spec:
        raise SweepConfigError(f"{where}.q: only q_uniform takes a step q")
    return Parameter(name, distribution, low=low, high=high, q=q)


def _parse_values(name, spec, distribution) -> Parameter:
    where = f"parameters.{name}"
    if distribution == "constant":
        if "value" not in spec:
            raise SweepConfigError(f"{where}.value: the constant distribution needs 'value'")
        return Parameter(name, "constant", values=(_canonical(name, spec["value"]),))
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise SweepConfigError(f"{where}.values: expected a non-empty list, got {values!r}")
    canonical = tuple(_canonical(name, value) for value in values)
    if len(set(map(repr, canonical))) != len(canonical):
        raise SweepConfigError(f"{where}.values: {values!r} lists a value twice (values are "
                               "compared after canonical spelling, e.g. relu = ReLU)")
    probabilities = spec.get("probabilities")
    if probabilities is not None:
        if (not isinstance(probabilities, list) or len(probabilities) != len(values)
                or not all(isinstance(p, (int, float)) and not isinstance(p, bool) and p >= 0
                           for p in probabilities)
                or not math.isclose(sum(probabilities), 1.0, abs_tol=1e-6)):
            raise SweepConfigError(f"{where}.probabilities: expected {len(values)} "
                                   f"non-negative numbers summing to 1, got {probabilities!r}")
        probabilities = tuple(float(p) for p in probabilities)
    return Parameter(name, "categorical", values=canonical, probabilities=probabilities)


# ----------------------------------------------------------------------------- expansion


def expand(spec: SweepSpec, count: Optional[int] = None, seed: int = 0) -> list:
    """The parameter values of the configurations an offline sweep runs, in order.

    grid: every combination (``itertools.product`` in the file's order, so stable), the
    first ``min(count, run_cap)`` of them. random: ``min(count, run_cap)`` distinct
    samples drawn with ``seed`` (fewer when the space holds fewer). bayes: refused.
    """
    limits = [n for n in (count, spec.run_cap) if n is not None]
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in limits):
        raise SweepConfigError(f"count must be a positive integer, got {count!r}")
    limit = min(limits) if limits else None
    names = [p.name for p in spec.parameters]
    if spec.method == "bayes":
        raise SweepConfigError(
            "method bayes needs wandb's sweep service, which fits a model to the finished "
            "runs; log in (wandb login) and run without --offline, or use method random or "
            "grid to run the sweep here")
    if spec.method == "grid":
        combinations = itertools.product(*(p.grid_values() for p in spec.parameters))
        return [dict(zip(names, values)) for values in itertools.islice(combinations, limit)]
    if limit is None:
        raise SweepConfigError("method random needs a number of runs: give --count N (or "
                               "run_cap in the sweep file)")
    rng = np.random.default_rng(seed)
    space = _space_size(spec)
    wanted = limit if space is None else min(limit, space)
    samples, seen = [], set()
    for _ in range(100 * wanted):
        if len(samples) == wanted:
            break
        sample = {p.name: p.sample(rng) for p in spec.parameters}
        fingerprint = json.dumps(sample, sort_keys=True)
        if fingerprint not in seen:
            seen.add(fingerprint)
            samples.append(sample)
    return samples


def _space_size(spec: SweepSpec) -> Optional[int]:
    if not all(p.discrete for p in spec.parameters):
        return None
    return math.prod(len(p.grid_values()) for p in spec.parameters)


def config_key(config: Mapping) -> str:
    """A stable hash of a run's resolved configuration (where it is logged aside)."""
    trained = {k: v for k, v in sorted(config.items()) if k not in LOGGING_KEYS}
    return hashlib.sha256(json.dumps(trained, sort_keys=True).encode()).hexdigest()[:16]


def build_run_config(parameters: Mapping, overrides: Optional[Mapping] = None,
                     seed: Optional[int] = None) -> dict:
    """A run's complete configuration: the defaults, ``seed``, the sweep's ``parameters``,
    then ``overrides`` (sweep-wide settings such as a shorter budget) on top."""
    base = {} if seed is None else {"seed": seed}
    return fashion_mnist.resolve_config({**base, **parameters, **(overrides or {})})


# ----------------------------------------------------------------------------- results file


def read_results(path) -> list:
    """The rows of a results file. A last line cut short (the sweep was killed while
    writing it) is skipped with a warning; damage elsewhere raises ValueError."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                print(f"warning: {path}: ignoring the cut-short last line {number}; its run "
                      "will run again", file=sys.stderr)
                continue
            raise ValueError(f"{path}: line {number} is not JSON; the results file is damaged "
                             "(remove that line to use the rest)") from None
    return rows


def append_result(path: Path, row: Mapping) -> None:
    """Append one row and force it to disk, so an interruption never loses a finished run."""
    with open(path, "a", encoding="utf-8") as file:
        if file.tell() > 0:
            _end_with_newline(path, file)
        file.write(json.dumps(row, default=common.json_default) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _end_with_newline(path: Path, file) -> None:
    """A line cut short by a kill must not swallow the next row."""
    with open(path, "rb") as reader:
        reader.seek(-1, os.SEEK_END)
        if reader.read(1) != b"\n":
            file.write("\n")


# ----------------------------------------------------------------------------- workers


@contextlib.contextmanager
def _pinned_worker_environment():
    """Single-threaded BLAS and quiet wandb in the worker processes: spawned children
    inherit os.environ, and read it when they import NumPy."""
    settings = dict(PINNED_THREADS_ENVIRONMENT, WANDB_SILENT="true")
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _init_worker() -> None:
    # Ctrl-C goes to the whole process group; the parent decides what stops, and stops
    # the workers itself, so they ignore it rather than each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _blas_threads() -> Optional[int]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else None


def run_configuration(task: Mapping, train_fn: Optional[Callable] = None) -> dict:
    """Train one configuration of a sweep (in a worker) and return its results row.

    A run that diverges or raises is returned with status ``diverged`` or ``failed`` and
    the reason, so the sweep goes on. ``train_fn`` defaults to fashion_mnist.train.
    """
    train_fn = train_fn or fashion_mnist.train
    run_dir = Path(task["run_dir"])
    if run_dir.exists():  # left by a run that was stopped before it was recorded
        shutil.rmtree(run_dir)
    row = {"key": task["key"], "index": task["index"], "status": None,
           "parameters": task["parameters"], "config": task["config"],
           "run_name": task["run_name"], "run_dir": str(run_dir), "started_at": time.time(),
           "worker_pid": os.getpid(), "blas_threads": _blas_threads()}
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        result = train_fn(task["config"], out_dir=run_dir, wandb_mode=task["wandb_mode"],
                          quiet=True, data_dir=task["data_dir"], figures=task["figures"],
                          wandb_group=task["group"], wandb_job_type="sweep",
                          name=task["run_name"])
    except fashion_mnist.TrainingDiverged as error:
        row.update(status="diverged", error=str(error), diverged_epoch=error.epoch)
    except Exception as error:  # noqa: BLE001 - recorded, and the sweep goes on
        row.update(status="failed", error=f"{type(error).__name__}: {error}",
                   traceback=traceback.format_exc(limit=8))
    else:
        history = result["history"]
        row.update(
            status="finished",
            best_val_accuracy=max(record["val_accuracy"] for record in history),
            final_val_accuracy=history[-1]["val_accuracy"],
            final_val_loss=history[-1]["val_loss"],
            test_accuracy=result["test_accuracy"], test_loss=result.get("test_loss"),
            epochs_completed=len(history), wandb_dir=result.get("wandb_dir"))
    row["wall_time_s"] = time.perf_counter() - started
    # CPU time does not grow when other processes share the cores, unlike wall time.
    row["cpu_time_s"] = time.process_time() - cpu_started
    return row


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """Stop the runs in progress now (their results would not be recorded anyway)."""
    terminate_workers = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if terminate_workers is not None:
        terminate_workers()
        return
    # Before 3.14 the executor has no public way to stop a running task: its worker
    # processes are in the documented-stable private ``_processes`` mapping.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)
    executor.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- offline sweep


def run_sweep(
    spec,
    out_dir=None,
    *,
    workers: int = 1,
    count: Optional[int] = None,
    seed: int = 0,
    resume: bool = False,
    retry_failed: bool = False,
    overrides: Optional[Mapping] = None,
    data_dir: Optional[str] = None,
    wandb_mode: str = "offline",
    figures: bool = False,
    train_fn: Optional[Callable] = None,
    on_result: Optional[Callable[[dict], None]] = None,
    log: Callable = print,
) -> list:
    """Run a sweep on this machine and return one results row per configuration.

    spec: a SweepSpec, or a sweep mapping (validated here). out_dir: the sweep's folder
    (default ``runs/sweeps/sweep``). workers: parallel processes (spawned, BLAS pinned to
    one thread). count, seed: see :func:`expand`; ``seed`` is also every run's training
    seed unless the sweep varies ``seed``. resume: skip configurations that already have
    a row in ``results.jsonl`` (with retry_failed, run ``failed`` ones again); without
    it an existing non-empty results file is an error. overrides: configuration values
    that win over the sweep's (``{"epochs": 1, "limit_train": 2000}`` for a quick
    budget). wandb_mode: ``offline`` (each run an offline wandb run, all in one group) or
    ``disabled``. figures: write each run's PNGs too. train_fn: the training function
    (picklable, module level; fashion_mnist.train by default). on_result: called in this
    process with each row as it is recorded.

    Raises SweepConfigError for a bad sweep, SweepInterrupted on Ctrl-C (recorded runs
    kept; the runs in progress are stopped) and SweepWorkerDied when a worker process
    is killed.
    """
    if not isinstance(spec, SweepSpec):
        spec = validate_sweep_config(spec, offline=True)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if wandb_mode not in ("offline", "disabled"):
        raise ValueError(f"wandb_mode of an offline sweep is offline or disabled, got "
                         f"{wandb_mode!r}")
    out_dir = Path(out_dir) if out_dir is not None else DEFAULT_ROOT / "sweep"
    results_path = out_dir / RESULTS_NAME
    overrides = dict(overrides or {})
    for key, value in (("wandb_project", spec.raw.get("project")),
                       ("wandb_entity", spec.raw.get("entity"))):
        if value is not None:
            overrides.setdefault(key, value)
    if "early_terminate" in spec.raw:
        log("note: early_terminate is applied by wandb's service only; offline, every run "
            "trains to the end")

    run_seed = None if any(p.name == "seed" for p in spec.parameters) else seed
    tasks, by_key = [], {}
    group = spec.name or out_dir.name
    for parameters in expand(spec, count=count, seed=seed):
        try:
            config = build_run_config(parameters, overrides, run_seed)
        except fashion_mnist.ConfigError as error:
            raise SweepConfigError(f"overrides: {error}") from None
        key = config_key(config)
        if key in by_key:
            continue  # the overrides made it equal to an earlier configuration
        name = fashion_mnist.run_name(config)
        task = {"key": key, "index": len(tasks), "config": config, "run_name": name,
                "parameters": {p: config[p] for p in parameters},
                "run_dir": str(out_dir / "runs" / f"{name}-{key[:8]}"), "group": group,
                "wandb_mode": wandb_mode, "data_dir": data_dir, "figures": figures}
        by_key[key] = task
        tasks.append(task)
    if not tasks:
        raise SweepConfigError("the sweep expands to no configuration")

    existing = read_results(results_path)
    if existing and not resume:
        raise FileExistsError(f"{results_path} already holds {len(existing)} runs: add "
                              "--resume to continue that sweep, or choose another --out")
    recorded = {row["key"]: row for row in existing if row.get("key") in by_key}
    if retry_failed:
        recorded = {k: row for k, row in recorded.items() if row.get("status") != "failed"}
    pending = [task for task in tasks if task["key"] not in recorded]
    out_dir.mkdir(parents=True, exist_ok=True)
    common.write_json(out_dir / "sweep.json", {
        "sweep": spec.raw, "count": count, "seed": seed, "overrides": overrides,
        "workers": workers, "wandb_mode": wandb_mode, "configurations": len(tasks)})
    skipped = f" ({len(tasks) - len(pending)} already recorded)" if resume else ""
    log(f"sweep {group}: {len(tasks)} configurations{skipped}, {len(pending)} to run with "
        f"{workers} worker(s); results in {results_path}")

    started = time.perf_counter()
    finished_here, cpu_seconds = 0, 0.0
    if pending:
        # Workers are spawned as tasks are submitted, so the environment stays pinned
        # until every task is in.
        with _pinned_worker_environment():
            executor = ProcessPoolExecutor(max_workers=min(workers, len(pending)),
                                           mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_init_worker)
            try:
                futures = [executor.submit(run_configuration, task, train_fn)
                           for task in pending]
                for future in as_completed(futures):
                    row = future.result()
                    append_result(results_path, row)
                    recorded[row["key"]] = row
                    finished_here += 1
                    cpu_seconds += row["cpu_time_s"]
                    log(_format_row(row, len(recorded), len(tasks)))
                    if on_result is not None:
                        on_result(row)
            except KeyboardInterrupt:
                _stop_workers(executor)
                raise SweepInterrupted(len(recorded), len(tasks), results_path) from None
            except BrokenProcessPool:
                _stop_workers(executor)
                raise SweepWorkerDied(
                    f"a worker process died without reporting (killed, or out of memory); "
                    f"{len(recorded)} of {len(tasks)} runs are recorded in {results_path}; "
                    "continue with --resume (fewer --workers if memory ran out)") from None
            except BaseException:
                _stop_workers(executor)
                raise
        executor.shutdown(wait=True)
        elapsed = time.perf_counter() - started
        log(f"{finished_here} runs in {elapsed:.0f} s with {workers} worker(s): "
            f"{60 * finished_here / elapsed:.1f} runs per minute "
            f"({cpu_seconds / finished_here:.1f} CPU s per run)")
    return [recorded[task["key"]] for task in tasks]


def _format_row(row: Mapping, done: int, total: int) -> str:
    head = f"[{done}/{total}] {row['status']:8s}"
    if row["status"] == "finished":
        head += (f" val_accuracy={row['best_val_accuracy']:.4f} "
                 f"test_accuracy={row['test_accuracy']:.4f}")
    else:
        head += f" {row.get('error', '').splitlines()[0] if row.get('error') else ''}"
    return f"{head} ({row['wall_time_s']:.1f} s) {row['run_name']}"


# ----------------------------------------------------------------------------- online sweep


def run_online(
    sweep_config: Mapping,
    *,
    count: Optional[int] = None,
    project: Optional[str] = None,
    entity: Optional[str] = None,
    out_dir=None,
    overrides: Optional[Mapping] = None,
    data_dir: Optional[str] = None,
    figures: bool = False,
    train_fn: Optional[Callable] = None,
    wandb_module=None,
    log: Callable = print,
) -> str:
    """Create the sweep on wandb's service and run an agent here; returns the sweep id.

    The sweep file goes to ``wandb.sweep`` as read: wandb's controller picks the
    configurations (grid, random or bayes). Each configuration the agent is given trains
    through ``train_fn`` (fashion_mnist.train) into that agent's wandb run, with
    ``overrides`` applied. ``wandb_module`` replaces ``import wandb`` (tests).
    """
    if wandb_module is None:
        import wandb as wandb_module
    validate_sweep_config(sweep_config, offline=False)
    train_fn = train_fn or fashion_mnist.train
    project = project or sweep_config.get("project") or fashion_mnist.DEFAULTS["wandb_project"]
    entity = entity or sweep_config.get("entity")
    runs_dir = Path(out_dir if out_dir is not None else DEFAULT_ROOT / "online") / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    overrides = dict(overrides or {})

    sweep_id = wandb_module.sweep(sweep_config, entity=entity, project=project)
    entity = entity or _default_entity(wandb_module)
    path = f"{entity}/{project}/{sweep_id}" if entity else f"{project}/{sweep_id}"
    log(f"sweep id: {sweep_id}")
    log(f"start more agents (on this or other machines, in the repository root) with:\n"
        f"    wandb agent {path}")

    def train_given_configuration() -> None:
        run = wandb_module.init(dir=str(runs_dir))
        exit_code = 1
        try:
            given = {k: v for k, v in dict(run.config).items() if not k.startswith("_")}
            config = fashion_mnist.resolve_config({**given, **overrides})
            run.config.update(config, allow_val_change=True)
            name = fashion_mnist.run_name(config)
            run.name = name
            train_fn(config, out_dir=runs_dir / f"{name}-{run.id}", wandb_run=run, quiet=True,
                     data_dir=data_dir, figures=figures, name=name)
            exit_code = 0
        except fashion_mnist.TrainingDiverged as error:
            log(f"{run.name}: {error}")
        finally:
            run.finish(exit_code=exit_code)

    wandb_module.agent(sweep_id, function=train_given_configuration, entity=entity,
                       project=project, count=count)
    return sweep_id


def _default_entity(wandb_module) -> Optional[str]:
    try:
        return wandb_module.Api().default_entity
    except Exception:  # noqa: BLE001 - only used to print a nicer command
        return None


def wandb_is_available(wandb_module=None) -> tuple:
    """``(True, "")`` when the online path can run, else ``(False, reason)``."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in ("offline", "dryrun", "disabled"):
        return False, f"WANDB_MODE is {mode}"
    try:
        if wandb_module is None:
            import wandb as wandb_module
    except ImportError:
        return False, "wandb is not installed (pip install wandb)"
    if not common.has_wandb_credentials(wandb_module):
        return False, "wandb has no credentials (run `wandb login` to sweep online)"
    return True, ""


# ----------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 done, 1 a run could not be started or a worker died, 2 bad "
               "options or sweep file, 130 interrupted (continue with --resume).")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), metavar="YAML",
                        help="the sweep file (default examples/sweep.yaml)")
    parser.add_argument("--count", type=int, metavar="N",
                        help="runs of this agent (online) or of the sweep (offline; random "
                             "needs it unless the file has run_cap)")
    parser.add_argument("--offline", action="store_true",
                        help="run the sweep here instead of on wandb's service (automatic "
                             "without wandb credentials)")
    parser.add_argument("--out", metavar="DIR",
                        help="the sweep's folder (default runs/sweeps/<sweep file name>)")
    parser.add_argument("--workers", type=int, default=1, metavar="K",
                        help="parallel training processes, offline (default 1)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the sweep in --out: skip configurations with a result")
    parser.add_argument("--retry-failed", action="store_true",
                        help="with --resume, run the configurations that crashed again")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the random search and of every run (default 0)")
    parser.add_argument("--epochs-override", type=int, metavar="N",
                        help="train every run for N epochs whatever the sweep says")
    parser.add_argument("--limit-train", type=int, metavar="N",
                        help="train on the first N training images only (quick checks)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with the dataset's IDX files (default: "
                             "$FASHION_MNIST_DIR, else the download cache)")
    parser.add_argument("--wandb-mode", choices=("offline", "disabled"), default="offline",
                        help="offline: log every run as an offline wandb run (default); "
                             "disabled: no wandb")
    parser.add_argument("--run-figures", action="store_true",
                        help="write every run's own figures too (slower)")
    parser.add_argument("--wandb_project", "--wandb-project", dest="wandb_project",
                        metavar="NAME", help="wandb project (default: the file's, else "
                                             f"{fashion_mnist.DEFAULTS['wandb_project']})")
    parser.add_argument("--wandb_entity", "--wandb-entity", dest="wandb_entity",
                        metavar="NAME", help="wandb entity (default: the file's, else yours)")
    parser.add_argument("--analyze", metavar="RESULTS",
                        help="only analyse RESULTS (a results.jsonl or its sweep folder) and "
                             "write the figures and summary beside it (or into --out)")
    return parser


def main(argv=None, *, train_fn: Optional[Callable] = None, wandb_module=None) -> int:
    args = build_parser().parse_args(argv)
    import sweep_analysis

    if args.analyze:
        try:
            summary = sweep_analysis.analyze(args.analyze, args.out)
        except (FileNotFoundError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
        print(sweep_analysis.format_brief(summary))
        return 0

    overrides = {key: value for key, value in (
        ("epochs", args.epochs_override), ("limit_train", args.limit_train),
        ("wandb_project", args.wandb_project), ("wandb_entity", args.wandb_entity))
        if value is not None}
    try:
        config = load_sweep_config(args.config)
        offline = args.offline
        if not offline:
            available, reason = wandb_is_available(wandb_module)
            if not available:
                print(f"{reason}: running the sweep offline here")
                offline = True
        if not offline:
            run_online(config, count=args.count, project=args.wandb_project,
                       entity=args.wandb_entity, out_dir=args.out, data_dir=args.data_dir,
                       figures=args.run_figures, train_fn=train_fn, wandb_module=wandb_module,
                       overrides={k: v for k, v in overrides.items() if k not in LOGGING_KEYS})
            return 0
        out_dir = Path(args.out) if args.out else DEFAULT_ROOT / Path(args.config).stem
        run_sweep(validate_sweep_config(config), out_dir, workers=args.workers,
                  count=args.count, seed=args.seed, resume=args.resume,
                  retry_failed=args.retry_failed, overrides=overrides,
                  data_dir=args.data_dir, wandb_mode=args.wandb_mode,
                  figures=args.run_figures, train_fn=train_fn)
    except (SweepConfigError, FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SweepInterrupted as error:
        command = [Path(sys.executable).name, "examples/sweep.py",
                   *(argv if argv is not None else sys.argv[1:])]
        if "--resume" not in command:
            command.append("--resume")
        print(f"\n{error}\ncontinue with: {shlex.join(command)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepWorkerDied as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    results_path = out_dir / RESULTS_NAME
    summary = sweep_analysis.analyze(results_path, out_dir)
    print(sweep_analysis.format_brief(summary))
    if args.wandb_mode == "offline":
        print(f"upload the offline wandb runs with: wandb sync "
              f"{shlex.quote(str(out_dir / 'runs'))}/*/wandb/offline-run-*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
