/* codegen STM32 port: board description of the ST Nucleo-H743ZI (MB1137).
 *
 * Only macros: platformio.ini force-includes this header (through include/cg_board_port.h) into every
 * translation unit, the HAL's included, so HSE_VALUE below is the one the HAL computes clocks with.
 *
 * Clock: 8 MHz from the ST-LINK MCO on OSC_IN (HSE bypass), PLL1 8 MHz / M4 * N400 / P2 = 400 MHz in VOS1 with
 *        the LDO supply, AHB/AXI 200 MHz, APBs 100 MHz, flash 4 wait states: ST's Cube examples for this board
 *        and PlatformIO's f_cpu. 400 MHz is the maximum of the revision Y silicon the original Nucleo-H743ZI
 *        ships with; 480 MHz needs revision V silicon (Nucleo-H743ZI2) and VOS0. I- and D-cache enabled.
 * Serial: ST-LINK virtual COM port = USART3, TX PD8 / RX PD9, AF7. */
#ifndef CG_STM32_BOARD_H
#define CG_STM32_BOARD_H

#define HSE_VALUE 8000000U

#define CG_STM32_HAL_HEADER "stm32h7xx_hal.h"
#define CG_STM32_FAMILY_H7 1

#define CG_CLK_SOURCE CG_CLK_SRC_HSE_BYPASS
#define CG_CLK_HSE_HZ 8000000U
#define CG_CLK_PLL_M 4U
#define CG_CLK_PLL_N 400U
#define CG_CLK_PLL_P 2U
#define CG_CLK_PLL_Q 4U
#define CG_CLK_PLL_R 2U
#define CG_CLK_FLASH_LATENCY FLASH_LATENCY_4
#define CG_CLK_OVERDRIVE 0
#define CG_CLK_SYSCLK_HZ 400000000U

#define CG_UART_NAME "USART3"
#define CG_UART_INSTANCE USART3
#define CG_UART_IRQN USART3_IRQn
#define CG_UART_IRQ_HANDLER USART3_IRQHandler
#define CG_UART_CLK_ENABLE() __HAL_RCC_USART3_CLK_ENABLE()
#define CG_UART_VDDIO2 0
#define CG_UART_TX_PORT GPIOD
#define CG_UART_TX_PIN GPIO_PIN_8
#define CG_UART_TX_AF GPIO_AF7_USART3
#define CG_UART_TX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOD_CLK_ENABLE()
#define CG_UART_RX_PORT GPIOD
#define CG_UART_RX_PIN GPIO_PIN_9
#define CG_UART_RX_AF GPIO_AF7_USART3
#define CG_UART_RX_GPIO_CLK_ENABLE() __HAL_RCC_GPIOD_CLK_ENABLE()

#endif /* CG_STM32_BOARD_H */
