/* cycles.c - see cycles.h. */
#include "cycles.h"

#include "board/board.h"
#include "stm32f4_regs.h"

#define SYSTICK_RELOAD 0x00FFFFFFu           /* full 24-bit range */
#define SYSTICK_PERIOD (SYSTICK_RELOAD + 1u) /* ticks per wrap: 2^24 */

static cycles_kind_t s_kind = CYCLES_NONE;
/* Ticks at the start of the current SysTick period: advanced by the wrap
 * interrupt and by cycles_sync(). */
static volatile uint32_t s_systick_base;

static int dwt_start(void)
{
    DEMCR |= DEMCR_TRCENA; /* power the DWT/ITM blocks */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;

    uint32_t before = DWT_CYCCNT;
    for (volatile uint32_t i = 0; i < 16u; ++i) {
    }
    return DWT_CYCCNT != before; /* QEMU: stays 0 */
}

static void systick_start(void)
{
    SYST_CSR = 0u;
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0u; /* counter restarts from the reload value */
    s_systick_base = 0u;
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | (0x80u << 24); /* SysTick priority */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

/* QEMU models TIM2 at 1 GHz of virtual time, and under -icount shift=0 one
 * guest instruction is exactly 1 ns: with prescaler 0 the counter is the
 * guest instruction count. Without -icount it follows host time; then the
 * same loop measured three times gives different figures and we fall back. */
static uint32_t tim2_loop_delta(void)
{
    uint32_t t0 = TIM2_CNT;
    for (volatile uint32_t i = 0; i < 64u; ++i) {
    }
    return TIM2_CNT - t0;
}

static int icount_start(void)
{
    TIM2_CR1 = 0u;
    TIM2_PSC = 0u;
    TIM2_ARR = 0xFFFFFFFFu;
    TIM2_EGR = TIM_EGR_UG; /* load the prescaler now */
    TIM2_CR1 = TIM_CR1_CEN;
    uint32_t primask = hil_irq_save();
    uint32_t a = tim2_loop_delta(), b = tim2_loop_delta(), c = tim2_loop_delta();
    hil_irq_restore(primask);
    return a != 0u && a == b && b == c;
}

void cycles_init(void)
{
    if (dwt_start()) {
        s_kind = CYCLES_DWT;
        return;
    }
    DWT_CTRL &= ~DWT_CTRL_CYCCNTENA;
    if (board_has_instruction_timer() && icount_start()) {   /* the QEMU twin only (board file) */
        s_kind = CYCLES_ICOUNT;
        return;
    }
    systick_start();
    s_kind = CYCLES_SYSTICK;
}

void SysTick_Handler(void)
{
    s_systick_base = s_systick_base + SYSTICK_PERIOD;
}

/*
 * Ticks since the start of the current period. The counter runs
 * 0 (period start, wrap interrupt just raised) -> RELOAD -> ... -> 1 -> 0, so a
 * value v != 0 means PERIOD - v ticks have passed, v == 0 means none.
 */
static inline uint32_t systick_elapsed(uint32_t v)
{
    return v == 0u ? 0u : SYSTICK_PERIOD - v;
}

/* Interrupts must be masked. */
static uint32_t systick_now_locked(void)
{
    uint32_t v = SYST_CVR;
    uint32_t base = s_systick_base;
    if (SCB_ICSR & SCB_ICSR_PENDSTSET) {
        /* Wrapped, interrupt not yet taken: count that wrap ourselves and
         * re-read, since v may be from before or after it. */
        v = SYST_CVR;
        base += SYSTICK_PERIOD;
    }
    return base + systick_elapsed(v);
}

uint32_t cycles_now(void)
{
    if (s_kind == CYCLES_DWT)
        return DWT_CYCCNT;
    if (s_kind == CYCLES_ICOUNT)
        return TIM2_CNT;
    if (s_kind != CYCLES_SYSTICK)
        return 0u;
    uint32_t primask = hil_irq_save();
    uint32_t now = systick_now_locked();
    hil_irq_restore(primask);
    return now;
}

void cycles_sync(void)
{
    if (s_kind != CYCLES_SYSTICK)
        return;
    uint32_t primask = hil_irq_save();
    uint32_t now = systick_now_locked();
    SYST_CVR = 0u;                   /* restart the period here */
    SCB_ICSR = SCB_ICSR_PENDSTCLR;   /* a wrap we just counted */
    s_systick_base = now;
    hil_irq_restore(primask);
}

cycles_kind_t cycles_kind(void)
{
    return s_kind;
}

const char *cycles_kind_name(cycles_kind_t kind)
{
    switch (kind) {
    case CYCLES_DWT:
        return "DWT";
    case CYCLES_SYSTICK:
        return "SYSTICK";
    case CYCLES_ICOUNT:
        return "ICOUNT";
    default:
        return "NONE";
    }
}
