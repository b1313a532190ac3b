"""ONNX -> Keras model with onnx2tf, offline and quiet.

onnx2tf is used as a library (``onnx2tf.convert(onnx_graph=...)``) with everything that touches the network or the
user's files switched off:

* the ONNX graph is passed in memory, never as a path (onnx2tf rewrites the input file in place when it runs
  shape inference on a path);
* ``disable_model_save``: no SavedModel and no TFLite of its own; the Keras model it returns is converted by
  :mod:`codegen.train.quantize` like every other model;
* ``not_use_onnxsim`` (onnxsim is not installed), no op-name regeneration of the file, no automatic
  replacement JSON, no output comparison of its own (we compare with onnxruntime in :mod:`checks`);
* onnx2tf imports ``ai_edge_litert.interpreter.Interpreter`` at module level, only for a weights export we do not
  use; when the ai-edge-litert package is absent (it is not a dependency: it has no wheels for every Python we
  support) that name is mapped to ``tf.lite.Interpreter``, the same interpreter shipped with TensorFlow;
* its sample-image download (20 MS-COCO images, fetched from the internet whenever the model has one 3-channel
  image input, to run its layout probes on) is replaced by :func:`local_sample_images`: seeded random images.

Its console output is captured; on failure the last error line onnx2tf printed goes into the one-line message.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
import tempfile
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from codegen.errors import UnsupportedModelError

log = logging.getLogger(__name__)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def local_sample_images() -> np.ndarray:
    """Stand-in for onnx2tf's downloaded probe images: 20 seeded random 128x128 RGB images in 0..1."""
    return np.random.default_rng(20).random((20, 128, 128, 3), dtype=np.float32)


@contextlib.contextmanager
def _offline_onnx2tf() -> Iterator[Any]:
    """Import onnx2tf with its downloader replaced; restore it afterwards."""
    from codegen.train.tfenv import tf

    t = tf()
    try:
        import ai_edge_litert.interpreter  # noqa: F401 - only checking that it is there
    except ImportError:
        package = types.ModuleType("ai_edge_litert")
        interpreter = types.ModuleType("ai_edge_litert.interpreter")
        interpreter.Interpreter = t.lite.Interpreter  # type: ignore[attr-defined]
        package.interpreter = interpreter  # type: ignore[attr-defined]
        sys.modules.setdefault("ai_edge_litert", package)
        sys.modules.setdefault("ai_edge_litert.interpreter", interpreter)
    import onnx2tf
    from onnx2tf import onnx2tf as main_module
    from onnx2tf.utils import common_functions

    saved = (main_module.download_test_image_data, common_functions.download_test_image_data)
    main_module.download_test_image_data = local_sample_images
    common_functions.download_test_image_data = local_sample_images
    try:
        yield onnx2tf
    finally:
        main_module.download_test_image_data, common_functions.download_test_image_data = saved


def _last_error(text: str) -> str:
    """The last ``ERROR:`` line onnx2tf printed, without colours (empty when there is none)."""
    errors = [_ANSI.sub("", line).strip() for line in text.splitlines()]
    errors = [line for line in errors if line.startswith("ERROR:") and line.removeprefix("ERROR:").strip()]
    return errors[-1].removeprefix("ERROR:").strip()[:300] if errors else ""


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__


def onnx_to_keras(proto: Any, input_name: str, nchw_input: bool = False) -> Any:
    """Convert a checked ONNX model to a tf_keras Model (NHWC input unless ``nchw_input``)."""
    import onnx

    # onnx2tf decides layouts from the shapes it finds in the graph (it runs this itself only on file paths)
    proto = onnx.shape_inference.infer_shapes(proto)
    out = io.StringIO()
    debug = log.isEnabledFor(logging.DEBUG)  # --debug: onnx2tf's per-op log goes to the debug log
    with _offline_onnx2tf() as onnx2tf, tempfile.TemporaryDirectory(prefix="codegen-onnx2tf-") as tmp:
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                model = onnx2tf.convert(
                    onnx_graph=proto,
                    output_folder_path=tmp,
                    disable_model_save=True,
                    not_use_onnxsim=True,
                    not_use_opname_auto_generate=False,
                    keep_ncw_or_nchw_or_ncdhw_input_names=[input_name] if nchw_input else None,
                    non_verbose=not debug,
                    verbosity="info" if debug else "error",
                )
        except SystemExit as exc:
            raise UnsupportedModelError(
                f"onnx2tf stopped converting the model: {_last_error(out.getvalue()) or f'exit {exc.code}'}",
                hint="run with --debug to see its log; simplify or re-export the model",
            ) from exc
        except Exception as exc:  # noqa: BLE001 - onnx2tf raises anything; report the op it names
            op = getattr(exc, "onnx_op_name", None)
            where = f" at ONNX node {op!r}" if op else ""
            detail = _last_error(out.getvalue()) or _first_line(exc)
            raise UnsupportedModelError(
                f"onnx2tf cannot convert the model{where}: {detail}",
                hint="run with --debug to see its log; simplify or re-export the model",
            ) from exc
        finally:
            if out.getvalue().strip():
                log.debug("onnx2tf output:\n%s", _ANSI.sub("", out.getvalue()))
    if model is None:
        raise UnsupportedModelError("onnx2tf returned no model", hint="run with --debug to see its log")
    return model
