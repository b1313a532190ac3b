/* codegen runtime: types shared by the kernels, the generated network and the firmware. */
#ifndef CG_TYPES_H
#define CG_TYPES_H

#include <stdint.h>

/* Element types of tensors seen through the generated network API. */
typedef enum {
    CG_DTYPE_INT8 = 0,
    CG_DTYPE_UINT8 = 1,
    CG_DTYPE_INT16 = 2,
    CG_DTYPE_INT32 = 3,
    CG_DTYPE_FLOAT32 = 4,
    CG_DTYPE_INT64 = 5
} cg_dtype;

/* Shape, type and quantization of a network input or output. */
typedef struct {
    cg_dtype dtype;
    uint8_t rank;
    int32_t dims[6];
    float scale;        /* 0 for float tensors */
    int32_t zero_point;
    uint32_t nbytes;
} cg_tensor_info;

/* Called by the generated network after each layer. */
typedef void (*cg_layer_hook)(int layer, void *user);

/* 4-D shape in NHWC order. Lower-rank tensors use n = h = w = 1 where needed. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} cg_dims;

/* Alignment of constant data and of the arena. */
#if defined(__GNUC__) || defined(__clang__)
#define CG_ALIGN(n) __attribute__((aligned(n)))
#else
#define CG_ALIGN(n)
#endif

/* Placement of the network's arena: ordinary .bss unless the project asks for external RAM (ESP32 boards with
 * PSRAM whose arena does not fit internal RAM compile the network with CG_ARENA_IN_EXT_RAM=1). */
#ifndef CG_ARENA_ATTR
#if defined(CG_ARENA_IN_EXT_RAM) && CG_ARENA_IN_EXT_RAM
#include "esp_attr.h"
#define CG_ARENA_ATTR EXT_RAM_BSS_ATTR
#else
#define CG_ARENA_ATTR
#endif
#endif

#endif /* CG_TYPES_H */
