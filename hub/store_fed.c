/* store_fed.c — federation (issue 22): the peer hubs, the transfers
 * queued per peer link, where each foreign report came from, the receipts
 * owed to peers, the foreign rosters and the keys pinned from them, and
 * the link counters.  See the fed_* tables in store_schema.c. */
#include "storeint.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_peer_find[] = "SELECT 1 FROM fed_peer WHERE region = ?1";
static const char s_peer_put[] =
    "INSERT OR REPLACE INTO fed_peer(region, endpoint, curve, sign, box,"
    " added_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char s_peer_del[] = "DELETE FROM fed_peer WHERE region = ?1";
static const char s_peer_drop[] =
    "UPDATE fed_out SET state = 4, done_at = ?2 WHERE peer = ?1 AND state = 0";
static const char s_peer_walk[] =
    "SELECT region, endpoint, curve, sign, box, added_at FROM fed_peer"
    " ORDER BY region";
static const char s_out_ins[] =
    "INSERT INTO fed_out(peer, env, level, expires_at, path, queued_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char s_out_walk[] =
    "SELECT seq, level, expires_at, path, env FROM fed_out"
    " WHERE peer = ?1 AND state = 0 ORDER BY level DESC, seq";
static const char s_out_env[] =
    "SELECT id, env FROM envelopes WHERE rowid = ?1";
static const char s_out_done[] = "UPDATE fed_out SET state = ?3, done_at = ?4"
                                 " WHERE seq = ?1 AND peer = ?2 AND state = 0";
static const char s_out_queued[] =
    "SELECT count(*) FROM fed_out WHERE peer = ?1 AND state = 0";
static const char s_out_expired[] =
    "UPDATE fed_out SET state = 2, done_at = ?1"
    " WHERE state = 0 AND expires_at > 0 AND expires_at <= ?1"
    " RETURNING peer, seq";
static const char s_out_unpeered[] =
    "UPDATE fed_out SET state = 5 WHERE state = 4 RETURNING peer, seq";
static const char s_out_envelope[] =
    "SELECT e.env FROM fed_out o JOIN envelopes e ON e.rowid = o.env"
    " WHERE o.seq = ?1 AND o.peer = ?2";
static const char s_in_ins[] =
    "INSERT OR IGNORE INTO fed_in(id, peer, path, at) VALUES(?1, ?2, ?3, ?4)";
static const char s_in_peer[] = "SELECT peer FROM fed_in WHERE id = ?1";
static const char s_relay_ins[] =
    "INSERT INTO fed_relay(peer, kind, payload, created_at)"
    " VALUES(?1, ?4, ?2, ?3)";
static const char s_relay_walk[] =
    "SELECT seq, payload, kind FROM fed_relay WHERE peer = ?1 AND done = 0"
    " ORDER BY seq LIMIT ?2";
static const char s_relay_done[] =
    "UPDATE fed_relay SET done = 1 WHERE seq = ?1 AND peer = ?2 AND done = 0";
static const char s_relay_queued[] =
    "SELECT count(*) FROM fed_relay WHERE peer = ?1 AND done = 0";
static const char s_roster_put[] =
    "INSERT OR REPLACE INTO fed_roster(region, via, hub_sign, version, signed,"
    " path, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char s_roster_walk[] =
    "SELECT region, via, hub_sign, version, signed, path FROM fed_roster"
    " ORDER BY region";
static const char s_key_put[] =
    "INSERT OR REPLACE INTO fed_key(country, region, curve, sign, box,"
    " revoked, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char s_key_walk[] =
    "SELECT country, region, curve, sign, box, revoked FROM fed_key"
    " ORDER BY country";
static const char s_count_add[] =
    "INSERT INTO fed_counts(peer, what, code, n) VALUES(?1, ?2, ?3, ?4)"
    " ON CONFLICT(peer, what, code) DO UPDATE SET n = n + ?4";
static const char s_count_walk[] =
    "SELECT peer, what, code, n FROM fed_counts ORDER BY peer, what, code";

/* ---- peers ---- */

int
hub_store_fed_peer_put(hub_store_t *st, const struct hub_fed_peer_row *p,
                       bool *replaced, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_peer_find, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, p->region, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "find peer", err)) < 0)
        return -1;
    sqlite3_reset(s);
    *replaced = rc == 1;
    if ((s = ewh_db_stmt(st->db, s_peer_put, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, p->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p->endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, p->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, p->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, p->box, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, p->added_at);
    if (ewh_db_done(st->db, s, "enrol peer", err) != 0)
        return -1;
    return hub_store__bump(st, err);
}

int
hub_store_fed_peer_remove(hub_store_t *st, const char *region,
                          uint64_t *dropped, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_peer_del, err);

    *dropped = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, region, -1, SQLITE_STATIC);
    if (ewh_db_done(st->db, s, "remove peer", err) != 0)
        return -1;
    if (sqlite3_changes(hub_store__sql(st)) == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no peer %s", region);
    if ((s = ewh_db_stmt(st->db, s_peer_drop, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, region, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ewh_now());
    if (ewh_db_done(st->db, s, "drop transfers", err) != 0)
        return -1;
    *dropped = (uint64_t)sqlite3_changes(hub_store__sql(st));
    if (*dropped > 0 && hub_store_fed_count_add(st, region, "dropped",
                                                "unpeered", *dropped, err) != 0)
        return -1;
    return hub_store__bump(st, err);
}

int
hub_store_fed_peer_walk(hub_store_t *st, hub_fed_peer_fn fn, void *ctx,
                        struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_peer_walk, err);
    struct hub_fed_peer_row p;
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "walk peers", err)) == 1) {
        memset(&p, 0, sizeof(p));
        if (!ewh_db_text(s, 0, p.region, sizeof(p.region)) ||
            !ewh_db_text(s, 1, p.endpoint, sizeof(p.endpoint)) ||
            !ewh_db_blob(s, 2, p.curve, 32) || !ewh_db_blob(s, 3, p.sign, 32) ||
            !ewh_db_blob(s, 4, p.box, 32)) {
            sqlite3_reset(s);
            return ewh_err_set(err, EWH_E_STORE, "a fed_peer row is damaged");
        }
        p.added_at = sqlite3_column_int64(s, 5);
        if (fn(ctx, &p) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* ---- transfers queued per peer ---- */

int
hub_store_fed_out_add(hub_store_t *st, const char *peer, int64_t env, int level,
                      int64_t expires_at, const char *path, int64_t now,
                      struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_out_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, env);
    sqlite3_bind_int(s, 3, level);
    sqlite3_bind_int64(s, 4, expires_at);
    sqlite3_bind_text(s, 5, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    return ewh_db_done(st->db, s, "queue transfer", err);
}

int
hub_store_fed_out_walk(hub_store_t *st, const char *peer, size_t limit,
                       hub_fed_skip_fn skip, void *skip_ctx, hub_fed_qrow_fn fn,
                       void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_out_walk, err), *e;
    struct hub_fed_qrow r;
    int rc = 0, erc;

    if (s == NULL || (e = ewh_db_stmt(st->db, s_out_env, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    while (limit > 0 &&
           (rc = ewh_db_step(st->db, s, "walk transfers", err)) == 1) {
        memset(&r, 0, sizeof(r));
        r.seq = (uint64_t)sqlite3_column_int64(s, 0);
        limit--;
        if (skip != NULL && skip(skip_ctx, r.seq))
            continue;
        r.level = sqlite3_column_int(s, 1);
        r.expires_at = sqlite3_column_int64(s, 2);
        r.path = (const char *)sqlite3_column_text(s, 3);
        sqlite3_bind_int64(e, 1, sqlite3_column_int64(s, 4));
        if ((erc = ewh_db_step(st->db, e, "read transfer", err)) != 1) {
            sqlite3_reset(s);
            return erc < 0 ? -1
                           : ewh_err_set(err, EWH_E_STORE,
                                         "transfer %llu has no envelope",
                                         (unsigned long long)r.seq);
        }
        (void)ewh_db_blob(e, 0, r.id, EWH_ID_BYTES);
        r.env = sqlite3_column_blob(e, 1);
        r.env_len = (size_t)sqlite3_column_bytes(e, 1);
        rc = r.path != NULL && r.env_len > 0 ? fn(ctx, &r) : 0;
        sqlite3_reset(e);
        if (rc != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    if (limit == 0)
        sqlite3_reset(s);
    return rc < 0 ? -1 : 0;
}

int
hub_store_fed_out_done(hub_store_t *st, const char *peer, uint64_t seq,
                       enum hub_fed_out_state state, bool *changed,
                       struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_out_done, err);

    *changed = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, peer, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, (int)state);
    sqlite3_bind_int64(s, 4, ewh_now());
    if (ewh_db_done(st->db, s, "transfer done", err) != 0)
        return -1;
    *changed = sqlite3_changes(hub_store__sql(st)) > 0;
    return 0;
}

static int
s_count_of(hub_store_t *st, const char *sql, const char *peer, uint64_t *n,
           struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, sql, err);
    int64_t v = 0;

    *n = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    if (ewh_db_int(st->db, s, "count", &v, err) != 0)
        return -1;
    *n = (uint64_t)v;
    return 0;
}

int
hub_store_fed_out_envelope(hub_store_t *st, const char *peer, uint64_t seq,
                           uint8_t **buf, size_t *len, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_out_envelope, err);
    int rc;

    *buf = NULL;
    *len = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, peer, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read transfer", err)) < 0)
        return -1;
    if (rc == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no transfer %llu",
                           (unsigned long long)seq);
    *len = (size_t)sqlite3_column_bytes(s, 0);
    if (*len == 0 || (*buf = malloc(*len)) == NULL) {
        sqlite3_reset(s);
        return ewh_err_set(err, *len == 0 ? EWH_E_NOTFOUND : EWH_E_NOMEM,
                           "envelope of transfer %llu unreadable",
                           (unsigned long long)seq);
    }
    memcpy(*buf, sqlite3_column_blob(s, 0), *len);
    sqlite3_reset(s);
    return 0;
}

int
hub_store_fed_out_queued(hub_store_t *st, const char *peer, uint64_t *n,
                         struct ewh_err *err)
{
    return s_count_of(st, s_out_queued, peer, n, err);
}

/* Runs an UPDATE ... RETURNING peer, seq: the rows are read to the end
 * first (the statement is done), then fn is told each (it may use the
 * store); fn's -1 is returned. */
static int
s_out_returning(hub_store_t *st, sqlite3_stmt *s, const char *what,
                int (*fn)(void *, const char *, uint64_t), void *ctx, size_t *n,
                struct ewh_err *err)
{
    struct {
        char peer[EWH_MAX_REGION_BYTES + 1];
        uint64_t seq;
    } *rows = NULL, *nr;
    size_t cap = 0, i;
    int rc;

    *n = 0;
    while ((rc = ewh_db_step(st->db, s, what, err)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            if ((nr = realloc(rows, cap * sizeof(*rows))) == NULL) {
                sqlite3_reset(s);
                free(rows);
                return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
            }
            rows = nr;
        }
        (void)ewh_db_text(s, 0, rows[*n].peer, sizeof(rows[*n].peer));
        rows[*n].seq = (uint64_t)sqlite3_column_int64(s, 1);
        (*n)++;
    }
    for (i = 0; rc == 0 && fn != NULL && i < *n; i++)
        if (fn(ctx, rows[i].peer, rows[i].seq) != 0)
            rc = -1;
    free(rows);
    return rc < 0 ? -1 : 0;
}

struct s_expired_ctx {
    hub_fed_expired_fn fn;
    void *ctx;
};

static int
s_expired_one(void *ctx, const char *peer, uint64_t seq)
{
    struct s_expired_ctx *c = ctx;

    if (c->fn != NULL)
        c->fn(c->ctx, peer, seq);
    return 0;
}

int
hub_store_fed_out_expire(hub_store_t *st, int64_t now, hub_fed_expired_fn fn,
                         void *ctx, size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_out_expired, err);
    struct s_expired_ctx c = {fn, ctx};

    *n = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    return s_out_returning(st, s, "expire transfers", s_expired_one, &c, n,
                           err);
}

int
hub_store_fed_out_unpeered(hub_store_t *st, hub_fed_unpeered_fn fn, void *ctx,
                           size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_out_unpeered, err);

    *n = 0;
    if (s == NULL)
        return -1;
    return s_out_returning(st, s, "tell unpeered", fn, ctx, n, err);
}

/* ---- where foreign reports came from ---- */

int
hub_store_fed_in_add(hub_store_t *st, const uint8_t id[EWH_ID_BYTES],
                     const char *peer, const char *path, int64_t now,
                     struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_in_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id, EWH_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    return ewh_db_done(st->db, s, "note transfer", err);
}

int
hub_store_fed_in_peer(hub_store_t *st, const uint8_t id[EWH_ID_BYTES],
                      char peer[EWH_MAX_REGION_BYTES + 1], bool *found,
                      struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_in_peer, err);
    int rc;

    *found = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id, EWH_ID_BYTES, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "find transfer", err)) < 0)
        return -1;
    if (rc == 1) {
        *found = ewh_db_text(s, 0, peer, EWH_MAX_REGION_BYTES + 1);
        sqlite3_reset(s);
    }
    return 0;
}

/* ---- receipts owed to peers ---- */

static int
s_relay_add(hub_store_t *st, const char *peer, int kind, const uint8_t *buf,
            size_t len, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_relay_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, ewh_now());
    sqlite3_bind_int(s, 4, kind);
    return ewh_db_done(st->db, s, "queue relay for peer", err);
}

int
hub_store_fed_relay_add(hub_store_t *st, const char *peer, const uint8_t *buf,
                        size_t len, struct ewh_err *err)
{
    return s_relay_add(st, peer, HUB_RELAY_RECEIPT, buf, len, err);
}

int
hub_store_fed_notice_add(hub_store_t *st, const char *peer, const uint8_t *buf,
                         size_t len, struct ewh_err *err)
{
    return s_relay_add(st, peer, HUB_RELAY_NOTICE, buf, len, err);
}

int
hub_store_fed_relay_walk(hub_store_t *st, const char *peer, size_t limit,
                         hub_fed_relay_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_relay_walk, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)limit);
    while ((rc = ewh_db_step(st->db, s, "walk peer receipts", err)) == 1)
        if (fn(ctx, (uint64_t)sqlite3_column_int64(s, 0),
               sqlite3_column_int(s, 2), sqlite3_column_blob(s, 1),
               (size_t)sqlite3_column_bytes(s, 1)) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    return rc < 0 ? -1 : 0;
}

int
hub_store_fed_relay_done(hub_store_t *st, const char *peer, uint64_t seq,
                         bool *changed, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_relay_done, err);

    *changed = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, peer, -1, SQLITE_STATIC);
    if (ewh_db_done(st->db, s, "peer receipt done", err) != 0)
        return -1;
    *changed = sqlite3_changes(hub_store__sql(st)) > 0;
    return 0;
}

int
hub_store_fed_relay_queued(hub_store_t *st, const char *peer, uint64_t *n,
                           struct ewh_err *err)
{
    return s_count_of(st, s_relay_queued, peer, n, err);
}

/* ---- foreign rosters and pinned keys ---- */

int
hub_store_fed_roster_put(hub_store_t *st, const struct hub_fed_roster_row *r,
                         struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_roster_put, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, r->region, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->via, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, r->hub_sign, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)r->version);
    sqlite3_bind_blob(s, 5, r->signed_roster, (int)r->len, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, ewh_now());
    return ewh_db_done(st->db, s, "keep foreign roster", err);
}

int
hub_store_fed_roster_walk(hub_store_t *st, hub_fed_roster_fn fn, void *ctx,
                          struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_roster_walk, err);
    struct hub_fed_roster_row r;
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "walk foreign rosters", err)) == 1) {
        memset(&r, 0, sizeof(r));
        if (!ewh_db_text(s, 0, r.region, sizeof(r.region)) ||
            !ewh_db_text(s, 1, r.via, sizeof(r.via)) ||
            !ewh_db_blob(s, 2, r.hub_sign, 32) ||
            !ewh_db_text(s, 5, r.path, sizeof(r.path))) {
            sqlite3_reset(s);
            return ewh_err_set(err, EWH_E_STORE, "a fed_roster row is damaged");
        }
        r.version = (uint64_t)sqlite3_column_int64(s, 3);
        r.signed_roster = sqlite3_column_blob(s, 4);
        r.len = (size_t)sqlite3_column_bytes(s, 4);
        if (fn(ctx, &r) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_fed_key_put(hub_store_t *st, const char *region,
                      const struct ewh_pubid *id, bool revoked,
                      struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_key_put, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, id->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, id->box, 32, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, revoked ? 1 : 0);
    sqlite3_bind_int64(s, 7, ewh_now());
    return ewh_db_done(st->db, s, "pin foreign key", err);
}

int
hub_store_fed_key_walk(hub_store_t *st, hub_fed_key_fn fn, void *ctx,
                       struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_key_walk, err);
    char region[EWH_MAX_REGION_BYTES + 1];
    struct ewh_pubid id;
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "walk foreign keys", err)) == 1) {
        memset(&id, 0, sizeof(id));
        id.kind = EWH_KIND_NODE;
        if (!ewh_db_text(s, 0, id.country, sizeof(id.country)) ||
            !ewh_db_text(s, 1, region, sizeof(region)) ||
            !ewh_db_blob(s, 2, id.curve, 32) ||
            !ewh_db_blob(s, 3, id.sign, 32) || !ewh_db_blob(s, 4, id.box, 32)) {
            sqlite3_reset(s);
            return ewh_err_set(err, EWH_E_STORE, "a fed_key row is damaged");
        }
        if (fn(ctx, region, &id, sqlite3_column_int(s, 5) != 0) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* ---- counters ---- */

int
hub_store_fed_count_add(hub_store_t *st, const char *peer, const char *what,
                        const char *code, uint64_t n, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_count_add, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, what, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, code != NULL ? code : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)n);
    return ewh_db_done(st->db, s, "count link", err);
}

json_t *
hub_store_fed_counts_json(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_count_walk, err);
    char peer[EWH_MAX_REGION_BYTES + 1], what[32], code[32];
    json_t *all, *o, *w;
    int rc;

    if (s == NULL)
        return NULL;
    if ((all = json_object()) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    while ((rc = ewh_db_step(st->db, s, "walk link counters", err)) == 1) {
        json_int_t n = (json_int_t)sqlite3_column_int64(s, 3);
        (void)ewh_db_text(s, 0, peer, sizeof(peer));
        (void)ewh_db_text(s, 1, what, sizeof(what));
        (void)ewh_db_text(s, 2, code, sizeof(code));
        if ((o = json_object_get(all, peer)) == NULL) {
            o = json_object();
            json_object_set_new(all, peer, o);
        }
        if (code[0] == '\0') {
            json_object_set_new(o, what, json_integer(n));
            continue;
        }
        if ((w = json_object_get(o, what)) == NULL) {
            w = json_object();
            json_object_set_new(o, what, w);
        }
        json_object_set_new(w, code, json_integer(n));
    }
    if (rc < 0) {
        json_decref(all);
        return NULL;
    }
    return all;
}
