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

/* One connection of a country that said hello, tracked by its routing id
 * and fd, so that one connection going away never ends the session of
 * another (a stray second client with the same key, a reconnect whose
 * old TCP connection is noticed dead late). */
struct hub_conn {
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

struct hub_node {
    char cc[EWH_CC_BYTES];
    /* Live connections of this country, oldest first; the session (rid,
     * fd, key, credit below) is the newest hello's. */
    struct hub_conn conns[EWH_MAX_NODE_CONNS];
    size_t n_conns;
    bool connected;           /* said hello on the current socket */
    uint8_t rid[HUB_MAX_RID]; /* ZeroMQ routing id of the latest hello */
    size_t rid_len;
    int fd;                     /* connection fd (ZMQ_SRCFD), -1 unknown */
    char key[65];               /* hex CURVE key the connection used */
    int64_t last_seen;          /* unix seconds of the last frame, 0 never */
    int64_t connected_at;       /* unix seconds of the latest hello */
    uint32_t credit;            /* from hello */
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

/* Record the connection of a hello (replacing a record of the same
 * routing id, or of the same fd, which is then surely closed; the oldest
 * is forgotten when EWH_MAX_NODE_CONNS are held) and make it the session:
 * in flight is forgotten (the node gets it again).  Returns the record. */
struct hub_conn *hub_queue_conn_hello(struct hub_node *n, const uint8_t *rid,
                                      size_t rid_len, int fd, const char *key,
                                      uint32_t credit, int64_t now);

/* A connection went away (its fd, or with fd < 0 its routing id).
 * Returns 0 when n held no such connection, 1 when it was another than
 * the session (nothing else changes), 2 when the session moved to n's
 * newest remaining connection (in flight forgotten), 3 when it was the
 * last one (n is disconnected). */
int hub_queue_conn_gone(struct hub_node *n, int fd, const uint8_t *rid,
                        size_t rid_len);

/* Make c (one of n's connections) the session; in flight is forgotten. */
void hub_queue_conn_use(struct hub_node *n, const struct hub_conn *c);

/* Forget every connection of n and the session (a re-bind). */
void hub_queue_conn_clear(struct hub_node *n);

/* Shut down the TCP connection of c (libzmq's I/O thread then sees it
 * closed and drops that one peer).  Only when the fd still belongs to the
 * same peer as at hello.  Returns true if it shut it down. */
bool hub_queue_conn_cut(const struct hub_conn *c);

uint64_t hub_queue_total(const struct hub_node *n);

/* Take one token from n's bucket (rate per second, one second of burst).
 * Returns false when the bucket is empty. */
bool hub_queue_take_token(struct hub_node *n, uint32_t rate, int64_t now_ms);

#endif
