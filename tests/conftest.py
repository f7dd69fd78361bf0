import os

from hypothesis import HealthCheck, settings

# One BLAS thread per test process: two processes with a multi-threaded BLAS each would
# put 4 busy-waiting threads on 2 cores (training tests ran up to 10x slower). The
# variables reach the scripts the tests start; threadpoolctl limits this process, whose
# BLAS may be loaded already.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
except ImportError:  # pragma: no cover - installed with the test extra
    pass

settings.register_profile("default", max_examples=40, deadline=None)
settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
