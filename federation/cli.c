/*
 * `mesnode keygen`, `sign`, `verify` and `bundle`: minisign-compatible keys and signatures
 * (lib/minisign.h) and bundles (lib/bundle.h) from the command line.
 */
#include "federation/cli.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "federation/channel.h"
#include "federation/contrib.h"
#include "federation/report.h"
#include "federation/rotation.h"
#include "federation/sync.h"
#include "lib/bundle.h"
#include "lib/minisign.h"
#include "library/library.h"
#include "node.h"

const char fed_usage_keygen[] =
    "usage: mesnode keygen [--secret FILE] [--public FILE] [--password-file FILE]\n"
    "\n"
    "Writes a new Ed25519 key pair in minisign's formats: the secret key (mode 0600; default\n"
    "./mesnode.key) and the public key (default ./mesnode.pub), and prints the public key.\n"
    "The secret key is encrypted with the password in the first line of --password-file\n"
    "(scrypt, as minisign does), or stored unencrypted (as `minisign -G -W`) for a service.\n"
    "Existing files are never replaced.\n";

const char fed_usage_sign[] =
    "usage: mesnode sign --key SECRET [--password-file FILE] [--trusted-comment TEXT]\n"
    "                    [--comment TEXT] FILE\n"
    "\n"
    "Signs FILE with a minisign secret key and writes FILE.minisig, which `minisign -V` and\n"
    "`mesnode verify` check. The trusted comment (signed too) defaults to minisign's\n"
    "\"timestamp:T<tab>file:NAME<tab>hashed\".\n";

const char fed_usage_verify[] =
    "usage: mesnode verify --pubkey PUBLIC [--sig SIGFILE] FILE\n"
    "\n"
    "Checks FILE against its minisign signature (default FILE.minisig) and the public key\n"
    "PUBLIC (a .pub file, or the key itself as minisign prints it). Prints the trusted\n"
    "comment and exits 0 only when both signatures are valid.\n";

const char fed_usage_publish[] =
    "usage: mesnode publish --config FILE [--valid-days N | --valid-seconds N]\n"
    "\n"
    "At the hub (mode: hub): publishes the next version of the library channel, every approved\n"
    "item of the hub's library, signed with the hub's key and valid for N days (default 30;\n"
    "--valid-seconds for short lives, as tests of expiry want).\n"
    "Regions take it with `mesnode bundle import` (or, later, by pulling it).\n";

const char fed_usage_enroll[] =
    "usage: mesnode enroll --config FILE --region CODE --pubkey PUBLIC [--name NAME] [--replace]\n"
    "\n"
    "At the hub: enrolls a region node by its code and public key (its node.pub, or the key from\n"
    "its GET /federation/v1/key, checked with the region's operator). Only enrolled regions'\n"
    "signed requests are answered. --replace gives an enrolled region a new key.\n";

const char fed_usage_sync[] =
    "usage: mesnode sync --config FILE [--only pull|push]\n"
    "\n"
    "At a region: one pull of the hub's library channel over HTTP (federation.hub_url), checked\n"
    "against federation.hub_public_key before anything else is fetched; only the blobs the\n"
    "region lacks are fetched, an interrupted transfer resumes, and the library switches to the\n"
    "new version in one transaction. Then one push of the outbox's reports, in order; those the\n"
    "hub did not take stay queued for the next sync.\n";

const char fed_usage_report[] =
    "usage: mesnode report --config FILE [--period YYYY-MM] [--print]\n"
    "\n"
    "At a region: computes the statistics report of a month (default: this month so far) for\n"
    "the Ministry: coverage, marks by subject and grade, attendance, homework, library and\n"
    "logins per role and day, every cell of fewer than federation.k_suppression persons\n"
    "suppressed; signs it and queues it in the outbox, which `mesnode sync` empties.\n"
    "--print shows the report instead and queues nothing.\n";

const char fed_usage_rotate_key[] =
    "usage: mesnode rotate-key --config FILE --new-key SECRET\n"
    "\n"
    "At the hub: announces the key in SECRET (made by `mesnode keygen`, unencrypted) in a\n"
    "statement signed by the hub's current key, then makes it the hub's key. Regions follow the\n"
    "statement at their next sync: the key pinned in their configuration stays the root of the\n"
    "chain. Restart `serve` afterwards.\n";

const char fed_usage_bundle[] =
    "usage: mesnode bundle verify --pubkey PUBLIC FILE\n"
    "       mesnode bundle open --pubkey PUBLIC --out DIR FILE\n"
    "       mesnode bundle build --config FILE --out BUNDLE [--version N] [--from M]\n"
    "       mesnode bundle import --config FILE BUNDLE\n"
    "\n"
    "verify  checks a bundle (a library package or a channel bundle): the manifest's signature\n"
    "        by PUBLIC, every claim and every blob; prints what it holds; exits 0 only when all\n"
    "        of it is valid.\n"
    "open    checks a library package the same way and unpacks it into the new directory DIR:\n"
    "        index.html to browse it offline, each item's files under its uid, manifest.json.\n"
    "        Nothing is left in DIR unless the whole package is valid.\n"
    "build   at the hub: writes version N of the library channel (default: the latest) as a\n"
    "        bundle for offline delivery; with --from M only the blobs version M lacked\n"
    "        (an incremental bundle for regions holding M).\n"
    "import  at a region: checks a channel bundle against the hub's key pinned in FILE\n"
    "        (federation.hub_public_key), its version (never backwards), its expiry and\n"
    "        every blob, then switches the library to it in one transaction.\n"
    "PUBLIC is a .pub file or the key itself (a region's key: GET /federation/v1/key).\n";

/* Reads the first line of a password file into sodium_malloc memory; NULL after a message. */
static char *password_from(const char *cmd, const char *file)
{
    FILE *f = fopen(file, "r");
    char *pw = sodium_malloc(1024);
    if (f == NULL || pw == NULL || fgets(pw, 1024, f) == NULL) {
        fprintf(stderr, "mesnode %s: %s: cannot read a password\n", cmd, file);
        if (f)
            fclose(f);
        sodium_free(pw);
        return NULL;
    }
    fclose(f);
    pw[strcspn(pw, "\r\n")] = '\0';
    return pw;
}

/* 0 when this user may write a key file at `path`: its directory is this user's, does not
 * exist, or is shared by design (sticky, as /tmp); else -1 after saying which user to run
 * keygen as (node_check_owner). A key of another user written into, say, /var/lib/mesnode
 * would be a file of this one, mode 0600, that the service could not read. */
static int key_dir_or_refuse(const char *path)
{
    char dir[PATH_MAX], err[1024];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    struct stat st;
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))
        return 0;
    if (node_check_owner(dir, "the directory", "keygen", err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "mesnode keygen: %s\n", err);
    return -1;
}

int fed_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"secret", required_argument, 0, 's'},
                                         {"public", required_argument, 0, 'p'},
                                         {"password-file", required_argument, 0, 'f'},
                                         {0, 0, 0, 0}};
    const char *secret = "mesnode.key", *public = "mesnode.pub", *pwfile = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's')
            secret = optarg;
        else if (c == 'p')
        public = optarg;
        else if (c == 'f') pwfile = optarg;
        else return fputs(fed_usage_keygen, stderr), 2;
    }
    if (optind != argc)
        return fputs(fed_usage_keygen, stderr), 2;
    if (key_dir_or_refuse(secret) != 0 || key_dir_or_refuse(public) != 0)
        return 2;
    char *pw = NULL;
    if (pwfile && (pw = password_from("keygen", pwfile)) == NULL)
        return 1;
    struct ms_public pk;
    struct ms_secret *sk = ms_secret_generate(&pk);
    char err[512];
    int rc = sk == NULL ? (snprintf(err, sizeof(err), "out of memory"), -1)
                        : ms_secret_write(secret, sk, pw, err, sizeof(err));
    if (rc == 0 && (rc = ms_public_write(public, &pk, err, sizeof(err))) != 0)
        remove(secret);
    ms_secret_free(sk);
    sodium_free(pw);
    if (rc != 0) {
        fprintf(stderr, "mesnode keygen: %s\n", err);
        return 1;
    }
    char b64[MS_PUBLIC_B64], id[17];
    ms_public_base64(&pk, b64);
    ms_id_hex(pk.id, id);
    printf("secret key: %s\npublic key: %s\nkey id: %s\n%s\n", secret, public, id, b64);
    return 0;
}

/* BLAKE2b-512 of a file, streamed. 0 or -1 after a message. */
static int hash_file(const char *cmd, const char *path, unsigned char hash[MS_HASH_BYTES])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mesnode %s: %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, MS_HASH_BYTES);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        crypto_generichash_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "mesnode %s: %s: read error\n", cmd, path);
        return -1;
    }
    crypto_generichash_final(&st, hash, MS_HASH_BYTES);
    return 0;
}

/* A whole file into memory (malloc'ed), at most `max` bytes; NULL after a message. */
static char *slurp(const char *cmd, const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "mesnode %s: %s: %s\n", cmd, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || ferror(f))
            break;
        char *more = cap >= max + 1 ? NULL : realloc(buf, cap * 2 > max + 1 ? max + 1 : cap * 2);
        if (more == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = more;
        cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
    }
    int bad = ferror(f) || n > max;
    fclose(f);
    if (buf == NULL || bad) {
        fprintf(stderr, "mesnode %s: %s: unreadable or larger than %zu bytes\n", cmd, path, max);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int fed_cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, 0, 'k'},
                                         {"password-file", required_argument, 0, 'f'},
                                         {"trusted-comment", required_argument, 0, 't'},
                                         {"comment", required_argument, 0, 'c'},
                                         {0, 0, 0, 0}};
    const char *key = NULL, *pwfile = NULL, *trusted = NULL, *comment = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            key = optarg;
        else if (c == 'f')
            pwfile = optarg;
        else if (c == 't')
            trusted = optarg;
        else if (c == 'c')
            comment = optarg;
        else
            return fputs(fed_usage_sign, stderr), 2;
    }
    if (key == NULL || optind + 1 != argc)
        return fputs(fed_usage_sign, stderr), 2;
    const char *file = argv[optind];
    char *pw = NULL;
    if (pwfile && (pw = password_from("sign", pwfile)) == NULL)
        return 1;
    char err[512];
    struct ms_secret *sk = ms_secret_load(key, pw, err, sizeof(err));
    sodium_free(pw);
    if (sk == NULL) {
        fprintf(stderr, "mesnode sign: %s\n", err);
        return 1;
    }
    unsigned char hash[MS_HASH_BYTES];
    char deftrusted[600], *sig = NULL;
    if (trusted == NULL) {
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        snprintf(deftrusted, sizeof(deftrusted), "timestamp:%lld\tfile:%s\thashed",
                 (long long)time(NULL), base);
        trusted = deftrusted;
    }
    if (hash_file("sign", file, hash) == 0) {
        sig = ms_sign_hash(sk, hash, comment ? comment : "signature from mesnode secret key",
                           trusted);
        if (sig == NULL)
            fprintf(stderr, "mesnode sign: a comment holds a line break or is too long\n");
    }
    ms_secret_free(sk);
    if (sig == NULL)
        return 1;
    char path[4096];
    snprintf(path, sizeof(path), "%s.minisig", file);
    FILE *out = fopen(path, "w");
    int bad = out == NULL || fputs(sig, out) < 0;
    if (out != NULL && fclose(out) != 0)
        bad = 1;
    free(sig);
    if (bad) {
        fprintf(stderr, "mesnode sign: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int fed_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pubkey", required_argument, 0, 'p'}, {"sig", required_argument, 0, 'x'}, {0, 0, 0, 0}};
    const char *pubkey = NULL, *sigfile = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p')
            pubkey = optarg;
        else if (c == 'x')
            sigfile = optarg;
        else
            return fputs(fed_usage_verify, stderr), 2;
    }
    if (pubkey == NULL || optind + 1 != argc)
        return fputs(fed_usage_verify, stderr), 2;
    const char *file = argv[optind];
    char path[4096], err[512];
    if (sigfile == NULL) {
        snprintf(path, sizeof(path), "%s.minisig", file);
        sigfile = path;
    }
    struct ms_public pk;
    if (ms_public_load(pubkey, &pk, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode verify: %s\n", err);
        return 1;
    }
    size_t siglen = 0;
    char *sigtext = slurp("verify", sigfile, MS_SIG_TEXT_MAX, &siglen);
    if (sigtext == NULL)
        return 1;
    struct ms_sig *sig = malloc(sizeof(*sig));
    int rc = 1;
    if (sig == NULL || ms_sig_parse(sigtext, siglen, sig, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode verify: %s: %s\n", sigfile, sig ? err : "out of memory");
        goto out;
    }
    unsigned char hash[MS_HASH_BYTES];
    char *msg = NULL;
    size_t len = 0;
    /* A legacy signature covers the file itself: it must fit in memory. */
    if (sig->prehashed ? hash_file("verify", file, hash) != 0
                       : (msg = slurp("verify", file, (size_t)1 << 30, &len)) == NULL)
        goto out;
    int bad = ms_sig_check(&pk, sig, hash, msg, len, err, sizeof(err));
    free(msg);
    if (bad) {
        fprintf(stderr, "mesnode verify: %s: %s\n", file, err);
        goto out;
    }
    printf("Signature and comment signature verified\nTrusted comment: %s\n", sig->trusted);
    rc = 0;
out:
    free(sig);
    free(sigtext);
    return rc;
}

static void print_verified(const char *file, json_t *m, long carried)
{
    json_t *items = json_object_get(m, "items");
    printf("%s: valid %s bundle from %s, %zu items, %zu blobs (%ld carried)\n", file,
           json_string_value(json_object_get(m, "kind")) ?: "?",
           json_string_value(json_object_get(m, "origin")) ?: "?", json_array_size(items),
           json_array_size(json_object_get(m, "blobs")), carried);
    for (size_t i = 0; i < json_array_size(items) && i < 50; i++) {
        json_t *it = json_array_get(items, i);
        printf("  %s  %s\n", json_string_value(json_object_get(it, "uid")) ?: "?",
               json_string_value(json_object_get(it, "title")) ?: "?");
    }
    if (json_array_size(items) > 50)
        printf("  ... and %zu more\n", json_array_size(items) - 50);
}

struct verify_ctx {
    json_t *manifest;
};

static int keep_manifest(void *ctx, json_t *manifest, const struct ms_sig *sig, const char *raw,
                         size_t raw_len, char *err, size_t errlen)
{
    (void)sig;
    (void)raw;
    (void)raw_len;
    (void)err;
    (void)errlen;
    ((struct verify_ctx *)ctx)->manifest = json_incref(manifest);
    return 0;
}

/* Loads the configuration, checks that this user owns the data directory (node_check_owner),
 * opens (creating or migrating) the node's database and, when `key`, its signing key. The
 * database handle, or NULL after a message with *status the exit code: 2 when the data
 * directory belongs to another user (nothing was written), else 1. */
static struct db *open_node(const char *cmd, const char *config, struct node *n, bool key,
                            int *status)
{
    char err[1024];
    *status = 1;
    if (config_load(config, &n->cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode %s: %s\n", cmd, err);
        return NULL;
    }
    if (node_check_owner(n->cfg.storage.data_dir, "the data directory", cmd, err, sizeof(err)) !=
        0) {
        fprintf(stderr, "mesnode %s: %s\n", cmd, err);
        *status = 2;
        return NULL;
    }
    if (node_open_storage(n, err, sizeof(err)) != 0 ||
        (key && node_load_key(n, err, sizeof(err)) != 0)) {
        fprintf(stderr, "mesnode %s: %s\n", cmd, err);
        return NULL;
    }
    struct db *db = db_open(n->db_path, &n->cfg, err, sizeof(err));
    if (db == NULL)
        fprintf(stderr, "mesnode %s: %s\n", cmd, err);
    return db;
}

/* A positive number from an option; -1 when malformed. */
static int64_t number_arg(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return *end == '\0' && errno == 0 && v > 0 ? v : -1;
}

int fed_cmd_publish(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"valid-days", required_argument, 0, 'd'},
                                         {"valid-seconds", required_argument, 0, 's'},
                                         {0, 0, 0, 0}};
    const char *config = NULL;
    int64_t valid = 30 * 86400;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'd' && number_arg(optarg) > 0 && number_arg(optarg) <= 3650)
            valid = number_arg(optarg) * 86400;
        else if (c == 's' && number_arg(optarg) > 0) /* short validity, for tests of expiry */
            valid = number_arg(optarg);
        else
            return fputs(fed_usage_publish, stderr), 2;
    }
    if (config == NULL || optind != argc)
        return fputs(fed_usage_publish, stderr), 2;
    static struct node n;
    int status;
    struct db *db = open_node("publish", config, &n, true, &status);
    if (db == NULL)
        return status;
    char err[1024];
    int64_t version = 0;
    long items = 0;
    int rc = channel_publish(db, &n.cfg, n.key, valid, &version, &items, err, sizeof(err));
    db_close(db);
    if (rc != 0) {
        fprintf(stderr, "mesnode publish: %s\n", err);
        return 1;
    }
    printf("published version %lld of the library channel: %ld items\n", (long long)version, items);
    return 0;
}

/* `mesnode bundle build`: the bundle is written under a temporary name and renamed when whole. */
static int bundle_build(const char *config, const char *out, int64_t version, int64_t from)
{
    static struct node n;
    int status;
    struct db *db = open_node("bundle build", config, &n, true, &status);
    if (db == NULL)
        return status;
    char err[1024] = "", tmp[900];
    if (snprintf(tmp, sizeof(tmp), "%s.part", out) >= (int)sizeof(tmp)) {
        fprintf(stderr, "mesnode bundle build: %s: name too long\n", out);
        db_close(db);
        return 1;
    }
    FILE *f = fopen(tmp, "wbx");
    long carried = 0;
    int rc = 1;
    if (f == NULL)
        snprintf(err, sizeof(err), "%s: %s", tmp, strerror(errno));
    else if (channel_bundle_build(db, n.key, version, from, f, &carried, err, sizeof(err)) == 0) {
        if (fflush(f) == 0 && fsync(fileno(f)) == 0 && rename(tmp, out) == 0)
            rc = 0;
        else
            snprintf(err, sizeof(err), "%s: %s", out, strerror(errno));
    }
    if (f != NULL) {
        fclose(f);
        if (rc != 0)
            unlink(tmp);
    }
    db_close(db);
    if (rc != 0) {
        fprintf(stderr, "mesnode bundle build: %s\n", err);
        return 1;
    }
    printf("%s: %s bundle, %ld blobs\n", out, from ? "incremental" : "full", carried);
    return 0;
}

/* `mesnode bundle import`: against the hub's key pinned in the configuration. */
static int bundle_import(const char *config, const char *file)
{
    static struct node n;
    int status;
    struct db *db = open_node("bundle import", config, &n, false, &status);
    if (db == NULL)
        return status;
    char err[1024] = "";
    struct ms_public hub;
    struct channel_import res;
    FILE *f = NULL;
    int rc = 1;
    if (hub_key_current(db, &n.cfg, &hub, err, sizeof(err)) != 0)
        ; /* the key in force: pinned, or followed after the hub rotated it */
    else if ((f = fopen(file, "rb")) == NULL)
        snprintf(err, sizeof(err), "%s: %s", file, strerror(errno));
    else if (channel_import_bundle(db, NULL, &hub, f, &res, err, sizeof(err)) == 0)
        rc = 0;
    if (f != NULL)
        fclose(f);
    db_close(db);
    if (rc != 0) {
        fprintf(stderr, "mesnode bundle import: %s: %s\n", file, err);
        return 1;
    }
    if (res.already)
        printf("%s: version %lld is already held; nothing changed\n", file, (long long)res.version);
    else
        printf("%s: imported version %lld (held before: %lld): %ld blobs, %ld items new or "
               "changed, %ld removed\n",
               file, (long long)res.version, (long long)res.previous, res.carried, res.changed,
               res.removed);
    return 0;
}

int fed_cmd_bundle(int argc, char **argv)
{
    if (argc < 2)
        return fputs(fed_usage_bundle, stderr), 2;
    const char *action = argv[1];
    static const struct option opts[] = {
        {"pubkey", required_argument, 0, 'p'}, {"out", required_argument, 0, 'o'},
        {"config", required_argument, 0, 'c'}, {"version", required_argument, 0, 'v'},
        {"from", required_argument, 0, 'f'},   {0, 0, 0, 0}};
    const char *pubkey = NULL, *out = NULL, *config = NULL;
    int64_t version = 0, from = 0;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p')
            pubkey = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == 'c')
            config = optarg;
        else if (c == 'v' && (version = number_arg(optarg)) > 0)
            continue;
        else if (c == 'f' && (from = number_arg(optarg)) > 0)
            continue;
        else
            return fputs(fed_usage_bundle, stderr), 2;
    }
    if (strcmp(action, "build") == 0) {
        if (config == NULL || out == NULL || pubkey != NULL || optind != argc)
            return fputs(fed_usage_bundle, stderr), 2;
        return bundle_build(config, out, version, from);
    }
    if (strcmp(action, "import") == 0) {
        if (config == NULL || out != NULL || pubkey != NULL || version || from ||
            optind + 1 != argc)
            return fputs(fed_usage_bundle, stderr), 2;
        return bundle_import(config, argv[optind]);
    }
    if (config != NULL || version || from)
        return fputs(fed_usage_bundle, stderr), 2;
    bool verify = strcmp(action, "verify") == 0, open_ = strcmp(action, "open") == 0;
    if ((!verify && !open_) || pubkey == NULL || optind + 1 != argc || (open_ && out == NULL) ||
        (verify && out != NULL))
        return fputs(fed_usage_bundle, stderr), 2;
    const char *file = argv[optind];
    char err[1024];
    struct ms_public pk;
    if (ms_public_load(pubkey, &pk, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode bundle: %s\n", err);
        return 1;
    }
    if (open_) {
        if (library_package_open(file, &pk, out, err, sizeof(err)) != 0) {
            fprintf(stderr, "mesnode bundle open: %s: %s\n", file, err);
            return 1;
        }
        printf("%s: valid; unpacked into %s (open %s/index.html)\n", file, out, out);
        return 0;
    }
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "mesnode bundle verify: %s: %s\n", file, strerror(errno));
        return 1;
    }
    struct verify_ctx ctx = {0};
    struct bundle_ops ops = {.manifest = keep_manifest};
    long carried = 0;
    int rc = bundle_read(f, &pk, &ops, &ctx, &carried, err, sizeof(err));
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "mesnode bundle verify: %s: %s\n", file, err);
        json_decref(ctx.manifest);
        return 1;
    }
    print_verified(file, ctx.manifest, carried);
    json_decref(ctx.manifest);
    return 0;
}

/* Enrolls region `code` with `name` and the key `b64` in the hub's database, or with `replace`
 * gives the enrolled region that key (and the name, unless it is ""). 0 when done, 3 when there
 * is nothing to do (enrolled already; not enrolled, to replace), 1 on a database error. */
static int enroll_write(struct db *db, bool replace, const char *code, const char *name,
                        const char *b64)
{
    const struct db_arg *args =
        DB_ARGS(DB_TEXT(":c", code), DB_TEXT(":n", name), DB_TEXT(":k", b64));
    int rc = replace ? db_run(db,
                              "UPDATE fed_regions SET public_key = :k, name = CASE WHEN :n = '' "
                              "THEN name ELSE :n END, key_changed_at = unixepoch() WHERE code = :c",
                              args)
                     : db_run(db,
                              "INSERT INTO fed_regions (code, name, public_key) VALUES (:c, :n, "
                              ":k) ON CONFLICT DO NOTHING",
                              args);
    if (rc != SQLITE_DONE)
        return 1;
    return db_changes(db) == 1 ? 0 : 3;
}

int fed_cmd_enroll(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"region", required_argument, 0, 'r'},
        {"pubkey", required_argument, 0, 'p'}, {"name", required_argument, 0, 'n'},
        {"replace", no_argument, 0, 'R'},      {0, 0, 0, 0}};
    const char *config = NULL, *region = NULL, *pubkey = NULL, *name = "";
    bool replace = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'r')
            region = optarg;
        else if (c == 'p')
            pubkey = optarg;
        else if (c == 'n')
            name = optarg;
        else if (c == 'R')
            replace = true;
        else
            return fputs(fed_usage_enroll, stderr), 2;
    }
    if (config == NULL || region == NULL || pubkey == NULL || optind != argc)
        return fputs(fed_usage_enroll, stderr), 2;
    char err[1024], b64[MS_PUBLIC_B64], id[17];
    struct ms_public pk;
    if (ms_public_load(pubkey, &pk, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode enroll: %s\n", err);
        return 1;
    }
    size_t rl = strlen(region);
    if (rl == 0 || rl > 8 || strspn(region, "0123456789") != rl) {
        fprintf(stderr, "mesnode enroll: --region takes the region's code (digits, as \"05\")\n");
        return 2;
    }
    static struct node n;
    int status;
    struct db *db = open_node("enroll", config, &n, false, &status);
    if (db == NULL)
        return status;
    if (n.cfg.mode != NODE_HUB) {
        fprintf(stderr, "mesnode enroll: %s: only the hub enrolls regions (mode: hub)\n", config);
        db_close(db);
        return 1;
    }
    ms_public_base64(&pk, b64);
    ms_id_hex(pk.id, id);
    int rc = enroll_write(db, replace, region, name, b64);
    if (rc == 1)
        fprintf(stderr, "mesnode enroll: database: %s\n", db_errmsg(db));
    else if (rc == 3)
        fprintf(stderr,
                replace ? "mesnode enroll: region %s is not enrolled\n"
                        : "mesnode enroll: region %s is enrolled already (--replace "
                          "changes its key)\n",
                region);
    else
        printf("%s region %s with key %s\n", replace ? "re-keyed" : "enrolled", region, id);
    db_close(db);
    return rc == 0 ? 0 : 1;
}

int fed_cmd_sync(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"only", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    const char *config = NULL, *only = "";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'o' && (strcmp(optarg, "pull") == 0 || strcmp(optarg, "push") == 0))
            only = optarg;
        else
            return fputs(fed_usage_sync, stderr), 2;
    }
    if (config == NULL || optind != argc)
        return fputs(fed_usage_sync, stderr), 2;
    bool pull = strcmp(only, "push") != 0, push = strcmp(only, "pull") != 0;
    static struct node n;
    int status;
    struct db *db = open_node("sync", config, &n, true, &status);
    if (db == NULL)
        return status;
    char err[1024], perr[1024];
    struct sync_result res;
    long sent = 0;
    int rc = pull ? fed_pull_channel(&n, db, &res, err, sizeof(err)) : 0;
    int prc = push ? report_push(&n, db, 0, &sent, perr, sizeof(perr)) : 0;
    char cerr[1024];
    long csent = 0, decided = 0;
    int crc = push ? contrib_sync(&n, db, &csent, &decided, cerr, sizeof(cerr)) : 0;
    db_close(db);
    if (crc != 0)
        fprintf(stderr, "mesnode sync: contributions: %s\n", cerr);
    else if (push)
        printf("contributions: %ld sent, %ld verdicts\n", csent, decided);
    if (prc != 0)
        fprintf(stderr, "mesnode sync: reports: %s (%ld sent; the rest wait in the outbox)\n", perr,
                sent);
    else if (push)
        printf("reports: %ld sent\n", sent);
    prc |= crc;
    if (rc != 0) {
        fprintf(stderr, "mesnode sync: %s\n", err);
        return 1;
    }
    if (!pull)
        return prc == 0 ? 0 : 1;
    if (res.channel.already)
        printf("library channel: version %lld is held already\n", (long long)res.channel.version);
    else
        printf("library channel: version %lld (held before: %lld): %ld blobs fetched (%lld "
               "bytes), %ld items new or changed, %ld removed\n",
               (long long)res.channel.version, (long long)res.channel.previous, res.fetched,
               res.fetched_bytes, res.channel.changed, res.channel.removed);
    return prc == 0 ? 0 : 1;
}

int fed_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"period", required_argument, 0, 'p'},
                                         {"print", no_argument, 0, 'P'},
                                         {0, 0, 0, 0}};
    const char *config = NULL, *period = NULL;
    bool print = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'p')
            period = optarg;
        else if (c == 'P')
            print = true;
        else
            return fputs(fed_usage_report, stderr), 2;
    }
    if (config == NULL || optind != argc)
        return fputs(fed_usage_report, stderr), 2;
    char month[8];
    if (period == NULL) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(month, sizeof(month), "%Y-%m", &tm);
        period = month;
    }
    static struct node n;
    int status;
    struct db *db = open_node("report", config, &n, !print, &status);
    if (db == NULL)
        return status;
    char err[1024];
    int rc = 1;
    if (print) {
        json_t *rep = report_build(db, &n.cfg, period, err, sizeof(err));
        if (rep != NULL) {
            json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
            putchar('\n');
            json_decref(rep);
            rc = 0;
        }
    } else {
        int64_t seq = 0;
        if (report_queue(db, NULL, &n.cfg, n.key, period, &seq, err, sizeof(err)) == 0) {
            printf("report %lld (%s) signed and queued; `mesnode sync` sends it\n", (long long)seq,
                   period);
            rc = 0;
        }
    }
    db_close(db);
    if (rc != 0)
        fprintf(stderr, "mesnode report: %s\n", err);
    return rc;
}

int fed_cmd_rotate_key(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"new-key", required_argument, 0, 'k'},
                                         {0, 0, 0, 0}};
    const char *config = NULL, *next = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'k')
            next = optarg;
        else
            return fputs(fed_usage_rotate_key, stderr), 2;
    }
    if (config == NULL || next == NULL || optind != argc)
        return fputs(fed_usage_rotate_key, stderr), 2;
    static struct node n;
    int status;
    struct db *db = open_node("rotate-key", config, &n, true, &status);
    if (db == NULL)
        return status;
    char err[1024] = "";
    int rc = n.cfg.mode != NODE_HUB ? (snprintf(err, sizeof(err),
                                                "only the hub rotates its key "
                                                "this way (mode: hub)"),
                                       -1)
                                    : rotation_announce(&n, db, next, err, sizeof(err));
    db_close(db);
    if (rc != 0) {
        fprintf(stderr, "mesnode rotate-key: %s\n", err);
        return 1;
    }
    char id[17];
    ms_id_hex(n.pub.id, id);
    printf("the hub's key is now %s, announced in a statement signed by the old key; restart "
           "`serve` to sign with it\n",
           id);
    return 0;
}
