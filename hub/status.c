/* status.c — what the loop shows: DIR/status.json (read by `ewhub
 * status`) and the gauges of /metrics. */
#include "hubint.h"
#include "gauges.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ewh/keyfile.h"
#include "ewh/log.h"

/* One node's entry of status.json; NULL when out of memory. */
static json_t *
s_node_json(struct hub *h, struct hub_peer *n)
{
    struct ewh_err err = {0};
    uint64_t q[4] = {0};
    int64_t oldest = 0, ol[4] = {0};
    json_t *o;
    bool have;
    int l;

    /* The queue as the lanes count it, so that `ewhub status` need not
     * scan the fan-out rows while the hub runs (issue 19), and the oldest
     * by level (issue 20: the oldest high report). */
    have = hub_store_queued_levels(h->st, n->cc, q, &err) == 0 &&
           hub_store_queue_oldest(h->st, n->cc, &oldest, &err) == 0;
    for (l = 1; l <= 3 && have; l++)
        have = q[l] == 0 ||
               hub_store_queue_oldest_of(h->st, n->cc, l, &ol[l], &err) == 0;
    o = json_pack(
        "{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "connected", n->connected,
        "last_seen", (json_int_t)n->last_seen, "in_flight",
        (json_int_t)hub_seqset_size(n->inflight), "credit",
        (json_int_t)n->credit, "connected_since",
        (json_int_t)(n->connected ? n->connected_at : 0), "checkpoint_ahead",
        (json_int_t)n->ckpt_ahead, "roster_version",
        n->roster_known ? (json_int_t)n->roster_version : (json_int_t)-1);
    if (o != NULL && have &&
        (json_object_set_new(
             o, "queued",
             json_pack("{s:I, s:I, s:I}", "low", (json_int_t)q[1], "medium",
                       (json_int_t)q[2], "high", (json_int_t)q[3])) != 0 ||
         json_object_set_new(o, "oldest_queued_at",
                             json_integer((json_int_t)oldest)) != 0 ||
         json_object_set_new(
             o, "oldest",
             json_pack("{s:I, s:I, s:I}", "low", (json_int_t)ol[1], "medium",
                       (json_int_t)ol[2], "high", (json_int_t)ol[3])) != 0))
        json_decref(o), o = NULL;
    return o;
}

void
hub_status_write(struct hub *h)
{
    char path[4096], *buf = NULL;
    struct ewh_err err = {0};
    json_t *root, *nodes;
    size_t i;

    /* Written with jansson, as `ewhub status` reads it. */
    root = json_pack(
        "{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
        " s:I, s:I, s:I, s:I, s:I, s:I}",
        "pid", (json_int_t)getpid(), "time", (json_int_t)ewh_now(), "endpoint",
        h->conn.endpoint, "roster_version",
        (json_int_t)ewh_roster_version(h->ros.roster), "audit_length",
        (json_int_t)h->chain.len, "accepted", (json_int_t)h->n.accepted,
        "duplicate", (json_int_t)h->n.duplicate, "refused",
        (json_int_t)h->n.refused, "delivered", (json_int_t)h->n.delivered,
        "expired", (json_int_t)h->n.expired, "zap_refused",
        (json_int_t)h->n.zap_refused, "bad_frames", (json_int_t)h->n.bad_frames,
        "receipts", (json_int_t)h->n.receipts, "audit_behind",
        (json_int_t)h->n.audit_behind, "stalled", (json_int_t)h->n.stalled,
        "log_suppressed", (json_int_t)ewh_log_suppressed(), "requests_dropped",
        (json_int_t)h->n.req_dropped, "answers_dropped",
        (json_int_t)h->gate.answers_dropped, "started", (json_int_t)h->started);
    nodes = json_object();
    if (root == NULL || nodes == NULL ||
        json_object_set(root, "nodes", nodes) != 0)
        goto nomem;
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        if (json_object_set_new(nodes, n->cc, s_node_json(h, n)) != 0)
            goto nomem;
    }
    /* docs/federation.md: the links, their counters, the regions. */
    if (json_object_set_new(root, "federation", hub_fed_status_json(h)) != 0)
        goto nomem;
    if ((buf = json_dumps(root, JSON_COMPACT)) == NULL)
        goto nomem;
    snprintf(path, sizeof(path), "%s/status.json", h->a->dir);
    if (ewh_keyfile_write(path, buf, strlen(buf), 0644, &err) != 0)
        ewh_log_debug("router: status file: %s", err.reason);
    goto out;
nomem:
    ewh_log_warnx("router: status file: out of memory");
out:
    free(buf);
    json_decref(nodes);
    json_decref(root);
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
    hub_metrics_fed(h->m, hub_fed_metrics_text(h));
    hub_store_wal_stats(h->st, &ws);
    hub_metrics_wal(h->m, ws.checkpoints, ws.failed, ws.wal_pages);
    {
        char path[4096];
        snprintf(path, sizeof(path), "%s/store.db", h->a->dir);
        hub_gauges_refresh(h->m, h->peers, h->ros.roster, h->st, path);
    }
}
