"""A sweep file: wandb's sweep-configuration format, checked against a training script's
flags, and the configurations an offline sweep runs.

``load_sweep_config`` reads the YAML; ``validate_sweep_config(config, config_cls)``
checks it (every parameter must be a flag of ``config_cls``, every value one that flag
accepts) and returns a :class:`SweepSpec`; ``expand`` lists the parameter values an
offline sweep trains (grid: every combination in a stable order; random: seeded samples);
``run_config`` makes one run's configuration and ``config_key`` its stable hash.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from .config import ConfigError

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
#: The largest grid an offline sweep lists in full (larger ones need a count).
MAX_GRID_CONFIGURATIONS = 100_000


class SweepConfigError(ValueError):
    """The sweep file is malformed; the message names the offending key."""


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

    def size(self) -> int:
        """How many values a discrete parameter has in a grid, counted without listing
        them (an integer range may be too long to list)."""
        if self.distribution in ("constant", "categorical"):
            return len(self.values)
        if self.distribution == "int_uniform":
            return int(self.high) - int(self.low) + 1
        if self.distribution == "q_uniform":
            return math.floor((self.high - self.low) / self.q + 1e-9) + 1
        raise SweepConfigError(
            f"parameters.{self.name}: method grid needs discrete values, but it has the "
            f"continuous {self.distribution} distribution; give 'values' (or int_uniform / "
            "q_uniform), or use method random")

    def grid_value(self, index: int):
        """The ``index``-th of the :meth:`size` values of a grid."""
        if self.distribution in ("constant", "categorical"):
            return self.values[index]
        if self.distribution == "int_uniform":
            return int(self.low) + index
        return _quantise(self.low + index * self.q, self.q)

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


def validate_sweep_config(config: Mapping, config_cls, offline: bool = True) -> SweepSpec:
    """Check a sweep configuration and return it parsed.

    Rejects unknown top-level keys, an unknown ``method``, a ``metric`` that training
    does not log, parameter names that are not flags of ``config_cls``, malformed
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
                               "the training script to their values or distributions")
    parsed = tuple(_parse_parameter(name, spec, config_cls, offline)
                   for name, spec in parameters.items())
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


def _canonical(config_cls, name: str, value):
    """``value`` as the training script understands it (``relu`` -> ``ReLU``, ``'1e-3'``
    -> 0.001), or SweepConfigError naming the parameter."""
    where = f"parameters.{name}"
    if value is None:
        raise SweepConfigError(f"{where}: null is not a value (leave the parameter out to "
                               "use the script's default)")
    if isinstance(value, (list, dict)):
        raise SweepConfigError(f"{where}: expected a single value, got {value!r}")
    try:
        return config_cls.check_value(name, value)
    except ConfigError as error:
        raise SweepConfigError(f"{where}: {error}") from None


def _parse_parameter(name, spec, config_cls, offline: bool) -> Parameter:
    where = f"parameters.{name}"
    flags = config_cls.flags()
    if name not in flags:
        raise SweepConfigError(f"{where}: not a flag of the training script; valid names: "
                               f"{', '.join(flags)}")
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
    if distribution not in ("constant", "categorical"):
        _check_drawn_type(name, flags[name], distribution, spec.get("q", 1))
    if distribution in WANDB_ONLY_DISTRIBUTIONS:
        return Parameter(name, distribution)
    if distribution in ("constant", "categorical"):
        return _parse_values(name, spec, distribution, config_cls)
    for key in ("min", "max"):
        if key not in spec:
            raise SweepConfigError(f"{where}.{key}: the {distribution} distribution needs "
                                   "min and max")
        bound = spec[key]
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise SweepConfigError(f"{where}.{key}: expected a number, got {bound!r}")
        _canonical(config_cls, name, bound)
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


def _check_drawn_type(name: str, flag, distribution: str, q) -> None:
    """Refuse a distribution whose draws the flag cannot take: numbers for a flag of
    choices or text, real numbers for a whole-number flag."""
    where = f"parameters.{name}"
    if flag.choices or flag.kind is str:
        takes = (f"one of {', '.join(flag.choices)}" if flag.choices else "text")
        raise SweepConfigError(f"{where}: {name} takes {takes}, but the {distribution} "
                               "distribution draws numbers; list them as 'values'")
    if flag.kind is not int:
        return
    if distribution.startswith("q_"):
        if isinstance(q, (int, float)) and not isinstance(q, bool) and float(q).is_integer():
            return
        raise SweepConfigError(f"{where}: {name} takes whole numbers, but {distribution} "
                               f"with step q={q} draws fractions; use a whole-number q")
    if distribution != "int_uniform":
        raise SweepConfigError(f"{where}: {name} takes whole numbers, but the {distribution} "
                               "distribution draws real numbers; use int_uniform (or "
                               "q_uniform with a whole-number q), or list 'values'")


def _parse_values(name, spec, distribution, config_cls) -> Parameter:
    where = f"parameters.{name}"
    if distribution == "constant":
        if "value" not in spec:
            raise SweepConfigError(f"{where}.value: the constant distribution needs 'value'")
        return Parameter(name, "constant", values=(_canonical(config_cls, name, spec["value"]),))
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise SweepConfigError(f"{where}.values: expected a non-empty list, got {values!r}")
    canonical = tuple(_canonical(config_cls, name, value) for value in values)
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
        return [dict(zip(names, values)) for values in _grid(spec.parameters, limit)]
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


def _grid(parameters, limit: Optional[int]):
    """The first ``limit`` combinations of the parameters' grid values in
    ``itertools.product``'s order (the last parameter varies fastest), each computed
    from its index, so that a long range is never listed. Without a limit, a grid of
    more than MAX_GRID_CONFIGURATIONS is refused."""
    sizes = [p.size() for p in parameters]
    total = math.prod(sizes)
    if limit is None and total > MAX_GRID_CONFIGURATIONS:
        factors = " x ".join(f"{p.name}: {n:,}" for p, n in zip(parameters, sizes) if n > 1)
        raise SweepConfigError(
            f"method grid: the grid has {total:,} configurations ({factors}), more than "
            f"{MAX_GRID_CONFIGURATIONS:,}; give --count N (or run_cap) to run the first N, "
            "give fewer values, or use method random")
    for index in range(total if limit is None else min(total, limit)):
        values = []
        for parameter, size in zip(reversed(parameters), reversed(sizes)):
            index, position = divmod(index, size)
            values.append(parameter.grid_value(position))
        yield tuple(reversed(values))


def _space_size(spec: SweepSpec) -> Optional[int]:
    if not all(p.discrete for p in spec.parameters):
        return None
    return math.prod(p.size() for p in spec.parameters)


def config_key(config: Mapping) -> str:
    """A stable hash of a run's resolved configuration (where it is logged aside)."""
    trained = {k: v for k, v in sorted(config.items()) if k not in LOGGING_KEYS}
    return hashlib.sha256(json.dumps(trained, sort_keys=True).encode()).hexdigest()[:16]


def run_config(config_cls, parameters: Mapping, overrides: Optional[Mapping] = None,
               seed: Optional[int] = None):
    """A run's complete configuration: the defaults, ``seed``, the sweep's ``parameters``,
    then ``overrides`` (sweep-wide settings such as a shorter budget) on top."""
    base = {} if seed is None else {"seed": seed}
    return config_cls.from_mapping({**base, **parameters, **(overrides or {})})
