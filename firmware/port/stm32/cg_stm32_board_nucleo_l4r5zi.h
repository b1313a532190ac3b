/* codegen STM32 port: board description of the ST Nucleo-L4R5ZI (MB1312), the MLPerf Tiny reference board.
 *
 * Only macros: platformio.ini force-includes this header (through include/cg_board_port.h) into every
 * translation unit, the HAL's included.
 *
 * Clock: MSI 4 MHz (range 6); the ST-LINK MCO is not connected to OSC_IN on this board. PLL 4 MHz / M1 * N60
 *        / R2 = 120 MHz in voltage range 1 boost mode, flash 5 wait states (ST's Cube examples).
 * Serial: ST-LINK virtual COM port = LPUART1, TX PG7 / RX PG8, AF8. Port G is powered by VDDIO2, which must be
 *         enabled (HAL_PWREx_EnableVddIO2) before the pins work. */
#ifndef CG_STM32_BOARD_H
#define CG_STM32_BOARD_H

#define CG_STM32_HAL_HEADER "stm32l4xx_hal.h"
#define CG_STM32_FAMILY_L4 1

#define CG_CLK_SOURCE CG_CLK_SRC_MSI
#define CG_CLK_HSE_HZ 0U
#define CG_CLK_MSI_HZ 4000000U
#define CG_CLK_PLL_M 1U
#define CG_CLK_PLL_N 60U
#define CG_CLK_PLL_P 7U
#define CG_CLK_PLL_Q 2U
#define CG_CLK_PLL_R 2U
#define CG_CLK_FLASH_LATENCY FLASH_LATENCY_5
#define CG_CLK_OVERDRIVE 0
#define CG_CLK_SYSCLK_HZ 120000000U

#define CG_UART_NAME "LPUART1"
#define CG_UART_INSTANCE LPUART1
#define CG_UART_IRQN LPUART1_IRQn
#define CG_UART_IRQ_HANDLER LPUART1_IRQHandler
#define CG_UART_CLK_ENABLE() __HAL_RCC_LPUART1_CLK_ENABLE()
#define CG_UART_VDDIO2 1
#define CG_UART_TX_PORT GPIOG
#define CG_UART_TX_PIN GPIO_PIN_7
#define CG_UART_TX_AF GPIO_AF8_LPUART1
#define CG_UART_TX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOG_CLK_ENABLE()
#define CG_UART_RX_PORT GPIOG
#define CG_UART_RX_PIN GPIO_PIN_8
#define CG_UART_RX_AF GPIO_AF8_LPUART1
#define CG_UART_RX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOG_CLK_ENABLE()

#endif /* CG_STM32_BOARD_H */
