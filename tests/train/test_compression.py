"""Training, pruning and quantization produce what they claim: accuracy, sparsity, int8 edges, operators."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.train.quantize import convert, inspect_tflite

INT8_OPS = {
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "MAX_POOL_2D",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "MEAN",
    "RESHAPE",
    "FULLY_CONNECTED",
    "SOFTMAX",
    "ADD",
}


def _variant(run, name):  # noqa: ANN001, ANN202
    return next(v for v in run.variants if v.name == name)


def test_lenet_on_digits_reaches_95_percent(lenet_run) -> None:  # noqa: ANN001
    assert lenet_run.keras_accuracy >= 0.95
    assert _variant(lenet_run, "int8").accuracy >= 0.95
    assert _variant(lenet_run, "qat_int8").accuracy >= 0.95


def _weight_tensors(buf: bytes) -> list[np.ndarray]:
    """Weights (input 1) of every CONV_2D / FULLY_CONNECTED, read by the host interpreter, not our parser."""
    from codegen.train.quantize import HostModel

    interp = HostModel(buf).interpreter
    details = {d["index"]: d for d in interp.get_tensor_details()}
    out = []
    for op in interp._get_ops_details():  # noqa: SLF001 - the public API has no operator list
        if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED", "DEPTHWISE_CONV_2D"):
            w = details[op["inputs"][1]]
            assert w["dtype"] == np.int8
            out.append(interp.get_tensor(w["index"]))
    return out


def test_pruned_int8_model_has_the_target_share_of_zero_weights(lenet_run) -> None:  # noqa: ANN001
    target = lenet_run.config.prune.target
    for name in ("pruned_int8", "pruned_qat_int8"):
        buf = _variant(lenet_run, name).path.read_bytes()
        weights = _weight_tensors(buf)
        assert len(weights) == 5  # 2 conv + 3 dense
        zeros = sum(int(np.count_nonzero(w == 0)) for w in weights)
        total = sum(w.size for w in weights)
        assert zeros / total >= target, name
        # per-layer scope: every layer is pruned, not just the big dense one
        assert all(np.mean(w == 0) >= target - 0.01 for w in weights), name
        assert inspect_tflite(buf).sparsity == pytest.approx(zeros / total)
    # the pruned float variant: float32 weights with the same zeros, for the base/quantized/pruned/pruned+quantized
    # comparison
    pruned_fp32 = inspect_tflite(_variant(lenet_run, "pruned_fp32").path.read_bytes())
    assert pruned_fp32.inputs[0].dtype == "FLOAT32" and pruned_fp32.sparsity >= target
    assert _variant(lenet_run, "pruned_fp32").accuracy >= 0.9
    dense = _weight_tensors(_variant(lenet_run, "int8").path.read_bytes())
    assert sum(int(np.count_nonzero(w == 0)) for w in dense) / sum(w.size for w in dense) < 0.1


def test_qat_model_converts_to_a_fully_int8_model(lenet_run) -> None:  # noqa: ANN001
    for name in ("int8", "qat_int8", "pruned_int8", "pruned_qat_int8"):
        summary = inspect_tflite(_variant(lenet_run, name).path.read_bytes())
        assert summary.fully_int8, name
        assert set(summary.operators) <= INT8_OPS, (name, summary.op_counts)
        assert "QUANTIZE" not in summary.operators and "DEQUANTIZE" not in summary.operators
    fp32 = inspect_tflite(_variant(lenet_run, "fp32").path.read_bytes())
    assert not fp32.fully_int8 and fp32.inputs[0].dtype == "FLOAT32"


def test_report_files_describe_every_variant(lenet_run) -> None:  # noqa: ANN001
    import json

    cfg = lenet_run.config
    data = json.loads((cfg.out_dir / "lenet5_report.json").read_text())
    assert [v["name"] for v in data["variants"]] == list(cfg.variants)
    assert data["model"]["params"] == 61_706
    md = (cfg.out_dir / "lenet5_report.md").read_text()
    for v in cfg.variants:
        assert f"lenet5_{v}.tflite" in md
    assert (cfg.out_dir / "lenet5.keras").is_file()


def test_inspect_counts_zero_weights_exactly() -> None:
    from codegen.train.tfenv import keras

    k = keras()
    inp = k.layers.Input((4,))
    model = k.Model(inp, k.layers.Dense(8, name="d")(inp))
    w, b = model.get_layer("d").get_weights()
    w[:, :3] = 0.0  # 12 of 32 weights
    model.get_layer("d").set_weights([w + (w != 0) * 0.5, b])
    summary = inspect_tflite(convert(model, "fp32"))
    assert summary.weight_count == 32 and summary.zero_weights == 12
    assert summary.operators == ("FULLY_CONNECTED",)


def test_gradient_saliency_pruning_reaches_the_target() -> None:
    from codegen.train.pruning import PruneConfig, SaliencyPruning, kernel_sparsity
    from codegen.train.tfenv import keras, set_seed

    set_seed(0)
    k = keras()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    inp = k.layers.Input((6,))
    h = k.layers.Dense(16, activation="relu", name="h")(inp)
    model = k.Model(inp, k.layers.Dense(2, activation="softmax", name="o")(h))
    model.compile("adam", "sparse_categorical_crossentropy")
    cfg = PruneConfig(target=0.7, method="gradient", frequency=4)
    steps = 3 * 8
    sal = SaliencyPruning(model, x, y, cfg, steps, batches=2, batch_size=32)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[sal.callback()])
    assert kernel_sparsity(model) >= 0.7
    # the input feature that decides the label keeps its weights (highest saliency)
    kept = np.count_nonzero(model.get_layer("h").kernel.numpy(), axis=1)
    assert kept[0] == kept.max()


def test_global_scope_spreads_one_threshold_over_layers() -> None:
    from codegen.train.pruning import PruneConfig, layer_sparsities
    from codegen.train.tfenv import keras

    k = keras()
    inp = k.layers.Input((10,))
    small = k.layers.Dense(10, name="small", kernel_initializer=k.initializers.Constant(0.01))(inp)
    model = k.Model(
        inp, k.layers.Dense(10, name="big", kernel_initializer=k.initializers.Constant(1.0))(small)
    )
    per_layer = layer_sparsities(model, PruneConfig(target=0.5, scope="layer"))
    assert per_layer == {"small": 0.5, "big": 0.5}
    shares = layer_sparsities(model, PruneConfig(target=0.5, scope="global"))
    assert shares["small"] > 0.9 and shares["big"] == 0.0


def test_pruning_preserving_qat_keeps_zeros_in_layers_that_feed_a_concatenation() -> None:
    from codegen.train.pruning import keep_sparsity_callback, kernel_sparsity, quantize_aware, sparsity_masks
    from codegen.train.tfenv import keras, set_seed

    set_seed(0)
    k = keras()
    inp = k.layers.Input((8, 8, 1))
    s = k.layers.Conv2D(4, 1, activation="relu", name="squeeze")(inp)
    a = k.layers.Conv2D(8, 1, activation="relu", name="e1")(s)
    b = k.layers.Conv2D(8, 3, padding="same", activation="relu", name="e3")(s)
    x = k.layers.GlobalAveragePooling2D()(k.layers.Concatenate()([a, b]))
    model = k.Model(inp, k.layers.Softmax()(k.layers.Dense(3, name="fc")(x)))
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.weights:
            w, bias = layer.get_weights()
            w[rng.uniform(size=w.shape) < 0.5] = 0.0  # scattered zeros, as magnitude pruning leaves them
            layer.set_weights([w, bias + 0.1])
    assert kernel_sparsity(model) >= 0.45
    qat = quantize_aware(model, preserve_sparsity=True)
    qat.compile(k.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    x_train = rng.uniform(0, 1, (64, 8, 8, 1)).astype(np.float32)
    y_train = rng.integers(0, 3, 64)
    qat.fit(
        x_train,
        y_train,
        epochs=2,
        batch_size=16,
        verbose=0,
        callbacks=[keep_sparsity_callback(qat, sparsity_masks(model))],
    )
    summary = inspect_tflite(convert(qat, "int8", x_train[:16]))
    assert summary.fully_int8
    before = [float(np.mean(m == 0)) for m in sparsity_masks(model).values()]
    after = [share for _, share in summary.layer_sparsity]
    assert len(after) == len(before) and all(a >= b for a, b in zip(after, before, strict=True)), (
        before,
        after,
    )


def test_qat_average_pool_converts_without_requantize_operators() -> None:
    # tfmot gives AveragePooling2D its own output range; without our pass-through config the converter adds a
    # QUANTIZE (int8 -> int8) after AVERAGE_POOL_2D (seen on ResNet-8), an operator the runtime need not have
    from codegen.train.pruning import quantize_aware
    from codegen.train.tfenv import keras

    k = keras()
    inp = k.layers.Input((8, 8, 3))
    x = k.layers.Conv2D(4, 3, padding="same", name="conv")(inp)
    x = k.layers.BatchNormalization(name="bn")(x)
    x = k.layers.Activation("relu", name="relu")(x)
    x = k.layers.Flatten(name="flatten")(k.layers.AveragePooling2D(8, name="pool")(x))
    model = k.Model(inp, k.layers.Softmax()(k.layers.Dense(3, name="fc")(x)))
    calib = np.random.default_rng(0).uniform(0, 1, (8, 8, 8, 3)).astype(np.float32)
    qat = quantize_aware(model)
    qat.compile("adam", "sparse_categorical_crossentropy")
    qat.fit(calib, np.arange(8) % 3, epochs=1, verbose=0)  # moves the range quantizers apart
    summary = inspect_tflite(convert(qat, "int8", calib))
    assert summary.fully_int8
    assert summary.op_counts == {
        "AVERAGE_POOL_2D": 1,
        "CONV_2D": 1,
        "FULLY_CONNECTED": 1,
        "RESHAPE": 1,
        "SOFTMAX": 1,
    }


def test_magnitude_pruning_also_prunes_depthwise_kernels() -> None:
    from codegen.train.pruning import PruneConfig, apply_magnitude_pruning, pruning_callbacks, strip_pruning
    from codegen.train.tfenv import keras, set_seed

    set_seed(0)
    k = keras()
    inp = k.layers.Input((8, 8, 4))
    x = k.layers.DepthwiseConv2D(3, padding="same", name="dw")(inp)
    x = k.layers.Conv2D(8, 1, name="pw")(x)
    model = k.Model(inp, k.layers.Dense(2, name="fc")(k.layers.GlobalAveragePooling2D()(x)))
    pruned = apply_magnitude_pruning(model, PruneConfig(target=0.5, schedule="constant"), steps=8)
    pruned.compile("adam", k.losses.MeanSquaredError())
    data = np.random.default_rng(0).normal(size=(32, 8, 8, 4)).astype(np.float32)
    pruned.fit(
        data, np.zeros((32, 2)), batch_size=8, epochs=2, verbose=0, callbacks=pruning_callbacks(pruned)
    )
    plain = strip_pruning(pruned)
    dw = plain.get_layer("dw")
    assert type(dw) is k.layers.DepthwiseConv2D
    assert np.mean(dw.depthwise_kernel.numpy() == 0) >= 0.5
    assert np.mean(plain.get_layer("pw").kernel.numpy() == 0) >= 0.5
    assert np.mean(model.get_layer("dw").depthwise_kernel.numpy() == 0) == 0.0  # the input model is untouched
