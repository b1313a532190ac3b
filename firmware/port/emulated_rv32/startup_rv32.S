/* codegen emulated RV32IMC port: reset code for QEMU's virt machine (-bios none jumps to 0x80000000).
 * Stack, global pointer and thread pointer (picolibc's errno is thread-local), .data/.tdata copied from
 * flash, .tbss/.bss cleared, a trap vector that parks the hart, then main(). */
    .section .text.cg_start, "ax"
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    la tp, __tls_base
    la t0, cg_trap
    csrw mtvec, t0
    csrw mie, zero

    la t0, __data_source
    la t1, __data_start
    la t2, __data_end
1:  bgeu t1, t2, 2f
    lw t3, 0(t0)
    sw t3, 0(t1)
    addi t0, t0, 4
    addi t1, t1, 4
    j 1b
2:
    la t1, __bss_start
    la t2, __bss_end
3:  bgeu t1, t2, 4f
    sw zero, 0(t1)
    addi t1, t1, 4
    j 3b
4:
    call main
5:  wfi
    j 5b
    .size _start, . - _start

/* Any exception or interrupt: stay here (a debugger shows mcause/mepc); the host sees no more replies. */
    .align 4
    .globl cg_trap
    .type cg_trap, @function
cg_trap:
    wfi
    j cg_trap
    .size cg_trap, . - cg_trap
