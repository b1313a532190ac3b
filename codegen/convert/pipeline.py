"""``convert_onnx(ConvertConfig(...)) -> ConvertResult``: what ``codegen convert`` runs.

Output files, for ``--out DIR/M.tflite``:

* ``M.tflite`` - the full-int8 model (int8 input and output), or the float32 model with ``--float32``;
* ``M_float32.tflite`` - the float twin of an int8 model (same graph before quantization), for ``validate
  --float-model`` and comparisons;
* ``M_convert.json`` - where it came from (ONNX file and sha256), input layout, the rewrites, the dataset and its
  preprocessing (as ``codegen train`` records it), the checks against onnxruntime, accuracies and emitted ops.
* ``M.preprocess.json`` (and ``M_float32.preprocess.json``) with a dataset - the preprocessing sidecar of
  :mod:`codegen.train.sidecar`, as ``codegen train`` writes it.

Nothing is written when a check fails (unless ``force``), and existing files are kept unless ``force``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from codegen.convert.checks import (
    Agreement,
    OnnxReference,
    compare,
    model_layout_shape,
    onnx_accuracy,
)
from codegen.convert.layout import fold_flatten_transposes
from codegen.convert.onnx_model import OnnxModel, load_onnx
from codegen.errors import CodegenError, OverwriteError
from codegen.train.datasets import Dataset, Preprocess, Subset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertConfig:
    """What to convert and how (see ``codegen convert --help``)."""

    model: Path
    out: Path
    int8: bool = True
    dataset: str | None = None
    calibration_samples: int = 200
    nchw_input: bool = False
    input_shape: tuple[int, ...] | None = None
    preprocess: Preprocess = field(default_factory=Preprocess)
    tolerance: float = 1e-3
    check_samples: int = 20
    accuracy_samples: int = 500
    seed: int = 0
    force: bool = False

    def output_paths(self) -> dict[str, Path]:
        stem = self.out.with_suffix("")
        paths = {"model": self.out}
        if self.int8:
            paths["float"] = stem.with_name(f"{stem.name}_float32.tflite")
        paths["report"] = stem.with_name(f"{stem.name}_convert.json")
        if self.dataset:  # the preprocessing travels with each model, as `codegen train` records it
            from codegen.train.sidecar import sidecar_path

            paths["model_preprocess"] = sidecar_path(paths["model"])
            if self.int8:
                paths["float_preprocess"] = sidecar_path(paths["float"])
        return paths


@dataclass(frozen=True)
class ConvertResult:
    config: ConvertConfig
    source_sha256: str
    onnx_input_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    batch_fixed: bool
    onnx_ops: tuple[str, ...]
    flatten_folds: int
    agreement: tuple[Agreement, ...]
    dataset: dict[str, object] | None
    float_accuracy: float | None
    int8_accuracy: float | None
    accuracy_samples: int
    ops: tuple[str, ...]
    float_ops: tuple[str, ...]
    unsupported_ops: tuple[str, ...]
    files: dict[str, Path]
    seconds: float

    @property
    def max_abs_diff(self) -> float:
        return max((a.max_abs_diff for a in self.agreement), default=0.0)

    @property
    def within_tolerance(self) -> bool:
        return self.max_abs_diff <= self.config.tolerance

    def to_json(self) -> dict[str, object]:
        c = self.config
        return {
            "source": {"onnx": c.model.name, "sha256": self.source_sha256, "ops": list(self.onnx_ops)},
            "mode": "int8" if c.int8 else "float32",
            "input": {
                "onnx_shape": list(self.onnx_input_shape),
                "shape": list(self.input_shape),
                "layout": "NCHW (as in ONNX)" if c.nchw_input or len(self.input_shape) < 3 else "channel-last (NHWC)",
                "batch_fixed_to_1": self.batch_fixed,
            },
            "rewrites": {"flatten_weights_permuted": self.flatten_folds},
            "dataset": self.dataset,
            "calibration_samples": c.calibration_samples if c.int8 else None,
            "checks": {
                "reference": "onnxruntime (CPU, graph optimisations off)",
                "tolerance": c.tolerance,
                "max_abs_diff": self.max_abs_diff,
                "within_tolerance": self.within_tolerance,
                "float_vs_onnxruntime": [a.to_json() for a in self.agreement],
            },
            "accuracy": None if self.float_accuracy is None else {
                "samples": self.accuracy_samples,
                "onnx_float": self.float_accuracy,
                "int8": self.int8_accuracy,
                "change": None if self.int8_accuracy is None else self.int8_accuracy - self.float_accuracy,
            },
            "ops": list(self.ops),
            "float_ops": list(self.float_ops),
            "ops_without_codegen_support": list(self.unsupported_ops),
            "files": {k: v.name for k, v in self.files.items()},
        }


def check_outputs(cfg: ConvertConfig) -> dict[str, Path]:
    """The files ``cfg`` will write; refuses existing ones without ``force`` and a bad ``--out``."""
    if cfg.out.suffix.lower() != ".tflite":
        raise CodegenError(f"--out {cfg.out} does not end in .tflite", hint="name the output file M.tflite")
    paths = cfg.output_paths()
    if any(p.resolve() == cfg.model.resolve() for p in paths.values()):
        raise OverwriteError(f"--out {cfg.out} would overwrite the input model", hint="choose another --out")
    existing = [p for p in paths.values() if p.exists()]
    if existing and not cfg.force:
        raise OverwriteError(f"{len(existing)} output file(s) already exist, e.g. {existing[0]}",
                             hint="pass --force to replace them, or choose another --out")
    if not cfg.out.parent.is_dir():
        raise CodegenError(f"output folder {cfg.out.parent} does not exist", hint="create it or choose another --out")
    return paths


def _load_dataset(cfg: ConvertConfig, shape: tuple[int, ...]) -> Dataset:
    from codegen.train.datasets import load_dataset

    if len(shape) != 4:
        raise CodegenError(f"--dataset needs an image model (4-D input); this one takes shape {shape}",
                           hint="use --float32 without --dataset")
    channels, height, width = (shape[1], shape[2], shape[3]) if cfg.nchw_input else (shape[3], shape[1], shape[2])
    if channels not in (1, 3):
        raise CodegenError(f"--dataset gives 1- or 3-channel images; the model takes {channels} channels",
                           hint="use --float32 without --dataset")
    pre = replace(cfg.preprocess, size=(height, width), channels=channels)
    spec = cfg.dataset or ""
    return load_dataset(spec, pre, Subset(train=cfg.calibration_samples, test=cfg.accuracy_samples, seed=cfg.seed))


def _model_layout(x_nhwc: np.ndarray, nchw_input: bool) -> np.ndarray:
    return np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)) if nchw_input else x_nhwc


def convert_onnx(cfg: ConvertConfig) -> ConvertResult:
    """Convert, check and write (see the module docstring)."""
    from codegen.ir import OP_REGISTRY
    from codegen.train import quantize

    start = time.monotonic()
    if cfg.int8 and not cfg.dataset:
        raise CodegenError("full-int8 conversion needs calibration data",
                           hint="pass --dataset (e.g. digits, or folder:PATH) or ask for --float32")
    if cfg.calibration_samples < 1 or cfg.check_samples < 1:
        raise CodegenError("--calibration-samples and --check-samples must be at least 1", hint="give e.g. 200")
    paths = check_outputs(cfg)
    om: OnnxModel = load_onnx(cfg.model, cfg.input_shape)
    shape = model_layout_shape(om.input_shape, cfg.nchw_input)
    ds = _load_dataset(cfg, shape) if cfg.dataset else None

    rewritten, folds = fold_flatten_transposes(om.proto)
    from codegen.convert.tf_bridge import onnx_to_keras

    keras_model = onnx_to_keras(rewritten, om.input_name, cfg.nchw_input)
    got_shape = tuple(int(d) if d is not None else 1 for d in keras_model.inputs[0].shape)
    if got_shape != shape:
        raise CodegenError(f"onnx2tf made input shape {got_shape}, expected {shape}",
                           hint="give --input-shape, or --nchw-input to keep the ONNX layout")
    with _quiet():
        float_buf = _to_tflite(keras_model, "fp32")

    reference = OnnxReference(om.proto)
    rank = len(om.input_shape)
    rng = np.random.default_rng(cfg.seed)
    with _quiet():
        checks = [compare("random normal", float_buf, reference,
                          rng.standard_normal((cfg.check_samples, *shape[1:])).astype(np.float32), rank,
                          cfg.nchw_input)]
        if ds is not None:
            x = _model_layout(ds.x_test[: cfg.check_samples], cfg.nchw_input)
            checks.append(compare(f"dataset {ds.name} (test split)", float_buf, reference, x, rank, cfg.nchw_input))
    worst = max(a.max_abs_diff for a in checks)
    if worst > cfg.tolerance:
        msg = (f"the float TFLite differs from onnxruntime by up to {worst:.3g} "
               f"(tolerance {cfg.tolerance:g}, {', '.join(f'{a.inputs}: {a.max_abs_diff:.3g}' for a in checks)})")
        if not cfg.force:
            raise CodegenError(msg, hint="pass --force to write it anyway, or --tolerance to accept the difference")
        log.warning("%s; writing anyway (--force)", msg)

    int8_buf = None
    float_acc = int8_acc = None
    if cfg.int8 and ds is not None:
        calib = _model_layout(quantize.representative_samples(ds.x_train, cfg.calibration_samples, cfg.seed),
                              cfg.nchw_input)
        with _quiet():
            int8_buf = _to_tflite(keras_model, "int8", calib)
    classifier = len(om.output_shape) == 2 and ds is not None and om.output_shape[1] == ds.num_classes
    if ds is not None and not classifier:
        log.info("output shape %s is not one score per class of %s: no accuracy", om.output_shape, ds.name)
    if ds is not None and classifier and len(ds.y_test):
        x_test = _model_layout(ds.x_test, cfg.nchw_input)
        float_acc = onnx_accuracy(reference, x_test, ds.y_test, rank, cfg.nchw_input)
        if int8_buf is not None:
            with _quiet():
                int8_acc = quantize.tflite_accuracy(int8_buf, x_test, ds.y_test)

    out_buf = int8_buf if int8_buf is not None else float_buf
    ops = quantize.inspect_tflite(out_buf).operators
    float_ops = quantize.inspect_tflite(float_buf).operators
    unsupported = tuple(sorted({o for o in ops if o not in OP_REGISTRY}))
    result = ConvertResult(
        config=cfg,
        source_sha256=hashlib.sha256(cfg.model.read_bytes()).hexdigest(),
        onnx_input_shape=om.input_shape,
        input_shape=shape,
        batch_fixed=om.batch_fixed,
        onnx_ops=om.op_types,
        flatten_folds=folds,
        agreement=tuple(checks),
        dataset=ds.summary() if ds is not None else None,
        float_accuracy=float_acc,
        int8_accuracy=int8_acc,
        accuracy_samples=int(len(ds.y_test)) if ds is not None else 0,
        ops=ops,
        float_ops=float_ops,
        unsupported_ops=unsupported,
        files=paths,
        seconds=time.monotonic() - start,
    )
    _write(paths["model"], out_buf)
    if "float" in paths:
        _write(paths["float"], float_buf)
    _write(paths["report"], (json.dumps(result.to_json(), indent=2) + "\n").encode())
    if ds is not None:
        _write_sidecar(paths["model"], out_buf, ds, cfg)
        if "float" in paths:
            _write_sidecar(paths["float"], float_buf, ds, cfg)
    return result


def _write_sidecar(model: Path, buf: bytes, ds: Dataset, cfg: ConvertConfig) -> None:
    """``M.preprocess.json`` beside ``M.tflite`` (:mod:`codegen.train.sidecar`): read by validate, bench, the
    camera commands and copied into generated projects."""
    from codegen.train import quantize, sidecar

    tin = quantize.inspect_tflite(buf).inputs[0]
    h, w, c = ds.input_shape
    sidecar.write_sidecar(model, sidecar.ModelPreprocess(
        preprocess=replace(ds.preprocess, size=(h, w), channels=c),
        classes=ds.class_names,
        dataset=cfg.dataset or "",
        input={"dtype": tin.dtype, "shape": list(tin.shape), "scale": tin.scale, "zero_point": tin.zero_point},
    ), force=True)  # existing files were refused (or --force given) before the conversion started


def _quiet() -> contextlib.AbstractContextManager[None]:
    """TensorFlow Lite's C++ notices (XNNPACK delegate, calibrator settings) off the terminal unless --debug."""
    from codegen.tflog import fd2_to_devnull

    return contextlib.nullcontext() if log.isEnabledFor(logging.DEBUG) else fd2_to_devnull()


def _to_tflite(keras_model: Any, mode: str, calibration: np.ndarray | None = None) -> bytes:
    """:func:`codegen.train.quantize.convert`, with the TensorFlow op that has no TFLite kernel named in one line."""
    from codegen.errors import UnsupportedModelError
    from codegen.train import quantize

    try:
        return quantize.convert(keras_model, mode, calibration)
    except CodegenError as exc:
        ops = sorted(set(re.findall(r"'tf\.(\w+)' op", str(exc))))
        if not ops:
            first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
            raise UnsupportedModelError(f"TFLite {mode} conversion failed: {first[:300]}",
                                        hint="--debug shows the converter's log") from exc
        raise UnsupportedModelError(
            f"TFLite {mode} conversion failed: TensorFlow op(s) {', '.join(ops)} made from the ONNX graph have no "
            "TFLite builtin kernel",
            hint="replace the ONNX op(s) that produce them and export again; --debug shows the converter's log",
        ) from exc


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    log.info("wrote %s (%d bytes)", path, len(data))
