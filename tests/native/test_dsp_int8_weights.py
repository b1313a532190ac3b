"""With a weight codec the DSP convolution keeps int8 weights (cg_conv2d_dsp_w8_s8): bit-exact with TFLM, half
the flash of the 16-bit packed weights, and Huffman can code them again (issue #16)."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.compress.codec import HuffmanCodec
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.conftest import ROOT
from tests.native.op_models import SPECS, build
from tests.native.test_op_conformance import _inputs

CONV = [s for s in SPECS if s.quant != "float32" and s.name.startswith("conv_")]
# a codec that codes nothing (min_bytes above any weight): the int8 kernels run on plain int8 weights
NO_BLOBS = HuffmanCodec(min_bytes=1 << 30)


CASES = [(s, NO_BLOBS) for s in CONV] + [
    (s, HuffmanCodec(min_bytes=1)) for s in CONV if s.name in ("conv_k3_s1_same_relu", "conv_k1_s2_nobias_odd")
]


@pytest.mark.parametrize(("spec", "codec"), CASES, ids=[f"{s.name}-{'raw' if c is NO_BLOBS else 'huffman'}"
                                                          for s, c in CASES])
def test_int8_weight_dsp_conv_matches_tflm(spec, codec, build_cache) -> None:  # noqa: ANN001
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp", codec=codec))
    assert "cg_conv2d_dsp_w8_s8" in ours.sources.kernels
    assert "cg_conv2d_dsp_s8" not in ours.sources.kernels
    ref = ReferenceModel(path)
    rng = np.random.default_rng(19)
    for _ in range(10):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def test_huffman_codes_the_dsp_conv_weights_again() -> None:
    """SqueezeNet on a DSP core: without a codec the convolutions' weights are 16-bit (twice the int8 bytes);
    with --huffman every convolution filter is int8, so Huffman can code them (16-bit arrays it cannot)."""
    graph = load_model(ROOT / "models" / "squeezenet_int8.tflite")
    dense = generate(graph, options=NativeOptions(kernels="dsp"))
    coded = generate(graph, options=NativeOptions(kernels="dsp", codec=HuffmanCodec()))
    filters = [s for s in coded.constants if s.const.name.endswith("_filter")]
    int8_bytes = sum(s.const.nbytes for s in filters)
    wide_bytes = sum(s.const.nbytes for s in dense.constants if s.const.name.endswith("_filter"))
    assert all(s.const.values.dtype == np.int8 for s in filters)
    assert wide_bytes > 1.8 * int8_bytes
    assert any(s.blob is not None for s in filters)
    assert sum(s.stored_bytes for s in filters) < int8_bytes
