/* codegen STM32 port: board description of the ST 32F746G-DISCOVERY (MB1191).
 *
 * Only macros: platformio.ini force-includes this header (through include/cg_board_port.h) into every
 * translation unit, the HAL's included, so HSE_VALUE below is the one the HAL computes clocks with.
 *
 * Clock: 25 MHz crystal X2 on OSC_IN/OSC_OUT (HSE on, not bypass), PLL 25 MHz / M25 * N432 / P2 = 216 MHz
 *        with over-drive, Q9 = 48 MHz, flash 7 wait states (ST's Cube examples). I- and D-cache enabled.
 * Serial: ST-LINK virtual COM port = USART1, TX PA9 / RX PB7, AF7 (BSP COM1). */
#ifndef CG_STM32_BOARD_H
#define CG_STM32_BOARD_H

#define HSE_VALUE 25000000U

#define CG_STM32_HAL_HEADER "stm32f7xx_hal.h"
#define CG_STM32_FAMILY_F7 1

#define CG_CLK_SOURCE CG_CLK_SRC_HSE_CRYSTAL
#define CG_CLK_HSE_HZ 25000000U
#define CG_CLK_PLL_M 25U
#define CG_CLK_PLL_N 432U
#define CG_CLK_PLL_P 2U
#define CG_CLK_PLL_Q 9U
#define CG_CLK_PLL_R 2U
#define CG_CLK_FLASH_LATENCY FLASH_LATENCY_7
#define CG_CLK_OVERDRIVE 1
#define CG_CLK_SYSCLK_HZ 216000000U

#define CG_UART_NAME "USART1"
#define CG_UART_INSTANCE USART1
#define CG_UART_IRQN USART1_IRQn
#define CG_UART_IRQ_HANDLER USART1_IRQHandler
#define CG_UART_CLK_ENABLE() __HAL_RCC_USART1_CLK_ENABLE()
#define CG_UART_VDDIO2 0
#define CG_UART_TX_PORT GPIOA
#define CG_UART_TX_PIN GPIO_PIN_9
#define CG_UART_TX_AF GPIO_AF7_USART1
#define CG_UART_TX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOA_CLK_ENABLE()
#define CG_UART_RX_PORT GPIOB
#define CG_UART_RX_PIN GPIO_PIN_7
#define CG_UART_RX_AF GPIO_AF7_USART1
#define CG_UART_RX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOB_CLK_ENABLE()

#endif /* CG_STM32_BOARD_H */
