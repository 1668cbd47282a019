/*
 * store.c — the node store's connection: opening it (WAL, synchronous
 * FULL, the schema), transactions, the held roster and the integrity
 * check.  The other tables' files are listed in store_int.h.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v);"
    "CREATE TABLE IF NOT EXISTS roster("
    "  one INTEGER PRIMARY KEY CHECK(one = 1),"
    "  version INTEGER NOT NULL, signed BLOB NOT NULL,"
    "  stored_at INTEGER NOT NULL);"
    /* Sent (dir 'out') and received (dir 'in') reports. */
    "CREATE TABLE IF NOT EXISTS msg("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
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
    "CREATE INDEX IF NOT EXISTS msg_dir ON msg(dir, state, seq);"
    /* Pages of the inbox newest first, and the unacknowledged (desk). */
    "CREATE INDEX IF NOT EXISTS msg_created ON msg(dir, created_at, seq);"
    "CREATE INDEX IF NOT EXISTS msg_unacked ON msg(dir, acked_at, level, seq);"
    "CREATE TABLE IF NOT EXISTS refs(id TEXT NOT NULL, ref TEXT NOT NULL,"
    "  PRIMARY KEY(id, ref));"
    "CREATE INDEX IF NOT EXISTS refs_ref ON refs(ref);"
    "CREATE TABLE IF NOT EXISTS rcpt(id TEXT NOT NULL, country TEXT NOT NULL,"
    "  state INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',"
    "  at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(id, country));"
    "CREATE TABLE IF NOT EXISTS receipt_out("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    "  kind INTEGER NOT NULL, receipt BLOB NOT NULL,"
    "  done INTEGER NOT NULL DEFAULT 0, UNIQUE(id, kind));"
    "CREATE TABLE IF NOT EXISTS receipt_in(id TEXT NOT NULL,"
    "  from_cc TEXT NOT NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL,"
    "  who TEXT NOT NULL, receipt BLOB NOT NULL,"
    "  PRIMARY KEY(id, from_cc, kind));"
    "CREATE TABLE IF NOT EXISTS checkpoint(length INTEGER PRIMARY KEY,"
    "  head BLOB NOT NULL, time INTEGER NOT NULL, raw BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS refusal(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL, origin TEXT NOT NULL, reason TEXT NOT NULL,"
    "  at INTEGER NOT NULL);" NODE_STORE_HOOK_SCHEMA;

static const char *const s_rstates[] = {"queued",       "accepted", "delivered",
                                        "acknowledged", "expired",  "refused"};

const char *
node_rstate_name(enum node_rstate s)
{
    return (unsigned)s <= NODE_R_REFUSED ? s_rstates[s] : "invalid";
}

node_store_t *
node_store_open(const char *path, bool create, struct ewh_err *err)
{
    node_store_t *s = calloc(1, sizeof(*s));
    char pragma[64];

    if (s == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    if ((s->db = ewh_db_open(path, create ? EWH_DB_CREATE : 0, err)) == NULL)
        goto fail;
    if (ewh_db_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                    "open", err) != 0)
        goto fail;
    snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=-%d;",
             EWH_NODE_CACHE_KIB);
    if (ewh_db_exec(s->db, pragma, "open", err) != 0)
        goto fail;
    if (create && ewh_db_exec(s->db, s_schema, "create the schema", err) != 0)
        goto fail;
    /* The trust tables came later: an older store gets them here. */
    if (node_store_trust_schema(s, err) != 0 ||
        node_store_foreign_schema(s, err) != 0 ||
        node_store_refusal_schema(s, err) != 0)
        goto fail;
    /* ... and so did several hubs (store_hubs.c). */
    if (node_store_hubs_schema(s, err) != 0)
        goto fail;
    return s;
fail:
    node_store_close(&s);
    return NULL;
}

void
node_store_close(node_store_t **s)
{
    if (s == NULL || *s == NULL)
        return;
    ewh_db_close(&(*s)->db);
    free(*s);
    *s = NULL;
}

int
node_store_begin(node_store_t *s, struct ewh_err *err)
{
    return ewh_db_begin(s->db, true, err);
}

int
node_store_commit(node_store_t *s, struct ewh_err *err)
{
    if (ewh_db_commit(s->db, err) != 0) {
        node_store_rollback(s);
        return -1;
    }
    return 0;
}

void
node_store_rollback(node_store_t *s)
{
    ewh_db_rollback(s->db);
}

int
node_store_read_begin(node_store_t *s, struct ewh_err *err)
{
    return ewh_db_begin(s->db, false, err);
}

void
node_store_read_end(node_store_t *s)
{
    /* Nothing written: ending it by rollback loses nothing. */
    ewh_db_rollback(s->db);
}

int
node_store_data_version(node_store_t *s, int64_t *out, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db, "PRAGMA data_version", err);

    if (st == NULL)
        return -1;
    return ewh_db_int(s->db, st, "data_version", out, err);
}

int
node_store_check(node_store_t *s, struct ewh_err *err)
{
    return ewh_db_quick_check(ewh_db_handle(s->db), err);
}

int
node_store_blob_dup(sqlite3_stmt *st, int col, uint8_t **buf, size_t *len,
                    struct ewh_err *err)
{
    const void *p = sqlite3_column_blob(st, col);

    *len = (size_t)sqlite3_column_bytes(st, col);
    if ((*buf = malloc(*len > 0 ? *len : 1)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    if (*len > 0)
        memcpy(*buf, p, *len);
    return 0;
}

int
node_store_walk_blobs(node_store_t *s, sqlite3_stmt *st, const char *what,
                      node_env_fn fn, void *ctx, struct ewh_err *err)
{
    char id[EWH_ID_HEX];
    int rc = 0, step = 0;

    while (rc == 0 && (step = ewh_db_step(s->db, st, what, err)) == 1) {
        (void)ewh_db_text(st, 1, id, sizeof(id));
        rc =
            fn(ctx, sqlite3_column_int64(st, 0), id, sqlite3_column_blob(st, 2),
               (size_t)sqlite3_column_bytes(st, 2));
    }
    if (rc != 0) {
        sqlite3_reset(st); /* stopped by fn: end the read */
        return rc;
    }
    return step < 0 ? -1 : 0;
}

/* ---- the held roster ---- */

int
node_store_roster_get(node_store_t *s, uint8_t **buf, size_t *len,
                      struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db, "SELECT signed FROM roster WHERE one = 1", err);
    int rc;

    if (st == NULL)
        return -1;
    if ((rc = ewh_db_step(s->db, st, "read the roster", err)) <= 0)
        return rc < 0 ? -1 : ewh_err_set(err, EWH_E_NOTFOUND, "no roster yet");
    rc = node_store_blob_dup(st, 0, buf, len, err);
    sqlite3_reset(st);
    return rc;
}

int
node_store_roster_put(node_store_t *s, const uint8_t *buf, size_t len,
                      uint64_t version, struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db,
                    "INSERT OR REPLACE INTO roster(one, version, "
                    "signed, stored_at) VALUES(1, ?, ?, ?)",
                    err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    sqlite3_bind_blob(st, 2, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ewh_now());
    return ewh_db_done(s->db, st, "store the roster", err);
}
