/* Host test driver for the int8 engine (firmware_stm32/src/nn), built by
 * tests/test_c_kernels.py together with generated tables (hil_models.c).
 * Binary data on stdin/stdout; integers are host-endian int32.
 *
 *   nn_runner info
 *       text: "model <id> <name> <layers> <in_size> <out_size> <arena_need> <hash>"
 *       then "layer <id> <i> <op> <out_size> <macs> <name>", and "arena <hil_nn_arena_size>"
 *   nn_runner model <id> <n> <k>
 *       stdin: n inputs (in_size int8 each); stdout: per vector its output
 *       (out_size int8), followed for the first k vectors by every layer's
 *       tensor (hook copies, layer order)
 *   nn_runner until <id> <layer>
 *       stdin: one input; stdout: that layer's tensor (hil_model_run_until)
 *   nn_runner requant <n>
 *       stdin: n records of 9 int32 (a, b, e, acc, mult, shift, zp, act_min, act_max);
 *       stdout: per record 4 int32: srdhm(a, b), rdbpot(a, e), requantize(acc, mult,
 *       shift), requantize_s8(acc, mult, shift, zp, act_min, act_max)
 *   nn_runner kernel
 *       stdin: cases until EOF, each a header of KH_FIELDS int32 (see enum below)
 *       followed by its input (int8), weights (int8), bias (int32, if has_bias),
 *       multiplier and shift (int32, one per output channel) as the op needs;
 *       stdout: per case an int32 status, then the output tensor (int8) if 0.
 * Exit status 0, or 2 with a message on stderr for malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hil_models.h"
#include "nn/hil_conv2d_s8.h"
#include "nn/hil_depthwise_conv2d_s8.h"
#include "nn/hil_fully_connected_s8.h"
#include "nn/hil_pool2d_s8.h"
#include "nn/hil_requantize.h"
#include "nn/hil_tflm_ops_s8.h"
#include "hil_nn_opt.h" /* src/nn: the optimised kernels' requantization */

static void die(const char *msg)
{
    fprintf(stderr, "nn_runner: %s\n", msg);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1u);
    if (p == NULL) {
        die("out of memory");
    }
    return p;
}

static int read_exact(void *buf, size_t n)
{
    return fread(buf, 1u, n, stdin) == n;
}

static void need(void *buf, size_t n)
{
    if (!read_exact(buf, n)) {
        die("short input");
    }
}

static void put(const void *buf, size_t n)
{
    if (fwrite(buf, 1u, n, stdout) != n) {
        die("write failed");
    }
}

static const hil_model_t *model_arg(const char *s)
{
    const unsigned long id = strtoul(s, NULL, 10);
    if (id >= hil_model_count) {
        die("no such model id");
    }
    return hil_models[id];
}

static int cmd_info(void)
{
    for (uint32_t m = 0; m < hil_model_count; m++) {
        const hil_model_t *md = hil_models[m];
        printf("model %u %s %u %u %u %u %s\n", (unsigned)md->id, md->name, (unsigned)md->layer_count,
               (unsigned)md->in_size, (unsigned)md->out_size, (unsigned)hil_model_arena_need(md),
               md->qmodel_hash);
        for (uint32_t i = 0; i < md->layer_count; i++) {
            const hil_layer_t *l = &md->layers[i];
            printf("layer %u %u %d %u %u %s\n", (unsigned)m, (unsigned)i, (int)l->op,
                   (unsigned)l->out_size, (unsigned)l->macs, l->name);
        }
    }
    printf("arena %u\n", (unsigned)hil_nn_arena_size);
    return 0;
}

/* The per-layer hook: appends each layer's tensor to a buffer. */
typedef struct {
    int8_t *buf;
    size_t used;
    uint32_t calls;
} capture_t;

static void capture(void *ctx, uint32_t index, const hil_layer_t *layer, const int8_t *tensor)
{
    capture_t *c = (capture_t *)ctx;
    if (index != c->calls) {
        die("hook called out of order");
    }
    memcpy(c->buf + c->used, tensor, layer->out_size);
    c->used += layer->out_size;
    c->calls++;
}

static int cmd_model(const hil_model_t *md, long n, long k)
{
    size_t all_layers = 0;
    for (uint32_t i = 0; i < md->layer_count; i++) {
        all_layers += md->layers[i].out_size;
    }
    int8_t *in = xmalloc(md->in_size), *out = xmalloc(md->out_size);
    capture_t cap = {xmalloc(all_layers), 0u, 0u};
    for (long v = 0; v < n; v++) {
        need(in, md->in_size);
        cap.used = 0u;
        cap.calls = 0u;
        const int rc = hil_model_run(md, in, out, v < k ? capture : NULL, &cap);
        if (rc != HIL_NN_OK) {
            fprintf(stderr, "nn_runner: model %s vector %ld: hil_model_run returned %d\n", md->name, v, rc);
            return 1;
        }
        put(out, md->out_size);
        if (v < k) {
            if (cap.calls != md->layer_count || memcmp(cap.buf + cap.used - md->out_size, out, md->out_size)) {
                die("hook tensors disagree with the output");
            }
            put(cap.buf, cap.used);
        }
    }
    free(in);
    free(out);
    free(cap.buf);
    return 0;
}

static int cmd_until(const hil_model_t *md, unsigned long layer)
{
    if (layer >= md->layer_count) {
        return hil_model_run_until(md, NULL, (uint32_t)layer, NULL, NULL, NULL) == HIL_NN_ERR_LAYER ? 3 : 1;
    }
    int8_t *in = xmalloc(md->in_size), *out = xmalloc(md->layers[layer].out_size);
    need(in, md->in_size);
    const int rc = hil_model_run_until(md, in, (uint32_t)layer, out, NULL, NULL);
    if (rc != HIL_NN_OK) {
        fprintf(stderr, "nn_runner: hil_model_run_until returned %d\n", rc);
        return 1;
    }
    put(out, md->layers[layer].out_size);
    free(in);
    free(out);
    return 0;
}

static int cmd_requant(long n)
{
    for (long r = 0; r < n; r++) {
        int32_t f[9], o[5];
        need(f, sizeof f);
        o[0] = hil_srdhm(f[0], f[1]);
        o[1] = hil_rdbpot(f[0], f[2]);
        o[2] = hil_requantize(f[3], f[4], f[5]);
        o[3] = hil_requantize_s8(f[3], f[4], f[5], f[6], f[7], f[8]);
        hil_rq_t q; /* SMMULR path where it applies, the generic code elsewhere */
        hil_rq_init(&q, f[4], f[5], f[6], f[7], f[8]);
        o[4] = hil_rq(f[3], &q);
        put(o, sizeof o);
    }
    return 0;
}

/* kernel case header, int32 each */
enum {
    K_OP,        /* HIL_OP_* */
    K_VARIANT,   /* 0: the kernel the build selected, 1: _ref, 2: _opt (ops that have both) */
    K_C, K_H, K_W,          /* input dims */
    K_OC, K_OH, K_OW,       /* output dims (as the caller claims them) */
    K_KH, K_KW, K_SH, K_SW, K_PT, K_PB, K_PL, K_PR, /* padding top, bottom, left, right (pad: the pads) */
    K_IN_ZP, K_OUT_ZP, K_ACT_MIN, K_ACT_MAX,
    K_HAS_BIAS, K_GLOBAL,
    K_DIFF_MIN,  /* softmax; its input multiplier and left shift come as multiplier[0], shift[0] */
    KH_FIELDS
};

static int run_kernel_case(const int32_t *k, const int8_t *in, const int8_t *w, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, int8_t *out)
{
    const hil_dims_t in_dims = {(uint16_t)k[K_C], (uint16_t)k[K_H], (uint16_t)k[K_W]};
    const hil_dims_t out_dims = {(uint16_t)k[K_OC], (uint16_t)k[K_OH], (uint16_t)k[K_OW]};
    const hil_hw_t kernel = {(uint16_t)k[K_KH], (uint16_t)k[K_KW]};
    const hil_hw_t stride = {(uint16_t)k[K_SH], (uint16_t)k[K_SW]};
    const hil_pad_t padding = {(uint16_t)k[K_PT], (uint16_t)k[K_PB], (uint16_t)k[K_PL], (uint16_t)k[K_PR]};
    const hil_conv_params_t conv = {kernel, stride, padding, k[K_IN_ZP], k[K_OUT_ZP], k[K_ACT_MIN], k[K_ACT_MAX]};
    const hil_fc_params_t fc = {k[K_IN_ZP], k[K_OUT_ZP], k[K_ACT_MIN], k[K_ACT_MAX]};
    const hil_pool_params_t pool = {kernel, stride, (uint8_t)k[K_GLOBAL], padding};
    const hil_quant_params_t quant = {mult, shift};
    switch (k[K_OP]) {
    case HIL_OP_CONV2D:
        if (k[K_VARIANT] == 1) {
            return hil_conv2d_s8_ref(&conv, &quant, &in_dims, in, w, bias, &out_dims, out);
        }
        if (k[K_VARIANT] == 2) {
            return hil_conv2d_s8_opt(&conv, &quant, &in_dims, in, w, bias, &out_dims, out);
        }
        return hil_conv2d_wrapper_s8(&conv, &quant, &in_dims, in, w, bias, &out_dims, out);
    case HIL_OP_DEPTHWISE_CONV2D:
        if (k[K_VARIANT] == 1) {
            return hil_depthwise_conv2d_s8_ref(&conv, &quant, &in_dims, in, w, bias, &out_dims, out);
        }
        if (k[K_VARIANT] == 2) {
            return hil_depthwise_conv2d_s8_opt(&conv, &quant, &in_dims, in, w, bias, &out_dims, out);
        }
        return hil_depthwise_conv2d_s8(&conv, &quant, &in_dims, in, w, bias, &out_dims, out);
    case HIL_OP_FULLY_CONNECTED: {
        const uint32_t n = (uint32_t)(k[K_C] * k[K_H] * k[K_W]);
        if (k[K_VARIANT] == 1) {
            return hil_fully_connected_s8_ref(&fc, &quant, n, in, w, bias, (uint32_t)k[K_OC], out);
        }
        if (k[K_VARIANT] == 2) {
            return hil_fully_connected_s8_opt(&fc, &quant, n, in, w, bias, (uint32_t)k[K_OC], out);
        }
        return hil_fully_connected_s8(&fc, &quant, n, in, w, bias, (uint32_t)k[K_OC], out);
    }
    case HIL_OP_MAXPOOL2D:
        if (k[K_VARIANT] == 1) {
            return hil_maxpool2d_s8_ref(&pool, &in_dims, in, &out_dims, out);
        }
        if (k[K_VARIANT] == 2) {
            return hil_maxpool2d_s8_opt(&pool, &in_dims, in, &out_dims, out);
        }
        return hil_maxpool2d_s8(&pool, &in_dims, in, &out_dims, out);
    case HIL_OP_AVGPOOL2D:
        return hil_avgpool2d_s8(&pool, &in_dims, in, &out_dims, out);
    case HIL_OP_SOFTMAX:
        return hil_softmax_s8(&in_dims, mult[0], shift[0], k[K_DIFF_MIN], in, out);
    case HIL_OP_MEAN:
        return hil_mean_s8(&in_dims, k[K_IN_ZP], k[K_OUT_ZP], mult[0], shift[0], in, out);
    case HIL_OP_PAD:
        return hil_pad_s8(&in_dims, padding, k[K_OUT_ZP], in, &out_dims, out);
    default:
        return HIL_NN_ERR_OP;
    }
}

static int cmd_kernel(void)
{
    int32_t k[KH_FIELDS];
    while (read_exact(k, sizeof k)) {
        const size_t n_in = (size_t)k[K_C] * (size_t)k[K_H] * (size_t)k[K_W];
        const size_t n_out = (size_t)k[K_OC] * (size_t)k[K_OH] * (size_t)k[K_OW];
        size_t n_w = 0, n_ch = 0;
        switch (k[K_OP]) {
        case HIL_OP_CONV2D:
            n_w = (size_t)k[K_OC] * (size_t)k[K_C] * (size_t)(k[K_KH] * k[K_KW]);
            n_ch = (size_t)k[K_OC];
            break;
        case HIL_OP_DEPTHWISE_CONV2D:
            n_w = (size_t)k[K_OC] * (size_t)(k[K_KH] * k[K_KW]);
            n_ch = (size_t)k[K_OC];
            break;
        case HIL_OP_FULLY_CONNECTED:
            n_w = (size_t)k[K_OC] * n_in;
            n_ch = (size_t)k[K_OC];
            break;
        case HIL_OP_SOFTMAX:
        case HIL_OP_MEAN:
            n_ch = 1u;
            break;
        default:
            break;
        }
        /* exact-size heap blocks, so AddressSanitizer sees any access past a tensor */
        int8_t *in = xmalloc(n_in), *w = xmalloc(n_w), *out = xmalloc(n_out);
        int32_t *bias = k[K_HAS_BIAS] ? xmalloc(4u * n_ch) : NULL;
        int32_t *mult = xmalloc(4u * n_ch), *shift = xmalloc(4u * n_ch);
        need(in, n_in);
        need(w, n_w);
        if (bias != NULL) {
            need(bias, 4u * n_ch);
        }
        need(mult, 4u * n_ch);
        need(shift, 4u * n_ch);
        const int32_t rc = run_kernel_case(k, in, w, bias, mult, shift, out);
        put(&rc, sizeof rc);
        if (rc == HIL_NN_OK) {
            put(out, n_out);
        }
        free(in);
        free(w);
        free(out);
        free(bias);
        free(mult);
        free(shift);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "info") == 0) {
        return cmd_info();
    }
    if (argc == 5 && strcmp(argv[1], "model") == 0) {
        return cmd_model(model_arg(argv[2]), strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
    }
    if (argc == 4 && strcmp(argv[1], "until") == 0) {
        return cmd_until(model_arg(argv[2]), strtoul(argv[3], NULL, 10));
    }
    if (argc == 3 && strcmp(argv[1], "requant") == 0) {
        return cmd_requant(strtol(argv[2], NULL, 10));
    }
    if (argc == 2 && strcmp(argv[1], "kernel") == 0) {
        return cmd_kernel();
    }
    die("usage: nn_runner info | model <id> <n> <k> | until <id> <layer> | requant <n> | kernel");
    return 2;
}
