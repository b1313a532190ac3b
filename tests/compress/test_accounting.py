"""Per-tensor choice and byte accounting over a real model, and the pruning aid used by the benchmark."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.compress.accounting import magnitude_prune, plan_graph, plan_tensors
from codegen.frontend import load_model
from tests.compress.c_huffman import STATUS
from tests.conftest import shared_model


@pytest.fixture(scope="module")
def kws():
    return load_model(shared_model("kws_dscnn_int8.tflite"))


def test_report_totals_are_sums_of_tensors_and_never_exceed_raw():
    rng = np.random.default_rng(0)
    items = [
        (0, "bias", np.arange(64, dtype=np.int32)),
        (1, "tiny", np.zeros(10, np.int8)),
        (2, "noise", rng.integers(-128, 128, 2000).astype(np.int8)),
        (3, "sparse", np.where(rng.random(4000) < 0.8, 0, rng.integers(-128, 128, 4000)).astype(np.int8)),
    ]
    report = plan_tensors(items)
    assert [t.choice for t in report.tensors] == ["raw", "raw", "raw", "huffman"]
    assert [t.reason.split(" ")[0] for t in report.tensors[:2]] == ["not", "smaller"]
    assert report.raw_bytes == 64 * 4 + 10 + 2000 + 4000
    assert report.stored_bytes == sum(t.stored_bytes for t in report.tensors) < report.raw_bytes
    sparse = report.tensors[3]
    assert sparse.stored_bytes == sparse.header_bytes + sparse.table_bytes + sparse.coded_bytes
    d = report.as_dict()
    assert d["stored_bytes"] == report.stored_bytes and len(d["tensors"]) == 4


def test_pruned_model_weights_shrink_and_decode_back_in_c(kws, chuff):
    report = plan_graph(kws, sparsity=0.75)
    weights = [t for t in report.tensors if t.dtype == "int8"]
    assert all(t.choice == "huffman" for t in weights)
    assert sum(t.stored_bytes for t in weights) < 0.4 * sum(t.raw_bytes for t in weights)
    for t in weights:
        expected = magnitude_prune(np.asarray(kws.tensors[t.index].data), 0.75).reshape(-1)
        status, out = chuff.decode(t.blob.data, t.elements)
        assert status == STATUS["CG_OK"]
        assert np.array_equal(out, expected)


def test_magnitude_prune_zeroes_exactly_the_smallest_fraction():
    values = np.array([[5, -1, 3], [-7, 2, 0]], dtype=np.int8)
    pruned = magnitude_prune(values, 0.5)
    assert pruned.shape == values.shape
    assert pruned.tolist() == [[5, 0, 3], [-7, 0, 0]]
    assert magnitude_prune(values, 0.5, zero_point=3).tolist() == [[3, -1, 3], [-7, 3, 0]]
    with pytest.raises(ValueError):
        magnitude_prune(values, 1.5)
