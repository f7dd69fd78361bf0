"""Running a sweep: offline in worker processes on this machine, or as a wandb agent.

Offline, every configuration trains in one of ``workers`` spawned processes (one BLAS
thread each, so K workers use K cores), and each finished run appends one row to
``results.jsonl``, so an interrupted sweep loses no finished run and ``--resume`` runs
only the rest. Workers exit on their own when the sweep's process dies.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import queue
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable, Mapping, Optional

import tinygrad_fm as tg

from .cli import single_threaded_blas
from .config import ConfigError, RunOptions
from .files import append_json_line, make_folder, read_json, work_in, write_json
from .sweep_spec import (LOGGING_KEYS, SweepConfigError, SweepSpec, config_key, expand,
                         run_config, validate_sweep_config)
from .signals import ignore_further_interrupts
from .tracking import has_wandb_credentials
from .training import TrainingDiverged

RESULTS_NAME = "results.jsonl"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an offline sweep; every recorded run is kept for ``--resume``."""

    def __init__(self, recorded: int, total: int, results_path: Path):
        self.recorded, self.total, self.results_path = recorded, total, results_path
        super().__init__(f"interrupted: {recorded} of {total} runs are recorded in "
                         f"{results_path}; the runs in progress were stopped and will run "
                         "again with --resume")


class SweepWorkerDied(RuntimeError):
    """A worker process died without reporting (killed, out of memory)."""


# ----------------------------------------------------------------------------- results file


def read_results(path, repair: bool = False) -> list:
    """The rows of a results file. A last line cut short (the sweep was killed while
    writing it) is skipped with a warning, and with ``repair`` cut off the file, so that
    the rows appended next do not follow a broken line; damage elsewhere raises
    ValueError naming the line."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_bytes().splitlines(keepends=True)
    rows, offset = [], 0
    for number, line in enumerate(lines, 1):
        start, offset = offset, offset + len(line)
        if not line.strip():
            continue
        try:
            row = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if number == len(lines):
                removed = " (removed)" if repair else ""
                print(f"warning: {path}: ignoring the cut-short last line {number}{removed}; "
                      "its run will run again", file=sys.stderr)
                if repair:
                    os.truncate(path, start)
                continue
            raise ValueError(f"{path}: line {number} is not JSON; the results file is damaged "
                             "(remove that line to use the rest)") from None
        if not isinstance(row, dict) or not isinstance(row.get("key"), str):
            raise ValueError(f"{path}: line {number} is not a sweep result (a JSON object "
                             "with a key); the results file is damaged (remove that line to "
                             "use the rest)")
        rows.append(row)
    return rows


def append_result(path: Path, row: Mapping) -> None:
    """Append one row and force it to disk, so an interruption never loses a finished run."""
    append_json_line(path, row, sync=True)


# ----------------------------------------------------------------------------- workers


def run_configuration(task: Mapping, train_fn: Callable, config_cls) -> dict:
    """Train one configuration of a sweep (in a worker) and return its results row.

    A run that diverges or raises is returned with status ``diverged`` or ``failed`` and
    the reason, so the sweep goes on.
    """
    run_dir = Path(task["run_dir"])
    row = {"key": task["key"], "index": task["index"], "status": None,
           "parameters": task["parameters"], "config": task["config"],
           "run_name": task["run_name"], "run_dir": str(run_dir), "started_at": time.time(),
           "worker_pid": os.getpid(), "blas_threads": tg.get_num_threads()}
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        if run_dir.exists():  # left by a run that was stopped before it was recorded
            shutil.rmtree(run_dir)
        result = train_fn(config_cls.from_mapping(task["config"]), RunOptions(
            out_dir=run_dir, wandb_mode=task["wandb_mode"], quiet=True,
            data_dir=task["data_dir"], figures=task["figures"], wandb_group=task["group"],
            wandb_job_type="sweep", name=task["run_name"]))
    except TrainingDiverged as error:
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


def _exit_with_parent() -> None:
    """End this worker as soon as the sweep's process dies (killed, or stopped without
    stopping its workers), so no orphan trains on with nobody to record its results."""
    parent = multiprocessing.parent_process()

    def watch():
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker(tasks, results, train_fn, config_cls) -> None:
    # Ctrl-C goes to the whole process group; the parent decides what stops, and stops
    # the workers itself, so they ignore it rather than each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["WANDB_SILENT"] = "true"
    _exit_with_parent()
    single_threaded_blas()
    while (task := tasks.get()) is not None:
        results.put(run_configuration(task, train_fn, config_cls))


class _Workers:
    """``count`` spawned processes taking tasks from a queue, results from another."""

    def __init__(self, count: int, tasks, train_fn, config_cls):
        context = multiprocessing.get_context("spawn")
        self.tasks, self.results = context.Queue(), context.Queue()
        for task in tasks:
            self.tasks.put(task)
        for _ in range(count):
            self.tasks.put(None)
        self.processes = [context.Process(target=_worker, daemon=True,
                                          args=(self.tasks, self.results, train_fn, config_cls))
                          for _ in range(count)]
        for process in self.processes:
            process.start()

    def results_as_they_come(self, count: int):
        """The next ``count`` result rows; SweepWorkerDied when a worker dies first."""
        for _ in range(count):
            while True:
                try:
                    yield self.results.get(timeout=0.5)
                    break
                except queue.Empty:
                    if any(p.exitcode not in (None, 0) for p in self.processes):
                        raise SweepWorkerDied("a worker process died without reporting")
                    if all(p.exitcode == 0 for p in self.processes):
                        raise SweepWorkerDied("the workers ended without reporting every run")

    def stop(self) -> None:
        """Stop the runs in progress now (their results would not be recorded anyway)."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)
        for channel in (self.tasks, self.results):
            channel.cancel_join_thread()
            channel.close()

    def close(self) -> None:
        for process in self.processes:
            process.join(timeout=30)
        self.stop()


# ----------------------------------------------------------------------------- offline sweep


def run_sweep(
    spec,
    out_dir,
    *,
    config_cls,
    train_fn: Callable,
    workers: int = 1,
    count: Optional[int] = None,
    seed: int = 0,
    resume: bool = False,
    retry_failed: bool = False,
    overrides: Optional[Mapping] = None,
    data_dir: Optional[str] = None,
    wandb_mode: str = "offline",
    figures: bool = False,
    on_result: Optional[Callable[[dict], None]] = None,
    log: Callable = print,
) -> list:
    """Run a sweep on this machine and return one results row per configuration.

    spec: a SweepSpec, or a sweep mapping (validated here against ``config_cls``).
    out_dir: the sweep's folder. config_cls, train_fn: the training script's
    configuration class and its ``train(config, options)`` (module level, so that the
    spawned workers can import it). workers: parallel processes (one BLAS thread each).
    count, seed: see :func:`experiment.sweep_spec.expand`; ``seed`` is also every run's
    training seed unless the sweep varies ``seed``. resume: skip configurations that
    already have a row in ``results.jsonl`` (with retry_failed, run ``failed`` ones
    again); without it an existing non-empty results file is an error. overrides:
    configuration values that win over the sweep's (``{"epochs": 1, "limit_train":
    2000}`` for a quick budget). wandb_mode: ``offline`` (each run an offline wandb run,
    all in one group) or ``disabled``. figures: write each run's PNGs too. on_result:
    called in this process with each row as it is recorded.

    Raises SweepConfigError for a bad sweep, SweepInterrupted on Ctrl-C (recorded runs
    kept; the runs in progress are stopped) and SweepWorkerDied when a worker process
    is killed.
    """
    if not isinstance(spec, SweepSpec):
        spec = validate_sweep_config(spec, config_cls, offline=True)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if wandb_mode not in ("offline", "disabled"):
        raise ValueError(f"wandb_mode of an offline sweep is offline or disabled, got "
                         f"{wandb_mode!r}")
    out_dir = Path(out_dir)
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
            config = run_config(config_cls, parameters, overrides, run_seed).as_dict()
        except ConfigError as error:
            raise SweepConfigError(f"overrides: {error}") from None
        key = config_key(config)
        if key in by_key:
            continue  # the overrides made it equal to an earlier configuration
        name = config_cls.from_mapping(config).run_name()
        task = {"key": key, "index": len(tasks), "config": config, "run_name": name,
                "parameters": {p: config[p] for p in parameters},
                "run_dir": str(out_dir / "runs" / f"{name}-{key[:8]}"), "group": group,
                "wandb_mode": wandb_mode, "data_dir": data_dir, "figures": figures}
        by_key[key] = task
        tasks.append(task)
    if not tasks:
        raise SweepConfigError("the sweep expands to no configuration")

    kind, found = work_in(out_dir)
    if kind not in (None, "sweep"):
        raise FileExistsError(f"--out {out_dir} holds a {kind} ({', '.join(found)}), not a "
                              "sweep; choose another --out")
    budget = {"seed": seed, **{k: v for k, v in overrides.items() if k not in LOGGING_KEYS}}
    if resume:
        _check_same_budget(out_dir / "sweep.json", budget)
    existing = read_results(results_path, repair=resume)
    if existing and not resume:
        raise FileExistsError(f"{results_path} already holds {len(existing)} runs: add "
                              "--resume to continue that sweep, or choose another --out")
    recorded = {row["key"]: row for row in existing if row.get("key") in by_key}
    if retry_failed:
        recorded = {k: row for k, row in recorded.items() if row.get("status") != "failed"}
    pending = [task for task in tasks if task["key"] not in recorded]
    make_folder(out_dir)
    write_json(out_dir / "sweep.json", {
        "sweep": spec.raw, "count": count, "seed": seed, "overrides": overrides,
        "workers": workers, "wandb_mode": wandb_mode, "configurations": len(tasks),
        "budget": budget})
    skipped = f" ({len(tasks) - len(pending)} already recorded)" if resume else ""
    log(f"sweep {group}: {len(tasks)} configurations{skipped}, {len(pending)} to run with "
        f"{workers} worker(s); results in {results_path}")

    started = time.perf_counter()
    finished_here, cpu_seconds = 0, 0.0
    if pending:
        pool = _Workers(min(workers, len(pending)), pending, train_fn, config_cls)
        try:
            for row in pool.results_as_they_come(len(pending)):
                append_result(results_path, row)
                recorded[row["key"]] = row
                finished_here += 1
                cpu_seconds += row["cpu_time_s"]
                log(_format_row(row, len(recorded), len(tasks)))
                if on_result is not None:
                    on_result(row)
        except KeyboardInterrupt:
            ignore_further_interrupts()  # stopping the workers must not be cut short
            pool.stop()
            raise SweepInterrupted(len(recorded), len(tasks), results_path) from None
        except SweepWorkerDied:
            pool.stop()
            raise SweepWorkerDied(
                f"a worker process died without reporting (killed, or out of memory); "
                f"{len(recorded)} of {len(tasks)} runs are recorded in {results_path}; "
                "continue with --resume (fewer --workers if memory ran out)") from None
        except BaseException:
            pool.stop()
            raise
        pool.close()
        elapsed = time.perf_counter() - started
        log(f"{finished_here} runs in {elapsed:.0f} s with {workers} worker(s): "
            f"{60 * finished_here / elapsed:.1f} runs per minute "
            f"({cpu_seconds / finished_here:.1f} CPU s per run)")
    return [recorded[task["key"]] for task in tasks]


#: The command-line flags of examples/sweep.py that set a budget key.
BUDGET_FLAGS = {"seed": "--seed", "epochs": "--epochs-override", "limit_train": "--limit-train"}


def _check_same_budget(path: Path, budget: Mapping) -> None:
    """SweepConfigError when the sweep being resumed trained with another budget (seed,
    epochs, training images...): its rows and the new ones would not be comparable."""
    recorded = (read_json(path) or {}).get("budget")
    if recorded is None:  # written before budgets were recorded
        return
    keys = [key for key in BUDGET_FLAGS if key in recorded or key in budget]
    keys += sorted((set(recorded) | set(budget)) - set(BUDGET_FLAGS))
    differing = [key for key in keys if recorded.get(key) != budget.get(key)]
    if differing:
        def named(key):
            return f"{BUDGET_FLAGS[key]} ({key})" if key in BUDGET_FLAGS else key

        detail = "; ".join(f"{named(key)}: {_setting(recorded.get(key))} there, "
                           f"{_setting(budget.get(key))} now" for key in differing)
        raise SweepConfigError(
            f"--resume would mix two budgets in {path.parent / RESULTS_NAME} ({detail}); "
            "resume with the sweep's own settings, or choose another --out for the new one")


def _setting(value) -> str:
    return "not set" if value is None else repr(value)


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
    config_cls,
    train_fn: Callable,
    count: Optional[int] = None,
    project: Optional[str] = None,
    entity: Optional[str] = None,
    out_dir=None,
    overrides: Optional[Mapping] = None,
    data_dir: Optional[str] = None,
    figures: bool = False,
    wandb_module=None,
    log: Callable = print,
) -> str:
    """Create the sweep on wandb's service and run an agent here; returns the sweep id.

    The sweep file goes to ``wandb.sweep`` as read: wandb's controller picks the
    configurations (grid, random or bayes). Each configuration the agent is given trains
    through ``train_fn(config, options)`` into that agent's wandb run, with
    ``overrides`` applied. ``wandb_module`` replaces ``import wandb`` (tests).
    """
    if wandb_module is None:
        import wandb as wandb_module
    validate_sweep_config(sweep_config, config_cls, offline=False)
    project = project or sweep_config.get("project") or config_cls.wandb_project
    entity = entity or sweep_config.get("entity")
    runs_dir = Path(out_dir if out_dir is not None else Path("runs") / "sweeps" / "online") / "runs"
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
            config = config_cls.from_mapping({**given, **overrides})
            run.config.update(config.as_dict(), allow_val_change=True)
            name = config.run_name()
            run.name = name
            train_fn(config, RunOptions(out_dir=runs_dir / f"{name}-{run.id}", wandb_run=run,
                                        quiet=True, data_dir=data_dir, figures=figures,
                                        name=name))
            exit_code = 0
        except TrainingDiverged as error:
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
    if not has_wandb_credentials(wandb_module):
        return False, "wandb has no credentials (run `wandb login` to sweep online)"
    return True, ""
