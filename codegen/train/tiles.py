"""Tile-wise and layer-wise 2:4 pruning during fine-tuning (``--prune-structure 2:4-tile`` / ``2:4-layer``,
issue #16).

tfmot's 2:4 (``sparsity_m_by_n``) chooses the two kept weights of every group of four input channels for each
output channel on its own, which a Cortex-M4 cannot exploit: the pixel-pair loop computes four output channels
at once from one pair of activations. Here the two kept positions of a group are shared by each block of four
consecutive output channels (a "tile": one group of four consecutive steps of a kernel row in the im2col order
(kernel column, input channel), rows padded to a multiple of four like the kernels' rows, x one block of four
output channels; with a multiple of four input channels that is four input channels at one kernel tap, and every
row is 2:4 as TFLite and tfmot define it). The generator's
``cg_conv2d_dsp_24_s8`` multiplies only the kept pairs (codegen/backend/native/lower/sparse24.py).

``2:4-layer`` shares the kept positions of a group by *all* output channels of a convolution, and its groups run
along TFLite's flattened filter (OHWI's KH x KW x I steps, the Keras kernel as [KH * KW * I, O]) without row
padding, single-channel convolutions included: half of the im2col columns are then unused by every filter, and a
column-sparse kernel gathers only the other half. Dense layers keep the tile-wise blocks of four units (the 2:4
fully connected kernel's layout). A coarser pattern than 2:4-tile (more accuracy lost at the same 50 %), for
faster kernels.

Like :mod:`codegen.train.filters`: a Keras callback holds a mask per prunable layer and re-applies it after every
training step. The mask of a tile keeps the two positions with the largest weight magnitude summed over the
block; the share of pruned tiles ramps up with tfmot's polynomial-decay shape (tiles whose dropped magnitude is
smallest go first) and reaches all tiles at the end of the schedule. Prunable: Dense layers and Conv2D layers
(not depthwise; the last block of output channels may be partial) reading more than one channel, or any
number of channels with ``2:4-layer``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from codegen.train.pruning import PruneConfig, ramp, schedule_steps
from codegen.train.tfenv import keras

log = logging.getLogger(__name__)

BLOCK = 4  # output channels sharing the kept positions (the DSP kernels' block)


def tile_prunable(layer: Any, layer_wide: bool = False) -> bool:
    """A layer tile-wise 2:4 pruning applies to: Dense, or Conv2D (not depthwise) reading more than one channel.
    Single-channel convolutions (a model's first layer on grey images) have their own kernel and stay dense,
    except with ``layer_wide`` (2:4-layer: the column-sparse kernel serves them too)."""
    k = keras()
    if isinstance(layer, k.layers.DepthwiseConv2D) or not isinstance(layer, (k.layers.Conv2D, k.layers.Dense)):
        return False
    return isinstance(layer, k.layers.Dense) or layer_wide or int(layer.kernel.shape[-2]) > 1


def _layer_wide(layer: Any, layer_wide: bool) -> bool:
    """Whether ``layer`` takes the 2:4-layer mask (Conv2D under ``layer_wide``); Dense layers stay tile-wise."""
    return layer_wide and not isinstance(layer, keras().layers.Dense)


def _rows(kernel: np.ndarray, flat: bool = False) -> tuple[int, int, int]:
    """(kernel rows, steps per row, steps per row padded to 4) of a Keras kernel ([KH, KW, I, O] or [I, O]): the
    layout the DSP kernels multiply (``lower/conv.py: pad_kernel_rows``), each kernel row's KW * I steps
    zero-padded to a multiple of 4; with ``flat`` one row of all KH * KW * I steps (TFLite's flattened filter)."""
    if kernel.ndim == 2 or flat:
        steps, rows = int(np.prod(kernel.shape[:-1])), 1
    else:
        steps, rows = int(np.prod(kernel.shape[1:-1])), kernel.shape[0]
    return rows, steps, -(-steps // 4) * 4


def tile_mask(kernel: np.ndarray, share: float = 1.0, keep: np.ndarray | None = None, block: int | None = BLOCK,
              flat: bool = False) -> np.ndarray:
    """The 0/1 mask of a Keras kernel that prunes the ``share`` of its tiles whose two smallest summed magnitudes
    are smallest, keeping the two largest positions of each pruned tile; tiles already pruned in ``keep`` (a
    previous mask) stay pruned.

    A tile is one group of 4 consecutive steps of a kernel row (KW x I flattened, the im2col order, padded to a
    multiple of 4 like the kernels' rows) x one block of ``block`` output channels (None: all of them): with a
    multiple of 4 input channels, 4 input channels at one kernel tap. With ``flat`` the groups run along the
    whole flattened filter (KH x KW x I, TFLite's OHWI order) and only its end is padded. A group with at most
    two real steps (the tail of an odd row) needs no pruning.

    >>> w = np.zeros((4, 4)); w[:, 0] = [1, 5, 2, 6]; w[:, 1] = 1
    >>> tile_mask(w)[:, 0].tolist()  # positions 1 and 3 of the group have the largest block sums
    [0.0, 1.0, 0.0, 1.0]
    >>> w = np.ones((1, 3, 2, 4)); w[0, 1, 0] = 9; w[0, 2, 1] = 7  # row of 6 steps: (1, 1, 9, 1), (1, 7 | pad)
    >>> tile_mask(w)[0, :, :, 0].tolist()  # the first group keeps steps 0 and 2, the tail keeps both
    [[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
    >>> w = np.ones((2, 1, 3, 2)); w[0, 0, :2] = [[1, 2], [5, 0]]; w[1, 0, ::2] = [[0, 4], [1, 2]]
    >>> w.reshape(6, 2).sum(axis=1).tolist()  # summed over the output channels: groups (3, 5, 2, 4), (2, 3 | pad)
    [3.0, 5.0, 2.0, 4.0, 2.0, 3.0]
    >>> tile_mask(w, block=None, flat=True)[:, 0, :, 1].tolist()  # all channels keep steps 1 and 3; tail whole
    [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    >>> tile_mask(w)[:, 0, :, 1].tolist()  # 2:4-tile: each kernel row's 3 steps (3, 5, 2), (4, 2, 3) a group
    [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    """
    cout = kernel.shape[-1]
    rows, steps, padded = _rows(kernel, flat)
    size = cout if block is None else block  # output channels sharing a tile's kept positions
    blocks = -(-cout // size)
    groups = padded // 4
    real = np.zeros((rows, padded, blocks * size), dtype=bool)
    real[:, :steps, :cout] = True
    mag = np.zeros((rows, padded, blocks * size))
    mag[:, :steps, :cout] = np.abs(kernel.reshape(rows, steps, cout))
    tile = mag.reshape(rows, groups, 4, blocks, size).sum(axis=4)  # [row, group, position, block]
    tile = np.where(real.reshape(rows, groups, 4, blocks, size)[..., 0], tile, -1.0)  # padding: never kept
    order = np.sort(tile, axis=2)
    dropped = order[:, :, 0] + order[:, :, 1]  # [row, group, block]
    trivial = np.broadcast_to((order[:, :, 1] < 0), dropped.shape)  # at most two real steps
    top2 = np.argsort(-tile, axis=2, kind="stable")[:, :, :2]  # [row, group, 2, block]
    kept = np.zeros_like(tile, dtype=bool)
    np.put_along_axis(kept, top2, True, axis=2)
    if keep is not None:
        pad = np.ones((rows, padded, blocks * size))
        pad[:, :steps, :cout] = keep.reshape(rows, steps, cout)
        already = (pad.reshape(rows, groups, 4, blocks, size).min(axis=4) == 0).any(axis=2)
    else:
        already = np.zeros_like(dropped, dtype=bool)
    n = int((~trivial).sum())
    count = int(trivial.sum()) + max(int((already & ~trivial).sum()), int(np.floor(share * n + 1e-9)))
    score = np.where(trivial, -np.inf, np.where(already, -1e300, dropped)).reshape(-1)
    pruned = np.zeros(score.size, dtype=bool)
    pruned[np.argsort(score, kind="stable")[:count]] = True
    pruned = pruned.reshape(dropped.shape)
    mask_tile = np.where(pruned[:, :, None, :], kept, True)  # [row, group, position, block]
    mask = np.repeat(mask_tile, size, axis=3)[..., :cout].reshape(rows, padded, cout)[:, :steps]
    return mask.reshape(kernel.shape).astype(np.float32)


class TilePruning:
    """Tile-wise (or, for ``cfg.structure == "2:4-layer"``, layer-wise) 2:4 magnitude pruning of every prunable
    layer; use :meth:`callback` as a Keras callback."""

    def __init__(self, model: Any, cfg: PruneConfig, steps: int) -> None:
        self.cfg = cfg
        self.layer_wide = cfg.structure == "2:4-layer"
        self.layers = [layer for layer in model.layers if tile_prunable(layer, self.layer_wide)]
        what = "layer-wise" if self.layer_wide else "tile-wise"
        if not self.layers:
            log.warning("%s has no Dense or %sConv2D layer; nothing is pruned", model.name,
                        "" if self.layer_wide else "multi-channel ")
        else:
            log.info("%s 2:4 pruning of %s (other layers stay dense)", what,
                     ", ".join(layer.name for layer in self.layers))
        self.masks = {layer.name: np.ones(layer.kernel.shape, np.float32) for layer in self.layers}
        self.begin, self.end, self.frequency = schedule_steps(cfg, steps)
        self.step = 0

    def share_at(self, step: int) -> float:
        """Share of the tiles pruned at ``step`` (0 before the schedule, all at its end)."""
        return ramp(step, self.begin, self.end, self.cfg.schedule == "constant", 0.0, 1.0)

    def update_masks(self, share: float) -> None:
        for layer in self.layers:
            wide = _layer_wide(layer, self.layer_wide)
            self.masks[layer.name] = tile_mask(layer.kernel.numpy(), share, self.masks[layer.name],
                                               block=None if wide else BLOCK, flat=wide)
        self.apply()

    def apply(self) -> None:
        for layer in self.layers:
            layer.kernel.assign(layer.kernel.numpy() * self.masks[layer.name])

    def callback(self) -> Any:
        outer = self

        class _Callback(keras().callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                s = outer.step
                outer.step += 1
                if outer.begin <= s <= outer.end and (s - outer.begin) % outer.frequency == 0:
                    outer.update_masks(outer.share_at(s))
                else:
                    outer.apply()

            def on_train_end(self, logs: Any = None) -> None:
                outer.update_masks(1.0)  # every tile pruned, whatever the schedule reached

        return _Callback()
