/* fmt.c - see fmt.h. */
#include "fmt.h"

size_t fmt_u32_dec(char *buf, uint32_t v)
{
    char tmp[FMT_U32_DEC_LEN];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    for (size_t i = 0; i < n; ++i)
        buf[i] = tmp[n - 1u - i];
    buf[n] = '\0';
    return n;
}

size_t fmt_u32_hex(char *buf, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    buf[0] = '0';
    buf[1] = 'x';
    for (unsigned i = 0; i < 8u; ++i)
        buf[2u + i] = digits[(v >> (28u - 4u * i)) & 0xFu];
    buf[10] = '\0';
    return FMT_U32_HEX_LEN;
}
