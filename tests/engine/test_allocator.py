"""Importing tinygrad_fm keeps freed array memory for reuse (glibc): a step's large arrays
of the same sizes do not fault in fresh pages every time; TINYGRAD_FM_MALLOC=system
leaves malloc alone."""

import os
import subprocess
import sys

import pytest

PROGRAM = """
import resource
import numpy as np
import tinygrad_fm
x = np.ones(4 << 20, np.float32)          # 16 MB: above glibc's default mmap threshold
for _ in range(3):
    y = x * 2; del y
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    y = x * 2; z = y + 1; del y, z
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(env_value=None) -> int:
    env = dict(os.environ)
    env.pop("TINYGRAD_FM_MALLOC", None)
    if env_value is not None:
        env["TINYGRAD_FM_MALLOC"] = env_value
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_freed_arrays_are_reused_without_page_faults():
    kept = _faults()
    system = _faults("system")
    # 20 rounds of two 16 MB arrays: about 160,000 first-touch faults when each is a new
    # mapping, next to none when the heap keeps them.
    assert kept < 1000, kept
    assert system > 10 * max(kept, 100), (kept, system)
