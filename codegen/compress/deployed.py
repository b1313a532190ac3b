"""What a model takes on the board once generated: the ``analyze --huffman/--sparse`` view (issue #16).

The .tflite's parameter bytes are not what the board holds: the kernels for the board's core may store weights
packed (the Cortex-M DSP variants widen some to 16 bits), pruned zeros take flash unless a codec codes them,
and decoded weights take RAM. :func:`deployed` generates the network exactly as ``codegen generate`` would (same
``--compress``/``--decode`` resolution, kernels for the board's core) and reads the answer from the sources.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from codegen.analysis import is_parameter
from codegen.boards import Board
from codegen.ir import Graph


@dataclass(frozen=True)
class Deployed:
    compress: str  # what --compress resolved to: none or huffman
    decode: str  # none, layer or init
    model_weight_bytes: int  # the model's weight arrays as the .tflite stores them
    stored_weight_bytes: int  # flash the generated weight arrays take (packed for the kernels, or coded blobs)
    decoder_code_bytes: int  # the Huffman decoder's code (0 without blobs)
    arena_bytes: int  # planned activations + scratch (+ per-layer decode buffers in "layer" mode)
    decoded_bytes: int  # static RAM of the weights decoded at init
    zero_share: float  # share of zero values in the model's int8 weight arrays (pruned weights)
    state_bytes: int = 0  # variable (state) tensors kept across inferences (SVDF, LSTM), beside the arena

    @property
    def flash_bytes(self) -> int:
        return self.stored_weight_bytes + self.decoder_code_bytes

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.decoded_bytes + self.state_bytes

    def to_json(self) -> dict:
        return {**asdict(self), "flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes}

    def format(self) -> str:
        coded = f"{self.compress}, decode {self.decode}" if self.compress != "none" else "raw"
        return "\n".join([
            f"deployed:     weights {self.stored_weight_bytes:,} B in flash as generated ({coded}; the model "
            f"stores {self.model_weight_bytes:,} B, {100 * self.zero_share:.1f} % zeros)"
            + (f" + decoder code {self.decoder_code_bytes:,} B" if self.decoder_code_bytes else ""),
            f"deployed RAM: arena {self.arena_bytes:,} B"
            + (f" + decoded weights {self.decoded_bytes:,} B" if self.decoded_bytes else "")
            + (f" + state tensors {self.state_bytes:,} B" if self.state_bytes else "")
            + f" = {self.ram_bytes:,} B (plus firmware state and stack)",
        ])


def deployed(graph: Graph, board: Board | None, compress: str = "none", decode: str = "auto") -> Deployed:
    """Generate ``graph`` for ``board`` (its core's kernels) with ``--compress``/``--decode`` and measure it."""
    from codegen.compress.codec import NetworkGenerator, decoder_code_bytes

    network = NetworkGenerator(compress, decode, board)
    sources = network(graph, "cg_net")
    weights = [s for s in sources.constants if s.const.weight]
    params = [t for t in graph.constant_tensors if is_parameter(t)]
    int8 = [t.data for t in params if t.data is not None and t.data.dtype == np.int8]
    total = sum(v.size for v in int8)
    zeros = sum(int(np.count_nonzero(v == 0)) for v in int8)
    blobs = any(s.blob is not None for s in weights)
    return Deployed(
        compress=network.choice.compress if network.choice else compress,
        # per layer without a blob to decode: the kernels expand or read the weights where they lie
        decode=network.choice.decode if network.choice and network.choice.compress != "none" else sources.decode,
        model_weight_bytes=sum(t.nbytes for t in params),
        stored_weight_bytes=sum(s.stored_bytes for s in weights),
        decoder_code_bytes=decoder_code_bytes()[0] if blobs else 0,
        arena_bytes=sources.arena_bytes,
        decoded_bytes=sources.decoded_bytes,
        zero_share=zeros / total if total else 0.0,
        state_bytes=sources.state_bytes,
    )
