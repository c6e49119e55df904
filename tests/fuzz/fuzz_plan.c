/*
 * libFuzzer target for the calendar-thematic plan's CSV parser: any bytes must parse into
 * bounded topics or be refused with a message, never crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "journal/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct plan_topic topics[64];
    char err[160];
    int n = plan_parse_csv((const char *)data, size, topics, 64, err, sizeof(err));
    if (n < 0 && (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0'))
        __builtin_trap();
    for (int i = 0; i < n; i++)
        if (topics[i].hours < 1 || topics[i].hours > 50 || topics[i].title[0] == '\0' ||
            memchr(topics[i].title, '\0', sizeof(topics[i].title)) == NULL)
            __builtin_trap();
    return 0;
}
