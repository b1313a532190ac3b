/* codegen runtime: int8 SVDF with int8 state and int8 time weights (the variant TFLM also accepts), as TFLM's
 * integer SVDF reference (cg_svdf_s8_impl.h). */
#include "cg_svdf_s8_impl.h"

CG_SVDF_S8_SHIFT_ROW(int8_t)

cg_status cg_svdf_state8_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                           const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output)
{
    CG_SVDF_S8_BODY(int8_t);
}
