"""``codegen train --prune-structure 2:4-tile``: every tile (4 steps of a kernel row x a block of 4 output
channels) keeps the same two positions in the int8 model TensorFlow Lite reads, and generation picks the 2:4 kernels;
``2:4-layer``: every group of 4 steps of a convolution's flattened filter keeps the same two positions in all its
output channels (the first, single-channel convolution too), fully connected layers tile-wise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codegen.errors import EXIT_USAGE
from tests.train.conftest import run
from tests.train.test_structured_pruning import _filters

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")


def _tiles_used(w: np.ndarray, block: int) -> np.ndarray:
    """[block, group]: how many of the 4 positions of each group of 4 columns of ``w`` ([units, depth], depth
    zero-padded to a multiple of 4) some unit of each block of ``block`` units uses."""
    units, depth = w.shape
    padded = np.zeros((-(-units // block) * block, -(-depth // 4) * 4), dtype=bool)
    padded[:units, :depth] = w != 0
    return padded.reshape(-1, block, padded.shape[1] // 4, 4).any(axis=1).sum(axis=2)


@pytest.mark.parametrize("structure", ["2:4-tile", "2:4-layer"])
def test_tile_pruning_shares_the_kept_positions(structure: str, tmp_path: Path) -> None:
    from codegen.backend.native import NativeOptions, generate
    from codegen.frontend.tflite import parse_tflite
    from codegen.train.datasets import Preprocess, Subset
    from codegen.train.pipeline import TrainConfig, train
    from codegen.train.pruning import PruneConfig

    cfg = TrainConfig(
        model="lenet5", dataset="digits", preprocess=Preprocess(size=(16, 16), channels=1),
        subset=Subset(train=320, test=64, seed=0), epochs=2, finetune_epochs=2, seed=0,
        prune=PruneConfig(target=0.5, structure=structure), variants=("int8", "pruned_int8"), out_dir=tmp_path,
    )
    result = train(cfg)
    pruned = next(v for v in result.variants if v.name == "pruned_int8")
    buf = pruned.path.read_bytes()
    filters = _filters(buf)
    fcs = filters[2:]
    assert [w.shape for w in fcs] == [(120, 256), (84, 120), (10, 84)]
    for w in fcs:  # [units, depth]: per block of 4 units and group of 4 inputs, at most 2 positions used
        assert _tiles_used(w, 4).max() <= 2
        assert np.count_nonzero(w) >= 0.4 * w.size
    conv = filters[1]
    assert conv.shape[1:] == (5, 5, 6)
    if structure == "2:4-tile":
        # the second convolution reads 6 channels: tiles run along each kernel row's 5 x 6 = 30 steps (im2col
        # order, OHWI), padded to 32 like the DSP kernels' rows, so groups straddle taps; the first (1 channel)
        # stays dense
        steps = np.zeros((conv.shape[0], 5, 32), dtype=conv.dtype)
        steps[:, :, :30] = conv.reshape(conv.shape[0], 5, 30)
        assert _tiles_used(steps.reshape(conv.shape[0], -1), 4).max() <= 2
        assert np.count_nonzero(conv) >= 0.4 * conv.size
        assert np.count_nonzero(filters[0]) > 0.9 * filters[0].size
    else:
        # both convolutions: groups of 4 along the flattened OHWI filter (25 and 150 steps, no row padding),
        # the same <= 2 positions in all 6 / 16 output channels; the tail (1 and 2 steps) is kept
        for w, tail in zip(filters[:2], (1, 2), strict=True):
            flat = w.reshape(w.shape[0], -1)
            used = _tiles_used(flat, w.shape[0])[0]
            assert used[:-1].max() <= 2 and used[-1] <= tail
            assert np.count_nonzero(w) >= 0.4 * w.size
            assert (flat != 0).any(axis=0).sum() <= 2 * (flat.shape[1] // 4) + tail
    assert np.count_nonzero(conv) <= 0.55 * conv.size
    assert pruned.accuracy > (0.3 if structure == "2:4-tile" else 0.2)  # chance: 0.1; the coarser pattern loses more
    kernels = generate(parse_tflite(buf), options=NativeOptions(kernels="dsp")).kernels
    assert "cg_fully_connected_dsp_24_s8" in kernels
    if structure == "2:4-tile":
        assert {"cg_conv2d_dsp_24_s8", "cg_conv2d_dsp_24r_s8"} & set(kernels)
    else:
        assert "cg_conv2d_dsp_cols_s8" in kernels
    # the report shows the flash the board holds: the structured streams store only the kept weights, so the pruned
    # variant takes less flash than the dense one (whose DSP convolution weights are widened to 16 bits); the
    # Markdown carries the same figures
    dense = next(v for v in result.variants if v.name == "int8")
    assert pruned.deployed_flash is not None and dense.deployed_flash is not None
    assert pruned.deployed_flash < 0.75 * dense.deployed_flash
    assert pruned.deployed_ram is not None and dense.deployed_ram is not None
    report = (tmp_path / f"{cfg.prefix}_report.md").read_text()
    assert f"| {pruned.deployed_flash:,} | {pruned.deployed_ram:,} |" in report


def test_tile_pruning_is_half_by_construction(tmp_path: Path) -> None:
    argv = ["train", "--model", "lenet5", "--out", str(tmp_path), "--prune-structure", "2:4-tile", "--prune", "0.7"]
    assert run(argv) == EXIT_USAGE
    assert not list(tmp_path.iterdir())
