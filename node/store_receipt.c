/*
 * store_receipt.c — receipts in the node store: those this node signed,
 * queued until the hub acknowledges them (receipt_out), and those about
 * our reports from their addressees (receipt_in).
 */
#include "store_int.h"

#include "ewh/util.h"

int
node_store_receipt_queue(node_store_t *s, const char *id,
                         enum ewh_receipt_kind kind, const uint8_t *buf,
                         size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO receipt_out(id, "
                                   "kind, receipt) VALUES(?, ?, ?)",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
    if (ewh_db_done(s->db, st, "queue a receipt", err) != 0 ||
        node_store_receipt_name(s, id, kind, id, err) != 0)
        return -1;
    return node_store_hub_receipt_owe(s, id, kind, err);
}

int
node_store_receipt_queue_rc(node_store_t *s, const struct ewh_receipt *rc,
                            const uint8_t *buf, size_t len, struct ewh_err *err)
{
    char first[EWH_ID_HEX], id[EWH_ID_HEX];
    size_t i;

    if (rc->n_ids == 0)
        return ewh_err_set(err, EWH_E_INVALID, "a receipt naming no report");
    ewh_hex(rc->ids[0], EWH_ID_BYTES, first, sizeof(first));
    if (node_store_receipt_queue(s, first, rc->kind, buf, len, err) != 0)
        return -1;
    for (i = 1; i < rc->n_ids; i++) {
        ewh_hex(rc->ids[i], EWH_ID_BYTES, id, sizeof(id));
        if (node_store_receipt_name(s, first, rc->kind, id, err) != 0)
            return -1;
    }
    return 0;
}

int
node_store_receipt_pending(node_store_t *s, int64_t after, size_t max,
                           node_env_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT seq, id, receipt FROM receipt_out "
                                   "WHERE done = 0 AND seq > ? ORDER BY seq "
                                   "LIMIT ?",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    return node_store_walk_blobs(s, st, "read unsent receipts", fn, ctx, err);
}

int
node_store_receipt_done(node_store_t *s, const char *id,
                        enum ewh_receipt_kind kind, struct ewh_err *err)
{
    return node_store_hub_receipt_first_done(s, id, kind, err);
}

int
node_store_receipt_set(node_store_t *s, int64_t seq, const uint8_t *buf,
                       size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "UPDATE receipt_out SET receipt = ?1 WHERE "
                                   "seq = ?2 AND (done = 0 OR EXISTS (SELECT "
                                   "1 FROM hub_receipt_todo WHERE seq = ?2))",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    return ewh_db_done(s->db, st, "re-sign a receipt", err);
}

int
node_store_receipt_add(node_store_t *s, const struct ewh_receipt *rc, size_t i,
                       const uint8_t *buf, size_t len, struct ewh_err *err)
{
    char id[EWH_ID_HEX];
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "INSERT OR IGNORE INTO receipt_in(id, "
                                   "from_cc, kind, at, who, receipt) "
                                   "VALUES(?,?,?,?,?,?)",
                                   err);

    if (st == NULL)
        return -1;
    ewh_hex(rc->ids[i], EWH_ID_BYTES, id, sizeof(id));
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, rc->from, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)rc->kind);
    sqlite3_bind_int64(st, 4, rc->at);
    sqlite3_bind_text(st, 5, rc->who, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, buf, i == 0 ? (int)len : 0, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "store a receipt", err);
}
