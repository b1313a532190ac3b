/* codegen emulated port: USART1 console and a SysTick-based counter for the STM32F405 under QEMU.
 *
 * QEMU 7.2 does not emulate the DWT cycle counter (it reads 0), so profiling uses SysTick on the core clock.
 * The emulator runs with -icount shift=3: every guest instruction advances virtual time by 8 ns, so SysTick
 * counts are deterministic and measure executed instructions (168 MHz virtual ticks, 1.344 per instruction),
 * not the cycles of a real STM32F405. */
#include <stdint.h>

#include "cg_app_config.h"
#include "port.h"

#define USART1_BASE 0x40011000u
#define USART_SR (*(volatile uint32_t *)(USART1_BASE + 0x00u))
#define USART_DR (*(volatile uint32_t *)(USART1_BASE + 0x04u))
#define USART_BRR (*(volatile uint32_t *)(USART1_BASE + 0x08u))
#define USART_CR1 (*(volatile uint32_t *)(USART1_BASE + 0x0Cu))
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t systick_wraps;

void SysTick_Handler(void)
{
    systick_wraps++;
}

static uint64_t ticks64(void)
{
    uint32_t hi, again, val;
    do {
        hi = systick_wraps;
        val = SYST_CVR;
        again = systick_wraps;
    } while (hi != again);
    return ((uint64_t)hi << 24) | (uint64_t)(SYST_RELOAD - (val & SYST_RELOAD));
}

void port_init(void)
{
    /* SysTick: processor clock, interrupt on every wrap of the 24-bit counter (about every 0.1 s). */
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 0x7u;
    /* USART1: 8N1; the baud divisor is written for completeness (QEMU ignores it). */
    USART_BRR = (uint32_t)(CG_BOARD_CLOCK_HZ / 2u / CG_BOARD_BAUD);
    USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void port_write(const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        while ((USART_SR & USART_SR_TXE) == 0u) {
        }
        USART_DR = buf[i];
    }
}

int port_read_byte(uint8_t *out)
{
    if ((USART_SR & USART_SR_RXNE) == 0u) {
        return 0;
    }
    *out = (uint8_t)USART_DR;
    return 1;
}

uint32_t port_millis(void)
{
    return (uint32_t)(ticks64() / (CG_BOARD_CLOCK_HZ / 1000u));
}

uint32_t port_cycles(void)
{
    return (uint32_t)ticks64();
}

uint32_t port_cycle_hz(void)
{
    return CG_BOARD_CLOCK_HZ;
}

const char *port_counter_kind(void)
{
    /* SysTick at 168 MHz of virtual time, 8 ns per instruction under -icount shift=3: the host reads the factor. */
    return "SysTick ticks (QEMU icount, 1.344 per instruction)";
}
