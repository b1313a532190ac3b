"""`codegen validate --port P --project DIR`: the project supplies model, board and clock; the model is the
project's own copy, identified by the sha256 in its manifest, never a same-named file from elsewhere."""

from __future__ import annotations

import json
import shutil

from codegen.cli import main


def test_validate_port_with_project_uses_the_projects_model_and_board(hil_url, hil_project, tmp_path, capsys,
                                                                      monkeypatch):
    manifest = json.loads((hil_project / ".codegen-manifest.json").read_text())
    assert (hil_project / "model" / manifest["model"]).is_file()
    # a same-named stranger in ./models must not be picked
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / manifest["model"]).write_bytes(b"not this one")
    monkeypatch.chdir(tmp_path)
    rc = main(["validate", "--port", hil_url, "--project", str(hil_project), "--samples", "5", "--no-plots",
               "--no-host-c", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["model_sha256"] == manifest["model_sha256"]
    assert report["board"] == manifest["board"] and report["latency"]["ms"]["mean"] > 0  # clock from the board


def test_project_without_its_model_copy_refuses_same_named_strangers(hil_project, tmp_path, capsys, monkeypatch):
    project = tmp_path / "old-project"
    shutil.copytree(hil_project, project, ignore=shutil.ignore_patterns(".pio", ".pio-core", "model"))
    name = json.loads((project / ".codegen-manifest.json").read_text())["model"]
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / name).write_bytes(b"a different model with the same name")
    monkeypatch.chdir(tmp_path)
    rc = main(["validate", "--port", "socket://127.0.0.1:9", "--project", str(project), "--samples", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "not found" in err[0] and "sha256" in err[0]


def test_validate_without_port_or_project_is_a_usage_error(capsys):
    assert main(["validate", "--samples", "1"]) == 2
    assert "--port" in capsys.readouterr().err
