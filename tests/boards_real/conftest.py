"""Shared helpers for the real-board tests: board lists, compilers, generated projects.

The real-board projects cannot be built here (the PlatformIO registry is out of reach), so these tests check
what can be checked offline: our C compiles for the target CPU against stub vendor headers, the board
descriptions agree with boards/*.json and with the clock-tree rules, and the projects the writer renders for
every real board are valid PlatformIO configurations.

Projects are rendered by the real writer (codegen.project.writer.render_project) from a real model graph (the
MLPerf Tiny KWS model) with the real generated network (codegen.backend.native), so the network C that is
compiled for each board's CPU is what a user gets. ContractNetwork (the generated-network contract in a few
lines) remains for tests that need a network whose arena size they choose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from codegen.boards import Board, list_boards

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STUBS = HERE / "stubs"
STM32_PORT = REPO / "firmware" / "port" / "stm32"
ESP32_PORT = REPO / "firmware" / "port" / "esp32"
RUNTIME_INCLUDE = REPO / "runtime" / "include"
TEMPLATES = REPO / "templates" / "project"
MODEL = REPO.parent / "shared" / "models" / "kws_dscnn_int8.tflite"

ARM_GCC = shutil.which("arm-none-eabi-gcc")
ARM_NM = shutil.which("arm-none-eabi-nm")
HOST_GCC = shutil.which("gcc")
# PlatformIO Core comes with codegen's Python packages: look beside the running interpreter first, so the tests
# find it whatever PATH says.
PIO = shutil.which("pio", path=str(Path(sys.executable).parent)) or shutil.which("pio")
STRICT_ENV = "CODEGEN_BOARD_TESTS_STRICT"

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under ``bash run.sh test`` (CI) every tool these tests need is installed: a skip is a failure there."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get(STRICT_ENV) == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} skipped ({reason}), but {STRICT_ENV}=1 (bash run.sh test) "
                           "requires every board test to run")


def real_boards(family: str) -> list[Board]:
    return [b for b in list_boards() if b.family == family]


def board_ids(boards: list[Board]) -> list[str]:
    return [b.name for b in boards]


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)


def arm_cpu_flags(board: Board) -> list[str]:
    flags = [f"-mcpu={board.core}", "-mthumb", "-mfloat-abi=hard"]
    if board.fpu:
        flags.append(f"-mfpu={board.fpu}")
    return flags


# ---- a network that only implements the contract of /tmp/contracts.md ------------------------------------

_NET_H = """#ifndef CG_NET_H
#define CG_NET_H
#include <stdint.h>
#include "cg_types.h"
#include "cg_status.h"
#define CG_NET_NUM_INPUTS 1
#define CG_NET_NUM_OUTPUTS 1
#define CG_NET_NUM_LAYERS 2
#define CG_NET_ARENA_SIZE 1024
#define CG_NET_MODEL_SHA256 "00"
#define CG_NET_TOOL_VERSION "codegen test"
cg_status cg_net_init(void);
cg_status cg_net_run(void);
void *cg_net_input(int i);
void *cg_net_output(int i);
const cg_tensor_info *cg_net_input_info(int i);
const cg_tensor_info *cg_net_output_info(int i);
void cg_net_set_layer_hook(cg_layer_hook hook, void *user);
const char *cg_net_layer_name(int layer);
const void *cg_net_layer_output(int layer, uint32_t *nbytes);
#endif
"""

_NET_C = """#include <stddef.h>
#include "cg_net.h"
static uint8_t arena[CG_NET_ARENA_SIZE] __attribute__((aligned(16)));
static const cg_tensor_info in_info = {CG_DTYPE_INT8, 4, {1, 49, 10, 1, 0, 0}, 0.5f, -1, 490u};
static const cg_tensor_info out_info = {CG_DTYPE_INT8, 2, {1, 12, 0, 0, 0, 0}, 0.1f, 0, 12u};
static cg_layer_hook hook_fn;
static void *hook_user;
cg_status cg_net_init(void) { return CG_OK; }
cg_status cg_net_run(void)
{
    int layer;
    for (layer = 0; layer < CG_NET_NUM_LAYERS; ++layer) {
        arena[512 + layer] = arena[layer];
        if (hook_fn != NULL) {
            hook_fn(layer, hook_user);
        }
    }
    return CG_OK;
}
void *cg_net_input(int i) { return i == 0 ? arena : NULL; }
void *cg_net_output(int i) { return i == 0 ? arena + 512 : NULL; }
const cg_tensor_info *cg_net_input_info(int i) { return i == 0 ? &in_info : NULL; }
const cg_tensor_info *cg_net_output_info(int i) { return i == 0 ? &out_info : NULL; }
void cg_net_set_layer_hook(cg_layer_hook hook, void *user) { hook_fn = hook; hook_user = user; }
const char *cg_net_layer_name(int layer) { return layer == 0 ? "CONV_2D" : "SOFTMAX"; }
const void *cg_net_layer_output(int layer, uint32_t *nbytes) { *nbytes = 12u; return arena + 512 + layer; }
"""


@dataclass(frozen=True)
class ContractNetwork:
    files: dict[str, bytes] = field(default_factory=lambda: {"cg_net.c": _NET_C.encode(),
                                                            "cg_net.h": _NET_H.encode()})
    arena_bytes: int = 1024
    weight_bytes: int = 0
    num_layers: int = 2
    prefix: str = "cg_net"


@pytest.fixture(scope="session")
def model_graph():
    from codegen.frontend import load_model
    from tests.conftest import shared_model

    return load_model(shared_model(MODEL.name))


def generate_project(graph, board: Board, out: Path, sources=None) -> dict[str, Path]:
    """Write the project the writer renders for (graph, board) into out/: the real network unless ``sources``."""
    from codegen.project.writer import check_fit, native_generator, render_project, source_root

    sources = sources if sources is not None else native_generator(graph, "cg_net")
    files = render_project(graph, board, sources, model_file=MODEL.name,
                           project_name=f"{MODEL.stem}-{board.name}", fit=check_fit(board, sources),
                           selftest=False)
    written = {}
    for rel, content in files.items():
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(content)
        written[rel] = dest
    net = out / source_root(board) / "net"
    for header in ("cg_types.h", "cg_status.h"):  # what the native backend copies from runtime/ (contract net)
        if not (net / header).is_file():
            shutil.copyfile(RUNTIME_INCLUDE / header, net / header)
    return written


def src_dirs(board: Board) -> tuple[str, ...]:
    """The project's include folders: include/ and the firmware's app/, port/ and net/."""
    from codegen.project.writer import source_root

    root = source_root(board)
    return ("include", f"{root}/app", f"{root}/port", f"{root}/net")


@pytest.fixture(scope="session")
def network_sources(model_graph):
    """core -> the real generated network as `codegen generate` makes it for a board with that core (Cortex-M4/M7:
    the DSP kernel set; others: the portable kernels), generated once per core for the session."""
    from codegen.compress.codec import NetworkGenerator

    cache = {}

    def sources(board: Board):
        if board.core not in cache:
            cache[board.core] = NetworkGenerator("none", "auto", board)(model_graph, "cg_net")
        return cache[board.core]

    return sources


@pytest.fixture(scope="session")
def projects(model_graph, network_sources, tmp_path_factory) -> dict[str, Path]:
    """board name -> generated project folder, for every real (STM32 and ESP32) board."""
    out = {}
    for board in real_boards("stm32") + real_boards("esp32"):
        folder = tmp_path_factory.mktemp(board.name)
        generate_project(model_graph, board, folder, sources=network_sources(board))
        out[board.name] = folder
    return out


def pio_env(core_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PLATFORMIO_CORE_DIR"] = str(core_dir)
    env["PLATFORMIO_NO_ANSI"] = "true"
    env["PLATFORMIO_SETTING_ENABLE_TELEMETRY"] = "No"
    env["PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL"] = "9999"
    return env
