/* test_hubcmp.c — comparing the rosters of two hubs (node/hubcmp.c,
 * issue 18): real node keys, real endorsements, rosters signed by two real
 * hub keys and opened (verified) against each, as a node holds them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "hubcmp.h"
#include "ewh/identity.h"
#include "ewh/roster.h"

static ewh_secret_t *s_hub_a, *s_hub_b;

static ewh_secret_t *
s_gen(const char *cc)
{
    struct ewh_err err = {0};
    ewh_secret_t *s = ewh_secret_generate(EWH_KIND_NODE, cc, &err);

    CHECK(s != NULL);
    return s;
}

/* new's public identity endorsed by old's key. */
static struct ewh_pubid
s_endorsed(const ewh_secret_t *next, const ewh_secret_t *old)
{
    struct ewh_err err = {0};
    struct ewh_pubid id = *ewh_secret_pubid(next);

    CHECK_OK(ewh_pubid_endorse(&id, old, &err), &err);
    return id;
}

/* Sign r with hub and open it against hub's key: the roster as a node
 * holds it.  Consumes r. */
static ewh_roster_t *
s_signed(ewh_roster_t **r, const ewh_secret_t *hub)
{
    struct ewh_err err = {0};
    ewh_roster_t *got;
    uint8_t *buf = NULL;
    size_t len = 0;

    CHECK_OK(ewh_roster_sign(*r, hub, &buf, &len, &err), &err);
    got = ewh_roster_open(buf, len, ewh_secret_pubid(hub)->sign, &err);
    if (got == NULL)
        fprintf(stderr, "open: %s\n", err.reason);
    CHECK(got != NULL);
    /* Signed by A, it is no roster of B's. */
    CHECK(ewh_roster_open(
              buf, len,
              ewh_secret_pubid(hub == s_hub_a ? s_hub_b : s_hub_a)->sign,
              NULL) == NULL);
    free(buf);
    ewh_roster_destroy(r);
    return got;
}

static void
s_put(ewh_roster_t *r, const struct ewh_pubid *id, bool revoked)
{
    struct ewh_err err = {0};

    CHECK_OK(ewh_roster_put(r, id, revoked, &err), &err);
}

/* Compare and expect exactly one difference, for cc, with reason. */
static void
s_expect_one(const ewh_roster_t *a, const ewh_roster_t *b, const char *cc,
             enum node_hubcmp_reason reason, bool alarm, const char *needle)
{
    struct ewh_err err = {0};
    struct node_hubcmp_diff d[NODE_HUBCMP_MAX_DIFFS];
    size_t n = 99;

    CHECK_OK(node_hubcmp_rosters(a, b, d, NODE_HUBCMP_MAX_DIFFS, &n, &err),
             &err);
    if (n != 1 || d[0].reason != reason)
        fprintf(stderr, "got n=%zu reason=%s text '%s'\n", n,
                n > 0 ? node_hubcmp_reason_name(d[0].reason) : "-",
                n > 0 ? d[0].text : "");
    CHECK(n == 1);
    CHECK(strcmp(d[0].country, cc) == 0);
    CHECK(d[0].reason == reason);
    CHECK(d[0].alarm == alarm);
    CHECK(node_hubcmp_alarms(d, n) == (alarm ? 1u : 0u));
    CHECK(strncmp(d[0].text, cc, 2) == 0 || strstr(d[0].text, cc) != NULL);
    if (strstr(d[0].text, needle) == NULL)
        fprintf(stderr, "text '%s' lacks '%s'\n", d[0].text, needle);
    CHECK(strstr(d[0].text, needle) != NULL);
}

static void
test_same_rosters_equal(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *rs = s_gen("RS"), *hr = s_gen("HR"), *bg = s_gen("BG");
    ewh_roster_t *ra = ewh_roster_new(3), *rb = ewh_roster_new(41), *a, *b;
    struct node_hubcmp_diff d[NODE_HUBCMP_MAX_DIFFS];
    size_t n = 99;

    /* Versions differ (each hub counts its own); keys and flags agree,
     * one country revoked at both. */
    s_put(ra, ewh_secret_pubid(rs), false);
    s_put(ra, ewh_secret_pubid(hr), false);
    s_put(ra, ewh_secret_pubid(bg), true);
    s_put(rb, ewh_secret_pubid(bg), true);
    s_put(rb, ewh_secret_pubid(hr), false);
    s_put(rb, ewh_secret_pubid(rs), false);
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    CHECK_OK(node_hubcmp_rosters(a, b, d, NODE_HUBCMP_MAX_DIFFS, &n, &err),
             &err);
    CHECK(n == 0);
    CHECK_OK(node_hubcmp_rosters(b, a, d, NODE_HUBCMP_MAX_DIFFS, &n, &err),
             &err);
    CHECK(n == 0);
    /* Two empty rosters agree too. */
    {
        ewh_roster_t *e1 = ewh_roster_new(1), *e2 = ewh_roster_new(1);
        CHECK_OK(node_hubcmp_rosters(e1, e2, d, 0, &n, &err), &err);
        CHECK(n == 0);
        ewh_roster_destroy(&e1);
        ewh_roster_destroy(&e2);
    }
    CHECK_FAILS(node_hubcmp_rosters(NULL, b, d, 1, &n, &err), &err,
                EWH_E_INVALID, "no roster");
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);
    ewh_secret_destroy(&rs);
    ewh_secret_destroy(&hr);
    ewh_secret_destroy(&bg);
}

/* One hub enrolled RS's endorsed re-key, the other not yet: lagging,
 * either way round, and no alarm. */
static void
test_endorsed_rekey_is_lagging(void)
{
    ewh_secret_t *k1 = s_gen("RS"), *k2 = s_gen("RS");
    struct ewh_pubid n2 = s_endorsed(k2, k1);
    ewh_roster_t *ra = ewh_roster_new(5), *rb = ewh_roster_new(6), *a, *b;

    s_put(ra, ewh_secret_pubid(k1), false);
    s_put(rb, &n2, false);
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "RS", NODE_HUBCMP_A_LAGS, false, "A lags");
    s_expect_one(b, a, "RS", NODE_HUBCMP_B_LAGS, false, "B lags");
    CHECK(strcmp(node_hubcmp_reason_name(NODE_HUBCMP_A_LAGS), "a-lags") == 0);
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);
    ewh_secret_destroy(&k1);
    ewh_secret_destroy(&k2);
}

/* Two re-keys: k1 -> k2 -> k3.  A holds k1; B shows k3 with the chain
 * back to k1 (as hub/store_roster.c builds it): lagging.  Without the
 * chain, or with a chain whose link does not join, nothing links k1 to k3:
 * an alarm. */
static void
test_chain_of_rekeys(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *k1 = s_gen("HR"), *k2 = s_gen("HR"), *k3 = s_gen("HR"),
                 *kx = s_gen("HR");
    struct ewh_pubid n2 = s_endorsed(k2, k1), n3 = s_endorsed(k3, k2);
    struct ewh_pubid nx = s_endorsed(kx, k1);
    ewh_roster_t *ra = ewh_roster_new(5), *rb = ewh_roster_new(9), *a, *b;

    s_put(ra, ewh_secret_pubid(k1), false);
    a = s_signed(&ra, s_hub_a);

    s_put(rb, &n3, false);
    CHECK_OK(ewh_roster_set_chain(rb, "HR", &n2, 1, &err), &err);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "HR", NODE_HUBCMP_A_LAGS, false, "A lags");
    s_expect_one(b, a, "HR", NODE_HUBCMP_B_LAGS, false, "B lags");
    ewh_roster_destroy(&b);

    /* No chain: k3 is endorsed by k2, which A never held. */
    rb = ewh_roster_new(9);
    s_put(rb, &n3, false);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "HR", NODE_HUBCMP_KEYS_DIFFER, true, "no endorsement");
    ewh_roster_destroy(&b);

    /* A chain whose link is not the key that endorsed k3 (kx, endorsed
     * by k1): it does not join, so it proves nothing. */
    rb = ewh_roster_new(9);
    s_put(rb, &n3, false);
    CHECK_OK(ewh_roster_set_chain(rb, "HR", &nx, 1, &err), &err);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "HR", NODE_HUBCMP_KEYS_DIFFER, true, "no endorsement");
    ewh_roster_destroy(&b);

    ewh_roster_destroy(&a);
    ewh_secret_destroy(&k1);
    ewh_secret_destroy(&k2);
    ewh_secret_destroy(&k3);
    ewh_secret_destroy(&kx);
}

/* A key change no endorsement explains (a lost key, or a hub lying). */
static void
test_unendorsed_keys_alarm(void)
{
    ewh_secret_t *k1 = s_gen("RS"), *k2 = s_gen("RS"), *other = s_gen("RS");
    struct ewh_pubid wrong = s_endorsed(k2, other);
    ewh_roster_t *ra = ewh_roster_new(5), *rb = ewh_roster_new(5), *a, *b;

    s_put(ra, ewh_secret_pubid(k1), false);
    s_put(rb, ewh_secret_pubid(k2), false);
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "RS", NODE_HUBCMP_KEYS_DIFFER, true, "no endorsement");
    s_expect_one(b, a, "RS", NODE_HUBCMP_KEYS_DIFFER, true, "no endorsement");
    ewh_roster_destroy(&b);
    /* Endorsed, but by a key A never showed. */
    rb = ewh_roster_new(5);
    s_put(rb, &wrong, false);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "RS", NODE_HUBCMP_KEYS_DIFFER, true, "no endorsement");
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);
    ewh_secret_destroy(&k1);
    ewh_secret_destroy(&k2);
    ewh_secret_destroy(&other);
}

/* k1 endorsed two different successors, one at each hub. */
static void
test_forked_successors_alarm(void)
{
    ewh_secret_t *k1 = s_gen("BG"), *k2a = s_gen("BG"), *k2b = s_gen("BG");
    struct ewh_pubid na = s_endorsed(k2a, k1), nb = s_endorsed(k2b, k1);
    ewh_roster_t *ra = ewh_roster_new(5), *rb = ewh_roster_new(5), *a, *b;

    s_put(ra, &na, false);
    s_put(rb, &nb, false);
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "BG", NODE_HUBCMP_FORKED, true, "two successors");
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);
    ewh_secret_destroy(&k1);
    ewh_secret_destroy(&k2a);
    ewh_secret_destroy(&k2b);
}

/* Enrolled at one hub only; revoked at one only (even where the other
 * lags behind a re-key, a revocation at one hub is an alarm). */
static void
test_only_and_revoked_alarm(void)
{
    ewh_secret_t *rs = s_gen("RS"), *hr = s_gen("HR"), *k2 = s_gen("HR");
    struct ewh_pubid n2 = s_endorsed(k2, hr);
    ewh_roster_t *ra = ewh_roster_new(5), *rb = ewh_roster_new(5), *a, *b;

    s_put(ra, ewh_secret_pubid(rs), false);
    s_put(ra, ewh_secret_pubid(hr), false);
    s_put(rb, ewh_secret_pubid(hr), false);
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "RS", NODE_HUBCMP_ONLY_A, true, "not in B");
    s_expect_one(b, a, "RS", NODE_HUBCMP_ONLY_B, true, "not in A");
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);

    ra = ewh_roster_new(6);
    rb = ewh_roster_new(6);
    s_put(ra, ewh_secret_pubid(hr), true);
    s_put(rb, ewh_secret_pubid(hr), false);
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "HR", NODE_HUBCMP_REVOKED_A, true, "revoked at A");
    s_expect_one(b, a, "HR", NODE_HUBCMP_REVOKED_B, true, "revoked at B");
    ewh_roster_destroy(&b);
    rb = ewh_roster_new(6);
    s_put(rb, &n2, false);
    b = s_signed(&rb, s_hub_b);
    s_expect_one(a, b, "HR", NODE_HUBCMP_REVOKED_A, true, "revoked at A");
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);
    ewh_secret_destroy(&rs);
    ewh_secret_destroy(&hr);
    ewh_secret_destroy(&k2);
}

/* Several countries at once, in country order; a cap too small fails
 * with TOOBIG and the first cap written. */
static void
test_many_and_cap(void)
{
    struct ewh_err err = {0};
    static const char *const ccs[] = {"AL", "BA", "BG", "GR", "HR",
                                      "ME", "MK", "RO", "RS", "SI"};
    ewh_secret_t *ka[10], *kb[10];
    ewh_roster_t *ra = ewh_roster_new(5), *rb = ewh_roster_new(5), *a, *b;
    struct node_hubcmp_diff d[NODE_HUBCMP_MAX_DIFFS];
    size_t i, n = 0;

    for (i = 0; i < 10; i++) {
        ka[i] = s_gen(ccs[i]);
        kb[i] = s_gen(ccs[i]);
        s_put(ra, ewh_secret_pubid(ka[i]), false);
        if (i % 2 == 0) {
            struct ewh_pubid e = s_endorsed(kb[i], ka[i]);
            s_put(rb, &e, false); /* lagging */
        } else {
            s_put(rb, ewh_secret_pubid(kb[i]), false); /* alarm */
        }
    }
    a = s_signed(&ra, s_hub_a);
    b = s_signed(&rb, s_hub_b);
    CHECK_OK(node_hubcmp_rosters(a, b, d, NODE_HUBCMP_MAX_DIFFS, &n, &err),
             &err);
    CHECK(n == 10);
    CHECK(node_hubcmp_alarms(d, n) == 5);
    for (i = 0; i < 10; i++) {
        CHECK(strcmp(d[i].country, ccs[i]) == 0);
        CHECK(d[i].reason ==
              (i % 2 == 0 ? NODE_HUBCMP_A_LAGS : NODE_HUBCMP_KEYS_DIFFER));
    }
    CHECK_FAILS(node_hubcmp_rosters(a, b, d, 3, &n, &err), &err, EWH_E_TOOBIG,
                "more than 3");
    CHECK(n == 3 && strcmp(d[2].country, "BG") == 0);
    CHECK(strcmp(node_hubcmp_reason_name((enum node_hubcmp_reason)0),
                 "unknown") == 0);
    CHECK(strcmp(node_hubcmp_reason_name(NODE_HUBCMP_KEYS_DIFFER),
                 "keys-differ") == 0);
    ewh_roster_destroy(&a);
    ewh_roster_destroy(&b);
    for (i = 0; i < 10; i++) {
        ewh_secret_destroy(&ka[i]);
        ewh_secret_destroy(&kb[i]);
    }
}

int
main(void)
{
    struct ewh_err err = {0};

    if (sodium_init() < 0)
        return 1;
    s_hub_a = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    s_hub_b = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    CHECK(s_hub_a != NULL && s_hub_b != NULL);
    RUN(test_same_rosters_equal);
    RUN(test_endorsed_rekey_is_lagging);
    RUN(test_chain_of_rekeys);
    RUN(test_unendorsed_keys_alarm);
    RUN(test_forked_successors_alarm);
    RUN(test_only_and_revoked_alarm);
    RUN(test_many_and_cap);
    ewh_secret_destroy(&s_hub_a);
    ewh_secret_destroy(&s_hub_b);
    return 0;
}
