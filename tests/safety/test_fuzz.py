"""Bounded fuzzing in CI: mutants of small models are refused with one line or accepted and safe, never a
traceback; accepted ones run clean under ASan/UBSan with the bounds guard and match TFLM. The long run with
recorded counts is ``benchmarks/fuzz/fuzz.py`` (results in benchmarks/fuzz/results.md)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.safety.cases import VALID
from tests.safety.fuzz import classify, mutate, run_accepted, seeds

SEEDS = seeds()
NAMES = sorted(SEEDS)


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_mutants_are_refused_with_one_line_or_accepted_never_a_traceback(data) -> None:  # noqa: ANN001
    name = data.draw(st.sampled_from(NAMES), label="seed model")
    mutant, what = mutate(SEEDS[name], lambda lo, hi: data.draw(st.integers(lo, hi)))
    outcome = classify(mutant)
    assert outcome.kind != "traceback", f"{name}: {what}\n{outcome.detail}"
    if outcome.kind == "refused":
        assert "\n" not in outcome.detail and outcome.detail, outcome.detail


def _shape_variants() -> list[tuple[str, int, int, int]]:
    """(op, tensor, dimension, delta): every dimension of every tensor of every single-op model, +1 and -1."""
    from tests.safety.builder import unpack

    out = []
    for op in sorted(VALID):
        sg = unpack(VALID[op]()).subgraphs[0]
        for t, tensor in enumerate(sg.tensors):
            for d in range(len(tensor.shape)):
                for delta in (1, -1):
                    out.append((op, t, d, delta))
    return out


SHAPE_VARIANTS = _shape_variants()


def _variant(op: str, t: int, d: int, delta: int) -> bytes | None:
    import numpy as np

    from tests.safety.builder import pack, unpack

    m = unpack(VALID[op]())
    tensor = m.subgraphs[0].tensors[t]
    shape = [int(v) for v in tensor.shape]
    shape[d] += delta
    tensor.shape = shape
    if tensor.buffer:  # keep constants self-consistent: resize their data, so only the shapes disagree
        size = int(np.prod(shape)) if min(shape) >= 0 else 0
        item = {0: 4, 2: 4, 9: 1, 4: 8}[tensor.type]
        m.buffers[tensor.buffer].data = ([1] * (size * item))[: size * item]
    return pack(m)


def test_shape_inconsistent_model_of_every_supported_operator_is_refused_or_safe(build_cache) -> None:  # noqa: ANN001
    """Each dimension of each tensor moved by +-1: refused (one line), or still consistent and then compiled
    with the sanitizers and the bounds guard, run, and compared with TFLM (a sample, to bound CI time)."""
    accepted = []
    for op, t, d, delta in SHAPE_VARIANTS:
        data = _variant(op, t, d, delta)
        outcome = classify(data)
        assert outcome.kind != "traceback", f"{op} tensor {t} dim {d} {delta:+d}\n{outcome.detail}"
        if outcome.kind == "accepted":
            accepted.append((f"{op} tensor {t} dim {d} {delta:+d}", data, outcome))
    assert len(accepted) < len(SHAPE_VARIANTS) // 2  # most single changes break consistency
    for label, data, outcome in random.Random(0).sample(accepted, min(4, len(accepted))):
        result = run_accepted(data, outcome, build_cache)
        assert result == "exact" or result.startswith("no-reference"), f"{label}: {result}"


@pytest.mark.parametrize("name", ["chain", "branch"])
def test_accepted_mutants_run_clean_under_sanitizers_and_match_tflm(name: str, build_cache) -> None:  # noqa: ANN001
    rng = random.Random(3)
    checked = 0
    for _ in range(200):
        mutant, what = mutate(SEEDS[name], rng.randint)
        outcome = classify(mutant)
        assert outcome.kind != "traceback", f"{what}\n{outcome.detail}"
        if outcome.kind == "accepted" and mutant != SEEDS[name]:
            result = run_accepted(mutant, outcome, build_cache)
            assert result == "exact" or result.startswith("no-reference"), f"{what}: {result}"
            checked += 1
            if checked == 2:
                break
    assert checked > 0
