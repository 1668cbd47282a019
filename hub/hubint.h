/*
 * hubint.h — what the files of the hub's loop share, the way SQLite's
 * sqliteInt.h serves the files of one library.  Not a public header: only
 * hub.c, conn.c, admit.c, batch.c, receipts.c, deliver.c, rosterpush.c,
 * events.c and status.c include it.
 *
 * struct hub is the loop's whole state.  Each module's part is a
 * sub-struct that module alone changes (the owner is named on each);
 * the others read it through the functions declared below.  Everything
 * here is touched by the loop thread only (docs/architecture.md,
 * "Threads").
 *
 *   hub.c        setup, the zmq_poll() loop, timers, signals, shutdown
 *   conn.c       the ROUTER socket: bind, re-bind, monitor, read one
 *                message, check who sent it, dispatch; every send
 *   admit.c      a submit's admission: in-flight and rate limits, the
 *                verify pool hand-off, the checks after it, refusals
 *   batch.c      the group commit: submits, acknowledgements and receipts
 *                of one turn in one transaction; in-batch duplicates; the
 *                audit chain's head; the acks sent after the commit
 *   receipts.c   a receipt from a recipient: verified, checked, batched
 *   deliver.c    delivery windows, relays to origins, expiry
 *   rosterpush.c the signed roster: load, sign, push, cut revoked peers;
 *                the catalogue of concern pushed beside it
 *   events.c     traffic events waiting for the next transaction
 *   status.c     status.json and the /metrics gauges
 */
#ifndef HUB_HUBINT_H
#define HUB_HUBINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "ewh.pb-c.h"
#include "catalogue.h"
#include "hub.h"
#include "metrics.h"
#include "peers.h"
#include "store.h"
#include "verify.h"
#include "ewh/envelope.h"
#include "ewh/err.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"
#include "ewh/util.h"

/* ---- timers (the loop's limits are in include/ewh/limits.h) ---- */

#define HUB_TURN_MS         10   /* a turn reads for at most this long */
#define HUB_ROSTER_CHECK_MS 250  /* how often enroll/revoke are noticed */
#define HUB_TICK_MS         1000 /* expiry sweep, status file, gauges */
#define HUB_HEARTBEAT_MS    5000
#define HUB_HEARTBEAT_TTL   15000
#define HUB_CLOSE_LINGER_MS 200 /* flush final acks on close/re-bind */
/* Below this many submits the loop thread verifies them itself: a lone
 * report (the common case) gets no hand-over latency. */
#define HUB_VERIFY_INLINE 4

/* A submit's fate in the batch; the values are the wire's AckStatus. */
enum hub_status {
    HUB_PENDING = 0,
    HUB_ACCEPTED = EWH__ACK_STATUS__ACK_ACCEPTED,
    HUB_DUPLICATE = EWH__ACK_STATUS__ACK_DUPLICATE,
    HUB_REFUSED = EWH__ACK_STATUS__ACK_REFUSED,
};

/* Who sent a frame and where the answer goes. */
struct hub_from {
    char cc[EWH_CC_BYTES];
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
};

/* ---- conn.c ---- */

struct hub_conn {
    void *router; /* NULL while a failed re-bind waits for its retry */
    void *mon;    /* the ROUTER's monitor (disconnects) */
    unsigned mon_gen;
    char endpoint[HUB_MAX_ENDPOINT];
    bool rebind_due; /* the last re-bind failed: try again */
};

/* ---- gate.c: connections not yet through their handshake ---- */

struct hub_gate {
    struct {
        int fd;
        int64_t at;           /* mono ms accepted */
        uint64_t ino;         /* the socket's inode */
        uint8_t addr[17];     /* family (4, 6) and the peer's address */
    } p[EWH_HUB_MAX_PENDING]; /* oldest first */
    size_t n;
    int fd_limit; /* RLIMIT_NOFILE at start */
    uint64_t cut; /* connections shut down by the gate */
    /* The listening socket (LISTENING) and its door: while descriptors
     * are short the kernel drops new connections' SYNs (a BPF filter). */
    int listen_fd;
    uint64_t listen_ino;
    bool door_closed;
    int64_t door_at;    /* mono ms it was closed */
    uint64_t door_shut; /* times closed */
    bool listen_v4;     /* an IPv4 listener: addresses can be banned */
    bool filter_on;     /* a filter is attached */
    /* Addresses banned at the door (the filter drops their packets) for
     * a while after they went beyond EWH_HUB_MAX_PENDING_PER_ADDR. */
    struct {
        uint32_t ip; /* host order, as the filter loads it */
        int64_t until;
    } ban[EWH_HUB_MAX_BANNED];
    size_t n_ban;
    /* Addresses an authenticated connection came from: never banned (a
     * node behind the same NAT as a flood). */
    uint32_t known[EWH_MAX_ROSTER_ENTRIES];
    size_t n_known;
    /* Authenticated connections (seen in a frame): the bytes of answers
     * queued to each since its socket last drained (item 5). */
    struct hub_gate_out {
        uint8_t rid[HUB_MAX_RID];
        size_t rid_len;
        int fd;
        uint64_t ino; /* the socket's inode: the fd is still it */
        uint64_t queued;
        struct hub_bucket req[2]; /* HUB_REQ_HELLO, HUB_REQ_RECEIPT */
        /* Inbound: wire bytes of the messages read from it; what the
         * kernel received beyond them is in libzmq (a message not yet
         * complete), above a floor that follows it slowly. */
        uint64_t rx_read;
        int64_t rx_floor;
        bool rx_floor_set;
    } * out;
    size_t n_out, cap_out;
    /* Per-country budgets of Errors answered (item 5). */
    struct hub_gate_budget {
        char cc[EWH_CC_BYTES];
        struct hub_bucket errors;
    } budget[EWH_MAX_ROSTER_ENTRIES];
    size_t n_budget;
    uint64_t answers_dropped; /* not queued: over a byte bound or budget */
};

/* The kinds of request with a budget per connection (gate.c), so that a
 * stray connection with a country's key cannot spend its agent's; Submit
 * and AuditRequest have per-country ones (admit.c, conn.c). */
enum hub_req {
    HUB_REQ_HELLO = 0, /* EWH_HUB_HELLOS_PER_S */
    HUB_REQ_RECEIPT,   /* EWH_HUB_RECEIPTS_PER_S */
};

struct hub;
void hub_gate_init(struct hub *h);
/* Every connection is gone (close, re-bind): forget them all. */
void hub_gate_clear(struct hub *h);
/* A connection accepted (fd): bounded, the oldest pending cut if over. */
void hub_gate_accepted(struct hub *h, int fd);
/* libzmq listens on fd; it could not accept a connection (errno). */
void hub_gate_listening(struct hub *h, int fd);
void hub_gate_accept_failed(struct hub *h, int err);
/* Once a tick: forget stale entries, open the door when there is room. */
void hub_gate_tick(struct hub *h);
/* The connection of fd closed. */
void hub_gate_done(struct hub *h, int fd);
/* A message came from routing id rid over fd (ZMQ_SRCFD; -1 unknown):
 * wire bytes of it on the connection (hub_gate_wire of each part).  The
 * connection is through its handshake: no longer pending. */
void hub_gate_seen(struct hub *h, const uint8_t *rid, size_t rid_len, int fd,
                   uint64_t wire);
/* The bytes a part of len bytes takes on a CURVE connection. */
uint64_t hub_gate_wire(size_t len);
/* May an answer of len bytes be queued to rid?  Counts it if so; false
 * (counted in answers_dropped) when the connection's socket does not
 * drain and EWH_HUB_CONN_OUT_BYTES are already queued to it. */
bool hub_gate_out_ok(struct hub *h, const uint8_t *rid, size_t rid_len,
                     size_t len);
/* Take one request of kind k from rid's budget; false when over it. */
bool hub_gate_budget(struct hub *h, const uint8_t *rid, size_t rid_len,
                     enum hub_req k);
/* May an Error be sent to cc (EWH_HUB_ERRORS_PER_S)?  Counted if not. */
bool hub_gate_error_ok(struct hub *h, const char *cc);

/* ---- admit.c ---- */

/* A submit read, waiting for (or in) the verify pool. */
struct hub_pend {
    struct hub_from from;
    uint8_t *env;
    size_t len;
    bool high; /* level high in its (unverified) header */
};

struct hub_admit {
    hub_verify_t *vpool;
    struct hub_pend *pend; /* read, not yet handed to the pool */
    size_t n_pend, cap_pend;
    struct hub_pend *vpend; /* the pool verifies these (jobs) */
    size_t n_vpend, cap_vpend;
    struct hub_verify_job *jobs;
    size_t cap_jobs;
    size_t n_high; /* high submits in pend: they jump the queue */
    struct hub_ratelog {
        char cc[EWH_CC_BYTES];
        int64_t at_ms;       /* last rate refusal logged */
        uint64_t suppressed; /* rate refusals not logged since */
    } ratelog[EWH_MAX_ROSTER_ENTRIES];
    size_t n_ratelog;
};

/* ---- fed*.c: federation (issue 22, docs/federation.md) ---- */

/* Why a report was not queued for a link (counted by name). */
enum hub_fed_why {
    HUB_FED_OK = 0,
    HUB_FED_W_DISTRIBUTION, /* its distribution does not reach there */
    HUB_FED_W_NOROUTE,      /* no link reaches the recipient's region */
};

/* A report's federation part in the batch: where it came from, where it
 * goes.  Decided at admission (hub_fed_route), written with it. */
struct hub_fed_sub {
    int in_link;     /* the link it came on, -1: a local origin */
    uint64_t in_seq; /* its Transfer seq there (echoed in the ack) */
    char origin_region[EWH_MAX_REGION_BYTES + 1];
    char path[HUB_FED_PATH_BYTES]; /* as held here: ours last */
    uint64_t local;                /* recipients (bit i) delivered here */
    uint32_t out;                  /* links (bit) it is queued for */
    /* Recipients filtered, counted: by distribution on the link they
     * would have taken, and those no link reaches. */
    uint8_t filtered[EWH_MAX_FED_PEERS];
    uint8_t noroute;
    uint64_t unreach; /* recipients it cannot reach */
};

/* One enrolled peer hub: our link to it (we send) and its link to us
 * (it sends). */
struct hub_fed_link {
    struct hub_fed_peer_row p;
    bool live; /* enrolled (a removed one keeps its slot, closed) */
    /* ours: a DEALER to its ROUTER */
    void *sock, *mon;
    bool up;                /* CURVE handshake done, FedHello sent */
    hub_seqset_t *inflight; /* transfers sent, not acknowledged */
    hub_seqset_t *rflight;  /* receipts sent, not acknowledged */
    bool want_fill;
    int64_t moved_ms;  /* mono: last ack, or first send into an empty window */
    int64_t hb_ms;     /* mono: last heartbeat sent */
    int64_t retry_ms;  /* mono: a retryable refusal waits until then */
    int64_t up_at;     /* unix seconds it came up, 0 never */
    int64_t reopen_ms; /* mono: the peer refused us; open again then */
    int backoff_ms;
    uint64_t queued, rqueued; /* waiting, as of the last tick */
    bool stalled;
    /* its: a DEALER on our ROUTER */
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
    int64_t in_seen;           /* unix seconds of its last frame, 0 never */
    struct hub_bucket bucket;  /* its transfers, at submits_per_second */
    struct hub_bucket rbucket; /* its rosters, EWH_FED_ROSTERS_PER_S */
};

/* A foreign region, from the roster its hub signed. */
struct hub_fed_region {
    char name[EWH_MAX_REGION_BYTES + 1];
    char via[EWH_MAX_REGION_BYTES + 1]; /* the peer it came from */
    uint8_t hub_sign[32];
    uint8_t *buf; /* the SignedRoster as received */
    size_t len;
    char path[HUB_FED_PATH_BYTES];
    ewh_roster_t *roster; /* opened (its peers) */
    ewh_roster_t *pins;   /* the keys pinned for its countries */
};

/* A counter to be added to the store with the next batch. */
struct hub_fed_cnt {
    char peer[EWH_MAX_REGION_BYTES + 1];
    char what[32];
    char code[32];
    uint64_t n;
};

/* An acknowledgement from a peer, stored with the next batch. */
struct hub_fed_ack {
    size_t link;
    uint64_t seq;
    bool receipt; /* a receipt relay's, else a transfer's */
    enum hub_fed_out_state state;
};

/* A notice from a peer about a report of ours (or one passed on),
 * stored with the next batch, then acknowledged (NoticeAck). */
struct hub_fed_nin {
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
    uint64_t seq;
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES];
    uint8_t buf[512]; /* the Notice, seq unset */
    size_t len;
};

struct hub_fed {
    struct hub_fed_link link[EWH_MAX_FED_PEERS];
    size_t n_link;
    struct hub_fed_region reg[EWH_MAX_FOREIGN_REGIONS];
    size_t n_reg;
    struct hub_fed_cnt *cnt; /* pending, for the next batch */
    size_t n_cnt, cap_cnt;
    struct hub_fed_ack *ack;
    size_t n_ack, cap_ack;
    size_t n_ack_written; /* of ack, in the transaction being written */
    struct hub_fed_nin *nin;
    size_t n_nin, cap_nin, n_nin_written;
    char *metrics; /* the last /metrics text of the links */
};

/* ---- batch.c ---- */

struct hub_submit {
    struct hub_from from;
    struct hub_fed_sub *fed; /* NULL: nothing foreign (fed.c) */
    uint8_t *env;
    size_t len;
    struct ewh_header hdr;
    uint8_t hash[EWH_HASH_BYTES];
    enum hub_status status;
    struct ewh_err err;
};

struct hub_dack {
    char cc[EWH_CC_BYTES];
    uint64_t seq;
    uint8_t id[EWH_ID_BYTES];
    bool done;
    enum ewh_level level; /* the report's, when done */
};

struct hub_rack {
    char cc[EWH_CC_BYTES];
    uint64_t seq;
};

struct hub_rcpt {
    struct hub_from from;
    int fed_link;     /* came over link fed_link - 1 (fed_in.c); 0: a node's */
    uint64_t fed_seq; /* its ReceiptRelay seq there */
    struct ewh_receipt rc;
    char origin[EWH_CC_BYTES];
    uint8_t *buf;
    size_t len;
    size_t added; /* reports that had no such receipt yet */
};

struct hub_batch {
    struct hub_submit *sub;
    size_t n_sub, cap_sub;
    uint32_t ids[EWH_HUB_BATCH_IDS]; /* index + 1 into sub */
    bool ids_full;
    struct hub_dack *dack;
    size_t n_dack, cap_dack;
    struct hub_rack *rack;
    size_t n_rack, cap_rack;
    struct hub_rcpt *rcpt;
    size_t n_rcpt, cap_rcpt;
    /* Deliveries the batch's submits add per country, until it commits
     * (admission counts them with the store's queue depth). */
    struct hub_reserve {
        char cc[EWH_CC_BYTES];
        uint64_t n;
    } resv[EWH_MAX_ROSTER_ENTRIES];
    size_t n_resv;
};

/* The audit chain as the loop extends it (owner: batch.c). */
struct hub_chain {
    uint64_t len;
    uint8_t head[EWH_HASH_BYTES];
    uint8_t *cpbuf; /* the last batch's signed checkpoint */
    size_t cplen;
};

/* ---- rosterpush.c ---- */

struct hub_rpush {
    ewh_roster_t *roster; /* the roster of now (verify pool reads it) */
    uint8_t *buf;         /* ... signed, as pushed */
    size_t len;
    uint64_t pushed_version; /* roster version last pushed to nodes */
    int64_t next_check_ms;
    uint64_t data_version; /* the store's, at the last turn (hub.c) */
    hub_catalogue_t *cat;  /* the catalogue of concern (catalogue.h) */
};

/* ---- events.c ---- */

struct hub_evq {
    struct hub_event *ev;
    size_t n, cap;
    uint64_t dropped;
    /* Counted events (refusals, duplicates, refused handshakes) dropped
     * from the full list: still added to the store's counters with the
     * next events written, so that the counters stay exact (issue 20). */
    struct hub_lost {
        int kind;
        char code[32];
        uint64_t n;
    } lost[2 * EWH_E__COUNT + 2];
    size_t n_lost;
};

/* Counters for status.json and the exit line; each module counts its own. */
struct hub_counts {
    uint64_t accepted, duplicate, refused, delivered, expired;
    uint64_t zap_refused, bad_frames, receipts, rebinds;
    /* issue 16: nodes holding a checkpoint beyond our chain (hellos);
     * deliveries resent on a stalled session */
    uint64_t audit_behind, stalled;
    uint64_t req_dropped; /* requests over their per-node budget */
};

struct hub {
    const struct hub_run_args *a;
    const struct hub_config *cfg;
    void *zctx;
    void *zap;
    hub_store_t *st;
    hub_peers_t *peers;
    hub_metrics_t *m;
    struct hub_conn conn;   /* conn.c */
    struct hub_gate gate;   /* gate.c */
    struct hub_admit adm;   /* admit.c */
    struct hub_batch b;     /* batch.c */
    struct hub_chain chain; /* batch.c */
    struct hub_rpush ros;   /* rosterpush.c */
    struct hub_evq evq;     /* events.c */
    struct hub_fed fed;     /* fed*.c */
    struct hub_counts n;
    bool stopping;   /* hub.c: a signal asked to stop */
    bool expire_due; /* deliver.c: a sweep found more, or a row expired */
    bool status_due; /* status.c: connection state changed */
    int64_t next_tick_ms;
    int64_t started; /* unix seconds (status.json, /metrics) */
};

/* ---- small helpers (hub.c) ---- */

/* p grown to hold need elements of size (doubling); NULL when out of
 * memory (p is then still valid and *cap unchanged). */
void *hub_grow(void *p, size_t *cap, size_t need, size_t size);
const char *hub_idhex(const uint8_t *id, char out[EWH_ID_HEX]);

/* ---- conn.c ---- */

EWH_MUST_CHECK int hub_conn_open(struct hub *h, const char *endpoint,
                                 struct ewh_err *err);
/* Close the ROUTER (linger ms for the last acks); every peer is
 * disconnected. */
void hub_conn_close(struct hub *h, int linger);
/* Close and bind again (the only way to drop one ROUTER peer).  A failed
 * bind is logged and retried by hub_conn_retry(); -1 then. */
int hub_conn_rebind(struct hub *h);
/* After a failed re-bind: try again (called on the roster timer). */
void hub_conn_retry(struct hub *h);
EWH_MUST_CHECK int hub_conn_write_endpoint(struct hub *h, struct ewh_err *err);
/* Drain the monitor socket: disconnected peers. */
void hub_conn_on_monitor(struct hub *h);
/* Read and dispatch one message from the ROUTER.  1 when there was none. */
int hub_conn_read(struct hub *h);
/* Send one Frame to a routing id.  0, or -1 (zmq_errno(): EAGAIN,
 * EHOSTUNREACH) when it could not be queued. */
int hub_conn_send(struct hub *h, const uint8_t *rid, size_t rid_len,
                  const Ewh__Frame *f);
void hub_conn_send_error(struct hub *h, const uint8_t *rid, size_t rid_len,
                         enum ewh_errcode code, const char *reason);
/* SubmitAck; for HUB_REFUSED err gives code and reason, and `retry` comes
 * from ewh_errcode_is_retryable(); cp (may be NULL) a signed checkpoint. */
void hub_conn_send_ack(struct hub *h, const struct hub_from *to,
                       const uint8_t id[EWH_ID_BYTES], enum hub_status st,
                       const struct ewh_err *err, const uint8_t *cp,
                       size_t cp_len);
/* ReceiptAck for a receipt stored (refused NULL) or refused for good. */
void hub_conn_send_receipt_ack(struct hub *h, const struct hub_from *to,
                               const struct ewh_receipt *rc,
                               const struct ewh_err *refused);

/* ---- admit.c ---- */

EWH_MUST_CHECK int hub_admit_init(struct hub *h, struct ewh_err *err);
void hub_admit_free(struct hub *h);
/* A Submit frame from peer n. */
void hub_admit_submit(struct hub *h, struct hub_peer *n,
                      const struct hub_from *from, const Ewh__Submit *m);
/* Refuse a submit at once (nothing stored): count, event, log (rate
 * refusals at most once a second per country), SubmitAck. */
void hub_admit_refuse(struct hub *h, const struct hub_from *to,
                      const uint8_t *id, const struct ewh_err *err);
/* Once a turn: take what the pool verified (when it is done or ready)
 * and hand it the next submits. */
void hub_admit_turn(struct hub *h, bool pool_ready);
/* Everything read so far verified and in the batch (shutdown). */
void hub_admit_drain(struct hub *h);

/* ---- batch.c ---- */

/* Add a verified submit (takes *env) to the batch.  -1 (err: NOMEM) when
 * it cannot: the caller refuses it. */
EWH_MUST_CHECK int
hub_batch_add_submit(struct hub *h, const struct hub_from *from, uint8_t **env,
                     size_t len, const struct ewh_header *hdr,
                     const uint8_t hash[EWH_HASH_BYTES], struct ewh_err *err);
/* Deliveries to cc that the open batch adds. */
uint64_t hub_batch_reserved(const struct hub *h, const char *cc);
void hub_batch_add_dack(struct hub *h, const char *cc,
                        const Ewh__DeliverAck *m);
void hub_batch_add_rack(struct hub *h, const char *cc, uint64_t seq);
/* A checked receipt (takes *r's buffer); -1 when out of memory. */
EWH_MUST_CHECK int hub_batch_add_receipt(struct hub *h, struct hub_rcpt *r);
/* Write the batch in one transaction, then (only then) acknowledge. */
void hub_batch_commit(struct hub *h);
void hub_batch_free(struct hub *h);

/* ---- receipts.c ---- */

void hub_receipt_on(struct hub *h, struct hub_peer *n,
                    const struct hub_from *from, const Ewh__Receipt *m);

/* ---- deliver.c ---- */

/* Send what the windows allow to every peer that wants it. */
void hub_deliver_fill(struct hub *h);
/* Delivery seq of level left n's in-flight set, acknowledged: the byte
 * window's accounting and its rate and round-trip measures. */
void hub_deliver_acked(struct hub_peer *n, uint64_t seq, unsigned level);
/* One expiry sweep (its own transaction). */
void hub_deliver_expire(struct hub *h);
/* Resend what a live session left unacknowledged past stall_resend. */
void hub_deliver_stalled(struct hub *h);

/* ---- rosterpush.c ---- */

/* Load the roster from the store, sign it, make it the roster of now. */
EWH_MUST_CHECK int hub_roster_refresh(struct hub *h, struct ewh_err *err);
/* For the ZAP handler (hub_zap_roster_fn). */
const ewh_roster_t *hub_roster_zap(void *ctx, bool refresh);
void hub_roster_send(struct hub *h, struct hub_peer *n);
/* The roster changed in the store: re-sign, push, cut revoked/re-keyed.
 * Also pushes a newly published catalogue of concern. */
void hub_roster_check(struct hub *h);
/* The catalogue of concern for the roster's categories (publishing the
 * built-in one as version 1 if DIR holds none); after hub_roster_refresh.
 * Destroyed with hub_catalogue_destroy(&h->ros.cat). */
EWH_MUST_CHECK int hub_catalogue_open(struct hub *h, struct ewh_err *err);
/* The catalogue held, to one peer (on hello and when a new one is
 * published); nothing when none is usable. */
void hub_catalogue_send(struct hub *h, struct hub_peer *n);

/* ---- events.c ---- */

/* A new event to be written with the next batch, or NULL when too many
 * wait or out of memory (counted).  Valid until the next call. */
struct hub_event *hub_event_new(struct hub *h, int kind, const char *cc,
                                const uint8_t *id);
/* The same, with the refusal's code name (may be NULL) set; a dropped one
 * is still counted in the store by kind and code. */
struct hub_event *hub_event_new_code(struct hub *h, int kind, const char *cc,
                                     const uint8_t *id, const char *code);
/* An event left unrecorded (rate refusals are recorded once a second) that
 * the store's counters still count, with the next events written. */
void hub_event_count(struct hub *h, int kind, const char *code);
void hub_event_recipients(struct hub_event *e, const struct ewh_header *hdr);
/* Write the waiting events (inside the batch transaction). */
EWH_MUST_CHECK int hub_events_write(struct hub *h, struct ewh_err *err);
/* After a transaction that wrote them. */
void hub_events_written(struct hub *h);
/* Once a tick: the events no batch carried, the cap, dropped ones. */
void hub_events_tick(struct hub *h);
void hub_events_free(struct hub *h);

/* ---- fed.c: federation state, routing, counters ---- */

/* Load the peers, foreign rosters and pinned keys; open the links. */
EWH_MUST_CHECK int hub_fed_init(struct hub *h, struct ewh_err *err);
void hub_fed_free(struct hub *h);
/* Set the region and direct peers on a roster being built (rosterpush). */
EWH_MUST_CHECK int hub_fed_roster_fields(struct hub *h, ewh_roster_t *r,
                                         struct ewh_err *err);
/* The roster version changed: peers re-read, links opened or closed,
 * our roster sent to every peer. */
void hub_fed_on_roster(struct hub *h);
/* The foreign region holding cc's pinned keys, or NULL. */
const struct hub_fed_region *hub_fed_region_of(const struct hub *h,
                                               const char *cc);
/* An ewh_lookup_fn over every foreign region's pinned keys (ctx: hub). */
const struct ewh_pubid *hub_fed_lookup(void *ctx, const char *cc);
/* The link to region (enrolled), or -1. */
int hub_fed_link_of(const struct hub *h, const char *region);
/* Does hdr name a recipient outside this region? */
bool hub_fed_has_foreign(const struct hub *h, const struct ewh_header *hdr);
/* Decide where a report goes (path: as received, NULL for a local
 * origin): *out (caller owns, free()) says which recipients are local,
 * which links to queue it for, and why others were filtered.  -1 (err,
 * EWH_E_DISTRIBUTION or EWH_E_UNKNOWN) when it reaches no one. */
EWH_MUST_CHECK int hub_fed_route(struct hub *h, int in_link,
                                 const struct ewh_header *hdr,
                                 const char *origin_region,
                                 const char *const *path, size_t n_path,
                                 struct hub_fed_sub **out, struct ewh_err *err);
/* Count n on (link's peer or "-", what, code) with the next batch. */
void hub_fed_count(struct hub *h, const char *peer, const char *what,
                   const char *code, uint64_t n);
/* Inside the batch transaction: the submit s just stored as envelope row
 * rowid: its fed_in row, its transfers, its filter counts and the notices
 * owed to a local origin for recipients it cannot reach. */
EWH_MUST_CHECK int hub_fed_stored(struct hub *h, const struct hub_submit *s,
                                  int64_t rowid, int64_t now,
                                  struct ewh_err *err);
/* Inside the batch transaction: a receipt for a foreign origin's report
 * is kept and queued for the link the report came on.  *handled false:
 * a local origin's (the caller stores it as usual). */
EWH_MUST_CHECK int hub_fed_receipt_write(struct hub *h, struct hub_rcpt *r,
                                         bool *handled, struct ewh_err *err);
/* Anything for the next batch (acks from peers, counters)? */
bool hub_fed_pending(const struct hub *h);
/* Inside the batch transaction: the peers' acks and the counters. */
EWH_MUST_CHECK int hub_fed_write(struct hub *h, struct ewh_err *err);
/* After the batch: committed (ok) or not. */
void hub_fed_committed(struct hub *h, bool ok);
/* After the commit: the TransferAck for a transfer in the batch. */
void hub_fed_ack_transfer(struct hub *h, const struct hub_submit *s,
                          const struct ewh_err *failed);
/* After the commit: the ReceiptAck for a receipt relayed by a peer. */
void hub_fed_ack_receipt(struct hub *h, const struct hub_rcpt *r,
                         const struct ewh_err *refused);
/* Once a tick: expiry of queued transfers, queue figures, stall. */
void hub_fed_tick(struct hub *h);
/* The status.json "federation" object (caller owns; a json_t *). */
void *hub_fed_status_json(struct hub *h);
/* Between the fed files: the regions and pinned keys again from the
 * store; one region's roster on a link's DEALER, or to every node. */
EWH_MUST_CHECK int hub_fed__reload_regions(struct hub *h, struct ewh_err *err);
void hub_fed__foreign_to(struct hub *h, const struct hub_fed_region *r,
                         void *dealer);
void hub_fed__region_to_nodes(struct hub *h, const struct hub_fed_region *r);
/* A Notice (kind: EWH__NOTICE_KIND_*) about recipient cc queued for the
 * report's local origin, inside a transaction. */
EWH_MUST_CHECK int hub_fed__notice(struct hub *h,
                                   const uint8_t id[EWH_ID_BYTES],
                                   const char *origin, const char *cc, int kind,
                                   const char *why, int64_t now,
                                   struct ewh_err *err);
/* admit.c: a transfer's local recipients, checked as a submit's are. */
EWH_MUST_CHECK int hub_admit_check_local(struct hub *h,
                                         const struct ewh_header *hdr,
                                         size_t len, struct ewh_err *err);
/* The links' Prometheus families (caller owns, free(); NULL: none). */
char *hub_fed_metrics_text(struct hub *h);
/* Every foreign roster to one node connection (on hello). */
void hub_fed_rosters_to_node(struct hub *h, const uint8_t *rid, size_t rid_len);

/* ---- fed_link.c: our links (DEALER, we send) ---- */

EWH_MUST_CHECK int hub_fed_link_open(struct hub *h, struct hub_fed_link *l,
                                     struct ewh_err *err);
void hub_fed_link_close(struct hub_fed_link *l);
/* Poll items of the open links (sockets and monitors): at most cap. */
size_t hub_fed_poll_items(struct hub *h, zmq_pollitem_t *it, size_t cap);
/* After the poll: read what the items say (same order). */
void hub_fed_poll_done(struct hub *h, const zmq_pollitem_t *it, size_t n);
/* Send what the windows allow on every link that is up. */
void hub_fed_fill(struct hub *h);
/* Heartbeats and stall resends (every turn; cheap). */
void hub_fed_timers(struct hub *h);
/* Our roster and the foreign ones to link l's peer (on up and change). */
void hub_fed_rosters_to_link(struct hub *h, struct hub_fed_link *l);

/* ---- fed_in.c: peers' links to us (frames on the ROUTER) ---- */

/* A frame from peer hub region (ZAP user id "@region"). */
void hub_fed_on_frame(struct hub *h, const char *region, const char *key,
                      const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                      size_t len);

/* ---- status.c ---- */

void hub_status_write(struct hub *h);
void hub_status_gauges(struct hub *h);

#endif
