/* test_rosterimport.c — another hub's roster taken into a real hub store
 * (hub/rosterimport.c, ewhub roster import; docs/roster-sharing.md): real
 * node keys and endorsements, the other hub's roster signed by a real hub
 * key and opened against it.  A re-key through the key chain (B missed
 * two), B ahead of A, a revocation applied and one never lifted, an
 * unendorsed change refused, key material B revoked refused, and every
 * refusal leaving the store as it was. */
#include "rosterimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/roster.h"

static char s_dir[] = "/tmp/ewh-test-rosterimport-XXXXXX";
static ewh_secret_t *s_hub_a;
static int s_n;

static hub_store_t *
s_store(void)
{
    struct ewh_err err = {0};
    char path[300];
    hub_store_t *st;

    snprintf(path, sizeof(path), "%s/store-%d.db", s_dir, s_n++);
    st = hub_store_open(path, HUB_STORE_CREATE, 0, &err);
    if (st == NULL)
        fprintf(stderr, "open: %s\n", err.reason);
    CHECK(st != NULL);
    return st;
}

static ewh_secret_t *
s_gen(const char *cc)
{
    struct ewh_err err = {0};
    ewh_secret_t *s = ewh_secret_generate(EWH_KIND_NODE, cc, &err);

    CHECK(s != NULL);
    return s;
}

static struct ewh_pubid
s_endorsed(const ewh_secret_t *next, const ewh_secret_t *old)
{
    struct ewh_err err = {0};
    struct ewh_pubid id = *ewh_secret_pubid(next);

    CHECK_OK(ewh_pubid_endorse(&id, old, &err), &err);
    return id;
}

/* The roster of store st as its hub signs it: loaded, signed by hub A,
 * opened against A's key (what `ewhub roster export` carries). */
static ewh_roster_t *
s_exported(hub_store_t *st)
{
    struct ewh_err err = {0};
    ewh_roster_t *r = NULL, *got;
    uint8_t *buf = NULL;
    size_t len = 0;

    CHECK_OK(hub_store_roster_load(st, &r, &err), &err);
    CHECK_OK(ewh_roster_sign(r, s_hub_a, &buf, &len, &err), &err);
    got = ewh_roster_open(buf, len, ewh_secret_pubid(s_hub_a)->sign, &err);
    CHECK(got != NULL);
    free(buf);
    ewh_roster_destroy(&r);
    return got;
}

static void
s_enrol(hub_store_t *st, const struct ewh_pubid *id, enum hub_enrol_result want)
{
    struct ewh_err err = {0};
    enum hub_enrol_result res;

    CHECK_OK(hub_store_node_enrol(st, id, false, &res, NULL, &err), &err);
    CHECK(res == want);
}

/* Plan and apply `from` into st in one transaction, as the command does.
 * Returns the apply's result (-1: refused, rolled back); *refused gets the
 * plan's refusals (then nothing is applied). */
static int
s_import(hub_store_t *st, const ewh_roster_t *from, bool accept,
         struct hub_import_op *ops, size_t *n, size_t *refused,
         struct ewh_err *err)
{
    ewh_roster_t *here = NULL;
    size_t changes = 0;
    int rc;

    CHECK_OK(hub_store_begin(st, err), err);
    CHECK_OK(hub_store_roster_load(st, &here, err), err);
    CHECK_OK(hub_import_plan(here, from, accept, ops, HUB_IMPORT_MAX_OPS, n,
                             refused, err),
             err);
    ewh_roster_destroy(&here);
    if (*refused > 0) {
        hub_store_rollback(st);
        return -1;
    }
    rc = hub_import_apply(st, ops, *n, &changes, err);
    if (rc != 0) {
        hub_store_rollback(st);
        return -1;
    }
    CHECK_OK(hub_store_commit(st, err), err);
    return 0;
}

static const struct hub_import_op *
s_op(const struct hub_import_op *ops, size_t n, const char *cc)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(ops[i].country, cc) == 0)
            return &ops[i];
    return NULL;
}

static void
test_rekey_through_chain(void)
{
    struct ewh_err err = {0};
    struct hub_import_op ops[HUB_IMPORT_MAX_OPS];
    hub_store_t *a = s_store(), *b = s_store();
    ewh_secret_t *k1 = s_gen("HR"), *k2 = s_gen("HR"), *k3 = s_gen("HR");
    struct ewh_pubid n2 = s_endorsed(k2, k1), n3 = s_endorsed(k3, k2);
    ewh_roster_t *from, *got = NULL;
    size_t n, refused;
    uint64_t v0, v1;

    /* A: k1 -> k2 -> k3, both endorsed; B: still k1. */
    s_enrol(a, ewh_secret_pubid(k1), HUB_ENROL_NEW);
    s_enrol(a, &n2, HUB_ENROL_ENDORSED);
    s_enrol(a, &n3, HUB_ENROL_ENDORSED);
    s_enrol(b, ewh_secret_pubid(k1), HUB_ENROL_NEW);
    from = s_exported(a);
    /* the chain A's roster carries: k2 (endorsed by k1), then k1 */
    CHECK(ewh_roster_chain(from, "HR", &n) != NULL && n == 2);
    CHECK_OK(hub_store_roster_version(b, &v0, &err), &err);
    CHECK_OK(s_import(b, from, false, ops, &n, &refused, &err), &err);
    CHECK(n == 1 && ops[0].kind == HUB_IMPORT_REKEY && ops[0].n_links == 1);
    CHECK(hub_import_is_change(ops[0].kind));
    CHECK_OK(hub_store_roster_version(b, &v1, &err), &err);
    CHECK(v1 > v0);
    /* B holds k3 now, with the chain back to k1 for its own nodes. */
    CHECK_OK(hub_store_roster_load(b, &got, &err), &err);
    CHECK(ewh_pubid_equal(ewh_roster_find(got, "HR", NULL),
                          ewh_secret_pubid(k3)));
    CHECK(ewh_roster_find(got, "HR", NULL)->endorsed);
    CHECK(ewh_roster_chain(got, "HR", &n) != NULL && n == 2);
    CHECK(ewh_pubid_equal(&ewh_roster_chain(got, "HR", &n)[0], &n2));
    ewh_roster_destroy(&got);

    /* Again: in step, nothing. */
    CHECK_OK(s_import(b, from, false, ops, &n, &refused, &err), &err);
    CHECK(n == 0);
    ewh_roster_destroy(&from);

    /* B ahead: A's older roster (k1 only) changes nothing at B. */
    {
        hub_store_t *old = s_store();
        s_enrol(old, ewh_secret_pubid(k1), HUB_ENROL_NEW);
        from = s_exported(old);
        CHECK_OK(s_import(b, from, false, ops, &n, &refused, &err), &err);
        CHECK(n == 1 && ops[0].kind == HUB_IMPORT_KEEP_NEWER);
        CHECK(!hub_import_is_change(ops[0].kind));
        CHECK_OK(hub_store_roster_version(b, &v0, &err), &err);
        CHECK(v0 == v1);
        ewh_roster_destroy(&from);
        hub_store_close(&old);
    }
    hub_store_close(&a);
    hub_store_close(&b);
    ewh_secret_destroy(&k1);
    ewh_secret_destroy(&k2);
    ewh_secret_destroy(&k3);
}

static void
test_refusals_change_nothing(void)
{
    struct ewh_err err = {0};
    struct hub_import_op ops[HUB_IMPORT_MAX_OPS];
    hub_store_t *a = s_store(), *b = s_store();
    ewh_secret_t *rs = s_gen("RS"), *rs2 = s_gen("RS"), *bg = s_gen("BG");
    ewh_roster_t *from, *before = NULL, *after = NULL;
    char msg[600];
    size_t n, refused;
    uint64_t v0, v1;

    s_enrol(a, ewh_secret_pubid(rs), HUB_ENROL_NEW);
    s_enrol(b, ewh_secret_pubid(rs), HUB_ENROL_NEW);
    /* A: RS re-keyed without an endorsement, and BG new. */
    s_enrol(a, ewh_secret_pubid(rs2), HUB_ENROL_UNENDORSED);
    s_enrol(a, ewh_secret_pubid(bg), HUB_ENROL_NEW);
    from = s_exported(a);
    CHECK_OK(hub_store_roster_version(b, &v0, &err), &err);
    CHECK(s_import(b, from, false, ops, &n, &refused, &err) != 0);
    CHECK(refused == 1 && n == 2);
    CHECK(s_op(ops, n, "RS")->kind == HUB_IMPORT_REKEY_UNENDORSED &&
          s_op(ops, n, "RS")->refused);
    hub_import_describe(s_op(ops, n, "RS"), msg, sizeof(msg));
    CHECK(strncmp(msg, "REFUSED RS", 10) == 0);
    CHECK(s_op(ops, n, "BG")->kind == HUB_IMPORT_ENROL);
    CHECK_OK(hub_store_roster_version(b, &v1, &err), &err);
    CHECK(v1 == v0);
    CHECK_OK(hub_store_roster_load(b, &before, &err), &err);
    CHECK(ewh_roster_find(before, "BG", NULL) == NULL);

    /* B revokes RS itself; then A's unendorsed RS is refused as revoked
     * key material would be, and never lifts the revocation. */
    {
        bool ch;
        CHECK_OK(hub_store_node_revoke(b, "RS", &ch, &err), &err);
        CHECK(ch);
    }
    CHECK_OK(s_import(b, from, false, ops, &n, &refused, &err), &err);
    CHECK(s_op(ops, n, "RS")->kind == HUB_IMPORT_KEEP_REVOKED);
    CHECK(s_op(ops, n, "BG")->kind == HUB_IMPORT_ENROL);
    CHECK_OK(hub_store_roster_load(b, &after, &err), &err);
    {
        bool rev = false;
        CHECK(ewh_roster_find(after, "RS", &rev) != NULL && rev);
        CHECK(ewh_pubid_equal(ewh_roster_find(after, "RS", NULL),
                              ewh_secret_pubid(rs)));
        CHECK(ewh_roster_find(after, "BG", NULL) != NULL);
    }
    ewh_roster_destroy(&after);
    ewh_roster_destroy(&before);
    ewh_roster_destroy(&from);

    /* A revokes BG: carried over, and BG's keys refused at B for good. */
    {
        bool ch;
        enum hub_enrol_result res;
        CHECK_OK(hub_store_node_revoke(a, "BG", &ch, &err), &err);
        from = s_exported(a);
        CHECK_OK(s_import(b, from, false, ops, &n, &refused, &err), &err);
        CHECK(s_op(ops, n, "BG")->kind == HUB_IMPORT_REVOKE);
        CHECK_FAILS(hub_store_node_enrol(b, ewh_secret_pubid(bg), false, &res,
                                         NULL, &err),
                    &err, EWH_E_REVOKED, "revoked");
        ewh_roster_destroy(&from);
    }

    /* At a hub C that holds RS's first key: refused, then accepted by the
     * operator (--accept-unendorsed): enrolled unendorsed; BG, new at C and
     * revoked at A, enrolled revoked. */
    {
        hub_store_t *c = s_store();
        s_enrol(c, ewh_secret_pubid(rs), HUB_ENROL_NEW);
        from = s_exported(a);
        CHECK(s_import(c, from, false, ops, &n, &refused, &err) != 0);
        CHECK_OK(s_import(c, from, true, ops, &n, &refused, &err), &err);
        CHECK(s_op(ops, n, "RS")->kind == HUB_IMPORT_REKEY_UNENDORSED &&
              !s_op(ops, n, "RS")->refused);
        CHECK(s_op(ops, n, "BG")->kind == HUB_IMPORT_ENROL_REVOKED);
        CHECK_OK(hub_store_roster_load(c, &after, &err), &err);
        CHECK(ewh_pubid_equal(ewh_roster_find(after, "RS", NULL),
                              ewh_secret_pubid(rs2)));
        CHECK(!ewh_roster_find(after, "RS", NULL)->endorsed);
        {
            bool rev = false;
            CHECK(ewh_roster_find(after, "BG", &rev) != NULL && rev);
        }
        ewh_roster_destroy(&after);
        ewh_roster_destroy(&from);
        hub_store_close(&c);
    }
    hub_store_close(&a);
    hub_store_close(&b);
    ewh_secret_destroy(&rs);
    ewh_secret_destroy(&rs2);
    ewh_secret_destroy(&bg);
}

/* A re-key to keys B revoked: the plan says endorsed, the store refuses
 * (revoked key material), and the whole import rolls back. */
static void
test_revoked_material_refused(void)
{
    struct ewh_err err = {0};
    struct hub_import_op ops[HUB_IMPORT_MAX_OPS];
    hub_store_t *a = s_store(), *b = s_store();
    ewh_secret_t *k1 = s_gen("SI"), *k2 = s_gen("SI"), *me = s_gen("ME");
    struct ewh_pubid n2 = s_endorsed(k2, k1);
    ewh_roster_t *from, *got = NULL;
    size_t n, refused;
    uint64_t v0, v1;
    bool ch;

    /* B once had SI with k2, revoked it, then took k1 back by hand. */
    s_enrol(b, &n2, HUB_ENROL_NEW);
    CHECK_OK(hub_store_node_revoke(b, "SI", &ch, &err), &err);
    s_enrol(b, ewh_secret_pubid(k1), HUB_ENROL_UNENDORSED);
    /* A: k1 -> k2 endorsed, and ME new. */
    s_enrol(a, ewh_secret_pubid(k1), HUB_ENROL_NEW);
    s_enrol(a, &n2, HUB_ENROL_ENDORSED);
    s_enrol(a, ewh_secret_pubid(me), HUB_ENROL_NEW);
    from = s_exported(a);
    CHECK_OK(hub_store_roster_version(b, &v0, &err), &err);
    CHECK(s_import(b, from, false, ops, &n, &refused, &err) != 0);
    CHECK(refused == 0);
    CHECK(err.code == EWH_E_REVOKED);
    CHECK(strncmp(err.reason, "SI: ", 4) == 0);
    CHECK_OK(hub_store_roster_version(b, &v1, &err), &err);
    CHECK(v1 == v0);
    CHECK_OK(hub_store_roster_load(b, &got, &err), &err);
    CHECK(ewh_roster_find(got, "ME", NULL) == NULL);
    CHECK(ewh_pubid_equal(ewh_roster_find(got, "SI", NULL),
                          ewh_secret_pubid(k1)));
    ewh_roster_destroy(&got);
    ewh_roster_destroy(&from);
    hub_store_close(&a);
    hub_store_close(&b);
    ewh_secret_destroy(&k1);
    ewh_secret_destroy(&k2);
    ewh_secret_destroy(&me);
}

int
main(void)
{
    struct ewh_err err = {0};
    char cmd[300];
    int rc;

    if (sodium_init() < 0 || mkdtemp(s_dir) == NULL)
        return 1;
    s_hub_a = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    CHECK(s_hub_a != NULL);
    RUN(test_rekey_through_chain);
    RUN(test_refusals_change_nothing);
    RUN(test_revoked_material_refused);
    ewh_secret_destroy(&s_hub_a);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", s_dir);
    rc = system(cmd);
    return rc == 0 ? 0 : 1;
}
