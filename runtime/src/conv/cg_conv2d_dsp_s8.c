/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33), weights
 * widened to int16 by the generator (cg_nn.h): the inner loop only loads and multiplies.  Im2col, the pixel pairs
 * and the output stage are shared with cg_conv2d_dsp_w8_s8 (cg_conv2d_dsp.h). */
#define CG_CONV_DSP_S16_PASS
#include "cg_conv2d_dsp.h"

int32_t cg_conv2d_dsp_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return cg_conv2d_dsp_scratch(p);
}

cg_status cg_conv2d_dsp_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int16_t *filter,
                           const int32_t *bias, int8_t *output, int8_t *scratch)
{
    return cg_conv2d_dsp_run(p, input, filter, bias, output, scratch, mac_pass_s16);
}
