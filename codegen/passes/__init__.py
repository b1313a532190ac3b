"""Graph rewrites between the frontend and the backends (match/transform passes in named pipelines)."""

from codegen.passes import channels, fold, layout, simplify  # noqa: F401  (registers the passes and pipelines)
from codegen.passes.base import PASSES, PIPELINES, GraphPass, Pipeline, define_pipeline, register_pass, run_pipeline

__all__ = ["PASSES", "PIPELINES", "GraphPass", "Pipeline", "define_pipeline", "register_pass", "run_pipeline"]
