"""`codegen camera run --project` on the emulated STM32F405 from a generated video file: QEMU started and stopped by
the command, preprocessing taken from the project manifest, every device output equal to the generated C on the
host, and every predicted class equal to the TFLM reference's on the same frames."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from codegen.hil.pytest_plugin import emulator_skip_reason
from tests.camera.conftest import cv2, run

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "squeezenet_int8.tflite"  # SqueezeNet trained on digits, 32x32 grey, 0..1 inputs


@pytest.mark.emulator
def test_camera_run_on_the_emulated_board_matches_host_and_tflm(
    digits_video: tuple[Path, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = emulator_skip_reason()
    if reason:
        pytest.skip(reason)
    from codegen.camera.run import Classifier
    from codegen.project.writer import generate_project
    from codegen.train import sidecar
    from codegen.train.datasets import Preprocess

    video, labels = digits_video
    model = tmp_path / "digits_int8.tflite"
    shutil.copy(SHIPPED, model)
    sidecar.write_sidecar(model, sidecar.ModelPreprocess(Preprocess(size=(32, 32), channels=1),
                                                         tuple(f"digit{i}" for i in range(10)), "digits"))
    project = generate_project(model, "emulated_stm32f405", tmp_path / "proj").path
    manifest = json.loads((project / ".codegen-manifest.json").read_text())
    assert manifest["preprocess"]["preprocess"]["size"] == [32, 32]
    sidecar.sidecar_path(model).unlink()  # from here on only the manifest knows the preprocessing

    capsys.readouterr()
    assert run(["run", "--source", str(video), "--project", str(project), "--check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    frames = report["frames"]
    assert len(frames) == 12 and report["mismatches"] == 0
    assert all(f["host_equal"] is True for f in frames)
    assert "instruction" in report["counter_kind"] and all(f["ticks"] > 1_000_000 for f in frames)
    assert all(f["label"] == f"digit{f['class_index']}" for f in frames)  # class names from the manifest

    # the same frames through the TFLM reference interpreter
    from tflite_micro.python.tflite_micro import runtime

    clf = Classifier(project / "model" / model.name, recorded=sidecar.read_manifest_preprocess(project))
    tflm = runtime.Interpreter.from_bytes(SHIPPED.read_bytes(), arena_size=1 << 20)
    cap = cv2.VideoCapture(str(video))
    expected = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        tflm.set_input(np.frombuffer(clf.prepare(image), np.int8).reshape(1, 32, 32, 1), 0)
        tflm.invoke()
        expected.append(int(np.argmax(tflm.get_output(0)[0])))
    cap.release()
    assert [f["class_index"] for f in frames] == expected
    assert sum(int(e == y) for e, y in zip(expected, labels, strict=True)) >= 10  # it does read the digits
