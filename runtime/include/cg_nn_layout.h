/* codegen runtime: data-movement and min/max kernels (TRANSPOSE, STRIDED_SLICE, SLICE, SPLIT, SPLIT_V,
 * DEPTH_TO_SPACE, SPACE_TO_DEPTH, RESIZE_NEAREST_NEIGHBOR) and element-wise math (MAXIMUM, MINIMUM, PRELU,
 * SQUARED_DIFFERENCE, EXP, RSQRT). Included by cg_nn.h. */
#ifndef CG_NN_LAYOUT_H
#define CG_NN_LAYOUT_H

#include "cg_status.h"
#include "cg_types.h"

#define CG_COPY_DIMS 6

/* A strided gather: output element (i0..i5), written in order, is input[in_offset + sum_k i_k * in_stride[k]].
 * Every layout operator above is one or more such copies with its index arithmetic done at generation time
 * (a stride may be negative: STRIDED_SLICE with negative steps). */
typedef struct {
    int32_t count[CG_COPY_DIMS];
    int32_t in_stride[CG_COPY_DIMS];
    int32_t in_offset;
} cg_strided_copy_params;

cg_status cg_strided_copy_s8(const cg_strided_copy_params *p, const int8_t *input, int8_t *output);
cg_status cg_strided_copy_s16(const cg_strided_copy_params *p, const int16_t *input, int16_t *output);
cg_status cg_strided_copy_f32(const cg_strided_copy_params *p, const float *input, float *output);

/* RESIZE_NEAREST_NEIGHBOR: output pixel (y, x) of batch b is input pixel (rows[y], cols[x]) of batch b. */
typedef struct {
    cg_dims input;
    cg_dims output;
    const int32_t *rows; /* output.h source rows */
    const int32_t *cols; /* output.w source columns */
} cg_resize_nearest_params;

cg_status cg_resize_nearest_s8(const cg_resize_nearest_params *p, const int8_t *input, int8_t *output);
cg_status cg_resize_nearest_f32(const cg_resize_nearest_params *p, const float *input, float *output);
cg_status cg_resize_nearest_s16(const cg_resize_nearest_params *p, const int16_t *input, int16_t *output);

/* MAXIMUM / MINIMUM with broadcasting: TFLM compares the raw int8 values (no rescaling). */
cg_status cg_maximum_s8(const cg_broadcast_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
cg_status cg_minimum_s8(const cg_broadcast_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
cg_status cg_maximum_s16(const cg_broadcast_params *p, const int16_t *input1, const int16_t *input2,
                         int16_t *output);
cg_status cg_minimum_s16(const cg_broadcast_params *p, const int16_t *input1, const int16_t *input2,
                         int16_t *output);
cg_status cg_maximum_f32(const cg_broadcast_params *p, const float *input1, const float *input2, float *output);
cg_status cg_minimum_f32(const cg_broadcast_params *p, const float *input1, const float *input2, float *output);

/* PRELU: out = x >= 0 ? requant1(x) : requant2(x * alpha) (offsets applied first), broadcasting alpha. */
typedef struct {
    cg_broadcast_params shape;
    int32_t input_offset, alpha_offset, output_offset;
    int32_t multiplier_1, shift_1;
    int32_t multiplier_2, shift_2;
} cg_prelu_s8_params;

cg_status cg_prelu_s8(const cg_prelu_s8_params *p, const int8_t *input, const int8_t *alpha, int8_t *output);
cg_status cg_prelu_f32(const cg_broadcast_params *p, const float *input, const float *alpha, float *output);

/* SQUARED_DIFFERENCE: (a - b)^2; int8 with TFLM's rescaling of both inputs to a common scale. */
typedef struct {
    cg_broadcast_params shape;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
} cg_squared_difference_s8_params;

cg_status cg_squared_difference_s8(const cg_squared_difference_s8_params *p, const int8_t *input1,
                                   const int8_t *input2, int8_t *output);
cg_status cg_squared_difference_s16(const cg_squared_difference_s8_params *p, const int16_t *input1,
                                    const int16_t *input2, int16_t *output);
cg_status cg_squared_difference_f32(const cg_broadcast_params *p, const float *input1, const float *input2,
                                    float *output);

/* EXP and RSQRT, float32 (std::exp and 1 / std::sqrt as TFLM). */
cg_status cg_exp_f32(const cg_unary_f32_params *p, const float *input, float *output);
cg_status cg_rsqrt_f32(const cg_unary_f32_params *p, const float *input, float *output);

/* RESIZE_BILINEAR, source coordinates per output row / column computed at generation time (TFLM's formulas).
 * int8: rows[3 * y + {0, 1, 2}] = y0, y1, input_y - 1024 * y0 (10-bit fixed point; cols likewise), raw values
 * interpolated with 20-bit weights and rounded half away from zero. float32: rows[2 * y + {0, 1}] = y0, y1 and
 * row_pos[y] = the float source coordinate (cols, col_pos likewise). */
typedef struct {
    cg_dims input;
    cg_dims output;
    const int32_t *rows;
    const int32_t *cols;
} cg_resize_bilinear_s8_params;

typedef struct {
    cg_dims input;
    cg_dims output;
    const int32_t *rows;
    const int32_t *cols;
    const float *row_pos;
    const float *col_pos;
} cg_resize_bilinear_f32_params;

cg_status cg_resize_bilinear_s8(const cg_resize_bilinear_s8_params *p, const int8_t *input, int8_t *output);
cg_status cg_resize_bilinear_f32(const cg_resize_bilinear_f32_params *p, const float *input, float *output);

/* GATHER with constant indices: output[o][k][i] = input[o][coords[k]][i] (batch_dims 0). */
typedef struct {
    int32_t outer;      /* product of the dimensions before the axis */
    int32_t axis_size;  /* input size along the axis */
    int32_t inner;      /* product of the dimensions after the axis */
    int32_t count;      /* number of indices */
    const int32_t *coords;
} cg_gather_params;

cg_status cg_gather_s8(const cg_gather_params *p, const int8_t *input, int8_t *output);
cg_status cg_gather_f32(const cg_gather_params *p, const float *input, float *output);

/* TRANSPOSE_CONV as TFLM's reference: each input value is scattered into the output window it influences.
 * int8 accumulates in `scratch` (output.n*h*w*c int32, cg_transpose_conv_s8_get_scratch_size bytes), then adds
 * the bias and requantizes per output channel; float32 accumulates in the output. */
typedef struct {
    cg_dims input;   /* NHWC */
    cg_dims filter;  /* n = output channels, h, w, c = input channels (OHWI) */
    cg_dims output;  /* NHWC */
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;
    const int32_t *shift;
} cg_transpose_conv_s8_params;

typedef struct {
    cg_dims input;
    cg_dims filter;
    cg_dims output;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    float act_min, act_max;
} cg_transpose_conv_f32_params;

int32_t cg_transpose_conv_s8_get_scratch_size(const cg_dims *output);
cg_status cg_transpose_conv_s8(const cg_transpose_conv_s8_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output, int32_t *scratch);
cg_status cg_transpose_conv_f32(const cg_transpose_conv_f32_params *p, const float *input, const float *filter,
                                const float *bias, float *output);
/* 16x8 (int16 activations, zero points 0, int64 bias): accumulates in `scratch` (output.n*h*w*c int64,
 * cg_transpose_conv_s16_get_scratch_size bytes), requantized as cg_requantize_s64. */
int32_t cg_transpose_conv_s16_get_scratch_size(const cg_dims *output);
cg_status cg_transpose_conv_s16(const cg_transpose_conv_s8_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, int16_t *output, int64_t *scratch);

/* BATCH_MATMUL: out[b][i][j] = sum_k (lhs[b](i, k) + lhs_offset) * (rhs[b](k, j) + rhs_offset), requantized
 * (int8) or as is (float32). Element (i, k) of lhs batch b lies at b0 * lhs_batch_stride[0] + ... +
 * i * lhs_row_stride + k * lhs_depth_stride (so adj_x / adj_y are only strides); a batch stride of 0
 * broadcasts. The output is row-major [batches..., rows, cols]. */
typedef struct {
    int32_t batches[3];
    int32_t lhs_batch_stride[3], rhs_batch_stride[3];
    int32_t rows, cols, depth;
    int32_t lhs_row_stride, lhs_depth_stride;
    int32_t rhs_depth_stride, rhs_col_stride;
    int32_t lhs_offset, rhs_offset, output_offset;
    int32_t multiplier, shift;
} cg_batch_matmul_params;

cg_status cg_batch_matmul_s8(const cg_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *output);
cg_status cg_batch_matmul_f32(const cg_batch_matmul_params *p, const float *lhs, const float *rhs, float *output);
cg_status cg_batch_matmul_s16(const cg_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs,
                              int16_t *output);

/* int8 element-wise function through a 256-entry table computed at generation time (table[x + 128]). */
typedef struct {
    int32_t size;
    const int8_t *table;
} cg_lut_s8_params;

cg_status cg_lut_s8(const cg_lut_s8_params *p, const int8_t *input, int8_t *output);

/* ARG_MAX / ARG_MIN (select_min = 1) over the middle axis of [outer, axis_size, inner]: the index of the first
 * largest (smallest) value, as TFLM's ArgMinMax; int32 or int64 output [outer, inner]. */
typedef struct {
    int32_t outer;
    int32_t axis_size;
    int32_t inner;
    int32_t select_min;
} cg_arg_min_max_params;

cg_status cg_arg_min_max_s8_s32(const cg_arg_min_max_params *p, const int8_t *input, int32_t *output);
cg_status cg_arg_min_max_s8_s64(const cg_arg_min_max_params *p, const int8_t *input, int64_t *output);
cg_status cg_arg_min_max_f32_s32(const cg_arg_min_max_params *p, const float *input, int32_t *output);
cg_status cg_arg_min_max_f32_s64(const cg_arg_min_max_params *p, const float *input, int64_t *output);

#endif /* CG_NN_LAYOUT_H */
