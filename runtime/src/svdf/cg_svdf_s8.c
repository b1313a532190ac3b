/* codegen runtime: int8 SVDF with int16 state and int16 time weights (TFLite's quantization of SVDF), as TFLM's
 * integer SVDF reference (cg_svdf_s8_impl.h). */
#include "cg_svdf_s8_impl.h"

CG_SVDF_S8_SHIFT_ROW(int16_t)

cg_status cg_svdf_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                     const int16_t *weights_time, const int32_t *bias, int16_t *state, int8_t *output)
{
    CG_SVDF_S8_BODY(int16_t);
}
