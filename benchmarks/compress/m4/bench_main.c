/* Decoder cost on Cortex-M4: decodes every blob of bench_blobs.c and prints SysTick ticks per call.
 * Under `qemu-system-arm -icount shift=N` the ticks are proportional to executed instructions; the
 * calibration loop below (a known number of instructions) gives the factor. */
#include <stdint.h>

#include "bench_blobs.h"
#include "cg_huffman.h"

void bench_puts(const char *s);

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static int8_t bench_out[BENCH_MAX_COUNT];
static uint32_t bench_scratch[CG_HUFFMAN_SCRATCH_SIZE / 4u];

static uint32_t now(void)
{
    return SYST_CVR; /* counts down, 24 bits */
}

static uint32_t elapsed(uint32_t start)
{
    return (start - now()) & 0x00FFFFFFu;
}

static void put_u32(uint32_t v)
{
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    bench_puts(&buf[i]);
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

/* 2 * n + a few instructions: subs + bne per iteration. */
static void __attribute__((noinline)) calibrate(uint32_t n)
{
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
}

int main(void)
{
    uint32_t i;
    uint32_t t;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* processor clock, no interrupt, enabled */
    t = now();
    calibrate(1000000u);
    bench_puts("calibrate 2000000 ");
    put_u32(elapsed(t));
    bench_puts("\n");
    for (i = 0; i < BENCH_NUM_BLOBS; ++i) {
        const bench_blob *b = &bench_blobs[i];
        cg_status s1;
        cg_status s2;
        cg_status s3;
        uint32_t t_check;
        uint32_t t_nocrc;
        uint32_t t_full;
        t = now();
        s1 = cg_huffman_check(b->data, b->len, 0);
        t_check = elapsed(t);
        t = now();
        s2 = cg_huffman_decode_nocrc_s8(b->data, b->len, bench_out, b->count, bench_scratch, sizeof bench_scratch);
        t_nocrc = elapsed(t);
        t = now();
        s3 = cg_huffman_decode_s8(b->data, b->len, bench_out, b->count, bench_scratch, sizeof bench_scratch);
        t_full = elapsed(t);
        bench_puts("blob ");
        put_u32(i);
        bench_puts(" ");
        put_u32((uint32_t)s1 * 100u + (uint32_t)s2 * 10u + (uint32_t)s3);
        bench_puts(" ");
        put_u32(fnv1a(bench_out, b->count) == b->fnv1a ? 1u : 0u);
        bench_puts(" ");
        put_u32(t_check);
        bench_puts(" ");
        put_u32(t_nocrc);
        bench_puts(" ");
        put_u32(t_full);
        bench_puts("\n");
    }
    return 0;
}
