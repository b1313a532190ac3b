"""``codegen train`` and ``codegen bench``: thin wrappers over :mod:`codegen.train.pipeline` and
:mod:`codegen.train.bench`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

MODEL_CHOICES = ("squeezenet", "lenet5", "resnet8", "resnet50", "regnetx", "mobilenetv2", "inceptionv3")


def register(subparsers: Any) -> None:
    """Add the ``train`` and ``bench`` sub-commands."""
    p = subparsers.add_parser(
        "train",
        help="train a model and write fp32 / int8 / QAT / pruned .tflite variants with a report",
        description="Train a Keras model on a dataset, optionally prune it and run quantization-aware "
        "training, "
        "and write .tflite variants plus a JSON and Markdown report. Seeds make runs repeatable.",
    )
    p.add_argument(
        "--model", default="squeezenet", choices=MODEL_CHOICES, help="architecture (default squeezenet)"
    )
    p.add_argument(
        "--dataset",
        default="digits",
        help="digits (default, bundled), mnist, fashion_mnist, cifar10, cifar100 or folder:PATH (PATH/train/ + "
        "PATH/validation|val|test/, PATH/seg_train/ + PATH/seg_test/, or flat PATH/<class>/)",
    )
    _add_data_args(p)
    _add_preprocess_args(p)
    p.add_argument(
        "--subset-train", type=int, default=None, metavar="N", help="use a fixed random N training images"
    )
    p.add_argument(
        "--subset-test", type=int, default=None, metavar="N", help="use a fixed random N test images"
    )
    p.add_argument(
        "--extra",
        type=Path,
        default=None,
        metavar="DIR",
        help="extra (e.g. camera) samples in DIR/<class>/*, merged into training with augmentation",
    )
    p.add_argument(
        "--augment",
        default=None,
        metavar="OPS",
        help="augment the training set: comma-separated crop, scale, flip, vflip, rotate, brightness, each with an "
        "optional strength (crop=0.1 scale=0.1 rotate=10 brightness=0.2 by default); reproducible with --seed",
    )
    p.add_argument(
        "--augment-copies",
        type=int,
        default=None,
        metavar="N",
        help="augmented copies per image (default 1 for --augment, 8 for --extra samples)",
    )
    p.add_argument("--no-flip", action="store_true", help="no horizontal flips when augmenting extra samples")
    p.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    p.add_argument(
        "--finetune-epochs",
        type=int,
        default=None,
        metavar="N",
        help="epochs of pruning / QAT fine-tuning (default max(2, epochs/3))",
    )
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (fine-tuning uses a quarter)")
    p.add_argument(
        "--width",
        type=float,
        default=None,
        help="width multiplier (squeezenet, resnet50, regnetx: default 0.25; mobilenetv2 alpha: default 0.35)",
    )
    p.add_argument(
        "--small-input",
        choices=("auto", "yes", "no"),
        default="auto",
        help="resnet50/regnetx: stride-1 stem for small images (auto: below 64 px)",
    )
    p.add_argument(
        "--prune",
        type=float,
        default=None,
        metavar="SPARSITY",
        help="target share of zero weights, e.g. 0.5 (adds the pruned_int8 variant)",
    )
    p.add_argument(
        "--prune-method",
        default="magnitude",
        choices=("magnitude", "gradient"),
        help="magnitude (tfmot) or gradient saliency |w*dL/dw|",
    )
    p.add_argument("--prune-schedule", default="polynomial", choices=("constant", "polynomial"))
    p.add_argument(
        "--prune-scope",
        default="layer",
        choices=("layer", "global"),
        help="same sparsity in every layer, or one global threshold",
    )
    p.add_argument(
        "--prune-structure",
        default=None,
        choices=("unstructured", "2:4", "2:4-tile", "2:4-layer", "channel"),
        help="unstructured (default), 2:4 (tfmot: two zeros in every four input-channel weights; implies --prune "
        "0.5), 2:4-tile (the same two positions in each block of four output channels: faster on Cortex-M DSP "
        "cores), 2:4-layer (the same two positions of every four flattened filter weights in all output channels "
        "of a convolution, first layers included: coarser, faster still) or channel (whole filters, removed from "
        "the generated network; --prune is the share of filters, default 0.5)",
    )
    p.add_argument("--qat", action="store_true", help="quantization-aware training (adds qat_int8)")
    p.add_argument(
        "--variants",
        default=None,
        help="comma-separated subset of fp32,fp16,dynamic,int8,qat_int8,pruned_fp32,pruned_int8,pruned_qat_int8",
    )
    p.add_argument("--out", type=Path, default=Path("models"), help="output folder (default models/)")
    p.add_argument("--name", default=None, help="file name prefix (default: the model name)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument(
        "--distribute",
        default="none",
        choices=("none", "mirrored", "multi-worker"),
        help="tf.distribute strategy: mirrored (GPUs of this machine), multi-worker (a cluster from TF_CONFIG or "
        "--workers; see docs/distributed-training.md)",
    )
    p.add_argument("--workers", default=None, metavar="HOST:PORT,...",
                   help="multi-worker: every worker's address (writes TF_CONFIG; the first is the chief)")
    p.add_argument("--worker-index", type=int, default=None, metavar="I",
                   help="multi-worker: this process's position in --workers (0 writes the files)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run_train)

    b = subparsers.add_parser(
        "bench",
        help="size, accuracy (TFLM reference) and host latency of .tflite models",
        description="Benchmark .tflite files: file and deployed size, accuracy computed with the TFLM reference "
        "interpreter (what the board computes), and per-image host latency on TensorFlow Lite's default kernels "
        "(mean, min, max, p99), written as bench.md, bench.json and three PNG plots. Each model is fed with the "
        "preprocessing recorded next to it (NAME.preprocess.json).",
    )
    b.add_argument("--models", type=Path, nargs="+", required=True, metavar="MODEL", help=".tflite files")
    b.add_argument("--dataset", default="digits", help="dataset spec as for `codegen train` (default digits)")
    b.add_argument("--samples", type=int, default=None, help="number of test images (default all)")
    b.add_argument("--cooldown", type=float, default=0.0, metavar="S", help="seconds to sleep between models")
    b.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="folder with the MNIST/CIFAR files (default: the Keras cache ~/.keras/datasets)")
    _add_override_args(b)
    b.add_argument("--out", type=Path, default=Path("bench_out"), help="folder for bench.md/json and plots")
    b.add_argument("--json", action="store_true", help="print the results as JSON")
    b.set_defaults(func=run_bench)


def _add_preprocess_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--size",
        default=None,
        metavar="HxW",
        help="resize images (default: 32x32 for digits, 75x75 minimum for inceptionv3, else native)",
    )
    p.add_argument(
        "--crop", default="none", choices=("none", "center"), help="center: keep aspect ratio, crop"
    )
    p.add_argument(
        "--channels", type=int, default=None, choices=(1, 3), help="1 grayscale, 3 RGB (default native)"
    )
    p.add_argument("--bgr", action="store_true", help="BGR channel order")
    p.add_argument("--mean", default="0", help="per-channel mean(s) on 0..255 pixels, comma-separated")
    p.add_argument("--scale", default=str(1 / 255), help="per-channel scale(s), comma-separated")


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--val-split",
        type=float,
        default=0.2,
        metavar="F",
        help="share of each class held out for testing when the folder has no test split (default 0.2)",
    )
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="folder with the MNIST/CIFAR files (default: the Keras cache ~/.keras/datasets)")


def _add_override_args(p: argparse.ArgumentParser) -> None:
    """Preprocessing flags of commands that read the recorded preprocessing: None when not given."""
    p.add_argument("--size", default=None, metavar="HxW", help="must match the recorded size (default: recorded)")
    p.add_argument("--crop", default=None, choices=("none", "center"), help="default: recorded (else none)")
    p.add_argument("--channels", type=int, default=None, choices=(1, 3), help="default: the model's input")
    p.add_argument("--bgr", action="store_true", default=None, help="BGR channel order (default: recorded)")
    p.add_argument("--mean", default=None, help="per-channel mean(s) on 0..255 pixels (default: recorded, else 0)")
    p.add_argument("--scale", default=None, help="per-channel scale(s) (default: recorded, else 1/255)")
    p.add_argument("--force", action="store_true", help="let flags override the recorded preprocessing")


def override_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The preprocessing flags the user gave, parsed (see :func:`codegen.train.sidecar.resolve`)."""
    from codegen.train.datasets import parse_size

    return {
        "size": parse_size(args.size) if args.size else None,
        "crop": args.crop,
        "channels": args.channels,
        "bgr": args.bgr,
        "mean": _floats(args.mean, "mean") if args.mean is not None else None,
        "scale": _floats(args.scale, "scale") if args.scale is not None else None,
    }


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise CodegenError(f"bad --{what} {text!r}", hint="give numbers separated by commas") from exc


def _preprocess(args: argparse.Namespace) -> Any:
    from codegen.train.datasets import Preprocess, parse_size

    size = parse_size(args.size) if args.size else None
    if size is None and getattr(args, "model", None) == "inceptionv3":
        size = (75, 75)  # the smallest input InceptionV3 takes; a smaller --size is refused by the model
    if size is None and args.dataset == "digits":
        size = (32, 32)
    return Preprocess(
        size=size,
        crop=args.crop,
        channels=args.channels,
        bgr=args.bgr,
        mean=_floats(args.mean, "mean"),
        scale=_floats(args.scale, "scale"),
    )


class _EpochBar:
    """tqdm progress over epochs as a Keras callback factory."""

    def __call__(self, desc: str, epochs: int) -> Any:
        from tqdm import tqdm

        from codegen.train.tfenv import keras

        class _Cb(keras().callbacks.Callback):
            def on_train_begin(self, logs: Any = None) -> None:
                self.bar = tqdm(total=epochs, desc=desc, unit="epoch", file=sys.stderr, disable=None)

            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                self.t0 = time.monotonic()

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                logs = logs or {}
                self.bar.write(
                    f"{desc}: epoch {epoch + 1}/{epochs} loss {logs.get('loss', 0):.4f} "
                    f"accuracy {logs.get('accuracy', 0):.4f} test loss {logs.get('val_loss', 0):.4f} "
                    f"test accuracy {logs.get('val_accuracy', 0):.4f} ({time.monotonic() - self.t0:.1f} s)",
                    file=sys.stderr,
                )
                self.bar.set_postfix(
                    loss=f"{logs.get('loss', 0):.3f}",
                    acc=f"{logs.get('accuracy', 0):.3f}",
                    test_acc=f"{logs.get('val_accuracy', 0):.3f}",
                )
                self.bar.update(1)

            def on_train_end(self, logs: Any = None) -> None:
                self.bar.close()

        return _Cb()


def run_train(args: argparse.Namespace) -> int:
    from codegen.train.datasets import Augment, Subset, parse_augment
    from codegen.train.pipeline import TrainConfig, train
    from codegen.train.pruning import PruneConfig
    from codegen.train.report import train_markdown

    for name in ("epochs", "batch_size", "augment_copies"):
        if getattr(args, name) is not None and getattr(args, name) < (0 if name == "augment_copies" else 1):
            raise CodegenError(f"--{name.replace('_', '-')} must be positive", hint="e.g. --epochs 10")
    prune = None
    structure = args.prune_structure or "unstructured"
    if args.prune is not None or args.prune_structure not in (None, "unstructured"):
        prune = PruneConfig(
            target=0.5 if args.prune is None else args.prune, method=args.prune_method,
            schedule=args.prune_schedule, scope=args.prune_scope, structure=structure,
        )
    elif args.prune_structure is not None:
        raise CodegenError("--prune-structure unstructured needs a target", hint="add --prune 0.5 (for example)")
    options: dict[str, Any] = {}
    if args.small_input != "auto":
        if args.model not in ("resnet50", "regnetx"):
            raise CodegenError(
                f"--small-input does not apply to {args.model}", hint="use it with resnet50 or regnetx"
            )
        options["small_input"] = args.small_input == "yes"
    if args.width is not None:
        if args.model in ("squeezenet", "resnet50", "regnetx"):
            options["width"] = args.width
        elif args.model == "mobilenetv2":
            options["alpha"] = args.width
        else:
            raise CodegenError(
                f"--width does not apply to {args.model}",
                hint="use it with squeezenet, resnet50, regnetx or mobilenetv2",
            )
    subset = None
    if args.subset_train is not None or args.subset_test is not None:
        subset = Subset(train=args.subset_train, test=args.subset_test, seed=args.seed)
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip()) if args.variants else None
    cfg = TrainConfig(
        model=args.model,
        dataset=args.dataset,
        preprocess=_preprocess(args),
        subset=subset,
        extra=args.extra,
        augment=Augment(
            copies=8 if args.augment_copies is None else args.augment_copies, hflip=not args.no_flip, seed=args.seed
        ),
        train_augment=parse_augment(
            args.augment, 1 if args.augment_copies is None else args.augment_copies, args.seed
        )
        if args.augment
        else None,
        val_split=args.val_split,
        data_dir=args.data_dir,
        epochs=args.epochs,
        finetune_epochs=args.finetune_epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=args.seed,
        prune=prune,
        qat=args.qat,
        variants=variants,
        out_dir=args.out,
        name=args.name,
        force=args.force,
        distribute=args.distribute,
        model_options=tuple(sorted(options.items())),
    )
    if args.workers is not None or args.worker_index is not None:
        if args.distribute != "multi-worker":
            raise CodegenError("--workers and --worker-index need --distribute multi-worker",
                               hint="add --distribute multi-worker")
        from codegen.train.distributed import configure

        configure(args.workers, args.worker_index)
    result = train(cfg, progress=_EpochBar())
    if args.json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        print(train_markdown(result))
        print("wrote " + ", ".join(str(p) for p in result.files))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from codegen.train.bench import bench_models
    from codegen.train.report import bench_markdown, write_bench_report

    if args.samples is not None and args.samples < 1:
        raise CodegenError("--samples must be positive", hint="e.g. --samples 200")
    flags = override_flags(args)
    with tqdm(desc="bench", unit="img", file=sys.stderr, disable=None) as bar:
        results = bench_models(
            args.models,
            args.dataset,
            args.samples,
            args.cooldown,
            tick=lambda: bar.update(1),
            flags=flags,
            force=args.force,
            data_dir=args.data_dir,
        )
    paths = write_bench_report(results, args.dataset, args.out, cooldown=args.cooldown)
    if args.json:
        print(
            json.dumps(
                {
                    "dataset": args.dataset,
                    "cooldown_s": args.cooldown,
                    "models": [
                        {k: v for k, v in r.to_json().items() if k != "latencies_ms"} for r in results
                    ],
                    "files": {k: str(v) for k, v in sorted(paths.items())},
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        print(bench_markdown(results, args.dataset, args.cooldown))
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
