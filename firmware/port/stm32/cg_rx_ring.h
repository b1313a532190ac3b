/* codegen STM32 port: lock-free receive ring buffer.
 *
 * One producer (the UART receive interrupt) and one consumer (the main loop). The indices run freely and
 * are masked on access, so the capacity is the full power-of-two storage size. Bytes that arrive while the
 * ring is full are dropped and counted; the protocol's CRC and retry then recover. No vendor dependency,
 * so it is unit-tested on the host. */
#ifndef CG_RX_RING_H
#define CG_RX_RING_H

#include <stdint.h>

typedef struct {
    volatile uint8_t *buf;
    uint32_t mask;              /* capacity - 1; capacity is a power of two */
    volatile uint32_t head;     /* written by the producer only */
    volatile uint32_t tail;     /* written by the consumer only */
    volatile uint32_t dropped;  /* bytes lost because the ring was full */
} cg_rx_ring;

/* capacity must be a power of two >= 2; returns 0 on success, -1 for a bad capacity or NULL storage. */
int cg_rx_ring_init(cg_rx_ring *ring, uint8_t *storage, uint32_t capacity);

/* Producer side (interrupt context): 1 when stored, 0 when the ring was full (the byte is counted as dropped). */
int cg_rx_ring_push(cg_rx_ring *ring, uint8_t byte);

/* Consumer side: 1 and *out set when a byte was available, 0 when empty. */
int cg_rx_ring_pop(cg_rx_ring *ring, uint8_t *out);

/* Bytes waiting in the ring. */
uint32_t cg_rx_ring_count(const cg_rx_ring *ring);

#endif /* CG_RX_RING_H */
