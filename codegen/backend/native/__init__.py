"""Native backend: the model as generated C calling our own kernels (no interpreter on the device)."""

from codegen.backend.native.emitter import IOSpec, NativeOptions, NativeSources, generate
from codegen.backend.native.planner import MemoryPlan, plan

__all__ = ["IOSpec", "MemoryPlan", "NativeOptions", "NativeSources", "generate", "plan"]
