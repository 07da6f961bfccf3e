/* hil_mlperf.h: the MLPerf Tiny (EEMBC) device-under-test text protocol, beside hil's binary
 * protocol on the same byte stream, in the same image.
 *
 * A target that links the device library routes its received bytes through
 * hil_mlperf_feed() instead of hil_device_feed(): binary frames reach the hil
 * dispatcher exactly as before, and `%`-terminated text commands (`name%`,
 * `profile%`, `db load N%`, `db HEX%`, `infer N W%`, `results%`, ...) are
 * answered here with `m-...` / `e-[...]` lines, each command closed by
 * `m-ready`. The rule that tells the two apart (docs/protocol.md, "Two
 * protocols on one port"): a text command is a chunk - the bytes since the
 * last 0x00 or the last text command - of at least one byte before `%`, made
 * only of printable ASCII (0x20-0x7E) and CR/LF. Every hil frame has a byte
 * below 0x20 (its version byte, 0x01) at index 0 or 1 of its chunk, and text
 * never contains 0x00, so neither can be taken for the other.
 *
 * The text side runs the model through the same backend (run() in
 * HIL_MODE_OUTPUTS), in the dispatcher's own input and output buffers, so it
 * costs no RAM beyond this struct (136 bytes on Cortex-M4; about 6 KB of
 * flash). m-lap-us- is the backend's counter converted at
 * identity().clock_hz: a clock that advances by each inference's count (on
 * the QEMU twin exact guest instructions at the nominal clock; on fpga-sim
 * modelled cycles).
 *
 *   static hil_mlperf_t mp;
 *   hil_mlperf_init(&mp, &dev, hil_mlperf_models, hil_mlperf_model_count, "kws_dscnn");
 *   for (;;) { uint8_t b = uart_getc(); hil_mlperf_feed(&mp, &b, 1); }
 */
#ifndef HIL_MLPERF_H
#define HIL_MLPERF_H

#include <stddef.h>
#include <stdint.h>

#include "hil_device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HIL_MLPERF_LINE_MAX 80u     /* characters of a command before its '%' */

/* What the text protocol needs beyond the hil model descriptor: the MLPerf task
 * (`m-model-[...]`) and how the output is dequantized for `m-results-`:
 * (float)(q - out_zp) * out_scale, printed as %.3f. `python -m hil.mlperf.gen_c`
 * writes this table from the qmodel artifacts. */
typedef struct {
    const char *name;               /* model registry name, matched against hil_dev_model_t.name */
    const char *task;               /* "kws01", "ic01", "vww01", "ad01" or "none" */
    float out_scale;
    int32_t out_zp;
} hil_mlperf_model_t;

/* State: treat as opaque. */
typedef struct hil_mlperf {
    hil_device_t *dev;
    const hil_mlperf_model_t *models;
    size_t model_count;
    int model_id;                   /* the model served in text mode, -1 none */
    uint16_t chunk_len;             /* bytes since the last 0x00 or text command (saturating) */
    uint8_t chunk_text;             /* every byte of the chunk so far is text */
    uint8_t overflow;               /* the command is longer than HIL_MLPERF_LINE_MAX */
    uint16_t line_len;
    char line[HIL_MLPERF_LINE_MAX + 1u];
    uint8_t loading;                /* a `db load N` was given */
    uint32_t expect;                /* N of that `db load` */
    uint32_t filled;                /* bytes loaded since */
    uint8_t have_results;           /* dev->buf.output holds the last text inference */
    uint64_t lap;                   /* counter units of every text inference since reset */
    void (*each_run)(void);         /* optional, set after init: called between the runs of `infer N W`
                                     * (outside the counted part), e.g. to kick a watchdog */
} hil_mlperf_t;

/* `serve`: name of the model answered in text mode (NULL or "": model 0). */
void hil_mlperf_init(hil_mlperf_t *mp, hil_device_t *dev, const hil_mlperf_model_t *models, size_t model_count,
                     const char *serve);

/* Bytes from the host, in order: text commands are answered here, everything else goes to hil_device_feed(). */
void hil_mlperf_feed(hil_mlperf_t *mp, const uint8_t *data, size_t len);

/* A new host connection: forget a half command and a half frame (hil_device_reset_link()). */
void hil_mlperf_reset_link(hil_mlperf_t *mp);

/* v as %.3f (correctly rounded, ties to even, "-" for a negative sign bit, as C's printf
 * and Python's '%.3f' print it) into out (>= 24 bytes); returns the length. */
size_t hil_mlperf_format_milli(char *out, float v);

#ifdef __cplusplus
}
#endif

#endif /* HIL_MLPERF_H */
