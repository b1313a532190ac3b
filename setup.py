"""Build hook: ship the top-level data folders inside the package as codegen/_data/<name>.

All metadata is in pyproject.toml; this file only extends build_py.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("templates", "boards", "runtime", "firmware", "platform", "docs")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pio", ".pio-core", "*.o", "*.so")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        for name in DATA_FOLDERS:
            src = root / name
            if src.is_dir():
                dst = Path(self.build_lib) / "codegen" / "_data" / name
                if dst.exists():
                    shutil.rmtree(dst)
                shutil.copytree(src, dst, ignore=IGNORE, symlinks=False)


setup(cmdclass={"build_py": BuildPyWithData})
