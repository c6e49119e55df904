/*
 * Checks of untrusted input before a parser sees it (contract in input.h). Each function is one
 * pass over its bytes, without recursion or allocation: they run on CivetWeb's worker threads
 * for every request and on the federation's readers for every document.
 */
#include "lib/input.h"

#include <stdio.h>
#include <string.h>

bool input_json_depth_ok(const char *text, size_t len, int max_depth, size_t *where)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character, whatever it is, cannot end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                if (where != NULL)
                    *where = i;
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

json_t *input_json_loadb(const char *text, size_t len, size_t flags, int max_depth,
                         json_error_t *err)
{
    size_t at = 0;
    if (!input_json_depth_ok(text, len, max_depth, &at)) {
        if (err != NULL) {
            memset(err, 0, sizeof(*err));
            err->line = 1;
            size_t line_start = 0;
            for (size_t i = 0; i < at; i++)
                if (text[i] == '\n') {
                    err->line++;
                    line_start = i + 1;
                }
            err->column = (int)(at - line_start + 1);
            err->position = (int)at;
            snprintf(err->source, sizeof(err->source), "<buffer>");
            snprintf(err->text, sizeof(err->text) - 1, "nested deeper than %d levels", max_depth);
            err->text[sizeof(err->text) - 1] = (char)json_error_stack_overflow;
        }
        return NULL;
    }
    return json_loadb(text, len, flags, err);
}

/* Length of the well-formed UTF-8 sequence at s[0..len), or 0 when there is none there
 * (The Unicode Standard, table 3-7). */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong ASCII), F5..FF */
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

bool input_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long input_path_decode(const char *raw, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = raw; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            p += 2;
        }
        if (c < 0x20 || c == 0x7F || o + 1 >= size)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (!input_utf8_valid(out, o))
        return -1;
    /* A segment "." or "..": CivetWeb removed the literal ones, so these were encoded. */
    for (const char *seg = out; seg != NULL; seg = strchr(seg + 1, '/')) {
        const char *s = *seg == '/' ? seg + 1 : seg;
        size_t n = strcspn(s, "/");
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return -1;
    }
    return (long)o;
}

char *input_text_printable(const char *s, size_t len, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    if (size == 0)
        return out;
    while (i < len) {
        size_t n = utf8_sequence(p + i, len - i);
        bool bad = n == 0 || p[i] < 0x20 || p[i] == 0x7F;
        if (bad)
            n = 1;
        if (o + (bad ? 1 : n) >= size)
            break;
        if (bad) {
            out[o++] = '?';
        } else {
            memcpy(out + o, p + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
    return out;
}
