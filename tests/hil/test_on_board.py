"""On the board: the emulated STM32F405 started by a session fixture, or the board given with --port.

One firmware is built per session (cached in tests/.cache/hil); the tests then talk to it over the serial
protocol, run `codegen validate` end to end, through a noisy link, and run `pio test` in the generated project.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from codegen.cli import main
from codegen.hil.noisy import NoisyProxy
from codegen.hil.validate import TOOL_VERSION

pytestmark = pytest.mark.board


def test_board_runs_the_model_and_tool_version_under_test(hil_target, hil_model):
    from codegen.frontend import load_model

    info = hil_target.info()
    assert info.model_sha256 == load_model(hil_model).sha256
    assert info.tool_version == TOOL_VERSION


def test_board_reproduces_golden_outputs_bit_for_bit(hil_target, hil_golden):
    for k, (data, expected) in enumerate(hil_golden):
        assert hil_target.infer(data).output == expected, f"golden vector {k}"


def test_validate_project_reports_100_percent_exact_latency_and_writes_files(hil_options, hil_project, hil_model,
                                                                             tmp_path, capsys):
    if hil_options.port:
        pytest.skip("--project runs the emulator; a board is given with --port")
    out = tmp_path / "report"
    rc = main(["validate", "--project", str(hil_project), "--model", str(hil_model), "--samples", "50",
               "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    report = json.loads((out / "validation.json").read_text())
    assert report["passed"] and report["device_exact_rate"] == 1.0
    assert {c["a"] + ">" + c["b"]: c["exact"] for c in report["comparisons"]} == {
        "reference>host_c": 50, "reference>device": 50, "host_c>device": 50}
    lat = report["latency"]
    assert lat["count"] == 50 and lat["unit"] == "icount ticks" and 0 < lat["min"] <= lat["p50"] <= lat["max"]
    assert lat["ms"]["mean"] > 0 and len(report["layers"]) == report["device"]["num_layers"]
    for name in ("samples.csv", "layers.csv", "latency.png", "latency_hist.png", "layers.png"):
        assert (out / name).stat().st_size > 0, name
    assert len((out / "samples.csv").read_text().splitlines()) == 51
    assert "SysTick ticks under QEMU icount (1.344 per executed instruction; not real cycles)" in text and "p99" in text
    # executed instructions = ticks / 1.344 (8 ns of virtual time per instruction, SysTick at 168 MHz)
    assert lat["per_instruction"] == 1.344 and lat["instructions"]["min"] == lat["min"] / 1.344


def test_validate_over_the_serial_url(hil_url, hil_model, tmp_path, capsys):
    rc = main(["validate", "--port", hil_url, "--model", str(hil_model), "--samples", "20", "--seed", "7",
               "--no-plots", "--out", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and len(report["samples"]) == 20
    assert report["latency"]["p99"] >= report["latency"]["p50"]


def test_validate_refuses_a_board_running_another_model(hil_url, capsys):
    from tests.conftest import shared_model

    other = shared_model("ad01_fc_autoencoder_int8.tflite")
    rc = main(["validate", "--port", hil_url, "--model", str(other), "--samples", "2", "--no-host-c"])
    err = capsys.readouterr().err
    assert rc == 2 and "different model" in err
    assert len(re.findall(r"\b[0-9a-f]{64}\b", err)) == 2  # both hashes shown


def test_noisy_link_to_the_board_never_accepts_a_wrong_result(hil_url, hil_model, tmp_path, capsys):
    if not hil_url.startswith("socket://"):
        pytest.skip("the noisy proxy sits on a TCP link (emulator)")
    host, _, port = hil_url.removeprefix("socket://").rpartition(":")
    with NoisyProxy((host, int(port)), flip_rate=1e-4, drop_rate=5e-5, seed=5) as proxy:
        rc = main(["validate", "--port", proxy.url, "--model", str(hil_model), "--samples", "40", "--timeout", "2",
                   "--no-plots", "--no-host-c", "--json"])
        noise = proxy.stats()
    report = json.loads(capsys.readouterr().out)
    assert noise.bits_flipped + noise.bytes_dropped > 0
    assert rc == 0 and report["passed"], "a corrupted result was accepted"
    link = report["link"]
    assert link["crc_errors"] + link["timeouts"] > 0 and link["retries"] > 0


def _copy_project(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".pio", ".pio-core"), symlinks=True)
    return dst


def test_pio_test_passes_in_the_generated_project(hil_options, hil_project):
    if hil_options.port:
        pytest.skip("pio test here runs the emulator")
    from codegen.hil.project import run_selftest

    result = run_selftest(hil_project, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    assert result.failed == 0 and result.passed >= 4


def test_pio_test_fails_when_an_expected_output_is_altered(hil_options, hil_project, tmp_path):
    if hil_options.port:
        pytest.skip("pio test here runs the emulator")
    from codegen.hil.project import run_selftest

    project = _copy_project(hil_project, tmp_path / "altered")
    golden = project / "test" / "test_selftest" / "cg_golden.h"
    text = golden.read_text()
    m = re.search(r"cg_golden_out_1\[\d+\] = \{\s*0x([0-9a-f]{2})", text)
    assert m is not None
    flipped = f"{int(m.group(1), 16) ^ 0x01:02x}"
    golden.write_text(text[: m.start(1)] + flipped + text[m.end(1) :])
    result = run_selftest(project, timeout=300)
    assert result.returncode != 0
    assert re.search(r"test_golden_1:FAIL: output byte 0: expected", result.output), result.output[-3000:]
    assert result.failed == 1


def _qemu_count(project: Path) -> int:
    """QEMU processes running this project's firmware (the session's emulator may be one of them)."""
    needle = str(project.resolve()).encode()
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes()
        except OSError:
            continue
        count += b"qemu-system" in raw and needle in raw
    return count


def test_validate_project_stops_the_emulator_after_an_error(hil_options, hil_project, capsys):
    if hil_options.port:
        pytest.skip("--project runs the emulator; a board is given with --port")
    from tests.conftest import shared_model

    before = _qemu_count(hil_project)
    rc = main(["validate", "--project", str(hil_project), "--model",
               str(shared_model("ad01_fc_autoencoder_int8.tflite")), "--samples", "2", "--no-host-c"])
    assert rc == 2 and "different model" in capsys.readouterr().err
    assert _qemu_count(hil_project) == before


def test_a_second_client_on_the_emulator_socket_gets_a_clear_message(hil_url, hil_target):
    if not hil_url.startswith("socket://"):
        pytest.skip("only the emulator's TCP socket takes one client at a time")
    from codegen.errors import DeviceError
    from codegen.hil.device import open_target

    hil_target.info()  # the first client holds the socket
    with pytest.raises(DeviceError, match="no other client connected"), open_target(hil_url, boot_timeout=1.0):
        pass
