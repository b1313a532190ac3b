/* Test stub: declares only the STM32Cube HAL/CMSIS symbols the codegen STM32 port uses, with the field
 * names and macro shapes of the real HAL, so the port compiles with -Werror without ST's sources. It checks
 * our code against the API we rely on; it is not the HAL and implements nothing. Included by the
 * per-family wrappers stm32f4xx_hal.h, stm32f7xx_hal.h, stm32l4xx_hal.h, stm32h7xx_hal.h. */
#ifndef CG_HAL_STUB_H
#define CG_HAL_STUB_H

#include <stdint.h>

#if !defined(CG_STUB_F4) && !defined(CG_STUB_F7) && !defined(CG_STUB_L4) && !defined(CG_STUB_H7)
#error "include a family wrapper (stm32f4xx_hal.h ...), not cg_hal_stub.h"
#endif

#define __IO volatile

/* ---- CMSIS core ---------------------------------------------------------------------------------------- */
typedef enum {
    USART1_IRQn = 37,
    USART2_IRQn = 38,
    USART3_IRQn = 39,
    LPUART1_IRQn = 70
} IRQn_Type;

void __disable_irq(void);
#if defined(CG_STUB_F7) || defined(CG_STUB_H7)
#define __ICACHE_PRESENT 1U
#define __DCACHE_PRESENT 1U
void SCB_EnableICache(void);
void SCB_EnableDCache(void);
#endif
extern uint32_t SystemCoreClock;

/* ---- device: USART and GPIO registers ------------------------------------------------------------------ */
#if defined(CG_STUB_F4)
typedef struct {
    __IO uint32_t SR, DR, BRR, CR1, CR2, CR3, GTPR;
} USART_TypeDef;
#define USART_SR_RXNE 0x20u
#define RCC_PLLCFGR_PLLR 0x70000000u
#else
typedef struct {
    __IO uint32_t CR1, CR2, CR3, BRR, GTPR, RTOR, RQR, ISR, ICR, RDR, TDR, PRESC;
} USART_TypeDef;
#define USART_RDR_RDR 0x1FFu
#if defined(CG_STUB_L4) || defined(CG_STUB_H7)
#define RCC_PLLCFGR_PLLR 0x06000000u
#endif
#endif

typedef struct {
    __IO uint32_t MODER, OTYPER, OSPEEDR, PUPDR, IDR, ODR, BSRR, LCKR, AFR[2];
} GPIO_TypeDef;

#define GPIOA ((GPIO_TypeDef *)0x40020000UL)
#define GPIOB ((GPIO_TypeDef *)0x40020400UL)
#define GPIOD ((GPIO_TypeDef *)0x40020C00UL)
#define GPIOG ((GPIO_TypeDef *)0x40021800UL)
#define USART1 ((USART_TypeDef *)0x40011000UL)
#define USART2 ((USART_TypeDef *)0x40004400UL)
#define USART3 ((USART_TypeDef *)0x40004800UL)
#define LPUART1 ((USART_TypeDef *)0x40008000UL)

/* ---- hal_conf ------------------------------------------------------------------------------------------ */
#if !defined(HSE_VALUE)
#if defined(CG_STUB_L4)
#define HSE_VALUE 8000000U
#else
#define HSE_VALUE ((uint32_t)25000000U) /* the templates' default, with the cast some releases use */
#endif
#endif
#if defined(CG_STUB_H7)
#define HSI_VALUE ((uint32_t)64000000U)
#else
#define HSI_VALUE ((uint32_t)16000000U)
#endif

/* ---- HAL core ------------------------------------------------------------------------------------------ */
typedef enum { HAL_OK = 0x00U, HAL_ERROR = 0x01U, HAL_BUSY = 0x02U, HAL_TIMEOUT = 0x03U } HAL_StatusTypeDef;
#define HAL_MAX_DELAY 0xFFFFFFFFU
HAL_StatusTypeDef HAL_Init(void);
void HAL_IncTick(void);
uint32_t HAL_GetTick(void);
void HAL_NVIC_SetPriority(IRQn_Type IRQn, uint32_t PreemptPriority, uint32_t SubPriority);
void HAL_NVIC_EnableIRQ(IRQn_Type IRQn);

/* ---- RCC ----------------------------------------------------------------------------------------------- */
typedef struct {
    uint32_t PLLState, PLLSource, PLLM, PLLN, PLLP, PLLQ;
#if defined(CG_STUB_F4) || defined(CG_STUB_L4) || defined(CG_STUB_H7)
    uint32_t PLLR;
#endif
#if defined(CG_STUB_H7)
    uint32_t PLLRGE, PLLVCOSEL, PLLFRACN;
#endif
} RCC_PLLInitTypeDef;

typedef struct {
    uint32_t OscillatorType, HSEState, LSEState, HSIState, HSICalibrationValue, LSIState;
#if defined(CG_STUB_L4)
    uint32_t MSIState, MSICalibrationValue, MSIClockRange;
#endif
    RCC_PLLInitTypeDef PLL;
} RCC_OscInitTypeDef;

typedef struct {
    uint32_t ClockType, SYSCLKSource;
#if defined(CG_STUB_H7)
    uint32_t SYSCLKDivider, AHBCLKDivider, APB3CLKDivider, APB1CLKDivider, APB2CLKDivider, APB4CLKDivider;
#else
    uint32_t AHBCLKDivider, APB1CLKDivider, APB2CLKDivider;
#endif
} RCC_ClkInitTypeDef;

HAL_StatusTypeDef HAL_RCC_OscConfig(RCC_OscInitTypeDef *RCC_OscInitStruct);
HAL_StatusTypeDef HAL_RCC_ClockConfig(RCC_ClkInitTypeDef *RCC_ClkInitStruct, uint32_t FLatency);

#define RCC_OSCILLATORTYPE_HSE 0x01U
#define RCC_OSCILLATORTYPE_HSI 0x02U
#define RCC_OSCILLATORTYPE_MSI 0x10U
#define RCC_HSE_OFF 0x0U
#define RCC_HSE_ON 0x10000U
#define RCC_HSE_BYPASS 0x50000U
#define RCC_PLL_ON 0x02U
#define RCC_PLLSOURCE_HSE 0x400000U
#define RCC_PLLSOURCE_HSI 0x0U
#define RCC_SYSCLKSOURCE_PLLCLK 0x2U
#define RCC_CLOCKTYPE_SYSCLK 0x01U
#define RCC_CLOCKTYPE_HCLK 0x02U
#define RCC_CLOCKTYPE_PCLK1 0x04U
#define RCC_CLOCKTYPE_PCLK2 0x08U
#define RCC_SYSCLK_DIV1 0x0U
#define RCC_SYSCLK_DIV2 0x80U
#define RCC_HCLK_DIV1 0x0U
#define RCC_HCLK_DIV2 0x1000U
#define RCC_HCLK_DIV4 0x1400U
#define FLASH_LATENCY_4 4U
#define FLASH_LATENCY_5 5U
#define FLASH_LATENCY_7 7U
#if defined(CG_STUB_H7)
#define RCC_HSI_DIV1 0x1U
#define RCC_HSICALIBRATION_DEFAULT 0x40U
#define RCC_PLL1VCOWIDE 0x0U
#define RCC_PLL1VCIRANGE_0 0x0U
#define RCC_PLL1VCIRANGE_1 0x4U
#define RCC_PLL1VCIRANGE_2 0x8U
#define RCC_PLL1VCIRANGE_3 0xCU
#define RCC_CLOCKTYPE_D1PCLK1 0x10U
#define RCC_CLOCKTYPE_D3PCLK1 0x20U
#define RCC_APB1_DIV2 0x40U
#define RCC_APB2_DIV2 0x400U
#define RCC_APB3_DIV2 0x40U
#define RCC_APB4_DIV2 0x40U
#else
#define RCC_HSI_ON 0x1U
#define RCC_HSICALIBRATION_DEFAULT 0x10U
#endif
#if defined(CG_STUB_L4)
#define RCC_MSI_ON 0x1U
#define RCC_MSICALIBRATION_DEFAULT 0U
#define RCC_MSIRANGE_6 0x60U
#define RCC_PLLSOURCE_MSI 0x1U
#endif

void cg_stub_clock_enable(uint32_t which);
#define __HAL_RCC_PWR_CLK_ENABLE() cg_stub_clock_enable(1u)
#define __HAL_RCC_GPIOA_CLK_ENABLE() cg_stub_clock_enable(2u)
#define __HAL_RCC_GPIOB_CLK_ENABLE() cg_stub_clock_enable(3u)
#define __HAL_RCC_GPIOD_CLK_ENABLE() cg_stub_clock_enable(4u)
#define __HAL_RCC_GPIOG_CLK_ENABLE() cg_stub_clock_enable(5u)
#define __HAL_RCC_USART1_CLK_ENABLE() cg_stub_clock_enable(6u)
#define __HAL_RCC_USART2_CLK_ENABLE() cg_stub_clock_enable(7u)
#define __HAL_RCC_USART3_CLK_ENABLE() cg_stub_clock_enable(8u)
#if defined(CG_STUB_L4)
#define __HAL_RCC_LPUART1_CLK_ENABLE() cg_stub_clock_enable(9u)
#endif

/* ---- PWR ----------------------------------------------------------------------------------------------- */
void cg_stub_pwr_voltage_scaling(uint32_t scale);
#if defined(CG_STUB_F4) || defined(CG_STUB_F7)
#define PWR_REGULATOR_VOLTAGE_SCALE1 0xC000U
#define __HAL_PWR_VOLTAGESCALING_CONFIG(s) cg_stub_pwr_voltage_scaling(s)
HAL_StatusTypeDef HAL_PWREx_EnableOverDrive(void);
#elif defined(CG_STUB_L4)
#define PWR_REGULATOR_VOLTAGE_SCALE1_BOOST 0x201U
HAL_StatusTypeDef HAL_PWREx_ControlVoltageScaling(uint32_t VoltageScaling);
void HAL_PWREx_EnableVddIO2(void);
#elif defined(CG_STUB_H7)
#define PWR_LDO_SUPPLY 0x2U
#define PWR_REGULATOR_VOLTAGE_SCALE1 0xC000U
#define PWR_FLAG_VOSRDY 0x3U
#define __HAL_PWR_VOLTAGESCALING_CONFIG(s) cg_stub_pwr_voltage_scaling(s)
int cg_stub_pwr_flag(uint32_t flag);
#define __HAL_PWR_GET_FLAG(f) cg_stub_pwr_flag(f)
HAL_StatusTypeDef HAL_PWREx_ConfigSupply(uint32_t SupplySource);
#endif

/* ---- GPIO ---------------------------------------------------------------------------------------------- */
typedef struct {
    uint32_t Pin, Mode, Pull, Speed, Alternate;
} GPIO_InitTypeDef;
void HAL_GPIO_Init(GPIO_TypeDef *GPIOx, GPIO_InitTypeDef *GPIO_Init);
#define GPIO_MODE_AF_PP 0x2U
#define GPIO_PULLUP 0x1U
#define GPIO_SPEED_FREQ_HIGH 0x2U
#define GPIO_PIN_2 ((uint16_t)0x0004)
#define GPIO_PIN_3 ((uint16_t)0x0008)
#define GPIO_PIN_7 ((uint16_t)0x0080)
#define GPIO_PIN_8 ((uint16_t)0x0100)
#define GPIO_PIN_9 ((uint16_t)0x0200)
#define GPIO_AF7_USART1 ((uint8_t)0x07)
#define GPIO_AF7_USART2 ((uint8_t)0x07)
#define GPIO_AF7_USART3 ((uint8_t)0x07)
#if defined(CG_STUB_L4)
#define GPIO_AF8_LPUART1 ((uint8_t)0x08)
#endif

/* ---- UART ---------------------------------------------------------------------------------------------- */
typedef struct {
    uint32_t BaudRate, WordLength, StopBits, Parity, Mode, HwFlowCtl, OverSampling;
#if !defined(CG_STUB_F4)
    uint32_t OneBitSampling;
#endif
#if defined(CG_STUB_L4) || defined(CG_STUB_H7)
    uint32_t ClockPrescaler;
#endif
} UART_InitTypeDef;

typedef struct {
    USART_TypeDef *Instance;
    UART_InitTypeDef Init;
    const uint8_t *pTxBuffPtr;
    uint16_t TxXferSize;
    __IO uint32_t gState;
} UART_HandleTypeDef;

HAL_StatusTypeDef HAL_UART_Init(UART_HandleTypeDef *huart);
/* The pointer is non-const in older releases, which the port must accept. */
HAL_StatusTypeDef HAL_UART_Transmit(UART_HandleTypeDef *huart, uint8_t *pData, uint16_t Size, uint32_t Timeout);

#define UART_WORDLENGTH_8B 0x0U
#define UART_STOPBITS_1 0x0U
#define UART_PARITY_NONE 0x0U
#define UART_MODE_TX_RX 0xCU
#define UART_HWCONTROL_NONE 0x0U
#define UART_OVERSAMPLING_16 0x0U
#define UART_IT_RXNE 0x0525U

#if defined(CG_STUB_F4)
#define UART_FLAG_RXNE 0x20U
#define UART_FLAG_ORE 0x08U
#define UART_FLAG_NE 0x04U
#define UART_FLAG_FE 0x02U
#define UART_FLAG_PE 0x01U
#define __HAL_UART_GET_FLAG(h, f) ((((h)->Instance->SR) & (f)) == (f))
#define __HAL_UART_CLEAR_PEFLAG(h)              \
    do {                                        \
        __IO uint32_t tmpreg = (h)->Instance->SR; \
        tmpreg = (h)->Instance->DR;             \
        (void)tmpreg;                           \
    } while (0)
#else
#define UART_FLAG_RXNE 0x20U
#define UART_FLAG_ORE 0x08U
#define UART_FLAG_NE 0x04U
#define UART_FLAG_FE 0x02U
#define UART_FLAG_PE 0x01U
#define UART_CLEAR_PEF 0x01U
#define UART_CLEAR_FEF 0x02U
#define UART_CLEAR_NEF 0x04U
#define UART_CLEAR_OREF 0x08U
#define __HAL_UART_GET_FLAG(h, f) ((((h)->Instance->ISR) & (f)) == (f))
#define __HAL_UART_CLEAR_FLAG(h, f) ((h)->Instance->ICR = (f))
#endif
#define __HAL_UART_ENABLE_IT(h, it) ((h)->Instance->CR1 |= (1U << ((it) & 0x1FU)))

#endif /* CG_HAL_STUB_H */
