/*
 * store_inbox.c — received reports in the node store: stored once,
 * acknowledged by an officer, and the deliveries refused (acknowledged to
 * the hub but never shown).
 */
#include "store_int.h"

#include <string.h>

int
node_store_inbox_add(node_store_t *s, const struct node_msg *m,
                     const uint8_t *env, size_t len, bool *dup,
                     struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db, "SELECT count(*) FROM msg WHERE id = ?", err);
    int64_t n = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    if (ewh_db_int(s->db, st, "look for a report", &n, err) != 0)
        return -1;
    *dup = n > 0;
    if (*dup)
        return 0;
    return node_store_msg_insert(s, m, env, len, "", err);
}

int
node_store_max_seq(node_store_t *s, int64_t *out, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db, "SELECT coalesce(max(seq), 0) FROM msg WHERE dir = 'in'", err);

    if (st == NULL)
        return -1;
    return ewh_db_int(s->db, st, "read the last received", out, err);
}

int
node_store_inbox_ack(node_store_t *s, const char *id, const char *who,
                     int64_t at, bool *already, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db, "SELECT acked_at FROM msg WHERE id = ? AND dir = 'in'", err);
    int64_t acked = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (ewh_db_int(s->db, st, "read a received report", &acked, err) != 0) {
        if (err != NULL && err->code == EWH_E_NOTFOUND)
            ewh_err_set(err, EWH_E_NOTFOUND, "no received report %s", id);
        return -1;
    }
    *already = acked > 0;
    if (*already)
        return 0;
    st = ewh_db_stmt(
        s->db, "UPDATE msg SET acked_at = ?, acked_by = ? WHERE id = ?", err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "acknowledge a report", err);
}

int
node_store_refusal_add(node_store_t *s, const char *id, const char *origin,
                       const char *reason, int64_t at, struct ewh_err *err)
{
    return node_store_refusal_add_code(s, id, origin, EWH_E_OK, reason, at,
                                       err);
}

int
node_store_refusal_schema(node_store_t *s, struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_prepare(s->db,
                       "SELECT 1 FROM pragma_table_info('refusal')"
                       " WHERE name = 'code'",
                       err);
    int rc;

    if (st == NULL)
        return -1;
    rc = ewh_db_step(s->db, st, "read the refusal table's columns", err);
    sqlite3_finalize(st);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    /* A store from before issue 22: the refusal's code, 0 when unknown. */
    return ewh_db_exec(s->db,
                       "ALTER TABLE refusal ADD COLUMN code INTEGER NOT NULL"
                       " DEFAULT 0",
                       "add the refusal code column", err);
}

int
node_store_refusal_add_code(node_store_t *s, const char *id, const char *origin,
                            enum ewh_errcode code, const char *reason,
                            int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT INTO refusal(id, origin, reason, "
                                   "at, code) VALUES(?, ?, ?, ?, ?)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    sqlite3_bind_int(st, 5, (int)code);
    return ewh_db_done(s->db, st, "record a refused delivery", err);
}

int
node_store_refusal_counts(node_store_t *s, int64_t out[EWH_E__COUNT],
                          struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT code, count(*) FROM refusal"
                                   " GROUP BY code",
                                   err);
    int rc, code;

    memset(out, 0, sizeof(int64_t) * EWH_E__COUNT);
    if (st == NULL)
        return -1;
    while ((rc = ewh_db_step(s->db, st, "count refused deliveries", err)) ==
           1) {
        code = sqlite3_column_int(st, 0);
        if (code < 0 || code >= (int)EWH_E__COUNT)
            code = EWH_E_OK;
        out[code] += sqlite3_column_int64(st, 1);
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_refusal_walk(node_store_t *s, node_refusal_fn fn, void *ctx,
                        struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_prepare(s->db,
                                      "SELECT id, origin, code, reason, at"
                                      " FROM refusal ORDER BY seq",
                                      err);
    char id[EWH_ID_HEX], origin[EWH_CC_BYTES], reason[EWH_MAX_REASON_BYTES];
    int rc;

    if (st == NULL)
        return -1;
    while ((rc = ewh_db_step(s->db, st, "read refused deliveries", err)) == 1) {
        (void)ewh_db_text(st, 0, id, sizeof(id));
        (void)ewh_db_text(st, 1, origin, sizeof(origin));
        (void)ewh_db_text(st, 3, reason, sizeof(reason));
        fn(ctx, id, origin, (enum ewh_errcode)sqlite3_column_int(st, 2), reason,
           sqlite3_column_int64(st, 4));
    }
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

int
node_store_refusal_count(node_store_t *s, int64_t *out, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db, "SELECT count(*) FROM refusal", err);

    if (st == NULL)
        return -1;
    return ewh_db_int(s->db, st, "count refused deliveries", out, err);
}
