/* store_import.c — the record of rosters imported from other hubs
 * (ewhub roster import, docs/roster-sharing.md). */
#include "storeint.h"

#include <string.h>

static const char s_get[] =
    "SELECT version, hash, at, changes, imports, from_curve"
    " FROM roster_imports WHERE from_sign = ?1";
static const char s_put[] =
    "INSERT INTO roster_imports(from_sign, from_curve, version, hash, at,"
    " changes, imports) VALUES(?1, ?6, ?2, ?3, ?4, ?5, 1)"
    " ON CONFLICT(from_sign) DO UPDATE SET from_curve = ?6, version = ?2,"
    " hash = ?3, at = ?4, changes = ?5, imports = imports + 1";
static const char s_walk[] =
    "SELECT version, hash, at, changes, imports, from_curve, from_sign"
    " FROM roster_imports ORDER BY at DESC, rowid DESC";

/* Columns 0..5 of s into rec (from_sign set by the caller). */
static int
s_row(sqlite3_stmt *s, struct hub_import_rec *rec, struct ewh_err *err)
{
    rec->version = (uint64_t)sqlite3_column_int64(s, 0);
    rec->at = sqlite3_column_int64(s, 2);
    rec->changes = (uint64_t)sqlite3_column_int64(s, 3);
    rec->imports = (uint64_t)sqlite3_column_int64(s, 4);
    if (!ewh_db_blob(s, 1, rec->hash, 32) ||
        !ewh_db_blob(s, 5, rec->from_curve, 32))
        return ewh_err_set(err, EWH_E_STORE, "store: bad roster import row");
    return 0;
}

int
hub_store_import_get(hub_store_t *st, const uint8_t from_sign[32], bool *found,
                     struct hub_import_rec *out, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_get, err);
    int rc;

    *found = false;
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, from_sign, 32, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read roster import", err)) <= 0)
        return rc;
    memcpy(out->from_sign, from_sign, 32);
    rc = s_row(s, out, err);
    sqlite3_reset(s);
    *found = rc == 0;
    return rc;
}

int
hub_store_import_put(hub_store_t *st, const struct hub_import_rec *rec,
                     struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_put, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, rec->from_sign, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)rec->version);
    sqlite3_bind_blob(s, 3, rec->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, rec->at);
    sqlite3_bind_int64(s, 5, (int64_t)rec->changes);
    sqlite3_bind_blob(s, 6, rec->from_curve, 32, SQLITE_STATIC);
    return ewh_db_done(st->db, s, "record roster import", err);
}

int
hub_store_import_walk(hub_store_t *st, hub_import_fn fn, void *ctx,
                      struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_walk, err);
    struct hub_import_rec rec;
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "read roster imports", err)) == 1) {
        memset(&rec, 0, sizeof(rec));
        if (!ewh_db_blob(s, 6, rec.from_sign, 32) || s_row(s, &rec, err) != 0) {
            sqlite3_reset(s);
            return ewh_err_set(err, EWH_E_STORE,
                               "store: bad roster import row");
        }
        if (fn(ctx, &rec) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}
