/* gauges.c — read figures for /metrics: nodes, roster, disk, audit. */
#include "gauges.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "ewh/log.h"
#include "ewh/util.h"

static void
s_node(hub_metrics_t *m, hub_store_t *st, const ewh_roster_t *r,
       struct hub_peer *n, const char *cc)
{
    struct hub_metrics_node mn;
    struct ewh_err err = {0};
    uint64_t q[4] = {0};
    bool rev = false;
    int l;

    memset(&mn, 0, sizeof(mn));
    snprintf(mn.cc, sizeof(mn.cc), "%.2s", cc);
    mn.enrolled = ewh_roster_find(r, cc, &rev) != NULL && !rev;
    if (n != NULL) {
        mn.connected = n->connected;
        mn.roster_known = n->roster_known;
        mn.roster_version = n->roster_version;
        mn.last_frame = n->last_seen;
        mn.in_flight = hub_seqset_size(n->inflight);
    }
    if (hub_store_queued_levels(st, cc, q, &err) != 0)
        ewh_log_debug("gauges: %s: %s", cc, err.reason);
    for (l = 1; l <= 3; l++)
        if (q[l] > 0 &&
            hub_store_queue_oldest_of(st, cc, l, &mn.oldest[l], &err) != 0)
            ewh_log_debug("gauges: %s: %s", cc, err.reason);
    if (hub_store_receipts_waiting(st, cc, &mn.receipts, &err) != 0)
        ewh_log_debug("gauges: %s: %s", cc, err.reason);
    hub_metrics_node(m, &mn);
}

void
hub_gauges_refresh(hub_metrics_t *m, hub_peers_t *p, const ewh_roster_t *r,
                   hub_store_t *st, const char *path)
{
    struct ewh_err err = {0};
    struct statvfs vfs;
    struct stat sb;
    uint64_t db = 0, wal = 0, fs_size = 0, fs_avail = 0;
    int64_t at = 0, ok = 0;
    char walpath[4096 + 8], dir[4096], *slash;
    size_t i;

    hub_metrics_hub(m, ewh_now(), ewh_roster_version(r));
    /* Every country of the roster (a node that never connected is as
     * disconnected as one that left), and any other the loop knows. */
    for (i = 0; i < ewh_roster_count(r); i++) {
        const struct ewh_pubid *id = ewh_roster_at(r, i, NULL);
        s_node(m, st, r, hub_peers_get(p, id->country, false), id->country);
    }
    for (i = 0; i < hub_peers_count(p); i++) {
        struct hub_peer *n = hub_peers_at(p, i);
        if (ewh_roster_find(r, n->cc, NULL) == NULL)
            s_node(m, st, r, n, n->cc);
    }
    if (stat(path, &sb) == 0)
        db = (uint64_t)sb.st_size;
    snprintf(walpath, sizeof(walpath), "%s-wal", path);
    if (stat(walpath, &sb) == 0)
        wal = (uint64_t)sb.st_size;
    snprintf(dir, sizeof(dir), "%s", path);
    if ((slash = strrchr(dir, '/')) != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    if (statvfs(dir, &vfs) == 0) {
        fs_size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
        fs_avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    hub_metrics_disk(m, db, wal, fs_size, fs_avail);
    if (hub_store_meta_get(st, "audit_verified_at", &at, &err) != 0 ||
        hub_store_meta_get(st, "audit_verified_ok", &ok, &err) != 0)
        ewh_log_debug("gauges: %s", err.reason);
    hub_metrics_audit_verify(m, at, ok == 1);
}

static void
s_seed(void *ctx, int kind, int level, const char *code, uint64_t n)
{
    hub_metrics_seed(ctx, kind, level, code, n);
}

int
hub_gauges_seed(hub_metrics_t *m, hub_store_t *st, struct ewh_err *err)
{
    int64_t since = 0;

    if (hub_store_meta_get(st, "counters_since", &since, err) != 0 ||
        hub_store_counters(st, s_seed, m, err) != 0)
        return -1;
    hub_metrics_counters_since(m, since);
    return 0;
}
