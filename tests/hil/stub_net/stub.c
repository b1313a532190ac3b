/* Fake network for the host test of the self-test source: out[i] = (sum of inputs + 7 i) mod 256.
 * port_write goes to stdout. The self-test repeats its report until the host sends a byte: by default exit() in
 * port_write ends the program after the first summary (written in one piece); with STUB_ACK_AFTER=N in the
 * environment the host "acknowledges" (port_read_byte returns a byte) once N summaries went out, and the stub
 * prints "ACK" and exits. port_millis advances by one per call, so the self-test's waits end quickly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_app_config.h"
#include "port.h"

static uint8_t in_buf[STUB_IN];
static uint8_t out_buf[STUB_OUT];
static const cg_tensor_info in_info = {0, 2, {1, STUB_IN}, 1.0f, 0, STUB_IN};
static const cg_tensor_info out_info = {0, 2, {1, STUB_OUT}, 1.0f, 0, STUB_OUT};

cg_status stub_init(void) { return CG_OK; }
void stub_reset(void) {}

cg_status stub_run(void)
{
    unsigned sum = 0, i;
    for (i = 0; i < STUB_IN; i++) sum += in_buf[i];
    for (i = 0; i < STUB_OUT; i++) out_buf[i] = (uint8_t)(sum + 7u * i);
    return CG_OK;
}

void *stub_input(int i) { return i == 0 ? in_buf : NULL; }
void *stub_output(int i) { return i == 0 ? out_buf : NULL; }
const cg_tensor_info *stub_input_info(int i) { return i == 0 ? &in_info : NULL; }
const cg_tensor_info *stub_output_info(int i) { return i == 0 ? &out_info : NULL; }

void port_init(void) {}

static unsigned summaries;

void port_write(const uint8_t *buf, uint32_t n)
{
    fwrite(buf, 1, n, stdout);
    if (n > 8 && strstr((const char *)buf, " Ignored\n") != NULL) {
        summaries++;
        if (getenv("STUB_ACK_AFTER") == NULL) {
            fflush(stdout);
            exit(0);
        }
    }
}

int port_read_byte(uint8_t *out)
{
    const char *after = getenv("STUB_ACK_AFTER");
    if (after != NULL && summaries >= (unsigned)atoi(after)) {
        *out = 0x06;
        fputs("ACK\n", stdout);
        fflush(stdout);
        exit(0);
    }
    return 0;
}

uint32_t port_millis(void)
{
    static uint32_t now;
    return now++;
}
