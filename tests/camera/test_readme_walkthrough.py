"""The README's "your own images, from camera to board" walkthrough, run line by line with video files as sources
(and fewer epochs), in an empty folder: capture, train, bench, generate, camera run on the emulated board."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen.hil.pytest_plugin import emulator_skip_reason
from tests.camera.conftest import cv2, write_video

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Your own images, from camera to board", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def _digit_frames(digit: int, n: int) -> list[np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = d.images[d.target == digit][:n]
    return [cv2.resize((im * 255 / 16).astype(np.uint8), (80, 60), interpolation=cv2.INTER_LINEAR) for im in images]


@pytest.mark.slow
@pytest.mark.emulator
def test_readme_walkthrough_works_as_written(tmp_path: Path) -> None:
    reason = emulator_skip_reason()
    if reason:
        pytest.skip(reason)
    # one video per label, 2 frames per second so that --every 0.5 keeps every frame
    videos = {"cup": write_video(tmp_path / "cup.avi", _digit_frames(0, 40), fps=2.0),
              "pen": write_video(tmp_path / "pen.avi", _digit_frames(1, 40), fps=2.0)}
    work = tmp_path / "work"
    work.mkdir()
    outputs = []
    for line in walkthrough():
        argv = shlex.split(line)
        assert argv[0] == "codegen"
        if "--source" in argv:  # the camera is a video file here
            i = argv.index("--source")
            label = argv[argv.index("--label") + 1] if "--label" in argv else "cup"
            argv[i + 1] = str(videos[label]) if "capture" in argv else str(videos["cup"])
        if "--epochs" in argv:
            argv[argv.index("--epochs") + 1] = "6"
        if argv[1:3] == ["camera", "run"]:
            argv.append("--json")
        proc = subprocess.run([sys.executable, "-m", "codegen", *argv[1:]], cwd=work, capture_output=True,
                              text=True, timeout=900, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, f"{line}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        outputs.append(proc.stdout)
    assert sorted(p.name for p in (work / "data" / "mine").iterdir()) == ["cup", "pen"]
    assert len(list((work / "data" / "mine" / "cup").iterdir())) == 40
    assert (work / "models" / "mine_int8.preprocess.json").is_file()
    assert "TFLM reference" in outputs[3]
    report = json.loads(outputs[-1])
    assert report["mismatches"] == 0 and len(report["frames"]) == 40
    assert sum(f["label"] == "cup" for f in report["frames"]) >= 30  # digit zeros, labelled "cup"
