/* codegen runtime: float MINIMUM with broadcasting (TFLM: a < b ? a : b on the raw values). */
#include "cg_min_max_impl.h"

static float pick(float a, float b)
{
    return a < b ? a : b;
}

cg_status cg_minimum_f32(const cg_broadcast_params *s, const float *input1, const float *input2, float *output)
{
    CG_MIN_MAX_BODY(float);
}
