"""PlatformIO custom test runner (`test_framework = custom`) for the codegen on-device self-test.

`pio test` builds test/test_selftest/ together with the project's src/ (except src/main.c, whose entry point the
self-test replaces), then:

* emulated board (test/cg_test_config.json names an emulator): starts QEMU on the built ELF with the UART on
  stdio, reads the Unity-style lines `file:line:name:PASS|FAIL[: message]`, and stops QEMU at the summary line or
  after a timeout (CG_SELFTEST_TIMEOUT seconds, default 120);
* real board: uploads as usual, opens the serial test port and reads the same lines. The board repeats its report
  every second until it receives a byte; the runner takes the first complete report (from its header line
  `codegen self-test <board>` to the `OK`/`FAIL` line) and then sends one byte to acknowledge it. So the report is
  not lost when the port opens after the board finished (ST-LINK's virtual COM port cannot reset the target).
  Timeout: CG_SELFTEST_TIMEOUT seconds (default 120).

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
HEADER_RE = re.compile(r"^codegen self-test \S+$")
ACK = b"\x06"
STATUS = {"PASS": TestStatus.PASSED, "FAIL": TestStatus.FAILED, "IGNORE": TestStatus.SKIPPED}


class CustomTestRunner(TestRunnerBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._summary_seen = False
        self._pending = None  # test cases of the report being read (None before its header line)
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
        # The self-test links the project's network, port and app sources, but brings its own entry point. ESP-IDF
        # projects keep those in the components/codegen component, which every build links: nothing to add.
        if "espidf" in env.get("PIOFRAMEWORK", []):
            return env
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
            return self._test_on_serial_port()
        return self._test_in_emulator()

    def _timeout(self):
        return float(os.environ.get("CG_SELFTEST_TIMEOUT", "120"))

    def _no_report(self, where, elapsed):
        message = f"no complete self-test report from {where} within {elapsed:.0f} s (timeout {self._timeout():.0f} s)"
        self.test_suite.add_case(TestCase(name="selftest_summary", status=TestStatus.ERRORED, message=message,
                                          exception=RuntimeError(message)))
        self.test_suite.on_finish()

    def _test_on_serial_port(self):
        import serial
        from platformio.test.runners.readers.serial import SerialTestOutputReader

        port = SerialTestOutputReader(self).resolve_test_port()
        ser = serial.serial_for_url(port, do_not_open=True, baudrate=self.get_test_speed(), timeout=1)
        ser.rts = self.options.monitor_rts
        ser.dtr = self.options.monitor_dtr
        ser.open()
        if not self.options.no_reset:  # boards with an auto-reset circuit (ESP32) restart here; others repeat
            ser.reset_input_buffer()
            ser.dtr = False
            ser.rts = False
            time.sleep(0.1)
            ser.dtr = True
            ser.rts = True
            time.sleep(0.1)
        started = time.monotonic()
        try:
            while not self.test_suite.is_finished() and time.monotonic() - started < self._timeout():
                self.on_testing_data_output(ser.read(ser.in_waiting or 1))
            if self.test_suite.is_finished():
                ser.write(ACK)  # the board stops repeating its report
                ser.flush()
            else:
                self._no_report(port, time.monotonic() - started)
        finally:
            ser.close()
        return None

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
        timeout = self._timeout()
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
        if not self.test_suite.is_finished():
            self._no_report("the emulator", time.monotonic() - started)
        return None

    # -- output parsing -------------------------------------------------------------------------------------------

    def on_testing_line_output(self, line):
        super().on_testing_line_output(line)
        text = line.strip()
        if HEADER_RE.match(text):  # a (repeated) report starts: forget any partial one
            self._pending = []
            self._summary_seen = False
            return
        if self._pending is None or self.test_suite.is_finished():
            return  # the middle of a report whose start we missed: wait for the next one
        match = LINE_RE.match(text)
        if match:
            source = TestCaseSource(filename=match.group("file"), line=int(match.group("line")))
            self._pending.append(TestCase(
                name=match.group("name"), status=STATUS[match.group("status")],
                message=match.group("message"), source=source,
            ))
            return
        if SUMMARY_RE.match(text):
            self._summary_seen = True
        elif self._summary_seen and text in ("OK", "FAIL"):
            for case in self._pending:
                self.test_suite.add_case(case)
            self.test_suite.on_finish()
