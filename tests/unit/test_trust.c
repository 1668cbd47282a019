/* test_trust.c — key continuity and the roster chain (docs/trust.md):
 * endorsements (valid, each byte flipped, wrong signer, in the public
 * identity file and in the roster), the hash chain of rosters (links,
 * each byte of the link flipped, a restart), and the node's decisions on
 * a real store (TOFU, endorsed, unendorsed, a key that came unendorsed
 * never trusted again once replaced). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "store.h"
#include "trust.h"
#include "ewh/identity.h"
#include "ewh/roster.h"

static ewh_secret_t *
s_gen(const char *cc)
{
    struct ewh_err err = {0};
    ewh_secret_t *s = ewh_secret_generate(EWH_KIND_NODE, cc, &err);

    CHECK(s != NULL);
    return s;
}

static void
test_endorse_valid_and_flipped(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *a = s_gen("HR"), *b = s_gen("HR");
    struct ewh_pubid id = *ewh_secret_pubid(b), t;
    uint8_t *fields[] = {id.curve, id.sign, id.box, id.endorsed_by,
                         id.endorsement};
    size_t lens[] = {32, 32, 32, 32, 64};
    size_t f, i;

    CHECK(!id.endorsed);
    CHECK_FAILS(ewh_pubid_endorsement_check(&id, NULL, &err), &err,
                EWH_E_SIGNATURE, "not endorsed");
    CHECK_OK(ewh_pubid_endorse(&id, a, &err), &err);
    CHECK(id.endorsed);
    CHECK(memcmp(id.endorsed_by, ewh_secret_pubid(a)->sign, 32) == 0);
    CHECK_OK(ewh_pubid_endorsement_check(&id, NULL, &err), &err);
    CHECK_OK(ewh_pubid_endorsement_check(&id, ewh_secret_pubid(a)->sign, &err),
             &err);
    /* Every byte of the keys, the endorser and the signature. */
    for (f = 0; f < sizeof(lens) / sizeof(lens[0]); f++)
        for (i = 0; i < lens[f]; i++) {
            t = id;
            fields[f] = f == 0   ? t.curve
                        : f == 1 ? t.sign
                        : f == 2 ? t.box
                        : f == 3 ? t.endorsed_by
                                 : t.endorsement;
            fields[f][i] ^= 0x40;
            CHECK(ewh_pubid_endorsement_check(&t, NULL, &err) != 0);
            CHECK(err.code == EWH_E_SIGNATURE);
        }
    /* the country is signed too */
    t = id;
    memcpy(t.country, "RS", 3);
    CHECK(ewh_pubid_endorsement_check(&t, NULL, &err) != 0);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
}

static void
test_endorse_wrong_signer(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *a = s_gen("HR"), *b = s_gen("HR"), *c = s_gen("HR");
    ewh_secret_t *rs = s_gen("RS");
    struct ewh_pubid id = *ewh_secret_pubid(b);

    /* c endorses b; the node holds a: not a chain from a. */
    CHECK_OK(ewh_pubid_endorse(&id, c, &err), &err);
    CHECK_OK(ewh_pubid_endorsement_check(&id, NULL, &err), &err);
    CHECK_FAILS(
        ewh_pubid_endorsement_check(&id, ewh_secret_pubid(a)->sign, &err), &err,
        EWH_E_SIGNATURE, "another key");
    /* another country's key endorses nothing of HR's; no self-endorsing */
    id = *ewh_secret_pubid(b);
    CHECK_FAILS(ewh_pubid_endorse(&id, rs, &err), &err, EWH_E_INVALID,
                "its own");
    CHECK_FAILS(ewh_pubid_endorse(&id, b, &err), &err, EWH_E_INVALID, "itself");
    /* a hand-made self-endorsement does not verify as one */
    id = *ewh_secret_pubid(b);
    memcpy(id.endorsed_by, id.sign, 32);
    id.endorsed = true;
    CHECK(ewh_pubid_endorsement_check(&id, NULL, &err) != 0);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
    ewh_secret_destroy(&c);
    ewh_secret_destroy(&rs);
}

static void
test_pubid_file(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *a = s_gen("HR"), *b = s_gen("HR");
    struct ewh_pubid id = *ewh_secret_pubid(b), got;
    char buf[EWH_MAX_PUBID_BYTES], *p;
    int n;

    CHECK_OK(ewh_pubid_endorse(&id, a, &err), &err);
    CHECK((n = ewh_pubid_format(&id, buf, sizeof(buf), &err)) > 0);
    CHECK(strstr(buf, "endorsed_by = ") != NULL);
    CHECK_OK(ewh_pubid_parse(buf, (size_t)n, &got, &err), &err);
    CHECK(got.endorsed && ewh_pubid_equal(&got, &id));
    CHECK(memcmp(got.endorsement, id.endorsement, 64) == 0);
    /* a changed endorsement digit: refused, not read as unendorsed */
    p = strstr(buf, "endorsement = ") + strlen("endorsement = ");
    *p = *p == '0' ? '1' : '0';
    CHECK_FAILS(ewh_pubid_parse(buf, (size_t)n, &got, &err), &err,
                EWH_E_SIGNATURE, "does not verify");
    /* one line without the other */
    CHECK((n = ewh_pubid_format(&id, buf, sizeof(buf), &err)) > 0);
    p = strstr(buf, "endorsement = ");
    *p = '\0';
    CHECK_FAILS(ewh_pubid_parse(buf, strlen(buf), &got, &err), &err,
                EWH_E_INVALID, "without the other");
    /* an unendorsed file is as before */
    CHECK((n = ewh_pubid_format(ewh_secret_pubid(a), buf, sizeof(buf), &err)) >
          0);
    CHECK(strstr(buf, "endorse") == NULL);
    CHECK_OK(ewh_pubid_parse(buf, (size_t)n, &got, &err), &err);
    CHECK(!got.endorsed);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
}

/* Sign r with hub and open it again (the hash is known after open). */
static ewh_roster_t *
s_cycle(const ewh_roster_t *r, const ewh_secret_t *hub, uint8_t **buf,
        size_t *len)
{
    struct ewh_err err = {0};
    ewh_roster_t *o;

    CHECK_OK(ewh_roster_sign(r, hub, buf, len, &err), &err);
    o = ewh_roster_open(*buf, *len, ewh_secret_pubid(hub)->sign, &err);
    if (o == NULL)
        fprintf(stderr, "open: %s\n", err.reason);
    CHECK(o != NULL);
    return o;
}

static void
test_roster_endorsement_and_chain(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *a = s_gen("HR"), *b = s_gen("HR"), *rs = s_gen("RS");
    struct ewh_pubid nb = *ewh_secret_pubid(b), bad;
    ewh_roster_t *r1 = ewh_roster_new(1), *r2 = ewh_roster_new(2), *o1, *o2;
    ewh_roster_t *t;
    uint8_t *b1 = NULL, *b2 = NULL, *bb = NULL, ph[32];
    size_t l1 = 0, l2 = 0, lb = 0, i;
    uint64_t pv = 0;

    CHECK(hub != NULL && r1 != NULL && r2 != NULL);
    CHECK_OK(ewh_roster_put(r1, ewh_secret_pubid(a), false, &err), &err);
    CHECK_OK(ewh_roster_put(r1, ewh_secret_pubid(rs), false, &err), &err);
    o1 = s_cycle(r1, hub, &b1, &l1);
    CHECK(ewh_roster_prev(o1, NULL) == NULL); /* the chain's start */
    CHECK(ewh_roster_hash(o1) != NULL && ewh_roster_hash(r1) == NULL);
    CHECK_OK(node_trust_chain_check(o1, NULL, &err), &err);

    CHECK_OK(ewh_pubid_endorse(&nb, a, &err), &err);
    CHECK_OK(ewh_roster_put(r2, &nb, false, &err), &err);
    CHECK_OK(ewh_roster_put(r2, ewh_secret_pubid(rs), false, &err), &err);
    ewh_roster_set_prev(r2, 1, ewh_roster_hash(o1));
    o2 = s_cycle(r2, hub, &b2, &l2);
    CHECK(ewh_roster_find(o2, "HR", NULL)->endorsed);
    CHECK_OK(ewh_pubid_endorsement_check(ewh_roster_find(o2, "HR", NULL),
                                         ewh_secret_pubid(a)->sign, &err),
             &err);
    CHECK(ewh_roster_prev(o2, &pv) != NULL && pv == 1);
    CHECK(ewh_roster_links(o2, o1));
    CHECK(!ewh_roster_links(o1, o2));
    CHECK_OK(node_trust_chain_check(o2, o1, &err), &err);
    /* each byte of the link flipped: the chain does not link */
    for (i = 0; i < 32; i++) {
        memcpy(ph, ewh_roster_hash(o1), 32);
        ph[i] ^= 0x01;
        ewh_roster_set_prev(r2, 1, ph);
        t = s_cycle(r2, hub, &bb, &lb);
        CHECK(!ewh_roster_links(t, o1));
        CHECK_FAILS(node_trust_chain_check(t, o1, &err), &err, EWH_E_SIGNATURE,
                    "does not link");
        ewh_roster_destroy(&t);
        free(bb);
        bb = NULL;
    }
    /* a restart of the chain after it began is refused */
    ewh_roster_set_prev(r2, 0, NULL);
    t = s_cycle(r2, hub, &bb, &lb);
    CHECK_FAILS(node_trust_chain_check(t, o2, &err), &err, EWH_E_SIGNATURE,
                "names no previous");
    ewh_roster_destroy(&t);
    free(bb);
    bb = NULL;
    /* every byte of the signed roster flipped: not opened */
    for (i = 0; i < l2; i++) {
        b2[i] ^= 0x20;
        t = ewh_roster_open(b2, l2, ewh_secret_pubid(hub)->sign, &err);
        CHECK(t == NULL);
        b2[i] ^= 0x20;
    }
    /* a hub-signed entry whose endorsement does not verify: refused */
    bad = nb;
    bad.endorsement[5] ^= 1;
    CHECK_OK(ewh_roster_put(r2, &bad, false, &err), &err);
    CHECK_OK(ewh_roster_sign(r2, hub, &bb, &lb, &err), &err);
    CHECK(ewh_roster_open(bb, lb, ewh_secret_pubid(hub)->sign, &err) == NULL);
    CHECK(err.code == EWH_E_SIGNATURE);
    free(bb);
    free(b1);
    free(b2);
    ewh_roster_destroy(&o1);
    ewh_roster_destroy(&o2);
    ewh_roster_destroy(&r1);
    ewh_roster_destroy(&r2);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
    ewh_secret_destroy(&rs);
}

/* Apply a roster of these HR keys (and RS) to the store as a node would. */
static void
s_apply(node_store_t *st, const ewh_secret_t *hub, uint64_t v,
        const struct ewh_pubid *hr, ewh_roster_t **held)
{
    struct ewh_err err = {0};
    ewh_roster_t *r = ewh_roster_new(v), *o;
    uint8_t *buf = NULL;
    size_t len = 0;

    CHECK_OK(ewh_roster_put(r, hr, false, &err), &err);
    o = s_cycle(r, hub, &buf, &len);
    CHECK_OK(node_store_begin(st, &err), &err);
    CHECK_OK(node_trust_on_roster(st, "RS", o, *held, buf, len, &err), &err);
    CHECK_OK(node_store_commit(st, &err), &err);
    ewh_roster_destroy(held);
    *held = o;
    ewh_roster_destroy(&r);
    free(buf);
}

static size_t
s_trusted(node_store_t *st, const struct ewh_pubid *want)
{
    struct ewh_err err = {0};
    struct ewh_pubid ids[NODE_TRUST_HISTORY];
    size_t n = 0, i, hit = 0;

    CHECK_OK(
        node_store_keys_trusted(st, "HR", ids, NODE_TRUST_HISTORY, &n, &err),
        &err);
    for (i = 0; i < n; i++)
        hit += memcmp(ids[i].sign, want->sign, 32) == 0;
    return hit;
}

static void
test_node_decisions(void)
{
    struct ewh_err err = {0};
    char dir[] = "/tmp/ewh-trust-XXXXXX", path[64], fp[EWH_FINGERPRINT_CHARS];
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *a = s_gen("HR"), *b = s_gen("HR"), *x = s_gen("HR");
    struct ewh_pubid pa = *ewh_secret_pubid(a), pb = *ewh_secret_pubid(b);
    struct ewh_pubid px = *ewh_secret_pubid(x);
    ewh_roster_t *held = NULL;
    node_store_t *st;
    struct node_trust t;
    bool ok, warn;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/store.db", dir);
    CHECK((st = node_store_open(path, true, &err)) != NULL);
    /* the first roster: trusted on first use */
    s_apply(st, hub, 1, &pa, &held);
    CHECK_OK(node_store_trust_get(st, "HR", &t, &err), &err);
    CHECK(t.verified && strcmp(t.why, "tofu") == 0);
    /* an endorsed re-key: followed, still verified */
    CHECK_OK(ewh_pubid_endorse(&pb, a, &err), &err);
    s_apply(st, hub, 2, &pb, &held);
    CHECK_OK(node_store_trust_get(st, "HR", &t, &err), &err);
    CHECK(t.verified && strcmp(t.why, "endorsed") == 0);
    CHECK(s_trusted(st, &pa) == 1 && s_trusted(st, &pb) == 1);
    /* an impostor (endorsed by a key that is not the one held) */
    CHECK_OK(ewh_pubid_endorse(&px, a, &err), &err);
    s_apply(st, hub, 3, &px, &held);
    CHECK_OK(node_store_trust_get(st, "HR", &t, &err), &err);
    CHECK(!t.verified && strcmp(t.why, "unendorsed") == 0);
    CHECK(s_trusted(st, &px) == 0);
    CHECK_OK(node_trust_sealable(st, "HR", false, &ok, &warn, &t, &err), &err);
    CHECK(!ok);
    CHECK_OK(node_trust_sealable(st, "HR", true, &ok, &warn, &t, &err), &err);
    CHECK(ok && warn);
    /* verify: the wrong fingerprint changes nothing */
    ewh_pubid_fingerprint(&pb, fp);
    CHECK_OK(node_store_begin(st, &err), &err);
    CHECK_FAILS(node_trust_verify(st, held, "HR", fp, &err), &err,
                EWH_E_INVALID, "is not that of HR's key");
    ewh_pubid_fingerprint(&px, fp);
    CHECK_OK(node_trust_verify(st, held, "HR", fp, &err), &err);
    CHECK_OK(node_store_commit(st, &err), &err);
    CHECK(s_trusted(st, &px) == 1);
    /* the genuine key back, unendorsed by x: x (which came unendorsed) is
     * never trusted again, for what it signed either */
    pb.endorsed = false;
    s_apply(st, hub, 4, &pb, &held);
    CHECK(s_trusted(st, &px) == 0);
    CHECK_OK(node_store_trust_get(st, "HR", &t, &err), &err);
    CHECK(!t.verified);
    node_store_close(&st);
    ewh_roster_destroy(&held);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK(system(path) == 0);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
    ewh_secret_destroy(&x);
}

/* A first roster naming only this node still counts as the first: a
 * country appearing later is unverified, not trusted on first use. */
static void
test_first_roster_only_self(void)
{
    struct ewh_err err = {0};
    char dir[] = "/tmp/ewh-trust-XXXXXX", path[64];
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *rs = s_gen("RS"), *hr = s_gen("HR");
    ewh_roster_t *r1 = ewh_roster_new(1), *r2 = ewh_roster_new(2), *o1, *o2;
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t l1 = 0, l2 = 0;
    node_store_t *st;
    struct node_trust t;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/store.db", dir);
    CHECK((st = node_store_open(path, true, &err)) != NULL);
    CHECK_OK(ewh_roster_put(r1, ewh_secret_pubid(rs), false, &err), &err);
    CHECK_OK(ewh_roster_put(r2, ewh_secret_pubid(rs), false, &err), &err);
    CHECK_OK(ewh_roster_put(r2, ewh_secret_pubid(hr), false, &err), &err);
    o1 = s_cycle(r1, hub, &b1, &l1);
    o2 = s_cycle(r2, hub, &b2, &l2);
    CHECK_OK(node_trust_on_roster(st, "RS", o1, NULL, b1, l1, &err), &err);
    CHECK_OK(node_trust_on_roster(st, "RS", o2, o1, b2, l2, &err), &err);
    CHECK_OK(node_store_trust_get(st, "HR", &t, &err), &err);
    CHECK(!t.verified && strcmp(t.why, "new-country") == 0);
    node_store_close(&st);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK(system(path) == 0);
    free(b1);
    free(b2);
    ewh_roster_destroy(&o1);
    ewh_roster_destroy(&o2);
    ewh_roster_destroy(&r1);
    ewh_roster_destroy(&r2);
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&rs);
    ewh_secret_destroy(&hr);
}

/* A node that missed re-keys follows the chain the roster carries back
 * to the key it holds; a chain with a link not endorsed by the next is
 * not followed. */
static void
test_chain_of_rekeys(void)
{
    struct ewh_err err = {0};
    char dir[] = "/tmp/ewh-trust-XXXXXX", path[64];
    ewh_secret_t *hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    ewh_secret_t *a = s_gen("HR"), *b = s_gen("HR"), *c = s_gen("HR");
    ewh_secret_t *x = s_gen("HR");
    struct ewh_pubid pa = *ewh_secret_pubid(a), pb = *ewh_secret_pubid(b);
    struct ewh_pubid pc = *ewh_secret_pubid(c), bx;
    ewh_roster_t *held = NULL, *r, *o;
    uint8_t *buf = NULL;
    size_t len = 0;
    node_store_t *st;
    struct node_trust t;
    int round;

    CHECK_OK(ewh_pubid_endorse(&pb, a, &err), &err);
    CHECK_OK(ewh_pubid_endorse(&pc, b, &err), &err);
    bx = *ewh_secret_pubid(b);
    CHECK_OK(ewh_pubid_endorse(&bx, x, &err), &err); /* b endorsed by x */
    for (round = 0; round < 2; round++) {
        CHECK(mkdtemp(strcpy(dir, "/tmp/ewh-trust-XXXXXX")) != NULL);
        snprintf(path, sizeof(path), "%s/store.db", dir);
        CHECK((st = node_store_open(path, true, &err)) != NULL);
        s_apply(st, hub, 1, &pa, &held);
        r = ewh_roster_new(2);
        CHECK_OK(ewh_roster_put(r, &pc, false, &err), &err);
        CHECK_OK(ewh_roster_set_chain(r, "HR", round == 0 ? &pb : &bx, 1, &err),
                 &err);
        o = s_cycle(r, hub, &buf, &len);
        CHECK_OK(node_store_begin(st, &err), &err);
        CHECK_OK(node_trust_on_roster(st, "RS", o, held, buf, len, &err), &err);
        CHECK_OK(node_store_commit(st, &err), &err);
        CHECK_OK(node_store_trust_get(st, "HR", &t, &err), &err);
        if (round == 0) {
            CHECK(t.verified && strcmp(t.why, "endorsed") == 0);
            CHECK(s_trusted(st, &pb) == 1 && s_trusted(st, &pc) == 1);
        } else {
            CHECK(!t.verified && strcmp(t.why, "unendorsed") == 0);
        }
        free(buf);
        buf = NULL;
        ewh_roster_destroy(&o);
        ewh_roster_destroy(&r);
        ewh_roster_destroy(&held);
        node_store_close(&st);
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        CHECK(system(path) == 0);
    }
    ewh_secret_destroy(&hub);
    ewh_secret_destroy(&a);
    ewh_secret_destroy(&b);
    ewh_secret_destroy(&c);
    ewh_secret_destroy(&x);
}

int
main(void)
{
    CHECK(sodium_init() >= 0);
    RUN(test_endorse_valid_and_flipped);
    RUN(test_endorse_wrong_signer);
    RUN(test_pubid_file);
    RUN(test_roster_endorsement_and_chain);
    RUN(test_node_decisions);
    RUN(test_first_roster_only_self);
    RUN(test_chain_of_rekeys);
    return 0;
}
