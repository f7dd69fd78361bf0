"""Neural-network building blocks with PyTorch's names: ``tinygrad_fm.nn``.

``Module`` and ``Parameter``; containers ``Sequential`` and ``ModuleList``; layers and
activations; loss modules; ``functional`` (import as ``F``); ``init``; and checkpoint
``save``/``load``.
"""

from . import functional, init, utils
from .attention import (MultiheadAttention, NonDynamicallyQuantizableLinear, TransformerEncoder,
                        TransformerEncoderLayer)
from .layers import (
    ELU,
    GELU,
    Hardswish,
    Hardtanh,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    HuberLoss,
    Identity,
    L1Loss,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    Mish,
    MSELoss,
    NLLLoss,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softplus,
    Tanh,
    Hardsigmoid,
    SELU,
    CELU,
    Threshold,
    RReLU,
    PReLU,
    Softsign,
    Tanhshrink,
    Softmin,
    Softmax2d,
    GLU,
    Unflatten,
    PixelShuffle,
    PixelUnshuffle,
    CosineSimilarity,
    PairwiseDistance,
    Bilinear,
    KLDivLoss,
    SoftMarginLoss,
    MarginRankingLoss,
    HingeEmbeddingLoss,
    CosineEmbeddingLoss,
    TripletMarginLoss,
    PoissonNLLLoss,
    GaussianNLLLoss,
    MultiMarginLoss,
)
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold
from .padding import (
    CircularPad1d,
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
)
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)
from .module import (IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter,
                     ParameterDict, ParameterList, Sequential, StateDictError)
from .normalization import BatchNorm1d, BatchNorm2d, Dropout1d, Dropout2d, GroupNorm, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .serialization import load, save
from .sparse import Embedding, EmbeddingBag

__all__ = [
    "functional", "init", "utils", "save", "load",
    "Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
    "ParameterDict", "StateDictError",
    "IncompatibleKeys",
    "Linear", "Identity", "Flatten", "Dropout",
    "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "Softmax", "LogSoftmax",
    "GELU", "SiLU", "ELU", "Softplus", "LogSigmoid", "ReLU6", "Hardtanh", "Hardswish", "Mish",
    "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Dropout1d", "Dropout2d",
    "Embedding", "EmbeddingBag",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "Upsample",
    "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
    "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
    "CircularPad2d",
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "NonDynamicallyQuantizableLinear", "TransformerEncoderLayer",
    "TransformerEncoder",
    "Hardsigmoid", "SELU", "CELU", "Threshold", "RReLU", "PReLU", "Softsign", "Tanhshrink",
    "Softmin", "Softmax2d", "GLU", "Unflatten", "PixelShuffle", "PixelUnshuffle",
    "CosineSimilarity", "PairwiseDistance", "Bilinear", "KLDivLoss", "SoftMarginLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
    "PoissonNLLLoss", "GaussianNLLLoss", "MultiMarginLoss",
]
