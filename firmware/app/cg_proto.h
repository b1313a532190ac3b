/* codegen firmware: framing of the serial protocol (docs/protocol.md).
 *
 * Frame: A5 5A | cmd | seq | len (u32 LE) | hcrc = CRC-8(cmd..len) | payload[len] | CRC-32(cmd..payload) LE
 * The receiver hunts for the sync bytes, checks the header byte, asks the application where the payload
 * goes (so a large input tensor streams straight into the network's input buffer), checks the CRC-32 and
 * times out a frame that stalls. Replies are streamed with cg_tx_begin / cg_tx_bytes / cg_tx_end. */
#ifndef CG_PROTO_H
#define CG_PROTO_H

#include <stdint.h>

#define CG_PROTO_VERSION 1u
#define CG_SYNC0 0xA5u
#define CG_SYNC1 0x5Au
#define CG_HEADER_BYTES 9u  /* sync(2) cmd seq len(4) hcrc */
#define CG_STALL_MS 200u    /* a frame with no byte for this long is dropped with a TIMEOUT error */

/* Commands (host -> device). A reply carries cmd | 0x80; frame-level errors use CG_CMD_ERROR. */
#define CG_CMD_PING 0x01u
#define CG_CMD_INFO 0x02u
#define CG_CMD_INFER 0x03u
#define CG_CMD_PROFILE 0x04u
#define CG_CMD_DUMP 0x05u
#define CG_REPLY 0x80u
#define CG_CMD_ERROR 0xFFu

/* First payload byte of every reply. */
#define CG_STATUS_LIST_PROTO(X)             \
    X(CG_ST_OK, 0)                          \
    X(CG_ST_BAD_HEADER, 1)                  \
    X(CG_ST_BAD_CRC, 2)                     \
    X(CG_ST_BAD_LENGTH, 3)                  \
    X(CG_ST_UNKNOWN_COMMAND, 4)             \
    X(CG_ST_TIMEOUT, 5)                     \
    X(CG_ST_NET_ERROR, 6)                   \
    X(CG_ST_BAD_ARGUMENT, 7)

typedef enum {
#define CG_ST_ENUM(name, value) name = value,
    CG_STATUS_LIST_PROTO(CG_ST_ENUM)
#undef CG_ST_ENUM
} cg_proto_status;

/* Where the payload of an accepted frame goes. */
typedef struct {
    /* Called once the header is valid: return CG_ST_OK to accept a payload of len bytes for cmd, or an
     * error status (the frame is then answered with that error and the receiver hunts for the next sync). */
    cg_proto_status (*accept)(uint8_t cmd, uint32_t len, void *user);
    /* Store payload byte number off. */
    void (*store)(uint32_t off, uint8_t byte, void *user);
    void *user;
} cg_rx_sink;

typedef struct {
    uint8_t state;
    uint8_t header[7];  /* cmd seq len[4] hcrc */
    uint8_t hpos;
    uint8_t cmd;
    uint8_t seq;
    uint32_t len;
    uint32_t got;
    uint32_t crc;
    uint8_t crc_bytes[4];
    uint8_t cpos;
    uint32_t last_ms;
} cg_rx;

typedef struct {
    uint8_t cmd;
    uint8_t seq;
    uint32_t len;
} cg_frame;

void cg_rx_reset(cg_rx *rx);

/* Consume the bytes waiting on the port. Returns 1 and fills *frame when a complete, valid frame arrived
 * (its payload already went to the sink); 0 otherwise. Bad frames are answered here with an error reply. */
int cg_rx_poll(cg_rx *rx, const cg_rx_sink *sink, cg_frame *frame);

/* Streamed reply: header with the total payload length, any number of cg_tx_bytes, then cg_tx_end. */
void cg_tx_begin(uint8_t cmd, uint8_t seq, uint32_t len);
void cg_tx_bytes(const void *buf, uint32_t n);
void cg_tx_u8(uint8_t v);
void cg_tx_u16(uint16_t v);
void cg_tx_u32(uint32_t v);
void cg_tx_end(void);

/* Error reply: status, detail byte, text. */
void cg_tx_error(uint8_t cmd, uint8_t seq, cg_proto_status status, uint8_t detail, const char *text);

#endif /* CG_PROTO_H */
