/* codegen emulated RV32IMC port: NS16550A console UART and the minstret instruction counter under QEMU virt.
 *
 * The board runs with -icount shift=0, where QEMU advances minstret (and mcycle) by exactly one per executed
 * instruction, so counts are deterministic and measure instructions, not the cycles of a real ESP32-C3 (no caches,
 * no flash wait states, no pipeline stalls). Without -icount they would follow host time. */
#include <stdint.h>

#include "cg_app_config.h"
#include "port.h"

/* QEMU virt: NS16550A at 0x10000000, byte registers, input clock 3.6864 MHz. */
#define UART_BASE 0x10000000u
#define UART_REG(off) (*(volatile uint8_t *)(UART_BASE + (off)))
#define UART_RBR UART_REG(0u) /* receive buffer (read, DLAB = 0) */
#define UART_THR UART_REG(0u) /* transmit holding (write, DLAB = 0) */
#define UART_DLL UART_REG(0u) /* divisor low (DLAB = 1) */
#define UART_IER UART_REG(1u) /* interrupt enable (DLAB = 0) */
#define UART_DLM UART_REG(1u) /* divisor high (DLAB = 1) */
#define UART_FCR UART_REG(2u)
#define UART_LCR UART_REG(3u)
#define UART_LSR UART_REG(5u)
#define UART_LSR_DR 0x01u   /* data ready */
#define UART_LSR_THRE 0x20u /* transmit holding register empty */
#define UART_LCR_DLAB 0x80u
#define UART_LCR_8N1 0x03u
#define UART_CLOCK_HZ 3686400u

static uint64_t instret64(void)
{
    uint32_t hi, lo, again;
    do {
        __asm volatile("csrr %0, minstreth" : "=r"(hi));
        __asm volatile("csrr %0, minstret" : "=r"(lo));
        __asm volatile("csrr %0, minstreth" : "=r"(again));
    } while (hi != again);
    return ((uint64_t)hi << 32) | lo;
}

void port_init(void)
{
    /* 8N1, FIFOs on and cleared, polled (no interrupts); the divisor is written for completeness (QEMU ignores
     * it). */
    uint32_t divisor = UART_CLOCK_HZ / (16u * CG_BOARD_BAUD);
    UART_IER = 0u;
    UART_LCR = UART_LCR_DLAB;
    UART_DLL = (uint8_t)(divisor & 0xFFu);
    UART_DLM = (uint8_t)(divisor >> 8);
    UART_LCR = UART_LCR_8N1;
    UART_FCR = 0x07u;
}

void port_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while ((UART_LSR & UART_LSR_THRE) == 0u) {
        }
        UART_THR = buf[i];
    }
}

int port_read_byte(uint8_t *out)
{
    if ((UART_LSR & UART_LSR_DR) == 0u) {
        return 0;
    }
    *out = UART_RBR;
    return 1;
}

uint32_t port_millis(void)
{
    return (uint32_t)(instret64() / (CG_BOARD_CLOCK_HZ / 1000u));
}

uint32_t port_cycles(void)
{
    return (uint32_t)instret64();
}

uint32_t port_cycle_hz(void)
{
    return CG_BOARD_CLOCK_HZ;
}

const char *port_counter_kind(void)
{
    return "instructions (QEMU icount)";
}
