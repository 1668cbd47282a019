/*
 * store_int.h — the private header shared by the files of the node store
 * (store.h is its public face; nothing else includes this one):
 *
 *   store.c          the connection, the schema, transactions, the held
 *                    roster, the integrity check
 *   store_msg.c      reports of both directions: rows in and out, lookups
 *                    and listings
 *   store_outbox.c   our reports' progress: pending submits, the hub's
 *                    answers, per-addressee states, resealing
 *   store_inbox.c    received reports: storing once, acknowledging, the
 *                    deliveries refused
 *   store_receipt.c  receipts we signed (queued until the hub acks them)
 *                    and receipts about our reports
 *   store_audit.c    the hub's audit checkpoints
 *   store_find.c     finding reports by an abbreviated id, a report's
 *                    chain, the `watch --exec` hooks that ran
 *
 * Every statement goes through libewhdb (ewh/db.h): one statement cache,
 * one error mapping (disk full, I/O, busy), step helpers that never turn
 * an error into a default value or into "no rows".
 */
#ifndef NODE_STORE_INT_H
#define NODE_STORE_INT_H

#include <sqlite3.h>

#include "ewh/db.h"
#include "store.h"

struct node_store {
    ewh_db_t *db;
};

/* `watch --exec` runs (store_find.c); in the schema, and created on first
 * use in stores made before it existed. */
#define NODE_STORE_HOOK_SCHEMA                                                 \
    "CREATE TABLE IF NOT EXISTS hook_run(id TEXT NOT NULL, hook TEXT NOT "     \
    "NULL, at INTEGER NOT NULL, status INTEGER NOT NULL, PRIMARY KEY(id, "     \
    "hook));"

/* The columns node_store_msg_fill() reads, in its order. */
#define NODE_MSG_COLS                                                          \
    "seq, id, dir, type, origin, author, level, category, tlp, title, body, "  \
    "urgency, certainty, created_at, expires_at, recipients, to_all, "         \
    "received_at, acked_at, acked_by, state, reason"

/* Insert a report row (and its references) in state `state`. */
EWH_MUST_CHECK int node_store_msg_insert(node_store_t *s,
                                         const struct node_msg *m,
                                         const uint8_t *env, size_t len,
                                         const char *state,
                                         struct ewh_err *err);

/* Fill m from the current row of st (NODE_MSG_COLS), with its references,
 * the report superseding it and, for ours, the addressees' states.  m is
 * cleared first; on failure it may hold a body (node_msg_clear()). */
EWH_MUST_CHECK int node_store_msg_fill(node_store_t *s, sqlite3_stmt *st,
                                       struct node_msg *m, struct ewh_err *err);

/* Copy blob column col of st's current row into a new buffer (caller
 * owns *buf, free()). */
EWH_MUST_CHECK int node_store_blob_dup(sqlite3_stmt *st, int col, uint8_t **buf,
                                       size_t *len, struct ewh_err *err);

/* Step st (bound by the caller) through its (seq, id, blob) rows, calling
 * fn for each until fn returns non-zero.  Returns 0, or fn's non-zero
 * value; -1 with err on a store error (a busy or failing database is
 * never "no more rows").  st is reset on return. */
EWH_MUST_CHECK int node_store_walk_blobs(node_store_t *s, sqlite3_stmt *st,
                                         const char *what, node_env_fn fn,
                                         void *ctx, struct ewh_err *err);

#endif
