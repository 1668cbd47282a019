/*
 * metrics.h — the hub's counters and gauges, served as Prometheus text on
 * /metrics (libmicrohttpd, its own polling thread).
 *
 * The event loop updates the values through the hub_metrics_* calls; the
 * HTTP thread renders them on each scrape.  Both sides hold one mutex for
 * the few nanoseconds they touch the values, so a scrape sees a consistent
 * snapshot.  Names and meanings: docs/operations.md, "Metrics".
 */
#ifndef HUB_METRICS_H
#define HUB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/limits.h"
#include "ewh/util.h"

typedef struct hub_metrics hub_metrics_t;

/* Caller owns the result; NULL when out of memory. */
EWH_MUST_CHECK hub_metrics_t *hub_metrics_new(void);
/* The unix time hub_metrics_new() ran (ewhub_start_time_seconds). */
int64_t hub_metrics_started(const hub_metrics_t *m);
/* Stop the HTTP server (if started) and free.  Accepts NULL. */
void hub_metrics_destroy(hub_metrics_t **m);

/* Serve /metrics on HOST:PORT (IPv4 address, "localhost" or "[v6]";
 * port 0 takes an ephemeral port).  The bound "HOST:PORT" goes to bound.
 * Signals must be blocked before: this starts a thread. */
EWH_MUST_CHECK int hub_metrics_listen(hub_metrics_t *m, const char *hostport,
                                      char *bound, size_t bound_cap,
                                      struct ewh_err *err);

/* Counters.  level is 1..3; other values are ignored. */
void hub_metrics_accepted(hub_metrics_t *m, enum ewh_level level);
void hub_metrics_refused(hub_metrics_t *m, enum ewh_errcode code);
void hub_metrics_duplicate(hub_metrics_t *m);
void hub_metrics_delivered(hub_metrics_t *m, enum ewh_level level);
void hub_metrics_acknowledged(hub_metrics_t *m, uint64_t n);
void hub_metrics_expired(hub_metrics_t *m);
void hub_metrics_zap_refused(hub_metrics_t *m, uint64_t n);
/* A node's Hello names a checkpoint beyond the hub's audit chain. */
void hub_metrics_audit_behind(hub_metrics_t *m);
/* Deliveries resent on a session where none was acknowledged in time. */
void hub_metrics_stalled(hub_metrics_t *m, uint64_t n);
void hub_metrics_commit(hub_metrics_t *m, double seconds);

/* Gauges, set as a whole.  queue: depth by level (index 1..3). */
void hub_metrics_nodes(hub_metrics_t *m, unsigned connected, unsigned enrolled);
void hub_metrics_queue_clear(hub_metrics_t *m);
void hub_metrics_queue(hub_metrics_t *m, const char *cc, const uint64_t q[4]);
void hub_metrics_audit_length(hub_metrics_t *m, uint64_t n);
/* The store's WAL: checkpoints run, failed, pages in it now. */
void hub_metrics_wal(hub_metrics_t *m, uint64_t checkpoints, uint64_t failed,
                     uint64_t pages);

/* Counters kept in the store (hub_store_counters()), added before the
 * loop starts: kind is enum hub_event_kind, code the refusal's code name.
 * since: the time they count from. */
void hub_metrics_seed(hub_metrics_t *m, int kind, int level, const char *code,
                      uint64_t n);
void hub_metrics_counters_since(hub_metrics_t *m, int64_t since);

/* One country's figures, set as a whole at each refresh. */
struct hub_metrics_node {
    char cc[EWH_CC_BYTES];
    bool enrolled; /* enrolled, not revoked */
    bool connected;
    bool roster_known; /* it said which roster it holds */
    uint64_t roster_version;
    int64_t last_frame; /* unix seconds, 0 never */
    uint64_t in_flight; /* deliveries not yet acknowledged */
    uint64_t receipts;  /* receipts waiting to be relayed to it */
    int64_t oldest[4];  /* queued_at of the oldest waiting, by level */
};
void hub_metrics_node(hub_metrics_t *m, const struct hub_metrics_node *n);
/* The time of this refresh (ages are computed at it) and the roster
 * version the hub serves. */
void hub_metrics_hub(hub_metrics_t *m, int64_t now, uint64_t roster_version);
/* The store's files and the file system under it. */
void hub_metrics_disk(hub_metrics_t *m, uint64_t db_bytes, uint64_t wal_bytes,
                      uint64_t fs_size, uint64_t fs_avail);
/* The last `ewhub audit verify` (DIR/audit_verified), at 0: never. */
void hub_metrics_audit_verify(hub_metrics_t *m, int64_t at, bool ok);

/* The federation links' families, as Prometheus text (fed.c builds it;
 * takes text, which may be NULL). */
void hub_metrics_fed(hub_metrics_t *m, char *text);

/* The Prometheus text of now.  Caller owns *out (free()). */
EWH_MUST_CHECK int hub_metrics_render(hub_metrics_t *m, char **out,
                                      size_t *len);

#endif
