/* deliver.c — what goes out to the nodes unasked: deliveries within each
 * peer's credit and level windows, the relays owed to origins (receipts,
 * notices), and the expiry of deliveries nobody fetched in time (with
 * the Notice{EXPIRED} owed to the origin). */
#include "hubint.h"

#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "ewh/log.h"

struct s_fill {
    struct hub *h;
    struct hub_peer *n;
    size_t free;
    size_t low, nonhigh;         /* in flight now */
    size_t low_cap, nonhigh_cap; /* at most */
    uint64_t byte_cap;           /* non-high bytes in flight, at most */
    int64_t now;
    bool stop;
};

/* hub_skip_fn: a delivery in flight is not sent (nor expired) again. */
static bool
s_in_flight(void *ctx, const char *cc, uint64_t seq)
{
    struct hub *h = ctx;
    struct hub_peer *n = hub_peers_get(h->peers, cc, false);

    return n != NULL && hub_seqset_has(n->inflight, seq);
}

/* The first send into an empty window starts the stall clock. */
static void
s_window_opens(struct hub_peer *n)
{
    if (hub_seqset_size(n->inflight) == 0 && hub_seqset_size(n->relays) == 0)
        n->progress_ms = ewh_mono_ms();
}

static int
s_fill_one(void *ctx, const struct hub_qrow *row)
{
    struct s_fill *c = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Deliver d = EWH__DELIVER__INIT;

    if (c->free == 0)
        return 1;
    if (hub_seqset_has(c->n->inflight, row->seq))
        return 0;
    if (row->expires_at != 0 && row->expires_at <= c->now) {
        c->h->expire_due = true;
        return 0;
    }
    /* A session's deliveries in flight are bounded in bytes too, so that
     * a node that does not read holds at most EWH_HUB_INFLIGHT_BYTES of
     * the hub's memory (one always goes, whatever its size). */
    if (hub_seqset_size(c->n->inflight) > 0 &&
        hub_seqset_bytes(c->n->inflight) + row->env_len >
            EWH_HUB_INFLIGHT_BYTES)
        return 1;
    /* Rows come high first: a full level window ends the walk. */
    if (row->level != EWH_LEVEL_HIGH && c->nonhigh >= c->nonhigh_cap)
        return 1;
    if (row->level != EWH_LEVEL_HIGH && c->nonhigh > 0 &&
        c->n->link.bytes + row->env_len > c->byte_cap)
        return 1;
    if (row->level == EWH_LEVEL_LOW && c->low >= c->low_cap)
        return 1;
    d.seq = row->seq;
    d.envelope.data = (uint8_t *)row->env;
    d.envelope.len = row->env_len;
    f.msg_case = EWH__FRAME__MSG_DELIVER;
    f.deliver = &d;
    if (hub_conn_send(c->h, c->n->rid, c->n->rid_len, &f) != 0) {
        if (zmq_errno() == EHOSTUNREACH) {
            ewh_log_info("router: %s unreachable", c->n->cc);
            if (hub_peer_conn_gone(c->n, -1, c->n->rid, c->n->rid_len) == 0)
                hub_peer_disconnect(c->n);
        }
        c->stop = true;
        return 1;
    }
    s_window_opens(c->n);
    if (hub_seqset_add_sized(c->n->inflight, row->seq, (unsigned)row->level,
                             (uint32_t)row->env_len) != 0) {
        c->stop = true;
        return 1;
    }
    c->free--;
    if (c->n->link.probe_seq == 0) {
        c->n->link.probe_seq = row->seq;
        c->n->link.probe_ms = ewh_mono_ms();
    }
    if (row->level != EWH_LEVEL_HIGH) {
        c->n->link.bytes += row->env_len;
        c->n->link.n++;
    }
    if (row->level != EWH_LEVEL_HIGH)
        c->nonhigh++;
    if (row->level == EWH_LEVEL_LOW)
        c->low++;
    return 0;
}

static int
s_relay_one(void *ctx, const struct hub_relay *r)
{
    struct s_fill *c = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ReceiptRelay rr = EWH__RECEIPT_RELAY__INIT;
    Ewh__Receipt *rc = NULL;
    Ewh__Notice *nt = NULL;
    int sent;

    if (c->free == 0)
        return 1;
    if (hub_seqset_has(c->n->relays, r->seq))
        return 0;
    /* Relays in flight are bounded in bytes too (one always goes). */
    if (hub_seqset_size(c->n->relays) > 0 &&
        hub_seqset_bytes(c->n->relays) + r->len > EWH_HUB_RELAY_BYTES)
        return 1;
    if (r->kind == HUB_RELAY_RECEIPT) {
        if ((rc = ewh__receipt__unpack(NULL, r->len, r->payload)) == NULL)
            return 0;
        rr.seq = r->seq;
        rr.receipt = rc;
        f.msg_case = EWH__FRAME__MSG_RECEIPT_RELAY;
        f.receipt_relay = &rr;
    } else {
        if ((nt = ewh__notice__unpack(NULL, r->len, r->payload)) == NULL)
            return 0;
        nt->seq = r->seq;
        f.msg_case = EWH__FRAME__MSG_NOTICE;
        f.notice = nt;
    }
    sent = hub_conn_send(c->h, c->n->rid, c->n->rid_len, &f);
    if (rc != NULL)
        ewh__receipt__free_unpacked(rc, NULL);
    if (nt != NULL)
        ewh__notice__free_unpacked(nt, NULL);
    if (sent != 0) {
        c->stop = true;
        return 1;
    }
    s_window_opens(c->n);
    if (hub_seqset_add_sized(c->n->relays, r->seq, 0, (uint32_t)r->len) != 0) {
        c->stop = true;
        return 1;
    }
    c->free--;
    return 0;
}

/* ---- the byte window ---- */

/* Non-high bytes n may have in flight, on a link of at least
 * EWH_HUB_WAN_RTT_MS: its delivery rate times (its shortest round trip +
 * EWH_HUB_QUEUE_TARGET_MS), at least EWH_HUB_WINDOW_MIN_BYTES, which is
 * also the window until the round trip (one delivery's) and the rate are
 * measured.  On a fast link this is far above
 * the count windows; on a slow one it keeps the bytes ahead of a new high
 * report to about EWH_HUB_QUEUE_TARGET_MS of the link. */
static uint64_t
s_byte_cap(const struct hub_link *l)
{
    double cap;

    if (l->have_rtt && l->rtt_ms < EWH_HUB_WAN_RTT_MS)
        return UINT64_MAX; /* a LAN: the count windows alone */
    if (!l->have_rtt || l->rate <= 0)
        return EWH_HUB_WINDOW_MIN_BYTES;
    cap = l->rate * (double)(l->rtt_ms + EWH_HUB_QUEUE_TARGET_MS);
    return cap < EWH_HUB_WINDOW_MIN_BYTES ? EWH_HUB_WINDOW_MIN_BYTES
                                          : (uint64_t)cap;
}

void
hub_deliver_acked(struct hub_peer *n, uint64_t seq, unsigned level)
{
    struct hub_link *l = &n->link;
    int64_t now = ewh_mono_ms();
    uint64_t size = 0;

    if (level != EWH_LEVEL_HIGH && l->n > 0) {
        size = l->bytes / l->n; /* sizes are not kept per delivery */
        l->bytes -= size;
        l->n--;
        if (l->n == 0)
            l->bytes = 0;
    }
    if (l->probe_seq != 0 &&
        (seq == l->probe_seq || now - l->probe_ms > EWH_HUB_RTT_PERIOD_MS)) {
        int64_t rtt = now - l->probe_ms;
        if (seq == l->probe_seq &&
            (!l->have_rtt || rtt < l->rtt_ms ||
             now - l->rtt_at_ms > EWH_HUB_RTT_PERIOD_MS)) {
            l->rtt_ms = rtt;
            l->rtt_at_ms = now;
            l->have_rtt = true;
        }
        l->probe_seq = 0;
    }
    if (l->rate_at_ms == 0)
        l->rate_at_ms = now;
    l->acked += size;
    if (now - l->rate_at_ms >= EWH_HUB_RATE_PERIOD_MS) {
        /* The best rate of the last few periods: a period the window
         * itself or a slow turn of the node held back must not shrink
         * the window further. */
        double r = (double)l->acked / (double)(now - l->rate_at_ms);
        if (l->acked > 0)
            l->rate = r > l->rate * 0.9 ? r : l->rate * 0.9;
        l->acked = 0;
        l->rate_at_ms = now;
    }
}

/* Deliveries to n within its credit and its level windows. */
static void
s_fill_deliveries(struct hub *h, struct hub_peer *n, struct s_fill *c)
{
    struct ewh_err err = {0};
    size_t in_flight = hub_seqset_size(n->inflight), by_level[4];
    uint64_t queued = 0;

    if (n->credit <= in_flight)
        return;
    if (hub_store_queued(h->st, n->cc, &queued, &err) != 0) {
        ewh_log_warnx("router: cannot read queue of %s: %s", n->cc, err.reason);
        return;
    }
    if (queued <= in_flight)
        return;
    c->free = n->credit - in_flight;
    c->low_cap =
        n->credit < EWH_HUB_LOW_WINDOW ? n->credit : EWH_HUB_LOW_WINDOW;
    c->nonhigh_cap =
        n->credit < EWH_HUB_NONHIGH_WINDOW ? n->credit : EWH_HUB_NONHIGH_WINDOW;
    hub_seqset_tag_counts(n->inflight, by_level);
    c->low = by_level[EWH_LEVEL_LOW];
    c->nonhigh = in_flight - by_level[EWH_LEVEL_HIGH];
    /* Deliveries that left the set otherwise (expiry, a resend) leave
     * their share of the bytes. */
    if (n->link.n > c->nonhigh) {
        n->link.bytes =
            c->nonhigh > 0 ? n->link.bytes / n->link.n * c->nonhigh : 0;
        n->link.n = c->nonhigh;
    }
    c->byte_cap = s_byte_cap(&n->link);
    if (hub_store_queue_walk(h->st, n->cc, in_flight + c->free, s_in_flight, h,
                             s_fill_one, c, &err) != 0)
        ewh_log_warnx("router: cannot read queue of %s: %s", n->cc, err.reason);
}

/* Relays owed to n as origin, within its credit. */
static void
s_fill_relays(struct hub *h, struct hub_peer *n, struct s_fill *c)
{
    struct ewh_err err = {0};
    size_t in_flight = hub_seqset_size(n->relays);

    if (n->credit <= in_flight)
        return;
    c->free = n->credit - in_flight;
    if (hub_store_relay_walk(h->st, n->cc, in_flight + c->free, s_relay_one, c,
                             &err) != 0)
        ewh_log_warnx("router: cannot read relays of %s: %s", n->cc,
                      err.reason);
}

void
hub_deliver_fill(struct hub *h)
{
    size_t i;

    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        struct s_fill c = {.h = h, .n = n, .now = ewh_now()};
        if (!n->connected || !n->want_fill)
            continue;
        n->want_fill = false;
        s_fill_deliveries(h, n, &c);
        if (!n->connected || c.stop)
            continue;
        s_fill_relays(h, n, &c);
    }
}

/* ---- expiry ---- */

/* hub_expired_fn, inside the sweep's transaction: queue the
 * Notice{EXPIRED} owed to the origin, count, log. */
static int
s_on_expired(void *ctx, const char *cc, const uint8_t id[EWH_ID_BYTES],
             const char *origin, int64_t now, struct ewh_err *err)
{
    struct hub *h = ctx;
    Ewh__Notice nt = EWH__NOTICE__INIT;
    struct hub_peer *on;
    struct hub_event *ev;
    char hex[EWH_ID_HEX];
    uint8_t buf[256];
    size_t len;

    nt.id.data = (uint8_t *)id;
    nt.id.len = EWH_ID_BYTES;
    nt.country = (char *)cc;
    nt.kind = EWH__NOTICE_KIND__NOTICE_EXPIRED;
    nt.at = now;
    nt.reason = (char *)"expired before delivery";
    len = ewh__notice__get_packed_size(&nt);
    EWH_ASSERT(len <= sizeof(buf));
    ewh__notice__pack(&nt, buf);
    /* A foreign origin is told across the link its report came on
     * (fed.c, docs/federation.md). */
    if (hub_fed_region_of(h, origin) != NULL) {
        if (hub_fed__notice(h, id, origin, cc, EWH__NOTICE_KIND__NOTICE_EXPIRED,
                            "expired before delivery", now, err) != 0)
            return -1;
    } else if (hub_store_relay_add(h->st, origin, HUB_RELAY_NOTICE, buf, len,
                                   err) != 0)
        return -1;
    h->n.expired++;
    hub_metrics_expired(h->m);
    if ((ev = hub_event_new(h, HUB_EV_EXPIRED, origin, id)) != NULL)
        snprintf(ev->recipients, sizeof(ev->recipients), "%.2s", cc);
    ewh_log_info("router: expired id=%s to=%s origin=%s", hub_idhex(id, hex),
                 cc, origin);
    if ((on = hub_peers_get(h->peers, origin, true)) != NULL)
        on->want_fill = true;
    return 0;
}

void
hub_deliver_expire(struct hub *h)
{
    struct ewh_err err = {0};
    size_t n = 0;

    h->expire_due = false;
    if (hub_store_begin(h->st, &err) != 0 ||
        hub_store_expire(h->st, ewh_now(), s_in_flight, s_on_expired, h, &n,
                         &err) != 0 ||
        hub_store_commit(h->st, &err) != 0) {
        hub_store_rollback(h->st);
        ewh_log_warnx("router: expiry sweep failed: %s", err.reason);
        return;
    }
    if (n >= HUB_EXPIRE_ROWS)
        h->expire_due = true;
}

/* The stalled-session rule: a live session on which deliveries (or
 * relays) wait unacknowledged past stall_resend while nothing at all was
 * acknowledged is not left to a reconnect that may never come (a recipient
 * whose disk was full and is not any more, a lost ack): its windows are
 * emptied and everything is sent again.  A node drops what it already
 * holds (ids are unique) and acknowledges it. */
void
hub_deliver_stalled(struct hub *h)
{
    int64_t now = ewh_mono_ms(), lim = h->cfg->stall_resend_s * 1000;
    size_t i, nd, nr;

    if (lim <= 0)
        return;
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        nd = hub_seqset_size(n->inflight);
        nr = hub_seqset_size(n->relays);
        if (!n->connected || nd + nr == 0 || now - n->progress_ms < lim)
            continue;
        ewh_log_warnx("router: %s: stalled session: %zu deliveries and %zu "
                      "relays unacknowledged for %lld s; sending them again",
                      n->cc, nd, nr,
                      (long long)((now - n->progress_ms) / 1000));
        h->n.stalled += nd + nr;
        hub_metrics_stalled(h->m, nd + nr);
        hub_seqset_clear(n->inflight);
        hub_seqset_clear(n->relays);
        n->progress_ms = now;
        n->want_fill = true;
        h->status_due = true;
    }
}
