/* Test shim: cg_conv2d_cols_s8 on a fixed layer (input 1x5x6x2, filter 3x3x2 -> 3 channels, SAME padding,
 * dilation 2 across the columns) with a caller's stream, through ctypes; the output buffer is guarded. */
#include <string.h>

#include "cg_nn.h"

int32_t shim_cols_run(const int32_t *filter, int32_t misalign, int8_t *output)
{
    static const int8_t input[5 * 6 * 2] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
    static const int32_t bias[3] = {10, -20, 30};
    static const int32_t mult[3] = {1 << 30, 1 << 30, 1 << 30};
    static const int32_t shift[3] = {-1, -1, -1};
    int8_t scratch[2 * 20];
    cg_conv2d_s8_params p;
    memset(&p, 0, sizeof p);
    p.input.n = 1, p.input.h = 5, p.input.w = 6, p.input.c = 2;
    p.filter.n = 3, p.filter.h = 3, p.filter.w = 3, p.filter.c = 2;
    p.output.n = 1, p.output.h = 5, p.output.w = 6, p.output.c = 3;
    p.stride_h = p.stride_w = 1;
    p.dilation_h = 1, p.dilation_w = 2;
    p.pad_h = 1, p.pad_w = 2;
    p.input_offset = 0, p.output_offset = 0, p.act_min = -128, p.act_max = 127;
    p.multiplier = mult, p.shift = shift;
    return cg_conv2d_cols_s8(&p, input, (const int32_t *)(const void *)((const char *)filter + misalign), bias,
                             output, scratch);
}
