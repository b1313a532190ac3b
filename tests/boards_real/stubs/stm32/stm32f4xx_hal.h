/* Test stub wrapper for the STM32F4 HAL (see cg_hal_stub.h). */
#ifndef CG_STUB_STM32F4XX_HAL_H
#define CG_STUB_STM32F4XX_HAL_H
#define CG_STUB_F4 1
#include "cg_hal_stub.h"
#endif
