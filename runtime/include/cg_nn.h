/* codegen runtime: public kernel API.
 *
 * Naming: cg_<op>[_<variant>]_<s8|f32>.  Every kernel takes a parameter struct that the code generator
 * fills at generation time (TFLite "Prepare" work: multipliers, shifts, clamps, padding) and plain data
 * pointers.  Kernels that need scratch memory have a cg_<op>_<dtype>_get_scratch_size() companion.
 * No kernel allocates memory.
 *
 * int8 conventions (TFLite quantization): input_offset = -input_zero_point, output_offset =
 * output_zero_point, per-channel Q31 multipliers with signed shifts (positive = left), activation
 * clamps already folded into act_min / act_max. */
#ifndef CG_NN_H
#define CG_NN_H

#include <stdint.h>

#include "cg_status.h"
#include "cg_types.h"

/* ----------------------------------------------------------------------------------------- conv */

typedef struct {
    cg_dims input;   /* NHWC */
    cg_dims filter;  /* n = output channels, h, w, c = input channels (OHWI) */
    cg_dims output;  /* NHWC */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;        /* padding before the first row / column */
    int32_t input_offset;        /* -input zero point */
    int32_t output_offset;       /* output zero point */
    int32_t act_min, act_max;
    const int32_t *multiplier;   /* [output channels] */
    const int32_t *shift;        /* [output channels] */
    /* the DSP convolutions only, optional (NULL: multiplier and shift): per output channel c four words
     * (m, add, r, neg) such that the output is ((v + ((v >> 31) & neg) + add) >> r) with v = (acc * m + 2^30) >> 31:
     * r = -shift[c], add = 2^(r-1) + (output_offset << r), neg = -1, m = multiplier[c] (r = 0: add =
     * output_offset, neg = 0; a channel whose output is a constant: m = 0, add = that output, r = 0, neg = -1).
     * The generator sets it only where every accumulator stays below 2^30 in magnitude and no shift is positive. */
    const int32_t *out_stage;
} cg_conv2d_s8_params;

/* `bias` is the folded bias: bias[c] + input_offset * sum(filter[c]) (computed by the generator);
 * padded input positions are read as the input zero point, which contributes exactly zero.  `filter` is
 * stored by the generator in groups of 4 output channels, per k = (ky, kx, ic) the group's 4 weights; the
 * out_c % 4 channels left over follow row by row (same size as OHWI).  `scratch`
 * (cg_conv2d_s8_get_scratch_size bytes) holds the int8 patches of two pixels, in alternating blocks of 4. */
cg_status cg_conv2d_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_s8_get_scratch_size(const cg_conv2d_s8_params *p);
/* Portable variant for weights with all-zero im2col columns (the same steps (ky, kx, c) zero in every output
 * channel, e.g. layer-wide 2:4): cg_conv2d_s8's loop on the D kept columns only.  `filter` is the generator's
 * stream (D, the kept columns' input offsets and reaches, then the compact weights in cg_conv2d_s8's order;
 * runtime/src/conv/cg_conv2d_cols_s8.c).  Scratch: cg_conv2d_cols_s8_get_scratch_size bytes (cg_conv2d_s8's). */
cg_status cg_conv2d_cols_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                            const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_cols_s8_get_scratch_size(const cg_conv2d_s8_params *p);

/* 16x8: int16 activations (zero point 0, offsets unused), int8 filter, optional int64 bias (TFLM reference). */
cg_status cg_conv2d_s16(const cg_conv2d_s8_params *p, const int16_t *input, const int8_t *filter,
                        const int64_t *bias, int16_t *output);

/* Variant for cores with the DSP extension (cg_dsp.h; plain C elsewhere), same parameters.  `filter` is
 * widened to 16 bits and packed by the generator: K = filter.h kernel rows of filter.w * filter.c steps, each
 * row zero-padded to a multiple of 4 steps, output channels in groups of 4 (zero rows pad the last group); per
 * group and per 4 steps k..k+3 the pairs (w[k], w[k+2]) of channels 0..3, then the pairs (w[k+1], w[k+3]) of
 * channels 0..3.  `bias` is padded with zeros to a multiple of 4 channels.  `filter` and `scratch`
 * (cg_conv2d_dsp_s8_get_scratch_size bytes: two 16-bit patches and the sums of two pixels) are 4-byte aligned. */
cg_status cg_conv2d_dsp_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int16_t *filter,
                           const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_dsp_s8_get_scratch_size(const cg_conv2d_s8_params *p);

/* Variant of cg_conv2d_dsp_s8 for few input channels (first layers): the filter.w * input.c values of a kernel
 * row are not padded row by row; per row its first 4a values (a whole words), then the r values left of all rows
 * together, zero-padded to a multiple of 4 steps (runtime/src/conv/cg_conv2d_dsp_c1_s8.c); cg_conv2d_dsp_s8's
 * 16-bit layout otherwise.  filter.w * input.c at most 64.  Scratch: cg_conv2d_dsp_c1_s8_get_scratch_size bytes. */
cg_status cg_conv2d_dsp_c1_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int16_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_dsp_c1_s8_get_scratch_size(const cg_conv2d_s8_params *p);

/* Variant of cg_conv2d_dsp_s8 with int8 weights (half the flash; what a weight codec compresses): same
 * padding and channel groups, but per group and per 4 steps k..k+3 one word per channel holding w[k..k+3]
 * (SXTB16 and SXTB16 ROR #8 give the pairs (w[k], w[k+2]) and (w[k+1], w[k+3])).  Same scratch. */
cg_status cg_conv2d_dsp_w8_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_dsp_w8_s8_get_scratch_size(const cg_conv2d_s8_params *p);

/* Variant of cg_conv2d_dsp_s8 for "tile-wise 2:4" sparse weights (at most two non-zero positions per 4 steps,
 * shared by each block of 4 output channels): only the kept weights are stored and multiplied.  `filter` is
 * the generator's stream (flags, then per block of 4 channels its entries: activation offsets and int16 weight
 * pairs; runtime/src/conv/cg_conv2d_dsp_24_s8.c).  Scratch: cg_conv2d_dsp_24_s8_get_scratch_size bytes. */
cg_status cg_conv2d_dsp_24_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_dsp_24_s8_get_scratch_size(const cg_conv2d_s8_params *p);
/* The same without the patch extension (the dense kernel's scratch): entries sorted into runs by pattern
 * (runtime/src/conv/cg_conv2d_dsp_24r_s8.c). */
cg_status cg_conv2d_dsp_24r_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                               const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_dsp_24r_s8_get_scratch_size(const cg_conv2d_s8_params *p);
/* Variant of cg_conv2d_dsp_s8 for weights with all-zero im2col columns (the same steps (ky, kx, c) zero in every
 * output channel, e.g. layer-wide 2:4): only the D kept columns are gathered and multiplied.  `filter` is the
 * generator's stream (D, flags, the kept columns' input offsets, then the compact weights in cg_conv2d_dsp_s8's
 * 16-bit or cg_conv2d_dsp_w8_s8's int8 order; runtime/src/conv/cg_conv2d_dsp_cols_s8.c).  Scratch:
 * cg_conv2d_dsp_cols_s8_get_scratch_size bytes (at most cg_conv2d_dsp_s8's). */
cg_status cg_conv2d_dsp_cols_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                                const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_conv2d_dsp_cols_s8_get_scratch_size(const cg_conv2d_s8_params *p);

/* Variant of cg_conv2d_dsp_s8 whose weights stay compressed (issue #16): cg_conv2d_dsp_s8's 16-bit layout stored
 * sparse per group of 4 output channels (a bitmap of the group's weights, least significant bit first, then its
 * non-zero weights as int8), `blob_len` bytes.  Per block of `block_groups` groups the kernel expands the weights
 * into `scratch` and computes those channels of every pixel (not in place unless one block holds all groups).
 * `scratch`: cg_conv2d_dsp_sparse_s8_get_scratch_size bytes, 4-byte aligned.  CG_ERR_CORRUPT if the blob does not
 * hold exactly the layer's weights (never a read outside it). */
cg_status cg_conv2d_dsp_sparse_s8(const cg_conv2d_s8_params *p, const int8_t *input, const uint8_t *blob,
                                  uint32_t blob_len, const int32_t *bias, int8_t *output, int8_t *scratch,
                                  int32_t block_groups);
int32_t cg_conv2d_dsp_sparse_s8_get_scratch_size(const cg_conv2d_s8_params *p, int32_t block_groups);

typedef struct {
    cg_dims input;
    cg_dims filter;
    cg_dims output;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    float act_min, act_max;
} cg_conv2d_f32_params;

cg_status cg_conv2d_f32(const cg_conv2d_f32_params *p, const float *input, const float *filter,
                        const float *bias, float *output);

/* ------------------------------------------------------------------------------------ depthwise */

typedef struct {
    cg_dims input;   /* NHWC */
    cg_dims filter;  /* n = 1, h, w, c = input channels * depth_multiplier */
    cg_dims output;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier;
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;   /* [output channels] */
    const int32_t *shift;
} cg_depthwise_conv2d_s8_params;

/* `bias` is folded like cg_conv2d_s8's: bias[c] + input_offset * sum of channel c's weights.  `filter` is
 * stored channel by channel: output channel c's filter.h * filter.w taps (row-major) at filter[c * h * w].
 * `scratch` (cg_depthwise_conv2d_s8_get_scratch_size = input.c bytes) holds a row of input zero points. */
cg_status cg_depthwise_conv2d_s8(const cg_depthwise_conv2d_s8_params *p, const int8_t *input,
                                 const int8_t *filter, const int32_t *bias, int8_t *output,
                                 int8_t *scratch);
int32_t cg_depthwise_conv2d_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p);

/* 16x8 depthwise: int16 activations (zero point 0), int8 filter, optional int64 bias. */
cg_status cg_depthwise_conv2d_s16(const cg_depthwise_conv2d_s8_params *p, const int16_t *input,
                                  const int8_t *filter, const int64_t *bias, int16_t *output);

/* Variant for cores with the DSP extension (cg_dsp.h), depth multiplier 1, (filter height - 1) * dilation_h < 64.
 * `packed` (4-byte aligned) is all the layer's constants in reading order, per group of 4 channels (zero channels
 * pad the last): with, per channel c, left = max(shift[c], 0), e = max(-shift[c], 0) and s = 2^(1 + left) <= 256,
 *   - the folded bias (bias[c] + input_offset * sum of channel c's weights) times s, for the 4 channels;
 *   - per tap, the 4 weights times s as int16 pairs in two words, channels (0, 2) then (1, 3), low half first;
 *     taps row by row, within a filter row kx = 1 .. KW - 1, then kx = 0;
 *   - per channel (multiplier[c], h, e), h = 2^(e-1) + output_offset * 2^e (output_offset when e = 0); padding
 *     channels 0, 0, 1.
 * The generator guarantees s * (|folded bias| + taps * 2^14) < 2^30 and no int32 overflow in the output stage;
 * `multiplier` and `shift` in `p` are not read (NULL).  `scratch` (cg_depthwise_conv2d_dsp_s8_get_scratch_size bytes)
 * holds a ring of (filter height - 1) * dilation_h + 1 input rows padded with input zero points. */
cg_status cg_depthwise_conv2d_dsp_s8(const cg_depthwise_conv2d_s8_params *p, const int8_t *input,
                                     const int32_t *packed, int8_t *output, int8_t *scratch);
int32_t cg_depthwise_conv2d_dsp_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p);

typedef struct {
    cg_dims input;
    cg_dims filter;
    cg_dims output;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier;
    float act_min, act_max;
} cg_depthwise_conv2d_f32_params;

cg_status cg_depthwise_conv2d_f32(const cg_depthwise_conv2d_f32_params *p, const float *input,
                                  const float *filter, const float *bias, float *output);

/* ------------------------------------------------------------------------------ fully connected */

typedef struct {
    int32_t batches;
    int32_t in_depth;    /* accumulation depth */
    int32_t out_depth;   /* units */
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;   /* [out_depth] (per-tensor models repeat one value) */
    const int32_t *shift;
} cg_fully_connected_s8_params;

/* `bias` is folded like cg_conv2d_s8: bias[u] + input_offset * sum(filter[u]). Filter zero point 0.
 * `filter` is stored in groups of 8 units, per input index the group's 8 weights; the out_depth % 8 units
 * left over follow row by row.  `scratch` (cg_fully_connected_s8_get_scratch_size = in_depth bytes) holds a
 * copy of the input row. */
cg_status cg_fully_connected_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_fully_connected_s8_get_scratch_size(const cg_fully_connected_s8_params *p);

/* 16x8 fully connected: int16 activations (zero point 0), int8 weights, optional int64 bias (not folded). */
cg_status cg_fully_connected_s16(const cg_fully_connected_s8_params *p, const int16_t *input,
                                 const int8_t *filter, const int64_t *bias, int16_t *output);

/* Variant for cores with the DSP extension (cg_dsp.h), no scratch.  `filter` holds int8 bytes packed two units
 * per 16-bit value (lower/packing.py pack_fc_pairs, described in the kernel's file), 4-byte aligned; `bias` is
 * folded like cg_fully_connected_s8's, doubled and zero-padded to a multiple of 8 units (the kernel keeps
 * doubled sums). */
typedef struct {
    int32_t batches;
    int32_t in_depth;
    int32_t out_depth;
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t requant;             /* 1: one multiplier and one shift in [-22, -1] for all units (per tensor,
                                  * checked by the generator), else 0 */
    const int32_t *multiplier;   /* [out_depth] */
    const int32_t *shift;
    const int32_t *out_stage;    /* NULL, or per unit (units padded to 8) 2^(r-1) + output_offset * 2^r,
                                  * multiplier, r with r = -shift in [1, 22] (per-channel layers) */
} cg_fully_connected_dsp_s8_params;

cg_status cg_fully_connected_dsp_s8(const cg_fully_connected_dsp_s8_params *p, const int8_t *input,
                                    const int8_t *filter, const int32_t *bias, int8_t *output);

typedef struct {
    int32_t batches;
    int32_t in_depth;
    int32_t out_depth;
    float act_min, act_max;
} cg_fully_connected_f32_params;

/* `bias` may be NULL. */
cg_status cg_fully_connected_f32(const cg_fully_connected_f32_params *p, const float *input,
                                 const float *filter, const float *bias, float *output);

/* Sparse weights (issue #16; lower/stream.py sparse_rows): per block of 4 units and group of 4 inputs a 16-bit
 * mask of the non-zero weights, then their values; zeros cost no multiply. Arithmetic and `bias` as
 * cg_fully_connected_s8's; no scratch, the output must not overlap the input. */
cg_status cg_fully_connected_sparse_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                       const uint8_t *packed, const int32_t *bias, int8_t *output);

/* Variant for cores with the DSP extension and "tile-wise 2:4" weights (at most two non-zero positions per 4
 * inputs, shared by each block of 4 units): only the kept int8 weights are stored and multiplied.  `filter` is
 * the generator's stream (runtime/src/fully_connected/cg_fully_connected_dsp_24_s8.c); `bias` as
 * cg_fully_connected_s8's.  `scratch` (cg_fully_connected_dsp_24_s8_get_scratch_size bytes, 4-byte aligned)
 * holds the widened input row, so the output may overlap the input. */
cg_status cg_fully_connected_dsp_24_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                       const int32_t *filter, const int32_t *bias, int8_t *output, int8_t *scratch);
int32_t cg_fully_connected_dsp_24_s8_get_scratch_size(const cg_fully_connected_s8_params *p);

/* -------------------------------------------------------------------------------------- pooling */

typedef struct {
    cg_dims input;
    cg_dims output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} cg_pool_s8_params;

cg_status cg_avgpool_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output);
cg_status cg_maxpool_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output);
/* Variants for cores with the DSP extension (cg_dsp.h), same parameters and results: four channels per word
 * (SSUB8/SEL maxima; SXTAB16 sums, the window at most 255 wide). */
cg_status cg_avgpool_dsp_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output);
cg_status cg_maxpool_dsp_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output);

typedef struct {
    cg_dims input;
    cg_dims output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    float act_min, act_max;
} cg_pool_f32_params;

cg_status cg_avgpool_f32(const cg_pool_f32_params *p, const float *input, float *output);
cg_status cg_maxpool_f32(const cg_pool_f32_params *p, const float *input, float *output);

/* MEAN over H and W of an NHWC tensor (global average pooling). */
typedef struct {
    cg_dims input;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;   /* input_scale / output_scale, already divided by H*W as TFLM does */
    int32_t shift;
} cg_mean_s8_params;

cg_status cg_mean_s8(const cg_mean_s8_params *p, const int8_t *input, int8_t *output);
cg_status cg_mean_s16(const cg_mean_s8_params *p, const int16_t *input, int16_t *output);

typedef struct {
    cg_dims input;
} cg_mean_f32_params;

cg_status cg_mean_f32(const cg_mean_f32_params *p, const float *input, float *output);

/* ---------------------------------------------------------------------------------- elementwise */

/* Broadcasting over up to 4 dimensions: in*_stride[d] is 0 along broadcast dimensions. */
typedef struct {
    int32_t out_dims[4];
    int32_t in1_stride[4];
    int32_t in2_stride[4];
    int32_t broadcast;   /* 0: same shapes, flat loop over `size` elements */
    int32_t size;
} cg_broadcast_params;

typedef struct {
    cg_broadcast_params shape;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
    int32_t subtract;     /* 0: ADD, 1: SUB (input1 - input2, same rescaling: TFLite int8 SUB) */
} cg_add_s8_params;

/* `scratch` (cg_add_s8_get_scratch_size bytes, int32-aligned) holds per-input rescaling tables; it may be
 * NULL when that size is 0. */
cg_status cg_add_s8(const cg_add_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                    int32_t *scratch);
int32_t cg_add_s8_get_scratch_size(const cg_add_s8_params *p);

/* Variant for cores with the DSP extension (cg_dsp.h), same-shape inputs: `tables` (in flash) holds both input
 * rescalings tabulated by the generator, 2 * 256 int32 (cg_add_dsp_s8.c). */
typedef struct {
    cg_add_s8_params base;  /* TFLite's parameters; shape without broadcasting */
    int32_t h;              /* 2^(r-1) + output_offset * 2^r, r = -output_shift in [1, 22] */
    int32_t r;
} cg_add_dsp_s8_params;

cg_status cg_add_dsp_s8(const cg_add_dsp_s8_params *p, const int8_t *input1, const int8_t *input2,
                        const int32_t *tables, int8_t *output);

/* int16 ADD and SUB (`subtract`): the int8 arithmetic with left_shift 15, no tables. */
cg_status cg_add_s16(const cg_add_s8_params *p, const int16_t *input1, const int16_t *input2, int16_t *output);

typedef struct {
    cg_broadcast_params shape;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} cg_mul_s8_params;

cg_status cg_mul_s8(const cg_mul_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

/* Variant for cores with the DSP extension (cg_dsp.h), same-shape inputs (cg_mul_dsp_s8.c). */
typedef struct {
    cg_mul_s8_params base;  /* TFLite's parameters; shape without broadcasting */
    int32_t h;              /* 2^(r-1) + output_offset * 2^r, r = -output_shift in [1, 22] */
    int32_t r;
} cg_mul_dsp_s8_params;

cg_status cg_mul_dsp_s8(const cg_mul_dsp_s8_params *p, const int8_t *input1, const int8_t *input2,
                        int8_t *output);
cg_status cg_mul_s16(const cg_mul_s8_params *p, const int16_t *input1, const int16_t *input2, int16_t *output);

typedef struct {
    cg_broadcast_params shape;
    float act_min, act_max;
} cg_binary_f32_params;

cg_status cg_add_f32(const cg_binary_f32_params *p, const float *input1, const float *input2, float *output);
cg_status cg_mul_f32(const cg_binary_f32_params *p, const float *input1, const float *input2, float *output);
cg_status cg_sub_f32(const cg_binary_f32_params *p, const float *input1, const float *input2, float *output);

/* ------------------------------------------------------------------------------ data movement */

/* Copies one input of a concatenation into its slot of the output; called once per input. */
typedef struct {
    int32_t outer;        /* product of the dimensions before the axis */
    int32_t copy_size;    /* input axis size * product of the dimensions after the axis */
    int32_t out_stride;   /* output axis size * product of the dimensions after the axis */
    int32_t out_offset;   /* elements before this input along the axis * inner size */
} cg_concatenation_params;

cg_status cg_concatenation_s8(const cg_concatenation_params *p, const int8_t *input, int8_t *output);
cg_status cg_concatenation_s16(const cg_concatenation_params *p, const int16_t *input, int16_t *output);
cg_status cg_concatenation_f32(const cg_concatenation_params *p, const float *input, float *output);

/* PAD over 4 dimensions (lower ranks are padded with leading 1s). */
typedef struct {
    int32_t in_dims[4];
    int32_t before[4];
    int32_t after[4];
} cg_pad_params;

cg_status cg_pad_s8(const cg_pad_params *p, int8_t pad_value, const int8_t *input, int8_t *output);
cg_status cg_pad_s16(const cg_pad_params *p, int16_t pad_value, const int16_t *input, int16_t *output);
cg_status cg_pad_f32(const cg_pad_params *p, float pad_value, const float *input, float *output);

/* ---------------------------------------------------------------------------------- activations */

typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} cg_softmax_s8_params;

/* Output quantization is fixed: scale 1/256, zero point -128. */
cg_status cg_softmax_s8(const cg_softmax_s8_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_multiplier;
    int32_t input_left_shift;
    const int16_t *exp_lut;                  /* 513 entries: exp on [-10, 0] */
    const int16_t *one_over_one_plus_x_lut;  /* 513 entries: 1 / (1 + x) on [0, 1] */
} cg_softmax_s16_params;

/* int16 SOFTMAX (16x8 models): input zero point 0, output scale 1/32768 and zero point 0. */
cg_status cg_softmax_s16(const cg_softmax_s16_params *p, const int16_t *input, int16_t *output);

typedef struct {
    int32_t rows;
    int32_t depth;
    float beta;
} cg_softmax_f32_params;

cg_status cg_softmax_f32(const cg_softmax_f32_params *p, const float *input, float *output);

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} cg_logistic_s8_params;

/* Output quantization is fixed: scale 1/256, zero point -128. */
cg_status cg_logistic_s8(const cg_logistic_s8_params *p, const int8_t *input, int8_t *output);

/* Same Prepare-time data as LOGISTIC (input rescaled to Q4.27). Output scale 1/128, zero point 0. */
typedef cg_logistic_s8_params cg_tanh_s8_params;

cg_status cg_tanh_s8(const cg_tanh_s8_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t input_multiplier;          /* input * multiplier >> input_right_shift (rounded): table scale */
    int32_t input_right_shift;         /* 1 / (3 * 4096) for LOGISTIC, 1 / (3 * 2048) for TANH */
    const uint16_t *sigmoid_table;     /* 256 entries: sigmoid(i / 24) in Q0.16 (computed at generation time) */
} cg_sigmoid_s16_params;

/* int16 LOGISTIC and TANH (16x8 models): input zero point 0, output scale 1/32768 and zero point 0. */
cg_status cg_logistic_s16(const cg_sigmoid_s16_params *p, const int16_t *input, int16_t *output);
cg_status cg_tanh_s16(const cg_sigmoid_s16_params *p, const int16_t *input, int16_t *output);

/* Element-wise unary op on `size` floats. */
typedef struct {
    int32_t size;
    float alpha;     /* LEAKY_RELU slope */
} cg_unary_f32_params;

cg_status cg_logistic_f32(const cg_unary_f32_params *p, const float *input, float *output);
cg_status cg_relu_f32(const cg_unary_f32_params *p, const float *input, float *output);
cg_status cg_relu6_f32(const cg_unary_f32_params *p, const float *input, float *output);
cg_status cg_leaky_relu_f32(const cg_unary_f32_params *p, const float *input, float *output);
cg_status cg_hard_swish_f32(const cg_unary_f32_params *p, const float *input, float *output);
cg_status cg_tanh_f32(const cg_unary_f32_params *p, const float *input, float *output);

/* RELU / RELU6 (and requantizing identity): out = clamp(out_zp + requant(in - in_zp)). */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} cg_requant_s8_params;

cg_status cg_relu_s8(const cg_requant_s8_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier_alpha, shift_alpha;
    int32_t multiplier_identity, shift_identity;
} cg_leaky_relu_s8_params;

cg_status cg_leaky_relu_s8(const cg_leaky_relu_s8_params *p, const int8_t *input, int8_t *output);
cg_status cg_leaky_relu_s16(const cg_leaky_relu_s8_params *p, const int16_t *input, int16_t *output);

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int16_t reluish_multiplier_fixedpoint_int16;
    int32_t reluish_multiplier_exponent;
    int16_t output_multiplier_fixedpoint_int16;
    int32_t output_multiplier_exponent;
} cg_hard_swish_s8_params;

cg_status cg_hard_swish_s8(const cg_hard_swish_s8_params *p, const int8_t *input, int8_t *output);

/* --------------------------------------------------------------------------------- quantization */

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} cg_affine_params;

/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32. */
cg_status cg_quantize_s8(const cg_affine_params *p, const float *input, int8_t *output);
cg_status cg_dequantize_s8(const cg_affine_params *p, const int8_t *input, float *output);

/* QUANTIZE int8 -> int8 (change of scale / zero point): uses act_min = -128, act_max = 127. */
cg_status cg_requantize_s8(const cg_requant_s8_params *p, const int8_t *input, int8_t *output);

/* 16x8 models: QUANTIZE float32 -> int16, DEQUANTIZE int16 -> float32, and QUANTIZE between int16 and int8
 * (act_min / act_max: the output type's range). */
cg_status cg_quantize_s16(const cg_affine_params *p, const float *input, int16_t *output);
cg_status cg_dequantize_s16(const cg_affine_params *p, const int16_t *input, float *output);
cg_status cg_requantize_s16_s8(const cg_requant_s8_params *p, const int16_t *input, int8_t *output);
cg_status cg_requantize_s8_s16(const cg_requant_s8_params *p, const int8_t *input, int16_t *output);
cg_status cg_requantize_s16(const cg_requant_s8_params *p, const int16_t *input, int16_t *output);

/* ------------------------------------------------------------------------------------------ SVDF */

/* Sequence op with state: `state` ([batches][filters][memory], a variable tensor kept across runs, never in
 * the arena) moves one step back in time per call.  filters = units * rank; `bias` may be NULL. */
typedef struct {
    int32_t batches, input_size, filters, units, rank, memory;
    int32_t input_offset;                          /* -input zero point */
    int32_t state_zero_point;
    int32_t output_offset;                         /* output zero point */
    int32_t feature_multiplier, feature_shift;     /* input x weights feature -> state scale */
    int32_t output_multiplier, output_shift;       /* state x weights time -> output scale */
    int32_t state_min, state_max;                  /* the state type's range */
    int32_t act_min, act_max;                      /* the int8 range (TFLM applies no fused activation) */
} cg_svdf_s8_params;

/* int8 input/output, int16 state and time weights, int32 bias (TFLite's SVDF quantization). */
cg_status cg_svdf_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                     const int16_t *weights_time, const int32_t *bias, int16_t *state, int8_t *output);
/* Variant for cores with the DSP extension (cg_dsp.h), int16 state: zero points folded at generation time into
 * `feature_bias` ([filters]: input_offset * sum of each filter's feature weights) and `bias` ([units], required:
 * the bias minus state_zero_point * the sum of the unit's time weights). */
cg_status cg_svdf_dsp_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                         const int32_t *feature_bias, const int16_t *weights_time, const int32_t *bias,
                         int16_t *state, int8_t *output);
/* int8 state and time weights. */
cg_status cg_svdf_state8_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                           const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output);

typedef struct {
    int32_t batches, input_size, filters, units, rank, memory;
    float act_min, act_max;
} cg_svdf_f32_params;

cg_status cg_svdf_f32(const cg_svdf_f32_params *p, const float *input, const float *weights_feature,
                      const float *weights_time, const float *bias, float *state, float *output);

#include "cg_nn_layout.h" /* TRANSPOSE, slices, splits, resizes, MAXIMUM/MINIMUM */
#include "cg_nn_lstm.h"   /* UNIDIRECTIONAL_SEQUENCE_LSTM */

#endif /* CG_NN_H */
