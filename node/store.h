/*
 * store.h — the node's SQLite store: outbox, inbox, receipts, roster,
 * audit checkpoints.  The only module of ewnode that speaks SQL (its
 * files: store_int.h).
 *
 * WAL mode with synchronous=FULL: a committed transaction survives SIGKILL
 * and power loss.  Several processes share the file (the agent, submit,
 * ack, watch); writers wait up to a busy timeout (EWH_DB_BUSY_MS).
 *
 * Every function returns 0 or -1 with err: a full disk or a failing write
 * is EWH_E_DISKFULL, a database still locked after the busy timeout
 * EWH_E_BUSY (both retryable), other failures EWH_E_STORE or EWH_E_IO.
 * No error is turned into a default value or into "no rows".
 *
 * Ids are kept as 32 lower-case hex characters.  The node's own disk holds
 * the plaintext of the reports it sent and received (the hub's never does).
 */
#ifndef NODE_STORE_H
#define NODE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/envelope.h"
#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/limits.h"
#include "ewh/receipt.h"
#include "ewh/util.h"

typedef struct node_store node_store_t;

/* Per-addressee state of a sent report, in order of progress; expired and
 * refused are final. */
enum node_rstate {
    NODE_R_QUEUED = 0,
    NODE_R_ACCEPTED = 1,
    NODE_R_DELIVERED = 2,
    NODE_R_ACKNOWLEDGED = 3,
    NODE_R_EXPIRED = 4,
    NODE_R_REFUSED = 5,
};

const char *node_rstate_name(enum node_rstate s);

struct node_rcpt {
    char cc[EWH_CC_BYTES];
    enum node_rstate state;
    char reason[EWH_MAX_REASON_BYTES];
    int64_t at;
};

/* One stored report, sent (outgoing) or received.  body is heap memory
 * owned by the struct; node_msg_clear() wipes and frees it. */
struct node_msg {
    int64_t seq;
    char id[EWH_ID_HEX];
    bool outgoing;
    enum ewh_type type;
    char origin[EWH_CC_BYTES];
    char author[EWH_MAX_AUTHOR_BYTES + 1];
    enum ewh_level level;
    char category[EWH_MAX_CATEGORY_BYTES + 1];
    enum ewh_tlp tlp;
    char title[EWH_MAX_TITLE_BYTES + 1];
    char urgency[EWH_MAX_CAPWORD_BYTES + 1];
    char certainty[EWH_MAX_CAPWORD_BYTES + 1];
    char *body;
    int64_t created_at;
    int64_t expires_at;
    int64_t received_at; /* inbox: stored; outbox: queued */
    char recipients[EWH_MAX_RECIPIENTS][EWH_CC_BYTES];
    size_t n_recipients;
    bool to_all;
    char refs[EWH_MAX_REFERENCES][EWH_ID_HEX];
    size_t n_refs;
    /* inbox */
    bool unverified; /* signed by a key this node has not verified */
    char unverified_fp[EWH_FINGERPRINT_CHARS];
    int64_t acked_at; /* 0: not acknowledged */
    char acked_by[EWH_MAX_WHO_BYTES + 1];
    /* the latest report of the same origin that references this one (a
     * cancellation first: it ends the chain), its author and creation */
    char superseded_by[EWH_ID_HEX];
    enum ewh_type superseded_type;
    char superseded_author[EWH_MAX_AUTHOR_BYTES + 1];
    int64_t superseded_at;
    /* the report refs[0] names, when stored here: its title, creation */
    char ref_title[EWH_MAX_TITLE_BYTES + 1];
    int64_t ref_created_at;
    /* outbox */
    char state[16]; /* queued, accepted, refused */
    char reason[EWH_MAX_REASON_BYTES];
    struct node_rcpt rcpt[EWH_MAX_RECIPIENTS];
    size_t n_rcpt;
    /* outbox: every listed hub, in order, with when it accepted this
     * report (0: not yet) and when it was last sent again after that hub
     * lost data (0: never) */
    struct node_msg_hub {
        char endpoint[EWH_MAX_HUB_ENDPOINT_BYTES];
        int64_t accepted_at;
        int64_t resent_at;
    } hubs[EWH_MAX_HUBS];
    size_t n_hubs;
    size_t n_hubs_accepted;
};

/* Fill m from an opened report and its header. */
void node_msg_from_report(struct node_msg *m, const struct ewh_report *r,
                          const struct ewh_header *h, bool outgoing);
void node_msg_clear(struct node_msg *m);

/* Open (creating the schema when create is true) the store at path. */
EWH_MUST_CHECK node_store_t *node_store_open(const char *path, bool create,
                                             struct ewh_err *err);
void node_store_close(node_store_t **s);

/* Explicit transactions (BEGIN IMMEDIATE). */
EWH_MUST_CHECK int node_store_begin(node_store_t *s, struct ewh_err *err);
EWH_MUST_CHECK int node_store_commit(node_store_t *s, struct ewh_err *err);
void node_store_rollback(node_store_t *s);
/* A read transaction (BEGIN): reads inside it see one snapshot, however
 * the agent commits meanwhile.  End it with node_store_read_end(). */
EWH_MUST_CHECK int node_store_read_begin(node_store_t *s, struct ewh_err *err);
void node_store_read_end(node_store_t *s);

/* PRAGMA data_version: changes when another connection commits. */
EWH_MUST_CHECK int node_store_data_version(node_store_t *s, int64_t *out,
                                           struct ewh_err *err);

/* ---- roster ---- */

/* The signed roster held (caller owns *buf, free()); EWH_E_NOTFOUND when
 * none has arrived yet. */
EWH_MUST_CHECK int node_store_roster_get(node_store_t *s, uint8_t **buf,
                                         size_t *len, struct ewh_err *err);
/* Replace the held roster; the caller has verified it. */
EWH_MUST_CHECK int node_store_roster_put(node_store_t *s, const uint8_t *buf,
                                         size_t len, uint64_t version,
                                         struct ewh_err *err);

/* ---- messages ---- */

/* Insert a sent report: the sealed envelope, its plaintext fields and one
 * queued row per addressee.  Call inside a transaction. */
EWH_MUST_CHECK int node_store_outbox_add(node_store_t *s,
                                         const struct node_msg *m,
                                         const uint8_t *env, size_t len,
                                         struct ewh_err *err);

/* Insert a received report unless its id is already stored (*dup true). */
EWH_MUST_CHECK int node_store_inbox_add(node_store_t *s,
                                        const struct node_msg *m,
                                        const uint8_t *env, size_t len,
                                        bool *dup, struct ewh_err *err);

/* Load one report, sent or received, by hex id.  EWH_E_NOTFOUND if none.
 * Fills recipient states for sent reports and superseded_by. */
EWH_MUST_CHECK int node_store_msg_get(node_store_t *s, const char *id,
                                      struct node_msg *m, struct ewh_err *err);

/* The stored envelope of a report (caller owns *env, free()). */
EWH_MUST_CHECK int node_store_envelope_get(node_store_t *s, const char *id,
                                           uint8_t **env, size_t *len,
                                           struct ewh_err *err);

/* The expires_at (0: never) of the report id, signed by its origin. */
EWH_MUST_CHECK int node_store_expires_at(node_store_t *s, const char *id,
                                         int64_t *out, struct ewh_err *err);

/* Set the reason shown for addressee cc of our report id, its state
 * unchanged (a hub fault noted beside it): queued or accepted only (a
 * delivered one shows its receipt). */
EWH_MUST_CHECK int node_store_rcpt_note(node_store_t *s, const char *id,
                                        const char *cc, const char *reason,
                                        struct ewh_err *err);

/* created_at of a stored report (for CAP references); EWH_E_NOTFOUND if
 * it is not stored here. */
EWH_MUST_CHECK int node_store_created_at(node_store_t *s, const char *id,
                                         int64_t *out, struct ewh_err *err);

struct node_filter {
    bool outgoing;
    unsigned levels; /* bit (1 << level); 0 = all */
    char from[EWH_CC_BYTES];
    bool unacked;
    /* every word (space-separated, at most EWH_MAX_SEARCH_WORDS) appears
     * in the title or the body; SQL LIKE, so case-insensitive for ASCII
     * letters only.  NULL or "": no search. */
    const char *search;
    char category[EWH_MAX_CATEGORY_BYTES + 1]; /* "" = all */
    int64_t since, until;  /* created_at >= since, < until; 0 = open */
    int64_t limit, offset; /* limit 0 = no limit */
    int64_t after_seq;     /* only seq > after_seq */
    bool level_first;      /* order high first, then oldest first */
    bool oldest_first;     /* default: newest first */
    bool level_newest;     /* order high first, then newest first (desk) */
};

/* Call fn for each report matching f (m is cleared after fn returns). */
typedef int (*node_msg_fn)(void *ctx, const struct node_msg *m);
EWH_MUST_CHECK int node_store_msg_list(node_store_t *s,
                                       const struct node_filter *f,
                                       node_msg_fn fn, void *ctx,
                                       struct ewh_err *err);

/* The full id of a stored report from an abbreviation: the whole id, or
 * at least EWH_MIN_ID_ABBREV hex digits from its start or its end.
 * EWH_E_NOTFOUND when none matches, EWH_E_INVALID (naming a few of the
 * matches) when several do. */
EWH_MUST_CHECK int node_store_id_resolve(node_store_t *s, const char *abbrev,
                                         char out[EWH_ID_HEX],
                                         struct ewh_err *err);

/* The chain of report id: its first report (the last one id references,
 * or id itself) and every stored report of the same origin that
 * references that first one, oldest first.  At most max ids; *n may
 * exceed max (the chain is longer than ids holds). */
EWH_MUST_CHECK int node_store_chain(node_store_t *s, const char *id,
                                    char (*ids)[EWH_ID_HEX], size_t max,
                                    size_t *n, struct ewh_err *err);

/* `watch --exec`: has the hook command run to success for report id?
 * Recorded with node_store_hook_record() so that a restart of watch does
 * not run it again. */
EWH_MUST_CHECK int node_store_hook_has_run(node_store_t *s, const char *id,
                                           const char *hook, bool *ran,
                                           struct ewh_err *err);
/* Record that hook ran for id at time at, with its exit status (0 ok). */
EWH_MUST_CHECK int node_store_hook_record(node_store_t *s, const char *id,
                                          const char *hook, int64_t at,
                                          int status, struct ewh_err *err);

/* Highest seq stored (0 if empty). */
EWH_MUST_CHECK int node_store_max_seq(node_store_t *s, int64_t *out,
                                      struct ewh_err *err);

/* Mark a received report acknowledged.  *already set if it was. */
EWH_MUST_CHECK int node_store_inbox_ack(node_store_t *s, const char *id,
                                        const char *who, int64_t at,
                                        bool *already, struct ewh_err *err);

/* ---- the agent's outbox work ---- */

/* Queued outbox envelopes with rowid > after and next_try <= now_ms, in
 * order; at most max.  fn gets the row's seq, id and envelope and returns
 * 0 to go on, non-zero to stop.  Returns 0 (or fn's stop value), -1 on a
 * store error. */
typedef int (*node_env_fn)(void *ctx, int64_t seq, const char *id,
                           const uint8_t *env, size_t len);
EWH_MUST_CHECK int node_store_outbox_pending(node_store_t *s, int64_t after,
                                             int64_t now_ms, size_t max,
                                             node_env_fn fn, void *ctx,
                                             struct ewh_err *err);
/* The hub accepted (or already had) the report. */
EWH_MUST_CHECK int node_store_outbox_accepted(node_store_t *s, const char *id,
                                              int64_t at, struct ewh_err *err);
/* Permanent refusal: the report and every addressee become refused. */
EWH_MUST_CHECK int node_store_outbox_refused(node_store_t *s, const char *id,
                                             const char *reason, int64_t at,
                                             struct ewh_err *err);
/* Temporary refusal: try again at next_try_ms (wall clock). */
EWH_MUST_CHECK int node_store_outbox_retry(node_store_t *s, const char *id,
                                           int64_t next_try_ms,
                                           const char *reason,
                                           struct ewh_err *err);
/* For the agent's /metrics: reports queued in the outbox (not yet
 * accepted by the hub) and the created_at of the oldest; high reports
 * received and not acknowledged by a liaison officer and the received_at
 * of the oldest (unix seconds, 0 when none). */
struct node_store_figures {
    int64_t outbox, outbox_oldest;
    int64_t unacked_high, unacked_high_oldest;
};
EWH_MUST_CHECK int node_store_figures(node_store_t *s,
                                      struct node_store_figures *f,
                                      struct ewh_err *err);
/* Earliest next_try after now_ms of queued reports into *out (0 if
 * none). */
EWH_MUST_CHECK int node_store_outbox_next_try(node_store_t *s, int64_t now_ms,
                                              int64_t *out,
                                              struct ewh_err *err);

/* Move one addressee forward (never backwards; final states stay). */
EWH_MUST_CHECK int node_store_rcpt_update(node_store_t *s, const char *id,
                                          const char *cc,
                                          enum node_rstate state,
                                          const char *reason, int64_t at,
                                          struct ewh_err *err);

/* ---- receipts ---- */

/* Queue a receipt this node signed, to be sent by the agent.  id is the
 * first report it names: the hub's ReceiptAck lists the receipt's reports
 * in order, and the first finds the row (node_store_receipt_done()). */
EWH_MUST_CHECK int node_store_receipt_queue(node_store_t *s, const char *id,
                                            enum ewh_receipt_kind kind,
                                            const uint8_t *buf, size_t len,
                                            struct ewh_err *err);
/* The same for a receipt naming several reports: each is recorded, so
 * that node_store_hub_receipt_resend() finds the receipt by any of them.
 * Call inside a transaction. */
EWH_MUST_CHECK int node_store_receipt_queue_rc(node_store_t *s,
                                               const struct ewh_receipt *rc,
                                               const uint8_t *buf, size_t len,
                                               struct ewh_err *err);
/* Unsent receipts with rowid > after, in order; at most max.  fn and the
 * result as for node_store_outbox_pending(). */
EWH_MUST_CHECK int node_store_receipt_pending(node_store_t *s, int64_t after,
                                              size_t max, node_env_fn fn,
                                              void *ctx, struct ewh_err *err);
/* The hub acknowledged our receipt whose first report is id. */
EWH_MUST_CHECK int node_store_receipt_done(node_store_t *s, const char *id,
                                           enum ewh_receipt_kind kind,
                                           struct ewh_err *err);
/* Store a verified receipt for its i-th report (one of ours).  The signed
 * receipt (buf) is kept once, with its first report (i == 0); the rows of
 * its other reports hold an empty blob. */
EWH_MUST_CHECK int node_store_receipt_add(node_store_t *s,
                                          const struct ewh_receipt *rc,
                                          size_t i, const uint8_t *buf,
                                          size_t len, struct ewh_err *err);

/* ---- audit and refusals ---- */

EWH_MUST_CHECK int node_store_checkpoint_put(node_store_t *s, uint64_t length,
                                             const uint8_t head[32],
                                             int64_t time, const uint8_t *raw,
                                             size_t raw_len,
                                             struct ewh_err *err);
/* The length of the longest checkpoint held into *out (0 if none). */
EWH_MUST_CHECK int node_store_checkpoint_length(node_store_t *s, uint64_t *out,
                                                struct ewh_err *err);
/* The audit checkpoints held, by length (issue 5, ewnode audit).
 * Return 0 from fn to go on, 1 to stop. */
typedef int (*node_cp_fn)(void *ctx, uint64_t length, const uint8_t head[32],
                          int64_t time);
EWH_MUST_CHECK int node_store_checkpoint_walk(node_store_t *s, node_cp_fn fn,
                                              void *ctx, struct ewh_err *err);

/* Record a delivery that was acknowledged but not shown. */
EWH_MUST_CHECK int node_store_refusal_add(node_store_t *s, const char *id,
                                          const char *origin,
                                          const char *reason, int64_t at,
                                          struct ewh_err *err);
/* The same with the refusal's code (issue 22: refusals are counted by
 * code, never by their text). */
EWH_MUST_CHECK int node_store_refusal_add_code(node_store_t *s, const char *id,
                                               const char *origin,
                                               enum ewh_errcode code,
                                               const char *reason, int64_t at,
                                               struct ewh_err *err);
/* Add the code column to a store from before it. */
EWH_MUST_CHECK int node_store_refusal_schema(node_store_t *s,
                                             struct ewh_err *err);
/* Refused deliveries by code (out[0]: recorded before codes). */
EWH_MUST_CHECK int node_store_refusal_counts(node_store_t *s,
                                             int64_t out[EWH_E__COUNT],
                                             struct ewh_err *err);
/* Every refused delivery, oldest first (code 0: recorded before codes). */
typedef void (*node_refusal_fn)(void *ctx, const char *id, const char *origin,
                                enum ewh_errcode code, const char *reason,
                                int64_t at);
EWH_MUST_CHECK int node_store_refusal_walk(node_store_t *s, node_refusal_fn fn,
                                           void *ctx, struct ewh_err *err);
EWH_MUST_CHECK int node_store_refusal_count(node_store_t *s, int64_t *out,
                                            struct ewh_err *err);

/* ---- re-key ---- */

/* Replace the envelope of a sent report still queued (not yet accepted by
 * the hub): the same report resealed with new keys.  Inside a
 * transaction. */
EWH_MUST_CHECK int node_store_outbox_set_envelope(node_store_t *s,
                                                  const char *id,
                                                  const uint8_t *env,
                                                  size_t len,
                                                  struct ewh_err *err);
/* Replace an unsent receipt (re-signed with new keys). */
EWH_MUST_CHECK int node_store_receipt_set(node_store_t *s, int64_t seq,
                                          const uint8_t *buf, size_t len,
                                          struct ewh_err *err);

/* ---- foreign rosters (store_foreign.c; docs/federation-node.md) ---- */

/* One region's row: the hub key pinned for it, the next key that key
 * announced, the version held, the path it came by ("a>b"). */
struct node_foreign_row {
    char region[EWH_MAX_REGION_BYTES + 1];
    uint8_t hub_sign[EWH_KEY_BYTES];
    bool has_next;
    uint8_t next_sign[EWH_KEY_BYTES];
    uint64_t version;
    char path[EWH_MAX_FED_PATH * (EWH_MAX_REGION_BYTES + 1) + 1];
    int64_t at;
};

/* Create the table if missing (an older store upgrades in place). */
EWH_MUST_CHECK int node_store_foreign_schema(node_store_t *s,
                                             struct ewh_err *err);
/* The row of region (EWH_E_NOTFOUND when none); buf (may be NULL) gets a
 * copy of the signed roster held, caller owns it (free()). */
EWH_MUST_CHECK int node_store_foreign_get(node_store_t *s, const char *region,
                                          struct node_foreign_row *out,
                                          uint8_t **buf, size_t *len,
                                          struct ewh_err *err);
/* Insert or replace the row of row->region with signed roster buf. */
EWH_MUST_CHECK int node_store_foreign_put(node_store_t *s,
                                          const struct node_foreign_row *row,
                                          const uint8_t *buf, size_t len,
                                          struct ewh_err *err);
/* fn for each region held, by name; buf is borrowed for the call.  fn
 * returns 0 to go on, 1 to stop, -1 to fail (the walk returns -1). */
typedef int (*node_foreign_fn)(void *ctx, const struct node_foreign_row *row,
                               const uint8_t *buf, size_t len);
EWH_MUST_CHECK int node_store_foreign_walk(node_store_t *s, node_foreign_fn fn,
                                           void *ctx, struct ewh_err *err);
/* ---- several hubs (store_hubs.c; issue 18, docs/redundancy.md) ----
 *
 * The hubs this node uses, in order, in table `hubs`: each with its
 * endpoint (unique) and its pinned public identity (unique too: one hub
 * counts once).  Hub #0 is the one `ewnode init` pinned (ewnode.conf
 * `hub=` and DIR/hub.pub), copied in by node_store_hubs_seed() when the
 * table is empty (node_dir_open() does it).  Every per-hub row names its
 * hub by the stable id (never reused), not by the position.
 *
 * An older store is upgraded in place on open: its checkpoints, its held
 * roster, its accepted reports and its sent receipts become hub #0's
 * (id NODE_HUB_FIRST_ID), so an upgraded node resends nothing. */

#define NODE_HUB_FIRST_ID 1 /* the id hub #0 gets in a new or old store */

struct node_hub {
    int64_t id;
    int64_t position; /* order: 0 first */
    char endpoint[EWH_MAX_HUB_ENDPOINT_BYTES];
    struct ewh_pubid key; /* pinned, kind hub */
    char fp[EWH_FINGERPRINT_CHARS];
    int64_t added_at;
};

/* Create the hub tables and upgrade an older store (called by
 * node_store_open()). */
EWH_MUST_CHECK int node_store_hubs_schema(node_store_t *s, struct ewh_err *err);
/* When no hub is listed yet: list (endpoint, key) as hub #0 with id
 * NODE_HUB_FIRST_ID.  Nothing when some hub is listed. */
EWH_MUST_CHECK int node_store_hubs_seed(node_store_t *s, const char *endpoint,
                                        const struct ewh_pubid *key,
                                        struct ewh_err *err);
/* The hubs in order, at most cap (EWH_MAX_HUBS holds them all). */
EWH_MUST_CHECK int node_store_hubs_list(node_store_t *s, struct node_hub *out,
                                        size_t cap, size_t *n,
                                        struct ewh_err *err);
/* How many hubs are listed. */
EWH_MUST_CHECK int node_store_hubs_count(node_store_t *s, size_t *n,
                                         struct ewh_err *err);
/* The hub with this endpoint; EWH_E_NOTFOUND when none. */
EWH_MUST_CHECK int node_store_hub_get(node_store_t *s, const char *endpoint,
                                      struct node_hub *out,
                                      struct ewh_err *err);
/* The hub with this id; EWH_E_NOTFOUND when none. */
EWH_MUST_CHECK int node_store_hub_by_id(node_store_t *s, int64_t id,
                                        struct node_hub *out,
                                        struct ewh_err *err);
/* Add a hub at the end of the list (its own transaction).  EWH_E_INVALID
 * for an endpoint or a key already listed or a key that is not a hub's,
 * EWH_E_TOOBIG when EWH_MAX_HUBS are listed.  The new hub is owed every
 * report not yet receipted by all its addressees (nothing to record) and
 * no receipt already sent to some hub (recorded as sent to it). */
EWH_MUST_CHECK int node_store_hub_add(node_store_t *s, const char *endpoint,
                                      const struct ewh_pubid *key, int64_t at,
                                      int64_t *id, struct ewh_err *err);
/* Remove a hub and every row of it (its own transaction).  EWH_E_NOTFOUND
 * for an unknown endpoint, EWH_E_INVALID for the last hub. */
EWH_MUST_CHECK int node_store_hub_remove(node_store_t *s, const char *endpoint,
                                         struct ewh_err *err);
/* Move a listed hub to another endpoint (ewnode.conf `hub=` edited for
 * the pinned hub: node_dir_open()).  EWH_E_INVALID when another hub has
 * it. */
EWH_MUST_CHECK int node_store_hub_set_endpoint(node_store_t *s, int64_t id,
                                               const char *endpoint,
                                               struct ewh_err *err);
/* Re-pin a listed hub to new keys (its announced key rotation). */
EWH_MUST_CHECK int node_store_hub_set_key(node_store_t *s, int64_t id,
                                          const struct ewh_pubid *key,
                                          struct ewh_err *err);

/* The hub accepted (or already had) report id durably at `at`.  The
 * report and its queued addressees become accepted once min_hubs of the
 * listed hubs have (min_hubs taken as 1 .. the number of hubs). */
EWH_MUST_CHECK int node_store_hub_accepted(node_store_t *s, int64_t hub,
                                           const char *id, int64_t at,
                                           unsigned min_hubs,
                                           struct ewh_err *err);
/* The hub deferred report id: not offered to it before next_try_ms (wall
 * clock); reason shown in the outbox. */
EWH_MUST_CHECK int node_store_hub_retry(node_store_t *s, int64_t hub,
                                        const char *id, int64_t next_try_ms,
                                        const char *reason,
                                        struct ewh_err *err);
/* The hub refused report id for good: never offered to it again.  When
 * every listed hub has refused it and none accepted it, the report and
 * its addressees become refused (*final set) as node_store_outbox_refused
 * does. */
EWH_MUST_CHECK int node_store_hub_refused(node_store_t *s, int64_t hub,
                                          const char *id, const char *reason,
                                          int64_t at, bool *final,
                                          struct ewh_err *err);

/* One outbox entry a hub still needs. */
struct node_hub_entry {
    int64_t seq;
    enum ewh_level level;
    const char *id;
    const uint8_t *env;
    size_t len;
};
/* Where an iteration of node_store_hub_pending() stopped: entries come
 * high level first, then by seq; start from NODE_HUB_CURSOR_START. */
struct node_hub_cursor {
    int level;
    int64_t seq;
};
#define NODE_HUB_CURSOR_START ((struct node_hub_cursor){.level = 99, .seq = 0})
/* fn returns 0 to go on, non-zero to stop (and that is returned). */
typedef int (*node_hub_env_fn)(void *ctx, const struct node_hub_entry *e);
/* The outbox entries hub still needs, after *after in the order above,
 * at most max: our reports (queued or accepted) not accepted by it, not
 * expired at now_ms, with some addressee not yet delivered (no receipt
 * of it), not refused for good (by it, or as a whole) and not deferred by
 * it past now_ms. */
EWH_MUST_CHECK int node_store_hub_pending(node_store_t *s, int64_t hub,
                                          const struct node_hub_cursor *after,
                                          int64_t now_ms, size_t max,
                                          node_hub_env_fn fn, void *ctx,
                                          struct ewh_err *err);
/* The earliest deferral of hub after now_ms into *out (0 if none). */
EWH_MUST_CHECK int node_store_hub_next_try(node_store_t *s, int64_t hub,
                                           int64_t now_ms, int64_t *out,
                                           struct ewh_err *err);

/* For link.json, `ewnode hubs list` and /metrics: reports hub accepted,
 * and lagging ones (accepted by some other hub but not by it, still
 * needed as node_store_hub_pending() says), at now_ms. */
struct node_hub_counts {
    int64_t accepted;
    int64_t lagging;
};
EWH_MUST_CHECK int node_store_hub_counts(node_store_t *s, int64_t hub,
                                         int64_t now_ms,
                                         struct node_hub_counts *c,
                                         struct ewh_err *err);

/* The hub lost data (docs/redundancy.md): forget its accepts of every
 * report not yet delivered to all its addressees and not expired at
 * now_ms, so that they are sent to it again; such a report accepted by
 * fewer than min_hubs hubs now is queued again.  Records an event
 * (node_store_hub_events()) and, per report, when it was resent to that
 * hub (node_msg.hubs[].resent_at).  *n gets how many (0: no event). */
EWH_MUST_CHECK int node_store_hub_refill(node_store_t *s, int64_t hub,
                                         int64_t now_ms, unsigned min_hubs,
                                         const char *why, int64_t *n,
                                         struct ewh_err *err);
/* The refills (and hub additions and removals) recorded, newest first:
 * kind is "refill", "added" or "removed". */
struct node_hub_event {
    int64_t seq;
    int64_t hub;
    char endpoint[EWH_MAX_HUB_ENDPOINT_BYTES];
    char kind[16];
    char why[EWH_MAX_REASON_BYTES];
    int64_t n;
    int64_t at;
};
typedef int (*node_hub_event_fn)(void *ctx, const struct node_hub_event *e);
EWH_MUST_CHECK int node_store_hub_events(node_store_t *s, size_t max,
                                         node_hub_event_fn fn, void *ctx,
                                         struct ewh_err *err);
/* How many refills of hub were recorded (link.json `refills`). */
EWH_MUST_CHECK int node_store_hub_refills(node_store_t *s, int64_t hub,
                                          int64_t *n, struct ewh_err *err);

/* A hub's audit checkpoints (as node_store_checkpoint_put and the
 * others, which act on hub #0). */
EWH_MUST_CHECK int node_store_hub_checkpoint_put(
    node_store_t *s, int64_t hub, uint64_t length, const uint8_t head[32],
    int64_t time, const uint8_t *raw, size_t raw_len, struct ewh_err *err);
EWH_MUST_CHECK int node_store_hub_checkpoint_length(node_store_t *s,
                                                    int64_t hub, uint64_t *out,
                                                    struct ewh_err *err);
EWH_MUST_CHECK int node_store_hub_checkpoint_walk(node_store_t *s, int64_t hub,
                                                  node_cp_fn fn, void *ctx,
                                                  struct ewh_err *err);

/* The hub showed an audit chain of chain_length, shorter than the
 * checkpoints held of it: it lost data (call node_store_hub_refill() in
 * the same transaction).  The checkpoints held beyond chain_length move
 * to table checkpoint_old, kept as evidence and shown by `ewnode audit`
 * as a restore, not a rewrite; they no longer count as held, so that the
 * hub's new chain is held afresh.  *moved (may be NULL) gets how many. */
EWH_MUST_CHECK int node_store_hub_chain_back(node_store_t *s, int64_t hub,
                                             uint64_t chain_length, int64_t at,
                                             int64_t *moved,
                                             struct ewh_err *err);
/* Each time hub went back: to which length, when (unix s), how many
 * checkpoints were set aside and the longest, and when `ewnode audit`
 * reported it (0: not yet).  fn returns 0 to go on. */
struct node_hub_restore {
    uint64_t back_to;
    int64_t back_at;
    int64_t n;
    uint64_t longest;
    int64_t reported_at;
};
typedef int (*node_hub_restore_fn)(void *ctx, const struct node_hub_restore *r);
EWH_MUST_CHECK int node_store_hub_restores(node_store_t *s, int64_t hub,
                                           node_hub_restore_fn fn, void *ctx,
                                           struct ewh_err *err);
EWH_MUST_CHECK int node_store_hub_restores_reported(node_store_t *s,
                                                    int64_t hub, int64_t at,
                                                    struct ewh_err *err);

/* The same with each checkpoint's signed bytes as the hub sent them
 * (`ewnode audit --export`).  fn returns 0 to go on, 1 to stop. */
typedef int (*node_cp_raw_fn)(void *ctx, uint64_t length,
                              const uint8_t head[32], int64_t time,
                              const uint8_t *raw, size_t raw_len);
EWH_MUST_CHECK int node_store_hub_checkpoint_walk_raw(node_store_t *s,
                                                      int64_t hub,
                                                      node_cp_raw_fn fn,
                                                      void *ctx,
                                                      struct ewh_err *err);

/* A hub's latest signed roster (verified by the caller); get gives
 * EWH_E_NOTFOUND when none arrived (caller owns *buf, free()). */
EWH_MUST_CHECK int node_store_hub_roster_put(node_store_t *s, int64_t hub,
                                             const uint8_t *buf, size_t len,
                                             uint64_t version, int64_t at,
                                             struct ewh_err *err);
EWH_MUST_CHECK int node_store_hub_roster_get(node_store_t *s, int64_t hub,
                                             uint8_t **buf, size_t *len,
                                             uint64_t *version,
                                             struct ewh_err *err);

/* Receipts this node signed not yet acknowledged by hub, seq > after, in
 * order, at most max (fn and result as node_store_outbox_pending()). */
EWH_MUST_CHECK int node_store_hub_receipt_pending(node_store_t *s, int64_t hub,
                                                  int64_t after, size_t max,
                                                  node_env_fn fn, void *ctx,
                                                  struct ewh_err *err);
/* hub acknowledged our receipt whose first report is id (and the receipt
 * counts as sent: node_store_receipt_pending() no longer lists it). */
EWH_MUST_CHECK int node_store_hub_receipt_done(node_store_t *s, int64_t hub,
                                               const char *id,
                                               enum ewh_receipt_kind kind,
                                               struct ewh_err *err);
/* Send hub again our receipts that name report id (a second delivery of
 * it from that hub; receipts queued with node_store_receipt_queue() are
 * found by their first report only, with _queue_rc() by any). */
EWH_MUST_CHECK int node_store_hub_receipt_resend(node_store_t *s, int64_t hub,
                                                 const char *id,
                                                 struct ewh_err *err);

/* ---- trust in peers' keys (store_trust.c; docs/trust.md) ---- */

/* A peer's current key and whether this node trusts it.  why is one of
 * "tofu", "endorsed", "verified" (by an officer), "new-country",
 * "unendorsed", "split-view". */
struct node_trust {
    char country[EWH_CC_BYTES];
    uint8_t sign[EWH_KEY_BYTES];
    char fp[EWH_FINGERPRINT_CHARS];
    bool verified;
    char why[16];
    int64_t since;
};

/* Create the trust tables if missing (an older store upgrades in place). */
EWH_MUST_CHECK int node_store_trust_schema(node_store_t *s,
                                           struct ewh_err *err);
/* The trust row of cc, EWH_E_NOTFOUND when none. */
EWH_MUST_CHECK int node_store_trust_get(node_store_t *s, const char *cc,
                                        struct node_trust *out,
                                        struct ewh_err *err);
EWH_MUST_CHECK int node_store_trust_put(node_store_t *s,
                                        const struct node_trust *t,
                                        struct ewh_err *err);
/* The unverified peers, by country: fn(ctx, cc, why, fingerprint). */
typedef void (*node_trust_fn)(void *ctx, const char *cc, const char *why,
                              const char *fp);
EWH_MUST_CHECK int node_store_trust_unverified(node_store_t *s,
                                               node_trust_fn fn, void *ctx,
                                               size_t *n, struct ewh_err *err);
/* How many peers have a trust row. */
EWH_MUST_CHECK int node_store_trust_count(node_store_t *s, int64_t *n,
                                          struct ewh_err *err);
/* The key history: a signing key a peer held, trusted or not for what it
 * signed, and how it came ("tofu", "endorsed", "unendorsed").  put keeps
 * the first `how` of a key and sets trusted. */
EWH_MUST_CHECK int node_store_key_put(node_store_t *s,
                                      const struct ewh_pubid *id, bool trusted,
                                      const char *how, struct ewh_err *err);
/* *trusted and *how (cap 16) of a key; *found false when unknown. */
EWH_MUST_CHECK int node_store_key_get(node_store_t *s, const char *cc,
                                      const uint8_t sign[EWH_KEY_BYTES],
                                      bool *found, bool *trusted, char *how,
                                      struct ewh_err *err);
/* A key never trusted again (it came without endorsement and was
 * replaced). */
EWH_MUST_CHECK int node_store_key_distrust(node_store_t *s, const char *cc,
                                           const uint8_t sign[EWH_KEY_BYTES],
                                           struct ewh_err *err);
/* Up to cap trusted identities of cc, newest first. */
EWH_MUST_CHECK int node_store_keys_trusted(node_store_t *s, const char *cc,
                                           struct ewh_pubid *out, size_t cap,
                                           size_t *n, struct ewh_err *err);
/* Roster heads this node held: version -> hash (and the signed roster). */
EWH_MUST_CHECK int node_store_head_put(node_store_t *s, uint64_t version,
                                       const uint8_t hash[32],
                                       const uint8_t *buf, size_t len,
                                       struct ewh_err *err);
EWH_MUST_CHECK int node_store_head_get(node_store_t *s, uint64_t version,
                                       bool *found, uint8_t hash[32],
                                       struct ewh_err *err);
/* Evidence of a split view: our signed roster of that version and the
 * peer's signed envelope or receipt naming another hash.  what is
 * "envelope" or "receipt" or "roster". */
EWH_MUST_CHECK int node_store_split_add(node_store_t *s, const char *cc,
                                        uint64_t version,
                                        const uint8_t ours[32],
                                        const uint8_t theirs[32],
                                        const char *what, const uint8_t *peer,
                                        size_t peer_len, struct ewh_err *err);
/* A head a peer named for a version this node does not hold yet. */
EWH_MUST_CHECK int
node_store_peer_head_add(node_store_t *s, const char *cc, uint64_t version,
                         const uint8_t hash[32], const char *what,
                         const uint8_t *buf, size_t len, struct ewh_err *err);
/* The roster of version arrived with hash ours: fn for each kept peer
 * head of that version with another hash (non-zero stops: -1), then the
 * heads of that version and before forgotten. */
typedef int (*node_head_fn)(void *ctx, const char *cc, const uint8_t hash[32],
                            const char *what, const uint8_t *buf, size_t len);
EWH_MUST_CHECK int node_store_peer_head_take(node_store_t *s, uint64_t version,
                                             const uint8_t ours[32],
                                             node_head_fn fn, void *ctx,
                                             struct ewh_err *err);
/* One split view per row: fn(ctx, cc, version, what, at). */
typedef void (*node_split_fn)(void *ctx, const char *cc, uint64_t version,
                              const char *what, int64_t at);
EWH_MUST_CHECK int node_store_split_list(node_store_t *s, node_split_fn fn,
                                         void *ctx, size_t *n,
                                         struct ewh_err *err);
/* A received report or receipt signed by an unverified key: marked (a
 * report) or held (a receipt, kept here and not recorded as the country's
 * word).  kind "report" or "receipt". */
EWH_MUST_CHECK int node_store_unverified_add(node_store_t *s, const char *kind,
                                             const char *id, const char *cc,
                                             const char *fp, const uint8_t *buf,
                                             size_t len, struct ewh_err *err);
/* Is report id marked as signed by an unverified key?  fp (may be NULL)
 * gets the key's fingerprint. */
EWH_MUST_CHECK int node_store_unverified_is(node_store_t *s, const char *id,
                                            bool *marked,
                                            char fp[EWH_FINGERPRINT_CHARS],
                                            struct ewh_err *err);

/* PRAGMA quick_check of the whole store, for the agent at start: a
 * damaged file is refused with the path and SQLite's first complaint. */
EWH_MUST_CHECK int node_store_check(node_store_t *s, struct ewh_err *err);

#endif
