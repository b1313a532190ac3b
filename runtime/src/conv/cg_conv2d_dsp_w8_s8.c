/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension, int8 weights in flash.
 *
 * Same arithmetic, im2col, pixel pairs and output stage as cg_conv2d_dsp_s8 (cg_conv2d_dsp.h), but the weights
 * stay int8 (half the flash, and a Huffman codec can store them: the codec is int8-only).  The generator packs
 * them so that one word holds steps k..k+3 of one channel: SXTB16 yields the pair (w[k], w[k+2]) and SXTB16
 * ROR #8 the pair (w[k+1], w[k+3]), exactly the operands the patch words (x[k], x[k+2]) and (x[k+1], x[k+3])
 * are multiplied with.  Cost: 8 SXTB16 and the weight words loaded twice per 32 multiply-accumulates (no
 * register is left to keep them). */
#define CG_CONV_DSP_W8_PASS
#include "cg_conv2d_dsp.h"

int32_t cg_conv2d_dsp_w8_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return cg_conv2d_dsp_scratch(p);
}

cg_status cg_conv2d_dsp_w8_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch)
{
    return cg_conv2d_dsp_run(p, input, filter, bias, output, scratch, mac_pass_w8);
}
