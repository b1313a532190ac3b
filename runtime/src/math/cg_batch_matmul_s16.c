/* codegen runtime: 16x8 BATCH_MATMUL (int16 operands, zero points 0) with broadcast batch dimensions, TFLM's
 * reference arithmetic for int16: an int64 accumulator requantized with the multiplier reduced to Q15
 * (cg_requantize_s64), clamped to int16. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_batch_matmul_s16(const cg_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs,
                              int16_t *output)
{
    int32_t b0, b1, b2, i, j, k;
    for (b0 = 0; b0 < p->batches[0]; b0++) {
        for (b1 = 0; b1 < p->batches[1]; b1++) {
            for (b2 = 0; b2 < p->batches[2]; b2++) {
                const int16_t *a = lhs + b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1]
                                 + b2 * p->lhs_batch_stride[2];
                const int16_t *b = rhs + b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1]
                                 + b2 * p->rhs_batch_stride[2];
                for (i = 0; i < p->rows; i++) {
                    for (j = 0; j < p->cols; j++) {
                        int64_t total = 0;
                        int32_t v;
                        for (k = 0; k < p->depth; k++) {
                            const int32_t x = a[i * p->lhs_row_stride + k * p->lhs_depth_stride] + p->lhs_offset;
                            const int32_t y = b[k * p->rhs_depth_stride + j * p->rhs_col_stride] + p->rhs_offset;
                            total += (int64_t)x * y;
                        }
                        v = cg_requantize_s64(total, p->multiplier, p->shift) + p->output_offset;
                        *output++ = (int16_t)cg_clamp_i32(v, -32768, 32767);
                    }
                }
            }
        }
    }
    return CG_OK;
}
