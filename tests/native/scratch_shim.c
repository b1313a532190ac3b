/* Test shim: the kernels' _get_scratch_size companions for given shapes, callable through ctypes. */
#include <string.h>

#include "cg_nn.h"

int32_t shim_conv_scratch(int32_t k_h, int32_t k_w, int32_t in_c)
{
    cg_conv2d_s8_params p;
    memset(&p, 0, sizeof p);
    p.filter.h = k_h;
    p.filter.w = k_w;
    p.filter.c = in_c;
    p.input.c = in_c;
    return cg_conv2d_s8_get_scratch_size(&p);
}

int32_t shim_fc_scratch(int32_t in_depth)
{
    cg_fully_connected_s8_params p;
    memset(&p, 0, sizeof p);
    p.in_depth = in_depth;
    return cg_fully_connected_s8_get_scratch_size(&p);
}

int32_t shim_add_scratch(int32_t size)
{
    cg_add_s8_params p;
    memset(&p, 0, sizeof p);
    p.shape.size = size;
    return cg_add_s8_get_scratch_size(&p);
}

int32_t shim_depthwise_scratch(int32_t channels)
{
    cg_depthwise_conv2d_s8_params p;
    memset(&p, 0, sizeof p);
    p.input.c = p.output.c = channels;
    return cg_depthwise_conv2d_s8_get_scratch_size(&p);
}

static cg_conv2d_s8_params conv_params(int32_t k_h, int32_t k_w, int32_t in_c, int32_t out_c)
{
    cg_conv2d_s8_params p;
    memset(&p, 0, sizeof p);
    p.filter.n = out_c;
    p.output.c = out_c;
    p.filter.h = k_h;
    p.filter.w = k_w;
    p.filter.c = in_c;
    p.input.c = in_c;
    return p;
}

int32_t shim_conv_dsp_scratch(int32_t k_h, int32_t k_w, int32_t in_c, int32_t out_c)
{
    cg_conv2d_s8_params p = conv_params(k_h, k_w, in_c, out_c);
    return cg_conv2d_dsp_s8_get_scratch_size(&p);
}

int32_t shim_conv_dsp_c1_scratch(int32_t k_h, int32_t k_w, int32_t in_c, int32_t out_c)
{
    cg_conv2d_s8_params p = conv_params(k_h, k_w, in_c, out_c);
    return cg_conv2d_dsp_c1_s8_get_scratch_size(&p);
}

int32_t shim_conv_dsp_cols_scratch(int32_t k_h, int32_t k_w, int32_t in_c, int32_t out_c)
{
    cg_conv2d_s8_params p = conv_params(k_h, k_w, in_c, out_c);
    return cg_conv2d_dsp_cols_s8_get_scratch_size(&p);
}

int32_t shim_conv_cols_scratch(int32_t k_h, int32_t k_w, int32_t in_c, int32_t out_c)
{
    cg_conv2d_s8_params p = conv_params(k_h, k_w, in_c, out_c);
    return cg_conv2d_cols_s8_get_scratch_size(&p);
}

int32_t shim_depthwise_dsp_scratch(int32_t in_w, int32_t k_h, int32_t k_w, int32_t channels, int32_t stride,
                                   int32_t dilation, int32_t pad, int32_t out_w)
{
    cg_depthwise_conv2d_s8_params p;
    memset(&p, 0, sizeof p);
    p.input.w = in_w;
    p.input.c = channels;
    p.filter.h = k_h;
    p.filter.w = k_w;
    p.output.c = channels;
    p.output.w = out_w;
    p.stride_w = stride;
    p.dilation_h = dilation;
    p.dilation_w = dilation;
    p.pad_w = pad;
    return cg_depthwise_conv2d_dsp_s8_get_scratch_size(&p);
}
