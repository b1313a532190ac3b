"""codegen's local PlatformIO platform for the emulated boards (QEMU): STM32F405 and RV32IMC.

PlatformIO derives the class name from the platform name ("codegen_emulated" -> "Codegen_emulatedPlatform").
The build logic is in builder/main.py. The platform declares no packages: it compiles with the system's Debian
cross toolchains on PATH (arm-none-eabi-*, riscv64-unknown-elf-*), and the generated project ships the only
package PlatformIO itself needs (tool-scons, which runs SCons from PlatformIO's Python) in pio-offline/.
"""

from platformio.public import PlatformBase


class Codegen_emulatedPlatform(PlatformBase):  # noqa: N801 - the name PlatformIO looks up
    def is_embedded(self) -> bool:
        return True
