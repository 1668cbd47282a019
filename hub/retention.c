/* retention.c — remove final envelopes after the configured period. */
#include "retention.h"

#include "ewh/log.h"
#include "ewh/util.h"

#define S_MAX_INTERVAL_MS 60000
#define S_BATCH           2000 /* envelopes per statement */
#define S_MAX_BATCHES     8    /* statements per run */

static int64_t s_next_ms;

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
    int64_t now = ewh_now(), dbefore = 0, ebefore = 0;
    size_t n = 0, total = 0;
    int i;

    if (cfg->retention_delivered_s == 0 && cfg->retention_expired_s == 0)
        return;
    if (now_ms < s_next_ms)
        return;
    s_next_ms = now_ms + s_interval_ms(cfg);
    if (cfg->retention_delivered_s > 0)
        dbefore = now - cfg->retention_delivered_s;
    if (cfg->retention_expired_s > 0)
        ebefore = now - cfg->retention_expired_s;
    for (i = 0; i < S_MAX_BATCHES; i++) {
        if (hub_store_retention_sweep(st, dbefore, ebefore, S_BATCH, &n,
                                      &err) != 0) {
            ewh_log_warnx("retention: %s", err.reason);
            break;
        }
        total += n;
        if (n < S_BATCH)
            break;
    }
    if (total > 0)
        ewh_log_info("retention: removed %zu envelopes (audit chain kept)",
                     total);
}
