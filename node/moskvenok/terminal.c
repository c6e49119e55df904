/*
 * `mesnode terminal` (terminal.h): a turnstile, a buffet terminal and the payment provider as
 * docs/moskvenok.md specifies them, and `rush`, the benchmark's load of many turnstiles. It is
 * a client: it talks to a node over HTTP (libcurl) and shares nothing with the node's code but
 * the RFC 3339 parser and the key's form (moskvenok.h).
 *
 * Load: a turnstile or buffet run queues what it makes (one fsync) and uploads it in batches of
 * up to 1,000 events or 500 sales; `rush` runs C threads, each with one keep-alive connection
 * posting batches as fast as the node acknowledges them, and measures every acknowledgement with
 * CLOCK_MONOTONIC.
 */
#include "moskvenok/terminal.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moskvenok/moskvenok.h"

const char terminal_usage[] =
    "usage: mesnode terminal turnstile --url URL --token TOKEN --state DIR [--offline]\n"
    "                                  [--batch N] [--turnstile NAME]\n"
    "                                  (EVENT... | --cards FILE --events N)\n"
    "       mesnode terminal buffet --url URL --token TOKEN --state DIR --card CARD\n"
    "                               (--item ID[xQ] | --complex ID[xQ])... [--at TIME] [--offline]\n"
    "       mesnode terminal flush --url URL --token TOKEN --state DIR [--batch N] [--shuffle]\n"
    "                              [--repeat]\n"
    "       mesnode terminal status --state DIR\n"
    "       mesnode terminal provider --url URL --secret-file FILE --account NUMBER\n"
    "                                 --amount KOPECKS [--payment-id ID] [--paid-at TIME]\n"
    "                                 [--timestamp UNIX] [--replay] [--forge]\n"
    "       mesnode terminal rush --url URL --tokens FILE --cards FILE --events N\n"
    "                             --connections C [--batch N] [--schools K] [--seq-from S]\n"
    "                             [--rate EVENTS_PER_S]\n"
    "                             [--sales-token T --sales-item ID --sales-rate R\n"
    "                              [--sales-connections S]]\n"
    "\n"
    "Simulates «Москвёнок»'s outside parties against a node, as docs/moskvenok.md specifies\n"
    "them. URL is the node's base address (http://127.0.0.1:8080); TOKEN a device token of\n"
    "scope passage (turnstile) or meals (buffet), bound to one school.\n"
    "\n"
    "turnstile  makes events, EVENT being CARD:in or CARD:out, optionally @RFC3339 (default\n"
    "           now), or N events over the cards of FILE (one card per line; each card goes\n"
    "           in, then out). Each gets its seq and key (TERMINAL-SEQ), is queued in DIR's\n"
    "           journal (fsynced), and, unless --offline, the queue is uploaded in batches\n"
    "           of N (default 100, at most 1000). Prints each batch's answer.\n"
    "buffet     one sale to CARD: online, the node's decision; --offline (or no answer from\n"
    "           the node), sold offline and queued for `flush`.\n"
    "flush      uploads the queue (a buffet's through /api/v1/meals/sales/batch): --shuffle\n"
    "           in random order, --repeat every batch twice over (the second time all\n"
    "           duplicates). Network errors and 5xx are retried; an item the node refuses as\n"
    "           malformed (400) is dropped into DIR/refused; 409 seq_taken stops.\n"
    "status     the terminal's id, its queue and what the node holds.\n"
    "provider   posts a signed top-up notification (HMAC-SHA-256 with the secret in FILE's\n"
    "           first line) for the meal account NUMBER; --replay sends the same bytes twice,\n"
    "           --forge flips a byte of the signature. Prints every answer.\n"
    "rush       C connections post N passage events in batches (default 100) with the\n"
    "           passage tokens of FILE (lines SCHOOL<TAB>SCOPE<TAB>TOKEN, as `mesnode gen`\n"
    "           writes them) and the cards of their schools (lines CARD<TAB>SCHOOL), and\n"
    "           report events/s and the acknowledgements' p50/p99 (with --rate, the batches are\n"
    "           sent at that many events a second whatever the answers' pace); with "
    "--sales-token,\n"
    "           buffet\n"
    "           sales of item ID at R a second during the rush, with their latency. Each\n"
    "           terminal numbers from 1 (or S: a later run on the same node's data).\n"
    "Exit status: 0 done (uploads: everything held by the node), 1 failure, 2 usage.\n";

#define PASSAGE_MAX 1000 /* events in one POST /api/v1/passage/events */
#define SALES_MAX   500  /* sales in one POST /api/v1/meals/sales/batch */
#define ANSWER_MAX  (16u << 20)

/* ---- the journal ------------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Makes `dir` and its missing parents (0700). 0, or -1 with errno. */
static int mkdir_p(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* The index where `seq` is or would go in the ordered queue. */
static size_t slot(const struct term_state *s, int64_t seq)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->items[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct term_item *term_state_find(const struct term_state *s, int64_t seq)
{
    size_t i = slot(s, seq);
    return i < s->n && s->items[i].seq == seq ? &s->items[i] : NULL;
}

/* Puts (or replaces) an item in memory; takes `json`. 0, or -1 out of memory. */
static int put(struct term_state *s, int64_t seq, char *json)
{
    size_t i = slot(s, seq);
    if (i < s->n && s->items[i].seq == seq) {
        free(s->items[i].json);
        s->items[i].json = json;
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct term_item *more = realloc(s->items, cap * sizeof(*more));
        if (more == NULL) {
            free(json);
            return -1;
        }
        s->items = more;
        s->cap = cap;
    }
    memmove(&s->items[i + 1], &s->items[i], (s->n - i) * sizeof(*s->items));
    s->items[i] = (struct term_item){.seq = seq, .json = json};
    s->n++;
    if (seq >= s->next_seq)
        s->next_seq = seq + 1;
    return 0;
}

/* Drops the items up to `held` from memory. */
static void drop_upto(struct term_state *s, int64_t held)
{
    size_t k = slot(s, held + 1);
    if (k == 0)
        return;
    for (size_t i = 0; i < k; i++)
        free(s->items[i].json);
    memmove(s->items, s->items + k, (s->n - k) * sizeof(*s->items));
    s->n -= k;
}

/* Drops the item of `seq` from memory, if queued. */
static void drop_one(struct term_state *s, int64_t seq)
{
    size_t i = slot(s, seq);
    if (i < s->n && s->items[i].seq == seq) {
        free(s->items[i].json);
        memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(*s->items));
        s->n--;
    }
}

static int append(struct term_state *s, const char *line, size_t len)
{
    if (write_all(s->fd, line, len) != 0)
        return -1;
    s->lines++;
    return 0;
}

/* Reads DIR/journal: the header, then the records. 0, or -1 with err. */
static int load(struct term_state *s, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t r = pread(s->fd, buf + len, (size_t)st.st_size - len, (off_t)len);
        if (r <= 0) {
            snprintf(err, errlen, "%s: %s", path, r < 0 ? strerror(errno) : "short read");
            free(buf);
            return -1;
        }
        len += (size_t)r;
    }
    buf[len] = '\0';
    /* A crash in the middle of an append leaves a line without its end: it was never synced,
     * so nothing was uploaded or reported from it. */
    char *end = memrchr(buf, '\n', len);
    size_t whole = end ? (size_t)(end - buf) + 1 : 0;
    if (whole < len) {
        if (ftruncate(s->fd, (off_t)whole) != 0 || fsync(s->fd) != 0) {
            snprintf(err, errlen, "%s: cutting a torn last line: %s", path, strerror(errno));
            free(buf);
            return -1;
        }
        fprintf(stderr, "mesnode terminal: %s: a torn last line (%zu bytes) was cut off\n", path,
                len - whole);
        buf[whole] = '\0';
    }
    int rc = -1;
    long lineno = 1;
    char *save = NULL;
    char *line = strtok_r(buf, "\n", &save);
    char kind[16], id[16];
    if (line == NULL || sscanf(line, "mesnode-terminal 1 %15s %15s", kind, id) != 2 ||
        (strcmp(kind, "turnstile") != 0 && strcmp(kind, "buffet") != 0)) {
        snprintf(err, errlen, "%s:1: not a terminal's journal", path);
        goto out;
    }
    snprintf(s->kind, sizeof(s->kind), "%s", kind);
    snprintf(s->id, sizeof(s->id), "%s", id);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        lineno++;
        char type = line[0];
        char *p = line + (line[0] != '\0' ? 1 : 0), *after;
        if (type == 'A') { /* answered: "A SEQ SEQ ..." */
            s->lines++;
            while (*p == ' ') {
                errno = 0;
                long long seq = strtoll(p + 1, &after, 10);
                if (seq <= 0 || errno != 0 || after == p + 1 || (*after != ' ' && *after != '\0'))
                    break;
                drop_one(s, seq);
                p = after;
            }
            if (*p != '\0') {
                snprintf(err, errlen, "%s:%ld: not a journal record", path, lineno);
                goto out;
            }
            continue;
        }
        errno = 0;
        long long seq = *p == ' ' ? strtoll(p + 1, &after, 10) : -1;
        if (seq <= 0 || errno != 0 || (type == 'Q' ? *after != ' ' : *after != '\0')) {
            snprintf(err, errlen, "%s:%ld: not a journal record", path, lineno);
            goto out;
        }
        s->lines++;
        if (type == 'Q') {
            char *json = strdup(after + 1);
            if (json == NULL || put(s, seq, json) != 0) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
        } else if (type == 'H') {
            if (seq > s->held)
                s->held = seq;
            drop_upto(s, s->held);
        } else if (type == 'X') {
            drop_one(s, seq);
        } else if (type == 'N') {
            seq--; /* the next seq to give: the last given is one below */
        } else {
            snprintf(err, errlen, "%s:%ld: not a journal record", path, lineno);
            goto out;
        }
        if (seq >= s->next_seq)
            s->next_seq = seq + 1;
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

static void new_id(char id[16])
{
    unsigned char raw[4];
    randombytes_buf(raw, sizeof(raw));
    snprintf(id, 16, "t%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
}

/* Writes `dir`/journal anew through a temporary file: header, held seq, queue. */
static int write_journal(struct term_state *s, int *fd_out)
{
    char path[600], tmp[610];
    snprintf(path, sizeof(path), "%s/journal", s->dir);
    snprintf(tmp, sizeof(tmp), "%s/journal.new", s->dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    char head[96];
    int n = snprintf(head, sizeof(head), "mesnode-terminal 1 %s %s\n", s->kind, s->id);
    int bad = write_all(fd, head, (size_t)n);
    /* The next seq: the numbers given to items no longer queued (answered above a gap) are
     * never given again. */
    if (!bad && s->next_seq > 1) {
        n = snprintf(head, sizeof(head), "N %" PRId64 "\n", s->next_seq);
        bad = write_all(fd, head, (size_t)n);
    }
    if (!bad && s->held > 0) {
        n = snprintf(head, sizeof(head), "H %" PRId64 "\n", s->held);
        bad = write_all(fd, head, (size_t)n);
    }
    for (size_t i = 0; i < s->n && !bad; i++) {
        n = snprintf(head, sizeof(head), "Q %" PRId64 " ", s->items[i].seq);
        bad = write_all(fd, head, (size_t)n) ||
              write_all(fd, s->items[i].json, strlen(s->items[i].json)) || write_all(fd, "\n", 1);
    }
    if (bad || fsync(fd) != 0 || rename(tmp, path) != 0 || fsync_dir(s->dir) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -1;
    *fd_out = fd;
    s->lines = (s->next_seq > 1) + (s->held > 0) + s->n;
    return 0;
}

int term_state_open(struct term_state *s, const char *dir, const char *kind, char *err,
                    size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->fd = s->lock = -1;
    s->next_seq = 1;
    if (strlen(dir) == 0 || strlen(dir) >= sizeof(s->dir)) {
        snprintf(err, errlen, "the state directory must be 1-%zu bytes", sizeof(s->dir) - 1);
        return -1;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    char path[600];
    snprintf(path, sizeof(path), "%s/journal", dir);
    if (kind != NULL && mkdir_p(dir) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char lock[600];
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    s->lock = open(lock, (kind ? O_CREAT : 0) | O_RDWR | O_CLOEXEC, 0600);
    if (s->lock < 0) {
        snprintf(err, errlen,
                 errno == ENOENT ? "%s holds no terminal (make one with `mesnode terminal "
                                   "turnstile` or `buffet`)"
                                 : "%s: %s",
                 dir, strerror(errno));
        return -1;
    }
    if (flock(s->lock, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s is in use by another process", dir);
        term_state_close(s);
        return -1;
    }
    s->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (s->fd < 0 && errno == ENOENT && kind != NULL) {
        snprintf(s->kind, sizeof(s->kind), "%s", kind);
        new_id(s->id);
        if (write_journal(s, &s->fd) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            term_state_close(s);
            return -1;
        }
        return 0;
    }
    if (s->fd < 0) {
        snprintf(err, errlen, errno == ENOENT ? "%s holds no terminal" : "%s: %s", dir,
                 strerror(errno));
        term_state_close(s);
        return -1;
    }
    if (load(s, path, err, errlen) != 0) {
        term_state_close(s);
        return -1;
    }
    if (kind != NULL && strcmp(kind, s->kind) != 0) {
        snprintf(err, errlen, "%s holds a %s, not a %s", dir, s->kind, kind);
        term_state_close(s);
        return -1;
    }
    return 0;
}

int term_state_replace(struct term_state *s, int64_t seq, const char *json)
{
    char head[48];
    int n = snprintf(head, sizeof(head), "Q %" PRId64 " ", seq);
    size_t len = strlen(json);
    char *line = malloc((size_t)n + len + 2);
    char *copy = strdup(json);
    if (line == NULL || copy == NULL) {
        free(line);
        free(copy);
        return -1;
    }
    memcpy(line, head, (size_t)n);
    memcpy(line + n, json, len);
    line[n + len] = '\n';
    int rc = append(s, line, (size_t)n + len + 1);
    free(line);
    if (rc != 0) {
        free(copy);
        return -1;
    }
    return put(s, seq, copy);
}

int term_state_add(struct term_state *s, json_t *obj, int64_t *seq)
{
    char key[40];
    int64_t q = s->next_seq;
    snprintf(key, sizeof(key), "%s-%" PRId64, s->id, q);
    /* The key and seq first, for whoever reads the journal. */
    json_t *full = json_pack("{s:s,s:I}", "key", key, "seq", (json_int_t)q);
    char *json =
        full != NULL && json_object_update(full, obj) == 0 ? json_dumps(full, JSON_COMPACT) : NULL;
    json_decref(full);
    if (json == NULL)
        return -1;
    int rc = term_state_replace(s, q, json);
    free(json);
    if (rc == 0)
        *seq = q;
    return rc;
}

int term_state_sync(struct term_state *s)
{
    return fsync(s->fd);
}

/* Rewrites the journal when the queue is empty (and the journal holds more than the N and H
 * records a rewrite leaves), or when most of its records (and more than 64) are dead: the work
 * is paid for by the records that died since the last time. */
static int maybe_compact(struct term_state *s)
{
    size_t dead = s->lines > s->n ? s->lines - s->n : 0;
    return (s->n == 0 && s->lines > 2) || (dead > 64 && dead > s->n) ? term_state_compact(s) : 0;
}

int term_state_answered(struct term_state *s, int64_t held, const int64_t *seqs, size_t n)
{
    /* "H HELD" and "A SEQ SEQ ...", written and synced together. */
    size_t cap = 48 + n * 21, len = 0;
    char *text = malloc(cap);
    if (text == NULL)
        return -1;
    if (held > s->held)
        len += (size_t)snprintf(text, cap, "H %" PRId64 "\n", held);
    if (n > 0) {
        text[len++] = 'A';
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, cap - len, " %" PRId64, seqs[i]);
        text[len++] = '\n';
    }
    int rc = 0;
    if (len > 0) {
        rc = write_all(s->fd, text, len) == 0 && fsync(s->fd) == 0 ? 0 : -1;
        s->lines += (held > s->held) + (n > 0);
    }
    free(text);
    if (rc != 0)
        return -1;
    if (held > s->held) {
        s->held = held;
        if (held >= s->next_seq)
            s->next_seq = held + 1;
        drop_upto(s, held);
    }
    for (size_t i = 0; i < n; i++)
        drop_one(s, seqs[i]);
    return maybe_compact(s);
}

int term_state_held(struct term_state *s, int64_t held)
{
    return term_state_answered(s, held, NULL, 0);
}

int term_state_refuse(struct term_state *s, int64_t seq, const char *why)
{
    size_t i = slot(s, seq);
    if (i >= s->n || s->items[i].seq != seq)
        return 0;
    char path[600];
    snprintf(path, sizeof(path), "%s/refused", s->dir);
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return -1;
    int bad = fprintf(f, "%s\t%s\n", s->items[i].json, why) < 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    char line[48];
    int n = snprintf(line, sizeof(line), "X %" PRId64 "\n", seq);
    if (bad || append(s, line, (size_t)n) != 0 || fsync(s->fd) != 0)
        return -1;
    drop_one(s, seq);
    return maybe_compact(s);
}

int term_state_compact(struct term_state *s)
{
    int fd;
    if (write_journal(s, &fd) != 0)
        return -1;
    close(s->fd);
    s->fd = fd;
    return 0;
}

void term_state_close(struct term_state *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->lock >= 0)
        close(s->lock); /* releases the flock */
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].json);
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
    s->fd = s->lock = -1;
}

/* ---- formats ------------------------------------------------------------------------------ */

void term_format_time(time_t t, char out[32])
{
    struct tm tm;
    localtime_r(&t, &tm);
    char zone[8] = "+0000";
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    snprintf(out + 19, 13, "%.3s:%.2s", zone, zone + 3);
}

int term_parse_event(const char *arg, char card[65], char direction[4], char at[40])
{
    const char *amp = strchr(arg, '@');
    size_t head = amp ? (size_t)(amp - arg) : strlen(arg);
    at[0] = '\0';
    if (amp != NULL) {
        time_t t;
        if (strlen(amp + 1) >= 40 || mosk_parse_time(amp + 1, &t) != 0)
            return -1;
        snprintf(at, 40, "%s", amp + 1);
    }
    const char *colon = NULL;
    for (const char *p = arg; p < arg + head; p++)
        if (*p == ':')
            colon = p;
    if (colon == NULL || colon == arg || colon - arg > 64)
        return -1;
    size_t dlen = head - (size_t)(colon + 1 - arg);
    if (!((dlen == 2 && strncmp(colon + 1, "in", 2) == 0) ||
          (dlen == 3 && strncmp(colon + 1, "out", 3) == 0)))
        return -1;
    memcpy(card, arg, (size_t)(colon - arg));
    card[colon - arg] = '\0';
    memcpy(direction, colon + 1, dlen);
    direction[dlen] = '\0';
    return 0;
}

/* A whole decimal number within [min, max]. 0, or -1. */
static int parse_int(const char *s, long long min, long long max, long long *out)
{
    if (*s == '\0' || *s == ' ' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int term_parse_item(const char *arg, int64_t *id, int64_t *quantity)
{
    char head[32];
    const char *x = strchr(arg, 'x');
    size_t n = x ? (size_t)(x - arg) : strlen(arg);
    if (n == 0 || n >= sizeof(head))
        return -1;
    memcpy(head, arg, n);
    head[n] = '\0';
    long long i, q = 1;
    if (parse_int(head, 1, INT64_MAX, &i) != 0 || (x && parse_int(x + 1, 1, 1000, &q) != 0))
        return -1;
    *id = i;
    *quantity = q;
    return 0;
}

void term_sign(const unsigned char *secret, size_t secret_len, const char *timestamp,
               const char *body, size_t body_len, char hex[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, secret, secret_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 65, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

double term_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    double rank = ceil(p / 100.0 * (double)n);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return sorted[i < n ? i : n - 1];
}

long term_field_index(const char *field)
{
    const char *b = field ? strchr(field, '[') : NULL;
    if (b == NULL || (strncmp(field, "events[", 7) != 0 && strncmp(field, "sales[", 6) != 0))
        return -1;
    char *end;
    errno = 0;
    long i = strtol(b + 1, &end, 10);
    return errno == 0 && end != b + 1 && *end == ']' && i >= 0 ? i : -1;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

struct answer {
    char *buf;
    size_t len;
    bool over;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct answer *a = user;
    size_t len = size * n;
    if (a->len + len > ANSWER_MAX) {
        a->over = true;
        return 0;
    }
    char *more = realloc(a->buf, a->len + len + 1);
    if (more == NULL)
        return 0;
    a->buf = more;
    memcpy(a->buf + a->len, p, len);
    a->len += len;
    a->buf[a->len] = '\0';
    return len;
}

struct http {
    CURL *curl;
    char base[512];
    char auth[320]; /* "Authorization: Bearer TOKEN", or "" */
    int retries;    /* of network errors, 5xx and 429 */
};

static int http_init(struct http *h, const char *url, const char *token, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->retries = 4;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "--url must be http:// or https://");
        return -1;
    }
    if (strlen(url) >= sizeof(h->base) - 64) {
        snprintf(err, errlen, "--url is too long");
        return -1;
    }
    snprintf(h->base, sizeof(h->base), "%s", url);
    size_t n = strlen(h->base);
    while (n > 0 && h->base[n - 1] == '/')
        h->base[--n] = '\0';
    if (token != NULL) {
        if (strlen(token) == 0 || strlen(token) > 256 || strpbrk(token, "\r\n ")) {
            snprintf(err, errlen, "--token must be 1-256 characters without spaces");
            return -1;
        }
        snprintf(h->auth, sizeof(h->auth), "Authorization: Bearer %s", token);
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        snprintf(err, errlen, "libcurl failed to start");
        return -1;
    }
    return 0;
}

static void http_free(struct http *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

/* POSTs `body` (JSON) to BASE`path` with the bearer token and `extra` headers. The HTTP
 * status with the answer in *answer (malloc'ed, NUL-ended, may be NULL when empty), or -1
 * when no answer came (err says why). The connection is kept for the next request. */
static long http_post(struct http *h, const char *path, const char *body, size_t len,
                      const char *const *extra, char **answer, char *err, size_t errlen)
{
    char url[600];
    snprintf(url, sizeof(url), "%s%s", h->base, path);
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:"); /* no 100-continue round trip */
    if (h->auth[0])
        hs = curl_slist_append(hs, h->auth);
    for (int i = 0; extra && extra[i]; i++)
        hs = curl_slist_append(hs, extra[i]);
    struct answer a = {0};
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hs);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", url,
                 a.over      ? "the answer is too large"
                 : detail[0] ? detail
                             : curl_easy_strerror(rc));
        free(a.buf);
        return -1;
    }
    *answer = a.buf;
    return status;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* http_post, trying again after 0.25, 0.5, 1, 2 s (up to h->retries times) when no answer came
 * or the node answered 5xx or 429: what a terminal's queue may retry (docs/moskvenok.md). */
static long http_post_retry(struct http *h, const char *path, const char *body, size_t len,
                            char **answer, char *err, size_t errlen)
{
    long status = -1;
    for (int attempt = 0;; attempt++) {
        *answer = NULL;
        status = http_post(h, path, body, len, NULL, answer, err, errlen);
        bool again = status < 0 || status >= 500 || status == 429;
        if (!again || attempt >= h->retries)
            break;
        fprintf(stderr, "mesnode terminal: %s; trying again\n",
                status < 0 ? err : "the node answered an error");
        free(*answer);
        sleep_ms(250L << attempt);
    }
    if (status >= 500 || status == 429)
        snprintf(err, errlen, "%s%s: HTTP %ld: %.300s", h->base, path, status,
                 *answer ? *answer : "");
    return status;
}

/* An error answer's code, field and message, for printing ("" when absent). */
static void error_parts(const char *answer, char code[64], char field[96], char message[300])
{
    code[0] = field[0] = message[0] = '\0';
    json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
    json_t *e = json_object_get(j, "error");
    const char *c = json_string_value(json_object_get(e, "code"));
    const char *f = json_string_value(json_object_get(e, "field"));
    const char *m = json_string_value(json_object_get(e, "message"));
    snprintf(code, 64, "%s", c ? c : "");
    snprintf(field, 96, "%s", f ? f : "");
    snprintf(message, 300, "%s", m ? m : "");
    json_decref(j);
}

/* ---- uploading the queue ------------------------------------------------------------------ */

/* The body of a batch: {"events": [...]} or {"sales": [...]} of the items `idx[0..n)` of `snap`
 * (those refused meanwhile, json NULL, left out); *count says how many went in. */
static char *batch_body(bool buffet, const struct term_item *snap, const size_t *idx, size_t n,
                        size_t *len, size_t *count)
{
    const char *head = buffet ? "{\"sales\":[" : "{\"events\":[";
    size_t total = strlen(head) + 3;
    for (size_t i = 0; i < n; i++)
        total += snap[idx[i]].json ? strlen(snap[idx[i]].json) + 1 : 0;
    char *body = malloc(total);
    if (body == NULL)
        return NULL;
    size_t at = strlen(head);
    memcpy(body, head, at);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *json = snap[idx[i]].json;
        if (json == NULL)
            continue;
        if ((*count)++ > 0)
            body[at++] = ',';
        size_t k = strlen(json);
        memcpy(body + at, json, k);
        at += k;
    }
    memcpy(body + at, "]}", 3);
    *len = at + 2;
    return body;
}

/* What a batch's answer says. */
struct acked {
    long long applied, duplicates, denied, held, last;
};

static int parse_ack(const char *answer, bool buffet, struct acked *a)
{
    memset(a, 0, sizeof(*a));
    json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
    json_t *held = json_object_get(j, "held_seq"), *last = json_object_get(j, "last_seq");
    if (!json_is_integer(held) || !json_is_integer(last)) {
        json_decref(j);
        return -1;
    }
    a->held = json_integer_value(held);
    a->last = json_integer_value(last);
    a->applied = json_integer_value(json_object_get(j, "applied"));
    a->duplicates = json_integer_value(json_object_get(j, "duplicates"));
    if (buffet) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(j, "results"), i, r)
        {
            if (json_is_false(json_object_get(r, "approved")))
                a->denied++;
        }
    } else {
        a->denied = json_integer_value(json_object_get(j, "denied"));
    }
    json_decref(j);
    return 0;
}

/* Sends one batch until it is answered: 0 answered (what the node holds dropped from the
 * queue), -1 not (a message said why). An item the node refuses as malformed (400 naming it)
 * is dropped into DIR/refused and the batch goes again without it. */
static int send_batch(struct term_state *s, struct http *h, struct term_item *snap,
                      const size_t *idx, size_t n, const char *label)
{
    bool buffet = strcmp(s->kind, "buffet") == 0;
    const char *path = buffet ? "/api/v1/meals/sales/batch" : "/api/v1/passage/events";
    for (;;) {
        size_t len, count;
        char *body = batch_body(buffet, snap, idx, n, &len, &count), *answer = NULL;
        char err[700], code[64], field[96], message[300];
        if (body == NULL)
            return -1;
        if (count == 0) {
            free(body);
            return 0;
        }
        long status = http_post_retry(h, path, body, len, &answer, err, sizeof(err));
        free(body);
        struct acked a;
        if (status == 200 && parse_ack(answer, buffet, &a) == 0) {
            free(answer);
            printf("batch %s: %zu %s: applied %lld, duplicates %lld, %s %lld, held_seq %lld, "
                   "last_seq %lld\n",
                   label, count, buffet ? "sales" : "events", a.applied, a.duplicates,
                   buffet ? "declined" : "denied", a.denied, a.held, a.last);
            fflush(stdout);
            /* Every item of an answered batch is held (applied, or a duplicate), whatever
             * held_seq says: a gap below it (an item refused earlier) does not keep them. */
            int64_t *seqs = malloc(count * sizeof(*seqs));
            size_t k = 0;
            for (size_t i = 0; seqs && i < n; i++)
                if (snap[idx[i]].json != NULL)
                    seqs[k++] = snap[idx[i]].seq;
            int bad = seqs == NULL || term_state_answered(s, a.held, seqs, k) != 0;
            free(seqs);
            if (bad) {
                fprintf(stderr, "mesnode terminal: %s/journal: %s\n", s->dir, strerror(errno));
                return -1;
            }
            return 0;
        }
        if (status < 0 || status >= 500 || status == 429) {
            fprintf(stderr, "mesnode terminal: %s: the queue is kept\n", err);
            free(answer);
            return -1;
        }
        error_parts(answer, code, field, message);
        free(answer);
        long bad = status == 400 ? term_field_index(field) : -1;
        if (bad >= 0 && (size_t)bad < count) {
            size_t seen = 0, i = 0;
            for (; i < n; i++)
                if (snap[idx[i]].json != NULL && seen++ == (size_t)bad)
                    break;
            struct term_item *it = &snap[idx[i]];
            char why[200];
            snprintf(why, sizeof(why), "400 %s %s", code, field);
            printf("batch %s: seq %" PRId64 " refused (%s %s: %s): dropped into %s/refused\n",
                   label, it->seq, code, field, message, s->dir);
            if (term_state_refuse(s, it->seq, why) != 0) {
                fprintf(stderr, "mesnode terminal: %s: %s\n", s->dir, strerror(errno));
                return -1;
            }
            free(it->json);
            it->json = NULL;
            continue;
        }
        if (status == 409 && strcmp(code, "seq_taken") == 0)
            fprintf(stderr,
                    "mesnode terminal: the node holds %s under another key: this terminal's "
                    "numbering is broken (its state directory lost or shared?); nothing of the "
                    "batch was applied\n",
                    field);
        else
            fprintf(stderr, "mesnode terminal: HTTP %ld %s%s%s: %s\n", status, code,
                    field[0] ? " " : "", field, message);
        return -1;
    }
}

/* Uploads the queue in batches of `per` (in random order with `shuffle`), `rounds` times over
 * (the same batches again: all duplicates), dropping what the node says it holds. 0 when
 * every batch was answered, -1 otherwise. */
static int upload(struct term_state *s, struct http *h, size_t per, bool shuffle, int rounds)
{
    size_t n = s->n;
    if (n == 0)
        return 0;
    /* A snapshot: what the node holds leaves the queue, not the batches of a later round. */
    struct term_item *snap = calloc(n, sizeof(*snap));
    size_t *idx = malloc(n * sizeof(*idx));
    int rc = snap && idx ? 0 : -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        snap[i].seq = s->items[i].seq;
        idx[i] = i;
        if ((snap[i].json = strdup(s->items[i].json)) == NULL)
            rc = -1;
    }
    if (rc == 0 && shuffle)
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = randombytes_uniform((uint32_t)i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    size_t nbatches = (n + per - 1) / per;
    for (int round = 0; round < rounds && rc == 0; round++)
        for (size_t k = 0; k < nbatches && rc == 0; k++) {
            char label[48];
            snprintf(label, sizeof(label), "%zu/%zu", round * nbatches + k + 1,
                     nbatches * (size_t)rounds);
            rc = send_batch(s, h, snap, idx + k * per, k + 1 < nbatches ? per : n - k * per, label);
        }
    for (size_t i = 0; snap && i < n; i++)
        free(snap[i].json);
    free(snap);
    free(idx);
    return rc;
}

/* The queue's state after an upload; 0 when the node holds everything, else 1. */
static int report_queue(const struct term_state *s)
{
    if (s->n == 0) {
        printf("queue: empty, held_seq %" PRId64 "\n", s->held);
        return 0;
    }
    printf("queue: %zu waiting (seq %" PRId64 "..%" PRId64 "), held_seq %" PRId64 "\n", s->n,
           s->items[0].seq, s->items[s->n - 1].seq, s->held);
    return 1;
}

/* ---- commands ------------------------------------------------------------------------------ */

enum {
    OPT_URL = 256,
    OPT_TOKEN,
    OPT_STATE,
    OPT_OFFLINE,
    OPT_BATCH,
    OPT_TURNSTILE,
    OPT_CARDS,
    OPT_EVENTS,
    OPT_CARD,
    OPT_ITEM,
    OPT_COMPLEX,
    OPT_AT,
    OPT_SHUFFLE,
    OPT_REPEAT,
    OPT_SECRET_FILE,
    OPT_ACCOUNT,
    OPT_AMOUNT,
    OPT_PAYMENT_ID,
    OPT_PAID_AT,
    OPT_TIMESTAMP,
    OPT_REPLAY,
    OPT_FORGE,
    OPT_TOKENS,
    OPT_CONNECTIONS,
    OPT_SCHOOLS,
    OPT_SALES_TOKEN,
    OPT_SALES_ITEM,
    OPT_SALES_RATE,
    OPT_RATE,
    OPT_SALES_CONNECTIONS,
    OPT_RETRIES,
    OPT_SEQ_FROM,
};

static const struct option options[] = {
    {"url", required_argument, 0, OPT_URL},
    {"token", required_argument, 0, OPT_TOKEN},
    {"state", required_argument, 0, OPT_STATE},
    {"offline", no_argument, 0, OPT_OFFLINE},
    {"batch", required_argument, 0, OPT_BATCH},
    {"turnstile", required_argument, 0, OPT_TURNSTILE},
    {"cards", required_argument, 0, OPT_CARDS},
    {"events", required_argument, 0, OPT_EVENTS},
    {"card", required_argument, 0, OPT_CARD},
    {"item", required_argument, 0, OPT_ITEM},
    {"complex", required_argument, 0, OPT_COMPLEX},
    {"at", required_argument, 0, OPT_AT},
    {"shuffle", no_argument, 0, OPT_SHUFFLE},
    {"repeat", no_argument, 0, OPT_REPEAT},
    {"secret-file", required_argument, 0, OPT_SECRET_FILE},
    {"account", required_argument, 0, OPT_ACCOUNT},
    {"amount", required_argument, 0, OPT_AMOUNT},
    {"payment-id", required_argument, 0, OPT_PAYMENT_ID},
    {"paid-at", required_argument, 0, OPT_PAID_AT},
    {"timestamp", required_argument, 0, OPT_TIMESTAMP},
    {"replay", no_argument, 0, OPT_REPLAY},
    {"forge", no_argument, 0, OPT_FORGE},
    {"tokens", required_argument, 0, OPT_TOKENS},
    {"connections", required_argument, 0, OPT_CONNECTIONS},
    {"schools", required_argument, 0, OPT_SCHOOLS},
    {"sales-token", required_argument, 0, OPT_SALES_TOKEN},
    {"sales-item", required_argument, 0, OPT_SALES_ITEM},
    {"sales-rate", required_argument, 0, OPT_SALES_RATE},
    {"rate", required_argument, 0, OPT_RATE},
    {"sales-connections", required_argument, 0, OPT_SALES_CONNECTIONS},
    {"retries", required_argument, 0, OPT_RETRIES},
    {"seq-from", required_argument, 0, OPT_SEQ_FROM},
    {0, 0, 0, 0},
};

/* Everything any subcommand takes; each checks what it needs. */
struct args {
    const char *url, *token, *state, *turnstile, *cards, *card, *at, *secret_file, *account,
        *payment_id, *paid_at, *tokens, *sales_token;
    bool offline, shuffle, repeat, replay, forge;
    long long batch, events, amount, timestamp, connections, schools, sales_rate, sales_connections,
        sales_item, retries, seq_from, rate;
    bool has_amount, has_timestamp;
    json_t *lines; /* buffet: the sale's items and complexes */
    char **rest;   /* positional arguments */
    int nrest;
};

static int usage_error(const char *why)
{
    fprintf(stderr, "mesnode terminal: %s\n\n%s", why, terminal_usage);
    return 2;
}

static int number_opt(const char *name, const char *v, long long min, long long max, long long *out)
{
    if (parse_int(v, min, max, out) == 0)
        return 0;
    fprintf(stderr, "mesnode terminal: --%s takes a whole number %lld-%lld\n", name, min, max);
    return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof(*a));
    a->batch = 100;
    a->connections = 8;
    a->sales_connections = 4;
    a->retries = 4;
    a->lines = json_array();
    int c, rc = 0;
    optind = 1;
    opterr = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_URL:
            a->url = optarg;
            break;
        case OPT_TOKEN:
            a->token = optarg;
            break;
        case OPT_STATE:
            a->state = optarg;
            break;
        case OPT_OFFLINE:
            a->offline = true;
            break;
        case OPT_BATCH:
            rc = number_opt("batch", optarg, 1, PASSAGE_MAX, &a->batch);
            break;
        case OPT_TURNSTILE:
            a->turnstile = optarg;
            break;
        case OPT_CARDS:
            a->cards = optarg;
            break;
        case OPT_EVENTS:
            rc = number_opt("events", optarg, 0, 100000000, &a->events);
            break;
        case OPT_CARD:
            a->card = optarg;
            break;
        case OPT_ITEM:
        case OPT_COMPLEX: {
            int64_t id, q;
            if (term_parse_item(optarg, &id, &q) != 0) {
                fprintf(stderr, "mesnode terminal: --%s takes ID or IDxQUANTITY (1-1000)\n",
                        c == OPT_ITEM ? "item" : "complex");
                rc = 2;
                break;
            }
            json_array_append_new(a->lines, json_pack("{s:I,s:I}", c == OPT_ITEM ? "id" : "complex",
                                                      (json_int_t)id, "quantity", (json_int_t)q));
            break;
        }
        case OPT_AT:
            a->at = optarg;
            break;
        case OPT_SHUFFLE:
            a->shuffle = true;
            break;
        case OPT_REPEAT:
            a->repeat = true;
            break;
        case OPT_SECRET_FILE:
            a->secret_file = optarg;
            break;
        case OPT_ACCOUNT:
            a->account = optarg;
            break;
        case OPT_AMOUNT:
            rc = number_opt("amount", optarg, INT64_MIN / 2, INT64_MAX / 2, &a->amount);
            a->has_amount = true;
            break;
        case OPT_PAYMENT_ID:
            a->payment_id = optarg;
            break;
        case OPT_PAID_AT:
            a->paid_at = optarg;
            break;
        case OPT_TIMESTAMP:
            rc = number_opt("timestamp", optarg, 0, INT32_MAX * 4LL, &a->timestamp);
            a->has_timestamp = true;
            break;
        case OPT_REPLAY:
            a->replay = true;
            break;
        case OPT_FORGE:
            a->forge = true;
            break;
        case OPT_TOKENS:
            a->tokens = optarg;
            break;
        case OPT_CONNECTIONS:
            rc = number_opt("connections", optarg, 1, 1024, &a->connections);
            break;
        case OPT_SCHOOLS:
            rc = number_opt("schools", optarg, 1, 1000000, &a->schools);
            break;
        case OPT_SALES_TOKEN:
            a->sales_token = optarg;
            break;
        case OPT_SALES_ITEM:
            rc = number_opt("sales-item", optarg, 1, INT64_MAX, &a->sales_item);
            break;
        case OPT_SALES_RATE:
            rc = number_opt("sales-rate", optarg, 1, 1000000, &a->sales_rate);
            break;
        case OPT_RATE:
            rc = number_opt("rate", optarg, 1, 10000000, &a->rate);
            break;
        case OPT_SALES_CONNECTIONS:
            rc = number_opt("sales-connections", optarg, 1, 256, &a->sales_connections);
            break;
        case OPT_RETRIES:
            rc = number_opt("retries", optarg, 0, 20, &a->retries);
            break;
        case OPT_SEQ_FROM:
            rc = number_opt("seq-from", optarg, 1, INT64_MAX / 2, &a->seq_from);
            break;
        default:
            rc = usage_error("unknown or incomplete option");
        }
    }
    a->rest = argv + optind;
    a->nrest = argc - optind;
    return rc;
}

/* Opens the state and the node's client both (what turnstile, buffet and flush share). */
static int open_both(const struct args *a, const char *kind, struct term_state *s, struct http *h)
{
    char err[700];
    if (a->url == NULL || a->token == NULL || a->state == NULL)
        return usage_error("--url, --token and --state are needed");
    if (http_init(h, a->url, a->token, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode terminal: %s\n", err);
        http_free(h);
        return 2;
    }
    h->retries = (int)a->retries;
    if (term_state_open(s, a->state, kind, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode terminal: %s\n", err);
        http_free(h);
        return 1;
    }
    return 0;
}

/* The lines of a file without their ends, blank lines and '#' comments skipped. The count, or
 * -1 (with a message). *out and its strings are malloc'ed. */
static long read_lines(const char *path, char ***out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "mesnode terminal: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, n = 0, room = 0;
    char **v = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (n == room) {
            room = room ? room * 2 : 1024;
            char **more = realloc(v, room * sizeof(*v));
            if (more == NULL)
                break;
            v = more;
        }
        if ((v[n] = strdup(line)) == NULL)
            break;
        n++;
    }
    bool bad = ferror(f) || !feof(f);
    free(line);
    fclose(f);
    if (bad) {
        fprintf(stderr, "mesnode terminal: %s: read failed\n", path);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return -1;
    }
    *out = v;
    return (long)n;
}

static void free_lines(char **v, long n)
{
    for (long i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int cmd_turnstile(struct args *a)
{
    bool from_file = a->cards != NULL || a->events > 0;
    if (from_file ? (a->cards == NULL || a->events <= 0 || a->nrest > 0) : a->nrest == 0)
        return usage_error("give EVENT... or --cards FILE --events N");
    if (a->turnstile && (strlen(a->turnstile) == 0 || strlen(a->turnstile) > 100))
        return usage_error("--turnstile takes a name of 1-100 bytes");
    /* Everything is checked before anything is queued. */
    char **cards = NULL;
    long ncards = 0;
    if (from_file) {
        if ((ncards = read_lines(a->cards, &cards)) < 0)
            return 1;
        for (long i = 0; i < ncards; i++)
            cards[i][strcspn(cards[i], "\t ")] = '\0'; /* the first column */
        if (ncards == 0) {
            fprintf(stderr, "mesnode terminal: %s holds no card\n", a->cards);
            return 1;
        }
    } else {
        for (int i = 0; i < a->nrest; i++) {
            char card[65], dir[4], at[40];
            if (term_parse_event(a->rest[i], card, dir, at) != 0) {
                fprintf(stderr,
                        "mesnode terminal: '%s' is not CARD:in or CARD:out[@RFC3339] "
                        "(e.g. 04A23B4C:in@2026-12-05T08:12:00+03:00)\n",
                        a->rest[i]);
                return 2;
            }
        }
    }
    struct term_state s;
    struct http h;
    int rc = open_both(a, "turnstile", &s, &h);
    if (rc != 0) {
        free_lines(cards, ncards);
        return rc;
    }
    long total = from_file ? (long)a->events : a->nrest;
    int64_t first = 0, seq = 0;
    char now[32];
    term_format_time(time(NULL), now);
    for (long i = 0; i < total && rc == 0; i++) {
        char card[65], dir[4], at[40];
        if (from_file) {
            snprintf(card, sizeof(card), "%s", cards[i % ncards]);
            snprintf(dir, sizeof(dir), "%s", (i / ncards) % 2 == 0 ? "in" : "out");
            at[0] = '\0';
        } else {
            term_parse_event(a->rest[i], card, dir, at);
        }
        json_t *ev =
            json_pack("{s:s,s:s,s:s}", "card", card, "direction", dir, "at", at[0] ? at : now);
        if (a->turnstile)
            json_object_set_new(ev, "turnstile", json_string(a->turnstile));
        if (ev == NULL || term_state_add(&s, ev, &seq) != 0) {
            fprintf(stderr, "mesnode terminal: %s/journal: %s\n", s.dir, strerror(errno));
            rc = 1;
        }
        json_decref(ev);
        if (first == 0)
            first = seq;
    }
    free_lines(cards, ncards);
    if (rc == 0 && term_state_sync(&s) != 0) {
        fprintf(stderr, "mesnode terminal: %s/journal: %s\n", s.dir, strerror(errno));
        rc = 1;
    }
    if (rc == 0) {
        printf("terminal %s: queued %ld event%s, seq %" PRId64 "..%" PRId64 "\n", s.id, total,
               total == 1 ? "" : "s", first, seq);
        if (!a->offline)
            rc = upload(&s, &h, (size_t)a->batch, false, 1) != 0;
        int left = report_queue(&s);
        if (rc == 0 && !a->offline)
            rc = left;
    }
    term_state_close(&s);
    http_free(&h);
    return rc;
}

/* Prints a sale's answer: "sale SEQ: approved total=... free=... balance=... held_seq=...". */
static void print_sale(int64_t seq, json_t *j)
{
    json_t *ok = json_object_get(j, "approved");
    const char *reason = json_string_value(json_object_get(j, "reason"));
    json_t *bal = json_object_get(j, "balance");
    printf("sale %" PRId64 ": %s", seq, json_is_true(ok) ? "approved" : "declined");
    if (!json_is_true(ok))
        printf(" reason=%s", reason ? reason : "?");
    if (json_is_integer(json_object_get(j, "sale")))
        printf(" sale=%lld", (long long)json_integer_value(json_object_get(j, "sale")));
    printf(" total=%lld free=%lld", (long long)json_integer_value(json_object_get(j, "total")),
           (long long)json_integer_value(json_object_get(j, "free")));
    if (json_is_integer(bal))
        printf(" balance=%lld", (long long)json_integer_value(bal));
    if (json_is_true(json_object_get(j, "duplicate")))
        printf(" duplicate");
    printf(" held_seq=%lld last_seq=%lld\n",
           (long long)json_integer_value(json_object_get(j, "held_seq")),
           (long long)json_integer_value(json_object_get(j, "last_seq")));
}

static int cmd_buffet(struct args *a)
{
    if (a->card == NULL || strlen(a->card) == 0 || strlen(a->card) > 64)
        return usage_error("--card CARD (1-64 bytes) is needed");
    if (json_array_size(a->lines) == 0)
        return usage_error("a sale needs --item ID[xQ] or --complex ID[xQ]");
    time_t when = time(NULL);
    char at[40];
    if (a->at != NULL && (strlen(a->at) >= sizeof(at) || mosk_parse_time(a->at, &when) != 0))
        return usage_error("--at takes an RFC 3339 time (2026-12-05T12:30:00+03:00)");
    if (a->at != NULL)
        snprintf(at, sizeof(at), "%s", a->at);
    else
        term_format_time(when, at);
    struct term_state s;
    struct http h;
    int rc = open_both(a, "buffet", &s, &h);
    if (rc != 0)
        return rc;
    json_t *sale = json_pack("{s:s,s:O,s:s}", "card", a->card, "items", a->lines, "at", at);
    if (a->offline)
        json_object_set_new(sale, "offline", json_true());
    int64_t seq = 0;
    if (sale == NULL || term_state_add(&s, sale, &seq) != 0 || term_state_sync(&s) != 0) {
        fprintf(stderr, "mesnode terminal: %s/journal: %s\n", s.dir, strerror(errno));
        rc = 1;
        goto out;
    }
    if (a->offline) {
        printf("sale %" PRId64 ": sold offline, queued (%zu waiting)\n", seq, s.n);
        goto out;
    }
    /* One round trip: the buffet waits for the decision. */
    const struct term_item *it = term_state_find(&s, seq);
    char *answer = NULL, err[700];
    h.retries = a->retries < 1 ? (int)a->retries : 1;
    long status = http_post_retry(&h, "/api/v1/meals/sales", it->json, strlen(it->json), &answer,
                                  err, sizeof(err));
    json_t *j = status == 200 && answer ? json_loads(answer, 0, NULL) : NULL;
    if (j != NULL && json_is_integer(json_object_get(j, "held_seq"))) {
        print_sale(seq, j);
        if (term_state_answered(&s, json_integer_value(json_object_get(j, "held_seq")), &seq, 1) !=
            0) {
            fprintf(stderr, "mesnode terminal: %s/journal: %s\n", s.dir, strerror(errno));
            rc = 1;
        }
    } else if (status < 0 || status >= 500 || status == 429) {
        /* No decision: the terminal sells by its offline rules and uploads the sale later
         * under the same key (a node that did apply it answers the first answer then). */
        json_t *queued = json_loads(it->json, 0, NULL);
        json_object_set_new(queued, "offline", json_true());
        char *text = queued ? json_dumps(queued, JSON_COMPACT) : NULL;
        json_decref(queued);
        if (text == NULL || term_state_replace(&s, seq, text) != 0 || term_state_sync(&s) != 0) {
            fprintf(stderr, "mesnode terminal: %s/journal: %s\n", s.dir, strerror(errno));
            rc = 1;
        } else {
            printf("sale %" PRId64 ": no answer (%s): sold offline, queued (%zu waiting)\n", seq,
                   err, s.n);
        }
        free(text);
    } else {
        char code[64], field[96], message[300];
        error_parts(answer, code, field, message);
        fprintf(stderr, "mesnode terminal: HTTP %ld %s%s%s: %s\n", status, code,
                field[0] ? " " : "", field, message);
        if (status == 400) {
            char why[200];
            snprintf(why, sizeof(why), "400 %s %s", code, field);
            term_state_refuse(&s, seq, why);
        }
        rc = 1;
    }
    json_decref(j);
    free(answer);
out:
    json_decref(sale);
    term_state_close(&s);
    http_free(&h);
    return rc;
}

static int cmd_flush(struct args *a)
{
    if (a->nrest > 0)
        return usage_error("flush takes no events");
    struct term_state s;
    struct http h;
    int rc = open_both(a, NULL, &s, &h);
    if (rc != 0)
        return rc;
    size_t per = (size_t)a->batch;
    if (strcmp(s.kind, "buffet") == 0 && per > SALES_MAX)
        per = SALES_MAX;
    printf("terminal %s (%s): %zu queued, held_seq %" PRId64 "\n", s.id, s.kind, s.n, s.held);
    rc = upload(&s, &h, per, a->shuffle, a->repeat ? 2 : 1) != 0;
    int left = report_queue(&s);
    term_state_close(&s);
    http_free(&h);
    return rc ? 1 : left;
}

static int cmd_status(struct args *a)
{
    if (a->state == NULL)
        return usage_error("--state DIR is needed");
    struct term_state s;
    char err[700];
    if (term_state_open(&s, a->state, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode terminal: %s\n", err);
        return 1;
    }
    printf("terminal %s (%s): next seq %" PRId64 ", held_seq %" PRId64 "\n", s.id, s.kind,
           s.next_seq, s.held);
    report_queue(&s);
    term_state_close(&s);
    return 0;
}

/* The first line of `path` into sodium_malloc'ed memory (*len bytes, NUL-ended), or NULL. */
static char *read_secret(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "mesnode terminal: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *secret = sodium_malloc(1024);
    if (secret != NULL && fgets(secret, 1024, f) != NULL) {
        secret[strcspn(secret, "\r\n")] = '\0';
        *len = strlen(secret);
    } else if (secret != NULL) {
        sodium_free(secret);
        secret = NULL;
    }
    fclose(f);
    if (secret != NULL && *len == 0) {
        sodium_free(secret);
        secret = NULL;
    }
    if (secret == NULL)
        fprintf(stderr, "mesnode terminal: %s: no secret on its first line\n", path);
    return secret;
}

static int cmd_provider(struct args *a)
{
    if (a->url == NULL || a->secret_file == NULL || a->account == NULL || !a->has_amount)
        return usage_error("--url, --secret-file, --account and --amount are needed");
    char paid_at[40];
    time_t t;
    if (a->paid_at != NULL &&
        (strlen(a->paid_at) >= sizeof(paid_at) || mosk_parse_time(a->paid_at, &t) != 0))
        return usage_error("--paid-at takes an RFC 3339 time");
    if (a->paid_at)
        snprintf(paid_at, sizeof(paid_at), "%s", a->paid_at);
    else
        term_format_time(time(NULL), paid_at);
    char id[80];
    if (a->payment_id != NULL) {
        snprintf(id, sizeof(id), "%s", a->payment_id);
    } else {
        unsigned char raw[8];
        randombytes_buf(raw, sizeof(raw));
        char hex[17];
        sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
        snprintf(id, sizeof(id), "pay-%s", hex);
    }
    json_t *obj = json_pack("{s:s,s:s,s:I,s:s}", "payment_id", id, "account", a->account, "amount",
                            (json_int_t)a->amount, "paid_at", paid_at);
    char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    size_t slen = 0;
    char *secret = body ? read_secret(a->secret_file, &slen) : NULL;
    if (secret == NULL) {
        free(body);
        return 1;
    }
    char ts[32], sig[65];
    snprintf(ts, sizeof(ts), "%lld", a->has_timestamp ? a->timestamp : (long long)time(NULL));
    term_sign((const unsigned char *)secret, slen, ts, body, strlen(body), sig);
    sodium_free(secret);
    if (a->forge) /* one byte of the signature flipped: still hex, no longer the MAC */
        sig[0] = sig[0] == '0' ? '1' : '0';
    char hts[64], hsig[100];
    snprintf(hts, sizeof(hts), "X-Payment-Timestamp: %s", ts);
    snprintf(hsig, sizeof(hsig), "X-Payment-Signature: %s", sig);
    const char *const extra[] = {hts, hsig, NULL};
    struct http h;
    char err[700];
    if (http_init(&h, a->url, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode terminal: %s\n", err);
        free(body);
        http_free(&h);
        return 2;
    }
    printf("POST %s/api/v1/meals/topups\n%s\n%s\n%s\n", h.base, hts, hsig, body);
    int rc = 0;
    for (int i = 0; i < (a->replay ? 2 : 1); i++) {
        char *answer = NULL;
        long status = http_post(&h, "/api/v1/meals/topups", body, strlen(body), extra, &answer, err,
                                sizeof(err));
        if (status < 0) {
            fprintf(stderr, "mesnode terminal: %s\n", err);
            rc = 1;
            break;
        }
        printf("HTTP %ld %s\n", status, answer ? answer : "");
        if (status < 200 || status >= 300)
            rc = 1;
        free(answer);
    }
    free(body);
    http_free(&h);
    return rc;
}

/* ---- rush ---------------------------------------------------------------------------------- */

/* A card of the cards file and its school (0: none given, it serves every school). */
struct rush_card {
    int64_t school;
    const char *card;
};

/* A school's cards: a run of the cards sorted by school. */
struct rush_school {
    int64_t id;
    const struct rush_card *cards;
    size_t ncards;
};

/* A simulated terminal: a device token, its school, its numbering and its place in the
 * school's cards (each card goes in, then out, then in...). Threads may share one. */
struct rush_terminal {
    char auth[340];
    const struct rush_school *school;
    atomic_llong seq;
    atomic_llong cursor;
};

struct rush {
    char base[512];
    char run[8]; /* this run's mark in the keys */
    struct rush_terminal *turnstiles;
    size_t nturnstiles;
    int nthreads;
    long long events, per;
    long long passage_rate; /* events a second on a fixed schedule; 0: as fast as answered */
    atomic_llong claimed;   /* events the threads took */
    atomic_bool passage_done;
    struct rush_terminal buffet;
    long long item, rate;
    int nsales;
    struct timespec start;
};

/* What one thread measured. */
struct rush_thread {
    struct rush *r;
    int index;
    pthread_t tid;
    double *lat; /* ms, one per request */
    size_t nlat, caplat;
    long long acked, applied, duplicates, denied, failed, approved, declined, reasons[8];
    char first_error[300];
    struct timespec last; /* when its last answer came */
};

static const char *const sale_reasons[8] = {"unknown_card",       "card_blocked", "other_school",
                                            "account_blocked",    "stop_list",    "daily_limit",
                                            "insufficient_funds", "unknown_item"};

static double since_ms(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void note_latency(struct rush_thread *t, double ms)
{
    if (t->nlat == t->caplat) {
        size_t cap = t->caplat ? t->caplat * 2 : 4096;
        double *more = realloc(t->lat, cap * sizeof(*more));
        if (more == NULL)
            return;
        t->lat = more;
        t->caplat = cap;
    }
    t->lat[t->nlat++] = ms;
}

/* One POST on the thread's connection, timed; the status (answer in *a) or -1. */
static long rush_post(struct rush_thread *t, CURL *c, const char *url, const char *auth,
                      const char *body, size_t len, struct answer *a)
{
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:");
    hs = curl_slist_append(hs, auth);
    a->len = 0;
    a->over = false;
    if (a->buf)
        a->buf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(c);
    clock_gettime(CLOCK_MONOTONIC, &t->last);
    note_latency(t, since_ms(&t0, &t->last));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hs);
    long status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static void rush_failed(struct rush_thread *t, long status, const struct answer *a)
{
    t->failed++;
    if (t->first_error[0] == '\0')
        snprintf(t->first_error, sizeof(t->first_error), "HTTP %ld %.200s", status,
                 a->buf && a->len ? a->buf : "(no answer)");
}

/* Sleeps until `next` ms after the run's start; false at once when it is already past. */
static bool wait_until(const struct rush *r, double next)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double wait = next - since_ms(&r->start, &now);
    if (wait <= 0)
        return false;
    struct timespec ts = {(time_t)(wait / 1000), (long)(fmod(wait, 1000) * 1e6)};
    nanosleep(&ts, NULL);
    return true;
}

/* A passage thread: takes `per` events at a time until `events` are taken, each batch from
 * the next of its turnstiles (index, index + C, ...: every turnstile is used). With a rate,
 * the threads' batches follow a fixed schedule (an open load: a slow answer does not slow
 * the arrivals), else each thread sends its next batch as soon as the last is answered. */
static void *rush_passage(void *arg)
{
    struct rush_thread *t = arg;
    struct rush *r = t->r;
    CURL *c = curl_easy_init();
    char url[600];
    snprintf(url, sizeof(url), "%s/api/v1/passage/events", r->base);
    size_t cap = (size_t)r->per * 240 + 64;
    char *body = malloc(cap);
    struct answer a = {0};
    size_t turn = (size_t)t->index;
    double interval = r->passage_rate
                          ? 1000.0 * (double)(r->per * r->nthreads) / (double)r->passage_rate
                          : 0; /* ms between this thread's batches */
    double next = interval * t->index / r->nthreads;
    while (c != NULL && body != NULL) {
        if (interval > 0) {
            while (wait_until(r, next))
                ;
            next += interval;
        }
        long long from = atomic_fetch_add(&r->claimed, r->per);
        if (from >= r->events)
            break;
        long long count = r->events - from < r->per ? r->events - from : r->per;
        struct rush_terminal *ts = &r->turnstiles[turn % r->nturnstiles];
        turn += (size_t)r->nthreads;
        char now[32];
        term_format_time(time(NULL), now);
        size_t at = (size_t)snprintf(body, cap, "{\"events\":[");
        size_t nc = ts->school->ncards;
        for (long long i = 0; i < count; i++) {
            long long seq = atomic_fetch_add(&ts->seq, 1) + 1;
            long long k = atomic_fetch_add(&ts->cursor, 1);
            at += (size_t)snprintf(body + at, cap - at,
                                   "%s{\"key\":\"%s-%zu-%lld\",\"seq\":%lld,\"card\":\"%s\","
                                   "\"direction\":\"%s\",\"at\":\"%s\"}",
                                   i ? "," : "", r->run, (size_t)(ts - r->turnstiles), seq, seq,
                                   ts->school->cards[(size_t)k % nc].card,
                                   (k / (long long)nc) % 2 ? "out" : "in", now);
        }
        at += (size_t)snprintf(body + at, cap - at, "]}");
        long status = rush_post(t, c, url, ts->auth, body, at, &a);
        struct acked ack;
        if (status == 200 && parse_ack(a.buf, false, &ack) == 0) {
            t->acked += count;
            t->applied += ack.applied;
            t->duplicates += ack.duplicates;
            t->denied += ack.denied;
        } else {
            rush_failed(t, status, &a);
        }
    }
    free(a.buf);
    free(body);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

/* A buffet thread: one sale of the item at a time on its share of the rate's schedule, until
 * the passage threads are done. */
static void *rush_sales(void *arg)
{
    struct rush_thread *t = arg;
    struct rush *r = t->r;
    struct rush_terminal *b = &r->buffet;
    CURL *c = curl_easy_init();
    char url[600], body[512];
    snprintf(url, sizeof(url), "%s/api/v1/meals/sales", r->base);
    struct answer a = {0};
    double interval = 1000.0 * r->nsales / (double)r->rate; /* ms between this thread's sales */
    double next = interval * t->index / r->nsales;
    while (c != NULL && !atomic_load(&r->passage_done)) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double wait = next - since_ms(&r->start, &now);
        if (wait > 0) {
            wait = wait > 50 ? 50 : wait;
            struct timespec ts = {0, (long)(wait * 1e6)};
            nanosleep(&ts, NULL);
            continue;
        }
        next += interval;
        long long seq = atomic_fetch_add(&b->seq, 1) + 1;
        long long k = atomic_fetch_add(&b->cursor, 1);
        int len = snprintf(body, sizeof(body),
                           "{\"key\":\"%s-s-%lld\",\"seq\":%lld,\"card\":\"%s\",\"items\":"
                           "[{\"id\":%lld,\"quantity\":1}]}",
                           r->run, seq, seq, b->school->cards[(size_t)k % b->school->ncards].card,
                           r->item);
        long status = rush_post(t, c, url, b->auth, body, (size_t)len, &a);
        json_t *j = status == 200 ? json_loadb(a.buf, a.len, 0, NULL) : NULL;
        json_t *ok = json_object_get(j, "approved");
        if (json_is_boolean(ok)) {
            t->acked++;
            if (json_is_true(ok)) {
                t->approved++;
            } else {
                t->declined++;
                const char *why = json_string_value(json_object_get(j, "reason"));
                for (int i = 0; why && i < 8; i++)
                    if (strcmp(why, sale_reasons[i]) == 0)
                        t->reasons[i]++;
            }
        } else {
            rush_failed(t, status, &a);
        }
        json_decref(j);
    }
    free(a.buf);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_card(const void *a, const void *b)
{
    int64_t x = ((const struct rush_card *)a)->school, y = ((const struct rush_card *)b)->school;
    return x < y ? -1 : x > y;
}

static int cmp_school(const void *a, const void *b)
{
    int64_t x = ((const struct rush_school *)a)->id, y = ((const struct rush_school *)b)->id;
    return x < y ? -1 : x > y;
}

/* The sums of threads [from, to): their latencies merged and sorted. */
struct rush_sum {
    double *lat;
    size_t n;
    long long acked, applied, duplicates, denied, failed, approved, declined, reasons[8];
    struct timespec last;
    const char *first_error;
};

static void rush_merge(const struct rush_thread *t, int from, int to, struct rush_sum *s)
{
    memset(s, 0, sizeof(*s));
    size_t total = 0;
    for (int i = from; i < to; i++)
        total += t[i].nlat;
    s->lat = malloc((total ? total : 1) * sizeof(double));
    for (int i = from; i < to; i++) {
        if (s->lat) {
            memcpy(s->lat + s->n, t[i].lat, t[i].nlat * sizeof(double));
            s->n += t[i].nlat;
        }
        s->acked += t[i].acked;
        s->applied += t[i].applied;
        s->duplicates += t[i].duplicates;
        s->denied += t[i].denied;
        s->failed += t[i].failed;
        s->approved += t[i].approved;
        s->declined += t[i].declined;
        for (int k = 0; k < 8; k++)
            s->reasons[k] += t[i].reasons[k];
        if (i == from || since_ms(&s->last, &t[i].last) > 0)
            s->last = t[i].last;
        if (s->first_error == NULL && t[i].first_error[0])
            s->first_error = t[i].first_error;
    }
    qsort(s->lat, s->n, sizeof(double), cmp_double);
}

/* A tokens file's line "SCHOOL SCOPE TOKEN" (tabs or spaces). 0, or -1. */
static int token_line(const char *line, int64_t *school, char scope[16], char token[300])
{
    char id[32];
    if (sscanf(line, "%31s %15s %299s", id, scope, token) != 3)
        return -1;
    *school = strtoll(id, NULL, 10);
    return 0;
}

/* The school whose cards a token of `school` uses: its own, or with a cards file without
 * schools, all of them. */
static const struct rush_school *school_of(const struct rush_school *schools, size_t n,
                                           int64_t school)
{
    if (n == 1 && schools[0].id == 0)
        return &schools[0];
    struct rush_school key = {.id = school};
    const struct rush_school *s = bsearch(&key, schools, n, sizeof(*schools), cmp_school);
    return s != NULL && s->ncards > 0 ? s : NULL;
}

/* Prints what the threads measured; the number of failed requests. */
static long long rush_report(const struct rush *r, const struct rush_thread *threads)
{
    struct rush_sum p, s = {0};
    rush_merge(threads, 0, r->nthreads, &p);
    double secs = since_ms(&r->start, &p.last) / 1e3;
    double eps = secs > 0 ? (double)p.acked / secs : 0, sps = 0;
    printf("passage: %lld events acknowledged in %.2f s: %.0f events/s; a batch's "
           "acknowledgement p50 %.2f ms, p99 %.2f ms, max %.2f ms; applied %lld, duplicates "
           "%lld, denied %lld; failed batches %lld\n",
           p.acked, secs, eps, term_percentile(p.lat, p.n, 50), term_percentile(p.lat, p.n, 99),
           term_percentile(p.lat, p.n, 100), p.applied, p.duplicates, p.denied, p.failed);
    if (p.first_error)
        printf("passage: first failure: %s\n", p.first_error);
    if (r->nsales > 0) {
        rush_merge(threads, r->nthreads, r->nthreads + r->nsales, &s);
        sps = secs > 0 ? (double)s.acked / secs : 0;
        printf("sales: %lld decisions in %.2f s: %.0f/s (asked %lld/s); p50 %.2f ms, p99 %.2f "
               "ms, max %.2f ms; approved %lld, declined %lld",
               s.acked, secs, sps, r->rate, term_percentile(s.lat, s.n, 50),
               term_percentile(s.lat, s.n, 99), term_percentile(s.lat, s.n, 100), s.approved,
               s.declined);
        for (int k = 0; k < 8; k++)
            if (s.reasons[k])
                printf(" (%s %lld)", sale_reasons[k], s.reasons[k]);
        printf("; failed %lld\n", s.failed);
        if (s.first_error)
            printf("sales: first failure: %s\n", s.first_error);
    }
    printf("result events=%lld seconds=%.3f events_per_s=%.0f ack_p50_ms=%.2f ack_p99_ms=%.2f "
           "failed=%lld sales=%lld sales_per_s=%.0f sale_p50_ms=%.2f sale_p99_ms=%.2f "
           "sales_failed=%lld\n",
           p.acked, secs, eps, term_percentile(p.lat, p.n, 50), term_percentile(p.lat, p.n, 99),
           p.failed, s.acked, sps, term_percentile(s.lat, s.n, 50), term_percentile(s.lat, s.n, 99),
           s.failed);
    free(p.lat);
    free(s.lat);
    return p.failed + s.failed;
}

static int cmd_rush(struct args *a)
{
    if (a->url == NULL || a->tokens == NULL || a->cards == NULL || a->events <= 0)
        return usage_error("--url, --tokens, --cards and --events N (> 0) are needed");
    if ((a->sales_token != NULL) != (a->sales_rate > 0) ||
        (a->sales_token != NULL) != (a->sales_item > 0))
        return usage_error("--sales-token, --sales-item and --sales-rate go together");
    static struct rush r; /* large, and read by the threads */
    memset(&r, 0, sizeof(r));
    struct http h;
    char err[700];
    int rc = http_init(&h, a->url, a->sales_token, err, sizeof(err));
    snprintf(r.base, sizeof(r.base), "%s", h.base);
    http_free(&h);
    if (rc != 0) {
        fprintf(stderr, "mesnode terminal: %s\n", err);
        return 2;
    }
    rc = 1;
    char **tlines = NULL, **clines = NULL;
    long nt = read_lines(a->tokens, &tlines), nc = nt < 0 ? -1 : read_lines(a->cards, &clines);
    struct rush_card *cards = NULL;
    struct rush_school *schools = NULL;
    struct rush_thread *threads = NULL;
    size_t nschools = 0;
    if (nt < 0 || nc < 0)
        goto out;
    cards = calloc((size_t)nc + 1, sizeof(*cards));
    schools = calloc((size_t)nc + 1, sizeof(*schools));
    r.turnstiles = calloc((size_t)nt + 1, sizeof(*r.turnstiles));
    if (cards == NULL || schools == NULL || r.turnstiles == NULL)
        goto out;
    for (long i = 0; i < nc; i++) {
        char *tab = strpbrk(clines[i], "\t ");
        cards[i].school = tab ? strtoll(tab + 1, NULL, 10) : 0;
        if (tab)
            *tab = '\0';
        cards[i].card = clines[i];
        if (strlen(clines[i]) == 0 || strlen(clines[i]) > 64 || strpbrk(clines[i], "\"\\")) {
            fprintf(stderr, "mesnode terminal: %s: '%s' is not a card\n", a->cards, clines[i]);
            goto out;
        }
    }
    qsort(cards, (size_t)nc, sizeof(*cards), cmp_card);
    for (long i = 0; i < nc; i++) {
        if (nschools == 0 || schools[nschools - 1].id != cards[i].school)
            schools[nschools++] = (struct rush_school){cards[i].school, &cards[i], 0};
        schools[nschools - 1].ncards++;
    }
    /* Turnstiles: the passage tokens of schools with cards, the first --schools of them. */
    for (long i = 0; i < nt && (a->schools == 0 || r.nturnstiles < (size_t)a->schools); i++) {
        int64_t school;
        char scope[16], token[300];
        if (token_line(tlines[i], &school, scope, token) != 0 || strcmp(scope, "passage") != 0)
            continue;
        const struct rush_school *s = school_of(schools, nschools, school);
        if (s == NULL)
            continue;
        struct rush_terminal *ts = &r.turnstiles[r.nturnstiles++];
        snprintf(ts->auth, sizeof(ts->auth), "Authorization: Bearer %s", token);
        ts->school = s;
        atomic_store(&ts->seq, a->seq_from > 0 ? a->seq_from - 1 : 0);
    }
    if (r.nturnstiles == 0) {
        fprintf(stderr,
                "mesnode terminal: %s names no passage token of a school with cards in %s\n",
                a->tokens, a->cards);
        goto out;
    }
    if (a->sales_token != NULL) {
        int64_t school = 0;
        for (long i = 0; i < nt; i++) {
            char scope[16], token[300];
            int64_t id;
            if (token_line(tlines[i], &id, scope, token) == 0 && strcmp(token, a->sales_token) == 0)
                school = id;
        }
        r.buffet.school = school_of(schools, nschools, school);
        if (r.buffet.school == NULL) {
            fprintf(stderr, "mesnode terminal: no cards in %s for the sales token's school\n",
                    a->cards);
            goto out;
        }
        snprintf(r.buffet.auth, sizeof(r.buffet.auth), "Authorization: Bearer %s", a->sales_token);
        atomic_store(&r.buffet.seq, a->seq_from > 0 ? a->seq_from - 1 : 0);
        r.item = a->sales_item;
        r.rate = a->sales_rate;
        r.nsales = (int)a->sales_connections;
    }
    unsigned char raw[3];
    randombytes_buf(raw, sizeof(raw));
    snprintf(r.run, sizeof(r.run), "r%02x%02x%02x", raw[0], raw[1], raw[2]);
    r.events = a->events;
    r.per = a->batch;
    r.passage_rate = a->rate;
    r.nthreads = (int)a->connections;
    threads = calloc((size_t)(r.nthreads + r.nsales), sizeof(*threads));
    if (threads == NULL)
        goto out;
    printf("rush: %lld passage events in batches of %lld over %d connections, %zu turnstiles "
           "(one per school)",
           r.events, r.per, r.nthreads, r.nturnstiles);
    if (r.passage_rate)
        printf(", sent at %lld/s", r.passage_rate);
    if (r.nsales)
        printf("; buffet sales at %lld/s over %d connections", r.rate, r.nsales);
    printf("\n");
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &r.start);
    int started = 0;
    for (int i = 0; i < r.nthreads + r.nsales; i++) {
        threads[i].r = &r;
        threads[i].index = i < r.nthreads ? i : i - r.nthreads;
        threads[i].last = r.start;
        if (pthread_create(&threads[i].tid, NULL, i < r.nthreads ? rush_passage : rush_sales,
                           &threads[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started && i < r.nthreads; i++)
        pthread_join(threads[i].tid, NULL);
    atomic_store(&r.passage_done, true);
    for (int i = r.nthreads; i < started; i++)
        pthread_join(threads[i].tid, NULL);
    if (started < r.nthreads + r.nsales) {
        fprintf(stderr, "mesnode terminal: could not start %d threads\n", r.nthreads + r.nsales);
    } else {
        rc = rush_report(&r, threads) == 0 ? 0 : 1;
    }
    for (int i = 0; i < r.nthreads + r.nsales; i++)
        free(threads[i].lat);
out:
    free(threads);
    free(r.turnstiles);
    free(schools);
    free(cards);
    if (nt > 0)
        free_lines(tlines, nt);
    if (nc > 0)
        free_lines(clines, nc);
    return rc;
}

int terminal_cmd(int argc, char **argv)
{
    if (argc < 2) {
        fputs(terminal_usage, stderr);
        return 2;
    }
    static const struct {
        const char *name;
        int (*run)(struct args *a);
    } subs[] = {{"turnstile", cmd_turnstile}, {"buffet", cmd_buffet},     {"flush", cmd_flush},
                {"status", cmd_status},       {"provider", cmd_provider}, {"rush", cmd_rush}};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        struct args a;
        int rc = parse_args(argc - 1, argv + 1, &a);
        if (rc == 0 && a.nrest > 0 && subs[i].run != cmd_turnstile)
            rc = usage_error("unexpected arguments");
        if (rc == 0)
            rc = subs[i].run(&a);
        json_decref(a.lines);
        return rc;
    }
    fprintf(stderr, "mesnode terminal: unknown subcommand '%s'\n\n%s", argv[1], terminal_usage);
    return 2;
}
