"""``codegen analyze --sparse/--huffman``: flash and RAM as the board holds the generated network (issue #16)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from codegen.boards import load_board
from codegen.compress.deployed import deployed
from codegen.frontend import load_model
from tests.conftest import ROOT

MODEL = ROOT / "models" / "squeezenet_int8.tflite"


def _analyze(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", "analyze", "--model", str(MODEL), *flags],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def _deployed(board: str, compress: str = "none", decode: str = "auto") -> dict:
    return deployed(load_model(MODEL), load_board(board), compress, decode).to_json()


def test_portable_board_stores_the_model_bytes_and_counts_zeros_by_hand() -> None:
    """Portable kernels keep int8 filters and int32 (folded) biases: the model's bytes, one for one."""
    graph = load_model(MODEL)
    params = [t for t in graph.constant_tensors if t.quant is not None]
    int8 = [t.data for t in params if t.data.dtype == np.int8]
    d = _deployed("emulated_rv32imc")
    assert d["compress"] == "none" and d["decode"] == "none"
    assert d["stored_weight_bytes"] == d["model_weight_bytes"] == sum(t.data.nbytes for t in params)
    assert d["flash_bytes"] == d["stored_weight_bytes"] and d["decoded_bytes"] == 0
    assert abs(d["zero_share"] - sum(int((v == 0).sum()) for v in int8) / sum(v.size for v in int8)) < 1e-12


def test_dsp_board_shows_widened_weights_and_huffman_shows_coded_ones() -> None:
    raw = _deployed("emulated_stm32f405")
    assert raw["stored_weight_bytes"] > 1.5 * raw["model_weight_bytes"]  # DSP kernels' 16-bit packed copies
    init = _deployed("emulated_stm32f405", "huffman", "init")
    assert init["compress"] == "huffman" and init["decode"] == "init"
    # coded convolution weights are int8 blobs; the ones Huffman does not shrink stay 16-bit (the faster kernel)
    assert init["stored_weight_bytes"] < raw["stored_weight_bytes"]
    assert init["decoder_code_bytes"] > 0 and init["decoded_bytes"] > 0
    assert init["ram_bytes"] == init["arena_bytes"] + init["decoded_bytes"]
    layer = _deployed("emulated_stm32f405", "huffman", "layer")
    assert layer["decoded_bytes"] == 0 and layer["stored_weight_bytes"] == init["stored_weight_bytes"]


def test_cli_prints_the_deployed_view_and_refuses_decode_without_compression() -> None:
    run = _analyze("--board", "emulated_rv32imc", "--sparse", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["deployed"] == _deployed("emulated_rv32imc")
    text = deployed(load_model(MODEL), load_board("emulated_stm32f405"), "huffman", "init").format()
    assert "deployed:" in text and "decoder code" in text and "decoded weights" in text
    bad = _analyze("--decode", "layer")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "--huffman" in bad.stderr
