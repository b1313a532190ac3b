"""Op lowerings, one module per op family. Importing this package registers them all."""

from codegen.backend.native.lower import activation, conv, elementwise, layout, math, pool, quant, shape  # noqa: F401
