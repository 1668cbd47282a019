/* test_foreign.c — a node's foreign rosters (issue 22,
 * docs/federation-node.md) on a real store with real crypto: the region's
 * hub key pinned on first sight, rotation only as announced, versions and
 * the chain, key continuity per foreign country, rosters that claim our
 * own or another region's countries refused whole, lookups for opening,
 * and the recipient's distribution check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "foreign.h"
#include "store.h"
#include "trust.h"
#include "ewh/envelope.h"
#include "ewh/identity.h"
#include "ewh/roster.h"

static ewh_secret_t *
s_gen(enum ewh_kind k, const char *cc)
{
    struct ewh_err err = {0};
    ewh_secret_t *s = ewh_secret_generate(k, cc, &err);

    CHECK(s != NULL);
    return s;
}

/* A foreign roster frame: region `region` (the frame says `claim`),
 * version v, chained to *prev (replaced by the new one, opened), signed
 * by hub, announcing next (may be NULL). */
struct s_fr {
    Ewh__ForeignRoster fr;
    uint8_t *buf;
    char *path[1];
    uint8_t key[32];
};

static void
s_make(struct s_fr *f, const ewh_secret_t *hub, const char *region,
       const char *claim, uint64_t v, ewh_roster_t **prev,
       const struct ewh_pubid *const *ids, size_t n, const ewh_secret_t *next)
{
    struct ewh_err err = {0};
    ewh_roster_t *r = ewh_roster_new(v);
    size_t len = 0, i;

    CHECK(r != NULL);
    CHECK_OK(ewh_roster_set_region(r, region, &err), &err);
    for (i = 0; i < n; i++)
        CHECK_OK(ewh_roster_put(r, ids[i], false, &err), &err);
    if (prev != NULL && *prev != NULL)
        ewh_roster_set_prev(r, ewh_roster_version(*prev),
                            ewh_roster_hash(*prev));
    if (next != NULL)
        ewh_roster_set_next_hub(r, ewh_secret_pubid(next)->sign,
                                ewh_secret_pubid(next)->curve);
    CHECK_OK(ewh_roster_sign(r, hub, &f->buf, &len, &err), &err);
    ewh_roster_destroy(&r);
    if (prev != NULL) {
        ewh_roster_destroy(prev);
        *prev = ewh_roster_open(f->buf, len, ewh_secret_pubid(hub)->sign, &err);
        CHECK(*prev != NULL);
    }
    ewh__foreign_roster__init(&f->fr);
    f->fr.region = (char *)claim;
    f->fr.signed_roster.data = f->buf;
    f->fr.signed_roster.len = len;
    memcpy(f->key, ewh_secret_pubid(hub)->sign, 32);
    f->fr.hub_key.data = f->key;
    f->fr.hub_key.len = 32;
    f->path[0] = (char *)claim;
    f->fr.path = f->path;
    f->fr.n_path = 1;
}

static void
s_free(struct s_fr *f)
{
    free(f->buf);
    f->buf = NULL;
}

static node_store_t *s_st;
static ewh_roster_t *s_local; /* region "b", peered with "a" */
static ewh_secret_t *s_rs, *s_hr, *s_no, *s_se, *s_fi, *s_hub_a, *s_hub_b;
static char s_dir[] = "/tmp/ewh-foreign-XXXXXX";

static void
s_setup(void)
{
    struct ewh_err err = {0};
    const char *peers[] = {"a"};
    char path[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    ewh_roster_t *r;

    CHECK(mkdtemp(s_dir) != NULL);
    snprintf(path, sizeof(path), "%s/store.db", s_dir);
    CHECK((s_st = node_store_open(path, true, &err)) != NULL);
    s_rs = s_gen(EWH_KIND_NODE, "RS");
    s_hr = s_gen(EWH_KIND_NODE, "HR");
    s_no = s_gen(EWH_KIND_NODE, "NO");
    s_se = s_gen(EWH_KIND_NODE, "SE");
    s_fi = s_gen(EWH_KIND_NODE, "FI");
    s_hub_a = s_gen(EWH_KIND_HUB, NULL);
    s_hub_b = s_gen(EWH_KIND_HUB, NULL);
    r = ewh_roster_new(1);
    CHECK_OK(ewh_roster_set_region(r, "b", &err), &err);
    CHECK_OK(ewh_roster_set_peers(r, peers, 1, &err), &err);
    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(s_rs), false, &err), &err);
    CHECK_OK(ewh_roster_put(r, ewh_secret_pubid(s_hr), false, &err), &err);
    CHECK_OK(ewh_roster_sign(r, s_hub_b, &buf, &len, &err), &err);
    ewh_roster_destroy(&r);
    s_local = ewh_roster_open(buf, len, ewh_secret_pubid(s_hub_b)->sign, &err);
    CHECK(s_local != NULL);
    /* RS's own trust rows, as after its first local roster */
    CHECK_OK(node_store_begin(s_st, &err), &err);
    CHECK_OK(node_trust_on_roster(s_st, "RS", s_local, NULL, buf, len, &err),
             &err);
    CHECK_OK(node_store_commit(s_st, &err), &err);
    free(buf);
}

static int
s_apply(struct s_fr *f, struct ewh_err *err)
{
    uint64_t v = 0;

    return node_foreign_apply(s_st, s_local, &f->fr, &v, err);
}

static void
s_trust_is(const char *cc, bool verified, const char *why)
{
    struct ewh_err err = {0};
    struct node_trust t;

    CHECK_OK(node_store_trust_get(s_st, cc, &t, &err), &err);
    if (t.verified != verified || strcmp(t.why, why) != 0) {
        fprintf(stderr, "%s: verified %d why %s, expected %d %s\n", cc,
                (int)t.verified, t.why, (int)verified, why);
        CHECK(0);
    }
}

static uint64_t
s_held_version(const char *region)
{
    struct ewh_err err = {0};
    struct node_foreign_row row;

    CHECK_OK(node_store_foreign_get(s_st, region, &row, NULL, NULL, &err),
             &err);
    return row.version;
}

/* The whole life of region "a"'s roster at one node. */
static void
test_pin_rotate_continuity(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hub_a2 = s_gen(EWH_KIND_HUB, NULL);
    ewh_secret_t *hub_x = s_gen(EWH_KIND_HUB, NULL);
    ewh_secret_t *no2 = s_gen(EWH_KIND_NODE, "NO");
    ewh_secret_t *se2 = s_gen(EWH_KIND_NODE, "SE");
    struct ewh_pubid no2e = *ewh_secret_pubid(no2);
    const struct ewh_pubid *v1[] = {ewh_secret_pubid(s_no),
                                    ewh_secret_pubid(s_se)};
    const struct ewh_pubid *v4[] = {&no2e, ewh_secret_pubid(s_se),
                                    ewh_secret_pubid(s_fi)};
    const struct ewh_pubid *v5[] = {&no2e, ewh_secret_pubid(se2),
                                    ewh_secret_pubid(s_fi)};
    ewh_roster_t *chain = NULL, *fork = NULL;
    node_foreign_t *fo;
    struct s_fr f;
    const char *region = NULL;

    /* Before any roster of ours: nothing foreign is taken. */
    s_make(&f, s_hub_a, "a", "a", 1, &chain, v1, 2, NULL);
    CHECK_FAILS(node_foreign_apply(s_st, NULL, &f.fr, &(uint64_t){0}, &err),
                &err, EWH_E_NOTFOUND, "own region");
    /* First sight: the hub key pinned, the countries trusted on first
     * use. */
    CHECK_OK(s_apply(&f, &err), &err);
    s_trust_is("NO", true, "tofu");
    s_trust_is("SE", true, "tofu");
    CHECK(s_held_version("a") == 1);
    /* again, and older: not newer, nothing changes */
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_VERSION, "not newer");
    s_free(&f);

    /* Another hub key for region a, not announced: refused. */
    fork = NULL;
    s_make(&f, hub_x, "a", "a", 2, &fork, v1, 2, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_SIGNATURE, "pinned");
    CHECK(s_held_version("a") == 1);
    s_free(&f);
    ewh_roster_destroy(&fork);

    /* A roster that says it is another region than the frame: refused. */
    s_make(&f, s_hub_a, "c", "a", 2, NULL, v1, 2, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_INVALID, "says it is region");
    s_free(&f);

    /* Version 2 announces the next hub key; version 3 signed with it is
     * followed and the new key pinned. */
    s_make(&f, s_hub_a, "a", "a", 2, &chain, v1, 2, hub_a2);
    CHECK_OK(s_apply(&f, &err), &err);
    s_free(&f);
    s_make(&f, hub_a2, "a", "a", 3, &chain, v1, 2, NULL);
    CHECK_OK(s_apply(&f, &err), &err);
    CHECK(s_held_version("a") == 3);
    s_free(&f);
    /* ... and the old key no longer signs for a */
    fork = NULL;
    s_make(&f, s_hub_a, "a", "a", 9, &fork, v1, 2, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_SIGNATURE, "pinned");
    s_free(&f);
    ewh_roster_destroy(&fork);

    /* A version that does not chain to the one held: refused. */
    fork = NULL;
    s_make(&f, hub_a2, "a", "a", 4, &fork, v1, 2, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_SIGNATURE, "chain");
    s_free(&f);
    ewh_roster_destroy(&fork);

    /* Version 4: NO re-keys endorsed by its old key (followed), FI is new
     * after the first roster (unverified). */
    CHECK_OK(ewh_pubid_endorse(&no2e, s_no, &err), &err);
    s_make(&f, hub_a2, "a", "a", 4, &chain, v4, 3, NULL);
    CHECK_OK(s_apply(&f, &err), &err);
    s_trust_is("NO", true, "endorsed");
    s_trust_is("FI", false, "new-country");
    s_free(&f);
    /* Version 5: the foreign hub swaps SE's key without SE's endorsement:
     * SE becomes unverified, nothing is sealed for it. */
    s_make(&f, hub_a2, "a", "a", 5, &chain, v5, 3, NULL);
    CHECK_OK(s_apply(&f, &err), &err);
    s_trust_is("SE", false, "unendorsed");
    {
        struct node_trust t;
        bool ok = true, warn = true;
        CHECK_OK(node_trust_sealable(s_st, "SE", false, &ok, &warn, &t, &err),
                 &err);
        CHECK(!ok);
        CHECK_OK(node_trust_sealable(s_st, "NO", false, &ok, &warn, &t, &err),
                 &err);
        CHECK(ok);
    }
    s_free(&f);

    /* What is held reads back, verified with the pinned key. */
    CHECK((fo = node_foreign_load(s_st, &err)) != NULL);
    CHECK(node_foreign_count(fo) == 1);
    CHECK(node_foreign_find(fo, "NO", &region, NULL) != NULL);
    CHECK(strcmp(region, "a") == 0);
    CHECK(memcmp(node_foreign_find(fo, "NO", NULL, NULL)->sign, no2e.sign,
                 32) == 0);
    CHECK(node_foreign_find(fo, "RS", NULL, NULL) == NULL);
    CHECK(memcmp(node_foreign_row_at(fo, 0)->hub_sign,
                 ewh_secret_pubid(hub_a2)->sign, 32) == 0);
    node_foreign_destroy(&fo);

    ewh_roster_destroy(&chain);
    ewh_secret_destroy(&hub_a2);
    ewh_secret_destroy(&hub_x);
    ewh_secret_destroy(&no2);
    ewh_secret_destroy(&se2);
}

/* Rosters that claim what is not theirs are refused whole. */
static void
test_claims_refused(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *hub_c = s_gen(EWH_KIND_HUB, NULL);
    ewh_secret_t *rs2 = s_gen(EWH_KIND_NODE, "RS");
    ewh_secret_t *no3 = s_gen(EWH_KIND_NODE, "NO");
    ewh_secret_t *dk = s_gen(EWH_KIND_NODE, "DK");
    const struct ewh_pubid *ours[] = {ewh_secret_pubid(dk),
                                      ewh_secret_pubid(rs2)};
    const struct ewh_pubid *theirs[] = {ewh_secret_pubid(dk),
                                        ewh_secret_pubid(no3)};
    const struct ewh_pubid *fine[] = {ewh_secret_pubid(dk)};
    struct s_fr f;
    struct node_trust t;

    /* Region c names RS, a country of our own region. */
    s_make(&f, hub_c, "c", "c", 1, NULL, ours, 2, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_INVALID, "own region");
    s_free(&f);
    /* Region c names NO, which region a's roster names. */
    s_make(&f, hub_c, "c", "c", 1, NULL, theirs, 2, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_INVALID, "region a names");
    s_free(&f);
    /* Nothing of either was kept: DK unknown, c not pinned. */
    CHECK(node_store_trust_get(s_st, "DK", &t, &err) != 0 &&
          err.code == EWH_E_NOTFOUND);
    CHECK(node_store_foreign_get(s_st, "c", &(struct node_foreign_row){0}, NULL,
                                 NULL, &err) != 0 &&
          err.code == EWH_E_NOTFOUND);
    /* A roster of our own region sent as foreign: refused. */
    s_make(&f, hub_c, "b", "b", 1, NULL, fine, 1, NULL);
    CHECK_FAILS(s_apply(&f, &err), &err, EWH_E_INVALID, "own region");
    s_free(&f);
    /* Region c with DK alone is fine (pinned with hub_c). */
    s_make(&f, hub_c, "c", "c", 1, NULL, fine, 1, NULL);
    CHECK_OK(s_apply(&f, &err), &err);
    s_trust_is("DK", true, "tofu");
    s_free(&f);
    ewh_secret_destroy(&hub_c);
    ewh_secret_destroy(&rs2);
    ewh_secret_destroy(&no3);
    ewh_secret_destroy(&dk);
}

/* A report from a foreign origin opens with its region's key, and the
 * recipient checks how far it came: RS is in region b, peered with a, not
 * with c. */
static void
test_open_and_distribution(void)
{
    struct ewh_err err = {0};
    node_foreign_t *fo = node_foreign_load(s_st, &err);
    struct node_lookup lk = {s_local, fo};
    const struct ewh_pubid *to[1] = {ewh_secret_pubid(s_rs)};
    struct ewh_report r, got;
    struct ewh_header h;
    uint8_t *env = NULL;
    size_t len = 0;

    CHECK(fo != NULL && node_foreign_count(fo) == 2);
    CHECK(node_lookup_any(&lk, "HR") == ewh_roster_find(s_local, "HR", NULL));
    CHECK(node_lookup_any(&lk, "DK") != NULL);
    CHECK(node_lookup_any(&lk, "DE") == NULL);
    /* Header-level checks: origin NO in region a (peered), DK in region c
     * (not peered), HR local. */
    memset(&h, 0, sizeof(h));
    memcpy(h.origin, "NO", 3);
    h.distribution = EWH_DIST_REGION;
    CHECK_FAILS(node_foreign_check_distribution(s_local, fo, &h, &err), &err,
                EWH_E_DISTRIBUTION, "may not leave a");
    h.distribution = EWH_DIST_CONNECTED;
    CHECK_OK(node_foreign_check_distribution(s_local, fo, &h, &err), &err);
    h.distribution = EWH_DIST_ALL;
    CHECK_OK(node_foreign_check_distribution(s_local, fo, &h, &err), &err);
    memcpy(h.origin, "DK", 3);
    h.distribution = EWH_DIST_CONNECTED;
    CHECK_FAILS(node_foreign_check_distribution(s_local, fo, &h, &err), &err,
                EWH_E_DISTRIBUTION, "not peered");
    h.distribution = EWH_DIST_ALL;
    CHECK_OK(node_foreign_check_distribution(s_local, fo, &h, &err), &err);
    memcpy(h.origin, "HR", 3);
    h.distribution = EWH_DIST_REGION;
    CHECK_OK(node_foreign_check_distribution(s_local, fo, &h, &err), &err);
    memcpy(h.origin, "DE", 3);
    CHECK_FAILS(node_foreign_check_distribution(s_local, fo, &h, &err), &err,
                EWH_E_UNKNOWN, "no roster");

    /* A real envelope from FI (region a, key as in the roster) opens at
     * RS through the combined lookup. */
    memset(&r, 0, sizeof(r));
    ewh_id_new(r.id);
    r.type = EWH_TYPE_ALERT;
    memcpy(r.origin, "FI", 3);
    r.created_at = ewh_now();
    r.level = EWH_LEVEL_MEDIUM;
    r.tlp = EWH_TLP_AMBER;
    r.distribution = EWH_DIST_ALL;
    snprintf(r.category, sizeof(r.category), "cyber");
    snprintf(r.title, sizeof(r.title), "from FI");
    CHECK_OK(ewh_report_set_body(&r, "text", 4, &err), &err);
    CHECK_OK(ewh_envelope_seal(&r, to, 1, s_fi, NULL, &env, &len, &err), &err);
    CHECK_OK(
        ewh_envelope_open(env, len, s_rs, node_lookup_any, &lk, &got, &h, &err),
        &err);
    CHECK(strcmp(got.origin, "FI") == 0 && h.distribution == EWH_DIST_ALL);
    ewh_report_clear(&got);
    /* our roster alone does not know FI */
    CHECK_FAILS(ewh_envelope_open(env, len, s_rs, ewh_roster_lookup,
                                  (void *)s_local, &got, &h, &err),
                &err, EWH_E_UNKNOWN, "FI");
    free(env);
    ewh_report_clear(&r);
    node_foreign_destroy(&fo);
}

int
main(void)
{
    char cmd[64];

    if (sodium_init() < 0)
        return 1;
    s_setup();
    RUN(test_pin_rotate_continuity);
    RUN(test_claims_refused);
    RUN(test_open_and_distribution);
    node_store_close(&s_st);
    ewh_roster_destroy(&s_local);
    ewh_secret_destroy(&s_rs);
    ewh_secret_destroy(&s_hr);
    ewh_secret_destroy(&s_no);
    ewh_secret_destroy(&s_se);
    ewh_secret_destroy(&s_fi);
    ewh_secret_destroy(&s_hub_a);
    ewh_secret_destroy(&s_hub_b);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : 1;
}
