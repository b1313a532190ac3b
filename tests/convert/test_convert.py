"""A residual block (BatchNormalization + Add, RGB input) and a depthwise-separable block convert offline to
NHWC int8 models without TRANSPOSE, whose float twins agree with onnxruntime and whose generated C is bit-exact
with TFLM."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from codegen.convert.pipeline import ConvertConfig, convert_onnx
from codegen.errors import CodegenError
from codegen.verify import verify
from tests.convert.helpers import float_agreement, tflite_io, tflite_ops
from tests.convert.onnx_models import (
    depthwise_separable,
    fully_convolutional,
    mixed_ops,
    residual,
    save,
    with_erf,
)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test (onnx2tf downloads images for RGB models)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("onnx")
    builders = {"residual": residual, "dwsep": depthwise_separable, "mixed": mixed_ops,
                "fcn": lambda: fully_convolutional(size="side"), "erf": with_erf}
    return {name: save(build(), d / f"{name}.onnx") for name, build in builders.items()}


@pytest.mark.parametrize("name,shape,must_have", [
    ("residual", (1, 3, 16, 16), {"CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED"}),
    ("dwsep", (1, 1, 16, 16), {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}),
    ("mixed", (1, 3, 16, 16), {"CONCATENATION", "MUL", "AVERAGE_POOL_2D", "LOGISTIC", "PAD", "SOFTMAX"}),
    ("fcn", (1, 1, 12, 12), {"CONV_2D"}),
])
def test_block_converts_to_int8_that_matches_onnxruntime_and_tflm(models, tmp_path, no_network, name, shape,
                                                                  must_have):
    out = tmp_path / f"{name}.tflite"
    input_shape = shape if name == "fcn" else None  # its height and width are dynamic: --input-shape fixes them
    result = convert_onnx(ConvertConfig(model=models[name], out=out, dataset="digits", calibration_samples=50,
                                        accuracy_samples=50, input_shape=input_shape))
    float_twin = tmp_path / f"{name}_float32.tflite"
    # float twin vs onnxruntime, computed here independently of the tool's own check
    assert float_agreement(models[name], float_twin, shape) <= 1e-3
    assert result.max_abs_diff <= 1e-3
    # NHWC int8 edges, no TRANSPOSE, the expected kernels
    inp, outp = tflite_io(out)
    assert tuple(inp["shape"]) == (1, shape[2], shape[3], shape[1]) and inp["dtype"].__name__ == "int8"
    assert outp["dtype"].__name__ == "int8"
    ops = set(tflite_ops(out))
    assert "TRANSPOSE" not in ops and must_have <= ops, ops
    assert "TRANSPOSE" not in tflite_ops(float_twin)
    # generated C == TFLM reference kernels, bit for bit
    report = verify(out, samples=20)
    assert report.quantized and report.exact_matches == 20
    # the report records the preprocessing and the checks
    rec = json.loads((tmp_path / f"{name}_convert.json").read_text())
    assert rec["dataset"]["preprocess"]["size"] == [shape[2], shape[3]]
    assert rec["dataset"]["preprocess"]["channels"] == shape[1]
    assert rec["checks"]["within_tolerance"]
    if name == "fcn":  # a 4-D output map (NHWC in TFLite): compared with onnxruntime, but no class accuracy
        assert tuple(outp["shape"]) == (1, 12, 12, 2) and rec["accuracy"] is None
    else:
        assert rec["accuracy"]["samples"] == 50 and 0 <= rec["accuracy"]["int8"] <= 1
    assert rec["source"]["sha256"] and rec["input"]["layout"] == "channel-last (NHWC)"


def test_float_disagreement_above_the_tolerance_is_refused_unless_forced(models, tmp_path):
    cfg = ConvertConfig(model=models["dwsep"], out=tmp_path / "d.tflite", int8=False, tolerance=1e-12)
    with pytest.raises(CodegenError, match="differs from onnxruntime by up to"):
        convert_onnx(cfg)
    assert not list(tmp_path.iterdir())
    forced = convert_onnx(ConvertConfig(model=models["dwsep"], out=tmp_path / "d.tflite", int8=False,
                                        tolerance=1e-12, force=True))
    assert not forced.within_tolerance and 0 < forced.max_abs_diff <= 1e-3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.tflite", "d_convert.json"]


def test_tensorflow_op_without_a_tflite_kernel_is_named(models, tmp_path):
    with pytest.raises(CodegenError, match=r"TensorFlow op\(s\) Erf made from the ONNX graph have no TFLite builtin"):
        convert_onnx(ConvertConfig(model=models["erf"], out=tmp_path / "e.tflite", int8=False))
    assert not list(tmp_path.iterdir())
