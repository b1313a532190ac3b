"""The flatten -> linear rewrite keeps the ONNX model's function (checked with onnxruntime on the original) and
puts the NHWC Transpose where onnx2tf folds it away."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from codegen.convert.checks import OnnxReference
from codegen.convert.layout import fold_flatten_transposes
from tests.convert.onnx_models import lenet, mixed_ops


def _conv_flatten_linear(flatten: str, linear: str, consumers: int = 1) -> onnx.ModelProto:
    rng = np.random.default_rng(5)
    c, h, w, n = 3, 4, 5, 7
    k = c * h * w
    inits = [numpy_helper.from_array(rng.standard_normal((c, 2, 1, 1)).astype(np.float32), "cw")]
    nodes = [helper.make_node("Conv", ["x", "cw"], ["feat"], kernel_shape=[1, 1])]
    if flatten == "Flatten":
        nodes.append(helper.make_node("Flatten", ["feat"], ["flat"], axis=1))
    else:
        inits.append(numpy_helper.from_array(np.asarray([1, -1], np.int64), "shape"))
        nodes.append(helper.make_node("Reshape", ["feat", "shape"], ["flat"]))
    if linear == "Gemm_transB":
        inits.append(numpy_helper.from_array(rng.standard_normal((n, k)).astype(np.float32), "fw"))
        nodes.append(helper.make_node("Gemm", ["flat", "fw"], ["y"], transB=1))
    elif linear == "Gemm":
        inits.append(numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "fw"))
        nodes.append(helper.make_node("Gemm", ["flat", "fw"], ["y"]))
    else:
        inits.append(numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "fw"))
        nodes.append(helper.make_node("MatMul", ["flat", "fw"], ["y"]))
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])]
    if consumers == 2:
        nodes.append(helper.make_node("Relu", ["flat"], ["y2"]))
        outputs.append(helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, k]))
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, h, w])],
                          outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def _outputs(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    return OnnxReference(model).run(x)


@pytest.mark.parametrize("flatten", ["Flatten", "Reshape"])
@pytest.mark.parametrize("linear", ["Gemm_transB", "Gemm", "MatMul"])
def test_rewrite_keeps_the_function_and_reads_the_input_channel_last(flatten, linear):
    model = _conv_flatten_linear(flatten, linear)
    new, count = fold_flatten_transposes(model)
    assert count == 1
    transposes = [n for n in new.graph.node if n.op_type == "Transpose"]
    assert len(transposes) == 1 and list(transposes[0].attribute[0].ints) == [0, 2, 3, 1]
    onnx.checker.check_model(new)
    x = np.random.default_rng(0).standard_normal((4, 2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(_outputs(new, x), _outputs(model, x), rtol=1e-5, atol=1e-5)


def test_flatten_with_a_second_consumer_is_left_alone():
    model = _conv_flatten_linear("Flatten", "Gemm_transB", consumers=2)
    new, count = fold_flatten_transposes(model)
    assert count == 0 and [n.op_type for n in new.graph.node] == [n.op_type for n in model.graph.node]


def test_lenet_rewrite_matches_the_original_on_onnxruntime():
    model = lenet()
    new, count = fold_flatten_transposes(model)
    assert count == 1
    x = np.random.default_rng(1).standard_normal((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(_outputs(new, x), _outputs(model, x), rtol=1e-5, atol=1e-5)


def test_computed_view_target_becomes_constant_and_the_shape_chain_is_removed():
    model = mixed_ops()  # x.view(x.size(0), -1): Shape/Gather/Unsqueeze/Concat/Reshape -> Gemm
    new, count = fold_flatten_transposes(model)
    assert count == 1
    ops = [n.op_type for n in new.graph.node]
    assert "Shape" not in ops and "Gather" not in ops and ops.count("Transpose") == 1
    x = np.random.default_rng(2).random((3, 3, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(_outputs(new, x), _outputs(model, x), rtol=1e-5, atol=1e-6)


def test_conv1d_flatten_is_permuted_to_length_channel_order():
    rng = np.random.default_rng(7)
    c, length, n = 3, 5, 4
    inits = [numpy_helper.from_array(rng.standard_normal((c, 2, 1)).astype(np.float32), "cw"),
             numpy_helper.from_array(rng.standard_normal((n, c * length)).astype(np.float32), "fw")]
    nodes = [helper.make_node("Conv", ["x", "cw"], ["feat"], kernel_shape=[1]),
             helper.make_node("Flatten", ["feat"], ["flat"], axis=1),
             helper.make_node("Gemm", ["flat", "fw"], ["y"], transB=1)]
    g = helper.make_graph(nodes, "t1d", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, length])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    new, count = fold_flatten_transposes(model)
    assert count == 1
    assert [list(n.attribute[0].ints) for n in new.graph.node if n.op_type == "Transpose"] == [[0, 2, 1]]
    x = rng.standard_normal((3, 2, length)).astype(np.float32)
    np.testing.assert_allclose(_outputs(new, x), _outputs(model, x), rtol=1e-5, atol=1e-5)
