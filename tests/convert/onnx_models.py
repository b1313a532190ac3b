"""Small ONNX models built with onnx.helper, laid out as PyTorch exports them (NCHW, opset 13, Gemm with
transB=1), with seeded random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.inits: list[onnx.TensorProto] = []
        self.nodes: list[onnx.NodeProto] = []

    def weight(self, name: str, shape: tuple[int, ...], scale: float | None = None) -> str:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        s = scale if scale is not None else float(np.sqrt(2.0 / fan_in))
        self.inits.append(numpy_helper.from_array((self.rng.standard_normal(shape) * s).astype(np.float32), name))
        return name

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=f"/{op.lower()}_{len(self.nodes)}", **attrs))
        return output

    def conv(self, x: str, name: str, cin: int, cout: int, k: int, pad: int = 0, group: int = 1,
             stride: int = 1) -> str:
        w = self.weight(f"{name}.weight", (cout, cin // group, k, k))
        b = self.weight(f"{name}.bias", (cout,), 0.1)
        return self.node("Conv", [x, w, b], name, kernel_shape=[k, k], pads=[pad] * 4, group=group,
                         strides=[stride, stride])

    def bn(self, x: str, name: str, c: int) -> str:
        gamma = self.const(f"{name}.gamma", (1.0 + 0.2 * self.rng.standard_normal(c)).astype(np.float32))
        beta = self.const(f"{name}.beta", (0.1 * self.rng.standard_normal(c)).astype(np.float32))
        mean = self.const(f"{name}.mean", (0.1 * self.rng.standard_normal(c)).astype(np.float32))
        var = self.const(f"{name}.var", (0.5 + self.rng.random(c)).astype(np.float32))
        return self.node("BatchNormalization", [x, gamma, beta, mean, var], name, epsilon=1e-5)

    def gemm(self, x: str, name: str, k: int, n: int) -> str:
        w = self.weight(f"{name}.weight", (n, k))
        b = self.weight(f"{name}.bias", (n,), 0.1)
        return self.node("Gemm", [x, w, b], name, transB=1)

    def model(self, name: str, x: str, shape: list[int | str], y: str, out_shape: list[int | str]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, name, [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)], self.inits,
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def lenet(batch: int | str = 1, size: int | str = 28) -> onnx.ModelProto:
    """Conv(5x5, pad 2)/Relu/MaxPool, Conv(5x5)/Relu/MaxPool, Flatten, Gemm/Relu, Gemm/Relu, Gemm: 1x1x28x28."""
    b = _Builder(0)
    h = b.node("Relu", [b.conv("input", "conv1", 1, 6, 5, pad=2)], "relu1")
    h = b.node("MaxPool", [h], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Relu", [b.conv(h, "conv2", 6, 16, 5)], "relu2")
    h = b.node("MaxPool", [h], "pool2", kernel_shape=[2, 2], strides=[2, 2])
    h = b.node("Flatten", [h], "flat", axis=1)
    h = b.node("Relu", [b.gemm(h, "fc1", 400, 120)], "relu3")
    h = b.node("Relu", [b.gemm(h, "fc2", 120, 84)], "relu4")
    b.gemm(h, "logits", 84, 10)
    return b.model("lenet", "input", [batch, 1, size, size], "logits", [batch, 10])


def residual(channels: int = 8, size: int = 16) -> onnx.ModelProto:
    """RGB input; Conv/BN/Relu stem, a residual block (Conv/BN/Relu/Conv/BN + skip, Add, Relu), global average
    pool, Flatten, Gemm to 10 classes."""
    b = _Builder(1)
    h = b.node("Relu", [b.bn(b.conv("input", "stem", 3, channels, 3, pad=1), "stem_bn", channels)], "stem_relu")
    r = b.node("Relu", [b.bn(b.conv(h, "c1", channels, channels, 3, pad=1), "bn1", channels)], "r1")
    r = b.bn(b.conv(r, "c2", channels, channels, 3, pad=1), "bn2", channels)
    h = b.node("Relu", [b.node("Add", [r, h], "add")], "add_relu")
    h = b.node("GlobalAveragePool", [h], "gap")
    h = b.node("Flatten", [h], "flat", axis=1)
    b.gemm(h, "logits", channels, 10)
    return b.model("residual", "input", [1, 3, size, size], "logits", [1, 10])


def depthwise_separable(channels: int = 8, size: int = 16) -> onnx.ModelProto:
    """Grayscale input; Conv stem, depthwise 3x3 (group=C)/BN/Relu, pointwise 1x1/BN/Relu, stride-2 depthwise,
    Flatten of the 8x8 map straight into Gemm (the layout rewrite has to permute those weights)."""
    b = _Builder(2)
    h = b.node("Relu", [b.conv("input", "stem", 1, channels, 3, pad=1)], "stem_relu")
    h = b.node("Relu", [b.bn(b.conv(h, "dw", channels, channels, 3, pad=1, group=channels), "dw_bn", channels)],
               "dw_relu")
    h = b.node("Relu", [b.bn(b.conv(h, "pw", channels, 2 * channels, 1), "pw_bn", 2 * channels)], "pw_relu")
    h = b.node("Relu", [b.conv(h, "dw2", 2 * channels, 2 * channels, 3, pad=1, group=2 * channels, stride=2)],
               "dw2_relu")
    h = b.node("Flatten", [h], "flat", axis=1)
    half = size // 2
    b.gemm(h, "logits", 2 * channels * half * half, 10)
    return b.model("dwsep", "input", [1, 1, size, size], "logits", [1, 10])


def with_unsupported_op() -> onnx.ModelProto:
    """LpPool: a standard ONNX op onnx2tf has no converter for."""
    b = _Builder(3)
    h = b.node("LpPool", [b.conv("input", "c", 1, 4, 3)], "lp", kernel_shape=[2, 2], p=2)
    h = b.node("Flatten", [h], "flat", axis=1)
    b.gemm(h, "logits", 4 * 3 * 3, 10)
    return b.model("lp", "input", [1, 1, 8, 8], "logits", [1, 10])


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def mixed_ops(channels: int = 8, size: int = 16) -> onnx.ModelProto:
    """RGB input; Conv/Clip(0,6) and a 1x1 branch concatenated on the channel axis, a per-channel scale
    ([1,C,1,1] constant, broadcast Mul), AveragePool, Sigmoid gate, Pad + Conv, then PyTorch's
    ``x.view(x.size(0), -1)`` (Shape/Gather/Unsqueeze/Concat/Reshape) into Gemm and Softmax."""
    b = _Builder(4)
    a = b.node("Clip", [b.conv("input", "a", 3, channels, 3, pad=1), b.const("lo", np.float32(0.0)),
                        b.const("hi", np.float32(6.0))], "a_relu6")
    c = b.node("Relu", [b.conv("input", "c", 3, channels, 1)], "c_relu")
    h = b.node("Concat", [a, c], "cat", axis=1)
    scale = b.const("chan_scale", (0.5 + b.rng.random((1, 2 * channels, 1, 1))).astype(np.float32))
    h = b.node("Mul", [h, scale], "scaled")
    h = b.node("AveragePool", [h], "avg", kernel_shape=[2, 2], strides=[2, 2])
    g = b.node("Sigmoid", [b.conv(h, "gate", 2 * channels, 2 * channels, 1)], "gate_sig")
    h = b.node("Mul", [h, g], "gated")
    h = b.node("Pad", [h, b.const("pads", np.asarray([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], "padded")
    h = b.node("Relu", [b.conv(h, "d", 2 * channels, channels, 3, stride=2)], "d_relu")
    shape = b.node("Shape", [h], "shape")
    n = b.node("Gather", [shape, b.const("zero", np.asarray(0, np.int64))], "n", axis=0)
    n1 = b.node("Unsqueeze", [n, b.const("axes0", np.asarray([0], np.int64))], "n1")
    target = b.node("Concat", [n1, b.const("minus1", np.asarray([-1], np.int64))], "target", axis=0)
    h = b.node("Reshape", [h, target], "flat")
    half = size // 4
    h = b.gemm(h, "fc", channels * half * half, 10)
    b.node("Softmax", [h], "probs", axis=1)
    return b.model("mixed", "input", [1, 3, size, size], "probs", [1, 10])


def fully_convolutional(channels: int = 4, size: int | str = 12) -> onnx.ModelProto:
    """A 4-D output (NCHW feature map), as a segmentation head or an autoencoder has; ``size`` may be a name
    (dynamic height and width)."""
    b = _Builder(5)
    h = b.node("Relu", [b.conv("input", "c1", 1, channels, 3, pad=1)], "r1")
    b.conv(h, "out", channels, 2, 1)
    return b.model("fcn", "input", [1, 1, size, size], "out", [1, 2, size, size])


def with_erf() -> onnx.ModelProto:
    """Erf (GELU's building block): onnx2tf converts it, but TensorFlow's Erf has no TFLite builtin kernel."""
    b = _Builder(6)
    h = b.node("Erf", [b.conv("input", "c", 1, 4, 3)], "erf")
    h = b.node("Flatten", [h], "flat", axis=1)
    b.gemm(h, "logits", 4 * 6 * 6, 10)
    return b.model("erf", "input", [1, 1, 8, 8], "logits", [1, 10])


def lenet_digits(ridge: float = 1.0) -> onnx.ModelProto:
    """:func:`lenet` (dynamic batch, as ``torch.onnx.export(..., dynamic_axes=...)`` writes it) made into a digits
    classifier without a training framework: the seeded random convolutions and first two linear layers are kept
    as a fixed feature extractor, and the last Gemm is the ridge-regression (least squares) fit of one-hot labels
    on those 84 features over the digits training split (28x28, pixels 0..1). About 91 % test accuracy."""
    import onnxruntime as ort

    from codegen.train.datasets import Preprocess, load_dataset

    model = lenet(batch="batch_size")
    ds = load_dataset("digits", Preprocess(size=(28, 28), channels=1))
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(helper.make_tensor_value_info("relu4", TensorProto.FLOAT, None))
    sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    feats = sess.run(["relu4"], {"input": ds.x_train.transpose(0, 3, 1, 2)})[0].astype(np.float64)
    a = np.hstack([feats, np.ones((len(feats), 1))])
    y = np.eye(10)[ds.y_train]
    w = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)  # [85, 10]: weights and bias row
    for init in model.graph.initializer:
        if init.name == "logits.weight":
            init.CopyFrom(numpy_helper.from_array(w[:-1].T.astype(np.float32), "logits.weight"))
        elif init.name == "logits.bias":
            init.CopyFrom(numpy_helper.from_array(w[-1].astype(np.float32), "logits.bias"))
    onnx.checker.check_model(model)
    return model
