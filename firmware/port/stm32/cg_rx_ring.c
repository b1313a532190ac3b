/* codegen STM32 port: lock-free receive ring buffer (see cg_rx_ring.h). */
#include "cg_rx_ring.h"

#include <stddef.h>

int cg_rx_ring_init(cg_rx_ring *ring, uint8_t *storage, uint32_t capacity)
{
    if (ring == NULL || storage == NULL || capacity < 2u || (capacity & (capacity - 1u)) != 0u) {
        return -1;
    }
    ring->buf = storage;
    ring->mask = capacity - 1u;
    ring->head = 0u;
    ring->tail = 0u;
    ring->dropped = 0u;
    return 0;
}

int cg_rx_ring_push(cg_rx_ring *ring, uint8_t byte)
{
    uint32_t head = ring->head;
    if (head - ring->tail > ring->mask) {
        ring->dropped = ring->dropped + 1u;
        return 0;
    }
    ring->buf[head & ring->mask] = byte;
    ring->head = head + 1u; /* publish after the byte is stored (both accesses are volatile) */
    return 1;
}

int cg_rx_ring_pop(cg_rx_ring *ring, uint8_t *out)
{
    uint32_t tail = ring->tail;
    if (tail == ring->head) {
        return 0;
    }
    *out = ring->buf[tail & ring->mask];
    ring->tail = tail + 1u;
    return 1;
}

uint32_t cg_rx_ring_count(const cg_rx_ring *ring)
{
    return ring->head - ring->tail;
}
