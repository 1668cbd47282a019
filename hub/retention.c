/* retention.c — remove final envelopes after the configured period. */
#include "retention.h"

#include "ewh/log.h"
#include "ewh/util.h"

#define S_MAX_INTERVAL_MS 60000
/* The sweep runs in slices on the hub's loop thread: S_SLICE envelopes
 * (by rowid) every S_SLICE_MS, so that one slice costs a few milliseconds
 * and never stalls acknowledgements or deliveries, however large the store
 * (a whole-table sweep took ~5 s per 100,000 envelopes).  A pass over
 * 100,000 envelopes takes about two minutes; the next pass starts one
 * interval after the previous one began. */
#define S_SLICE    128
#define S_SLICE_MS 100

static int64_t s_next_ms;     /* when the next slice may run */
static int64_t s_pass_ms;     /* when the next pass may start */
static int64_t s_cursor;      /* rowid the next slice starts after */
static size_t s_pass_removed; /* envelopes emptied in this pass */

static int64_t
s_interval_ms(const struct hub_config *cfg)
{
    int64_t p = 0, ms;

    if (cfg->retention_delivered_s > 0)
        p = cfg->retention_delivered_s;
    if (cfg->retention_expired_s > 0 &&
        (p == 0 || cfg->retention_expired_s < p))
        p = cfg->retention_expired_s;
    ms = p * 1000 / 4;
    if (ms > S_MAX_INTERVAL_MS)
        ms = S_MAX_INTERVAL_MS;
    if (ms < 1000)
        ms = 1000;
    return ms;
}

void
hub_retention_tick(hub_store_t *st, const struct hub_config *cfg,
                   int64_t now_ms)
{
    struct ewh_err err = {0};
    int64_t now = ewh_now(), dbefore = 0, ebefore = 0, next = 0;
    size_t n = 0;

    if (cfg->retention_delivered_s == 0 && cfg->retention_expired_s == 0)
        return;
    if (now_ms < s_next_ms)
        return;
    if (s_cursor == 0) {
        if (now_ms < s_pass_ms)
            return;
        s_pass_ms = now_ms + s_interval_ms(cfg);
        s_pass_removed = 0;
    }
    s_next_ms = now_ms + S_SLICE_MS;
    if (cfg->retention_delivered_s > 0)
        dbefore = now - cfg->retention_delivered_s;
    if (cfg->retention_expired_s > 0)
        ebefore = now - cfg->retention_expired_s;
    if (hub_store_retention_sweep(st, dbefore, ebefore, s_cursor, S_SLICE,
                                  &next, &n, &err) != 0) {
        ewh_log_warnx("retention: %s", err.reason);
        s_cursor = 0;
        return;
    }
    s_cursor = next;
    s_pass_removed += n;
    if (s_cursor == 0 && s_pass_removed > 0)
        ewh_log_info("retention: removed %zu envelopes (audit chain kept)",
                     s_pass_removed);
}
