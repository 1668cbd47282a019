/*
 * store_hubs.c — several hubs in the node store (issue 18,
 * docs/redundancy.md): the list of hubs with their pinned identities, per
 * report and hub the durable accept (and a hub's deferral or refusal),
 * which outbox entries each hub still needs, per hub the audit
 * checkpoints, the latest roster and the receipts still to send, and the
 * refill of a hub that lost data.
 *
 * Tables (created, and an older store upgraded, by
 * node_store_hubs_schema() on every open):
 *   hubs(id, position, endpoint, sign, pubid, fingerprint, added_at)
 *   hub_accept(id, hub, at)          the hub acknowledged report id
 *   hub_try(id, hub, next_try, refused, reason, at)   deferred / refused
 *   hub_need(seq, id, level, expires_at)  our reports some addressee of
 *                                    which has no receipt yet: what a hub
 *                                    may still need (small, unlike msg)
 *   hub_resent(id, hub, endpoint, at)    refilled after the hub lost data
 *   hub_event(seq, hub, endpoint, kind, why, n, at)
 *   hub_roster(hub, version, signed, at)
 *   hub_receipt_todo(hub, seq)       receipt_out rows not yet acked by hub
 *   hub_todo(hub, level, seq)        hub_need rows hub has not accepted
 *   checkpoint_old(hub, length, ..., back_to, back_at, reported_at)
 *                                    checkpoints beyond the chain a hub
 *                                    showed when it went back
 *   checkpoint(hub, length, head, time, raw)   (hub added by the upgrade)
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LAYOUT 1 /* meta 'hubs_layout' */

static const char s_tables[] =
    "CREATE TABLE IF NOT EXISTS hubs(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  position INTEGER NOT NULL, endpoint TEXT NOT NULL UNIQUE,"
    "  sign BLOB NOT NULL UNIQUE, pubid TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL, added_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS hub_accept(id TEXT NOT NULL,"
    "  hub INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(id, hub));"
    "CREATE INDEX IF NOT EXISTS hub_accept_hub ON hub_accept(hub);"
    "CREATE TABLE IF NOT EXISTS hub_try(id TEXT NOT NULL,"
    "  hub INTEGER NOT NULL, next_try INTEGER NOT NULL DEFAULT 0,"
    "  refused INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
    "  at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(id, hub));"
    "CREATE TABLE IF NOT EXISTS hub_need(seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE, level INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS hub_need_order ON hub_need(level DESC, seq);"
    "CREATE TABLE IF NOT EXISTS hub_resent(id TEXT NOT NULL,"
    "  hub INTEGER NOT NULL, endpoint TEXT NOT NULL, at INTEGER NOT NULL,"
    "  PRIMARY KEY(id, hub));"
    "CREATE TABLE IF NOT EXISTS hub_event(seq INTEGER PRIMARY KEY"
    "  AUTOINCREMENT, hub INTEGER NOT NULL, endpoint TEXT NOT NULL,"
    "  kind TEXT NOT NULL, why TEXT NOT NULL, n INTEGER NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS hub_roster(hub INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL, signed BLOB NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS hub_receipt_todo(hub INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL, PRIMARY KEY(hub, seq));"
    /* per hub, the hub_need rows it has not accepted (nor refused):
     * what node_store_hub_pending() walks, high level first */
    "CREATE TABLE IF NOT EXISTS hub_todo(hub INTEGER NOT NULL,"
    "  level INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY(hub, level DESC, seq)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS hub_todo_seq ON hub_todo(seq);"
    "CREATE INDEX IF NOT EXISTS hub_need_exp ON hub_need(expires_at)"
    "  WHERE expires_at > 0;"
    /* every report each receipt we signed names (receipt_out.id is the
     * first only): node_store_hub_receipt_resend() */
    "CREATE TABLE IF NOT EXISTS receipt_out_ids(id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, PRIMARY KEY(id, seq));"
    /* checkpoints held of a hub beyond the chain it showed when it went
     * back (lost data): kept as evidence, no longer the longest held */
    "CREATE TABLE IF NOT EXISTS checkpoint_old(hub INTEGER NOT NULL,"
    "  length INTEGER NOT NULL, head BLOB NOT NULL, time INTEGER NOT NULL,"
    "  raw BLOB NOT NULL, back_to INTEGER NOT NULL, back_at INTEGER NOT"
    "  NULL, reported_at INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(hub, back_at, length));";

/* The upgrade of a store made before several hubs: everything it holds
 * about its one hub becomes hub #0's (id 1).  The checkpoint table gains
 * its hub column (default 1, so that an older ewnode still writes hub
 * #0's). */
static const char s_upgrade[] =
    "CREATE TABLE checkpoint_hubs(hub INTEGER NOT NULL DEFAULT 1,"
    "  length INTEGER NOT NULL, head BLOB NOT NULL, time INTEGER NOT NULL,"
    "  raw BLOB NOT NULL, PRIMARY KEY(hub, length));"
    "INSERT INTO checkpoint_hubs(hub, length, head, time, raw)"
    "  SELECT 1, length, head, time, raw FROM checkpoint;"
    "DROP TABLE checkpoint;"
    "ALTER TABLE checkpoint_hubs RENAME TO checkpoint;"
    "INSERT OR IGNORE INTO hub_accept(id, hub, at)"
    "  SELECT m.id, 1, coalesce((SELECT max(r.at) FROM rcpt r"
    "  WHERE r.id = m.id), m.received_at) FROM msg m"
    "  WHERE m.dir = 'out' AND m.state = 'accepted';"
    "INSERT OR IGNORE INTO hub_need(seq, id, level, expires_at)"
    "  SELECT m.seq, m.id, m.level, m.expires_at FROM msg m"
    "  WHERE m.dir = 'out' AND m.state IN ('queued', 'accepted') AND"
    "  (EXISTS (SELECT 1 FROM rcpt r WHERE r.id = m.id AND r.state < 2) OR"
    "   NOT EXISTS (SELECT 1 FROM rcpt r WHERE r.id = m.id));"
    "INSERT OR IGNORE INTO hub_receipt_todo(hub, seq)"
    "  SELECT 1, seq FROM receipt_out WHERE done = 0;"
    "INSERT OR IGNORE INTO hub_todo(hub, level, seq)"
    "  SELECT 1, n.level, n.seq FROM hub_need n WHERE NOT EXISTS (SELECT 1"
    "  FROM hub_accept a WHERE a.id = n.id AND a.hub = 1);"
    "INSERT OR IGNORE INTO receipt_out_ids(id, seq)"
    "  SELECT id, seq FROM receipt_out;"
    "INSERT OR IGNORE INTO hub_roster(hub, version, signed, at)"
    "  SELECT 1, version, signed, stored_at FROM roster WHERE one = 1;";

static int
s_layout(node_store_t *s, int64_t *v, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT coalesce((SELECT v FROM meta WHERE"
                                   " k = 'hubs_layout'), 0)",
                                   err);

    if (st == NULL)
        return -1;
    return ewh_db_int(s->db, st, "read the store layout", v, err);
}

int
node_store_hubs_schema(node_store_t *s, struct ewh_err *err)
{
    int64_t v = 0;

    if (s_layout(s, &v, err) != 0)
        return -1;
    if (v >= S_LAYOUT)
        return 0;
    /* Another process may be upgrading it now: look again under the
     * write lock. */
    if (ewh_db_begin(s->db, true, err) != 0)
        return -1;
    if (s_layout(s, &v, err) != 0)
        goto fail;
    if (v < S_LAYOUT &&
        (ewh_db_exec(s->db, s_tables, "create the hub tables", err) != 0 ||
         ewh_db_exec(s->db, s_upgrade, "upgrade the store to several hubs",
                     err) != 0 ||
         ewh_db_exec(s->db,
                     "INSERT OR REPLACE INTO meta(k, v) VALUES('hubs_layout',"
                     " 1)",
                     "record the store layout", err) != 0))
        goto fail;
    return ewh_db_commit(s->db, err);
fail:
    ewh_db_rollback(s->db);
    return -1;
}

/* ---- the list ---- */

#define S_HUB_COLS "id, position, endpoint, pubid, added_at"

static int
s_hub_row(sqlite3_stmt *st, struct node_hub *h, struct ewh_err *err)
{
    const char *text = (const char *)sqlite3_column_text(st, 3);
    struct ewh_err e = {0};

    memset(h, 0, sizeof(*h));
    h->id = sqlite3_column_int64(st, 0);
    h->position = sqlite3_column_int64(st, 1);
    (void)ewh_db_text(st, 2, h->endpoint, sizeof(h->endpoint));
    h->added_at = sqlite3_column_int64(st, 4);
    if (text == NULL ||
        ewh_pubid_parse(text, (size_t)sqlite3_column_bytes(st, 3), &h->key,
                        &e) != 0)
        return ewh_err_set(err, EWH_E_STORE,
                           "store: bad identity of hub %s: %s", h->endpoint,
                           e.reason);
    ewh_pubid_fingerprint(&h->key, h->fp);
    return 0;
}

int
node_store_hubs_list(node_store_t *s, struct node_hub *out, size_t cap,
                     size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db, "SELECT " S_HUB_COLS " FROM hubs ORDER BY position, id", err);
    int rc;

    *n = 0;
    if (st == NULL)
        return -1;
    while ((rc = ewh_db_step(s->db, st, "list the hubs", err)) == 1 &&
           *n < cap) {
        if (s_hub_row(st, &out[*n], err) != 0) {
            sqlite3_reset(st);
            return -1;
        }
        (*n)++;
    }
    if (rc == 1)
        sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

int
node_store_hubs_count(node_store_t *s, size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db, "SELECT count(*) FROM hubs", err);
    int64_t v = 0;

    if (st == NULL || ewh_db_int(s->db, st, "count the hubs", &v, err) != 0)
        return -1;
    *n = (size_t)v;
    return 0;
}

static int
s_hub_one(node_store_t *s, const char *sql, const char *endpoint, int64_t id,
          struct node_hub *out, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db, sql, err);
    int rc;

    if (st == NULL)
        return -1;
    if (endpoint != NULL)
        sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, id);
    if ((rc = ewh_db_step(s->db, st, "read a hub", err)) <= 0) {
        if (rc < 0)
            return -1;
        if (endpoint != NULL)
            return ewh_err_set(err, EWH_E_NOTFOUND, "no hub %s is listed",
                               endpoint);
        return ewh_err_set(err, EWH_E_NOTFOUND, "no hub with id %lld",
                           (long long)id);
    }
    rc = s_hub_row(st, out, err);
    sqlite3_reset(st);
    return rc;
}

int
node_store_hub_get(node_store_t *s, const char *endpoint, struct node_hub *out,
                   struct ewh_err *err)
{
    return s_hub_one(s, "SELECT " S_HUB_COLS " FROM hubs WHERE endpoint = ?",
                     endpoint, 0, out, err);
}

int
node_store_hub_by_id(node_store_t *s, int64_t id, struct node_hub *out,
                     struct ewh_err *err)
{
    return s_hub_one(s, "SELECT " S_HUB_COLS " FROM hubs WHERE id = ?", NULL,
                     id, out, err);
}

int
node_store_hub_first(node_store_t *s, int64_t *id, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT coalesce((SELECT id FROM hubs ORDER"
                                   " BY position, id LIMIT 1), 1)",
                                   err);

    if (st == NULL)
        return -1;
    return ewh_db_int(s->db, st, "read the first hub", id, err);
}

/* Insert a hub row with id (0: a new one) at the end of the list. */
static int
s_insert(node_store_t *s, int64_t id, const char *endpoint,
         const struct ewh_pubid *key, int64_t at, struct ewh_err *err)
{
    char text[EWH_MAX_PUBID_BYTES], fp[EWH_FINGERPRINT_CHARS];
    sqlite3_stmt *st;

    if (key->kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID,
                           "the identity for %s is not a hub's", endpoint);
    if (strlen(endpoint) >= EWH_MAX_HUB_ENDPOINT_BYTES ||
        strncmp(endpoint, "tcp://", 6) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "hub '%.64s': expected tcp://HOST:PORT (at most "
                           "%u bytes)",
                           endpoint, EWH_MAX_HUB_ENDPOINT_BYTES - 1);
    if (ewh_pubid_format(key, text, sizeof(text), err) < 0)
        return -1;
    ewh_pubid_fingerprint(key, fp);
    st = ewh_db_stmt(s->db,
                     "INSERT INTO hubs(id, position, endpoint, sign, pubid,"
                     " fingerprint, added_at) VALUES(nullif(?1, 0),"
                     " coalesce((SELECT max(position) + 1 FROM hubs), 0),"
                     " ?2, ?3, ?4, ?5, ?6)",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, key->sign, EWH_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, fp, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, at);
    if (ewh_db_done(s->db, st, "list a hub", err) != 0)
        return -1;
    /* it is owed what is still needed and it has not accepted */
    st = ewh_db_stmt(s->db,
                     "INSERT OR IGNORE INTO hub_todo(hub, level, seq) SELECT"
                     " ?1, n.level, n.seq FROM hub_need n WHERE NOT EXISTS"
                     " (SELECT 1 FROM hub_accept a WHERE a.id = n.id AND"
                     " a.hub = ?1)",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(
        st, 1, id != 0 ? id : sqlite3_last_insert_rowid(ewh_db_handle(s->db)));
    return ewh_db_done(s->db, st, "owe reports to a new hub", err);
}

int
node_store_hubs_seed(node_store_t *s, const char *endpoint,
                     const struct ewh_pubid *key, struct ewh_err *err)
{
    size_t n = 0;

    if (node_store_hubs_count(s, &n, err) != 0)
        return -1;
    if (n > 0)
        return 0;
    if (ewh_db_begin(s->db, true, err) != 0)
        return -1;
    if (node_store_hubs_count(s, &n, err) != 0)
        goto fail;
    if (n == 0 &&
        s_insert(s, NODE_HUB_FIRST_ID, endpoint, key, ewh_now(), err) != 0)
        goto fail;
    return ewh_db_commit(s->db, err);
fail:
    ewh_db_rollback(s->db);
    return -1;
}

static int
s_event(node_store_t *s, int64_t hub, const char *endpoint, const char *kind,
        const char *why, int64_t n, int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT INTO hub_event(hub, endpoint, kind,"
                                   " why, n, at) VALUES(?, ?, ?, ?, ?, ?)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_text(st, 2, endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, why != NULL ? why : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, n);
    sqlite3_bind_int64(st, 6, at);
    return ewh_db_done(s->db, st, "record a hub event", err);
}

/* Run sql bound with (?1 = id) for one hub's rows. */
static int
s_exec_hub(node_store_t *s, const char *sql, int64_t hub, const char *what,
           struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db, sql, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    return ewh_db_done(s->db, st, what, err);
}

int
node_store_hub_add(node_store_t *s, const char *endpoint,
                   const struct ewh_pubid *key, int64_t at, int64_t *id,
                   struct ewh_err *err)
{
    struct ewh_err e = {0};
    struct node_hub h;
    sqlite3_stmt *st;
    size_t n = 0;
    int rc;

    if (ewh_db_begin(s->db, true, err) != 0)
        return -1;
    if (node_store_hubs_count(s, &n, err) != 0)
        goto fail;
    if (n >= EWH_MAX_HUBS) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "%zu hubs are listed already, the most a node uses "
                    "(EWH_MAX_HUBS)",
                    n);
        goto fail;
    }
    if ((rc = node_store_hub_get(s, endpoint, &h, &e)) == 0) {
        ewh_err_set(err, EWH_E_INVALID,
                    "hub %s is listed already (fingerprint %s); a hub "
                    "there with new keys is another hub: remove this one "
                    "first",
                    endpoint, h.fp);
        goto fail;
    }
    if (e.code != EWH_E_NOTFOUND) {
        if (err != NULL)
            *err = e;
        goto fail;
    }
    if ((st = ewh_db_stmt(s->db, "SELECT endpoint FROM hubs WHERE sign = ?",
                          err)) == NULL)
        goto fail;
    sqlite3_bind_blob(st, 1, key->sign, EWH_KEY_BYTES, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "look for the hub key", err)) != 0) {
        if (rc > 0) {
            (void)ewh_db_text(st, 0, h.endpoint, sizeof(h.endpoint));
            sqlite3_reset(st);
            ewh_err_set(err, EWH_E_INVALID,
                        "this hub identity is listed already, as %s "
                        "(remove that one first)",
                        h.endpoint);
        }
        goto fail;
    }
    if (s_insert(s, 0, endpoint, key, at, err) != 0 ||
        node_store_hub_get(s, endpoint, &h, err) != 0)
        goto fail;
    *id = h.id;
    /* Receipts sent to some hub already are not owed to the new one; the
     * unsent ones are (a second delivery from it sends it ours again). */
    if (s_exec_hub(s,
                   "INSERT OR IGNORE INTO hub_receipt_todo(hub, seq)"
                   " SELECT ?1, seq FROM receipt_out WHERE done = 0",
                   *id, "owe receipts to a new hub", err) != 0 ||
        s_event(s, *id, endpoint, "added", "", 0, at, err) != 0)
        goto fail;
    return ewh_db_commit(s->db, err);
fail:
    ewh_db_rollback(s->db);
    return -1;
}

int
node_store_hub_remove(node_store_t *s, const char *endpoint,
                      struct ewh_err *err)
{
    static const char *const sql[] = {
        "DELETE FROM hub_accept WHERE hub = ?1",
        "DELETE FROM hub_try WHERE hub = ?1",
        "DELETE FROM hub_resent WHERE hub = ?1",
        "DELETE FROM hub_roster WHERE hub = ?1",
        "DELETE FROM hub_receipt_todo WHERE hub = ?1",
        "DELETE FROM hub_todo WHERE hub = ?1",
        "DELETE FROM checkpoint WHERE hub = ?1",
        "DELETE FROM checkpoint_old WHERE hub = ?1",
        "DELETE FROM hubs WHERE id = ?1",
    };
    struct node_hub h;
    size_t n = 0, i;

    if (ewh_db_begin(s->db, true, err) != 0)
        return -1;
    if (node_store_hub_get(s, endpoint, &h, err) != 0 ||
        node_store_hubs_count(s, &n, err) != 0)
        goto fail;
    if (n <= 1) {
        ewh_err_set(err, EWH_E_INVALID,
                    "%s is the only hub listed: a node needs one (add "
                    "another first)",
                    endpoint);
        goto fail;
    }
    for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
        if (s_exec_hub(s, sql[i], h.id, "remove a hub", err) != 0)
            goto fail;
    if (s_event(s, h.id, h.endpoint, "removed", "", 0, ewh_now(), err) != 0)
        goto fail;
    return ewh_db_commit(s->db, err);
fail:
    ewh_db_rollback(s->db);
    return -1;
}

int
node_store_hub_set_endpoint(node_store_t *s, int64_t id, const char *endpoint,
                            struct ewh_err *err)
{
    struct ewh_err e = {0};
    struct node_hub h;
    sqlite3_stmt *st;

    if (strlen(endpoint) >= EWH_MAX_HUB_ENDPOINT_BYTES ||
        strncmp(endpoint, "tcp://", 6) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "hub '%.64s': expected tcp://HOST:PORT", endpoint);
    if (node_store_hub_get(s, endpoint, &h, &e) == 0)
        return h.id == id ? 0
                          : ewh_err_set(err, EWH_E_INVALID,
                                        "hub %s is listed already", endpoint);
    if (e.code != EWH_E_NOTFOUND) {
        if (err != NULL)
            *err = e;
        return -1;
    }
    if ((st = ewh_db_stmt(s->db, "UPDATE hubs SET endpoint = ? WHERE id = ?",
                          err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    return ewh_db_done(s->db, st, "move a hub", err);
}

int
node_store_hub_set_key(node_store_t *s, int64_t id, const struct ewh_pubid *key,
                       struct ewh_err *err)
{
    char text[EWH_MAX_PUBID_BYTES], fp[EWH_FINGERPRINT_CHARS];
    sqlite3_stmt *st;

    if (key->kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID, "not a hub identity");
    if (ewh_pubid_format(key, text, sizeof(text), err) < 0)
        return -1;
    ewh_pubid_fingerprint(key, fp);
    st = ewh_db_stmt(s->db,
                     "UPDATE hubs SET sign = ?1, pubid = ?2, fingerprint = ?3"
                     " WHERE id = ?4",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, key->sign, EWH_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, fp, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, id);
    return ewh_db_done(s->db, st, "re-pin a hub", err);
}

/* ---- what each hub accepted ---- */

/* Listed hubs that accepted id, and how many are needed (min_hubs taken
 * as 1 .. the number listed). */
static int
s_accepts(node_store_t *s, const char *id, unsigned min_hubs, int64_t *have,
          int64_t *need, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "SELECT (SELECT count(*) FROM hub_accept a WHERE a.id = ?1 AND"
        " (a.hub IN (SELECT id FROM hubs) OR NOT EXISTS (SELECT 1 FROM"
        " hubs))), (SELECT count(*) FROM hubs)",
        err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "count the accepts", err)) != 1)
        return rc < 0 ? -1 : ewh_err_set(err, EWH_E_STORE, "accepts: no row");
    *have = sqlite3_column_int64(st, 0);
    *need = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if ((int64_t)min_hubs < *need)
        *need = min_hubs;
    if (*need < 1)
        *need = 1;
    return 0;
}

/* hub has report id (or refused it for good): not owed to it. */
static int
s_todo_done(node_store_t *s, int64_t hub, const char *id, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "DELETE FROM hub_todo WHERE hub = ?1 AND seq"
                                   " = (SELECT seq FROM msg WHERE id = ?2)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "owe a hub less", err);
}

int
node_store_hub_accepted(node_store_t *s, int64_t hub, const char *id,
                        int64_t at, unsigned min_hubs, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO hub_accept(id, hub,"
                                   " at) SELECT ?1, ?2, ?3 FROM msg WHERE"
                                   " id = ?1 AND dir = 'out'",
                                   err);
    int64_t have = 0, need = 1;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, hub);
    sqlite3_bind_int64(st, 3, at);
    if (ewh_db_done(s->db, st, "record a hub's accept", err) != 0)
        return -1;
    if ((st = ewh_db_stmt(s->db, "DELETE FROM hub_try WHERE id = ? AND hub = ?",
                          err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, hub);
    if (ewh_db_done(s->db, st, "forget a deferral", err) != 0 ||
        s_todo_done(s, hub, id, err) != 0 ||
        s_accepts(s, id, min_hubs, &have, &need, err) != 0)
        return -1;
    if (have < need)
        return 0;
    return node_store_outbox_mark_accepted(s, id, at, err);
}

int
node_store_hub_retry(node_store_t *s, int64_t hub, const char *id,
                     int64_t next_try_ms, const char *reason,
                     struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR REPLACE INTO hub_try(id, hub,"
                                   " next_try, refused, reason, at)"
                                   " VALUES(?1, ?2, ?3, 0, ?4, ?5)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, hub);
    sqlite3_bind_int64(st, 3, next_try_ms);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ewh_now());
    if (ewh_db_done(s->db, st, "defer a submit to a hub", err) != 0)
        return -1;
    /* the reason shown, as with one hub */
    if ((st = ewh_db_stmt(s->db,
                          "UPDATE msg SET reason = ? WHERE id = ? AND dir ="
                          " 'out' AND state = 'queued'",
                          err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "note a deferral", err);
}

int
node_store_hub_refused(node_store_t *s, int64_t hub, const char *id,
                       const char *reason, int64_t at, bool *final,
                       struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR REPLACE INTO hub_try(id, hub,"
                                   " next_try, refused, reason, at)"
                                   " VALUES(?1, ?2, 0, 1, ?3, ?4)",
                                   err);
    int rc;

    *final = false;
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, hub);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    if (ewh_db_done(s->db, st, "record a hub's refusal", err) != 0 ||
        s_todo_done(s, hub, id, err) != 0)
        return -1;
    /* Final when no listed hub is left that accepted it or may still. */
    st = ewh_db_stmt(s->db,
                     "SELECT NOT EXISTS (SELECT 1 FROM hubs h WHERE NOT"
                     " EXISTS (SELECT 1 FROM hub_try t WHERE t.id = ?1 AND"
                     " t.hub = h.id AND t.refused = 1)) AND NOT EXISTS"
                     " (SELECT 1 FROM hub_accept a WHERE a.id = ?1 AND"
                     " a.hub IN (SELECT id FROM hubs))",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "is a refusal final", err)) != 1)
        return rc < 0 ? -1 : ewh_err_set(err, EWH_E_STORE, "refusal: no row");
    *final = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (!*final)
        return 0;
    return node_store_outbox_refused(s, id, reason, at, err);
}

/* ---- what each hub still needs ---- */

int
node_store_hub_pending(node_store_t *s, int64_t hub,
                       const struct node_hub_cursor *after, int64_t now_ms,
                       size_t max, node_hub_env_fn fn, void *ctx,
                       struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "SELECT t.seq, n.id, m.envelope, t.level FROM hub_todo t JOIN hub_need"
        " n ON n.seq = t.seq JOIN msg m ON m.seq = t.seq WHERE t.hub = ?1 AND"
        " (t.level < ?3 OR (t.level = ?3 AND t.seq > ?4)) AND m.dir = 'out'"
        " AND m.state IN ('queued', 'accepted') AND (n.expires_at = 0 OR"
        " n.expires_at * 1000 > ?2) AND NOT EXISTS (SELECT 1 FROM hub_accept"
        " a WHERE a.id = n.id AND a.hub = ?1) AND NOT EXISTS (SELECT 1 FROM"
        " hub_try x WHERE x.id = n.id AND x.hub = ?1 AND (x.refused = 1 OR"
        " x.next_try > ?2)) ORDER BY t.level DESC, t.seq LIMIT ?5",
        err);
    char id[EWH_ID_HEX];
    struct node_hub_entry e;
    int rc = 0, step = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int(st, 3, after->level);
    sqlite3_bind_int64(st, 4, after->seq);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
    while (rc == 0 &&
           (step = ewh_db_step(s->db, st, "read a hub's outbox", err)) == 1) {
        (void)ewh_db_text(st, 1, id, sizeof(id));
        e.seq = sqlite3_column_int64(st, 0);
        e.id = id;
        e.env = sqlite3_column_blob(st, 2);
        e.len = (size_t)sqlite3_column_bytes(st, 2);
        e.level = (enum ewh_level)sqlite3_column_int(st, 3);
        rc = fn(ctx, &e);
    }
    if (rc != 0) {
        sqlite3_reset(st);
        return rc;
    }
    return step < 0 ? -1 : 0;
}

int
node_store_hub_next_try(node_store_t *s, int64_t hub, int64_t now_ms,
                        int64_t *out, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT coalesce(min(t.next_try), 0) FROM"
                                   " hub_try t JOIN hub_need n ON n.id = t.id"
                                   " WHERE t.hub = ?1 AND t.refused = 0 AND"
                                   " t.next_try > ?2",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_int64(st, 2, now_ms);
    return ewh_db_int(s->db, st, "read a hub's next retry", out, err);
}

int
node_store_hub_counts(node_store_t *s, int64_t hub, int64_t now_ms,
                      struct node_hub_counts *c, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "SELECT (SELECT count(*) FROM hub_accept WHERE hub = ?1),"
        " (SELECT count(*) FROM hub_todo t JOIN hub_need n ON n.seq = t.seq"
        " WHERE t.hub = ?1 AND (n.expires_at = 0 OR n.expires_at * 1000 >"
        " ?2) AND EXISTS (SELECT 1 FROM hub_accept b WHERE b.id = n.id AND"
        " b.hub != ?1 AND b.hub IN (SELECT id FROM hubs)))",
        err);
    int rc;

    memset(c, 0, sizeof(*c));
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_int64(st, 2, now_ms);
    if ((rc = ewh_db_step(s->db, st, "count a hub's reports", err)) != 1)
        return rc < 0 ? -1 : ewh_err_set(err, EWH_E_STORE, "counts: no row");
    c->accepted = sqlite3_column_int64(st, 0);
    c->lagging = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return 0;
}

/* ---- refill ---- */

int
node_store_hub_refill(node_store_t *s, int64_t hub, int64_t now_ms,
                      unsigned min_hubs, const char *why, int64_t *n,
                      struct ewh_err *err)
{
    /* ?1 hub, ?2 now (ms), ?3 endpoint, ?4 now (s) */
    static const char *const sql[] = {
        "CREATE TEMP TABLE IF NOT EXISTS refill(id TEXT PRIMARY KEY)",
        "DELETE FROM temp.refill",
        "INSERT INTO temp.refill(id) SELECT n.id FROM hub_need n WHERE"
        " (n.expires_at = 0 OR n.expires_at * 1000 > ?2) AND EXISTS (SELECT"
        " 1 FROM hub_accept a WHERE a.id = n.id AND a.hub = ?1)",
        "DELETE FROM hub_accept WHERE hub = ?1 AND id IN (SELECT id FROM"
        " temp.refill)",
        "DELETE FROM hub_try WHERE hub = ?1 AND refused = 0 AND id IN (SELECT"
        " id FROM temp.refill)",
        "INSERT OR REPLACE INTO hub_resent(id, hub, endpoint, at) SELECT id,"
        " ?1, ?3, ?4 FROM temp.refill",
        "INSERT OR IGNORE INTO hub_todo(hub, level, seq) SELECT ?1, n.level,"
        " n.seq FROM hub_need n WHERE n.id IN (SELECT id FROM temp.refill)",
    };
    struct node_hub h;
    sqlite3_stmt *st;
    size_t i;
    int step;

    *n = 0;
    if (node_store_hub_by_id(s, hub, &h, err) != 0)
        return -1;
    for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        if ((st = ewh_db_stmt(s->db, sql[i], err)) == NULL)
            return -1;
        if (sqlite3_bind_parameter_count(st) >= 1)
            sqlite3_bind_int64(st, 1, hub);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_int64(st, 2, now_ms);
        if (sqlite3_bind_parameter_count(st) >= 3)
            sqlite3_bind_text(st, 3, h.endpoint, -1, SQLITE_TRANSIENT);
        if (sqlite3_bind_parameter_count(st) >= 4)
            sqlite3_bind_int64(st, 4, now_ms / 1000);
        if (ewh_db_done(s->db, st, "refill a hub", err) != 0)
            return -1;
        if (i == 2)
            *n = sqlite3_changes(ewh_db_handle(s->db));
    }
    if (*n == 0)
        return 0;
    /* Accepted by too few hubs now: queued again, its addressees too. */
    if ((st = ewh_db_stmt(s->db, "SELECT id FROM temp.refill", err)) == NULL)
        return -1;
    while ((step = ewh_db_step(s->db, st, "read the refill", err)) == 1) {
        char id[EWH_ID_HEX];
        int64_t have = 0, need = 1;

        (void)ewh_db_text(st, 0, id, sizeof(id));
        if (s_accepts(s, id, min_hubs, &have, &need, err) != 0) {
            sqlite3_reset(st);
            return -1;
        }
        if (have < need && node_store_outbox_mark_queued(s, id, err) != 0) {
            sqlite3_reset(st);
            return -1;
        }
    }
    if (step < 0)
        return -1;
    return s_event(s, hub, h.endpoint, "refill", why, *n, now_ms / 1000, err);
}

int
node_store_hub_events(node_store_t *s, size_t max, node_hub_event_fn fn,
                      void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT seq, hub, endpoint, kind, why, n,"
                                   " at FROM hub_event ORDER BY seq DESC"
                                   " LIMIT ?",
                                   err);
    struct node_hub_event e;
    int rc = 0, step = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, max > 0 ? (sqlite3_int64)max : -1);
    while (rc == 0 &&
           (step = ewh_db_step(s->db, st, "read hub events", err)) == 1) {
        memset(&e, 0, sizeof(e));
        e.seq = sqlite3_column_int64(st, 0);
        e.hub = sqlite3_column_int64(st, 1);
        (void)ewh_db_text(st, 2, e.endpoint, sizeof(e.endpoint));
        (void)ewh_db_text(st, 3, e.kind, sizeof(e.kind));
        (void)ewh_db_text(st, 4, e.why, sizeof(e.why));
        e.n = sqlite3_column_int64(st, 5);
        e.at = sqlite3_column_int64(st, 6);
        rc = fn(ctx, &e);
    }
    if (rc != 0) {
        sqlite3_reset(st);
        return rc;
    }
    return step < 0 ? -1 : 0;
}

int
node_store_hub_refills(node_store_t *s, int64_t hub, int64_t *n,
                       struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT count(*) FROM hub_event WHERE hub ="
                                   " ? AND kind = 'refill'",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    return ewh_db_int(s->db, st, "count a hub's refills", n, err);
}

/* ---- per report: the hubs (node_store_msg_fill) ---- */

int
node_store_msg_fill_hubs(node_store_t *s, struct node_msg *m,
                         struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "SELECT h.endpoint, coalesce(a.at, 0), coalesce(r.at, 0) FROM hubs h"
        " LEFT JOIN hub_accept a ON a.hub = h.id AND a.id = ?1 LEFT JOIN"
        " hub_resent r ON r.hub = h.id AND r.id = ?1 ORDER BY h.position,"
        " h.id",
        err);
    int rc;

    m->n_hubs = m->n_hubs_accepted = 0;
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    while ((rc = ewh_db_step(s->db, st, "read a report's hubs", err)) == 1 &&
           m->n_hubs < EWH_MAX_HUBS) {
        struct node_msg_hub *h = &m->hubs[m->n_hubs++];
        (void)ewh_db_text(st, 0, h->endpoint, sizeof(h->endpoint));
        h->accepted_at = sqlite3_column_int64(st, 1);
        h->resent_at = sqlite3_column_int64(st, 2);
        if (h->accepted_at != 0)
            m->n_hubs_accepted++;
    }
    if (rc == 1)
        sqlite3_reset(st);
    return rc < 0 ? -1 : 0;
}

/* ---- rosters ---- */

int
node_store_hub_roster_put(node_store_t *s, int64_t hub, const uint8_t *buf,
                          size_t len, uint64_t version, int64_t at,
                          struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR REPLACE INTO hub_roster(hub,"
                                   " version, signed, at) VALUES(?, ?, ?, ?)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)version);
    sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    return ewh_db_done(s->db, st, "store a hub's roster", err);
}

int
node_store_hub_roster_get(node_store_t *s, int64_t hub, uint8_t **buf,
                          size_t *len, uint64_t *version, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db, "SELECT signed, version FROM hub_roster WHERE hub = ?", err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    if ((rc = ewh_db_step(s->db, st, "read a hub's roster", err)) <= 0)
        return rc < 0 ? -1
                      : ewh_err_set(err, EWH_E_NOTFOUND,
                                    "no roster from that hub yet");
    if (version != NULL)
        *version = (uint64_t)sqlite3_column_int64(st, 1);
    rc = node_store_blob_dup(st, 0, buf, len, err);
    sqlite3_reset(st);
    return rc;
}

/* ---- receipts ---- */

int
node_store_hub_receipt_pending(node_store_t *s, int64_t hub, int64_t after,
                               size_t max, node_env_fn fn, void *ctx,
                               struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT r.seq, r.id, r.receipt FROM"
                                   " hub_receipt_todo t JOIN receipt_out r ON"
                                   " r.seq = t.seq WHERE t.hub = ? AND t.seq"
                                   " > ? ORDER BY t.seq LIMIT ?",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    return node_store_walk_blobs(s, st, "read a hub's unsent receipts", fn, ctx,
                                 err);
}

int
node_store_hub_receipt_done(node_store_t *s, int64_t hub, const char *id,
                            enum ewh_receipt_kind kind, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "DELETE FROM hub_receipt_todo WHERE hub = ?1"
                                   " AND seq IN (SELECT seq FROM receipt_out"
                                   " WHERE id = ?2 AND kind = ?3)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)kind);
    if (ewh_db_done(s->db, st, "mark a receipt sent to a hub", err) != 0)
        return -1;
    if ((st = ewh_db_stmt(
             s->db, "UPDATE receipt_out SET done = 1 WHERE id = ? AND kind = ?",
             err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    return ewh_db_done(s->db, st, "mark a receipt sent", err);
}

int
node_store_hub_receipt_resend(node_store_t *s, int64_t hub, const char *id,
                              struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO hub_receipt_todo(hub,"
                                   " seq) SELECT ?1, seq FROM receipt_out_ids"
                                   " WHERE id = ?2",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "send a receipt again", err);
}

/* The single-hub receipt functions (store_receipt.c) keep the per-hub
 * rows in step: a queued receipt is owed to every hub, and hub #0's ack
 * is recorded as its. */
int
node_store_hub_receipt_owe(node_store_t *s, const char *id,
                           enum ewh_receipt_kind kind, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO hub_receipt_todo(hub,"
                                   " seq) SELECT h.id, r.seq FROM hubs h,"
                                   " receipt_out r WHERE r.id = ?1 AND r.kind"
                                   " = ?2 AND r.done = 0",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    return ewh_db_done(s->db, st, "owe a receipt to the hubs", err);
}

int
node_store_receipt_name(node_store_t *s, const char *first,
                        enum ewh_receipt_kind kind, const char *id,
                        struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO receipt_out_ids(id,"
                                   " seq) SELECT ?3, seq FROM receipt_out WHERE"
                                   " id = ?1 AND kind = ?2",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, first, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "name a receipt's report", err);
}

int
node_store_hub_receipt_first_done(node_store_t *s, const char *id,
                                  enum ewh_receipt_kind kind,
                                  struct ewh_err *err)
{
    int64_t hub = 0;

    if (node_store_hub_first(s, &hub, err) != 0)
        return -1;
    return node_store_hub_receipt_done(s, hub, id, kind, err);
}

int
node_store_hub_first_accepted(node_store_t *s, const char *id, int64_t at,
                              struct ewh_err *err)
{
    int64_t hub = 0;

    if (node_store_hub_first(s, &hub, err) != 0)
        return -1;
    return node_store_hub_accepted(s, hub, id, at, 1, err);
}
