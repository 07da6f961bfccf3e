/*
 * board_disc1.c - STM32F429I-DISC1 (STM32F429ZIT6).
 *
 * Clock tree (RM0090 section 6, "Entering Over-drive mode" in 5.1.4):
 *   HSE 8 MHz crystal -> PLLM /4 = 2 MHz VCO input (ST's recommended value,
 *   lowest jitter) -> PLLN x180 = 360 MHz VCO -> PLLP /2 = 180 MHz SYSCLK,
 *   PLLQ /8 = 45 MHz (48 MHz USB/SDIO is not reachable at 180 MHz; unused).
 *   AHB /1 -> HCLK 180 MHz (core, SysTick, DWT), APB1 /4 = 45 MHz (max 45),
 *   APB2 /2 = 90 MHz (max 90; USART1 kernel clock).
 *   180 MHz needs the regulator in scale 1 plus over-drive, and 5 flash wait
 *   states at 2.7-3.6 V (the board runs at 3 V). The ART accelerator
 *   (prefetch, instruction and data cache) is switched on: cycle counts on the
 *   real board depend on it, so it is part of the benchmark conditions.
 *
 * Fallbacks, so a board with a dead crystal still talks: no HSERDY -> HSI
 * 16 MHz as PLL source (PLLM /8, same 2 MHz VCO input); no over-drive ->
 * PLLN x168 = 168 MHz (needs no over-drive); no PLL lock -> stay on HSI
 * 16 MHz with all prescalers /1. board_clock_hz() and board_clock_desc()
 * report what was reached.
 *
 * USART1 on PA9 (TX) / PA10 (RX), alternate function 7, is wired to the
 * ST-LINK/V2-B virtual COM port.
 */
#include <stdbool.h>

#include "board.h"
#include "cycles.h"
#include "stm32f4_regs.h"

#define HSE_HZ 8000000u
#define HSI_HZ 16000000u
#define PLL_INPUT_HZ 2000000u  /* VCO input after PLLM */
#define FLASH_WAIT_STATES 5u   /* 150 < HCLK <= 180 MHz at 2.7-3.6 V */
#define IWDG_PRESCALER_64 4u  /* LSI ~32 kHz / 64: ~2 ms a count */
#define IWDG_RELOAD 2047u      /* ~4 s nominal; LSI spans 17-47 kHz, so 2.8-7.7 s */
#define WAKE_HZ 10u            /* idle wake-ups to kick the watchdog */
#define READY_TIMEOUT 400000u /* polls: ~150 ms at 16 MHz HSI; HSE starts in ~2 ms */

static uint32_t s_sysclk_hz = HSI_HZ;
static uint32_t s_apb2_hz = HSI_HZ;
static char s_desc[96] = "HSI 16 MHz (reset clock)";

static bool wait_set(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t i = 0; i < READY_TIMEOUT; ++i)
        if ((*reg & mask) == mask)
            return true;
    return false;
}

static bool wait_clear(volatile uint32_t *reg, uint32_t mask)
{
    for (uint32_t i = 0; i < READY_TIMEOUT; ++i)
        if ((*reg & mask) == 0u)
            return true;
    return false;
}

static bool hse_start(void)
{
    RCC_CR |= RCC_CR_HSEON; /* crystal, so HSEBYP stays 0 */
    if (wait_set(&RCC_CR, RCC_CR_HSERDY))
        return true;
    RCC_CR &= ~RCC_CR_HSEON;
    return false;
}

/* Program and lock the PLL for SYSCLK = 2 MHz * n / 2. PLL must be off. */
static bool pll_start(bool from_hse, uint32_t n)
{
    uint32_t m = (from_hse ? HSE_HZ : HSI_HZ) / PLL_INPUT_HZ;
    RCC_PLLCFGR = (m << RCC_PLLCFGR_PLLM_POS)
                | (n << RCC_PLLCFGR_PLLN_POS)
                | (0u << RCC_PLLCFGR_PLLP_POS) /* 00: P = 2 */
                | (from_hse ? RCC_PLLCFGR_PLLSRC_HSE : 0u)
                | (8u << RCC_PLLCFGR_PLLQ_POS);
    RCC_CR |= RCC_CR_PLLON;
    if (wait_set(&RCC_CR, RCC_CR_PLLRDY))
        return true;
    RCC_CR &= ~RCC_CR_PLLON;
    return false;
}

static void pll_stop(void)
{
    RCC_CR &= ~RCC_CR_PLLON;
    (void)wait_clear(&RCC_CR, RCC_CR_PLLRDY);
}

static bool overdrive_on(void)
{
    PWR_CR |= PWR_CR_ODEN;
    if (!wait_set(&PWR_CSR, PWR_CSR_ODRDY))
        return false;
    PWR_CR |= PWR_CR_ODSWEN;
    return wait_set(&PWR_CSR, PWR_CSR_ODSWRDY);
}

static char *append(char *p, const char *s)
{
    while (*s != '\0')
        *p++ = *s++;
    *p = '\0';
    return p;
}

static void clock_tree_init(void)
{
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR; /* errata: let the enable land before using PWR */
    hil_dsb();
    /* Regulator scale 1 (VOS = 11); only writable while the PLL is off. */
    PWR_CR = (PWR_CR & ~(3u << PWR_CR_VOS_POS)) | (3u << PWR_CR_VOS_POS);

    bool hse = hse_start();
    uint32_t pll_n = 180u;
    bool od = false;
    if (!pll_start(hse, pll_n))
        return; /* stay on HSI 16 MHz */
    od = overdrive_on();
    if (!od) {
        pll_stop();
        pll_n = 168u;
        if (!pll_start(hse, pll_n))
            return;
    }

    /* More wait states before the clock goes up. */
    FLASH_ACR = FLASH_WAIT_STATES | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    if ((FLASH_ACR & FLASH_ACR_LATENCY_MASK) != FLASH_WAIT_STATES)
        return;

    RCC_CFGR = (RCC_CFGR & ~((0xFu << RCC_CFGR_HPRE_POS) | (7u << RCC_CFGR_PPRE1_POS)
                             | (7u << RCC_CFGR_PPRE2_POS)))
             | (0u << RCC_CFGR_HPRE_POS)   /* AHB /1 */
             | (5u << RCC_CFGR_PPRE1_POS)  /* 101: APB1 /4 */
             | (4u << RCC_CFGR_PPRE2_POS); /* 100: APB2 /2 */
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
    if (!wait_set(&RCC_CFGR, RCC_CFGR_SWS_PLL))
        return;

    s_sysclk_hz = PLL_INPUT_HZ * pll_n / 2u;
    s_apb2_hz = s_sysclk_hz / 2u;

    char *p = s_desc;
    p = append(p, hse ? "HSE 8 MHz" : "HSI 16 MHz (HSE did not start)");
    p = append(p, pll_n == 180u ? " -> PLL 180 MHz, over-drive" : " -> PLL 168 MHz (no over-drive)");
    (void)append(p, ", 5 WS, ART on, APB2 /2");
}

static void usart1_pins_init(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR;
    hil_dsb();

    /* PA9 = USART1_TX, PA10 = USART1_RX: alternate function 7. */
    GPIOA_AFRH = (GPIOA_AFRH & ~((0xFu << 4) | (0xFu << 8))) | (7u << 4) | (7u << 8);
    GPIOA_OTYPER &= ~(1u << 9);                                           /* push-pull */
    GPIOA_OSPEEDR = (GPIOA_OSPEEDR & ~(3u << 18)) | (2u << 18);            /* PA9 high speed */
    GPIOA_PUPDR = (GPIOA_PUPDR & ~((3u << 18) | (3u << 20))) | (1u << 20); /* PA10 pull-up */
    GPIOA_MODER = (GPIOA_MODER & ~((3u << 18) | (3u << 20))) | (2u << 18) | (2u << 20);
}

void board_init(void)
{
    /* The main loop sleeps in WFI; keep the debug port clocked meanwhile so
     * pyOCD can attach and reflash without connect-under-reset. */
    DBGMCU_CR |= DBGMCU_CR_DBG_SLEEP;
    clock_tree_init();
    usart1_pins_init();
}

const char *board_name(void)
{
    return "stm32f429i-disc1";
}

uint32_t board_clock_hz(void)
{
    return s_sysclk_hz;
}

uint32_t board_uart_clock_hz(void)
{
    return s_apb2_hz;
}

const char *board_clock_desc(void)
{
    return s_desc;
}

int board_has_instruction_timer(void)
{
    return 0; /* TIM2 counts its APB1 timer clock here */
}

int board_systick_counts_instructions(void)
{
    return 0; /* silicon: SysTick counts core clock cycles */
}

/* IWDG: a hung board (a kernel that never returns, a fault handler that
 * cannot report) resets itself within ~4 s and comes back answering PING; the
 * host notices the lost request and re-syncs. It stops while a
 * debugger halts the core (DBG_IWDG_STOP), so pyOCD sessions are not cut. */
void board_watchdog_start(void)
{
    DBGMCU_APB1_FZ |= DBGMCU_APB1_FZ_DBG_IWDG_STOP;
    IWDG_KR = 0xCCCCu;                 /* start (also switches LSI on) */
    IWDG_KR = 0x5555u;                 /* unlock PR and RLR */
    IWDG_PR = IWDG_PRESCALER_64;
    IWDG_RLR = IWDG_RELOAD;
    (void)wait_clear(&IWDG_SR, 3u);    /* PVU | RVU: the new values reached the LSI domain */
    IWDG_KR = 0xAAAAu;
    /* The main loop sleeps in WFI until a byte arrives: make sure it wakes
     * often enough to kick. With the SysTick cycle counter the 24-bit wraps
     * (~93 ms) already wake it; with DWT SysTick is free for a slow tick. */
    if (cycles_kind() == CYCLES_DWT) {
        SYST_CSR = 0u;
        SYST_RVR = s_sysclk_hz / 8u / WAKE_HZ - 1u;  /* HCLK/8 clock source */
        SYST_CVR = 0u;
        SYST_CSR = SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    }
}

void board_watchdog_kick(void)
{
    IWDG_KR = 0xAAAAu;
}
