/* store_audit.c — the audit hash chain (one entry per accepted report)
 * and the signed checkpoints of its head, one per batch that grew it. */
#include "storeint.h"

#include <string.h>

static const char s_head[] = "SELECT n, head FROM audit ORDER BY n DESC"
                             " LIMIT 1";
static const char s_ins[] = "INSERT INTO audit(n, id, envelope_hash, origin,"
                            " received_at, head) VALUES(?1, ?2, ?3, ?4, ?5,"
                            " ?6)";
static const char s_cp_ins[] =
    "INSERT OR REPLACE INTO checkpoints(length, head, time, cp)"
    " VALUES(?1, ?2, ?3, ?4)";
static const char s_cp_walk[] = "SELECT length, cp FROM checkpoints"
                                " ORDER BY length";
static const char s_walk[] =
    "SELECT a.n, a.id, a.envelope_hash, a.origin,"
    " a.received_at, a.head, e.env, e.origin, e.received_at,"
    " (SELECT f.waiting FROM fanout f"
    "  WHERE f.seq = e.rowid AND e.id = a.id)"
    " FROM audit a LEFT JOIN envelopes e ON e.id = a.id"
    " WHERE a.n > ?1 ORDER BY a.n LIMIT ?2";
static const char s_at[] = "SELECT head FROM audit WHERE n = ?1";
static const char s_unchained[] =
    "SELECT e.id, e.origin FROM envelopes e WHERE NOT EXISTS"
    " (SELECT 1 FROM audit a WHERE a.id = e.id)";

int
hub_store_audit_head(hub_store_t *st, uint64_t *length,
                     uint8_t head[EWH_HASH_BYTES], struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_head, err);
    int rc;

    if (s == NULL)
        return -1;
    *length = 0;
    memset(head, 0, EWH_HASH_BYTES);
    if ((rc = ewh_db_step(st->db, s, "audit head", err)) <= 0)
        return rc; /* an empty chain: length 0, head all zero */
    *length = (uint64_t)sqlite3_column_int64(s, 0);
    if (!ewh_db_blob(s, 1, head, EWH_HASH_BYTES)) {
        sqlite3_reset(s);
        return ewh_err_set(err, EWH_E_STORE,
                           "store: audit entry %llu has a bad head",
                           (unsigned long long)*length);
    }
    sqlite3_reset(s);
    return 0;
}

int
hub_store_audit_append(hub_store_t *st, uint64_t n,
                       const uint8_t id[EWH_ID_BYTES],
                       const uint8_t hash[EWH_HASH_BYTES], const char *origin,
                       int64_t at, const uint8_t head[EWH_HASH_BYTES],
                       struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)n);
    sqlite3_bind_blob(s, 2, id, EWH_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, hash, EWH_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, origin, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, at);
    sqlite3_bind_blob(s, 6, head, EWH_HASH_BYTES, SQLITE_STATIC);
    return ewh_db_done(st->db, s, "audit append", err);
}

int
hub_store_checkpoint_add(hub_store_t *st, uint64_t length,
                         const uint8_t head[EWH_HASH_BYTES], int64_t time,
                         const uint8_t *cp, size_t cp_len, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_cp_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)length);
    sqlite3_bind_blob(s, 2, head, EWH_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, time);
    sqlite3_bind_blob(s, 4, cp, (int)cp_len, SQLITE_STATIC);
    return ewh_db_done(st->db, s, "store checkpoint", err);
}

int
hub_store_checkpoint_walk(hub_store_t *st, hub_cp_fn fn, void *ctx,
                          struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_cp_walk, err);
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "walk checkpoints", err)) == 1)
        if (fn(ctx, (uint64_t)sqlite3_column_int64(s, 0),
               sqlite3_column_blob(s, 1),
               (size_t)sqlite3_column_bytes(s, 1)) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    return rc < 0 ? -1 : 0;
}

static void
s_audit_row(sqlite3_stmt *s, struct hub_audit_row *row)
{
    memset(row, 0, sizeof(*row));
    row->n = (uint64_t)sqlite3_column_int64(s, 0);
    row->bad_row = !ewh_db_blob(s, 1, row->id, EWH_ID_BYTES) ||
                   !ewh_db_blob(s, 2, row->hash, EWH_HASH_BYTES) ||
                   !ewh_db_blob(s, 5, row->head, EWH_HASH_BYTES) ||
                   sqlite3_column_bytes(s, 3) != 2;
    ewh_db_text(s, 3, row->origin, sizeof(row->origin));
    row->received_at = sqlite3_column_int64(s, 4);
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
        row->env = sqlite3_column_blob(s, 6);
        row->env_len = (size_t)sqlite3_column_bytes(s, 6);
        if (row->env == NULL)
            row->env = (const uint8_t *)"";
        ewh_db_text(s, 7, row->env_origin, sizeof(row->env_origin));
        row->env_received_at = sqlite3_column_int64(s, 8);
    }
    row->queued = (uint64_t)__builtin_popcountll(
        (unsigned long long)sqlite3_column_int64(s, 9));
}

int
hub_store_audit_walk(hub_store_t *st, uint64_t after, size_t limit,
                     hub_audit_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_walk, err);
    struct hub_audit_row row;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)after);
    sqlite3_bind_int64(s, 2, limit == 0 ? -1 : (int64_t)limit);
    while ((rc = ewh_db_step(st->db, s, "walk audit", err)) == 1) {
        s_audit_row(s, &row);
        if (fn(ctx, &row) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_audit_head_at(hub_store_t *st, uint64_t n,
                        uint8_t head[EWH_HASH_BYTES], bool *found,
                        struct ewh_err *err)
{
    sqlite3_stmt *s;
    int rc;

    memset(head, 0, EWH_HASH_BYTES);
    *found = n == 0;
    if (n == 0)
        return 0;
    if ((s = ewh_db_stmt(st->db, s_at, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)n);
    if ((rc = ewh_db_step(st->db, s, "audit head", err)) <= 0)
        return rc;
    *found = ewh_db_blob(s, 0, head, EWH_HASH_BYTES);
    sqlite3_reset(s);
    return 0;
}

int
hub_store_unchained(hub_store_t *st, hub_unchained_fn fn, void *ctx,
                    struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_unchained, err);
    char origin[EWH_CC_BYTES];
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "unchained envelopes", err)) == 1) {
        ewh_db_text(s, 1, origin, sizeof(origin));
        fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
           origin);
    }
    return rc < 0 ? -1 : 0;
}
