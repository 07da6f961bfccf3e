/*
 * app_bringup.c - bring-up application: echo, plus two text commands.
 *
 * Every received byte is echoed back unchanged (all 256 values). In addition,
 * a received line (terminated by "\n", an optional "\r" before it is ignored)
 * equal to one of these runs a command after the echo:
 *   CYCLES  run a fixed busy loop of 2 * HIL_BUSY_LOOP_ITERS instructions and
 *           print "CYCLES count=<n> kind=<DWT|SYSTICK|ICOUNT> iters=<k> hz=<core Hz>"
 *   STATS   print "STATS rx_dropped=<n> rx_overruns=<n>"
 *   SINK n  take the next n bytes (1..SINK_MAX) without echo or any other work, then
 *           print "SINK n=<n>": the raw floor of the UART's receive path, which
 *           `hil bench link` measures next to the protocol (hil/link_floor.py)
 * Replies end in "\r\n". At boot one banner line is printed:
 *   "HIL-FW boot board=<name> hz=<core Hz> kind=<counter> clock=<desc>"
 *
 * The binary protocol is the other application, APP=protocol: backend.c
 * behind the device library's dispatcher (hil/device_lib).
 */
#include "app.h"

#include <stdbool.h>
#include <stddef.h>

#include "board/board.h"
#include "cycles.h"
#include "fmt.h"
#include "uart.h"

#ifndef HIL_BUSY_LOOP_ITERS
#define HIL_BUSY_LOOP_ITERS 1000000u
#endif

#define LINE_MAX 15u

#define SINK_MAX 1000000u

static char s_line[LINE_MAX + 1u];
static uint32_t s_sink_left;     /* bytes the SINK command still takes */
static uint32_t s_sink_n;
static size_t s_line_len;
static bool s_line_too_long;

#ifdef HIL_TEST_BLOAT
/* Build-system test hook: a flash array of HIL_TEST_BLOAT bytes
 * (tests/test_firmware_boot.py checks the size check rejects it). */
const uint8_t hil_test_bloat[HIL_TEST_BLOAT] = {1u};
#endif
#ifdef HIL_TEST_BLOAT_RAM
/* Same for RAM (.bss). */
uint8_t hil_test_bloat_ram[HIL_TEST_BLOAT_RAM];
#endif
#ifdef HIL_TEST_BLOAT_CCM
/* Same for the CCM region (.ccmram). */
#include "memory_regions.h"
uint8_t hil_test_bloat_ccm[HIL_TEST_BLOAT_CCM] HIL_CCM;
#endif

static void put_kv_u32(const char *key, uint32_t v)
{
    char num[FMT_U32_DEC_LEN + 1u];
    uart_write_str(key);
    fmt_u32_dec(num, v);
    uart_write_str(num);
}

/* Exactly 2 instructions per iteration (subs, bne), independent of the
 * compiler: 2 * iters guest instructions under QEMU. */
static void busy_loop(uint32_t iters)
{
    __asm volatile(
        "1: subs %0, %0, #1\n\t"
        "bne 1b\n\t"
        : "+r"(iters)
        :
        : "cc");
}

static void cmd_cycles(void)
{
    cycles_sync();
    uint32_t t0 = cycles_now();
    busy_loop(HIL_BUSY_LOOP_ITERS);
    uint32_t n = cycles_now() - t0;

    put_kv_u32("CYCLES count=", n);
    uart_write_str(" kind=");
    uart_write_str(cycles_kind_name(cycles_kind()));
    put_kv_u32(" iters=", HIL_BUSY_LOOP_ITERS);
    put_kv_u32(" hz=", board_clock_hz());
    uart_write_str("\r\n");
}

static void cmd_stats(void)
{
    put_kv_u32("STATS rx_dropped=", uart_rx_dropped());
    put_kv_u32(" rx_overruns=", uart_rx_overruns());
    uart_write_str("\r\n");
}

static bool line_is(const char *cmd)
{
    size_t i = 0;
    for (; cmd[i] != '\0'; ++i)
        if (i >= s_line_len || s_line[i] != cmd[i])
            return false;
    return i == s_line_len;
}

/* "SINK <n>" with 1 <= n <= SINK_MAX: starts taking n bytes; anything else is ignored. */
static void cmd_sink(void)
{
    static const char prefix[] = "SINK ";
    uint32_t n = 0u;
    size_t i = 0u;
    for (; prefix[i] != '\0'; ++i)
        if (i >= s_line_len || s_line[i] != prefix[i])
            return;
    if (i == s_line_len)
        return;
    for (; i < s_line_len; ++i) {
        if (s_line[i] < '0' || s_line[i] > '9')
            return;
        n = n * 10u + (uint32_t)(s_line[i] - '0');
        if (n > SINK_MAX)
            return;
    }
    s_sink_left = s_sink_n = n;
}

static void end_of_line(void)
{
    if (s_line_len > 0u && s_line[s_line_len - 1u] == '\r')
        --s_line_len;
    if (!s_line_too_long) {
        if (line_is("CYCLES"))
            cmd_cycles();
        else if (line_is("STATS"))
            cmd_stats();
        else
            cmd_sink();
    }
    s_line_len = 0u;
    s_line_too_long = false;
}

void app_init(void)
{
#ifdef HIL_TEST_BLOAT
    (void)*(volatile const uint8_t *)&hil_test_bloat[HIL_TEST_BLOAT - 1];
#endif
#ifdef HIL_TEST_BLOAT_RAM
    *(volatile uint8_t *)&hil_test_bloat_ram[HIL_TEST_BLOAT_RAM - 1] = 0u;
#endif
#ifdef HIL_TEST_BLOAT_CCM
    *(volatile uint8_t *)&hil_test_bloat_ccm[HIL_TEST_BLOAT_CCM - 1] = 0u;
#endif
    uart_write_str("HIL-FW boot board=");
    uart_write_str(board_name());
    put_kv_u32(" hz=", board_clock_hz());
    uart_write_str(" kind=");
    uart_write_str(cycles_kind_name(cycles_kind()));
    uart_write_str(" clock=");
    uart_write_str(board_clock_desc());
    uart_write_str("\r\n");
}

void app_handle_byte(uint8_t b)
{
    if (s_sink_left > 0u) {
        if (--s_sink_left == 0u) {
            put_kv_u32("SINK n=", s_sink_n);
            uart_write_str("\r\n");
        }
        return;
    }
    uart_write_byte(b);
    if (b == '\n') {
        end_of_line();
        return;
    }
    if (s_line_len < LINE_MAX)
        s_line[s_line_len++] = (char)b;
    else
        s_line_too_long = true;
}
