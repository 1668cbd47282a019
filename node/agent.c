/*
 * agent.c — the node agent's loop: setup, the hubs it keeps a session
 * with (one struct node_conn each), poll, the turn's transaction, timers,
 * signals.  What a frame means is decided in the modules it calls
 * (agent_int.h).
 */
#include "agent_int.h"
#include "trust.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <zmq.h>

#include "metrics.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "catalogue.h"

/* ---- the turn ---- */

int
node_agent_begin(struct node_agent *a, struct ewh_err *err)
{
    if (a->in_tx)
        return 0;
    if (node_store_begin(a->d->store, err) != 0)
        return -1;
    a->in_tx = true;
    return 0;
}

void
node_agent_flush(struct node_agent *a)
{
    struct ewh_err err = {0};
    bool ok = true;

    if (a->owe.n_owed > 0)
        node_receipts_sign_owed(a);
    if (a->in_tx) {
        a->in_tx = false;
        if (node_store_commit(a->d->store, &err) != 0) {
            ewh_log_errx("agent: store commit failed: %s", err.reason);
            ok = false;
            node_outbox_commit_failed(a);
        }
    }
    node_link_send_deferred(a, ok);
    if (a->trust_due && ok) {
        /* docs/trust.md: the node's status of its peers' keys */
        a->trust_due = false;
        node_trust_status_write(a->d);
    }
}

struct node_conn *
node_agent_first(struct node_agent *a)
{
    return &a->conn[0];
}

/* ---- frames from the hubs ---- */

static void
s_on_frame(struct node_agent *a, struct node_conn *c, const uint8_t *buf,
           size_t len)
{
    struct ewh_err err = {0};
    ewh_frame_t *f = NULL;

    if (ewh_frame_decode(buf, len, &f, &err) != 0) {
        ewh_log_warnx("agent: refused frame from hub: %s%s", err.reason,
                      c->via);
        return;
    }
    ewh_log_debug("agent: got %s%s", ewh_frame_name(f), c->via);
    c->link.last_frame = ewh_now();
    switch (f->msg_case) {
    case EWH__FRAME__MSG_ROSTER:
        node_link_on_roster(a, c, f->roster);
        break;
    case EWH__FRAME__MSG_SUBMIT_ACK:
        node_outbox_on_ack(a, c, f->submit_ack);
        break;
    case EWH__FRAME__MSG_DELIVER:
        node_inbox_on_deliver(a, c, f->deliver);
        break;
    case EWH__FRAME__MSG_RECEIPT_RELAY:
        node_receipts_on_relay(a, c, f->receipt_relay);
        break;
    case EWH__FRAME__MSG_RECEIPT_ACK:
        node_receipts_on_ack(a, c, f->receipt_ack);
        break;
    case EWH__FRAME__MSG_NOTICE:
        node_outbox_on_notice(a, c, f->notice);
        break;
    case EWH__FRAME__MSG_CATALOGUE:
        /* The catalogue is signed by the pinned hub #0's key. */
        if (c == node_agent_first(a))
            node_catalogue_receive(a->d, f->catalogue);
        break;
    case EWH__FRAME__MSG_ERROR:
        if (f->error->code == EWH_E_STORE)
            /* The hub's store failed or lost data (its audit chain behind
             * our checkpoint): the operator must act. */
            ewh_log_errx("agent: hub error %s: %s%s",
                         ewh_errcode_name((enum ewh_errcode)f->error->code),
                         f->error->reason, c->via);
        else
            ewh_log_warnx("agent: hub error %s: %s%s",
                          ewh_errcode_name((enum ewh_errcode)f->error->code),
                          f->error->reason, c->via);
        if (f->error->code == EWH_E_REVOKED) {
            if (c == node_agent_first(a))
                node_linkstate_set(a->d, &c->link.ls, NODE_LS_REFUSED,
                                   f->error->reason);
            else
                (void)node_linkstate_note(&c->link.ls, c->endpoint,
                                          NODE_LS_REFUSED, f->error->reason);
        }
        break;
    default:
        ewh_log_debug("agent: ignored %s", ewh_frame_name(f));
        break;
    }
    ewh_frame_destroy(&f);
}

/* Drain hub c's socket, at most NODE_BUDGET frames this turn. */
static void
s_drain(struct node_agent *a, struct node_conn *c)
{
    size_t i;

    for (i = 0; i < NODE_BUDGET && c->link.sock != NULL; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, c->link.sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        s_on_frame(a, c, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
    }
}

/* ---- timers and signals ---- */

static void
s_on_signal(struct node_agent *a)
{
    struct signalfd_siginfo si;

    while (read(a->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            size_t i;
            ewh_log_info("agent: SIGHUP: reloading the roster");
            for (i = 0; i < a->n_conn; i++)
                node_link_reload_roster(a, &a->conn[i]);
        } else {
            ewh_log_info("agent: signal %u: stopping", si.ssi_signo);
            a->stop = true;
        }
    }
}

/* Another process (submit, ack, rekey) committed to the store: look at
 * the outbox and the receipts again. */
static void
s_poll_store(struct node_agent *a)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms(), dv = 0;

    if (now - a->store_at < NODE_POLL_STORE_MS)
        return;
    a->store_at = now;
    if (node_store_data_version(a->d->store, &dv, &err) != 0) {
        /* Said when it starts failing and when it works again, not every
         * NODE_POLL_STORE_MS. */
        if (!a->dv_failing)
            ewh_log_warnx("agent: %s", err.reason);
        a->dv_failing = true;
        return;
    }
    if (a->dv_failing)
        ewh_log_info("agent: store readable again");
    a->dv_failing = false;
    if (dv != a->dv) {
        a->dv = dv;
        node_outbox_rescan(a, NULL);
        node_receipts_rescan(a, NULL);
    }
}

/* One wait: for every hub's socket and monitor and the signalfd, at most
 * until the nearest timer.  -1 with err when zmq_poll itself fails. */
static int
s_poll(struct node_agent *a, struct ewh_err *err)
{
    zmq_pollitem_t items[1 + 2 * EWH_MAX_HUBS];
    struct node_conn *by[1 + 2 * EWH_MAX_HUBS];
    long timeout = NODE_POLL_STORE_MS;
    size_t i;
    int n = 0, k;

    if (node_outbox_wants_send(a))
        timeout = NODE_FAST_POLL_MS;
    items[n++] = (zmq_pollitem_t){NULL, a->sfd, ZMQ_POLLIN, 0};
    for (i = 0; i < a->n_conn; i++) {
        struct node_conn *c = &a->conn[i];
        if (c->link.need_hello)
            timeout = NODE_FAST_POLL_MS;
        if (c->link.sock == NULL)
            continue;
        by[n] = c;
        items[n++] = (zmq_pollitem_t){c->link.mon, 0, ZMQ_POLLIN, 0};
        by[n] = c;
        items[n++] = (zmq_pollitem_t){c->link.sock, 0, ZMQ_POLLIN, 0};
    }
    if (zmq_poll(items, n, timeout) < 0) {
        if (errno == EINTR)
            return 0;
        return ewh_err_set(err, EWH_E_IO, "zmq_poll: %s", zmq_strerror(errno));
    }
    if (items[0].revents & ZMQ_POLLIN)
        s_on_signal(a);
    /* A monitor event may close and open a socket again: the items after
     * it are for the socket polled, so each pair is checked against its
     * hub's current socket. */
    for (k = 1; k + 1 < n; k += 2) {
        struct node_conn *c = by[k];
        if ((items[k].revents & ZMQ_POLLIN) && c->link.mon == items[k].socket)
            node_link_on_monitor(a, c);
        if ((items[k + 1].revents & ZMQ_POLLIN) &&
            c->link.sock == items[k + 1].socket)
            s_drain(a, c);
    }
    return 0;
}

/* ---- /metrics (issue 20) ---- */

/* Once a second, when /metrics is served: the figures as a whole. */
static void
s_figures(struct node_agent *a)
{
    struct node_metrics_state ms;
    struct node_store_figures fg;
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms();
    struct node_conn *c0 = node_agent_first(a);

    if (a->metrics == NULL || now - a->figures_at < 1000)
        return;
    a->figures_at = now;
    memset(&ms, 0, sizeof(ms));
    snprintf(ms.hub, sizeof(ms.hub), "%s", c0->endpoint);
    ms.hub_key = (c0->link.try_idx & 2) ? "announced" : "pinned";
    ms.connected = c0->link.connected;
    ms.ready = c0->link.ready;
    ms.roster_version =
        c0->link.roster != NULL ? ewh_roster_version(c0->link.roster) : 0;
    ms.last_frame = c0->link.last_frame;
    ms.in_flight = c0->out.n_fl;
    ms.now = ewh_now();
    if (node_store_figures(a->d->store, &fg, &err) != 0) {
        ewh_log_debug("agent: figures: %s", err.reason);
        return;
    }
    ms.outbox = fg.outbox;
    ms.outbox_oldest = fg.outbox_oldest;
    ms.unacked_high = fg.unacked_high;
    ms.unacked_high_oldest = fg.unacked_high_oldest;
    {
        size_t nu = 0, ns = 0;
        if (node_store_trust_unverified(a->d->store, NULL, NULL, &nu, &err) ==
                0 &&
            node_store_split_list(a->d->store, NULL, NULL, &ns, &err) == 0) {
            ms.peers_unverified = (int64_t)nu;
            ms.split_views = (int64_t)ns;
        }
    }
    node_metrics_set(a->metrics, &ms);
}

/* Serve /metrics on the configured HOST:PORT; the bound one goes to
 * DIR/metrics_endpoint. */
static int
s_metrics_listen(struct node_agent *a, struct ewh_err *err)
{
    char bound[160], path[1100], line[170];

    if (a->d->cfg.metrics[0] == '\0')
        return 0;
    if ((a->metrics = node_metrics_new(a->me)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    if (node_metrics_listen(a->metrics, a->d->cfg.metrics, bound, sizeof(bound),
                            err) != 0)
        return -1;
    node_dir_file(a->d, "metrics_endpoint", path, sizeof(path));
    snprintf(line, sizeof(line), "%s\n", bound);
    if (ewh_keyfile_write(path, line, strlen(line), 0644, err) != 0)
        return -1;
    s_figures(a);
    ewh_log_info("agent: metrics on http://%s/metrics", bound);
    return 0;
}

/* ---- setup and the loop ---- */

/* Hub #0: the one `ewnode init` pinned (ewnode.conf hub=, DIR/hub.pub). */
static void
s_conn_first(struct node_agent *a)
{
    struct node_conn *c = &a->conn[0];

    memset(c, 0, sizeof(*c));
    c->link.probe_fd = -1;
    snprintf(c->endpoint, sizeof(c->endpoint), "%s", a->d->cfg.hub);
    c->pin = a->d->hub;
    ewh_pubid_fingerprint(&c->pin, c->fp);
    a->n_conn = 1;
    node_link_reload_roster(a, c);
}

static int
s_setup(struct node_agent *a, struct node_dir *d, int sfd, struct ewh_err *err)
{
    size_t i;

    memset(a, 0, sizeof(*a));
    a->d = d;
    a->me = d->cfg.country;
    a->sfd = sfd;
    if ((a->wc = ewh_wrapcache_new()) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    s_conn_first(a);
    if (node_rekey_load(a, err) != 0)
        return -1;
    node_rekey_check(a);
    if (node_link_init(a, err) != 0)
        return -1;
    for (i = 0; i < a->n_conn; i++) {
        a->conn[i].rc.resend_at = ewh_mono_ms();
        if (node_link_open(a, &a->conn[i], err) != 0)
            return -1;
    }
    if (s_metrics_listen(a, err) != 0)
        return -1;
    ewh_log_info(
        "agent: node %s connecting to %s (roster version %llu, "
        "credit %u, heartbeat %ums)",
        a->me, a->conn[0].endpoint,
        a->conn[0].link.roster
            ? (unsigned long long)ewh_roster_version(a->conn[0].link.roster)
            : 0ULL,
        d->cfg.credit, d->cfg.heartbeat_ms);
    return 0;
}

static void
s_teardown(struct node_agent *a)
{
    size_t i;

    node_agent_flush(a);
    ewh_wrapcache_destroy(&a->wc);
    for (i = 0; i < a->n_conn; i++) {
        node_outbox_free(&a->conn[i]);
        node_link_close(a, &a->conn[i]);
    }
    node_link_term(a);
    node_metrics_destroy(&a->metrics);
    node_rekey_free(a);
}

int
node_run(struct node_dir *d, int sfd, struct ewh_err *err)
{
    struct node_agent a;
    size_t i;
    int rc = -1;

    if (s_setup(&a, d, sfd, err) != 0)
        goto out;
    while (!a.stop) {
        if (s_poll(&a, err) != 0)
            goto out;
        /* Commit what the frames changed, then acknowledge them. */
        node_agent_flush(&a);
        node_rekey_reseal_if_due(&a);
        s_poll_store(&a);
        for (i = 0; i < a.n_conn; i++)
            node_link_tick(&a, &a.conn[i]);
        ewh_log_flush_suppressed();
        for (i = 0; i < a.n_conn; i++) {
            node_outbox_pump(&a, &a.conn[i]);
            node_receipts_pump(&a, &a.conn[i]);
            node_link_try_keys(&a, &a.conn[i]);
        }
        s_figures(&a);
    }
    rc = 0;
out:
    s_teardown(&a);
    return rc;
}
