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

#endif
