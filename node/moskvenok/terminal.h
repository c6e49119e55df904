/*
 * `mesnode terminal`: the reference client of «Москвёнок»'s terminal protocol
 * (docs/moskvenok.md), simulating the outside parties for the tests, the demo and the
 * benchmark: a turnstile, a buffet terminal, the payment provider, and `rush`, many
 * turnstiles at once. A simulated terminal keeps its state in a directory: its id, the queue of
 * what it made and the node does not hold yet, as a journal that is appended and fsynced before
 * anything is uploaded, so that a crash or a restart loses nothing.
 */
#ifndef MES_MOSKVENOK_TERMINAL_H
#define MES_MOSKVENOK_TERMINAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* `mesnode terminal SUBCOMMAND ...` (argv[0] is "terminal"). 0 done (for uploads: everything
 * is held by the node), 1 failure, 2 usage. */
int terminal_cmd(int argc, char **argv);
extern const char terminal_usage[];

/* ---- a terminal's state: DIR/journal ------------------------------------------------------
 * One text line per record, after the header "mesnode-terminal 1 KIND ID":
 *   Q SEQ JSON   queued: the event or sale as it is uploaded, with its key and seq (a later Q
 *                of the same SEQ replaces it: a sale that got no answer turns offline)
 *   H SEQ        the node holds every seq up to SEQ: those are dropped
 *   A SEQ...     the node answered the batch of these: held, dropped (held_seq stops at a gap
 *                left by a refused item; the answer does not)
 *   X SEQ        the node refused it as malformed (400): dropped, copied to DIR/refused
 *   N SEQ        the next seq to give (written when the journal is rewritten)
 * A torn last line (a crash in the middle of a write) is cut off when the journal is opened.
 * DIR/lock is held (flock) while a process uses the state. */

struct term_item {
    int64_t seq;
    char *json; /* as uploaded, malloc'ed */
};

struct term_state {
    char dir[512];
    char kind[16]; /* "turnstile" or "buffet" */
    char id[16];   /* the terminal's id: its keys are ID-SEQ */
    int fd;        /* the journal, open for appending */
    int lock;      /* DIR/lock, flocked */
    int64_t held;  /* the node holds every seq up to it */
    int64_t next_seq;
    struct term_item *items; /* the queue, ordered by seq */
    size_t n, cap;
    size_t lines; /* records after the header: the journal is rewritten when most are dead */
};

/* Opens the terminal state in `dir`; with `kind` ("turnstile", "buffet"), makes it (directory,
 * a new random id) when absent and refuses a state of the other kind; with kind NULL, it must
 * exist. 0, or -1 with err (another process holds it, a broken journal, I/O). */
int term_state_open(struct term_state *s, const char *dir, const char *kind, char *err,
                    size_t errlen);

/* Queues `obj` (an event or a sale without key and seq): gives it the next seq and the key
 * ID-SEQ, appends it to the journal (not yet synced: term_state_sync). *seq: its number. 0,
 * or -1 on an I/O failure. */
int term_state_add(struct term_state *s, json_t *obj, int64_t *seq);

/* Replaces queued item `seq` by `json` (appended as a Q record). 0, or -1. */
int term_state_replace(struct term_state *s, int64_t seq, const char *json);

/* Makes everything appended so far durable (fsync). 0, or -1. */
int term_state_sync(struct term_state *s);

/* The node answered: it holds every seq up to `held`, and the items `seqs[0..n)` (those of
 * an answered batch: applied or duplicates). Records both (one write, synced) and drops those
 * items; rewrites the journal when most of its records are dead. 0, or -1. */
int term_state_answered(struct term_state *s, int64_t held, const int64_t *seqs, size_t n);

/* term_state_answered with held_seq alone. */
int term_state_held(struct term_state *s, int64_t held);

/* The node refused item `seq` as malformed: records it (synced), drops it and appends it with
 * `why` to DIR/refused. 0, or -1. */
int term_state_refuse(struct term_state *s, int64_t seq, const char *why);

/* Rewrites the journal as the header, the held seq and the queue (a new file renamed over the
 * old one, both synced). 0, or -1. */
int term_state_compact(struct term_state *s);

/* The queued item of `seq`, or NULL. */
const struct term_item *term_state_find(const struct term_state *s, int64_t seq);

/* Closes the journal, releases the lock, frees the queue. */
void term_state_close(struct term_state *s);

/* ---- formats ------------------------------------------------------------------------------ */

/* `t` as RFC 3339 in the local time zone with its offset: "2026-12-05T08:12:00+03:00". */
void term_format_time(time_t t, char out[32]);

/* A turnstile event argument "CARD:in|out[@RFC3339]" (the card may hold ':'). Fills card (1-64
 * bytes), direction ("in"/"out") and at (the time as given, or "" for now). 0, or -1. */
int term_parse_event(const char *arg, char card[65], char direction[4], char at[40]);

/* "ID" or "IDxQ" (a positive id, a quantity 1-1000, default 1). 0, or -1. */
int term_parse_item(const char *arg, int64_t *id, int64_t *quantity);

/* The top-up signature: lower-case hex of HMAC-SHA-256(secret, TIMESTAMP "." BODY). */
void term_sign(const unsigned char *secret, size_t secret_len, const char *timestamp,
               const char *body, size_t body_len, char hex[65]);

/* The nearest-rank percentile `p` (0-100) of `n` sorted values; 0 when n is 0. */
double term_percentile(const double *sorted, size_t n, double p);

/* The index of the item a refusal's field names ("events[12].card", "sales[3].seq": 12, 3),
 * or -1. */
long term_field_index(const char *field);

#endif
