"""Preprocessing that travels with the model: a JSON sidecar next to the .tflite.

``codegen train`` writes ``N_<variant>.preprocess.json`` beside every ``N_<variant>.tflite``: everything that maps
a camera frame or an image file to the model's input tensor (resize, crop, channel count and order, per-channel
mean and scale, the quantization of the input) plus the class names. ``codegen bench``, ``codegen validate
--dataset``, the camera commands and :func:`load_preprocess` read it, so a model is always fed the way it was
trained; ``codegen generate`` copies it into the project manifest (``.codegen-manifest.json``, key
``preprocess``). A command-line flag that contradicts the recorded value is an error unless ``--force`` is given.

    {"format": 1, "preprocess": {"size": [32, 32], "crop": "none", "channels": 1, "bgr": false,
     "mean": [0.0], "scale": [0.00392156862745098]}, "classes": ["0", ..., "9"], "dataset": "digits",
     "input": {"dtype": "INT8", "shape": [1, 32, 32, 1], "scale": 0.0039215..., "zero_point": -128}}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codegen.errors import CodegenError, OverwriteError
from codegen.train.datasets import Preprocess

FORMAT = 1
SUFFIX = ".preprocess.json"
FIELDS = ("size", "crop", "channels", "bgr", "mean", "scale")


@dataclass(frozen=True)
class ModelPreprocess:
    """The recorded preprocessing of one model, where it came from and the class names."""

    preprocess: Preprocess
    classes: tuple[str, ...] = ()
    dataset: str = ""
    input: dict[str, Any] | None = None
    source: str = ""
    split: dict[str, Any] | None = None  # {"val_split": F, "seed": S}: how a folder without test split was split

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "preprocess": self.preprocess.to_json(),
            "classes": list(self.classes),
            "dataset": self.dataset,
        }
        if self.input is not None:
            out["input"] = self.input
        if self.split is not None:
            out["split"] = self.split
        return out

    def label(self, index: int) -> str:
        return self.classes[index] if 0 <= index < len(self.classes) else str(index)


def sidecar_path(model: str | Path) -> Path:
    """``dir/name.tflite`` -> ``dir/name.preprocess.json``."""
    model = Path(model)
    return model.parent / f"{model.stem}{SUFFIX}"


def preprocess_from_json(data: Any, where: str) -> Preprocess:
    if not isinstance(data, dict):
        raise CodegenError(f"{where}: 'preprocess' is not an object", hint="re-create it with codegen train")
    try:
        size = data.get("size")
        return Preprocess(
            size=(int(size[0]), int(size[1])) if size else None,
            crop=str(data.get("crop", "none")),
            channels=int(data["channels"]) if data.get("channels") is not None else None,
            bgr=bool(data.get("bgr", False)),
            mean=tuple(float(v) for v in data.get("mean", (0.0,))),
            scale=tuple(float(v) for v in data.get("scale", (1 / 255,))),
        )
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise CodegenError(
            f"{where}: bad preprocessing record ({exc})", hint="re-create it with codegen train"
        ) from exc


def from_json(data: Any, where: str) -> ModelPreprocess:
    if not isinstance(data, dict) or "preprocess" not in data:
        raise CodegenError(f"{where} is not a preprocessing record", hint="re-create it with codegen train")
    if data.get("format") != FORMAT:
        raise CodegenError(f"{where} has format {data.get('format')!r}, expected {FORMAT}",
                           hint="re-create it with this codegen version")
    classes = data.get("classes") or []
    return ModelPreprocess(
        preprocess=preprocess_from_json(data["preprocess"], where),
        classes=tuple(str(c) for c in classes),
        dataset=str(data.get("dataset", "")),
        input=data.get("input"),
        source=where,
        split=data.get("split") if isinstance(data.get("split"), dict) else None,
    )


def read_sidecar(model: str | Path) -> ModelPreprocess | None:
    """The record next to ``model``, or None when there is none."""
    path = sidecar_path(model)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodegenError(f"cannot read {path}: {exc}", hint="fix or delete the file") from exc
    return from_json(data, str(path))


def write_sidecar(model: str | Path, record: ModelPreprocess, *, force: bool = False) -> Path:
    path = sidecar_path(model)
    if path.exists() and not force:
        raise OverwriteError(f"{path} already exists", hint="pass --force to replace it")
    path.write_text(json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def read_manifest_preprocess(project: str | Path) -> ModelPreprocess | None:
    """The record a generated project carries in its manifest, or None."""
    manifest = Path(project) / ".codegen-manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CodegenError(f"cannot read {manifest}: {exc}", hint="regenerate the project") from exc
    rec = data.get("preprocess")
    return None if rec is None else from_json(rec, f"{manifest} (preprocess)")


def manifest_entry(model: str | Path) -> dict[str, Any] | None:
    """What ``codegen generate`` puts under ``preprocess`` in the project manifest (None without a sidecar)."""
    rec = read_sidecar(model)
    return None if rec is None else rec.to_json()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) == 1 and len(b) > 1:
            a = tuple(a) * len(b)
        if len(b) == 1 and len(a) > 1:
            b = tuple(b) * len(a)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def resolve(
    recorded: ModelPreprocess | None,
    flags: dict[str, Any],
    *,
    force: bool = False,
    default: Preprocess | None = None,
) -> Preprocess:
    """The preprocessing to use: the recorded one, with the flags the user gave (values not None).

    A flag that contradicts the record is an error naming both values, unless ``force`` (then the flag wins).
    Without a record the flags apply on top of ``default``.
    """
    given = {k: v for k, v in flags.items() if v is not None and k in FIELDS}
    if recorded is None:
        return replace(default or Preprocess(), **given)
    pre = recorded.preprocess
    for key, value in given.items():
        have = getattr(pre, key)
        if have is None or _same(have, value):
            continue
        if not force:
            flag = f"--{key}"
            shown = "x".join(map(str, value)) if key == "size" else ",".join(map(str, value)) if isinstance(
                value, tuple) else value
            rec = "x".join(map(str, have)) if key == "size" else ",".join(map(str, have)) if isinstance(
                have, tuple) else have
            raise CodegenError(
                f"{flag} {shown} contradicts the preprocessing recorded in {recorded.source} ({key} {rec})",
                hint=f"drop {flag} (the recorded value is used automatically), or pass --force to override it",
            )
    return replace(pre, **given)


def load_preprocess(model: str | Path) -> Preprocess:
    """Python API: the preprocessing recorded for ``model`` (sidecar), or the default (0..1 scaling)."""
    rec = read_sidecar(model)
    return rec.preprocess if rec is not None else Preprocess()
