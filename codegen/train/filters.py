"""Filter (channel) pruning during fine-tuning: whole output channels of Conv2D / Dense layers become zero.

tfmot's public API has no filter pruning: its schedules decide when and how much, its masks are element- or
2-D-block-wise and computed inside a private class. This is a small Keras callback of our own instead, with the
same schedule shape as tfmot's polynomial decay (:func:`codegen.train.pruning.schedule_steps`).

A pruned filter's kernel column **and** its bias become zero, and so do ``gamma`` and ``beta`` of a
BatchNormalization right after it: the channel then computes exactly 0 before quantization, i.e. the output zero
point after it, which contributes nothing to the next layer. That is what lets the generator's
``remove-pruned-channels`` pass remove the channel from the network (smaller weights and activations).

Only layers whose channels that pass can remove are pruned: those whose output reaches, through per-channel
layers (BatchNormalization, activations, pooling, dropout, flatten, concatenation), only Conv2D or Dense layers;
not a classifier (the model's output). Layers whose outputs are added together (an Add: a residual stream, e.g.
ResNet's stem, the second convolutions and the shortcut convolutions) are pruned as one group: they share one
mask, chosen from their combined filter norms, so a pruned channel is 0 in every input of the Add and hence in
its output, which the pass follows on like any other constant channel.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from codegen.train.pruning import PruneConfig, ramp, schedule_steps
from codegen.train.tfenv import keras

log = logging.getLogger(__name__)

_PASS_THROUGH = ("BatchNormalization", "Activation", "ReLU", "MaxPooling2D", "AveragePooling2D", "Dropout",
                 "Flatten", "Concatenate")


def _readers(layer: Any) -> list[Any]:
    return [node.outbound_layer for node in layer._outbound_nodes]  # noqa: SLF001 - Keras' layer graph


def _mixing(layer: Any) -> bool:
    k = keras()
    return (isinstance(layer, (k.layers.Conv2D, k.layers.Dense)) and not isinstance(layer, k.layers.DepthwiseConv2D)
            and getattr(layer, "groups", 1) == 1)


def _reaches_only_mixing_layers(layer: Any, outputs: set[str], adds: set[str], reshaped: bool = False) -> bool:
    """Whether every path from ``layer``'s output reaches only Conv2D / Dense layers through per-channel layers
    and Adds (recorded in ``adds``; not after a flatten or concatenation, which move the channel)."""
    k = keras()
    readers = _readers(layer)
    if layer.name in outputs or not readers:
        return False
    for r in readers:
        if isinstance(r, k.layers.DepthwiseConv2D):
            return False
        if _mixing(r):
            continue
        kind = r.__class__.__name__
        if kind == "Add":
            if reshaped:
                return False
            if r.name in adds:
                continue
            adds.add(r.name)
        elif kind not in _PASS_THROUGH:
            return False
        if not _reaches_only_mixing_layers(r, outputs, adds, reshaped or kind in ("Flatten", "Concatenate")):
            return False
    return True


def _add_source(layer: Any) -> Any | None:
    """The Conv2D / Dense layer or Add whose channels reach an Add input through ``layer`` unchanged (ReLU-like
    activations, pooling, dropout, the BatchNormalization right after a convolution), or None."""
    while True:
        if _mixing(layer) or layer.__class__.__name__ == "Add":
            return layer
        kind = layer.__class__.__name__
        inbound = layer._inbound_nodes[0].inbound_layers if layer._inbound_nodes else []  # noqa: SLF001
        if kind not in ("BatchNormalization", "Activation", "ReLU", "MaxPooling2D", "AveragePooling2D", "Dropout") \
                or isinstance(inbound, list):
            return None
        if kind == "BatchNormalization" and not (_mixing(inbound) and len(_readers(inbound)) == 1):
            return None  # only the BatchNormalization zeroed with its convolution gives 0
        layer = inbound


def filter_groups(model: Any) -> list[list[tuple[Any, Any | None]]]:
    """Groups of (layer, the BatchNormalization right after it or None) that share one filter mask: one layer, or
    all the layers whose outputs are added together (directly or through other Adds). Only groups whose channels
    the generator can remove are listed (see the module docstring)."""
    k = keras()
    outputs = set(model.output_names)
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    bad: set[str] = set()
    producers = [layer for layer in model.layers if _mixing(layer)]
    for layer in producers:
        adds: set[str] = set()
        if not _reaches_only_mixing_layers(layer, outputs, adds):
            bad.add(layer.name)
        for a in adds:
            union(layer.name, a)
    for layer in model.layers:
        if layer.__class__.__name__ != "Add":
            continue
        for node_input in layer._inbound_nodes[0].inbound_layers:  # noqa: SLF001 - Keras' layer graph
            src = _add_source(node_input)
            if src is None:
                bad.add(layer.name)
            else:
                union(layer.name, src.name)
    groups: dict[str, list[Any]] = {}
    for layer in producers:
        groups.setdefault(find(layer.name), []).append(layer)
    bad_roots = {find(name) for name in bad}
    out = []
    for root, members in groups.items():
        if root in bad_roots or len({int(m.kernel.shape[-1]) for m in members}) != 1:
            continue
        group = []
        for layer in members:
            readers = _readers(layer)
            bn = readers[0] if len(readers) == 1 and isinstance(readers[0], k.layers.BatchNormalization) else None
            group.append((layer, bn))
        out.append(group)
    return out


def filter_prunable(model: Any) -> list[tuple[Any, Any | None]]:
    """(layer, the BatchNormalization right after it or None) for every layer whose filters can be removed."""
    return [member for group in filter_groups(model) for member in group]


class FilterPruning:
    """Magnitude filter pruning: every ``frequency`` steps between ``begin`` and ``end`` each group of prunable
    layers keeps its ``1 - s(step)`` channels of largest L2 norm (filters scaled by the BatchNormalization factor
    that folds into them; the norm over all the group's filters);
    the others (kernel column, bias, BatchNormalization gamma and beta) are zeroed after every training step. Use
    :meth:`callback` as a Keras callback."""

    def __init__(self, model: Any, cfg: PruneConfig, steps: int) -> None:
        self.cfg = cfg
        self.groups = filter_groups(model)
        self.layers = [member for group in self.groups for member in group]
        if not self.layers:
            log.warning("%s has no layer whose filters can be removed; nothing is pruned", model.name)
        else:
            log.info("filter pruning of %s", ", ".join(
                "+".join(layer.name for layer, _ in group) for group in self.groups))
        self.masks = {layer.name: np.ones(int(layer.kernel.shape[-1]), np.float32) for layer, _ in self.layers}
        self.begin, self.end, self.frequency = schedule_steps(cfg, steps)
        self.step = 0

    def target_at(self, step: int) -> float:
        return ramp(step, self.begin, self.end, self.cfg.schedule == "constant", self.cfg.initial, self.cfg.target)

    def scores(self, layer: Any, bn: Any | None) -> np.ndarray:
        w = layer.kernel.numpy()
        norms = np.sqrt((w.reshape(-1, w.shape[-1]) ** 2).sum(axis=0))
        if bn is not None:
            gamma = bn.gamma.numpy() if bn.scale else np.ones_like(norms)
            norms = norms * np.abs(gamma) / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
        return norms * self.masks[layer.name]  # pruned filters stay pruned

    def update_masks(self, target: float) -> None:
        for group in self.groups:
            # a group's members are added together: a channel's weight is the norm of all its filters
            s = np.sqrt(sum(self.scores(layer, bn) ** 2 for layer, bn in group))
            keep = max(1, s.size - math.floor(target * s.size + 1e-9))
            mask = np.zeros(s.size, np.float32)
            mask[np.argsort(-s, kind="stable")[:keep]] = 1.0
            for layer, _ in group:
                self.masks[layer.name] = mask
        self.apply()

    def apply(self) -> None:
        for layer, bn in self.layers:
            mask = self.masks[layer.name]
            layer.kernel.assign(layer.kernel.numpy() * mask)
            if layer.use_bias:
                layer.bias.assign(layer.bias.numpy() * mask)
            if bn is not None:
                for var in (bn.gamma if bn.scale else None, bn.beta if bn.center else None):
                    if var is not None:
                        var.assign(var.numpy() * mask)

    def callback(self) -> Any:
        outer = self

        class _Callback(keras().callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                s = outer.step
                outer.step += 1
                due = outer.begin <= s <= outer.end and (s - outer.begin) % outer.frequency == 0
                if due:
                    outer.update_masks(outer.target_at(s))
                else:
                    outer.apply()

            def on_train_end(self, logs: Any = None) -> None:
                if outer.step <= outer.end:  # stopped before the ramp ended: jump to the target
                    outer.update_masks(outer.cfg.target)
                else:
                    outer.apply()

        return _Callback()
