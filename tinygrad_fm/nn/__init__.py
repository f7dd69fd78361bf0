"""Neural-network building blocks with PyTorch's names: ``tinygrad_fm.nn``.

``Module`` and ``Parameter``; containers ``Sequential`` and ``ModuleList``; layers and
activations; loss modules; ``functional`` (import as ``F``); ``init``; and checkpoint
``save``/``load``.
"""

from . import functional, init, utils
from .layers import (
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential, StateDictError
from .serialization import load, save

__all__ = [
    "functional", "init", "utils", "save", "load",
    "Parameter", "Module", "Sequential", "ModuleList", "StateDictError", "IncompatibleKeys",
    "Linear", "Identity", "Flatten", "Dropout",
    "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss",
]
