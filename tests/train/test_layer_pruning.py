"""``--prune-structure 2:4-layer``'s mask (codegen/train/tiles.py): the two kept positions of every group of 4
steps of TFLite's flattened filter (KH x KW x I, no row padding) are shared by all output channels of a
convolution, single-channel ones included; Dense layers stay tile-wise (blocks of 4 units). Expected masks are
computed by hand; the end-to-end run is in test_tile_pruning.py."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.errors import CodegenError
from codegen.train.pruning import PruneConfig
from codegen.train.tiles import tile_mask


def _layer(kernel: np.ndarray, share: float = 1.0, keep: np.ndarray | None = None) -> np.ndarray:
    return tile_mask(kernel, share, keep, block=None, flat=True)


def _used(kernel: np.ndarray) -> np.ndarray:
    """[group, position]: whether any output channel uses the flattened step (OHWI's columns, end padded to 4)."""
    flat = kernel.reshape(-1, kernel.shape[-1]) != 0
    padded = np.zeros((-(-flat.shape[0] // 4) * 4, flat.shape[1]), dtype=bool)
    padded[: flat.shape[0]] = flat
    return padded.any(axis=1).reshape(-1, 4)


def test_hand_computed_mask_is_shared_by_all_output_channels_with_a_partial_tail() -> None:
    w = np.zeros((1, 7, 1, 2))
    w[0, :, 0, 0] = [4, -1, 0, 3, 2, -5, 1]
    w[0, :, 0, 1] = [0, 1, -5, 0, 1, 0, 1]  # |w| summed over channels: (4, 2, 5, 3), (3, 5, 2 | pad)
    mask = _layer(w)
    # group 0 keeps steps 0 and 2 (channel 0 alone would keep 0 and 3), the 3-step tail keeps 4 and 5
    assert mask[0, :, 0, 0].tolist() == [1, 0, 1, 0, 1, 1, 0]
    assert mask[0, :, 0, 1].tolist() == [1, 0, 1, 0, 1, 1, 0]


def test_groups_run_along_the_flattened_filter_without_row_padding() -> None:
    w = np.ones((2, 1, 3, 2))  # rows of 3 steps: 2:4-tile groups each row, 2:4-layer the 6 steps (4 + a tail of 2)
    w[0, 0, 1] = 5
    w[1, 0, 0] = 4
    assert _layer(w)[:, 0, :, 0].tolist() == [[0, 1, 0], [1, 1, 1]]  # the tail of 2 real steps kept whole
    assert tile_mask(w)[:, 0, :, 0].tolist() == [[1, 1, 0], [1, 1, 0]]  # tile-wise: 2 kept in each row


def test_single_channel_convolution_is_pruned() -> None:
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 3, 1, 5))  # 9 steps: two groups of 4 keep 2 each, the last step is kept
    mask = _layer(w)
    assert (mask.reshape(9, 5).sum(axis=0) == 5).all()
    assert mask.reshape(9, 5)[8].all()
    assert (_used(w * mask).sum(axis=1) == [2, 2, 1]).all()


@pytest.mark.parametrize("shape", [(3, 3, 5, 7), (5, 5, 6, 16), (1, 1, 8, 3), (3, 3, 3, 9)])
def test_every_group_keeps_at_most_two_positions_for_all_channels(shape: tuple[int, ...]) -> None:
    w = np.random.default_rng(sum(shape)).normal(size=shape)
    mask = _layer(w)
    flat = mask.reshape(-1, shape[-1])
    assert (flat == flat[:, :1]).all()  # the same pattern in every output channel
    used = _used(w * mask)
    assert used.sum(axis=1).max() <= 2
    steps = flat.shape[0]
    assert int(flat[:, 0].sum()) == 2 * (steps // 4) + (min(steps % 4, 2) if steps % 4 else 0)


def test_a_share_prunes_the_groups_that_lose_least_and_keeps_pruned_groups_pruned() -> None:
    w = np.ones((1, 1, 12, 3))
    w[0, 0, 4:8] = 10  # the middle group loses most: left dense at share 2/3
    half = _layer(w, 2 / 3)
    used = _used(half)
    assert used.sum(axis=1).tolist() == [2, 4, 2]
    w[0, 0, :4] = 100  # now the first group is the heaviest, but it was pruned already
    assert _used(_layer(w, 2 / 3, half)).sum(axis=1).tolist() == [2, 4, 2]
    assert _used(_layer(w, 1.0, half)).sum(axis=1).tolist() == [2, 2, 2]


def test_layer_pruning_masks_convolutions_layer_wide_and_dense_layers_tile_wise() -> None:
    from codegen.train.tfenv import keras
    from codegen.train.tiles import TilePruning

    k = keras()
    model = k.Sequential([
        k.layers.Input((8, 8, 1)),
        k.layers.Conv2D(6, 3, name="first"),  # one input channel: pruned by 2:4-layer, not 2:4-tile
        k.layers.DepthwiseConv2D(3, name="dw"),
        k.layers.Flatten(),
        k.layers.Dense(8, name="fc"),
    ])
    layer = TilePruning(model, PruneConfig(target=0.5, structure="2:4-layer"), steps=10)
    tile = TilePruning(model, PruneConfig(target=0.5, structure="2:4-tile"), steps=10)
    assert [x.name for x in layer.layers] == ["first", "fc"]
    assert [x.name for x in tile.layers] == ["fc"]
    layer.update_masks(1.0)
    first = model.get_layer("first").kernel.numpy()
    assert _used(first).sum(axis=1).tolist() == [2, 2, 1]
    fc = model.get_layer("fc").kernel.numpy() != 0  # [96, 8]: per block of 4 units, <= 2 per group of 4 inputs
    assert fc.shape == (96, 8)
    assert fc.reshape(24, 4, 2, 4).any(axis=3).sum(axis=1).max() == 2
    assert fc.reshape(24, 4, 8).any(axis=2).sum(axis=1).max() > 2  # not shared by all 8 units


def test_layer_pruning_is_half_by_construction() -> None:
    with pytest.raises(CodegenError):
        PruneConfig(target=0.7, structure="2:4-layer")
