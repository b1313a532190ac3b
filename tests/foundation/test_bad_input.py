"""Bad input gives one clear line, exit code 2 and no traceback (unless --debug)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, shared_model


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def _write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _bad_models(tmp_path):
    good = shared_model("kws_dscnn_int8.tflite").read_bytes()
    other_fb = bytearray(good)
    other_fb[4:8] = b"BFBS"
    return {
        "missing": (tmp_path / "nope.tflite", "does not exist"),
        "directory": (tmp_path, "is not a file"),
        "empty": (_write(tmp_path, "empty.tflite", b""), "is empty"),
        "tiny": (_write(tmp_path, "tiny.tflite", b"\x10\x00"), "truncated"),
        "truncated_half": (_write(tmp_path, "half.tflite", good[: len(good) // 2]), "truncated"),
        "truncated_head": (_write(tmp_path, "head.tflite", good[:64]), "truncated"),
        "text": (_write(tmp_path, "notes.tflite", b"hello, this is not a model at all\n" * 10), "not a TFLite"),
        "other_flatbuffer": (_write(tmp_path, "schema.bfbs", bytes(other_fb)), "flatbuffer of another kind"),
        "keras_h5_renamed": (_write(tmp_path, "model.tflite", b"\x89HDF\r\n\x1a\n" + bytes(100)), "HDF5"),
    }


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "tiny", "truncated_half", "truncated_head",
                                  "text", "other_flatbuffer", "keras_h5_renamed"])
def test_bad_model_file_gives_one_line_and_exit_2(tmp_path, case):
    path, words = _bad_models(tmp_path)[case]
    out = run_cli("analyze", "--model", str(path))
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and words in lines[0]
    assert "(" in lines[0]  # carries a hint
    assert "Traceback" not in out.stderr


def test_unknown_board_names_the_known_ones():
    out = run_cli("analyze", "--model", str(shared_model("kws_dscnn_int8.tflite")), "--board", "arduino_uno")
    assert out.returncode == 2
    assert "unknown board 'arduino_uno'" in out.stderr and "nucleo_f446re" in out.stderr
    assert "Traceback" not in out.stderr


def test_debug_flag_shows_the_traceback(tmp_path):
    out = run_cli("--debug", "analyze", "--model", str(tmp_path / "nope.tflite"))
    assert out.returncode != 0
    assert "Traceback" in out.stderr


def test_truncation_at_every_cut_point_is_an_error_not_a_crash(tmp_path):
    from codegen.errors import ModelError
    from codegen.frontend.tflite import parse_tflite

    good = shared_model("kws_dscnn_int8.tflite").read_bytes()
    for cut in range(0, len(good), max(1, len(good) // 97)):
        try:
            parse_tflite(good[:cut])
        except ModelError:
            continue
        # a cut that keeps every referenced byte may still parse; then it must be the complete graph
        g = parse_tflite(good[:cut])
        assert len(g.operators) == 13
