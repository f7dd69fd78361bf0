"""PyTorch's dtype and device names.

The dtypes are NumPy's scalar types, so ``x.dtype == torch.float32`` holds (a NumPy dtype
compares equal to its type) and they can be passed wherever NumPy takes a dtype. Only the
CPU exists: ``device("cuda")`` can be named (as in PyTorch, where constructing a device
never fails) but moving data there raises an error that names it.
"""

from __future__ import annotations

import builtins

import numpy as np

__all__ = ["float32", "float", "float64", "double", "float16", "half", "int64", "long",
           "int32", "int", "int16", "short", "int8", "uint8", "bool", "device", "as_dtype",
           "check_device", "dtype_name", "cuda", "mps", "accelerator", "backends", "get_default_dtype",
           "set_default_dtype", "is_floating_point", "finfo", "iinfo", "promote_types",
           "result_type", "can_cast"]

float32 = np.float32
float = np.float32  # noqa: A001  (torch.float)
float64 = double = np.float64
float16 = half = np.float16
int64 = long = np.int64
int32 = np.int32
int = np.int32  # noqa: A001  (torch.int)
int16 = short = np.int16
int8 = np.int8
uint8 = np.uint8
bool = np.bool_  # noqa: A001  (torch.bool)

_TORCH_NAMES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64",
                np.dtype(np.float16): "float16", np.dtype(np.int64): "int64",
                np.dtype(np.int32): "int32", np.dtype(np.int16): "int16",
                np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8",
                np.dtype(np.bool_): "bool"}
_TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def as_dtype(dtype) -> np.dtype:
    """A NumPy dtype from a torch-style name: ``torch.float64``, ``"float64"``,
    ``"torch.float64"``, a NumPy dtype, or Python's ``float``/``int``/``bool``."""
    if isinstance(dtype, str):
        name = dtype[6:] if dtype.startswith("torch.") else dtype
        if name.endswith("Tensor"):  # x.type("torch.DoubleTensor")
            inverse = {v: k for k, v in _TENSOR_TYPES.items()}
            if name in inverse:
                name = inverse[name]
        dtype = name
    if dtype is builtins.float:
        return np.dtype(np.float32)  # PyTorch's default floating dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}; use one of torch's names, e.g. "
                        "torch.float32, torch.float64, torch.int64, torch.bool") from None


def dtype_name(dtype) -> str:
    """``'float32'`` etc. (PyTorch's spelling, without the ``torch.`` prefix)."""
    return _TORCH_NAMES.get(np.dtype(dtype), str(np.dtype(dtype)))


def tensor_type_name(dtype) -> str:
    """What ``Tensor.type()`` returns: ``'torch.FloatTensor'`` and so on."""
    name = dtype_name(dtype)
    return "torch." + _TENSOR_TYPES.get(name, name)


def is_floating_point(dtype) -> builtins.bool:
    return np.dtype(dtype).kind == "f"


def get_default_dtype():
    return np.float32


def set_default_dtype(dtype) -> None:
    if np.dtype(dtype) != np.float32:
        raise NotImplementedError(f"set_default_dtype({dtype}): only float32 is supported as "
                                  "the default; pass dtype= to the factories or call "
                                  ".double() instead")


class device:  # noqa: N801  (torch.device)
    """``torch.device``: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:0")``.
    Naming any device works; only ``cpu`` can hold tensors."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        if ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already names an index; do not pass "
                                 "index= as well")
            type, _, number = type.partition(":")
            try:
                index = builtins.int(number)
            except ValueError:
                raise ValueError(f"device: invalid device string {type + ':' + number!r}"
                                 ) from None
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def check_device(where, op: str = "to") -> None:
    """Raise for any device other than the CPU (``None`` means "leave it")."""
    if where is None:
        return
    name = where.type if isinstance(where, device) else \
        str(where).partition(":")[0] if isinstance(where, str) else None
    if name is None:
        raise TypeError(f"{op}: expected a device (e.g. 'cpu' or torch.device('cpu')), "
                        f"got {where!r}")
    if name != "cpu":
        raise RuntimeError(f"{op}: device {str(where)!r} is not available: tinygrad_fm runs "
                           "on the CPU only (NumPy); use 'cpu', or pick the device with "
                           "'cuda' if torch.cuda.is_available() else 'cpu'")


class _Accelerator:
    """``torch.cuda`` / ``torch.backends.mps``: never available here."""

    def __init__(self, name: str):
        self._name = name

    def is_available(self) -> builtins.bool:
        return False

    def device_count(self) -> builtins.int:
        return 0

    def manual_seed(self, seed) -> None:  # torch.cuda.manual_seed: nothing to seed
        return None

    manual_seed_all = manual_seed

    def is_built(self) -> builtins.bool:
        return False

    def __repr__(self) -> str:
        return f"<{self._name}: not available (CPU only)>"


cuda = _Accelerator("cuda")  # torch.cuda.amp is set by tinygrad_fm.amp
mps = _Accelerator("mps")


class _AcceleratorAPI:
    """``torch.accelerator`` (PyTorch 2.6+): the device-agnostic API, with no accelerator
    here: ``is_available()`` is False and ``current_accelerator()`` None, so the usual
    ``torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
    else "cpu"`` picks the CPU."""

    def is_available(self) -> builtins.bool:
        return False

    def current_accelerator(self, check_available: builtins.bool = False):
        return None

    def device_count(self) -> builtins.int:
        return 0

    def __repr__(self) -> str:
        return "<accelerator: none (CPU only)>"


accelerator = _AcceleratorAPI()


class _Cudnn:
    """``torch.backends.cudnn`` as on a CPU-only PyTorch build: the flags can be set
    (and are kept) but select nothing, and cuDNN is not available."""

    def __init__(self):
        self.enabled = True
        self.benchmark = False
        self.deterministic = False
        self.allow_tf32 = True

    def is_available(self) -> builtins.bool:
        return False

    def version(self):
        return None


class _CudaMatmul:
    """``torch.backends.cuda.matmul``: PyTorch's flags for CUDA matrix products, kept
    with their defaults and settable; they select nothing here."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


class _CudaBackend(_Accelerator):
    """``torch.backends.cuda``: not built, with the ``matmul`` flags."""

    def __init__(self):
        super().__init__("cuda")
        self.matmul = _CudaMatmul()


class _Backends:
    cuda = _CudaBackend()
    mps = mps
    cudnn = _Cudnn()


class finfo:  # noqa: N801  (torch.finfo)
    """``torch.finfo(dtype)``: the limits of a floating dtype (the default dtype when
    none is given): ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``),
    ``resolution`` and ``dtype`` (its name), as Python numbers like PyTorch's."""

    def __init__(self, type=None):  # noqa: A002
        dtype = np.dtype(get_default_dtype() if type is None else as_dtype(type))
        if dtype.kind != "f":
            raise TypeError(f"finfo: expects a floating-point dtype, got {dtype_name(dtype)}; "
                            "use torch.iinfo for integer dtypes")
        limits = np.finfo(dtype)
        self.bits = builtins.int(limits.bits)
        self.eps = builtins.float(limits.eps)
        self.max = builtins.float(limits.max)
        self.min = builtins.float(limits.min)
        self.tiny = self.smallest_normal = builtins.float(limits.smallest_normal)
        self.resolution = 10.0 ** -limits.precision  # PyTorch's: a power of ten
        self.dtype = dtype_name(dtype)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801  (torch.iinfo)
    """``torch.iinfo(dtype)``: ``bits``, ``max``, ``min`` and ``dtype`` of an integer
    dtype."""

    def __init__(self, type):  # noqa: A002
        dtype = np.dtype(as_dtype(type))
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: expects an integer dtype, got {dtype_name(dtype)}; use "
                            "torch.finfo for floating-point dtypes")
        limits = np.iinfo(dtype)
        self.bits = builtins.int(limits.bits)
        self.max = builtins.int(limits.max)
        self.min = builtins.int(limits.min)
        self.dtype = dtype_name(dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


backends = _Backends()


# --------------------------------------------------------------------------- promotion
#
# PyTorch promotes by category first (bool < integer < floating < complex): a higher
# category wins without widening (int64 with float16 is float16, where NumPy widens to
# float64); within a category the wider type wins, as NumPy.

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _category(dtype) -> builtins.int:
    return _CATEGORY[np.dtype(dtype).kind]


def promote_types(type1, type2):
    """The smallest dtype of the higher category that holds both (``torch.promote_types``)."""
    first, second = np.dtype(as_dtype(type1)), np.dtype(as_dtype(type2))
    if _category(first) != _category(second):
        return max(first, second, key=_category).type
    return np.promote_types(first, second).type


def _scalar_dtype(value) -> np.dtype:
    """The dtype PyTorch gives a Python number: bool, int64, the default float, complex64."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, (builtins.int, np.integer)):
        return np.dtype(np.int64)
    if isinstance(value, (builtins.float, np.floating)):
        return np.dtype(get_default_dtype())
    if isinstance(value, (builtins.complex, np.complexfloating)):
        return np.dtype(np.complex64)
    raise TypeError(f"result_type: expects tensors or numbers, got {type(value).__name__}")


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic result of the operands (tensors or numbers), as
    ``torch.result_type``: tensors with dimensions decide, unless a 0-d tensor or a
    number is of a higher category (a 0-d tensor then brings its own dtype, a number the
    default of its category: float32 for a float)."""
    groups = ([], [], [])  # dimensioned tensors, 0-d tensors, numbers
    for operand in (tensor1, tensor2):
        data = getattr(operand, "data", None)
        if isinstance(data, np.ndarray):
            groups[0 if data.ndim else 1].append(data.dtype)
        else:
            groups[2].append(_scalar_dtype(operand))
    result = None
    for group in groups:
        if not group:
            continue
        promoted = group[0]
        for dtype in group[1:]:
            promoted = np.dtype(promote_types(promoted, dtype))
        if result is None or _category(promoted) > _category(result):
            result = promoted
    return result.type


def can_cast(from_, to) -> builtins.bool:
    """Whether ``torch.can_cast`` allows the cast: never to a lower category (float to
    integer, integer to bool, complex to real)."""
    return _category(as_dtype(from_)) <= _category(as_dtype(to))
