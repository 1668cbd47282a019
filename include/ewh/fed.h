/*
 * fed.h — federation between regions: the distribution rules shared by
 * the relaying hub, the receiving hub and the recipient node
 * (docs/federation.md, "Distribution").
 *
 * A path lists the regions a report (or a foreign roster) has passed, the
 * origin's region first and the current holder's last.  Each hop appends
 * its own region before it sends on.
 */
#ifndef EWH_FED_H
#define EWH_FED_H

#include <stdbool.h>
#include <stddef.h>

#include "ewh/err.h"
#include "ewh/util.h"

/* Check a path: 1..EWH_MAX_FED_PATH valid region names, none twice. */
EWH_MUST_CHECK int ewh_fed_path_check(const char *const *path, size_t n,
                                      struct ewh_err *err);

/* May a report of distribution d from a country of origin_region, having
 * passed path[0..n_path) (n_path 0: the path is not known, as at a
 * recipient node), enter region dest?  dest_peers_origin says whether dest
 * is directly peered with origin_region.
 *   REGION:    only dest == origin_region.
 *   CONNECTED: dest == origin_region, or dest peers origin_region and the
 *              report has not left the origin's region yet (n_path <= 1).
 *   ALL:       any dest not already on the path.
 * A known path must start at origin_region; a dest on the path (a loop)
 * is refused whatever d says.  Returns 0 if it may; else -1 with
 * EWH_E_DISTRIBUTION and why. */
EWH_MUST_CHECK int ewh_fed_may_enter(enum ewh_distribution d,
                                     const char *origin_region,
                                     const char *const *path, size_t n_path,
                                     const char *dest, bool dest_peers_origin,
                                     struct ewh_err *err);

#endif
