"""Huffman-packed weights in generated code: the native backend's :class:`ConstantCodec`, the choice of
decode mode, and the byte accounting printed on generation.

Decode modes (``NativeOptions.decode``):

* ``"layer"``: every blob is CRC-checked once in ``P_init``; right before its layer, ``P_run`` decodes it
  (without CRC) into an arena region reserved for that layer only. RAM cost: the largest decoded layer plus
  the decoder scratch, both in the memory plan. Flash holds only the blobs.
* ``"init"``: ``P_init`` checks and decodes every blob once into a static RAM buffer; ``P_run`` costs nothing
  extra. RAM cost: all decoded weights.

:func:`resolve` picks ``none`` / ``init`` / ``layer`` for ``--compress auto``; :func:`native_options` turns CLI
flags into :class:`NativeOptions`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from codegen.backend.native.layers import ConstArray
from codegen.backend.native.weights import EncodedBlob, StoredConstant
from codegen.compress.huffman import DEFAULT_MIN_BYTES, SCRATCH_BYTES, encode, encode_if_smaller
from codegen.errors import CodegenError
from codegen.resources import resource_path

if TYPE_CHECKING:
    from codegen.backend.native.emitter import NativeOptions, NativeSources
    from codegen.boards import Board
    from codegen.ir import Graph

log = logging.getLogger(__name__)

DecodeMode = Literal["layer", "init"]
COMPRESS_CHOICES = ("none", "huffman", "auto")
# Ops whose weights are read once per inference: not worth decoding before every run (auto mode).
READ_ONCE_OPS = frozenset({"FULLY_CONNECTED"})
DECODE_CHOICES = ("auto", "layer", "init")
DECODER_SOURCES = (
    "cg_huffman_check.c",
    "cg_huffman_crc32.c",
    "cg_huffman_decode_nocrc_s8.c",
    "cg_huffman_get_scratch_size.c",
)
DECODER_HEADERS = ("cg_huffman.h", "cg_huffman_tables.h", "cg_nn_huffman.h")
# A weight with many zeros is stored sparse (bitmap + non-zero values, cg_sparse_decode_s8: several times faster to
# decode than Huffman) when that takes at most SPARSE_MAX_SHARE of its raw bytes (about a third of the weights
# zero) and at most SPARSE_OVER_HUFFMAN times its Huffman blob's bytes.
SPARSE_MAX_SHARE = 0.8
SPARSE_OVER_HUFFMAN = 1.15
# --decode auto decodes at init only if that adds at most this much static RAM (issue #16: never silently more
# than a few KB); otherwise per layer, in the arena.
AUTO_INIT_MAX_DECODED_BYTES = 4 * 1024
# RAM the firmware needs besides the arena (stack, I/O buffers): the project writer's estimate.
RAM_RESERVE_BYTES = 8 * 1024
# Thumb-2 code size of DECODER_SOURCES (arm-none-eabi-gcc -O2 -mcpu=cortex-m4, as the firmware builds it), used when the
# toolchain is missing; tests/compress/test_codegen_integration.py checks it against a real build. Recorded with
# Debian 12's arm-none-eabi-gcc 12.2 (before cg_huffman_begin was shared with the kernels that decode as they read:
# 2,020 B, and 1,984 B with Debian 13's GCC 14.2).
DECODER_CODE_BYTES_RECORDED = 2168
DECODER_CODE_BYTES_RECORDED_GCC_MAJOR = 12


def sparse_blob(values: Any) -> bytes | None:
    """``values`` (int8, flattened) as a bitmap of its non-zero elements (least significant bit first) followed
    by their values, the format ``cg_sparse_decode_s8`` expands; None if not int8.

    >>> sparse_blob(np.array([0, 5, 0, 0, 0, 0, 0, 0, -1], dtype=np.int8)).hex()
    '020105ff'
    """
    flat = np.asarray(values).reshape(-1)
    if flat.dtype != np.int8:
        return None
    nz = flat != 0
    return np.packbits(nz, bitorder="little").tobytes() + flat[nz].tobytes()


def _runtime() -> Path:
    return resource_path("runtime")


@dataclass(frozen=True)
class HuffmanCodec:
    """Stores an int8 weight array as a Huffman blob when the blob (header and table included) is smaller
    than the raw bytes and the array has at least ``min_bytes`` bytes; everything else, and the constants
    named in ``exclude``, stays raw."""

    min_bytes: int = DEFAULT_MIN_BYTES
    exclude: frozenset[str] = frozenset()
    name: str = "huffman"

    def encode(self, const: ConstArray, force: bool = False) -> EncodedBlob | None:
        if force:  # a kernel reads the blob itself (lower/stream.py)
            blob = encode(const.values)
        elif const.name in self.exclude:
            return None
        else:
            blob = encode_if_smaller(const.values, self.min_bytes)
        if blob is None:
            return None
        rt = _runtime()
        sparse = None if force else sparse_blob(const.values)
        if (sparse is not None and len(sparse) <= SPARSE_MAX_SHARE * const.nbytes
                and len(sparse) <= SPARSE_OVER_HUFFMAN * blob.blob_bytes):
            bitmap = (const.values.size + 7) // 8
            return EncodedBlob(
                data=sparse,
                decoder="cg_sparse_decode_s8",
                sources=(rt / "src" / "huffman" / "cg_sparse_decode_s8.c",),
                headers=tuple(rt / "include" / h for h in DECODER_HEADERS),
                table_bytes=bitmap,
                coded_bytes=len(sparse) - bitmap,
            )
        return EncodedBlob(
            data=blob.data,
            decoder="cg_huffman_decode_nocrc_s8",
            sources=tuple(rt / "src" / "huffman" / s for s in DECODER_SOURCES),
            headers=tuple(rt / "include" / h for h in DECODER_HEADERS),
            check="cg_huffman_check",
            scratch_bytes=SCRATCH_BYTES,
            table_bytes=blob.table_bytes,
            coded_bytes=blob.coded_bytes,
            header_bytes=blob.header_bytes,
        )


# ---------------------------------------------------------------------------------------------- mode choice


@dataclass(frozen=True)
class ModeChoice:
    """What ``--compress``/``--decode`` resolved to, and why."""

    compress: Literal["none", "huffman"]
    decode: DecodeMode
    reason: str
    exclude: frozenset[str] = frozenset()  # constants kept raw although Huffman would shrink them


def _generate(graph: Graph, prefix: str, options: NativeOptions | None) -> NativeSources:
    from codegen.backend.native import generate

    return generate(graph, prefix=prefix, options=options)


def resolve(
    graph: Graph,
    compress: str = "auto",
    decode: str = "auto",
    board: Board | None = None,
    prefix: str = "cg_net",
    min_bytes: int = DEFAULT_MIN_BYTES,
) -> ModeChoice:
    """Resolve ``--compress none|huffman|auto`` and ``--decode auto|layer|init`` for ``graph`` on ``board``.

    ``auto`` compression: none if no weight gets smaller, or if the bytes saved do not pay for the decoder's
    code. ``auto`` decode: "init" when the decoded weights plus the arena fit the board's RAM and the decoded
    weights take at most :data:`AUTO_INIT_MAX_DECODED_BYTES` (always when no board is known), else "layer" with
    the weights of :data:`READ_ONCE_OPS` kept raw (each is read once per inference, so decoding it before its
    layer costs more than the layer); if that leaves nothing worth coding, no compression. A forced
    ``--decode layer`` codes every weight that gets smaller."""
    if compress not in COMPRESS_CHOICES:
        raise CodegenError(f"--compress {compress!r} is unknown", hint="use none, huffman or auto")
    if decode not in DECODE_CHOICES:
        raise CodegenError(f"--decode {decode!r} is unknown", hint="use auto, layer or init")
    if compress == "none":
        return ModeChoice("none", "layer", "compression off")
    from codegen.backend.native.emitter import NativeOptions

    codec = HuffmanCodec(min_bytes)
    if board is not None and decode != "init":
        in_place = _read_in_place(graph, prefix, codec, board)
        if in_place is not None:
            return in_place
    init = _generate(graph, prefix, NativeOptions(codec=codec, decode="init"))
    blobs = [s for s in init.constants if s.blob is not None]
    if compress == "auto":
        if not blobs:
            return ModeChoice("none", "layer", "no weight tensor gets smaller with Huffman coding")
        saved = sum(s.const.nbytes - s.stored_bytes for s in blobs)
        code, _ = decoder_code_bytes()
        if saved <= code:
            return ModeChoice(
                "none", "layer", f"Huffman saves {saved:,} B of weights but the decoder adds {code:,} B of code"
            )
    if decode != "auto":
        return ModeChoice("huffman", decode, f"--decode {decode}")  # type: ignore[arg-type]
    if board is None:
        return ModeChoice("huffman", "init", "no board given: decode once at init")
    need = init.arena_bytes + init.decoded_bytes + RAM_RESERVE_BYTES
    if need <= board.ram_bytes and init.decoded_bytes <= AUTO_INIT_MAX_DECODED_BYTES:
        return ModeChoice(
            "huffman", "init", f"decoded weights + arena + reserve = {need:,} B fit {board.ram_bytes:,} B RAM"
        )
    if need > board.ram_bytes:
        over = f"decoded weights + arena + reserve = {need:,} B exceed {board.ram_bytes:,} B RAM"
    else:
        over = (f"decoding at init would add {init.decoded_bytes:,} B of static RAM (auto adds at most "
                f"{AUTO_INIT_MAX_DECODED_BYTES:,} B; --decode init forces it)")
    once = frozenset(n for n, op in init.const_ops if op in READ_ONCE_OPS) & {s.const.name for s in blobs}
    capped = _cap_decode_buffers(graph, prefix, min_bytes, once, board)
    exclude = once | capped
    saved = sum(s.const.nbytes - s.stored_bytes for s in blobs if s.const.name not in exclude)
    if saved == 0 or (compress == "auto" and saved <= decoder_code_bytes()[0]):
        return ModeChoice(
            "none", "layer", f"{over}, and per-layer decoding pays only for convolution weights, which would "
            f"save {saved:,} B: weights stay raw (force with --decode layer)"
        )
    note = f"; {len(once)} fully connected weight(s) stay raw (read once per inference)" if once else ""
    if capped:
        note += (f"; {len(capped)} more weight(s) stay raw so that the decode buffers add at most "
                 f"{AUTO_INIT_MAX_DECODED_BYTES:,} B to the arena")
    return ModeChoice("huffman", "layer", f"{over}: decode per layer{note}", exclude)


def _read_in_place(graph: Graph, prefix: str, codec: HuffmanCodec, board: Board) -> ModeChoice | None:
    """Per-layer decoding when, on ``board``'s kernels, every compressed weight is read by its kernel where it lies
    (sparse layouts: convolutions expanded per block within their RAM budget, fully connected layers skipping
    zeros): no decoder, no decoded copy, about the speed of decoding at init; None otherwise."""
    from codegen.backend.native.emitter import NativeOptions

    layer = _generate(graph, prefix, NativeOptions(codec=codec, decode="layer", core=board.core))
    if any(s.blob is not None for s in layer.constants):
        return None
    plain = _generate(graph, prefix, NativeOptions(core=board.core))
    saved = plain.weight_bytes - layer.weight_bytes
    if saved <= 0:
        return None
    return ModeChoice(
        "huffman", "layer", f"every compressed weight is read in place by its kernel (sparse layouts, no decoder): "
        f"{saved:,} B less flash, arena {layer.arena_bytes - plain.arena_bytes:+,} B"
    )


def _cap_decode_buffers(
    graph: Graph, prefix: str, min_bytes: int, exclude: frozenset[str], board: Board
) -> frozenset[str]:
    """Weights to keep raw, largest first, so that per-layer decoding grows the arena by at most
    :data:`AUTO_INIT_MAX_DECODED_BYTES` over the same network with every weight raw (issue #16: ``auto`` never
    silently adds more than a few KB)."""
    from codegen.backend.native.emitter import NativeOptions

    def layer(keep: frozenset[str]) -> NativeSources:
        codec = HuffmanCodec(min_bytes, exclude=keep)
        return _generate(graph, prefix, NativeOptions(codec=codec, decode="layer", core=board.core))

    first = layer(exclude)
    coded = frozenset(s.const.name for s in first.constants if s.blob is not None)
    base = layer(exclude | coded).arena_bytes
    capped: frozenset[str] = frozenset()
    current = first
    while current.arena_bytes - base > AUTO_INIT_MAX_DECODED_BYTES:
        left = [s for s in current.constants if s.blob is not None and s.const.name not in exclude | capped]
        if not left:
            break
        biggest = max(left, key=lambda s: (s.const.nbytes, s.const.name))
        capped |= {biggest.const.name}
        current = layer(exclude | capped)
    return capped


def native_options(
    graph: Graph,
    compress: str = "none",
    decode: str = "auto",
    board: Board | None = None,
    prefix: str = "cg_net",
) -> tuple[NativeOptions, ModeChoice]:
    """The :class:`NativeOptions` for CLI flags (``--huffman`` is ``compress="huffman"``)."""
    from codegen.backend.native.emitter import NativeOptions

    choice = resolve(graph, compress, decode, board, prefix)
    if choice.compress == "none":
        return NativeOptions(), choice
    return NativeOptions(codec=HuffmanCodec(exclude=choice.exclude), decode=choice.decode), choice


def add_flags(parser: Any) -> None:
    """Add ``--huffman``, ``--compress`` and ``--decode`` to an argparse parser."""
    parser.add_argument(
        "--huffman", action="store_true", help="store weights as Huffman blobs where smaller (= --compress huffman)"
    )
    parser.add_argument(
        "--compress",
        choices=COMPRESS_CHOICES,
        default=None,
        help="weight compression: none (default), huffman, or auto (huffman only if some weight gets smaller)",
    )
    parser.add_argument(
        "--decode",
        choices=DECODE_CHOICES,
        default="auto",
        help="where compressed weights are decoded: init (once, into RAM), layer (before each layer, into "
        "the arena), auto (init if it fits the board's RAM and adds at most 4 KiB, else layer)",
    )


def compress_flag(args: Any) -> str:
    """The effective ``--compress`` value of parsed CLI ``args``."""
    if getattr(args, "huffman", False):
        if args.compress not in (None, "huffman"):
            raise CodegenError(
                f"--huffman contradicts --compress {args.compress}", hint="pass only one of them"
            )
        return "huffman"
    if args.compress is None and getattr(args, "decode", "auto") != "auto":
        raise CodegenError("--decode needs compressed weights", hint="add --huffman")
    return args.compress or "none"


class NetworkGenerator:
    """A ``(graph, prefix) -> NativeSources`` callable for the project writer (its ``network`` argument),
    with compression resolved for ``board``; ``last`` keeps the latest sources for :func:`accounting`."""

    def __init__(self, compress: str, decode: str, board: Board | None) -> None:
        self.compress, self.decode, self.board = compress, decode, board
        self.last: NativeSources | None = None
        self.choice: ModeChoice | None = None

    def __call__(self, graph: Graph, prefix: str) -> NativeSources:
        options, self.choice = native_options(graph, self.compress, self.decode, self.board, prefix)
        if self.board is not None:  # the kernels for the board's core (DSP variants on Cortex-M4/M7)
            options = dataclasses.replace(options, core=self.board.core)
        log.info("weights: %s, decode %s (%s)", self.choice.compress, self.choice.decode, self.choice.reason)
        self.last = _generate(graph, prefix, options)
        return self.last


# ---------------------------------------------------------------------------------------------- accounting


@dataclass(frozen=True)
class StoredWeight:
    name: str
    ctype: str
    raw_bytes: int
    stored_bytes: int
    encoded: bool
    header_bytes: int
    table_bytes: int
    coded_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "ctype": self.ctype, "encoded": self.encoded, "raw_bytes": self.raw_bytes,
            "stored_bytes": self.stored_bytes, "header_bytes": self.header_bytes,
            "table_bytes": self.table_bytes, "coded_bytes": self.coded_bytes,
        }


@dataclass(frozen=True)
class WeightAccounting:
    """What the generated code stores for its weights (flash) and what decoding costs (RAM, code)."""

    weights: tuple[StoredWeight, ...]
    decode: str
    decoded_ram_bytes: int
    arena_bytes: int
    decoder_code_bytes: int | None
    decoder_code_source: str

    @property
    def raw_bytes(self) -> int:
        return sum(w.raw_bytes for w in self.weights)

    @property
    def stored_bytes(self) -> int:
        return sum(w.stored_bytes for w in self.weights)

    def total(self, field_name: str) -> int:
        return sum(getattr(w, field_name) for w in self.weights)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decode": self.decode,
            "raw_bytes": self.raw_bytes,
            "stored_bytes": self.stored_bytes,
            "saved_bytes": self.raw_bytes - self.stored_bytes,
            "header_bytes": self.total("header_bytes"),
            "table_bytes": self.total("table_bytes"),
            "coded_bytes": self.total("coded_bytes"),
            "encoded_tensors": sum(w.encoded for w in self.weights),
            "tensors": len(self.weights),
            "decoded_ram_bytes": self.decoded_ram_bytes,
            "arena_bytes": self.arena_bytes,
            "decoder_code_bytes": self.decoder_code_bytes,
            "decoder_code_source": self.decoder_code_source,
            "weights": [w.as_dict() for w in self.weights],
        }

    def format(self) -> str:
        rows = [("weight", "type", "raw B", "stored B", "header B", "table B", "coded B", "storage")]
        for w in self.weights:
            rows.append((w.name, w.ctype, f"{w.raw_bytes:,}", f"{w.stored_bytes:,}", str(w.header_bytes),
                         f"{w.table_bytes:,}", f"{w.coded_bytes:,}", "huffman" if w.encoded else "raw"))
        rows.append(("total", "", f"{self.raw_bytes:,}", f"{self.stored_bytes:,}",
                     f"{self.total('header_bytes'):,}", f"{self.total('table_bytes'):,}",
                     f"{self.total('coded_bytes'):,}", f"{sum(w.encoded for w in self.weights)} huffman"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.rjust(wd) if 2 <= i <= 6 else c.ljust(wd) for i, (c, wd) in
                           enumerate(zip(r, widths, strict=True))).rstrip() for r in rows]
        code = (f"{self.decoder_code_bytes:,} B ({self.decoder_code_source})"
                if self.decoder_code_bytes is not None else "none")
        ratio = self.stored_bytes / self.raw_bytes if self.raw_bytes else 1.0
        lines += [
            f"weights: {self.raw_bytes:,} B raw -> {self.stored_bytes:,} B stored ({ratio:.3f}x); "
            f"decode: {self.decode}; "
            + (f"decoded weights: {self.decoded_ram_bytes:,} B static RAM (decoded once in init)"
               if self.decode == "init" else
               f"decode buffers: up to {self.decoded_ram_bytes:,} B per layer (weights + decoder scratch), "
               "planned in the arena with the activations")
            + f"; arena {self.arena_bytes:,} B",
            f"decoder code: {code}",
        ]
        return "\n".join(lines)


def _weight_row(s: StoredConstant) -> StoredWeight:
    b = s.blob
    return StoredWeight(
        name=s.const.name,
        ctype=s.const.ctype,
        raw_bytes=s.const.nbytes,
        stored_bytes=s.stored_bytes,
        encoded=b is not None,
        header_bytes=b.header_bytes if b else 0,
        table_bytes=b.table_bytes if b else 0,
        coded_bytes=b.coded_bytes if b else 0,
    )


def accounting(sources: NativeSources) -> WeightAccounting:
    """Per-weight raw/stored/table/coded bytes of generated ``sources`` and the decoder's code size."""
    weights = tuple(_weight_row(s) for s in sources.constants if s.const.weight)
    encoded = any(w.encoded for w in weights)
    code, how = decoder_code_bytes() if encoded else (None, "no decoder linked")
    ram = sources.decoded_bytes
    if sources.decode == "layer" and sources.plan is not None:
        per_layer: dict[int, int] = {}
        for b in sources.plan.buffers:
            if b.kind == "decode":
                per_layer[b.first] = per_layer.get(b.first, 0) + b.size
        ram = max(per_layer.values(), default=0)
    return WeightAccounting(weights, sources.decode if encoded else "none", ram, sources.arena_bytes, code, how)


@functools.cache
def decoder_code_bytes() -> tuple[int, str]:
    """Code + read-only data bytes of the decoder functions the generated code links, for Cortex-M4
    (measured with arm-none-eabi-gcc -O2 when installed, else the recorded value)."""
    gcc = shutil.which("arm-none-eabi-gcc")
    size = shutil.which("arm-none-eabi-size")
    if gcc is None or size is None:
        return DECODER_CODE_BYTES_RECORDED, "recorded, arm-none-eabi-gcc -O2 cortex-m4"
    rt = _runtime()
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for src in DECODER_SOURCES:
            obj = Path(tmp) / (src + ".o")
            proc = subprocess.run(
                [gcc, "-O2", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
                 "-ffunction-sections", "-I", str(rt / "include"), "-c", str(rt / "src" / "huffman" / src),
                 "-o", str(obj)],
                capture_output=True, text=True, check=False,
            )
            if proc.returncode != 0:
                log.debug("decoder size build failed: %s", proc.stderr)
                return DECODER_CODE_BYTES_RECORDED, "recorded, arm-none-eabi-gcc -O2 cortex-m4"
            out = subprocess.run([size, str(obj)], capture_output=True, text=True, check=True).stdout
            text, data = out.splitlines()[1].split()[:2]
            total += int(text) + int(data)
    return total, "measured, arm-none-eabi-gcc -O2 cortex-m4"
