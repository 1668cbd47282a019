/*
 * store_audit.c — the hubs' audit checkpoints in the node store: each
 * verified one kept per hub by its length, for `ewnode audit` and for
 * Hello (issue 5); the functions without a hub act on hub #0.
 */
#include "store_int.h"

int
node_store_hub_checkpoint_put(node_store_t *s, int64_t hub, uint64_t length,
                              const uint8_t head[32], int64_t time,
                              const uint8_t *raw, size_t raw_len,
                              struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO checkpoint(hub,"
                                   " length, head, time, raw) VALUES(?, ?, ?,"
                                   " ?, ?)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)length);
    sqlite3_bind_blob(st, 3, head, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, time);
    sqlite3_bind_blob(st, 5, raw, (int)raw_len, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "store a checkpoint", err);
}

int
node_store_hub_checkpoint_length(node_store_t *s, int64_t hub, uint64_t *out,
                                 struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT coalesce(max(length), 0) FROM"
                                   " checkpoint WHERE hub = ?",
                                   err);
    int64_t v = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    if (ewh_db_int(s->db, st, "read the last checkpoint", &v, err) != 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int
node_store_hub_checkpoint_walk(node_store_t *s, int64_t hub, node_cp_fn fn,
                               void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT length, head, time FROM checkpoint"
                                   " WHERE hub = ? ORDER BY length",
                                   err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    while ((rc = ewh_db_step(s->db, st, "read checkpoints", err)) == 1) {
        if (sqlite3_column_bytes(st, 1) != 32)
            continue;
        if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
               sqlite3_column_blob(st, 1), sqlite3_column_int64(st, 2)) != 0) {
            sqlite3_reset(st);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_checkpoint_put(node_store_t *s, uint64_t length,
                          const uint8_t head[32], int64_t time,
                          const uint8_t *raw, size_t raw_len,
                          struct ewh_err *err)
{
    int64_t hub = 0;

    if (node_store_hub_first(s, &hub, err) != 0)
        return -1;
    return node_store_hub_checkpoint_put(s, hub, length, head, time, raw,
                                         raw_len, err);
}

int
node_store_checkpoint_length(node_store_t *s, uint64_t *out,
                             struct ewh_err *err)
{
    int64_t hub = 0;

    if (node_store_hub_first(s, &hub, err) != 0)
        return -1;
    return node_store_hub_checkpoint_length(s, hub, out, err);
}

int
node_store_checkpoint_walk(node_store_t *s, node_cp_fn fn, void *ctx,
                           struct ewh_err *err)
{
    int64_t hub = 0;

    if (node_store_hub_first(s, &hub, err) != 0)
        return -1;
    return node_store_hub_checkpoint_walk(s, hub, fn, ctx, err);
}

int
node_store_hub_checkpoint_walk_raw(node_store_t *s, int64_t hub,
                                   node_cp_raw_fn fn, void *ctx,
                                   struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT length, head, time, raw FROM"
                                   " checkpoint WHERE hub = ? ORDER BY length",
                                   err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    while ((rc = ewh_db_step(s->db, st, "read checkpoints", err)) == 1) {
        if (sqlite3_column_bytes(st, 1) != 32)
            continue;
        if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
               sqlite3_column_blob(st, 1), sqlite3_column_int64(st, 2),
               sqlite3_column_blob(st, 3),
               (size_t)sqlite3_column_bytes(st, 3)) != 0) {
            sqlite3_reset(st);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_hub_chain_back(node_store_t *s, int64_t hub, uint64_t chain_length,
                          int64_t at, int64_t *moved, struct ewh_err *err)
{
    static const char *const sql[] = {
        "INSERT OR IGNORE INTO checkpoint_old(hub, length, head, time, raw,"
        " back_to, back_at) SELECT hub, length, head, time, raw, ?2, ?3 FROM"
        " checkpoint WHERE hub = ?1 AND length > ?2",
        "DELETE FROM checkpoint WHERE hub = ?1 AND length > ?2",
    };
    sqlite3_stmt *st;
    size_t i;

    for (i = 0; i < 2; i++) {
        if ((st = ewh_db_stmt(s->db, sql[i], err)) == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, hub);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)chain_length);
        if (i == 0)
            sqlite3_bind_int64(st, 3, at);
        if (ewh_db_done(s->db, st, "set checkpoints aside", err) != 0)
            return -1;
        if (i == 1 && moved != NULL)
            *moved = sqlite3_changes(ewh_db_handle(s->db));
    }
    return 0;
}

int
node_store_hub_restores(node_store_t *s, int64_t hub, node_hub_restore_fn fn,
                        void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT back_to, back_at, count(*),"
                                   " max(length), max(reported_at) FROM"
                                   " checkpoint_old WHERE hub = ? GROUP BY"
                                   " back_at, back_to ORDER BY back_at",
                                   err);
    struct node_hub_restore r;
    int rc = 0, step = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, hub);
    while (rc == 0 &&
           (step = ewh_db_step(s->db, st, "read a hub's restores", err)) == 1) {
        r.back_to = (uint64_t)sqlite3_column_int64(st, 0);
        r.back_at = sqlite3_column_int64(st, 1);
        r.n = sqlite3_column_int64(st, 2);
        r.longest = (uint64_t)sqlite3_column_int64(st, 3);
        r.reported_at = sqlite3_column_int64(st, 4);
        rc = fn(ctx, &r);
    }
    if (rc != 0) {
        sqlite3_reset(st);
        return rc;
    }
    return step < 0 ? -1 : 0;
}

int
node_store_hub_restores_reported(node_store_t *s, int64_t hub, int64_t at,
                                 struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "UPDATE checkpoint_old SET reported_at = ?"
                                   " WHERE hub = ? AND reported_at = 0",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, hub);
    return ewh_db_done(s->db, st, "note a restore reported", err);
}
