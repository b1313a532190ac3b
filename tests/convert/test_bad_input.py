"""Bad input to `codegen convert` (and ONNX files given to the other commands): exit 2, one line naming the
problem (op, shape, file) and the fix, no traceback, nothing written."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from codegen.cli import main
from codegen.convert.onnx_model import load_onnx
from codegen.errors import CodegenError
from tests.conftest import ROOT
from tests.convert.onnx_models import lenet, save, with_unsupported_op


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys):
    """`codegen ARGS` in this process (fast); the unsupported-op case also runs as a real subprocess."""

    def run(*args: str) -> Outcome:
        rc = main(list(args))
        out = capsys.readouterr()
        return Outcome(rc, out.out, out.err)

    return run


def _one_error_line(out: Outcome | subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, out.stderr
    assert "(" in lines[0]  # carries a hint
    return lines[0]


def _cases(tmp_path: Path) -> dict[str, tuple[Path, list[str], str]]:
    text = tmp_path / "notes.onnx"
    text.write_bytes(b"this is not a model, just some text\n" * 20)
    tflite = tmp_path / "squeezenet.onnx"
    tflite.write_bytes((ROOT / "models" / "squeezenet_int8.tflite").read_bytes())
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    dynamic = save(lenet(batch="N", size="side"), tmp_path / "dynamic.onnx")
    good = save(lenet(), tmp_path / "lenet.onnx")
    return {
        "text": (text, ["--dataset", "digits"], "is not an ONNX model"),
        "tflite_renamed": (tflite, ["--dataset", "digits"], "is not an ONNX model"),
        "empty": (empty, ["--dataset", "digits"], "is empty"),
        "missing": (tmp_path / "nope.onnx", ["--dataset", "digits"], "does not exist"),
        "unsupported_op": (save(with_unsupported_op(), tmp_path / "lp.onnx"), ["--float32"],
                           "ONNX op LpPool (node '/lppool_1') is not supported by the converter"),
        "dynamic_shape": (dynamic, ["--float32"], "input 'input' has dynamic shape [N, 1, side, side]"),
        "wrong_input_shape": (dynamic, ["--float32", "--input-shape", "1,3,28,28"],
                              "sets dimension 1 of 'input' to 3, but the model fixes it to 1"),
        "bad_input_shape": (dynamic, ["--float32", "--input-shape", "1,a,28"], "bad --input-shape"),
        "int8_without_dataset": (good, [], "full-int8 conversion needs calibration data"),
        "unknown_dataset": (good, ["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        "out_not_tflite": (good, ["--float32", "--out", str(tmp_path / "x.onnx")], "does not end in .tflite"),
    }


@pytest.mark.parametrize("case", ["text", "tflite_renamed", "empty", "missing", "unsupported_op", "dynamic_shape",
                                  "wrong_input_shape", "bad_input_shape", "int8_without_dataset", "unknown_dataset",
                                  "out_not_tflite"])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, case, run_cli):
    path, extra, words = _cases(tmp_path)[case]
    out_path = tmp_path / "out" / "m.tflite"
    out_path.parent.mkdir()
    args = ["convert", "--model", str(path), *extra]
    if "--out" not in extra:
        args += ["--out", str(out_path)]
    line = _one_error_line(run_cli(*args))
    assert words in line, line
    assert not any(out_path.parent.iterdir())


def test_unsupported_op_in_a_subprocess_names_the_op(tmp_path):
    model = save(with_unsupported_op(), tmp_path / "lp.onnx")
    out = subprocess.run([sys.executable, "-m", "codegen", "convert", "--model", str(model), "--out",
                          str(tmp_path / "lp.tflite"), "--float32"], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert "LpPool" in _one_error_line(out)


def test_existing_output_is_kept_without_force(tmp_path, run_cli):
    model = save(lenet(), tmp_path / "lenet.onnx")
    out = tmp_path / "lenet.tflite"
    out.write_bytes(b"mine")
    line = _one_error_line(run_cli("convert", "--model", str(model), "--out", str(out), "--float32"))
    assert "already exist" in line and "--force" in line
    assert out.read_bytes() == b"mine"


@pytest.mark.parametrize("command", [["analyze"], ["verify"], ["generate", "--board", "qemu"]])
def test_other_commands_say_how_to_convert_an_onnx_file(tmp_path, command, run_cli):
    model = save(lenet(), tmp_path / "lenet.onnx")
    line = _one_error_line(run_cli(*command, "--model", str(model)))
    assert "is an ONNX model" in line and f"codegen convert --model {model}" in line
    assert not (ROOT / "generated" / "lenet-emulated_stm32f405").exists()


def test_dynamic_batch_is_set_to_one_and_other_sizes_need_input_shape(tmp_path):
    m = load_onnx(save(lenet(batch="N"), tmp_path / "b.onnx"))
    assert m.batch_fixed and m.input_shape == (1, 1, 28, 28) and m.output_shape == (1, 10)
    dynamic = save(lenet(batch="N", size="side"), tmp_path / "d.onnx")
    fixed = load_onnx(dynamic, (1, 1, 28, 28))
    assert fixed.input_shape == (1, 1, 28, 28) and fixed.output_shape == (1, 10) and not fixed.batch_fixed
    with pytest.raises(CodegenError, match="batch size 2"):
        load_onnx(dynamic, (2, 1, 28, 28))
