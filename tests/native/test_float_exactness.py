"""Float models compute the same bits on the host, in TFLM and on the emulated board (issue 19): every build uses
-ffp-contract=off and the float kernels sum in TFLM's order; only kernels that call a libm function that is not
correctly rounded (expf, tanhf) get the documented tolerance of codegen.tolerance."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from codegen.frontend import load_model
from codegen.tolerance import LIBM_OPS, float_tolerance


@pytest.fixture(scope="module")
def float_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A float CNN with conv, depthwise, pooling, FC, logistic, tanh and softmax, and a float sine model like TFLM's
    hello_world (three dense layers, ReLU), both converted by TensorFlow."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    keras = tf.keras
    out = tmp_path_factory.mktemp("float_models")
    tf.random.set_seed(0)
    x = keras.Input((12, 12, 2), batch_size=1)
    y = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    y = keras.layers.DepthwiseConv2D(3, padding="valid")(y)
    y = keras.layers.Activation("sigmoid")(y)
    y = keras.layers.AveragePooling2D(2)(y)
    y = keras.layers.MaxPooling2D(2, padding="same")(y)
    y = keras.layers.Flatten()(y)
    y = keras.layers.Dense(16)(y)
    y = keras.layers.Activation("tanh")(y)
    y = keras.layers.Dense(5)(y)
    y = keras.layers.Softmax()(y)
    paths = {"cnn": out / "float_cnn.tflite", "sine": out / "hello_world_float.tflite"}
    paths["cnn"].write_bytes(tf.lite.TFLiteConverter.from_keras_model(keras.Model(x, y)).convert())
    x = keras.Input((1,), batch_size=1)
    y = keras.layers.Dense(16, activation="relu")(x)
    y = keras.layers.Dense(16, activation="relu")(y)
    y = keras.layers.Dense(1)(y)
    sine = keras.Model(x, y)
    xs = np.random.default_rng(0).uniform(0, 2 * np.pi, (512, 1)).astype(np.float32)
    sine.compile("adam", "mse")
    sine.fit(xs, np.sin(xs), epochs=2, verbose=0)
    paths["sine"].write_bytes(tf.lite.TFLiteConverter.from_keras_model(sine).convert())
    return paths


def test_tolerance_applies_only_to_float_models_with_libm_operators(float_models: dict[str, Path]) -> None:
    cnn = float_tolerance(load_model(float_models["cnn"]))
    assert cnn is not None and {op for op, _ in cnn.ops} == {"LOGISTIC", "TANH", "SOFTMAX"}
    assert {op for op, _ in cnn.ops} <= set(LIBM_OPS)
    assert float_tolerance(load_model(float_models["sine"])) is None
    from tests.conftest import shared_model

    assert float_tolerance(load_model(shared_model("kws_dscnn_int8.tflite"))) is None  # int8 softmax: exact
    assert cnn.within(np.float32([1.0]), np.float32([1.0 + 5e-5])) and not cnn.within(np.float32([1.0]),
                                                                                     np.float32([1.001]))


@pytest.mark.parametrize("name", ["cnn", "sine"])
def test_float_model_is_bit_exact_with_tflm_on_the_host(name: str, float_models: dict[str, Path], build_cache) -> None:  # noqa: ANN001
    from codegen.verify import verify

    report = verify(float_models[name], samples=50, tflm_arena=False, cache_dir=build_cache)
    assert not report.quantized and report.exact_matches == report.samples, report
    assert report.passed and report.max_abs_diff == 0.0


@pytest.mark.slow
@pytest.mark.emulator
@pytest.mark.parametrize("name", ["sine", "cnn"])
def test_float_model_validates_on_the_emulated_board(name: str, float_models: dict[str, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The sine model is bit-exact on the Cortex-M4F (it failed with GCC's default FMA contraction); the CNN is
    bit-exact up to its libm operators and passes within the printed tolerance."""
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from codegen.cli import main

    project = tmp_path / name
    assert main(["--board", "qemu", "--model", str(float_models[name]), "--out", str(project)]) == 0
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--samples", "20", "--json", "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"], report
    device = [c for c in report["comparisons"] if c["b"] == "device"]
    assert len(device) == 2
    if name == "sine":
        assert report["tolerance"] == "" and all(c["exact"] == c["samples"] for c in device)
    else:
        assert "expf" in report["tolerance"] and all(c["within"] == c["samples"] for c in device)
        assert all(c["max_abs_diff"] < 1e-6 for c in device)


@pytest.fixture(scope="module")
def mixed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Float input and output around an int8 core (QUANTIZE ... DEQUANTIZE), as TensorFlow's converter writes it
    when only the operators are quantized."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    keras = tf.keras
    tf.random.set_seed(1)
    x = keras.Input((8, 8, 3), batch_size=1)
    y = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(x)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu")(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dense(4)(y)
    conv = tf.lite.TFLiteConverter.from_keras_model(keras.Model(x, y))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)] for _ in range(32))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    path = tmp_path_factory.mktemp("mixed") / "mixed_float_io.tflite"
    path.write_bytes(conv.convert())
    return path


def test_mixed_model_is_bit_exact_with_tflm_on_the_host(mixed_model: Path, build_cache) -> None:  # noqa: ANN001
    from codegen.verify import verify

    graph = load_model(mixed_model)
    ops = [op.op for op in graph.operators]
    assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE" and float_tolerance(graph) is None
    report = verify(mixed_model, samples=50, tflm_arena=False, cache_dir=build_cache)
    assert report.exact_matches == report.samples and report.tolerance == "bit-exact"


@pytest.mark.slow
@pytest.mark.emulator
def test_mixed_model_validates_bit_exact_on_the_emulated_board(mixed_model: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from codegen.cli import main

    project = tmp_path / "mixed"
    assert main(["--board", "qemu", "--model", str(mixed_model), "--out", str(project)]) == 0
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--samples", "20", "--json", "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["tolerance"] == ""
    assert all(c["exact"] == c["samples"] for c in report["comparisons"] if c["b"] == "device")
