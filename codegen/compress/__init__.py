"""Weight compression: Huffman-packed int8 blobs (codec, per-tensor choice, accounting)."""

from codegen.compress.accounting import CompressionReport, TensorCompression, plan_graph, plan_tensors
from codegen.compress.huffman import BlobError, HuffmanBlob, choose, decode, encode, encode_if_smaller

__all__ = ["BlobError", "CompressionReport", "HuffmanBlob", "TensorCompression", "choose", "decode", "encode",
           "encode_if_smaller", "plan_graph", "plan_tensors"]
