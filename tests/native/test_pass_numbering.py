"""The native backend runs the graph passes before lowering: layers (P_NUM_LAYERS, P_layer_name, the layer
hook) count the operators after the passes, and the host build reports the same numbering."""

from __future__ import annotations

import ctypes

import numpy as np

from codegen import host, ir
from codegen.backend.native import generate, layer_names, plan


def _t(i: int, shape: tuple[int, ...], data: np.ndarray | None = None) -> ir.Tensor:
    return ir.Tensor(index=i, name=f"t{i}", shape=shape, dtype=ir.DType.FLOAT32, data=data, quant=None)


def _conv_relu6_graph() -> tuple[ir.Graph, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    w = rng.uniform(-2, 2, size=(3, 1, 1, 4)).astype(np.float32)
    b = rng.uniform(-1, 1, size=(3,)).astype(np.float32)
    tensors = (
        _t(0, (1, 2, 3, 4)),
        _t(1, (3, 1, 1, 4), w),
        _t(2, (3,), b),
        _t(3, (1, 2, 3, 3)),
        _t(4, (1, 2, 3, 3)),
    )
    ops = (
        ir.Conv2D(index=0, inputs=(0, 1, 2), outputs=(3,)),
        ir.Relu6(index=1, inputs=(3,), outputs=(4,)),
    )
    graph = ir.Graph(name="conv_relu6", tensors=tensors, operators=ops, inputs=(0,), outputs=(4,))
    return graph, w, b


def test_fused_activation_counts_as_one_layer_in_the_generated_api(tmp_path) -> None:  # noqa: ANN001
    graph, w, b = _conv_relu6_graph()
    sources = generate(graph)
    assert sources.num_layers == 1
    assert layer_names(graph) == ("CONV_2D",)
    assert "#define CG_NET_NUM_LAYERS 1" in sources.files["cg_net.h"].decode()
    assert plan(graph).arena_bytes <= sources.arena_bytes

    model = host.compile(graph, cache_dir=tmp_path)
    lib = model._lib
    assert lib is not None
    lib.cg_net_layer_name.restype = ctypes.c_char_p
    lib.cg_net_layer_name.argtypes = [ctypes.c_int]
    assert [lib.cg_net_layer_name(i).decode() for i in range(sources.num_layers)] == list(layer_names(graph))

    hook_type = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)
    seen: list[int] = []
    hook = hook_type(lambda layer, _user: seen.append(layer))
    lib.cg_net_set_layer_hook.argtypes = [hook_type, ctypes.c_void_p]
    lib.cg_net_set_layer_hook(hook, None)
    try:
        x = np.random.default_rng(4).uniform(-3, 3, size=(1, 2, 3, 4)).astype(np.float32)
        (y,) = model.predict(x)
    finally:
        lib.cg_net_set_layer_hook(hook_type(), None)
    assert seen == [0]
    expected = np.clip(np.einsum("nhwc,oc->nhwo", x, w[:, 0, 0, :]) + b, 0.0, 6.0)
    np.testing.assert_allclose(y.reshape(expected.shape), expected, rtol=1e-5, atol=1e-5)
