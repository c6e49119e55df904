/*
 * The library (PRODUCT.md section 3 item 7): items of every type with their metadata and
 * files, Russian full-text search, the review workflow, tests scored on the server, and the
 * items' use in lessons and homework. library.sql is its schema.
 */
#ifndef MES_LIBRARY_H
#define MES_LIBRARY_H

/* Registers the "mes_stem" FTS5 tokenizer for every database connection opened after this
 * call (stem.c). Safe to call from any thread, any number of times. */
void library_tokenizer_init(void);

/* Turns what a person typed into an FTS5 query (malloc'ed, NULL when out of memory): each word
 * a quoted term, all required. Words are runs of letters and digits (any byte of a multi-byte
 * UTF-8 letter counts); everything else, FTS5's operators included, only separates them. ""
 * when there is no word. */
char *library_fts_query(const char *text);

#endif
