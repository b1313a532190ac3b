"""`codegen train` then `codegen bench` on digits: files, overwrite protection, table, JSON and plots."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.errors import EXIT_USAGE, CodegenError
from codegen.train import cli
from tests.train.conftest import TRAIN, run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_train_and_bench_commands_are_registered_with_the_main_cli() -> None:
    from codegen.cli import COMMAND_MODULES

    assert "codegen.train.cli" in COMMAND_MODULES


def test_train_writes_the_keras_model_variants_and_report(trained: Path) -> None:
    names = sorted(p.name for p in trained.iterdir())
    assert names == [
        "squeezenet.keras",
        "squeezenet_fp32.preprocess.json",
        "squeezenet_fp32.tflite",
        "squeezenet_int8.preprocess.json",
        "squeezenet_int8.tflite",
        "squeezenet_report.json",
        "squeezenet_report.md",
    ]
    report = json.loads((trained / "squeezenet_report.json").read_text())
    assert report["config"]["seed"] == 3 and report["dataset"]["train"] == 300
    assert [v["name"] for v in report["variants"]] == ["fp32", "int8"]


def test_train_refuses_to_overwrite_without_force(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (trained / "squeezenet_int8.tflite").stat().st_mtime_ns
    assert run([*TRAIN, "--out", str(trained)]) == EXIT_USAGE
    assert (trained / "squeezenet_int8.tflite").stat().st_mtime_ns == before


def test_same_seed_gives_identical_models(trained: Path, tmp_path: Path) -> None:
    assert run([*TRAIN, "--out", str(tmp_path)]) == 0
    for name in ("squeezenet_fp32.tflite", "squeezenet_int8.tflite", "squeezenet_report.json"):
        assert (tmp_path / name).read_bytes() == (trained / name).read_bytes(), name


def test_bench_writes_table_json_and_three_plots(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench"
    models = [str(trained / "squeezenet_fp32.tflite"), str(trained / "squeezenet_int8.tflite")]
    assert (
        run(["bench", "--models", *models, "--dataset", "digits", "--samples", "40", "--out", str(out)]) == 0
    )
    table = capsys.readouterr().out
    assert "| model | file bytes | deployed bytes | accuracy | accuracy by | mean ms | min ms | max ms |" in table
    assert "| TFLM reference |" in table
    assert "squeezenet_int8" in table and "squeezenet_fp32" in table
    assert (out / "bench.md").read_text().count("\n| squeezenet_") == 2
    data = json.loads((out / "bench.json").read_text())
    assert [m["name"] for m in data["models"]] == ["squeezenet_fp32", "squeezenet_int8"]
    for m in data["models"]:
        lat = m["latency_ms"]
        assert m["samples"] == 40 and len(m["latencies_ms"]) == 40
        assert 0 < lat["min"] <= lat["mean"] <= lat["max"] and lat["min"] <= lat["p99"] <= lat["max"]
        assert 0.0 <= m["accuracy"] <= 1.0
        assert m["size_bytes"] == Path(m["file"]).stat().st_size
        assert m["accuracy_interpreter"] == "TFLM reference"
        assert 0 < m["raw_weight_bytes"] < m["size_bytes"] and m["deployed_bytes"] > 0
    assert data["cooldown_s"] == 0.0 and data["environment"]["tflite_micro"] != "not installed"
    # the deployed size is the flash `codegen analyze` reports for the generated weights on the reference board
    view = json.loads(subprocess.run(
        [sys.executable, "-m", "codegen", "analyze", "--model", models[1], "--board", "emulated_stm32f405",
         "--huffman", "--json"], capture_output=True, text=True, check=True).stdout)["deployed"]
    assert data["models"][1]["deployed_bytes"] == view["stored_weight_bytes"] + view["decoder_code_bytes"]
    for plot in ("latency_sequence.png", "latency_histogram.png", "tradeoff.png"):
        assert (out / plot).read_bytes()[:8] == PNG_MAGIC, plot


def test_bench_json_flag_prints_machine_readable_results(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(trained / "squeezenet_int8.tflite")
    assert run(["bench", "--models", model, "--samples", "5", "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["models"][0]["samples"] == 5 and "latencies_ms" not in data["models"][0]


def test_missing_dataset_path_fails_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    parser = argparse.ArgumentParser(prog="codegen")
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["train", "--dataset", f"folder:{missing}", "--out", str(tmp_path / "o")])
    with pytest.raises(CodegenError) as err:
        args.func(args)
    assert str(missing) in err.value.message and "does not exist" in err.value.message
    assert "train/<class>" in err.value.hint
    assert not (tmp_path / "o").exists()


def test_bench_rejects_a_missing_model_file(tmp_path: Path) -> None:
    assert run(["bench", "--models", str(tmp_path / "x.tflite"), "--out", str(tmp_path)]) == EXIT_USAGE


def test_train_prints_one_line_per_epoch_and_no_tensorflow_log_lines(tmp_path: Path) -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "codegen", "train", "--model", "lenet5", "--dataset", "digits", "--subset-train",
           "150", "--subset-test", "30", "--epochs", "2", "--variants", "fp32,int8", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 2, proc.stderr  # nothing but the epoch lines: no cuda/oneDNN/absl/MLIR noise
    for i, line in enumerate(lines, start=1):
        assert line.startswith(f"train lenet5: epoch {i}/2 loss ") and "test accuracy" in line
