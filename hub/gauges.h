/*
 * gauges.h — the figures /metrics shows that are read rather than counted
 * (issue 20): per country (connected, roster held, last frame, deliveries
 * unacknowledged, receipts waiting, oldest queued by level), the roster
 * version, the store's disk, the last `ewhub audit verify`.
 *
 * Called by the event loop at its once-a-second tick, outside any
 * transaction; every store read is a primary-key or index lookup (the
 * oldest queued comes from the lanes), so it costs the loop little however
 * large the store.
 */
#ifndef HUB_GAUGES_H
#define HUB_GAUGES_H

#include "metrics.h"
#include "peers.h"
#include "store.h"
#include "ewh/roster.h"

/* Refresh m from p (the loop's per-country state), the roster r and st,
 * whose file is path (for its size and its file system). */
void hub_gauges_refresh(hub_metrics_t *m, hub_peers_t *p, const ewh_roster_t *r,
                        hub_store_t *st, const char *path);

/* Before the loop: the counters kept in the store (since its creation). */
EWH_MUST_CHECK int hub_gauges_seed(hub_metrics_t *m, hub_store_t *st,
                                   struct ewh_err *err);

#endif
