/* codegen firmware: boot, READY line and the command handlers of the serial protocol (docs/protocol.md).
 * Talks to the hardware only through port.h and to the model only through the generated network API,
 * reached under fixed names (CG_APP_NET_*) defined by the generated include/cg_app_config.h. */
#include "cg_app.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cg_app_config.h"
#include "cg_proto.h"
#include "port.h"

#define APP_SMALL_PAYLOAD 256u
#define APP_VERSION "codegen-fw 1"
#define LAYERS_MAX (CG_APP_NET_NUM_LAYERS > 0 ? CG_APP_NET_NUM_LAYERS : 1)

enum { TARGET_SMALL = 0, TARGET_INPUTS = 1 };

typedef struct {
    int target;
    uint8_t small[APP_SMALL_PAYLOAD];
    uint8_t *input_ptr[CG_APP_NET_NUM_INPUTS];
    uint32_t input_bytes[CG_APP_NET_NUM_INPUTS];
    uint32_t input_total;
    uint32_t cur_input;
    uint32_t cur_base;
    int net_ok;
    cg_status net_status;
    /* profiling of the last inference */
    uint32_t layer_cycles[LAYERS_MAX];
    uint32_t mark;
    int have_profile;
    /* dump mode: stream every layer's output from the hook */
    int dumping;
    uint8_t dump_seq;
} app_state;

static app_state app;

static uint32_t str_len(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

static void write_str(const char *s)
{
    port_write((const uint8_t *)s, str_len(s));
}

/* ---- payload sink ---------------------------------------------------------------------------------- */

static cg_proto_status sink_accept(uint8_t cmd, uint32_t len, void *user)
{
    (void)user;
    app.target = TARGET_SMALL;
    app.cur_input = 0;
    app.cur_base = 0;
    switch (cmd) {
    case CG_CMD_PING:
        return len <= APP_SMALL_PAYLOAD ? CG_ST_OK : CG_ST_BAD_LENGTH;
    case CG_CMD_INFO:
        return len == 0 ? CG_ST_OK : CG_ST_BAD_LENGTH;
    case CG_CMD_PROFILE: /* empty: profile of the last inference; with an input: profile a new one */
    case CG_CMD_INFER:
    case CG_CMD_DUMP:
        if (cmd == CG_CMD_PROFILE && len == 0) {
            return CG_ST_OK;
        }
        if (len != app.input_total) {
            return CG_ST_BAD_LENGTH;
        }
        app.target = TARGET_INPUTS;
        return CG_ST_OK;
    default:
        return CG_ST_UNKNOWN_COMMAND;
    }
}

static void sink_store(uint32_t off, uint8_t byte, void *user)
{
    (void)user;
    if (app.target == TARGET_SMALL) {
        if (off < APP_SMALL_PAYLOAD) {
            app.small[off] = byte;
        }
        return;
    }
#if CG_APP_NET_NUM_INPUTS > 1
    /* inputs arrive back to back, in order */
    while (app.cur_input + 1u < (uint32_t)CG_APP_NET_NUM_INPUTS && off - app.cur_base >= app.input_bytes[app.cur_input]) {
        app.cur_base += app.input_bytes[app.cur_input];
        app.cur_input++;
    }
#endif
    uint32_t rel = off - app.cur_base;
    if (app.input_ptr[app.cur_input] != NULL && rel < app.input_bytes[app.cur_input]) {
        app.input_ptr[app.cur_input][rel] = byte;
    }
}

/* ---- inference -------------------------------------------------------------------------------------- */

static void send_layer(int layer)
{
    uint32_t nbytes = 0;
    const void *data = CG_APP_NET_LAYER_OUTPUT(layer, &nbytes);
    const char *name = CG_APP_NET_LAYER_NAME(layer);
    if (name == NULL) {
        name = "";
    }
    uint32_t name_len = str_len(name);
    if (name_len > 255u) {
        name_len = 255u;
    }
    if (data == NULL) {
        nbytes = 0;
    }
    cg_tx_begin(CG_CMD_DUMP | CG_REPLY, app.dump_seq, 1 + 2 + 2 + 1 + name_len + nbytes);
    cg_tx_u8(CG_ST_OK);
    cg_tx_u16((uint16_t)layer);
    cg_tx_u16((uint16_t)CG_APP_NET_NUM_LAYERS);
    cg_tx_u8((uint8_t)name_len);
    cg_tx_bytes(name, name_len);
    cg_tx_bytes(data, nbytes);
    cg_tx_end();
}

static void layer_hook(int layer, void *user)
{
    (void)user;
    uint32_t now = port_cycles();
    if (layer >= 0 && layer < LAYERS_MAX) {
        app.layer_cycles[layer] = now - app.mark;
    }
    if (app.dumping) {
        send_layer(layer);
    }
    app.mark = port_cycles();
}

/* Runs one inference on the input buffers; returns the status and the elapsed count. Every inference starts
 * from cleared state tensors (SVDF/LSTM state; a no-op for other networks): samples are independent. */
static cg_status run_network(uint32_t *elapsed)
{
    CG_APP_NET_RESET();
    for (int i = 0; i < LAYERS_MAX; i++) {
        app.layer_cycles[i] = 0;
    }
    uint32_t t0 = port_cycles();
    app.mark = t0;
    cg_status st = CG_APP_NET_RUN();
    *elapsed = port_cycles() - t0;
    app.have_profile = st == CG_OK;
    return st;
}

static int check_net(uint8_t cmd, uint8_t seq)
{
    if (!app.net_ok) {
        cg_tx_error((uint8_t)(cmd | CG_REPLY), seq, CG_ST_NET_ERROR, (uint8_t)app.net_status,
                    "network initialisation failed");
        return 0;
    }
    return 1;
}

/* ---- command handlers --------------------------------------------------------------------------------- */

static void do_ping(const cg_frame *f)
{
    cg_tx_begin(CG_CMD_PING | CG_REPLY, f->seq, 1 + f->len);
    cg_tx_u8(CG_ST_OK);
    cg_tx_bytes(app.small, f->len);
    cg_tx_end();
}

static uint32_t tensor_info_bytes(const cg_tensor_info *t)
{
    return 2u + 4u * (t != NULL ? t->rank : 0u) + 12u;
}

static void send_tensor_info(const cg_tensor_info *t)
{
    static const cg_tensor_info none = {CG_DTYPE_INT8, 0, {0, 0, 0, 0, 0, 0}, 0.0f, 0, 0};
    if (t == NULL) {
        t = &none;
    }
    uint32_t scale_bits;
    memcpy(&scale_bits, &t->scale, sizeof scale_bits);
    cg_tx_u8((uint8_t)t->dtype);
    cg_tx_u8(t->rank);
    for (int d = 0; d < t->rank; d++) {
        cg_tx_u32((uint32_t)t->dims[d]);
    }
    cg_tx_u32(scale_bits);
    cg_tx_u32((uint32_t)t->zero_point);
    cg_tx_u32(t->nbytes);
}

static void do_info(const cg_frame *f)
{
    const char *strings[6] = {CG_MODEL_SHA256, CG_APP_NET_TOOL_VERSION, APP_VERSION, CG_BOARD_NAME, CG_MODEL_NAME,
                              port_counter_kind()};
    uint32_t len = 1 + 1 + 1 + 1 + 2 + 2 + 4 * 4;
    for (int i = 0; i < 6; i++) {
        uint32_t n = str_len(strings[i]);
        len += 1 + (n > 255u ? 255u : n);
    }
    for (int i = 0; i < CG_APP_NET_NUM_INPUTS; i++) {
        len += tensor_info_bytes(CG_APP_NET_INPUT_INFO(i));
    }
    for (int i = 0; i < CG_APP_NET_NUM_OUTPUTS; i++) {
        len += tensor_info_bytes(CG_APP_NET_OUTPUT_INFO(i));
    }
    uint32_t max_payload = app.input_total > APP_SMALL_PAYLOAD ? app.input_total : APP_SMALL_PAYLOAD;
    cg_tx_begin(CG_CMD_INFO | CG_REPLY, f->seq, len);
    cg_tx_u8(CG_ST_OK);
    cg_tx_u8(CG_PROTO_VERSION);
    cg_tx_u8((uint8_t)CG_APP_NET_NUM_INPUTS);
    cg_tx_u8((uint8_t)CG_APP_NET_NUM_OUTPUTS);
    cg_tx_u16((uint16_t)CG_APP_NET_NUM_LAYERS);
    cg_tx_u16((uint16_t)(app.net_ok ? 0u : 1u));
    cg_tx_u32((uint32_t)CG_APP_NET_ARENA_SIZE);
    cg_tx_u32((uint32_t)CG_BOARD_CLOCK_HZ);
    cg_tx_u32(port_cycle_hz());
    cg_tx_u32(max_payload);
    for (int i = 0; i < 6; i++) {
        uint32_t n = str_len(strings[i]);
        n = n > 255u ? 255u : n;
        cg_tx_u8((uint8_t)n);
        cg_tx_bytes(strings[i], n);
    }
    for (int i = 0; i < CG_APP_NET_NUM_INPUTS; i++) {
        send_tensor_info(CG_APP_NET_INPUT_INFO(i));
    }
    for (int i = 0; i < CG_APP_NET_NUM_OUTPUTS; i++) {
        send_tensor_info(CG_APP_NET_OUTPUT_INFO(i));
    }
    cg_tx_end();
}

static void do_infer(const cg_frame *f)
{
    if (!check_net(f->cmd, f->seq)) {
        return;
    }
    uint32_t elapsed = 0;
    cg_status st = run_network(&elapsed);
    if (st != CG_OK) {
        cg_tx_error(CG_CMD_INFER | CG_REPLY, f->seq, CG_ST_NET_ERROR, (uint8_t)st, "inference failed");
        return;
    }
    uint32_t out_total = 0;
    for (int i = 0; i < CG_APP_NET_NUM_OUTPUTS; i++) {
        const cg_tensor_info *t = CG_APP_NET_OUTPUT_INFO(i);
        out_total += t != NULL ? t->nbytes : 0u;
    }
    cg_tx_begin(CG_CMD_INFER | CG_REPLY, f->seq, 1 + 4 + out_total);
    cg_tx_u8(CG_ST_OK);
    cg_tx_u32(elapsed);
    for (int i = 0; i < CG_APP_NET_NUM_OUTPUTS; i++) {
        const cg_tensor_info *t = CG_APP_NET_OUTPUT_INFO(i);
        if (t != NULL) {
            cg_tx_bytes(CG_APP_NET_OUTPUT(i), t->nbytes);
        }
    }
    cg_tx_end();
}

static void do_profile(const cg_frame *f)
{
    if (!check_net(f->cmd, f->seq)) {
        return;
    }
    uint32_t elapsed = 0;
    if (f->len != 0) {
        cg_status st = run_network(&elapsed);
        if (st != CG_OK) {
            cg_tx_error(CG_CMD_PROFILE | CG_REPLY, f->seq, CG_ST_NET_ERROR, (uint8_t)st, "inference failed");
            return;
        }
    } else if (!app.have_profile) {
        cg_tx_error(CG_CMD_PROFILE | CG_REPLY, f->seq, CG_ST_BAD_ARGUMENT, 0,
                    "no inference yet: send PROFILE with an input");
        return;
    }
    uint32_t len = 1 + 2;
    for (int i = 0; i < CG_APP_NET_NUM_LAYERS; i++) {
        const char *name = CG_APP_NET_LAYER_NAME(i);
        uint32_t n = name != NULL ? str_len(name) : 0u;
        len += 4 + 1 + (n > 255u ? 255u : n);
    }
    cg_tx_begin(CG_CMD_PROFILE | CG_REPLY, f->seq, len);
    cg_tx_u8(CG_ST_OK);
    cg_tx_u16((uint16_t)CG_APP_NET_NUM_LAYERS);
    for (int i = 0; i < CG_APP_NET_NUM_LAYERS; i++) {
        const char *name = CG_APP_NET_LAYER_NAME(i);
        uint32_t n = name != NULL ? str_len(name) : 0u;
        n = n > 255u ? 255u : n;
        cg_tx_u32(app.layer_cycles[i]);
        cg_tx_u8((uint8_t)n);
        cg_tx_bytes(name, n);
    }
    cg_tx_end();
}

static void do_dump(const cg_frame *f)
{
    if (!check_net(f->cmd, f->seq)) {
        return;
    }
    uint32_t elapsed = 0;
    app.dumping = 1;
    app.dump_seq = f->seq;
    cg_status st = run_network(&elapsed);
    app.dumping = 0;
    if (st != CG_OK) {
        cg_tx_error(CG_CMD_DUMP | CG_REPLY, f->seq, CG_ST_NET_ERROR, (uint8_t)st, "inference failed");
        return;
    }
    uint32_t total = 0;
    for (int i = 0; i < CG_APP_NET_NUM_LAYERS; i++) {
        total += app.layer_cycles[i];
    }
    cg_tx_begin(CG_CMD_DUMP | CG_REPLY, f->seq, 1 + 2 + 2 + 4);
    cg_tx_u8(CG_ST_OK);
    cg_tx_u16(0xFFFFu);
    cg_tx_u16((uint16_t)CG_APP_NET_NUM_LAYERS);
    cg_tx_u32(total);
    cg_tx_end();
}

/* ---- main ---------------------------------------------------------------------------------------------- */

static void init_network(void)
{
    app.net_status = CG_APP_NET_INIT();
    app.net_ok = app.net_status == CG_OK;
    app.input_total = 0;
    for (int i = 0; i < CG_APP_NET_NUM_INPUTS; i++) {
        const cg_tensor_info *t = CG_APP_NET_INPUT_INFO(i);
        app.input_ptr[i] = (uint8_t *)CG_APP_NET_INPUT(i);
        app.input_bytes[i] = t != NULL ? t->nbytes : 0u;
        app.input_total += app.input_bytes[i];
    }
    CG_APP_NET_SET_LAYER_HOOK(layer_hook, NULL);
}

void cg_app_main(void)
{
    port_init();
    init_network();
    write_str("\r\nREADY codegen model=" CG_MODEL_SHA256 " board=" CG_BOARD_NAME " proto=1");
    write_str(app.net_ok ? " net=ok\r\n" : " net=error\r\n");

    cg_rx rx;
    cg_rx_reset(&rx);
    const cg_rx_sink sink = {sink_accept, sink_store, NULL};
    cg_frame f;
    for (;;) {
        if (!cg_rx_poll(&rx, &sink, &f)) {
            continue;
        }
        switch (f.cmd) {
        case CG_CMD_PING:
            do_ping(&f);
            break;
        case CG_CMD_INFO:
            do_info(&f);
            break;
        case CG_CMD_INFER:
            do_infer(&f);
            break;
        case CG_CMD_PROFILE:
            do_profile(&f);
            break;
        case CG_CMD_DUMP:
            do_dump(&f);
            break;
        default:
            cg_tx_error((uint8_t)(f.cmd | CG_REPLY), f.seq, CG_ST_UNKNOWN_COMMAND, 0, "unknown command");
            break;
        }
    }
}
