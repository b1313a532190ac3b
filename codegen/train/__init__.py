"""Training and compression pipeline: datasets, Keras models, pruning, quantization, benchmarks.

Produces the ``.tflite`` files the rest of the toolkit consumes. TensorFlow is imported lazily (through
:func:`codegen.train.tfenv.tf`) so that ``codegen --help`` stays fast.
"""

from __future__ import annotations
