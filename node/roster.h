/*
 * roster.h — applying a signed roster to the node's store: only one that
 * verifies against the pinned hub key and has a higher version than the
 * roster held.
 */
#ifndef NODE_ROSTER_H
#define NODE_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "dir.h"

/* Verify buf and store it if newer.  *version gets the roster's version.
 * An older or equal version is refused with EWH_E_VERSION (nothing
 * changes). */
EWH_MUST_CHECK int node_roster_apply(struct node_dir *d, const uint8_t *buf,
                                     size_t len, uint64_t *version,
                                     struct ewh_err *err);

#endif
