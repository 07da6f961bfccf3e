/*
 * cycles.h - cycle counting that works on silicon and under QEMU.
 *
 * DWT: on a real Cortex-M4 the DWT cycle counter (CYCCNT) counts core clock
 *      cycles exactly; cycles_now() reads it directly.
 * SYSTICK: QEMU does not model CYCCNT (it reads 0). cycles_init() notices a
 *      counter that does not advance and falls back to SysTick: a 24-bit down
 *      counter on the core clock whose wrap interrupt extends it to 32 bits.
 *      Under QEMU with `-icount shift=0` one guest instruction is exactly 1 ns
 *      of virtual time, so at the nominal 168 MHz SysTick advances 0.168 ticks
 *      per instruction, identically on every run. Such counts are
 *      INSTRUCTION-COUNT BASED, not silicon cycles; report them as such.
 * ICOUNT: QEMU twin only (board_has_instruction_timer()): QEMU's TIM2 runs at 1 GHz of
 *      virtual time, so under `-icount shift=0` TIM2 with prescaler 0 counts
 *      guest instructions exactly. Preferred over SYSTICK when cycles_init()
 *      finds it deterministic (QEMU started without -icount falls back).
 *
 * Counts are 32-bit and wrap (about 24-25 s at 168-180 MHz); take differences
 * with unsigned subtraction.
 *
 * Measuring a piece of work:
 *     cycles_sync();
 *     uint32_t t0 = cycles_now();
 *     work();
 *     uint32_t n = cycles_now() - t0;
 * cycles_sync() is a no-op with DWT. With SysTick it restarts the 24-bit
 * period at that instruction, so the tick phase (and hence the count) does not
 * depend on when the host's command happened to arrive, and no wrap interrupt
 * falls into the next 2^24 ticks (~100 ms at 168 MHz).
 */
#ifndef HIL_CYCLES_H
#define HIL_CYCLES_H

#include <stdint.h>

typedef enum {
    CYCLES_NONE = 0,    /* cycles_init() not called */
    CYCLES_DWT = 1,     /* DWT CYCCNT: core clock cycles (silicon) */
    CYCLES_SYSTICK = 2, /* SysTick at core clock (QEMU: instruction-time based) */
    CYCLES_ICOUNT = 3,  /* QEMU TIM2 under -icount shift=0: guest instructions, exact */
} cycles_kind_t;

/* Pick the counter and start it. Call once, after the clock tree is set and
 * before interrupts are relied on (the SysTick fallback enables its IRQ). */
void cycles_init(void);

uint32_t cycles_now(void);

/* Start of a measurement window (see above). Keeps cycles_now() monotonic. */
void cycles_sync(void);

cycles_kind_t cycles_kind(void);
const char *cycles_kind_name(cycles_kind_t kind); /* "DWT", "SYSTICK", "ICOUNT", "NONE" */

#endif /* HIL_CYCLES_H */
