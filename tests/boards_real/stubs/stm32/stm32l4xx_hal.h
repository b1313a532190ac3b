/* Test stub wrapper for the STM32L4 HAL (see cg_hal_stub.h). */
#ifndef CG_STUB_STM32L4XX_HAL_H
#define CG_STUB_STM32L4XX_HAL_H
#define CG_STUB_L4 1
#include "cg_hal_stub.h"
#endif
