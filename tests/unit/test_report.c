/*
 * Unit tests of the hub's check of a received statistics report (federation/report.c,
 * report_verify), without a database: a region's own signed report is accepted with its
 * sequence and month; a body of another shape, a report changed after signing, signed by
 * another key or with a malformed signature, one that is not a report, and another region's
 * are each refused with their verdict and a message, leaving nothing to free.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "federation/report.h"

static struct ms_public pk, other_pk;
static struct ms_secret *sk, *other_sk;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    sk = ms_secret_generate(&pk);
    other_sk = ms_secret_generate(&other_pk);
    return sk && other_sk ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ms_secret_free(sk);
    ms_secret_free(other_sk);
    return 0;
}

/* The body a region posts: `report` signed by `key` (or with `signature` when not NULL). */
static char *body_of(const char *report, const struct ms_secret *key, const char *signature)
{
    char *sig = signature ? strdup(signature)
                          : ms_sign(key, report, strlen(report), "mes statistics report", "t");
    assert_non_null(sig);
    json_t *b = json_pack("{s:s,s:s}", "report", report, "signature", sig);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    free(sig);
    return text;
}

/* report_verify of `body` as region 05 with the region's key `key`; the verdict. */
static int verify(const char *body, const struct ms_public *key, struct report_received *out,
                  char *err, size_t errlen)
{
    err[0] = '\0';
    return report_verify(body, strlen(body), key, "05", out, err, errlen);
}

static const char report[] = "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":7,"
                             "\"period\":{\"month\":\"2026-11\"},\"marks\":[]}";

static void accepts_own_signed_report(void **state)
{
    (void)state;
    char *body = body_of(report, sk, NULL), err[512];
    struct report_received r;
    assert_int_equal(verify(body, &pk, &r, err, sizeof(err)), REPORT_OK);
    assert_int_equal(r.sequence, 7);
    assert_string_equal(r.month, "2026-11");
    assert_int_equal(r.len, strlen(report));
    assert_memory_equal(r.text, report, r.len);
    assert_non_null(strstr(r.signature, "untrusted comment: mes statistics report"));
    json_decref(r.doc);
    free(body);
}

/* The verdict and message for a refused body; checks that nothing is left to free. */
static void refused(const char *body, const struct ms_public *key, int verdict, const char *says)
{
    char err[512];
    struct report_received r;
    memset(&r, 0x55, sizeof(r));
    assert_int_equal(verify(body, key, &r, err, sizeof(err)), verdict);
    assert_null(r.doc);
    assert_null(r.text);
    assert_non_null(strstr(err, says));
}

static void refuses_other_shapes(void **state)
{
    (void)state;
    refused("", &pk, REPORT_BAD_BODY, "the body is");
    refused("[1,2]", &pk, REPORT_BAD_BODY, "the body is");
    refused("{\"report\":\"{}\"}", &pk, REPORT_BAD_BODY, "the body is");
    refused("{\"report\":5,\"signature\":\"x\"}", &pk, REPORT_BAD_BODY, "the body is");
    /* The same key twice: JSON that would let the signed text and the stored one differ. */
    char *body = body_of(report, sk, NULL), twice[8192];
    snprintf(twice, sizeof(twice), "{\"report\":\"{}\",%s", body + 1);
    refused(twice, &pk, REPORT_BAD_BODY, "the body is");
    free(body);
}

static void refuses_bad_signatures(void **state)
{
    (void)state;
    /* Changed after signing: the sequence 7 becomes 8. */
    char *sig = ms_sign(sk, report, strlen(report), "mes statistics report", "t");
    char changed[sizeof(report)];
    memcpy(changed, report, sizeof(report));
    *strchr(changed, '7') = '8';
    char *body = body_of(changed, NULL, sig);
    refused(body, &pk, REPORT_BAD_SIGNATURE, "the report's signature");
    free(body);
    free(sig);
    /* Signed by another key, and a signature that is not one. */
    body = body_of(report, other_sk, NULL);
    refused(body, &pk, REPORT_BAD_SIGNATURE, "the report's signature");
    free(body);
    body = body_of(report, NULL, "untrusted comment: x\nRWQ=\n");
    refused(body, &pk, REPORT_BAD_SIGNATURE, "the report's signature");
    free(body);
}

static void refuses_what_is_not_a_report(void **state)
{
    (void)state;
    static const char *const not_reports[] = {
        "{\"format\":\"mes-report-2\",\"region\":\"05\",\"sequence\":1,\"period\":{\"month\":"
        "\"2026-11\"}}",
        "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":0,\"period\":{\"month\":"
        "\"2026-11\"}}",
        "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":1,\"period\":{\"month\":"
        "\"2026/11\"}}",
        "{\"format\":\"mes-report-1\",\"region\":\"05\",\"sequence\":1}",
        "not JSON, but signed",
    };
    for (size_t i = 0; i < sizeof(not_reports) / sizeof(not_reports[0]); i++) {
        char *body = body_of(not_reports[i], sk, NULL);
        refused(body, &pk, REPORT_NOT_A_REPORT, "not a report");
        free(body);
    }
    /* A well-formed report of region 06, signed by the key enrolled for 05. */
    char *body = body_of("{\"format\":\"mes-report-1\",\"region\":\"06\",\"sequence\":1,"
                         "\"period\":{\"month\":\"2026-11\"}}",
                         sk, NULL);
    refused(body, &pk, REPORT_FOREIGN, "only its own reports");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_own_signed_report),
        cmocka_unit_test(refuses_other_shapes),
        cmocka_unit_test(refuses_bad_signatures),
        cmocka_unit_test(refuses_what_is_not_a_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
