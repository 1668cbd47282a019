/* status.c — what the loop shows: DIR/status.json (read by `ewhub
 * status`) and the gauges of /metrics. */
#include "hubint.h"
#include "gauges.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ewh/keyfile.h"
#include "ewh/log.h"

void
hub_status_write(struct hub *h)
{
    char path[4096], *buf = NULL;
    size_t len = 0, i;
    FILE *f;
    struct ewh_err err = {0};

    if ((f = open_memstream(&buf, &len)) == NULL)
        return;
    fprintf(
        f,
        "{\"pid\": %ld, \"time\": %lld, \"endpoint\": \"%s\", "
        "\"roster_version\": %llu, \"audit_length\": %llu, "
        "\"accepted\": %llu, \"duplicate\": %llu, \"refused\": %llu, "
        "\"delivered\": %llu, \"expired\": %llu, \"zap_refused\": %llu, "
        "\"bad_frames\": %llu, \"receipts\": %llu, \"audit_behind\": %llu, "
        "\"stalled\": %llu, \"log_suppressed\": %llu, \"requests_dropped\": "
        "%llu, \"started\": %lld, \"nodes\": {",
        (long)getpid(), (long long)ewh_now(), h->conn.endpoint,
        (unsigned long long)ewh_roster_version(h->ros.roster),
        (unsigned long long)h->chain.len, (unsigned long long)h->n.accepted,
        (unsigned long long)h->n.duplicate, (unsigned long long)h->n.refused,
        (unsigned long long)h->n.delivered, (unsigned long long)h->n.expired,
        (unsigned long long)h->n.zap_refused,
        (unsigned long long)h->n.bad_frames, (unsigned long long)h->n.receipts,
        (unsigned long long)h->n.audit_behind, (unsigned long long)h->n.stalled,
        (unsigned long long)ewh_log_suppressed(),
        (unsigned long long)h->n.req_dropped, (long long)h->started);
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        uint64_t q[4] = {0};
        int64_t oldest = 0;
        /* The queue as the lanes count it, so that `ewhub status` need
         * not scan the fan-out rows while the hub runs (issue 19). */
        int64_t ol[4] = {0};
        bool have = hub_store_queued_levels(h->st, n->cc, q, &err) == 0 &&
                    hub_store_queue_oldest(h->st, n->cc, &oldest, &err) == 0;
        int l;
        /* ... and by level (issue 20: the oldest high report). */
        for (l = 1; l <= 3 && have; l++)
            have = q[l] == 0 || hub_store_queue_oldest_of(h->st, n->cc, l,
                                                          &ol[l], &err) == 0;
        fprintf(f,
                "%s\"%s\": {\"connected\": %s, \"last_seen\": %lld, "
                "\"in_flight\": %zu, \"credit\": %u, "
                "\"connected_since\": %lld, \"checkpoint_ahead\": %llu, "
                "\"roster_version\": %lld",
                i ? ", " : "", n->cc, n->connected ? "true" : "false",
                (long long)n->last_seen, hub_seqset_size(n->inflight),
                n->credit, (long long)(n->connected ? n->connected_at : 0),
                (unsigned long long)n->ckpt_ahead,
                n->roster_known ? (long long)n->roster_version : -1LL);
        if (have)
            fprintf(f,
                    ", \"queued\": {\"low\": %llu, \"medium\": %llu, "
                    "\"high\": %llu}, \"oldest_queued_at\": %lld",
                    (unsigned long long)q[1], (unsigned long long)q[2],
                    (unsigned long long)q[3], (long long)oldest);
        if (have)
            fprintf(f,
                    ", \"oldest\": {\"low\": %lld, \"medium\": %lld, "
                    "\"high\": %lld}",
                    (long long)ol[1], (long long)ol[2], (long long)ol[3]);
        fprintf(f, "}");
    }
    fprintf(f, "}}\n");
    fclose(f);
    snprintf(path, sizeof(path), "%s/status.json", h->a->dir);
    if (ewh_keyfile_write(path, buf, len, 0644, &err) != 0)
        ewh_log_debug("router: status file: %s", err.reason);
    free(buf);
}

void
hub_status_gauges(struct hub *h)
{
    struct ewh_err err = {0};
    unsigned conn = 0, enrolled = 0;
    struct hub_wal_stats ws;
    uint64_t q[4];
    size_t i;

    hub_metrics_queue_clear(h->m);
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        conn += n->connected;
        if (hub_store_queued_levels(h->st, n->cc, q, &err) != 0) {
            ewh_log_warnx("router: queue of %s: %s", n->cc, err.reason);
            continue;
        }
        hub_metrics_queue(h->m, n->cc, q);
    }
    for (i = 0; i < ewh_roster_count(h->ros.roster); i++) {
        bool rev = false;
        (void)ewh_roster_at(h->ros.roster, i, &rev);
        enrolled += !rev;
    }
    hub_metrics_nodes(h->m, conn, enrolled);
    hub_metrics_audit_length(h->m, h->chain.len);
    hub_store_wal_stats(h->st, &ws);
    hub_metrics_wal(h->m, ws.checkpoints, ws.failed, ws.wal_pages);
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/store.db", h->a->dir);
        hub_gauges_refresh(h->m, h->peers, h->ros.roster, h->st, path);
    }
}
