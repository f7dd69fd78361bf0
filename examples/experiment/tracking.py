"""Run tracking: the run folder's files and the wandb run, behind one small interface.

:class:`Tracker` writes ``config.json``, appends each epoch to ``metrics.jsonl`` and to
wandb, logs images and the final results, writes ``summary.json`` and finishes the wandb
run (marked failed when the run stopped early). wandb is optional: without it, with
``--wandb-mode disabled`` or when it cannot start, only the files are written; without
an API key it logs offline into the run folder and says how to upload the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional

from .files import append_json_line, write_json, write_json_lines


def has_wandb_credentials(wandb) -> bool:
    """Whether an API key is configured, found without prompting or going online."""
    try:
        return bool(wandb.login(prompt=False, verify=False))
    except TypeError:  # wandb older than the `prompt` argument
        if os.environ.get("WANDB_API_KEY"):
            return True
        try:
            import netrc

            return netrc.netrc().authenticators("api.wandb.ai") is not None
        except (OSError, netrc.NetrcParseError):
            return False
    except Exception:  # a broken settings file must not stop training
        return False


def start_wandb(config: Mapping, *, mode: Optional[str], out_dir: Path, name: str,
                group: Optional[str] = None, job_type: Optional[str] = None,
                run_id: Optional[str] = None, log: Callable = print):
    """A wandb run, or None when wandb is disabled, missing or cannot start.

    ``mode`` None means: ``$WANDB_MODE`` if set, else online when an API key is
    configured, else offline. Online without an API key falls back to offline with one
    line saying how to upload the run later; wandb never prompts for a key.
    """
    if mode is None:
        mode = os.environ.get("WANDB_MODE") or None
        if mode == "dryrun":
            mode = "offline"
    if mode == "disabled":
        return None
    try:
        import wandb
    except ImportError:
        log("wandb is not installed (pip install wandb); continuing without it")
        return None
    no_key = mode in (None, "online") and not has_wandb_credentials(wandb)
    mode = "offline" if no_key else (mode or "online")
    out_dir.mkdir(parents=True, exist_ok=True)
    arguments = dict(project=config["wandb_project"], entity=config["wandb_entity"], name=name,
                     config=dict(config), dir=str(out_dir), mode=mode, group=group,
                     job_type=job_type)
    if run_id is not None:
        arguments.update(id=run_id, resume="allow")
    try:
        settings = wandb.Settings(console="off")
    except Exception:
        settings = None
    try:
        run = wandb.init(settings=settings, **arguments)
    except Exception as error:  # e.g. no network: keep training, log offline instead
        if mode == "offline":
            log(f"wandb could not start ({error}); continuing without it")
            return None
        log(f"wandb could not go online ({error}); logging offline instead")
        return start_wandb(config, mode="offline", out_dir=out_dir, name=name, group=group,
                           job_type=job_type, run_id=run_id, log=log)
    if no_key:
        log(f"wandb: no API key found, so this run is logged offline; after `wandb login`, "
            f"upload it with: wandb sync {wandb_sync_dir(run)}")
    return run


def wandb_sync_dir(run) -> Optional[str]:
    """The folder of a run that ``wandb sync`` uploads."""
    return str(Path(run.dir).parent) if run is not None and run.dir else None


def wandb_image(path):
    import wandb

    return wandb.Image(str(path))


class Tracker:
    """The run folder's files and the wandb run of one training run.

    ``wandb_run``: an already started run to log into (left open at the end); otherwise
    one is started with ``wandb_mode`` (see :func:`start_wandb`) and finished here.
    """

    def __init__(self, out_dir: Path, config: Mapping, *, name: str,
                 wandb_mode: Optional[str] = None, wandb_run=None,
                 group: Optional[str] = None, job_type: Optional[str] = None,
                 run_id: Optional[str] = None, history=(), log: Callable = print):
        self.out_dir = Path(out_dir)
        self.metrics_path = self.out_dir / "metrics.jsonl"
        write_json(self.out_dir / "config.json", dict(config))
        write_json_lines(self.metrics_path, history)  # a resumed run keeps its epochs
        self.own_run = wandb_run is None
        self.run = wandb_run
        if self.own_run:
            self.run = start_wandb(config, mode=wandb_mode, out_dir=self.out_dir, name=name,
                                   group=group, job_type=job_type, run_id=run_id, log=log)

    @property
    def run_id(self) -> Optional[str]:
        return self.run.id if self.run is not None else None

    @property
    def sync_dir(self) -> Optional[str]:
        return wandb_sync_dir(self.run)

    def set_summary(self, values: Mapping) -> None:
        if self.run is not None:
            self.run.summary.update(values)

    def log_image(self, key: str, path: Optional[Path], step: int) -> None:
        if self.run is not None and path is not None:
            self.run.log({key: wandb_image(path)}, step=step)

    def log_epoch(self, record: Mapping) -> None:
        """One line of ``metrics.jsonl`` and one wandb step (the epoch)."""
        append_json_line(self.metrics_path, record)
        if self.run is not None:
            self.run.log(dict(record), step=record["epoch"])

    def log_results(self, values: Mapping, step: int, *, images: Mapping = (),
                    confusion=None, summary: Mapping = ()) -> None:
        """The final results: ``values``, a wandb confusion matrix of ``confusion``
        (true labels, predicted labels, class names) and ``images`` (key: PNG path or
        None) logged at ``step``; ``summary`` into the run's summary."""
        if self.run is None:
            return
        import wandb

        logged = dict(values)
        if confusion is not None:
            true_labels, predicted, classes = confusion
            logged["confusion_matrix"] = wandb.plot.confusion_matrix(
                y_true=true_labels.tolist(), preds=predicted.tolist(),
                class_names=list(classes), title="Confusion matrix (test set)")
        logged.update({key: wandb_image(path) for key, path in dict(images).items()
                       if path is not None})
        self.run.log(logged, step=step)
        self.run.summary.update(dict(summary))

    def write_summary(self, summary: Mapping) -> None:
        write_json(self.out_dir / "summary.json", summary)

    def finish(self) -> None:
        if self.run is not None and self.own_run:
            self.run.finish()

    def finish_failed(self, status: str, message: str) -> None:
        """Record why a run stopped and finish it with a failing exit code (wandb shows
        it as failed); errors inside wandb never mask the original problem."""
        if self.run is None:
            return
        try:
            self.run.summary.update({"status": status, "error": message})
            if self.own_run:
                self.run.finish(exit_code=1)
        except Exception as error:  # pragma: no cover - wandb internals
            print(f"wandb: could not finish the run cleanly ({error})", file=sys.stderr)
