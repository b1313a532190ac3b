/* codegen runtime: int8 element-wise function by table lookup (int8 RSQRT: TFLM's integer Newton-Raphson
 * evaluated for all 256 inputs at generation time). */
#include "cg_nn.h"

cg_status cg_lut_s8(const cg_lut_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        output[i] = p->table[(int32_t)input[i] + 128];
    }
    return CG_OK;
}
