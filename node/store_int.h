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
 *   store_audit.c    the hubs' audit checkpoints
 *   store_hubs.c     several hubs: the list, per report and hub the
 *                    accepts, what each hub still needs, per hub rosters
 *                    and receipts, the refill of a hub that lost data
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

/* ---- several hubs (store_hubs.c) ---- */

/* The id of hub #0: the first listed, NODE_HUB_FIRST_ID in a store with
 * none listed yet.  What the functions without a hub act on. */
EWH_MUST_CHECK int node_store_hub_first(node_store_t *s, int64_t *id,
                                        struct ewh_err *err);
/* Our report id (and its queued addressees) becomes accepted; or, taken
 * back after a refill, queued again (store_outbox.c). */
EWH_MUST_CHECK int node_store_outbox_mark_accepted(node_store_t *s,
                                                   const char *id, int64_t at,
                                                   struct ewh_err *err);
EWH_MUST_CHECK int node_store_outbox_mark_queued(node_store_t *s,
                                                 const char *id,
                                                 struct ewh_err *err);
/* Fill m->hubs: every listed hub with when it accepted m and when m was
 * resent to it. */
EWH_MUST_CHECK int node_store_msg_fill_hubs(node_store_t *s, struct node_msg *m,
                                            struct ewh_err *err);
/* A newly queued receipt is owed to every listed hub. */
EWH_MUST_CHECK int node_store_hub_receipt_owe(node_store_t *s, const char *id,
                                              enum ewh_receipt_kind kind,
                                              struct ewh_err *err);
/* Record that our receipt (first report first, kind) names report id. */
EWH_MUST_CHECK int node_store_receipt_name(node_store_t *s, const char *first,
                                           enum ewh_receipt_kind kind,
                                           const char *id, struct ewh_err *err);
/* node_store_receipt_done() and node_store_outbox_accepted(): hub #0's. */
EWH_MUST_CHECK int node_store_hub_receipt_first_done(node_store_t *s,
                                                     const char *id,
                                                     enum ewh_receipt_kind kind,
                                                     struct ewh_err *err);
EWH_MUST_CHECK int node_store_hub_first_accepted(node_store_t *s,
                                                 const char *id, int64_t at,
                                                 struct ewh_err *err);

#endif
