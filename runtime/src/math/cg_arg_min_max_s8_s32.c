/* codegen runtime: ARG_MAX / ARG_MIN of int8_t values with int32_t indices (cg_arg_min_max_impl.h). */
#include "cg_arg_min_max_impl.h"

cg_status cg_arg_min_max_s8_s32(const cg_arg_min_max_params *p, const int8_t *input, int32_t *output)
{
    CG_ARG_MIN_MAX_BODY(int8_t, int32_t);
}
