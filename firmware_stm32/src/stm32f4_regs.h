/*
 * stm32f4_regs.h - the few STM32F4 / Cortex-M4 registers this firmware
 * touches, written out by address and bit name (no vendor headers).
 *
 * References: RM0090 (STM32F405/415/407/417/427/437/429/439 reference
 * manual) and the ARMv7-M Architecture Reference Manual.
 */
#ifndef HIL_STM32F4_REGS_H
#define HIL_STM32F4_REGS_H

#include <stdint.h>

#define HIL_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define HIL_REG8(addr) (*(volatile uint8_t *)(uintptr_t)(addr))

/* ---- Cortex-M4 system control space ------------------------------------ */
#define SCB_ICSR HIL_REG32(0xE000ED04u)   /* interrupt control and state */
#define SCB_ICSR_PENDSTSET (1u << 26)     /* SysTick pending */
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_VTOR HIL_REG32(0xE000ED08u)   /* vector table offset */
#define SCB_SHPR3 HIL_REG32(0xE000ED20u)  /* priorities of PendSV [23:16], SysTick [31:24] */
#define SCB_SHCSR HIL_REG32(0xE000ED24u)  /* system handler control and state */
#define SCB_CFSR HIL_REG32(0xE000ED28u)   /* configurable fault status */
#define SCB_HFSR HIL_REG32(0xE000ED2Cu)   /* hard fault status */
#define SCB_MMFAR HIL_REG32(0xE000ED34u)  /* memmanage fault address */
#define SCB_BFAR HIL_REG32(0xE000ED38u)   /* bus fault address */
#define SCB_CPACR HIL_REG32(0xE000ED88u)  /* coprocessor access control */
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

#define SYST_CSR HIL_REG32(0xE000E010u)   /* SysTick control and status */
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)      /* 1 = processor clock, 0 = HCLK/8 */
#define SYST_CSR_COUNTFLAG (1u << 16)
#define SYST_RVR HIL_REG32(0xE000E014u)   /* reload value (24 bits) */
#define SYST_CVR HIL_REG32(0xE000E018u)   /* current value; any write clears it */

#define NVIC_ISER(n) HIL_REG32(0xE000E100u + 4u * (n)) /* interrupt set-enable */
#define NVIC_ICER(n) HIL_REG32(0xE000E180u + 4u * (n)) /* interrupt clear-enable */
#define NVIC_IPR8(irq) HIL_REG8(0xE000E400u + (irq))    /* priority byte, top 4 bits used */

#define DEMCR HIL_REG32(0xE000EDFCu)      /* debug exception and monitor control */
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL HIL_REG32(0xE0001000u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CYCCNT HIL_REG32(0xE0001004u)

/* ---- DBGMCU, RM0090 section 38.16 -------------------------------------- */
#define DBGMCU_CR HIL_REG32(0xE0042004u)
#define DBGMCU_CR_DBG_SLEEP (1u << 0)     /* keep HCLK running in WFI sleep for the debugger */
#define DBGMCU_APB1_FZ HIL_REG32(0xE0042008u) /* peripherals frozen while the core is halted */
#define DBGMCU_APB1_FZ_DBG_IWDG_STOP (1u << 12)

/* ---- independent watchdog (RM0090 section 21), clocked by LSI ~32 kHz ---- */
#define IWDG_KR HIL_REG32(0x40003000u)    /* key: 0xCCCC start, 0xAAAA reload, 0x5555 unlock PR/RLR */
#define IWDG_PR HIL_REG32(0x40003004u)    /* prescaler: 4 = /64 */
#define IWDG_RLR HIL_REG32(0x40003008u)   /* reload value, 12 bits */
#define IWDG_SR HIL_REG32(0x4000300Cu)    /* PVU (bit 0), RVU (bit 1): update in progress */

/* ---- RCC (reset and clock control), RM0090 section 6.3 -------------------- */
/* TIM2 (32-bit general-purpose timer, APB1). */
#define TIM2_BASE 0x40000000u
#define TIM2_CR1 HIL_REG32(TIM2_BASE + 0x00u)
#define TIM2_EGR HIL_REG32(TIM2_BASE + 0x14u)
#define TIM2_CNT HIL_REG32(TIM2_BASE + 0x24u)
#define TIM2_PSC HIL_REG32(TIM2_BASE + 0x28u)
#define TIM2_ARR HIL_REG32(TIM2_BASE + 0x2Cu)
#define TIM_CR1_CEN (1u << 0)
#define TIM_EGR_UG (1u << 0)

#define RCC_BASE 0x40023800u
#define RCC_CR HIL_REG32(RCC_BASE + 0x00u)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR HIL_REG32(RCC_BASE + 0x04u)
#define RCC_PLLCFGR_PLLM_POS 0u           /* [5:0]  VCO input = source / M (2..63) */
#define RCC_PLLCFGR_PLLN_POS 6u           /* [14:6] VCO output = input * N (50..432) */
#define RCC_PLLCFGR_PLLP_POS 16u          /* [17:16] SYSCLK = VCO / P, 00=2 01=4 10=6 11=8 */
#define RCC_PLLCFGR_PLLSRC_HSE (1u << 22) /* 0 = HSI, 1 = HSE */
#define RCC_PLLCFGR_PLLQ_POS 24u          /* [27:24] 48 MHz domain = VCO / Q (2..15) */
#define RCC_CFGR HIL_REG32(RCC_BASE + 0x08u)
#define RCC_CFGR_SW_MASK (3u << 0)        /* system clock switch */
#define RCC_CFGR_SW_PLL (2u << 0)
#define RCC_CFGR_SWS_MASK (3u << 2)       /* system clock switch status */
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_HPRE_POS 4u              /* [7:4] AHB prescaler, 0xxx = /1 */
#define RCC_CFGR_PPRE1_POS 10u            /* [12:10] APB1 prescaler, 100=/2 101=/4 */
#define RCC_CFGR_PPRE2_POS 13u            /* [15:13] APB2 prescaler, 100=/2 */
#define RCC_AHB1ENR HIL_REG32(RCC_BASE + 0x30u)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR HIL_REG32(RCC_BASE + 0x40u)
#define RCC_APB1ENR_PWREN (1u << 28)
#define RCC_APB2ENR HIL_REG32(RCC_BASE + 0x44u)
#define RCC_APB2ENR_USART1EN (1u << 4)

/* ---- PWR, RM0090 section 5.4 ------------------------------------------- */
#define PWR_CR HIL_REG32(0x40007000u)
#define PWR_CR_VOS_POS 14u                /* [15:14] regulator scale, 11 = scale 1 */
#define PWR_CR_ODEN (1u << 16)            /* over-drive enable (F42x/F43x) */
#define PWR_CR_ODSWEN (1u << 17)          /* over-drive switching enable */
#define PWR_CSR HIL_REG32(0x40007004u)
#define PWR_CSR_VOSRDY (1u << 14)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)

/* ---- Flash interface, RM0090 section 3.9 -------------------------------- */
#define FLASH_ACR HIL_REG32(0x40023C00u)
#define FLASH_ACR_LATENCY_MASK 0xFu       /* wait states */
#define FLASH_ACR_PRFTEN (1u << 8)        /* prefetch */
#define FLASH_ACR_ICEN (1u << 9)          /* ART instruction cache */
#define FLASH_ACR_DCEN (1u << 10)         /* ART data cache */

/* ---- GPIOA, RM0090 section 8.4 ------------------------------------------ */
#define GPIOA_BASE 0x40020000u
#define GPIOA_MODER HIL_REG32(GPIOA_BASE + 0x00u)   /* 2 bits/pin: 10 = alternate function */
#define GPIOA_OTYPER HIL_REG32(GPIOA_BASE + 0x04u)  /* 1 bit/pin: 0 = push-pull */
#define GPIOA_OSPEEDR HIL_REG32(GPIOA_BASE + 0x08u) /* 2 bits/pin: 10 = high speed */
#define GPIOA_PUPDR HIL_REG32(GPIOA_BASE + 0x0Cu)   /* 2 bits/pin: 01 = pull-up */
#define GPIOA_AFRH HIL_REG32(GPIOA_BASE + 0x24u)    /* 4 bits/pin for pins 8..15 */

/* ---- USART1 (APB2), RM0090 section 30.6 --------------------------------- */
#define USART1_BASE 0x40011000u
#define USART1_SR HIL_REG32(USART1_BASE + 0x00u)
#define USART_SR_PE (1u << 0)
#define USART_SR_FE (1u << 1)
#define USART_SR_NF (1u << 2)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TC (1u << 6)
#define USART_SR_TXE (1u << 7)
#define USART1_DR HIL_REG32(USART1_BASE + 0x04u)
#define USART1_BRR HIL_REG32(USART1_BASE + 0x08u)
#define USART1_CR1 HIL_REG32(USART1_BASE + 0x0Cu)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)
#define USART1_CR2 HIL_REG32(USART1_BASE + 0x10u)
#define USART1_CR3 HIL_REG32(USART1_BASE + 0x14u)
#define USART1_IRQN 37u                   /* vector table entry 16 + 37 */

/* ---- Intrinsics --------------------------------------------------------- */
static inline void hil_dsb(void) { __asm volatile("dsb" ::: "memory"); }
static inline void hil_isb(void) { __asm volatile("isb" ::: "memory"); }
static inline void hil_wfi(void) { __asm volatile("wfi" ::: "memory"); }
static inline void hil_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void hil_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void hil_compiler_barrier(void) { __asm volatile("" ::: "memory"); }

/* Disable interrupts, returning the previous PRIMASK for hil_irq_restore(). */
static inline uint32_t hil_irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void hil_irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

#endif /* HIL_STM32F4_REGS_H */
