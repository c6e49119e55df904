/*
 * Certificates of study («справка об обучении»). A parent (or the school's admin) requests one
 * for a student with a purpose; the node writes the facts and the document's Russian text
 * (the name in the dative case, dates in words: declension.c) as canonical JSON, signs that
 * exact text with its Ed25519 key, and answers a link carrying the signature. Asking again on
 * the same day for the same student and purpose answers the certificate already issued: one
 * number per request, not per click (writes are serialized by the writer, so the look-up and
 * the insert cannot interleave). Anyone with the link checks it without logging in: the node
 * verifies the signature against its public key (published at /api/v1/certificates/key, so a
 * third party can also check offline). Without the right signature in the link, a
 * certificate does not exist (ids are not secrets).
 */
#include <civetweb.h>
#include <qrencode.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/authz.h"
#include "certificates/declension.h"
#include "node.h"
#include "school/school.h"

#define SIG_B64                                                                                    \
    (sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING))

/* The document's main sentence: «Дана Иванову Артёму Сергеевичу (дата рождения: 17 апреля
 * 2015 г.) в том, что он действительно обучается в 5 «А» классе данной образовательной
 * организации в 2026/2027 учебном году.» The name stays in the nominative, and the pronoun is
 * «он(а)», when the name does not tell the gender. NULL when out of memory. */
static json_t *certificate_text(const char *last, const char *first, const char *middle,
                                const char *birth, int grade, const char *letter, const char *year)
{
    char name[512], born[128] = "", birth_words[48];
    enum declension_gender g;
    if (declension_full_dative(last, first, middle, name, sizeof(name), &g) != 0)
        snprintf(name, sizeof(name), "%s %s%s%s", last, first, middle[0] ? " " : "", middle);
    if (declension_date_words(birth, birth_words, sizeof(birth_words)) == 0)
        snprintf(born, sizeof(born), " (дата рождения: %s)", birth_words);
    const char *pronoun = g == DECLENSION_MALE ? "он" : g == DECLENSION_FEMALE ? "она" : "он(а)";
    return json_sprintf("Дана %s%s в том, что %s действительно обучается в %d «%s» классе данной "
                        "образовательной организации в %s учебном году.",
                        name, born, pronoun, grade, letter, year);
}

/* The facts of a student for the certificate, or NULL. */
static json_t *facts(struct req *r, int64_t student)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT p.last_name, p.first_name, p.middle_name, p.birth_date, c.grade, "
                 "c.letter, i.name, y.name FROM persons p JOIN enrollments e ON e.student_id = "
                 "p.id AND e.left_on IS NULL JOIN classes c ON c.id = e.class_id JOIN "
                 "institutions i ON i.id = c.institution_id JOIN academic_years y ON y.id = "
                 "c.year_id WHERE p.id = :s",
                 DB_ARGS(DB_INT(":s", student)));
    json_t *o = NULL;
    int rc;
    while (db_next(st, &rc))
        if (o == NULL) /* the first current enrollment */
            o = json_pack("{s:o,s:s,s:o,s:s,s:s,s:s,s:o}", "student", ref_person_name(st, 0),
                          "birth_date", db_col_text(st, 3), "class",
                          json_sprintf("%d%s", sqlite3_column_int(st, 4), db_col_text(st, 5)),
                          "institution", db_col_text(st, 6), "year", db_col_text(st, 7), "region",
                          r->node->cfg.region.name, "text",
                          certificate_text(db_col_text(st, 0), db_col_text(st, 1),
                                           db_col_text(st, 2), db_col_text(st, 3),
                                           sqlite3_column_int(st, 4), db_col_text(st, 5),
                                           db_col_text(st, 7)));
    if (rc != SQLITE_DONE) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Who may request and list a student's certificates: the student's parents and the admin of
 * the student's school. 0 to go on; -1 once answered (404 no such student, 403 not theirs). */
static int certificates_access_or_respond(struct req *r, int64_t student)
{
    if (authz_student_or_respond(r, student, AUTHZ_READ) != 0)
        return -1;
    int g = authz_guardian(r, r->caller.person_id, student);
    if (g == 1)
        return 0;
    if (g < 0) {
        reply_db_error(r);
        return -1;
    }
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.institution_id FROM enrollments e JOIN classes c ON "
                                "c.id = e.class_id WHERE e.student_id = :s AND e.left_on IS NULL",
                                DB_ARGS(DB_INT(":s", student)));
    bool admin = false;
    int rc;
    while (db_next(st, &rc))
        if (caller_has(r, ROLE_SCHOOL_ADMIN, sqlite3_column_int64(st, 0)))
            admin = true;
    if (rc != SQLITE_DONE) {
        reply_db_error(r);
        return -1;
    }
    if (admin)
        return 0;
    reply_error(r, 403, "forbidden",
                "certificates are issued to the student's parents and the school's admin");
    return -1;
}

/* The purpose with its spaces trimmed and runs of white space made one space, into out. False
 * when it does not fit. */
static bool purpose_normalize(const char *in, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = n > 0;
            continue;
        }
        if (space) {
            if (n + 1 >= size)
                return false;
            out[n++] = ' ';
            space = false;
        }
        if (n + 1 >= size)
            return false;
        out[n++] = *p;
    }
    out[n] = '\0';
    return true;
}

/* The answer naming a certificate: its number, purpose, day and links (with the signature). */
static json_t *certificate_ref(struct req *r, int64_t id, const unsigned char *sig,
                               const char *purpose, const char *issued_on)
{
    char s64[SIG_B64];
    sodium_bin2base64(s64, sizeof(s64), sig, crypto_sign_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return json_pack(
        "{s:I,s:I,s:s,s:s,s:s,s:o,s:o}", "id", (json_int_t)id, "number", (json_int_t)id, "purpose",
        purpose, "issued_on", issued_on, "signature", s64, "url",
        json_sprintf("/certificates/%lld?s=%s", (long long)id, s64), "link",
        json_sprintf("%s/certificates/%lld?s=%s", r->node->public_url, (long long)id, s64));
}

/* The purpose and day of a certificate, read from its signed payload (NULL while a row is
 * being written: its payload is empty then). */
#define CERT_PURPOSE   "CASE WHEN json_valid(payload) THEN json_extract(payload, '$.purpose') END"
#define CERT_ISSUED_ON "CASE WHEN json_valid(payload) THEN json_extract(payload, '$.issued_on') END"

/* POST /api/v1/students/{id}/certificates {"purpose"}: by a parent of the student or the
 * school's admin. 201 with a new certificate, or 200 with the one issued today for the same
 * student and purpose. */
static int certificates_issue(struct req *r)
{
    int64_t student = r->params[0];
    const char *given;
    char purpose[1024];
    if (body_unpack_or_respond(r, "{s:s}", "purpose", &given) != 0)
        return r->status;
    if (!purpose_normalize(given, purpose, sizeof(purpose)) || !school_text_ok(purpose, 1, 200))
        return reply_field_error(r, 400, "bad_request", "purpose",
                                 "purpose must be 1-200 characters");
    if (certificates_access_or_respond(r, student) != 0)
        return r->status;
    if (r->node->key == NULL)
        return reply_error(r, 503, "unavailable", "the node has no signing key");
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);

    /* The one issued today for this purpose, if any. */
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT id, signature FROM certificates WHERE student_id = :s "
                 "AND " CERT_ISSUED_ON " = :d AND " CERT_PURPOSE " = :p "
                 "ORDER BY id LIMIT 1",
                 DB_ARGS(DB_INT(":s", student), DB_TEXT(":d", today), DB_TEXT(":p", purpose)));
    json_t *existing = NULL;
    int rc;
    while (db_next(st, &rc))
        if (sqlite3_column_bytes(st, 1) == crypto_sign_BYTES)
            existing = certificate_ref(r, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                                       purpose, today);
    if (rc != SQLITE_DONE) {
        json_decref(existing);
        return reply_db_error(r);
    }
    if (existing != NULL)
        return reply_json(r, 200, existing);

    json_t *payload = facts(r, student);
    if (payload == NULL)
        return reply_db_error(r);
    if (db_run(r->db,
               "INSERT INTO certificates (student_id, requested_by, payload, signature) "
               "VALUES (:s, :by, '', x'')",
               DB_ARGS(DB_INT(":s", student), DB_INT(":by", r->caller.person_id))) != SQLITE_DONE) {
        json_decref(payload);
        return reply_db_error(r);
    }
    int64_t id = db_last_id(r->db);
    char issued_words[48];
    if (declension_date_words(today, issued_words, sizeof(issued_words)) != 0)
        issued_words[0] = '\0';
    json_object_set_new(payload, "number", json_integer(id));
    json_object_set_new(payload, "purpose", json_string(purpose));
    json_object_set_new(payload, "issued_on", json_string(today));
    json_object_set_new(payload, "issued_words", json_string(issued_words));
    char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(payload);
    if (text == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text), r->node->key->sk);
    rc = db_run(r->db, "UPDATE certificates SET payload = :p, signature = :sig WHERE id = :id",
                DB_ARGS(DB_TEXT(":p", text), DB_BLOB(":sig", sig, sizeof(sig)), DB_INT(":id", id)));
    free(text);
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 201, certificate_ref(r, id, sig, purpose, today));
}

static json_t *certificates_list_row(sqlite3_stmt *st)
{
    char s64[SIG_B64] = "";
    if (sqlite3_column_bytes(st, 3) == crypto_sign_BYTES)
        sodium_bin2base64(s64, sizeof(s64), sqlite3_column_blob(st, 3), crypto_sign_BYTES,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    int64_t id = sqlite3_column_int64(st, 0);
    return json_pack("{s:I,s:I,s:s,s:s,s:o,s:{s:I,s:o}}", "id", (json_int_t)id, "number",
                     (json_int_t)id, "purpose", db_col_text(st, 1), "issued_on", db_col_text(st, 2),
                     "url", json_sprintf("/certificates/%lld?s=%s", (long long)id, s64),
                     "requested_by", "id", (json_int_t)sqlite3_column_int64(st, 4), "name",
                     ref_person_name(st, 5));
}

/* GET /api/v1/students/{id}/certificates: the certificates issued for the student, newest
 * first, with their links; for those who may request them. */
static int certificates_list(struct req *r)
{
    int64_t student = r->params[0];
    if (certificates_access_or_respond(r, student) != 0)
        return r->status;
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT c.id, coalesce(" CERT_PURPOSE ", ''), coalesce(" CERT_ISSUED_ON
                 ", ''), c.signature, c.requested_by, p.last_name, p.first_name, p.middle_name "
                 "FROM certificates c JOIN persons p ON p.id = c.requested_by "
                 "WHERE c.student_id = :s AND length(c.signature) > 0 ORDER BY c.id DESC",
                 DB_ARGS(DB_INT(":s", student)));
    return reply_rows(r, st, certificates_list_row);
}

/* Finds certificate r->params[0] whose signature is the link's `s` (into s64, given) and
 * returns its signed payload (malloc'ed, freed by the caller). NULL once answered: 404 (a
 * certificate does not exist without its signature) or 500. */
static char *certificate_or_respond(struct req *r, char s64[SIG_B64 + 8],
                                    unsigned char given[crypto_sign_BYTES])
{
    size_t len = 0;
    if (req_query(r, "s", s64, SIG_B64 + 8) <= 0 ||
        sodium_base642bin(given, crypto_sign_BYTES, s64, strlen(s64), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != crypto_sign_BYTES) {
        reply_error(r, 404, "not_found", "no such certificate");
        return NULL;
    }
    sqlite3_stmt *st = db_query(r->db, "SELECT payload, signature FROM certificates WHERE id = :id",
                                DB_ARGS(DB_INT(":id", r->params[0])));
    char *payload = NULL;
    bool oom = false;
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        if (sqlite3_column_bytes(st, 1) == crypto_sign_BYTES &&
            sodium_memcmp(sqlite3_column_blob(st, 1), given, crypto_sign_BYTES) == 0) {
            payload = strdup(db_col_text(st, 0));
            oom = payload == NULL;
        }
    }
    if (rc != SQLITE_DONE) {
        free(payload);
        reply_db_error(r);
        return NULL;
    }
    if (oom) {
        reply_error(r, 503, "unavailable", "out of memory");
        return NULL;
    }
    if (payload == NULL)
        reply_error(r, 404, "not_found", "no such certificate");
    return payload;
}

/* GET /api/v1/certificates/{id}?s=SIGNATURE: public verification. */
static int certificates_verify(struct req *r)
{
    char s64[SIG_B64 + 8];
    unsigned char given[crypto_sign_BYTES];
    char *payload = certificate_or_respond(r, s64, given);
    if (payload == NULL)
        return r->status;
    bool valid =
        r->node->key != NULL && crypto_sign_verify_detached(given, (const unsigned char *)payload,
                                                            strlen(payload), r->node->pub.pk) == 0;
    json_t *facts_json = json_loads(payload, 0, NULL);
    json_t *text = json_string(payload);
    free(payload);
    char pk64[64];
    sodium_bin2base64(pk64, sizeof(pk64), r->node->pub.pk, sizeof(r->node->pub.pk),
                      sodium_base64_VARIANT_ORIGINAL);
    return reply_json(r, 200,
                      json_pack("{s:b,s:o,s:o,s:s,s:s,s:s,s:o}", "valid", valid, "certificate",
                                facts_json ? facts_json : json_object(), "signed_text", text,
                                "signature", s64, "public_key", pk64, "algorithm", "Ed25519",
                                "link",
                                json_sprintf("%s/certificates/%lld?s=%s", r->node->public_url,
                                             (long long)r->params[0], s64)));
}

/* GET /api/v1/certificates/{id}/qr?s=SIGNATURE: an SVG QR code of the certificate's public
 * page, printed on it so that a reader checks the paper with a phone. The page's address is
 * built on the node's public URL (http.public_url), never on the request's Host header: behind
 * nginx that would be the node's inside address, and anyone could make the node print theirs. */
static int certificates_qr(struct req *r)
{
    char s64[SIG_B64 + 8];
    unsigned char given[crypto_sign_BYTES];
    char *payload = certificate_or_respond(r, s64, given);
    if (payload == NULL)
        return r->status;
    free(payload);
    char url[512];
    snprintf(url, sizeof(url), "%s/certificates/%lld?s=%s", r->node->public_url,
             (long long)r->params[0], s64);
    QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (qr == NULL)
        return reply_error(r, 503, "unavailable", "the QR code could not be made");
    /* One path of unit squares on a grid with a four-module quiet zone. */
    int w = qr->width, side = w + 8;
    size_t cap = 256 + (size_t)w * w * 20, len = 0;
    char *svg = malloc(cap);
    if (svg == NULL) {
        QRcode_free(qr);
        return reply_error(r, 503, "unavailable", "out of memory");
    }
    len += (size_t)snprintf(svg + len, cap - len,
                            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                            "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                            "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                            side, side, side, side);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (qr->data[y * w + x] & 1)
                len += (size_t)snprintf(svg + len, cap - len, "M%d %dh1v1h-1z", x + 4, y + 4);
    len += (size_t)snprintf(svg + len, cap - len, "\"/></svg>\n");
    QRcode_free(qr);
    reply_header(r, "Cache-Control", "no-store");
    return reply_raw(r, 200, "image/svg+xml", svg, len, true);
}

/* GET /api/v1/certificates/key: the node's public key, for checking signatures offline. */
static int certificates_key(struct req *r)
{
    char pk64[64];
    sodium_bin2base64(pk64, sizeof(pk64), r->node->pub.pk, sizeof(r->node->pub.pk),
                      sodium_base64_VARIANT_ORIGINAL);
    return reply_json(r, 200,
                      json_pack("{s:s,s:s,s:s}", "algorithm", "Ed25519", "public_key", pk64,
                                "region", r->node->cfg.region.name));
}

const struct route certificates_routes[] = {
    {.method = "POST",
     .path = "/api/v1/students/{id}/certificates",
     .handler = certificates_issue,
     .access = ACCESS_USER,
     .allow = ROLE_PARENT | ROLE_SCHOOL_ADMIN,
     .writes = true,
     .name = "certificate_issue"},
    {.method = "GET",
     .path = "/api/v1/students/{id}/certificates",
     .handler = certificates_list,
     .access = ACCESS_USER,
     .allow = ROLE_PARENT | ROLE_SCHOOL_ADMIN,
     .name = "certificate_list"},
    {.method = "GET",
     .path = "/api/v1/certificates/key",
     .handler = certificates_key,
     .access = ACCESS_PUBLIC,
     .name = "certificate_key",
     .self_tx = true},
    {.method = "GET",
     .path = "/api/v1/certificates/{id}",
     .handler = certificates_verify,
     .access = ACCESS_PUBLIC,
     .name = "certificate_verify"},
    {.method = "GET",
     .path = "/api/v1/certificates/{id}/qr",
     .handler = certificates_qr,
     .access = ACCESS_PUBLIC,
     .name = "certificate_qr"},
    {0},
};
