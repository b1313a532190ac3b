/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension whose pruned weights stay
 * compressed in flash and are expanded block by block inside the layer (issue #16).
 *
 * The weights are cg_conv2d_dsp_s8's 16-bit layout (cg_nn.h), stored sparse per group of 4 output channels: a
 * bitmap of the group's 4 * K weights (K = padded depth, a multiple of 4, so K / 2 bytes; bit b of byte j is
 * weight 8 j + b of the group in the packed order, least significant bit first), then its non-zero weights as
 * int8, in order.  Every group starts on a byte, so a block of `block_groups` groups decodes on its own: for each
 * block the kernel expands it into the scratch as int16 words, then runs cg_conv2d_dsp_s8's pass over every
 * pixel for those channels (the patches of the pixels are rebuilt once per block).  The scratch holds the
 * patches and sums (for the block's channels) and the expanded block: block_groups = all groups is the fastest,
 * fewer groups take less RAM.  Memory-safe for any blob: it never reads outside blob[0, blob_len), and a blob
 * that does not hold exactly the layer's weights gives CG_ERR_CORRUPT (after some outputs were written). */
#define CG_CONV_DSP_S16_PASS
#include "cg_conv2d_dsp.h"

int32_t cg_conv2d_dsp_sparse_s8_get_scratch_size(const cg_conv2d_s8_params *p, int32_t block_groups)
{
    const int32_t kp = padded_depth(p);
    return 2 * kp * (int32_t)sizeof(int16_t) + 2 * 4 * block_groups * (int32_t)sizeof(int32_t) +
           4 * block_groups * kp * (int32_t)sizeof(int16_t);
}

static uint32_t popcount8(uint32_t b)
{
    b = b - ((b >> 1) & 0x55u);
    b = (b & 0x33u) + ((b >> 2) & 0x33u);
    return (b + (b >> 4)) & 0x0Fu;
}

/* the halfword pair of 2 weights whose 2 bitmap bits are the constant m, from the values at v (sign-extended) */
#define CG_S16(x) ((uint32_t)(uint16_t)(int16_t)(int8_t)(x))
#define CG_PAIR(m)                                                                                                 \
    ((m) == 0 ? 0u : (m) == 1 ? CG_S16(*v++) : (m) == 2 ? CG_S16(*v++) << 16 : (t = CG_S16(*v++), t | CG_S16(*v++) << 16))
/* bitmap nibble n (constant) of 4 weights into the words o[k], o[k + 1] */
#define CG_NIBBLE(n, k)                                                                                            \
    case n:                                                                                                        \
        o[k] = CG_PAIR((n) & 3);                                                                                   \
        o[(k) + 1] = CG_PAIR((n) >> 2);                                                                            \
        break
/* the 4 weights of nibble `nib` into o[k], o[k + 1]: one jump, no bit search */
#define CG_EXPAND_NIBBLE(nib, k)                                                                                   \
    switch (nib) {                                                                                                 \
        CG_NIBBLE(0, k);                                                                                           \
        CG_NIBBLE(1, k);                                                                                           \
        CG_NIBBLE(2, k);                                                                                           \
        CG_NIBBLE(3, k);                                                                                           \
        CG_NIBBLE(4, k);                                                                                           \
        CG_NIBBLE(5, k);                                                                                           \
        CG_NIBBLE(6, k);                                                                                           \
        CG_NIBBLE(7, k);                                                                                           \
        CG_NIBBLE(8, k);                                                                                           \
        CG_NIBBLE(9, k);                                                                                           \
        CG_NIBBLE(10, k);                                                                                          \
        CG_NIBBLE(11, k);                                                                                          \
        CG_NIBBLE(12, k);                                                                                          \
        CG_NIBBLE(13, k);                                                                                          \
        CG_NIBBLE(14, k);                                                                                          \
    default:                                                                                                       \
        CG_NIBBLE(15, k);                                                                                          \
    }

/* one group of 4 * kp weights from *src (bitmap, then the non-zero values) into dst as int16; advances *src */
static cg_status expand_group(const uint8_t **src, const uint8_t *end, int16_t *dst, int32_t kp)
{
    const uint8_t *bm = *src;
    const uint32_t nbm = (uint32_t)kp >> 1; /* 4 * kp bits */
    uint32_t *o = (uint32_t *)(void *)dst;
    const uint8_t *v;
    uint32_t j, t;
    if ((uint32_t)(end - bm) < nbm) {
        return CG_ERR_CORRUPT;
    }
    v = bm + nbm;
    for (j = 0; j < nbm; j++) {
        const uint32_t bits = bm[j];
        if ((uint32_t)(end - v) < 8u && popcount8(bits) > (uint32_t)(end - v)) {
            return CG_ERR_CORRUPT;
        }
        CG_EXPAND_NIBBLE(bits & 15u, 0)
        CG_EXPAND_NIBBLE(bits >> 4, 2)
        o += 4;
    }
    *src = v;
    return CG_OK;
}

cg_status cg_conv2d_dsp_sparse_s8(const cg_conv2d_s8_params *p, const int8_t *input, const uint8_t *blob,
                                  uint32_t blob_len, const int32_t *bias, int8_t *output, int8_t *scratch,
                                  int32_t block_groups)
{
    const int32_t kp = padded_depth(p);
    const int32_t groups = padded_channels(p) >> 2;
    const uint8_t *src = blob, *const end = blob + blob_len;
    conv_setup s;
    int16_t *wblk;
    int32_t g0, g;
    cg_status st;
    if (blob == 0 || block_groups < 1) {
        return CG_ERR_ARG;
    }
    st = conv_prepare(p, bias, scratch, &s);
    if (st != CG_OK) {
        return st;
    }
    if (block_groups > groups) {
        block_groups = groups;
    }
    wblk = (int16_t *)(void *)(s.acc + 2 * 4 * block_groups);
    for (g0 = 0; g0 < groups; g0 += block_groups) {
        const int32_t ng = groups - g0 < block_groups ? groups - g0 : block_groups;
        for (g = 0; g < ng; g++) {
            st = expand_group(&src, end, wblk + 4 * kp * g, kp);
            if (st != CG_OK) {
                return st;
            }
        }
        conv_channels(p, input, wblk, bias, output, &s, mac_pass_s16, 4 * g0, 4 * ng);
    }
    return src == end ? CG_OK : CG_ERR_CORRUPT;
}
