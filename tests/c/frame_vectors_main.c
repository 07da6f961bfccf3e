/* Host test driver for hil_frame.c (built by tests/test_protocol_c.py).
 *
 * Reads commands, one per line, from the file in argv[1] or stdin; "-" is an
 * empty hex string. Each command prints lines tests/test_protocol_c.py parses:
 *   D <name> <hex>                      -> F <name> <version> <type> <seq> <payload hex>
 *                                          | X <name> <error code> ... then END <name>
 *   E <name> <type> <seq> <payload hex> -> E <name> <wire hex>   (or E <name> FAIL)
 *   R <name> <seq> <code> <req> <detail>-> R <name> <wire hex>   (hil_frame_encode_error)
 *   C <name> <hex>                      -> C <name> <crc16 decimal>
 * Each D starts from a fresh receiver, like a case in protocol_frames.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hil_frame.h"

static char line[1 << 21];
static uint8_t data[1 << 20];
static uint8_t wire[HIL_FRAME_MAX_WIRE];

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(hex, "-") == 0) {
        return 0;
    }
    while (hex[0] && hex[1] && n < cap) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) {
            fprintf(stderr, "bad hex\n");
            exit(2);
        }
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static void print_hex(const uint8_t *p, size_t n)
{
    size_t i;
    if (n == 0) {
        fputs("-", stdout);
    }
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

static void cmd_decode(const char *name, const char *hex)
{
    hil_frame_rx_t rx;
    hil_frame_t f;
    size_t i, n = parse_hex(hex, data, sizeof data);
    hil_frame_rx_init(&rx);
    for (i = 0; i < n; i++) {
        int r = hil_frame_rx_byte(&rx, data[i], &f);
        if (r == HIL_RX_FRAME) {
            printf("F %s %u %u %u ", name, f.version, f.type, f.seq);
            print_hex(f.payload, f.len);
            putchar('\n');
        } else if (r != HIL_RX_MORE) {
            printf("X %s %d\n", name, r);
        }
    }
    printf("END %s\n", name);
}

int main(int argc, char **argv)
{
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    while (fgets(line, sizeof line, in)) {
        char cmd[4], name[128], a[32], b[32], c[32], d[32];
        static char hex[1 << 21];
        if (sscanf(line, "%3s %127s", cmd, name) != 2) {
            continue;
        }
        if (cmd[0] == 'D' && sscanf(line, "%*s %*s %s", hex) == 1) {
            cmd_decode(name, hex);
        } else if (cmd[0] == 'E' && sscanf(line, "%*s %*s %31s %31s %s", a, b, hex) == 3) {
            size_t n = parse_hex(hex, data, sizeof data);
            size_t w = hil_frame_encode((uint8_t)atoi(a), (uint16_t)atol(b), data, (uint16_t)n, wire, sizeof wire);
            printf("E %s ", name);
            if (w) {
                print_hex(wire, w);
            } else {
                fputs("FAIL", stdout);
            }
            putchar('\n');
        } else if (cmd[0] == 'R' && sscanf(line, "%*s %*s %31s %31s %31s %31s", a, b, c, d) == 4) {
            size_t w = hil_frame_encode_error((uint16_t)atol(a), (uint8_t)atoi(b), (uint8_t)atoi(c),
                                              (uint32_t)strtoul(d, NULL, 10), wire, sizeof wire);
            printf("R %s ", name);
            print_hex(wire, w);
            putchar('\n');
        } else if (cmd[0] == 'C' && sscanf(line, "%*s %*s %s", hex) == 1) {
            size_t n = parse_hex(hex, data, sizeof data);
            printf("C %s %u\n", name, hil_crc16(HIL_CRC16_INIT, data, n));
        } else {
            fprintf(stderr, "bad command: %s", line);
            return 2;
        }
    }
    return 0;
}
