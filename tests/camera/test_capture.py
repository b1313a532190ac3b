"""`codegen camera capture` from a video file and an image folder (no camera needed), and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codegen.errors import EXIT_USAGE
from tests.camera.conftest import cv2, run


def test_capture_writes_every_nth_frame_of_a_video_as_labelled_images(ramp_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    assert run(["capture", "--source", str(ramp_video), "--label", "grey", "--count", "5", "--out", str(out),
                "--every", "0.2", "--size", "32x24"]) == 0
    files = sorted((out / "grey").iterdir())
    assert [f.name for f in files] == [f"grey_{i:04d}.png" for i in range(5)]
    images = [cv2.imread(str(f)) for f in files]
    assert all(im.shape == (24, 32, 3) for im in images)  # --size is width x height
    # 10 fps, one frame every 0.2 s: frames 0, 2, 4, 6, 8 (values 0, 20, 40, 60, 80, up to JPEG noise)
    np.testing.assert_allclose([im.mean() for im in images], [0, 20, 40, 60, 80], atol=3)


def test_capture_continues_numbering_and_never_overwrites(ramp_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    assert run(["capture", "--source", str(ramp_video), "--label", "a", "--count", "3", "--out", str(out)]) == 0
    first = (out / "a" / "a_0000.png").read_bytes()
    assert run(["capture", "--source", str(ramp_video), "--label", "a", "--count", "30", "--out", str(out)]) == 0
    names = sorted(p.name for p in (out / "a").iterdir())
    assert names == [f"a_{i:04d}.png" for i in range(23)]  # 3 + the 20 frames the video has
    assert (out / "a" / "a_0000.png").read_bytes() == first


def test_capture_from_an_image_folder_feeds_training(tmp_path: Path) -> None:
    src = tmp_path / "shots"
    src.mkdir()
    for i in range(4):
        cv2.imwrite(str(src / f"{i}.jpg"), np.full((20, 30, 3), 60 * i, np.uint8))
    out = tmp_path / "data"
    assert run(["capture", "--source", str(src), "--label", "x", "--count", "4", "--out", str(out)]) == 0
    assert run(["capture", "--source", str(src), "--label", "y", "--count", "2", "--out", str(out)]) == 0
    from codegen.train.datasets import Preprocess, load_dataset

    ds = load_dataset(f"folder:{out}", Preprocess(size=(8, 8)), val_split=0.5)
    assert ds.counts() == {"train": {"x": 2, "y": 1}, "test": {"x": 2, "y": 1}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "no/such/thing.avi"], "is not a camera index, a video file or an image folder"),
        (["--source", "{video}", "--label", "a/b"], "is not a folder name"),
        (["--source", "{video}", "--count", "0"], "--count must be at least 1"),
        (["--source", "{notvideo}"], "OpenCV cannot read the video"),
    ],
)
def test_capture_errors_are_one_line(
    ramp_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    import subprocess
    import sys

    bad = tmp_path / "notes.txt"
    bad.write_text("not a video")
    argv = ["capture", "--label", "a", "--count", "2", "--out", str(tmp_path / "o")]
    argv += [a.format(video=ramp_video, notvideo=bad) for a in args]
    proc = subprocess.run([sys.executable, "-m", "codegen", "camera", *argv], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert proc.returncode == EXIT_USAGE
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
