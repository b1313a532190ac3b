"""Remove pruned (all-zero) filters and the input channels that read them (channel / filter pruning).

A CONV_2D, FULLY_CONNECTED or DEPTHWISE_CONV_2D output channel whose filter is all zeros is not zero: every
element of it is the constant ``q = clamp(requantize(bias) + output_zero_point)``. The pass follows that
constant channel forward through operators that keep it a constant channel (MAX_POOL_2D, AVERAGE_POOL_2D,
CONCATENATION on the channel axis, DEPTHWISE_CONV_2D with multiplier 1, a flattening RESHAPE) to the layers that
mix channels (CONV_2D, FULLY_CONNECTED). There the constant contributes ``w * (q - input_zero_point)`` to every
tap:

* nothing at all when ``q`` equals the input zero point (also at padded taps, which contribute nothing either);
* a per-output constant when every tap of the consumer reads a real element (1x1 or VALID or SAME without
  padding, fully connected): it is added to the consumer's int32 bias.

Only then is the channel removed: from the producer's filters, bias and per-channel scales, from every tensor on
the way (smaller activations), and from the consumers' filters (fewer MACs). The integers the network computes
are the same as TFLM's on the unpruned graph. A zero depthwise filter ignores its input channel, so that channel
and the convolution filter writing it go too. Channels whose constant cannot be folded exactly (e.g. a consumer
is an ADD, a graph output, or a 3x3 SAME convolution with ``q`` != zero point) are kept and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from types import ModuleType

import numpy as np

from codegen import ir
from codegen.passes.base import GraphPass, register_pass, renumber

log = logging.getLogger(__name__)

_PRODUCERS = (ir.Conv2D, ir.FullyConnected)


def _prepare() -> ModuleType:
    """The backend's quantization math (TFLM's Prepare step), imported late: the backend imports the passes."""
    from codegen.backend.native import prepare

    return prepare


@dataclass
class _Plan:
    """Channels removed along the paths of one producer's zero filters."""

    producer: ir.Operator
    removed: dict[int, dict[int, int]] = field(default_factory=dict)  # tensor -> {channel: constant}
    kept: dict[int, str] = field(default_factory=dict)  # producer channel -> why it stays


def _int8(t: ir.Tensor) -> bool:
    return t.dtype is ir.DType.INT8 and t.quant is not None and not t.quant.per_channel and not t.is_constant


def _zp(t: ir.Tensor) -> int:
    return int(t.quant.zero_point[0]) if t.quant else 0


def _scale(t: ir.Tensor) -> float:
    return float(t.quant.scale[0]) if t.quant else 1.0


def _filter_scale(w: ir.Tensor, c: int) -> float:
    q = w.quant
    if q is None:
        raise ValueError("filter without quantization")
    return float(q.scale[c] if q.per_channel else q.scale[0])


def _requant(graph: ir.Graph, op: ir.Operator, acc: int, c: int) -> int:
    """What TFLM's int8 conv/FC/depthwise writes for accumulator ``acc`` (bias included) on channel ``c``."""
    prepare = _prepare()
    x, w, y = (graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]])
    mult, shift = prepare.quantize_multiplier(_scale(x) * _filter_scale(w, c) / _scale(y))
    lo, hi = prepare.activation_range_int8(getattr(op, "activation", ir.Activation.NONE), _scale(y), _zp(y))
    return int(min(hi, max(lo, prepare.multiply_by_quantized_multiplier(acc, mult, shift) + _zp(y))))


def _add_constant(graph: ir.Graph, op: ir.Add, qs: list[int]) -> int:
    """What TFLM's int8 ADD writes for the inputs ``qs`` (TFLite's reference: both inputs shifted left by 20,
    rescaled to twice the larger input scale, summed, rescaled to the output, clamped to the activation)."""
    prepare = _prepare()
    a, b, y = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
    twice_max = 2 * max(_scale(a), _scale(b))
    acc = 0
    for t, q in zip((a, b), qs, strict=True):
        mult, shift = prepare.quantize_multiplier(_scale(t) / twice_max)
        acc += prepare.multiply_by_quantized_multiplier((q - _zp(t)) * (1 << 20), mult, shift)
    mult, shift = prepare.quantize_multiplier(twice_max / ((1 << 20) * _scale(y)))
    lo, hi = prepare.activation_range_int8(op.activation, _scale(y), _zp(y))
    return int(min(hi, max(lo, prepare.multiply_by_quantized_multiplier(acc, mult, shift) + _zp(y))))


def _bias(graph: ir.Graph, op: ir.Operator, c: int) -> int:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return 0
    b = graph.tensors[op.inputs[2]]
    return int(b.data.reshape(-1)[c]) if b.data is not None else 0


def _has_padded_taps(graph: ir.Graph, op: ir.Conv2D | ir.DepthwiseConv2D) -> bool:
    """Whether some output element of the convolution reads a padded (outside) input position."""
    if op.padding is ir.Padding.VALID:
        return False
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    y = graph.tensors[op.outputs[0]]
    for axis, stride, dil in ((1, op.stride_h, op.dilation_h), (2, op.stride_w, op.dilation_w)):
        eff = (w.shape[axis] - 1) * dil + 1
        if max(0, (y.shape[axis] - 1) * stride + eff - x.shape[axis]) > 0:
            return True
    return False


class _Tracer:
    """Follows one constant channel to the layers that absorb it and fills ``removed``. At an ADD the channel of
    every other input must be a constant channel too (a zero filter, or another ADD of constant channels: a
    residual stream pruned as a group); those are traced back to their filters and forward to all their readers,
    and the ADD's output channel, the constant TFLM's ADD computes from them, is followed on."""

    def __init__(self, graph: ir.Graph) -> None:
        self.graph = graph
        self.adds: set[int] = set()  # ADD operators already (being) traced for this channel

    def trace(self, t: int, c: int, q: int, removed: dict[int, dict[int, int]]) -> str | None:
        """None when channel ``c`` (constant ``q``) of tensor ``t`` can go everywhere it is read, else why not."""
        g = self.graph
        tensor = g.tensors[t]
        if c in removed.get(t, {}):  # reached again through an ADD
            return None if removed[t][c] == q else f"tensor {tensor.name} would hold two constants"
        if t in g.outputs:
            return "it is a graph output"
        if not _int8(tensor):
            return f"tensor {tensor.name} is not per-tensor int8"
        removed.setdefault(t, {})[c] = q
        readers = g.consumers.get(t, [])
        for op in readers:
            if op.inputs.count(t) != 1 or (op.inputs[0] != t and not isinstance(op, (ir.Concatenation, ir.Add))):
                return f"{op.op} #{op.index} reads it in another role"
            why = self._consumer(op, t, c, q, removed)
            if why is not None:
                return why
        return None

    def _consumer(self, op: ir.Operator, t: int, c: int, q: int, removed: dict[int, dict[int, int]]) -> str | None:
        g, prepare = self.graph, _prepare()
        x = g.tensors[t]
        zp = _zp(x)
        where = f"{op.op} #{op.index}"
        if isinstance(op, ir.Add):
            return self._add(op, c, {t: q}, removed)
        if isinstance(op, (ir.Conv2D, ir.FullyConnected)):
            w = g.tensors[op.inputs[1]]
            if w.data is None or w.dtype is not ir.DType.INT8 or w.shape[-1] != x.shape[-1]:
                return f"{where} has no int8 constant filter over all input channels"
            if isinstance(op, ir.FullyConnected) and (len(x.shape) != 2 or op.keep_num_dims):
                return f"{where} reads a {len(x.shape)}-D input"
            if q == zp:
                return None
            if isinstance(op, ir.Conv2D) and _has_padded_taps(g, op):
                return f"{where} pads its input and the constant {q} is not the zero point {zp}"
            return None
        if isinstance(op, (ir.MaxPool2D, ir.AveragePool2D)):
            y = g.tensors[op.outputs[0]]
            if y.quant != x.quant or y.dtype is not x.dtype:
                return f"{where} requantizes"
            lo, hi = prepare.activation_range_int8(op.activation, _scale(y), _zp(y))
            return self.trace(op.outputs[0], c, min(hi, max(lo, q)), removed)
        if isinstance(op, ir.Concatenation):
            y = g.tensors[op.outputs[0]]
            axis = op.axis + len(y.shape) if op.axis < 0 else op.axis
            ins = [g.tensors[i] for i in op.inputs]
            if axis != len(y.shape) - 1 or op.activation is not ir.Activation.NONE:
                return f"{where} does not concatenate channels"
            if any(i.quant != y.quant or i.dtype is not y.dtype for i in ins):
                return f"{where} requantizes"
            offset = sum(i.shape[-1] for i in ins[: op.inputs.index(t)])
            return self.trace(op.outputs[0], offset + c, q, removed)
        if isinstance(op, ir.DepthwiseConv2D):
            w = g.tensors[op.inputs[1]]
            y = g.tensors[op.outputs[0]]
            if w.data is None or w.dtype is not ir.DType.INT8 or w.shape[-1] != x.shape[-1] or not _int8(y):
                return f"{where} is not an int8 depthwise convolution with multiplier 1"
            acc = _bias(g, op, c)
            if q != zp:
                if _has_padded_taps(g, op):
                    return f"{where} pads its input and the constant {q} is not the zero point {zp}"
                acc += int(w.data[..., c].astype(np.int64).sum()) * (q - zp)
            if not prepare.INT32_MIN <= acc <= prepare.INT32_MAX:
                return f"{where}: the folded accumulator overflows int32"
            return self.trace(op.outputs[0], c, _requant(g, op, acc, c), removed)
        if isinstance(op, ir.Reshape):
            y = g.tensors[op.outputs[0]]
            readers = g.consumers.get(op.outputs[0], [])
            flatten = len(x.shape) == 4 and x.shape[0] == 1 and y.shape == (1, x.size) and y.quant == x.quant
            if not flatten or not readers or not all(isinstance(r, ir.FullyConnected) for r in readers):
                return f"{where} is not a flatten before a fully connected layer"
            why = None
            for p in range(x.shape[1] * x.shape[2]):  # NHWC flatten: column p * C + c reads channel c
                why = why or self.trace(op.outputs[0], p * x.shape[-1] + c, q, removed)
            return why
        return f"{where} ({op.op}) cannot absorb a constant channel"

    def _add(self, op: ir.Add, c: int, known: dict[int, int], removed: dict[int, dict[int, int]]) -> str | None:
        """Channel ``c`` of an ADD whose inputs ``known`` hold constants: the other inputs' channel ``c`` must be
        constant too (traced from their sources); then the output's constant is followed on."""
        g = self.graph
        if op.index in self.adds:  # reached from another input while (or after) being traced
            return None
        self.adds.add(op.index)
        y = g.tensors[op.outputs[0]]
        ins = [g.tensors[i] for i in op.inputs]
        if len(ins) != 2 or op.inputs[0] == op.inputs[1] or not all(_int8(i) and i.shape == y.shape for i in ins):
            return f"ADD #{op.index} broadcasts or does not add two int8 tensors"
        qs = []
        for i in op.inputs:
            if i not in known:
                q, why = self.source(i, c, removed)
                if why is not None:
                    return why
                known[i] = q
            qs.append(known[i])
        return self.trace(op.outputs[0], c, _add_constant(g, op, qs), removed)

    def source(self, t: int, c: int, removed: dict[int, dict[int, int]]) -> tuple[int, str | None]:
        """The constant of channel ``c`` of tensor ``t`` (an ADD's other input) and None, or why it is not a
        removable constant channel. A constant channel found is traced to all its readers."""
        g = self.graph
        if c in removed.get(t, {}):
            return removed[t][c], None
        prod = g.producers.get(t)
        name = g.tensors[t].name
        if isinstance(prod, _PRODUCERS) and len(prod.outputs) == 1:
            if c not in _dead_filters(g, prod):
                return 0, f"{prod.op} #{prod.index} ({name}), added to it, computes channel {c}"
            q = _requant(g, prod, _bias(g, prod, c), c)
            return q, self.trace(t, c, q, removed)
        if isinstance(prod, ir.Add):
            ins = [g.tensors[i] for i in prod.inputs]
            if len(ins) != 2 or not all(_int8(i) and i.shape == g.tensors[t].shape for i in ins):
                return 0, f"ADD #{prod.index} broadcasts or does not add two int8 tensors"
            self.adds.add(prod.index)
            qs = []
            for i in prod.inputs:
                q, why = self.source(i, c, removed)
                if why is not None:
                    return 0, why
                qs.append(q)
            q = _add_constant(g, prod, qs)
            return q, self.trace(t, c, q, removed)
        what = f"{prod.op} #{prod.index}" if prod is not None else "no operator"
        return 0, f"channel {c} of {name}, added to it, is written by {what}, not by a zero filter"


def _dead_filters(graph: ir.Graph, op: ir.Operator) -> list[int]:
    if not isinstance(op, (*_PRODUCERS, ir.DepthwiseConv2D)) or len(op.outputs) != 1:
        return []
    x, w, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    if w.data is None or w.dtype is not ir.DType.INT8 or not _int8(x) or not _int8(y):
        return []
    if isinstance(op, ir.DepthwiseConv2D):
        if not w.shape[-1] == x.shape[-1] == y.shape[-1]:
            return []
        return [int(c) for c in np.flatnonzero(~w.data.reshape(-1, w.shape[-1]).any(axis=0))]
    if isinstance(op, ir.FullyConnected) and (len(y.shape) != 2 or op.keep_num_dims):
        return []
    rows = w.data.reshape(w.shape[0], -1)
    if rows.shape[0] != y.shape[-1]:
        return []
    return [int(o) for o in np.flatnonzero(~rows.any(axis=1))]


def _unused_input(graph: ir.Graph, op: ir.Operator, c: int, trial: dict[int, dict[int, int]]) -> str | None:
    """A zero depthwise filter ignores its input channel: that channel goes too (through pooling) with the
    filter of the convolution that writes it, when nothing else reads it. None when it can, else why not."""
    reader, x = op, op.inputs[0]
    while True:
        prod = graph.producers.get(x)
        if x in graph.outputs or graph.consumers.get(x, []) != [reader]:
            return "its input channel is read elsewhere"
        trial.setdefault(x, {})[c] = 0
        if isinstance(prod, (ir.MaxPool2D, ir.AveragePool2D)):
            reader, x = prod, prod.inputs[0]
            continue
        if not isinstance(prod, ir.Conv2D) or graph.tensors[prod.inputs[1]].data is None:
            return "its input channel is not written by a convolution"
        return None


def plan_removal(graph: ir.Graph, op: ir.Operator) -> _Plan | None:
    """Which zero filters of ``op`` can be removed exactly (None when ``op`` has none)."""
    dead = _dead_filters(graph, op)
    if not dead:
        return None
    plan = _Plan(op)
    n_out = graph.tensors[op.outputs[0]].shape[-1]
    accepted: list[dict[int, dict[int, int]]] = []
    for c in dead:
        q = _requant(graph, op, _bias(graph, op, c), c)
        trial: dict[int, dict[int, int]] = {}
        why = _unused_input(graph, op, c, trial) if isinstance(op, ir.DepthwiseConv2D) else None
        why = why or _Tracer(graph).trace(op.outputs[0], c, q, trial)
        if why is None and len(accepted) + 1 >= n_out:
            why = "it is the layer's last channel"
        if why is not None:
            plan.kept[c] = why
            continue
        accepted.append(trial)
    if len(accepted) * 4 < n_out:
        # the kernels work on blocks of four channels: a few removed channels would cost more in the blocks'
        # tails than they save, so fewer than a quarter go only in whole blocks of four
        for trial in accepted[len(accepted) // 4 * 4:]:
            (c,) = trial[op.outputs[0]]
            plan.kept[c] = "fewer than a quarter of the channels are removable: only whole blocks of four go"
        accepted = accepted[: len(accepted) // 4 * 4]
    for trial in accepted:
        for t, chans in trial.items():
            plan.removed.setdefault(t, {}).update(chans)
    return plan


def _frozen(data: np.ndarray) -> np.ndarray:
    data = np.ascontiguousarray(data)
    data.setflags(write=False)
    return data


def _new_tensor(tensors: list[ir.Tensor], like: ir.Tensor, name: str, data: np.ndarray,
                quant: ir.QuantParams | None) -> int:
    data = _frozen(data)
    tensors.append(replace(like, index=len(tensors), name=name, shape=tuple(data.shape), data=data, quant=quant))
    return len(tensors) - 1


def _slice_quant(q: ir.QuantParams | None, keep: np.ndarray, axis: int) -> ir.QuantParams | None:
    if q is None or not q.per_channel or q.axis != axis:
        return q
    zps = q.zero_point if len(q.zero_point) == 1 else tuple(q.zero_point[i] for i in keep)
    return ir.QuantParams(tuple(q.scale[i] for i in keep), zps, axis)


def _keep(n: int, drop: dict[int, int]) -> np.ndarray:
    return np.array([i for i in range(n) if i not in drop], dtype=np.int64)


def apply_removal(graph: ir.Graph, plan: _Plan) -> ir.Graph:
    """The graph with ``plan``'s channels removed (new constant tensors; activation tensors reshaped)."""
    tensors = list(graph.tensors)
    removed = plan.removed
    for t, drop in removed.items():
        old = tensors[t]
        tensors[t] = replace(old, shape=(*old.shape[:-1], old.shape[-1] - len(drop)))
    ops = []
    for op in graph.operators:
        out_drop = removed.get(op.outputs[0], {}) if op.outputs else {}
        in_drop = removed.get(op.inputs[0], {}) if op.inputs and op.inputs[0] >= 0 else {}
        if isinstance(op, (ir.Conv2D, ir.FullyConnected)):
            if out_drop:  # the plan's producer, or the convolution feeding a zero depthwise filter
                op = _slice_outputs(tensors, op, out_drop)
            if in_drop:
                op = _slice_inputs(graph, tensors, op, in_drop)
        elif isinstance(op, ir.DepthwiseConv2D) and (in_drop or out_drop):
            op = _slice_depthwise(tensors, op, in_drop or out_drop)
        elif isinstance(op, ir.Reshape) and out_drop:
            shape = tensors[op.outputs[0]].shape
            inputs = op.inputs
            if len(inputs) > 1 and inputs[1] >= 0:
                st = graph.tensors[inputs[1]]
                idx = _new_tensor(tensors, st, f"{st.name}/channels_removed", np.array(shape, dtype=st.dtype.np), None)
                inputs = (inputs[0], idx, *inputs[2:])
            op = replace(op, inputs=inputs, new_shape=shape)
        ops.append(op)
    return renumber(replace(graph, tensors=tuple(tensors)), ops)


def _slice_outputs(tensors: list[ir.Tensor], op: ir.Operator, drop: dict[int, int]) -> ir.Operator:
    w = tensors[op.inputs[1]]
    keep = _keep(w.shape[0], drop)
    inputs = list(op.inputs)
    inputs[1] = _new_tensor(tensors, w, f"{w.name}/filters_removed", w.data[keep], _slice_quant(w.quant, keep, 0))
    if len(inputs) > 2 and inputs[2] >= 0:
        b = tensors[inputs[2]]
        inputs[2] = _new_tensor(tensors, b, f"{b.name}/filters_removed", b.data.reshape(-1)[keep],
                                _slice_quant(b.quant, keep, 0))
    return replace(op, inputs=tuple(inputs))


def _slice_inputs(graph: ir.Graph, tensors: list[ir.Tensor], op: ir.Operator, drop: dict[int, int]) -> ir.Operator:
    """Drop input channels of a CONV_2D / FULLY_CONNECTED, adding their constants' contribution to the bias."""
    w = tensors[op.inputs[1]]
    x = graph.tensors[op.inputs[0]]
    zp = _zp(x)
    keep = _keep(w.shape[-1], drop)
    data = w.data.astype(np.int64)
    fold = np.zeros(w.shape[0], np.int64)
    for c, q in drop.items():
        if q != zp:
            fold += data[..., c].reshape(w.shape[0], -1).sum(axis=1) * (q - zp)
    inputs = list(op.inputs)
    inputs[1] = _new_tensor(tensors, w, f"{w.name}/inputs_removed", w.data[..., keep], w.quant)
    if fold.any():
        if len(inputs) > 2 and inputs[2] >= 0:
            b = tensors[inputs[2]]
            base, quant, name = b.data.reshape(-1).astype(np.int64), b.quant, b.name
        else:  # no bias yet: an int32 one with TFLite's bias scales (input scale x filter scale)
            base, name = np.zeros(w.shape[0], np.int64), f"{w.name}/bias"
            scales = w.quant.scale if w.quant else (1.0,)
            quant = ir.QuantParams(tuple(_scale(x) * float(s) for s in scales), (0,) * len(scales), 0)
            inputs += [-1] * (3 - len(inputs))
        bias = (base + fold).astype(np.int32)
        inputs[2] = len(tensors)
        tensors.append(ir.Tensor(len(tensors), f"{name}/constants_folded", bias.shape, ir.DType.INT32,
                                 data=_frozen(bias), quant=quant))
    return replace(op, inputs=tuple(inputs))


def _slice_depthwise(tensors: list[ir.Tensor], op: ir.Operator, drop: dict[int, int]) -> ir.Operator:
    w = tensors[op.inputs[1]]
    keep = _keep(w.shape[-1], drop)
    inputs = list(op.inputs)
    inputs[1] = _new_tensor(tensors, w, f"{w.name}/channels_removed", w.data[..., keep],
                            _slice_quant(w.quant, keep, len(w.shape) - 1))
    if len(inputs) > 2 and inputs[2] >= 0:
        b = tensors[inputs[2]]
        inputs[2] = _new_tensor(tensors, b, f"{b.name}/channels_removed", b.data.reshape(-1)[keep],
                                _slice_quant(b.quant, keep, 0))
    return replace(op, inputs=tuple(inputs))


def _fold_fits(graph: ir.Graph, plan: _Plan) -> bool:
    """Every folded consumer bias stays inside int32."""
    prepare = _prepare()
    for t, drop in plan.removed.items():
        x = graph.tensors[t]
        for op in graph.consumers.get(t, []):
            if not isinstance(op, (ir.Conv2D, ir.FullyConnected)) or op is plan.producer:
                continue
            w = graph.tensors[op.inputs[1]].data.astype(np.int64)
            fold = sum((w[..., c].reshape(w.shape[0], -1).sum(axis=1) * (q - _zp(x)) for c, q in drop.items()),
                       np.zeros(w.shape[0], np.int64))
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                fold = fold + graph.tensors[op.inputs[2]].data.reshape(-1).astype(np.int64)
            if fold.min(initial=0) < prepare.INT32_MIN or fold.max(initial=0) > prepare.INT32_MAX:
                return False
    return True


@register_pass
class RemovePrunedChannels(GraphPass):
    """Remove all-zero filters of CONV_2D / FULLY_CONNECTED layers, the channels they write (through pooling,
    concatenation, depthwise and flatten) and the matching input channels of the layers that read them, where the
    constant such a channel holds can be folded exactly (see the module docstring)."""

    name = "remove-pruned-channels"

    def __init__(self) -> None:
        self.reported: set[str] = set()

    def _plan(self, graph: ir.Graph, op: ir.Operator) -> _Plan | None:
        plan = plan_removal(graph, op)
        if plan is None:
            return None
        name = graph.tensors[op.outputs[0]].name
        if plan.kept and name not in self.reported:
            self.reported.add(name)
            reasons = sorted(set(plan.kept.values()))
            log.info("%s #%d (%s): %d zero filter(s) kept: %s", op.op, op.index, name, len(plan.kept),
                     "; ".join(reasons))
        if not plan.removed or not _fold_fits(graph, plan):
            return None
        return plan

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        return self._plan(graph, op) is not None

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        plan = self._plan(graph, op)
        if plan is None:
            raise RuntimeError(f"operator {op.index} ({op.op}) matched but has no removable filters")
        n = len(plan.removed[op.outputs[0]])
        total = graph.tensors[op.outputs[0]].shape[-1]
        readers = sorted({r.index for t in plan.removed for r in graph.consumers.get(t, [])
                          if isinstance(r, (ir.Conv2D, ir.FullyConnected))})
        group = sorted({p.index for t in plan.removed if (p := graph.producers.get(t)) is not None
                        and p is not op and isinstance(p, _PRODUCERS) and t == p.outputs[0]})
        also = f" with the matching filters of layer(s) {', '.join(f'#{i}' for i in group)}" if group else ""
        log.info("%s #%d (%s): removed %d zero filter(s) of %d%s and the input channels of layer(s) %s", op.op,
                 op.index, graph.tensors[op.outputs[0]].name, n, total, also, ", ".join(f"#{i}" for i in readers))
        return apply_removal(graph, plan)


def removed_channels(before: ir.Graph, after: ir.Graph) -> dict[str, tuple[int, int]]:
    """{producer output tensor name: (channels before, channels after)} for CONV_2D / FULLY_CONNECTED layers whose
    output lost channels (the same operators, in the same order, before and after the pass)."""
    out = {}
    for a, b in zip(before.operators, after.operators, strict=True):
        if isinstance(a, _PRODUCERS):
            n0 = before.tensors[a.outputs[0]].shape[-1]
            n1 = after.tensors[b.outputs[0]].shape[-1]
            if n1 != n0:
                out[before.tensors[a.outputs[0]].name] = (int(n0), int(n1))
    return out


__all__ = ["RemovePrunedChannels", "apply_removal", "plan_removal", "removed_channels"]
