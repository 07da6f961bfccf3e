/* uart.c - see uart.h. */
#include "uart.h"

#include "stm32f4_regs.h"

#if (UART_RX_RING_SIZE & (UART_RX_RING_SIZE - 1u)) != 0u
#error "UART_RX_RING_SIZE must be a power of two"
#endif
#define RING_MASK (UART_RX_RING_SIZE - 1u)

/* Single producer (ISR writes head) / single consumer (main loop writes
 * tail). Indices run freely and are masked on use; word stores are atomic. */
static volatile uint8_t s_ring[UART_RX_RING_SIZE];
static volatile uint32_t s_head;
static volatile uint32_t s_tail;
static volatile uint32_t s_dropped;
static volatile uint32_t s_overruns;

void uart_init(uint32_t pclk_hz, uint32_t baud)
{
    USART1_CR1 = 0u; /* UE off while configuring */
    s_head = s_tail = 0u;
    s_dropped = s_overruns = 0u;

    /* OVER8 = 0: BRR = pclk / baud as 12.4 fixed point, rounded. */
    USART1_BRR = (pclk_hz + baud / 2u) / baud;
    USART1_CR2 = 0u; /* 1 stop bit */
    USART1_CR3 = 0u; /* no flow control, no DMA */
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;

    (void)USART1_SR; /* drop anything latched before UE */
    (void)USART1_DR;

    NVIC_IPR8(USART1_IRQN) = 0x40u; /* above SysTick (0x80), below faults */
    NVIC_ISER(USART1_IRQN / 32u) = 1u << (USART1_IRQN % 32u);
}

void USART1_IRQHandler(void)
{
    uint32_t sr;
    /* RXNEIE also fires on ORE; reading SR then DR clears both. */
    while ((sr = USART1_SR) & (USART_SR_RXNE | USART_SR_ORE)) {
        uint8_t b = (uint8_t)USART1_DR;
        if (sr & USART_SR_ORE)
            s_overruns = s_overruns + 1u;
        if (!(sr & USART_SR_RXNE))
            continue;
        uint32_t head = s_head;
        if (head - s_tail >= UART_RX_RING_SIZE) {
            s_dropped = s_dropped + 1u;
            continue;
        }
        s_ring[head & RING_MASK] = b;
        s_head = head + 1u; /* volatile stores stay in order */
    }
}

bool uart_read_byte(uint8_t *b)
{
    uint32_t tail = s_tail;
    if (tail == s_head)
        return false;
    *b = s_ring[tail & RING_MASK];
    s_tail = tail + 1u;
    return true;
}

bool uart_rx_empty(void)
{
    return s_tail == s_head;
}

void uart_wait_rx(void)
{
    hil_irq_disable();
    if (s_tail == s_head)
        hil_wfi(); /* a pending interrupt ends WFI even while masked */
    hil_irq_enable(); /* ... and is taken here */
}

void uart_write_byte(uint8_t b)
{
    while (!(USART1_SR & USART_SR_TXE)) {
    }
    USART1_DR = b;
}

void uart_write(const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; ++i)
        uart_write_byte(p[i]);
}

void uart_write_str(const char *s)
{
    while (*s != '\0')
        uart_write_byte((uint8_t)*s++);
}

void uart_flush(void)
{
    while (!(USART1_SR & USART_SR_TC)) {
    }
}

uint32_t uart_rx_dropped(void)
{
    return s_dropped;
}

uint32_t uart_rx_overruns(void)
{
    return s_overruns;
}

void uart_panic_write_bytes(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        /* ~100k polls is several ms even at 180 MHz: a byte at 9600 baud
         * takes ~1 ms. If USART1 is not clocked, TXE reads 0: give up. */
        for (uint32_t spins = 0; !(USART1_SR & USART_SR_TXE); ++spins)
            if (spins > 100000u)
                return;
        USART1_DR = p[i];
    }
}

void uart_panic_write(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        ++n;
    uart_panic_write_bytes((const uint8_t *)s, n);
}
