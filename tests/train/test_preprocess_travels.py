"""Preprocessing recorded once by `codegen train` and applied by bench (and its Python API) automatically; bench's
accuracy of an int8 model is the TFLM reference's on the same images (issue 19)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from codegen.errors import EXIT_USAGE, CodegenError
from codegen.train import sidecar
from codegen.train.bench import bench_model
from codegen.train.datasets import Preprocess, Subset, load_dataset
from tests.train.conftest import run

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "squeezenet_int8.tflite"  # 98 % on digits


def _tflm_accuracy(model: Path, pre: Preprocess, samples: int) -> float:
    """Fraction of labels matched by the tflite-micro interpreter, fed by hand (no codegen code in the loop)."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=4 << 20)
    d = interp.get_input_details(0)
    scale = float(d["quantization_parameters"]["scales"][0])
    zp = int(d["quantization_parameters"]["zero_points"][0])
    ds = load_dataset("digits", pre, Subset(train=1, test=samples, seed=0))
    hits = 0
    for x, y in zip(ds.x_test, ds.y_test, strict=True):
        q = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)[None]
        interp.set_input(q, 0)
        interp.invoke()
        hits += int(np.argmax(interp.get_output(0)[0]) == y)
    return hits / len(ds.y_test)


def test_train_records_the_preprocessing_and_input_quantization(trained: Path) -> None:
    rec = json.loads((trained / "squeezenet_int8.preprocess.json").read_text())
    assert rec["preprocess"] == {"size": [32, 32], "crop": "none", "channels": 1, "bgr": False, "mean": [0.0],
                                 "scale": [1 / 255]}
    assert rec["classes"] == [str(i) for i in range(10)] and rec["dataset"] == "digits"
    assert rec["input"]["dtype"] == "INT8" and rec["input"]["shape"] == [1, 32, 32, 1]
    report = json.loads((trained / "squeezenet_report.json").read_text())
    assert {v["accuracy_interpreter"] for v in report["variants"]} == {"TFLM reference"}
    assert report["dataset"]["counts"]["test"] == {str(c): n for c, n in enumerate(
        np.bincount(load_dataset("digits", subset=Subset(train=300, test=60, seed=3)).y_test, minlength=10))}


@pytest.mark.parametrize("which", ["shipped", "trained"])
def test_bench_accuracy_of_an_int8_model_is_the_tflm_reference_accuracy(trained: Path, which: str) -> None:
    model = SHIPPED if which == "shipped" else trained / "squeezenet_int8.tflite"
    result = bench_model(model, "digits", samples=120)
    assert result.interpreter == "TFLM reference"
    expected = _tflm_accuracy(model, Preprocess(size=(32, 32), channels=1), 120)
    assert result.accuracy == expected


def test_bench_applies_the_recorded_preprocessing(trained: Path, tmp_path: Path) -> None:
    model = tmp_path / "m_int8.tflite"
    shutil.copy(SHIPPED, model)
    plain = bench_model(model, "digits", samples=120)  # no sidecar: default 0..1 scaling, as it was trained
    assert plain.accuracy > 0.9
    odd = Preprocess(size=(32, 32), channels=1, mean=(128.0,), scale=(1 / 64,))
    sidecar.write_sidecar(model, sidecar.ModelPreprocess(odd, tuple("0123456789"), "digits"))
    recorded = bench_model(model, "digits", samples=120)
    assert recorded.preprocess["mean"] == [128.0] and recorded.preprocess_source.endswith("m_int8.preprocess.json")
    assert recorded.accuracy == _tflm_accuracy(model, odd, 120)
    assert recorded.accuracy < plain.accuracy - 0.05  # the record changed what the model was fed
    assert sidecar.load_preprocess(model) == odd


def test_a_flag_that_contradicts_the_record_needs_force(trained: Path, tmp_path: Path) -> None:
    model = str(trained / "squeezenet_int8.tflite")
    with pytest.raises(CodegenError, match=r"--mean 127.5 contradicts the preprocessing recorded in .*mean 0.0"):
        bench_model(Path(model), "digits", samples=5, flags={"mean": (127.5,)})
    assert run(["bench", "--models", model, "--samples", "5", "--mean", "127.5", "--out", str(tmp_path)]) == EXIT_USAGE
    assert run(["bench", "--models", model, "--samples", "5", "--mean", "0", "--out", str(tmp_path)]) == 0
    assert run(["bench", "--models", model, "--samples", "5", "--mean", "127.5", "--force", "--out",
                str(tmp_path)]) == 0
    assert json.loads((tmp_path / "bench.json").read_text())["models"][0]["preprocess"]["mean"] == [127.5]


def test_a_damaged_record_is_a_clear_error(trained: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.tflite"
    shutil.copy(trained / "squeezenet_int8.tflite", model)
    sidecar.sidecar_path(model).write_text("{not json")
    with pytest.raises(CodegenError, match="cannot read .*m.preprocess.json"):
        bench_model(model, "digits", samples=5)


def test_bench_splits_a_flat_folder_as_training_did(tmp_path: Path) -> None:
    from PIL import Image

    for cls, value in (("dark", 20), ("bright", 230)):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(10):
            arr = np.full((32, 32), value, np.uint8)
            arr[i, i] = 128  # distinct images
            Image.fromarray(arr).save(tmp_path / "data" / cls / f"{i}.png")
    model = tmp_path / "m_int8.tflite"
    shutil.copy(SHIPPED, model)
    spec = f"folder:{tmp_path / 'data'}"
    pre = Preprocess(size=(32, 32), channels=1)
    sidecar.write_sidecar(model, sidecar.ModelPreprocess(pre, ("bright", "dark"), spec,
                                                         split={"val_split": 0.3, "seed": 5}))
    result = bench_model(model, spec, samples=None)
    trained_split = load_dataset(spec, pre, val_split=0.3, split_seed=5)
    assert result.samples == len(trained_split.x_test) == 6  # 30 % of each class, as recorded
    default_split = load_dataset(spec, pre)
    assert len(default_split.x_test) == 4


def test_validate_dataset_inputs_use_the_recorded_preprocessing(tmp_path: Path) -> None:
    from codegen.frontend import load_model
    from codegen.hil.validate import dataset_inputs

    model = tmp_path / "m_int8.tflite"
    shutil.copy(SHIPPED, model)
    plain = dataset_inputs(load_model(model), "digits", 5)
    odd = Preprocess(size=(32, 32), channels=1, mean=(128.0,), scale=(1 / 64,))
    sidecar.write_sidecar(model, sidecar.ModelPreprocess(odd, tuple("0123456789"), "digits"))
    recorded = dataset_inputs(load_model(model), "digits", 5)
    # expected by hand: the same test images, (pixel - 128) / 64, quantized with the model's input parameters
    ds = load_dataset("digits", Preprocess(size=(32, 32), channels=1, mean=(0.0,), scale=(1.0,)),
                      Subset(train=1, test=5, seed=0))
    from tflite_micro.python.tflite_micro import runtime

    d = runtime.Interpreter.from_bytes(model.read_bytes(), arena_size=1 << 20).get_input_details(0)
    scale, zp = float(d["quantization_parameters"]["scales"][0]), int(d["quantization_parameters"]["zero_points"][0])
    for raw, data in zip(ds.x_test, recorded.data, strict=True):
        x = ((raw - 128.0) * np.float32(1 / 64)).astype(np.float32)
        expected = np.clip(np.round(x / np.float32(scale)) + zp, -128, 127).astype(np.int8)
        assert np.array_equal(np.frombuffer(data, np.int8).reshape(32, 32, 1), expected)
    assert recorded.data != plain.data


def test_models_tflm_cannot_run_are_scored_with_tflite_reference_kernels_and_named() -> None:
    from codegen.train import quantize
    from codegen.train.interpreters import TFLITE_REF, reference_accuracy
    from codegen.train.tfenv import keras, tf

    model = keras().models.load_model(SHIPPED.with_name("squeezenet.keras"))
    ds = load_dataset("digits", Preprocess(size=(32, 32), channels=1), Subset(train=50, test=60))
    for mode in ("fp16", "dynamic"):
        buf = quantize.convert(model, mode, ds.x_train)
        acc, name = reference_accuracy(buf, ds.x_test, ds.y_test)
        assert name == TFLITE_REF, mode
        t = tf()
        interp = t.lite.Interpreter(model_content=buf,
                                    experimental_op_resolver_type=t.lite.experimental.OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
        hits = 0
        for x, y in zip(ds.x_test, ds.y_test, strict=True):
            interp.set_tensor(interp.get_input_details()[0]["index"], x[None])
            interp.invoke()
            hits += int(np.argmax(interp.get_tensor(interp.get_output_details()[0]["index"])[0]) == y)
        assert acc == hits / len(ds.y_test) and acc > 0.9, mode
