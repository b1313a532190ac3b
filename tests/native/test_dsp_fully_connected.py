"""cg_fully_connected_dsp_s8 shares each 16-bit weight operand between two units and recovers the second unit's
sum from A = 256 * S1 + S0 modulo 2^32, in chunks short enough that |S1| < 2^23. Extreme weights (all +-127) and
inputs (all -128 / 127, signs matching the weights) over depth 600 drive |S| to 600 * 128 * 127 > 2^23: without the
chunking the outputs would be off by 2^24 accumulator units. The output scales are edited so those sums are not
clamped. Compared with TFLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codegen import host
from codegen.backend.native import NativeOptions
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.native.tflite_edit import fan_out

DEPTH, UNITS = 600, 8


def _signs() -> np.ndarray:
    """[DEPTH, UNITS] weights: all +1, all -1, alternating, halves, random signs, random magnitudes."""
    k = np.arange(DEPTH)
    rng = np.random.default_rng(5)
    cols = [np.ones(DEPTH), -np.ones(DEPTH), np.where(k % 2, 1.0, -1.0), np.where(k < DEPTH // 2, -1.0, 1.0),
            rng.choice([-1.0, 1.0], DEPTH), rng.choice([-1.0, 1.0], DEPTH), -np.ones(DEPTH),
            rng.uniform(-1.0, 1.0, DEPTH)]
    return np.stack(cols, axis=1).astype(np.float32)


def _kernel_init(shape, dtype=None):  # noqa: ANN001, ANN202
    import tensorflow as tf

    return tf.constant(_signs(), dtype=dtype or tf.float32)


SPEC = OpSpec(
    "fc_dsp_extreme",
    ((DEPTH,),),
    lambda K, x: K.layers.Dense(UNITS, kernel_initializer=_kernel_init, bias_initializer="zeros")(x[0]),
    key="signs-v1",
)


def test_dsp_fully_connected_is_exact_at_extreme_sums(tmp_path: Path, build_cache) -> None:  # noqa: ANN001
    original = build(SPEC).read_bytes()
    graph = parse_tflite(original, name="fc")
    q = graph.input_tensors[0].quant
    in_scale, in_zp = float(q.scale[0]), int(q.zero_point[0])
    extreme = DEPTH * 128 * in_scale  # |real output| bound with |weights| <= 1
    data = fan_out(original, (in_scale, in_zp), [(extreme / 120, 0), (extreme / 400, -20)])
    path = tmp_path / "fc.tflite"
    path.write_bytes(data)
    graph = parse_tflite(data, name="fc", source=str(path))
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp"))
    assert "cg_fully_connected_dsp_s8" in ours.sources.kernels
    ref = ReferenceModel(path)
    signs = np.sign(_signs()).T  # [UNITS, DEPTH]
    xs = [np.full(DEPTH, -128), np.full(DEPTH, 127)]
    xs += [np.where(s > 0, 127, -128) for s in signs] + [np.where(s > 0, -128, 127) for s in signs]
    xs += list(np.random.default_rng(3).integers(-128, 128, size=(4, DEPTH)))
    weights = next(t.data for t in graph.tensors if t.is_constant and t.data.ndim == 2).astype(np.int64)
    biggest, peak = 0, 0
    for x in xs:
        x = x.astype(np.int8).reshape(graph.input_tensors[0].shape)
        mine, theirs = ours.predict([x]), ref.predict([x])
        for m, t in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(m, np.asarray(t).reshape(m.shape))
        biggest = max(biggest, int(np.abs(weights @ x.reshape(-1).astype(np.int64)).max()))
        peak = max(peak, int(np.abs(mine[0].astype(np.int32)).max()))
    assert biggest > 2**23  # raw int8 dot products beyond what one chunk could hold
    assert peak > 100  # and the first output's scale shows them unclamped
