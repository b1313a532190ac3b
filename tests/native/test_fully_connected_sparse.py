"""cg_fully_connected_sparse_s8 (issue #16): fully connected weights stored as 16-bit masks per block of 4 units
and group of 4 inputs plus the non-zero weights, read in place with ``--huffman``. The generated network
computes TFLM's integers at several sparsities (0 % with the layout forced, 50 %, 75 %, all-zero units and an
input that no unit reads), depths that are no multiple of 4 (the kernel's tail group) and unit counts that are
no multiple of 4 (a partial block); on the emulated Cortex-M4 (its Thumb-2 loop) too. A layout whose masks
point beyond the array is refused by the bounds proof."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.bounds import BoundsError
from codegen.backend.native.lower import stream as streamed
from codegen.compress.codec import HuffmanCodec
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build

# name -> (depth, units, share of zero weights)
CASES = {
    "dense_forced": (64, 8, 0.0),
    "half_odd": (150, 13, 0.5),
    "quarter_tiny": (7, 5, 0.75),
    "half_deep": (401, 6, 0.5),
    "fifth": (150, 12, 0.2),  # too dense for 0.8x the int8 bytes; chosen over the Huffman-streamed kernel
}


def _weights(name: str) -> np.ndarray:
    """[depth, units] (Keras's kernel): the case's share of zeros, unit 1 all zero, input 2 read by no unit."""
    depth, units, zeros = CASES[name]
    rng = np.random.default_rng(len(name))
    w = rng.normal(0.0, 0.5, (depth, units)) * (rng.random((depth, units)) >= zeros)
    w[w == 0.0] = 0.0
    if zeros > 0:
        w[:, 1] = 0.0
        w[2, :] = 0.0
    w[0, 0] = 1.0  # the per-channel scale of unit 0 sees its largest weight
    if zeros == 0:
        w[w == 0.0] = 0.3
    return w


def _spec(name: str) -> OpSpec:
    depth, units, _ = CASES[name]

    def init(shape, dtype=None):  # noqa: ANN001, ANN202
        import tensorflow as tf

        return tf.constant(_weights(name).astype(np.float32), dtype=dtype or tf.float32)

    return OpSpec(
        f"fc_sparse_{name}",
        ((depth,),),
        lambda K, x: K.layers.Dense(units, kernel_initializer=init, bias_initializer="glorot_uniform")(x[0]),
        key=f"fc-sparse-{name}-v1",
    )


def _compile(name: str, build_cache: Path):  # noqa: ANN202
    path = build(_spec(name))
    graph = parse_tflite(path.read_bytes(), name="fc", source=str(path))
    options = NativeOptions(codec=HuffmanCodec(), decode="layer", kernels="dsp")
    return path, graph, host.compile(graph, cache_dir=build_cache, options=options)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_fully_connected_matches_tflm(
    case: str, build_cache, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    if CASES[case][2] == 0.0:
        monkeypatch.setattr(streamed, "SPARSE_MAX_SHARE", 2.0)  # the layout for dense weights too
    path, graph, ours = _compile(case, build_cache)
    assert "cg_fully_connected_sparse_s8" in ours.sources.kernels
    assert ours.sources.decoded_bytes == 0
    depth, units, zeros = CASES[case]
    filt = next(c for c in ours.sources.constants if c.const.name.endswith("_filter"))
    blocks, groups = -(-units // 4), -(-depth // 4)
    weights = next(t.data for t in graph.tensors if t.data is not None and tuple(t.shape) == (units, depth))
    nonzero = int(np.count_nonzero(weights))
    assert filt.stored_bytes == 2 * blocks * groups + nonzero  # masks and the non-zero weights, nothing else
    if zeros > 0:
        assert nonzero <= (1.0 - zeros / 2) * units * depth
    ref = ReferenceModel(path)
    rng = np.random.default_rng(5)
    xs = [np.full(depth, -128), np.full(depth, 127), *rng.integers(-128, 128, size=(6, depth))]
    for x in xs:
        x = x.astype(np.int8).reshape(graph.input_tensors[0].shape)
        mine, theirs = ours.predict([x]), ref.predict([x])
        np.testing.assert_array_equal(mine[0], np.asarray(theirs[0]).reshape(mine[0].shape))


def test_fewer_zeros_go_sparse_only_instead_of_the_huffman_streamed_kernel(build_cache) -> None:  # noqa: ANN001
    """20 % zeros: the sparse layout (0.91x the int8 bytes) is within 1.15x of the Huffman blob, so with
    ``--decode layer`` it replaces the Huffman-streamed kernel; decoded at init the layer keeps a dense kernel."""
    path = build(_spec("fifth"))
    graph = parse_tflite(path.read_bytes(), name="fc", source=str(path))
    options = NativeOptions(codec=HuffmanCodec(), decode="init", kernels="dsp")
    sources = generate(graph, options=options)
    assert "cg_fully_connected_sparse_s8" not in sources.kernels
    assert sources.decode == "init" and sources.decoded_bytes > 0  # the Huffman blob, decoded for a dense kernel


def test_sparse_layout_matches_the_documented_format() -> None:
    """Worked by hand: 2 units (one block, padded to 4), 6 inputs (two groups, the second padded)."""
    w = np.array([[0, 3, 0, 0, 0, -1], [5, 0, 0, -2, 0, 0]], dtype=np.int8)
    # group 0: unit 0 input 1 (bit 1), unit 1 inputs 0 and 3 (bits 4 and 7); group 1: unit 0 input 1 (bit 1)
    expected = [0x92, 0x00, 3, 5, 0xFE, 0x02, 0x00, 0xFF]
    assert streamed.sparse_rows(w).tolist() == expected
    assert streamed.sparse_read_bytes(np.array(expected, dtype=np.uint8), 2, 6) == len(expected)


@pytest.mark.parametrize("damage", ["mask", "short"])
def test_a_damaged_layout_is_refused_by_the_bounds_proof(damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = build(_spec("half_odd"))
    graph = parse_tflite(path.read_bytes(), name="fc", source=str(path))
    options = NativeOptions(codec=HuffmanCodec(), decode="layer", kernels="dsp")
    generate(graph, options=options)  # as generated: proven
    layout = streamed.sparse_rows

    def damaged(weights: np.ndarray) -> np.ndarray:
        values = layout(weights)
        if damage == "mask":
            values[:2] = 0xFF  # the first record claims all 16 weights: the walk runs past the end
            return values
        return values[:-1]

    monkeypatch.setattr(streamed, "sparse_rows", damaged)
    with pytest.raises(BoundsError, match="cg_fully_connected_sparse_s8 would read"):
        generate(graph, options=options)


@pytest.mark.slow
@pytest.mark.emulator
def test_sparse_fully_connected_on_the_emulated_board_matches_tflm(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from codegen.boards import load_board
    from codegen.cli import main
    from codegen.hil.pytest_plugin import emulator_skip_reason

    board = load_board("emulated_stm32f405")
    reason = emulator_skip_reason(board)
    if reason:
        pytest.skip(reason)
    model = build(_spec("half_odd"))
    project = tmp_path / "sparse"
    assert main(["generate", "--board", board.name, "--model", str(model), "--huffman", "--out", str(project)]) == 0
    assert "cg_fully_connected_sparse_s8(" in (project / "src" / "net" / "cg_net.c").read_text()
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--model", str(model), "--samples", "20", "--timeout", "60",
               "--no-plots", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0
