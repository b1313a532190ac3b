/* Test driver for the Huffman blob decoder, built with sanitizers by tests/compress.
 * stdin: records of [u32 blob_len][blob][u32 out_len]; for each record it prints one line
 * "<check status> <decode status> <nocrc status> <fnv1a-32 of the decoded bytes (0 unless decode is ok)>".
 * Output and scratch buffers are heap blocks of exactly the stated size so that AddressSanitizer catches
 * any access outside them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_huffman.h"

static int read_u32(uint32_t *v)
{
    uint8_t b[4];
    if (fread(b, 1, 4, stdin) != 4) {
        return 0;
    }
    *v = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    return 1;
}

static uint32_t fnv1a(const int8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    uint32_t i;
    for (i = 0; i < n; ++i) {
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    }
    return h;
}

int main(void)
{
    uint32_t blob_len;
    uint32_t out_len;
    uint32_t scratch_len = cg_huffman_get_scratch_size();
    while (read_u32(&blob_len)) {
        uint8_t *blob = (uint8_t *)malloc(blob_len ? blob_len : 1u);
        int8_t *out;
        void *scratch = malloc(scratch_len);
        uint32_t count = 0;
        cg_status check, full, nocrc;
        uint32_t hash = 0;
        if (blob == NULL || scratch == NULL || fread(blob, 1, blob_len, stdin) != blob_len || !read_u32(&out_len)) {
            fprintf(stderr, "bad input\n");
            return 2;
        }
        out = (int8_t *)malloc(out_len ? out_len : 1u);
        if (out == NULL) {
            return 2;
        }
        check = cg_huffman_check(blob, blob_len, &count);
        full = cg_huffman_decode_s8(blob, blob_len, out, out_len, scratch, scratch_len);
        if (full == CG_OK) {
            hash = fnv1a(out, out_len);
        }
        nocrc = cg_huffman_decode_nocrc_s8(blob, blob_len, out, out_len, scratch, scratch_len);
        printf("%d %d %d %lu\n", (int)check, (int)full, (int)nocrc, (unsigned long)hash);
        free(out);
        free(scratch);
        free(blob);
    }
    return 0;
}
