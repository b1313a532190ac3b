/* Test stub (see ../esp_err.h): the IDF USB-Serial-JTAG driver API as the port uses it (ESP-IDF 5.x). */
#ifndef CG_STUB_DRIVER_USB_SERIAL_JTAG_H
#define CG_STUB_DRIVER_USB_SERIAL_JTAG_H
#include <stddef.h>
#include <stdint.h>
#include "esp_err.h"

typedef uint32_t TickType_t;

typedef struct {
    uint32_t tx_buffer_size;
    uint32_t rx_buffer_size;
} usb_serial_jtag_driver_config_t;

esp_err_t usb_serial_jtag_driver_install(usb_serial_jtag_driver_config_t *usb_serial_jtag_config);
int usb_serial_jtag_read_bytes(void *buf, uint32_t length, TickType_t ticks_to_wait);
int usb_serial_jtag_write_bytes(const void *src, size_t size, TickType_t ticks_to_wait);
#endif
