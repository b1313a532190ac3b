"""The Cortex-M DSP depthwise kernel (cg_depthwise_conv2d_dsp_s8) is bit-exact with TFLM at every requantization
it accepts, and the generator hands it only layers whose arithmetic cannot overflow.

Its output stage folds the left shift into the weights and the output offset into the rounding constant
(packing.pack_depthwise_dsp); output scales from 8x to 1/8192x the converter's one give multipliers with right
shifts, a right shift of 0 and left shifts up to 6, and larger multipliers the portable fallback. Compiled on the
host with cg_dsp.h's C equivalents of the DSP instructions; tests/native/test_dsp_on_board.py runs the
instructions themselves.
"""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, prepare
from codegen.backend.native.lower.packing import pack_depthwise_dsp
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from codegen.verify import random_input
from tests.native.op_models import SPECS, OpSpec, _dw, build
from tests.native.tflite_edit import fan_out

SPEC = OpSpec("dw_k3_scales_c6", ((5, 6, 6),), _dw(3))
RATIOS = (8.0, 1.0, 1 / 16, 1 / 200, 1 / 300, 1 / 400, 1 / 600, 1 / 1000, 1 / 8192, 1 / 2**20)
ZERO_POINTS = (-128, 3, -7, 0, 100, -50, 17, 127, -3, 9)


def _dsp_calls(ours) -> int:  # noqa: ANN001
    return ours.sources.files["cg_net.c"].decode().count("cg_depthwise_conv2d_dsp_s8(&")


def test_depthwise_dsp_matches_tflm_from_right_to_left_shifts(tmp_path, build_cache) -> None:  # noqa: ANN001
    base = build(SPEC)
    graph = load_model(base)
    t_in, t_out = graph.input_tensors[0], graph.output_tensors[0]
    out_scale = t_out.quant.scale[0]
    cases = [(out_scale * r, zp) for r, zp in zip(RATIOS, ZERO_POINTS, strict=True)]
    data = fan_out(base.read_bytes(), (t_in.quant.scale[0], t_in.quant.zero_point[0]), cases)
    path = tmp_path / "dw_scales.tflite"
    path.write_bytes(data)
    fanned = parse_tflite(data, name="dw_scales", source=str(path))
    ours = host.compile(fanned, cache_dir=build_cache, options=NativeOptions(kernels="dsp"))
    # shifts the DSP kernel sees: right shifts, 0 and left shifts (per channel: the filter scales differ)
    w_scales = graph.tensors[graph.operators[0].inputs[1]].quant.scale
    shifts = {prepare.quantize_multiplier(t_in.quant.scale[0] * w / (out_scale * r))[1] for r in RATIOS[:-1]
              for w in w_scales}
    assert min(shifts) < 0 and 0 in shifts and max(shifts) >= 5
    assert _dsp_calls(ours) == len(RATIOS) - 1  # the largest multipliers (left shift > 7) take the portable kernel
    ref = ReferenceModel(path)
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = random_input(t_in.shape, t_in.dtype, rng)
        for k, (mine, theirs) in enumerate(zip(ours.predict([x]), ref.predict([x]), strict=True)):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape), err_msg=f"output {k}")


@pytest.mark.parametrize("name", ["dw_k3_dilation2_m1", "dw_k3_s2_same_relu6_m1", "dw_k5_valid_m1"])
def test_depthwise_dsp_is_clean_under_sanitizers(name: str, build_cache) -> None:  # noqa: ANN001
    path = build(next(s for s in SPECS if s.name == name))
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=True, opt="-O1", options=NativeOptions(kernels="dsp"))
    assert _dsp_calls(ours) == 1
    ref = ReferenceModel(path)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = random_input(graph.input_tensors[0].shape, graph.input_tensors[0].dtype, rng)
        mine = ours.predict([x])[0]
        np.testing.assert_array_equal(mine, np.asarray(ref.predict([x])[0]).reshape(mine.shape))


def test_pack_depthwise_dsp_refuses_what_could_overflow() -> None:
    w = np.ones((1, 3, 3, 4), dtype=np.int8)
    m = np.full(4, 1 << 30)
    ok = pack_depthwise_dsp(w, np.zeros(4), m, np.array([-5, 0, 3, 7]), 0)
    assert ok is not None and ok.size == 4 + 2 * 9 + 12
    assert pack_depthwise_dsp(w, np.zeros(4), m, np.array([-5, 0, 3, 8]), 0) is None  # weights * 2^9: not int16
    assert pack_depthwise_dsp(w, np.array([0, 0, 0, 1 << 29]), m, np.full(4, -3), 0) is None  # accumulator
    assert pack_depthwise_dsp(w, np.zeros(4), m, np.full(4, -31), -128) is None  # output offset * 2^31
