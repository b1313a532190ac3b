/* codegen runtime: int8 depthwise convolution (depth multiplier 1) for cores with the Armv7E-M DSP extension.
 *
 * Same results as cg_depthwise_conv2d_s8 (TFLite reference), bit for bit, with the generator doing what TFLite
 * does in Prepare and more (cg_nn.h gives the layout of `packed`):
 *
 * - Input rows are copied once into a ring of padded rows in the scratch buffer (padding columns and rows hold the
 *   input zero point, which contributes zero with the folded bias; channels are padded to a multiple of 4), so
 *   every output pixel reads a full window: no bounds checks, no tap table and no remainder reads, borders
 *   included.
 * - Four channels at a time: one word of input (channels c..c+3) is split with SXTB16 into the 16-bit pairs
 *   (c, c+2) and (c+1, c+3), and SMLABB / SMLATT multiply-accumulate them with the weights, stored widened to
 *   16 bits as those pairs.  Bias, weights and output parameters of a group of channels are one stream, read in
 *   order with LDM.
 * - The weights and bias of channel c are scaled by 2^(1 + left shift of c), so the accumulator A is TFLite's,
 *   shifted for its multiply and doubled: SMMLAR(A, m, h) is SaturatingRoundingDoublingHighMul plus
 *   h = 2^(e-1) + output_offset * 2^e, and an arithmetic shift by the right shift e finishes RoundingDivideByPOT.
 *   Its "-1 when negative" is A's sign (the high product has A's sign whenever it is not zero, and for zero
 *   both give the same result), added to h.  The generator checks that no step can overflow for any input.
 *   Per output: LDM, ADD, SMMLAR, ASR, SSAT, STRB.
 * - 3x3 filters with channels a multiple of 4 and the plain [-128, 127] clamp run one hand-scheduled Thumb-2 row
 *   loop (per tap and 4 channels: LDR, LDM, 2 SXTB16, 4 multiply-accumulates); everything else, and cores
 *   without Thumb-2, the C loop with the same arithmetic. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_DW_MAX_SPAN 64           /* rows of the ring: (filter height - 1) * dilation + 1 */
#define CG_DW_ZERO_POINTS INT32_MIN /* a ring slot that holds input zero points */
#define CG_DW_UNSET (INT32_MIN + 1)  /* a ring slot with only its padding columns set */

/* high word of acc * 2^32 + a * b + 2^31 (SMMLAR), modulo 2^64 like the instruction */
static inline int32_t dw_smmlar(int32_t a, int32_t b, int32_t acc)
{
#if CG_DSP_INSTRUCTIONS
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    const uint64_t sum = ((uint64_t)(uint32_t)acc << 32) + (uint64_t)((int64_t)a * b) + 0x80000000u;
    return (int32_t)(uint32_t)(sum >> 32);
#endif
}

/* Output stage of one channel: a is the scaled accumulator, q its (multiplier, h, e).  `general`: the layer has
 * a right shift of 0 (no rounding step) or a clamp narrower than int8. */
static inline int8_t dw_out(int32_t a, const int32_t *q, int general, int32_t lo, int32_t hi)
{
    const int32_t m = q[0], h = q[1], e = q[2];
#if CG_SINGLE_ROUNDING
    /* TFLite's single rounding: (acc * m + 2^(30 - shift)) >> (31 - shift), with a = acc * 2^(1 + left shift) */
    const int32_t v = (int32_t)(((int64_t)a * m + ((int64_t)1 << (31 + e))) >> (32 + e));
    (void)general;
    return (int8_t)cg_clamp_i32(v + (h >> e), lo, hi);
#else
    if (!general) {
        return (int8_t)cg_clamp_i32(dw_smmlar(a, m, h + (a >> 31)) >> e, -128, 127);
    }
    return (int8_t)cg_clamp_i32(dw_smmlar(a, m, h + (e > 0 ? (a >> 31) : 0)) >> e, lo, hi);
#endif
}

/* four channels of one tap: the input word at `ptr` times the next two weight words of the stream */
#define CG_DW_TAP(ptr)                                                                                       \
    do {                                                                                                     \
        const uint32_t x_ = cg_read_s8x4(ptr);                                                               \
        const uint32_t xl_ = cg_sxtb16(x_), xh_ = cg_sxtb16_ror8(x_);                                        \
        const uint32_t wl_ = (uint32_t)w[0], wh_ = (uint32_t)w[1];                                           \
        a0 = cg_smlabb(xl_, wl_, a0);                                                                        \
        a2 = cg_smlatt(xl_, wl_, a2);                                                                        \
        a1 = cg_smlabb(xh_, wh_, a1);                                                                        \
        a3 = cg_smlatt(xh_, wh_, a3);                                                                        \
        w += 2;                                                                                              \
    } while (0)

/* one output row: the windows' filter rows in the ring, and where to write */
typedef struct {
    const int8_t *q0, *q1, *q2; /* the first three filter rows (the asm loop reads these fields by offset) */
    int32_t dx;                 /* bytes between the taps of a filter row: dilation_w * Cp */
    const int32_t *stream;      /* cg_nn.h: bias, weights, (m, h, e) per group of 4 channels */
    int8_t *out;
    int32_t group_bytes; /* 4 * (channels / 4): bytes of input the full groups of 4 channels step over */
    int32_t xstep;       /* bytes between output pixels: stride_w * Cp */
    int32_t count;       /* output pixels */
    int32_t xdelta;      /* xstep - Cp: from after a pixel's groups to the next pixel */
    int32_t tail;        /* channels % 4 */
} dw_row;

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* One output row of a 3x3 filter (r->count >= 1 pixels), at least 4 channels, e >= 1 and the [-128, 127] clamp
 * everywhere; a last group of 1..3 channels stores only those.  r0..r2 walk the three filter rows (taps
 * kx = 1, 2, then 0 with post-increment), r3 = dx, r4 the stream, r5..r8 the sums of channels c..c+3, lr the
 * output; 8 instructions per tap and 4 channels, 6 per output, 3 per group and 13 per pixel besides.  Leaves
 * r->out after the row and r->count at 0. */
#define CG_DW_ASM_TAP(addr)                                                                                  \
    "ldr     r9, " addr "\n"                                                                                 \
    "ldm     r4!, {r11, r12}\n"                                                                              \
    "sxtb16  r10, r9\n"                                                                                      \
    "sxtb16  r9, r9, ror #8\n"                                                                               \
    "smlabb  r5, r10, r11, r5\n"                                                                             \
    "smlatt  r7, r10, r11, r7\n"                                                                             \
    "smlabb  r6, r9, r12, r6\n"                                                                              \
    "smlatt  r8, r9, r12, r8\n"
#define CG_DW_ASM_ROW(q)                                                                                     \
    CG_DW_ASM_TAP("[" q ", r3]") CG_DW_ASM_TAP("[" q ", r3, lsl #1]") CG_DW_ASM_TAP("[" q "], #4")
#define CG_DW_ASM_REQUANT(a)                                                                                 \
    "ldm     r4!, {r9, r10, r11}\n"                                                                          \
    "add     r10, r10, " a ", asr #31\n"                                                                     \
    "smmlar  " a ", " a ", r9, r10\n"                                                                        \
    "asr     " a ", " a ", r11\n"                                                                            \
    "ssat    " a ", #8, " a "\n"
#define CG_DW_ASM_OUT(a) CG_DW_ASM_REQUANT(a) "strb    " a ", [lr], #1\n"
#define CG_DW_ASM_GROUP                                                                                      \
    "ldm     r4!, {r5, r6, r7, r8}\n" CG_DW_ASM_ROW("r0") CG_DW_ASM_ROW("r1") CG_DW_ASM_ROW("r2")

__attribute__((naked, noinline)) static void dw_row_3x3_fast(dw_row *r __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r11, lr}\n"
        "sub     sp, sp, #24\n" /* [sp]: stream end of the full groups, [sp + 4]: r, then tail, pixels left, */
        "str     r0, [sp, #4]\n" /* xdelta, stream */
        "mov     r12, r0\n"
        "ldr     r9, [r12, #40]\n"
        "str     r9, [sp, #8]\n"
        "ldr     r9, [r12, #32]\n"
        "str     r9, [sp, #12]\n"
        "ldr     r9, [r12, #36]\n"
        "str     r9, [sp, #16]\n"
        "ldr     r10, [r12, #24]\n" /* 4 * full groups; a group is 34 words of stream */
        "add     r10, r10, r10, lsl #4\n"
        "ldm     r12, {r0, r1, r2, r3, r4, lr}\n"
        "str     r4, [sp, #20]\n"
        "add     r10, r4, r10, lsl #1\n"
        "str     r10, [sp]\n"
        "2:\n" /* group of 4 channels */
        CG_DW_ASM_GROUP
        CG_DW_ASM_OUT("r5") CG_DW_ASM_OUT("r6") CG_DW_ASM_OUT("r7") CG_DW_ASM_OUT("r8")
        "ldr     r9, [sp]\n"
        "cmp     r4, r9\n"
        "bne     2b\n"
        "ldr     r9, [sp, #8]\n"
        "cmp     r9, #0\n"
        "beq     4f\n"
        CG_DW_ASM_GROUP /* the last 1..3 channels: all 4 computed (zero padding), the valid ones stored */
        CG_DW_ASM_REQUANT("r5") CG_DW_ASM_REQUANT("r6") CG_DW_ASM_REQUANT("r7")
        "ldr     r9, [sp, #8]\n"
        "strb    r5, [lr], #1\n"
        "cmp     r9, #2\n"
        "blt     4f\n"
        "strb    r6, [lr], #1\n"
        "cmp     r9, #3\n"
        "blt     4f\n"
        "strb    r7, [lr], #1\n"
        "4:\n" /* next pixel */
        "ldr     r9, [sp, #12]\n"
        "subs    r9, r9, #1\n"
        "beq     3f\n"
        "str     r9, [sp, #12]\n"
        "ldr     r10, [sp, #16]\n"
        "add     r0, r0, r10\n"
        "add     r1, r1, r10\n"
        "add     r2, r2, r10\n"
        "ldr     r4, [sp, #20]\n"
        "b       2b\n"
        "3:\n"
        "ldr     r12, [sp, #4]\n"
        "str     r9, [r12, #32]\n"
        "str     lr, [r12, #20]\n"
        "add     sp, sp, #24\n"
        "pop     {r4-r11, pc}\n");
}
#define CG_DW_HAVE_ASM 1
#else
#define CG_DW_HAVE_ASM 0
#endif

/* One output row, any filter: per filter row the taps kx = 1 .. k_w - 1, then kx = 0 (the stream's order) */
static void dw_row_c(dw_row *r, const int8_t *const *rows, int32_t k_h, int32_t k_w, int32_t ch, int general,
                     int32_t lo, int32_t hi)
{
    const int32_t dx = r->dx, xstep = r->xstep;
    int8_t *out = r->out;
    int32_t ox, c, ky, kx;
    for (ox = 0; ox < r->count; ox++) {
        const int32_t *s = r->stream;
        for (c = 0; c < ch; c += 4) {
            int32_t a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3];
            const int32_t *w = s + 4;
            const int32_t n = ch - c < 4 ? ch - c : 4;
            for (ky = 0; ky < k_h; ky++) {
                const int8_t *q = rows[ky] + ox * xstep + c;
                for (kx = 1; kx < k_w; kx++) {
                    CG_DW_TAP(q + kx * dx);
                }
                CG_DW_TAP(q);
            }
            s = w;
            out[0] = dw_out(a0, s, general, lo, hi);
            if (n > 1) {
                out[1] = dw_out(a1, s + 3, general, lo, hi);
            }
            if (n > 2) {
                out[2] = dw_out(a2, s + 6, general, lo, hi);
            }
            if (n > 3) {
                out[3] = dw_out(a3, s + 9, general, lo, hi);
            }
            out += n;
            s += 12;
        }
    }
    r->out = out;
}

/* columns of a padded ring row: everything the windows read, at least the input row after the left padding */
static int32_t dw_padded_width(const cg_depthwise_conv2d_s8_params *p)
{
    const int32_t read = (p->output.w - 1) * p->stride_w + (p->filter.w - 1) * p->dilation_w + 1;
    const int32_t row = p->pad_w + p->input.w;
    return read > row ? read : row;
}

int32_t cg_depthwise_conv2d_dsp_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p)
{
    const int32_t span = (p->filter.h - 1) * p->dilation_h + 1;
    return span * dw_padded_width(p) * ((p->output.c + 3) & ~3);
}

static void dw_fill(int8_t *dst, int32_t n, int8_t v)
{
    const uint32_t v4 = 0x01010101u * (uint8_t)v;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        cg_write_s8x4(dst + i, v4);
    }
    for (; i < n; i++) {
        dst[i] = v;
    }
}

/* n bytes, n a multiple of 4: four words per step when both are aligned, else a word at a time (unaligned
 * LDR/STR are fine on Armv7-M; cg_read_s8x4 is portable C) */
static void dw_copy_words(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    if ((((uintptr_t)dst | (uintptr_t)src) & 3u) == 0) {
        uint32_t *d = (uint32_t *)(void *)dst;
        const uint32_t *s = (const uint32_t *)(const void *)src;
        for (; i + 16 <= n; i += 16) {
#if CG_DW_HAVE_ASM
            __asm__ volatile("ldm %1!, {r4, r5, r6, r7}\n"
                             "stm %0!, {r4, r5, r6, r7}\n"
                             : "+r"(d), "+r"(s)
                             :
                             : "r4", "r5", "r6", "r7", "memory");
#else
            const uint32_t v0 = s[0], v1 = s[1], v2 = s[2], v3 = s[3];
            d[0] = v0;
            d[1] = v1;
            d[2] = v2;
            d[3] = v3;
            d += 4;
            s += 4;
#endif
        }
    }
    for (; i < n; i += 4) {
        cg_write_s8x4(dst + i, cg_read_s8x4(src + i));
    }
}

/* input row iy (or zero points) into the interior columns of a ring row */
static void dw_load_row(const cg_depthwise_conv2d_s8_params *p, const int8_t *in_b, int32_t iy, int8_t *inner,
                        int32_t ch4)
{
    const int32_t in_w = p->input.w, ch = p->input.c;
    const int8_t *src;
    int32_t x, j;
    if (iy == CG_DW_ZERO_POINTS) {
        dw_fill(inner, in_w * ch4, (int8_t)(-p->input_offset));
        return;
    }
    src = in_b + iy * in_w * ch;
    if (ch == ch4) {
        dw_copy_words(inner, src, in_w * ch);
    } else {
        /* the padding channels keep whatever the arena held: their weights are 0 */
        for (x = 0; x < in_w; x++) {
            const int8_t *s = src + x * ch;
            int8_t *d = inner + x * ch4;
            for (j = 0; j + 4 <= ch; j += 4) {
                cg_write_s8x4(d + j, cg_read_s8x4(s + j));
            }
            for (; j < ch; j++) {
                d[j] = s[j];
            }
        }
    }
}

cg_status cg_depthwise_conv2d_dsp_s8(const cg_depthwise_conv2d_s8_params *p, const int8_t *input,
                                     const int32_t *packed, int8_t *output, int8_t *scratch)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w, taps = k_h * k_w;
    const int32_t out_h = p->output.h, out_w = p->output.w;
    const int32_t ch4 = (ch + 3) & ~3;
    const int32_t span = (k_h - 1) * p->dilation_h + 1;
    const int32_t row_bytes = dw_padded_width(p) * ch4;
    const int8_t *rows[CG_DW_MAX_SPAN];
    int32_t slot_row[CG_DW_MAX_SPAN];
    int32_t b, oy, ky, s, c, general;
    dw_row r;
    if (p->depth_multiplier != 1 || p->output.c != ch || p->filter.c != ch || packed == 0 || k_h < 1 || k_w < 1 ||
        span > CG_DW_MAX_SPAN || ((uintptr_t)packed & 3u) != 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    general = p->act_min != -128 || p->act_max != 127;
    for (c = 0; c < ch4; c += 4) {
        const int32_t *e = packed + (c >> 2) * (16 + 2 * taps) + 4 + 2 * taps + 2;
        general = general || e[0] <= 0 || e[3] <= 0 || e[6] <= 0 || e[9] <= 0;
    }
    r.dx = p->dilation_w * ch4;
    r.stream = packed;
    r.group_bytes = ch & ~3;
    r.tail = ch & 3;
    r.xstep = p->stride_w * ch4;
    r.xdelta = r.xstep - ch4;
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        for (s = 0; s < span; s++) { /* the padding columns; a slot's interior is written when it gets a row */
            int8_t *slot = scratch + s * row_bytes;
            dw_fill(slot, p->pad_w * ch4, (int8_t)(-p->input_offset));
            dw_fill(slot + (p->pad_w + in_w) * ch4, row_bytes - (p->pad_w + in_w) * ch4, (int8_t)(-p->input_offset));
            slot_row[s] = CG_DW_UNSET;
        }
        r.out = output + b * out_h * out_w * ch;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t first = ((y0 % span) + span) % span; /* ring slot of input row y0 */
            for (ky = 0; ky < k_h; ky++) {
                const int32_t iy = y0 + ky * p->dilation_h;
                const int32_t slot = first + ky * p->dilation_h < span ? first + ky * p->dilation_h
                                                                       : first + ky * p->dilation_h - span;
                const int32_t want = iy >= 0 && iy < in_h ? iy : CG_DW_ZERO_POINTS;
                int8_t *dst = scratch + slot * row_bytes;
                if (slot_row[slot] != want) {
                    dw_load_row(p, in_b, want, dst + p->pad_w * ch4, ch4);
                    slot_row[slot] = want;
                }
                rows[ky] = dst;
            }
            r.q0 = rows[0];
            r.q1 = k_h > 1 ? rows[1] : rows[0];
            r.q2 = k_h > 2 ? rows[2] : rows[0];
            r.count = out_w;
#if CG_DW_HAVE_ASM
            if (k_h == 3 && k_w == 3 && ch >= 4 && out_w > 0 && !general) {
                dw_row_3x3_fast(&r); /* advances r.out */
                continue;
            }
#endif
            dw_row_c(&r, rows, k_h, k_w, ch, general, p->act_min, p->act_max);
        }
    }
    return CG_OK;
}
