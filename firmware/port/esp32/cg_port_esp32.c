/* codegen ESP32 port: firmware/app/port.h on ESP-IDF 5.x (ESP32, ESP32-S3, ESP32-C3, ESP32-C6).
 *
 * Serial, one of two consoles chosen by the board (the project's component CMakeLists.txt):
 * - UART0 (default), the UART wired to the board's USB-to-UART bridge (CP210x/CH340 on ESP32-DevKitC, the
 *   "UART" connector of ESP32-S3-DevKitC-1, the only USB connector of ESP32-C3-DevKitM-1; an external adapter
 *   on GPIO1/GPIO3 for the ESP32-CAM), driven by the IDF UART driver at CG_BOARD_BAUD;
 * - the chip's USB-Serial-JTAG port (CG_PORT_CONSOLE_USB_SERIAL_JTAG, ESP32-C6-DevKitC-1's "ESP32-C6 USB"
 *   connector), driven by the IDF usb_serial_jtag driver; the baud rate does not apply.
 * Either is also the IDF console: the project's sdkconfig.defaults turns logging off so that nothing but protocol
 * frames reaches the host after boot (the ROM boot banner still does; the host hunts for the frame sync bytes).
 *
 * Cycles: the CPU cycle counter of the calling core through esp_cpu_get_cycle_count() (Xtensa CCOUNT on
 * ESP32/ESP32-S3, the RISC-V performance/cycle counter on ESP32-C3/C6). It is per core, so the application must
 * stay on one core: app_main runs in the main task, which ESP-IDF pins to CPU0
 * (CONFIG_ESP_MAIN_TASK_AFFINITY_CPU0, set in sdkconfig.defaults). The CPU clock comes from sdkconfig
 * (CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_<n>); port_cycle_hz() reads the rate ESP-IDF actually configured.
 *
 * Watchdog: inference runs for long stretches without yielding, so sdkconfig.defaults does not start the task
 * watchdog on the idle tasks (its warning would also be printed on UART0, in the middle of the protocol). */
#include <stdint.h>

#include "cg_app_config.h"
#include "port.h"

#if CG_PORT_CONSOLE_USB_SERIAL_JTAG
#include "driver/usb_serial_jtag.h"
#else
#include "driver/uart.h"
#endif
#include "esp_cpu.h"
#include "esp_err.h"
#include "esp_idf_version.h"
#include "esp_rom_sys.h"
#include "esp_timer.h"

/* Driver receive ring: large enough to hold an input tensor arriving while the application is busy. */
#ifndef CG_PORT_RX_BUFFER_BYTES
#define CG_PORT_RX_BUFFER_BYTES 8192
#endif

#if CG_PORT_CONSOLE_USB_SERIAL_JTAG

/* Longest wait for room in the USB transmit buffer: the host may not read (port closed); then bytes are dropped
 * rather than blocking the application forever. */
#define CG_USB_TX_WAIT_TICKS 100

void port_init(void)
{
    usb_serial_jtag_driver_config_t cfg = {
        .tx_buffer_size = 1024,
        .rx_buffer_size = CG_PORT_RX_BUFFER_BYTES,
    };
    ESP_ERROR_CHECK(usb_serial_jtag_driver_install(&cfg));
}

void port_write(const uint8_t *buf, uint32_t n)
{
    while (n > 0u) {
        int written = usb_serial_jtag_write_bytes((const void *)buf, (size_t)n, CG_USB_TX_WAIT_TICKS);
        if (written <= 0) {
            return; /* nobody is reading: drop the rest */
        }
        buf += written;
        n -= (uint32_t)written;
    }
}

int port_read_byte(uint8_t *out)
{
    return usb_serial_jtag_read_bytes(out, 1u, 0) == 1;
}

#else /* UART0 */

#define CG_UART_NUM UART_NUM_0

void port_init(void)
{
    uart_config_t cfg = {
        .baud_rate = (int)CG_BOARD_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .rx_flow_ctrl_thresh = 0,
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 0, 0)
        .source_clk = UART_SCLK_DEFAULT,
#else
        .source_clk = UART_SCLK_APB,
#endif
    };
    /* tx_buffer_size 0: uart_write_bytes blocks until every byte is in the hardware FIFO. */
    ESP_ERROR_CHECK(uart_driver_install(CG_UART_NUM, CG_PORT_RX_BUFFER_BYTES, 0, 0, NULL, 0));
    ESP_ERROR_CHECK(uart_param_config(CG_UART_NUM, &cfg));
    ESP_ERROR_CHECK(uart_set_pin(CG_UART_NUM, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE,
                                 UART_PIN_NO_CHANGE));
    (void)uart_flush_input(CG_UART_NUM); /* drop whatever arrived during boot */
}

void port_write(const uint8_t *buf, uint32_t n)
{
    while (n > 0u) {
        int written = uart_write_bytes(CG_UART_NUM, (const void *)buf, (size_t)n);
        if (written <= 0) {
            return; /* driver error: nothing sensible left to do on the only console */
        }
        buf += written;
        n -= (uint32_t)written;
    }
}

int port_read_byte(uint8_t *out)
{
    return uart_read_bytes(CG_UART_NUM, out, 1u, 0) == 1;
}

#endif /* console */

uint32_t port_millis(void)
{
    return (uint32_t)(esp_timer_get_time() / 1000);
}

uint32_t port_cycles(void)
{
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 0, 0)
    return (uint32_t)esp_cpu_get_cycle_count();
#else
    return (uint32_t)esp_cpu_get_ccount();
#endif
}

uint32_t port_cycle_hz(void)
{
    return esp_rom_get_cpu_ticks_per_us() * 1000000u;
}

const char *port_counter_kind(void)
{
    return "cycles";
}
