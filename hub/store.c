/* store.c — the hub's store: the connection, transactions, read
 * snapshots, the integrity check and the online backup.  The tables are
 * spoken to in the store_*.c files (storeint.h). */
#include "storeint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

hub_store_t *
hub_store_open(const char *path, unsigned flags, uint64_t max_pages,
               struct ewh_err *err)
{
    hub_store_t *st;
    char pragma[64];

    if ((st = calloc(1, sizeof(*st))) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    /* Only init creates a store: anywhere else a missing or empty file is
     * a lost store, refused, never run as a new empty hub. */
    if (!(flags & HUB_STORE_CREATE) && ewh_db_must_exist(path, err) != 0)
        goto fail;
    st->db =
        ewh_db_open(path, (flags & HUB_STORE_CREATE) ? EWH_DB_CREATE : 0, err);
    if (st->db == NULL)
        goto fail;
    if (sqlite3_exec(hub_store__sql(st),
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     /* Performance (docs/performance.md): a page cache
                      * that holds the hot index pages (bounded, for the
                      * RSS budget); commands other than run checkpoint
                      * every 16 MiB of WAL themselves (run hands it to
                      * its checkpointer thread); the WAL file is
                      * truncated back to 16 MiB after a checkpoint. */
                     "PRAGMA cache_size = -16384;"
                     "PRAGMA wal_autocheckpoint = 4096;"
                     "PRAGMA journal_size_limit = 16777216;",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto sqlfail;
    if (hub_store__layout(st, path, (flags & HUB_STORE_UPGRADE) != 0, err) != 0)
        goto fail;
    if (max_pages > 0) {
        snprintf(pragma, sizeof(pragma), "PRAGMA max_page_count = %llu",
                 (unsigned long long)max_pages);
        if (sqlite3_exec(hub_store__sql(st), pragma, NULL, NULL, NULL) !=
            SQLITE_OK)
            goto sqlfail;
    }
    return st;
sqlfail:
    ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                sqlite3_errmsg(hub_store__sql(st)));
fail:
    hub_store_close(&st);
    return NULL;
}

void
hub_store_close(hub_store_t **stp)
{
    hub_store_t *st;

    if (stp == NULL || *stp == NULL)
        return;
    st = *stp;
    if (st->db != NULL) {
        hub_store__count_stop(st);
        hub_store__ckpt_stop(st);
    }
    hub_lanes_destroy(&st->lanes);
    free(st->ops);
    ewh_db_close(&st->db);
    free(st);
    *stp = NULL;
}

int
hub_store_begin(hub_store_t *st, struct ewh_err *err)
{
    if (ewh_db_begin(st->db, true, err) != 0)
        return -1;
    st->in_tx = true;
    return 0;
}

int
hub_store_commit(hub_store_t *st, struct ewh_err *err)
{
    if (ewh_db_commit(st->db, err) != 0)
        return -1;
    st->in_tx = false;
    hub_store__lanes_commit(st);
    return 0;
}

void
hub_store_rollback(hub_store_t *st)
{
    ewh_db_rollback(st->db);
    st->in_tx = false;
    hub_store__lanes_rollback(st);
}

int
hub_store_read_begin(hub_store_t *st, struct ewh_err *err)
{
    return ewh_db_begin(st->db, false, err);
}

void
hub_store_read_end(hub_store_t *st)
{
    /* A read transaction: nothing to lose if the commit fails. */
    ewh_db_rollback(st->db);
}

int
hub_store_check(hub_store_t *st, struct ewh_err *err)
{
    return ewh_db_quick_check(hub_store__sql(st), err);
}

int
hub_store_backup(const char *src, const char *dst, struct ewh_err *err)
{
    sqlite3 *from = NULL, *to = NULL;
    sqlite3_backup *b;
    int rc, ret = -1;

    rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", src,
                    from != NULL ? sqlite3_errmsg(from) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_busy_timeout(from, EWH_DB_BUSY_MS);
    rc = sqlite3_open_v2(dst, &to,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_EXCLUSIVE,
                         NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_IO, "%s: %s", dst,
                    to != NULL ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
        goto out;
    }
    if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
        ewh_err_set(err, EWH_E_STORE, "backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    /* All pages in one step: one read transaction on the source, so the
     * copy is a consistent snapshot; in WAL mode the hub keeps writing. */
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        ewh_err_set(err,
                    (rc & 0xff) == SQLITE_FULL ? EWH_E_DISKFULL : EWH_E_STORE,
                    "backup: %s", sqlite3_errstr(rc));
        goto out;
    }
    rc = sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    ret = 0;
out:
    if (to != NULL && sqlite3_close(to) != SQLITE_OK && ret == 0)
        ret = ewh_err_set(err, EWH_E_IO, "%s: close failed", dst);
    if (from != NULL)
        sqlite3_close(from);
    return ret;
}

int
hub_store_meta_get(hub_store_t *st, const char *k, int64_t *v,
                   struct ewh_err *err)
{
    static const char sql[] = "SELECT coalesce((SELECT v FROM meta"
                              " WHERE k = ?1), 0)";
    sqlite3_stmt *s = ewh_db_stmt(st->db, sql, err);

    *v = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    return ewh_db_int(st->db, s, "read meta", v, err);
}

int
hub_store_meta_set(hub_store_t *st, const char *k, int64_t v,
                   struct ewh_err *err)
{
    static const char sql[] = "INSERT OR REPLACE INTO meta(k, v)"
                              " VALUES(?1, ?2)";
    sqlite3_stmt *s = ewh_db_stmt(st->db, sql, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, v);
    return ewh_db_done(st->db, s, "set meta", err);
}
