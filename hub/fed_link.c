/* fed_link.c — our federation links (issue 22): a DEALER per peer hub,
 * connected to its ROUTER with CURVE and this hub's own key, on which
 * this hub is the sender, as a node is on its link: FedHello, the
 * rosters, Transfers within the window (high first) and the receipts
 * owed to that peer; TransferAck and ReceiptAck come back and are stored
 * with the next batch (hub_fed_write) before the window moves on.  A
 * transfer unacknowledged when the link drops is sent again on the next
 * connection; the receiver knows it by its id. */
#include "hubint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ewh/frame.h"
#include "ewh/log.h"

static unsigned s_mon_gen;

void
hub_fed_link_close(struct hub_fed_link *l)
{
    int zero = 0;

    if (l->sock != NULL) {
        (void)zmq_socket_monitor(l->sock, NULL, 0);
        zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(l->sock);
        l->sock = NULL;
    }
    if (l->mon != NULL) {
        zmq_setsockopt(l->mon, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(l->mon);
        l->mon = NULL;
    }
    l->up = false;
    if (l->inflight != NULL)
        hub_seqset_clear(l->inflight);
    if (l->rflight != NULL)
        hub_seqset_clear(l->rflight);
}

int
hub_fed_link_open(struct hub *h, struct hub_fed_link *l, struct ewh_err *err)
{
    const struct ewh_pubid *me = ewh_secret_pubid(h->a->key);
    int one = 1, zero = 0, hb = EWH_FED_HEARTBEAT_MS,
        ttl = 3 * EWH_FED_HEARTBEAT_MS, ivl = EWH_FED_RETRY_MIN_MS,
        ivlmax = EWH_FED_RETRY_MAX_MS, hwm = 4 * EWH_FED_WINDOW;
    int64_t maxmsg = EWH_MAX_FRAME_BYTES + 1024;
    char monep[64];

    hub_fed_link_close(l);
    if ((l->sock = zmq_socket(h->zctx, ZMQ_DEALER)) == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq_socket: %s",
                           zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, l->p.curve, 32) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, me->curve, 32) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY,
                       ewh_secret_curve_sk(h->a->key), 32) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof(ttl)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof(ttl)) !=
            0 ||
        zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL_MAX, &ivlmax,
                       sizeof(ivlmax)) != 0)
        return ewh_err_set(err, EWH_E_IO, "link options: %s",
                           zmq_strerror(zmq_errno()));
    snprintf(monep, sizeof(monep), "inproc://ewhub-fed-%u", s_mon_gen++);
    if (zmq_socket_monitor(l->sock, monep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (l->mon = zmq_socket(h->zctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(l->mon, monep) != 0)
        return ewh_err_set(err, EWH_E_IO, "link monitor: %s",
                           zmq_strerror(zmq_errno()));
    if (zmq_connect(l->sock, l->p.endpoint) != 0)
        return ewh_err_set(err, EWH_E_IO, "connect %s: %s", l->p.endpoint,
                           zmq_strerror(zmq_errno()));
    l->reopen_ms = 0;
    if (l->moved_ms == 0)
        l->moved_ms = ewh_mono_ms();
    ewh_log_info("fed: connecting to %s at %s", l->p.region, l->p.endpoint);
    return 0;
}

/* ---- sending ---- */

static int
s_send(struct hub_fed_link *l, const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (l->sock == NULL || !l->up)
        return -1;
    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("fed: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return -1;
    }
    rc = zmq_send(l->sock, buf, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
    free(buf);
    return rc;
}

void
hub_fed_rosters_to_link(struct hub *h, struct hub_fed_link *l)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ForeignRoster fr = EWH__FOREIGN_ROSTER__INIT;
    char *path[1];
    size_t i;

    if (!l->up || h->ros.buf == NULL)
        return;
    path[0] = (char *)h->cfg->region;
    fr.region = (char *)h->cfg->region;
    fr.signed_roster.data = h->ros.buf;
    fr.signed_roster.len = h->ros.len;
    fr.hub_key.data = (uint8_t *)ewh_secret_pubid(h->a->key)->sign;
    fr.hub_key.len = 32;
    fr.n_path = 1;
    fr.path = path;
    f.msg_case = EWH__FRAME__MSG_FOREIGN_ROSTER;
    f.foreign_roster = &fr;
    (void)s_send(l, &f);
    /* Onward: the regions known here that the peer is not on the path of
     * (nor is it that region), for reports of distribution all. */
    for (i = 0; i < h->fed.n_reg; i++) {
        const struct hub_fed_region *r = &h->fed.reg[i];
        char p[HUB_FED_PATH_BYTES + 2];
        snprintf(p, sizeof(p), ",%s,", r->path);
        {
            char me[EWH_MAX_REGION_BYTES + 3];
            snprintf(me, sizeof(me), ",%s,", l->p.region);
            if (strstr(p, me) != NULL || strcmp(r->name, l->p.region) == 0)
                continue;
        }
        hub_fed__foreign_to(h, r, l->sock);
    }
}

static void
s_hello(struct hub *h, struct hub_fed_link *l)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__FedHello m = EWH__FED_HELLO__INIT;

    m.version = 1;
    m.region = (char *)h->cfg->region;
    m.credit = EWH_FED_WINDOW;
    f.msg_case = EWH__FRAME__MSG_FED_HELLO;
    f.fed_hello = &m;
    (void)s_send(l, &f);
}

struct s_fill {
    struct hub *h;
    struct hub_fed_link *l;
    size_t free;
    bool stop;
};

static bool
s_in_flight(void *ctx, uint64_t seq)
{
    return hub_seqset_has(((struct s_fill *)ctx)->l->inflight, seq);
}

static void
s_window_opens(struct hub_fed_link *l)
{
    if (hub_seqset_size(l->inflight) == 0 && hub_seqset_size(l->rflight) == 0)
        l->moved_ms = ewh_mono_ms();
}

static int
s_fill_one(void *ctx, const struct hub_fed_qrow *r)
{
    struct s_fill *c = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Transfer t = EWH__TRANSFER__INIT;
    char buf[HUB_FED_PATH_BYTES], *save = NULL, *tok;
    char *path[EWH_MAX_FED_PATH];
    size_t n = 0;

    if (c->free == 0)
        return 1;
    snprintf(buf, sizeof(buf), "%s", r->path);
    for (tok = strtok_r(buf, ",", &save); tok != NULL && n < EWH_MAX_FED_PATH;
         tok = strtok_r(NULL, ",", &save))
        path[n++] = tok;
    t.seq = r->seq;
    t.envelope.data = (uint8_t *)r->env;
    t.envelope.len = r->env_len;
    t.n_path = n;
    t.path = path;
    f.msg_case = EWH__FRAME__MSG_TRANSFER;
    f.transfer = &t;
    s_window_opens(c->l);
    if (s_send(c->l, &f) != 0 ||
        hub_seqset_add(c->l->inflight, r->seq, (unsigned)r->level) != 0) {
        c->stop = true;
        return 1;
    }
    c->free--;
    return 0;
}

static int
s_relay_one(void *ctx, uint64_t seq, int kind, const uint8_t *buf, size_t len)
{
    struct s_fill *c = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ReceiptRelay rr = EWH__RECEIPT_RELAY__INIT;
    Ewh__Receipt *rc = NULL;
    Ewh__Notice *nt = NULL;
    int sent;

    if (c->free == 0)
        return 1;
    if (hub_seqset_has(c->l->rflight, seq))
        return 0;
    if (kind == HUB_RELAY_NOTICE) {
        /* A notice for a foreign origin, on towards its hub. */
        if ((nt = ewh__notice__unpack(NULL, len, buf)) == NULL)
            return 0;
        nt->seq = seq;
        f.msg_case = EWH__FRAME__MSG_NOTICE;
        f.notice = nt;
    } else {
        if ((rc = ewh__receipt__unpack(NULL, len, buf)) == NULL)
            return 0;
        rr.seq = seq;
        rr.receipt = rc;
        f.msg_case = EWH__FRAME__MSG_RECEIPT_RELAY;
        f.receipt_relay = &rr;
    }
    s_window_opens(c->l);
    sent = s_send(c->l, &f);
    if (rc != NULL)
        ewh__receipt__free_unpacked(rc, NULL);
    if (nt != NULL)
        ewh__notice__free_unpacked(nt, NULL);
    if (sent != 0 || hub_seqset_add(c->l->rflight, seq, 0) != 0) {
        c->stop = true;
        return 1;
    }
    c->free--;
    return 0;
}

void
hub_fed_fill(struct hub *h)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms();
    size_t i, inf;

    for (i = 0; i < h->fed.n_link; i++) {
        struct hub_fed_link *l = &h->fed.link[i];
        struct s_fill c = {.h = h, .l = l};
        if (!l->live || !l->up || !l->want_fill || now < l->retry_ms)
            continue;
        l->want_fill = false;
        inf = hub_seqset_size(l->inflight);
        if (inf < EWH_FED_WINDOW) {
            c.free = EWH_FED_WINDOW - inf;
            if (hub_store_fed_out_walk(h->st, l->p.region, inf + c.free,
                                       s_in_flight, &c, s_fill_one, &c,
                                       &err) != 0)
                ewh_log_warnx("fed: transfers for %s: %s", l->p.region,
                              err.reason);
        }
        inf = hub_seqset_size(l->rflight);
        if (c.stop || inf >= EWH_FED_WINDOW)
            continue;
        c.free = EWH_FED_WINDOW - inf;
        if (hub_store_fed_relay_walk(h->st, l->p.region, inf + c.free,
                                     s_relay_one, &c, &err) != 0)
            ewh_log_warnx("fed: receipts for %s: %s", l->p.region, err.reason);
    }
}

/* ---- what comes back ---- */

static void
s_ack(struct hub *h, struct hub_fed_link *l, uint64_t seq, bool receipt,
      enum hub_fed_out_state st)
{
    struct hub_fed *f = &h->fed;
    struct hub_fed_ack *a;

    a = hub_grow(f->ack, &f->cap_ack, f->n_ack + 1, sizeof(*f->ack));
    if (a == NULL) {
        /* Left in flight: sent again after a stall. */
        ewh_log_warnx("fed: out of memory: ack of %s seq=%llu dropped",
                      l->p.region, (unsigned long long)seq);
        return;
    }
    f->ack = a;
    a = &f->ack[f->n_ack++];
    a->link = (size_t)(l - f->link);
    a->seq = seq;
    a->receipt = receipt;
    a->state = st;
}

static void
s_on_tack(struct hub *h, struct hub_fed_link *l, const Ewh__TransferAck *a)
{
    char hex[EWH_ID_HEX] = "-";

    if (!hub_seqset_has(l->inflight, a->seq))
        return; /* from before a reconnect: it comes again */
    if (a->id.len == EWH_ID_BYTES)
        hub_idhex(a->id.data, hex);
    switch (a->status) {
    case EWH__ACK_STATUS__ACK_ACCEPTED:
        hub_fed_count(h, l->p.region, "sent", "", 1);
        s_ack(h, l, a->seq, false, HUB_FED_SENT);
        ewh_log_debug("fed: %s took id=%s", l->p.region, hex);
        break;
    case EWH__ACK_STATUS__ACK_DUPLICATE:
        hub_fed_count(h, l->p.region, "sent-duplicate", "", 1);
        s_ack(h, l, a->seq, false, HUB_FED_SENT);
        break;
    default:
        if (a->retry) {
            /* Busy, full: the window waits, then it goes again. */
            hub_seqset_del(l->inflight, a->seq, NULL);
            l->retry_ms = ewh_mono_ms() + EWH_FED_RETRY_MIN_MS;
            l->want_fill = true;
            ewh_log_info("fed: %s asks to retry id=%s: %s", l->p.region, hex,
                         a->reason != NULL ? a->reason : "");
            break;
        }
        hub_fed_count(h, l->p.region, "refused-by-peer",
                      ewh_errcode_name((enum ewh_errcode)a->code), 1);
        s_ack(h, l, a->seq, false, HUB_FED_REFUSED);
        ewh_log_warnx("fed: %s refused id=%s code=%s reason=\"%s\"",
                      l->p.region, hex,
                      ewh_errcode_name((enum ewh_errcode)a->code),
                      a->reason != NULL ? a->reason : "");
        break;
    }
}

static void
s_on_frame(struct hub *h, struct hub_fed_link *l, const uint8_t *buf,
           size_t len)
{
    struct ewh_err err = {0};
    ewh_frame_t *f = NULL;

    if (ewh_frame_decode(buf, len, &f, &err) != 0) {
        ewh_log_warnx("fed: bad frame from %s: %s", l->p.region, err.reason);
        return;
    }
    switch (f->msg_case) {
    case EWH__FRAME__MSG_TRANSFER_ACK:
        s_on_tack(h, l, f->transfer_ack);
        break;
    case EWH__FRAME__MSG_RECEIPT_ACK:
        if (hub_seqset_has(l->rflight, f->receipt_ack->seq)) {
            hub_fed_count(h, l->p.region,
                          f->receipt_ack->refused_code != 0
                              ? "receipts-refused-by-peer"
                              : "receipts-sent",
                          "", 1);
            s_ack(h, l, f->receipt_ack->seq, true, HUB_FED_SENT);
        }
        break;
    case EWH__FRAME__MSG_NOTICE_ACK:
        if (hub_seqset_has(l->rflight, f->notice_ack->seq)) {
            hub_fed_count(h, l->p.region, "notices-sent", "", 1);
            s_ack(h, l, f->notice_ack->seq, true, HUB_FED_SENT);
        }
        break;
    case EWH__FRAME__MSG_ERROR:
        ewh_log_warnx("fed: %s says: %s (%s)", l->p.region,
                      f->error->reason != NULL ? f->error->reason : "",
                      ewh_errcode_name((enum ewh_errcode)f->error->code));
        break;
    default:
        ewh_log_debug("fed: %s sent %s on our link: ignored", l->p.region,
                      ewh_frame_name(f));
        break;
    }
    ewh_frame_destroy(&f);
}

static void
s_read(struct hub *h, struct hub_fed_link *l)
{
    int budget = 4 * EWH_FED_WINDOW;
    zmq_msg_t m;

    while (budget-- > 0 && l->sock != NULL) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, l->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (!zmq_msg_more(&m))
            s_on_frame(h, l, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
}

static void
s_on_monitor(struct hub *h, struct hub_fed_link *l)
{
    zmq_msg_t m;
    uint16_t ev;
    int more;

    while (l->mon != NULL) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, l->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        more = zmq_msg_more(&m);
        ev = 0;
        if (zmq_msg_size(&m) >= 6)
            memcpy(&ev, zmq_msg_data(&m), 2);
        zmq_msg_close(&m);
        while (more) {
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, l->mon, 0) < 0)
                more = 0;
            else
                more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            l->up = true;
            l->up_at = ewh_now();
            l->backoff_ms = 0;
            hub_seqset_clear(l->inflight);
            hub_seqset_clear(l->rflight);
            l->moved_ms = ewh_mono_ms();
            l->hb_ms = ewh_mono_ms();
            l->want_fill = true;
            ewh_log_info("fed: link to %s up (%s)", l->p.region, l->p.endpoint);
            s_hello(h, l);
            hub_fed_rosters_to_link(h, l);
            h->status_due = true;
        } else if (ev == ZMQ_EVENT_DISCONNECTED) {
            if (l->up)
                ewh_log_info("fed: link to %s down (%zu transfers in flight "
                             "go again)",
                             l->p.region, hub_seqset_size(l->inflight));
            l->up = false;
            hub_seqset_clear(l->inflight);
            hub_seqset_clear(l->rflight);
            h->status_due = true;
        } else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                   ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            /* The peer has not enrolled this hub (yet), or has another key
             * for it: libzmq stops there, so the link is opened again
             * after a backoff. */
            l->backoff_ms = l->backoff_ms == 0 ? EWH_FED_RETRY_MIN_MS
                            : l->backoff_ms * 2 > EWH_FED_RETRY_MAX_MS
                                ? EWH_FED_RETRY_MAX_MS
                                : l->backoff_ms * 2;
            l->reopen_ms = ewh_mono_ms() + l->backoff_ms;
            l->up = false;
            ewh_log_warnx("fed: %s refused this hub's handshake (has it "
                          "enrolled us with `ewhub peer add`?); again in "
                          "%d ms",
                          l->p.region, l->backoff_ms);
        }
    }
}

size_t
hub_fed_poll_items(struct hub *h, zmq_pollitem_t *it, size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < h->fed.n_link && n + 2 <= cap; i++) {
        struct hub_fed_link *l = &h->fed.link[i];
        if (!l->live || l->sock == NULL)
            continue;
        it[n++] = (zmq_pollitem_t){l->sock, 0, ZMQ_POLLIN, 0};
        it[n++] = (zmq_pollitem_t){l->mon, 0, ZMQ_POLLIN, 0};
    }
    return n;
}

void
hub_fed_poll_done(struct hub *h, const zmq_pollitem_t *it, size_t n)
{
    size_t i, k;

    for (k = 0; k < n; k++) {
        if (!(it[k].revents & ZMQ_POLLIN))
            continue;
        for (i = 0; i < h->fed.n_link; i++) {
            struct hub_fed_link *l = &h->fed.link[i];
            if (l->sock != NULL && it[k].socket == l->sock)
                s_read(h, l);
            else if (l->mon != NULL && it[k].socket == l->mon)
                s_on_monitor(h, l);
        }
    }
}

void
hub_fed_timers(struct hub *h)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms(), lim = h->cfg->stall_resend_s > 0
                                           ? h->cfg->stall_resend_s * 1000
                                           : 30000;
    size_t i;

    for (i = 0; i < h->fed.n_link; i++) {
        struct hub_fed_link *l = &h->fed.link[i];
        if (!l->live)
            continue;
        if (l->reopen_ms != 0 && now >= l->reopen_ms &&
            hub_fed_link_open(h, l, &err) != 0)
            ewh_log_warnx("fed: link to %s: %s", l->p.region, err.reason);
        if (!l->up)
            continue;
        if (now - l->hb_ms >= EWH_FED_HEARTBEAT_MS) {
            Ewh__Frame f = EWH__FRAME__INIT;
            Ewh__Heartbeat hb = EWH__HEARTBEAT__INIT;
            hb.roster_version = ewh_roster_version(h->ros.roster);
            f.msg_case = EWH__FRAME__MSG_HEARTBEAT;
            f.heartbeat = &hb;
            (void)s_send(l, &f);
            l->hb_ms = now;
        }
        if (hub_seqset_size(l->inflight) + hub_seqset_size(l->rflight) > 0 &&
            now - l->moved_ms > lim) {
            ewh_log_warnx("fed: link to %s: %zu transfers and %zu receipts "
                          "unacknowledged for %lld s: sending them again",
                          l->p.region, hub_seqset_size(l->inflight),
                          hub_seqset_size(l->rflight),
                          (long long)((now - l->moved_ms) / 1000));
            hub_fed_count(h, l->p.region, "resent", "",
                          hub_seqset_size(l->inflight));
            hub_seqset_clear(l->inflight);
            hub_seqset_clear(l->rflight);
            l->moved_ms = now;
            l->want_fill = true;
        }
    }
}
