/* codegen runtime: ARG_MAX / ARG_MIN of float values with int64_t indices (cg_arg_min_max_impl.h). */
#include "cg_arg_min_max_impl.h"

cg_status cg_arg_min_max_f32_s64(const cg_arg_min_max_params *p, const float *input, int64_t *output)
{
    CG_ARG_MIN_MAX_BODY(float, int64_t);
}
