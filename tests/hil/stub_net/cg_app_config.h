/* Test stub: the fixed CG_APP_NET_* names of include/cg_app_config.h, mapped to a tiny fake network. */
#ifndef CG_APP_CONFIG_H
#define CG_APP_CONFIG_H

#include <stdint.h>

typedef enum { CG_OK = 0, CG_ERR_ARG = 1 } cg_status;
typedef struct { int dtype; uint8_t rank; int32_t dims[6]; float scale; int32_t zero_point; uint32_t nbytes; }
    cg_tensor_info;

#define CG_BOARD_NAME "host_stub"
#define STUB_IN 20u
#define STUB_OUT 6u

cg_status stub_init(void);
cg_status stub_run(void);
void stub_reset(void);
void *stub_input(int i);
void *stub_output(int i);
const cg_tensor_info *stub_input_info(int i);
const cg_tensor_info *stub_output_info(int i);

#define CG_APP_NET_NUM_INPUTS 1
#define CG_APP_NET_NUM_OUTPUTS 1
#define CG_APP_NET_INIT stub_init
#define CG_APP_NET_RUN stub_run
#define CG_APP_NET_RESET stub_reset
#define CG_APP_NET_INPUT stub_input
#define CG_APP_NET_OUTPUT stub_output
#define CG_APP_NET_INPUT_INFO stub_input_info
#define CG_APP_NET_OUTPUT_INFO stub_output_info

#endif
