"""The ``gantool`` command: one module per group of commands, each a thin layer over the functions below it.

Nothing here imports torch at import time: ``--help``, ``plugins`` and ONNX sampling start fast without it."""
