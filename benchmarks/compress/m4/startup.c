/* Minimal Cortex-M4 start-up and semihosting output for the decoder benchmark (runs under QEMU). */
#include <stdint.h>

extern uint32_t _etext, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void bench_reset(void);

static void bench_hang(void)
{
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const void *const bench_vectors[16] = {
    &_estack, (const void *)bench_reset, (const void *)bench_hang, (const void *)bench_hang,
    (const void *)bench_hang, (const void *)bench_hang, (const void *)bench_hang, 0, 0, 0, 0,
    (const void *)bench_hang, (const void *)bench_hang, 0, (const void *)bench_hang, (const void *)bench_hang,
};

static int bench_semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void bench_puts(const char *s)
{
    bench_semihost(0x04, s); /* SYS_WRITE0 */
}

void bench_exit(int code)
{
    (void)code; /* AArch32 SYS_EXIT carries only the reason; results are checked from the output */
    bench_semihost(0x18, (const void *)0x20026u); /* SYS_EXIT, ADP_Stopped_ApplicationExit */
    bench_hang();
}

void bench_reset(void)
{
    uint32_t *src = &_etext;
    uint32_t *dst;
    for (dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: enable the FPU */
    bench_exit(main());
}
