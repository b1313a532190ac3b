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
