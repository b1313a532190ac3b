"""The emulated STM32F405 end to end: `pio run` builds, `pio run -t upload` starts QEMU, the firmware
answers the
serial protocol with the host reference's results, and survives garbage, truncated frames and bad CRCs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from codegen.hil.client import DeviceClient, ProtocolError
from codegen.hil.protocol import Command, Frame, Status, encode_frame
from tests.project.conftest import RunningProject

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


@pytest.fixture
def device(emulated_project: RunningProject) -> Iterator[DeviceClient]:
    with DeviceClient(emulated_project.url, timeout=20, retries=2) as client:
        client.wait_ready(timeout=20)
        yield client


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return np.random.default_rng(1).integers(-128, 128, size=(1, 49, 10, 1), dtype=np.int8)


@pytest.fixture(scope="module")
def host_output(kws_model, sample: np.ndarray) -> bytes:  # noqa: ANN001
    from codegen import host

    return host.compile(kws_model).predict(sample)[0].tobytes()


def _next_frame(device: DeviceClient, timeout: float = 10.0) -> Frame:
    ev = device._next_event(timeout)
    assert isinstance(ev, Frame), ev
    return ev


def test_pio_build_reports_real_flash_and_ram_within_the_board(emulated_project: RunningProject) -> None:
    size = emulated_project.size
    assert size is not None and 10_000 < size.flash < 1_048_576 and 16_000 < size.ram < 131_072


def test_build_itemizes_ram_into_arena_stack_and_other_static_data_as_the_fit_estimate_does(
    emulated_project: RunningProject,
) -> None:
    from codegen.boards import load_board
    from codegen.project import pio

    elf = next(emulated_project.path.glob(".pio/build/*/firmware.elf"))
    size = emulated_project.size
    assert size is not None
    parts = pio.ram_parts(elf, size)
    assert parts is not None
    arena = int(next(line.split()[2] for line in (emulated_project.path / "src" / "net" / "cg_net.h").read_text()
                     .splitlines() if line.startswith("#define CG_NET_ARENA_SIZE")))
    assert parts.arena == arena and parts.decoded == 0
    assert parts.stack in (8192, 8196)  # .stack_reserve: _min_stack of the link script (+ alignment)
    assert 0 < parts.other < 2048 and parts.arena + parts.stack + parts.other == size.ram
    from codegen.analysis import ram_use

    estimate = ram_use(load_board("qemu"), arena, layers=13)
    assert estimate.stack == 8192 and estimate.firmware >= parts.other


def test_device_reports_the_model_hash_and_how_it_counts(
    device: DeviceClient, emulated_project: RunningProject
) -> None:
    info = device.info()
    assert info.model_sha256 == emulated_project.sha256
    assert info.counter_kind == "SysTick ticks (QEMU icount, 1.344 per instruction)" and info.counter_hz == 168_000_000
    assert info.inputs[0].shape == (1, 49, 10, 1) and info.outputs[0].nbytes == 12
    assert info.tool_version.startswith("codegen") and info.arena_bytes > 0 and info.num_layers > 5


def test_infer_equals_the_host_reference_with_deterministic_counts(
    device: DeviceClient, sample: np.ndarray, host_output: bytes
) -> None:
    first = device.infer(sample)
    second = device.infer(sample.tobytes())
    assert first.outputs == (host_output,) == second.outputs
    assert first.cycles > 1_000_000
    assert abs(first.cycles - second.cycles) <= first.cycles // 10_000  # icount: a SysTick wrap at most


def test_profile_and_dump_cover_every_layer(
    device: DeviceClient, sample: np.ndarray, host_output: bytes
) -> None:
    info = device.info()
    layers = device.profile(sample)
    assert len(layers) == info.num_layers and all(layer.cycles > 0 for layer in layers)
    assert layers[0].name == "CONV_2D"
    dump = device.dump(sample)
    assert [layer.index for layer in dump.layers] == list(range(info.num_layers))
    assert dump.layers[-1].data == host_output


def test_garbage_and_bad_crc_get_error_replies_and_infer_still_works(
    device: DeviceClient, sample: np.ndarray, host_output: bytes
) -> None:
    device.write_raw(b"\xa5\x5a\x00\x01garbage that is not a frame")
    reply = _next_frame(device)
    assert reply.cmd == Command.ERROR and reply.status == Status.BAD_HEADER
    bad = bytearray(encode_frame(Command.INFER, 200, sample.tobytes()))
    bad[100] ^= 0x40
    device.write_raw(bytes(bad))
    reply = _next_frame(device)
    assert (reply.cmd, reply.seq, reply.status) == (Command.ERROR, 200, Status.BAD_CRC)
    assert device.infer(sample).outputs == (host_output,)
    # garbage ending in the start of a header: the next request is parsed after a resync (or retried)
    device.write_raw(b"noise\xa5\x5a\xff")
    assert device.infer(sample).outputs == (host_output,)


def test_truncated_frame_times_out_with_an_error_and_infer_still_works(
    device: DeviceClient, sample: np.ndarray, host_output: bytes
) -> None:
    device.write_raw(encode_frame(Command.INFER, 201, sample.tobytes())[:100])
    reply = _next_frame(device, timeout=15)
    assert (reply.cmd, reply.seq, reply.status) == (Command.ERROR, 201, Status.TIMEOUT)
    assert device.infer(sample).outputs == (host_output,)


def test_wrong_length_and_unknown_command_are_rejected_without_hanging(
    device: DeviceClient, sample: np.ndarray, host_output: bytes
) -> None:
    with pytest.raises(ProtocolError) as err:
        device.request(Command.INFER, b"\x00" * 10)
    assert err.value.status == Status.BAD_LENGTH
    with pytest.raises(ProtocolError) as err:
        device.request(0x42)
    assert err.value.status == Status.UNKNOWN_COMMAND
    assert device.infer(sample).outputs == (host_output,)
