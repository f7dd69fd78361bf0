"""The switch that :mod:`tinygrad_fm.jit` turns on while it records a step.

``recorder`` is None except while a captured function runs its recording calls. The hot
paths (``ArrayFunction.apply``, the backward engine, ``Optimizer.step`` and ``zero_grad``,
``Module.zero_grad``, the schedulers' ``step`` and the Tensor methods that read values)
check it once per call and carry on unchanged when it is None.
"""

recorder = None
