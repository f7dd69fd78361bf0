"""PyTorch's named tuples of ``(values, indices)``, as ``torch.return_types``: what
``max(dim)``, ``min(dim)``, ``sort``, ``topk``, ``median(dim)``, ``mode``, ``kthvalue``
``aminmax``, ``cummax``, ``cummin``, ``linalg.slogdet``, ``linalg.eigh``, ``linalg.svd`` and ``linalg.qr`` return (pairs that unpack and also have named fields)."""

from collections import namedtuple

__all__ = ["max", "min", "sort", "topk", "median", "mode", "kthvalue", "aminmax", "cummax", "cummin", "slogdet", "eigh", "svd", "qr"]

max = namedtuple("max", ["values", "indices"])  # noqa: A001  (torch's own names)
min = namedtuple("min", ["values", "indices"])  # noqa: A001
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
median = namedtuple("median", ["values", "indices"])
mode = namedtuple("mode", ["values", "indices"])
kthvalue = namedtuple("kthvalue", ["values", "indices"])
aminmax = namedtuple("aminmax", ["min", "max"])
cummax = namedtuple("cummax", ["values", "indices"])
cummin = namedtuple("cummin", ["values", "indices"])
slogdet = namedtuple("slogdet", ["sign", "logabsdet"])
eigh = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
svd = namedtuple("svd", ["U", "S", "Vh"])
qr = namedtuple("qr", ["Q", "R"])
