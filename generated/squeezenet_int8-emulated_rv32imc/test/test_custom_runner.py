"""PlatformIO custom test runner (`test_framework = custom`) for the codegen on-device self-test.

`pio test` builds test/test_selftest/ together with the project's src/ (except src/main.c, whose entry point the
self-test replaces), then:

* emulated board (test/cg_test_config.json names an emulator): starts QEMU on the built ELF with the UART on
  stdio, reads the Unity-style lines `file:line:name:PASS|FAIL[: message]`, and stops QEMU at the summary line or
  after a timeout (CG_SELFTEST_TIMEOUT seconds, default 120);
* real board: uploads as usual and reads the same lines from the serial test port.

This file runs inside PlatformIO's Python; it needs nothing from codegen.
"""

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from platformio.public import TestCase, TestCaseSource, TestRunnerBase, TestStatus

LINE_RE = re.compile(r"^(?P<file>[^:\r\n]+):(?P<line>\d+):(?P<name>[A-Za-z0-9_]+):(?P<status>PASS|FAIL|IGNORE)"
                     r"(?::\s?(?P<message>.*))?$")
SUMMARY_RE = re.compile(r"^(?P<tests>\d+) Tests (?P<failures>\d+) Failures (?P<ignored>\d+) Ignored")
STATUS = {"PASS": TestStatus.PASSED, "FAIL": TestStatus.FAILED, "IGNORE": TestStatus.SKIPPED}


class CustomTestRunner(TestRunnerBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._summary_seen = False
        self._config = self._read_config()

    # -- configuration --------------------------------------------------------------------------------------------

    def _test_dir(self):
        return Path(self.project_config.get("platformio", "test_dir"))

    def _read_config(self):
        path = Path(self.project_config.get("platformio", "test_dir")) / "cg_test_config.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _emulated(self):
        return bool(self._config.get("emulator")) and not self.get_test_port()

    def configure_build_env(self, env):
        # The self-test links the project's network, port and app sources, but brings its own entry point.
        if not env.GetProjectOption("test_build_src", False):
            env.BuildSources("$BUILD_DIR/cg_src", "$PROJECT_SRC_DIR", ["+<*>", "-<main.c>", "-<main.cpp>"])
        return env

    # -- stages ---------------------------------------------------------------------------------------------------

    def stage_building(self):
        if self._emulated():
            if self.options.without_building:
                return None
            return self.run_project_targets(["__test"])
        return super().stage_building()

    def stage_uploading(self):
        if self._emulated():
            return None  # nothing to flash: the emulator loads the ELF
        return super().stage_uploading()

    def stage_testing(self):
        if self.options.without_testing:
            return None
        if not self._emulated():
            return super().stage_testing()
        return self._test_in_emulator()

    def _test_in_emulator(self):
        emu = self._config["emulator"]
        env = self.test_suite.env_name
        build_dir = Path(self.project_config.get("platformio", "build_dir")) / env
        elf = build_dir / "firmware.elf"
        if not elf.is_file():
            raise RuntimeError(f"{elf} not found: the test build did not produce an ELF")
        program = shutil.which(emu["program"])
        if program is None:
            raise RuntimeError(f"{emu['program']} not found on PATH: install QEMU (Debian: qemu-system-arm, "
                               "qemu-system-misc for riscv32)")
        cmd = [program, "-machine", emu["machine"], "-cpu", emu["cpu"],
               "-icount", f"shift={emu['icount_shift']}", *emu.get("extra_args", []),
               "-serial", "stdio", "-kernel", str(elf)]
        cmd = [a for a in cmd if a != "-nographic"] + ["-display", "none"]
        timeout = float(os.environ.get("CG_SELFTEST_TIMEOUT", "120"))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        started = time.monotonic()
        try:
            while not self.test_suite.is_finished():
                chunk = proc.stdout.read1(256) if hasattr(proc.stdout, "read1") else proc.stdout.read(1)
                if not chunk:
                    break
                self.on_testing_data_output(chunk)
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if not self._summary_seen:
            elapsed = time.monotonic() - started
            message = f"no summary line from the emulator within {elapsed:.0f} s (timeout {timeout:.0f} s)"
            self.test_suite.add_case(TestCase(name="selftest_summary", status=TestStatus.ERRORED, message=message,
                                              exception=RuntimeError(message)))
            self.test_suite.on_finish()
        return None

    # -- output parsing -------------------------------------------------------------------------------------------

    def on_testing_line_output(self, line):
        super().on_testing_line_output(line)
        text = line.strip()
        match = LINE_RE.match(text)
        if match:
            source = TestCaseSource(filename=match.group("file"), line=int(match.group("line")))
            self.test_suite.add_case(TestCase(
                name=match.group("name"), status=STATUS[match.group("status")],
                message=match.group("message"), source=source,
            ))
            return
        if SUMMARY_RE.match(text):
            self._summary_seen = True
        if self._summary_seen and text in ("OK", "FAIL"):
            self.test_suite.on_finish()
