"""codegen's local PlatformIO platform for the emulated STM32F405 (QEMU netduinoplus2).

PlatformIO derives the class name from the platform name ("emulated_stm32" -> "Emulated_stm32Platform").
The build logic is in builder/main.py; the toolchain package is a local folder of symlinks to the system
arm-none-eabi tools that `codegen build` registers in the project's PlatformIO core directory.
"""

from platformio.public import PlatformBase


class Emulated_stm32Platform(PlatformBase):  # noqa: N801 - the name PlatformIO looks up
    def is_embedded(self) -> bool:
        return True
