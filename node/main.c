/*
 * mesnode: the command line (PRODUCT.md section 6). Each command is one static function;
 * every command answers --help. Exit codes: 0 success, 1 failure, 2 usage error.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "accounts/auth.h"
#include "config/config.h"
#include "demo/demo.h"
#include "nginx.h"
#include "federation/cli.h"
#include "log.h"
#include "moskvenok/terminal.h"
#include "node.h"
#include "http.h"
#include "roster/roster.h"
#include "school/school.h"

static const char usage_main[] =
    "mesnode " MES_VERSION " - regional node of the Moscow Electronic School\n"
    "\n"
    "usage: mesnode COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  demo      create (if absent) and serve a demo region\n"
    "  gen       create a synthetic region (demo, small, medium, dagestan)\n"
    "  init      create a node's data directory and its first administrator\n"
    "  import    import schools, classes and people (OneRoster CSV or the Russian template)\n"
    "  serve     run a node from its configuration file\n"
    "  keygen    write a key pair in minisign's formats\n"
    "  sign      sign a file (FILE.minisig, as minisign -S)\n"
    "  verify    check a file's minisign signature\n"
    "  bundle    check, unpack, build or import a signed bundle\n"
    "  publish   publish the next version of the hub's library channel\n"
    "  enroll    enroll a region's key at the hub\n"
    "  sync      pull the hub's library channel and push reports (a region)\n"
    "  report    compute, sign and queue a month's statistics report (a region)\n"
    "  rotate-key  announce and take a new key (the hub)\n"
    "  nginx-site  print the nginx site that terminates TLS in front of the node\n"
    "  terminal  simulate a turnstile, a buffet terminal or the payment provider\n"
    "  routes    list the HTTP routes and their access policy\n"
    "  version   print the version\n"
    "  help      this text; `mesnode COMMAND --help` explains a command\n";

static const char usage_demo[] =
    "usage: mesnode demo [--port N] [--data DIR] [--listen ADDR]\n"
    "\n"
    "Creates, if DIR holds no database yet, a demo region (three schools, classes, teachers,\n"
    "students, parents, a medical worker, a methodologist, administrators, a sample library)\n"
    "and serves it.\n"
    "  --port N       port to listen on (default 8080; 0 picks a free one)\n"
    "  --data DIR     data directory (default ./demo-data)\n"
    "  --listen ADDR  address to listen on (default 127.0.0.1)\n"
    "Demo logins: admin, schooladmin, teacher, classteacher, student, parent, medic,\n"
    "methodologist; the password of each is \"demo\".\n";

static const char usage_gen[] =
    "usage: mesnode gen --scale NAME --data DIR [--library N [--library-bytes B]]\n"
    "                   [--export-oneroster OUT]\n"
    "       mesnode gen --library N [--library-bytes B] --data DIR\n"
    "       mesnode gen --export-oneroster OUT --data DIR\n"
    "\n"
    "Creates a synthetic region in an empty data directory: the demo's schools and logins\n"
    "(password \"demo\"), generated schools, classes, teachers, students and parents, weekly\n"
    "timetables, the lessons of every period begun, and marks, attendance and homework on\n"
    "the past lessons at realistic rates. Everyone but the demo logins gets an account that\n"
    "waits for activation (a made login, no password) and the roles their records give.\n"
    "In the generated schools (not the demo's three) every student gets a card and a meal\n"
    "account with an opening balance, every school a small buffet and two terminals (device\n"
    "tokens of scope passage and meals): the tokens are written to DIR/moskvenok-tokens.tsv,\n"
    "the cards to DIR/moskvenok-cards.tsv, for `mesnode terminal rush`.\n"
    "Serve it with `mesnode demo --data DIR`.\n"
    "--library N adds N library items (up to 10,000,000) to the new region, or to the region\n"
    "already in DIR when no scale is given; --library-bytes B gives them files of B bytes in\n"
    "all (one file each, incompressible, as media are).\n"
    "--export-oneroster OUT writes the new region, or the one already in DIR when no scale is\n"
    "given, as a OneRoster 1.1 CSV set into the directory OUT (what `mesnode import --format\n"
    "oneroster` reads).\n"
    "Scales:\n";

static const char usage_init[] =
    "usage: mesnode init --config FILE [--admin LOGIN] [--password-file FILE]\n"
    "\n"
    "Creates the data directory named in FILE, its database, the region's subjects and the\n"
    "current academic year, and the first administrator (login \"admin\" unless --admin).\n"
    "The password is read from --password-file (first line) or asked for on the terminal;\n"
    "it is never printed. Refuses to run when an administrator already exists.\n";

static const char usage_serve[] =
    "usage: mesnode serve --config FILE\n"
    "\n"
    "Runs the node described by FILE until SIGINT or SIGTERM. The database is created and\n"
    "migrated as needed; run `mesnode init` first to create the administrator.\n";

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int load_config_or_die(const char *path, struct mes_config *cfg)
{
    char err[1024];
    if (config_load(path, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode: %s\n", err);
        return -1;
    }
    return 0;
}

/* 0 when this user may write data directory `dir`, else 2 (the usage-error status) after
 * saying which user to run `cmd` as (node_check_owner). */
static int owner_or_refuse(const char *dir, const char *cmd)
{
    char err[1024];
    if (node_check_owner(dir, "the data directory", cmd, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "mesnode %s: %s\n", cmd, err);
    return 2;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("mesnode %s (SQLite %s, libsodium %s, schema %d)\n", MES_VERSION, sqlite3_libversion(),
           sodium_version_string(), db_latest_version());
    return 0;
}

static int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"port", required_argument, 0, 'p'},
                                         {"data", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {0, 0, 0, 0}};
    const char *data = "demo-data", *listen = "127.0.0.1";
    long port = 8080;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p':
            port = strtol(optarg, &end, 10);
            if (*end != '\0' || port < 0 || port > 65535) {
                fprintf(stderr, "mesnode demo: --port must be 0-65535\n");
                return 2;
            }
            break;
        case 'd':
            data = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        default:
            fputs(usage_demo, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fputs(usage_demo, stderr);
        return 2;
    }
    static struct node n;
    config_defaults(&n.cfg);
    snprintf(n.cfg.storage.data_dir, sizeof(n.cfg.storage.data_dir), "%s", data);
    snprintf(n.cfg.http.listen, sizeof(n.cfg.http.listen), "%s:%ld", listen, port);
    /* The demo favours quick start-up over power-cut durability. */
    n.cfg.storage.synchronous = SYNC_NORMAL;
    int refused = owner_or_refuse(data, "demo");
    if (refused != 0)
        return refused;
    char err[1024];
    if (node_open_storage(&n, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode demo: %s\n", err);
        return 1;
    }
    int created = demo_populate(&n, err, sizeof(err));
    if (created < 0) {
        fprintf(stderr, "mesnode demo: %s\n", err);
        return 1;
    }
    n.demo = true;
    return node_serve(&n);
}

static void gen_progress(const char *stage, long done, long total)
{
    int width = 30, filled = total > 0 ? (int)(done * width / total) : width;
    fprintf(stderr, "\r  %-20s [%.*s%*s] %3ld%%  %ld/%ld", stage, filled,
            "##############################", width - filled, "", total ? done * 100 / total : 100,
            done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {{"scale", required_argument, 0, 's'},
                                         {"data", required_argument, 0, 'd'},
                                         {"library", required_argument, 0, 'l'},
                                         {"library-bytes", required_argument, 0, 'b'},
                                         {"export-oneroster", required_argument, 0, 'e'},
                                         {0, 0, 0, 0}};
    const char *scale = NULL, *data = NULL, *export_dir = NULL;
    long library = -1;
    long long library_bytes = 0;
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            scale = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'e':
            export_dir = optarg;
            break;
        case 'b':
            library_bytes = strtoll(optarg, &end, 10);
            if (*end != '\0' || library_bytes < 0 || library_bytes > (16LL << 30)) {
                fprintf(stderr, "mesnode gen: --library-bytes takes 0 to 16 GiB\n");
                return 2;
            }
            break;
        case 'l':
            library = strtol(optarg, &end, 10);
            if (*end != '\0' || library < 0 || library > 10000000) {
                fprintf(stderr, "mesnode gen: --library takes 0-10000000\n");
                return 2;
            }
            break;
        default:
            fprintf(stderr, "%s%s", usage_gen, demo_scales());
            return 2;
        }
    }
    if ((scale == NULL && library < 0 && export_dir == NULL) || data == NULL || optind != argc) {
        fprintf(stderr, "%s%s", usage_gen, demo_scales());
        return 2;
    }
    static struct node n;
    config_defaults(&n.cfg);
    snprintf(n.cfg.storage.data_dir, sizeof(n.cfg.storage.data_dir), "%s", data);
    n.cfg.storage.synchronous = SYNC_NORMAL;
    int refused = owner_or_refuse(data, "gen");
    if (refused != 0)
        return refused;
    char err[1024];
    log_set_quiet(1);
    if (node_open_storage(&n, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode gen: %s\n", err);
        return 1;
    }
    time_t t0 = time(NULL);
    if (scale != NULL) {
        int rc = demo_generate(&n, scale, gen_progress, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "mesnode gen: %s\n", err);
            return 1;
        }
        if (rc == 0) {
            fprintf(stderr, "mesnode gen: %s already holds a region\n", data);
            return 1;
        }
        printf("generated the %s region in %s in %ld s\n", scale, data, (long)(time(NULL) - t0));
        char tokens[PATH_MAX + 32];
        snprintf(tokens, sizeof(tokens), "%s/" DEMO_TOKENS_FILE, data);
        if (access(tokens, F_OK) == 0)
            printf("terminals' device tokens in %s, cards in %s/" DEMO_CARDS_FILE
                   " (mesnode terminal rush reads them)\n",
                   tokens, data);
    } else if (!demo_has_region(&n)) {
        fprintf(stderr, "mesnode gen: %s holds no region to %s\n", data,
                library >= 0 ? "add a library to" : "export");
        return 1;
    }
    if (library > 0) {
        time_t t1 = time(NULL);
        if (demo_generate_library(&n, library, library_bytes, gen_progress, err, sizeof(err)) !=
            0) {
            fprintf(stderr, "mesnode gen: %s\n", err);
            return 1;
        }
        printf("added %ld library items in %ld s\n", library, (long)(time(NULL) - t1));
    }
    if (export_dir != NULL) {
        struct timespec e0, e1;
        clock_gettime(CLOCK_MONOTONIC, &e0);
        if (demo_export_oneroster(&n, export_dir, gen_progress, err, sizeof(err)) != 0) {
            fprintf(stderr, "mesnode gen: %s\n", err);
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &e1);
        printf("exported the region as OneRoster 1.1 to %s in %.1f s\n", export_dir,
               (double)(e1.tv_sec - e0.tv_sec) + (double)(e1.tv_nsec - e0.tv_nsec) / 1e9);
    }
    return 0;
}

/* Reads a password from the first line of `file`, or from the terminal without echo. */
static int read_password(const char *file, char *out, size_t size)
{
    FILE *f = file ? fopen(file, "r") : stdin;
    if (f == NULL) {
        fprintf(stderr, "mesnode init: %s: %s\n", file, strerror(errno));
        return -1;
    }
    struct termios old, quiet;
    int tty = file == NULL && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "Password for the first administrator: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *ok = fgets(out, (int)size, f);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (file)
        fclose(f);
    if (ok == NULL) {
        fprintf(stderr, "mesnode init: no password given\n");
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    if (strlen(out) < 8) {
        fprintf(stderr, "mesnode init: the password must have at least 8 characters\n");
        sodium_memzero(out, size);
        return -1;
    }
    return 0;
}

static int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"admin", required_argument, 0, 'a'},
                                         {"password-file", required_argument, 0, 'f'},
                                         {0, 0, 0, 0}};
    const char *config = NULL, *admin = "admin", *pwfile = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'a':
            admin = optarg;
            break;
        case 'f':
            pwfile = optarg;
            break;
        default:
            fputs(usage_init, stderr);
            return 2;
        }
    }
    if (config == NULL || optind != argc) {
        fputs(usage_init, stderr);
        return 2;
    }
    static struct node n;
    if (load_config_or_die(config, &n.cfg) != 0)
        return 1;
    int refused = owner_or_refuse(n.cfg.storage.data_dir, "init");
    if (refused != 0)
        return refused;
    char err[1024];
    if (node_open_storage(&n, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode init: %s\n", err);
        return 1;
    }
    char *password = sodium_malloc(512);
    if (password == NULL || read_password(pwfile, password, 512) != 0) {
        sodium_free(password);
        return 1;
    }
    int rc = school_bootstrap(&n, admin, password, err, sizeof(err));
    sodium_free(password);
    if (rc != 0) {
        fprintf(stderr, "mesnode init: %s\n", err);
        return 1;
    }
    printf("initialised %s in %s; administrator login: %s\n", n.cfg.region.name,
           n.cfg.storage.data_dir, admin);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'}, {0, 0, 0, 0}};
    const char *config = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'c') {
            fputs(usage_serve, stderr);
            return 2;
        }
        config = optarg;
    }
    if (config == NULL || optind != argc) {
        fputs(usage_serve, stderr);
        return 2;
    }
    static struct node n;
    if (load_config_or_die(config, &n.cfg) != 0)
        return 1;
    int refused = owner_or_refuse(n.cfg.storage.data_dir, "serve");
    if (refused != 0)
        return refused;
    char err[1024];
    if (node_open_storage(&n, err, sizeof(err)) != 0) {
        fprintf(stderr, "mesnode serve: %s\n", err);
        return 1;
    }
    return node_serve(&n);
}

static const char usage_import[] =
    "usage: mesnode import --config FILE --format oneroster DIR [--dry-run] [--skip-invalid]\n"
    "       mesnode import --config FILE --format csv ROSTER.csv [--dry-run] [--skip-invalid]\n"
    "\n"
    "Imports a region's schools, classes, students, guardians and staff into a stopped node:\n"
    "a OneRoster 1.1 or 1.2 CSV set (a directory with manifest.csv), or the node's Russian CSV\n"
    "template (docs/roster.md). Importing the same files again changes nothing; a later export\n"
    "updates in place. Prints, per kind, what was added, updated, moved and left, and every\n"
    "error as FILE:LINE: CODE: message.\n"
    "  --dry-run        check and count, change nothing\n"
    "  --skip-invalid   import the valid rows, leaving out the bad ones (and rows that\n"
    "                   depend on them); without it any error imports nothing\n"
    "Exit status: 0 imported, 1 errors (with --skip-invalid the rest was imported), 2 usage.\n";

/* Removes a scratch data directory and every file in it (the database and its companions). */
static void scratch_dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"format", required_argument, 0, 'f'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"skip-invalid", no_argument, 0, 's'},
                                         {0, 0, 0, 0}};
    const char *config = NULL, *format = NULL;
    struct roster_options opt = {0};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        case 'n':
            opt.dry_run = true;
            break;
        case 's':
            opt.skip_invalid = true;
            break;
        default:
            fputs(usage_import, stderr);
            return 2;
        }
    }
    if (config == NULL || format == NULL || optind != argc - 1 ||
        (strcmp(format, "oneroster") != 0 && strcmp(format, "csv") != 0)) {
        fputs(usage_import, stderr);
        return 2;
    }
    static struct node n;
    if (load_config_or_die(config, &n.cfg) != 0)
        return 1;
    int refused = owner_or_refuse(n.cfg.storage.data_dir, "import");
    if (refused != 0)
        return refused;
    /* A dry run for a node that holds no database yet compares with an empty one, made in a
     * scratch directory and removed afterwards: the data directory is not created. */
    char scratch[PATH_MAX] = "";
    if (opt.dry_run) {
        char probe[PATH_MAX + 8];
        snprintf(probe, sizeof(probe), "%s/mes.db", n.cfg.storage.data_dir);
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof(scratch), "%s/mesnode-dry-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (access(probe, F_OK) == 0) {
            scratch[0] = '\0';
        } else if (mkdtemp(scratch) == NULL) {
            fprintf(stderr, "mesnode import: %s: %s\n", scratch, strerror(errno));
            return 1;
        } else {
            snprintf(n.cfg.storage.data_dir, sizeof(n.cfg.storage.data_dir), "%s", scratch);
        }
    }
    char err[1024];
    struct db *db;
    if (node_open_storage(&n, err, sizeof(err)) != 0 ||
        (db = db_open(n.db_path, &n.cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "mesnode import: %s\n", err);
        if (scratch[0])
            scratch_dir_remove(scratch);
        return 1;
    }
    opt.cfg = &n.cfg;
    opt.progress = isatty(STDERR_FILENO) || getenv("MES_PROGRESS") ? gen_progress : NULL;
    struct roster_report rep = {0};
    time_t t0 = time(NULL);
    int rc = roster_run(NULL, db, format, argv[optind], &opt, &rep);
    db_close(db);
    if (scratch[0])
        scratch_dir_remove(scratch);
    roster_report_print(&rep, stdout);
    if (rc < 0)
        fprintf(stderr, "mesnode import: the import failed (see the log)\n");
    else if (opt.dry_run)
        printf("dry run: nothing was changed (%ld s)\n", (long)(time(NULL) - t0));
    else if (rc == 0 || (opt.skip_invalid && rep.errors_total > 0))
        printf("imported in %ld s%s\n", (long)(time(NULL) - t0),
               rep.errors_total > 0 ? ", leaving out the rows with errors" : "");
    else
        printf("nothing was imported: fix the errors, or use --skip-invalid\n");
    roster_report_free(&rep);
    return rc == 0 ? 0 : 1;
}

static int cmd_routes(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char *const access[] = {"public", "user", "device", "node-signed"};
    static const char *const signers[] = {"-", "region", "hub", "any"};
    for (int i = 0; i < http_route_count(); i++) {
        const struct route *rt = http_route_at(i);
        char who[160] = "";
        for (int b = 0; b < 32; b++) {
            const char *name = !(rt->allow & (1u << b))      ? NULL
                               : rt->access == ACCESS_DEVICE ? scope_name(1u << b)
                                                             : role_name(1u << b);
            if (name)
                snprintf(who + strlen(who), sizeof(who) - strlen(who), "%s%s", who[0] ? "," : "",
                         name);
        }
        if (rt->access == ACCESS_NODE)
            snprintf(who, sizeof(who), "%s", signers[rt->signer]);
        printf("%-6s %-36s %-6s %-20s %-6s %s\n", rt->method, rt->path, access[rt->access],
               rt->name, rt->writes ? "writes" : "reads", who[0] ? who : "-");
    }
    return 0;
}

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    {"demo", cmd_demo, usage_demo},
    {"gen", cmd_gen, usage_gen},
    {"init", cmd_init, usage_init},
    {"serve", cmd_serve, usage_serve},
    {"import", cmd_import, usage_import},
    {"keygen", fed_cmd_keygen, fed_usage_keygen},
    {"sign", fed_cmd_sign, fed_usage_sign},
    {"verify", fed_cmd_verify, fed_usage_verify},
    {"bundle", fed_cmd_bundle, fed_usage_bundle},
    {"publish", fed_cmd_publish, fed_usage_publish},
    {"enroll", fed_cmd_enroll, fed_usage_enroll},
    {"sync", fed_cmd_sync, fed_usage_sync},
    {"report", fed_cmd_report, fed_usage_report},
    {"rotate-key", fed_cmd_rotate_key, fed_usage_rotate_key},
    {"nginx-site", nginx_cmd_site, nginx_usage_site},
    {"terminal", terminal_cmd, terminal_usage},
    {"routes", cmd_routes,
     "usage: mesnode routes\n\nLists every HTTP route: method, path, "
     "who may call it, name.\n"},
    {"version", cmd_version, "usage: mesnode version\n\nPrints the version and libraries.\n"},
};

int main(int argc, char **argv)
{
    /* Both once, before any thread: libcurl's global set-up is not thread-safe. */
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "mesnode: libsodium or libcurl failed to initialise\n");
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0)
            for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    fputs(commands[i].usage, stdout);
                    return 0;
                }
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc, argv);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (wants_help(argc - 1, argv + 1)) {
                fputs(commands[i].usage, stdout);
                if (commands[i].run == cmd_gen)
                    fputs(demo_scales(), stdout);
                return 0;
            }
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "mesnode: unknown command '%s'\n\n%s", argv[1], usage_main);
    return 2;
}
