/* codegen runtime: status code to text. */
#include "cg_status.h"

const char *cg_status_str(cg_status status)
{
    switch (status) {
#define CG_STATUS_CASE(name, value, text) \
    case name:                            \
        return text;
        CG_STATUS_LIST(CG_STATUS_CASE)
#undef CG_STATUS_CASE
    default:
        return "unknown status";
    }
}
