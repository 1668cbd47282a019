/*
 * queue.h — per-node bookkeeping in memory: connection (routing id, last
 * seen), delivery credit, the deliveries and relays in flight, queued
 * counts by level, and the submit rate limiter.
 *
 * Nothing here is durable: the queue rows themselves live in the store, and
 * "in flight" is forgotten on every hello (the node gets them again).
 */
#ifndef HUB_QUEUE_H
#define HUB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/limits.h"
#include "ewh/util.h"

#define HUB_MAX_RID 256

/* A sorted set of sequence numbers, at most EWH_MAX_CREDIT, each with a
 * small tag (0..3: the delivery's level). */
struct hub_seqset {
    uint64_t *v; /* seq << 2 | tag */
    size_t n;
};

bool hub_seqset_has(const struct hub_seqset *s, uint64_t seq);
/* Insert (no-op if present); returns -1 when full. */
EWH_MUST_CHECK int hub_seqset_add(struct hub_seqset *s, uint64_t seq,
                                  unsigned tag);
/* Remove; returns true if it was there and sets *tag (may be NULL). */
bool hub_seqset_del(struct hub_seqset *s, uint64_t seq, unsigned *tag);
void hub_seqset_clear(struct hub_seqset *s);

struct hub_node {
    char cc[EWH_CC_BYTES];
    bool connected;           /* said hello on the current socket */
    uint8_t rid[HUB_MAX_RID]; /* ZeroMQ routing id of the latest hello */
    size_t rid_len;
    int fd;                     /* connection fd (ZMQ_SRCFD), -1 unknown */
    char key[65];               /* hex CURVE key the connection used */
    int64_t last_seen;          /* unix seconds of the last frame, 0 never */
    int64_t connected_at;       /* unix seconds of the latest hello */
    uint32_t credit;            /* from hello */
    bool roster_known;          /* roster_version was said (hello) */
    uint64_t roster_version;    /* roster it holds (hello, heartbeat) */
    struct hub_seqset inflight; /* deliveries sent, not acknowledged */
    struct hub_seqset relays;   /* receipt relays / notices sent */
    bool want_fill;             /* something new may be sendable */
    uint64_t queued[4];         /* queued deliveries by level (1..3) */
    double tokens;              /* submit rate token bucket */
    int64_t tokens_ms;
    uint32_t pending_submits; /* received, not yet acknowledged */
};

typedef struct hub_queue hub_queue_t;

EWH_MUST_CHECK hub_queue_t *hub_queue_new(void);
void hub_queue_destroy(hub_queue_t **q);

/* The node for cc, created when create is true (NULL when full/absent). */
struct hub_node *hub_queue_node(hub_queue_t *q, const char *cc, bool create);
size_t hub_queue_count(const hub_queue_t *q);
struct hub_node *hub_queue_at(hub_queue_t *q, size_t i);

/* Forget cc's connection: not connected, nothing in flight. */
void hub_queue_disconnect(struct hub_node *n);

uint64_t hub_queue_total(const struct hub_node *n);

/* Take one token from n's bucket (rate per second, one second of burst).
 * Returns false when the bucket is empty. */
bool hub_queue_take_token(struct hub_node *n, uint32_t rate, int64_t now_ms);

#endif
