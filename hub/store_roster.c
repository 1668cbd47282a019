/* store_roster.c — enrolled countries: their keys, revocations, and the
 * roster version that every change bumps. */
#include "storeint.h"

#include <stdio.h>
#include <string.h>

static const char s_version[] = "SELECT v FROM meta WHERE k = 'roster_version'";
static const char s_bump[] =
    "UPDATE meta SET v = v + 1 WHERE k = 'roster_version'";
static const char s_node_get[] = "SELECT curve, sign, box, revoked FROM nodes"
                                 " WHERE country = ?1";
static const char s_node_ins[] =
    "INSERT INTO nodes(country, curve, sign, box, revoked,"
    " enrolled_at, updated_at) VALUES(?1, ?2, ?3, ?4, 0, ?5, ?5)";
static const char s_node_upd[] =
    "UPDATE nodes SET curve = ?2, sign = ?3, box = ?4,"
    " revoked = 0, updated_at = ?5 WHERE country = ?1";
static const char s_node_revoke[] =
    "UPDATE nodes SET revoked = 1, updated_at = ?2"
    " WHERE country = ?1 AND revoked = 0";
static const char s_nodes[] = "SELECT country, curve, sign, box, revoked"
                              " FROM nodes ORDER BY country";

int
hub_store__bump(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_bump, err);

    return s == NULL ? -1 : ewh_db_done(st->db, s, "bump roster version", err);
}

/* Does cc's stored row hold exactly id's keys, not revoked?  *exists says
 * whether there is a row. */
static int
s_node_same(hub_store_t *st, const struct ewh_pubid *id, bool *exists,
            bool *same, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_node_get, err);
    int rc;

    *exists = *same = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read node", err)) <= 0)
        return rc;
    *exists = true;
    *same = sqlite3_column_bytes(s, 0) == 32 &&
            memcmp(sqlite3_column_blob(s, 0), id->curve, 32) == 0 &&
            sqlite3_column_bytes(s, 1) == 32 &&
            memcmp(sqlite3_column_blob(s, 1), id->sign, 32) == 0 &&
            sqlite3_column_bytes(s, 2) == 32 &&
            memcmp(sqlite3_column_blob(s, 2), id->box, 32) == 0 &&
            sqlite3_column_int(s, 3) == 0;
    sqlite3_reset(s);
    return 0;
}

int
hub_store_node_put(hub_store_t *st, const struct ewh_pubid *id, bool *changed,
                   struct ewh_err *err)
{
    sqlite3_stmt *s;
    bool exists, same;

    if (changed != NULL)
        *changed = false;
    if (id->kind != EWH_KIND_NODE)
        return ewh_err_set(err, EWH_E_INVALID, "not a node identity");
    if (hub_store_begin(st, err) != 0)
        return -1;
    if (s_node_same(st, id, &exists, &same, err) != 0)
        goto fail;
    if (same) {
        hub_store_rollback(st);
        return 0;
    }
    if ((s = ewh_db_stmt(st->db, exists ? s_node_upd : s_node_ins, err)) ==
        NULL)
        goto fail;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, id->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, id->box, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, ewh_now());
    if (ewh_db_done(st->db, s, "write node", err) != 0 ||
        hub_store__bump(st, err) != 0 || hub_store_commit(st, err) != 0)
        goto fail;
    if (changed != NULL)
        *changed = true;
    return 0;
fail:
    hub_store_rollback(st);
    return -1;
}

int
hub_store_node_revoke(hub_store_t *st, const char *cc, bool *changed,
                      struct ewh_err *err)
{
    sqlite3_stmt *s;
    int rc;

    if (changed != NULL)
        *changed = false;
    if (hub_store_begin(st, err) != 0)
        return -1;
    if ((s = ewh_db_stmt(st->db, s_node_get, err)) == NULL)
        goto fail;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    rc = ewh_db_step(st->db, s, "read node", err);
    sqlite3_reset(s);
    if (rc < 0)
        goto fail;
    if (rc == 0) {
        ewh_err_set(err, EWH_E_NOTFOUND, "%s is not enrolled", cc);
        goto fail;
    }
    if ((s = ewh_db_stmt(st->db, s_node_revoke, err)) == NULL)
        goto fail;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ewh_now());
    if (ewh_db_done(st->db, s, "revoke", err) != 0)
        goto fail;
    if (sqlite3_changes(hub_store__sql(st)) == 0) {
        hub_store_rollback(st);
        return 0;
    }
    if (hub_store__bump(st, err) != 0 || hub_store_commit(st, err) != 0)
        goto fail;
    if (changed != NULL)
        *changed = true;
    return 0;
fail:
    hub_store_rollback(st);
    return -1;
}

int
hub_store_roster_version(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_version, err);
    int64_t n = 0;

    if (s == NULL || ewh_db_int(st->db, s, "roster version", &n, err) != 0)
        return -1;
    *v = (uint64_t)n;
    return 0;
}

int
hub_store_data_version(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, "PRAGMA data_version", err);
    int64_t n = 0;

    if (s == NULL || ewh_db_int(st->db, s, "data version", &n, err) != 0)
        return -1;
    *v = (uint64_t)n;
    return 0;
}

/* One row of the nodes table into r. */
static int
s_roster_row(sqlite3_stmt *s, ewh_roster_t *r, struct ewh_err *err)
{
    struct ewh_pubid id;

    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_NODE;
    snprintf(id.country, sizeof(id.country), "%.2s",
             (const char *)sqlite3_column_text(s, 0));
    if (!ewh_db_blob(s, 1, id.curve, 32) || !ewh_db_blob(s, 2, id.sign, 32) ||
        !ewh_db_blob(s, 3, id.box, 32))
        return ewh_err_set(err, EWH_E_STORE, "store: bad keys for %s",
                           id.country);
    return ewh_roster_put(r, &id, sqlite3_column_int(s, 4) != 0, err);
}

int
hub_store_roster_load(hub_store_t *st, ewh_roster_t **out, struct ewh_err *err)
{
    ewh_roster_t *r = NULL;
    sqlite3_stmt *s;
    uint64_t v = 0;
    int rc;

    *out = NULL;
    /* One read transaction, so the version matches the rows. */
    if (hub_store_read_begin(st, err) != 0)
        return -1;
    if (hub_store_roster_version(st, &v, err) != 0)
        goto fail;
    if ((r = ewh_roster_new(v)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((s = ewh_db_stmt(st->db, s_nodes, err)) == NULL)
        goto fail;
    while ((rc = ewh_db_step(st->db, s, "read nodes", err)) == 1)
        if (s_roster_row(s, r, err) != 0) {
            sqlite3_reset(s);
            goto fail;
        }
    if (rc < 0)
        goto fail;
    hub_store_read_end(st);
    *out = r;
    return 0;
fail:
    hub_store_read_end(st);
    ewh_roster_destroy(&r);
    return -1;
}

int
hub_store_roster_bump(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    if (hub_store__bump(st, err) != 0)
        return -1;
    return v == NULL ? 0 : hub_store_roster_version(st, v, err);
}
