/*
 * Checks of untrusted input that come before any parser sees it: the nesting depth of a JSON
 * text, and a request path percent-decoded and checked as UTF-8. Nothing here knows the node
 * (no request, no database, no configuration), so the formats beside it in lib/ use it too.
 *
 * Why a depth bound: jansson parses nested arrays and objects by recursion, one set of stack
 * frames per level, up to 2,048 levels; a short text of "[[[[..." is enough to overflow a
 * thread's stack (CivetWeb's workers had 100 KiB). input_json_depth_ok scans the text once,
 * without recursion and without allocating, before jansson is called.
 */
#ifndef MES_INPUT_H
#define MES_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The depth bound of JSON documents that come from peers or files rather than a request body
 * (bundle manifests, item documents, reports, the hub's answers): far above what the formats
 * of docs/federation.md nest (under 10 levels), far below what a stack can hold. */
#define INPUT_JSON_DEPTH_DOCUMENTS 64

/* True when no array or object in `text` (`len` bytes) is nested more than `max_depth` levels
 * deep ("{}" is one level, "[{}]" two, a bare scalar none). Counts brackets outside strings,
 * honouring backslash escapes inside them; does not otherwise check that the text is JSON (the
 * parser does that afterwards). On false, *where (if not NULL) is the byte offset of the
 * bracket that opened one level too many. Linear in `len`; never allocates. */
bool input_json_depth_ok(const char *text, size_t len, int max_depth, size_t *where);

/* json_loadb after input_json_depth_ok: returns the parsed value (caller decrefs), or NULL
 * with `err` (if not NULL) filled as jansson fills it, the text then saying
 * "nested deeper than N levels" for a text that is too deep. */
json_t *input_json_loadb(const char *text, size_t len, size_t flags, int max_depth,
                         json_error_t *err);

/* True when `s` (`len` bytes) is well-formed UTF-8: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no sequence cut short. NUL bytes are valid UTF-8
 * here; callers that refuse them check for them. */
bool input_utf8_valid(const char *s, size_t len);

/* Percent-decodes the request path `raw` (NUL-terminated, as the request line gave it, the
 * query already cut off) into `out` (`size` bytes, NUL-terminated). '+' stays '+' (only query
 * strings use it for a space). Returns the decoded length, or -1 when the path is malformed:
 * a '%' not followed by two hex digits, a decoded NUL or other control character (U+0000 to
 * U+001F, U+007F), bytes that are not well-formed UTF-8, a segment that decodes to "." or
 * ".." (CivetWeb removes the literal ones before), or a result that does not fit. */
long input_path_decode(const char *raw, char *out, size_t size);

/* Copies `s` (`len` bytes) into `out` (`size` bytes, NUL-terminated, cut at a character
 * boundary when it does not fit), each byte that is not part of well-formed UTF-8, and each
 * control character, replaced by '?'. For error messages that quote client input: jansson
 * refuses to make a string of invalid UTF-8. Returns `out`. */
char *input_text_printable(const char *s, size_t len, char *out, size_t size);

#endif
