/* codegen STM32 port: board description of the ST Nucleo-F446RE (MB1136).
 *
 * Only macros: platformio.ini force-includes this header (through include/cg_board_port.h) into every
 * translation unit, the HAL's included, so HSE_VALUE below is the one the HAL computes clocks with.
 *
 * Clock: 8 MHz from the ST-LINK MCO on OSC_IN (HSE bypass; factory setting of MB1136 C-02 and later),
 *        PLL 8 MHz / M8 * N360 / P2 = 180 MHz with over-drive, flash 5 wait states (ST's Cube examples).
 * Serial: ST-LINK virtual COM port = USART2, TX PA2 / RX PA3, AF7. */
#ifndef CG_STM32_BOARD_H
#define CG_STM32_BOARD_H

#define HSE_VALUE 8000000U

#define CG_STM32_HAL_HEADER "stm32f4xx_hal.h"
#define CG_STM32_FAMILY_F4 1

#define CG_CLK_SOURCE CG_CLK_SRC_HSE_BYPASS
#define CG_CLK_HSE_HZ 8000000U
#define CG_CLK_PLL_M 8U
#define CG_CLK_PLL_N 360U
#define CG_CLK_PLL_P 2U
#define CG_CLK_PLL_Q 7U
#define CG_CLK_PLL_R 2U
#define CG_CLK_FLASH_LATENCY FLASH_LATENCY_5
#define CG_CLK_OVERDRIVE 1
#define CG_CLK_SYSCLK_HZ 180000000U

#define CG_UART_NAME "USART2"
#define CG_UART_INSTANCE USART2
#define CG_UART_IRQN USART2_IRQn
#define CG_UART_IRQ_HANDLER USART2_IRQHandler
#define CG_UART_CLK_ENABLE() __HAL_RCC_USART2_CLK_ENABLE()
#define CG_UART_VDDIO2 0
#define CG_UART_TX_PORT GPIOA
#define CG_UART_TX_PIN GPIO_PIN_2
#define CG_UART_TX_AF GPIO_AF7_USART2
#define CG_UART_TX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOA_CLK_ENABLE()
#define CG_UART_RX_PORT GPIOA
#define CG_UART_RX_PIN GPIO_PIN_3
#define CG_UART_RX_AF GPIO_AF7_USART2
#define CG_UART_RX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOA_CLK_ENABLE()

#endif /* CG_STM32_BOARD_H */
