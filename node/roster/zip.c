/*
 * A OneRoster set uploaded as a zip (libarchive): its CSV files read into memory, each by its
 * base name (a set zipped with its folder reads the same). Bounded: at most ROSTER_ZIP_FILES
 * entries and ROSTER_ZIP_BYTES of text in all, so that a small zip cannot unpack into
 * gigabytes.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster/model.h"

#define ROSTER_ZIP_FILES 64
#define ROSTER_ZIP_BYTES (1LL << 30)

int roster_read_zip(struct roster_model *m, const void *zip, size_t len, struct roster_report *rep,
                    const struct roster_options *opt)
{
    struct archive *a = archive_read_new();
    if (a == NULL)
        return -1;
    archive_read_support_format_zip(a);
    const char *names[ROSTER_ZIP_FILES];
    char *data[ROSTER_ZIP_FILES];
    size_t lens[ROSTER_ZIP_FILES];
    int n = 0, rc = 0;
    long long total = 0;
    if (archive_read_open_memory(a, zip, len) != ARCHIVE_OK) {
        roster_error(rep, "upload.zip", 0, "unreadable", "upload.zip", NULL);
        archive_read_free(a);
        return -1;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *path = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || path == NULL)
            continue;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t bl = strlen(base);
        if (bl < 5 || strcmp(base + bl - 4, ".csv") != 0 || base[0] == '.')
            continue;
        if (n == ROSTER_ZIP_FILES) {
            roster_error(rep, "upload.zip", 0, "unreadable", "upload.zip", NULL);
            rc = -1;
            break;
        }
        size_t cap = 65536, got = 0;
        char *buf = malloc(cap);
        for (;;) {
            if (buf == NULL)
                break;
            if (got == cap) {
                char *g = realloc(buf, cap * 2);
                if (g == NULL) {
                    free(buf);
                    buf = NULL;
                    break;
                }
                buf = g, cap *= 2;
            }
            la_ssize_t k = archive_read_data(a, buf + got, cap - got);
            if (k < 0 || (total += k) > ROSTER_ZIP_BYTES) {
                free(buf);
                buf = NULL;
                break;
            }
            if (k == 0)
                break;
            got += (size_t)k;
        }
        char *nm = buf ? arena_strdup(m, base) : NULL;
        if (nm == NULL) {
            free(buf);
            roster_error(rep, base, 0, "unreadable", base, NULL);
            rc = -1;
            break;
        }
        names[n] = nm, data[n] = buf, lens[n] = got;
        n++;
    }
    if (rc == 0 && r != ARCHIVE_EOF) {
        roster_error(rep, "upload.zip", 0, "unreadable", "upload.zip", NULL);
        rc = -1;
    }
    archive_read_free(a);
    if (rc != 0 || n == 0) {
        for (int i = 0; i < n; i++)
            free(data[i]);
        if (rc == 0)
            roster_error(rep, "upload.zip", 0, "missing_file", "manifest.csv", NULL);
        return -1;
    }
    return roster_read_oneroster_mem(m, n, names, data, lens, rep, opt);
}
