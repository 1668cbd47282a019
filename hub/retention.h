/*
 * retention.h — the hub's periodic retention sweep.
 *
 * [retention] delivered and expired (hub/config.h) say how long a report's
 * envelope stays in the store once it is final for every addressee.  The
 * sweep runs from the router's one-second tick, at most every
 * min(60 s, shortest period / 4) and at least every second, and removes a
 * bounded number of envelopes per run so that one run never stalls the
 * loop.
 */
#ifndef HUB_RETENTION_H
#define HUB_RETENTION_H

#include <stdint.h>

#include "config.h"
#include "store.h"

/* Run a sweep if one is due at now_ms (monotonic).  Outside any
 * transaction.  Logs what it removed; errors are logged, not fatal. */
void hub_retention_tick(hub_store_t *st, const struct hub_config *cfg,
                        int64_t now_ms);

#endif
