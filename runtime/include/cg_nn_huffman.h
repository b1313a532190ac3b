/* codegen runtime: kernels that read Huffman-coded weights as they consume them (issue #16,
 * docs/huffman-blob.md); the decoder's tables are their only scratch, CG_HUFFMAN_SCRATCH_SIZE bytes, 4-byte
 * aligned; the caller ran cg_huffman_check on each blob once. The sparse kernel is in cg_nn.h. */
#ifndef CG_NN_HUFFMAN_H
#define CG_NN_HUFFMAN_H

#include "cg_huffman.h"
#include "cg_nn.h"

/* Fully connected, arithmetic as cg_fully_connected_s8 (bias folded with the input offset); `blob` codes the
 * [out_depth, in_depth] weights row-major. CG_ERR_CORRUPT for a blob that does not parse, CG_ERR_SHAPE if it
 * does not hold out_depth * in_depth weights. */
cg_status cg_fully_connected_huffman_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                        const uint8_t *blob, uint32_t blob_len, const int32_t *bias,
                                        int8_t *output, void *scratch);

#endif /* CG_NN_HUFFMAN_H */
