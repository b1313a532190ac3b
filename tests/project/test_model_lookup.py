"""`codegen --board B --model NAME.tflite` finds NAME in the current folder or in models/, and writes the project
into generated/ beside models/ (the mission command run from a checkout's root or from its models/ folder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codegen.errors import ModelError
from codegen.project.writer import find_model, generate_project
from tests.project import fake_network


@pytest.fixture()
def checkout(tmp_path: Path, kws_model: Path) -> Path:
    """A folder laid out like a checkout: models/m.tflite."""
    (tmp_path / "models").mkdir()
    shutil.copyfile(kws_model, tmp_path / "models" / "m.tflite")
    return tmp_path


def test_bare_name_is_found_in_models_and_the_project_lands_in_generated(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(checkout)
    project = generate_project("m.tflite", "esp32", network=fake_network.generate, selftest=False)
    assert project.path == (checkout / "generated" / "m-esp32dev").resolve()
    assert (project.path / "platformio.ini").is_file()


def test_run_from_models_the_project_still_lands_beside_models(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(checkout / "models")
    project = generate_project("m.tflite", "qemu", network=fake_network.generate, selftest=False)
    assert project.path == (checkout / "generated" / "m-emulated_stm32f405").resolve()
    assert not (checkout / "models" / "generated").exists()


def test_file_in_the_current_folder_wins_over_models(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (checkout / "m.tflite").write_bytes(b"local")
    monkeypatch.chdir(checkout)
    assert find_model("m.tflite").read_bytes() == b"local"


def test_missing_model_names_every_place_it_looked(
    checkout: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codegen.cli import main

    monkeypatch.chdir(checkout)
    with pytest.raises(ModelError) as err:
        find_model("absent.tflite")
    assert str(checkout / "absent.tflite") in str(err.value)
    assert str(checkout / "models" / "absent.tflite") in str(err.value)
    assert main(["--board", "esp32", "--model", "absent.tflite"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "models" in lines[0] and "not found" in lines[0]
    assert not (checkout / "generated").exists()
