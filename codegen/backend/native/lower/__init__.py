"""Op lowerings, one module per op family. Importing this package registers them all."""

from codegen.backend.native.lower import (  # noqa: F401
    activation,
    arg,
    conv,
    elementwise,
    layout,
    lstm,
    math,
    pool,
    quant,
    shape,
    svdf,
    transpose_conv,
)
