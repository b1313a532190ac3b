"""pytest plugin for tests that run on a board: ``pytest_plugins = ["codegen.hil.pytest_plugin"]``.

Options:

* ``--port P``: serial port or URL of a board already flashed with the firmware under test
  (``/dev/ttyACM0``, ``socket://127.0.0.1:5555``). Without it, the tests run against the emulated STM32F405:
  a project is generated for ``--model`` (once per session, cached under ``tests/.cache/hil``), built, and QEMU is
  started for the session; they are skipped, with the reason, when qemu-system-arm or arm-none-eabi-gcc is missing.
* ``--ports P1,P2,...``: a rack of flashed boards for pytest-xdist: ``pytest -n 2 --ports A,B`` gives worker
  ``gwN`` the board ``PN`` for the whole session (without xdist: the first one), so the on-board tests run on
  every board at once. Needs at least as many ports as workers.
* ``--board-name B``: the board behind ``--port`` (default: the emulated STM32F405).
* ``--model M``: the int8 .tflite the firmware was generated from (default: the MLPerf Tiny KWS model).

Inside a generated project (``pytest test/`` in the project folder) the project itself is the firmware under
test: it is built and emulated, or ``--port`` points at the flashed board.

Fixtures: ``hil_options``, ``hil_board``, ``hil_model``, ``hil_project`` (a built emulated-board project),
``hil_url`` (the serial URL for the session), ``hil_target`` (a connected :class:`codegen.hil.validate.Target`,
one connection per test), ``device`` (the raw :class:`codegen.hil.client.DeviceClient`),
``hil_golden`` (golden vectors of the generated project, when there is one).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

log = logging.getLogger(__name__)

DEFAULT_BOARD = "emulated_stm32f405"
DEFAULT_MODEL = "kws_dscnn_int8.tflite"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class HilOptions:
    port: str | None
    board_name: str | None
    model: Path | None
    project: Path | None        # the generated project pytest runs in, if any


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("codegen-hil", "codegen hardware-in-the-loop")
    group.addoption("--port", default=None, help="serial port or URL of a flashed board (default: emulate)")
    group.addoption("--ports", default=None,
                    help="comma-separated ports of several flashed boards, one per pytest-xdist worker (-n N)")
    group.addoption("--board-name", default=None, help=f"board behind --port (default {DEFAULT_BOARD})")
    group.addoption("--model", default=None, type=Path, help=f"int8 .tflite (default {DEFAULT_MODEL})")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "board: runs against a board given with --port (or the emulator)")
    ports = config.getoption("--ports", default=None)
    if ports:
        if config.getoption("--port", default=None):
            raise pytest.UsageError("pass --port (one board) or --ports (one board per xdist worker), not both")
        names = [p for p in ports.split(",") if p.strip()]
        workers = config.getoption("numprocesses", default=None)
        if isinstance(workers, int) and workers > len(names):
            raise pytest.UsageError(f"-n {workers} workers need {workers} boards, --ports names {len(names)} "
                                    f"(run with -n {len(names)}, or add ports)")


def _enclosing_project(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / "platformio.ini").is_file() and (d / "test" / "cg_test_config.json").is_file():
            return d
    return None


def worker_port(ports: str, worker: str | None) -> str:
    """The board of a pytest-xdist worker (``gw0``, ``gw1``...; None without xdist) from ``--ports A,B,...``."""
    names = [p.strip() for p in ports.split(",") if p.strip()]
    if not names:
        raise pytest.UsageError("--ports names no port (give a comma-separated list: --ports A,B)")
    index = int(worker[2:]) if worker and worker.startswith("gw") and worker[2:].isdigit() else 0
    if index >= len(names):
        raise pytest.UsageError(f"pytest-xdist worker {worker} has no board: --ports names {len(names)} "
                                f"(run with -n {len(names)} at most, or add ports)")
    return names[index]


@pytest.fixture(scope="session")
def hil_options(pytestconfig: pytest.Config) -> HilOptions:
    model = pytestconfig.getoption("--model", default=None)
    port = pytestconfig.getoption("--port", default=None)
    ports = pytestconfig.getoption("--ports", default=None)
    if ports:
        port = worker_port(ports, os.environ.get("PYTEST_XDIST_WORKER"))
    return HilOptions(
        port=port,
        board_name=pytestconfig.getoption("--board-name", default=None),
        model=Path(model).resolve() if model else None,
        project=_enclosing_project(Path(str(pytestconfig.rootpath)).resolve()),
    )


@pytest.fixture(scope="session")
def hil_board(hil_options: HilOptions):  # noqa: ANN201 - codegen.boards.Board
    from codegen.boards import load_board

    name = hil_options.board_name
    if name is None and hil_options.project is not None:
        name = json.loads((hil_options.project / "test" / "cg_test_config.json").read_text())["board"]
    return load_board(name or DEFAULT_BOARD)


@pytest.fixture(scope="session")
def hil_model(hil_options: HilOptions) -> Path:
    if hil_options.model is not None:
        if not hil_options.model.is_file():
            pytest.fail(f"--model {hil_options.model} does not exist")
        return hil_options.model
    path = REPO_ROOT.parent / "shared" / "models" / DEFAULT_MODEL
    if not path.is_file():
        pytest.skip(f"no --model given and the default model {path} is not present")
    return path


@pytest.fixture(scope="session")
def hil_golden(hil_options: HilOptions, request: pytest.FixtureRequest) -> list[tuple[bytes, bytes]]:
    """Golden vectors (input, expected output): the generated project's, or computed for --model by the TFLM
    reference."""
    if hil_options.project is not None:
        data = json.loads((hil_options.project / "test" / "cg_golden.json").read_text())
        return [(bytes.fromhex(v["input"]), bytes.fromhex(v["output"])) for v in data["vectors"]]
    from codegen.frontend import load_model
    from codegen.hil.golden import golden_vectors

    return golden_vectors(load_model(request.getfixturevalue("hil_model")), 4)


def emulator_skip_reason(board: object = None) -> str | None:
    """Why the emulated board (default: the emulated STM32F405) cannot run here (None when it can)."""
    from codegen.boards import load_board
    from codegen.project.emulator import missing_tools

    missing, packages = missing_tools(board or load_board(DEFAULT_BOARD))  # type: ignore[arg-type]
    if missing:
        return (f"no --port given and {' and '.join(missing)} not installed, so the emulated board cannot run "
                f"(apt install {packages}, or pass --port)")
    return None


def _cache_root() -> Path:
    return Path(os.environ.get("CODEGEN_HIL_CACHE", REPO_ROOT / "tests" / ".cache" / "hil"))


@pytest.fixture(scope="session")
def hil_project(hil_options: HilOptions, hil_board, request: pytest.FixtureRequest) -> Path:  # noqa: ANN001
    """A generated and built emulated-board project (the enclosing one, or one made for --model, cached)."""
    reason = emulator_skip_reason(hil_board)
    if reason:
        pytest.skip(reason)
    from codegen.hil.project import build_project, ensure_project

    if hil_options.project is not None:
        root = hil_options.project
    else:
        model = request.getfixturevalue("hil_model")
        root = ensure_project(model, hil_board, _cache_root())
    build_project(root)
    return root


@pytest.fixture
def device(hil_url: str) -> Iterator[object]:
    """The raw protocol client (:class:`codegen.hil.client.DeviceClient`), connected and ready."""
    from codegen.hil.device import open_target

    with open_target(hil_url, timeout=20.0, boot_timeout=10.0) as target:
        yield target.client


@pytest.fixture(scope="session")
def hil_url(hil_options: HilOptions, request: pytest.FixtureRequest) -> Iterator[str]:
    """Serial URL of the board under test: --port, or an emulator started for the session."""
    if hil_options.port:
        yield hil_options.port
        return
    reason = emulator_skip_reason(request.getfixturevalue("hil_board"))
    if reason:
        pytest.skip(reason)
    from codegen.hil.project import running_emulator

    project = request.getfixturevalue("hil_project")
    board = request.getfixturevalue("hil_board")
    with running_emulator(project, board) as url:
        yield url


@pytest.fixture
def hil_target(hil_url: str) -> Iterator[object]:
    """A connected device (one connection per test, closed afterwards)."""
    from codegen.hil.device import open_target

    with open_target(hil_url, timeout=20.0, boot_timeout=10.0) as target:
        yield target
