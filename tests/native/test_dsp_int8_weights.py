"""With a weight codec the DSP convolution keeps int8 weights where the codec codes them (cg_conv2d_dsp_w8_s8,
decoded at init or before the layer): bit-exact with TFLM, half the flash of the 16-bit packed weights, and
Huffman can code them again (issue #16); weights the codec keeps raw stay 16-bit (cg_conv2d_dsp_s8, faster)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.layers import ConstArray
from codegen.backend.native.weights import EncodedBlob
from codegen.compress.codec import HuffmanCodec
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.conftest import ROOT
from tests.native.op_models import SPECS, build
from tests.native.test_op_conformance import _inputs

CONV = [s for s in SPECS if s.quant != "float32" and s.name.startswith("conv_")]
# a codec that codes nothing (min_bytes above any weight): the weights stay raw, so the 16-bit kernel runs
NO_BLOBS = HuffmanCodec(min_bytes=1 << 30)


@dataclass(frozen=True)
class AlwaysHuffman:
    """A codec that codes every int8 weight array (even where the blob is larger): the int8-weight kernel runs on
    the decoded copy."""

    name: str = "always"

    def encode(self, const: ConstArray, force: bool = False) -> EncodedBlob | None:
        del force
        return HuffmanCodec().encode(const, force=True) if const.values.dtype == np.int8 else None


CASES = [(s, NO_BLOBS) for s in CONV] + [(s, AlwaysHuffman()) for s in CONV]


@pytest.mark.parametrize(("spec", "codec"), CASES, ids=[f"{s.name}-{'raw' if c is NO_BLOBS else 'huffman'}"
                                                          for s, c in CASES])
def test_int8_weight_dsp_conv_matches_tflm(spec, codec, build_cache) -> None:  # noqa: ANN001
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache,
                        options=NativeOptions(kernels="dsp", codec=codec, decode="init"))
    if codec is NO_BLOBS:  # weights the codec keeps raw: the 16-bit kernels, as without a codec
        assert {"cg_conv2d_dsp_s8", "cg_conv2d_dsp_c1_s8"} & set(ours.sources.kernels)
        assert "cg_conv2d_dsp_w8_s8" not in ours.sources.kernels
    else:
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
    with --huffman every convolution filter the codec codes is int8 (Huffman cannot code 16-bit arrays), and the
    ones it keeps raw stay 16-bit (the faster kernel)."""
    graph = load_model(ROOT / "models" / "squeezenet_int8.tflite")
    dense = generate(graph, options=NativeOptions(kernels="dsp"))
    coded = generate(graph, options=NativeOptions(kernels="dsp", codec=HuffmanCodec()))
    filters = [s for s in coded.constants if s.const.name.endswith("_filter")]
    wide = {s.const.name: s.const.nbytes for s in dense.constants if s.const.name.endswith("_filter")}
    assert any(s.blob is not None for s in filters)
    for s in filters:
        assert s.const.values.dtype == (np.int8 if s.blob is not None else np.int16), s.const.name
        if s.blob is not None:
            assert wide[s.const.name] > 1.8 * s.const.nbytes
            assert s.stored_bytes < s.const.nbytes


DW = [s for s in SPECS if s.name in ("dw_k3_s1_m1", "dw_k3_per_tensor")]


@pytest.mark.parametrize("spec", DW, ids=[s.name for s in DW])
def test_depthwise_weights_the_codec_keeps_raw_take_the_dsp_kernel(spec, build_cache) -> None:  # noqa: ANN001
    """Under a codec that codes nothing, a depthwise layer keeps the DSP kernel (its int32 stream is no int8 array
    to code) instead of falling back to the portable one; a codec that codes it gets the portable int8 kernel."""
    path = build(spec)
    graph = load_model(path)
    ref = ReferenceModel(path)
    for codec, kernel in ((NO_BLOBS, "cg_depthwise_conv2d_dsp_s8"), (AlwaysHuffman(), "cg_depthwise_conv2d_s8")):
        ours = host.compile(graph, cache_dir=build_cache,
                            options=NativeOptions(kernels="dsp", codec=codec, decode="init"))
        assert kernel in ours.sources.kernels
        rng = np.random.default_rng(7)
        for _ in range(3):
            xs = _inputs(graph, spec, rng)
            for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
                np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
