"""cg_conv2d_dsp_s8's output stages are bit-exact with TFLM at output scales and zero points a converter rarely
produces: the precomputed stage (``out_stage``) with the full int8 clamp and with narrower ReLU/ReLU6 clamps,
right shifts from 0 to about 20, and the general requantization where a multiplier is 1 or more (shift > 0).

One convolution is fanned out into several outputs with different quantizations (tests/native/tflite_edit.py),
compiled on the host with the DSP variants (cg_dsp.h's C equivalents of the instructions) and compared with the
TFLM reference on random inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions
from codegen.backend.native.lower.conv import conv_out_stage
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import SPECS, build
from tests.native.tflite_edit import fan_out

# output scale (relative to the converter's) and zero point: right shifts from about 20 (channels whose result is
# always the offset) down to 0 (no rounding shift, alone or beside shifts of 1), positive shifts (the general
# requantization), and zero points that make ReLU/ReLU6 clamp inside the int8 range
OUTPUTS = (
    (1.0, -128), (1.0, -20), (3.0, 40), (0.02, 0), (0.006, -30), (0.004, 12), (0.0025, -128), (1e-3, -100),
    (3e-6, -128), (3000.0, 10),
)


def _quant(tensor) -> tuple[float, int]:  # noqa: ANN001
    q = tensor.quant
    return float(q.scale[0]), int(q.zero_point[0])


@pytest.mark.parametrize("name", ["conv_pw_c16_relu", "conv_k3_s2_c8_relu6_odd", "conv_k1_s2_nobias_odd"])
def test_dsp_conv_output_stages_match_tflm(name: str, tmp_path, build_cache) -> None:  # noqa: ANN001
    path = build(next(s for s in SPECS if s.name == name))
    graph = parse_tflite(path.read_bytes(), name=name, source=str(path))
    in_q = _quant(graph.input_tensors[0])
    out_scale = _quant(graph.output_tensors[0])[0]
    data = fan_out(path.read_bytes(), in_q, [(out_scale * r, zp) for r, zp in OUTPUTS])
    edited = tmp_path / f"{name}_fan.tflite"
    edited.write_bytes(data)
    graph = parse_tflite(data, name=name, source=str(edited))
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp"))
    net = ours.sources.files[f"{ours.sources.prefix}.c"].decode()
    # both output stages are exercised: the precomputed one on some outputs, the general one on others
    assert 0 < net.count("_ostage[") < len(OUTPUTS)
    ref = ReferenceModel(edited)
    rng = np.random.default_rng(5)
    shape = graph.input_tensors[0].shape
    for _ in range(4):
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        for k, (mine, theirs) in enumerate(zip(ours.predict([x]), ref.predict([x]), strict=True)):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape), err_msg=f"output {k}")


def test_out_stage_table_and_where_it_is_refused() -> None:
    w = np.ones((2, 3, 3, 4), dtype=np.int8)  # |accumulator| <= |bias| + 128 * 36
    mult = np.full(2, 1 << 30, dtype=np.int32)
    table = conv_out_stage(0, w, np.array([10, -10]), mult, np.array([-3, -7]), -5)
    assert table is not None
    assert table.values.tolist() == [1 << 30, 4 + (-5 << 3), 3, -1, 1 << 30, 64 + (-5 << 7), 7, -1]
    # shift 0: no rounding shift, no sign correction; shift -30: the result is always 0, the output the offset
    table = conv_out_stage(0, w, np.array([10, -10]), mult, np.array([0, -30]), -5)
    assert table is not None and table.values.tolist() == [1 << 30, -5, 0, 0, 0, -5, 0, -1]
    assert conv_out_stage(0, w, np.array([10, -10]), mult, np.array([-3, 1]), -5) is None  # multiplier above 1
    assert conv_out_stage(0, w, np.array([10, 1 << 30]), mult, np.array([-3, -7]), -5) is None  # |acc| >= 2^30
    big = np.array([1 << 29, 0])  # not provably zero at shift 24, and 2^23 - 100 * 2^24 is beyond 2^30
    assert conv_out_stage(0, w, big, mult, np.array([-24, -3]), -100) is None
