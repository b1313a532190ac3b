"""From a camera to a classifying board: frame sources, labelled capture, live inference over serial.

* :mod:`codegen.camera.sources` - frames from a camera index, a video file or a folder of images (OpenCV);
* :mod:`codegen.camera.capture` - ``codegen camera capture``: write N frames under ``DIR/<label>/``;
* :mod:`codegen.camera.run` - ``codegen camera run``: preprocess each frame as the model was trained (the recorded
  preprocessing, :mod:`codegen.train.sidecar`), send it to the board (INFER), print label, confidence and device
  latency, optionally check each result against the generated C on the host.

OpenCV (``opencv-python-headless``) is imported lazily, so the rest of codegen does not need it.
"""

from __future__ import annotations
