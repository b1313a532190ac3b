"""The generated C and the runtime build cleanly with the sanitizers and with the Cortex-M4 cross compiler."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from codegen import host
from codegen.backend.native.kernels import all_kernel_sources, runtime_dir
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from codegen.verify import random_input
from tests.conftest import shared_model

ARM_FLAGS = [
    "-mcpu=cortex-m4",
    "-mthumb",
    "-mfloat-abi=hard",
    "-mfpu=fpv4-sp-d16",
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-O2",
    "-c",
]


def test_kws_under_address_and_undefined_sanitizers_matches_tflm(build_cache) -> None:  # noqa: ANN001
    path = shared_model("kws_dscnn_int8.tflite")
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=True, opt="-O1")
    ref = ReferenceModel(path)
    rng = np.random.default_rng(5)
    xs = [random_input(graph.input_tensors[0].shape, graph.input_tensors[0].dtype, rng) for _ in range(10)]
    for x, got in zip(xs, ours.predict_many(xs), strict=True):
        np.testing.assert_array_equal(got[0], np.asarray(ref.predict(x)[0]).reshape(got[0].shape))


def test_every_runtime_source_compiles_for_cortex_m4(tmp_path) -> None:  # noqa: ANN001
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    sources = [str(p) for p in all_kernel_sources()]
    assert len(sources) > 20
    for src in sources:
        out = tmp_path / "x.o"
        proc = subprocess.run(
            [cc, *ARM_FLAGS, "-I", str(runtime_dir() / "include"), src, "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"{src}:\n{proc.stderr}"


def test_generated_network_compiles_for_cortex_m4(tmp_path) -> None:  # noqa: ANN001
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    from codegen.backend.native import generate

    sources = generate(load_model(shared_model("kws_dscnn_int8.tflite")), prefix="kws")
    sources.write(tmp_path)
    for name in sorted(sources.files):
        if name.endswith(".c"):
            proc = subprocess.run(
                [
                    cc,
                    *ARM_FLAGS,
                    "-I",
                    str(tmp_path),
                    str(tmp_path / name),
                    "-o",
                    str(tmp_path / (name + ".o")),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, f"{name}:\n{proc.stderr}"
