/*
 * main.c - bring up the board, then feed received bytes to the application.
 * Idles in WFI while nothing is received (QEMU otherwise spins at 100% CPU).
 */
#include <stdint.h>

#include "app.h"
#include "board/board.h"
#include "cycles.h"
#include "uart.h"

#ifndef HIL_UART_BAUD
#define HIL_UART_BAUD 115200u
#endif

int main(void)
{
    board_init();
    uart_init(board_uart_clock_hz(), HIL_UART_BAUD);
    cycles_init();
    board_watchdog_start();
    app_init();

    for (;;) {
        uint8_t b;
        board_watchdog_kick();
        if (uart_read_byte(&b))
            app_handle_byte(b);
        else
            uart_wait_rx();
    }
}
