/* hil_conv2d_s8_opt.c: dense int8 convolution as a packed q15 GEMM (SMLAD).
 *
 * The input is rewritten tile by tile into columns of (x - input_zp) as int16
 * pairs in hil_nn_scratch: for a pointwise (1x1, stride 1, no padding) layer a
 * transpose of CHW, 4 pixels x 2 channels per pair of loads; for any other
 * shape an im2col with the padding (any of the four sides) as zeros. hil_gemm_tile_s8() then computes
 * 2 output channels x 2 pixels per step (one 8-word block of weights, two
 * 2-word blocks of columns, eight SMLADs for 16 MACs). Integer sums are exact,
 * so the result is the reference kernel's bit for bit; shapes whose smallest
 * tile does not fit the scratch buffer run the reference kernel. */
#include "nn/hil_conv2d_s8.h"

#include "hil_nn_opt.h"

/* Columns for pixels p0 .. p0+npix-1 of a 1x1 layer (CHW in, n pixels). */
static void pack_pointwise(const int8_t *in, int32_t n, int32_t cin, int32_t zp, int32_t p0,
                           int32_t npix, int32_t k4, int32_t *b)
{
    const int32_t neg_zp2 = hil_pack_lo(-zp, -zp);
    const int32_t groups = cin >> 2, col = 4 * k4; /* words per column pair */
    int32_t q = 0;
    for (; q + 4 <= npix; q += 4) {
        int32_t *w = b + (q >> 1) * col;
        const int8_t *x = in + p0 + q;
        for (int32_t g = 0; g < groups; g++, x += 4 * n, w += 4) {
            for (int32_t h = 0; h < 2; h++) { /* channels 4g + 2h, 4g + 2h + 1 */
                const int32_t va = hil_read_s8x4(x + 2 * h * n), vb = hil_read_s8x4(x + (2 * h + 1) * n);
                const int32_t a02 = hil_sxtab16(neg_zp2, va), a13 = hil_sxtab16_ror8(neg_zp2, va);
                const int32_t b02 = hil_sxtab16(neg_zp2, vb), b13 = hil_sxtab16_ror8(neg_zp2, vb);
                w[h] = hil_pack_lo(a02, b02);           /* pixel q */
                w[2 + h] = hil_pack_lo(a13, b13);       /* q + 1 */
                w[col + h] = hil_pack_hi(a02, b02);     /* q + 2 */
                w[col + 2 + h] = hil_pack_hi(a13, b13); /* q + 3 */
            }
        }
    }
    /* remaining channels of the pixels above, then the remaining pixels, then
     * the zero column of an odd tile */
    const int32_t npad = (npix + 1) & ~1;
    for (int32_t p = 0; p < npad; p++) {
        int32_t *w = b + (p >> 1) * col;
        for (int32_t i = p < q ? 4 * groups : 0; i < 4 * k4; i++) {
            const int32_t v = (p < npix && i < cin) ? (int32_t)in[i * n + p0 + p] - zp : 0;
            hil_put_q15(w, hil_pack_index(p & 1, i), v);
        }
    }
}

/* Columns for output pixels p0 .. p0+npix-1 (row-major over OH x OW): im2col.
 * Each column is first gathered as int8 into col (k4 words, padding = zp so
 * that it becomes 0), then widened 4 values per SXTAB16 pair. */
static void pack_im2col(const hil_conv_params_t *conv, const hil_dims_t *in_dims, const int8_t *in,
                        int32_t ow, int32_t p0, int32_t npix, int32_t k, int32_t k4, int32_t *b,
                        int8_t *col)
{
    const int32_t h = in_dims->h, w = in_dims->w, kh = conv->kernel.h, kw = conv->kernel.w;
    const int32_t zp = conv->input_zp, neg_zp2 = hil_pack_lo(-zp, -zp);
    const int32_t npad = (npix + 1) & ~1;
    for (int32_t i = k; i < 4 * k4; i++) {
        col[i] = (int8_t)zp; /* group padding: 0 after the zero point is taken off */
    }
    int32_t oy = p0 / ow, ox = p0 % ow;
    for (int32_t p = 0; p < npad; p++) {
        int32_t *dst = b + (p >> 1) * 4 * k4 + (p & 1) * 2;
        if (p >= npix) {
            for (int32_t g = 0; g < k4; g++, dst += 4) {
                dst[0] = 0;
                dst[1] = 0;
            }
            break;
        }
        const int32_t iy0 = oy * conv->stride.h - conv->padding.top;
        const int32_t ix0 = ox * conv->stride.w - conv->padding.left;
        const int32_t kx_lo = ix0 < 0 ? -ix0 : 0, kx_hi = w - ix0 < kw ? w - ix0 : kw;
        int8_t *c8 = col;
        for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
            for (int32_t ky = 0; ky < kh; ky++, c8 += kw) {
                const int32_t iy = iy0 + ky;
                if (iy < 0 || iy >= h) {
                    for (int32_t kx = 0; kx < kw; kx++) {
                        c8[kx] = (int8_t)zp;
                    }
                    continue;
                }
                const int8_t *x = in + (c * h + iy) * w + ix0;
                int32_t kx = 0;
                for (; kx < kx_lo; kx++) {
                    c8[kx] = (int8_t)zp;
                }
                for (; kx < kx_hi; kx++) {
                    c8[kx] = x[kx];
                }
                for (; kx < kw; kx++) {
                    c8[kx] = (int8_t)zp;
                }
            }
        }
        for (int32_t g = 0; g < k4; g++, dst += 4) {
            const int32_t v = hil_read_s8x4(col + 4 * g);
            const int32_t e = hil_sxtab16(neg_zp2, v), o = hil_sxtab16_ror8(neg_zp2, v);
            dst[0] = hil_pack_lo(e, o);
            dst[1] = hil_pack_hi(e, o);
        }
        if (++ox == ow) {
            ox = 0;
            oy++;
        }
    }
}

int hil_conv2d_s8_opt(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                      const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                      const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (!hil_nn_window_ok(in_dims, out_dims, conv->kernel, conv->stride, conv->padding) ||
        out_dims->c == 0u) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t k = (int32_t)in_dims->c * conv->kernel.h * conv->kernel.w;
    const int32_t k4 = (k + 3) >> 2;
    const int32_t words = (int32_t)(HIL_NN_SCRATCH_BYTES / 4u);
    /* A (2 rows), the int8 im2col column, then the column pairs of a tile */
    const int32_t pairs = (words - 5 * k4) / (4 * k4);
    if (pairs < 1) {
        return hil_conv2d_s8_ref(conv, quant, in_dims, in, weights, bias, out_dims, out);
    }
    const int32_t n = (int32_t)out_dims->h * out_dims->w;
    const int32_t tile = 2 * pairs;
    const int pointwise = hil_conv2d_1x1_s8_applies(conv);
    int32_t *a_buf = hil_nn_scratch;
    int8_t *col = (int8_t *)(void *)(hil_nn_scratch + 4 * k4);
    int32_t *b_buf = hil_nn_scratch + 5 * k4;
    for (int32_t p0 = 0; p0 < n; p0 += tile) {
        const int32_t npix = n - p0 < tile ? n - p0 : tile;
        if (pointwise) {
            pack_pointwise(in, n, in_dims->c, conv->input_zp, p0, npix, k4, b_buf);
        } else {
            pack_im2col(conv, in_dims, in, out_dims->w, p0, npix, k, k4, b_buf, col);
        }
        hil_gemm_tile_s8(weights, bias, quant, conv->output_zp, conv->act_min, conv->act_max,
                         out_dims->c, k, k4, b_buf, npix, a_buf, out + p0, n);
    }
    return HIL_NN_OK;
}
