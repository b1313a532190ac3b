"""The TFLite reader turns real models of several origins into the typed IR."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from codegen import ir
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from tests.conftest import shared_model
from tests.foundation.tf_models import build_models

MLPERF = [
    "resnet8_cifar10_int8.tflite",
    "resnet8_cifar10_float32.tflite",
    "vww_mobilenetv1_025_96_int8.tflite",
    "kws_dscnn_int8.tflite",
    "ad01_fc_autoencoder_int8.tflite",
]


@pytest.fixture(scope="session")
def tf_models(tmp_path_factory):
    return build_models(tmp_path_factory.mktemp("tf_models"))


@pytest.mark.parametrize("name", MLPERF)
def test_every_reference_model_reads_into_typed_ir(name):
    g = load_model(shared_model(name))
    assert g.operators and g.inputs and g.outputs
    assert all(not isinstance(op, ir.UnknownOp) for op in g.operators)
    assert len(g.sha256) == 64
    for op in g.operators:
        for t in op.inputs + op.outputs:
            assert -1 <= t < len(g.tensors)


def test_ir_is_frozen():
    g = load_model(shared_model("kws_dscnn_int8.tflite"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.operators[0].stride_h = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        g.constant_tensors[0].data[...] = 0


def test_conv_options_and_per_channel_weights_are_read():
    g = load_model(shared_model("resnet8_cifar10_int8.tflite"))
    conv = g.operators[0]
    assert isinstance(conv, ir.Conv2D)
    assert (conv.stride_h, conv.stride_w, conv.padding) == (1, 1, ir.Padding.SAME)
    filt = g.tensors[conv.inputs[1]]
    assert filt.dtype is ir.DType.INT8 and filt.shape == (16, 3, 3, 3)
    assert filt.quant.per_channel and len(filt.quant.scale) == 16 and filt.quant.axis == 0
    assert g.tensors[conv.inputs[2]].dtype is ir.DType.INT32
    assert g.input_tensors[0].dtype is ir.DType.INT8 and g.input_tensors[0].shape == (1, 32, 32, 3)


def test_depthwise_multiplier_and_strides():
    g = load_model(shared_model("vww_mobilenetv1_025_96_int8.tflite"))
    dws = [op for op in g.operators if isinstance(op, ir.DepthwiseConv2D)]
    assert len(dws) == 13
    assert {op.stride_h for op in dws} == {1, 2}
    assert all(op.depth_multiplier == 1 for op in dws)


def test_models_built_with_tensorflow_read(tf_models):
    f32 = load_model(tf_models["float32"])
    assert f32.input_tensors[0].dtype is ir.DType.FLOAT32
    assert [op.op for op in f32.operators][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    dw = f32.operators[1]
    assert (dw.stride_h, dw.padding, dw.activation) == (2, ir.Padding.VALID, ir.Activation.RELU6)
    assert any(isinstance(op, ir.MaxPool2D) and op.filter_h == 2 for op in f32.operators)

    pc = load_model(tf_models["int8_per_channel"])
    pt = load_model(tf_models["int8_per_tensor"])
    w_pc = pc.tensors[pc.operators[0].inputs[1]]
    w_pt = pt.tensors[pt.operators[0].inputs[1]]
    assert w_pc.quant.per_channel and len(w_pc.quant.scale) == 8
    assert not w_pt.quant.per_channel
    assert pc.input_tensors[0].dtype is ir.DType.INT8


def test_per_tensor_quantization_with_nonzero_dimension_is_accepted_like_tflm(tmp_path):
    """TFLM's person_detect model carries per-tensor quantization with quantized_dimension 3."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    data = shared_model("kws_dscnn_int8.tflite").read_bytes()
    model = s.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    t = sg.tensors[sg.inputs[0]]
    assert len(t.quantization.scale) == 1
    t.quantization.quantizedDimension = 3
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    g = parse_tflite(bytes(b.Output()))
    q = g.input_tensors[0].quant
    assert q.axis == 3 and not q.per_channel


def test_constant_data_matches_buffer_contents():
    g = load_model(shared_model("ad01_fc_autoencoder_int8.tflite"))
    fc = g.operators[0]
    w = g.tensors[fc.inputs[1]]
    assert w.data.shape == w.shape and w.data.dtype == np.int8
    assert int(np.abs(w.data.astype(np.int32)).sum()) > 0


def test_keras_h5_model_reads_through_float32_conversion():
    g = load_model(shared_model("resnet8_cifar10.h5"))
    assert g.input_tensors[0].dtype is ir.DType.FLOAT32
    assert sum(op.macs(g) for op in g.operators) == 12_501_632


def test_broken_keras_file_is_a_model_error(tmp_path):
    from codegen.errors import ModelError

    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(ModelError, match="cannot be loaded as a Keras model"):
        load_model(bad)
