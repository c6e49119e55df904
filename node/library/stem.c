/*
 * The library's full-text tokenizer for SQLite FTS5, "mes_stem": SQLite's own unicode61
 * tokenizer splits and case-folds the text, then each token is reduced to its stem by
 * Snowball (Debian's libstemmer): Russian for Cyrillic words, English for the rest. The same
 * runs on documents and on queries, so «уравнение» finds «уравнения» and «уравнений».
 *
 * Registered on every connection the process opens (sqlite3_auto_extension); a Snowball
 * stemmer is not thread-safe, so each tokenizer instance (one per table and connection, and
 * a connection belongs to one thread) has its own.
 */
#include "library/library.h"

#include <libstemmer.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct stem_tokenizer {
    fts5_tokenizer inner_api; /* unicode61's methods */
    Fts5Tokenizer *inner;
    struct sb_stemmer *ru, *en;
};

struct stem_call {
    struct stem_tokenizer *t;
    void *ctx;
    int (*emit)(void *, int, const char *, int, int, int);
};

static void stem_delete(Fts5Tokenizer *p)
{
    struct stem_tokenizer *t = (struct stem_tokenizer *)p;
    if (t == NULL)
        return;
    if (t->inner)
        t->inner_api.xDelete(t->inner);
    if (t->ru)
        sb_stemmer_delete(t->ru);
    if (t->en)
        sb_stemmer_delete(t->en);
    free(t);
}

static int stem_create(void *api_ptr, const char **args, int nargs, Fts5Tokenizer **out)
{
    (void)args;
    (void)nargs;
    fts5_api *api = api_ptr;
    struct stem_tokenizer *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SQLITE_NOMEM;
    void *inner_ctx = NULL;
    /* Diacritics stay: «й» is a letter of its own to the Russian stemmer. */
    static const char *inner_args[] = {"remove_diacritics", "0"};
    int rc = api->xFindTokenizer(api, "unicode61", &inner_ctx, &t->inner_api);
    if (rc == SQLITE_OK)
        rc = t->inner_api.xCreate(inner_ctx, inner_args, 2, &t->inner);
    if (rc == SQLITE_OK) {
        t->ru = sb_stemmer_new("russian", "UTF_8");
        t->en = sb_stemmer_new("english", "UTF_8");
        if (t->ru == NULL || t->en == NULL)
            rc = SQLITE_NOMEM;
    }
    if (rc != SQLITE_OK) {
        stem_delete((Fts5Tokenizer *)t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static int stem_emit(void *p, int flags, const char *token, int n, int start, int end)
{
    struct stem_call *c = p;
    /* Cyrillic letters are two UTF-8 bytes led by 0xD0 or 0xD1. */
    unsigned char lead = n > 0 ? (unsigned char)token[0] : 0;
    struct sb_stemmer *s = lead == 0xD0 || lead == 0xD1 ? c->t->ru : c->t->en;
    const sb_symbol *stem = sb_stemmer_stem(s, (const sb_symbol *)token, n);
    if (stem == NULL)
        return SQLITE_NOMEM;
    return c->emit(c->ctx, flags, (const char *)stem, sb_stemmer_length(s), start, end);
}

static int stem_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                         int (*emit)(void *, int, const char *, int, int, int))
{
    struct stem_tokenizer *t = (struct stem_tokenizer *)p;
    struct stem_call c = {.t = t, .ctx = ctx, .emit = emit};
    return t->inner_api.xTokenize(t->inner, &c, flags, text, n, stem_emit);
}

/* Registers the tokenizer on a new connection (an auto-extension entry point). */
static int stem_register(sqlite3 *db, char **err, const void *api_routines)
{
    (void)err;
    (void)api_routines;
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    /* SQLite's own calls, not the statement layer's: this runs inside sqlite3_open, on a
     * connection no `struct db` holds yet, and reads no data (FTS5 hands its API through the
     * bound pointer; a NULL pointer afterwards is the failure). */
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (api == NULL)
        return SQLITE_ERROR;
    static fts5_tokenizer methods = {stem_create, stem_delete, stem_tokenize};
    int rc = api->xCreateTokenizer(api, "mes_stem", api, &methods, NULL);
    return rc == SQLITE_OK ? library_rank_register(api) : rc;
}

static void register_once(void)
{
    sqlite3_auto_extension((void (*)(void))stem_register);
}

void library_tokenizer_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_once);
}
