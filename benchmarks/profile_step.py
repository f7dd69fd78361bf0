"""Where a captured training step of the benchmark's MLP spends its time.

Replays the step of ``bench_mlp.py`` (tinygrad_fm.jit) with a timer around every line of
the generated replay function, and reports per-step microseconds by kind (the median over
the steps of each line, summed: steady on a loaded machine), scaled to the median CPU
time of a whole step (time.process_time, which other processes barely disturb; it
includes the call's argument binding): each op's forward and backward, the accumulation
into ``.grad``, the optimizer's step and ``zero_grad``, and the replay's own Python.
Beside it: the median CPU time of the matrix products alone (the benchmark's floor) on
the same batches.

    python benchmarks/profile_step.py [--batch-sizes 16 64 256] [--steps 400]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from statistics import median
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_mlp as bench  # noqa: E402


def instrumented(replay):
    """The replay function with a timer after each line, and the per-line times (one
    list per line, one entry per call)."""
    lines = replay.source.splitlines()
    body = ["    _t = _clock()"]
    labels = []
    for line in lines[1:]:
        code = line.strip()
        if code.startswith("return"):
            body.append(f"    _total[{len(labels)}].append(_clock() - _t)")
            labels.append("return")
            body.append("    " + code)
            continue
        body.append("    " + code)
        body.append(f"    _n = _clock(); _total[{len(labels)}].append(_n - _t); _t = _n")
        labels.append(code)
    namespace = dict(replay.run.__globals__)
    totals = [[] for _ in labels]
    namespace.update(_clock=time.perf_counter, _total=totals)
    exec(compile(lines[0] + "\n" + "\n".join(body) + "\n", "<profiled>", "exec"), namespace)
    return namespace["replay"], labels, totals


def kind_of(label: str, namespace) -> str:
    call = re.search(r"\b([FB])(\d+)\(", label)
    if call:
        function = namespace[call.group(1) + call.group(2)]
        owner = function.__qualname__.split(".")[0]
        return f"{owner} {'forward' if call.group(1) == 'F' else 'backward'}"
    if label.startswith("ACC("):
        return "accumulate .grad"
    called = re.match(r"(CALL\d+)\(\)", label)
    if called:
        target = namespace[called.group(1)]
        name = getattr(target, "__qualname__", "") or getattr(target.func, "__qualname__", "")
        return "optimizer step" if "step" in name else f"call {name}"
    return "replay glue"


def profile(images, labels, batch_size: int, steps: int) -> None:
    captured, floor = bench.TinygradFMCaptured(), bench.MatmulFloor()
    data = list(bench.batches(images, labels, batch_size, 0))[:steps + 2]
    for x, y in data[:2]:
        captured.step(x, y)
    replay = next(iter(captured.step._entries.values()))
    run, labels_, totals = instrumented(replay)
    replay_run, replay.run = replay.run, run
    step_times, floor_times = [], []
    for x, y in data[2:]:
        started = time.process_time()
        captured.step(x, y)
        step_times.append(time.process_time() - started)
        started = time.process_time()
        floor.step(x)  # the products of one step
        floor_times.append(time.process_time() - started)
    replay.run = replay_run
    elapsed, floor_time = median(step_times), median(floor_times)
    kinds = defaultdict(float)
    for label, times in zip(labels_, totals):
        kinds[kind_of(label, run.__globals__)] += median(times)
    inside = sum(kinds.values())
    print(f"\nbatch {batch_size}: {elapsed * 1e6:.0f} us CPU per captured step "
          f"(matmul floor {floor_time * 1e6:.0f} us)")
    for kind, seconds in sorted(kinds.items(), key=lambda item: -item[1]):
        share = seconds / inside
        print(f"  {kind:28s} {share * elapsed * 1e6:7.1f} us  {share:6.1%}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args(argv)
    images, labels, source = bench.load_images(bench.TRAIN_SIZE)
    print(f"data: {source}; optimizer update: "
          f"{'fused (numba)' if bench.optim.fused.available() else 'NumPy'}")
    for batch_size in args.batch_sizes:
        profile(images, labels, batch_size, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
