/* hil_mlperf.c: the MLPerf Tiny text front end (see hil_mlperf.h, docs/mlperf-tiny.md). */
#include "hil_mlperf.h"

#include <string.h>

#ifndef HIL_MLPERF_MAX_COUNT
#define HIL_MLPERF_MAX_COUNT 1000000u   /* largest N and W of `infer N W` (the fuzz build lowers it) */
#endif
#define MAX_COUNT HIL_MLPERF_MAX_COUNT
#define DB_PRINT_PER_LINE 32u        /* bytes per `m-buffer-` line of `db print` */

/* ---- output ----------------------------------------------------------------- */

static void out(hil_mlperf_t *mp, const char *s)
{
    mp->dev->be->write(mp->dev->be->ctx, (const uint8_t *)s, strlen(s));
}

static size_t fmt_u64(char *buf, uint64_t v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    for (size_t i = 0; i < n; ++i)
        buf[i] = tmp[n - 1u - i];
    buf[n] = '\0';
    return n;
}

static void out_u64(hil_mlperf_t *mp, uint64_t v)
{
    char buf[21];
    fmt_u64(buf, v);
    out(mp, buf);
}

static void line_u64(hil_mlperf_t *mp, const char *prefix, uint64_t v)
{
    out(mp, prefix);
    out_u64(mp, v);
    out(mp, "\r\n");
}

static void error2(hil_mlperf_t *mp, const char *what, const char *detail)
{
    out(mp, "e-[");
    out(mp, what);
    out(mp, detail);
    out(mp, "]\r\n");
}

size_t hil_mlperf_format_milli(char *buf, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    const int neg = (int)(bits >> 31);
    const uint32_t e = (bits >> 23) & 0xFFu;
    uint32_t m = bits & 0x7FFFFFu;
    size_t n = 0;
    if (e == 0xFFu) {                             /* inf / nan, as printf prints them */
        const char *s = m != 0u ? "nan" : (neg ? "-inf" : "inf");
        strcpy(buf, s);
        return strlen(s);
    }
    int exp2 = e == 0u ? -149 : (int)e - 150;     /* v = m * 2^exp2 exactly */
    if (e != 0u)
        m |= 0x800000u;
    uint64_t p = (uint64_t)m * 1000u;             /* < 2^34: v * 1000 = p * 2^exp2 exactly */
    uint64_t q;
    if (exp2 >= 0) {
        if (exp2 > 29) {                          /* > 9e15: no dequantized output is near this */
            strcpy(buf, neg ? "-ovf" : "ovf");
            return strlen(buf);
        }
        q = p << exp2;
    } else if (-exp2 >= 40) {
        q = 0u;                                   /* below half of 0.001 */
    } else {
        const int k = -exp2;
        const uint64_t rem = p & ((1ull << k) - 1u), half = 1ull << (k - 1);
        q = p >> k;
        if (rem > half || (rem == half && (q & 1u)))
            q++;                                  /* round half to even, on the exact value */
    }
    if (neg)
        buf[n++] = '-';
    n += fmt_u64(buf + n, q / 1000u);
    buf[n++] = '.';
    const uint32_t frac = (uint32_t)(q % 1000u);
    buf[n++] = (char)('0' + frac / 100u);
    buf[n++] = (char)('0' + frac / 10u % 10u);
    buf[n++] = (char)('0' + frac % 10u);
    buf[n] = '\0';
    return n;
}

/* ---- the served model -------------------------------------------------------- */

static void identity(const hil_mlperf_t *mp, hil_dev_identity_t *id)
{
    memset(id, 0, sizeof *id);
    mp->dev->be->identity(mp->dev->be->ctx, id);
}

static int served(const hil_mlperf_t *mp, hil_dev_model_t *m)
{
    if (mp->model_id < 0)
        return 0;
    memset(m, 0, sizeof *m);
    return mp->dev->be->model(mp->dev->be->ctx, (uint8_t)mp->model_id, m) == 0u;
}

static const hil_mlperf_model_t *entry(const hil_mlperf_t *mp, const char *name)
{
    for (size_t i = 0; name != NULL && i < mp->model_count; ++i)
        if (mp->models[i].name != NULL && strcmp(mp->models[i].name, name) == 0)
            return &mp->models[i];
    return NULL;
}

static int emulated(uint8_t kind)
{
    return kind == HIL_COUNTER_ICOUNT || kind == HIL_COUNTER_SYSTICK_ICOUNT || kind == HIL_COUNTER_MODELLED;
}

/* ---- commands --------------------------------------------------------------- */

static void cmd_name(hil_mlperf_t *mp)
{
    hil_dev_identity_t id;
    identity(mp, &id);
    out(mp, "m-name-dut-[hil ");
    out(mp, id.board != NULL ? id.board : "?");
    out(mp, emulated(id.counter_kind) ? " (emulated)]\r\n" : "]\r\n");
}

static void cmd_profile(hil_mlperf_t *mp)
{
    hil_dev_identity_t id;
    hil_dev_model_t m;
    identity(mp, &id);
    const int have = served(mp, &m);
    const hil_mlperf_model_t *e = have ? entry(mp, m.name) : NULL;
    out(mp, "m-profile-[hil ");
    out(mp, id.fw_version != NULL ? id.fw_version : "?");
    out(mp, ", model ");
    out(mp, have && m.name != NULL ? m.name : "none");
    out(mp, ", lap-us: ");
    switch (id.counter_kind) {
    case HIL_COUNTER_ICOUNT: out(mp, "emulated, guest instructions"); break;
    case HIL_COUNTER_SYSTICK_ICOUNT: out(mp, "emulated, SysTick under icount"); break;
    case HIL_COUNTER_MODELLED: out(mp, "emulated, modelled HLS cycles"); break;
    case HIL_COUNTER_DWT: out(mp, "DWT cycles"); break;
    case HIL_COUNTER_SYSTICK: out(mp, "SysTick cycles"); break;
    default: out(mp, "no counter"); break;
    }
    out(mp, " at ");
    out_u64(mp, id.clock_hz);
    out(mp, " Hz]\r\nm-model-[");
    out(mp, e != NULL && e->task != NULL ? e->task : "none");
    out(mp, "]\r\n");
}

static void cmd_help(hil_mlperf_t *mp)
{
    out(mp, "m-[name: the DUT name]\r\n"
            "m-[profile: what this DUT is and its model task]\r\n"
            "m-[db load N: expect N input bytes; db HEX: append bytes; db print [N] [OFF]: show them]\r\n"
            "m-[infer N W: W warm-up runs, then N timed runs, then the results]\r\n"
            "m-[results: the last results; timestamp: the lap clock in us]\r\n");
}

/* A decimal number of at most 7 digits (<= MAX_COUNT); 0 if `s` is not one. */
static int parse_count(const char *s, uint32_t *v)
{
    uint32_t x = 0u;
    size_t n = 0;
    for (; s[n] != '\0'; ++n) {
        if (s[n] < '0' || s[n] > '9' || n >= 7u)
            return 0;
        x = x * 10u + (uint32_t)(s[n] - '0');
    }
    if (n == 0u || x > MAX_COUNT)
        return 0;
    *v = x;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The binary side's loaded input and results are gone once text writes the buffers. */
static void take_buffers(hil_mlperf_t *mp)
{
    mp->dev->input_model = -1;
    mp->dev->filled = 0u;
    mp->dev->result_model = -1;
}

static void cmd_db(hil_mlperf_t *mp, char **arg, int argc)
{
    char num[24];
    if (argc >= 1 && strcmp(arg[0], "load") == 0) {
        uint32_t n = 0u;
        if (argc != 2 || !parse_count(arg[1], &n) || n == 0u || n > mp->dev->buf.input_cap) {
            fmt_u64(num, mp->dev->buf.input_cap);
            error2(mp, "db load: N must be a number 1..", num);
            return;
        }
        take_buffers(mp);
        mp->loading = 1u;
        mp->expect = n;
        mp->filled = 0u;
        out(mp, "m-[Expecting ");
        out_u64(mp, n);
        out(mp, " bytes]\r\n");
        return;
    }
    if (argc >= 1 && strcmp(arg[0], "print") == 0) {
        uint32_t n = mp->filled, off = 0u;
        if (argc > 3 || (argc >= 2 && !parse_count(arg[1], &n)) || (argc == 3 && !parse_count(arg[2], &off))) {
            error2(mp, "db print: usage db print [N] [OFFSET]", "");
            return;
        }
        if ((uint64_t)off + n > mp->filled) {
            fmt_u64(num, mp->filled);
            error2(mp, "db print: past the loaded bytes: ", num);
            return;
        }
        static const char hex[] = "0123456789abcdef";
        for (uint32_t i = 0; i < n; i += DB_PRINT_PER_LINE) {
            char buf[2u * DB_PRINT_PER_LINE + 1u];
            uint32_t k = 0u;
            for (; k < DB_PRINT_PER_LINE && i + k < n; ++k) {
                uint8_t b = mp->dev->buf.input[off + i + k];
                buf[2u * k] = hex[b >> 4];
                buf[2u * k + 1u] = hex[b & 15u];
            }
            buf[2u * k] = '\0';
            out(mp, "m-buffer-[");
            out(mp, buf);
            out(mp, "]\r\n");
        }
        return;
    }
    /* db HEX: the bytes, all or nothing */
    size_t digits = 0;
    for (int a = 0; a < argc; ++a) {
        for (const char *c = arg[a]; *c != '\0'; ++c) {
            if (hexval(*c) < 0) {
                char bad[2] = {*c, '\0'};
                error2(mp, "db: not a hex digit: ", bad);
                return;
            }
        }
        digits += strlen(arg[a]);
    }
    if (argc == 0 || digits % 2u != 0u) {
        error2(mp, "db: give an even number of hex digits", "");
        return;
    }
    if (!mp->loading) {
        error2(mp, "db: no 'db load N' before the bytes", "");
        return;
    }
    if (mp->filled + digits / 2u > mp->expect) {
        fmt_u64(num, mp->expect);
        error2(mp, "db: too many bytes, db load expected ", num);
        return;
    }
    int hi = -1;
    for (int a = 0; a < argc; ++a)
        for (const char *c = arg[a]; *c != '\0'; ++c) {
            if (hi < 0) {
                hi = hexval(*c);
            } else {
                mp->dev->buf.input[mp->filled++] = (uint8_t)(hi << 4 | hexval(*c));
                hi = -1;
            }
        }
    if (mp->filled == mp->expect)
        out(mp, "m-load-done\r\n");
}

static void print_results(hil_mlperf_t *mp)
{
    hil_dev_model_t m;
    if (!mp->have_results || !served(mp, &m)) {
        error2(mp, "results: no inference since the last reset", "");
        return;
    }
    const hil_mlperf_model_t *e = entry(mp, m.name);
    const float scale = e != NULL ? e->out_scale : 1.0f;
    const int32_t zp = e != NULL ? e->out_zp : 0;
    const uint32_t width = m.out.dtype == HIL_DTYPE_INT32 ? 4u : 1u;
    const uint32_t n = m.out.bytes / width;
    out(mp, "m-results-[");
    for (uint32_t i = 0; i < n; ++i) {
        const uint8_t *p = mp->dev->buf.output + width * i;
        int32_t q = width == 4u ? (int32_t)hil_get_u32(p) : (int32_t)(int8_t)p[0];
        char buf[24];
        hil_mlperf_format_milli(buf, (float)(q - zp) * scale);
        if (i > 0u)
            out(mp, ",");
        out(mp, buf);
    }
    out(mp, "]\r\n");
}

static int run_n(hil_mlperf_t *mp, const hil_dev_model_t *m, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i) {
        uint64_t c = 0u;
        if (mp->each_run != NULL)
            mp->each_run();
        uint32_t e = mp->dev->be->run(mp->dev->be->ctx, (uint8_t)mp->model_id, HIL_MODE_OUTPUTS,
                                      mp->dev->buf.input, mp->dev->buf.output, NULL, NULL, &c);
        if (e != 0u) {
            char num[24];
            fmt_u64(num, e);
            error2(mp, "infer: the engine failed, detail ", num);
            mp->have_results = 0u;
            return 0;
        }
        mp->lap += c;
    }
    (void)m;
    return 1;
}

static uint64_t lap_us(const hil_mlperf_t *mp)
{
    hil_dev_identity_t id;
    identity(mp, &id);
    if (id.clock_hz == 0u)
        return 0u;
    /* whole microseconds of counter time; 128-bit-free: split to stay in 64 bits */
    const uint64_t s = mp->lap / id.clock_hz, r = mp->lap % id.clock_hz;
    return s * 1000000u + r * 1000000u / id.clock_hz;
}

static void cmd_infer(hil_mlperf_t *mp, char **arg, int argc)
{
    uint32_t n = 1u, w = 10u;
    hil_dev_model_t m;
    if (argc > 2 || (argc >= 1 && (!parse_count(arg[0], &n) || n == 0u)) || (argc == 2 && !parse_count(arg[1], &w))) {
        char num[24];
        fmt_u64(num, MAX_COUNT);
        error2(mp, "infer: usage infer N W, N >= 1, N and W at most ", num);
        return;
    }
    if (!served(mp, &m)) {
        error2(mp, "infer: this image serves no model in text mode", "");
        return;
    }
    if (!mp->loading || mp->filled != mp->expect || mp->expect != m.in.bytes) {
        char num[24];
        fmt_u64(num, m.in.bytes);
        error2(mp, mp->loading ? "infer: the input is not complete, the model takes bytes: "
                               : "infer: nothing loaded, db load the model's bytes: ", num);
        return;
    }
    if (m.out.bytes > mp->dev->buf.output_cap) {
        error2(mp, "infer: output buffer too small", "");
        return;
    }
    take_buffers(mp);
    line_u64(mp, "m-warmup-start-", w);
    if (!run_n(mp, &m, w))
        return;
    out(mp, "m-warmup-done\r\n");
    line_u64(mp, "m-infer-start-", n);
    line_u64(mp, "m-lap-us-", lap_us(mp));
    if (!run_n(mp, &m, n))
        return;
    line_u64(mp, "m-lap-us-", lap_us(mp));
    out(mp, "m-infer-done\r\n");
    mp->have_results = 1u;
    print_results(mp);
}

/* ---- dispatch --------------------------------------------------------------- */

static void command(hil_mlperf_t *mp)
{
    char *arg[HIL_MLPERF_LINE_MAX / 2u + 1u];
    int argc = 0;
    if (mp->overflow) {
        error2(mp, "Command too long: the buffer holds 80 characters", "");
        out(mp, "m-ready\r\n");
        return;
    }
    mp->line[mp->line_len] = '\0';
    char whole[HIL_MLPERF_LINE_MAX + 1u];     /* echoed in e-[...]: no brackets inside */
    memcpy(whole, mp->line, mp->line_len + 1u);
    for (char *c = whole; *c != '\0'; ++c)
        if (*c == '[' || *c == ']')
            *c = '?';
    for (char *p = mp->line; *p != '\0';) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            break;
        arg[argc++] = p;
        while (*p != '\0' && *p != ' ')
            ++p;
    }
    const char *cmd = argc > 0 ? arg[0] : "";
    if (strcmp(cmd, "name") == 0 && argc == 1)
        cmd_name(mp);
    else if (strcmp(cmd, "profile") == 0 && argc == 1)
        cmd_profile(mp);
    else if (strcmp(cmd, "help") == 0 && argc == 1)
        cmd_help(mp);
    else if (strcmp(cmd, "db") == 0)
        cmd_db(mp, arg + 1, argc - 1);
    else if (strcmp(cmd, "infer") == 0)
        cmd_infer(mp, arg + 1, argc - 1);
    else if (strcmp(cmd, "results") == 0 && argc == 1)
        print_results(mp);
    else if (strcmp(cmd, "timestamp") == 0 && argc == 1)
        line_u64(mp, "m-lap-us-", lap_us(mp));
    else
        error2(mp, "Unknown command: ", whole);
    out(mp, "m-ready\r\n");
}

static void new_chunk(hil_mlperf_t *mp)
{
    mp->chunk_len = 0u;
    mp->chunk_text = 1u;
    mp->overflow = 0u;
    mp->line_len = 0u;
}

void hil_mlperf_init(hil_mlperf_t *mp, hil_device_t *dev, const hil_mlperf_model_t *models, size_t model_count,
                     const char *serve)
{
    memset(mp, 0, sizeof *mp);
    mp->dev = dev;
    mp->models = models;
    mp->model_count = model_count;
    mp->model_id = -1;
    hil_dev_identity_t id;
    identity(mp, &id);
    for (uint8_t i = 0; i < id.model_count; ++i) {
        hil_dev_model_t m;
        memset(&m, 0, sizeof m);
        if (dev->be->model(dev->be->ctx, i, &m) != 0u)
            continue;
        if (serve == NULL || serve[0] == '\0' || (m.name != NULL && strcmp(m.name, serve) == 0)) {
            mp->model_id = i;
            break;
        }
    }
    new_chunk(mp);
}

void hil_mlperf_reset_link(hil_mlperf_t *mp)
{
    new_chunk(mp);
    hil_device_reset_link(mp->dev);
}

void hil_mlperf_feed(hil_mlperf_t *mp, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        const uint8_t b = data[i];
        if (b == '%' && mp->chunk_text && mp->chunk_len > 0u) {
            command(mp);
            new_chunk(mp);
            hil_device_reset_link(mp->dev);    /* the command's bytes were no frame */
            continue;
        }
        if (b == 0x00u) {
            if (mp->chunk_len > 0u && !mp->chunk_text) {   /* a binary frame ended: it may have loaded */
                mp->loading = 0u;
                mp->filled = 0u;
                mp->have_results = 0u;
            }
            new_chunk(mp);
        } else {
            if (b == '\r' || b == '\n') {
                /* line ends are allowed around commands and not stored */
            } else if (b >= 0x20u && b <= 0x7Eu) {
                if (mp->line_len < HIL_MLPERF_LINE_MAX)
                    mp->line[mp->line_len++] = (char)b;
                else
                    mp->overflow = 1u;
            } else {
                mp->chunk_text = 0u;
            }
            if (mp->chunk_len < UINT16_MAX)
                mp->chunk_len++;
        }
        hil_device_feed(mp->dev, &b, 1u);
    }
}
