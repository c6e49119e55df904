/*
 * libFuzzer target for the hub's check of a received statistics report (federation/report.c,
 * report_verify: the body's JSON, the report's minisign signature, report_check), without a
 * database, and for the Ministry's summary row (ministry_row) of every report it accepts.
 *
 * Byte 0 of an input chooses: bit 0 clear, the rest is the body of POST /federation/v1/reports
 * as received, checked for region 05 against the fixed key of fuzz_keys.h; bit 0 set, the rest
 * is a report's text, which this target signs (with the other key when bit 1 is set) and wraps
 * in a body, so that the checks after the signature meet arbitrary reports; bit 2 then changes a
 * byte of the text after signing (at byte 1's share of its length).
 *
 * Oracles besides the sanitizers: a text signed by the region's key and left as signed gets the
 * verdict report_check alone gives it (accepted, not a report, another region's, a malformed
 * section), and one changed after signing or signed by another key is refused for its
 * signature; an accepted report comes back with the text, sequence and month that were signed.
 *
 * MES_FUZZ_SEEDS=DIR writes this target's seed corpus into DIR and exits (see docs/benchmarks.md,
 * "Fuzzing").
 */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "federation/report.h"
#include "fuzz_keys.h"

#define REGION "05"

static struct ms_secret key[2];
static struct ms_public pub[2];

/* The body a region posts for `text`, its signature by `signer`: malloc'ed, or NULL when the
 * text cannot be a JSON string (not UTF-8). */
static char *body_of(const char *text, size_t len, const struct ms_secret *signer)
{
    char *sig = ms_sign(signer, text, len, "mes statistics report", "mes report region=05");
    if (sig == NULL)
        abort();
    json_t *b = json_pack("{s:s%,s:s}", "report", text, len, "signature", sig);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    free(sig);
    return body;
}

/* The summary row the Ministry's pages would show for an accepted report. */
static void summary_row(const struct report_received *r)
{
    json_t *rep = json_loadb(r->text, r->len, 0, NULL);
    if (rep == NULL) {
        fprintf(stderr, "fuzz_report_verify: an accepted report is not JSON\n");
        abort();
    }
    json_t *region = json_string(REGION), *name = json_string("R"), *at = json_integer(1);
    json_t *row = ministry_row(rep, region, name, at);
    char *text = row ? json_dumps(row, 0) : NULL;
    free(text);
    json_decref(row);
    json_decref(region);
    json_decref(name);
    json_decref(at);
    json_decref(rep);
}

static int verify(const void *body, size_t len, struct report_received *r)
{
    char err[512];
    int verdict = report_verify(body, len, &pub[0], REGION, r, err, sizeof(err));
    if (getenv("MES_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "fuzz_report_verify: verdict %d%s%s\n", verdict, verdict ? ": " : "",
                verdict ? err : "");
    if (verdict == REPORT_OK)
        summary_row(r);
    return verdict;
}

/* ---- seeds ----------------------------------------------------------------------------- */

static const char report[] =
    "{\"attendance\":{\"grades\":[{\"absences\":53,\"grade\":2,\"rate\":0.968,\"student_lessons\":"
    "1656,\"students\":23}],\"total\":{\"absences\":647,\"rate\":0.9699,\"student_lessons\":"
    "21510,\"students\":231}},\"coverage\":{\"classes\":10,\"schools\":3,\"students\":231,"
    "\"teachers\":40},\"created\":1795489286,\"format\":\"mes-report-1\",\"homework\":{"
    "\"assigned\":467,\"done\":null,\"students\":null,\"suppressed\":true},\"k\":5,\"library\":{"
    "\"attempt_persons\":null,\"attempts\":null,\"items\":21,\"suppressed\":true,\"uses\":0},"
    "\"marks\":[{\"distribution\":{\"2\":{\"marks\":null,\"students\":null,\"suppressed\":true},"
    "\"3\":{\"marks\":7,\"students\":7},\"4\":{\"marks\":9,\"students\":8}},\"grade\":7,"
    "\"marks\":20,\"students\":16,\"subject\":\"algebra\",\"weighted_average\":3.74}],"
    "\"period\":{\"from\":\"2026-11-01\",\"month\":\"2026-11\",\"to\":\"2026-11-30\"},"
    "\"region\":\"05\",\"region_name\":\"Республика Дагестан\",\"sequence\":1,\"usage\":[]}";

/* A report with «Москвёнок»'s volumes: a published and a suppressed cell of each section. */
static const char volumes[] =
    "{\"format\":\"mes-report-1\",\"k\":5,\"meals\":[{\"day\":\"2026-11-09\",\"free\":{"
    "\"count\":null,\"kopecks\":null,\"students\":null,\"suppressed\":true},\"grade\":5,"
    "\"refunds\":{\"count\":null,\"kopecks\":null,\"students\":null,\"suppressed\":true},"
    "\"sales\":{\"count\":46,\"kopecks\":490500,\"students\":36},\"topups\":{\"count\":5,"
    "\"kopecks\":50000,\"students\":5}}],\"passage\":[{\"day\":\"2026-11-09\",\"entries\":"
    "null,\"exits\":null,\"grade\":1,\"students\":null,\"suppressed\":true},{\"day\":"
    "\"2026-11-09\",\"entries\":42,\"exits\":41,\"grade\":5,\"students\":42}],\"period\":{"
    "\"from\":\"2026-11-01\",\"month\":\"2026-11\",\"to\":\"2026-11-30\"},\"region\":\"05\","
    "\"sequence\":2}";

static void write_seed(const char *dir, const char *name, uint8_t mode, const char *data)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(&mode, 1, 1, f) != 1 ||
        fwrite(data, 1, strlen(data), f) != strlen(data) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void write_seeds(const char *dir)
{
    write_seed(dir, "signed", 1, report);
    write_seed(dir, "signed_volumes", 1, volumes);
    write_seed(dir, "signed_foreign", 1,
               "{\"format\":\"mes-report-1\",\"region\":\"06\",\"sequence\":3,\"period\":{"
               "\"month\":\"2026-10\"}}");
    write_seed(dir, "signed_changed", 1 | 4, report);
    char *body = body_of(report, strlen(report), &key[0]);
    write_seed(dir, "body", 0, body);
    free(body);
    write_seed(dir, "body_unsigned", 0, "{\"report\":\"{}\",\"signature\":\"x\"}");
    printf("seeds written to %s\n", dir);
    exit(0);
}

/* ---- the target ------------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (sodium_init() < 0)
        abort();
    fuzz_key(0, &key[0], &pub[0]);
    fuzz_key(1, &key[1], &pub[1]);
    const char *seeds = getenv("MES_FUZZ_SEEDS");
    if (seeds != NULL)
        write_seeds(seeds);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct report_received r;
    if ((data[0] & 1) == 0) {
        if (verify(data + 1, size - 1, &r) == REPORT_OK)
            json_decref(r.doc);
        return 0;
    }
    uint8_t mode = data[0], where = size > 1 ? data[1] : 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char *body = body_of(text, len, &key[mode & 2 ? 1 : 0]);
    if (body == NULL || memchr(text, 0, len) != NULL) {
        free(body); /* not text (a JSON string of the body could not hold it as it is) */
        return 0;
    }
    bool changed = (mode & 4) && len > 0;
    if (changed) {
        /* The same byte changed in the body's JSON string: past the '{"report":"' it opens
         * with, where the text's bytes stand escaped or not. */
        char *at = body + 11 + (size_t)where * (strlen(body) - 11) / 256;
        *at = *at == 'a' ? 'b' : 'a';
    }
    int verdict = verify(body, strlen(body), &r);
    int64_t seq = 0;
    char month[8];
    int check = report_check(text, len, REGION, &seq, month, NULL, 0);
    int expect = check == 0    ? REPORT_OK
                 : check > 0   ? REPORT_FOREIGN
                 : check == -2 ? REPORT_BAD_SECTION
                               : REPORT_NOT_A_REPORT;
    bool refused = verdict == REPORT_BAD_BODY || verdict == REPORT_BAD_SIGNATURE, bad;
    if (mode & 2)
        bad = changed ? !refused : verdict != REPORT_BAD_SIGNATURE;
    else if (changed)
        /* Refused, or the change hit the signature's untrusted comment, which nothing signs. */
        bad = !refused && verdict != expect;
    else
        bad = verdict != expect;
    if (!bad && verdict == REPORT_OK)
        bad = r.len != len || memcmp(r.text, text, len) != 0 || r.sequence != seq ||
              strcmp(r.month, month) != 0;
    if (bad) {
        fprintf(stderr, "fuzz_report_verify: verdict %d for a report %s\n", verdict,
                mode & 2  ? "signed by another key"
                : changed ? "changed after signing"
                          : "as signed");
        abort();
    }
    if (verdict == REPORT_OK)
        json_decref(r.doc);
    free(body);
    return 0;
}
