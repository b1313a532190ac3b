/* Test stub (see esp_err.h). */
#ifndef CG_STUB_ESP_CPU_H
#define CG_STUB_ESP_CPU_H
#include <stdint.h>
#include "esp_idf_version.h"
#if ESP_IDF_VERSION_MAJOR >= 5
typedef uint32_t esp_cpu_cycle_count_t;
esp_cpu_cycle_count_t esp_cpu_get_cycle_count(void);
#else
uint32_t esp_cpu_get_ccount(void);
#endif
#endif
