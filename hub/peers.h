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

struct hub_peer {
    char cc[EWH_CC_BYTES];
    bool connected;           /* said hello on the current socket */
    uint8_t rid[HUB_MAX_RID]; /* ZeroMQ routing id of the latest hello */
    size_t rid_len;
    int fd;                 /* connection fd (ZMQ_SRCFD), -1 unknown */
    char key[65];           /* hex CURVE key the connection used */
    int64_t last_seen;      /* unix seconds of the last frame, 0 never */
    int64_t connected_at;   /* unix seconds of the latest hello */
    uint32_t credit;        /* from hello */
    hub_seqset_t *inflight; /* deliveries sent, not acknowledged (tag: level) */
    hub_seqset_t *relays;   /* receipt relays / notices sent */
    bool want_fill;         /* something new may be sendable */
    struct hub_bucket bucket; /* submit rate */
    uint32_t pending_submits; /* received, not yet acknowledged */
    uint64_t ckpt_ahead;      /* its checkpoint is beyond our chain: length */
    int64_t progress_ms;      /* mono ms: last ack, or first send into an empty
                                 window (the stalled-session rule, deliver.c) */
};

typedef struct hub_peers hub_peers_t;

EWH_MUST_CHECK hub_peers_t *hub_peers_new(void);
void hub_peers_destroy(hub_peers_t **p);

/* The peer for cc, created when create is true.  NULL when absent, when
 * the table is full, or (create) out of memory. */
struct hub_peer *hub_peers_get(hub_peers_t *p, const char *cc, bool create);
size_t hub_peers_count(const hub_peers_t *p);
/* The i-th peer (0 .. count - 1; stable: peers are never removed). */
struct hub_peer *hub_peers_at(hub_peers_t *p, size_t i);

/* Forget the peer's connection: not connected, no credit, nothing in
 * flight. */
void hub_peer_disconnect(struct hub_peer *n);

#endif
