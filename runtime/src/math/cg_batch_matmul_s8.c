/* codegen runtime: int8_t BATCH_MATMUL with broadcast batch dimensions (TFLM reference arithmetic). */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_batch_matmul_s8(const cg_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    int32_t b0, b1, b2, i, j, k;
    for (b0 = 0; b0 < p->batches[0]; b0++) {
        for (b1 = 0; b1 < p->batches[1]; b1++) {
            for (b2 = 0; b2 < p->batches[2]; b2++) {
                const int8_t *a = lhs + b0 * p->lhs_batch_stride[0] + b1 * p->lhs_batch_stride[1]
                                + b2 * p->lhs_batch_stride[2];
                const int8_t *b = rhs + b0 * p->rhs_batch_stride[0] + b1 * p->rhs_batch_stride[1]
                                + b2 * p->rhs_batch_stride[2];
                for (i = 0; i < p->rows; i++) {
                    for (j = 0; j < p->cols; j++) {
                        int32_t total = 0;
                        for (k = 0; k < p->depth; k++) {
                            total += (a[i * p->lhs_row_stride + k * p->lhs_depth_stride] + p->lhs_offset) * (b[k * p->rhs_depth_stride + j * p->rhs_col_stride] + p->rhs_offset);
                        }
                        *output++ = (int8_t)cg_clamp_i32(cg_requantize(total, p->multiplier, p->shift) + p->output_offset, -128, 127);
                    }
                }
            }
        }
    }
    return CG_OK;
}
