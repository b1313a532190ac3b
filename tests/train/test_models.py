"""Model zoo: architectures build as functional graphs, with the expected parameter and MAC counts."""

from __future__ import annotations

import pytest

from codegen.errors import CodegenError
from codegen.train.models import build_model, model_info, model_names


def test_resnet8_matches_the_mlperf_tiny_reference_size() -> None:
    # shared/models/README.md: the MLPerf Tiny ResNet-8 has 78,666 parameters and about 12.5 M MACs
    info = model_info(build_model("resnet8", (32, 32, 3), 10))
    assert info.params == 78_666
    assert 12_000_000 < info.macs < 13_000_000


def test_squeezenet_is_fire_modules_and_fits_a_cortex_m4() -> None:
    model = build_model("squeezenet", (32, 32, 1), 10)
    info = model_info(model)
    assert info.params < 100_000 and info.macs < 5_000_000
    names = [layer.name for layer in model.layers]
    for fire in range(2, 10):
        assert {
            f"fire{fire}_squeeze1x1",
            f"fire{fire}_expand1x1",
            f"fire{fire}_expand3x3",
            f"fire{fire}_concat",
        } <= set(names)
    wider = model_info(build_model("squeezenet", (32, 32, 1), 10, width=0.5))
    assert wider.params > 2 * info.params


def test_lenet5_param_count_is_the_classic_one() -> None:
    # conv 5x5x1x6 + conv 5x5x6x16 + fc 400->120->84->10 on 32x32 "valid" inputs: 61,706 parameters
    info = model_info(build_model("lenet5", (32, 32, 1), 10))
    assert info.params == 61_706
    assert info.macs == 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10


def test_mobilenetv2_adapts_strides_to_small_inputs() -> None:
    def head(shape: tuple[int, int, int]) -> tuple[int, int]:
        model = build_model("mobilenetv2", shape, 10, alpha=0.35)
        return tuple(model.get_layer("head_conv").output_shape[1:3])

    assert head((96, 96, 3)) == (3, 3)  # the original total stride of 32
    assert head((32, 32, 3)) == (2, 2)  # stride 16: the last map keeps 2x2 pixels


def test_inceptionv3_rejects_inputs_below_75_pixels() -> None:
    with pytest.raises(CodegenError, match="at least 75x75"):
        build_model("inceptionv3", (32, 32, 3), 10)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(CodegenError) as err:
        build_model("alexnet", (32, 32, 1), 10)
    for name in model_names():
        assert name in err.value.hint


def _trainable(model) -> int:  # noqa: ANN001 - a tf_keras Model
    import numpy as np

    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_resnet50_at_full_width_is_resnet50() -> None:
    # torchvision's resnet50: 25,557,032 parameters, 4.09 G multiply-accumulates at 224x224
    model = build_model("resnet50", (224, 224, 3), 1000, width=1.0)
    assert _trainable(model) == 25_557_032
    assert 4.05e9 < model_info(model).macs < 4.15e9
    assert model.get_layer("avgpool").input_shape[1:3] == (7, 7)


def test_resnet50_and_regnetx_small_input_stems_keep_resolution() -> None:
    for name in ("resnet50", "regnetx"):
        auto = build_model(name, (32, 32, 3), 10, width=0.1)
        assert auto.get_layer("avgpool").input_shape[1:3] == (4, 4), name  # stride-1 stem below 64 px
        off = build_model(name, (32, 32, 3), 10, width=0.1, small_input=False)
        assert off.get_layer("avgpool").input_shape[1:3] == (1, 1), name  # the ImageNet stem: total stride 32


def test_regnetx_at_full_width_is_regnetx_200mf_with_block_diagonal_kernels() -> None:
    import numpy as np

    # timm's regnetx_002 (RegNetX-200MF): 2,684,792 parameters; the grouped 3x3 convolutions are dense
    # convolutions whose kernels are zero outside the groups
    from codegen.train.models import _block_diagonal_mask

    model = build_model("regnetx", (224, 224, 3), 1000, width=1.0)
    outside = 0  # kernel entries outside the groups: structurally zero
    for layer in model.layers:
        groups = getattr(getattr(layer, "kernel_constraint", None), "groups", 1)
        if groups > 1:
            mask = _block_diagonal_mask(tuple(int(d) for d in layer.kernel.shape), groups)
            outside += int(np.sum(mask == 0))
            assert np.all(layer.kernel.numpy()[mask == 0] == 0), layer.name
    assert _trainable(model) - outside == 2_684_792


def test_regnetx_grouped_kernels_stay_block_diagonal_during_training() -> None:
    import numpy as np

    from codegen.train.tfenv import keras

    model = build_model("regnetx", (16, 16, 1), 3, width=0.5, depths=(1, 1, 1, 1))  # stage 2: 4 groups of 8
    model.compile(optimizer=keras().optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    layer = model.get_layer("stage2_block1_b_conv")
    before = layer.get_weights()[0].copy()
    model.fit(rng.normal(size=(8, 16, 16, 1)), rng.integers(0, 3, 8), epochs=2, verbose=0)
    after = layer.get_weights()[0]
    assert not np.array_equal(before, after)
    assert np.array_equal(after == 0, before == 0) and (after == 0).mean() > 0.5


def test_inceptionv3_gets_75x75_by_default_from_the_cli() -> None:
    import argparse

    from codegen.train import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["train", "--model", "inceptionv3", "--dataset", "digits"])
    assert cli._preprocess(args).size == (75, 75)
    args = parser.parse_args(["train", "--model", "squeezenet", "--dataset", "digits"])
    assert cli._preprocess(args).size == (32, 32)
