/*
 * agent_int.h — the private header shared by the files of the node agent
 * (the way SQLite's sqliteInt.h is shared by its files).  Nothing outside
 * the agent includes it; the agent's one public function is node_run()
 * (agent.h).
 *
 * The agent is one loop thread (agent.c) that keeps one session per
 * configured hub (struct node_conn, at most EWH_MAX_HUBS; issue 18,
 * docs/redundancy.md) and calls these modules, each per hub:
 *
 *   link.c      the DEALER socket to a hub, its monitor, Hello, the
 *               roster that makes a session ready, the trial of new node
 *               and hub keys, sending now or after the turn commits
 *   outbox.c    our reports to each hub: the submit window, SubmitAck,
 *               Notice about an addressee, audit checkpoints
 *   inbox.c     deliveries from any hub: open, store once, DeliverAck
 *   receipts.c  receipts we owe (signed at the end of a turn) and send
 *               to every hub, relays of receipts about our reports,
 *               ReceiptAck
 *   rekey.c     switching to node.key.new once hub #0 enrols it,
 *               resealing, the keys and roster from before a re-key
 *
 * Every piece of struct node_agent has one owner: the module whose name
 * the sub-struct carries writes it; others read it, or ask the owner
 * through a function (node_outbox_reset(), node_receipts_rescan()).  All
 * of it belongs to the loop thread.  The one other thread of ewnode run
 * is the /metrics server (metrics.h, when configured): it reads only the
 * snapshot the loop hands it once a second (node_metrics_set()).
 */
#ifndef NODE_AGENT_INT_H
#define NODE_AGENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/envelope.h"
#include "ewh/frame.h"
#include "ewh/limits.h"
#include "ewh/roster.h"
#include "agent.h"
#include "linkstate.h"

/* Tuning of the agent (docs/performance.md); its two limits are named in
 * limits.h. */
#define NODE_WINDOW         ((size_t)EWH_NODE_SUBMIT_WINDOW)
#define NODE_BUDGET         ((size_t)EWH_NODE_TURN_FRAMES)
#define NODE_POLL_STORE_MS  150   /* PRAGMA data_version */
#define NODE_HELLO_RETRY_MS 3000  /* resend Hello until the roster comes */
#define NODE_SUBMIT_TMO_MS  30000 /* resend a submit not acked by then */
#define NODE_RECEIPT_RESEND 30000 /* ms: resend receipts not acked */
#define NODE_RETRY_MS       5000  /* after a temporary refusal */
#define NODE_ALT_MS         1500  /* down this long: try announced keys */
#define NODE_ALT_FAILED_MS  300   /* ... after a failed handshake */
#define NODE_REOPEN_MS      1000  /* a failed socket re-open: retry */
/* After a handshake refused (ZAP) or failed, libzmq ends the session and
 * never reconnects: the agent opens the socket again, with a backoff
 * doubling from ..._MIN to ..._MAX (EWH_NODE_REFUSED_REOPEN_*_MS). */
#define NODE_REFUSED_MIN_MS ((int64_t)EWH_NODE_REFUSED_REOPEN_MIN_MS)
#define NODE_REFUSED_MAX_MS ((int64_t)EWH_NODE_REFUSED_REOPEN_MAX_MS)
#define NODE_FAST_POLL_MS   20   /* Hello or submits waiting to go */
#define NODE_STATUS_MS      2000 /* link.json "hubs" figures refreshed */

/* ---- state, by owner ---- */

/* A frame encoded during a turn, sent once the turn has committed. */
struct node_deferred {
    uint8_t *buf;
    size_t len;
};

/* One hub's session (link.c owns it). */
struct node_link {
    bool opened;          /* node_link_open() done, not closed yet */
    void *sock, *mon;     /* NULL while a re-open waits */
    ewh_roster_t *roster; /* this hub's latest signed roster */
    bool connected, ready, need_hello;
    int64_t hello_at;
    struct node_deferred *later; /* frames to send after the commit */
    size_t n_later, cap_later;
    /* Key trial: which (node key, hub key) pair the socket uses; bit 0
     * the new node key, bit 1 the hub's announced key (hub.pub.next: the
     * pinned hub #0 only). */
    unsigned try_idx;
    int64_t down_since;
    bool alt_now;
    int64_t reopen_at; /* > 0: the socket is closed; open it again then */
    /* The link as the commands see it (linkstate.h, DIR/link.json). */
    struct node_linkstate ls;
    int64_t down_ms; /* monotonic: no session since; 0 while connected */
    bool warned, tcp_seen, probed;
    int probe_fd; /* our own TCP connect to the hub (probe.h), or -1 */
    char probe_why[128];
    /* A handshake failed on this socket; libzmq will not try again. */
    bool hs_failed;
    int64_t refused_at, refused_backoff; /* the last re-open after one */
    /* Monitoring (issue 20): the Heartbeat that tells the hub we are
     * alive and which roster we hold (mono ms of the last), and the wall
     * time of the last frame from the hub. */
    int64_t beat_at;
    int64_t last_frame;
};

struct node_flight {
    char id[EWH_ID_HEX];
    int64_t at;
};

/* Our reports on their way to one hub (outbox.c owns it). */
struct node_outq {
    /* The outbox is read from after cursor, the last entry sent (or found
     * in flight) since the last full rescan (high level first, then by
     * seq), so that a turn does not read again the envelopes already in
     * flight. */
    struct node_hub_cursor cursor;
    bool dirty;
    int64_t retry_at; /* wall ms of the earliest deferred submit, or of
                         reading again after a store error */
    struct node_flight fl[NODE_WINDOW];
    size_t n_fl;
    /* The last audit checkpoint of this hub verified: a batch's acks all
     * carry the same one, verified once. */
    uint8_t *cp_raw;
    size_t cp_len;
    uint64_t hub_faults; /* notices that contradict our signed fields */
    /* Refill (docs/redundancy.md): the checkpoint length held when this
     * hub was last refilled in this run (not again for the same one),
     * and the refills recorded in the store. */
    uint64_t refilled_at_len;
    bool refilled;
    int64_t refills;
    bool chain_asked; /* AuditRequest sent for this session */
};

/* Our receipts on their way to one hub (receipts.c owns it). */
struct node_rcq {
    int64_t cursor;
    bool dirty;
    int64_t resend_at; /* mono ms of the last full resend */
    int64_t retry_at;  /* > 0: mono ms to read again after a store error */
};

/* The session with one configured hub (issue 18, docs/redundancy.md):
 * its pinned identity and everything per hub, by owner as in struct
 * node_agent (link: link.c, out: outbox.c, rc: receipts.c, the rest:
 * agent.c). */
struct node_conn {
    int64_t id; /* the store's hubs row (NODE_HUB_FIRST_ID: #0) */
    char endpoint[EWH_MAX_HUB_ENDPOINT_BYTES]; /* tcp://HOST:PORT */
    struct ewh_pubid pin; /* its pinned identity (hub #0: DIR/hub.pub) */
    char fp[EWH_FINGERPRINT_CHARS];
    /* For the log: "" while the node has one hub, else " (hub
     * ENDPOINT)" at the end of each line about this hub. */
    char via[EWH_MAX_HUB_ENDPOINT_BYTES + 8];
    struct node_link link;
    struct node_outq out;
    struct node_rcq rc;
    /* agent.c: the roster compared with the other hubs' (hubcmp.h):
     * alarms found, and per other hub a hash of the alarms last logged
     * with it, so that each new set is logged once */
    size_t roster_alarms;
    struct {
        int64_t other; /* the other hub's id (0: free) */
        uint64_t hash; /* of the alarms last logged with it */
    } cmp[EWH_MAX_HUBS];
    /* agent.c: figures for link.json and /metrics (every NODE_STATUS_MS) */
    struct node_hub_counts counts;
};

/* A report stored this turn whose delivered receipt is not signed yet. */
struct node_owed {
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES];
};

/* Delivered receipts owed for this turn's reports: signed at the end of
 * the turn, one receipt per origin, in the turn's transaction
 * (receipts.c owns it). */
struct node_owe {
    struct node_owed owed[NODE_BUDGET];
    size_t n_owed;
};

struct node_keys {
    ewh_secret_t *next; /* node.key.new: a re-key not yet enrolled */
    ewh_secret_t *prev; /* node.key.old: opens deliveries sealed
                           for the keys before a re-key */
    bool rekeyed;       /* switched keys in this run */
    bool reseal_due;    /* an old-key submit came back refused */
};

struct node_agent {
    struct node_dir *d;
    const char *me;
    int sfd;
    bool stop;
    bool in_tx;           /* the turn's transaction is open (agent.c) */
    int64_t store_at, dv; /* PRAGMA data_version polled (agent.c) */
    bool dv_failing;      /* ... and failing: said once */
    void *zctx;           /* the zmq context of every hub socket (link.c) */
    unsigned mon_gen;     /* monitor endpoints are unique (link.c) */
    /* The hubs in the store's order (agent.c adds and removes them when
     * `ewnode hubs` changes the table); the pinned hub (DIR/hub.pub: its
     * roster seals and re-keys) is node_agent_first(). */
    struct node_conn conn[EWH_MAX_HUBS];
    size_t n_conn;
    char *status_text; /* DIR/link.json as last written (link.c) */
    int64_t status_at; /* mono ms: link.json figures last refreshed */
    int64_t dv_hubs;   /* hubs table re-read at this data_version */
    struct node_owe owe;
    struct node_keys key;
    ewh_wrapcache_t *wc; /* pair keys for opening deliveries (inbox.c) */
    bool trust_due;      /* DIR/trust.json to write after the commit */
    struct node_metrics *metrics; /* /metrics, NULL unless configured */
    int64_t figures_at;           /* mono ms it was last given figures */
};

/* ---- agent.c: the turn ---- */

/* Open the turn's transaction if it is not open yet. */
EWH_MUST_CHECK int node_agent_begin(struct node_agent *a, struct ewh_err *err);
/* Sign the receipts owed, commit the turn, then send what depended on it.
 * If the commit fails nothing is acknowledged: the hub sends again. */
void node_agent_flush(struct node_agent *a);
/* The pinned hub (DIR/hub.pub, `ewnode init`'s, normally hub #0): its
 * roster is the one the node seals with and that re-keys it.  While it
 * is not listed (removed), the first hub listed. */
struct node_conn *node_agent_first(struct node_agent *a);
/* Is c the pinned hub (DIR/hub.pub, with its announced rotation)? */
bool node_agent_is_pinned(const struct node_agent *a,
                          const struct node_conn *c);
/* A roster of c was applied: compare it with the other hubs' (hubcmp.h),
 * warn once per new set of differences key continuity does not explain. */
void node_agent_compare_rosters(struct node_agent *a, struct node_conn *c);

/* ---- link.c ---- */

/* Create the zmq context.  Before the loop only. */
EWH_MUST_CHECK int node_link_init(struct node_agent *a, struct ewh_err *err);
/* Open the session with hub c (its socket). */
EWH_MUST_CHECK int node_link_open(struct node_agent *a, struct node_conn *c,
                                  struct ewh_err *err);
/* Close c's socket, free what it holds. */
void node_link_close(struct node_agent *a, struct node_conn *c);
/* End the context (every session closed before). */
void node_link_term(struct node_agent *a);
/* Close and open c's socket again (new keys).  A failure is logged and
 * retried every NODE_REOPEN_MS; the loop goes on meanwhile. */
void node_link_reopen(struct node_agent *a, struct node_conn *c);
/* Encode and send to c now.  -1 if the hub is not reachable (EAGAIN). */
int node_link_send(struct node_agent *a, struct node_conn *c,
                   const Ewh__Frame *f);
/* Send f to c once the turn's transaction has committed (now if none). */
void node_link_send_later(struct node_agent *a, struct node_conn *c,
                          const Ewh__Frame *f);
/* Send (ok) or drop the frames kept by node_link_send_later(), every
 * hub's. */
void node_link_send_deferred(struct node_agent *a, bool ok);
/* Socket monitor events of c: handshake done, disconnected, refused. */
void node_link_on_monitor(struct node_agent *a, struct node_conn *c);
/* Timers: Hello until the roster comes, a socket re-open, the
 * Heartbeat every heartbeat_ms of a ready session. */
void node_link_tick(struct node_agent *a, struct node_conn *c);
/* Down for a while (or a handshake failed) and new keys are pending: try
 * the next combination of keys. */
void node_link_try_keys(struct node_agent *a, struct node_conn *c);
/* A roster from hub c: apply it, the session becomes ready. */
void node_link_on_roster(struct node_agent *a, struct node_conn *c,
                         const Ewh__SignedRoster *sr);
/* Read c's roster again from the store (start, SIGHUP). */
void node_link_reload_roster(struct node_agent *a, struct node_conn *c);
/* Rewrite DIR/link.json when what it says changed (a state, or the
 * figures agent.c refreshes every NODE_STATUS_MS). */
void node_link_status(struct node_agent *a);

/* ---- outbox.c ---- */

/* A new session or a closed socket: nothing is in flight to c any more. */
void node_outbox_reset(struct node_agent *a, struct node_conn *c);
/* Something other than an acknowledgement changed what may be sent: read
 * the outbox from its start on the next turn (c NULL: for every hub). */
void node_outbox_rescan(struct node_agent *a, struct node_conn *c);
/* Resend timed-out submits, send queued reports up to the window. */
void node_outbox_pump(struct node_agent *a, struct node_conn *c);
/* Is the loop waiting to send submits (poll sooner)? */
bool node_outbox_wants_send(const struct node_agent *a);
void node_outbox_on_ack(struct node_agent *a, struct node_conn *c,
                        const Ewh__SubmitAck *k);
void node_outbox_on_notice(struct node_agent *a, struct node_conn *c,
                           const Ewh__Notice *n);
/* A session became ready: ask the hub for its audit chain's head (an
 * AuditRequest), to notice a hub that lost data (refill). */
void node_outbox_ask_chain(struct node_agent *a, struct node_conn *c);
/* The answer: its checkpoint verified, kept, compared with ours. */
void node_outbox_on_proof(struct node_agent *a, struct node_conn *c,
                          const Ewh__AuditProof *p);
/* The turn did not commit: the checkpoints kept with it were not stored. */
void node_outbox_commit_failed(struct node_agent *a);
/* Free what c's queue holds. */
void node_outbox_free(struct node_conn *c);

/* ---- inbox.c ---- */

void node_inbox_on_deliver(struct node_agent *a, struct node_conn *c,
                           const Ewh__Deliver *dv);

/* ---- receipts.c ---- */

/* Owe a delivered receipt for report id of origin (signed at the end of
 * the turn by node_receipts_sign_owed()). */
void node_receipts_owe(struct node_agent *a, const uint8_t id[EWH_ID_BYTES],
                       const char *origin);
void node_receipts_sign_owed(struct node_agent *a);
/* The store changed: look for unsent receipts on the next pump (c NULL:
 * every hub). */
void node_receipts_rescan(struct node_agent *a, struct node_conn *c);
/* ... from the first one (a new session, a re-key; c NULL: every hub). */
void node_receipts_reset(struct node_agent *a, struct node_conn *c);
void node_receipts_pump(struct node_agent *a, struct node_conn *c);
void node_receipts_on_relay(struct node_agent *a, struct node_conn *c,
                            const Ewh__ReceiptRelay *rr);
void node_receipts_on_ack(struct node_agent *a, struct node_conn *c,
                          const Ewh__ReceiptAck *k);

/* ---- rekey.c ---- */

/* At start: node.key.new and node.key.old.  (What peers signed before
 * their re-key is verified with their trusted key history, trust.h.) */
EWH_MUST_CHECK int node_rekey_load(struct node_agent *a, struct ewh_err *err);
/* `ewnode rekey` may have run since the agent started. */
void node_rekey_find_pending(struct node_agent *a);
/* Hub #0's roster names our new identity: switch keys and reseal. */
void node_rekey_check(struct node_agent *a);
/* Is our outbox envelope of id sealed with the keys before the re-key? */
bool node_rekey_sealed_with_prev(struct node_agent *a, const char *id);
/* Reseal if an old-key submit came back refused (end of a turn). */
void node_rekey_reseal_if_due(struct node_agent *a);
void node_rekey_free(struct node_agent *a);

#endif
