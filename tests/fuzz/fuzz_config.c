/*
 * libFuzzer target for the configuration loader: any bytes given as a YAML file must load or
 * be refused with a message, never crash, leak or read out of bounds.
 * Build and run: make fuzz (clang, -fsanitize=fuzzer,address,undefined).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mes_config cfg;
    char err[512];
    if (config_load_string("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof(err)) != 0) {
        /* A refusal always says something, NUL-terminated within the buffer. */
        if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
            __builtin_trap();
    }
    return 0;
}
