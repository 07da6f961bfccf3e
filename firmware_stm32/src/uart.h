/*
 * uart.h - USART1 driver: interrupt-driven RX into a ring buffer, blocking TX.
 *
 * RX: the USART1 interrupt moves each received byte into a 2 KiB ring
 * (power of two). A byte arriving while the ring is full is dropped and
 * counted (uart_rx_dropped()); a hardware overrun (ORE, a byte lost before
 * the interrupt ran) is counted too (uart_rx_overruns()).
 * TX: uart_write() polls TXE per byte; it returns once the last byte is in the
 * data register (uart_flush() waits until it has left the shift register).
 *
 * Pins and the USART clock enable are the board's job (board_init()).
 */
#ifndef HIL_UART_H
#define HIL_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RX_RING_SIZE 2048u /* must be a power of two */

/* Configure USART1 for 8N1 at `baud` given its kernel clock (APB2), enable RX
 * interrupt. CR1 = UE | TE | RE | RXNEIE. */
void uart_init(uint32_t pclk_hz, uint32_t baud);

/* Non-blocking: true and *b set if a byte was waiting. */
bool uart_read_byte(uint8_t *b);

/* True if no received byte is waiting. */
bool uart_rx_empty(void);

/* Sleep (WFI) until an interrupt arrives, unless a byte is already waiting.
 * Race-free: the ring is checked with interrupts masked. */
void uart_wait_rx(void);

void uart_write_byte(uint8_t b);
void uart_write(const void *data, size_t len);
void uart_write_str(const char *s);
void uart_flush(void);

uint32_t uart_rx_dropped(void);  /* bytes lost because the ring was full */
uint32_t uart_rx_overruns(void); /* hardware overruns (SR.ORE) seen */

/* For fault handlers: polled write with a bounded wait per byte, usable
 * before uart_init() or with interrupts masked. */
void uart_panic_write(const char *s);
void uart_panic_write_bytes(const uint8_t *p, size_t n);

#endif /* HIL_UART_H */
