"""Two emulated boards at once: `codegen flash DIR --port auto` twice, `codegen validate --port A --port B`,
`codegen stop DIR --port A` stops only that instance (QEMU, the emulated STM32F405)."""

from __future__ import annotations

import json

from codegen.cli import main
from codegen.project import instances


def _flash(project, capsys) -> dict:
    assert main(["flash", str(project), "--port", "auto", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_two_emulated_boards_validate_100_percent_with_a_per_board_breakdown(hil_project, capsys):
    a = b = None
    try:
        a = _flash(hil_project, capsys)
        b = _flash(hil_project, capsys)
        assert a["port"] != b["port"] and {i.port for i in instances.running(hil_project)} >= {a["port"], b["port"]}
        rc = main(["validate", "--port", a["url"], "--port", b["url"], "--project", str(hil_project),
                   "--samples", "6", "--no-host-c", "--no-plots", "--json"])
        report = json.loads(capsys.readouterr().out)
        assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0
        ref = next(c for c in report["comparisons"] if (c["a"], c["b"]) == ("reference", "device"))
        assert (ref["exact"], ref["samples"]) == (6, 6)  # the TFLM reference, bit for bit, on both boards
        boards = report["farm"]["boards"]
        assert [x["port"] for x in boards] == [a["url"], b["url"]]
        assert all(x["passed"] and x["latency"]["count"] == 3 and x["latency"]["min"] > 0 for x in boards)

        assert main(["stop", str(hil_project), "--port", str(a["port"])]) == 0
        assert f"port {a['port']}" in capsys.readouterr().out
        assert [i.port for i in instances.running(hil_project) if i.port in (a["port"], b["port"])] == [b["port"]]
        rc = main(["validate", "--port", b["url"], "--project", str(hil_project), "--samples", "2", "--no-host-c",
                   "--no-plots", "--json"])
        assert rc == 0 and json.loads(capsys.readouterr().out)["passed"]  # the other board still runs
    finally:
        for inst in (a, b):
            if inst is not None:
                for running in instances.running(hil_project):
                    if running.port == inst["port"]:
                        instances.stop(hil_project, str(inst["port"]))
    assert not [i for i in instances.running(hil_project) if i.port in (a["port"], b["port"])]


def test_a_bad_flash_port_is_a_one_line_usage_error(hil_project, capsys):
    assert main(["flash", str(hil_project), "--port", "example.org:99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "127.0.0.1" in err[0]
    assert main(["stop", str(hil_project), "--port", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no emulator" in err[0] and "port 1" in err[0]
