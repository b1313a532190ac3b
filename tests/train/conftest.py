"""One small LeNet-5 training run on digits shared by the compression tests (about 40 s on 2 cores)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from codegen.errors import EXIT_USAGE, CodegenError


def run(argv: list[str]) -> int:
    """Run one of our sub-commands the way codegen/cli.py does (CodegenError -> exit code 2)."""
    from codegen.train import cli

    parser = argparse.ArgumentParser(prog="codegen")
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CodegenError:
        return EXIT_USAGE




@pytest.fixture(scope="session")
def lenet_run(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - returns a TrainResult
    from codegen.train.datasets import Preprocess
    from codegen.train.pipeline import TrainConfig, train
    from codegen.train.pruning import PruneConfig

    out: Path = tmp_path_factory.mktemp("lenet")
    cfg = TrainConfig(
        model="lenet5",
        dataset="digits",
        preprocess=Preprocess(size=(32, 32), channels=1),
        epochs=8,
        finetune_epochs=2,
        seed=0,
        prune=PruneConfig(target=0.5),
        qat=True,
        variants=("fp32", "int8", "qat_int8", "pruned_fp32", "pruned_int8", "pruned_qat_int8"),
        out_dir=out,
    )
    return train(cfg)


TRAIN = [
    "train",
    "--model",
    "squeezenet",
    "--dataset",
    "digits",
    "--epochs",
    "1",
    "--subset-train",
    "300",
    "--subset-test",
    "60",
    "--variants",
    "fp32,int8",
    "--seed",
    "3",
]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli")
    assert run([*TRAIN, "--out", str(out)]) == 0
    return out
