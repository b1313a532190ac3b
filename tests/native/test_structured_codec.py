"""Structured-sparse weights under a weight codec (issue #16, ``--huffman``): the layers whose weights a structured
kernel takes without a codec (column-sparse, tile-wise 2:4 convolutions and fully connected layers) keep that
kernel and its stream, stored raw; the codec codes the other weights as before. Bit-exact with TFLM on the host C
build, in both decode modes."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.lower import columns, columns_s8, sparse24
from codegen.compress.codec import HuffmanCodec
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.native.test_conv_columns import _conv_cols
from tests.native.test_op_conformance import _inputs
from tests.native.test_sparse24 import _conv24, _fc24

STRUCTURED = {columns.KERNEL, columns_s8.KERNEL, sparse24.KERNEL, sparse24.RUNS_KERNEL, sparse24.FC_KERNEL}


def _unstructured(K, x, filters: int, seed: int):  # noqa: ANN001, ANN202, N803
    # a 1x1 convolution with half its weights zeroed at random: what the codec codes
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.3, (1, 1, x.shape[-1], filters)).astype(np.float32)
    w *= rng.random(w.shape) >= 0.5
    return K.layers.Conv2D(filters, 1, activation="relu",
                           kernel_initializer=K.initializers.Constant(w))(x)


def _tile_model(K, x):  # noqa: ANN001, ANN202, N803
    # 2:4-tile convolution and fully connected layer around an unstructured-pruned convolution and a dense classifier
    y = _conv24(16, 3, 8, 41, act="relu")(K, x)
    y = _unstructured(K, y, 16, 42)
    y = _fc24(24, 16, 43, act="relu")(K, [K.layers.GlobalAveragePooling2D()(y)])
    return K.layers.Dense(32)(y)


def _layer_model(K, x):  # noqa: ANN001, ANN202, N803
    # 2:4-layer (column-sparse) convolutions, the first on one channel, then an unstructured-pruned one and a
    # 2:4-tile fully connected layer
    y = _conv_cols(8, 5, 1, 51, pad="valid", act="relu")(K, x)
    y = _conv_cols(16, 3, 8, 52, act="relu")(K, [y])
    y = _unstructured(K, y, 16, 53)
    return _fc24(12, 16, 54)(K, [K.layers.GlobalAveragePooling2D()(y)])


MODELS = {
    "2:4-tile": OpSpec("codec_tile24", ((8, 8, 8),), _tile_model, key="hs-t2"),
    "2:4-layer": OpSpec("codec_layer24", ((12, 12, 1),), _layer_model, key="hs-l2"),
}


#: (model, kernel set): the structured kernels it takes, the structured layers, the kernel of the codec's convolution
CASES = {
    ("2:4-tile", "dsp"): ({sparse24.KERNEL, sparse24.FC_KERNEL}, 2, "cg_conv2d_dsp_sparse_s8"),
    ("2:4-layer", "dsp"): ({columns.KERNEL, sparse24.FC_KERNEL}, 3, "cg_conv2d_dsp_sparse_s8"),
    ("2:4-layer", "portable"): ({columns_s8.KERNEL}, 2, "cg_conv2d_s8"),  # no 2:4 kernels on other cores
}


@pytest.mark.parametrize("decode", ["layer", "init"])
@pytest.mark.parametrize(("structure", "kernels"), list(CASES))
def test_structured_layers_keep_their_kernels_and_raw_streams_under_a_codec(
    structure: str, kernels: str, decode: str, build_cache, monkeypatch  # noqa: ANN001
) -> None:
    monkeypatch.setattr(columns, "CODE_BYTES", 0)  # the column kernels pay for their code in these small models
    monkeypatch.setitem(columns.OTHER_CODE_BYTES, columns_s8.KERNEL, 0)
    want, layers, codec_kernel = CASES[(structure, kernels)]
    path = build(MODELS[structure])
    graph = load_model(path)
    raw = generate(graph, options=NativeOptions(kernels=kernels))
    assert STRUCTURED & set(raw.kernels) == want
    options = NativeOptions(kernels=kernels, codec=HuffmanCodec(), decode=decode)
    coded = generate(graph, options=options)
    assert STRUCTURED & set(coded.kernels) == want
    streams = {s.const.name: s.const.values for s in raw.constants if s.const.values.dtype == np.int32
               and s.const.name.endswith("_filter")}
    assert len(streams) == layers
    stored = {s.const.name: s for s in coded.constants}
    decoded = {b.key[2:] for b in coded.plan.buffers if b.kind == "decode"}  # per-layer decode buffers
    for name, values in streams.items():  # the same stream, stored raw and read in place: no blob, no decoded copy
        assert stored[name].blob is None and name not in decoded
        np.testing.assert_array_equal(stored[name].const.values, values)
    # the unstructured convolution is the codec's: on the DSP kernels expanded per block inside the layer (decode
    # layer) or a blob decoded at init for the int8-weight kernel; portable: a blob decoded before the layer or at init
    assert (codec_kernel if decode == "layer" or kernels == "portable" else "cg_conv2d_dsp_w8_s8") in coded.kernels
    assert coded.weight_bytes < raw.weight_bytes
    if decode == "init" or kernels == "portable":
        assert any(s.blob is not None for s in coded.constants)
    ours = host.compile(graph, cache_dir=build_cache, options=options)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(16)
    for _ in range(6):
        xs = _inputs(graph, OpSpec("x", (), None), rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


@pytest.mark.slow
@pytest.mark.emulator
def test_structured_kernels_with_huffman_on_the_emulated_board_match_tflm(tmp_path, capsys) -> None:  # noqa: ANN001
    """``codegen generate --huffman --decode layer`` of the 2:4-tile model for the emulated STM32F405: the 2:4
    kernels beside the codec's (the unstructured convolution expanded per block), device == TFLM == host C."""
    import json

    from codegen.boards import load_board
    from codegen.cli import main
    from codegen.hil.pytest_plugin import emulator_skip_reason

    reason = emulator_skip_reason(load_board("emulated_stm32f405"))
    if reason:
        pytest.skip(reason)
    model = build(MODELS["2:4-tile"])
    project = tmp_path / "project"
    assert main(["--board", "emulated_stm32f405", "--model", str(model), "--out", str(project), "--huffman",
                 "--decode", "layer"]) == 0
    net = (project / "src" / "net" / "cg_net.c").read_text()
    for kernel in (sparse24.KERNEL, sparse24.FC_KERNEL, "cg_conv2d_dsp_sparse_s8"):
        assert f"{kernel}(" in net
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--model", str(model), "--samples", "10", "--timeout", "60",
               "--no-plots", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0
