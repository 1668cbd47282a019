/*
 * test_node_hubs.c — the node store with several hubs (node/store_hubs.c,
 * issue 18) on real SQLite files: the upgrade of a store written before
 * several hubs, the list (its checks and limit), min_hubs accounting,
 * what each hub still needs and in which order, per-hub receipts, and
 * the refill of a hub that lost data.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"

static char s_dir[] = "/tmp/ewh-test-node-hubs-XXXXXX";
static char s_path[256];
static unsigned s_n;

static node_store_t *
s_open_path(void)
{
    struct ewh_err err = {0};
    node_store_t *s = node_store_open(s_path, true, &err);

    if (s == NULL) {
        fprintf(stderr, "open: %s\n", err.reason);
        exit(1);
    }
    return s;
}

static node_store_t *
s_open(void)
{
    snprintf(s_path, sizeof(s_path), "%s/store%u.db", s_dir, ++s_n);
    return s_open_path();
}

static struct ewh_pubid
s_hubkey(void)
{
    struct ewh_err err = {0};
    ewh_secret_t *sec = ewh_secret_generate(EWH_KIND_HUB, NULL, &err);
    struct ewh_pubid id;

    CHECK(sec != NULL);
    id = *ewh_secret_pubid(sec);
    ewh_secret_destroy(&sec);
    return id;
}

static void
s_id(char out[EWH_ID_HEX], unsigned n)
{
    snprintf(out, EWH_ID_HEX, "%032x", n);
}

/* Our report n to "HR" and "BG", at level, expiring at expires. */
static void
s_add_out(node_store_t *s, unsigned n, enum ewh_level level, int64_t expires)
{
    struct ewh_err err = {0};
    struct node_msg m;
    const uint8_t env[4] = {1, 2, 3, (uint8_t)n};

    memset(&m, 0, sizeof(m));
    s_id(m.id, n);
    m.outgoing = true;
    m.type = EWH_TYPE_ALERT;
    snprintf(m.origin, sizeof(m.origin), "RS");
    m.level = level;
    snprintf(m.title, sizeof(m.title), "title %u", n);
    m.body = strdup("body");
    CHECK(m.body != NULL);
    m.created_at = ewh_now();
    m.expires_at = expires;
    m.received_at = ewh_now();
    snprintf(m.recipients[0], EWH_CC_BYTES, "HR");
    snprintf(m.recipients[1], EWH_CC_BYTES, "BG");
    m.n_recipients = 2;
    CHECK_OK(node_store_outbox_add(s, &m, env, sizeof(env), &err), &err);
    node_msg_clear(&m);
}

struct s_seen {
    size_t n;
    char ids[16][EWH_ID_HEX];
    int levels[16];
    struct node_hub_cursor last;
};

static int
s_collect(void *ctx, const struct node_hub_entry *e)
{
    struct s_seen *v = ctx;

    if (v->n < 16) {
        snprintf(v->ids[v->n], EWH_ID_HEX, "%s", e->id);
        v->levels[v->n] = (int)e->level;
    }
    v->n++;
    v->last.level = (int)e->level;
    v->last.seq = e->seq;
    return 0;
}

static struct s_seen
s_pending(node_store_t *s, int64_t hub)
{
    struct ewh_err err = {0};
    struct s_seen v;
    struct node_hub_cursor c = NODE_HUB_CURSOR_START;

    memset(&v, 0, sizeof(v));
    CHECK(node_store_hub_pending(s, hub, &c, ewh_now_ms(), 100, s_collect, &v,
                                 &err) == 0);
    return v;
}

static bool
s_has(const struct s_seen *v, unsigned n)
{
    char id[EWH_ID_HEX];
    size_t i;

    s_id(id, n);
    for (i = 0; i < v->n && i < 16; i++)
        if (strcmp(v->ids[i], id) == 0)
            return true;
    return false;
}

static void
s_state(node_store_t *s, unsigned n, const char *want, size_t accepted)
{
    struct ewh_err err = {0};
    char id[EWH_ID_HEX];
    struct node_msg m;

    s_id(id, n);
    CHECK_OK(node_store_msg_get(s, id, &m, &err), &err);
    if (strcmp(m.state, want) != 0 || m.n_hubs_accepted != accepted) {
        fprintf(stderr, "report %u: state %s, accepted by %zu (want %s, %zu)\n",
                n, m.state, m.n_hubs_accepted, want, accepted);
        exit(1);
    }
    node_msg_clear(&m);
}

static int64_t
s_int(node_store_t *s, const char *sql)
{
    struct ewh_err err = {0};
    sqlite3_stmt *st = ewh_db_stmt(s->db, sql, &err);
    int64_t v = -1;

    CHECK(st != NULL);
    CHECK_OK(ewh_db_int(s->db, st, "test", &v, &err), &err);
    return v;
}

/* ---- the upgrade of an older store ---- */

/* The schema node/store.c wrote before several hubs (main at 7996f10),
 * with the tables this test fills. */
static const char s_old_schema[] =
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v);"
    "CREATE TABLE roster(one INTEGER PRIMARY KEY CHECK(one = 1),"
    "  version INTEGER NOT NULL, signed BLOB NOT NULL,"
    "  stored_at INTEGER NOT NULL);"
    "CREATE TABLE msg(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  dir TEXT NOT NULL CHECK(dir IN ('in', 'out')),"
    "  envelope BLOB NOT NULL,"
    "  type INTEGER NOT NULL, origin TEXT NOT NULL, author TEXT NOT NULL,"
    "  level INTEGER NOT NULL, category TEXT NOT NULL, tlp INTEGER NOT NULL,"
    "  title TEXT NOT NULL, body TEXT NOT NULL, urgency TEXT NOT NULL,"
    "  certainty TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL, recipients TEXT NOT NULL,"
    "  to_all INTEGER NOT NULL, received_at INTEGER NOT NULL,"
    "  acked_at INTEGER NOT NULL DEFAULT 0, acked_by TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
    "  next_try INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE refs(id TEXT NOT NULL, ref TEXT NOT NULL,"
    "  PRIMARY KEY(id, ref));"
    "CREATE TABLE rcpt(id TEXT NOT NULL, country TEXT NOT NULL,"
    "  state INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',"
    "  at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(id, country));"
    "CREATE TABLE receipt_out("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    "  kind INTEGER NOT NULL, receipt BLOB NOT NULL,"
    "  done INTEGER NOT NULL DEFAULT 0, UNIQUE(id, kind));"
    "CREATE TABLE receipt_in(id TEXT NOT NULL,"
    "  from_cc TEXT NOT NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL,"
    "  who TEXT NOT NULL, receipt BLOB NOT NULL,"
    "  PRIMARY KEY(id, from_cc, kind));"
    "CREATE TABLE checkpoint(length INTEGER PRIMARY KEY,"
    "  head BLOB NOT NULL, time INTEGER NOT NULL, raw BLOB NOT NULL);"
    "CREATE TABLE refusal(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL, origin TEXT NOT NULL, reason TEXT NOT NULL,"
    "  at INTEGER NOT NULL);"
    /* 1 queued; 2 accepted, no receipt; 3 accepted and delivered to both;
     * 4 refused */
    "INSERT INTO msg(id, dir, envelope, type, origin, author, level,"
    "  category, tlp, title, body, urgency, certainty, created_at,"
    "  expires_at, recipients, to_all, received_at, state) VALUES"
    "  ('00000000000000000000000000000001', 'out', x'01', 1, 'RS', '', 3,"
    "   '', 0, 't1', 'b', '', '', 10, 0, 'HR BG', 0, 10, 'queued'),"
    "  ('00000000000000000000000000000002', 'out', x'02', 1, 'RS', '', 2,"
    "   '', 0, 't2', 'b', '', '', 11, 0, 'HR BG', 0, 11, 'accepted'),"
    "  ('00000000000000000000000000000003', 'out', x'03', 1, 'RS', '', 1,"
    "   '', 0, 't3', 'b', '', '', 12, 0, 'HR BG', 0, 12, 'accepted'),"
    "  ('00000000000000000000000000000004', 'out', x'04', 1, 'RS', '', 1,"
    "   '', 0, 't4', 'b', '', '', 13, 0, 'HR BG', 0, 13, 'refused');"
    "INSERT INTO rcpt(id, country, state, at) VALUES"
    "  ('00000000000000000000000000000001', 'HR', 0, 10),"
    "  ('00000000000000000000000000000001', 'BG', 0, 10),"
    "  ('00000000000000000000000000000002', 'HR', 1, 21),"
    "  ('00000000000000000000000000000002', 'BG', 2, 22),"
    "  ('00000000000000000000000000000003', 'HR', 2, 31),"
    "  ('00000000000000000000000000000003', 'BG', 3, 32),"
    "  ('00000000000000000000000000000004', 'HR', 5, 41),"
    "  ('00000000000000000000000000000004', 'BG', 5, 41);"
    "INSERT INTO checkpoint VALUES(5, zeroblob(32), 100, x'aa'),"
    "  (9, zeroblob(32), 200, x'bb');"
    "INSERT INTO receipt_out(id, kind, receipt, done) VALUES"
    "  ('00000000000000000000000000000007', 0, x'07', 1),"
    "  ('00000000000000000000000000000008', 0, x'08', 0);"
    "INSERT INTO roster VALUES(1, 3, x'0303', 50);";

static void
test_upgrade_old_store(void)
{
    struct ewh_err err = {0};
    struct ewh_pubid k0 = s_hubkey(), k1 = s_hubkey();
    struct node_hub hubs[EWH_MAX_HUBS];
    struct s_seen v;
    sqlite3 *db = NULL;
    node_store_t *s;
    uint64_t len = 0, ver = 0;
    uint8_t *buf = NULL;
    size_t blen = 0, n = 0;
    int64_t id1 = 0;

    snprintf(s_path, sizeof(s_path), "%s/old.db", s_dir);
    CHECK(sqlite3_open(s_path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, s_old_schema, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    s = s_open_path();
    /* nothing listed until the dir seeds hub #0; the old functions act
     * on id 1 meanwhile, which is what the upgrade gave the old rows */
    CHECK_OK(node_store_hubs_count(s, &n, &err), &err);
    CHECK(n == 0);
    CHECK_OK(node_store_checkpoint_length(s, &len, &err), &err);
    CHECK(len == 9);
    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7000", &k0, &err), &err);
    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7999", &k1, &err), &err);
    CHECK_OK(node_store_hubs_list(s, hubs, EWH_MAX_HUBS, &n, &err), &err);
    CHECK(n == 1 && hubs[0].id == NODE_HUB_FIRST_ID && hubs[0].position == 0 &&
          strcmp(hubs[0].endpoint, "tcp://127.0.0.1:7000") == 0 &&
          ewh_pubid_equal(&hubs[0].key, &k0));

    /* the old rows are hub #0's */
    CHECK_OK(node_store_hub_checkpoint_length(s, NODE_HUB_FIRST_ID, &len, &err),
             &err);
    CHECK(len == 9);
    CHECK_OK(node_store_hub_roster_get(s, NODE_HUB_FIRST_ID, &buf, &blen, &ver,
                                       &err),
             &err);
    CHECK(ver == 3 && blen == 2 && buf[0] == 3);
    free(buf);
    s_state(s, 2, "accepted", 1);
    s_state(s, 3, "accepted", 1);
    s_state(s, 1, "queued", 0);
    /* hub #0 needs only what it did not accept: nothing resent */
    v = s_pending(s, NODE_HUB_FIRST_ID);
    CHECK(v.n == 1 && s_has(&v, 1));
    /* the unsent receipt is still owed, the sent one is not */
    CHECK(s_int(s, "SELECT count(*) FROM hub_receipt_todo WHERE hub = 1 AND"
                   " seq = 2") == 1);
    CHECK(s_int(s, "SELECT count(*) FROM hub_receipt_todo") == 1);

    /* a new hub is owed every report some addressee of which has no
     * receipt yet: 1 and 2, not 3 (delivered to both) nor 4 (refused) */
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7001", &k1, ewh_now(), &id1,
                                &err),
             &err);
    CHECK(id1 > NODE_HUB_FIRST_ID);
    v = s_pending(s, id1);
    CHECK(v.n == 2 && s_has(&v, 1) && s_has(&v, 2));
    CHECK(s_int(s, "SELECT count(*) FROM hub_receipt_todo") == 2);
    node_store_close(&s);

    /* opened again: upgraded once, nothing doubled */
    s = s_open_path();
    CHECK(s_int(s, "SELECT count(*) FROM checkpoint") == 2);
    CHECK(s_int(s, "SELECT count(*) FROM hub_accept") == 2);
    CHECK(s_int(s, "SELECT v FROM meta WHERE k = 'hubs_layout'") == 1);
    node_store_close(&s);
}

/* ---- the list ---- */

static void
test_list_checks(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct ewh_pubid k[6];
    struct node_hub h, hubs[EWH_MAX_HUBS];
    char ep[64];
    int64_t id = 0;
    size_t n = 0, i;
    ewh_secret_t *node = ewh_secret_generate(EWH_KIND_NODE, "RS", &err);

    CHECK(node != NULL);
    for (i = 0; i < 6; i++)
        k[i] = s_hubkey();
    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7000", &k[0], &err),
             &err);
    CHECK_FAILS(
        node_store_hub_add(s, "tcp://127.0.0.1:7000", &k[1], 1, &id, &err),
        &err, EWH_E_INVALID, "listed already");
    CHECK_FAILS(
        node_store_hub_add(s, "tcp://127.0.0.1:7001", &k[0], 1, &id, &err),
        &err, EWH_E_INVALID, "as tcp://127.0.0.1:7000");
    CHECK_FAILS(node_store_hub_add(s, "tcp://127.0.0.1:7001",
                                   ewh_secret_pubid(node), 1, &id, &err),
                &err, EWH_E_INVALID, "not a hub's");
    CHECK_FAILS(node_store_hub_add(s, "udp://x:1", &k[1], 1, &id, &err), &err,
                EWH_E_INVALID, "expected tcp://HOST:PORT");
    ewh_secret_destroy(&node);
    for (i = 1; i < EWH_MAX_HUBS; i++) {
        snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%zu", 7000 + i);
        CHECK_OK(node_store_hub_add(s, ep, &k[i], 1, &id, &err), &err);
    }
    CHECK_FAILS(
        node_store_hub_add(s, "tcp://127.0.0.1:7100", &k[5], 1, &id, &err),
        &err, EWH_E_TOOBIG, "EWH_MAX_HUBS");
    CHECK_OK(node_store_hubs_list(s, hubs, EWH_MAX_HUBS, &n, &err), &err);
    CHECK(n == EWH_MAX_HUBS);
    for (i = 0; i < n; i++)
        CHECK(hubs[i].position == (int64_t)i);
    CHECK_FAILS(node_store_hub_remove(s, "tcp://127.0.0.1:7777", &err), &err,
                EWH_E_NOTFOUND, "no hub tcp://127.0.0.1:7777");
    /* the pinned hub follows ewnode.conf hub=, never onto another's */
    CHECK_FAILS(node_store_hub_set_endpoint(s, hubs[0].id,
                                            "tcp://127.0.0.1:7001", &err),
                &err, EWH_E_INVALID, "listed already");
    CHECK_OK(node_store_hub_set_endpoint(s, hubs[0].id, "tcp://127.0.0.1:7050",
                                         &err),
             &err);
    CHECK_OK(node_store_hub_set_endpoint(s, hubs[0].id, "tcp://127.0.0.1:7000",
                                         &err),
             &err);
    /* the rows of a removed hub go with it */
    CHECK_OK(node_store_hub_get(s, "tcp://127.0.0.1:7001", &h, &err), &err);
    CHECK_OK(
        node_store_hub_checkpoint_put(s, h.id, 4,
                                      (const uint8_t *)"0123"
                                                       "4567890123456789012"
                                                       "345678901",
                                      1, (const uint8_t *)"r", 1, &err),
        &err);
    for (i = EWH_MAX_HUBS - 1; i >= 1; i--) {
        snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%zu", 7000 + i);
        CHECK_OK(node_store_hub_remove(s, ep, &err), &err);
    }
    CHECK(s_int(s, "SELECT count(*) FROM checkpoint") == 0);
    CHECK_FAILS(node_store_hub_remove(s, "tcp://127.0.0.1:7000", &err), &err,
                EWH_E_INVALID, "only hub");
    CHECK_OK(node_store_hubs_count(s, &n, &err), &err);
    CHECK(n == 1);
    /* a removed hub's id is never given again */
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7001", &k[1], 1, &id, &err),
             &err);
    CHECK(id > h.id);
    node_store_close(&s);
}

/* ---- min_hubs, order, deferral, refusal ---- */

static void
test_min_hubs_and_order(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct ewh_pubid a = s_hubkey(), b = s_hubkey();
    struct node_hub_counts c;
    struct s_seen v;
    struct node_hub_cursor cur = NODE_HUB_CURSOR_START;
    char id[EWH_ID_HEX];
    int64_t hb = 0, next = 0, now = ewh_now_ms();
    const int64_t ha = NODE_HUB_FIRST_ID;
    bool final = true;

    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7000", &a, &err), &err);
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7001", &b, 1, &hb, &err),
             &err);
    s_add_out(s, 1, EWH_LEVEL_LOW, 0);
    s_add_out(s, 2, EWH_LEVEL_HIGH, 0);
    s_add_out(s, 3, EWH_LEVEL_MEDIUM, ewh_now() + 3600);
    s_add_out(s, 4, EWH_LEVEL_HIGH, 0);
    s_add_out(s, 5, EWH_LEVEL_LOW, ewh_now() - 10); /* expired */

    /* high first, then by seq; the expired one is owed to nobody */
    v = s_pending(s, ha);
    CHECK(v.n == 4);
    CHECK(strcmp(v.ids[0] + 31, "2") == 0 && strcmp(v.ids[1] + 31, "4") == 0 &&
          strcmp(v.ids[2] + 31, "3") == 0 && strcmp(v.ids[3] + 31, "1") == 0);
    /* the cursor goes on after where it stopped */
    memset(&v, 0, sizeof(v));
    CHECK(node_store_hub_pending(s, ha, &cur, now, 2, s_collect, &v, &err) ==
          0);
    CHECK(v.n == 2);
    cur = v.last;
    memset(&v, 0, sizeof(v));
    CHECK(node_store_hub_pending(s, ha, &cur, now, 10, s_collect, &v, &err) ==
          0);
    CHECK(v.n == 2 && strcmp(v.ids[0] + 31, "3") == 0 &&
          strcmp(v.ids[1] + 31, "1") == 0);

    /* min_hubs 2: accepted once both have it */
    s_id(id, 2);
    CHECK_OK(node_store_hub_accepted(s, ha, id, 100, 2, &err), &err);
    s_state(s, 2, "queued", 1);
    CHECK_OK(node_store_hub_counts(s, hb, now, &c, &err), &err);
    CHECK(c.accepted == 0 && c.lagging == 1);
    CHECK_OK(node_store_hub_counts(s, ha, now, &c, &err), &err);
    CHECK(c.accepted == 1 && c.lagging == 0);
    CHECK_OK(node_store_hub_accepted(s, hb, id, 101, 2, &err), &err);
    s_state(s, 2, "accepted", 2);
    /* min_hubs above the hubs listed counts as all of them */
    s_id(id, 4);
    CHECK_OK(node_store_hub_accepted(s, ha, id, 100, 4, &err), &err);
    s_state(s, 4, "queued", 1);
    CHECK_OK(node_store_hub_accepted(s, hb, id, 100, 4, &err), &err);
    s_state(s, 4, "accepted", 2);
    /* min_hubs 1: the first accept does it */
    s_id(id, 3);
    CHECK_OK(node_store_hub_accepted(s, hb, id, 100, 1, &err), &err);
    s_state(s, 3, "accepted", 1);
    v = s_pending(s, hb);
    CHECK(v.n == 1 && s_has(&v, 1));
    v = s_pending(s, ha);
    CHECK(v.n == 2 && s_has(&v, 1) && s_has(&v, 3));

    /* a deferral holds the report back from that hub only */
    s_id(id, 1);
    CHECK_OK(node_store_hub_retry(s, ha, id, now + 60000, "busy", &err), &err);
    v = s_pending(s, ha);
    CHECK(v.n == 1 && s_has(&v, 3));
    CHECK_OK(node_store_hub_next_try(s, ha, now, &next, &err), &err);
    CHECK(next == now + 60000);
    CHECK_OK(node_store_hub_next_try(s, hb, now, &next, &err), &err);
    CHECK(next == 0);
    /* refused for good by one hub: the other still gets it; by both:
     * refused, owed to nobody */
    CHECK_OK(node_store_hub_refused(s, ha, id, "bad", 200, &final, &err), &err);
    CHECK(!final);
    s_state(s, 1, "queued", 0);
    v = s_pending(s, hb);
    CHECK(v.n == 1 && s_has(&v, 1));
    CHECK_OK(node_store_hub_refused(s, hb, id, "bad", 201, &final, &err), &err);
    CHECK(final);
    s_state(s, 1, "refused", 0);
    v = s_pending(s, hb);
    CHECK(v.n == 0);
    /* a refusal after another hub's accept is not final */
    s_id(id, 3);
    CHECK_OK(node_store_hub_refused(s, ha, id, "bad", 202, &final, &err), &err);
    CHECK(!final);
    s_state(s, 3, "accepted", 1);
    node_store_close(&s);
}

/* ---- receipts per hub ---- */

static int
s_rcount(void *ctx, int64_t seq, const char *id, const uint8_t *buf, size_t len)
{
    (void)seq;
    (void)id;
    (void)buf;
    (void)len;
    (*(size_t *)ctx)++;
    return 0;
}

static void
test_receipts_per_hub(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct ewh_pubid a = s_hubkey(), b = s_hubkey(), c = s_hubkey();
    const uint8_t rc[3] = {7, 7, 7};
    char id[EWH_ID_HEX];
    int64_t hb = 0, hc = 0;
    const int64_t ha = NODE_HUB_FIRST_ID;
    size_t n;

    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7000", &a, &err), &err);
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7001", &b, 1, &hb, &err),
             &err);
    s_id(id, 9);
    CHECK_OK(
        node_store_receipt_queue(s, id, EWH_RECEIPT_DELIVERED, rc, 3, &err),
        &err);
    n = 0;
    CHECK(node_store_hub_receipt_pending(s, ha, 0, 10, s_rcount, &n, &err) ==
          0);
    CHECK(n == 1);
    CHECK_OK(
        node_store_hub_receipt_done(s, ha, id, EWH_RECEIPT_DELIVERED, &err),
        &err);
    n = 0;
    CHECK(node_store_hub_receipt_pending(s, ha, 0, 10, s_rcount, &n, &err) ==
          0);
    CHECK(n == 0);
    n = 0;
    CHECK(node_store_hub_receipt_pending(s, hb, 0, 10, s_rcount, &n, &err) ==
          0);
    CHECK(n == 1); /* still owed to the other hub */
    /* a hub added now is not owed a receipt some hub has */
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7002", &c, 1, &hc, &err),
             &err);
    n = 0;
    CHECK(node_store_hub_receipt_pending(s, hc, 0, 10, s_rcount, &n, &err) ==
          0);
    CHECK(n == 0);
    /* ... until it delivers that report again */
    CHECK_OK(node_store_hub_receipt_resend(s, hc, id, &err), &err);
    n = 0;
    CHECK(node_store_hub_receipt_pending(s, hc, 0, 10, s_rcount, &n, &err) ==
          0);
    CHECK(n == 1);
    CHECK_OK(
        node_store_hub_receipt_done(s, hc, id, EWH_RECEIPT_DELIVERED, &err),
        &err);
    /* a receipt naming several reports is found by any of them */
    {
        struct ewh_receipt r;
        char second[EWH_ID_HEX];

        memset(&r, 0, sizeof(r));
        r.kind = EWH_RECEIPT_DELIVERED;
        r.n_ids = 3;
        for (n = 0; n < 3; n++)
            memset(r.ids[n], (int)(0x40 + n), EWH_ID_BYTES);
        CHECK_OK(node_store_receipt_queue_rc(s, &r, rc, 3, &err), &err);
        ewh_hex(r.ids[0], EWH_ID_BYTES, id, sizeof(id));
        ewh_hex(r.ids[1], EWH_ID_BYTES, second, sizeof(second));
        for (n = 0; n < 3; n++)
            CHECK_OK(node_store_hub_receipt_done(s, (int64_t[]){ha, hb, hc}[n],
                                                 id, EWH_RECEIPT_DELIVERED,
                                                 &err),
                     &err);
        CHECK_OK(node_store_hub_receipt_resend(s, hc, second, &err), &err);
        n = 0;
        CHECK(node_store_hub_receipt_pending(s, hc, 0, 10, s_rcount, &n,
                                             &err) == 0);
        CHECK(n == 1);
        n = 0;
        CHECK(node_store_hub_receipt_pending(s, hb, 0, 10, s_rcount, &n,
                                             &err) == 0);
        CHECK(n == 1); /* the first receipt, still owed to hub B */
    }
    node_store_close(&s);
}

/* ---- refill ---- */

static int
s_event(void *ctx, const struct node_hub_event *e)
{
    struct node_hub_event *out = ctx;

    if (strcmp(e->kind, "refill") == 0 && out->seq == 0)
        *out = *e;
    return 0;
}

static void
test_refill_selection(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct ewh_pubid a = s_hubkey(), b = s_hubkey();
    struct node_hub_event ev;
    struct node_msg m;
    struct s_seen v;
    char id[EWH_ID_HEX];
    int64_t hb = 0, n = -1, refills = -1;
    const int64_t ha = NODE_HUB_FIRST_ID;
    unsigned i;

    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7000", &a, &err), &err);
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7001", &b, 1, &hb, &err),
             &err);
    /* 1: accepted by A, no receipt; 2: accepted by A, delivered to both;
     * 3: accepted by A and B, delivered to HR only; 4: accepted by A,
     * expired since; 5: queued (A has nothing to lose) */
    s_add_out(s, 1, EWH_LEVEL_HIGH, 0);
    s_add_out(s, 2, EWH_LEVEL_HIGH, 0);
    s_add_out(s, 3, EWH_LEVEL_MEDIUM, 0);
    s_add_out(s, 4, EWH_LEVEL_LOW, ewh_now() + 2);
    s_add_out(s, 5, EWH_LEVEL_LOW, 0);
    for (i = 1; i <= 4; i++) {
        s_id(id, i);
        CHECK_OK(node_store_hub_accepted(s, ha, id, 100, 1, &err), &err);
    }
    s_id(id, 3);
    CHECK_OK(node_store_hub_accepted(s, hb, id, 101, 1, &err), &err);
    s_id(id, 2);
    CHECK_OK(node_store_rcpt_update(s, id, "HR", NODE_R_DELIVERED, "", 5, &err),
             &err);
    CHECK_OK(
        node_store_rcpt_update(s, id, "BG", NODE_R_ACKNOWLEDGED, "", 6, &err),
        &err);
    s_id(id, 3);
    CHECK_OK(node_store_rcpt_update(s, id, "HR", NODE_R_DELIVERED, "", 5, &err),
             &err);
    v = s_pending(s, ha);
    CHECK(v.n == 1 && s_has(&v, 5));

    CHECK_OK(node_store_hub_refill(s, ha, ewh_now_ms() + 5000, 1,
                                   "chain at 3, held 9", &n, &err),
             &err);
    CHECK(n == 2); /* 1 and 3 */
    v = s_pending(s, ha);
    CHECK(v.n == 3 && s_has(&v, 1) && s_has(&v, 3) && s_has(&v, 5));
    /* 1 had only A: queued again; 3 still has B */
    s_state(s, 1, "queued", 0);
    s_state(s, 3, "accepted", 1);
    s_state(s, 2, "accepted", 1);
    s_id(id, 1);
    CHECK_OK(node_store_msg_get(s, id, &m, &err), &err);
    CHECK(m.n_hubs == 2 && m.hubs[0].resent_at > 0 &&
          m.hubs[0].accepted_at == 0 && m.hubs[1].resent_at == 0);
    CHECK(m.rcpt[0].state == NODE_R_QUEUED);
    node_msg_clear(&m);
    memset(&ev, 0, sizeof(ev));
    CHECK(node_store_hub_events(s, 10, s_event, &ev, &err) == 0);
    CHECK(ev.seq > 0 && ev.hub == ha && ev.n == 2 &&
          strcmp(ev.endpoint, "tcp://127.0.0.1:7000") == 0 &&
          strcmp(ev.why, "chain at 3, held 9") == 0);
    CHECK_OK(node_store_hub_refills(s, ha, &refills, &err), &err);
    CHECK(refills == 1);
    /* nothing left to lose: no second event */
    CHECK_OK(
        node_store_hub_refill(s, ha, ewh_now_ms() + 5000, 1, "again", &n, &err),
        &err);
    CHECK(n == 0);
    CHECK_OK(node_store_hub_refills(s, ha, &refills, &err), &err);
    CHECK(refills == 1);
    node_store_close(&s);
}

/* ---- a hub that went back: its checkpoints set aside ---- */

static int
s_restore(void *ctx, const struct node_hub_restore *r)
{
    *(struct node_hub_restore *)ctx = *r;
    return 0;
}

static void
test_chain_back(void)
{
    struct ewh_err err = {0};
    node_store_t *s = s_open();
    struct ewh_pubid a = s_hubkey(), b = s_hubkey();
    struct node_hub_restore r;
    uint8_t head[32];
    uint64_t len = 0;
    int64_t hb = 0, moved = -1;
    const int64_t ha = NODE_HUB_FIRST_ID;
    unsigned i;

    CHECK_OK(node_store_hubs_seed(s, "tcp://127.0.0.1:7000", &a, &err), &err);
    CHECK_OK(node_store_hub_add(s, "tcp://127.0.0.1:7001", &b, 1, &hb, &err),
             &err);
    for (i = 1; i <= 5; i++) {
        memset(head, (int)i, sizeof(head));
        CHECK_OK(node_store_hub_checkpoint_put(s, ha, i, head, 100 + i,
                                               (const uint8_t *)"r", 1, &err),
                 &err);
        CHECK_OK(node_store_hub_checkpoint_put(s, hb, i, head, 100 + i,
                                               (const uint8_t *)"r", 1, &err),
                 &err);
    }
    CHECK_OK(node_store_hub_chain_back(s, ha, 3, 500, &moved, &err), &err);
    CHECK(moved == 2);
    CHECK_OK(node_store_hub_checkpoint_length(s, ha, &len, &err), &err);
    CHECK(len == 3);
    CHECK_OK(node_store_hub_checkpoint_length(s, hb, &len, &err), &err);
    CHECK(len == 5); /* the other hub's are its own */
    memset(&r, 0, sizeof(r));
    CHECK(node_store_hub_restores(s, ha, s_restore, &r, &err) == 0);
    CHECK(r.back_to == 3 && r.back_at == 500 && r.n == 2 && r.longest == 5 &&
          r.reported_at == 0);
    /* the new chain is held afresh, with its own heads */
    memset(head, 0xee, sizeof(head));
    CHECK_OK(node_store_hub_checkpoint_put(s, ha, 4, head, 600,
                                           (const uint8_t *)"n", 1, &err),
             &err);
    CHECK(s_int(s, "SELECT count(*) FROM checkpoint WHERE hub = 1 AND length"
                   " = 4 AND time = 600") == 1);
    CHECK_OK(node_store_hub_restores_reported(s, ha, 700, &err), &err);
    memset(&r, 0, sizeof(r));
    CHECK(node_store_hub_restores(s, ha, s_restore, &r, &err) == 0);
    CHECK(r.reported_at == 700);
    node_store_close(&s);
}

int
main(void)
{
    CHECK(mkdtemp(s_dir) != NULL);
    RUN(test_upgrade_old_store);
    RUN(test_list_checks);
    RUN(test_min_hubs_and_order);
    RUN(test_receipts_per_hub);
    RUN(test_refill_selection);
    RUN(test_chain_back);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
