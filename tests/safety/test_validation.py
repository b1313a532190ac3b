"""The validation pass: inconsistent models are refused with one line (exit 2), consistent ones go through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codegen.errors import ModelError, UnsupportedModelError
from codegen.frontend.tflite import parse_tflite
from tests.conftest import ROOT
from tests.safety.cases import BROKEN, VALID, conv, depthwise, mean, pool


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def one_error_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_inconsistent_model_is_refused_naming_what_disagrees(name: str) -> None:
    make, words = BROKEN[name]
    with pytest.raises(ModelError) as err:
        parse_tflite(make(), source=f"{name}.tflite")
    message = str(err.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message


@pytest.mark.parametrize("op", sorted(VALID))
def test_consistent_single_op_model_validates_and_generates(op: str) -> None:
    from codegen.backend.native import generate

    graph = parse_tflite(VALID[op](), source=f"{op}.tflite")
    assert [o.op for o in graph.operators] == [op]
    assert generate(graph).arena_bytes > 0


def test_every_operator_the_native_backend_generates_has_a_shape_rule() -> None:
    from codegen.backend.native.kernels import supported_ops
    from codegen.validation import SHAPE_RULES

    missing = sorted(set(supported_ops()) - set(SHAPE_RULES))
    assert not missing, f"add a shape rule in codegen/validation/rules.py for {missing}"


def test_shared_reference_models_validate(shared_models_dir: Path) -> None:
    from codegen.frontend import load_model

    for path in sorted(shared_models_dir.glob("*.tflite")) + sorted((ROOT / "models").glob("*.tflite")):
        load_model(path)


CLI_CASES = ["mean_output_larger", "pad_output_disagrees", "concat_inconsistent", "graph_input_constant",
             "output_negative_index", "operator_without_outputs", "stride_zero", "fc_missing_input"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_analyze_refuses_inconsistent_model_with_exit_2(tmp_path: Path, name: str) -> None:
    make, words = BROKEN[name]
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(make())
    line = one_error_line(run_cli("analyze", "--model", str(model)))
    assert all(w in line for w in words), line


@pytest.mark.parametrize("command", ["emit-c", "verify", "generate"])
def test_every_command_refuses_mean_with_a_too_large_output(tmp_path: Path, command: str) -> None:
    model = tmp_path / "mean_big.tflite"
    model.write_bytes(mean(out=(1, 4, 4, 6)))
    extra = {"emit-c": ["--out", str(tmp_path / "c")], "verify": ["--samples", "2"],
             "generate": ["--board", "qemu", "--out", str(tmp_path / "p")]}[command]
    line = one_error_line(run_cli(command, "--model", str(model), *extra))
    assert "operator 0 (MEAN)" in line
    assert not (tmp_path / "c").exists() and not (tmp_path / "p").exists()


@pytest.mark.parametrize("make", [
    lambda: conv(inp=(2, 6, 6, 3), out=(2, 6, 6, 4)),
    lambda: depthwise(inp=(2, 7, 7, 4), out=(2, 3, 3, 8)),
    lambda: pool(inp=(2, 8, 8, 3), out=(2, 4, 4, 3)),
    lambda: mean(inp=(2, 4, 4, 6), out=(2, 6)),
], ids=["conv", "depthwise", "pool", "mean"])
def test_batch_2_is_refused_by_the_native_backend(make) -> None:  # noqa: ANN001
    from codegen.backend.native import generate

    graph = parse_tflite(make())  # a consistent model: analyze reads it
    with pytest.raises(UnsupportedModelError, match="batch 2"):
        generate(graph)


def test_batch_2_emit_c_is_one_line(tmp_path: Path) -> None:
    model = tmp_path / "conv_b2.tflite"
    model.write_bytes(conv(inp=(2, 6, 6, 3), out=(2, 6, 6, 4)))
    line = one_error_line(run_cli("emit-c", "--model", str(model), "--out", str(tmp_path / "c")))
    assert "batch 2" in line and "batch size 1" in line


def test_the_package_uses_no_assert_statements() -> None:
    """Asserts vanish under ``python -O``: input checks raise CodegenError, invariants raise explicitly."""
    import ast

    found = []
    for path in sorted((ROOT / "codegen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Assert):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
