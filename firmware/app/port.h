/* codegen firmware: the port layer. The shared application (firmware/app) calls only these functions;
 * each board family implements them in firmware/port/<family>/. */
#ifndef CG_PORT_H
#define CG_PORT_H

#include <stdint.h>

/* Clocks, console UART at CG_BOARD_BAUD, cycle counter. Called once, first thing in cg_app_main(). */
void port_init(void);

/* Blocking write of n bytes to the console UART. */
void port_write(const uint8_t *buf, uint32_t n);

/* Non-blocking read: 1 and *out set if a byte was waiting, 0 otherwise. */
int port_read_byte(uint8_t *out);

/* Monotonic milliseconds since port_init(), for protocol timeouts (wraps after 49 days). */
uint32_t port_millis(void);

/* Free-running counter for profiling (cycles, or instructions under QEMU icount); wraps at 2^32. */
uint32_t port_cycles(void);

/* Rate of port_cycles() in counts per second. */
uint32_t port_cycle_hz(void);

/* What port_cycles() counts: "cycles", "instructions (QEMU icount)" (minstret) or
 * "SysTick ticks (QEMU icount, F per instruction)" (a virtual clock advancing F ticks per executed instruction). */
const char *port_counter_kind(void);

#endif /* CG_PORT_H */
