/*
 * storeint.h — what the files of the hub's store share (sqliteInt.h
 * style).  Only store*.c include it; they alone speak SQL.
 *
 *   store.c         the connection, transactions, read snapshots, the
 *                   integrity check, online backup
 *   store_schema.c  the schema and the in-place layout upgrades
 *   store_ckpt.c    the checkpointer thread (WAL copied back off the loop)
 *   store_count.c   the budget counter thread (storage budgets recounted
 *                   off the loop)
 *   store_queue.c   envelopes, fan-out rows, the lanes (queue order and
 *                   depth in memory), delivery, expiry, retention
 *   store_roster.c  countries, keys, revocations, the roster version
 *   store_relay.c   receipts and the relays owed to origins
 *   store_audit.c   the audit chain and its signed checkpoints
 *   store_events.c  traffic events and the figures of `ewhub status`
 *                   (the annual exchange's returns ledger among them)
 *
 * Every statement goes through libewhdb (include/ewh/db.h): one cache,
 * one SQLite-error mapping, no error turned into a default or "no rows".
 */
#ifndef HUB_STOREINT_H
#define HUB_STOREINT_H

#include <pthread.h>
#include <stdbool.h>

#include <sqlite3.h>

#include "lanes.h"
#include "store.h"
#include "ewh/db.h"
#include "ewh/limits.h"

#define S_STR_(x) #x
#define S_STR(x)  S_STR_(x)

/* Delivery slots per envelope rowid (see the fanout table); the SQL
 * spells it S_SPAN.  A delivery is named by seq = rowid * HUB_SEQ_SPAN +
 * its recipient's index in the header. */
#define HUB_SEQ_SPAN 32
#define S_SPAN       S_STR(HUB_SEQ_SPAN)
_Static_assert(HUB_SEQ_SPAN >= EWH_MAX_RECIPIENTS,
               "a report's recipients must fit its seq range");

/* The deliveries table's states (a delivery that is over). */
#define S_DLV_DELIVERED 1
#define S_DLV_EXPIRED   2

/* Clear the bit of delivery ?1 (seq) in its fan-out row, if it waits. */
#define S_CLEAR_WAITING                                                        \
    "UPDATE fanout SET waiting = waiting & ~(1 << (?1 % " S_SPAN "))"          \
    " WHERE seq = ?1 / " S_SPAN " AND (waiting >> (?1 % " S_SPAN ")) & 1"
/* The deliveries still waiting, a row each: their country is S_SLOT_CC. */
#define S_SLOT_CC "substr(f.rcpts, 2 * s.i + 1, 2)"
#define S_WAITING_ROWS                                                         \
    " FROM fanout f JOIN slots s ON s.i < length(f.rcpts) / 2"                 \
    " WHERE f.waiting != 0 AND (f.waiting >> s.i) & 1"

/* The checkpointer (store_ckpt.c): a thread with its own connection
 * copies the WAL back into the database, so that the loop thread's
 * commits never do it. */
struct hub_store_ckpt {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;
    bool due, stop, started;
    int last_rc; /* of the last checkpoint, for one warning per change */
    uint64_t runs, failed, wal_pages; /* under mu */
};

/* The budget counter (store_count.c): a thread with its own read-only
 * connection recounts one country's storage budgets at a time, asked by
 * the loop (hub_store_count_ask), so that the scans never block it. */
struct hub_store_count {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;
    sqlite3_stmt *q_for, *q_from;
    bool stop, started;
    char ask[EWH_HUB_BUDGET_ASKS][2]; /* under mu: FIFO, n_ask */
    size_t n_ask, busy;               /* busy: being counted (0 or 1) */
    struct hub_store_count_res res[EWH_HUB_BUDGET_ASKS]; /* under mu */
    size_t n_res;
    int last_rc; /* of the last failed count, for one warning per change */
};

/* The statements of hub_store_bytes_for/from (store_queue.c), which the
 * counter prepares on its own connection. */
extern const char hub_store__bytes_for_sql[];
extern const char hub_store__bytes_from_sql[];

/* A change to the lanes, made when the transaction that wrote it
 * commits. */
struct hub_store_lane_op {
    uint64_t seq;
    char cc[2];
    uint8_t level; /* 1..3 to add; 0 to remove */
};

struct hub_store {
    ewh_db_t *db;
    struct hub_store_ckpt ck;
    struct hub_store_count cnt;
    bool in_tx;
    /* The queued deliveries' order and depth, loaded by
     * hub_store_queue_open() (ewhub run) or the first walk; NULL in the
     * other commands, which count in SQL. */
    hub_lanes_t *lanes;
    bool lanes_stale; /* rebuild before the next use */
    struct hub_store_lane_op *ops;
    size_t n_ops, cap_ops;
};

/* A report's fan-out row. */
struct hub_store_fan {
    int64_t rowid;
    char rcpts[2 * HUB_SEQ_SPAN];
    size_t n;
    int level;
    int64_t expires_at, queued_at;
    uint64_t waiting;
};

/* The raw connection. */
static inline sqlite3 *
hub_store__sql(hub_store_t *st)
{
    return ewh_db_handle(st->db);
}

/* store_schema.c: create, check or upgrade the layout of a new
 * connection. */
int hub_store__layout(hub_store_t *st, const char *path, bool upgrade,
                      struct ewh_err *err);
/* store_ckpt.c */
void hub_store__ckpt_stop(hub_store_t *st);
/* store_queue.c, also used by the upgrade */
int hub_store__fan_add(hub_store_t *st, const struct hub_store_fan *f,
                       struct ewh_err *err);
int hub_store__delivery_add(hub_store_t *st, const char *cc, uint64_t seq,
                            int state, int64_t at, struct ewh_err *err);
/* store_queue.c: the commit applies the lane changes it carried; a
 * rollback drops them. */
/* store_count.c: stop and join the counter (hub_store_close). */
void hub_store__count_stop(hub_store_t *st);
void hub_store__lanes_commit(hub_store_t *st);
void hub_store__lanes_rollback(hub_store_t *st);
/* store_roster.c: bump the roster version (inside a transaction). */
int hub_store__bump(hub_store_t *st, struct ewh_err *err);
/* store_events.c: note a TYPE_RETURN envelope in the returns ledger
 * (inside hub_store_envelope_add's transaction). */
int hub_store__return_note(hub_store_t *st, const struct ewh_header *hdr,
                           int64_t received_at, struct ewh_err *err);

#endif
