/*
 * peers.h — the peer table: per-country state of the hub's loop, in
 * memory only.  One entry per country seen (at most
 * EWH_MAX_ROSTER_ENTRIES), created on first use and kept.
 *
 * What a peer holds: its connection (routing id, fd, key, last seen), its
 * delivery credit, the deliveries and relays in flight to it (seq sets),
 * whether something new may be sendable, the submit token bucket and the
 * submits it has in flight.  What it does not hold: how many deliveries
 * wait for it -- the store alone owns queue depth (hub_store_queued()).
 *
 * Nothing here is durable: "in flight" is forgotten on every hello and
 * disconnect (the node gets those deliveries again).
 */
#ifndef HUB_PEERS_H
#define HUB_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "seqset.h"
#include "ewh/err.h"
#include "ewh/limits.h"
#include "ewh/util.h"

#define HUB_MAX_RID 256 /* bytes of a ZeroMQ routing id */
/* Countries the first budget count keeps for entries not made yet: the
 * roster's and, as origins of transfers, each peer region's. */
#define HUB_PEERS_MAX_COUNTS (EWH_MAX_ROSTER_ENTRIES * (1 + EWH_MAX_FED_PEERS))

/* One connection of a country that said hello, tracked by its routing id
 * and fd, so that one connection going away never ends the session of
 * another (a stray second client with the same key, a reconnect whose
 * old TCP connection is noticed dead late). */
struct hub_peer_conn {
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
    int fd;            /* ZMQ_SRCFD at hello */
    char key[65];      /* hex CURVE key it authenticated with */
    uint32_t credit;   /* from its hello */
    int64_t at;        /* unix seconds of its hello */
    uint8_t peer[128]; /* getpeername() at hello: the fd is still it */
    uint32_t peer_len; /* 0: unknown */
    int64_t cut_at_ms; /* > 0: shut it down at this monotonic time */
};

struct hub_peer {
    char cc[EWH_CC_BYTES];
    /* Live connections of this country, oldest first; the session (rid,
     * fd, key, credit below) is the newest hello's. */
    struct hub_peer_conn conns[EWH_MAX_NODE_CONNS];
    size_t n_conns;
    bool connected;           /* said hello on the current socket */
    uint8_t rid[HUB_MAX_RID]; /* ZeroMQ routing id of the latest hello */
    size_t rid_len;
    int fd;                  /* connection fd (ZMQ_SRCFD), -1 unknown */
    char key[65];            /* hex CURVE key the connection used */
    int64_t last_seen;       /* unix seconds of the last frame, 0 never */
    int64_t connected_at;    /* unix seconds of the latest hello */
    uint32_t credit;         /* from hello */
    bool roster_known;       /* roster_version was said (hello) */
    uint32_t features;       /* EWH_FEATURE_* of its latest hello */
    uint64_t roster_version; /* roster it holds (hello, heartbeat) */
    hub_seqset_t *inflight; /* deliveries sent, not acknowledged (tag: level) */
    hub_seqset_t *relays;   /* receipt relays / notices sent */
    bool want_fill;         /* something new may be sendable */
    /* The byte window of low and medium deliveries (deliver.c). */
    struct hub_link {
        uint64_t bytes, n;  /* non-high in flight: bytes, deliveries */
        uint64_t probe_seq; /* one delivery timed at a time (0: none) */
        int64_t probe_ms;   /* when it was sent */
        int64_t rtt_ms;     /* shortest round trip seen (have_rtt) */
        bool have_rtt;
        int64_t rtt_at_ms; /* when that period began */
        uint64_t acked;    /* bytes acknowledged since rate_at_ms */
        int64_t rate_at_ms;
        double rate; /* bytes per ms, 0 not measured yet */
    } link;
    struct hub_bucket bucket;   /* submit rate */
    struct hub_bucket audit;    /* AuditRequests answered (a budget) */
    struct hub_bucket audit_no; /* ... and told they are over it */
    uint32_t pending_submits;   /* received, not yet acknowledged */
    uint64_t ckpt_ahead;        /* its checkpoint is beyond our chain: length */
    int64_t progress_ms; /* mono ms: last ack, or first send into an empty
                            window (the stalled-session rule, deliver.c) */
    /* Storage budgets (admit.c): bytes waiting for it and from it, an
     * upper bound (accepted submits add, deliveries do not subtract)
     * made exact from the store when it reaches a budget; every
     * country's at once at the first check of a run. */
    bool budget_known;
    uint64_t bytes_for, bytes_from;
    int64_t budget_exact_ms; /* mono ms of the last exact count */
};

typedef struct hub_peers hub_peers_t;

EWH_MUST_CHECK hub_peers_t *hub_peers_new(void);
void hub_peers_destroy(hub_peers_t **p);

/* The peer for cc, created when create is true.  NULL when absent, when
 * the table is full, or (create) out of memory. */
struct hub_peer *hub_peers_get(hub_peers_t *p, const char *cc, bool create);
size_t hub_peers_count(const hub_peers_t *p);
/* The run's first count of every country's storage budgets (admit.c,
 * one scan of the store for all): begin zeroes the entries' estimates,
 * count sets one country's (an entry's, or kept for when it gets one:
 * no entry is created, a foreign origin is not a node), known makes
 * every entry and every one created later budget_known (one that was
 * not counted has none waiting), exact as of at_ms. */
void hub_peers_budgets_begin(hub_peers_t *p);
void hub_peers_budget_count(hub_peers_t *p, const char *cc, bool for_,
                            uint64_t bytes);
void hub_peers_budgets_known(hub_peers_t *p, int64_t at_ms);
bool hub_peers_budgets_are_known(const hub_peers_t *p);
/* The i-th peer (0 .. count - 1; stable: peers are never removed). */
struct hub_peer *hub_peers_at(hub_peers_t *p, size_t i);

/* Forget the peer's connection: not connected, no credit, nothing in
 * flight. */
void hub_peer_disconnect(struct hub_peer *n);

/* Record the connection of a hello (replacing a record of the same
 * routing id, or of the same fd, which is then surely closed; the oldest
 * is forgotten when EWH_MAX_NODE_CONNS are held) and make it the session:
 * in flight is forgotten (the node gets it again).  Returns the record. */
struct hub_peer_conn *hub_peer_conn_hello(struct hub_peer *n,
                                          const uint8_t *rid, size_t rid_len,
                                          int fd, const char *key,
                                          uint32_t credit, int64_t now);

/* A connection went away (its fd, or with fd < 0 its routing id).
 * Returns 0 when n held no such connection, 1 when it was another than
 * the session (nothing else changes), 2 when the session moved to n's
 * newest remaining connection not being cut (in flight forgotten), 3 when
 * none remains (n is disconnected). */
int hub_peer_conn_gone(struct hub_peer *n, int fd, const uint8_t *rid,
                       size_t rid_len);

/* Make c (one of n's connections) the session; in flight is forgotten. */
void hub_peer_conn_use(struct hub_peer *n, const struct hub_peer_conn *c);

/* Forget every connection of n and the session (a re-bind). */
void hub_peer_conn_clear(struct hub_peer *n);

/* Shut down the TCP connection of c (libzmq's I/O thread then sees it
 * closed and drops that one peer).  Only when the fd still belongs to the
 * same peer as at hello.  Returns true if it shut it down. */
bool hub_peer_conn_cut(const struct hub_peer_conn *c);

#endif
