/*
 * Unit tests of minisign's formats (lib/minisign.c): keys round-trip through their
 * files, encrypted or not; signatures verify, and any change to the message, the signature,
 * the trusted comment or the key is refused; malformed texts are refused with a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/minisign.h"

static char dir[] = "/tmp/mes-test-minisign-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 || mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static void sign_and_verify(void **state)
{
    (void)state;
    struct ms_public pk;
    struct ms_secret *sk = ms_secret_generate(&pk);
    assert_non_null(sk);
    const char msg[] = "Журнал 5А: оценки за четверть";
    char *sig = ms_sign(sk, msg, sizeof(msg) - 1, "untrusted", "channel=library\tversion=7");
    assert_non_null(sig);
    struct ms_sig parsed;
    char err[256];
    assert_int_equal(
        ms_verify(&pk, msg, sizeof(msg) - 1, sig, strlen(sig), &parsed, err, sizeof(err)), 0);
    assert_string_equal(parsed.trusted, "channel=library\tversion=7");
    assert_true(parsed.prehashed);
    /* A changed message, another key, a changed trusted comment: refused. */
    assert_int_equal(
        ms_verify(&pk, msg, sizeof(msg) - 2, sig, strlen(sig), &parsed, err, sizeof(err)), -1);
    struct ms_public other;
    struct ms_secret *sk2 = ms_secret_generate(&other);
    assert_int_equal(
        ms_verify(&other, msg, sizeof(msg) - 1, sig, strlen(sig), &parsed, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not with the expected key"));
    memcpy(other.id, pk.id, sizeof(pk.id)); /* the right id on the wrong key */
    assert_int_equal(
        ms_verify(&other, msg, sizeof(msg) - 1, sig, strlen(sig), &parsed, err, sizeof(err)), -1);
    char *forged = strdup(sig);
    char *v = strstr(forged, "version=7");
    v[8] = '8';
    assert_int_equal(
        ms_verify(&pk, msg, sizeof(msg) - 1, forged, strlen(forged), &parsed, err, sizeof(err)),
        -1);
    assert_string_equal(err, "comment signature verification failed");
    /* Comments with line breaks are never signed. */
    assert_null(ms_sign(sk, msg, 3, "a\nb", "t"));
    assert_null(ms_sign(sk, msg, 3, "a", "t\r"));
    free(forged);
    free(sig);
    ms_secret_free(sk);
    ms_secret_free(sk2);
}

static void malformed_signatures(void **state)
{
    (void)state;
    struct ms_sig sig;
    char err[256];
    const char *bad[] = {
        "",
        "untrusted comment: x\n",
        "untrusted comment: x\nRUQ=\ntrusted comment: t\nAAAA\n",
        "no prefix\nRUQAAAAAAAAAAAAA\ntrusted comment: t\nAAAA\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ms_sig_parse(bad[i], strlen(bad[i]), &sig, err, sizeof(err)), -1);
    struct ms_public pk;
    struct ms_secret *sk = ms_secret_generate(&pk);
    char *good = ms_sign(sk, "x", 1, "u", "t");
    assert_int_equal(ms_sig_parse(good, strlen(good), &sig, err, sizeof(err)), 0);
    /* Anything after the four lines is refused. */
    char *longer = malloc(strlen(good) + 8);
    sprintf(longer, "%sextra\n", good);
    assert_int_equal(ms_sig_parse(longer, strlen(longer), &sig, err, sizeof(err)), -1);
    free(longer);
    free(good);
    ms_secret_free(sk);
}

static void key_files_round_trip(void **state)
{
    (void)state;
    char spath[128], ppath[128], epath[128], err[256];
    snprintf(spath, sizeof(spath), "%s/plain.key", dir);
    snprintf(ppath, sizeof(ppath), "%s/plain.pub", dir);
    snprintf(epath, sizeof(epath), "%s/enc.key", dir);
    struct ms_public pk, loaded;
    struct ms_secret *sk = ms_secret_generate(&pk);
    assert_int_equal(ms_secret_write(spath, sk, NULL, err, sizeof(err)), 0);
    assert_int_equal(ms_public_write(ppath, &pk, err, sizeof(err)), 0);
    /* Never replaces a file. */
    assert_int_equal(ms_secret_write(spath, sk, NULL, err, sizeof(err)), -1);
    assert_int_equal(ms_public_load(ppath, &loaded, err, sizeof(err)), 0);
    assert_memory_equal(&loaded, &pk, sizeof(pk));
    char b64[MS_PUBLIC_B64];
    ms_public_base64(&pk, b64);
    memset(&loaded, 0, sizeof(loaded));
    assert_int_equal(ms_public_load(b64, &loaded, err, sizeof(err)), 0);
    assert_memory_equal(&loaded, &pk, sizeof(pk));
    struct ms_secret *back = ms_secret_load(spath, NULL, err, sizeof(err));
    assert_non_null(back);
    assert_memory_equal(back, sk, sizeof(*sk));
    ms_secret_free(back);
    /* Encrypted with scrypt: the right password opens it, a wrong one or none does not. */
    assert_int_equal(ms_secret_write(epath, sk, "correct horse", err, sizeof(err)), 0);
    assert_null(ms_secret_load(epath, NULL, err, sizeof(err)));
    assert_null(ms_secret_load(epath, "wrong horse", err, sizeof(err)));
    assert_non_null(strstr(err, "wrong password"));
    back = ms_secret_load(epath, "correct horse", err, sizeof(err));
    assert_non_null(back);
    assert_memory_equal(back, sk, sizeof(*sk));
    ms_secret_free(back);
    ms_secret_free(sk);
    /* Not keys at all. */
    assert_int_equal(ms_public_parse("RWQ=", 4, &loaded, err, sizeof(err)), -1);
    assert_null(ms_secret_load(ppath, NULL, err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_and_verify),
        cmocka_unit_test(malformed_signatures),
        cmocka_unit_test(key_files_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
