"""Frame sources: a camera index (``0``), a video file, or a folder of images - all as BGR ``uint8`` frames.

    with open_source("clip.avi") as src:
        for frame in src.frames():
            ...  # frame.image is HxWx3 BGR uint8, frame.time_s the position in the source

A folder of images yields its image files in name order (one frame per second of "time", so ``--every`` counts
images); a video file yields its frames with their timestamps; a camera yields frames with wall-clock times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import numpy as np

from codegen.errors import CodegenError

log = logging.getLogger(__name__)


def cv2() -> ModuleType:
    """OpenCV, or a one-line error saying how to install it."""
    try:
        import cv2 as _cv2
    except ImportError as exc:
        raise CodegenError(
            "OpenCV is not installed", hint="pip install opencv-python-headless (or opencv-python for a preview)"
        ) from exc
    return _cv2


@dataclass(frozen=True)
class Frame:
    index: int  # position in the source (0, 1, 2 ...)
    time_s: float  # seconds since the start of the source
    image: np.ndarray  # HxWx3 BGR uint8
    name: str = ""  # file name for image folders


class FrameSource:
    """An open source of frames; use as a context manager (the camera or file is released on exit)."""

    def __init__(self, spec: str) -> None:
        self.spec = str(spec)
        self.kind, self._cap, self._files = self._open(self.spec)

    @staticmethod
    def _open(spec: str) -> tuple[str, Any, list[Path]]:
        path = Path(spec).expanduser()
        if spec.strip().isdigit() and not path.exists():
            cap = cv2().VideoCapture(int(spec))
            if not cap.isOpened():
                raise CodegenError(
                    f"cannot open camera {spec}",
                    hint="check the camera index (0 is the first camera) and that no other program uses it",
                )
            return "camera", cap, []
        if path.is_dir():
            from codegen.train.datasets import image_suffixes

            suffixes = image_suffixes()
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
            if not files:
                raise CodegenError(f"no images in {path}", hint="give a folder of image files, a video or a camera")
            return "folder", None, files
        if path.is_file():
            cap = cv2().VideoCapture(str(path))
            if not cap.isOpened():
                raise CodegenError(
                    f"OpenCV cannot read the video {path}", hint="give a video OpenCV reads (avi, mp4 ...)"
                )
            return "video", cap, []
        raise CodegenError(
            f"source {spec!r} is not a camera index, a video file or an image folder",
            hint="e.g. --source 0 (first camera), --source clip.avi or --source images/",
        )

    @property
    def fps(self) -> float:
        if self._cap is None:
            return 1.0
        fps = float(self._cap.get(cv2().CAP_PROP_FPS) or 0.0)
        return fps if fps > 0 else 30.0

    def frames(self) -> Iterator[Frame]:
        """Every frame of the source, in order (a camera runs until the caller stops)."""
        if self.kind == "folder":
            for i, f in enumerate(self._files):
                image = cv2().imread(str(f), cv2().IMREAD_COLOR)
                if image is None:
                    raise CodegenError(f"cannot read image {f}", hint="remove or re-save the file")
                yield Frame(i, float(i), image, f.name)
            return
        start = time.monotonic()
        i = 0
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                if self.kind == "camera":
                    raise CodegenError(f"camera {self.spec} stopped delivering frames", hint="check the camera")
                return
            t = time.monotonic() - start if self.kind == "camera" else i / self.fps
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=2)
            yield Frame(i, t, image)
            i += 1

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_source(spec: str | Path) -> FrameSource:
    return FrameSource(str(spec))


def every(frames: Iterator[Frame], seconds: float) -> Iterator[Frame]:
    """The first frame, then the first frame at least ``seconds`` after the previous one taken."""
    last: float | None = None
    for f in frames:
        if last is None or f.time_s - last >= seconds - 1e-9:
            last = f.time_s
            yield f


class Preview:
    """An OpenCV window when a display is available (never with opencv-python-headless), else nothing."""

    def __init__(self, title: str, enabled: bool = True) -> None:
        self.title = title
        self.active = False
        if not enabled:
            return
        import os

        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return
        try:
            cv2().namedWindow(title)
            self.active = True
        except Exception:  # noqa: BLE001 - headless builds raise cv2.error: no GUI support
            log.debug("no preview window: OpenCV has no GUI support")

    def show(self, image: np.ndarray, text: str = "") -> bool:
        """Show a frame with ``text`` drawn on it; False when the user pressed q or Esc."""
        if not self.active:
            return True
        c = cv2()
        shown = image.copy()
        if text:
            c.putText(shown, text, (8, 24), c.FONT_HERSHEY_SIMPLEX, 0.7, (0, 255, 0), 2, c.LINE_AA)
        c.imshow(self.title, shown)
        return c.waitKey(1) & 0xFF not in (ord("q"), 27)

    def close(self) -> None:
        if self.active:
            cv2().destroyWindow(self.title)
            self.active = False
