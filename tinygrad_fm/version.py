"""``torch.version``: the version of this package, and no CUDA or ROCm build."""

__version__ = "0.1.0"
cuda = None
hip = None
debug = False
git_version = "unknown"
