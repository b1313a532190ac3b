"""Huffman-packed int8 weight blobs: encoder, Python reference decoder and the per-tensor raw/huffman choice.

The blob format (version 1) is specified in ``docs/huffman-blob.md``; the C decoder that reads it on the
device is ``runtime/src/huffman/``. In short: a 24-byte header (magic ``CGHF``, CRC-32, version,
flags, longest code length, fill byte, element count, payload and table sizes), a table of 4-bit code lengths
and an MSB-first bitstream of canonical Huffman codes at most :data:`MAX_CODE_LEN` bits long.

The encoder tries a few layouts and keeps the smallest blob:

* plain: one literal code per element;
* gaps (flag ``GAPS``): a second code for the number of fill values (the most frequent value, the zero point
  after pruning) before each other value. Plain Huffman spends at least one bit per element, so a 75 % sparse
  tensor costs >= 0.75 bit per element for its zeros alone; coding gaps removes that floor;
* sign-magnitude (flag ``SIGNMAG``, with either): literals are magnitudes followed by a sign bit, which halves
  the code-length table (it matters for small tensors) and costs nothing on symmetric weight distributions.

A tensor that holds a single value is stored as a header only (flag ``CONST``).
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from dahuffman import HuffmanCodec

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

MAGIC = b"CGHF"
VERSION = 1
HEADER_BYTES = 24
MAX_CODE_LEN = 12
"""Longest code. 12 bits keeps the canonical fallback of the C decoder at <= 3 steps past its 9-bit table
and costs well under 0.1 % against unlimited Huffman on real weights (see benchmarks/compress/results.md)."""
LIT_BITS = 9
GAP_BITS = 7
GAP_ESCAPES = (8, 16, 32)
"""Escape values G the encoder tries: gap symbols 0..G-1 are gaps, symbol G stands for G fill values."""
MAX_GAP_SYMBOLS = 33
FLAG_CONST = 0x01
FLAG_GAPS = 0x02
FLAG_SIGNMAG = 0x04
SCRATCH_BYTES = 1728
"""Scratch the C decoder needs: must equal CG_HUFFMAN_SCRATCH_SIZE in runtime/include/cg_huffman.h."""
TABLE_PREFIX_BYTES = 3
DEFAULT_MIN_BYTES = 256
"""Tensors smaller than this stay raw: the saving cannot pay for the header, table and a decoder call."""

_HEADER = struct.Struct("<4sIBBBbIIHH")
if _HEADER.size != HEADER_BYTES:
    raise ImportError(f"Huffman header layout is {_HEADER.size} bytes, HEADER_BYTES says {HEADER_BYTES}")

Mode = Literal["const", "huffman", "huffman+gaps"]
Choice = Literal["raw", "huffman"]


class BlobError(CodegenError):
    """A Huffman blob failed its CRC or format checks (the Python counterpart of CG_ERR_CORRUPT)."""


@dataclass(frozen=True)
class HuffmanBlob:
    """An encoded tensor. ``data`` is the complete blob; the byte counts add up to ``len(data)``."""

    data: bytes
    count: int
    mode: Mode
    raw_bytes: int
    header_bytes: int
    table_bytes: int
    coded_bytes: int

    @property
    def blob_bytes(self) -> int:
        return len(self.data)

    @property
    def ratio(self) -> float:
        """Blob size over raw size (1.0 for an empty tensor)."""
        return self.blob_bytes / self.raw_bytes if self.raw_bytes else 1.0


@dataclass(frozen=True)
class _Header:
    crc: int
    version: int
    flags: int
    max_len: int
    fill: int
    count: int
    payload_bytes: int
    table_bytes: int
    reserved: int


def crc32(data: bytes) -> int:
    """CRC-32 of zlib/PNG/IEEE 802.3 (reflected polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF)."""
    return zlib.crc32(data) & 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------- code lengths


def _huffman_lengths(freqs: Mapping[int, int]) -> dict[int, int]:
    """Unlimited Huffman code lengths from dahuffman's code book (no end-of-file symbol: the header has the
    element count)."""
    if len(freqs) == 1:
        return {next(iter(freqs)): 1}
    # dahuffman adds an end-of-file symbol unless ``eof`` is one of the symbols; the element count in the
    # header makes it unnecessary, so name an existing symbol as eof and never use dahuffman's encoder.
    anchor = min(freqs)
    table = HuffmanCodec.from_frequencies(dict(sorted(freqs.items())), eof=anchor).get_code_table()
    return {int(s): int(bits) for s, (bits, _value) in table.items()}


def limit_lengths(lengths: Mapping[int, int], freqs: Mapping[int, int], limit: int) -> dict[int, int]:
    """Limit code lengths to ``limit`` bits keeping a prefix code (Kraft sum <= 1), with little loss.

    Clamp, then lengthen the least frequent of the longest codes still below the limit until the Kraft sum
    fits, then shorten the most frequent codes while there is room.
    """
    if len(lengths) > (1 << limit):
        raise ValueError(f"{len(lengths)} symbols cannot have codes of at most {limit} bits")
    lens = {s: max(1, min(int(n), limit)) for s, n in lengths.items()}
    cap = 1 << limit
    kraft = sum(1 << (limit - n) for n in lens.values())
    while kraft > cap:
        s = max((s for s in lens if lens[s] < limit), key=lambda s: (lens[s], -freqs[s], -s))
        kraft -= 1 << (limit - lens[s] - 1)
        lens[s] += 1
    by_freq = sorted(lens, key=lambda s: (-freqs[s], s))
    changed = True
    while changed and kraft < cap:
        changed = False
        for s in by_freq:
            n = lens[s]
            if n > 1 and kraft + (1 << (limit - n)) <= cap:
                kraft += 1 << (limit - n)
                lens[s] = n - 1
                changed = True
    return lens


def canonical_codes(lengths: Mapping[int, int]) -> dict[int, int]:
    """Canonical code of each symbol with a non-zero length: codes increase with (length, symbol)."""
    codes: dict[int, int] = {}
    code = 0
    prev = 0
    for s in sorted((s for s in lengths if lengths[s] > 0), key=lambda s: (lengths[s], s)):
        code <<= lengths[s] - prev
        prev = lengths[s]
        codes[s] = code
        code += 1
    return codes


# ---------------------------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class _Code:
    """A canonical code over ``lengths.size`` symbols (length 0 = unused symbol)."""

    lengths: np.ndarray
    codes: np.ndarray

    @staticmethod
    def build(syms: np.ndarray, nsym: int) -> _Code:
        freq = np.bincount(syms, minlength=nsym) if syms.size else np.zeros(nsym, dtype=np.int64)
        freqs = {s: int(f) for s, f in enumerate(freq.tolist()) if f}
        lengths = np.zeros(nsym, dtype=np.int64)
        codes = np.zeros(nsym, dtype=np.int64)
        if freqs:
            limited = limit_lengths(_huffman_lengths(freqs), freqs, MAX_CODE_LEN)
            for s, c in canonical_codes(limited).items():
                lengths[s] = limited[s]
                codes[s] = c
        return _Code(lengths, codes)


@dataclass(frozen=True)
class _Layout:
    """One way to code a tensor: flags, alphabets, and the bitstream as (code, length) pairs in order."""

    flags: int
    lit_first: int
    lit: _Code
    gap: _Code | None
    token_codes: np.ndarray
    token_lengths: np.ndarray

    @property
    def nsym(self) -> int:
        return self.lit.lengths.size + (self.gap.lengths.size if self.gap else 0)

    @property
    def table_bytes(self) -> int:
        return TABLE_PREFIX_BYTES + (self.nsym + 1) // 2

    @property
    def coded_bytes(self) -> int:
        return (int(self.token_lengths.sum()) + 7) // 8

    @property
    def blob_bytes(self) -> int:
        return HEADER_BYTES + self.table_bytes + self.coded_bytes

    @property
    def max_len(self) -> int:
        return max(int(self.lit.lengths.max()), int(self.gap.lengths.max()) if self.gap else 0)

    def table(self) -> bytes:
        lens = [self.lit.lengths] + ([self.gap.lengths] if self.gap else [])
        nib = np.concatenate(lens + ([np.zeros(1, dtype=np.int64)] if self.nsym % 2 else [])).astype(np.uint8)
        gap_syms = self.gap.lengths.size if self.gap else 0
        prefix = bytes([self.lit_first & 0xFF, self.lit.lengths.size - 1, gap_syms])
        return prefix + bytes((nib[0::2] << 4) | nib[1::2])


def _literal_tokens(values: np.ndarray, signmag: bool) -> tuple[int, _Code, np.ndarray, np.ndarray]:
    """Code for literal values: (lit_first, code, per-token code, per-token length); in sign-magnitude form a
    sign bit (1 = negative) follows the code of every non-zero magnitude."""
    v = values.astype(np.int64)
    if signmag:
        mag = np.abs(v)
        first = int(mag.min())
        code = _Code.build(mag - first, int(mag.max()) - first + 1)
        has_sign = (mag != 0).astype(np.int64)
        tok_code = (code.codes[mag - first] << has_sign) | (v < 0).astype(np.int64)
        return first, code, tok_code, code.lengths[mag - first] + has_sign
    first = int(v.min())
    code = _Code.build(v - first, int(v.max()) - first + 1)
    return first, code, code.codes[v - first], code.lengths[v - first]


def _layout(flat: np.ndarray, fill: int, gap_escape: int | None, signmag: bool) -> _Layout:
    """Plain layout (gap_escape None): one literal per element. Gap layout: before every non-fill literal a
    gap symbol g < G says g fill values come first; symbol G (the escape) stands for G fill values and is
    followed by another gap symbol. Fill values after the last literal are escapes plus a final gap."""
    flags = FLAG_SIGNMAG if signmag else 0
    if gap_escape is None:
        first, lit, codes, lengths = _literal_tokens(flat, signmag)
        return _Layout(flags, first, lit, None, codes, lengths)
    nz = np.flatnonzero(flat != fill)
    gaps = np.diff(np.concatenate(([-1], nz))) - 1
    trail = flat.size - 1 - int(nz[-1])
    g_max = max(int(gaps.max()), trail)
    esc = max(1, min(gap_escape, g_max + 1))
    first, lit, lit_codes, lit_lengths = _literal_tokens(flat[nz], signmag)
    n_esc = gaps // esc
    per = n_esc + 2
    group_start = np.cumsum(per) - per
    trail_tokens = trail // esc + (1 if trail % esc else 0)
    total = int(per.sum()) + trail_tokens
    gap_pos = group_start + n_esc
    gap_syms = np.full(total, esc, dtype=np.int64)
    gap_syms[gap_pos] = gaps % esc
    if trail % esc:
        gap_syms[-1] = trail % esc
    is_lit = np.zeros(total, dtype=bool)
    is_lit[gap_pos + 1] = True
    gap = _Code.build(gap_syms[~is_lit], esc + 1)
    codes = gap.codes[gap_syms]
    lengths = gap.lengths[gap_syms]
    codes[is_lit] = lit_codes
    lengths[is_lit] = lit_lengths
    return _Layout(flags | FLAG_GAPS, first, lit, gap, codes, lengths)


# ---------------------------------------------------------------------------------------------- encoder


def _pack(codes: np.ndarray, lengths: np.ndarray) -> bytes:
    """MSB-first bitstream of the codes, zero-padded to whole bytes."""
    width = MAX_CODE_LEN + 1
    left = codes.astype(np.int64) << (width - lengths)
    shifts = np.arange(width - 1, -1, -1)
    bits = ((left[:, None] >> shifts[None, :]) & 1).astype(np.uint8)
    mask = np.arange(width)[None, :] < lengths[:, None]
    return np.packbits(bits[mask]).tobytes()


def _assemble(flags: int, max_len: int, fill: int, count: int, table: bytes, payload: bytes) -> bytes:
    body = _HEADER.pack(MAGIC, 0, VERSION, flags, max_len, fill, count, len(payload), len(table), 0)[8:]
    body += table + payload
    return MAGIC + struct.pack("<I", crc32(body)) + body


def _as_int8(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype != np.int8:
        raise CodegenError(f"Huffman blobs hold int8 weights, got a {arr.dtype} tensor",
                           hint="keep non-int8 tensors raw (codegen.compress.huffman.choose does that)")
    return arr.reshape(-1)


def _mode(flags: int) -> Mode:
    if flags & FLAG_CONST:
        return "const"
    return "huffman+gaps" if flags & FLAG_GAPS else "huffman"


def encode(values: np.ndarray, *, gaps: bool | None = None, signmag: bool | None = None,
           fill: int | None = None) -> HuffmanBlob:
    """Encode an int8 tensor (flattened in C order) into a blob.

    ``gaps``/``signmag``: ``None`` tries both settings and keeps the smallest blob; ``True``/``False`` forces
    one. ``fill``: the value gaps count (default: the most frequent value, the zero point after pruning).
    """
    flat = _as_int8(values)
    counts = np.bincount(flat.astype(np.int64) + 128, minlength=256)
    if fill is None:
        fill = int(np.argmax(counts)) - 128 if flat.size else 0
    if not -128 <= fill <= 127:
        raise ValueError(f"fill {fill} is not an int8 value")
    if np.count_nonzero(counts) <= 1:
        value = int(flat[0]) if flat.size else fill
        data = _assemble(FLAG_CONST, 0, value, flat.size, b"", b"")
        return HuffmanBlob(data, flat.size, "const", flat.size, HEADER_BYTES, 0, 0)
    if counts[fill + 128] == flat.size:
        gaps = False  # a tensor without a non-fill value has nothing to put between gaps
    escapes: tuple[int | None, ...] = (None,)
    if gaps is not False:
        escapes = GAP_ESCAPES if gaps else (None, *GAP_ESCAPES)
    signs = (False, True) if signmag is None else (signmag,)
    best = min((_layout(flat, fill, e, s) for e in escapes for s in signs), key=lambda lay: lay.blob_bytes)
    table = best.table()
    payload = _pack(best.token_codes, best.token_lengths)
    data = _assemble(best.flags, best.max_len, fill, flat.size, table, payload)
    if len(data) != best.blob_bytes:
        raise RuntimeError(f"Huffman blob is {len(data)} bytes, its layout promised {best.blob_bytes}")
    return HuffmanBlob(data, flat.size, _mode(best.flags), flat.size, HEADER_BYTES, len(table), len(payload))


# ---------------------------------------------------------------------------------------------- decoder


def _parse_header(blob: bytes) -> _Header:
    if len(blob) < HEADER_BYTES or blob[:4] != MAGIC:
        raise BlobError("not a Huffman blob (bad magic or shorter than the header)",
                        hint="regenerate the weights with this version of codegen")
    _magic, *fields = _HEADER.unpack_from(blob)
    header = _Header(*fields)
    if crc32(blob[8:]) != header.crc:
        raise BlobError("Huffman blob fails its CRC-32 check", hint="the blob was damaged; regenerate it")
    if header.version != VERSION:
        raise BlobError(f"Huffman blob version {header.version} is not supported (expected {VERSION})",
                        hint="decode it with the codegen version that wrote it")
    if header.payload_bytes + header.table_bytes + HEADER_BYTES != len(blob) or header.reserved:
        raise BlobError("Huffman blob section sizes do not add up",
                        hint="the blob was damaged or truncated; regenerate it")
    return header


def info(blob: bytes) -> HuffmanBlob:
    """Check a blob (magic, CRC, sizes) and describe it."""
    h = _parse_header(blob)
    return HuffmanBlob(bytes(blob), h.count, _mode(h.flags), h.count, HEADER_BYTES, h.table_bytes,
                       h.payload_bytes)


def _lookup(lens: np.ndarray) -> list[int] | None:
    """Full 2**MAX_CODE_LEN decoding table: (symbol << 4) | length, -1 for bit patterns that are no code;
    ``None`` if the lengths are over-subscribed."""
    lengths = {s: int(n) for s, n in enumerate(lens.tolist()) if n}
    if sum(1 << (MAX_CODE_LEN - n) for n in lengths.values()) > (1 << MAX_CODE_LEN):
        return None
    lookup = np.full(1 << MAX_CODE_LEN, -1, dtype=np.int64)
    for s, c in canonical_codes(lengths).items():
        n = lengths[s]
        lookup[c << (MAX_CODE_LEN - n):(c + 1) << (MAX_CODE_LEN - n)] = (s << 4) | n
    return lookup.tolist()


class _Bits:
    """MSB-first reader over the payload with 12-bit look-ahead windows (zeros past the end)."""

    def __init__(self, payload: bytes) -> None:
        bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8)).astype(np.int64)
        self.nbits = bits.size
        padded = np.concatenate((bits, np.zeros(MAX_CODE_LEN, dtype=np.int64)))
        window = np.zeros(bits.size + 1, dtype=np.int64)
        for j in range(MAX_CODE_LEN):
            window |= padded[j:j + bits.size + 1] << (MAX_CODE_LEN - 1 - j)
        self.window = window.tolist()
        self.bits = bits
        self.pos = 0

    def symbol(self, lookup: list[int]) -> int:
        e = lookup[self.window[self.pos]] if self.pos <= self.nbits else -1
        if e < 0:
            raise _CORRUPT
        self.pos += e & 0x0F
        return e >> 4

    def bit(self) -> int:
        b = int(self.bits[self.pos]) if self.pos < self.nbits else 0
        self.pos += 1
        return b


_CORRUPT = BlobError("Huffman blob has an invalid code table or bitstream", hint="regenerate the blob")


def decode(blob: bytes | HuffmanBlob) -> np.ndarray:
    """Python reference decoder: the flat int8 tensor, or :class:`BlobError` for a damaged blob."""
    data = blob.data if isinstance(blob, HuffmanBlob) else bytes(blob)
    h = _parse_header(data)
    if h.flags & ~(FLAG_CONST | FLAG_GAPS | FLAG_SIGNMAG):
        raise BlobError(f"Huffman blob has unknown flags 0x{h.flags:02x}", hint="regenerate the blob")
    if h.flags & FLAG_CONST:
        if h.flags != FLAG_CONST or h.max_len or h.table_bytes or h.payload_bytes:
            raise _CORRUPT
        return np.full(h.count, h.fill, dtype=np.int8)
    table = data[HEADER_BYTES:HEADER_BYTES + h.table_bytes]
    if not 1 <= h.max_len <= MAX_CODE_LEN or len(table) < TABLE_PREFIX_BYTES:
        raise _CORRUPT
    signmag = bool(h.flags & FLAG_SIGNMAG)
    lit_first = table[0] if signmag else int(np.int8(np.uint8(table[0])))
    span, gap_syms = table[1] + 1, table[2]
    nsym = span + gap_syms
    if (lit_first + span > (129 if signmag else 128) or gap_syms > MAX_GAP_SYMBOLS
            or (gap_syms >= 2) != bool(h.flags & FLAG_GAPS) or (gap_syms == 1)
            or len(table) != TABLE_PREFIX_BYTES + (nsym + 1) // 2 or (nsym % 2 and table[-1] & 0x0F)):
        raise _CORRUPT
    nib = np.frombuffer(table[TABLE_PREFIX_BYTES:], dtype=np.uint8)
    lens = np.stack((nib >> 4, nib & 0x0F), axis=1).reshape(-1)[:nsym].astype(np.int64)
    if lens.max() > h.max_len:
        raise _CORRUPT
    lit_lookup = _lookup(lens[:span])
    gap_lookup = _lookup(lens[span:]) if gap_syms else None
    if lit_lookup is None or (gap_syms and gap_lookup is None):
        raise _CORRUPT
    bits = _Bits(data[HEADER_BYTES + h.table_bytes:])
    out = np.empty(h.count, dtype=np.int8)
    o = 0
    esc = gap_syms - 1
    while o < h.count:
        if gap_lookup is not None:
            g = bits.symbol(gap_lookup)
            run = g if g < esc else esc
            if run > h.count - o:
                raise _CORRUPT
            out[o:o + run] = h.fill
            o += run
            if g == esc or o == h.count:
                continue
        value = lit_first + bits.symbol(lit_lookup)
        if signmag and value and bits.bit():
            value = -value
        if value > 127:
            raise _CORRUPT
        out[o] = value
        o += 1
    if bits.pos > bits.nbits or bits.nbits - bits.pos >= 8 or bits.bits[bits.pos:].any():
        raise _CORRUPT
    return out


# ---------------------------------------------------------------------------------------------- choice


def encode_if_smaller(values: np.ndarray, min_bytes: int = DEFAULT_MIN_BYTES) -> HuffmanBlob | None:
    """The blob of ``values`` if it is int8, at least ``min_bytes`` raw and the blob (header and table
    included) is smaller than the raw bytes; else ``None`` (keep the tensor raw)."""
    arr = np.asarray(values)
    if arr.dtype != np.int8 or arr.nbytes < max(min_bytes, 1):
        return None
    blob = encode(arr)
    return blob if blob.blob_bytes < arr.nbytes else None


def choose(values: np.ndarray, min_bytes: int = DEFAULT_MIN_BYTES) -> Choice:
    """``"huffman"`` if storing ``values`` as a blob is smaller than raw (see :func:`encode_if_smaller`)."""
    return "huffman" if encode_if_smaller(values, min_bytes) is not None else "raw"
