"""Tile-wise 2:4 pruning during fine-tuning (``--prune-structure 2:4-tile``, issue #16).

tfmot's 2:4 (``sparsity_m_by_n``) chooses the two kept weights of every group of four input channels for each
output channel on its own, which a Cortex-M4 cannot exploit: the pixel-pair loop computes four output channels
at once from one pair of activations. Here the two kept positions of a group are shared by each block of four
consecutive output channels (a "tile": one group of four input channels x one block of four output channels,
at one kernel tap). Every row is still 2:4, so TFLite and tfmot see a 2:4 model, and the generator's
``cg_conv2d_dsp_24_s8`` multiplies only the kept pairs (codegen/backend/native/lower/sparse24.py).

Like :mod:`codegen.train.filters`: a Keras callback holds a mask per prunable layer and re-applies it after every
training step. The mask of a tile keeps the two positions with the largest weight magnitude summed over the
block; the share of pruned tiles ramps up with tfmot's polynomial-decay shape (tiles whose dropped magnitude is
smallest go first) and reaches all tiles at the end of the schedule. Prunable: Conv2D and Dense layers whose
input channels are a multiple of four (not depthwise; the last block of output channels may be partial).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from codegen.train.pruning import PruneConfig, m_by_n_prunable, schedule_steps
from codegen.train.tfenv import keras

log = logging.getLogger(__name__)

BLOCK = 4  # output channels sharing the kept positions (the DSP kernels' block)


def tile_mask(kernel: np.ndarray, share: float = 1.0, keep: np.ndarray | None = None) -> np.ndarray:
    """The 0/1 mask of a Keras kernel ([..., in, out], in % 4 == 0) that prunes the ``share`` of its tiles whose two
    smallest summed magnitudes are smallest, keeping the two largest positions of each pruned tile; tiles already
    pruned in ``keep`` (a previous mask) stay pruned.

    >>> w = np.zeros((4, 4)); w[:, 0] = [1, 5, 2, 6]; w[:, 1] = 1
    >>> tile_mask(w)[:, 0].tolist()  # positions 1 and 3 of the group have the largest block sums
    [0.0, 1.0, 0.0, 1.0]
    """
    *lead, cin, cout = kernel.shape
    taps = int(np.prod(lead)) if lead else 1
    blocks = -(-cout // BLOCK)
    mag = np.zeros((taps, cin // 4, 4, blocks * BLOCK))
    mag[..., :cout] = np.abs(kernel.reshape(taps, cin // 4, 4, cout))
    tile = mag.reshape(taps, cin // 4, 4, blocks, BLOCK).sum(axis=4)  # [tap, group, position, block]
    order = np.sort(tile, axis=2)
    dropped = order[:, :, 0] + order[:, :, 1]  # [tap, group, block]
    top2 = np.argsort(-tile, axis=2, kind="stable")[:, :, :2]  # [tap, group, 2, block]
    kept = np.zeros_like(tile, dtype=bool)
    np.put_along_axis(kept, top2, True, axis=2)
    if keep is not None:
        was = keep.reshape(taps, cin // 4, 4, cout)
        pad = np.ones((taps, cin // 4, 4, blocks * BLOCK))
        pad[..., :cout] = was
        already = (pad.reshape(taps, cin // 4, 4, blocks, BLOCK).min(axis=4) == 0).any(axis=2)
    else:
        already = np.zeros_like(dropped, dtype=bool)
    n = dropped.size
    count = max(int(already.sum()), int(np.floor(share * n + 1e-9)))
    score = np.where(already, -np.inf, dropped).reshape(-1)
    pruned = np.zeros(n, dtype=bool)
    pruned[np.argsort(score, kind="stable")[:count]] = True
    pruned = pruned.reshape(dropped.shape)
    mask_tile = np.where(pruned[:, :, None, :], kept, True)  # [tap, group, position, block]
    mask = np.repeat(mask_tile, BLOCK, axis=3)[..., :cout]
    return mask.reshape(kernel.shape).astype(np.float32)


class TilePruning:
    """Tile-wise 2:4 magnitude pruning of every prunable layer; use :meth:`callback` as a Keras callback."""

    def __init__(self, model: Any, cfg: PruneConfig, steps: int) -> None:
        self.cfg = cfg
        self.layers = [layer for layer in model.layers if m_by_n_prunable(layer)]
        if not self.layers:
            log.warning("%s has no Conv2D/Dense layer with a multiple of 4 input channels; nothing is pruned",
                        model.name)
        else:
            log.info("tile-wise 2:4 pruning of %s (other layers stay dense)",
                     ", ".join(layer.name for layer in self.layers))
        self.masks = {layer.name: np.ones(layer.kernel.shape, np.float32) for layer in self.layers}
        self.begin, self.end, self.frequency = schedule_steps(cfg, steps)
        self.step = 0

    def share_at(self, step: int) -> float:
        """Share of the tiles pruned at ``step`` (0 before the schedule, all at its end)."""
        if step < self.begin:
            return 0.0
        if self.cfg.schedule == "constant":
            return 1.0
        frac = min(1.0, (step - self.begin) / max(1, self.end - self.begin))
        return 1.0 - (1.0 - frac) ** 3

    def update_masks(self, share: float) -> None:
        for layer in self.layers:
            self.masks[layer.name] = tile_mask(layer.kernel.numpy(), share, self.masks[layer.name])
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
