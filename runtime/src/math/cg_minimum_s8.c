/* codegen runtime: int8_t MINIMUM with broadcasting (TFLM: a < b ? a : b on the raw values). */
#include "cg_min_max_impl.h"

static int8_t pick(int8_t a, int8_t b)
{
    return a < b ? a : b;
}

cg_status cg_minimum_s8(const cg_broadcast_params *s, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    CG_MIN_MAX_BODY(int8_t);
}
