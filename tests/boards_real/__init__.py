"""Real-board (STM32, ESP32) ports and project templates: checks that need no registry and no hardware."""
