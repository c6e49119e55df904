/*
 * libFuzzer target for the roster's CSV reader (RFC 4180, encodings) and the OneRoster reader
 * behind it: any bytes must come out as records of NUL-terminated fields inside the buffer, or
 * be refused with a code; and the same bytes as a set's users.csv and enrollments.csv (beside a
 * fixed manifest, orgs and classes) must be read and linked into errors with lines, never
 * crash or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roster/roster.h"

static char *copy(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct roster_csv c;
    if (roster_csv_open(&c, copy(data, size), size, 0) == 0) {
        long line = 0, last = 0;
        const char *code = NULL;
        int rc;
        while ((rc = roster_csv_next(&c, &line, &code)) != 0) {
            if (rc < 0) {
                if (code == NULL)
                    __builtin_trap();
                continue;
            }
            if (c.nfields < 1 || line < last)
                __builtin_trap();
            last = line;
            for (int i = 0; i < c.nfields; i++)
                if (c.fields[i] < c.buf || c.fields[i] > c.buf + c.len ||
                    strlen(c.fields[i]) > c.len)
                    __builtin_trap();
        }
        roster_csv_close(&c);
    }
    static const char manifest[] = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\n"
                                   "file.classes,bulk\nfile.users,bulk\nfile.enrollments,bulk\n";
    static const char orgs[] = "sourcedId,status,name,type,identifier,parentSourcedId\n"
                               "d1,,Район,district,,\ns1,,Школа,school,,d1\n";
    static const char classes[] = "sourcedId,title,classType,schoolSourcedId,termSourcedIds,"
                                  "classCode,grades\nc1,5А,homeroom,s1,y1,5А,05\n";
    const char *names[] = {"manifest.csv", "orgs.csv", "classes.csv", "users.csv",
                           "enrollments.csv"};
    char *bufs[] = {copy(manifest, sizeof(manifest) - 1), copy(orgs, sizeof(orgs) - 1),
                    copy(classes, sizeof(classes) - 1), copy(data, size), copy(data, size)};
    size_t lens[] = {sizeof(manifest) - 1, sizeof(orgs) - 1, sizeof(classes) - 1, size, size};
    struct roster_model *m = roster_model_new();
    struct roster_report rep = {0};
    struct roster_options opt = {.today = "2026-10-01"};
    roster_read_oneroster_mem(m, 5, names, bufs, lens, &rep, &opt);
    for (size_t i = 0; i < rep.nerrors; i++) {
        char msg[400];
        roster_error_message(&rep.errors[i], msg, sizeof(msg));
        if (rep.errors[i].code == NULL || rep.errors[i].line < 0)
            __builtin_trap();
    }
    roster_model_free(m);
    roster_report_free(&rep);
    return 0;
}
