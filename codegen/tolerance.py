"""When two float results may differ, and by how much (docs/float-exactness.md).

Every build of the generated C (host, emulated and real boards) uses ``-ffp-contract=off`` and no fast-math, and
the float kernels sum in TFLM's order, so float32 results are bit-identical across targets and with TFLM's
reference kernels, with one exception: kernels that call a C library function with no correctly rounded
guarantee (``expf``, ``tanhf``). Their last bits depend on the target's libm (glibc on the host and in the
tflite-micro package, newlib on the Arm and RISC-V boards). A float model that uses such an operator is compared
within :data:`LIBM_ATOL` + :data:`LIBM_RTOL` * ``|reference|`` per output element; every other model exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codegen import ir

#: float32 operators whose kernels call a libm function that is not correctly rounded, with that function
LIBM_OPS: dict[str, str] = {"LOGISTIC": "expf", "SOFTMAX": "expf", "TANH": "tanhf", "EXP": "expf",
                             "UNIDIRECTIONAL_SEQUENCE_LSTM": "expf, tanhf"}
#: tolerance for models with one of :data:`LIBM_OPS`: libm ulp differences (a few parts in 1e7), grown through
#: the layers after the operator; 100x margin over the largest difference measured on the emulated boards
LIBM_ATOL = 1e-5
LIBM_RTOL = 1e-4


@dataclass(frozen=True)
class FloatTolerance:
    """``|a - b| <= atol + rtol * |b|`` element-wise, because of ``ops`` (op name, libm function)."""

    ops: tuple[tuple[str, str], ...]
    atol: float = LIBM_ATOL
    rtol: float = LIBM_RTOL

    def within(self, a: np.ndarray, b: np.ndarray) -> bool:
        a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64).reshape(np.shape(a))
        return bool(np.all(np.abs(a64 - b64) <= self.atol + self.rtol * np.abs(b64)))

    def describe(self) -> str:
        ops = ", ".join(f"{op} ({fn})" for op, fn in self.ops)
        return f"|diff| <= {self.atol:g} + {self.rtol:g}*|ref| (libm in {ops}; docs/float-exactness.md)"


def float_tolerance(graph: ir.Graph) -> FloatTolerance | None:
    """The tolerance float outputs of ``graph`` are compared with, or None when they must be bit-identical."""
    ops = []
    for op in graph.operators:
        fn = LIBM_OPS.get(op.op)
        ins = [graph.tensors[t] for t in op.inputs if t >= 0]
        if fn and any(t.dtype is ir.DType.FLOAT32 and not t.is_constant for t in ins):
            ops.append((op.op, fn))
    return FloatTolerance(tuple(sorted(set(ops)))) if ops else None
