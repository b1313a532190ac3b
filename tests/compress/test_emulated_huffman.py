"""The emulated STM32F405 with Huffman-packed weights: the project built with --huffman (per-layer and
init decoding) answers INFER with exactly the bytes of the uncompressed host build."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import numpy as np
import pytest

from codegen.hil.client import DeviceClient
from tests.project.conftest import RunningProject, free_port, kws_model  # noqa: F401 - fixture

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


@pytest.fixture(scope="module", params=["layer", "init"])
def huffman_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, kws_model  # noqa: ANN001, F811
) -> Iterator[RunningProject]:
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from codegen.compress.codec import NetworkGenerator
    from codegen.project import pio
    from codegen.project.writer import generate_project

    network = NetworkGenerator("huffman", request.param, None)
    out = tmp_path_factory.mktemp(f"huffman_{request.param}") / "kws-qemu"
    project = generate_project(kws_model, "qemu", out, selftest=False, network=network)
    assert network.last is not None and network.last.decode == request.param
    built = pio.build(project.path)
    port = free_port()
    pio.upload(project.path, port=f"127.0.0.1:{port}")
    try:
        yield RunningProject(project.path, f"socket://127.0.0.1:{port}", project.model_sha256, built.size)
    finally:
        pio.stop(project.path)


def test_infer_with_huffman_weights_equals_the_uncompressed_host_build(
    huffman_project: RunningProject, kws_model  # noqa: ANN001, F811
) -> None:
    from codegen import host

    rng = np.random.default_rng(3)
    samples = [rng.integers(-128, 128, size=(1, 49, 10, 1), dtype=np.int8) for _ in range(2)]
    plain = host.compile(kws_model)
    expected = [plain.predict(x)[0].tobytes() for x in samples]
    with DeviceClient(huffman_project.url, timeout=20, retries=2) as device:
        device.wait_ready(timeout=20)
        got = [device.infer(x).outputs for x in samples]
    assert got == [(e,) for e in expected]
