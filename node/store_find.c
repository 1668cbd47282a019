/*
 * store_find.c — finding reports in the node store: a report's full id
 * from an abbreviation, the chain of updates and cancellations a report
 * belongs to, and the `watch --exec` hooks that ran (issue 15).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

int
node_store_id_resolve(node_store_t *s, const char *abbrev, char out[EWH_ID_HEX],
                      struct ewh_err *err)
{
    char want[EWH_ID_HEX], found[4][EWH_ID_HEX];
    size_t len = strlen(abbrev), i, n = 0;
    sqlite3_stmt *st;
    int rc = 0;

    if (len < EWH_MIN_ID_ABBREV || len > EWH_ID_HEX - 1)
        return ewh_err_set(err, EWH_E_INVALID,
                           "bad report id '%.40s': give the id or at least %u "
                           "of its hex digits (from its start or its end)",
                           abbrev, EWH_MIN_ID_ABBREV);
    for (i = 0; i < len; i++) {
        char c = abbrev[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad report id '%.40s': ids are hex digits "
                               "(0-9, a-f)",
                               abbrev);
        want[i] = c;
    }
    want[len] = '\0';
    st = ewh_db_stmt(s->db,
                     "SELECT id FROM msg WHERE substr(id, 1, length(?1)) = ?1 "
                     "OR substr(id, -length(?1)) = ?1 ORDER BY seq LIMIT 4",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, want, -1, SQLITE_STATIC);
    while (n < 4 && (rc = ewh_db_step(s->db, st, "find a report", err)) == 1)
        (void)ewh_db_text(st, 0, found[n++], EWH_ID_HEX);
    if (n == 4)
        sqlite3_reset(st);
    else if (rc < 0)
        return -1;
    if (n == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", want);
    if (n > 1)
        return ewh_err_set(err, EWH_E_INVALID,
                           "%s is ambiguous: %s, %s%s%s%s; give more digits",
                           want, found[0], found[1], n > 2 ? ", " : "",
                           n > 2 ? found[2] : "", n > 3 ? " and more" : "");
    memcpy(out, found[0], EWH_ID_HEX);
    return 0;
}

int
node_store_chain(node_store_t *s, const char *id, char (*ids)[EWH_ID_HEX],
                 size_t max, size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *st;
    int rc;

    *n = 0;
    /* refs hold the replaced report first and the chain's first report
     * last (node_action_submit writes them so) */
    st = ewh_db_stmt(s->db,
                     "WITH root(r) AS (SELECT coalesce((SELECT ref FROM refs "
                     "WHERE id = ?1 ORDER BY rowid DESC LIMIT 1), ?1)), "
                     "o(cc) AS (SELECT origin FROM msg WHERE id = ?1) "
                     "SELECT m.id FROM msg m, root, o WHERE m.origin = o.cc "
                     "AND (m.id = root.r OR m.id IN (SELECT id FROM refs "
                     "WHERE ref = root.r)) ORDER BY m.created_at, m.seq",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((rc = ewh_db_step(s->db, st, "read a chain", err)) == 1) {
        if (*n < max)
            (void)ewh_db_text(st, 0, ids[*n], EWH_ID_HEX);
        (*n)++;
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_hook_has_run(node_store_t *s, const char *id, const char *hook,
                        bool *ran, struct ewh_err *err)
{
    sqlite3_stmt *st;
    int rc;

    *ran = false;
    if (ewh_db_exec(s->db, NODE_STORE_HOOK_SCHEMA, "create hook_run", err) != 0)
        return -1;
    st = ewh_db_stmt(s->db,
                     "SELECT 1 FROM hook_run WHERE id = ? AND hook = ? AND "
                     "status = 0",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hook, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read hook_run", err)) == 1) {
        *ran = true;
        sqlite3_reset(st);
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_hook_record(node_store_t *s, const char *id, const char *hook,
                       int64_t at, int status, struct ewh_err *err)
{
    sqlite3_stmt *st;

    if (ewh_db_exec(s->db, NODE_STORE_HOOK_SCHEMA, "create hook_run", err) != 0)
        return -1;
    st = ewh_db_stmt(s->db,
                     "INSERT OR REPLACE INTO hook_run(id, hook, at, status) "
                     "VALUES(?, ?, ?, ?)",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hook, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int(st, 4, status);
    return ewh_db_done(s->db, st, "record a hook", err);
}
