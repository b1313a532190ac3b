"""Model zoo: functional Keras graphs sized for microcontrollers, plus parameter and MAC counts.

Every builder takes ``(input_shape, num_classes, **options)`` and returns an uncompiled functional
``tf_keras.Model`` that ends in a softmax. The layers are chosen so that the int8 TFLite conversion only emits
operators the native runtime implements (CONV_2D, DEPTHWISE_CONV_2D, pools, CONCATENATION, ADD, MEAN, RESHAPE,
FULLY_CONNECTED, SOFTMAX).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from codegen.errors import CodegenError
from codegen.train.tfenv import keras

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """Size of a model: trainable + non-trainable parameters and multiply-accumulates per inference."""

    name: str
    params: int
    macs: int
    input_shape: tuple[int, ...]
    num_classes: int
    layers: int

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "params": self.params,
            "macs": self.macs,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "layers": self.layers,
        }


Builder = Callable[..., Any]
_BUILDERS: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    def deco(fn: Builder) -> Builder:
        if name in _BUILDERS:
            raise ValueError(f"model {name!r} registered twice")
        _BUILDERS[name] = fn
        return fn

    return deco


def model_names() -> tuple[str, ...]:
    return tuple(sorted(_BUILDERS))


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int, **options: Any) -> Any:
    """Build the named model (an uncompiled functional tf_keras Model)."""
    key = name.lower().replace("-", "").replace("_", "")
    aliases = {
        "squeezenet": "squeezenet",
        "squeezenet11": "squeezenet",
        "lenet": "lenet5",
        "lenet5": "lenet5",
        "resnet8": "resnet8",
        "resnet50": "resnet50",
        "regnetx": "regnetx",
        "regnetx200mf": "regnetx",
        "mobilenetv2": "mobilenetv2",
        "inceptionv3": "inceptionv3",
    }
    if key not in aliases:
        raise CodegenError(f"unknown model {name!r}", hint=f"use one of {', '.join(model_names())}")
    return _BUILDERS[aliases[key]](tuple(int(d) for d in input_shape), int(num_classes), **options)


# -- SqueezeNet 1.1 ------------------------------------------------------------------------------------------


def _fire(x: Any, squeeze: int, expand: int, name: str) -> Any:
    k = keras()
    init = "he_normal"
    s = k.layers.Conv2D(squeeze, 1, activation="relu", kernel_initializer=init, name=f"{name}_squeeze1x1")(x)
    e1 = k.layers.Conv2D(expand, 1, activation="relu", kernel_initializer=init, name=f"{name}_expand1x1")(s)
    e3 = k.layers.Conv2D(
        expand, 3, padding="same", activation="relu", kernel_initializer=init, name=f"{name}_expand3x3"
    )(s)
    return k.layers.Concatenate(axis=-1, name=f"{name}_concat")([e1, e3])


@register("squeezenet")
def squeezenet(
    input_shape: tuple[int, ...],
    num_classes: int,
    width: float = 0.25,
    dropout: float = 0.3,
    final_relu: bool = False,
) -> Any:
    """SqueezeNet 1.1 (Iandola et al.): conv1, 8 Fire modules in 3 pooling stages, conv10, global avg pool.

    ``width`` scales every channel count of the original (64 stem filters, Fire squeeze/expand 16/64 ...
    64/256). Inputs smaller than 64 px use a stride-1 stem so that the feature maps keep enough resolution.
    Without batch normalisation, He initialisation and a linear conv10 (``final_relu=False``) keep small
    models from dying at the start of training; ``final_relu=True`` restores the original ReLU after conv10.
    """
    k = keras()
    L = k.layers

    def ch(c: int) -> int:
        return max(4, int(round(c * width)))

    inp = L.Input(shape=input_shape, name="input")
    small = min(input_shape[:2]) < 64
    x = L.Conv2D(
        ch(64),
        3,
        strides=1 if small else 2,
        padding="same" if small else "valid",
        activation="relu",
        kernel_initializer="he_normal",
        name="conv1",
    )(inp)
    x = L.MaxPooling2D(pool_size=2 if small else 3, strides=2, name="pool1")(x)
    x = _fire(x, ch(16), ch(64), "fire2")
    x = _fire(x, ch(16), ch(64), "fire3")
    x = L.MaxPooling2D(pool_size=2 if small else 3, strides=2, name="pool3")(x)
    x = _fire(x, ch(32), ch(128), "fire4")
    x = _fire(x, ch(32), ch(128), "fire5")
    x = L.MaxPooling2D(pool_size=2 if small else 3, strides=2, name="pool5")(x)
    x = _fire(x, ch(48), ch(192), "fire6")
    x = _fire(x, ch(48), ch(192), "fire7")
    x = _fire(x, ch(64), ch(256), "fire8")
    x = _fire(x, ch(64), ch(256), "fire9")
    if dropout:
        x = L.Dropout(dropout, name="drop9")(x)
    x = L.Conv2D(num_classes, 1, activation="relu" if final_relu else None, name="conv10")(x)
    x = L.GlobalAveragePooling2D(name="pool10")(x)
    out = L.Softmax(name="softmax")(x)
    return k.Model(inp, out, name="squeezenet")


# -- LeNet-5 -------------------------------------------------------------------------------------------------


@register("lenet5")
def lenet5(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """LeNet-5 (LeCun et al. 1998), ReLU and max pooling: conv5x5(6)-pool-conv5x5(16)-pool-120-84-classes."""
    k = keras()
    L = k.layers
    if min(input_shape[:2]) < 12:
        raise CodegenError(
            f"LeNet-5 needs inputs of at least 12x12, got {input_shape[:2]}",
            hint="resize the dataset, e.g. --size 32x32",
        )
    inp = L.Input(shape=input_shape, name="input")
    pad = "same" if min(input_shape[:2]) < 28 else "valid"
    x = L.Conv2D(6, 5, padding=pad, activation="relu", name="conv1")(inp)
    x = L.MaxPooling2D(2, name="pool1")(x)
    x = L.Conv2D(16, 5, padding=pad, activation="relu", name="conv2")(x)
    x = L.MaxPooling2D(2, name="pool2")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(120, activation="relu", name="fc1")(x)
    x = L.Dense(84, activation="relu", name="fc2")(x)
    x = L.Dense(num_classes, name="fc3")(x)
    out = L.Softmax(name="softmax")(x)
    return k.Model(inp, out, name="lenet5")


# -- ResNet-8 (MLPerf Tiny image classification) -------------------------------------------------------------


@register("resnet8")
def resnet8(input_shape: tuple[int, ...], num_classes: int, weight_decay: float = 1e-4) -> Any:
    """ResNet-8 as in MLPerf Tiny: 16-filter stem, three residual stacks (16, 32, 64 filters, strides 1,2,2),
    1x1 projection shortcuts where the shape changes, average pool over the whole map, dense softmax."""
    k = keras()
    L = k.layers
    reg = k.regularizers.l2(weight_decay)

    def conv(filters: int, kernel: int, stride: int, name: str) -> Any:
        return L.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding="same",
            kernel_initializer="he_normal",
            kernel_regularizer=reg,
            name=name,
        )

    inp = L.Input(shape=input_shape, name="input")
    x = conv(16, 3, 1, "conv1")(inp)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.Activation("relu", name="relu1")(x)
    for i, (filters, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
        y = conv(filters, 3, stride, f"stack{i}_conv1")(x)
        y = L.BatchNormalization(name=f"stack{i}_bn1")(y)
        y = L.Activation("relu", name=f"stack{i}_relu1")(y)
        y = conv(filters, 3, 1, f"stack{i}_conv2")(y)
        y = L.BatchNormalization(name=f"stack{i}_bn2")(y)
        if stride != 1 or int(x.shape[-1]) != filters:
            x = conv(filters, 1, stride, f"stack{i}_shortcut")(x)
        x = L.Add(name=f"stack{i}_add")([x, y])
        x = L.Activation("relu", name=f"stack{i}_relu2")(x)
    pool = (int(x.shape[1]), int(x.shape[2]))
    x = L.AveragePooling2D(pool_size=pool, name="avgpool")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(num_classes, kernel_initializer="he_normal", name="fc")(x)
    out = L.Softmax(name="softmax")(x)
    return k.Model(inp, out, name="resnet8")


# -- MobileNetV2 ---------------------------------------------------------------------------------------------


def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


@register("mobilenetv2")
def mobilenetv2(
    input_shape: tuple[int, ...], num_classes: int, alpha: float = 0.35, dropout: float = 0.2
) -> Any:
    """MobileNetV2 (Sandler et al.) with width multiplier ``alpha``. For inputs below 96 px the stem and the
    first stride-2 stages use stride 1 so that the last feature map stays at least 2x2."""
    k = keras()
    L = k.layers
    # (expansion, channels, repeats, stride) of the original network
    cfg = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]
    size = min(input_shape[:2])
    total_stride = 32
    strides = [2] + [c[3] for c in cfg]
    # drop leading stride-2 steps until the output map is >= 2 pixels
    i = 0
    while size // total_stride < 2 and i < len(strides):
        if strides[i] == 2:
            strides[i] = 1
            total_stride //= 2
        i += 1
    inp = L.Input(shape=input_shape, name="input")
    x = L.Conv2D(
        _make_divisible(32 * alpha), 3, strides=strides[0], padding="same", use_bias=False, name="stem_conv"
    )(inp)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(6.0, name="stem_relu")(x)
    block = 0
    for (t, c, n, _), stride in zip(cfg, strides[1:], strict=True):
        out_ch = _make_divisible(c * alpha)
        for r in range(n):
            s = stride if r == 0 else 1
            name = f"block{block}"
            in_ch = int(x.shape[-1])
            y = x
            if t != 1:
                y = L.Conv2D(in_ch * t, 1, use_bias=False, name=f"{name}_expand")(y)
                y = L.BatchNormalization(name=f"{name}_expand_bn")(y)
                y = L.ReLU(6.0, name=f"{name}_expand_relu")(y)
            y = L.DepthwiseConv2D(3, strides=s, padding="same", use_bias=False, name=f"{name}_dw")(y)
            y = L.BatchNormalization(name=f"{name}_dw_bn")(y)
            y = L.ReLU(6.0, name=f"{name}_dw_relu")(y)
            y = L.Conv2D(out_ch, 1, use_bias=False, name=f"{name}_project")(y)
            y = L.BatchNormalization(name=f"{name}_project_bn")(y)
            if s == 1 and in_ch == out_ch:
                y = L.Add(name=f"{name}_add")([x, y])
            x = y
            block += 1
    last = _make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    last = min(last, 1280 if size >= 96 else 256)
    x = L.Conv2D(last, 1, use_bias=False, name="head_conv")(x)
    x = L.BatchNormalization(name="head_bn")(x)
    x = L.ReLU(6.0, name="head_relu")(x)
    x = L.GlobalAveragePooling2D(name="avgpool")(x)
    if dropout:
        x = L.Dropout(dropout, name="dropout")(x)
    x = L.Dense(num_classes, name="fc")(x)
    out = L.Softmax(name="softmax")(x)
    return k.Model(inp, out, name="mobilenetv2")


# -- ResNet-50-style bottleneck ResNet -----------------------------------------------------------------------


def small_input_default(input_shape: tuple[int, ...], small_input: bool | None) -> bool:
    """Whether to use the small-input stem: given explicitly, or automatic for inputs under 64 pixels."""
    return min(input_shape[:2]) < 64 if small_input is None else bool(small_input)


@register("resnet50")
def resnet50(
    input_shape: tuple[int, ...],
    num_classes: int,
    width: float = 0.25,
    depths: tuple[int, ...] = (3, 4, 6, 3),
    small_input: bool | None = None,
) -> Any:
    """ResNet-50-style bottleneck ResNet (He et al. 2016, v1.5: the stride sits on the 3x3 convolution).

    Four stages of bottleneck blocks (1x1 reduce, 3x3, 1x1 expand by 4, BatchNorm, ReLU, projection shortcut
    where the shape changes) with ``depths`` blocks and 64/128/256/512 * ``width`` bottleneck channels.
    ``width=1`` and the default depths give ResNet-50 itself (25.56 M trainable parameters at 224x224, 1000
    classes); the default ``width=0.25`` (1.6 M parameters) is a size a large microcontroller can hold.
    ``small_input`` (automatic below 64 px): a 3x3 stride-1 stem without max pooling, as for CIFAR, instead of
    the 7x7 stride-2 stem and 3x3 stride-2 max pooling, so small images keep their resolution.
    """
    k = keras()
    L = k.layers
    if not depths or any(d < 1 for d in depths):
        raise CodegenError(f"bad ResNet depths {depths}", hint="give blocks per stage, e.g. 3,4,6,3")

    def ch(c: int) -> int:
        return max(8, int(round(c * width)))

    def conv_bn(x: Any, filters: int, kernel: int, stride: int, name: str, relu: bool = True) -> Any:
        x = L.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                     kernel_initializer="he_normal", name=f"{name}_conv")(x)
        x = L.BatchNormalization(name=f"{name}_bn")(x)
        return L.Activation("relu", name=f"{name}_relu")(x) if relu else x

    small = small_input_default(input_shape, small_input)
    inp = L.Input(shape=input_shape, name="input")
    if small:
        x = conv_bn(inp, ch(64), 3, 1, "stem")
    else:
        x = conv_bn(inp, ch(64), 7, 2, "stem")
        x = L.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    for s, (base, blocks) in enumerate(zip((64, 128, 256, 512), depths, strict=False), start=1):
        for b in range(blocks):
            stride = 2 if b == 0 and s > 1 else 1
            name = f"stage{s}_block{b + 1}"
            out_ch = ch(base) * 4
            y = conv_bn(x, ch(base), 1, 1, f"{name}_1")
            y = conv_bn(y, ch(base), 3, stride, f"{name}_2")
            y = conv_bn(y, out_ch, 1, 1, f"{name}_3", relu=False)
            if stride != 1 or int(x.shape[-1]) != out_ch:
                x = conv_bn(x, out_ch, 1, stride, f"{name}_shortcut", relu=False)
            x = L.Add(name=f"{name}_add")([x, y])
            x = L.Activation("relu", name=f"{name}_out")(x)
    x = L.GlobalAveragePooling2D(name="avgpool")(x)
    x = L.Dense(num_classes, name="fc")(x)
    out = L.Softmax(name="softmax")(x)
    return k.Model(inp, out, name="resnet50")


# -- RegNetX -------------------------------------------------------------------------------------------------


def _block_diagonal_mask(kernel_shape: tuple[int, ...], groups: int) -> Any:

    kh, kw, cin, cout = kernel_shape
    mask = np.zeros(kernel_shape, np.float32)
    gi, go = cin // groups, cout // groups
    for g in range(groups):
        mask[:, :, g * gi : (g + 1) * gi, g * go : (g + 1) * go] = 1.0
    return mask


def _grouped_constraint() -> Any:
    """A Keras constraint that keeps a convolution kernel block-diagonal (zeros outside the groups)."""
    k = keras()

    if "codegen>BlockDiagonal" in k.utils.get_custom_objects():
        return k.utils.get_custom_objects()["codegen>BlockDiagonal"]

    @k.utils.register_keras_serializable(package="codegen")
    class BlockDiagonal(k.constraints.Constraint):
        def __init__(self, groups: int) -> None:
            self.groups = int(groups)

        def __call__(self, w: Any) -> Any:
            mask = _block_diagonal_mask(tuple(int(d) for d in w.shape), self.groups)
            return w * mask

        def get_config(self) -> dict[str, int]:
            return {"groups": self.groups}

    return BlockDiagonal


REGNETX_200MF = {"depths": (1, 1, 4, 7), "widths": (24, 56, 152, 368), "group_width": 8, "stem": 32}


@register("regnetx")
def regnetx(
    input_shape: tuple[int, ...],
    num_classes: int,
    width: float = 0.25,
    depths: tuple[int, ...] = REGNETX_200MF["depths"],  # type: ignore[assignment]
    group_width: int = REGNETX_200MF["group_width"],  # type: ignore[assignment]
    small_input: bool | None = None,
) -> Any:
    """A small RegNetX (Radosavovic et al. 2020), the RegNetX-200MF design space point scaled by ``width``.

    Stem: 3x3 conv, stride 2 (stride 1 with ``small_input``, automatic below 64 px). Four stages of X blocks
    (1x1 conv, 3x3 grouped conv with ``group_width`` channels per group and the stage's stride, 1x1 conv,
    BatchNorm and ReLU, projection shortcut when the shape changes), stage widths 24/56/152/368 * ``width`` rounded
    to a multiple of the group width, ``depths`` blocks per stage.

    TFLite and the native runtime have no grouped convolution, so the grouped 3x3 convolution is an ordinary
    convolution whose kernel is kept block-diagonal during training (zeros outside the groups, enforced by a
    constraint): the same function, dense MACs on the device, and zeros that Huffman packing stores cheaply.
    """

    k = keras()
    L = k.layers
    if group_width < 1 or not depths or any(d < 1 for d in depths):
        raise CodegenError(f"bad RegNetX settings depths={depths} group_width={group_width}",
                           hint="positive depths per stage and group width")
    block_diag = _grouped_constraint()

    def round_width(c: float) -> int:
        return max(group_width, int(round(c / group_width)) * group_width)

    def conv_bn(x: Any, filters: int, kernel: int, stride: int, name: str, relu: bool = True,
                groups: int = 1) -> Any:
        conv = L.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                        kernel_initializer="he_normal",
                        kernel_constraint=block_diag(groups) if groups > 1 else None, name=f"{name}_conv")
        x = conv(x)
        if groups > 1:  # start block-diagonal too
            kernel = conv.kernel
            kernel.assign(kernel * _block_diagonal_mask(tuple(int(d) for d in kernel.shape), groups))
        x = L.BatchNormalization(name=f"{name}_bn")(x)
        return L.Activation("relu", name=f"{name}_relu")(x) if relu else x

    small = small_input_default(input_shape, small_input)
    inp = L.Input(shape=input_shape, name="input")
    x = conv_bn(inp, round_width(REGNETX_200MF["stem"] * width), 3, 1 if small else 2, "stem")  # type: ignore[operator]
    widths = [round_width(w * width) for w in REGNETX_200MF["widths"]]  # type: ignore[attr-defined]
    for s, (w, blocks) in enumerate(zip(widths, depths, strict=False), start=1):
        for b in range(blocks):
            stride = 2 if b == 0 and not (small and s == 1) else 1
            name = f"stage{s}_block{b + 1}"
            groups = w // group_width
            y = conv_bn(x, w, 1, 1, f"{name}_a")
            y = conv_bn(y, w, 3, stride, f"{name}_b", groups=groups)
            y = conv_bn(y, w, 1, 1, f"{name}_c", relu=False)
            if stride != 1 or int(x.shape[-1]) != w:
                x = conv_bn(x, w, 1, stride, f"{name}_shortcut", relu=False)
            x = L.Add(name=f"{name}_add")([x, y])
            x = L.Activation("relu", name=f"{name}_out")(x)
    x = L.GlobalAveragePooling2D(name="avgpool")(x)
    x = L.Dense(num_classes, name="fc")(x)
    out = L.Softmax(name="softmax")(x)
    return k.Model(inp, out, name="regnetx")


# -- InceptionV3 ---------------------------------------------------------------------------------------------


@register("inceptionv3")
def inceptionv3(input_shape: tuple[int, ...], num_classes: int) -> Any:
    """InceptionV3 from keras.applications (random initialisation, ``weights=None``); inputs >= 75x75."""
    k = keras()
    if min(input_shape[:2]) < 75:
        raise CodegenError(
            f"InceptionV3 needs inputs of at least 75x75, got {input_shape[0]}x{input_shape[1]}",
            hint="resize the dataset, e.g. --size 75x75",
        )
    base = k.applications.InceptionV3(
        weights=None,
        include_top=True,
        input_shape=input_shape,
        classes=num_classes,
        classifier_activation="softmax",
    )
    return k.Model(base.inputs, base.outputs, name="inceptionv3")


# -- size accounting -----------------------------------------------------------------------------------------


def _inner(layer: Any) -> Any:
    """The wrapped layer of pruning / quantization wrappers."""
    while hasattr(layer, "layer") and layer.__class__.__name__ in (
        "PruneLowMagnitude",
        "QuantizeWrapper",
        "QuantizeWrapperV2",
    ):
        layer = layer.layer
    return layer


def count_macs(model: Any) -> int:
    """Multiply-accumulates of one inference: convolutions, depthwise convolutions and dense layers."""
    k = keras()
    total = 0
    for wrapped in model.layers:
        layer = _inner(wrapped)
        if isinstance(layer, k.Model):
            total += count_macs(layer)
            continue
        if isinstance(layer, (k.layers.DepthwiseConv2D,)):
            out = wrapped.output_shape
            kh, kw = layer.kernel_size
            total += int(out[1] * out[2] * kh * kw * out[3])
        elif isinstance(layer, k.layers.Conv2D):
            out = wrapped.output_shape
            cin = int(wrapped.input_shape[-1])
            kh, kw = layer.kernel_size
            total += int(out[1] * out[2] * out[3] * kh * kw * cin // layer.groups)
        elif isinstance(layer, k.layers.Dense):
            cin = int(wrapped.input_shape[-1])
            total += cin * int(layer.units)
    return total


def model_info(model: Any) -> ModelInfo:
    """Parameters (weights that end up in the .tflite: trainable and BatchNorm statistics) and MACs."""
    params = sum(
        int(w.shape.num_elements())
        for w in model.weights
        if "optimizer" not in w.name
        and not any(
            t in w.name for t in ("mask", "threshold", "pruning_step", "_min", "_max", "optimizer_step")
        )
    )
    return ModelInfo(
        name=model.name,
        params=params,
        macs=count_macs(model),
        input_shape=tuple(int(d) for d in model.input_shape[1:]),
        num_classes=int(model.output_shape[-1]),
        layers=len(model.layers),
    )
