"""A tiny stand-in for ``codegen.backend.native.generate``: same C API, trivial arithmetic.

The fake network has two layers. Layer 0 ("SUM") writes the int32 sum of the input bytes (as signed int8);
layer 1 ("FILL") writes output[j] = (sum + j) mod 256 for every output byte. :func:`reference` computes it
on the host, so serial tests can check INFER results byte for byte without the real backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codegen.ir import Graph
from codegen.resources import resource_path

_DTYPES = {
    "int8": "CG_DTYPE_INT8",
    "uint8": "CG_DTYPE_UINT8",
    "int16": "CG_DTYPE_INT16",
    "int32": "CG_DTYPE_INT32",
    "float32": "CG_DTYPE_FLOAT32",
}


@dataclass(frozen=True)
class FakeSources:
    files: dict[str, bytes]
    arena_bytes: int
    weight_bytes: int
    num_layers: int
    prefix: str


def _info(t) -> str:
    dims = list(t.shape) + [0] * (6 - len(t.shape))
    scale = t.quant.scale[0] if t.quant is not None else 0.0
    zp = t.quant.zero_point[0] if t.quant is not None else 0
    return (
        f"{{{_DTYPES[t.dtype.value]}, {len(t.shape)}, {{{', '.join(map(str, dims))}}}, {scale!r}f, {zp}, "
        f"{t.nbytes}u}}"
    )


def generate(graph: Graph, prefix: str = "cg_net", options: object = None) -> FakeSources:
    inp = graph.input_tensors[0]
    out = graph.output_tensors[0]
    p = prefix
    P = prefix.upper()  # noqa: N806 - the contract's macro prefix
    n_in, n_out = inp.nbytes, out.nbytes
    arena = ((n_in + 4 + n_out + 15) // 16) * 16
    header = f"""/* fake network for tests */
#ifndef {p.upper()}_H
#define {p.upper()}_H
#include <stdint.h>
#include "cg_types.h"
#include "cg_status.h"
#define {P}_NUM_INPUTS 1
#define {P}_NUM_OUTPUTS 1
#define {P}_NUM_LAYERS 2
#define {P}_ARENA_SIZE {arena}
#define {P}_MODEL_SHA256 "{graph.sha256}"
#define {P}_TOOL_VERSION "fake 0"
cg_status {p}_init(void);
cg_status {p}_run(void);
void *{p}_input(int i);
void *{p}_output(int i);
const cg_tensor_info *{p}_input_info(int i);
const cg_tensor_info *{p}_output_info(int i);
void {p}_set_layer_hook(cg_layer_hook hook, void *user);
const char *{p}_layer_name(int layer);
const void *{p}_layer_output(int layer, uint32_t *nbytes);
#endif
"""
    source = f"""/* fake network for tests */
#include "{p}.h"
static uint8_t arena[{arena}] CG_ALIGN(16);
static const cg_tensor_info in_info = {_info(inp)};
static const cg_tensor_info out_info = {_info(out)};
static cg_layer_hook hook_fn;
static void *hook_user;
static int ready;
cg_status {p}_init(void) {{ ready = 1; return CG_OK; }}
void *{p}_input(int i) {{ return i == 0 ? arena : 0; }}
void *{p}_output(int i) {{ return i == 0 ? arena + {n_in} + 4 : 0; }}
const cg_tensor_info *{p}_input_info(int i) {{ return i == 0 ? &in_info : 0; }}
const cg_tensor_info *{p}_output_info(int i) {{ return i == 0 ? &out_info : 0; }}
void {p}_set_layer_hook(cg_layer_hook hook, void *user) {{ hook_fn = hook; hook_user = user; }}
const char *{p}_layer_name(int layer) {{ return layer == 0 ? "SUM" : layer == 1 ? "FILL" : 0; }}
const void *{p}_layer_output(int layer, uint32_t *nbytes)
{{
    if (layer == 0) {{ *nbytes = 4; return arena + {n_in}; }}
    if (layer == 1) {{ *nbytes = {n_out}; return arena + {n_in} + 4; }}
    *nbytes = 0;
    return 0;
}}
cg_status {p}_run(void)
{{
    if (!ready) return CG_ERR_NOT_INIT;
    int32_t sum = 0;
    for (uint32_t i = 0; i < {n_in}u; i++) sum += (int8_t)arena[i];
    for (int k = 0; k < 4; k++) arena[{n_in} + k] = (uint8_t)((uint32_t)sum >> (8 * k));
    if (hook_fn) hook_fn(0, hook_user);
    for (uint32_t j = 0; j < {n_out}u; j++) arena[{n_in} + 4 + j] = (uint8_t)((uint32_t)sum + j);
    if (hook_fn) hook_fn(1, hook_user);
    return CG_OK;
}}
"""
    rt = resource_path("runtime") / "include"
    files = {
        f"{p}.h": header.encode(),
        f"{p}.c": source.encode(),
        "cg_types.h": (rt / "cg_types.h").read_bytes(),
        "cg_status.h": (rt / "cg_status.h").read_bytes(),
    }
    return FakeSources(files=files, arena_bytes=arena, weight_bytes=0, num_layers=2, prefix=prefix)


def reference(input_bytes: bytes, n_out: int) -> tuple[bytes, bytes]:
    """(layer 0 output, layer 1 output) of the fake network for one input."""
    total = int(np.frombuffer(input_bytes, dtype=np.int8).astype(np.int64).sum())
    layer0 = (total & 0xFFFFFFFF).to_bytes(4, "little")
    layer1 = bytes((total + j) & 0xFF for j in range(n_out))
    return layer0, layer1
