"""The STM32 port's interrupt-to-main-loop receive ring keeps order, counts drops and survives index wrap.

Built for the host with AddressSanitizer and UBSan: the ring is vendor-free C, so its logic is tested here.
"""

from __future__ import annotations

import pytest

from tests.boards_real.conftest import HOST_GCC, STM32_PORT, WARNINGS, run

pytestmark = pytest.mark.skipif(HOST_GCC is None, reason="host gcc not installed")

HARNESS = r"""
#include <stdio.h>
#include "cg_rx_ring.h"

#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s\n", __LINE__, #cond); return 1; } } while (0)

int main(void)
{
    static uint8_t storage[8];
    cg_rx_ring ring;
    uint8_t b = 0;
    uint32_t i;

    CHECK(cg_rx_ring_init(&ring, storage, 6u) == -1);       /* not a power of two */
    CHECK(cg_rx_ring_init(&ring, storage, 1u) == -1);
    CHECK(cg_rx_ring_init(&ring, NULL, 8u) == -1);
    CHECK(cg_rx_ring_init(&ring, storage, 8u) == 0);
    CHECK(cg_rx_ring_pop(&ring, &b) == 0);                   /* empty */

    for (i = 0; i < 8u; ++i) CHECK(cg_rx_ring_push(&ring, (uint8_t)(0xA0u + i)) == 1);
    CHECK(cg_rx_ring_count(&ring) == 8u);                    /* full capacity usable */
    CHECK(cg_rx_ring_push(&ring, 0xEEu) == 0);               /* full: dropped and counted */
    CHECK(ring.dropped == 1u);
    for (i = 0; i < 8u; ++i) { CHECK(cg_rx_ring_pop(&ring, &b) == 1); CHECK(b == (uint8_t)(0xA0u + i)); }
    CHECK(cg_rx_ring_pop(&ring, &b) == 0);

    /* free-running indices across the 2^32 wrap */
    ring.head = ring.tail = 0xFFFFFFFCu;
    for (i = 0; i < 8u; ++i) CHECK(cg_rx_ring_push(&ring, (uint8_t)i) == 1);
    CHECK(ring.head == 4u && cg_rx_ring_count(&ring) == 8u);
    CHECK(cg_rx_ring_push(&ring, 0xEEu) == 0);
    for (i = 0; i < 8u; ++i) { CHECK(cg_rx_ring_pop(&ring, &b) == 1); CHECK(b == (uint8_t)i); }
    CHECK(cg_rx_ring_count(&ring) == 0u && ring.dropped == 2u);

    /* interleaved producer/consumer keeps FIFO order over many laps */
    for (i = 0; i < 10000u; ++i) {
        CHECK(cg_rx_ring_push(&ring, (uint8_t)i) == 1);
        if (i % 3u == 2u) {
            CHECK(cg_rx_ring_pop(&ring, &b) == 1);
            CHECK(cg_rx_ring_pop(&ring, &b) == 1);
            CHECK(cg_rx_ring_pop(&ring, &b) == 1);
            CHECK(b == (uint8_t)i);
        }
    }
    printf("OK\n");
    return 0;
}
"""


def test_rx_ring_keeps_order_counts_drops_and_wraps(tmp_path):
    (tmp_path / "harness.c").write_text(HARNESS)
    exe = tmp_path / "harness"
    sources = [str(tmp_path / "harness.c"), str(STM32_PORT / "cg_rx_ring.c")]
    result = run([HOST_GCC, *WARNINGS, "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                  f"-I{STM32_PORT}", *sources, "-o", str(exe)])
    assert result.returncode == 0, result.stderr
    out = run([str(exe)])
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stdout + out.stderr


def test_dwt_counter_needs_no_vendor_header(tmp_path):
    """cg_dwt.c uses only architectural addresses, so it builds with nothing but the compiler."""
    result = run([HOST_GCC, *WARNINGS, "-c", f"-I{STM32_PORT}", str(STM32_PORT / "cg_dwt.c"),
                  "-o", str(tmp_path / "dwt.o")])
    assert result.returncode == 0, result.stderr
