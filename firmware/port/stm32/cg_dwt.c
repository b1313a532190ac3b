/* codegen STM32 port: Cortex-M DWT cycle counter (see cg_dwt.h). */
#include "cg_dwt.h"

#define CG_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define CG_DEMCR CG_REG32(0xE000EDFCu)      /* Debug Exception and Monitor Control Register */
#define CG_DWT_CTRL CG_REG32(0xE0001000u)   /* DWT control */
#define CG_DWT_CYCCNT CG_REG32(0xE0001004u) /* DWT cycle count */
#define CG_DWT_LAR CG_REG32(0xE0001FB0u)    /* CoreSight lock access (Cortex-M7) */

#define CG_DEMCR_TRCENA (1u << 24)
#define CG_DWT_CTRL_CYCCNTENA (1u << 0)
#define CG_DWT_CTRL_NOCYCCNT (1u << 25)
#define CG_DWT_LAR_UNLOCK 0xC5ACCE55u

int cg_dwt_init(void)
{
    CG_DEMCR |= CG_DEMCR_TRCENA;
    CG_DWT_LAR = CG_DWT_LAR_UNLOCK;
    if ((CG_DWT_CTRL & CG_DWT_CTRL_NOCYCCNT) != 0u) {
        return 0;
    }
    CG_DWT_CYCCNT = 0u;
    CG_DWT_CTRL |= CG_DWT_CTRL_CYCCNTENA;
    return (CG_DWT_CTRL & CG_DWT_CTRL_CYCCNTENA) != 0u;
}

uint32_t cg_dwt_cycles(void)
{
    return CG_DWT_CYCCNT;
}
