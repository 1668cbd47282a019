/* hub.c — hub_run(): setup, the zmq_poll() loop, timers, signals and the
 * orderly stop.  It calls the modules (hubint.h) and decides nothing of
 * their own. */
#include "hubint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <zmq.h>

#include "gauges.h"
#include "retention.h"
#include "zap.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

void *
hub_grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *np;

    if (need <= *cap)
        return p;
    ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    if ((np = realloc(p, ncap * size)) == NULL)
        return NULL;
    *cap = ncap;
    return np;
}

const char *
hub_idhex(const uint8_t *id, char out[EWH_ID_HEX])
{
    return ewh_hex(id, EWH_ID_BYTES, out, EWH_ID_HEX);
}

/* ---- setup ---- */

/* hub_count_fn: a country with deliveries waiting has a peer entry from
 * the start (status.json lists it). */
static void
s_seed_peer(void *ctx, const char *cc, enum ewh_level level, uint64_t n)
{
    struct hub *h = ctx;

    (void)level;
    (void)n;
    (void)hub_peers_get(h->peers, cc, true);
}

static int
s_metrics_listen(struct hub *h, struct ewh_err *err)
{
    char bound[HUB_MAX_ENDPOINT], path[4096], line[HUB_MAX_ENDPOINT + 2];

    if (h->cfg->metrics[0] == '\0')
        return 0;
    if (hub_metrics_listen(h->m, h->cfg->metrics, bound, sizeof(bound), err) !=
        0)
        return -1;
    snprintf(path, sizeof(path), "%s/metrics_endpoint", h->a->dir);
    snprintf(line, sizeof(line), "%s\n", bound);
    if (ewh_keyfile_write(path, line, strlen(line), 0644, err) != 0)
        return -1;
    ewh_log_info("metrics on http://%s/metrics", bound);
    return 0;
}

/* Everything the loop needs, in order; -1 (err) stops ewhub run before
 * the loop (the only place a failure is fatal). */
static int
s_setup(struct hub *h, struct ewh_err *err)
{
    if ((h->peers = hub_peers_new()) == NULL ||
        (h->m = hub_metrics_new()) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    h->started = hub_metrics_started(h->m);
    if (hub_roster_refresh(h, err) != 0)
        return -1;
    h->ros.pushed_version = ewh_roster_version(h->ros.roster);
    if (hub_catalogue_open(h, err) != 0)
        return -1;
    if (hub_store_audit_head(h->st, &h->chain.len, h->chain.head, err) != 0 ||
        hub_store_queue_open(h->st, err) != 0 ||
        hub_store_queue_counts(h->st, s_seed_peer, h, err) != 0 ||
        hub_gauges_seed(h->m, h->st, err) != 0 || hub_admit_init(h, err) != 0)
        return -1;
    if ((h->zctx = zmq_ctx_new()) == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq_ctx_new: %s",
                           zmq_strerror(zmq_errno()));
    /* Two I/O threads: a connection is given to the less loaded one, so a
     * flooding peer's CURVE decryption does not queue every other peer's
     * frames behind its own (docs/performance.md, "High under a flood"). */
    if (zmq_ctx_set(h->zctx, ZMQ_IO_THREADS, EWH_HUB_IO_THREADS) != 0)
        return ewh_err_set(err, EWH_E_IO, "zmq io threads: %s",
                           zmq_strerror(zmq_errno()));
    if ((h->zap = zmq_socket(h->zctx, ZMQ_REP)) == NULL ||
        zmq_bind(h->zap, HUB_ZAP_ENDPOINT) != 0)
        return ewh_err_set(err, EWH_E_IO, "zap: %s", zmq_strerror(zmq_errno()));
    hub_gate_init(h);
    if (hub_fed_init(h, err) != 0)
        return -1;
    if (hub_conn_open(h, h->cfg->listen, err) != 0 ||
        hub_conn_write_endpoint(h, err) != 0 || s_metrics_listen(h, err) != 0)
        return -1;
    ewh_log_info(
        "listening on %s (roster version %llu, %zu countries, "
        "audit length %llu)",
        h->conn.endpoint, (unsigned long long)ewh_roster_version(h->ros.roster),
        ewh_roster_count(h->ros.roster), (unsigned long long)h->chain.len);
    return 0;
}

static void
s_teardown(struct hub *h)
{
    hub_batch_free(h);
    hub_admit_free(h);
    hub_fed_free(h);
    hub_conn_close(h, HUB_CLOSE_LINGER_MS);
    if (h->zap != NULL) {
        int zero = 0;
        zmq_setsockopt(h->zap, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(h->zap);
    }
    if (h->zctx != NULL)
        zmq_ctx_term(h->zctx);
    ewh_roster_destroy(&h->ros.roster);
    free(h->ros.buf);
    hub_catalogue_destroy(&h->ros.cat);
    hub_peers_destroy(&h->peers);
    hub_metrics_destroy(&h->m);
    hub_events_free(h);
}

/* ---- what the poll found ---- */

static void
s_on_signal(struct hub *h)
{
    struct signalfd_siginfo si;

    while (read(h->a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            ewh_log_info("SIGHUP: re-reading the config and the roster");
            if (h->a->reload != NULL)
                h->a->reload(h->a->reload_ctx);
            h->ros.next_check_ms = 0;
            continue;
        }
        ewh_log_info("%s: stopping", strsignal((int)si.ssi_signo));
        h->stopping = true;
    }
}

/* A traffic event per refused handshake, naming the key and, when the
 * roster knows it, the country and its identity's fingerprint (as
 * compared by telephone). */
static void
s_zap_refused(void *ctx, const char *keyhex, const char *country,
              enum ewh_errcode code, const char *why)
{
    struct hub *h = ctx;
    struct hub_event *ev = hub_event_new_code(h, HUB_EV_ZAP_REFUSED, country,
                                              NULL, ewh_errcode_name(code));
    const struct ewh_pubid *id;
    char fp[EWH_FINGERPRINT_CHARS];

    if (ev == NULL)
        return;
    snprintf(ev->key, sizeof(ev->key), "%s", keyhex);
    snprintf(ev->reason, sizeof(ev->reason), "%s", why);
    if (country != NULL &&
        (id = ewh_roster_find(h->ros.roster, country, NULL)) != NULL) {
        ewh_pubid_fingerprint(id, fp);
        snprintf(ev->reason, sizeof(ev->reason), "%s (fingerprint %s)", why,
                 fp);
    }
}

/* hub_zap_peer_fn: an enrolled peer hub's key (fed.c's links). */
static const char *
s_zap_peer(void *ctx, const uint8_t key[32])
{
    struct hub *h = ctx;
    size_t i;

    for (i = 0; i < h->fed.n_link; i++)
        if (h->fed.link[i].live && memcmp(h->fed.link[i].p.curve, key, 32) == 0)
            return h->fed.link[i].p.region;
    return NULL;
}

static int
s_on_zap(struct hub *h, struct ewh_err *err)
{
    uint64_t z0 = h->n.zap_refused;

    if (hub_zap_handle(h->zap, hub_roster_zap, s_zap_peer, s_zap_refused, h,
                       &h->n.zap_refused, err) != 0)
        return -1;
    if (h->n.zap_refused > z0)
        hub_metrics_zap_refused(h->m, h->n.zap_refused - z0);
    return 0;
}

/* Drain the ROUTER.  A turn ends after HUB_TURN_MS too, so that a flood
 * of cheap frames cannot delay the commit (and a high report) long, and
 * at once after a high submit. */
static void
s_on_router(struct hub *h)
{
    int64_t t_end = ewh_mono_ms() + HUB_TURN_MS;
    unsigned i;

    for (i = 0; i < EWH_HUB_TURN_FRAMES; i++) {
        if (hub_conn_read(h) != 0)
            break;
        /* A high submit ends the turn: verified, committed and
         * acknowledged now, not after the rest of a flood is read. */
        if (h->adm.n_high > 0)
            break;
        if ((i & 63) == 63 && ewh_mono_ms() >= t_end)
            break;
    }
}

/* ---- timers ---- */

static void
s_tick(struct hub *h, int64_t now)
{
    size_t i;

    ewh_log_flush_suppressed();
    hub_deliver_expire(h);
    hub_deliver_stalled(h);
    hub_retention_tick(h->st, h->cfg, now);
    hub_fed_tick(h);
    for (i = 0; i < hub_peers_count(h->peers); i++)
        hub_peers_at(h->peers, i)->want_fill = true;
    hub_events_tick(h);
    hub_status_gauges(h);
    hub_status_write(h);
}

static void
s_timers(struct hub *h)
{
    int64_t now = ewh_mono_ms();

    if (now >= h->ros.next_check_ms) {
        h->ros.next_check_ms = now + HUB_ROSTER_CHECK_MS;
        hub_gate_tick(h);
        hub_conn_retry(h);
        hub_roster_check(h);
    }
    if (now >= h->next_tick_ms) {
        h->next_tick_ms = now + HUB_TICK_MS;
        s_tick(h, now);
    }
    hub_fed_timers(h);
}

/* ---- the loop ---- */

static void
s_roster_poll(struct hub *h)
{
    struct ewh_err err = {0};
    uint64_t v;

    if (hub_store_data_version(h->st, &v, &err) != 0) {
        ewh_log_warnx("router: data version: %s", err.reason);
        return;
    }
    if (v == h->ros.data_version)
        return;
    h->ros.data_version = v;
    h->ros.next_check_ms = ewh_mono_ms() + HUB_ROSTER_CHECK_MS;
    hub_roster_check(h);
}

/* One turn: poll, read, then (STYLE.md "Event loop") commit the batch
 * before the acks and deliveries that depend on it. */
static int
s_turn(struct hub *h, struct ewh_err *err)
{
    zmq_pollitem_t items[5 + 2 * EWH_MAX_FED_PEERS] = {
        {h->conn.router, h->conn.router != NULL ? 0 : -1, ZMQ_POLLIN, 0},
        {h->zap, 0, ZMQ_POLLIN, 0},
        {h->conn.mon, h->conn.mon != NULL ? 0 : -1, ZMQ_POLLIN, 0},
        {NULL, h->a->sigfd, ZMQ_POLLIN, 0},
        {NULL, hub_verify_fd(h->adm.vpool), ZMQ_POLLIN, 0},
    };
    /* The federation links (fed_link.c) after the fixed five. */
    size_t n_fed = hub_fed_poll_items(h, items + 5, 2 * EWH_MAX_FED_PEERS);
    int64_t timeout = h->ros.next_check_ms < h->next_tick_ms
                          ? h->ros.next_check_ms
                          : h->next_tick_ms;

    timeout -= ewh_mono_ms();
    if (timeout < 0 || h->expire_due)
        timeout = 0;
    if (n_fed > 0 && timeout > HUB_ROSTER_CHECK_MS)
        timeout = HUB_ROSTER_CHECK_MS; /* heartbeats, reopens */
    if (zmq_poll(items, (int)(5 + n_fed), (long)timeout) < 0) {
        if (zmq_errno() == EINTR)
            return 0;
        return ewh_err_set(err, EWH_E_IO, "zmq_poll: %s",
                           zmq_strerror(zmq_errno()));
    }
    if (items[3].revents & ZMQ_POLLIN)
        s_on_signal(h);
    if ((items[1].revents & ZMQ_POLLIN) && s_on_zap(h, err) != 0)
        return -1;
    if (items[2].revents & ZMQ_POLLIN)
        hub_conn_on_monitor(h);
    if (items[0].revents & ZMQ_POLLIN && !h->stopping)
        s_on_router(h);
    if (n_fed > 0)
        hub_fed_poll_done(h, items + 5, n_fed);
    /* Another process committed (a revoke, an enrol): the roster check
     * now, before this turn admits or delivers anything, so that nothing
     * reaches a country after its revoke has returned (issue 16). */
    s_roster_poll(h);
    /* Take what the pool verified, hand it the next submits, commit,
     * then acknowledge, then deliver. */
    hub_admit_turn(h, (items[4].revents & ZMQ_POLLIN) != 0);
    hub_batch_commit(h);
    if (h->expire_due)
        hub_deliver_expire(h);
    hub_deliver_fill(h);
    hub_fed_fill(h);
    if (h->status_due) {
        /* Connection state shows in `ewhub status` at once. */
        h->status_due = false;
        hub_status_write(h);
    }
    s_timers(h);
    return 0;
}

int
hub_run(const struct hub_run_args *a, struct ewh_err *err)
{
    struct hub h;
    int64_t now;
    size_t i;
    int rc = -1;

    memset(&h, 0, sizeof(h));
    h.a = a;
    h.cfg = a->cfg;
    h.st = a->store;
    if (s_setup(&h, err) != 0)
        goto out;
    hub_deliver_expire(&h);
    hub_status_write(&h);
    now = ewh_mono_ms();
    h.ros.next_check_ms = now + HUB_ROSTER_CHECK_MS;
    h.next_tick_ms = now + HUB_TICK_MS;
    /* From here on nothing is fatal but the poll itself failing. */
    while (!h.stopping)
        if (s_turn(&h, err) != 0)
            goto out;
    /* Orderly stop: whatever was read is committed and acknowledged. */
    hub_admit_drain(&h);
    hub_batch_commit(&h);
    hub_events_tick(&h);
    hub_status_gauges(&h);
    for (i = 0; i < hub_peers_count(h.peers); i++)
        hub_peer_disconnect(hub_peers_at(h.peers, i));
    hub_status_write(&h);
    rc = 0;
out:
    s_teardown(&h);
    if (rc == 0)
        ewh_log_info("exiting (accepted %llu, delivered %llu)",
                     (unsigned long long)h.n.accepted,
                     (unsigned long long)h.n.delivered);
    return rc;
}
