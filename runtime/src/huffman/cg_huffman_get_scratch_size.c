/* codegen runtime: scratch size of the Huffman blob decoder. */
#include "cg_huffman.h"

uint32_t cg_huffman_get_scratch_size(void)
{
    return CG_HUFFMAN_SCRATCH_SIZE;
}
