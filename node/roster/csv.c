/*
 * The roster's CSV reader (RFC 4180) and the text's encoding: a UTF-8 byte order mark is
 * dropped, text that is not valid UTF-8 is taken for Windows-1251 (what Excel in Russia writes
 * as "CSV") and converted with iconv, and the caller says so in its report. Records are parsed
 * in place: a field's text is unescaped into the buffer it came from, so a file of a million
 * rows costs its own size once and an array of field pointers.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "roster/roster.h"

/* Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* Windows-1251 to UTF-8 with iconv (glibc): a new buffer, or NULL. */
static char *from_cp1251(const char *in, size_t len, size_t *outlen)
{
    iconv_t cd = iconv_open("UTF-8", "WINDOWS-1251");
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len * 3 + 1;
    char *out = malloc(cap);
    if (out == NULL) {
        iconv_close(cd);
        return NULL;
    }
    char *ip = (char *)in, *op = out;
    size_t il = len, ol = cap - 1;
    size_t rc = iconv(cd, &ip, &il, &op, &ol);
    iconv_close(cd);
    if (rc == (size_t)-1) { /* 0x98 has no character in Windows-1251 */
        free(out);
        return NULL;
    }
    *op = '\0';
    *outlen = (size_t)(op - out);
    return out;
}

int roster_csv_open(struct roster_csv *csv, char *data, size_t len, char sep)
{
    memset(csv, 0, sizeof(*csv));
    csv->line = 1;
    csv->encoding = ROSTER_UTF8;
    if (len >= 3 && (unsigned char)data[0] == 0xef && (unsigned char)data[1] == 0xbb &&
        (unsigned char)data[2] == 0xbf) {
        memmove(data, data + 3, len - 3);
        len -= 3;
        csv->encoding = ROSTER_UTF8_BOM;
    }
    if (!utf8_valid((const unsigned char *)data, len)) {
        size_t n;
        char *conv = from_cp1251(data, len, &n);
        free(data);
        if (conv == NULL)
            return -1;
        data = conv;
        len = n;
        csv->encoding = ROSTER_CP1251;
    } else {
        char *grown = realloc(data, len + 1);
        if (grown == NULL) {
            free(data);
            return -1;
        }
        data = grown;
        data[len] = '\0';
    }
    if (memchr(data, '\0', len) != NULL) { /* a NUL inside: not text */
        free(data);
        return -1;
    }
    csv->buf = data;
    csv->len = len;
    if (sep == 0) { /* the first line's separators outside quotes: ';' when it has more */
        int commas = 0, semis = 0;
        bool q = false;
        for (size_t i = 0; i < len && (q || (data[i] != '\n' && data[i] != '\r')); i++) {
            if (data[i] == '"')
                q = !q;
            else if (!q && data[i] == ',')
                commas++;
            else if (!q && data[i] == ';')
                semis++;
        }
        sep = semis > commas ? ';' : ',';
    }
    csv->sep = sep;
    return 0;
}

static int push_field(struct roster_csv *csv, char *f)
{
    if (csv->nfields == csv->capfields) {
        int cap = csv->capfields ? csv->capfields * 2 : 32;
        char **g = realloc(csv->fields, (size_t)cap * sizeof(*g));
        if (g == NULL)
            return -1;
        csv->fields = g;
        csv->capfields = cap;
    }
    csv->fields[csv->nfields++] = f;
    return 0;
}

/* Skips to the start of the next line (after a malformed record). */
static void skip_line(struct roster_csv *csv)
{
    while (csv->pos < csv->len && csv->buf[csv->pos] != '\n')
        csv->pos++;
    if (csv->pos < csv->len) {
        csv->pos++;
        csv->line++;
    }
}

int roster_csv_next(struct roster_csv *csv, long *line, const char **code)
{
    char *b = csv->buf;
    size_t n = csv->len;
    /* empty lines */
    while (csv->pos < n && (b[csv->pos] == '\n' || b[csv->pos] == '\r')) {
        if (b[csv->pos] == '\n')
            csv->line++;
        csv->pos++;
    }
    csv->nfields = 0;
    if (csv->pos >= n)
        return 0;
    *line = csv->line;
    for (;;) {
        size_t i = csv->pos;
        char *start = b + i;
        if (i < n && b[i] == '"') {
            /* quoted: unescape in place, from start */
            char *w = start;
            i++;
            for (;;) {
                if (i >= n) {
                    *code = "bad_quote";
                    csv->pos = n;
                    return -1;
                }
                if (b[i] == '"') {
                    if (i + 1 < n && b[i + 1] == '"') {
                        *w++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (b[i] == '\n')
                    csv->line++;
                *w++ = b[i++];
            }
            if (i < n && b[i] != csv->sep && b[i] != '\n' && b[i] != '\r') {
                *code = "bad_quote";
                csv->pos = i;
                skip_line(csv);
                return -1;
            }
            char end = i < n ? b[i] : '\n';
            *w = '\0';
            if (push_field(csv, start) != 0) {
                *code = "memory";
                return -1;
            }
            if (end == csv->sep) {
                csv->pos = i + 1;
                continue;
            }
            if (end == '\r' && i + 1 < n && b[i + 1] == '\n')
                i++;
            if (i < n)
                i++;
            csv->pos = i;
            csv->line++;
            return 1;
        }
        while (i < n && b[i] != csv->sep && b[i] != '\n' && b[i] != '\r') {
            if (b[i] == '"') {
                *code = "bad_quote";
                csv->pos = i;
                skip_line(csv);
                return -1;
            }
            i++;
        }
        char end = i < n ? b[i] : '\n';
        if (i < n)
            b[i] = '\0';
        if (push_field(csv, start) != 0) {
            *code = "memory";
            return -1;
        }
        if (end == csv->sep) {
            csv->pos = i + 1;
            continue;
        }
        if (end == '\r' && i + 1 < n && b[i + 1] == '\n')
            i++;
        if (i < n)
            i++;
        csv->pos = i;
        csv->line++;
        return 1;
    }
}

void roster_csv_close(struct roster_csv *csv)
{
    free(csv->buf);
    free(csv->fields);
    memset(csv, 0, sizeof(*csv));
}

char *roster_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (buf == NULL || fread(buf, 1, size, f) != size) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[size] = '\0';
    *len = size;
    return buf;
}
