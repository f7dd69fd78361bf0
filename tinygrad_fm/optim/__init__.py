"""Optimizers and learning-rate schedulers with PyTorch's names, arguments and updates.

``SGD`` (with momentum / Nesterov), ``RMSprop``, ``Adam``, ``AdamW``, ``NAdam``,
``RAdam``, ``Adamax``, ``Adagrad``, ``Adadelta`` and ``Rprop`` follow ``torch.optim``'s algorithms
step for step; ``lr_scheduler`` holds ``LambdaLR``,
``MultiplicativeLR``, ``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``CosineAnnealingWarmRestarts``, ``LinearLR``, ``PolynomialLR``,
``OneCycleLR``, ``CyclicLR``, ``SequentialLR``, ``ChainedScheduler`` and
``ReduceLROnPlateau``; ``swa_utils`` holds ``AveragedModel``, ``SWALR`` and ``update_bn``.
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam", "Adamax",
           "Adagrad", "Adadelta", "Rprop", "lr_scheduler", "swa_utils"]
