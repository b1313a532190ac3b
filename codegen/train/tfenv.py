"""Import TensorFlow with the legacy Keras (tf_keras) and make runs repeatable.

Every module of :mod:`codegen.train` gets TensorFlow through :func:`tf` and Keras through :func:`keras`, so
the environment variables are set before the first import, whatever imported TensorFlow first.
"""

from __future__ import annotations

import logging
import os
import random
import sys
from types import ModuleType

import numpy as np

log = logging.getLogger(__name__)

_CONFIGURED = False


def debug_enabled() -> bool:
    """``codegen --debug`` (the CLI sets the ``codegen`` logger to DEBUG) or ``CODEGEN_DEBUG=1``."""
    return os.environ.get("CODEGEN_DEBUG", "") not in ("", "0") or logging.getLogger("codegen").isEnabledFor(
        logging.DEBUG
    )


def quiet_tensorflow_logs() -> None:
    """Silence TensorFlow's C++ log lines (oneDNN notices, CUDA probing, XLA/absl warnings) and its Python
    warnings, unless ``--debug``. Must run before TensorFlow is imported to affect the C++ side."""
    if debug_enabled():
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # no "oneDNN custom operations are on" notice
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def tf() -> ModuleType:
    """TensorFlow, imported with ``TF_USE_LEGACY_KERAS=1`` and quiet C++ logs (unless ``--debug``)."""
    global _CONFIGURED
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    if not _CONFIGURED:
        quiet_tensorflow_logs()
    if debug_enabled() or "tensorflow" in sys.modules:
        import tensorflow
    else:
        # Lines such as "cudart_stub.cc: Could not find cuda drivers" are written to fd 2 while TensorFlow loads,
        # before absl logging is initialised, whatever TF_CPP_MIN_LOG_LEVEL says: hide fd 2 during the import.
        # An import error still raises (and is reported) after fd 2 is back.
        from codegen.reference import quiet_stderr

        with quiet_stderr():
            import tensorflow

    if not _CONFIGURED:
        _CONFIGURED = True
        if not debug_enabled():
            logging.getLogger("tensorflow").setLevel(logging.ERROR)
            try:
                from absl import logging as absl_logging

                absl_logging.set_verbosity(absl_logging.ERROR)
            except ImportError:  # pragma: no cover - absl comes with TensorFlow
                log.debug("absl not available")
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
