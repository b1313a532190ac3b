"""Videos and image folders made with OpenCV, so the camera commands are tested without a camera."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from codegen.errors import EXIT_USAGE, CodegenError

cv2 = pytest.importorskip("cv2")


def run(argv: list[str]) -> int:
    """Run a camera sub-command the way codegen/cli.py does (CodegenError -> exit code 2)."""
    from codegen.camera import cli

    parser = argparse.ArgumentParser(prog="codegen")
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["camera", *argv])
    try:
        return args.func(args)
    except CodegenError:
        return EXIT_USAGE


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write MJPG videos here"
    for f in frames:
        writer.write(f if f.ndim == 3 else cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


@pytest.fixture
def ramp_video(tmp_path: Path) -> Path:
    """20 frames at 10 fps, 48x64, frame i a flat grey of value 10 * i."""
    return write_video(tmp_path / "ramp.avi", [np.full((48, 64, 3), 10 * i, np.uint8) for i in range(20)])


@pytest.fixture
def digits_video(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """12 digits of the test split, 8x8 scaled up to 64x64: (video, labels)."""
    from codegen.train.datasets import Subset, load_dataset

    ds = load_dataset("digits", subset=Subset(train=1, test=12, seed=0))
    frames = [cv2.resize((x[..., 0] * 255).astype(np.uint8), (64, 64), interpolation=cv2.INTER_NEAREST)
              for x in ds.x_test]
    return write_video(tmp_path / "digits.avi", frames), ds.y_test
