/* test_fed_store.c — the federation part of the hub store
 * (hub/store_fed.c, issue 22) on a real SQLite file: peers (enrol,
 * replace, remove dropping what was queued), a report stored with only
 * its local recipients queued, the transfers queued per link (high
 * first, in flight skipped, done once, expired), retention sparing a
 * report still queued for a link, receipts owed to a peer, where a
 * foreign report came from, foreign rosters and pinned keys, counters. */
#include "store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ewh/util.h"

static char s_dir[] = "/tmp/ewh-test-fedstore-XXXXXX";
static char s_path[256];

static hub_store_t *
s_open(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = hub_store_open(s_path, HUB_STORE_CREATE, 0, &err);

    if (st == NULL)
        fprintf(stderr, "open: %s\n", err.reason);
    CHECK(st != NULL);
    return st;
}

static void
s_peer(struct hub_fed_peer_row *p, const char *region, uint8_t k)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->region, sizeof(p->region), "%s", region);
    snprintf(p->endpoint, sizeof(p->endpoint), "tcp://127.0.0.1:%u", 7000u + k);
    memset(p->curve, k, 32);
    memset(p->sign, k + 1, 32);
    memset(p->box, k + 2, 32);
    p->added_at = 1;
}

struct s_peers {
    char names[4][EWH_MAX_REGION_BYTES + 1];
    char ep[4][HUB_FED_ENDPOINT_BYTES];
    size_t n;
};

static int
s_peer_fn(void *ctx, const struct hub_fed_peer_row *p)
{
    struct s_peers *c = ctx;

    CHECK(c->n < 4);
    snprintf(c->names[c->n], sizeof(c->names[0]), "%s", p->region);
    snprintf(c->ep[c->n], sizeof(c->ep[0]), "%s", p->endpoint);
    c->n++;
    return 0;
}

/* One report, recipients to1 (local) and to2 (foreign), only the local
 * one queued; its envelope row in *rowid. */
static void
s_report(hub_store_t *st, unsigned n, enum ewh_level level, int64_t expires_at,
         int64_t *rowid)
{
    struct ewh_err err = {0};
    struct ewh_header h;
    uint8_t hash[EWH_HASH_BYTES], env[64];

    memset(&h, 0, sizeof(h));
    h.version = 1;
    h.id[15] = (uint8_t)n;
    snprintf(h.origin, sizeof(h.origin), "RS");
    h.level = level;
    h.created_at = ewh_now();
    h.expires_at = expires_at;
    snprintf(h.recipients[0], EWH_CC_BYTES, "HR");
    snprintf(h.recipients[1], EWH_CC_BYTES, "NO");
    h.n_recipients = 2;
    memset(hash, (int)n, sizeof(hash));
    memset(env, (int)n, sizeof(env));
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_envelope_add_local(st, env, sizeof(env), &h, hash,
                                          ewh_now(), UINT64_C(1), rowid, &err),
             &err);
    CHECK_OK(hub_store_fed_out_add(st, "nordic", *rowid, (int)level, expires_at,
                                   "adria", ewh_now(), &err),
             &err);
    CHECK_OK(hub_store_commit(st, &err), &err);
}

struct s_walk {
    uint64_t seq[8];
    int level[8];
    size_t n;
    uint64_t skip;
};

static bool
s_skip(void *ctx, uint64_t seq)
{
    return ((struct s_walk *)ctx)->skip == seq;
}

static int
s_walk_fn(void *ctx, const struct hub_fed_qrow *r)
{
    struct s_walk *w = ctx;

    CHECK(w->n < 8);
    CHECK(strcmp(r->path, "adria") == 0);
    CHECK(r->env_len == 64);
    w->seq[w->n] = r->seq;
    w->level[w->n] = r->level;
    w->n++;
    return 0;
}

static void
test_peers(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open();
    struct hub_fed_peer_row p;
    struct s_peers c;
    uint64_t v0 = 0, v1 = 0, dropped = 9;
    bool replaced = true;

    CHECK_OK(hub_store_roster_version(st, &v0, &err), &err);
    s_peer(&p, "nordic", 1);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_fed_peer_put(st, &p, &replaced, &err), &err);
    CHECK(!replaced);
    s_peer(&p, "baltic", 2);
    CHECK_OK(hub_store_fed_peer_put(st, &p, &replaced, &err), &err);
    s_peer(&p, "nordic", 3); /* a new address for the same peer */
    CHECK_OK(hub_store_fed_peer_put(st, &p, &replaced, &err), &err);
    CHECK(replaced);
    CHECK_OK(hub_store_commit(st, &err), &err);
    /* The roster names the peers: its version moved. */
    CHECK_OK(hub_store_roster_version(st, &v1, &err), &err);
    CHECK(v1 > v0);
    memset(&c, 0, sizeof(c));
    CHECK_OK(hub_store_fed_peer_walk(st, s_peer_fn, &c, &err), &err);
    CHECK(c.n == 2);
    CHECK(strcmp(c.names[0], "baltic") == 0);
    CHECK(strcmp(c.names[1], "nordic") == 0);
    CHECK(strcmp(c.ep[1], "tcp://127.0.0.1:7003") == 0);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_FAILS(hub_store_fed_peer_remove(st, "arctic", &dropped, &err), &err,
                EWH_E_NOTFOUND, "arctic");
    hub_store_rollback(st);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_fed_peer_remove(st, "baltic", &dropped, &err), &err);
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK(dropped == 0);
    memset(&c, 0, sizeof(c));
    CHECK_OK(hub_store_fed_peer_walk(st, s_peer_fn, &c, &err), &err);
    CHECK(c.n == 1);
    hub_store_close(&st);
}

struct s_untold {
    hub_store_t *st;
    struct ewh_err *err; /* the caller's */
    size_t n;
    bool fail, env_ok;
};

static int
s_untold_fn(void *ctx, const char *peer, uint64_t seq)
{
    struct s_untold *u = ctx;
    struct ewh_err err = {0};
    uint8_t *env = NULL;
    size_t len = 0;

    CHECK(strcmp(peer, "nordic") == 0);
    u->n++;
    /* the envelope is still there to name the origin by */
    u->env_ok =
        u->st != NULL &&
        hub_store_fed_out_envelope(u->st, peer, seq, &env, &len, &err) == 0 &&
        len > 0;
    free(env);
    return u->fail ? ewh_err_set(u->err, EWH_E_STORE, "told to fail") : 0;
}

static void
test_transfers(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open();
    int64_t r1, r2, r3;
    struct s_walk w;
    uint64_t n = 0, q = 0, dropped = 0;
    size_t nexp = 0, removed = 9;
    int64_t next = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    bool changed = false;

    CHECK_OK(hub_store_queue_open(st, &err), &err);
    s_report(st, 1, EWH_LEVEL_LOW, 0, &r1);
    s_report(st, 2, EWH_LEVEL_HIGH, 0, &r2);
    s_report(st, 3, EWH_LEVEL_MEDIUM, ewh_now() - 1, &r3);
    /* Only the local recipient is queued here. */
    CHECK_OK(hub_store_queued(st, "HR", &q, &err), &err);
    CHECK(q == 3);
    CHECK_OK(hub_store_queued(st, "NO", &q, &err), &err);
    CHECK(q == 0);
    /* The link's queue: high, medium, low. */
    memset(&w, 0, sizeof(w));
    CHECK_OK(hub_store_fed_out_walk(st, "nordic", 8, NULL, NULL, s_walk_fn, &w,
                                    &err),
             &err);
    CHECK(w.n == 3);
    CHECK(w.level[0] == EWH_LEVEL_HIGH && w.level[1] == EWH_LEVEL_MEDIUM &&
          w.level[2] == EWH_LEVEL_LOW);
    /* In flight is passed over; the limit counts it. */
    {
        struct s_walk w2;
        memset(&w2, 0, sizeof(w2));
        w2.skip = w.seq[0];
        CHECK_OK(hub_store_fed_out_walk(st, "nordic", 2, s_skip, &w2, s_walk_fn,
                                        &w2, &err),
                 &err);
        CHECK(w2.n == 1 && w2.seq[0] == w.seq[1]);
    }
    CHECK_OK(
        hub_store_fed_out_envelope(st, "nordic", w.seq[0], &buf, &len, &err),
        &err);
    CHECK(len == 64 && buf[0] == 2);
    free(buf);
    CHECK_FAILS(
        hub_store_fed_out_envelope(st, "baltic", w.seq[0], &buf, &len, &err),
        &err, EWH_E_NOTFOUND, "no transfer");
    /* Acknowledged once: a second ack changes nothing. */
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_fed_out_done(st, "nordic", w.seq[0], HUB_FED_SENT,
                                    &changed, &err),
             &err);
    CHECK(changed);
    CHECK_OK(hub_store_fed_out_done(st, "nordic", w.seq[0], HUB_FED_SENT,
                                    &changed, &err),
             &err);
    CHECK(!changed);
    /* The medium one has expired. */
    CHECK_OK(hub_store_fed_out_expire(st, ewh_now(), NULL, NULL, &nexp, &err),
             &err);
    CHECK(nexp == 1);
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK_OK(hub_store_fed_out_queued(st, "nordic", &n, &err), &err);
    CHECK(n == 1);
    /* Retention spares the low report while it waits for the link, even
     * with its local delivery done. */
    CHECK_OK(hub_store_begin(st, &err), &err);
    {
        uint8_t id[EWH_ID_BYTES] = {0};
        enum ewh_level lv;
        id[15] = 1;
        CHECK_OK(hub_store_queue_done(st, "HR", (uint64_t)r1 * 32, id, &changed,
                                      &lv, &err),
                 &err);
        CHECK(changed);
        id[15] = 2;
        CHECK_OK(hub_store_queue_done(st, "HR", (uint64_t)r2 * 32, id, &changed,
                                      &lv, &err),
                 &err);
        CHECK(changed);
    }
    CHECK_OK(hub_store_retention_sweep(st, ewh_now() + 10, ewh_now() + 10, 0,
                                       100, &next, &removed, &err),
             &err);
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK(removed == 1); /* r2: sent and delivered; r1 waits for nordic */
    memset(&w, 0, sizeof(w));
    CHECK_OK(hub_store_fed_out_walk(st, "nordic", 8, NULL, NULL, s_walk_fn, &w,
                                    &err),
             &err);
    CHECK(w.n == 1 && w.level[0] == EWH_LEVEL_LOW);
    /* Removing the peer drops what was queued for it. */
    {
        struct hub_fed_peer_row p;
        bool rep;
        s_peer(&p, "nordic", 4);
        CHECK_OK(hub_store_begin(st, &err), &err);
        CHECK_OK(hub_store_fed_peer_put(st, &p, &rep, &err), &err);
        CHECK_OK(hub_store_fed_peer_remove(st, "nordic", &dropped, &err), &err);
        CHECK_OK(hub_store_commit(st, &err), &err);
        CHECK(dropped == 1);
        CHECK_OK(hub_store_fed_out_queued(st, "nordic", &n, &err), &err);
        CHECK(n == 0);
    }
    /* The drop is told once (state 4 -> 5); a failed telling is rolled
     * back and the row stays untold. */
    {
        struct s_untold u = {0};
        size_t k = 0;
        u.st = st;
        u.err = &err;
        u.fail = true;
        CHECK_OK(hub_store_begin(st, &err), &err);
        CHECK_FAILS(hub_store_fed_out_unpeered(st, s_untold_fn, &u, &k, &err),
                    &err, EWH_E_STORE, "told to fail");
        hub_store_rollback(st);
        u.fail = false;
        u.n = 0;
        CHECK_OK(hub_store_begin(st, &err), &err);
        CHECK_OK(hub_store_fed_out_unpeered(st, s_untold_fn, &u, &k, &err),
                 &err);
        CHECK_OK(hub_store_commit(st, &err), &err);
        CHECK(k == 1 && u.n == 1 && u.env_ok);
        CHECK_OK(hub_store_begin(st, &err), &err);
        CHECK_OK(hub_store_fed_out_unpeered(st, s_untold_fn, &u, &k, &err),
                 &err);
        CHECK_OK(hub_store_commit(st, &err), &err);
        CHECK(k == 0 && u.n == 1);
    }
    hub_store_close(&st);
}

static int
s_relay_fn(void *ctx, uint64_t seq, int kind, const uint8_t *buf, size_t len)
{
    uint64_t *first = ctx;

    CHECK(kind == HUB_RELAY_RECEIPT);
    CHECK(len == 3 && memcmp(buf, "rcp", 3) == 0);
    if (*first == 0)
        *first = seq;
    return 0;
}

struct s_keys {
    size_t n;
    bool revoked;
};

static int
s_key_fn(void *ctx, const char *region, const struct ewh_pubid *id,
         bool revoked)
{
    struct s_keys *k = ctx;

    CHECK(strcmp(region, "baltic") == 0);
    CHECK(strcmp(id->country, "EE") == 0);
    CHECK(id->curve[0] == 7);
    k->n++;
    k->revoked = revoked;
    return 0;
}

static int
s_roster_fn(void *ctx, const struct hub_fed_roster_row *r)
{
    size_t *n = ctx;

    CHECK(strcmp(r->region, "baltic") == 0);
    CHECK(strcmp(r->via, "nordic") == 0);
    CHECK(strcmp(r->path, "baltic,nordic") == 0);
    CHECK(r->version == 5 && r->len == 4);
    (*n)++;
    return 0;
}

static void
test_relays_rosters_counters(void)
{
    struct ewh_err err = {0};
    hub_store_t *st = s_open();
    uint8_t id[EWH_ID_BYTES];
    char peer[EWH_MAX_REGION_BYTES + 1];
    struct hub_fed_roster_row row;
    struct ewh_pubid ee;
    json_t *cnt;
    struct s_keys k = {0};
    uint64_t first = 0, n = 0;
    size_t nr = 0;
    bool found = false, changed = false;

    memset(id, 0x42, sizeof(id));
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_fed_in_add(st, id, "nordic", "baltic,nordic,adria",
                                  ewh_now(), &err),
             &err);
    CHECK_OK(
        hub_store_fed_relay_add(st, "nordic", (const uint8_t *)"rcp", 3, &err),
        &err);
    CHECK_OK(
        hub_store_fed_relay_add(st, "nordic", (const uint8_t *)"rcp", 3, &err),
        &err);
    CHECK_OK(hub_store_fed_count_add(st, "baltic", "filtered", "distribution",
                                     2, &err),
             &err);
    CHECK_OK(hub_store_fed_count_add(st, "baltic", "filtered", "distribution",
                                     3, &err),
             &err);
    CHECK_OK(hub_store_fed_count_add(st, "baltic", "sent", NULL, 1, &err),
             &err);
    memset(&row, 0, sizeof(row));
    snprintf(row.region, sizeof(row.region), "baltic");
    snprintf(row.via, sizeof(row.via), "nordic");
    snprintf(row.path, sizeof(row.path), "baltic,nordic");
    row.version = 5;
    row.signed_roster = (const uint8_t *)"ros!";
    row.len = 4;
    CHECK_OK(hub_store_fed_roster_put(st, &row, &err), &err);
    memset(&ee, 0, sizeof(ee));
    ee.kind = EWH_KIND_NODE;
    snprintf(ee.country, sizeof(ee.country), "EE");
    memset(ee.curve, 7, 32);
    CHECK_OK(hub_store_fed_key_put(st, "baltic", &ee, false, &err), &err);
    CHECK_OK(hub_store_fed_key_put(st, "baltic", &ee, true, &err), &err);
    CHECK_OK(hub_store_commit(st, &err), &err);

    CHECK_OK(hub_store_fed_in_peer(st, id, peer, &found, &err), &err);
    CHECK(found && strcmp(peer, "nordic") == 0);
    id[0] = 0;
    CHECK_OK(hub_store_fed_in_peer(st, id, peer, &found, &err), &err);
    CHECK(!found);
    CHECK_OK(
        hub_store_fed_relay_walk(st, "nordic", 10, s_relay_fn, &first, &err),
        &err);
    CHECK(first != 0);
    CHECK_OK(hub_store_begin(st, &err), &err);
    CHECK_OK(hub_store_fed_relay_done(st, "nordic", first, &changed, &err),
             &err);
    CHECK(changed);
    CHECK_OK(hub_store_fed_relay_done(st, "baltic", first + 1, &changed, &err),
             &err);
    CHECK(!changed); /* another peer's seq */
    CHECK_OK(hub_store_commit(st, &err), &err);
    CHECK_OK(hub_store_fed_relay_queued(st, "nordic", &n, &err), &err);
    CHECK(n == 1);
    cnt = hub_store_fed_counts_json(st, &err);
    CHECK(cnt != NULL);
    CHECK(json_integer_value(json_object_get(
              json_object_get(json_object_get(cnt, "baltic"), "filtered"),
              "distribution")) == 5);
    CHECK(json_integer_value(
              json_object_get(json_object_get(cnt, "baltic"), "sent")) == 1);
    json_decref(cnt);
    CHECK_OK(hub_store_fed_key_walk(st, s_key_fn, &k, &err), &err);
    CHECK(k.n == 1 && k.revoked);
    CHECK_OK(hub_store_fed_roster_walk(st, s_roster_fn, &nr, &err), &err);
    CHECK(nr == 1);
    hub_store_close(&st);
}

static void
s_clean(void)
{
    char p[300];

    unlink(s_path);
    snprintf(p, sizeof(p), "%s-wal", s_path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", s_path);
    unlink(p);
}

int
main(void)
{
    CHECK(mkdtemp(s_dir) != NULL);
    snprintf(s_path, sizeof(s_path), "%s/store.db", s_dir);
    test_peers();
    s_clean();
    test_transfers();
    s_clean();
    test_relays_rosters_counters();
    s_clean();
    rmdir(s_dir);
    printf("fed_store: ok\n");
    return 0;
}
