/*
 * Benchmark baseline: CivetWeb answering one file's bytes from memory, with the same headers
 * shape as the node (Content-Type, Content-Length), so that the node's own cost (routing,
 * sessions, authorization, SQLite, JSON) can be told apart from CivetWeb's.
 * Usage: civet_static FILE PORT THREADS
 */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *body;
static long body_len;

static int answer(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
              "Content-Length: %ld\r\nCache-Control: no-store\r\n\r\n",
              body_len);
    mg_write(conn, body, (size_t)body_len);
    return 200;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: civet_static FILE PORT THREADS\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (body_len = ftell(f)) < 0)
        return 1;
    rewind(f);
    body = malloc((size_t)body_len + 1);
    if (body == NULL || fread(body, 1, (size_t)body_len, f) != (size_t)body_len)
        return 1;
    fclose(f);
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%s", argv[2]);
    const char *options[] = {"listening_ports",
                             listen,
                             "num_threads",
                             argv[3],
                             "enable_keep_alive",
                             "yes",
                             "request_timeout_ms",
                             "5000",
                             "keep_alive_timeout_ms",
                             "2000",
                             "tcp_nodelay",
                             "1",
                             NULL};
    struct mg_callbacks cb = {0};
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (ctx == NULL)
        return 1;
    mg_set_request_handler(ctx, "/", answer, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    mg_stop(ctx);
    return 0;
}
