/* test_envelope.c — seal, verify and open with real crypto. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ewh.pb-c.h"
#include "ewh/envelope.h"
#include "ewh/roster.h"

#define N_NODES 14
static const char *s_cc[N_NODES] = {"RS", "HR", "BG", "BA", "ME", "MK", "AL",
                                    "SI", "RO", "GR", "TR", "MD", "HU", "CY"};
static ewh_secret_t *s_sec[N_NODES];
static ewh_roster_t *s_roster;

static void
s_setup(void)
{
    struct ewh_err err = {0};
    int i;

    s_roster = ewh_roster_new(1);
    CHECK(s_roster != NULL);
    for (i = 0; i < N_NODES; i++) {
        s_sec[i] = ewh_secret_generate(EWH_KIND_NODE, s_cc[i], &err);
        CHECK(s_sec[i] != NULL);
        CHECK_OK(
            ewh_roster_put(s_roster, ewh_secret_pubid(s_sec[i]), false, &err),
            &err);
    }
}

static void
s_report(struct ewh_report *r, const char *origin, const char *body)
{
    struct ewh_err err = {0};

    memset(r, 0, sizeof(*r));
    randombytes_buf(r->id, sizeof(r->id));
    r->type = EWH_TYPE_ALERT;
    snprintf(r->origin, sizeof(r->origin), "%s", origin);
    snprintf(r->author, sizeof(r->author), "analyst one");
    r->created_at = ewh_now();
    r->expires_at = r->created_at + 3600;
    r->level = EWH_LEVEL_HIGH;
    snprintf(r->category, sizeof(r->category), "border security");
    r->tlp = EWH_TLP_AMBER;
    snprintf(r->title, sizeof(r->title), "Armed group massing at crossing");
    CHECK_OK(ewh_report_set_body(r, body, strlen(body), &err), &err);
}

/* Seal a report from node `from` to nodes idx[0..n). */
static void
s_seal(int from, const int *idx, size_t n, const struct ewh_report *r,
       uint8_t **env, size_t *len)
{
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS + 1];
    struct ewh_err err = {0};
    size_t i;

    for (i = 0; i < n; i++)
        to[i] = ewh_secret_pubid(s_sec[idx[i]]);
    CHECK_OK(ewh_envelope_seal(r, to, n, s_sec[from], NULL, env, len, &err),
             &err);
}

static void
s_roundtrip(size_t n)
{
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    int idx[EWH_MAX_RECIPIENTS];
    uint8_t *env = NULL;
    size_t len = 0, i;
    const char *body = "Multi-line body.\nSecond line: ünïcödé ✓.";

    for (i = 0; i < n; i++)
        idx[i] = (int)i + 1;
    s_report(&r, "RS", body);
    s_seal(0, idx, n, &r, &env, &len);

    /* The hub verifies the header and signature without any secret. */
    CHECK_OK(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                 &hdr, &err),
             &err);
    CHECK(hdr.n_recipients == n);
    CHECK(memcmp(hdr.id, r.id, EWH_ID_BYTES) == 0);
    CHECK(hdr.level == EWH_LEVEL_HIGH);
    CHECK(strcmp(hdr.origin, "RS") == 0);

    /* Every recipient, and the origin itself, opens it. */
    for (i = 0; i <= n; i++) {
        int who = i < n ? idx[i] : 0;
        CHECK_OK(ewh_envelope_open(env, len, s_sec[who], ewh_roster_lookup,
                                   s_roster, &got, NULL, &err),
                 &err);
        CHECK(strcmp(got.title, r.title) == 0);
        CHECK(got.body_len == strlen(body));
        CHECK(memcmp(got.body, body, got.body_len) == 0);
        CHECK(strcmp(got.category, r.category) == 0);
        CHECK(got.tlp == EWH_TLP_AMBER && got.level == EWH_LEVEL_HIGH);
        CHECK(got.expires_at == r.expires_at);
        ewh_report_clear(&got);
    }
    /* A node that is not addressed cannot open it. */
    CHECK_FAILS(ewh_envelope_open(env, len, s_sec[N_NODES - 1],
                                  ewh_roster_lookup, s_roster, &got, NULL,
                                  &err),
                &err, EWH_E_NOTFORME, "not addressed");
    free(env);
    ewh_report_clear(&r);
}

static void
test_roundtrip_1(void)
{
    s_roundtrip(1);
}

static void
test_roundtrip_3(void)
{
    s_roundtrip(3);
}

static void
test_roundtrip_12(void)
{
    s_roundtrip(12);
}

static void
test_wrapcache_same_result(void)
{
    const struct ewh_pubid *to[2] = {ewh_secret_pubid(s_sec[1]),
                                     ewh_secret_pubid(s_sec[2])};
    ewh_wrapcache_t *c = ewh_wrapcache_new();
    struct ewh_report r, got;
    struct ewh_err err = {0};
    uint8_t *env;
    size_t len;
    int k;

    CHECK(c != NULL);
    for (k = 0; k < 3; k++) {
        s_report(&r, "RS", "cached pair keys");
        CHECK_OK(ewh_envelope_seal(&r, to, 2, s_sec[0], c, &env, &len, &err),
                 &err);
        CHECK_OK(ewh_envelope_open(env, len, s_sec[2], ewh_roster_lookup,
                                   s_roster, &got, NULL, &err),
                 &err);
        ewh_report_clear(&got);
        ewh_report_clear(&r);
        free(env);
    }
    ewh_wrapcache_destroy(&c);
    CHECK(c == NULL);
}

static void
test_flip_every_byte(void)
{
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    int idx[3] = {1, 2, 3};
    uint8_t *env, *copy;
    size_t len, i;
    int b;

    s_report(&r, "RS", "flip me");
    s_seal(0, idx, 3, &r, &env, &len);
    copy = malloc(len);
    for (i = 0; i < len; i++) {
        for (b = 0; b < 2; b++) {
            memcpy(copy, env, len);
            copy[i] ^= b == 0 ? 0x01 : 0x80;
            if (ewh_envelope_verify(copy, len, "RS", ewh_roster_lookup,
                                    s_roster, &hdr, &err) == 0) {
                fprintf(stderr, "verify accepted a flip at %zu\n", i);
                exit(1);
            }
            if (ewh_envelope_open(copy, len, s_sec[1], ewh_roster_lookup,
                                  s_roster, &got, NULL, &err) == 0) {
                fprintf(stderr, "open accepted a flip at %zu\n", i);
                exit(1);
            }
        }
    }
    fprintf(stderr, "    %zu positions x 2 flips refused\n", len);
    free(copy);
    free(env);
    ewh_report_clear(&r);
}

static void
test_truncate_every_length(void)
{
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    int idx[2] = {1, 2};
    uint8_t *env, *copy;
    size_t len, i;

    s_report(&r, "RS", "truncate me");
    s_seal(0, idx, 2, &r, &env, &len);
    for (i = 0; i < len; i++) {
        /* A fresh heap copy of exactly i bytes, so ASan sees overreads. */
        copy = malloc(i ? i : 1);
        memcpy(copy, env, i);
        CHECK(ewh_envelope_verify(copy, i, "RS", ewh_roster_lookup, s_roster,
                                  &hdr, &err) != 0);
        CHECK(ewh_envelope_open(copy, i, s_sec[1], ewh_roster_lookup, s_roster,
                                &got, NULL, &err) != 0);
        free(copy);
    }
    free(env);
    ewh_report_clear(&r);
}

static void
test_origin_spoofing(void)
{
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    int idx[1] = {2};
    const struct ewh_pubid *to[1] = {ewh_secret_pubid(s_sec[2])};
    ewh_secret_t *impostor;
    uint8_t *env;
    size_t len;

    /* HR signs its own report, but arrives on RS's authenticated link. */
    s_report(&r, "HR", "from HR");
    s_seal(1, idx, 1, &r, &env, &len);
    CHECK_FAILS(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                    &hdr, &err),
                &err, EWH_E_ORIGIN, "differs from authenticated country RS");
    free(env);
    ewh_report_clear(&r);

    /* Someone with other keys claims to be RS: the signature is checked
     * against RS's enrolled key and fails, at the hub and at recipients. */
    impostor = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    CHECK(impostor != NULL);
    s_report(&r, "RS", "forged");
    CHECK_OK(ewh_envelope_seal(&r, to, 1, impostor, NULL, &env, &len, &err),
             &err);
    CHECK_FAILS(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                    &hdr, &err),
                &err, EWH_E_SIGNATURE, "bad signature");
    CHECK_FAILS(ewh_envelope_open(env, len, s_sec[2], ewh_roster_lookup,
                                  s_roster, &got, NULL, &err),
                &err, EWH_E_SIGNATURE, "bad signature");
    /* And the node cannot seal a report in another country's name. */
    snprintf(r.origin, sizeof(r.origin), "HR");
    free(env);
    CHECK_FAILS(ewh_envelope_seal(&r, to, 1, s_sec[0], NULL, &env, &len, &err),
                &err, EWH_E_ORIGIN, "not this node");
    ewh_report_clear(&r);
    ewh_secret_destroy(&impostor);
}

static void
test_revoked_origin_refused(void)
{
    struct ewh_report r;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    int idx[1] = {1};
    uint8_t *env;
    size_t len;
    ewh_roster_t *ro = ewh_roster_new(2);

    CHECK_OK(ewh_roster_put(ro, ewh_secret_pubid(s_sec[0]), true, &err), &err);
    CHECK_OK(ewh_roster_put(ro, ewh_secret_pubid(s_sec[1]), false, &err), &err);
    s_report(&r, "RS", "revoked");
    s_seal(0, idx, 1, &r, &env, &len);
    CHECK_FAILS(
        ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, ro, &hdr, &err),
        &err, EWH_E_UNKNOWN, "revoked");
    free(env);
    ewh_report_clear(&r);
    ewh_roster_destroy(&ro);
}

/* Seal-side limits: at max accepted, at max + 1 refused, naming the limit. */
static void
test_seal_limits(void)
{
    struct ewh_report r;
    struct ewh_err err = {0};
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS + 1];
    ewh_secret_t *extra[EWH_MAX_RECIPIENTS + 1];
    char cc[3];
    uint8_t *env;
    size_t len, i, n = 0;
    char *big;

    /* Recipients: 32 and 33 distinct valid countries. */
    for (i = 0; n < EWH_MAX_RECIPIENTS + 1; i++) {
        cc[0] = (char)('A' + (i / 26) % 26);
        cc[1] = (char)('A' + i % 26);
        cc[2] = 0;
        if (!ewh_country_is_valid(cc) || strcmp(cc, "RS") == 0)
            continue;
        extra[n] = ewh_secret_generate(EWH_KIND_NODE, cc, &err);
        CHECK(extra[n] != NULL);
        to[n] = ewh_secret_pubid(extra[n]);
        n++;
    }
    s_report(&r, "RS", "limits");
    CHECK_OK(ewh_envelope_seal(&r, to, EWH_MAX_RECIPIENTS, s_sec[0], NULL, &env,
                               &len, &err),
             &err);
    free(env);
    CHECK_FAILS(ewh_envelope_seal(&r, to, EWH_MAX_RECIPIENTS + 1, s_sec[0],
                                  NULL, &env, &len, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_RECIPIENTS");

    /* Title. */
    memset(r.title, 'T', EWH_MAX_TITLE_BYTES);
    r.title[EWH_MAX_TITLE_BYTES] = 0;
    CHECK_OK(ewh_report_check(&r, &err), &err);
    /* max + 1 cannot be represented in the struct; check via body/refs. */

    /* Body. */
    big = malloc(EWH_MAX_BODY_BYTES + 1);
    memset(big, 'b', EWH_MAX_BODY_BYTES + 1);
    CHECK_OK(ewh_report_set_body(&r, big, EWH_MAX_BODY_BYTES, &err), &err);
    CHECK_OK(ewh_envelope_seal(&r, to, 1, s_sec[0], NULL, &env, &len, &err),
             &err);
    free(env);
    CHECK_FAILS(ewh_report_set_body(&r, big, EWH_MAX_BODY_BYTES + 1, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_BODY_BYTES");
    free(big);

    /* References. */
    r.type = EWH_TYPE_UPDATE;
    r.n_refs = EWH_MAX_REFERENCES;
    CHECK_OK(ewh_report_check(&r, &err), &err);
    r.n_refs = EWH_MAX_REFERENCES + 1;
    CHECK_FAILS(ewh_report_check(&r, &err), &err, EWH_E_TOOBIG,
                "EWH_MAX_REFERENCES");
    r.n_refs = 0;
    CHECK_FAILS(ewh_report_check(&r, &err), &err, EWH_E_INVALID,
                "must reference");

    /* Expiry. */
    r.type = EWH_TYPE_ALERT;
    r.expires_at = r.created_at + EWH_MAX_EXPIRY_S;
    CHECK_OK(ewh_report_check(&r, &err), &err);
    r.expires_at = r.created_at + EWH_MAX_EXPIRY_S + 1;
    CHECK_FAILS(ewh_report_check(&r, &err), &err, EWH_E_INVALID,
                "EWH_MAX_EXPIRY_S");

    /* Text that is not UTF-8. */
    r.expires_at = 0;
    snprintf(r.title, sizeof(r.title), "bad \xff title");
    CHECK_FAILS(ewh_report_check(&r, &err), &err, EWH_E_INVALID, "UTF-8");

    ewh_report_clear(&r);
    for (i = 0; i < n; i++)
        ewh_secret_destroy(&extra[i]);
}

/* Build an envelope by hand, with n recipients and n_refs references,
 * correctly signed by RS: the verifier's limits must hold on their own. */
static void
s_raw(size_t n, size_t n_refs, uint8_t **out, size_t *out_len)
{
    Ewh__Header h = EWH__HEADER__INIT;
    Ewh__EnvelopeBody b = EWH__ENVELOPE_BODY__INIT;
    Ewh__Envelope e = EWH__ENVELOPE__INIT;
    static char names[EWH_MAX_RECIPIENTS + 2][3];
    char *rc[EWH_MAX_RECIPIENTS + 2];
    Ewh__WrappedKey wk[EWH_MAX_RECIPIENTS + 2], *wkp[EWH_MAX_RECIPIENTS + 2];
    ProtobufCBinaryData refs[EWH_MAX_REFERENCES + 2];
    uint8_t id[16], nonce[24], ct[64], wrapped[48], sig[64], refid[16];
    uint8_t *hb, *bb;
    size_t hl, bl, i, k = 0;
    struct ewh_err err = {0};

    randombytes_buf(id, 16);
    for (i = 0; k < n; i++) {
        char cc[3] = {(char)('A' + i / 26), (char)('A' + i % 26), 0};
        if (!ewh_country_is_valid(cc) || strcmp(cc, "RS") == 0)
            continue;
        memcpy(names[k], cc, 3);
        rc[k] = names[k];
        k++;
    }
    for (i = 0; i < n_refs; i++) {
        refs[i].data = refid;
        refs[i].len = 16;
    }
    h.version = 1;
    h.id.data = id;
    h.id.len = 16;
    h.origin = (char *)"RS";
    h.level = EWH__LEVEL__LEVEL_LOW;
    h.created_at = ewh_now();
    h.recipients = rc;
    h.n_recipients = n;
    h.type =
        n_refs ? EWH__REPORT_TYPE__TYPE_UPDATE : EWH__REPORT_TYPE__TYPE_ALERT;
    h.references = refs;
    h.n_references = n_refs;
    hl = ewh__header__get_packed_size(&h);
    hb = malloc(hl);
    ewh__header__pack(&h, hb);
    for (i = 0; i <= n; i++) {
        ewh__wrapped_key__init(&wk[i]);
        wk[i].recipient = i < n ? rc[i] : (char *)"RS";
        wk[i].nonce.data = nonce;
        wk[i].nonce.len = 24;
        wk[i].wrapped.data = wrapped;
        wk[i].wrapped.len = 48;
        wkp[i] = &wk[i];
    }
    b.header.data = hb;
    b.header.len = hl;
    b.nonce.data = nonce;
    b.nonce.len = 24;
    b.ciphertext.data = ct;
    b.ciphertext.len = sizeof(ct);
    b.keys = wkp;
    b.n_keys = n + 1;
    bl = ewh__envelope_body__get_packed_size(&b);
    bb = malloc(bl);
    ewh__envelope_body__pack(&b, bb);
    CHECK_OK(ewh_sign(EWH_CTX_ENVELOPE, bb, bl, ewh_secret_sign_sk(s_sec[0]),
                      sig, &err),
             &err);
    e.body.data = bb;
    e.body.len = bl;
    e.signature.data = sig;
    e.signature.len = 64;
    *out_len = ewh__envelope__get_packed_size(&e);
    *out = malloc(*out_len);
    ewh__envelope__pack(&e, *out);
    free(hb);
    free(bb);
}

static void
test_verify_limits(void)
{
    struct ewh_header hdr;
    struct ewh_err err = {0};
    uint8_t *env, *big;
    size_t len;

    s_raw(EWH_MAX_RECIPIENTS, 0, &env, &len);
    CHECK_OK(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                 &hdr, &err),
             &err);
    free(env);
    s_raw(EWH_MAX_RECIPIENTS + 1, 0, &env, &len);
    CHECK_FAILS(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                    &hdr, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_RECIPIENTS");
    free(env);
    s_raw(2, EWH_MAX_REFERENCES, &env, &len);
    CHECK_OK(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                 &hdr, &err),
             &err);
    free(env);
    s_raw(2, EWH_MAX_REFERENCES + 1, &env, &len);
    CHECK_FAILS(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup, s_roster,
                                    &hdr, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_REFERENCES");
    free(env);

    big = calloc(1, EWH_MAX_ENVELOPE_BYTES + 1);
    CHECK_FAILS(ewh_envelope_verify(big, EWH_MAX_ENVELOPE_BYTES + 1, "RS",
                                    ewh_roster_lookup, s_roster, &hdr, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_ENVELOPE_BYTES");
    /* At the limit, the size is accepted and the content refused. */
    CHECK_FAILS(ewh_envelope_verify(big, EWH_MAX_ENVELOPE_BYTES, "RS",
                                    ewh_roster_lookup, s_roster, &hdr, &err),
                &err, EWH_E_INVALID, "malformed");
    free(big);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    s_setup();
    RUN(test_roundtrip_1);
    RUN(test_roundtrip_3);
    RUN(test_roundtrip_12);
    RUN(test_wrapcache_same_result);
    RUN(test_flip_every_byte);
    RUN(test_truncate_every_length);
    RUN(test_origin_spoofing);
    RUN(test_revoked_origin_refused);
    RUN(test_seal_limits);
    RUN(test_verify_limits);
    for (int i = 0; i < N_NODES; i++)
        ewh_secret_destroy(&s_sec[i]);
    ewh_roster_destroy(&s_roster);
    return 0;
}
