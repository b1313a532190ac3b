"""``codegen convert``: an ONNX model (e.g. a PyTorch export) to a float32 or calibrated full-int8 .tflite."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from codegen.errors import CodegenError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="ONNX model -> float32 or full-int8 .tflite (onnx2tf, calibrated on a dataset, checked vs onnxruntime)",
        description="Convert an ONNX model to TFLite: ONNX -> TensorFlow (onnx2tf) -> TFLite, then full-int8 "
        "post-training quantization calibrated on a dataset. NCHW inputs become NHWC unless --nchw-input. The "
        "float model is compared with onnxruntime; the int8 model's accuracy change is reported.",
    )
    p.add_argument("--model", required=True, type=Path, help="the .onnx file")
    p.add_argument("--out", required=True, type=Path, help="the .tflite to write (M_float32.tflite and "
                   "M_convert.json go beside it)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--int8", dest="int8", action="store_true", default=True,
                      help="full-int8 model with int8 input and output (default; needs --dataset)")
    mode.add_argument("--float32", dest="int8", action="store_false", help="float32 model, no quantization")
    p.add_argument("--dataset", help="calibration and check data: digits, mnist, ..., folder:PATH")
    p.add_argument("--calibration-samples", type=int, default=200, metavar="N",
                   help="training images used to calibrate activation ranges (default 200)")
    p.add_argument("--nchw-input", action="store_true", help="keep the ONNX NCHW input layout (default: NHWC)")
    p.add_argument("--input-shape", metavar="1,C,H,W",
                   help="fix the input shape (ONNX order) when the model has dynamic sizes")
    p.add_argument("--mean", default="0", help="per-channel mean(s) on 0..255 pixels, comma-separated")
    p.add_argument("--scale", default=str(1 / 255), help="per-channel scale(s), comma-separated")
    p.add_argument("--bgr", action="store_true", help="feed channels in BGR order")
    p.add_argument("--crop", default="none", choices=("none", "center"), help="center: keep aspect ratio, crop")
    p.add_argument("--tolerance", type=float, default=1e-3,
                   help="largest accepted |float TFLite - onnxruntime| (default 1e-3)")
    p.add_argument("--check-samples", type=int, default=20, metavar="N",
                   help="random and dataset inputs compared with onnxruntime (default 20 each)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite outputs; write even if the check fails")
    p.add_argument("--json", action="store_true", help="print the conversion report as JSON")
    p.set_defaults(func=run_convert)


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values:
        raise CodegenError(f"bad --{what} {text!r}", hint="give numbers separated by commas")
    return values


def run_convert(args: argparse.Namespace) -> int:
    from codegen.convert.onnx_model import parse_shape
    from codegen.convert.pipeline import ConvertConfig, convert_onnx
    from codegen.train.datasets import Preprocess

    cfg = ConvertConfig(
        model=args.model,
        out=args.out,
        int8=args.int8,
        dataset=args.dataset,
        calibration_samples=args.calibration_samples,
        nchw_input=args.nchw_input,
        input_shape=parse_shape(args.input_shape) if args.input_shape else None,
        preprocess=Preprocess(crop=args.crop, bgr=args.bgr, mean=_floats(args.mean, "mean"),
                              scale=_floats(args.scale, "scale")),
        tolerance=args.tolerance,
        check_samples=args.check_samples,
        seed=args.seed,
        force=args.force,
    )
    result = convert_onnx(cfg)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    shape = "x".join(map(str, result.input_shape))
    onnx_shape = "x".join(map(str, result.onnx_input_shape))
    print(f"converted {cfg.model} ({onnx_shape}{', batch set to 1' if result.batch_fixed else ''}) -> "
          f"{cfg.out} ({'int8' if cfg.int8 else 'float32'}, input {shape})")
    for a in result.agreement:
        print(f"  float TFLite vs onnxruntime, {a.inputs}, {a.samples} samples: max |diff| {a.max_abs_diff:.3g} "
              f"(outputs up to {a.max_abs_reference:.3g}; tolerance {cfg.tolerance:g})")
    if result.float_accuracy is not None:
        line = f"  accuracy on {result.accuracy_samples} test samples: ONNX float {result.float_accuracy:.2%}"
        if result.int8_accuracy is not None:
            change = (result.int8_accuracy - result.float_accuracy) * 100
            line += f", int8 {result.int8_accuracy:.2%} ({change:+.1f} points)"
        print(line)
    if result.flatten_folds:
        print(f"  {result.flatten_folds} flatten(s) before a linear layer folded into its weights (no TRANSPOSE)")
    print(f"  ops: {', '.join(result.ops)}")
    if result.unsupported_ops:
        print(f"  note: codegen cannot generate code for {', '.join(result.unsupported_ops)} yet")
    print("  files: " + ", ".join(str(p) for p in result.files.values()))
    return 0
