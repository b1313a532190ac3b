"""Graph passes: small match/transform objects, run in named pipelines until nothing matches.

A pass looks at one operator at a time. ``match`` says whether it applies there; ``transform`` returns a new
graph (the IR is immutable). The pipeline re-scans after every change, so passes stay simple.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from codegen.ir import Graph, Operator

log = logging.getLogger(__name__)


class GraphPass:
    """Base class: override ``match`` and ``transform``."""

    name: ClassVar[str] = ""

    def match(self, graph: Graph, op: Operator) -> bool:
        raise NotImplementedError

    def transform(self, graph: Graph, op: Operator) -> Graph:
        raise NotImplementedError


PASSES: dict[str, type[GraphPass]] = {}


def register_pass(cls: type[GraphPass]) -> type[GraphPass]:
    if not cls.name or cls.name in PASSES:
        raise TypeError(f"pass {cls.__name__} has no name or its name {cls.name!r} is taken")
    PASSES[cls.name] = cls
    return cls


@dataclass(frozen=True)
class Pipeline:
    name: str
    passes: tuple[str, ...]


PIPELINES: dict[str, Pipeline] = {}


def define_pipeline(name: str, passes: Iterable[str]) -> Pipeline:
    if name in PIPELINES:
        raise TypeError(f"pipeline {name!r} defined twice")
    PIPELINES[name] = Pipeline(name, tuple(passes))
    return PIPELINES[name]


def run_pipeline(graph: Graph, pipeline: str | Pipeline, max_rounds: int = 10_000) -> Graph:
    """Apply the pipeline's passes in order, each until it no longer matches anywhere."""
    pipe = PIPELINES[pipeline] if isinstance(pipeline, str) else pipeline
    for pass_name in pipe.passes:
        p = PASSES[pass_name]()
        for _ in range(max_rounds):
            hit = next((op for op in graph.operators if p.match(graph, op)), None)
            if hit is None:
                break
            log.debug("pass %s: rewriting operator %d (%s)", p.name, hit.index, hit.op)
            graph = p.transform(graph, hit)
        else:
            raise RuntimeError(f"pass {p.name} did not converge after {max_rounds} rewrites")
    return graph


def renumber(graph: Graph, operators: list[Operator]) -> Graph:
    """A copy of ``graph`` with ``operators`` re-indexed 0..n-1 in the given order."""
    from dataclasses import replace

    ops = tuple(replace(op, index=i) for i, op in enumerate(operators))
    return replace(graph, operators=ops)
