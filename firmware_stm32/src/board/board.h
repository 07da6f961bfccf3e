/*
 * board.h - what differs between targets: clocks and pins.
 *
 * One implementation per target, chosen by the Makefile (TARGET=qemu ->
 * board_qemu.c, TARGET=disc1 -> board_disc1.c). Application code includes only
 * this header and never asks which board it runs on.
 */
#ifndef HIL_BOARD_H
#define HIL_BOARD_H

#include <stdint.h>

/* Set up clocks, enable the USART1 and GPIO clocks, route USART1 to its pins.
 * Call first in main(). */
void board_init(void);

/* Short board identifier, e.g. "qemu-netduinoplus2", "stm32f429i-disc1". */
const char *board_name(void);

/* Core clock (HCLK, also SysTick's and DWT's clock) in Hz, after board_init(). */
uint32_t board_clock_hz(void);

/* USART1 kernel clock (APB2) in Hz, after board_init(). */
uint32_t board_uart_clock_hz(void);

/* One line describing the clock tree as configured, for the boot banner
 * (e.g. "HSE 8 MHz -> PLL 180 MHz, over-drive, 5 WS"). */
const char *board_clock_desc(void);

/* Does SysTick count instructions rather than clock cycles? True on the
 * QEMU twin (-icount: virtual time is instruction count); counts are then
 * reported as SYSTICK_ICOUNT, never as silicon cycles. */
int board_systick_counts_instructions(void);

/* Does TIM2 count guest instructions (QEMU's TIM2 at 1 GHz of virtual time
 * under -icount shift=0)? cycles_init() then tries it as the exact ICOUNT
 * counter; silicon boards say no. */
int board_has_instruction_timer(void);

/* Start the board's watchdog (real boards: IWDG; QEMU: none). Call after
 * cycles_init(); from then on board_watchdog_kick() must run at least every
 * couple of seconds (the main loop and every inference do). */
void board_watchdog_start(void);
void board_watchdog_kick(void);

#endif /* HIL_BOARD_H */
