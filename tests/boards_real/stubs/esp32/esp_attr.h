/* Test stub (see esp_err.h): ESP-IDF 5.x places EXT_RAM_BSS_ATTR data in .ext_ram.bss.<n> (external PSRAM). */
#ifndef CG_STUB_ESP_ATTR_H
#define CG_STUB_ESP_ATTR_H
#define EXT_RAM_BSS_ATTR __attribute__((section(".ext_ram.bss.0")))
#endif
