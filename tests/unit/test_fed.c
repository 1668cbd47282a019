/* test_fed.c — the wire of federation (issue 22): distribution in the
 * signed header, the LESSONS type, roster region and peers, the
 * distribution rules, and the limits of the new frames. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ewh.pb-c.h"
#include "ewh/envelope.h"
#include "ewh/fed.h"
#include "ewh/frame.h"
#include "ewh/roster.h"

static ewh_secret_t *s_rs, *s_hr, *s_hub;
static ewh_roster_t *s_roster;

static void
s_setup(void)
{
    struct ewh_err err = {0};

    s_rs = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);
    s_hr = ewh_secret_generate(EWH_KIND_NODE, "HR", &err);
    s_hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    CHECK(s_rs != NULL && s_hr != NULL && s_hub != NULL);
    s_roster = ewh_roster_new(1);
    CHECK(s_roster != NULL);
    CHECK_OK(ewh_roster_put(s_roster, ewh_secret_pubid(s_rs), false, &err),
             &err);
    CHECK_OK(ewh_roster_put(s_roster, ewh_secret_pubid(s_hr), false, &err),
             &err);
}

static void
s_report(struct ewh_report *r, enum ewh_type type, enum ewh_level level,
         enum ewh_distribution d)
{
    struct ewh_err err = {0};

    memset(r, 0, sizeof(*r));
    randombytes_buf(r->id, sizeof(r->id));
    r->type = type;
    snprintf(r->origin, sizeof(r->origin), "RS");
    r->created_at = ewh_now();
    r->expires_at = r->created_at + EWH_LESSONS_EXPIRY_DAYS * 86400;
    r->level = level;
    r->tlp = EWH_TLP_GREEN;
    r->distribution = d;
    snprintf(r->category, sizeof(r->category), "disaster");
    snprintf(r->title, sizeof(r->title), "Flood response: what worked");
    CHECK_OK(ewh_report_set_body(r, "body", 4, &err), &err);
}

static int
s_seal(const struct ewh_report *r, uint8_t **env, size_t *len,
       struct ewh_err *err)
{
    const struct ewh_pubid *to[1] = {ewh_secret_pubid(s_hr)};

    return ewh_envelope_seal(r, to, 1, s_rs, NULL, env, len, err);
}

/* Rewrite env's header: distribution d, level lv; resign (as the origin)
 * or keep the old signature (as a hub that edits it would have to). */
static void
s_rewrite(const uint8_t *env, size_t len, int d, int lv, int resign,
          uint8_t **out, size_t *out_len)
{
    Ewh__Envelope *e = ewh__envelope__unpack(NULL, len, env);
    Ewh__EnvelopeBody *b;
    Ewh__Header *h;
    uint8_t *hb, *bb, sig[64];
    size_t hl, bl;
    struct ewh_err err = {0};
    ProtobufCBinaryData old_hdr, old_body, old_sig;

    CHECK(e != NULL);
    b = ewh__envelope_body__unpack(NULL, e->body.len, e->body.data);
    CHECK(b != NULL);
    h = ewh__header__unpack(NULL, b->header.len, b->header.data);
    CHECK(h != NULL);
    h->distribution = (Ewh__Distribution)d;
    h->level = (Ewh__Level)lv;
    hl = ewh__header__get_packed_size(h);
    hb = malloc(hl);
    ewh__header__pack(h, hb);
    old_hdr = b->header;
    b->header.data = hb;
    b->header.len = hl;
    bl = ewh__envelope_body__get_packed_size(b);
    bb = malloc(bl);
    ewh__envelope_body__pack(b, bb);
    b->header = old_hdr;
    old_body = e->body;
    old_sig = e->signature;
    e->body.data = bb;
    e->body.len = bl;
    if (resign) {
        CHECK_OK(ewh_sign(EWH_CTX_ENVELOPE, bb, bl, ewh_secret_sign_sk(s_rs),
                          sig, &err),
                 &err);
        e->signature.data = sig;
        e->signature.len = 64;
    }
    *out_len = ewh__envelope__get_packed_size(e);
    *out = malloc(*out_len);
    ewh__envelope__pack(e, *out);
    e->body = old_body;
    e->signature = old_sig;
    free(hb);
    free(bb);
    ewh__header__free_unpacked(h, NULL);
    ewh__envelope_body__free_unpacked(b, NULL);
    ewh__envelope__free_unpacked(e, NULL);
}

static void
test_distribution_in_signed_header(void)
{
    static const enum ewh_distribution ds[] = {
        EWH_DIST_REGION, EWH_DIST_CONNECTED, EWH_DIST_ALL};
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    uint8_t *env = NULL, *bad = NULL;
    size_t len = 0, blen = 0, i;

    for (i = 0; i < 3; i++) {
        s_report(&r, EWH_TYPE_ALERT, EWH_LEVEL_HIGH, ds[i]);
        CHECK_OK(s_seal(&r, &env, &len, &err), &err);
        CHECK_OK(ewh_envelope_verify(env, len, "RS", ewh_roster_lookup,
                                     s_roster, &hdr, &err),
                 &err);
        CHECK(hdr.distribution == ds[i]);
        CHECK_OK(ewh_envelope_open(env, len, s_hr, ewh_roster_lookup, s_roster,
                                   &got, &hdr, &err),
                 &err);
        CHECK(got.distribution == ds[i] && hdr.distribution == ds[i]);
        ewh_report_clear(&got);
        /* A hub that widens (or narrows) it breaks the origin's
         * signature: verify and open both refuse. */
        s_rewrite(env, len, (int)EWH_DIST_ALL - (int)ds[i] + (i == 1 ? 1 : 0),
                  EWH__LEVEL__LEVEL_HIGH, 0, &bad, &blen);
        CHECK_FAILS(ewh_envelope_verify(bad, blen, "RS", ewh_roster_lookup,
                                        s_roster, &hdr, &err),
                    &err, EWH_E_SIGNATURE, "");
        CHECK_FAILS(ewh_envelope_open(bad, blen, s_hr, ewh_roster_lookup,
                                      s_roster, &got, &hdr, &err),
                    &err, EWH_E_SIGNATURE, "");
        free(bad);
        free(env);
        ewh_report_clear(&r);
    }
    /* An unknown distribution value, even correctly signed, is refused. */
    s_report(&r, EWH_TYPE_ALERT, EWH_LEVEL_LOW, EWH_DIST_REGION);
    CHECK_OK(s_seal(&r, &env, &len, &err), &err);
    s_rewrite(env, len, 3, EWH__LEVEL__LEVEL_LOW, 1, &bad, &blen);
    CHECK_FAILS(ewh_envelope_verify(bad, blen, "RS", ewh_roster_lookup,
                                    s_roster, &hdr, &err),
                &err, EWH_E_INVALID, "bad distribution");
    free(bad);
    free(env);
    r.distribution = (enum ewh_distribution)3;
    CHECK_FAILS(s_seal(&r, &env, &len, &err), &err, EWH_E_INVALID,
                "bad distribution");
    ewh_report_clear(&r);
}

/* An envelope from a node before issue 22 has no field 13 in its header:
 * it still verifies and opens, as REGION. */
static void
test_old_envelope_is_region(void)
{
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    uint8_t *env = NULL;
    size_t len = 0;
    Ewh__Envelope *e;
    Ewh__EnvelopeBody *b;
    Ewh__Header *h;

    s_report(&r, EWH_TYPE_ALERT, EWH_LEVEL_MEDIUM, EWH_DIST_REGION);
    CHECK_OK(s_seal(&r, &env, &len, &err), &err);
    e = ewh__envelope__unpack(NULL, len, env);
    b = ewh__envelope_body__unpack(NULL, e->body.len, e->body.data);
    h = ewh__header__unpack(NULL, b->header.len, b->header.data);
    /* A REGION header packs to what an old sealer packed: proto3 writes
     * no field 13 for its default, so sizes (and bytes) agree. */
    CHECK(h->distribution == EWH__DISTRIBUTION__DIST_REGION);
    CHECK(ewh__header__get_packed_size(h) == b->header.len);
    ewh__header__free_unpacked(h, NULL);
    ewh__envelope_body__free_unpacked(b, NULL);
    ewh__envelope__free_unpacked(e, NULL);
    CHECK_OK(ewh_envelope_open(env, len, s_hr, ewh_roster_lookup, s_roster,
                               &got, &hdr, &err),
             &err);
    CHECK(hdr.distribution == EWH_DIST_REGION);
    ewh_report_clear(&got);
    free(env);
    ewh_report_clear(&r);
}

static void
test_lessons_type(void)
{
    struct ewh_report r, got;
    struct ewh_header hdr;
    struct ewh_err err = {0};
    uint8_t *env = NULL, *bad = NULL;
    size_t len = 0, blen = 0;

    CHECK(ewh_type_parse("lessons") == EWH_TYPE_LESSONS);
    CHECK(strcmp(ewh_type_name(EWH_TYPE_LESSONS), "lessons") == 0);
    s_report(&r, EWH_TYPE_LESSONS, EWH_LEVEL_MEDIUM, EWH_DIST_ALL);
    CHECK_OK(ewh_report_check(&r, &err), &err);
    CHECK_OK(s_seal(&r, &env, &len, &err), &err);
    CHECK_OK(ewh_envelope_open(env, len, s_hr, ewh_roster_lookup, s_roster,
                               &got, &hdr, &err),
             &err);
    CHECK(got.type == EWH_TYPE_LESSONS && hdr.type == EWH_TYPE_LESSONS);
    CHECK(got.level == EWH_LEVEL_MEDIUM);
    ewh_report_clear(&got);
    /* High concern is not a lesson: refused at sealing, and a header that
     * says so (signed by the origin) is refused by every verifier. */
    s_rewrite(env, len, EWH__DISTRIBUTION__DIST_ALL, EWH__LEVEL__LEVEL_HIGH, 1,
              &bad, &blen);
    CHECK_FAILS(ewh_envelope_verify(bad, blen, "RS", ewh_roster_lookup,
                                    s_roster, &hdr, &err),
                &err, EWH_E_INVALID, "lessons");
    free(bad);
    free(env);
    r.level = EWH_LEVEL_HIGH;
    CHECK_FAILS(ewh_report_check(&r, &err), &err, EWH_E_INVALID, "never high");
    CHECK_FAILS(s_seal(&r, &env, &len, &err), &err, EWH_E_INVALID,
                "never high");
    r.level = EWH_LEVEL_LOW;
    CHECK_OK(ewh_report_check(&r, &err), &err);
    r.n_refs = 1;
    CHECK_FAILS(ewh_report_check(&r, &err), &err, EWH_E_INVALID,
                "cannot reference");
    ewh_report_clear(&r);
}

static void
test_names(void)
{
    enum ewh_distribution d = EWH_DIST_ALL;

    CHECK(ewh_distribution_parse("region", &d) == 0 && d == EWH_DIST_REGION);
    CHECK(ewh_distribution_parse("Connected", &d) == 0 &&
          d == EWH_DIST_CONNECTED);
    CHECK(ewh_distribution_parse("all", &d) == 0 && d == EWH_DIST_ALL);
    CHECK(ewh_distribution_parse("world", &d) == -1 && d == EWH_DIST_ALL);
    CHECK(ewh_distribution_parse(NULL, &d) == -1);
    CHECK(strcmp(ewh_distribution_name(EWH_DIST_CONNECTED), "connected") == 0);
    CHECK(ewh_region_is_valid("nordic"));
    CHECK(ewh_region_is_valid("south-east-1"));
    CHECK(ewh_region_is_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    CHECK(!ewh_region_is_valid("abcdefghijklmnopqrstuvwxyz0123456"));
    CHECK(!ewh_region_is_valid(""));
    CHECK(!ewh_region_is_valid("Nordic"));
    CHECK(!ewh_region_is_valid("a b"));
    CHECK(!ewh_region_is_valid("a_b"));
    CHECK(!ewh_region_is_valid(NULL));
    CHECK(strcmp(ewh_errcode_name(EWH_E_DISTRIBUTION), "distribution") == 0);
    CHECK(!ewh_errcode_is_retryable(EWH_E_DISTRIBUTION));
}

/* The line A - B - C of the issue: A peers with B, B with C. */
static void
test_rules(void)
{
    const char *pa[] = {"a"}, *pab[] = {"a", "b"}, *pba[] = {"b", "a"};
    const char *pabc[] = {"a", "b", "c"};
    struct ewh_err err = {0};

    /* At A's hub, to A's own nodes: everything. */
    CHECK_OK(ewh_fed_may_enter(EWH_DIST_REGION, "a", pa, 1, "a", false, &err),
             &err);
    /* REGION never leaves A. */
    CHECK_FAILS(ewh_fed_may_enter(EWH_DIST_REGION, "a", pa, 1, "b", true, &err),
                &err, EWH_E_DISTRIBUTION, "distribution region");
    /* CONNECTED: A -> B yes; at B, B -> C no; C (not peered with A) no. */
    CHECK_OK(ewh_fed_may_enter(EWH_DIST_CONNECTED, "a", pa, 1, "b", true, &err),
             &err);
    CHECK_FAILS(
        ewh_fed_may_enter(EWH_DIST_CONNECTED, "a", pab, 2, "c", false, &err),
        &err, EWH_E_DISTRIBUTION, "not peered");
    CHECK_FAILS(
        ewh_fed_may_enter(EWH_DIST_CONNECTED, "a", pab, 2, "c", true, &err),
        &err, EWH_E_DISTRIBUTION, "already left");
    CHECK_FAILS(
        ewh_fed_may_enter(EWH_DIST_CONNECTED, "a", pa, 1, "c", false, &err),
        &err, EWH_E_DISTRIBUTION, "not peered");
    /* ALL: A -> B -> C, never back to A or B. */
    CHECK_OK(ewh_fed_may_enter(EWH_DIST_ALL, "a", pa, 1, "b", true, &err),
             &err);
    CHECK_OK(ewh_fed_may_enter(EWH_DIST_ALL, "a", pab, 2, "c", false, &err),
             &err);
    CHECK_FAILS(ewh_fed_may_enter(EWH_DIST_ALL, "a", pabc, 3, "a", true, &err),
                &err, EWH_E_DISTRIBUTION, "already on the path");
    CHECK_FAILS(ewh_fed_may_enter(EWH_DIST_ALL, "a", pab, 2, "b", true, &err),
                &err, EWH_E_DISTRIBUTION, "already on the path");
    /* A path that does not start at the origin's region is a lie. */
    CHECK_FAILS(ewh_fed_may_enter(EWH_DIST_ALL, "a", pba, 2, "c", false, &err),
                &err, EWH_E_DISTRIBUTION, "not at the origin");
    /* A recipient node knows no path: its region and its hub's peers. */
    CHECK_OK(ewh_fed_may_enter(EWH_DIST_REGION, "a", NULL, 0, "a", false, &err),
             &err);
    CHECK_FAILS(
        ewh_fed_may_enter(EWH_DIST_REGION, "a", NULL, 0, "b", true, &err), &err,
        EWH_E_DISTRIBUTION, "");
    CHECK_OK(
        ewh_fed_may_enter(EWH_DIST_CONNECTED, "a", NULL, 0, "b", true, &err),
        &err);
    CHECK_FAILS(
        ewh_fed_may_enter(EWH_DIST_CONNECTED, "a", NULL, 0, "c", false, &err),
        &err, EWH_E_DISTRIBUTION, "not peered");
    CHECK_OK(ewh_fed_may_enter(EWH_DIST_ALL, "a", NULL, 0, "c", false, &err),
             &err);
    CHECK_FAILS(ewh_fed_may_enter((enum ewh_distribution)7, "a", NULL, 0, "a",
                                  false, &err),
                &err, EWH_E_INVALID, "bad distribution");
}

static void
test_path_limits(void)
{
    static char names[EWH_MAX_FED_PATH + 1][8];
    const char *p[EWH_MAX_FED_PATH + 1];
    const char *dup[] = {"a", "b", "a"}, *bad[] = {"a", "B"};
    struct ewh_err err = {0};
    size_t i;

    for (i = 0; i <= EWH_MAX_FED_PATH; i++) {
        snprintf(names[i], sizeof(names[i]), "r%zu", i);
        p[i] = names[i];
    }
    CHECK_OK(ewh_fed_path_check(p, EWH_MAX_FED_PATH, &err), &err);
    CHECK_FAILS(ewh_fed_path_check(p, EWH_MAX_FED_PATH + 1, &err), &err,
                EWH_E_TOOBIG, "EWH_MAX_FED_PATH");
    CHECK_FAILS(ewh_fed_path_check(p, 0, &err), &err, EWH_E_INVALID, "empty");
    CHECK_FAILS(ewh_fed_path_check(dup, 3, &err), &err, EWH_E_INVALID, "twice");
    CHECK_FAILS(ewh_fed_path_check(bad, 2, &err), &err, EWH_E_INVALID,
                "bad region");
}

static void
test_roster_region_and_peers(void)
{
    const char *peers[] = {"west", "east"}, *self[] = {"nordic"};
    const char *dup[] = {"east", "east"}, *bad[] = {"East"};
    const char *many[EWH_MAX_FED_PEERS + 1];
    static char names[EWH_MAX_FED_PEERS + 1][8];
    struct ewh_err err = {0};
    ewh_roster_t *r = ewh_roster_new(3), *got;
    uint8_t *buf = NULL;
    size_t len = 0, i;

    CHECK(r != NULL);
    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(s_rs), false, &err), &err);
    /* No region set: the default, and nothing new on the wire. */
    CHECK(strcmp(ewh_roster_region(r), EWH_DEFAULT_REGION) == 0);
    CHECK_OK(ewh_roster_sign(r, s_hub, &buf, &len, &err), &err);
    got = ewh_roster_open(buf, len, ewh_secret_pubid(s_hub)->sign, &err);
    CHECK(got != NULL);
    CHECK(strcmp(ewh_roster_region(got), "region") == 0);
    CHECK(ewh_roster_peer_count(got) == 0);
    ewh_roster_destroy(&got);
    free(buf);

    CHECK_OK(ewh_roster_set_region(r, "nordic", &err), &err);
    CHECK_OK(ewh_roster_set_peers(r, peers, 2, &err), &err);
    CHECK(strcmp(ewh_roster_peer(r, 0), "east") == 0); /* sorted */
    CHECK_OK(ewh_roster_sign(r, s_hub, &buf, &len, &err), &err);
    got = ewh_roster_open(buf, len, ewh_secret_pubid(s_hub)->sign, &err);
    CHECK(got != NULL);
    CHECK(strcmp(ewh_roster_region(got), "nordic") == 0);
    CHECK(ewh_roster_peer_count(got) == 2);
    CHECK(strcmp(ewh_roster_peer(got, 0), "east") == 0);
    CHECK(strcmp(ewh_roster_peer(got, 1), "west") == 0);
    CHECK(ewh_roster_peer(got, 2) == NULL);
    CHECK(ewh_roster_has_peer(got, "west") && !ewh_roster_has_peer(got, "x"));
    ewh_roster_destroy(&got);
    free(buf);

    CHECK_FAILS(ewh_roster_set_region(r, "Nordic", &err), &err, EWH_E_INVALID,
                "bad region");
    CHECK(strcmp(ewh_roster_region(r), "nordic") == 0); /* unchanged */
    CHECK_FAILS(ewh_roster_set_peers(r, self, 1, &err), &err, EWH_E_INVALID,
                "itself");
    CHECK_FAILS(ewh_roster_set_peers(r, dup, 2, &err), &err, EWH_E_INVALID,
                "twice");
    CHECK_FAILS(ewh_roster_set_peers(r, bad, 1, &err), &err, EWH_E_INVALID,
                "bad peer");
    CHECK(ewh_roster_peer_count(r) == 2); /* unchanged */
    for (i = 0; i <= EWH_MAX_FED_PEERS; i++) {
        snprintf(names[i], sizeof(names[i]), "p%zu", i);
        many[i] = names[i];
    }
    CHECK_OK(ewh_roster_set_peers(r, many, EWH_MAX_FED_PEERS, &err), &err);
    CHECK_FAILS(ewh_roster_set_peers(r, many, EWH_MAX_FED_PEERS + 1, &err),
                &err, EWH_E_TOOBIG, "EWH_MAX_FED_PEERS");
    ewh_roster_destroy(&r);
}

/* A hub-signed roster whose region or peers are bad is refused whole. */
static void
test_roster_bad_region_refused(void)
{
    Ewh__RosterBody b = EWH__ROSTER_BODY__INIT;
    Ewh__SignedRoster sr = EWH__SIGNED_ROSTER__INIT;
    char *peers[] = {(char *)"x", (char *)"x"};
    uint8_t sig[64], *bb, *out;
    size_t bl, ol;
    struct ewh_err err = {0};
    int round;

    for (round = 0; round < 2; round++) {
        b.version = 2;
        b.issued_at = ewh_now();
        b.hub_sign.data = (uint8_t *)ewh_secret_pubid(s_hub)->sign;
        b.hub_sign.len = 32;
        b.region = round == 0 ? (char *)"Bad Region" : (char *)"ok";
        b.peers = peers;
        b.n_peers = round == 0 ? 0 : 2;
        bl = ewh__roster_body__get_packed_size(&b);
        bb = malloc(bl);
        ewh__roster_body__pack(&b, bb);
        CHECK_OK(ewh_sign(EWH_CTX_ROSTER, bb, bl, ewh_secret_sign_sk(s_hub),
                          sig, &err),
                 &err);
        sr.body.data = bb;
        sr.body.len = bl;
        sr.signature.data = sig;
        sr.signature.len = 64;
        ol = ewh__signed_roster__get_packed_size(&sr);
        out = malloc(ol);
        ewh__signed_roster__pack(&sr, out);
        CHECK(ewh_roster_open(out, ol, ewh_secret_pubid(s_hub)->sign, &err) ==
              NULL);
        CHECK(err.code == EWH_E_INVALID);
        free(out);
        free(bb);
    }
}

static int
s_decode(const Ewh__Frame *f, struct ewh_err *err)
{
    size_t len = ewh__frame__get_packed_size(f);
    uint8_t *buf = malloc(len + 1);
    ewh_frame_t *got = NULL;
    int rc;

    ewh__frame__pack(f, buf);
    rc = ewh_frame_decode(buf, len, &got, err);
    if (rc == 0)
        CHECK(got->msg_case == f->msg_case);
    ewh_frame_destroy(&got);
    free(buf);
    return rc;
}

static void
test_frames(void)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ForeignRoster fr = EWH__FOREIGN_ROSTER__INIT;
    Ewh__FedHello fh = EWH__FED_HELLO__INIT;
    Ewh__Transfer t = EWH__TRANSFER__INIT;
    Ewh__TransferAck ta = EWH__TRANSFER_ACK__INIT;
    static uint8_t big[EWH_MAX_ENVELOPE_BYTES + 1];
    uint8_t key[32] = {1}, id[16] = {2};
    char *path[] = {(char *)"nordic", (char *)"balkan"};
    char *wrong[] = {(char *)"balkan"};
    struct ewh_err err = {0};

    f.msg_case = EWH__FRAME__MSG_FOREIGN_ROSTER;
    f.foreign_roster = &fr;
    fr.region = (char *)"nordic";
    fr.signed_roster.data = big;
    fr.signed_roster.len = EWH_MAX_ROSTER_BYTES;
    fr.hub_key.data = key;
    fr.hub_key.len = 32;
    fr.path = path;
    fr.n_path = 2;
    CHECK_OK(s_decode(&f, &err), &err);
    fr.signed_roster.len = EWH_MAX_ROSTER_BYTES + 1;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_TOOBIG, "EWH_MAX_ROSTER_BYTES");
    fr.signed_roster.len = 10;
    fr.hub_key.len = 31;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "hub key");
    fr.hub_key.len = 32;
    fr.path = wrong;
    fr.n_path = 1;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "path does not");
    fr.n_path = 0;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "empty");
    fr.path = path;
    fr.n_path = 1;
    fr.region = (char *)"No Region";
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "bad region");

    f.msg_case = EWH__FRAME__MSG_FED_HELLO;
    f.fed_hello = &fh;
    fh.version = 1;
    fh.region = (char *)"nordic";
    fh.credit = EWH_MAX_CREDIT;
    CHECK_OK(s_decode(&f, &err), &err);
    fh.credit = EWH_MAX_CREDIT + 1;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "EWH_MAX_CREDIT");
    fh.credit = 0;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "credit");
    fh.credit = 1;
    fh.region = (char *)"";
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "bad region");

    f.msg_case = EWH__FRAME__MSG_TRANSFER;
    f.transfer = &t;
    t.seq = 9;
    t.envelope.data = big;
    t.envelope.len = EWH_MAX_ENVELOPE_BYTES;
    t.path = path;
    t.n_path = 2;
    CHECK_OK(s_decode(&f, &err), &err);
    t.envelope.len = EWH_MAX_ENVELOPE_BYTES + 1;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_TOOBIG, "ENVELOPE");
    t.envelope.len = 0;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_TOOBIG, "empty");
    t.envelope.len = 100;
    t.n_path = 0;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "empty region path");

    f.msg_case = EWH__FRAME__MSG_TRANSFER_ACK;
    f.transfer_ack = &ta;
    ta.seq = 9;
    ta.id.data = id;
    ta.id.len = 16;
    ta.status = EWH__ACK_STATUS__ACK_REFUSED;
    ta.code = EWH_E_DISTRIBUTION;
    ta.reason = (char *)"distribution region";
    CHECK_OK(s_decode(&f, &err), &err);
    ta.id.len = 15;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "transfer-ack");
    ta.id.len = 16;
    ta.status = EWH__ACK_STATUS__ACK_UNSPECIFIED;
    CHECK_FAILS(s_decode(&f, &err), &err, EWH_E_INVALID, "transfer-ack");
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    s_setup();
    RUN(test_names);
    RUN(test_distribution_in_signed_header);
    RUN(test_old_envelope_is_region);
    RUN(test_lessons_type);
    RUN(test_rules);
    RUN(test_path_limits);
    RUN(test_roster_region_and_peers);
    RUN(test_roster_bad_region_refused);
    RUN(test_frames);
    ewh_roster_destroy(&s_roster);
    ewh_secret_destroy(&s_rs);
    ewh_secret_destroy(&s_hr);
    ewh_secret_destroy(&s_hub);
    return 0;
}
