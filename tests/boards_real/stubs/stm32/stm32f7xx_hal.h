/* Test stub wrapper for the STM32F7 HAL (see cg_hal_stub.h). */
#ifndef CG_STUB_STM32F7XX_HAL_H
#define CG_STUB_STM32F7XX_HAL_H
#define CG_STUB_F7 1
#include "cg_hal_stub.h"
#endif
