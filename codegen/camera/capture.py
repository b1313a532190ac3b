"""``codegen camera capture``: write frames of a source as a labelled image folder (``DIR/<label>/``).

The folder is the ``folder:DIR`` dataset layout (flat class folders), so ``codegen train --dataset folder:DIR``
trains on it directly. Existing images are never overwritten: numbering continues after the highest one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codegen.camera.sources import Preview, cv2, every, open_source
from codegen.errors import CodegenError

log = logging.getLogger(__name__)

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class CaptureResult:
    folder: Path
    files: tuple[Path, ...]
    frames_seen: int


def resize_frame(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Resize (height, width) with area interpolation (good for shrinking camera frames)."""
    if size is None:
        return image
    h, w = size
    return cv2().resize(image, (w, h), interpolation=cv2().INTER_AREA)


def _next_index(folder: Path, label: str) -> int:
    pattern = re.compile(rf"^{re.escape(label)}_(\d+)\.png$")
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := pattern.match(p.name))]
    return max(numbers) + 1 if numbers else 0


def capture(
    source: str,
    label: str,
    count: int,
    out: Path,
    *,
    every_s: float = 0.0,
    size: tuple[int, int] | None = None,
    preview: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> CaptureResult:
    """Write ``count`` frames of ``source`` (one every ``every_s`` seconds of source time) as
    ``out/<label>/<label>_NNNN.png``; stops early when a video or folder ends."""
    if not LABEL_RE.match(label):
        raise CodegenError(f"label {label!r} is not a folder name",
                           hint="use letters, digits, '_', '-' and '.', e.g. --label cup")
    if count < 1:
        raise CodegenError("--count must be at least 1", hint="e.g. --count 50")
    if every_s < 0:
        raise CodegenError("--every must not be negative", hint="e.g. --every 0.5")
    folder = Path(out) / label
    folder.mkdir(parents=True, exist_ok=True)
    start = _next_index(folder, label)
    files: list[Path] = []
    seen = 0
    window = Preview(f"codegen capture: {label}", preview)
    try:
        with open_source(source) as src:
            if every_s and src.kind == "folder":
                log.info("--every counts images in a folder source (one image = one second)")
            for frame in every(src.frames(), every_s):
                seen = frame.index + 1
                image = resize_frame(frame.image, size)
                path = folder / f"{label}_{start + len(files):04d}.png"
                if not cv2().imwrite(str(path), image):
                    raise CodegenError(f"cannot write {path}", hint="check the folder is writable")
                files.append(path)
                if progress is not None:
                    progress(len(files), count)
                if not window.show(frame.image, f"{label} {len(files)}/{count}") or len(files) >= count:
                    break
    finally:
        window.close()
    if not files:
        raise CodegenError(f"the source {source} gave no frames", hint="check the video file or the camera")
    if len(files) < count:
        log.warning("the source ended after %d of %d frames", len(files), count)
    return CaptureResult(folder, tuple(files), seen)
