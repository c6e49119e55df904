/*
 * Unit tests of lib/proxy.c: addresses and CIDR ranges (IPv4, IPv6, IPv4-mapped IPv6), the
 * client's address from X-Forwarded-For through trusted proxies (the rightmost untrusted entry;
 * what the client wrote further left ignored; garbage gives the peer), public URLs and the
 * loopback address of a listen address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/proxy.h"

/* Whether `addr` (text) is in the range `net` (text); both must parse. */
static bool in(const char *net, const char *addr)
{
    struct proxy_net n;
    unsigned char a[16];
    assert_int_equal(proxy_net_parse(net, &n), 0);
    assert_int_equal(proxy_addr_parse(addr, strlen(addr), a), 0);
    return proxy_trusted(&n, 1, a);
}

static void test_ranges_v4(void **state)
{
    (void)state;
    assert_true(in("10.0.0.0/8", "10.0.0.0"));
    assert_true(in("10.0.0.0/8", "10.255.255.255"));
    assert_false(in("10.0.0.0/8", "11.0.0.0"));
    assert_false(in("10.0.0.0/8", "9.255.255.255"));
    assert_true(in("192.168.4.0/22", "192.168.7.200"));
    assert_false(in("192.168.4.0/22", "192.168.8.1"));
    assert_true(in("127.0.0.1", "127.0.0.1")); /* an address alone: a range of one */
    assert_false(in("127.0.0.1", "127.0.0.2"));
    assert_true(in("127.0.0.1/32", "127.0.0.1"));
    assert_true(in("0.0.0.0/0", "203.0.113.9"));
    assert_false(in("0.0.0.0/0", "2001:db8::1")); /* IPv4's everything is not IPv6's */
}

static void test_ranges_v6_and_mapped(void **state)
{
    (void)state;
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("::1", "::1"));
    assert_false(in("::1", "::2"));
    assert_true(in("fe80::/10", "febf::1"));
    assert_false(in("fe80::/10", "fec0::1"));
    assert_true(in("2001:db8::1/128", "2001:db8:0:0:0:0:0:1"));
    /* IPv4-mapped IPv6 is the IPv4 address, both ways. */
    assert_true(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    assert_false(in("10.0.0.0/8", "::ffff:11.1.2.3"));
    assert_true(in("::ffff:10.0.0.0/104", "10.9.9.9"));
    assert_true(in("::ffff:127.0.0.1", "127.0.0.1"));
    /* ...but the plain IPv6 that carries the same 32 bits is not. */
    assert_false(in("10.0.0.0/8", "::a01:203"));
}

static void test_ranges_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "10",
        "10.0.0",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.1/8",
        "10.0.0.0/08",
        "10.0.0.0/8x",
        "10.0.0.0/-1",
        "010.0.0.1",
        "10.0.0.256",
        " 10.0.0.1",
        "10.0.0.1 ",
        "2001:db8::/129",
        "2001:db8::1/32",
        "::1%lo",
        "[::1]",
        "2001:db8:::1",
        "localhost",
        "10.0.0.0/8/8",
        "1.2.3.4/1000",
        "0x0a.0.0.1",
        "::ffff:10.0.0.1/97",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct proxy_net n;
        if (proxy_net_parse(bad[i], &n) == 0)
            fail_msg("accepted %s", bad[i]);
    }
    struct proxy_net n;
    assert_int_equal(proxy_net_parse("0.0.0.0/0", &n), 0);
    assert_int_equal(n.bits, 96);
    assert_int_equal(proxy_net_parse("::/0", &n), 0);
    assert_int_equal(n.bits, 0);
    unsigned char a[16];
    char long_text[200];
    memset(long_text, '1', sizeof(long_text));
    assert_int_equal(proxy_addr_parse(long_text, sizeof(long_text), a), -1);
    assert_int_equal(proxy_addr_parse("1.2.3.4\0garbage", 15, a), -1); /* a NUL inside */
    assert_int_equal(proxy_addr_parse("1.2.3.4", 0, a), -1);
}

static void test_format_is_canonical(void **state)
{
    (void)state;
    char out[PROXY_ADDR_TEXT];
    unsigned char a[16];
    assert_int_equal(proxy_addr_parse("2001:DB8:0:0::1", 15, a), 0);
    proxy_addr_format(a, out);
    assert_string_equal(out, "2001:db8::1");
    assert_int_equal(proxy_addr_parse("::ffff:192.0.2.7", 16, a), 0);
    proxy_addr_format(a, out);
    assert_string_equal(out, "192.0.2.7");
}

/* The client's address for `peer` and the X-Forwarded-For lines `xff` (NULL-terminated),
 * trusting the comma-separated ranges `trusted`; `from_xff` says what the call returned. */
static const char *client(const char *trusted, const char *peer, const char *const *xff,
                          int *from_xff)
{
    static char out[PROXY_ADDR_TEXT];
    struct proxy_net nets[8];
    int nnets = 0, nxff = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", trusted);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        assert_int_equal(proxy_net_parse(t, &nets[nnets]), 0);
        nnets++;
    }
    while (xff && xff[nxff])
        nxff++;
    int rc = proxy_client_addr(peer, xff, nxff, nets, nnets, out);
    if (from_xff)
        *from_xff = rc;
    return out;
}

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_untrusted_peer_is_the_client(void **state)
{
    (void)state;
    int x;
    /* No trusted proxies: X-Forwarded-For is ignored, whatever it says. */
    assert_string_equal(client("", "203.0.113.5", LINES("198.51.100.1"), &x), "203.0.113.5");
    assert_int_equal(x, 0);
    /* A peer outside the list is the client, even one next to a trusted address. */
    assert_string_equal(client("127.0.0.1", "127.0.0.2", LINES("198.51.100.1"), &x), "127.0.0.2");
    assert_int_equal(x, 0);
    /* The peer's own spelling is made canonical. */
    assert_string_equal(client("", "::ffff:203.0.113.5", NULL, NULL), "203.0.113.5");
}

static void test_rightmost_untrusted_entry(void **state)
{
    (void)state;
    int x;
    const char *t = "127.0.0.1,10.0.0.0/8";
    /* nginx alone: it appended the client's address. */
    assert_string_equal(client(t, "127.0.0.1", LINES("198.51.100.7"), &x), "198.51.100.7");
    assert_int_equal(x, 1);
    /* Two proxies of ours (a balancer at 10.0.0.5, then nginx): skipped from the right. */
    assert_string_equal(client(t, "127.0.0.1", LINES("198.51.100.7, 10.0.0.5"), NULL),
                        "198.51.100.7");
    /* Every entry is a proxy of ours: the leftmost is the farthest known hop. */
    assert_string_equal(client(t, "127.0.0.1", LINES("10.0.0.9, 10.0.0.5"), &x), "10.0.0.9");
    assert_int_equal(x, 1);
    /* IPv6 clients and proxies, spelled any way, come out canonical. */
    assert_string_equal(
        client("::1,2001:db8:1::/48", "::1", LINES("2001:DB8::0:7, 2001:db8:1::9"), NULL),
        "2001:db8::7");
    /* A v4-mapped peer matches its IPv4 range. */
    assert_string_equal(client("127.0.0.1", "::ffff:127.0.0.1", LINES("198.51.100.7"), NULL),
                        "198.51.100.7");
    /* Blanks (spaces and tabs) around entries are allowed. */
    assert_string_equal(client(t, "127.0.0.1", LINES(" \t198.51.100.7\t "), NULL), "198.51.100.7");
}

static void test_spoofed_entries_ignored(void **state)
{
    (void)state;
    const char *t = "127.0.0.1";
    /* The client wrote "1.1.1.1, 127.0.0.1" itself; nginx appended its real address. */
    assert_string_equal(client(t, "127.0.0.1", LINES("1.1.1.1, 127.0.0.1, 198.51.100.7"), NULL),
                        "198.51.100.7");
    /* Garbage far left is never reached. */
    assert_string_equal(client(t, "127.0.0.1", LINES("<script>, ;drop, 198.51.100.7"), NULL),
                        "198.51.100.7");
    /* Several header lines are one list, in the order they came: the last line is rightmost. */
    assert_string_equal(client(t, "127.0.0.1", LINES("1.1.1.1", "198.51.100.7"), NULL),
                        "198.51.100.7");
    assert_string_equal(client(t, "127.0.0.1", LINES("1.1.1.1", "198.51.100.7, 127.0.0.1"), NULL),
                        "198.51.100.7");
    assert_string_equal(client(t, "127.0.0.1", LINES("198.51.100.7", "127.0.0.1"), NULL),
                        "198.51.100.7");
    /* Many spoofed entries cost nothing: the walk stops at the first untrusted one. */
    static char many[64 * 1024];
    size_t used = 0;
    while (used + 16 < sizeof(many) - 32)
        used += (size_t)snprintf(many + used, sizeof(many) - used, "9.9.9.9, ");
    snprintf(many + used, sizeof(many) - used, "198.51.100.7");
    assert_string_equal(client(t, "127.0.0.1", LINES(many), NULL), "198.51.100.7");
}

static void test_garbage_gives_the_peer(void **state)
{
    (void)state;
    const char *t = "127.0.0.1";
    int x;
    static const char *const bad[] = {
        "",
        " ",
        ",",
        "198.51.100.7,",
        "unknown",
        "198.51.100.7:443",
        "[2001:db8::1]",
        "1.2.3",
        "2001:db8::1%eth0",
        "198.51.100.7;",
        "1.2.3.4 5.6.7.8",
        "\xff\xfe",
        "0x01020304",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = client(t, "127.0.0.1", LINES(bad[i]), &x);
        if (strcmp(got, "127.0.0.1") != 0 || x != 0)
            fail_msg("X-Forwarded-For \"%s\" gave %s", bad[i], got);
    }
    /* Malformed between trusted hops and the client: the peer, not a guess. */
    assert_string_equal(client(t, "127.0.0.1", LINES("198.51.100.7, bogus, 127.0.0.1"), &x),
                        "127.0.0.1");
    /* No header at all from a trusted proxy: the proxy itself. */
    assert_string_equal(client(t, "127.0.0.1", NULL, &x), "127.0.0.1");
    assert_int_equal(x, 0);
    /* More trusted hops than PROXY_MAX_HOPS: bounded, the peer. */
    char hops[(PROXY_MAX_HOPS + 2) * 12] = "";
    for (int i = 0; i < PROXY_MAX_HOPS + 1; i++)
        strcat(hops, i ? ", 127.0.0.1" : "127.0.0.1");
    assert_string_equal(client(t, "127.0.0.1", LINES(hops), &x), "127.0.0.1");
    assert_int_equal(x, 0);
    /* A very long entry is not an address. */
    char longent[300];
    memset(longent, '1', sizeof(longent) - 1);
    longent[sizeof(longent) - 1] = '\0';
    assert_string_equal(client(t, "127.0.0.1", LINES(longent), NULL), "127.0.0.1");
    /* A peer that is not an address (never from a socket) is kept, cut to fit. */
    char odd[100];
    memset(odd, 'x', sizeof(odd) - 1);
    odd[sizeof(odd) - 1] = '\0';
    const char *got = client(t, odd, NULL, NULL);
    assert_int_equal(strlen(got), PROXY_ADDR_TEXT - 1);
}

static void test_public_urls(void **state)
{
    (void)state;
    struct proxy_url u;
    assert_int_equal(proxy_url_parse("https://mes.example.region", &u), 0);
    assert_true(u.https);
    assert_string_equal(u.host, "mes.example.region");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.base, "https://mes.example.region");
    assert_int_equal(proxy_url_parse("https://mes.example.region/", &u), 0);
    assert_string_equal(u.base, "https://mes.example.region");
    assert_int_equal(proxy_url_parse("http://127.0.0.1:8080", &u), 0);
    assert_false(u.https);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_int_equal(proxy_url_parse("http://mes.example", &u), 0);
    assert_int_equal(u.port, 80);
    assert_int_equal(proxy_url_parse("https://[2001:db8::1]:8443/", &u), 0);
    assert_string_equal(u.host, "[2001:db8::1]");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.base, "https://[2001:db8::1]:8443");
    assert_int_equal(proxy_url_parse("https://xn--80ak6aa92e.xn--p1ai", &u), 0);
    static const char *const bad[] = {
        "",
        "mes.example.region",
        "ftp://mes.example",
        "HTTPS://mes.example",
        "https://",
        "https:///x",
        "https://mes.example/path",
        "https://mes.example//",
        "https://mes.example?x=1",
        "https://mes.example#top",
        "https://user@mes.example",
        "https://mes.example:",
        "https://mes.example:0",
        "https://mes.example:65536",
        "https://mes.example:080",
        "https://mes.example:8x",
        "https://mes..example",
        "https://.mes.example",
        "https://mes.example.",
        "https://-mes.example",
        "https://mes-.example",
        "https://mes_example",
        "https://mes example",
        "https://1.2.3",
        "https://999.1.1.1",
        "https://[1.2.3.4]",
        "https://[2001:db8::1",
        "https://[2001:db8::1]x",
        "https://2001:db8::1",
        "https://мэш.рф",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (proxy_url_parse(bad[i], &u) == 0)
            fail_msg("accepted %s", bad[i]);
    char label[80], host[300];
    memset(label, 'a', 64);
    label[64] = '\0';
    snprintf(host, sizeof(host), "https://%s.example", label); /* a 64-byte label */
    assert_int_equal(proxy_url_parse(host, &u), -1);
}

static void test_listen_local(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(proxy_listen_local("127.0.0.1:0", 41234, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.1:41234");
    assert_int_equal(proxy_listen_local("0.0.0.0:8080", 8080, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.1:8080");
    assert_int_equal(proxy_listen_local("[::]:8080", 8080, out, sizeof(out)), 0);
    assert_string_equal(out, "[::1]:8080");
    assert_int_equal(proxy_listen_local("[2001:db8::1]:80", 80, out, sizeof(out)), 0);
    assert_string_equal(out, "[2001:db8::1]:80");
    assert_int_equal(proxy_listen_local("8080", 8080, out, sizeof(out)), -1);
    assert_int_equal(proxy_listen_local("10.0.0.1:8080", 8080, out, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_v4),
        cmocka_unit_test(test_ranges_v6_and_mapped),
        cmocka_unit_test(test_ranges_refused),
        cmocka_unit_test(test_format_is_canonical),
        cmocka_unit_test(test_untrusted_peer_is_the_client),
        cmocka_unit_test(test_rightmost_untrusted_entry),
        cmocka_unit_test(test_spoofed_entries_ignored),
        cmocka_unit_test(test_garbage_gives_the_peer),
        cmocka_unit_test(test_public_urls),
        cmocka_unit_test(test_listen_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
