"""``codegen train --prune-structure 2:4|channel``: the int8 model has the structure claimed (checked on the
weights TensorFlow Lite reads), channel-pruned filters disappear from the generated network, and the generated
network still computes TFLM's integers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codegen.errors import EXIT_USAGE
from tests.train.conftest import run

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")


def _train(out: Path, structure: str, model: str = "lenet5"):  # noqa: ANN202 - a TrainResult
    from codegen.train.datasets import Preprocess, Subset
    from codegen.train.pipeline import TrainConfig, train
    from codegen.train.pruning import PruneConfig

    cfg = TrainConfig(
        model=model, dataset="digits", preprocess=Preprocess(size=(16, 16), channels=1),
        subset=Subset(train=320, test=64, seed=0), epochs=2, finetune_epochs=2, seed=0,
        prune=PruneConfig(target=0.5, structure=structure), variants=("int8", "pruned_int8"), out_dir=out,
    )
    return train(cfg)


def _filters(buf: bytes) -> list[np.ndarray]:
    """int8 filters of every CONV_2D / FULLY_CONNECTED in execution order, read by TensorFlow Lite."""
    from codegen.train.quantize import HostModel

    interp = HostModel(buf).interpreter
    details = {d["index"]: d for d in interp.get_tensor_details()}
    return [interp.get_tensor(details[op["inputs"][1]]["index"])
            for op in interp._get_ops_details()  # noqa: SLF001 - the public API has no operator list
            if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED")]


@pytest.mark.parametrize(
    "argv",
    [
        ["--prune-structure", "2:4", "--prune", "0.3"],
        ["--prune-structure", "channel", "--prune-method", "gradient"],
        ["--prune-structure", "2:4", "--prune-scope", "global"],
        ["--prune-structure", "unstructured"],
    ],
)
def test_bad_structure_arguments_exit_2(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["train", "--model", "lenet5", "--out", str(tmp_path), *argv]) == EXIT_USAGE
    assert not list(tmp_path.iterdir())


def test_unknown_structure_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["train", "--prune-structure", "4:8", "--out", str(tmp_path)])
    assert exc.value.code == EXIT_USAGE


def test_two_of_four_pruning_leaves_at_most_two_nonzeros_in_every_block(tmp_path: Path) -> None:
    result = _train(tmp_path, "2:4")
    pruned = next(v for v in result.variants if v.name == "pruned_int8")
    filters = _filters(pruned.path.read_bytes())
    blocked = [w for w in filters if w.shape[-1] % 4 == 0]
    assert len(blocked) == 3  # the three dense layers (the convolutions read 1 and 6 channels)
    for w in blocked:  # blocks of four along the input channels, TFLite's innermost filter axis
        assert (np.count_nonzero(w.reshape(-1, 4), axis=1) <= 2).all()
        assert np.count_nonzero(w) >= 0.4 * w.size  # 2:4, not more
    assert pruned.accuracy > 0.3


def test_channel_pruning_zeroes_half_the_filters_and_generation_removes_them(tmp_path: Path) -> None:
    from codegen.backend.native import native_graph
    from codegen.frontend.tflite import parse_tflite
    from codegen.passes.channels import removed_channels
    from codegen.verify import verify

    result = _train(tmp_path, "channel")
    pruned = next(v for v in result.variants if v.name == "pruned_int8")
    buf = pruned.path.read_bytes()
    dead = [int((~w.reshape(w.shape[0], -1).any(axis=1)).sum()) for w in _filters(buf)]
    assert dead == [3, 8, 60, 42, 0]  # conv1, conv2, fc1, fc2 lose half their filters; the classifier none
    graph = parse_tflite(buf)
    after = native_graph(graph)
    assert sorted(removed_channels(graph, after).values()) == [(6, 3), (16, 8), (84, 42), (120, 60)]
    macs = [sum(op.macs(g) for op in g.operators) for g in (graph, after)]
    assert macs[1] < 0.4 * macs[0]
    report = verify(pruned.path, samples=20, seed=1, tflm_arena=False, cache_dir=tmp_path / "host")
    assert report.exact_matches == report.samples


def test_only_layers_whose_channels_generation_can_remove_are_filter_pruned() -> None:
    from codegen.train.filters import filter_groups, filter_prunable
    from codegen.train.models import build_model

    resnet = build_model("resnet8", (32, 32, 3), 10)
    groups = [[(layer.name, bn.name if bn is not None else None) for layer, bn in g] for g in filter_groups(resnet)]
    # the layers feeding an Add share one mask: the stem with the identity block's second convolution, each
    # projection block's second convolution with its shortcut; the classifier (the output) is not pruned
    assert sorted(groups) == sorted([
        [("conv1", "bn1"), ("stack1_conv2", "stack1_bn2")],
        [("stack2_conv2", "stack2_bn2"), ("stack2_shortcut", None)],
        [("stack3_conv2", "stack3_bn2"), ("stack3_shortcut", None)],
        *([(f"stack{i}_conv1", f"stack{i}_bn1")] for i in (1, 2, 3)),
    ])
    squeezenet = build_model("squeezenet", (32, 32, 1), 10)
    names = {layer.name for layer, _ in filter_prunable(squeezenet)}
    convs = {layer.name for layer in squeezenet.layers if layer.__class__.__name__ == "Conv2D"}
    assert names == convs - {"conv10"}  # conv10 -> global average pooling -> softmax


def test_residual_groups_share_their_pruned_channels_and_generation_removes_them(tmp_path: Path) -> None:
    """ResNet-8: the layers added together (the stem and the identity block's second convolution; each projection
    block's second convolution and shortcut) are zero on the same channels in the int8 model, the generated
    network loses those channels from the residual streams (the ADDs), and still computes TFLM's integers."""
    from codegen import ir
    from codegen.backend.native import native_graph
    from codegen.frontend.tflite import parse_tflite
    from codegen.verify import verify

    result = _train(tmp_path, "channel", "resnet8")
    pruned = next(v for v in result.variants if v.name == "pruned_int8")
    buf = pruned.path.read_bytes()
    dead = [set(np.flatnonzero(~w.reshape(w.shape[0], -1).any(axis=1)).tolist()) for w in _filters(buf)]
    # TFLite order: stem, stack1 conv1/conv2, stack2 conv1/conv2/shortcut, stack3 conv1/conv2/shortcut, classifier
    assert [len(d) for d in dead] == [8, 8, 8, 16, 16, 16, 32, 32, 32, 0]
    assert dead[0] == dead[2] and dead[4] == dead[5] and dead[7] == dead[8]
    graph = parse_tflite(buf)
    after = native_graph(graph)
    adds = [after.tensors[op.outputs[0]].shape[-1] for op in after.operators if isinstance(op, ir.Add)]
    assert adds == [8, 16, 32]
    macs = [sum(op.macs(g) for op in g.operators) for g in (graph, after)]
    assert macs[1] < 0.3 * macs[0]
    report = verify(pruned.path, samples=10, seed=1, tflm_arena=False, cache_dir=tmp_path / "host")
    assert report.exact_matches == report.samples
