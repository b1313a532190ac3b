"""Huffman-packed weights in the generated network (host builds): what gets encoded, exact outputs in both
decode modes, corruption reported through P_init / P_run, the memory plan, mode choice and CLI accounting."""

from __future__ import annotations

import ctypes
import dataclasses
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import generate
from codegen.backend.native.emitter import NativeOptions
from codegen.backend.native.layers import ConstArray
from codegen.backend.native.weights import EncodedBlob
from codegen.boards import load_board
from codegen.compress.codec import (
    DECODER_CODE_BYTES_RECORDED,
    DECODER_CODE_BYTES_RECORDED_GCC_MAJOR,
    HuffmanCodec,
    accounting,
    decoder_code_bytes,
    resolve,
)
from codegen.compress.huffman import SCRATCH_BYTES, encode_if_smaller
from codegen.frontend import load_model
from codegen.ir import Graph
from codegen.verify import random_input
from tests.compress.c_huffman import STATUS
from tests.conftest import ROOT, shared_model

CACHE = ROOT / "tests" / ".cache" / "compress"


@pytest.fixture(scope="module")
def kws() -> Graph:
    return load_model(shared_model("kws_dscnn_int8.tflite"))


@pytest.fixture(scope="module")
def inputs(kws: Graph) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(7)
    sources = generate(kws)
    return [[random_input(s.shape, s.dtype, rng) for s in sources.inputs] for _ in range(4)]


@pytest.fixture(scope="module")
def plain_outputs(kws: Graph, inputs: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    return host.compile(kws, cache_dir=CACHE).predict_many(inputs)


def test_only_int8_weights_that_get_smaller_are_encoded_biases_and_tiny_tensors_stay_raw(kws: Graph) -> None:
    sources = generate(kws, options=NativeOptions(codec=HuffmanCodec()))
    weights = [s for s in sources.constants if s.const.weight]
    assert any(s.blob for s in weights) and any(s.blob is None for s in weights)
    for s in weights:
        expected = encode_if_smaller(s.const.values)
        assert (s.blob is not None) == (expected is not None), s.const.name
        if s.blob is not None:
            assert expected is not None and s.blob.data == expected.data
            assert len(s.blob.data) < s.const.nbytes and s.const.values.dtype == np.int8
        if s.const.values.dtype != np.int8 or s.const.nbytes < 256:
            assert s.blob is None, s.const.name
    assert sources.weight_bytes == sum(s.stored_bytes for s in weights)


@pytest.mark.parametrize("decode", ["layer", "init"])
def test_outputs_with_huffman_weights_are_bit_identical_to_raw_weights(
    kws: Graph, inputs: list[list[np.ndarray]], plain_outputs: list[list[np.ndarray]], decode: str
) -> None:
    model = host.compile(kws, cache_dir=CACHE, options=NativeOptions(codec=HuffmanCodec(), decode=decode))
    assert model.sources.decode == decode
    got = model.predict_many(inputs)
    for mine, ref in zip(got, plain_outputs, strict=True):
        for a, b in zip(mine, ref, strict=True):
            assert a.tobytes() == b.tobytes()


def test_layer_mode_under_address_and_undefined_behaviour_sanitizers(
    kws: Graph, inputs: list[list[np.ndarray]], plain_outputs: list[list[np.ndarray]]
) -> None:
    model = host.compile(kws, cache_dir=CACHE, sanitize=True, options=NativeOptions(codec=HuffmanCodec()))
    got = model.predict_many(inputs[:2])
    assert [[a.tobytes() for a in g] for g in got] == [[a.tobytes() for a in g] for g in plain_outputs[:2]]


def test_layer_mode_plans_each_decoded_tensor_and_the_decoder_scratch_in_the_arena(kws: Graph) -> None:
    plain = generate(kws)
    layer = generate(kws, options=NativeOptions(codec=HuffmanCodec(), decode="layer"))
    init = generate(kws, options=NativeOptions(codec=HuffmanCodec(), decode="init"))
    assert layer.plan is not None and init.plan is not None
    encoded = {s.const.name: s.const.nbytes for s in layer.constants if s.blob}
    decode_bufs = [b for b in layer.plan.buffers if b.kind == "decode"]
    names = {b.key[2:] for b in decode_bufs}
    assert set(encoded) <= names
    scratch = [b for b in decode_bufs if b.key[2:] not in encoded]
    assert len(scratch) == len(encoded) and all(b.size == SCRATCH_BYTES for b in scratch)
    biggest = max(encoded.values())
    assert plain.arena_bytes < layer.arena_bytes <= plain.arena_bytes + biggest + SCRATCH_BYTES + 64
    assert layer.decoded_bytes == 0
    # init: a static buffer holds every decoded tensor; the arena only grows to fit the decoder scratch
    assert init.decoded_bytes == sum((n + 15) // 16 * 16 for n in encoded.values())
    assert init.arena_bytes == max(plain.arena_bytes, (SCRATCH_BYTES + 15) // 16 * 16)
    assert f"cg_net_decoded[{init.decoded_bytes}]" in init.files["cg_net.c"].decode()


@dataclasses.dataclass(frozen=True)
class _DamagingCodec:
    """HuffmanCodec whose first blob is damaged by ``damage``."""

    damage: str
    name: str = "damaged-huffman"

    def encode(self, const: ConstArray) -> EncodedBlob | None:
        blob = HuffmanCodec().encode(const)
        if blob is None or const.name != "l2_filter":
            return blob
        data = bytearray(blob.data)
        if self.damage == "bitflip":  # CRC no longer matches
            data[-5] ^= 0x10
        else:  # "truncate": a consistent header and a valid CRC, but the bitstream ends too early
            cut = 64
            data = data[:-cut]
            data[16:20] = struct.pack("<I", struct.unpack("<I", bytes(data[16:20]))[0] - cut)
            data[4:8] = struct.pack("<I", zlib.crc32(bytes(data[8:])))
        return dataclasses.replace(blob, data=bytes(data))


def _load(graph: Graph, codec: _DamagingCodec, decode: str) -> ctypes.CDLL:
    sources = generate(graph, options=NativeOptions(codec=codec, decode=decode))
    lib = ctypes.CDLL(str(host.build(sources, cache_dir=CACHE)))
    lib.cg_net_init.restype = ctypes.c_int
    lib.cg_net_run.restype = ctypes.c_int
    return lib


@pytest.mark.parametrize("decode", ["layer", "init"])
def test_a_blob_failing_its_crc_makes_init_and_run_report_corrupt(kws: Graph, decode: str) -> None:
    lib = _load(kws, _DamagingCodec("bitflip"), decode)
    assert lib.cg_net_init() == STATUS["CG_ERR_CORRUPT"]
    assert lib.cg_net_run() == STATUS["CG_ERR_CORRUPT"]
    assert lib.cg_net_init() == STATUS["CG_ERR_CORRUPT"]  # still not ready: init retries and fails again


def test_a_blob_that_passes_the_init_check_but_fails_to_decode_makes_run_report_corrupt(kws: Graph) -> None:
    lib = _load(kws, _DamagingCodec("truncate"), "layer")
    assert lib.cg_net_init() == STATUS["CG_OK"]
    assert lib.cg_net_run() == STATUS["CG_ERR_CORRUPT"]
    init_lib = _load(kws, _DamagingCodec("truncate"), "init")
    assert init_lib.cg_net_init() == STATUS["CG_ERR_CORRUPT"]


def test_auto_compression_picks_none_init_or_layer_from_savings_and_board_ram(kws: Graph) -> None:
    qemu = load_board("qemu")
    assert resolve(kws, "auto").compress == "none"  # saves less than the decoder's code
    assert (resolve(kws, "none").compress, resolve(kws, "huffman").decode) == ("none", "init")
    # 18,944 B of decoded weights would fit the board's RAM, but auto adds at most 4 KiB of static RAM
    on_board = resolve(kws, "huffman", board=qemu)
    assert on_board.decode == "layer" and "at most 4,096 B" in on_board.reason
    assert resolve(kws, "huffman", "init", board=qemu).decode == "init"
    assert resolve(kws, "huffman", "layer", board=qemu).decode == "layer"
    vww = load_model(shared_model("vww_mobilenetv1_025_96_int8.tflite"))
    choice = resolve(vww, "auto", board=qemu)  # decoding at init would add more than 4 KiB of static RAM
    assert (choice.compress, choice.decode) == ("huffman", "layer"), choice.reason
    fc = {n for n, op in generate(vww).const_ops if op == "FULLY_CONNECTED" and n.endswith("_filter")}
    coded = {s.const.name for s in generate(vww, options=NativeOptions(codec=HuffmanCodec(), decode="init")).constants
             if s.blob is not None}
    # read once per inference: not decoded before every run (VWW's classifier reads 22 channels once
    # remove-pruned-channels drops its dead inputs: too small to code at all)
    assert fc and choice.exclude == fc & coded
    assert resolve(vww, "auto").decode == "init"  # no board: nothing to exceed


def test_auto_keeps_fully_connected_weights_raw_when_they_would_be_decoded_every_inference() -> None:
    qemu = load_board("qemu")
    ad01 = load_model(shared_model("ad01_fc_autoencoder_int8.tflite"))  # only FC layers, 264 KB of weights
    assert resolve(ad01, "auto", board=qemu).compress == "none"
    assert resolve(ad01, "huffman", board=qemu).compress == "none"
    forced = resolve(ad01, "huffman", "layer", board=qemu)
    assert (forced.compress, forced.decode, forced.exclude) == ("huffman", "layer", frozenset())
    assert resolve(ad01, "auto").decode == "init"


def test_emit_c_huffman_prints_per_weight_accounting_that_adds_up(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from codegen.cli import main

    model = shared_model("kws_dscnn_int8.tflite")
    code = main(["emit-c", "--model", str(model), "--out", str(tmp_path / "c"), "--huffman", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    w = summary["weights"]
    rows = w["weights"]
    assert w["decode"] == "init" and summary["weight_bytes"] == w["stored_bytes"]
    assert w["raw_bytes"] == sum(r["raw_bytes"] for r in rows) > w["stored_bytes"]
    for r in rows:
        if r["encoded"]:
            assert r["stored_bytes"] == r["header_bytes"] + r["table_bytes"] + r["coded_bytes"] < r["raw_bytes"]
        else:
            assert r["stored_bytes"] == r["raw_bytes"] and r["table_bytes"] == 0
    assert w["table_bytes"] == sum(r["table_bytes"] for r in rows) > 0
    assert w["decoder_code_bytes"] > 0
    assert (tmp_path / "c" / "cg_huffman_decode_nocrc_s8.c").is_file()
    assert main(["emit-c", "--model", str(model), "--out", str(tmp_path / "d"), "--decode", "init"]) == 2


def test_recorded_decoder_code_size_matches_a_cortex_m4_build() -> None:
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    size, how = decoder_code_bytes()
    assert how.startswith("measured")
    version = subprocess.run(["arm-none-eabi-gcc", "-dumpversion"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if int(version.split(".")[0]) == DECODER_CODE_BYTES_RECORDED_GCC_MAJOR:
        assert size == DECODER_CODE_BYTES_RECORDED
    else:
        # another GCC (e.g. Debian 13's 14.2: 1,984 B) schedules differently; the recorded figure stays close
        assert abs(size - DECODER_CODE_BYTES_RECORDED) <= 0.1 * DECODER_CODE_BYTES_RECORDED


def test_accounting_of_raw_sources_reports_no_decoder(kws: Graph) -> None:
    acct = accounting(generate(kws))
    assert acct.decode == "none" and acct.decoder_code_bytes is None
    assert acct.raw_bytes == acct.stored_bytes and acct.total("table_bytes") == 0


def test_auto_layer_decoding_keeps_weights_raw_until_the_decode_buffers_fit_the_cap(
    kws: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--decode auto never silently grows the arena by more than the cap (4 KiB; KWS's decode buffers add
    3,392 B, so the cap is lowered below that here): the largest coded weights stay raw until it holds."""
    from codegen.compress import codec

    qemu = load_board("qemu")

    def arena(exclude: frozenset[str]) -> int:
        options = NativeOptions(codec=HuffmanCodec(exclude=exclude), decode="layer", core=qemu.core)
        return generate(kws, options=options).arena_bytes

    coded = frozenset(s.const.name for s in generate(kws, options=NativeOptions(
        codec=HuffmanCodec(), decode="layer", core=qemu.core)).constants if s.blob is not None)
    base = arena(coded)
    grown = arena(frozenset()) - base
    assert grown > 1024
    monkeypatch.setattr(codec, "AUTO_INIT_MAX_DECODED_BYTES", grown - 1)
    choice = codec.resolve(kws, "huffman", board=qemu)
    assert (choice.compress, choice.decode) == ("huffman", "layer"), choice.reason
    assert f"at most {grown - 1:,} B to the arena" in choice.reason
    assert choice.exclude and arena(choice.exclude) - base <= grown - 1
    assert choice.exclude < coded  # still codes some weights
