/* Test stub (see esp_err.h). */
#ifndef CG_STUB_ESP_ROM_SYS_H
#define CG_STUB_ESP_ROM_SYS_H
#include <stdint.h>
uint32_t esp_rom_get_cpu_ticks_per_us(void);
#endif
