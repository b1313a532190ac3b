"""Import TensorFlow with the legacy Keras (tf_keras) and make runs repeatable.

Every module of :mod:`codegen.train` gets TensorFlow through :func:`tf` and Keras through :func:`keras`, so
the environment variables are set before the first import, whatever imported TensorFlow first.
"""

from __future__ import annotations

import logging
import os
import random
from types import ModuleType

import numpy as np

log = logging.getLogger(__name__)

_CONFIGURED = False


def tf() -> ModuleType:
    """TensorFlow, imported with ``TF_USE_LEGACY_KERAS=1`` and quiet C++ logs."""
    global _CONFIGURED
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    if not _CONFIGURED:
        _CONFIGURED = True
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        try:
            tensorflow.config.threading.set_inter_op_parallelism_threads(2)
            tensorflow.config.threading.set_intra_op_parallelism_threads(2)
        except RuntimeError:  # already initialised by someone else: keep their settings
            log.debug("TensorFlow threading already configured")
    return tensorflow


def keras() -> ModuleType:
    """The tf_keras package (Keras 2 API), the one tensorflow-model-optimization works with."""
    tf()
    import tf_keras

    return tf_keras


def tfmot() -> ModuleType:
    """tensorflow-model-optimization, imported after the legacy Keras switch."""
    tf()
    import tensorflow_model_optimization

    return tensorflow_model_optimization


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    k = keras()
    k.utils.set_random_seed(seed)
    try:
        tf().config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):
        log.debug("op determinism not available")
