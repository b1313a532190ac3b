/* codegen firmware: frame receiver (resynchronising, timing out) and streamed frame transmitter. */
#include "cg_proto.h"

#include <stddef.h>

#include "cg_crc.h"
#include "port.h"

enum { RX_HUNT0 = 0, RX_HUNT1, RX_HEADER, RX_PAYLOAD, RX_CRC };

void cg_rx_reset(cg_rx *rx)
{
    rx->state = RX_HUNT0;
    rx->hpos = 0;
    rx->got = 0;
    rx->cpos = 0;
    rx->len = 0;
}

static void feed_byte(cg_rx *rx, const cg_rx_sink *sink, uint8_t b, cg_frame *frame, int *done);

static void header_done(cg_rx *rx, const cg_rx_sink *sink)
{
    uint8_t hcrc = 0;
    for (int i = 0; i < 6; i++) {
        hcrc = cg_crc8_update(hcrc, rx->header[i]);
    }
    if (hcrc != rx->header[6]) {
        cg_tx_error(CG_CMD_ERROR, rx->header[1], CG_ST_BAD_HEADER, 0, "bad header check byte");
        /* Resynchronise: the real sync may start inside these 7 bytes (e.g. after a truncated frame). */
        uint8_t again[sizeof rx->header];
        for (unsigned i = 0; i < sizeof again; i++) {
            again[i] = rx->header[i];
        }
        cg_rx_reset(rx);
        int done = 0;
        for (unsigned i = 0; i < sizeof again; i++) {
            feed_byte(rx, sink, again[i], NULL, &done);
        }
        return;
    }
    rx->cmd = rx->header[0];
    rx->seq = rx->header[1];
    rx->len = (uint32_t)rx->header[2] | ((uint32_t)rx->header[3] << 8) | ((uint32_t)rx->header[4] << 16) |
              ((uint32_t)rx->header[5] << 24);
    cg_proto_status st = sink->accept(rx->cmd, rx->len, sink->user);
    if (st != CG_ST_OK) {
        cg_tx_error((uint8_t)(rx->cmd | CG_REPLY), rx->seq, st, 0,
                    st == CG_ST_UNKNOWN_COMMAND ? "unknown command" : "payload length not accepted");
        cg_rx_reset(rx);
        return;
    }
    rx->crc = cg_crc32_update(cg_crc32_begin(), rx->header, 7);
    rx->got = 0;
    rx->cpos = 0;
    rx->state = rx->len ? RX_PAYLOAD : RX_CRC;
}

static int crc_done(cg_rx *rx, cg_frame *frame)
{
    uint32_t want = cg_crc32_end(rx->crc);
    uint32_t got = (uint32_t)rx->crc_bytes[0] | ((uint32_t)rx->crc_bytes[1] << 8) |
                   ((uint32_t)rx->crc_bytes[2] << 16) | ((uint32_t)rx->crc_bytes[3] << 24);
    uint8_t cmd = rx->cmd;
    uint8_t seq = rx->seq;
    uint32_t len = rx->len;
    cg_rx_reset(rx);
    if (want != got) {
        cg_tx_error(CG_CMD_ERROR, seq, CG_ST_BAD_CRC, 0, "frame CRC-32 mismatch");
        return 0;
    }
    frame->cmd = cmd;
    frame->seq = seq;
    frame->len = len;
    return 1;
}

/* One received byte through the state machine; *done = 1 when it completed a valid frame. Bytes re-fed after a
 * bad header (frame == NULL) can only be header bytes, so they never complete a frame. */
static void feed_byte(cg_rx *rx, const cg_rx_sink *sink, uint8_t b, cg_frame *frame, int *done)
{
    switch (rx->state) {
    case RX_HUNT0:
        if (b == CG_SYNC0) {
            rx->state = RX_HUNT1;
        }
        break;
    case RX_HUNT1:
        if (b == CG_SYNC1) {
            rx->state = RX_HEADER;
            rx->hpos = 0;
        } else if (b != CG_SYNC0) {
            rx->state = RX_HUNT0;
        }
        break;
    case RX_HEADER:
        rx->header[rx->hpos++] = b;
        if (rx->hpos == sizeof rx->header) {
            header_done(rx, sink);
        }
        break;
    case RX_PAYLOAD:
        sink->store(rx->got, b, sink->user);
        rx->crc = cg_crc32_update(rx->crc, &b, 1);
        if (++rx->got == rx->len) {
            rx->state = RX_CRC;
        }
        break;
    default: /* RX_CRC */
        rx->crc_bytes[rx->cpos++] = b;
        if (rx->cpos == 4 && frame != NULL && crc_done(rx, frame)) {
            *done = 1;
        }
        break;
    }
}

int cg_rx_poll(cg_rx *rx, const cg_rx_sink *sink, cg_frame *frame)
{
    uint32_t now = port_millis();
    uint8_t b;
    int any = 0;
    int done = 0;
    while (port_read_byte(&b)) {
        any = 1;
        rx->last_ms = now;
        feed_byte(rx, sink, b, frame, &done);
        if (done) {
            return 1;
        }
    }
    if (!any && rx->state >= RX_HEADER && (uint32_t)(now - rx->last_ms) > CG_STALL_MS) {
        uint8_t seq = rx->state > RX_HEADER ? rx->seq : 0;
        cg_rx_reset(rx);
        cg_tx_error(CG_CMD_ERROR, seq, CG_ST_TIMEOUT, 0, "frame stalled: timed out waiting for the rest");
    }
    return 0;
}

static uint32_t tx_crc;

void cg_tx_begin(uint8_t cmd, uint8_t seq, uint32_t len)
{
    uint8_t h[CG_HEADER_BYTES] = {CG_SYNC0, CG_SYNC1, cmd, seq, (uint8_t)len, (uint8_t)(len >> 8),
                                  (uint8_t)(len >> 16), (uint8_t)(len >> 24), 0};
    uint8_t hcrc = 0;
    for (int i = 2; i < 8; i++) {
        hcrc = cg_crc8_update(hcrc, h[i]);
    }
    h[8] = hcrc;
    port_write(h, sizeof h);
    tx_crc = cg_crc32_update(cg_crc32_begin(), &h[2], sizeof h - 2);
}

void cg_tx_bytes(const void *buf, uint32_t n)
{
    port_write((const uint8_t *)buf, n);
    tx_crc = cg_crc32_update(tx_crc, (const uint8_t *)buf, n);
}

void cg_tx_u8(uint8_t v)
{
    cg_tx_bytes(&v, 1);
}

void cg_tx_u16(uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    cg_tx_bytes(b, 2);
}

void cg_tx_u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    cg_tx_bytes(b, 4);
}

void cg_tx_end(void)
{
    uint32_t c = cg_crc32_end(tx_crc);
    uint8_t b[4] = {(uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24)};
    port_write(b, 4);
}

void cg_tx_error(uint8_t cmd, uint8_t seq, cg_proto_status status, uint8_t detail, const char *text)
{
    uint32_t n = 0;
    while (text[n] != '\0') {
        n++;
    }
    cg_tx_begin(cmd, seq, 2 + n);
    cg_tx_u8((uint8_t)status);
    cg_tx_u8(detail);
    cg_tx_bytes(text, n);
    cg_tx_end();
}
