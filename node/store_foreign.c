/*
 * store_foreign.c — the foreign rosters this node holds (issue 22,
 * docs/federation-node.md): per region, the hub signing key pinned on
 * first sight, the next key that pinned key announced (if any), and the
 * latest signed roster accepted.  node/foreign.c alone decides; this
 * table is its memory.  The trust in each foreign country's keys lives in
 * the trust tables (store_trust.c), like a local peer's.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS foreign_roster(region TEXT PRIMARY KEY,"
    "  hub_sign BLOB NOT NULL, next_sign BLOB, version INTEGER NOT NULL,"
    "  signed BLOB NOT NULL, path TEXT NOT NULL, at INTEGER NOT NULL);";

int
node_store_foreign_schema(node_store_t *s, struct ewh_err *err)
{
    return ewh_db_exec(s->db, s_schema, "create the foreign roster table", err);
}

static int
s_row(sqlite3_stmt *st, struct node_foreign_row *out, uint8_t **buf,
      size_t *len, struct ewh_err *err)
{
    const void *b;
    int n;

    memset(out, 0, sizeof(*out));
    if (!ewh_db_text(st, 0, out->region, sizeof(out->region)) ||
        !ewh_db_blob(st, 1, out->hub_sign, sizeof(out->hub_sign)))
        return ewh_err_set(err, EWH_E_STORE, "store: bad foreign roster row");
    out->has_next = ewh_db_blob(st, 2, out->next_sign, sizeof(out->next_sign));
    out->version = (uint64_t)sqlite3_column_int64(st, 3);
    (void)ewh_db_text(st, 5, out->path, sizeof(out->path));
    out->at = sqlite3_column_int64(st, 6);
    if (buf != NULL) {
        b = sqlite3_column_blob(st, 4);
        n = sqlite3_column_bytes(st, 4);
        if (b == NULL || n <= 0)
            return ewh_err_set(err, EWH_E_STORE,
                               "store: foreign roster of %s has no body",
                               out->region);
        if ((*buf = malloc((size_t)n)) == NULL)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        memcpy(*buf, b, (size_t)n);
        *len = (size_t)n;
    }
    return 0;
}

int
node_store_foreign_get(node_store_t *s, const char *region,
                       struct node_foreign_row *out, uint8_t **buf, size_t *len,
                       struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT region, hub_sign, next_sign,"
                                   " version, signed, path, at FROM"
                                   " foreign_roster WHERE region = ?1",
                                   err);
    int rc;

    if (buf != NULL)
        *buf = NULL;
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read foreign roster", err)) <= 0)
        return rc < 0 ? -1
                      : ewh_err_set(err, EWH_E_NOTFOUND,
                                    "no roster held for region %s", region);
    rc = s_row(st, out, buf, len, err);
    sqlite3_reset(st);
    return rc;
}

int
node_store_foreign_put(node_store_t *s, const struct node_foreign_row *row,
                       const uint8_t *buf, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "INSERT OR REPLACE INTO foreign_roster(region, hub_sign, next_sign,"
        " version, signed, path, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, row->region, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, row->hub_sign, sizeof(row->hub_sign),
                      SQLITE_STATIC);
    if (row->has_next)
        sqlite3_bind_blob(st, 3, row->next_sign, sizeof(row->next_sign),
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)row->version);
    sqlite3_bind_blob(st, 5, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, row->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, row->at);
    return ewh_db_done(s->db, st, "write foreign roster", err);
}

int
node_store_foreign_walk(node_store_t *s, node_foreign_fn fn, void *ctx,
                        struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_prepare(s->db,
                                      "SELECT region, hub_sign, next_sign,"
                                      " version, signed, path, at FROM"
                                      " foreign_roster ORDER BY region",
                                      err);
    struct node_foreign_row row;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (st == NULL)
        return -1;
    while ((rc = ewh_db_step(s->db, st, "read foreign rosters", err)) == 1) {
        if (s_row(st, &row, &buf, &len, err) != 0) {
            rc = -1;
            break;
        }
        rc = fn(ctx, &row, buf, len);
        free(buf);
        buf = NULL;
        if (rc != 0) {
            rc = rc < 0 ? -1 : 0;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc < 0 && err != NULL && err->code == EWH_E_OK)
        ewh_err_set(err, EWH_E_STORE, "store: reading foreign rosters failed");
    return rc < 0 ? -1 : 0;
}
