/*
 * store.h — the hub's durable store, kept narrow so that it can be swapped
 * for a replicated database.  Its files (store*.c, storeint.h) alone
 * speak SQL; nothing here names a table, a statement or a row id.
 *
 * Holds the roster (countries, keys, revoked flags, version), the
 * envelopes as received (never anything decrypted), which recipients of
 * each still wait for it, the audit chain, receipts, and the relays of
 * receipts and notices owed to origins.  In ewhub run it also owns the
 * depth and order of every country's queue (hub_store_queue_open()).
 *
 * Writes happen inside hub_store_begin()/hub_store_commit(), all or
 * nothing.  Failures carry a code (include/ewh/db.h): EWH_E_DISKFULL for
 * a full disk or a failed write, EWH_E_IO, EWH_E_BUSY when another
 * process holds the store's lock too long, EWH_E_STORE otherwise; the
 * caller rolls back.
 */
#ifndef HUB_STORE_H
#define HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/roster.h"

typedef struct hub_store hub_store_t;

/* Relay kinds: what the hub owes an origin. */
enum hub_relay_kind {
    HUB_RELAY_RECEIPT = 1, /* payload: serialized Receipt */
    HUB_RELAY_NOTICE = 2,  /* payload: serialized Notice (seq unset) */
};

/* hub_store_open() flags. */
#define HUB_STORE_CREATE  1u /* create the file if missing */
#define HUB_STORE_UPGRADE 2u /* convert an older layout (ewhub run only) */

/* Open the store at path.  max_pages > 0 caps its size at that many
 * pages of 4 KiB (a quota; beyond it writes fail with EWH_E_DISKFULL).  A store
 * of an older layout is refused unless HUB_STORE_UPGRADE; a newer one always.
 * Caller owns the result. */
EWH_MUST_CHECK hub_store_t *hub_store_open(const char *path, unsigned flags,
                                           uint64_t max_pages,
                                           struct ewh_err *err);
void hub_store_close(hub_store_t **st);

/* ewhub run: checkpoint the WAL on a thread of its own (with its own
 * connection to path) instead of in the commits of st, which then only
 * signal it once the WAL holds 1,024 pages (4 MiB: small checkpoints,
 * short bursts of I/O next to the commits).  A commit that finds 16,384
 * pages (the thread fell far behind) checkpoints itself.  Start it after
 * the signals are blocked; close() stops it. */
/* The checkpointer's figures: checkpoints run (and of them failed, disk
 * full for one), WAL pages after the last commit.  Zero before start. */
struct hub_wal_stats {
    uint64_t checkpoints, failed;
    uint64_t wal_pages;
};
void hub_store_wal_stats(hub_store_t *st, struct hub_wal_stats *out);

EWH_MUST_CHECK int hub_store_checkpointer_start(hub_store_t *st,
                                                const char *path,
                                                struct ewh_err *err);

EWH_MUST_CHECK int hub_store_begin(hub_store_t *st, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_commit(hub_store_t *st, struct ewh_err *err);
void hub_store_rollback(hub_store_t *st);

/* ---- roster ---- */

/* Enrol id (a node identity), or replace its keys (re-key) and clear a
 * revocation.  *changed (may be NULL) tells whether anything changed; the
 * roster version is bumped when it did. */
EWH_MUST_CHECK int hub_store_node_put(hub_store_t *st,
                                      const struct ewh_pubid *id, bool *changed,
                                      struct ewh_err *err);
/* hub_store_node_put with the key-continuity rules (docs/trust.md):
 * key material the hub revoked is refused (EWH_E_REVOKED) unless
 * override; id's endorsement is kept only when made by the country's
 * current, unrevoked signing key (else the change is enrolled unendorsed,
 * and every node marks the country unverified).  *res says what happened. */
enum hub_enrol_result {
    HUB_ENROL_SAME = 0,   /* already enrolled with these keys */
    HUB_ENROL_NEW,        /* a country new to the roster */
    HUB_ENROL_ENDORSED,   /* a re-key endorsed by the current key */
    HUB_ENROL_UNENDORSED, /* a re-key without a valid endorsement */
};
EWH_MUST_CHECK int hub_store_node_enrol(hub_store_t *st,
                                        const struct ewh_pubid *id,
                                        bool override,
                                        enum hub_enrol_result *res,
                                        bool *was_revoked, struct ewh_err *err);
/* Revoke cc (EWH_E_NOTFOUND when not enrolled); bumps the version.  Its
 * keys are remembered as revoked. */
EWH_MUST_CHECK int hub_store_node_revoke(hub_store_t *st, const char *cc,
                                         bool *changed, struct ewh_err *err);
/* The same two inside the caller's transaction (hub_store_begin): on -1
 * the caller rolls back; nothing is committed (ewhub roster import applies
 * a whole roster in one transaction). */
EWH_MUST_CHECK int
hub_store_node_enrol_in(hub_store_t *st, const struct ewh_pubid *id,
                        bool override, enum hub_enrol_result *res,
                        bool *was_revoked, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_node_revoke_in(hub_store_t *st, const char *cc,
                                            bool *changed, struct ewh_err *err);
/* Inside a transaction: remember id's keys as revoked (never enrolled
 * again without --override), e.g. keys another hub revoked. */
EWH_MUST_CHECK int hub_store_keys_revoked_add(hub_store_t *st,
                                              const struct ewh_pubid *id,
                                              struct ewh_err *err);

/* ---- roster sharing between hubs (docs/roster-sharing.md) ----
 *
 * One record per hub whose roster this hub imported (ewhub roster
 * import), named by that hub's signing key. */
struct hub_import_rec {
    uint8_t from_sign[32];  /* the other hub's signing key */
    uint8_t from_curve[32]; /* and its CURVE key (for its fingerprint) */
    uint64_t version;       /* of the roster imported last */
    uint8_t hash[32];       /* its body hash */
    int64_t at;             /* when (wall seconds) */
    uint64_t changes;       /* changes it made here (0: already in step) */
    uint64_t imports;       /* imports from that hub so far */
};
/* The record of from_sign (*found false: never imported from it). */
EWH_MUST_CHECK int hub_store_import_get(hub_store_t *st,
                                        const uint8_t from_sign[32],
                                        bool *found, struct hub_import_rec *out,
                                        struct ewh_err *err);
/* Inside a transaction: record an import (replaces the record of
 * rec->from_sign, counting imports). */
EWH_MUST_CHECK int hub_store_import_put(hub_store_t *st,
                                        const struct hub_import_rec *rec,
                                        struct ewh_err *err);
/* Every record, the latest import first. */
typedef int (*hub_import_fn)(void *ctx, const struct hub_import_rec *rec);
EWH_MUST_CHECK int hub_store_import_walk(hub_store_t *st, hub_import_fn fn,
                                         void *ctx, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_roster_version(hub_store_t *st, uint64_t *v,
                                            struct ewh_err *err);
/* SQLite's PRAGMA data_version: changes when another connection (ewhub
 * enroll, revoke, rotate) committed to the file; cheap, for every loop
 * turn. */
EWH_MUST_CHECK int hub_store_data_version(hub_store_t *st, uint64_t *v,
                                          struct ewh_err *err);
/* Build the roster (all countries, revoked flagged) at the stored version.
 * Caller owns *out. */
EWH_MUST_CHECK int hub_store_roster_load(hub_store_t *st, ewh_roster_t **out,
                                         struct ewh_err *err);
/* Was this store created with the roster chain (docs/trust.md)?  An older
 * store's nodes may hold a roster the old hub signed at the current
 * version, so its chain starts at a new version. */
EWH_MUST_CHECK int hub_store_roster_chained(hub_store_t *st, bool *yes,
                                            struct ewh_err *err);
/* The signed roster kept for version v (caller owns *buf, free()), or
 * EWH_E_NOTFOUND. */
EWH_MUST_CHECK int hub_store_roster_signed_get(hub_store_t *st, uint64_t v,
                                               uint8_t **buf, size_t *len,
                                               struct ewh_err *err);
/* The newest signed roster before version v: its version and hash (*found
 * false when there is none: the chain starts). */
EWH_MUST_CHECK int hub_store_roster_signed_before(hub_store_t *st, uint64_t v,
                                                  bool *found, uint64_t *pv,
                                                  uint8_t hash[32],
                                                  struct ewh_err *err);
/* Keep the signed roster of version v (once). */
EWH_MUST_CHECK int hub_store_roster_signed_put(hub_store_t *st, uint64_t v,
                                               const uint8_t hash[32],
                                               const uint8_t *buf, size_t len,
                                               struct ewh_err *err);

/* ---- envelopes, queue, audit ---- */

/* Is id stored? */
enum hub_env_match {
    HUB_ENV_NEW = 0,   /* no */
    HUB_ENV_SAME = 1,  /* yes, with this hash: a duplicate */
    HUB_ENV_OTHER = 2, /* yes, but other envelope bytes */
};
EWH_MUST_CHECK int hub_store_envelope_find(hub_store_t *st,
                                           const uint8_t id[EWH_ID_BYTES],
                                           const uint8_t hash[EWH_HASH_BYTES],
                                           enum hub_env_match *found,
                                           struct ewh_err *err);
/* Store an envelope (inside a transaction) with one queued delivery per
 * recipient.  The caller has checked that id is new in this transaction
 * (hub_store_envelope_find). */
EWH_MUST_CHECK int hub_store_envelope_add(hub_store_t *st, const uint8_t *env,
                                          size_t len,
                                          const struct ewh_header *hdr,
                                          const uint8_t hash[EWH_HASH_BYTES],
                                          int64_t received_at,
                                          struct ewh_err *err);
/* The same, with only the recipients whose bit is set in local (bit i:
 * the header's i-th) queued for delivery here; the others are foreign
 * (issue 22: they go to a peer hub instead).  *rowid (may be NULL) gets
 * the envelope's row, for hub_store_fed_out_add(). */
EWH_MUST_CHECK int hub_store_envelope_add_local(
    hub_store_t *st, const uint8_t *env, size_t len,
    const struct ewh_header *hdr, const uint8_t hash[EWH_HASH_BYTES],
    int64_t received_at, uint64_t local, int64_t *rowid, struct ewh_err *err);
/* Audit chain: the head now, and append entry n (1-based) with its head. */
EWH_MUST_CHECK int hub_store_audit_head(hub_store_t *st, uint64_t *length,
                                        uint8_t head[EWH_HASH_BYTES],
                                        struct ewh_err *err);
EWH_MUST_CHECK int hub_store_audit_append(hub_store_t *st, uint64_t n,
                                          const uint8_t id[EWH_ID_BYTES],
                                          const uint8_t hash[EWH_HASH_BYTES],
                                          const char *origin, int64_t at,
                                          const uint8_t head[EWH_HASH_BYTES],
                                          struct ewh_err *err);

/* A queued delivery as fetched for sending; env is borrowed until the next
 * call on the store. */
struct hub_qrow {
    uint64_t seq;
    uint8_t id[EWH_ID_BYTES];
    enum ewh_level level;
    int64_t expires_at;
    const uint8_t *env;
    size_t env_len;
};
/* Return 0 to go on, 1 to stop. */
typedef int (*hub_qrow_fn)(void *ctx, const struct hub_qrow *row);

typedef bool (*hub_skip_fn)(void *ctx, const char *cc, uint64_t seq);

/* ewhub run: keep every country's queue (order and depth) in memory from
 * now on, loaded here and changed by each commit.  Without it the other
 * commands count in the database. */
EWH_MUST_CHECK int hub_store_queue_open(hub_store_t *st, struct ewh_err *err);
/* Deliveries waiting for cc as of the last commit (the one owner of queue
 * depth: the hub keeps no count of its own): in all, and by level
 * (q[1..3]; q[0] is 0). */
EWH_MUST_CHECK int hub_store_queued(hub_store_t *st, const char *cc,
                                    uint64_t *n, struct ewh_err *err);
/* When cc's oldest queued delivery was queued (0: none), from the lanes'
 * first delivery of each level: no scan (issue 19). */
EWH_MUST_CHECK int hub_store_queue_oldest(hub_store_t *st, const char *cc,
                                          int64_t *at, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_queued_levels(hub_store_t *st, const char *cc,
                                           uint64_t q[4], struct ewh_err *err);
/* Storage budgets (issue 16): bytes of the envelopes still waiting for
 * cc (one per delivery), and of cc's envelopes still waiting for any
 * addressee.  A scan of the waiting rows: the hub asks only when its own
 * running estimate says a budget is reached. */
EWH_MUST_CHECK int hub_store_bytes_for(hub_store_t *st, const char *cc,
                                       uint64_t *n, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_bytes_from(hub_store_t *st, const char *cc,
                                        uint64_t *n, struct ewh_err *err);
/* Both, for every country with waiting rows (for_: bytes waiting for
 * cc; !for_: from cc), in one grouped scan each: what the hub asks once a
 * run, at the first budget check, instead of a scan per country. */
typedef void (*hub_store_bytes_fn)(void *ctx, const char *cc, bool for_,
                                   uint64_t bytes);
EWH_MUST_CHECK int hub_store_bytes_all(hub_store_t *st, hub_store_bytes_fn fn,
                                       void *ctx, struct ewh_err *err);
/* The budget counter (ewhub run; store_count.c): a thread with its own
 * read-only connection to path that counts hub_store_bytes_for and
 * _from of one country at a time off the loop.  Ask queues cc: 0 asked,
 * 1 not now (EWH_HUB_BUDGET_ASKS already asked: ask again later), -1 no
 * counter (not started: count on the loop).  Each count reads a snapshot
 * taken after its ask.  Take moves up to max finished counts to out and
 * returns how many (a count that failed has ok false). */
struct hub_store_count_res {
    char cc[3]; /* NUL-terminated */
    bool ok;
    uint64_t for_, from;
};
EWH_MUST_CHECK int hub_store_counter_start(hub_store_t *st, const char *path,
                                           struct ewh_err *err);
int hub_store_count_ask(hub_store_t *st, const char *cc);
size_t hub_store_count_take(hub_store_t *st, struct hub_store_count_res *out,
                            size_t max);
/* Bytes of the store's pages in use, and its quota in bytes (0: none;
 * [store] max_pages or a PRAGMA max_page_count set on the file). */
EWH_MUST_CHECK int hub_store_quota(hub_store_t *st, uint64_t *used,
                                   uint64_t *max, struct ewh_err *err);
/* The same for one level (issue 20: the oldest high report). */
EWH_MUST_CHECK int hub_store_queue_oldest_of(hub_store_t *st, const char *cc,
                                             int level, int64_t *queued_at,
                                             struct ewh_err *err);

/* Walk cc's queued deliveries, high before medium before low, oldest
 * first, at most limit (outside a transaction: as of the last commit).  Rows
 * for which skip (may be NULL) is true (in flight) are passed over without
 * reading their envelope. */
EWH_MUST_CHECK int hub_store_queue_walk(hub_store_t *st, const char *cc,
                                        size_t limit, hub_skip_fn skip,
                                        void *skip_ctx, hub_qrow_fn fn,
                                        void *ctx, struct ewh_err *err);
/* Mark seq delivered if it is cc's, carries id and is queued.  *changed
 * says whether it was, and *level then gives the report's level (from the
 * store: the node's connection, and what was in flight on it, may be gone
 * by the time the acknowledgement commits). */
EWH_MUST_CHECK int hub_store_queue_done(hub_store_t *st, const char *cc,
                                        uint64_t seq,
                                        const uint8_t id[EWH_ID_BYTES],
                                        bool *changed, enum ewh_level *level,
                                        struct ewh_err *err);
/* Queued deliveries per country and level (level 1..3). */
typedef void (*hub_count_fn)(void *ctx, const char *cc, enum ewh_level level,
                             uint64_t n);
EWH_MUST_CHECK int hub_store_queue_counts(hub_store_t *st, hub_count_fn fn,
                                          void *ctx, struct ewh_err *err);

/* Reports one expiry sweep looks at, at most: when *n_expired reaches it
 * there may be more. */
#define HUB_EXPIRE_ROWS 1000
/* Inside a transaction: mark queued deliveries past their expiry as
 * expired.  skip (may be NULL) spares deliveries in flight (their
 * recipient may acknowledge them yet); fn (may be NULL) is called, in the
 * same transaction, per delivery expired (the caller queues the origin's
 * notice there with hub_store_relay_add()); its -1 fails the sweep. */
typedef int (*hub_expired_fn)(void *ctx, const char *cc,
                              const uint8_t id[EWH_ID_BYTES],
                              const char *origin, int64_t now,
                              struct ewh_err *err);
EWH_MUST_CHECK int hub_store_expire(hub_store_t *st, int64_t now,
                                    hub_skip_fn skip, hub_expired_fn fn,
                                    void *ctx, size_t *n_expired,
                                    struct ewh_err *err);

/* ---- receipts and relays ---- */

/* The origin of report id if cc is among its recipients.  *found false
 * otherwise. */
EWH_MUST_CHECK int hub_store_recipient_of(hub_store_t *st,
                                          const uint8_t id[EWH_ID_BYTES],
                                          const char *cc, bool *found,
                                          char origin[EWH_CC_BYTES],
                                          struct ewh_err *err);
/* Store a verified receipt (buf: serialized Receipt) for each of its
 * n_ids reports and queue one relay of it to the origin.  A report that
 * already has this receipt (same id, from, kind) is left as it is; *added
 * counts the others, and with none the receipt is not relayed again.  The
 * signed receipt is kept once per relay and once with its first report;
 * its other reports keep an empty copy. */
EWH_MUST_CHECK int
hub_store_receipt_add(hub_store_t *st, const uint8_t (*ids)[EWH_ID_BYTES],
                      size_t n_ids, const char *from, int kind,
                      const char *origin, int64_t at, const uint8_t *buf,
                      size_t len, size_t *added, struct ewh_err *err);
/* The same without the relay to the origin (a foreign origin: the
 * receipt goes back across a federation link, hub_store_fed_relay_add). */
EWH_MUST_CHECK int
hub_store_receipt_keep(hub_store_t *st, const uint8_t (*ids)[EWH_ID_BYTES],
                       size_t n_ids, const char *from, int kind,
                       const char *origin, int64_t at, const uint8_t *buf,
                       size_t len, size_t *added, struct ewh_err *err);

/* Queue a relay owed to cc (inside a transaction): payload as the kind
 * says. */
EWH_MUST_CHECK int hub_store_relay_add(hub_store_t *st, const char *cc,
                                       enum hub_relay_kind kind,
                                       const uint8_t *payload, size_t len,
                                       struct ewh_err *err);

struct hub_relay {
    uint64_t seq;
    enum hub_relay_kind kind;
    const uint8_t *payload; /* borrowed until the next call */
    size_t len;
};
typedef int (*hub_relay_fn)(void *ctx, const struct hub_relay *r);
/* Walk the relays owed to cc, oldest first, at most limit. */
EWH_MUST_CHECK int hub_store_relay_walk(hub_store_t *st, const char *cc,
                                        size_t limit, hub_relay_fn fn,
                                        void *ctx, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_relay_done(hub_store_t *st, const char *cc,
                                        uint64_t seq, bool *changed,
                                        struct ewh_err *err);

/* ---- annual exchange (docs/exchange.md) ---- */

/* Returns seen per origin and reporting year (from the clear header of
 * TYPE_RETURN envelopes, noted by hub_store_envelope_add): how many, the
 * last received.  Ordered by year, origin. */
typedef void (*hub_return_fn)(void *ctx, const char *origin, unsigned year,
                              uint64_t n, int64_t last_at);
EWH_MUST_CHECK int hub_store_returns_walk(hub_store_t *st, hub_return_fn fn,
                                          void *ctx, struct ewh_err *err);

/* ---- retention and key rotation ---- */

/* Bump the roster version (the hub re-signs and pushes the roster: new
 * categories, next hub keys).  *v (may be NULL) gets the new version. */
EWH_MUST_CHECK int hub_store_roster_bump(hub_store_t *st, uint64_t *v,
                                         struct ewh_err *err);

/* Retention: empty the envelope bytes (env becomes a zero-length blob) of
 * reports that are final for every addressee, and whose last delivery (all
 * delivered) or expiry (some expired) happened at or before
 * delivered_before / expired_before (wall seconds; 0 disables that kind).
 * One call examines only the span reports after the cursor `after` (in
 * arrival order), so that it costs the loop a bounded, small amount of
 * work however large the store; *next gets the cursor of the next call
 * (0: the end was reached, start a new pass).  The report's record (id,
 * origin, hash, received_at), its deliveries, receipts and the audit chain
 * stay: `audit verify` treats an
 * empty env as removed by retention and checks the chain link alone. */
EWH_MUST_CHECK int hub_store_retention_sweep(hub_store_t *st,
                                             int64_t delivered_before,
                                             int64_t expired_before,
                                             int64_t after, int64_t span,
                                             int64_t *next, size_t *n_removed,
                                             struct ewh_err *err);

/* ---- traffic events (issue 5; metadata only) ----
 *
 * One record per event, written inside the batch transactions; `seq` grows,
 * so `ewhub traffic --follow` polls by seq.  Trimmed to the newest
 * [monitor] events_keep events. */
enum hub_event_kind {
    HUB_EV_ACCEPTED = 1,     /* a submit stored and chained */
    HUB_EV_REFUSED = 2,      /* a submit refused; code and reason */
    HUB_EV_DUPLICATE = 3,    /* a submit already stored */
    HUB_EV_DELIVERED = 4,    /* a recipient acknowledged a delivery */
    HUB_EV_ACKNOWLEDGED = 5, /* a liaison officer acknowledged a report */
    HUB_EV_EXPIRED = 6,      /* a delivery expired undelivered */
    HUB_EV_CONNECTED = 7,    /* a node said hello */
    HUB_EV_DISCONNECTED = 8, /* a node's connection dropped */
    HUB_EV_ZAP_REFUSED = 9,  /* a connection refused at the handshake */
};
#define HUB_EV__MAX 9

/* "accepted", "refused", ... ; "unknown" outside the range. */
const char *hub_event_kind_name(int kind);

struct hub_event {
    int64_t seq; /* set by the walk; ignored when adding */
    int64_t at;
    int kind; /* enum hub_event_kind */
    bool has_id;
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES]; /* submitter, or the node concerned */
    char recipients[EWH_MAX_RECIPIENTS * 3 + 1]; /* "HR,BG", or "" */
    int level;     /* 0: the stored envelope's, if any */
    int64_t size;  /* bytes; -1: the stored envelope's */
    char code[32]; /* ewh_errcode_name(), refusals */
    char reason[EWH_MAX_REASON_BYTES];
    char key[65]; /* hex CURVE key of a refused handshake, or "" */
};

/* Inside a transaction. */
EWH_MUST_CHECK int hub_store_event_add(hub_store_t *st,
                                       const struct hub_event *ev,
                                       struct ewh_err *err);
/* A "delivered" event for cc's delivery seq (id, origin, level and size
 * from its report). */
EWH_MUST_CHECK int hub_store_event_delivered(hub_store_t *st, const char *cc,
                                             uint64_t seq, int64_t at,
                                             struct ewh_err *err);
/* Keep only the newest keep events (0: keep all). */
EWH_MUST_CHECK int hub_store_events_trim(hub_store_t *st, uint64_t keep,
                                         struct ewh_err *err);
/* Events with seq > after and at >= since, oldest first, at most limit.
 * Return 0 to go on, 1 to stop. */
typedef int (*hub_event_fn)(void *ctx, const struct hub_event *ev);
EWH_MUST_CHECK int hub_store_event_walk(hub_store_t *st, int64_t after,
                                        int64_t since, size_t limit,
                                        hub_event_fn fn, void *ctx,
                                        struct ewh_err *err);

/* ---- statistics for ewhub status ---- */

/* what: "sent" (by origin), "received" (deliveries done, by recipient),
 * with counts over the last hour and day; "oldest" (only when oldest is
 * true: a scan of the queue): the queue time of cc's oldest undelivered
 * delivery of that level, in hour. */
typedef void (*hub_stat_fn)(void *ctx, const char *what, const char *cc,
                            int level, int64_t hour, int64_t day);
EWH_MUST_CHECK int hub_store_stats(hub_store_t *st, int64_t now, bool oldest,
                                   hub_stat_fn fn, void *ctx,
                                   struct ewh_err *err);
/* Refusals by error code name: last hour, last day, all retained. */
typedef void (*hub_refusal_fn)(void *ctx, const char *code, int64_t hour,
                               int64_t day, int64_t all);
EWH_MUST_CHECK int hub_store_refusals(hub_store_t *st, int64_t now,
                                      hub_refusal_fn fn, void *ctx,
                                      struct ewh_err *err);
/* Bytes in the main database file (pages in use and free). */
EWH_MUST_CHECK int hub_store_size(hub_store_t *st, uint64_t *bytes,
                                  struct ewh_err *err);

/* The counters (table counters, kept by triggers since the store's
 * creation, issue 20): one call per (kind, level, code) seen, n since
 * meta 'counters_since'.  kind is enum hub_event_kind; code a refusal's
 * code name, else "". */
typedef void (*hub_counter_fn)(void *ctx, int kind, int level, const char *code,
                               uint64_t n);
EWH_MUST_CHECK int hub_store_counters(hub_store_t *st, hub_counter_fn fn,
                                      void *ctx, struct ewh_err *err);
/* Inside a transaction: add n to a counter, for a refusal, duplicate or
 * refused handshake counted but not stored as an event (the loop's list of
 * waiting events was full). */
EWH_MUST_CHECK int hub_store_counter_add(hub_store_t *st, int kind, int level,
                                         const char *code, uint64_t n,
                                         struct ewh_err *err);
/* Per country: what "receipts" / "notices" (relays owed to it, n), and
 * "refused" / "zap_refused" with code (its submits and handshakes refused
 * in the last hour, by code, from the retained events). */
typedef void (*hub_node_stat_fn)(void *ctx, const char *cc, const char *what,
                                 const char *code, uint64_t n);
EWH_MUST_CHECK int hub_store_node_stats(hub_store_t *st, int64_t now,
                                        hub_node_stat_fn fn, void *ctx,
                                        struct ewh_err *err);
/* Receipts waiting to be relayed to cc (its origin). */
EWH_MUST_CHECK int hub_store_receipts_waiting(hub_store_t *st, const char *cc,
                                              uint64_t *n, struct ewh_err *err);
/* meta value k (0 when absent), and set it (its own statement; in or out
 * of a transaction).  "counters_since": when the counters start;
 * "audit_verified_at" / "audit_verified_ok": the last `audit verify`. */
EWH_MUST_CHECK int hub_store_meta_get(hub_store_t *st, const char *k,
                                      int64_t *v, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_meta_set(hub_store_t *st, const char *k, int64_t v,
                                      struct ewh_err *err);

/* ---- audit trail (issue 5) ---- */

/* Store the signed checkpoint of (length, head) (inside the batch
 * transaction). */
EWH_MUST_CHECK int hub_store_checkpoint_add(hub_store_t *st, uint64_t length,
                                            const uint8_t head[EWH_HASH_BYTES],
                                            int64_t time, const uint8_t *cp,
                                            size_t cp_len, struct ewh_err *err);
typedef int (*hub_cp_fn)(void *ctx, uint64_t length, const uint8_t *cp,
                         size_t cp_len);
EWH_MUST_CHECK int hub_store_checkpoint_walk(hub_store_t *st, hub_cp_fn fn,
                                             void *ctx, struct ewh_err *err);

/* One chain entry with the envelope it names, if still stored.  Pointers
 * are borrowed until the callback returns. */
struct hub_audit_row {
    uint64_t n;
    uint8_t id[EWH_ID_BYTES];
    uint8_t hash[EWH_HASH_BYTES];
    char origin[EWH_CC_BYTES];
    int64_t received_at;
    uint8_t head[EWH_HASH_BYTES];
    bool bad_row;       /* a column has the wrong size or type */
    const uint8_t *env; /* NULL: the envelope is gone */
    size_t env_len;
    char env_origin[EWH_CC_BYTES];
    int64_t env_received_at;
    uint64_t queued; /* deliveries of this report still queued */
};
typedef int (*hub_audit_fn)(void *ctx, const struct hub_audit_row *row);
/* Entries with n > after in order of n, at most limit (0: all). */
EWH_MUST_CHECK int hub_store_audit_walk(hub_store_t *st, uint64_t after,
                                        size_t limit, hub_audit_fn fn,
                                        void *ctx, struct ewh_err *err);
/* The stored head of entry n (n = 0: all zero).  *found false if absent. */
EWH_MUST_CHECK int hub_store_audit_head_at(hub_store_t *st, uint64_t n,
                                           uint8_t head[EWH_HASH_BYTES],
                                           bool *found, struct ewh_err *err);
/* Envelopes that no chain entry names. */
typedef void (*hub_unchained_fn)(void *ctx, const uint8_t *id, size_t id_len,
                                 const char *origin);
EWH_MUST_CHECK int hub_store_unchained(hub_store_t *st, hub_unchained_fn fn,
                                       void *ctx, struct ewh_err *err);
/* A consistent view around several reads (a read snapshot). */
EWH_MUST_CHECK int hub_store_read_begin(hub_store_t *st, struct ewh_err *err);
void hub_store_read_end(hub_store_t *st);

/* Online copy of the store at src into the new file dst (SQLite backup
 * API; the hub may be writing).  dst must not exist. */
EWH_MUST_CHECK int hub_store_backup(const char *src, const char *dst,
                                    struct ewh_err *err);

/* An integrity check of the whole store, for the daemon at start: a
 * damaged file (a bad disk, a stray write) is refused with the path and
 * SQLite's first complaint, never run on with parts unreadable. */
EWH_MUST_CHECK int hub_store_check(hub_store_t *st, struct ewh_err *err);

/* ---- federation (issue 22, store_fed.c, docs/federation.md) ---- */

#define HUB_FED_ENDPOINT_BYTES 256
#define HUB_FED_PATH_BYTES     ((EWH_MAX_REGION_BYTES + 1) * EWH_MAX_FED_PATH)

/* A peer hub enrolled with `ewhub peer add`. */
struct hub_fed_peer_row {
    char region[EWH_MAX_REGION_BYTES + 1];
    char endpoint[HUB_FED_ENDPOINT_BYTES];
    uint8_t curve[32], sign[32], box[32];
    int64_t added_at;
};
/* Enrol (or replace: *replaced) a peer; bumps the roster version (the
 * roster names the direct peers).  Inside a transaction. */
EWH_MUST_CHECK int hub_store_fed_peer_put(hub_store_t *st,
                                          const struct hub_fed_peer_row *p,
                                          bool *replaced, struct ewh_err *err);
/* Remove a peer (EWH_E_NOTFOUND when none): its queued transfers are
 * dropped (state 4, counted in *dropped) and the roster version bumped.
 * Inside a transaction. */
EWH_MUST_CHECK int hub_store_fed_peer_remove(hub_store_t *st,
                                             const char *region,
                                             uint64_t *dropped,
                                             struct ewh_err *err);
typedef int (*hub_fed_peer_fn)(void *ctx, const struct hub_fed_peer_row *p);
/* Every peer, by region; fn returning non-zero stops. */
EWH_MUST_CHECK int hub_store_fed_peer_walk(hub_store_t *st, hub_fed_peer_fn fn,
                                           void *ctx, struct ewh_err *err);

/* Transfers queued for peer links (state of fed_out). */
enum hub_fed_out_state {
    HUB_FED_QUEUED = 0,
    HUB_FED_SENT = 1,    /* acknowledged by the peer (accepted, duplicate) */
    HUB_FED_EXPIRED = 2, /* expired before the peer took it */
    HUB_FED_REFUSED = 3, /* refused by the peer for good */
    HUB_FED_DROPPED = 4, /* the peer was removed; its origin not yet told */
    HUB_FED_DROPPED_TOLD = 5, /* the peer was removed; its origin told */
};
/* Queue envelope row env (hub_store_envelope_add_local's) for peer, with
 * the path to send (regions joined by ','; the sender's own last).
 * Inside a transaction. */
EWH_MUST_CHECK int hub_store_fed_out_add(hub_store_t *st, const char *peer,
                                         int64_t env, int level,
                                         int64_t expires_at, const char *path,
                                         int64_t now, struct ewh_err *err);
struct hub_fed_qrow {
    uint64_t seq;
    uint8_t id[EWH_ID_BYTES];
    int level;
    int64_t expires_at;
    const uint8_t *env; /* borrowed until the callback returns */
    size_t env_len;
    const char *path;
};
typedef int (*hub_fed_qrow_fn)(void *ctx, const struct hub_fed_qrow *r);
typedef bool (*hub_fed_skip_fn)(void *ctx, uint64_t seq);
/* The queued transfers of peer, high first, oldest first, at most limit;
 * skip (may be NULL) passes over those in flight without reading them. */
EWH_MUST_CHECK int hub_store_fed_out_walk(hub_store_t *st, const char *peer,
                                          size_t limit, hub_fed_skip_fn skip,
                                          void *skip_ctx, hub_fed_qrow_fn fn,
                                          void *ctx, struct ewh_err *err);
/* Transfer seq of peer, if queued, is over (state); *changed says so. */
EWH_MUST_CHECK int hub_store_fed_out_done(hub_store_t *st, const char *peer,
                                          uint64_t seq,
                                          enum hub_fed_out_state state,
                                          bool *changed, struct ewh_err *err);
/* The envelope of transfer seq of peer (caller owns *buf, free()). */
EWH_MUST_CHECK int hub_store_fed_out_envelope(hub_store_t *st, const char *peer,
                                              uint64_t seq, uint8_t **buf,
                                              size_t *len, struct ewh_err *err);
/* Queued transfers of peer. */
EWH_MUST_CHECK int hub_store_fed_out_queued(hub_store_t *st, const char *peer,
                                            uint64_t *n, struct ewh_err *err);
/* Inside a transaction: queued transfers whose report expired are marked
 * expired; fn (may be NULL) is told the peer and seq of each, after the
 * update (it may use the store). */
typedef void (*hub_fed_expired_fn)(void *ctx, const char *peer, uint64_t seq);
EWH_MUST_CHECK int hub_store_fed_out_expire(hub_store_t *st, int64_t now,
                                            hub_fed_expired_fn fn, void *ctx,
                                            size_t *n, struct ewh_err *err);
/* Inside a transaction: the transfers dropped by `ewhub peer remove`
 * (state 4) are marked told (5); fn is told the peer and seq of each,
 * after the update (it may use the store), and its -1 fails the call (the
 * caller rolls back: the rows stay untold). */
typedef int (*hub_fed_unpeered_fn)(void *ctx, const char *peer, uint64_t seq);
EWH_MUST_CHECK int hub_store_fed_out_unpeered(hub_store_t *st,
                                              hub_fed_unpeered_fn fn, void *ctx,
                                              size_t *n, struct ewh_err *err);

/* Report id came from peer along path (inside the transaction that
 * stores it); and which peer a stored foreign report came from (*found). */
EWH_MUST_CHECK int hub_store_fed_in_add(hub_store_t *st,
                                        const uint8_t id[EWH_ID_BYTES],
                                        const char *peer, const char *path,
                                        int64_t now, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_fed_in_peer(hub_store_t *st,
                                         const uint8_t id[EWH_ID_BYTES],
                                         char peer[EWH_MAX_REGION_BYTES + 1],
                                         bool *found, struct ewh_err *err);

/* Receipts (serialized Receipt) and notices (serialized Notice, seq
 * unset) owed to a peer, walked in order; kind is enum hub_relay_kind. */
EWH_MUST_CHECK int hub_store_fed_relay_add(hub_store_t *st, const char *peer,
                                           const uint8_t *buf, size_t len,
                                           struct ewh_err *err);
EWH_MUST_CHECK int hub_store_fed_notice_add(hub_store_t *st, const char *peer,
                                            const uint8_t *buf, size_t len,
                                            struct ewh_err *err);
typedef int (*hub_fed_relay_fn)(void *ctx, uint64_t seq, int kind,
                                const uint8_t *buf, size_t len);
EWH_MUST_CHECK int hub_store_fed_relay_walk(hub_store_t *st, const char *peer,
                                            size_t limit, hub_fed_relay_fn fn,
                                            void *ctx, struct ewh_err *err);
EWH_MUST_CHECK int hub_store_fed_relay_done(hub_store_t *st, const char *peer,
                                            uint64_t seq, bool *changed,
                                            struct ewh_err *err);
EWH_MUST_CHECK int hub_store_fed_relay_queued(hub_store_t *st, const char *peer,
                                              uint64_t *n, struct ewh_err *err);

/* A foreign roster as its hub signed it, and the keys pinned from it. */
struct hub_fed_roster_row {
    char region[EWH_MAX_REGION_BYTES + 1];
    char via[EWH_MAX_REGION_BYTES + 1]; /* the peer it came from */
    uint8_t hub_sign[32];
    uint64_t version;
    const uint8_t *signed_roster; /* borrowed */
    size_t len;
    char path[HUB_FED_PATH_BYTES];
};
EWH_MUST_CHECK int hub_store_fed_roster_put(hub_store_t *st,
                                            const struct hub_fed_roster_row *r,
                                            struct ewh_err *err);
typedef int (*hub_fed_roster_fn)(void *ctx, const struct hub_fed_roster_row *r);
EWH_MUST_CHECK int hub_store_fed_roster_walk(hub_store_t *st,
                                             hub_fed_roster_fn fn, void *ctx,
                                             struct ewh_err *err);
/* A foreign country's pinned keys (id->country), in region. */
EWH_MUST_CHECK int hub_store_fed_key_put(hub_store_t *st, const char *region,
                                         const struct ewh_pubid *id,
                                         bool revoked, struct ewh_err *err);
typedef int (*hub_fed_key_fn)(void *ctx, const char *region,
                              const struct ewh_pubid *id, bool revoked);
EWH_MUST_CHECK int hub_store_fed_key_walk(hub_store_t *st, hub_fed_key_fn fn,
                                          void *ctx, struct ewh_err *err);

/* Link counters: add n to (peer, what, code); walk them all. */
EWH_MUST_CHECK int hub_store_fed_count_add(hub_store_t *st, const char *peer,
                                           const char *what, const char *code,
                                           uint64_t n, struct ewh_err *err);
/* Every link counter as one JSON object (jansson; caller owns it):
 * peer -> {what: n} for a counter without a code, {what: {code: n}} for
 * one counted by code; the peer "-" holds what had no route.  The one
 * shape both `ewhub status` and the running hub's status.json give. */
EWH_MUST_CHECK struct json_t *hub_store_fed_counts_json(hub_store_t *st,
                                                        struct ewh_err *err);

#endif
