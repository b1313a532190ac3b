/* codegen STM32 port: firmware/app/port.h on the STM32Cube HAL (F4, F7, L4/L4+, H7).
 *
 * Everything board-specific comes from the board header cg_stm32_board_<board>.h in this folder, selected by
 * the generated include/cg_board_port.h (clock tree, virtual-COM-port UART, pins, alternate functions); the
 * baud rate comes from the generated include/cg_app_config.h (CG_BOARD_BAUD). This file holds only what is
 * common to a family. Cycle counting is the Cortex-M DWT (cg_dwt.c), reception is interrupt-driven into a ring
 * buffer (cg_rx_ring.c) so no byte is lost while the application is busy, transmission is blocking HAL polling.
 *
 * Macros a board header defines (see docs/real-boards.md):
 *   CG_STM32_HAL_HEADER, one of CG_STM32_FAMILY_F4/F7/L4/H7, HSE_VALUE (boards clocked from HSE),
 *   CG_CLK_SOURCE (CG_CLK_SRC_HSE_BYPASS | CG_CLK_SRC_HSE_CRYSTAL | CG_CLK_SRC_MSI), CG_CLK_HSE_HZ,
 *   CG_CLK_PLL_M/N/P/Q/R, CG_CLK_FLASH_LATENCY, CG_CLK_OVERDRIVE, CG_CLK_SYSCLK_HZ,
 *   CG_UART_NAME, CG_UART_INSTANCE, CG_UART_IRQN, CG_UART_IRQ_HANDLER, CG_UART_CLK_ENABLE(), CG_UART_VDDIO2,
 *   CG_UART_TX_PORT/PIN/AF/GPIO_CLK_ENABLE(), CG_UART_RX_PORT/PIN/AF/GPIO_CLK_ENABLE().
 */
#include <stddef.h>
#include <stdint.h>

#include "cg_app_config.h"
#include "cg_board_port.h"
#include "cg_dwt.h"
#include "cg_rx_ring.h"
#include "port.h"

#include CG_STM32_HAL_HEADER

#define CG_CLK_SRC_HSE_BYPASS 1
#define CG_CLK_SRC_HSE_CRYSTAL 2
#define CG_CLK_SRC_MSI 3

#if (defined(CG_STM32_FAMILY_F4) + defined(CG_STM32_FAMILY_F7) + defined(CG_STM32_FAMILY_L4) + \
     defined(CG_STM32_FAMILY_H7)) != 1
#error "the board header must define exactly one of CG_STM32_FAMILY_F4, _F7, _L4, _H7"
#endif

#if defined(CG_STM32_FAMILY_L4)
#if CG_CLK_SOURCE != CG_CLK_SRC_MSI
#error "the L4 port clocks the PLL from MSI (Nucleo-144 L4 boards have no ST-LINK MCO on OSC_IN)"
#endif
#elif CG_CLK_SOURCE != CG_CLK_SRC_HSE_BYPASS && CG_CLK_SOURCE != CG_CLK_SRC_HSE_CRYSTAL
#error "F4, F7 and H7 boards clock the PLL from HSE (bypass or crystal)"
#endif

#if CG_CLK_HSE_HZ != 0
/* The HAL derives SystemCoreClock (and so the UART baud rate) from HSE_VALUE, whose stm32YYxx_hal_conf.h
 * default is 25 MHz: a mismatch here means platformio.ini lost its -DHSE_VALUE build flag. (HSE_VALUE may
 * contain a cast, so this is a C constant-expression check, not a preprocessor one.) */
typedef char cg_error_hse_value_must_equal_board_hse_hz[(HSE_VALUE == CG_CLK_HSE_HZ) ? 1 : -1];
#endif

#ifndef CG_PORT_RX_RING_BYTES
#define CG_PORT_RX_RING_BYTES 2048u
#endif

/* USART v2 (F7, L4, H7) has ISR/RDR/ICR; the F4 USART has SR/DR. */
#if defined(USART_RDR_RDR)
#define CG_UART_RX_DATA(h) ((h)->Instance->RDR)
#define CG_UART_CLEAR_ERRORS(h) \
    __HAL_UART_CLEAR_FLAG((h), UART_CLEAR_OREF | UART_CLEAR_NEF | UART_CLEAR_FEF | UART_CLEAR_PEF)
#else
#define CG_UART_RX_DATA(h) ((h)->Instance->DR)
#define CG_UART_CLEAR_ERRORS(h) __HAL_UART_CLEAR_PEFLAG(h) /* SR then DR read clears PE/FE/NE/ORE */
#endif

static UART_HandleTypeDef s_uart;
static cg_rx_ring s_rx;
static uint8_t s_rx_storage[CG_PORT_RX_RING_BYTES];
static int s_dwt_ok;

void SysTick_Handler(void);
void CG_UART_IRQ_HANDLER(void);

static void cg_fatal(void)
{
    __disable_irq();
    for (;;) {
    }
}

void SysTick_Handler(void)
{
    HAL_IncTick();
}

/* Receive interrupt: drain the data register into the ring; clear overrun/framing/noise/parity errors so
 * the interrupt does not fire forever (the protocol's CRC reports the damaged frame). */
void CG_UART_IRQ_HANDLER(void)
{
    UART_HandleTypeDef *h = &s_uart;
    while (__HAL_UART_GET_FLAG(h, UART_FLAG_RXNE)) {
        (void)cg_rx_ring_push(&s_rx, (uint8_t)(CG_UART_RX_DATA(h) & 0xFFu));
    }
    if (__HAL_UART_GET_FLAG(h, UART_FLAG_ORE) || __HAL_UART_GET_FLAG(h, UART_FLAG_FE) ||
        __HAL_UART_GET_FLAG(h, UART_FLAG_NE) || __HAL_UART_GET_FLAG(h, UART_FLAG_PE)) {
        CG_UART_CLEAR_ERRORS(h);
    }
}

static void cg_cache_enable(void)
{
#if defined(__ICACHE_PRESENT) && (__ICACHE_PRESENT == 1U)
    SCB_EnableICache();
#endif
#if defined(__DCACHE_PRESENT) && (__DCACHE_PRESENT == 1U)
    SCB_EnableDCache();
#endif
}

#if defined(CG_STM32_FAMILY_F4) || defined(CG_STM32_FAMILY_F7)

static void cg_clock_init(void)
{
    RCC_OscInitTypeDef osc = {0};
    RCC_ClkInitTypeDef clk = {0};

    __HAL_RCC_PWR_CLK_ENABLE();
    __HAL_PWR_VOLTAGESCALING_CONFIG(PWR_REGULATOR_VOLTAGE_SCALE1);

    osc.OscillatorType = RCC_OSCILLATORTYPE_HSE;
    osc.HSEState = (CG_CLK_SOURCE == CG_CLK_SRC_HSE_BYPASS) ? RCC_HSE_BYPASS : RCC_HSE_ON;
    osc.PLL.PLLState = RCC_PLL_ON;
    osc.PLL.PLLSource = RCC_PLLSOURCE_HSE;
    osc.PLL.PLLM = CG_CLK_PLL_M;
    osc.PLL.PLLN = CG_CLK_PLL_N;
    osc.PLL.PLLP = CG_CLK_PLL_P;
    osc.PLL.PLLQ = CG_CLK_PLL_Q;
#if defined(RCC_PLLCFGR_PLLR)
    osc.PLL.PLLR = CG_CLK_PLL_R;
#endif
    if (HAL_RCC_OscConfig(&osc) != HAL_OK) {
        /* No clock on OSC_IN (solder bridge changed): feed the PLL the same VCO input from HSI. */
        osc.OscillatorType = RCC_OSCILLATORTYPE_HSE | RCC_OSCILLATORTYPE_HSI;
        osc.HSEState = RCC_HSE_OFF;
        osc.HSIState = RCC_HSI_ON;
        osc.HSICalibrationValue = RCC_HSICALIBRATION_DEFAULT;
        osc.PLL.PLLSource = RCC_PLLSOURCE_HSI;
        osc.PLL.PLLM = (uint32_t)((uint64_t)CG_CLK_PLL_M * HSI_VALUE / CG_CLK_HSE_HZ);
        if (HAL_RCC_OscConfig(&osc) != HAL_OK) {
            cg_fatal();
        }
    }
#if CG_CLK_OVERDRIVE
    if (HAL_PWREx_EnableOverDrive() != HAL_OK) {
        cg_fatal();
    }
#endif
    clk.ClockType = RCC_CLOCKTYPE_SYSCLK | RCC_CLOCKTYPE_HCLK | RCC_CLOCKTYPE_PCLK1 | RCC_CLOCKTYPE_PCLK2;
    clk.SYSCLKSource = RCC_SYSCLKSOURCE_PLLCLK;
    clk.AHBCLKDivider = RCC_SYSCLK_DIV1;
    clk.APB1CLKDivider = RCC_HCLK_DIV4; /* APB1 max 45 MHz (F446) / 54 MHz (F7) */
    clk.APB2CLKDivider = RCC_HCLK_DIV2; /* APB2 max 90 MHz (F446) / 108 MHz (F7) */
    if (HAL_RCC_ClockConfig(&clk, CG_CLK_FLASH_LATENCY) != HAL_OK) {
        cg_fatal();
    }
}

#elif defined(CG_STM32_FAMILY_L4)

static void cg_clock_init(void)
{
    RCC_OscInitTypeDef osc = {0};
    RCC_ClkInitTypeDef clk = {0};

    /* Above 80 MHz the L4+ needs range 1 boost mode. */
    __HAL_RCC_PWR_CLK_ENABLE();
    if (HAL_PWREx_ControlVoltageScaling(PWR_REGULATOR_VOLTAGE_SCALE1_BOOST) != HAL_OK) {
        cg_fatal();
    }
    osc.OscillatorType = RCC_OSCILLATORTYPE_MSI;
    osc.MSIState = RCC_MSI_ON;
    osc.MSICalibrationValue = RCC_MSICALIBRATION_DEFAULT;
    osc.MSIClockRange = RCC_MSIRANGE_6; /* 4 MHz */
    osc.PLL.PLLState = RCC_PLL_ON;
    osc.PLL.PLLSource = RCC_PLLSOURCE_MSI;
    osc.PLL.PLLM = CG_CLK_PLL_M;
    osc.PLL.PLLN = CG_CLK_PLL_N;
    osc.PLL.PLLP = CG_CLK_PLL_P;
    osc.PLL.PLLQ = CG_CLK_PLL_Q;
    osc.PLL.PLLR = CG_CLK_PLL_R;
    if (HAL_RCC_OscConfig(&osc) != HAL_OK) {
        cg_fatal();
    }
    /* Switch to the PLL with HCLK = SYSCLK/2 first, then /1, as the reference manual asks for a
     * transition above 80 MHz. */
    clk.ClockType = RCC_CLOCKTYPE_SYSCLK | RCC_CLOCKTYPE_HCLK | RCC_CLOCKTYPE_PCLK1 | RCC_CLOCKTYPE_PCLK2;
    clk.SYSCLKSource = RCC_SYSCLKSOURCE_PLLCLK;
    clk.AHBCLKDivider = RCC_SYSCLK_DIV2;
    clk.APB1CLKDivider = RCC_HCLK_DIV1;
    clk.APB2CLKDivider = RCC_HCLK_DIV1;
    if (HAL_RCC_ClockConfig(&clk, CG_CLK_FLASH_LATENCY) != HAL_OK) {
        cg_fatal();
    }
    clk.ClockType = RCC_CLOCKTYPE_HCLK;
    clk.AHBCLKDivider = RCC_SYSCLK_DIV1;
    if (HAL_RCC_ClockConfig(&clk, CG_CLK_FLASH_LATENCY) != HAL_OK) {
        cg_fatal();
    }
}

#elif defined(CG_STM32_FAMILY_H7)

/* PLL1 input range (RM0433 RCC_PLLCKSELR/PLLCFGR PLL1RGE): 1-2, 2-4, 4-8 or 8-16 MHz after the M divider. The
 * wide VCO (192-836 MHz) needs an input of 2 MHz or more. */
#define CG_PLL_REF_HZ (CG_CLK_HSE_HZ / CG_CLK_PLL_M)
#if CG_PLL_REF_HZ < 2000000U
#error "H7 PLL1 input below 2 MHz: the wide VCO needs 2-16 MHz (adjust CG_CLK_PLL_M)"
#elif CG_PLL_REF_HZ <= 4000000U
#define CG_PLL_VCI_RANGE RCC_PLL1VCIRANGE_1
#elif CG_PLL_REF_HZ <= 8000000U
#define CG_PLL_VCI_RANGE RCC_PLL1VCIRANGE_2
#else
#define CG_PLL_VCI_RANGE RCC_PLL1VCIRANGE_3
#endif

static void cg_clock_init(void)
{
    RCC_OscInitTypeDef osc = {0};
    RCC_ClkInitTypeDef clk = {0};

    (void)HAL_PWREx_ConfigSupply(PWR_LDO_SUPPLY);
    __HAL_PWR_VOLTAGESCALING_CONFIG(PWR_REGULATOR_VOLTAGE_SCALE1);
    while (!__HAL_PWR_GET_FLAG(PWR_FLAG_VOSRDY)) {
    }

    osc.OscillatorType = RCC_OSCILLATORTYPE_HSE;
    osc.HSEState = (CG_CLK_SOURCE == CG_CLK_SRC_HSE_BYPASS) ? RCC_HSE_BYPASS : RCC_HSE_ON;
    osc.PLL.PLLState = RCC_PLL_ON;
    osc.PLL.PLLSource = RCC_PLLSOURCE_HSE;
    osc.PLL.PLLM = CG_CLK_PLL_M;
    osc.PLL.PLLN = CG_CLK_PLL_N;
    osc.PLL.PLLFRACN = 0;
    osc.PLL.PLLP = CG_CLK_PLL_P;
    osc.PLL.PLLQ = CG_CLK_PLL_Q;
    osc.PLL.PLLR = CG_CLK_PLL_R;
    osc.PLL.PLLVCOSEL = RCC_PLL1VCOWIDE;
    osc.PLL.PLLRGE = CG_PLL_VCI_RANGE; /* from the PLL input frequency, see above */
    if (HAL_RCC_OscConfig(&osc) != HAL_OK) {
        /* No clock on OSC_IN: same 2 MHz PLL reference from HSI (64 MHz). */
        osc.OscillatorType = RCC_OSCILLATORTYPE_HSI;
        osc.HSEState = RCC_HSE_OFF;
        osc.HSIState = RCC_HSI_DIV1;
        osc.HSICalibrationValue = RCC_HSICALIBRATION_DEFAULT;
        osc.PLL.PLLSource = RCC_PLLSOURCE_HSI;
        osc.PLL.PLLM = (uint32_t)((uint64_t)CG_CLK_PLL_M * HSI_VALUE / CG_CLK_HSE_HZ);
        if (HAL_RCC_OscConfig(&osc) != HAL_OK) {
            cg_fatal();
        }
    }
    clk.ClockType = RCC_CLOCKTYPE_SYSCLK | RCC_CLOCKTYPE_HCLK | RCC_CLOCKTYPE_D1PCLK1 | RCC_CLOCKTYPE_PCLK1 |
                    RCC_CLOCKTYPE_PCLK2 | RCC_CLOCKTYPE_D3PCLK1;
    clk.SYSCLKSource = RCC_SYSCLKSOURCE_PLLCLK;
    clk.SYSCLKDivider = RCC_SYSCLK_DIV1;
    clk.AHBCLKDivider = RCC_HCLK_DIV2; /* AXI/AHB max 200 MHz */
    clk.APB3CLKDivider = RCC_APB3_DIV2;
    clk.APB1CLKDivider = RCC_APB1_DIV2;
    clk.APB2CLKDivider = RCC_APB2_DIV2;
    clk.APB4CLKDivider = RCC_APB4_DIV2;
    if (HAL_RCC_ClockConfig(&clk, CG_CLK_FLASH_LATENCY) != HAL_OK) {
        cg_fatal();
    }
}

#endif

static void cg_uart_init(void)
{
    GPIO_InitTypeDef gpio = {0};

#if CG_UART_VDDIO2
    /* Port G pins are powered from VDDIO2, which is off after reset. */
    __HAL_RCC_PWR_CLK_ENABLE();
    HAL_PWREx_EnableVddIO2();
#endif
    CG_UART_TX_GPIO_CLK_ENABLE();
    CG_UART_RX_GPIO_CLK_ENABLE();
    CG_UART_CLK_ENABLE();

    gpio.Mode = GPIO_MODE_AF_PP;
    gpio.Pull = GPIO_PULLUP;
    gpio.Speed = GPIO_SPEED_FREQ_HIGH;
    gpio.Pin = CG_UART_TX_PIN;
    gpio.Alternate = CG_UART_TX_AF;
    HAL_GPIO_Init(CG_UART_TX_PORT, &gpio);
    gpio.Pin = CG_UART_RX_PIN;
    gpio.Alternate = CG_UART_RX_AF;
    HAL_GPIO_Init(CG_UART_RX_PORT, &gpio);

    s_uart.Instance = CG_UART_INSTANCE;
    s_uart.Init.BaudRate = CG_BOARD_BAUD;
    s_uart.Init.WordLength = UART_WORDLENGTH_8B;
    s_uart.Init.StopBits = UART_STOPBITS_1;
    s_uart.Init.Parity = UART_PARITY_NONE;
    s_uart.Init.Mode = UART_MODE_TX_RX;
    s_uart.Init.HwFlowCtl = UART_HWCONTROL_NONE;
    s_uart.Init.OverSampling = UART_OVERSAMPLING_16;
    if (HAL_UART_Init(&s_uart) != HAL_OK) {
        cg_fatal();
    }
    (void)cg_rx_ring_init(&s_rx, s_rx_storage, CG_PORT_RX_RING_BYTES);
    __HAL_UART_ENABLE_IT(&s_uart, UART_IT_RXNE);
    HAL_NVIC_SetPriority(CG_UART_IRQN, 5, 0);
    HAL_NVIC_EnableIRQ(CG_UART_IRQN);
}

void port_init(void)
{
    cg_cache_enable();
    if (HAL_Init() != HAL_OK) {
        cg_fatal();
    }
    cg_clock_init();
    cg_uart_init();
    s_dwt_ok = cg_dwt_init();
}

void port_write(const uint8_t *buf, uint32_t n)
{
    while (n > 0u) {
        uint16_t chunk = (n > 0xFFFFu) ? (uint16_t)0xFFFFu : (uint16_t)n;
        /* Older HAL releases take a non-const pointer; the buffer is only read. */
        (void)HAL_UART_Transmit(&s_uart, (uint8_t *)(uintptr_t)buf, chunk, HAL_MAX_DELAY);
        buf += chunk;
        n -= chunk;
    }
}

int port_read_byte(uint8_t *out)
{
    return cg_rx_ring_pop(&s_rx, out);
}

uint32_t port_millis(void)
{
    return HAL_GetTick();
}

uint32_t port_cycles(void)
{
    return s_dwt_ok ? cg_dwt_cycles() : 0u;
}

uint32_t port_cycle_hz(void)
{
    return SystemCoreClock; /* CPU clock the DWT counts, as configured (HSE or HSI fallback) */
}

const char *port_counter_kind(void)
{
    return "cycles";
}
