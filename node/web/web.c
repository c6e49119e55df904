/* The web interface: static assets compiled into the binary (placeholder, see web shell). */
#include "http.h"

static int web_index(struct req *r)
{
    static const char page[] = "<!doctype html><meta charset=utf-8><title>МЭШ</title>";
    return reply_raw(r, 200, "text/html; charset=utf-8", page, sizeof(page) - 1, false);
}

const struct route web_routes[] = {
    {"GET", "/", web_index, ACCESS_PUBLIC, 0, false, "web_index"},
    {0},
};
