/* Test stub (see esp_err.h). */
#ifndef CG_STUB_ESP_TIMER_H
#define CG_STUB_ESP_TIMER_H
#include <stdint.h>
int64_t esp_timer_get_time(void);
#endif
