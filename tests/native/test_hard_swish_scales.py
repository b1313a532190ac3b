"""int8 HARD_SWISH is bit-exact with TFLM at every input/output scale TFLM accepts, on all 256 input values.

The scales cover the relu-ish multiplier's left-shift paths (large input scales), its right shifts beyond 15
bits (tiny input scales, as random-weight MobileNetV3 produces, where TFLM's 16-bit rounding shift degenerates)
and the output shift from 0 to 31 bits.
"""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import prepare
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, _hard_swish, build
from tests.native.tflite_edit import fan_out

SPEC = OpSpec("hard_swish_256", ((256,),), _hard_swish, input_range=(-5.0, 5.0))

# input scale -> output scales (relative to the input scale); zero points vary with the case
INPUT_SCALES = (3e-9, 1.5e-7, 2e-5, 0.01, 0.4, 6.0, 500.0, 3e6)
OUTPUT_RATIOS = (1 / 128, 0.02, 0.3, 0.5, 1.0, 2.0, 40.0, 3000.0)


def _cases(in_scale: float) -> list[tuple[float, int]]:
    outs = []
    for k, r in enumerate(OUTPUT_RATIOS):
        out_scale = float(np.float32(in_scale * r))
        _, _, _, out_exp = prepare.hard_swish_params(in_scale, out_scale)
        if out_exp <= 0:  # TFLM refuses the others in Prepare
            outs.append((out_scale, (-128, -100, -3, 0, 17, 127)[k % 6]))
    return outs


@pytest.mark.parametrize("in_scale", INPUT_SCALES)
def test_hard_swish_matches_tflm_at_extreme_scales(in_scale: float, tmp_path, build_cache) -> None:  # noqa: ANN001
    data = fan_out(build(SPEC).read_bytes(), (in_scale, 5), _cases(in_scale))
    relu_exps = {prepare.hard_swish_params(in_scale, s)[1] for s, _ in _cases(in_scale)}
    assert relu_exps  # the test exercises the multiplier exponents printed on failure
    path = tmp_path / "hs.tflite"
    path.write_bytes(data)
    graph = parse_tflite(data, name="hs", source=str(path))
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    x = np.arange(-128, 128, dtype=np.int8).reshape(graph.input_tensors[0].shape)
    for k, (mine, theirs) in enumerate(zip(ours.predict([x]), ref.predict([x]), strict=True)):
        np.testing.assert_array_equal(
            mine, np.asarray(theirs).reshape(mine.shape), err_msg=f"output {k}, relu-ish exponents {relu_exps}"
        )
