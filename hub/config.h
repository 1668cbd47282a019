/*
 * config.h — the hub's configuration file, DIR/ewhub.conf (INI).
 *
 * Every key is optional; defaults come from limits.h.  Errors name the
 * file, the line and the reason ("ewhub.conf:12: max_queue = 0 outside
 * 1..10000000").  The full list of keys is in hub_config_template().
 */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/limits.h"

#define HUB_MAX_ENDPOINT 256

struct hub_config {
    char listen[HUB_MAX_ENDPOINT]; /* [hub] listen */
    uint32_t max_frame_bytes;      /* [limits] max_frame_bytes */
    uint32_t max_inflight_submits; /* [limits] max_inflight_submits */
    uint32_t submits_per_s;        /* [limits] submits_per_second */
    uint32_t max_queue;            /* [limits] max_queue */
    uint64_t store_max_pages;      /* [store] max_pages, 0: no limit */
    char cats[EWH_MAX_CATEGORIES][EWH_MAX_CATEGORY_BYTES + 1];
    size_t n_cats; /* [roster] categories, 0: defaults */
};

/* Fill c with the defaults. */
void hub_config_defaults(struct hub_config *c);

/* Load path into c (over the defaults).  A missing file is an error. */
EWH_MUST_CHECK int hub_config_load(const char *path, struct hub_config *c,
                                   struct ewh_err *err);

/* The commented config file that `ewhub init` writes (static text). */
const char *hub_config_template(void);

#endif
