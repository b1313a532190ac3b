#ifndef CG_PORT_H
#define CG_PORT_H
#include <stdint.h>
void port_init(void);
void port_write(const uint8_t *buf, uint32_t n);
int port_read_byte(uint8_t *out);
uint32_t port_millis(void);
#endif
