/*
 * libFuzzer target for statistics reports as the hub meets them (federation/report.c,
 * federation/ministry.c): any bytes as a report's text go through the hub's acceptance check
 * and, when they parse as JSON, through the Ministry's summary row, which must cope with any
 * shape (absent, suppressed or ill-typed values) without a sanitizer finding.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "federation/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t seq = 0;
    char month[8];
    report_check((const char *)data, size, "05", &seq, month, NULL, 0);
    json_t *rep = json_loadb((const char *)data, size, 0, NULL);
    if (rep != NULL) {
        json_t *region = json_string("05"), *name = json_string("R"), *at = json_integer(1);
        json_t *row = ministry_row(rep, region, name, at);
        char *text = row ? json_dumps(row, 0) : NULL;
        free(text);
        json_decref(row);
        json_decref(region);
        json_decref(name);
        json_decref(at);
        json_decref(rep);
    }
    return 0;
}
