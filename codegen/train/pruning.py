"""Pruning during training and quantization-aware training that keeps the sparsity.

* Magnitude pruning (tensorflow-model-optimization ``prune_low_magnitude``) with a constant or
  polynomial-decay schedule; ``scope="layer"`` gives every layer the target sparsity, ``scope="global"`` ranks
  all weights of the trained model together and gives each layer the share that falls under one global
  magnitude threshold.
* Gradient-based pruning: saliency ``|w * dL/dw|`` accumulated over a few batches, recomputed on a schedule
  during training (:class:`SaliencyPruning` callback), masks re-applied after every step.
* Structured pruning (``structure``): tfmot's 2:4 pruning (``sparsity_m_by_n=(2, 4)``: two zeros in every four
  consecutive input-channel weights), tile- or layer-wise 2:4 (:mod:`codegen.train.tiles`: the kept positions shared
  by output channels) or filter pruning (:mod:`codegen.train.filters`: whole output channels, which
  the ``remove-pruned-channels`` pass then removes from the generated network).
* QAT (``tfmot.quantization.keras.quantize_model``) and pruning-preserving QAT (collaborative optimization,
  ``Default8BitPrunePreserveQuantizeScheme``) so that zeros survive into the int8 model.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from codegen.errors import CodegenError
from codegen.train.tfenv import keras, tf, tfmot

log = logging.getLogger(__name__)

SCHEDULES = ("constant", "polynomial")
METHODS = ("magnitude", "gradient")
SCOPES = ("layer", "global")
STRUCTURES = ("unstructured", "2:4", "2:4-tile", "2:4-layer", "channel")
MAX_LAYER_SPARSITY = 0.98


@dataclass(frozen=True)
class PruneConfig:
    """target: final share of zero weights in prunable (conv, depthwise, dense) kernels."""

    target: float
    method: str = "magnitude"
    schedule: str = "polynomial"
    scope: str = "layer"
    begin_step: int = 0
    end_step: int | None = None  # None: 70 % of the fine-tuning steps
    frequency: int = 20
    initial: float = 0.0
    # or "2:4" (tfmot m-by-n), "2:4-tile" / "2:4-layer" (tiles.py) or "channel" (whole filters)
    structure: str = "unstructured"

    def __post_init__(self) -> None:
        if not 0.0 < self.target < 1.0:
            raise CodegenError(f"pruning target {self.target} is outside (0, 1)", hint="e.g. --prune 0.5")
        for value, allowed, what in (
            (self.method, METHODS, "method"),
            (self.schedule, SCHEDULES, "schedule"),
            (self.scope, SCOPES, "scope"),
            (self.structure, STRUCTURES, "structure"),
        ):
            if value not in allowed:
                raise CodegenError(
                    f"unknown pruning {what} {value!r}", hint=f"use one of {', '.join(allowed)}"
                )
        if self.structure in ("2:4", "2:4-tile", "2:4-layer") and abs(self.target - 0.5) > 1e-9:
            raise CodegenError(f"2:4 sparsity is 50 % by construction, not {self.target:g}",
                               hint=f"drop --prune or pass --prune 0.5 with --prune-structure {self.structure}")
        if self.structure != "unstructured" and (self.method, self.scope) != ("magnitude", "layer"):
            raise CodegenError(f"--prune-structure {self.structure} ranks weights by magnitude within each layer",
                               hint="drop --prune-method gradient / --prune-scope global")

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "method": self.method,
            "schedule": self.schedule,
            "scope": self.scope,
            "begin_step": self.begin_step,
            "end_step": self.end_step,
            "frequency": self.frequency,
            "structure": self.structure,
        }


def schedule_steps(cfg: PruneConfig, steps: int) -> tuple[int, int, int]:
    """(begin, end, frequency) for a run of ``steps`` training steps: the ramp ends at ``end_step`` (default
    70 % of the steps) on a multiple of the frequency, so that the last mask update reaches the target."""
    end_wanted = cfg.end_step if cfg.end_step is not None else int(steps * 0.7)
    span = max(1, end_wanted - cfg.begin_step)
    freq = max(1, min(cfg.frequency, span))
    end = cfg.begin_step + (span // freq) * freq
    if end >= steps and steps > cfg.begin_step:
        raise CodegenError(
            f"the pruning schedule ends at step {end} but fine-tuning has only {steps} steps",
            hint="use more --finetune-epochs or a smaller batch size",
        )
    return cfg.begin_step, end, freq


def ramp(step: int, begin: int, end: int, constant: bool, initial: float, target: float) -> float:
    """The share pruned at ``step`` on a (begin, end) schedule from :func:`schedule_steps`: 0 before it, then
    tfmot's polynomial decay (power 3) from ``initial`` to ``target``, or ``target`` at once when ``constant``."""
    if step < begin:
        return 0.0
    if constant:
        return target
    frac = min(1.0, (step - begin) / max(1, end - begin))
    return target + (initial - target) * (1.0 - frac) ** 3


def _prunable(layer: Any) -> bool:
    k = keras()
    return isinstance(layer, (k.layers.Conv2D, k.layers.DepthwiseConv2D, k.layers.Dense))


def _kernel(layer: Any) -> Any:
    return layer.depthwise_kernel if isinstance(layer, keras().layers.DepthwiseConv2D) else layer.kernel


def layer_sparsities(model: Any, cfg: PruneConfig) -> dict[str, float]:
    """Target sparsity of each prunable layer: the target everywhere, or shares under a global threshold."""
    layers = [layer for layer in model.layers if _prunable(layer)]
    if cfg.scope == "layer":
        return {layer.name: cfg.target for layer in layers}
    mags = {layer.name: np.abs(_kernel(layer).numpy()).ravel() for layer in layers}
    all_mags = np.sort(np.concatenate(list(mags.values())))
    threshold = all_mags[min(len(all_mags) - 1, int(cfg.target * len(all_mags)))]
    out = {}
    for name, m in mags.items():
        out[name] = float(min(MAX_LAYER_SPARSITY, np.mean(m < threshold)))
    log.info(
        "global pruning threshold %.4g -> layer sparsities %s",
        threshold,
        {k: round(v, 3) for k, v in out.items()},
    )
    return out


def apply_magnitude_pruning(model: Any, cfg: PruneConfig, steps: int) -> Any:
    """Wrap the prunable layers of a trained model for tfmot magnitude pruning over ``steps`` steps."""
    k = keras()
    sparsity = tfmot().sparsity.keras
    begin, end, freq = schedule_steps(cfg, steps)
    targets = layer_sparsities(model, cfg)

    def schedule(target: float) -> Any:
        if cfg.schedule == "constant" or cfg.structure == "2:4":
            return sparsity.ConstantSparsity(target, begin_step=begin, frequency=freq)
        return sparsity.PolynomialDecay(
            initial_sparsity=min(cfg.initial, target),
            final_sparsity=target,
            begin_step=begin,
            end_step=end,
            frequency=freq,
        )

    depthwise_cls = _prunable_depthwise_class()

    if cfg.structure == "2:4":
        targets = {name: t for name, t in targets.items() if m_by_n_prunable(model.get_layer(name))}
        log.info("2:4 pruning of %s (other layers stay dense)", ", ".join(sorted(targets)) or "no layer")

    def clone(layer: Any) -> Any:
        if cfg.structure == "2:4" and layer.name in targets:
            return sparsity.prune_low_magnitude(layer, pruning_schedule=schedule(0.5), sparsity_m_by_n=(2, 4))
        if layer.name in targets and targets[layer.name] > 0:
            if isinstance(layer, k.layers.DepthwiseConv2D):
                # tfmot's registry does not prune depthwise kernels; a PrunableLayer subclass opts them in
                layer = depthwise_cls.from_config(layer.get_config())
            return sparsity.prune_low_magnitude(layer, pruning_schedule=schedule(targets[layer.name]))
        return layer

    # clone_model reuses the layer objects handed back by clone(); work on a private copy so that pruning
    # never touches the caller's (dense) model
    private = k.models.clone_model(model)
    private.set_weights(model.get_weights())
    pruned = k.models.clone_model(private, clone_function=clone)
    for layer in pruned.layers:
        inner = getattr(layer, "layer", layer)
        if isinstance(inner, depthwise_cls):  # re-created from config: copy the trained weights
            inner.set_weights(private.get_layer(inner.name).get_weights())
    return pruned


def m_by_n_prunable(layer: Any) -> bool:
    """A layer tfmot's 2:4 pruning applies to: Conv2D or Dense whose input channels come in groups of four (the
    blocks run along the input channels, TFLite's innermost filter axis)."""
    k = keras()
    if isinstance(layer, k.layers.DepthwiseConv2D) or not isinstance(layer, (k.layers.Conv2D, k.layers.Dense)):
        return False
    return int(layer.kernel.shape[-2]) % 4 == 0


_DEPTHWISE_CLASS: list[Any] = []


def _prunable_depthwise_class() -> Any:
    """A DepthwiseConv2D that tells tfmot its depthwise kernel is prunable (created once, lazily)."""
    if not _DEPTHWISE_CLASS:
        k = keras()
        sparsity = tfmot().sparsity.keras

        class PrunableDepthwiseConv2D(k.layers.DepthwiseConv2D, sparsity.PrunableLayer):
            def get_prunable_weights(self) -> list[Any]:
                return [self.depthwise_kernel]

        _DEPTHWISE_CLASS.append(PrunableDepthwiseConv2D)
    return _DEPTHWISE_CLASS[0]


def pruning_callbacks(model: Any) -> list[Any]:
    """Callbacks a tfmot-pruned model needs during ``fit``."""
    if any(layer.__class__.__name__ == "PruneLowMagnitude" for layer in model.layers):
        return [tfmot().sparsity.keras.UpdatePruningStep()]
    return []


def strip_pruning(model: Any) -> Any:
    """Remove tfmot wrappers (the zeros stay in the kernels) and turn prunable depthwise layers back into
    plain DepthwiseConv2D, so that QAT, saving and conversion see standard layers."""
    if not any(layer.__class__.__name__ == "PruneLowMagnitude" for layer in model.layers):
        return model
    k = keras()
    stripped = tfmot().sparsity.keras.strip_pruning(model)
    if not _DEPTHWISE_CLASS or not any(isinstance(layer, _DEPTHWISE_CLASS[0]) for layer in stripped.layers):
        return stripped

    def plain(layer: Any) -> Any:
        if isinstance(layer, _DEPTHWISE_CLASS[0]):
            return k.layers.DepthwiseConv2D.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    restored = k.models.clone_model(stripped, clone_function=plain)
    restored.set_weights(stripped.get_weights())
    return restored


class SaliencyPruning:
    """Gradient-based pruning during training: at every ``frequency`` steps between ``begin`` and ``end`` the
    saliency ``|w * dL/dw|`` (summed over ``batches`` calibration batches) ranks the weights, the lowest
    ``s(step)`` share is masked (polynomial ramp to the target, or constant), and masks are re-applied after
    every training step. Use :meth:`callback` as a Keras callback."""

    def __init__(
        self,
        model: Any,
        x: np.ndarray,
        y: np.ndarray,
        cfg: PruneConfig,
        steps: int,
        batches: int = 4,
        batch_size: int = 64,
    ) -> None:
        self.model = model
        self.cfg = cfg
        self.layers = [layer for layer in model.layers if _prunable(layer)]
        self.masks = {layer.name: np.ones(_kernel(layer).shape, np.float32) for layer in self.layers}
        self.begin, self.end, self.frequency = schedule_steps(cfg, steps)
        n = min(len(x), batches * batch_size)
        self.x = tf().constant(x[:n])
        self.y = tf().constant(y[:n])
        self.batch_size = batch_size
        self.step = 0

    def target_at(self, step: int) -> float:
        return ramp(step, self.begin, self.end, self.cfg.schedule == "constant", self.cfg.initial, self.cfg.target)

    def saliency(self) -> dict[str, np.ndarray]:
        t = tf()
        loss_fn = keras().losses.SparseCategoricalCrossentropy()
        kernels = [_kernel(layer) for layer in self.layers]
        total = [np.zeros(k.shape, np.float32) for k in kernels]
        for start in range(0, int(self.x.shape[0]), self.batch_size):
            xb = self.x[start : start + self.batch_size]
            yb = self.y[start : start + self.batch_size]
            with t.GradientTape() as tape:
                loss = loss_fn(yb, self.model(xb, training=False))
            grads = tape.gradient(loss, kernels)
            for i, (kern, g) in enumerate(zip(kernels, grads, strict=True)):
                if g is not None:
                    total[i] += np.abs(kern.numpy() * g.numpy())
        return {layer.name: s for layer, s in zip(self.layers, total, strict=True)}

    def update_masks(self, target: float) -> None:
        scores = self.saliency()
        # weights already pruned stay pruned: their saliency is zero
        if self.cfg.scope == "global":
            flat = np.sort(np.concatenate([s.ravel() for s in scores.values()]))
            thr = flat[min(len(flat) - 1, int(target * len(flat)))]
            for name, s in scores.items():
                mask = (s > thr).astype(np.float32)
                if mask.mean() < 1.0 - MAX_LAYER_SPARSITY:  # keep a layer alive
                    keep = int(np.ceil((1.0 - MAX_LAYER_SPARSITY) * s.size))
                    mask = _top_mask(s, keep)
                self.masks[name] = mask
        else:
            for name, s in scores.items():
                self.masks[name] = _top_mask(s, s.size - math.ceil(target * s.size - 1e-9))
        self.apply()

    def apply(self) -> None:
        for layer in self.layers:
            kern = _kernel(layer)
            kern.assign(kern.numpy() * self.masks[layer.name])

    def callback(self) -> Any:
        outer = self

        class _Callback(keras().callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                s = outer.step
                outer.step += 1
                due = s >= outer.begin and (s - outer.begin) % outer.frequency == 0 and s <= outer.end
                if due or (outer.cfg.schedule == "constant" and s == outer.begin):
                    outer.update_masks(outer.target_at(s))
                else:
                    outer.apply()

            def on_train_end(self, logs: Any = None) -> None:
                if outer.step <= outer.end:  # training stopped before the ramp ended: jump to the target
                    outer.update_masks(outer.cfg.target)
                else:
                    outer.apply()

        return _Callback()


def _top_mask(scores: np.ndarray, keep: int) -> np.ndarray:
    """Mask keeping the ``keep`` highest scores (ties broken by position, so exactly ``keep`` ones)."""
    flat = scores.ravel()
    mask = np.zeros(flat.size, np.float32)
    if keep > 0:
        mask[np.argsort(-flat, kind="stable")[:keep]] = 1.0
    return mask.reshape(scores.shape)


def kernel_sparsity(model: Any) -> float:
    """Share of exactly-zero weights in the prunable kernels of a (stripped) Keras model."""
    total = zeros = 0
    for layer in strip_pruning(model).layers:
        if _prunable(layer):
            w = _kernel(layer).numpy()
            total += w.size
            zeros += int(np.count_nonzero(w == 0))
    return zeros / total if total else 0.0


def sparsity_masks(model: Any) -> dict[str, np.ndarray]:
    """Non-zero pattern (1.0 = kept) of the prunable kernels of a stripped, pruned model, by layer name."""
    return {
        layer.name: (_kernel(layer).numpy() != 0).astype(np.float32)
        for layer in strip_pruning(model).layers
        if _prunable(layer)
    }


def _kernel_variables(model: Any) -> dict[str, Any]:
    """Kernel variables by layer name, also inside QAT wrappers (whose ``layer.kernel`` is swapped for the
    fake-quantized tensor during calls)."""
    out = {}
    for layer in model.layers:
        inner = layer.layer if hasattr(layer, "layer") else layer
        for w in layer.weights:
            if w.name.split("/")[-1].split(":")[0] in ("kernel", "depthwise_kernel"):
                out[inner.name] = w
    return out


def keep_sparsity_callback(model: Any, masks: dict[str, np.ndarray]) -> Any:
    """A Keras callback that re-applies ``masks`` to ``model``'s kernels after every training step.

    tfmot's prune-preserving scheme does not cover every layer: layers feeding a Concatenate get the plain
    8-bit config from the concat transform and would fill their zeros back in; this keeps them pruned too."""
    variables = _kernel_variables(model)
    pairs = [(variables[n], m) for n, m in masks.items() if n in variables and variables[n].shape == m.shape]
    missing = sorted(set(masks) - set(variables))
    if missing:
        log.warning("no kernel found for pruned layers %s; their sparsity is not enforced", missing)

    def enforce() -> None:
        for var, mask in pairs:
            var.assign(var * mask)

    class _Keep(keras().callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            enforce()

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            enforce()

    return _Keep()


_PASS_THROUGH: list[Any] = []


def _pass_through_config() -> Any:
    """QuantizeConfig with no quantizers: the layer's output keeps its input's range.

    Used for AveragePooling2D: TFLite's int8 AVERAGE_POOL_2D needs equal input and output scales, and tfmot's
    own output quantizer would make the converter insert a QUANTIZE (requantize) operator after it."""
    if not _PASS_THROUGH:
        q = tfmot().quantization.keras

        class PassThroughQuantizeConfig(q.QuantizeConfig):
            def get_weights_and_quantizers(self, layer: Any) -> list[Any]:
                return []

            def get_activations_and_quantizers(self, layer: Any) -> list[Any]:
                return []

            def set_quantize_weights(self, layer: Any, quantize_weights: Any) -> None:
                return None

            def set_quantize_activations(self, layer: Any, quantize_activations: Any) -> None:
                return None

            def get_output_quantizers(self, layer: Any) -> list[Any]:
                return []

            def get_config(self) -> dict[str, Any]:
                return {}

        _PASS_THROUGH.append(PassThroughQuantizeConfig)
    return _PASS_THROUGH[0]


def quantize_aware(model: Any, preserve_sparsity: bool = False) -> Any:
    """A QAT copy of ``model`` (weights kept). ``preserve_sparsity`` uses the prune-preserving 8-bit scheme so
    that fine-tuning does not fill the pruned zeros back in (see also :func:`keep_sparsity_callback`)."""
    k = keras()
    q = tfmot().quantization.keras
    base = strip_pruning(model)
    config_cls = _pass_through_config()

    def annotate(layer: Any) -> Any:
        if isinstance(layer, k.layers.AveragePooling2D):
            return q.quantize_annotate_layer(layer, quantize_config=config_cls())
        return layer

    try:
        with q.quantize_scope({"PassThroughQuantizeConfig": config_cls}):
            annotated = q.quantize_annotate_model(k.models.clone_model(base, clone_function=annotate))
            annotated.set_weights(base.get_weights())
            if preserve_sparsity:
                from tensorflow_model_optimization.python.core.quantization.keras.collab_opts import (
                    prune_preserve,
                )

                scheme = prune_preserve.default_8bit_prune_preserve_quantize_scheme
                return q.quantize_apply(annotated, scheme.Default8BitPrunePreserveQuantizeScheme())
            return q.quantize_apply(annotated)
    except (ValueError, RuntimeError) as exc:
        raise CodegenError(
            f"quantization-aware training is not available for {model.name}: {exc}",
            hint="drop --qat or use a model made of Conv2D/Dense/pooling/concatenate layers",
        ) from exc
