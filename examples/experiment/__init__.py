"""The machinery of the examples, so that each script shows its model and its loop.

- :mod:`experiment.config`: the configuration dataclass, its flags and validation
  (``TrainingConfig``, ``ImageConfig``, ``flag``, ``RunOptions``, ``build_parser``);
- :mod:`experiment.data`: the datasets a run trains on, augmentation;
- :mod:`experiment.training`: optimizer, schedule, loss, evaluation and
  ``TrainingRun``, the context an epoch loop runs in;
- :mod:`experiment.tracking`: the run folder's files and wandb;
- :mod:`experiment.figures`: the PNG figures (samples, confusion matrices, curves);
- :mod:`experiment.files`: atomic JSON, JSON lines, run folders;
- :mod:`experiment.cli`: exit codes, error messages, signals, BLAS threads;
- :mod:`experiment.comparison`: one configuration trained with each loss, compared;
- :mod:`experiment.sweep_spec`, :mod:`experiment.sweep_runner`,
  :mod:`experiment.sweep_analysis`: hyper-parameter sweeps;
- :mod:`experiment.report_data`, :mod:`experiment.report_text`: the report.

Scripts beside this package import it directly (Python puts a script's folder first on
``sys.path``); the tests get it through pytest's ``pythonpath``.
"""
