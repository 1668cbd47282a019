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
    /* [hub] region: the region this hub serves (docs/federation.md) */
    char region[EWH_MAX_REGION_BYTES + 1];
    uint32_t max_frame_bytes;      /* [limits] max_frame_bytes */
    uint32_t max_inflight_submits; /* [limits] max_inflight_submits */
    uint32_t submits_per_s;        /* [limits] submits_per_second */
    uint32_t max_queue;            /* [limits] max_queue */
    uint64_t store_max_pages;      /* [store] max_pages, 0: no limit */
    char cats[EWH_MAX_CATEGORIES][EWH_MAX_CATEGORY_BYTES + 1];
    size_t n_cats;                  /* [roster] categories, 0: defaults */
    int64_t retention_delivered_s;  /* [retention] delivered, 0: never */
    int64_t retention_expired_s;    /* [retention] expired, 0: never */
    char metrics[HUB_MAX_ENDPOINT]; /* [monitor] metrics HOST:PORT, "": off */
    uint64_t events_keep;           /* [monitor] events_keep, 0: keep all */
    int64_t stall_resend_s;         /* [limits] stall_resend, 0: never */
    uint32_t recipient_bytes;       /* [limits] recipient_bytes */
    uint32_t origin_bytes;          /* [limits] origin_bytes */
    uint32_t high_reserve_pct;      /* [limits] high_reserve_percent */
};

#define HUB_DEFAULT_RETENTION_S (30 * 86400)
/* The longest duration a config key takes (a typo guard, not a policy). */
#define HUB_MAX_DURATION_S      (100LL * 365 * 86400)
#define HUB_DEFAULT_EVENTS_KEEP 100000u /* [monitor] events_keep */

/* A command-line override: one "section.name = value" applied after the
 * file (flags win over the file). */
struct hub_config_override {
    const char *flag; /* for errors: "--flag: reason" */
    const char *section;
    const char *name;
    const char *value;
};

/* Fill c with the defaults. */
void hub_config_defaults(struct hub_config *c);

/* Load path into c (over the defaults).  A missing file is an error. */
EWH_MUST_CHECK int hub_config_load(const char *path, struct hub_config *c,
                                   struct ewh_err *err);

/* Set one key (the same checks as in the file).  -1 with err (no file or
 * line) for an unknown key or a bad value. */
EWH_MUST_CHECK int hub_config_set(struct hub_config *c, const char *section,
                                  const char *name, const char *value,
                                  struct ewh_err *err);

/* Defaults, then path, then the n overrides; the whole result or nothing
 * (c is untouched on error).  Errors: "FILE:LINE: reason" for the file,
 * "--flag: reason" for an override. */
EWH_MUST_CHECK int hub_config_load_all(const char *path, struct hub_config *c,
                                       const struct hub_config_override *ov,
                                       size_t n, struct ewh_err *err);

/* Parse a duration: "0" or "never" (0), or N followed by s, m, h or d
 * ("30d", "2s").  A bare number is seconds. */
EWH_MUST_CHECK int hub_config_duration(const char *name, const char *value,
                                       int64_t *out, struct ewh_err *err);

/* The commented config file that `ewhub init` writes (static text). */
const char *hub_config_template(void);

#endif
