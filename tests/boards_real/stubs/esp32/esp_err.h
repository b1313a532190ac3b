/* Test stub: the ESP-IDF symbols the codegen ESP32 port uses, with the IDF 5.x signatures; nothing else. */
#ifndef CG_STUB_ESP_ERR_H
#define CG_STUB_ESP_ERR_H
typedef int esp_err_t;
#define ESP_OK 0
void cg_stub_esp_error_check_failed(esp_err_t rc, const char *file, int line, const char *expr);
#define ESP_ERROR_CHECK(x)                                                     \
    do {                                                                       \
        esp_err_t err_rc_ = (x);                                               \
        if (err_rc_ != ESP_OK) {                                               \
            cg_stub_esp_error_check_failed(err_rc_, __FILE__, __LINE__, #x);   \
        }                                                                      \
    } while (0)
#endif
