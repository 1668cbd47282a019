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
#include "hubcmp.h"

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

bool
node_agent_is_pinned(const struct node_agent *a, const struct node_conn *c)
{
    return memcmp(c->pin.sign, a->d->hub.sign, 32) == 0;
}

struct node_conn *
node_agent_first(struct node_agent *a)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++)
        if (node_agent_is_pinned(a, &a->conn[i]))
            return &a->conn[i];
    return &a->conn[0];
}

/* ---- the rosters of several hubs (issue 18, hubcmp.h) ---- */

static uint64_t
s_fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* The hash of the alarms last logged between c and the hub other (0:
 * none); set stores it. */
static uint64_t *
s_cmp_slot(struct node_conn *c, int64_t other)
{
    size_t i;

    for (i = 0; i < EWH_MAX_HUBS; i++)
        if (c->cmp[i].other == other)
            return &c->cmp[i].hash;
    for (i = 0; i < EWH_MAX_HUBS; i++)
        if (c->cmp[i].other == 0) {
            c->cmp[i].other = other;
            c->cmp[i].hash = 0;
            return &c->cmp[i].hash;
        }
    c->cmp[0].other = other; /* hubs were removed: reuse */
    c->cmp[0].hash = 0;
    return &c->cmp[0].hash;
}

/* Compare c's roster with every other hub's: c and the others are marked
 * while an alarm stands between them; each new set of alarms between c
 * and another hub is logged once, one line per difference. */
void
node_agent_compare_rosters(struct node_agent *a, struct node_conn *c)
{
    struct node_hubcmp_diff d[NODE_HUBCMP_MAX_DIFFS];
    struct ewh_err err = {0};
    size_t i, k, n;

    for (i = 0; i < a->n_conn; i++)
        a->conn[i].roster_alarms = 0;
    /* Every pair again (at most EWH_MAX_HUBS^2 / 2 pure comparisons):
     * one hub's new roster may also end another pair's difference. */
    for (i = 0; i < a->n_conn; i++) {
        struct node_conn *x = &a->conn[i];
        size_t j;
        for (j = i + 1; j < a->n_conn; j++) {
            struct node_conn *y = &a->conn[j];
            size_t alarms;
            uint64_t h = 1469598103934665603ULL, *slot;
            if (x->link.roster == NULL || y->link.roster == NULL)
                continue;
            n = 0;
            if (node_hubcmp_rosters(x->link.roster, y->link.roster, d,
                                    NODE_HUBCMP_MAX_DIFFS, &n, &err) != 0 &&
                err.code != EWH_E_TOOBIG) {
                ewh_log_warnx("agent: roster comparison: %s", err.reason);
                continue;
            }
            alarms = node_hubcmp_alarms(d, n);
            x->roster_alarms += alarms;
            y->roster_alarms += alarms;
            if (x != c && y != c)
                continue;
            slot = x == c ? s_cmp_slot(x, y->id) : s_cmp_slot(y, x->id);
            if (alarms == 0) {
                *slot = 0; /* said again should it come back */
                continue;
            }
            for (k = 0; k < n; k++)
                if (d[k].alarm) {
                    h = s_fnv(h, d[k].country, sizeof(d[k].country));
                    h = s_fnv(h, &d[k].reason, sizeof(d[k].reason));
                }
            if (*slot == h)
                continue;
            *slot = h;
            for (k = 0; k < n; k++)
                if (d[k].alarm)
                    ewh_log_warnx("agent: ROSTER MISMATCH between hubs %s "
                                  "(A) and %s (B): %s %s: %s (ewnode hubs "
                                  "list; ask both hub operators)",
                                  x->endpoint, y->endpoint, d[k].country,
                                  node_hubcmp_reason_name(d[k].reason),
                                  d[k].text);
        }
    }
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
    case EWH__FRAME__MSG_AUDIT_PROOF:
        node_outbox_on_proof(a, c, f->audit_proof);
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
        if (f->error->code == EWH_E_REVOKED &&
            node_linkstate_note(&c->link.ls, c->endpoint, NODE_LS_REFUSED,
                                f->error->reason))
            node_link_status(a);
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

/* ---- the hubs table (ewnode hubs add|remove while we run) ---- */

static void
s_conn_via(struct node_agent *a)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++) {
        struct node_conn *c = &a->conn[i];
        if (a->n_conn > 1)
            snprintf(c->via, sizeof(c->via), " (hub %s)", c->endpoint);
        else
            c->via[0] = '\0';
    }
}

static void
s_conn_init(struct node_agent *a, struct node_conn *c, const struct node_hub *h)
{
    struct ewh_err err = {0};

    memset(c, 0, sizeof(*c));
    c->id = h->id;
    snprintf(c->endpoint, sizeof(c->endpoint), "%s", h->endpoint);
    c->pin = h->key;
    snprintf(c->fp, sizeof(c->fp), "%s", h->fp);
    c->link.probe_fd = -1;
    c->out.cursor = NODE_HUB_CURSOR_START;
    c->rc.resend_at = ewh_mono_ms();
    if (node_store_hub_refills(a->d->store, c->id, &c->out.refills, &err) != 0)
        ewh_log_debug("agent: refills: %s", err.reason);
}

/* Read the hubs table and make the sessions match it: a hub added gets a
 * session (and every report it still needs: the store owes it them), a
 * hub removed is closed.  A hub keeps its session while listed with the
 * same id and key.  At start (open false) the sockets are opened by the
 * caller. */
static int
s_hubs_sync(struct node_agent *a, bool open, struct ewh_err *err)
{
    struct node_hub rows[EWH_MAX_HUBS];
    struct node_conn next[EWH_MAX_HUBS];
    bool kept[EWH_MAX_HUBS] = {false}, fresh[EWH_MAX_HUBS] = {false};
    size_t n = 0, i, j;

    if (node_store_hubs_list(a->d->store, rows, EWH_MAX_HUBS, &n, err) != 0)
        return -1;
    if (n == 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "no hub listed (ewnode hubs add)");
    /* The pinned hub's endpoint is ewnode.conf's hub= (or run --hub), as
     * it was before several hubs. */
    for (i = 0; i < n; i++)
        if (memcmp(rows[i].key.sign, a->d->hub.sign, 32) == 0 &&
            a->d->cfg.hub[0] != '\0')
            snprintf(rows[i].endpoint, sizeof(rows[i].endpoint), "%s",
                     a->d->cfg.hub);
    for (i = 0; i < n; i++) {
        for (j = 0; j < a->n_conn; j++)
            if (!kept[j] && a->conn[j].id == rows[i].id &&
                memcmp(a->conn[j].pin.sign, rows[i].key.sign, 32) == 0 &&
                memcmp(a->conn[j].pin.curve, rows[i].key.curve, 32) == 0 &&
                strcmp(a->conn[j].endpoint, rows[i].endpoint) == 0)
                break;
        if (j < a->n_conn) {
            next[i] = a->conn[j];
            kept[j] = true;
        } else {
            s_conn_init(a, &next[i], &rows[i]);
            fresh[i] = true;
        }
    }
    for (j = 0; j < a->n_conn; j++)
        if (!kept[j]) {
            ewh_log_info("agent: hub %s removed: closing its session",
                         a->conn[j].endpoint);
            node_outbox_free(&a->conn[j]);
            node_link_close(a, &a->conn[j]);
        }
    memcpy(a->conn, next, n * sizeof(next[0]));
    a->n_conn = n;
    s_conn_via(a);
    for (i = 0; i < n; i++) {
        struct node_conn *c = &a->conn[i];
        if (!fresh[i])
            continue;
        node_link_reload_roster(a, c);
        if (!open)
            continue;
        ewh_log_info("agent: hub %s added: opening a session", c->endpoint);
        if (node_link_open(a, c, err) != 0) {
            /* Tried again by the re-open timer. */
            ewh_log_errx("agent: hub %s: %s", c->endpoint, err->reason);
            c->link.reopen_at = ewh_mono_ms() + NODE_REOPEN_MS;
        }
    }
    if (open)
        node_link_status(a); /* at start node_link_open() writes it */
    return 0;
}

/* Another process (submit, ack, rekey, hubs) committed to the store: look
 * at the hubs, the outbox and the receipts again. */
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
        if (s_hubs_sync(a, true, &err) != 0)
            ewh_log_warnx("agent: hubs: %s", err.reason);
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

/* Every NODE_STATUS_MS: each hub's counts from the store, for
 * DIR/link.json "hubs" (and /metrics). */
static void
s_hub_figures(struct node_agent *a)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms(), wall = ewh_now_ms();
    size_t i;

    if (now - a->status_at < NODE_STATUS_MS)
        return;
    a->status_at = now;
    for (i = 0; i < a->n_conn; i++)
        if (node_store_hub_counts(a->d->store, a->conn[i].id, wall,
                                  &a->conn[i].counts, &err) != 0) {
            ewh_log_debug("agent: hub counts: %s", err.reason);
            return;
        }
    node_link_status(a);
}

/* Once a second, when /metrics is served: the figures as a whole. */
static void
s_figures(struct node_agent *a)
{
    struct node_metrics_state ms;
    struct node_store_figures fg;
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms();
    struct node_conn *c0 = node_agent_first(a);
    size_t i;

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
    for (i = 0; i < a->n_conn; i++) {
        const struct node_conn *c = &a->conn[i];
        struct node_metrics_hub *h = &ms.hubs[ms.n_hubs++];
        snprintf(h->hub, sizeof(h->hub), "%s", c->endpoint);
        h->hub_key = (c->link.try_idx & 2) ? "announced" : "pinned";
        h->up = c->link.connected && c->link.ready;
        h->last_frame = c->link.last_frame;
        h->accepted = c->counts.accepted;
        h->lagging = c->counts.lagging;
        h->refills = c->out.refills;
        h->roster_mismatch = (int64_t)c->roster_alarms;
    }
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
    /* The hubs listed (hub #0 seeded from ewnode.conf and hub.pub when
     * the store opened). */
    if (s_hubs_sync(a, false, err) != 0 ||
        node_config_check_hubs(&d->cfg, a->n_conn, err) != 0)
        return -1;
    if (node_rekey_load(a, err) != 0)
        return -1;
    node_rekey_check(a);
    if (node_link_init(a, err) != 0)
        return -1;
    for (i = 0; i < a->n_conn; i++)
        if (node_link_open(a, &a->conn[i], err) != 0)
            return -1;
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
    for (i = 1; i < a->n_conn; i++)
        ewh_log_info("agent: and to hub #%zu %s (min_hubs %u)", i,
                     a->conn[i].endpoint, d->cfg.min_hubs);
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
    free(a->status_text);
    a->status_text = NULL;
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
        s_hub_figures(&a);
        s_figures(&a);
    }
    rc = 0;
out:
    s_teardown(&a);
    return rc;
}
