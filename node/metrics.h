/*
 * metrics.h — the node agent's own /metrics (issue 20), served as
 * Prometheus text through libmicrohttpd in its own thread, like the hub's.
 *
 * A liaison desk whose high reports wait unacknowledged, or whose outbox
 * does not drain, is as much an incident as a disconnected country: the
 * agent exports its connection to the hub, its outbox and the high
 * reports not yet acknowledged.  The loop sets the figures as a whole
 * (node_metrics_set) under a mutex; a scrape renders that snapshot.
 * Names: docs/operations.md, "Node agent metrics".
 */
#ifndef NODE_METRICS_H
#define NODE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/limits.h"
#include "ewh/util.h"

typedef struct node_metrics node_metrics_t;

/* country: the node's; caller owns the result (NULL: out of memory). */
EWH_MUST_CHECK node_metrics_t *node_metrics_new(const char *country);
/* Stop the HTTP server and free.  Accepts NULL. */
void node_metrics_destroy(node_metrics_t **m);

/* Serve /metrics on HOST:PORT (an IPv4 address, "localhost" or "[v6]";
 * port 0: ephemeral).  The bound "HOST:PORT" goes to bound.  Signals must
 * be blocked before: this starts a thread. */
EWH_MUST_CHECK int node_metrics_listen(node_metrics_t *m, const char *hostport,
                                       char *bound, size_t bound_cap,
                                       struct ewh_err *err);

struct node_metrics_state {
    char hub[256];           /* the endpoint the agent connects to */
    const char *hub_key;     /* "pinned" or "announced" */
    bool connected;          /* CURVE handshake done */
    bool ready;              /* the hub answered Hello with a roster */
    uint64_t roster_version; /* 0: none held */
    int64_t last_frame;      /* unix seconds of the last frame from the hub */
    uint64_t in_flight;      /* submits sent, not acknowledged by the hub */
    int64_t outbox, outbox_oldest;             /* created_at, unix s */
    int64_t unacked_high, unacked_high_oldest; /* received_at, unix s */
    int64_t now;                               /* ages are computed at it */
    int64_t peers_unverified; /* docs/trust.md: peers not sealed for */
    int64_t split_views;      /* evidence of split views held */
    /* Per hub (issue 18, docs/redundancy.md), in the hubs' order. */
    struct node_metrics_hub {
        char hub[EWH_MAX_HUB_ENDPOINT_BYTES];
        const char *hub_key; /* "pinned" or "announced" */
        bool up;             /* session ready */
        int64_t last_frame;  /* unix s, 0: none */
        int64_t accepted, lagging, refills;
        int64_t roster_mismatch; /* alarms between its roster and others' */
    } hubs[EWH_MAX_HUBS];
    size_t n_hubs;
};
void node_metrics_set(node_metrics_t *m, const struct node_metrics_state *s);

/* The Prometheus text of the last state.  Caller owns *out (free()). */
EWH_MUST_CHECK int node_metrics_render(node_metrics_t *m, char **out,
                                       size_t *len);

#endif
