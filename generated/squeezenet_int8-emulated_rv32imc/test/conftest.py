"""pytest set-up of a generated project: `pytest test/ [--port P]` runs test_board.py on the board.

Without --port the project is built and run on the emulated STM32F405 (needs qemu-system-arm and
arm-none-eabi-gcc); with --port it talks to the flashed board. Needs codegen installed (pip install codegen).
"""

pytest_plugins = ["codegen.hil.pytest_plugin"]

collect_ignore = ["test_custom_runner.py"]  # PlatformIO's `pio test` runner, not a pytest module
