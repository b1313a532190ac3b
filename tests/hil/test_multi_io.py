"""Several inputs and outputs through the whole chain (issue 14, item 6): a two-input, two-output int8 model built
with TensorFlow validates bit-exact on the emulated STM32F405 (INFER carries both inputs, the reply both outputs)
and its generated project's `pio test` self-test passes; the host sources split and join the tensors in graph
order, checked against TensorFlow Lite's own interpreter."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from codegen.frontend import load_model


@pytest.fixture(scope="module")
def two_io_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs of different shapes (an 8x8x2 image and a 16-vector), a shared trunk (conv branch and dense branch
    added), and two heads of different sizes (4 and 3), quantized int8 end to end by TensorFlow."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    keras = tf.keras
    tf.random.set_seed(0)
    image = keras.Input((8, 8, 2), batch_size=1, name="image")
    vector = keras.Input((16,), batch_size=1, name="vector")
    a = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(image)
    a = keras.layers.Flatten()(a)
    a = keras.layers.Dense(12)(a)
    b = keras.layers.Dense(12, activation="relu")(vector)
    trunk = keras.layers.Add()([a, b])
    both = keras.layers.Concatenate()([trunk, b])
    head1 = keras.layers.Dense(4, name="head_a")(both)
    head2 = keras.layers.Softmax(name="head_b")(keras.layers.Dense(3)(trunk))
    model = keras.Model([image, vector], [head1, head2])
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(32):
            yield {"image": rng.uniform(-1, 1, (1, 8, 8, 2)).astype(np.float32),
                   "vector": rng.uniform(-1, 1, (1, 16)).astype(np.float32)}

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    path = tmp_path_factory.mktemp("two_io") / "two_io_int8.tflite"
    path.write_bytes(conv.convert())
    return path


def _tflite(path: Path, data: bytes, graph) -> bytes:  # noqa: ANN001
    """TensorFlow Lite's interpreter on concatenated input bytes -> concatenated output bytes (graph order)."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(path))
    interp.allocate_tensors()
    by_index = {d["index"]: d for d in interp.get_input_details()}
    off = 0
    for t in graph.input_tensors:
        d = next(d for d in by_index.values() if d["name"] == t.name)
        n = int(np.prod(d["shape"]))
        interp.set_tensor(d["index"], np.frombuffer(data[off : off + n], np.int8).reshape(d["shape"]))
        off += n
    assert off == len(data)
    interp.invoke()
    outs = {d["name"]: d["index"] for d in interp.get_output_details()}
    return b"".join(interp.get_tensor(outs[t.name]).tobytes() for t in graph.output_tensors)


def test_host_sources_split_inputs_and_join_outputs_like_tflite(two_io_model: Path) -> None:
    from codegen.hil.sources import host_c_fns, reference_fn
    from codegen.hil.validate import random_inputs, split_outputs

    graph = load_model(two_io_model)
    assert len(graph.inputs) == 2 and len(graph.outputs) == 2
    inputs = random_inputs(graph, 6, seed=3)
    assert all(len(d) == 8 * 8 * 2 + 16 for d in inputs.data) and inputs.floats is None
    ref = reference_fn(graph)
    host_c, _ = host_c_fns(graph)
    for data in inputs.data:
        want = _tflite(two_io_model, data, graph)
        assert len(want) == 4 + 3
        assert ref(data) == want and host_c(data) == want
        assert sorted(p.size for p in split_outputs(graph, want)) == [3, 4]  # graph order is TFLite's


def _npy_pair(graph, folder: Path, n: int = 12) -> tuple[Path, Path, list[np.ndarray]]:  # noqa: ANN001
    """A float .npy for the image input and an int8 (already quantized) .npy for the vector input."""
    rng = np.random.default_rng(5)
    image = rng.uniform(-1, 1, (n, 8, 8, 2)).astype(np.float32)
    vector = rng.integers(-128, 128, (n, 16)).astype(np.int8)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "images.npy", image)
    np.save(folder / "vectors.npy", vector)
    names = [t.name for t in graph.input_tensors]
    ordered = [image, vector] if "image" in names[0] else [vector, image]
    paths = [folder / "images.npy", folder / "vectors.npy"]
    if "image" not in names[0]:
        paths.reverse()
    return paths[0], paths[1], ordered


def test_dataset_per_input_is_quantized_and_joined_in_graph_order(two_io_model: Path, tmp_path: Path) -> None:
    from codegen.hil.sources import reference_fn
    from codegen.hil.validate import dataset_inputs

    graph = load_model(two_io_model)
    first, second, arrays = _npy_pair(graph, tmp_path)
    inputs = dataset_inputs(graph, [str(first), str(second)], 10)
    assert len(inputs.data) == 10 and inputs.labels is None and inputs.floats is None
    assert all(t.name in inputs.source for t in graph.input_tensors)
    ref = reference_fn(graph)
    for k, data in enumerate(inputs.data):
        parts = []
        for t, arr in zip(graph.input_tensors, arrays, strict=True):
            if arr.dtype == np.float32:  # quantized with the input's scale and zero point, round half to even
                s, z = t.quant.scale[0], t.quant.zero_point[0]
                parts.append(np.clip(np.round(arr[k] / s) + z, -128, 127).astype(np.int8).tobytes())
            else:
                parts.append(arr[k].tobytes())
        assert data == b"".join(parts)
        assert len(ref(data)) == 7


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("one", r"has 2 input\(s\) \(.+\) but 1 --dataset value\(s\) were given \(pass --dataset once per input"),
        ("shape", r"holds an array of shape \[4, 3\] \(float32\); input .+ takes samples of shape"),
        ("image", r"--dataset digits needs an image input \(NHWC\); input .+ has shape \[1, 16\]"),
        ("range", r"holds int32 values in \[-300, 7\], outside input .+'s int8 range"),
        ("broken", r"cannot read --dataset .+broken.npy"),
    ],
)
def test_validate_dataset_mismatches_exit_2_with_one_line(two_io_model: Path, tmp_path: Path, which: str,
                                                          message: str, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    from codegen.cli import main

    graph = load_model(two_io_model)
    first, second, _ = _npy_pair(graph, tmp_path)
    image_first = "image" in graph.input_tensors[0].name
    image, vector = (first, second) if image_first else (second, first)
    bad = tmp_path / "bad.npy"
    if which == "shape":
        np.save(bad, np.zeros((4, 3), np.float32))
    elif which == "range":
        np.save(bad, np.array([[-300] + [7] * 15], np.int32))
    elif which == "broken":
        bad = tmp_path / "broken.npy"
        bad.write_bytes(b"not numpy")
    specs = {
        "one": [image],
        "shape": [image, bad] if image_first else [bad, image],
        "image": [image, "digits"] if image_first else ["digits", image],
        "range": [image, bad] if image_first else [bad, image],
        "broken": [image, bad] if image_first else [bad, image],
    }[which]
    args = ["validate", "--port", "socket://127.0.0.1:9", "--model", str(two_io_model), "--limit", "5"]
    for spec in specs:
        args += ["--dataset", str(spec)]
    assert vector.exists()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


@pytest.mark.emulator
def test_two_input_two_output_model_validates_exactly_and_passes_pio_test_on_the_emulated_board(
    two_io_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from codegen.cli import main
    from codegen.hil.project import run_selftest

    project = tmp_path / "two_io"
    assert main(["generate", "--board", "qemu", "--model", str(two_io_model), "--out", str(project)]) == 0
    assert main(["build", str(project)]) == 0
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--samples", "20", "--json", "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"], report
    device = [c for c in report["comparisons"] if c["b"] == "device"]
    assert len(device) == 2 and all(c["exact"] == c["samples"] == 20 for c in device)
    assert report["device"]["input_bytes"] == 8 * 8 * 2 + 16 and report["device"]["output_bytes"] == 7

    first, second, _ = _npy_pair(load_model(two_io_model), tmp_path / "data", n=8)
    rc = main(["validate", "--project", str(project), "--dataset", str(first), "--dataset", str(second), "--json",
               "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"], report
    device = [c for c in report["comparisons"] if c["b"] == "device"]
    assert len(device) == 2 and all(c["exact"] == c["samples"] == 8 for c in device)

    golden = (project / "test" / "test_selftest" / "cg_golden.h").read_text()
    assert "#define CG_GOLDEN_INPUT_BYTES 144u" in golden and "#define CG_GOLDEN_OUTPUT_BYTES 7u" in golden
    result = run_selftest(project, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    assert result.failed == 0 and result.passed >= 4
