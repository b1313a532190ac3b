"""How constant arrays are stored in the generated C: the one step a compression codec plugs into.

By default every constant is a raw ``const`` array, 16-byte aligned, in flash. A :class:`ConstantCodec` may
return an :class:`EncodedBlob` for a weight array instead: the blob is emitted in its place and the generated
network decodes it, as ``NativeOptions.decode`` says:

* ``"layer"``: right before the layer that reads it, into a region of the arena that the planner reserves for
  that layer only;
* ``"init"``: once in ``P_init``, into a static RAM buffer ``P_decoded``.

If the blob has a ``check`` function, ``P_init`` runs it on every blob once (e.g. a CRC) and reports its failure.
The kernels only ever see the decoded copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from codegen.backend.native.layers import ConstArray, c_float


@dataclass(frozen=True)
class EncodedBlob:
    """A compressed constant. ``decoder`` is a C function
    ``cg_status decoder(const uint8_t *blob, uint32_t blob_bytes, void *dst, uint32_t dst_bytes)``, or with
    ``scratch_bytes > 0`` ``cg_status decoder(blob, blob_bytes, dst, dst_bytes, void *scratch, uint32_t
    scratch_bytes)`` (the planner reserves the scratch, 16-byte aligned). ``check``, if set, is
    ``cg_status check(const uint8_t *blob, uint32_t blob_bytes, uint32_t *count)``, run once per blob in
    ``P_init``. All are defined in ``sources`` (copied next to the generated files; ``headers`` declare them).
    ``header_bytes``/``table_bytes``/``coded_bytes`` are the codec's own accounting of ``data`` (informative)."""

    data: bytes
    decoder: str
    sources: tuple[Path, ...] = ()
    headers: tuple[Path, ...] = ()
    check: str | None = None
    scratch_bytes: int = 0
    header_bytes: int = 0
    table_bytes: int = 0
    coded_bytes: int = 0


class ConstantCodec(Protocol):
    name: str

    def encode(self, const: ConstArray, force: bool = False) -> EncodedBlob | None:
        """Return an encoded blob, or None to keep the array raw (``force``: always a blob, for kernels that
        read the blob itself)."""


@dataclass(frozen=True)
class StoredConstant:
    const: ConstArray
    symbol: str
    blob: EncodedBlob | None = None

    @property
    def stored_bytes(self) -> int:
        return len(self.blob.data) if self.blob else self.const.nbytes

    @property
    def declaration(self) -> str:
        if self.blob:
            return f"const uint8_t {self.symbol}[{max(len(self.blob.data), 1)}]"
        return f"const {self.const.ctype} {self.symbol}[{max(self.const.values.size, 1)}]"

    @property
    def body(self) -> str:
        if self.blob:
            return format_values(np.frombuffer(self.blob.data, dtype=np.uint8))
        return format_values(self.const.values)


def store_constants(
    consts: list[ConstArray], prefix: str, codec: ConstantCodec | None, streamed: frozenset[str] = frozenset()
) -> list[StoredConstant]:
    """Decide the storage of every constant (raw unless ``codec`` encodes a weight array; always encoded if
    ``streamed`` names it: its kernel reads the blob)."""
    stored = []
    for c in consts:
        if codec is None or not c.weight:
            blob = None
        else:
            blob = codec.encode(c, force=True) if c.name in streamed else codec.encode(c)
        suffix = "_blob" if blob else ""
        stored.append(StoredConstant(c, f"{prefix}_{c.name}{suffix}", blob))
    return stored


def format_values(values: np.ndarray, per_line: int = 16) -> str:
    """C initializer lines for ``values`` (flattened); deterministic."""
    flat = np.asarray(values).reshape(-1)
    if flat.size == 0:
        return "    0"
    if flat.dtype == np.float32:
        items = [c_float(float(v)) for v in flat]
        per_line = 8
    elif flat.dtype == np.int32:
        items = ["(-2147483647 - 1)" if int(v) == -(2**31) else str(int(v)) for v in flat]
        per_line = 12
    else:
        items = [str(int(v)) for v in flat]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("    " + line for line in lines)
