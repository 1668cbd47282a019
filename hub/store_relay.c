/* store_relay.c — receipts from recipients, and the relays owed to
 * origins: the receipts to pass on and the notices (expired) to send. */
#include "storeint.h"

#include <stdio.h>
#include <string.h>

static const char s_recipient[] =
    "SELECT e.origin, f.rcpts FROM envelopes e"
    " JOIN fanout f ON f.seq = e.rowid WHERE e.id = ?1";
static const char s_rc_ins[] =
    "INSERT OR IGNORE INTO receipts(id, from_cc, kind, origin,"
    " at, receipt) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
static const char s_relay_ins[] =
    "INSERT INTO relay(country, kind, payload, created_at)"
    " VALUES(?1, ?2, ?3, ?4)";
static const char s_relay_walk[] =
    "SELECT seq, kind, payload FROM relay"
    " WHERE country = ?1 AND done = 0 ORDER BY seq LIMIT ?2";
static const char s_relay_done[] = "UPDATE relay SET done = 1 WHERE seq = ?1"
                                   " AND country = ?2 AND done = 0";

int
hub_store_recipient_of(hub_store_t *st, const uint8_t id[EWH_ID_BYTES],
                       const char *cc, bool *found, char origin[EWH_CC_BYTES],
                       struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_recipient, err);
    const char *rcpts;
    int rc, i, n;

    *found = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id, EWH_ID_BYTES, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "find recipient", err)) <= 0)
        return rc;
    rcpts = (const char *)sqlite3_column_text(s, 1);
    n = sqlite3_column_bytes(s, 1) / 2;
    for (i = 0; i < n && !*found; i++)
        *found = memcmp(&rcpts[2 * i], cc, 2) == 0;
    snprintf(origin, EWH_CC_BYTES, "%.2s",
             (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return 0;
}

int
hub_store_relay_add(hub_store_t *st, const char *cc, enum hub_relay_kind kind,
                    const uint8_t *payload, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_relay_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)kind);
    sqlite3_bind_blob(s, 3, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ewh_now());
    return ewh_db_done(st->db, s, "queue relay", err);
}

int
hub_store_receipt_add(hub_store_t *st, const uint8_t (*ids)[EWH_ID_BYTES],
                      size_t n_ids, const char *from, int kind,
                      const char *origin, int64_t at, const uint8_t *buf,
                      size_t len, size_t *added, struct ewh_err *err)
{
    if (hub_store_receipt_keep(st, ids, n_ids, from, kind, origin, at, buf, len,
                               added, err) != 0)
        return -1;
    if (*added == 0)
        return 0;
    return hub_store_relay_add(st, origin, HUB_RELAY_RECEIPT, buf, len, err);
}

int
hub_store_receipt_keep(hub_store_t *st, const uint8_t (*ids)[EWH_ID_BYTES],
                       size_t n_ids, const char *from, int kind,
                       const char *origin, int64_t at, const uint8_t *buf,
                       size_t len, size_t *added, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_rc_ins, err);
    size_t i;

    *added = 0;
    if (s == NULL)
        return -1;
    /* Bindings outlive the reset after each row: only id and blob vary. */
    sqlite3_bind_text(s, 2, from, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, kind);
    sqlite3_bind_text(s, 4, origin, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, at);
    for (i = 0; i < n_ids; i++) {
        sqlite3_bind_blob(s, 1, ids[i], EWH_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 6, buf, i == 0 ? (int)len : 0, SQLITE_STATIC);
        if (ewh_db_done(st->db, s, "store receipt", err) != 0)
            return -1;
        *added += (size_t)sqlite3_changes(hub_store__sql(st));
    }
    return 0;
}

int
hub_store_relay_walk(hub_store_t *st, const char *cc, size_t limit,
                     hub_relay_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_relay_walk, err);
    struct hub_relay r;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)limit);
    while ((rc = ewh_db_step(st->db, s, "walk relays", err)) == 1) {
        r.seq = (uint64_t)sqlite3_column_int64(s, 0);
        r.kind = (enum hub_relay_kind)sqlite3_column_int(s, 1);
        r.payload = sqlite3_column_blob(s, 2);
        r.len = (size_t)sqlite3_column_bytes(s, 2);
        if (fn(ctx, &r) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_relay_done(hub_store_t *st, const char *cc, uint64_t seq,
                     bool *changed, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_relay_done, err);

    *changed = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    if (ewh_db_done(st->db, s, "relay done", err) != 0)
        return -1;
    *changed = sqlite3_changes(hub_store__sql(st)) > 0;
    return 0;
}
