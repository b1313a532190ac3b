/* Test stub wrapper for the STM32H7 HAL (see cg_hal_stub.h). */
#ifndef CG_STUB_STM32H7XX_HAL_H
#define CG_STUB_STM32H7XX_HAL_H
#define CG_STUB_H7 1
#include "cg_hal_stub.h"
#endif
