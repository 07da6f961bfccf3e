/*
 * board_qemu.c - QEMU `-M netduinoplus2` (STM32F405RG model).
 *
 * QEMU 7.2 does not model RCC (HSERDY/PLLRDY never set), GPIO or flash wait
 * states, so there is nothing to set up: waiting for a PLL would hang. The
 * machine feeds the Cortex-M4 (and SysTick) a nominal 168 MHz clock; the
 * USART model ignores BRR and delivers bytes as fast as the host sends them.
 *
 * Consequence: QEMU never catches a missing clock enable or a wrong pin mux.
 * Only board_disc1.c on a real board proves those.
 */
#include "board.h"

#define QEMU_SYSCLK_HZ 168000000u
#define QEMU_APB2_HZ (QEMU_SYSCLK_HZ / 2u) /* what a real F405 at 168 MHz has */

void board_init(void)
{
}

const char *board_name(void)
{
    return "qemu-netduinoplus2";
}

uint32_t board_clock_hz(void)
{
    return QEMU_SYSCLK_HZ;
}

uint32_t board_uart_clock_hz(void)
{
    return QEMU_APB2_HZ;
}

const char *board_clock_desc(void)
{
    return "emulated 168 MHz (no RCC model; counts are instruction based)";
}

int board_has_instruction_timer(void)
{
    return 1;
}

int board_systick_counts_instructions(void)
{
    return 1; /* run with -icount shift=0: 1 instruction = 1 ns of virtual time */
}

/* QEMU's netduinoplus2 has no IWDG model: a hung twin is noticed by the host's
 * timeouts instead, and the host restarts the emulator. */
void board_watchdog_start(void)
{
}

void board_watchdog_kick(void)
{
}
