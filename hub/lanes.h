/*
 * lanes.h — the order of each country's queued deliveries, in memory.
 *
 * The store keeps one fan-out row per report (its recipients and which of
 * them still wait), not one row per recipient (docs/performance.md).  A
 * lane is what the per-recipient index used to give: for one country and
 * one level, the seqs (envelope rowid * HUB_SEQ_SPAN + recipient slot) of
 * the deliveries still queued, oldest first.  The store rebuilds the lanes
 * from the fan-out rows when ewhub run opens it, and changes them only
 * after a commit, so that they always say what the database says.
 *
 * A lane is a sorted array: new seqs are larger than any before them (the
 * envelope rowid grows), so adding is an append; a delivery leaves a
 * tombstone that is dropped once it reaches the front.
 */
#ifndef HUB_LANES_H
#define HUB_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/util.h"

typedef struct hub_lanes hub_lanes_t;

EWH_MUST_CHECK hub_lanes_t *hub_lanes_new(void);
void hub_lanes_destroy(hub_lanes_t **l);
/* Forget every seq (keeps the memory). */
void hub_lanes_clear(hub_lanes_t *l);

/* Append seq to cc's lane of level (1..3).  -1 when out of memory, when
 * there are more countries than EWH_MAX_ROSTER_ENTRIES, or when seq is not
 * larger than the lane's last (the caller then rebuilds the lanes). */
EWH_MUST_CHECK int hub_lanes_add(hub_lanes_t *l, const char *cc, int level,
                                 uint64_t seq);
/* Remove seq from cc's lanes; false if it was not there. */
bool hub_lanes_del(hub_lanes_t *l, const char *cc, uint64_t seq);
/* Queued seqs of cc at level. */
uint64_t hub_lanes_count(const hub_lanes_t *l, const char *cc, int level);

/* Called for each country and level with a queued seq. */
typedef void (*hub_lanes_count_fn)(void *ctx, const char *cc, int level,
                                   uint64_t n);
void hub_lanes_counts(const hub_lanes_t *l, hub_lanes_count_fn fn, void *ctx);

/* Visit cc's queued seqs of level, oldest first, until fn returns non-zero
 * (which is returned).  fn must not change the lanes. */
typedef int (*hub_lanes_fn)(void *ctx, uint64_t seq);
int hub_lanes_walk(hub_lanes_t *l, const char *cc, int level, hub_lanes_fn fn,
                   void *ctx);

#endif
