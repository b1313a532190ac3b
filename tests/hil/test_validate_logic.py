"""Validation logic against in-process fake devices: comparisons, identity checks, resets, reports."""

from __future__ import annotations

import json

import pytest

from codegen.errors import DeviceError
from codegen.frontend import load_model
from codegen.hil import sources
from codegen.hil.validate import (
    ValidationConfig,
    first_divergence,
    format_report,
    latency_stats,
    random_inputs,
    validate,
    write_report,
)
from tests.conftest import shared_model
from tests.hil.fakes import FakeTarget


@pytest.fixture(scope="module")
def kws():
    graph = load_model(shared_model("kws_dscnn_int8.tflite"))
    return graph, sources.reference_fn(graph)


def _cfg(n: int, **kw) -> ValidationConfig:
    return ValidationConfig(samples=n, progress=False, **kw)


def test_matching_device_reports_100_percent_exact(kws, tmp_path):
    graph, ref = kws
    inputs = random_inputs(graph, 6, seed=3)
    report = validate(FakeTarget(ref, graph.sha256), graph, inputs, reference=ref, host_c=ref,
                      config=_cfg(6), layer_names=("A", "B", "C"))
    assert report.passed
    assert report.device_exact_rate == 1.0
    assert report.latency.unit == "instructions"
    assert report.latency.min == 100_000 and report.latency.count == 6
    assert [lp.name for lp in report.layers] == ["A", "B", "C"]
    report = write_report(report, tmp_path)
    data = json.loads((tmp_path / "validation.json").read_text())
    assert data["passed"] is True and len(data["samples"]) == 6
    for name in ("samples.csv", "layers.csv", "latency.png", "latency_hist.png", "layers.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "PASS" in format_report(report)


def test_a_wrong_device_output_fails_and_locates_the_first_divergent_layer(kws):
    graph, ref = kws
    inputs = random_inputs(graph, 5)
    target = FakeTarget(ref, graph.sha256, corrupt_at=frozenset({2}))
    host_layers = lambda data: tuple(bytes([k] * 8) for k in range(3))  # noqa: E731
    report = validate(target, graph, inputs, reference=ref, host_c=ref, host_layers=host_layers,
                      config=_cfg(5), layer_names=("CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"))
    assert not report.passed
    assert report.comparison("host_c", "device").exact == 4
    assert report.comparison("reference", "host_c").exact == 5
    assert [s.index for s in report.samples if not s.exact_vs_host_c] == [2]
    (div,) = report.divergences
    assert (div.sample, div.layer, div.layer_name, div.differing_bytes, div.max_abs_diff) == (
        2, 1, "DEPTHWISE_CONV_2D", 1, 4)
    assert "FAIL" in format_report(report)


def test_a_device_running_another_model_is_refused_showing_both_hashes(kws):
    graph, ref = kws
    with pytest.raises(DeviceError) as err:
        validate(FakeTarget(ref, "ab" * 32), graph, random_inputs(graph, 1), reference=ref, config=_cfg(1))
    assert "ab" * 32 in str(err.value) and graph.sha256 in str(err.value)


def test_a_device_built_by_another_tool_version_is_refused(kws):
    graph, ref = kws
    with pytest.raises(DeviceError, match="codegen 0.0.1"):
        validate(FakeTarget(ref, graph.sha256, tool_version="codegen 0.0.1"), graph, random_inputs(graph, 1),
                 reference=ref, config=_cfg(1))


def test_a_reset_mid_run_aborts_by_default_and_resumes_on_request(kws):
    graph, ref = kws
    inputs = random_inputs(graph, 4)
    with pytest.raises(DeviceError, match="reset during inference 3"):
        validate(FakeTarget(ref, graph.sha256, reset_at=frozenset({2})), graph, inputs, reference=ref,
                 config=_cfg(4))
    target = FakeTarget(ref, graph.sha256, reset_at=frozenset({2}))
    report = validate(target, graph, inputs, reference=ref, config=_cfg(4, on_reset="resume"))
    assert report.passed and report.resets_resumed == 1 and len(report.samples) == 4
    assert target.info_calls == 2  # identity checked again after the reset


def test_latency_statistics_in_ticks_and_ms():
    stats = latency_stats([100, 200, 300, 400], "cycles", 1000)
    assert (stats.min, stats.max, stats.mean, stats.p50) == (100, 400, 250.0, 250.0)
    assert stats.unit == "cycles" and stats.ms(stats.max) == 400.0
    assert latency_stats([1], "instructions (QEMU icount)", 0).ms(1) is None


def test_latency_in_icount_ticks_converts_to_instructions():
    # the emulated STM32F405: SysTick at 168 MHz, 8 ns of virtual time per instruction -> 1.344 ticks each
    stats = latency_stats([1344, 2688], "SysTick ticks (QEMU icount, 1.344 per instruction)", 168_000_000)
    assert stats.unit == "icount ticks" and stats.per_instruction == 1.344
    assert stats.instructions(stats.min) == pytest.approx(1000.0)
    assert stats.instructions(stats.max) == pytest.approx(2000.0)
    assert stats.to_json()["instructions"]["mean"] == pytest.approx(1500.0)
    assert latency_stats([1], "instructions (QEMU icount)", 1).per_instruction == 1.0
    assert latency_stats([1], "cycles", 1).instructions(1) is None
    # the counter kind comes over the serial link: an absurd factor is not believed
    for kind in ("SysTick ticks (QEMU icount, 0 per instruction)", "ticks (QEMU icount, 999 per instruction)"):
        assert latency_stats([1], kind, 1).unit == "instructions"


def test_first_divergence_reports_no_layer_when_all_layers_agree():
    assert first_divergence(0, [b"ab", b"cd"], [b"ab", b"cd"]).layer is None


def test_dataset_run_reports_accuracy_of_every_stage_and_the_float_to_int8_drop():
    from pathlib import Path

    from codegen.hil.validate import dataset_inputs

    root = Path(__file__).resolve().parents[2] / "models"
    int8, fp32 = root / "squeezenet_int8.tflite", root / "squeezenet_fp32.tflite"
    if not (int8.is_file() and fp32.is_file()):
        pytest.skip("models/squeezenet_int8.tflite and squeezenet_fp32.tflite (codegen train) not present")
    graph = load_model(int8)
    ref = sources.reference_fn(graph)
    inputs = dataset_inputs(graph, "digits", 30)
    assert inputs.labels is not None and len(inputs.labels) == 30 and inputs.floats.shape == (30, 32, 32, 1)
    report = validate(FakeTarget(ref, graph.sha256), graph, inputs, reference=ref,
                      float_model=sources.float_fn(fp32), config=_cfg(30))
    acc = dict(report.accuracy)
    assert set(acc) == {"float", "reference", "device"}
    assert acc["reference"] == acc["device"] and acc["reference"] > 0.8 and acc["float"] > 0.8
    float_vs_int8 = report.comparison("float", "reference")
    assert float_vs_int8 is not None and float_vs_int8.top1_rate > 0.8
    assert "accuracy drop float -> int8" in format_report(report)
