"""The training recipe: dataset -> Keras model -> (pruning, QAT) -> TFLite variants -> report.

``train(TrainConfig(...)) -> TrainResult`` is what ``codegen train`` runs. Output files, for name prefix N:

* ``N.keras`` - the trained float Keras model;
* ``N_<variant>.tflite`` for each variant (``fp32``, ``fp16``, ``dynamic``, ``int8``, ``qat_int8``,
  ``pruned_fp32``, ``pruned_int8``, ``pruned_qat_int8``), each with its preprocessing record
  ``N_<variant>.preprocess.json`` (:mod:`codegen.train.sidecar`);
* ``N_report.json`` and ``N_report.md`` - model size, accuracy, sparsity and emitted operators per variant.

Accuracy of every variant is computed with the TFLM reference interpreter (what the board computes), or with
TensorFlow Lite's reference kernels for the variants TFLM cannot run; the report names the interpreter.

Existing files are never overwritten unless ``force`` is set; the check happens before any training.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from codegen.errors import CodegenError, OverwriteError
from codegen.train import pruning, quantize, sidecar
from codegen.train.bench import deployed_view
from codegen.train.datasets import Augment, Dataset, Preprocess, Subset, load_dataset, merge_extra_samples
from codegen.train.interpreters import reference_accuracy
from codegen.train.models import ModelInfo, build_model, model_info
from codegen.train.tfenv import keras, set_seed, tf

log = logging.getLogger(__name__)

VARIANTS = ("fp32", "fp16", "dynamic", "int8", "qat_int8", "pruned_fp32", "pruned_int8", "pruned_qat_int8")
DISTRIBUTE = ("none", "mirrored", "multi-worker")


@dataclass(frozen=True)
class TrainConfig:
    model: str = "squeezenet"
    dataset: str = "digits"
    preprocess: Preprocess = field(default_factory=lambda: Preprocess(size=(32, 32), channels=1))
    subset: Subset | None = None
    extra: Path | None = None
    augment: Augment = field(default_factory=Augment)
    epochs: int = 20
    finetune_epochs: int | None = None  # pruning / QAT fine-tuning; None: max(2, epochs // 3)
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0
    prune: pruning.PruneConfig | None = None
    qat: bool = False
    variants: tuple[str, ...] | None = (
        None  # None: fp32, int8 (+ qat_int8, pruned_int8, pruned_qat_int8 as asked)
    )
    out_dir: Path = Path("models")
    name: str | None = None
    force: bool = False
    distribute: str = "none"
    model_options: tuple[tuple[str, Any], ...] = ()
    calibration_samples: int = 200
    val_split: float = 0.2  # share of each class held out when the dataset folder has no test split
    data_dir: Path | None = None  # where MNIST/CIFAR files are (default: the Keras cache)
    train_augment: Augment | None = None  # augmentation of the training set (--augment)

    def resolved_variants(self) -> tuple[str, ...]:
        if self.variants is not None:
            unknown = [v for v in self.variants if v not in VARIANTS]
            if unknown:
                raise CodegenError(
                    f"unknown variant(s) {', '.join(unknown)}", hint=f"use {', '.join(VARIANTS)}"
                )
            if self.prune is None and any(v.startswith("pruned") for v in self.variants):
                raise CodegenError(
                    "pruned variants need a pruning target", hint="add --prune 0.5 (for example)"
                )
            return tuple(dict.fromkeys(self.variants))
        out = ["fp32", "int8"]
        if self.qat:
            out.append("qat_int8")
        if self.prune is not None:
            out += ["pruned_fp32", "pruned_int8"]
            if self.qat:
                out.append("pruned_qat_int8")
        return tuple(out)

    @property
    def prefix(self) -> str:
        return self.name or self.model.lower().replace("-", "")

    def output_paths(self) -> dict[str, Path]:
        paths = {"keras": self.out_dir / f"{self.prefix}.keras"}
        for v in self.resolved_variants():
            paths[v] = self.out_dir / f"{self.prefix}_{v}.tflite"
            paths[f"{v}_preprocess"] = self.out_dir / f"{self.prefix}_{v}.preprocess.json"
        paths["report_json"] = self.out_dir / f"{self.prefix}_report.json"
        paths["report_md"] = self.out_dir / f"{self.prefix}_report.md"
        return paths

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "dataset": self.dataset,
            "preprocess": self.preprocess.to_json(),
            "subset": None if self.subset is None else vars(self.subset).copy(),
            "extra": str(self.extra) if self.extra else None,
            "epochs": self.epochs,
            "finetune_epochs": self.resolved_finetune_epochs(),
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
            "prune": self.prune.to_json() if self.prune else None,
            "qat": self.qat,
            "variants": list(self.resolved_variants()),
            "distribute": self.distribute,
            "model_options": dict(self.model_options),
            "calibration_samples": self.calibration_samples,
            "val_split": self.val_split,
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "augment": self.train_augment.to_json() if self.train_augment else None,
        }

    def resolved_finetune_epochs(self) -> int:
        return self.finetune_epochs if self.finetune_epochs is not None else max(2, self.epochs // 3)


@dataclass(frozen=True)
class VariantResult:
    name: str
    path: Path
    size_bytes: int
    accuracy: float
    sparsity: float
    op_counts: dict[str, int]
    input_dtype: str
    output_dtype: str
    interpreter: str = ""
    deployed_flash: int | None = None  # weights' flash on bench.DEPLOY_BOARD with --huffman (None: not generable)
    deployed_ram: int | None = None  # arena + weights decoded at init there

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "file": self.path.name,
            "size_bytes": self.size_bytes,
            "accuracy": round(self.accuracy, 4),
            "accuracy_interpreter": self.interpreter,
            "sparsity": round(self.sparsity, 4),
            "op_counts": self.op_counts,
            "input_dtype": self.input_dtype,
            "output_dtype": self.output_dtype,
            "deployed_flash_bytes": self.deployed_flash,
            "deployed_ram_bytes": self.deployed_ram,
        }


@dataclass(frozen=True)
class TrainResult:
    config: TrainConfig
    info: ModelInfo
    dataset: dict[str, object]
    keras_accuracy: float
    variants: tuple[VariantResult, ...]
    files: tuple[Path, ...]
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "config": self.config.to_json(),
            "model": self.info.to_json(),
            "dataset": self.dataset,
            "keras_accuracy": round(self.keras_accuracy, 4),
            "variants": [v.to_json() for v in self.variants],
            "files": [p.name for p in self.files],
            "seconds": round(self.seconds, 1),
        }


Progress = Callable[[str, int], Any]  # (description, epochs) -> Keras callback or None


def check_outputs(cfg: TrainConfig) -> dict[str, Path]:
    """The files ``cfg`` will write; raises OverwriteError if any exists and ``force`` is not set."""
    paths = cfg.output_paths()
    existing = [p for p in paths.values() if p.exists()]
    if existing and not cfg.force:
        raise OverwriteError(
            f"{len(existing)} output file(s) already exist, e.g. {existing[0]}",
            hint="pass --force to replace them, or choose another --out / --name",
        )
    return paths


def _strategy(cfg: TrainConfig) -> Any:
    if cfg.distribute == "none":
        return None
    if cfg.distribute == "multi-worker":
        from codegen.train.distributed import current_strategy

        return current_strategy()  # created first thing, before TensorFlow's runtime starts
    if cfg.distribute == "mirrored":
        return tf().distribute.MirroredStrategy()
    raise CodegenError(
        f"unknown distribution strategy {cfg.distribute!r}", hint=f"use {', '.join(DISTRIBUTE)}"
    )


def _compile(model: Any, lr: float) -> None:
    k = keras()
    model.compile(
        optimizer=k.optimizers.Adam(learning_rate=lr),
        loss=k.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )


def _fit(
    model: Any,
    ds: Dataset,
    cfg: TrainConfig,
    epochs: int,
    desc: str,
    progress: Progress | None,
    callbacks: list[Any] | None = None,
) -> None:
    cbs = list(callbacks or [])
    if progress is not None:
        cb = progress(desc, epochs)
        if cb is not None:
            cbs.append(cb)
    log.info("%s: %d epochs", desc, epochs)
    if cfg.distribute == "multi-worker":
        from codegen.train import distributed

        cbs.append(distributed.backup_callback(cfg.out_dir / f".{cfg.prefix}_backup", desc))
        model.fit(distributed.sharded(ds.x_train, ds.y_train, cfg.batch_size, cfg.seed, shuffle=True),
                  epochs=epochs, validation_data=distributed.sharded(ds.x_test, ds.y_test, 256, cfg.seed,
                                                                     shuffle=False),
                  callbacks=cbs, verbose=0)
        return
    model.fit(
        ds.x_train,
        ds.y_train,
        batch_size=cfg.batch_size,
        epochs=epochs,
        shuffle=True,
        validation_data=(ds.x_test, ds.y_test),
        callbacks=cbs,
        verbose=0,
    )


def _keras_accuracy(model: Any, ds: Dataset) -> float:
    scores = model.predict(ds.x_test, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(scores, -1) == ds.y_test))


def train(cfg: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Run the recipe and write the files (see module docstring)."""
    t0 = time.monotonic()
    variants = cfg.resolved_variants()
    if cfg.distribute == "multi-worker":
        from codegen.train import distributed

        if not distributed.running():  # the strategy first, then this recipe again, on every worker
            return distributed.run_on_worker(cfg, progress, train)
    paths = check_outputs(cfg)
    set_seed(cfg.seed)
    ds = load_dataset(
        cfg.dataset,
        cfg.preprocess,
        cfg.subset,
        val_split=cfg.val_split,
        split_seed=cfg.seed,
        data_dir=cfg.data_dir,
        augment=cfg.train_augment,
    )
    if cfg.extra is not None:
        ds = merge_extra_samples(ds, cfg.extra, cfg.augment)
    strategy = _strategy(cfg)

    def scope() -> Any:  # a fresh context manager for every use
        return strategy.scope() if strategy is not None else nullcontext()

    with scope():
        model = build_model(cfg.model, ds.input_shape, ds.num_classes, **dict(cfg.model_options))
        _compile(model, cfg.learning_rate)
    info = model_info(model)
    log.info("model %s: %d parameters, %d MACs", info.name, info.params, info.macs)
    _fit(model, ds, cfg, cfg.epochs, f"train {cfg.model}", progress)
    keras_acc = _keras_accuracy(model, ds)
    log.info("float accuracy %.4f", keras_acc)

    calib = quantize.representative_samples(ds.x_train, cfg.calibration_samples, cfg.seed)
    ft_epochs = cfg.resolved_finetune_epochs()
    ft_lr = cfg.learning_rate / 4
    buffers: dict[str, bytes] = {}
    for mode in ("fp32", "fp16", "dynamic", "int8"):
        if mode in variants:
            buffers[mode] = quantize.convert(model, mode, calib)

    if "qat_int8" in variants:
        set_seed(cfg.seed + 1)
        with scope():
            qat = pruning.quantize_aware(model)
            _compile(qat, ft_lr)
        _fit(qat, ds, cfg, ft_epochs, "quantization-aware training", progress)
        buffers["qat_int8"] = quantize.convert(qat, "int8", calib)

    if any(v.startswith("pruned") for v in variants) and cfg.prune is not None:
        set_seed(cfg.seed + 2)
        pruned = _prune(model, ds, cfg, ft_epochs, ft_lr, progress, scope)
        log.info("pruned Keras model: %.3f of kernel weights are zero", pruning.kernel_sparsity(pruned))
        if "pruned_fp32" in variants:
            buffers["pruned_fp32"] = quantize.convert(pruned, "fp32", calib)
        if "pruned_int8" in variants:
            buffers["pruned_int8"] = quantize.convert(pruned, "int8", calib)
        if "pruned_qat_int8" in variants:
            set_seed(cfg.seed + 3)
            with scope():
                pqat = pruning.quantize_aware(pruned, preserve_sparsity=True)
                _compile(pqat, ft_lr)
            keep = pruning.keep_sparsity_callback(pqat, pruning.sparsity_masks(pruned))
            _fit(pqat, ds, cfg, ft_epochs, "pruning-preserving QAT", progress, [keep])
            buffers["pruned_qat_int8"] = quantize.convert(pqat, "int8", calib)

    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    _save_keras(model, paths["keras"])
    results = []
    for v in variants:
        buf = buffers[v]
        paths[v].write_bytes(buf)
        summary = quantize.inspect_tflite(buf)
        acc, interpreter = reference_accuracy(buf, ds.x_test, ds.y_test)
        tin = summary.inputs[0]
        sidecar.write_sidecar(
            paths[v],
            sidecar.ModelPreprocess(
                preprocess=replace(ds.preprocess, size=ds.input_shape[:2], channels=ds.input_shape[2]),
                classes=ds.class_names,
                dataset=cfg.dataset,
                input={"dtype": tin.dtype, "shape": list(tin.shape), "scale": tin.scale, "zero_point": tin.zero_point},
                split={"val_split": cfg.val_split, "seed": cfg.seed},
            ),
            force=True,
        )
        view = deployed_view(paths[v])
        results.append(
            VariantResult(
                name=v,
                path=paths[v],
                size_bytes=len(buf),
                accuracy=acc,
                sparsity=summary.sparsity,
                op_counts=summary.op_counts,
                input_dtype=summary.inputs[0].dtype,
                output_dtype=summary.outputs[0].dtype,
                interpreter=interpreter,
                deployed_flash=view.flash_bytes if view else None,
                deployed_ram=view.ram_bytes if view else None,
            )
        )
        log.info(
            "%s: %d bytes, accuracy %.4f (%s), sparsity %.3f",
            paths[v].name, len(buf), acc, interpreter, summary.sparsity,
        )
    result = TrainResult(
        config=cfg,
        info=info,
        dataset=ds.summary(),
        keras_accuracy=keras_acc,
        variants=tuple(results),
        files=tuple(paths.values()),
        seconds=time.monotonic() - t0,
    )
    from codegen.train.report import write_train_report

    write_train_report(result, paths["report_json"], paths["report_md"])
    return result


def _save_keras(model: Any, path: Path) -> None:
    """Save the trained model without optimizer state (an uncompiled copy keeps the file small)."""
    k = keras()
    plain = k.models.clone_model(model)
    plain.set_weights(model.get_weights())
    plain.save(path)


def _prune(
    model: Any, ds: Dataset, cfg: TrainConfig, epochs: int, lr: float, progress: Progress | None, scope: Any
) -> Any:
    """Fine-tune a pruned copy of ``model`` and return it stripped of pruning wrappers."""
    if cfg.prune is None:
        raise ValueError("pruning needs a prune configuration")
    k = keras()
    steps = epochs * int(np.ceil(len(ds.x_train) / cfg.batch_size))
    with scope():
        if cfg.prune.structure == "channel":
            from codegen.train.filters import FilterPruning

            pruned = k.models.clone_model(model)
            pruned.set_weights(model.get_weights())
            callbacks = [FilterPruning(pruned, cfg.prune, steps).callback()]
        elif cfg.prune.structure in ("2:4-tile", "2:4-layer"):
            from codegen.train.tiles import TilePruning

            pruned = k.models.clone_model(model)
            pruned.set_weights(model.get_weights())
            callbacks = [TilePruning(pruned, cfg.prune, steps).callback()]
        elif cfg.prune.method == "magnitude":
            pruned = pruning.apply_magnitude_pruning(model, cfg.prune, steps)
            callbacks = pruning.pruning_callbacks(pruned)
        else:
            pruned = k.models.clone_model(model)
            pruned.set_weights(model.get_weights())
            sal = pruning.SaliencyPruning(pruned, ds.x_train, ds.y_train, cfg.prune, steps)
            callbacks = [sal.callback()]
        _compile(pruned, lr)
    what = cfg.prune.method if cfg.prune.structure == "unstructured" else cfg.prune.structure
    _fit(pruned, ds, cfg, epochs, f"{what} pruning to {cfg.prune.target:.0%}", progress, callbacks)
    return pruning.strip_pruning(pruned)
