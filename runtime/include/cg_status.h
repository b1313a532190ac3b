/* codegen runtime: status codes shared by every kernel, the network and the firmware.
 * The list is an X-macro so the string table is generated from the same list. */
#ifndef CG_STATUS_H
#define CG_STATUS_H

#define CG_STATUS_LIST(X)                                              \
    X(CG_OK, 0, "ok")                                                  \
    X(CG_ERR_ARG, 1, "invalid argument")                               \
    X(CG_ERR_SHAPE, 2, "shape mismatch")                               \
    X(CG_ERR_SCRATCH, 3, "scratch buffer too small")                   \
    X(CG_ERR_CORRUPT, 4, "corrupted data (CRC or format check failed)") \
    X(CG_ERR_UNSUPPORTED, 5, "unsupported parameters")                 \
    X(CG_ERR_NOT_INIT, 6, "network not initialised")

typedef enum {
#define CG_STATUS_ENUM(name, value, text) name = value,
    CG_STATUS_LIST(CG_STATUS_ENUM)
#undef CG_STATUS_ENUM
    CG_STATUS_COUNT
} cg_status;

/* Human-readable text of a status code; never NULL. */
const char *cg_status_str(cg_status status);

#endif /* CG_STATUS_H */
