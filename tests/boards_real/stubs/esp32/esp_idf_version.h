/* Test stub (see esp_err.h). CG_STUB_IDF_MAJOR selects the IDF major version the port is checked against. */
#ifndef CG_STUB_ESP_IDF_VERSION_H
#define CG_STUB_ESP_IDF_VERSION_H
#ifndef CG_STUB_IDF_MAJOR
#define CG_STUB_IDF_MAJOR 5
#endif
#define ESP_IDF_VERSION_MAJOR CG_STUB_IDF_MAJOR
#define ESP_IDF_VERSION_MINOR 1
#define ESP_IDF_VERSION_PATCH 2
#define ESP_IDF_VERSION_VAL(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define ESP_IDF_VERSION ESP_IDF_VERSION_VAL(ESP_IDF_VERSION_MAJOR, ESP_IDF_VERSION_MINOR, ESP_IDF_VERSION_PATCH)
#endif
