/* codegen runtime: int16_t MAXIMUM with broadcasting (TFLM: a > b ? a : b on the raw values). */
#include "cg_min_max_impl.h"

static int16_t pick(int16_t a, int16_t b)
{
    return a > b ? a : b;
}

cg_status cg_maximum_s16(const cg_broadcast_params *s, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    CG_MIN_MAX_BODY(int16_t);
}
