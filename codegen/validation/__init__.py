"""Model validation: the pass between the reader and everything else (TFLM's Prepare, done once in Python).

``validate_graph(graph)`` checks a freshly read :class:`codegen.ir.Graph` and raises
:class:`codegen.errors.InconsistentModelError` (exit 2, one line) on the first problem:

1. structure (:mod:`codegen.validation.structure`): every operand index in range, graph inputs are not
   constants and not written by an operator, outputs exist and are written, every activation an operator reads
   is written before, shapes have no dimension < 1, quantization parameters are finite, positive and per-channel
   lengths match the quantized dimension;
2. operators (:mod:`codegen.validation.rules`): for each operator with a registered shape rule, its number of
   operands, which ones may be absent (-1), its integer parameters (strides, dilations, filter sizes,
   depth multiplier >= 1) and its output shape **recomputed** from the inputs and parameters.

Operators without a rule (e.g. ones only ``analyze`` reads) get the structural checks only. Every operator a
backend can generate must have a rule (``tests/safety/test_validation.py`` checks it).

Adding a rule for a new operator: in :mod:`codegen.validation.rules` (or a new module imported at the end of
it), write one function decorated with :func:`shape_rule`::

    @shape_rule("SQUARED_DIFFERENCE", inputs=2)
    def _squared_difference(c: OpCheck) -> Shape:
        return c.broadcast(c.input(0).shape, c.input(1).shape)

The function receives an :class:`OpCheck` (``c.input(i)``, ``c.optional(i)``, ``c.const(i)``, ``c.require``,
``c.fail``) and returns the expected shape of output 0 (or a list with one shape per output, or ``None`` when it
compared the outputs itself). The framework compares and words the error.
"""

from codegen.validation.rules import SHAPE_RULES, OpCheck, Shape, ShapeRule, shape_rule
from codegen.validation.structure import validate_graph

__all__ = ["SHAPE_RULES", "OpCheck", "Shape", "ShapeRule", "shape_rule", "validate_graph"]
