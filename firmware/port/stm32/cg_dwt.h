/* codegen STM32 port: Cortex-M DWT cycle counter.
 *
 * Uses only the architectural ARMv7-M debug registers (DEMCR, DWT_CTRL, DWT_CYCCNT, DWT_LAR), so it does
 * not depend on the vendor HAL or on the CMSIS version (CoreDebug vs DCB naming). Works on Cortex-M3/M4/M7;
 * the lock-access write needed by some Cortex-M7 parts is ignored where the register does not exist. */
#ifndef CG_DWT_H
#define CG_DWT_H

#include <stdint.h>

/* Enable trace, unlock the DWT and start the cycle counter from zero. Returns 1 when the core implements
 * CYCCNT and it is now counting, 0 otherwise (port_cycles then stays at 0). */
int cg_dwt_init(void);

/* Current value of the free-running 32-bit cycle counter (wraps after 2^32 cycles). */
uint32_t cg_dwt_cycles(void);

#endif /* CG_DWT_H */
