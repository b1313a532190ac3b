"""In-process fake devices that implement codegen.hil.validate.Target on top of a host function."""

from __future__ import annotations

from collections.abc import Callable

from codegen.hil.validate import TOOL_VERSION, DeviceInfo, DeviceResetError, Inference, LinkStats


class FakeTarget:
    """Answers like a board running ``fn``; knobs inject the faults the tests need."""

    def __init__(self, fn: Callable[[bytes], bytes], sha256: str, *, num_layers: int = 3,
                 corrupt_at: frozenset[int] = frozenset(), reset_at: frozenset[int] = frozenset(),
                 tool_version: str = TOOL_VERSION, counter_kind: str = "instructions (QEMU icount)") -> None:
        self.fn = fn
        self.sha256 = sha256
        self.num_layers = num_layers
        self.corrupt_at = corrupt_at
        self.reset_at = set(reset_at)
        self.tool_version = tool_version
        self.counter_kind = counter_kind
        self.calls = 0
        self.info_calls = 0

    def info(self) -> DeviceInfo:
        self.info_calls += 1
        return DeviceInfo(self.sha256, self.tool_version, "fake", self.counter_kind, 168_000_000, self.num_layers)

    def infer(self, data: bytes) -> Inference:
        i = self.calls
        self.calls += 1
        if i in self.reset_at:
            self.reset_at.discard(i)
            raise DeviceResetError("READY received while waiting for the INFER reply")
        out = bytearray(self.fn(data))
        if i in self.corrupt_at:
            out[0] = (out[0] + 1) % 256
        return Inference(bytes(out), 100_000 + 10 * (i % 7))

    def profile(self, data: bytes) -> tuple[tuple[str, int], ...]:
        return tuple(("", 1000 * (k + 1)) for k in range(self.num_layers))

    def layer_outputs(self, data: bytes) -> tuple[bytes, ...]:
        out = [bytes([k] * 8) for k in range(self.num_layers)]
        out[1] = bytes([1] * 7 + [5])
        return tuple(out)

    def link_stats(self) -> LinkStats:
        return LinkStats()
