#ifndef CG_PORT_H
#define CG_PORT_H
#include <stdint.h>
void port_init(void);
void port_write(const uint8_t *buf, uint32_t n);
#endif
