"""Native backend: the model as generated C calling our own kernels (no interpreter on the device)."""

from codegen.backend.native.emitter import IOSpec, NativeOptions, NativeSources, generate
from codegen.backend.native.planner import MemoryPlan, plan
from codegen.backend.native.program import layer_names, native_graph

__all__ = ["IOSpec", "MemoryPlan", "NativeOptions", "NativeSources", "generate", "layer_names", "native_graph", "plan"]
