/*
 * link.c — the agent's link to each hub: one DEALER socket per hub with
 * CURVE client keys, its monitor, Hello, the roster that makes a session
 * ready, the trial of new node and hub keys, and the frames that wait for
 * the turn's commit.  Every function acts on one hub's session (struct
 * node_conn); the sessions share the zmq context and nothing else.
 *
 * ZeroMQ reconnects with backoff and heartbeats detect a dead hub.  The
 * monitor reports each completed handshake: the agent then sends Hello,
 * and once the hub answers with the roster the session is ready (the
 * outbox and the receipts go).
 */
#include "agent_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "ewh/log.h"
#include "linkstate.h"
#include "probe.h"
#include "roster.h"
#include "trust.h"

#define S_MON_EP "inproc://ewnode-monitor-%u"

/* The node key tried besides the current one (bit 0 of try_idx): the new
 * one while a re-key is pending; after the switch in this run, with
 * several hubs, the one from before, for a hub that has not enrolled the
 * new key yet (until its operator does: ewhub roster import). */
static const ewh_secret_t *
s_alt_key(const struct node_agent *a)
{
    if (a->key.next != NULL)
        return a->key.next;
    return a->key.rekeyed && a->n_conn > 1 ? a->key.prev : NULL;
}

/* Only the pinned hub (DIR/hub.pub) has announced keys (hub.pub.next). */
static bool
s_has_next(const struct node_agent *a, const struct node_conn *c)
{
    return node_agent_is_pinned(a, c) && a->d->has_hub_next;
}

/* The link state of c as the commands see it (DIR/link.json: the first
 * hub's fields, and every hub in "hubs"). */
static void
s_state(struct node_agent *a, struct node_conn *c, enum node_link_state st,
        const char *reason)
{
    if (node_linkstate_note(&c->link.ls, c->endpoint, st, reason))
        node_link_status(a);
}

/* One hub's entry of link.json "hubs". */
static json_t *
s_hub_json(const struct node_conn *c)
{
    const struct node_link *l = &c->link;

    return json_pack(
        "{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:s}",
        "endpoint", c->endpoint, "fingerprint", c->fp, "state",
        node_linkstate_name(l->ls.state), "connected", l->connected && l->ready,
        "since", (json_int_t)l->ls.since, "last_frame_at",
        (json_int_t)l->last_frame, "accepted", (json_int_t)c->counts.accepted,
        "lagging", (json_int_t)c->counts.lagging, "roster_version",
        (json_int_t)(l->roster != NULL ? ewh_roster_version(l->roster) : 0),
        "roster_mismatch", c->roster_alarms > 0, "refills",
        (json_int_t)c->out.refills, "reason", l->ls.reason);
}

void
node_link_status(struct node_agent *a)
{
    json_t *hubs = json_array(), *o, *key;
    const struct node_linkstate *top;
    char *text;
    size_t i;

    if (hubs == NULL || a->n_conn == 0) {
        json_decref(hubs);
        return;
    }
    for (i = 0; i < a->n_conn; i++)
        if ((o = s_hub_json(&a->conn[i])) != NULL)
            json_array_append_new(hubs, o);
    /* The top-level fields (the single-hub ones) are the first hub's. */
    top = &a->conn[0].link.ls;
    key = json_pack("{s:s, s:I, s:I, s:s, s:s, s:O}", "state",
                    node_linkstate_name(top->state), "since",
                    (json_int_t)top->since, "last_connected",
                    (json_int_t)top->last_connected, "hub", top->hub, "reason",
                    top->reason, "hubs", hubs);
    text = key != NULL ? json_dumps(key, JSON_COMPACT) : NULL;
    json_decref(key);
    if (text == NULL ||
        (a->status_text != NULL && strcmp(text, a->status_text) == 0)) {
        free(text); /* nothing changed (or out of memory: next time) */
        json_decref(hubs);
        return;
    }
    free(a->status_text);
    a->status_text = text;
    node_linkstate_write(a->d, top, hubs);
    json_decref(hubs);
}

/* ---- sending ---- */

int
node_link_send(struct node_agent *a, struct node_conn *c, const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    (void)a;
    if (c->link.sock == NULL)
        return -1; /* a re-open is pending */
    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("agent: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return -1;
    }
    rc = zmq_send(c->link.sock, buf, len, ZMQ_DONTWAIT);
    free(buf);
    if (rc < 0) {
        if (errno != EAGAIN)
            ewh_log_warn("agent: send %s%s", ewh_frame_name(f), c->via);
        return -1;
    }
    ewh_log_debug("agent: sent %s (%zu bytes)%s", ewh_frame_name(f), len,
                  c->via);
    return 0;
}

void
node_link_send_later(struct node_agent *a, struct node_conn *c,
                     const Ewh__Frame *f)
{
    struct node_link *l = &c->link;
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;

    if (!a->in_tx) {
        (void)node_link_send(a, c, f);
        return;
    }
    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("agent: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return;
    }
    if (l->n_later == l->cap_later) {
        size_t cap = l->cap_later ? l->cap_later * 2 : 64;
        struct node_deferred *o = realloc(l->later, cap * sizeof(*o));
        if (o == NULL) {
            /* The hub sends again what is not acknowledged: nothing is
             * lost. */
            ewh_log_errx("agent: out of memory: %s not sent",
                         ewh_frame_name(f));
            free(buf);
            return;
        }
        l->later = o;
        l->cap_later = cap;
    }
    l->later[l->n_later].buf = buf;
    l->later[l->n_later].len = len;
    l->n_later++;
}

void
node_link_send_deferred(struct node_agent *a, bool ok)
{
    size_t i, h;

    for (h = 0; h < a->n_conn; h++) {
        struct node_link *l = &a->conn[h].link;
        for (i = 0; i < l->n_later; i++) {
            if (ok && l->sock != NULL &&
                zmq_send(l->sock, l->later[i].buf, l->later[i].len,
                         ZMQ_DONTWAIT) < 0)
                ewh_log_debug("agent: deferred send failed%s", a->conn[h].via);
            free(l->later[i].buf);
        }
        l->n_later = 0;
    }
}

/* ---- the session ---- */

static void
s_hello(struct node_agent *a, struct node_conn *c)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Hello h = EWH__HELLO__INIT;
    struct node_link *l = &c->link;
    struct ewh_err err = {0};

    h.version = EWH_ENVELOPE_VERSION;
    h.roster_version = l->roster != NULL ? ewh_roster_version(l->roster) : 0;
    h.credit = a->d->cfg.credit;
    h.features = EWH_FEATURE_TRUST; /* docs/trust.md */
    l->hello_at = ewh_mono_ms();
    if (node_store_hub_checkpoint_length(a->d->store, c->id,
                                         &h.checkpoint_length, &err) != 0) {
        /* Hello must carry it: said, and tried again with the Hello
         * resend (NODE_HELLO_RETRY_MS). */
        ewh_log_warnx("agent: hello: %s", err.reason);
        l->need_hello = false;
        return;
    }
    f.msg_case = EWH__FRAME__MSG_HELLO;
    f.hello = &h;
    l->need_hello = node_link_send(a, c, &f) != 0;
    if (!l->need_hello)
        ewh_log_debug("agent: hello roster_version=%llu%s",
                      (unsigned long long)h.roster_version, c->via);
}

/* Tell the hub we are alive and which roster we hold (a pushed roster is
 * applied without a new Hello): every heartbeat_ms once ready, and after
 * each roster. */
static void
s_heartbeat(struct node_agent *a, struct node_conn *c)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Heartbeat hb = EWH__HEARTBEAT__INIT;
    struct node_link *l = &c->link;

    if (!l->connected || !l->ready)
        return;
    hb.roster_version = l->roster != NULL ? ewh_roster_version(l->roster) : 0;
    f.msg_case = EWH__FRAME__MSG_HEARTBEAT;
    f.heartbeat = &hb;
    l->beat_at = ewh_mono_ms();
    (void)node_link_send(a, c, &f);
}

/* The roster of a hub other than the pinned one, from its own row,
 * verified against its own key. */
static ewh_roster_t *
s_hub_roster(struct node_agent *a, struct node_conn *c, struct ewh_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    ewh_roster_t *r;

    if (node_store_hub_roster_get(a->d->store, c->id, &buf, &len, NULL, err) !=
        0)
        return NULL;
    r = ewh_roster_open(buf, len, c->pin.sign, err);
    free(buf);
    return r;
}

void
node_link_reload_roster(struct node_agent *a, struct node_conn *c)
{
    struct ewh_err err = {0};
    ewh_roster_t *r = node_agent_is_pinned(a, c) ? node_dir_roster(a->d, &err)
                                                 : s_hub_roster(a, c, &err);

    if (r == NULL) {
        if (err.code != EWH_E_NOTFOUND)
            ewh_log_warnx("agent: stored roster unusable: %s%s", err.reason,
                          c->via);
        return;
    }
    ewh_roster_destroy(&c->link.roster);
    c->link.roster = r;
}

/* A roster from a hub other than the pinned one (docs/redundancy.md):
 * genuine (its own key), newer than the one it showed before and linked
 * to it (its own chain); its key changes judged as the pinned hub's are
 * (trust.h, without the roster heads, which are the pinned hub's). */
static int
s_apply_other(struct node_agent *a, struct node_conn *c, const uint8_t *buf,
              size_t len, uint64_t *version, struct ewh_err *err)
{
    const ewh_roster_t *held = c->link.roster;
    ewh_roster_t *got = ewh_roster_open(buf, len, c->pin.sign, err);
    int rc = -1;

    if (got == NULL)
        return -1;
    *version = ewh_roster_version(got);
    if (held != NULL && ewh_roster_version(held) >= *version) {
        ewh_err_set(err, EWH_E_VERSION,
                    "roster version %llu is not newer than the one held "
                    "(%llu)",
                    (unsigned long long)*version,
                    (unsigned long long)ewh_roster_version(held));
        goto out;
    }
    if (node_trust_chain_check(got, held, err) != 0)
        goto out;
    if (node_store_begin(a->d->store, err) != 0)
        goto out;
    if (node_trust_on_keys(a->d->store, a->me, got, held, err) != 0 ||
        node_store_hub_roster_put(a->d->store, c->id, buf, len, *version,
                                  ewh_now(), err) != 0 ||
        node_store_commit(a->d->store, err) != 0) {
        node_store_rollback(a->d->store);
        goto out;
    }
    rc = 0;
out:
    ewh_roster_destroy(&got);
    return rc;
}

/* The pinned hub's roster (roster.h: the one the node seals with, with
 * the hub's key rotation), kept as its per-hub roster too. */
static int
s_apply_pinned(struct node_agent *a, struct node_conn *c, const uint8_t *buf,
               size_t len, uint64_t *version, struct ewh_err *err)
{
    struct ewh_err e2 = {0};

    if (node_roster_apply(a->d, buf, len, version, err) != 0)
        return -1;
    if (memcmp(c->pin.sign, a->d->hub.sign, 32) != 0) {
        /* Re-pinned to the keys it announced: the hubs table follows. */
        if (node_store_hub_set_key(a->d->store, c->id, &a->d->hub, &e2) != 0)
            ewh_log_errx("agent: hub key rotation not recorded in the hubs "
                         "table: %s%s",
                         e2.reason, c->via);
        c->pin = a->d->hub;
        ewh_pubid_fingerprint(&c->pin, c->fp);
    }
    if (node_store_hub_roster_put(a->d->store, c->id, buf, len, *version,
                                  ewh_now(), &e2) != 0)
        ewh_log_warnx("agent: per-hub roster not kept: %s%s", e2.reason,
                      c->via);
    return 0;
}

/* Apply a roster frame; keep the one it replaces for the re-key. */
static void
s_apply_roster(struct node_agent *a, struct node_conn *c, const uint8_t *buf,
               size_t len)
{
    struct ewh_err err = {0};
    struct node_link *l = &c->link;
    uint64_t v = 0;

    bool pinned = node_agent_is_pinned(a, c);
    int rc = pinned ? s_apply_pinned(a, c, buf, len, &v, &err)
                    : s_apply_other(a, c, buf, len, &v, &err);

    if (rc == 0) {
        ewh_log_info("agent: roster version %llu applied%s",
                     (unsigned long long)v, c->via);
        a->trust_due = true;
        node_link_reload_roster(a, c);
        if ((l->try_idx & 2) && !a->d->has_hub_next)
            l->try_idx &= ~2u; /* the announced hub keys are pinned now */
        if (pinned)
            node_rekey_check(a);
        node_agent_compare_rosters(a, c);
    } else if (err.code == EWH_E_VERSION && l->roster != NULL &&
               v < ewh_roster_version(l->roster))
        /* Genuinely signed but older: a hub rolled back (restored from an
         * old backup, or trying to bring back replaced keys). */
        ewh_log_warnx("agent: refused roster: %s (a rollback?)", err.reason);
    else if (err.code == EWH_E_VERSION)
        ewh_log_debug("agent: roster: %s", err.reason);
    else if (ewh_errcode_is_retryable(err.code))
        /* Our store failed, not the roster: the hub sends it again with
         * the next change and at the next session. */
        ewh_log_errx("agent: roster not stored: %s", err.reason);
    else
        ewh_log_warnx("agent: refused roster: %s", err.reason);
}

void
node_link_on_roster(struct node_agent *a, struct node_conn *c,
                    const Ewh__SignedRoster *sr)
{
    struct node_link *l = &c->link;
    size_t len = ewh__signed_roster__get_packed_size(sr);
    uint8_t *buf = malloc(len > 0 ? len : 1);

    if (buf == NULL) {
        /* Hello goes again until a roster is taken. */
        ewh_log_errx("agent: out of memory: roster not applied");
        return;
    }
    ewh__signed_roster__pack(sr, buf);
    node_agent_flush(a); /* the roster has its own transaction */
    s_apply_roster(a, c, buf, len);
    free(buf);
    if (l->roster == NULL) {
        ewh_log_warnx("agent: no usable roster yet; waiting%s", c->via);
        return;
    }
    if (!l->ready)
        ewh_log_info("agent: session ready (roster version %llu)%s",
                     (unsigned long long)ewh_roster_version(l->roster), c->via);
    l->ready = true;
    node_link_status(a);
    s_heartbeat(a, c);
    node_outbox_ask_chain(a, c);
    node_outbox_rescan(a, c);
    node_receipts_rescan(a, c);
}

/* ---- connection events ---- */

/* node.key.new exists (loaded or not yet): the hub may refuse the
 * current key because it enrolled the new one. */
static bool
s_rekey_pending(const struct node_agent *a)
{
    char f[1200];

    node_dir_file(a->d, "node.key.new", f, sizeof(f));
    return a->key.next != NULL || access(f, F_OK) == 0;
}

static void
s_on_event(struct node_agent *a, struct node_conn *c, uint16_t ev)
{
    struct node_link *l = &c->link;

    switch (ev) {
    case ZMQ_EVENT_CONNECTED:
        l->tcp_seen = true;
        break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        ewh_log_info("agent: connected to hub %s", c->endpoint);
        s_state(a, c, NODE_LS_CONNECTED, NULL);
        l->down_ms = 0;
        l->warned = false;
        l->tcp_seen = false;
        l->connected = true;
        l->ready = false;
        l->hs_failed = false;
        l->refused_backoff = 0;
        node_outbox_reset(a, c);
        node_receipts_reset(a, c);
        s_hello(a, c);
        break;
    case ZMQ_EVENT_DISCONNECTED: {
        bool was = l->connected;
        l->connected = false;
        l->ready = false;
        if (was) {
            ewh_log_info("agent: disconnected from hub; reconnecting%s",
                         c->via);
            if (l->ls.state != NODE_LS_REFUSED)
                s_state(a, c, NODE_LS_DISCONNECTED,
                        "connection lost; reconnecting");
        }
        node_outbox_reset(a, c);
        break;
    }
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        ewh_log_warnx("agent: hub refused this node (not enrolled or "
                      "revoked?); retrying%s",
                      c->via);
        /* A new key is refused until enrolled, and the current one once
         * the new one is: neither is a verdict on the node. */
        if ((l->try_idx & 1) == 0 && !s_rekey_pending(a) &&
            l->ls.state != NODE_LS_REFUSED)
            s_state(a, c, NODE_LS_REFUSED,
                    "the hub refused this node's key in the "
                    "handshake (revoked, or not enrolled)");
        l->alt_now = true;
        l->hs_failed = true;
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        ewh_log_warnx("agent: handshake with hub failed (wrong hub key? "
                      "only keys announced by the pinned hub key are "
                      "accepted); retrying%s",
                      c->via);
        if (!s_has_next(a, c) && l->ls.state != NODE_LS_REFUSED)
            s_state(a, c, NODE_LS_HANDSHAKE,
                    "the CURVE handshake with the hub fails "
                    "(wrong hub key in hub.pub?)");
        l->alt_now = true;
        l->hs_failed = true;
        break;
    default:
        break;
    }
    node_link_status(a); /* "connected" in "hubs" (written if changed) */
}

void
node_link_on_monitor(struct node_agent *a, struct node_conn *c)
{
    zmq_msg_t m1, m2;
    uint16_t ev;

    while (c->link.mon != NULL) {
        zmq_msg_init(&m1);
        zmq_msg_init(&m2);
        if (zmq_msg_recv(&m1, c->link.mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m1);
            zmq_msg_close(&m2);
            return;
        }
        (void)zmq_msg_recv(&m2, c->link.mon, 0);
        if (zmq_msg_size(&m1) >= 6) {
            memcpy(&ev, zmq_msg_data(&m1), 2);
            s_on_event(a, c, ev);
        }
        zmq_msg_close(&m1);
        zmq_msg_close(&m2);
    }
}

/* ---- the socket ---- */

static void
s_sock_close(struct node_agent *a, struct node_conn *c)
{
    struct node_link *l = &c->link;

    if (l->sock != NULL) {
        zmq_socket_monitor(l->sock, NULL, 0);
        zmq_close(l->sock);
        l->sock = NULL;
    }
    if (l->mon != NULL) {
        zmq_close(l->mon);
        l->mon = NULL;
    }
    l->connected = false;
    l->ready = false;
    l->hs_failed = false;
    node_outbox_reset(a, c);
}

static int
s_sock_options(void *sock, const struct node_config *c, const uint8_t *srv,
               const ewh_secret_t *sec)
{
    int zero = 0, one = 1, hb = (int)c->heartbeat_ms, hbt = 3 * hb;
    int ivl = (int)c->reconnect_ms, ivlmax = (int)c->reconnect_max_ms;
    int64_t maxmsg = EWH_MAX_FRAME_BYTES + 1024;

    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, srv, 32) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, ewh_secret_pubid(sec)->curve,
                       32) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, ewh_secret_curve_sk(sec),
                       32) ||
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) ||
        zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one)) ||
        zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) ||
        zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivlmax, sizeof(ivlmax)) ||
        zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) ||
        zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof(hbt)) ||
        zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &hbt, sizeof(hbt)) ||
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)))
        return -1;
    return 0;
}

/* Watch the socket's handshakes through an inproc PAIR. */
static int
s_sock_monitor(struct node_agent *a, struct node_conn *c, struct ewh_err *err)
{
    struct node_link *l = &c->link;
    char ep[64];
    int zero = 0;

    snprintf(ep, sizeof(ep), S_MON_EP, a->mon_gen++);
    if (zmq_socket_monitor(l->sock, ep,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (l->mon = zmq_socket(a->zctx, ZMQ_PAIR)) == NULL ||
        zmq_setsockopt(l->mon, ZMQ_LINGER, &zero, sizeof(zero)) ||
        zmq_connect(l->mon, ep) != 0)
        return ewh_err_set(err, EWH_E_IO, "zmq monitor: %s",
                           zmq_strerror(errno));
    return 0;
}

/* Open the socket with the key pair try_idx names.  On failure the
 * caller closes what was opened. */
static int
s_sock_open(struct node_agent *a, struct node_conn *c, struct ewh_err *err)
{
    struct node_link *l = &c->link;
    const ewh_secret_t *alt = s_alt_key(a);
    const ewh_secret_t *sec =
        (l->try_idx & 1) && alt != NULL ? alt : a->d->secret;
    const uint8_t *srv = (l->try_idx & 2) && s_has_next(a, c)
                             ? a->d->hub_next.curve
                             : c->pin.curve;

    if ((l->sock = zmq_socket(a->zctx, ZMQ_DEALER)) == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq: %s", zmq_strerror(errno));
    if (l->try_idx != 0)
        ewh_log_info("agent: trying %s node key and %s hub key%s",
                     (l->try_idx & 1)
                         ? (a->key.next != NULL ? "the new" : "the previous")
                         : "the current",
                     (l->try_idx & 2) ? "the announced" : "the pinned", c->via);
    if (s_sock_options(l->sock, &a->d->cfg, srv, sec) != 0)
        return ewh_err_set(err, EWH_E_IO, "zmq setsockopt: %s",
                           zmq_strerror(errno));
    if (s_sock_monitor(a, c, err) != 0)
        return -1;
    if (zmq_connect(l->sock, c->endpoint) != 0)
        return ewh_err_set(err, EWH_E_INVALID, "hub endpoint %s: %s",
                           c->endpoint, zmq_strerror(errno));
    return 0;
}

int
node_link_init(struct node_agent *a, struct ewh_err *err)
{
    if ((a->zctx = zmq_ctx_new()) == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq: %s", zmq_strerror(errno));
    return 0;
}

int
node_link_open(struct node_agent *a, struct node_conn *c, struct ewh_err *err)
{
    struct node_link *l = &c->link;

    l->probe_fd = -1;
    l->opened = true;
    if (s_sock_open(a, c, err) != 0)
        return -1;
    if (c == &a->conn[0]) {
        /* Keep when the link was last up, from the previous run. */
        node_linkstate_read(a->d, &l->ls);
        l->ls.state = NODE_LS_UNKNOWN;
        l->ls.started = 0;
    }
    s_state(a, c, NODE_LS_CONNECTING, NULL);
    return 0;
}

void
node_link_close(struct node_agent *a, struct node_conn *c)
{
    struct node_link *l = &c->link;
    size_t i;

    s_sock_close(a, c);
    if (l->probe_fd >= 0)
        close(l->probe_fd);
    l->probe_fd = -1;
    if (l->opened)
        s_state(a, c, NODE_LS_STOPPED, "the agent stopped");
    l->opened = false;
    for (i = 0; i < l->n_later; i++)
        free(l->later[i].buf);
    free(l->later);
    l->later = NULL;
    l->n_later = l->cap_later = 0;
    ewh_roster_destroy(&l->roster);
}

void
node_link_term(struct node_agent *a)
{
    if (a->zctx != NULL)
        zmq_ctx_term(a->zctx);
    a->zctx = NULL;
}

void
node_link_reopen(struct node_agent *a, struct node_conn *c)
{
    struct ewh_err err = {0};
    struct node_link *l = &c->link;

    if (a->zctx == NULL || !l->opened)
        return; /* before node_link_open(): it opens with the keys now set */
    s_sock_close(a, c);
    l->reopen_at = 0;
    if (s_sock_open(a, c, &err) == 0)
        return;
    /* Survived: without a socket the loop waits on its signals and
     * timers, and tries again. */
    ewh_log_errx("agent: reconnect: %s; trying again in %d ms%s", err.reason,
                 NODE_REOPEN_MS, c->via);
    s_sock_close(a, c);
    l->reopen_at = ewh_mono_ms() + NODE_REOPEN_MS;
}

/* ---- timers ---- */

/* No session for NODE_LS_WARN_MS: say so once, and why if the monitor or
 * a TCP connect of our own tells (linkstate.h, probe.h). */
static void
s_link_watch(struct node_agent *a, struct node_conn *c)
{
    struct node_link *l = &c->link;
    int64_t now = ewh_mono_ms();
    const char *why;
    char buf[200];

    if (l->connected) {
        l->probed = false;
        if (l->probe_fd >= 0)
            close(l->probe_fd);
        l->probe_fd = -1;
        return;
    }
    if (l->down_ms == 0) {
        l->down_ms = now;
        return;
    }
    if (!l->probed && now - l->down_ms >= NODE_LS_WARN_MS / 3) {
        l->probed = true;
        l->probe_fd =
            node_probe_start(c->endpoint, l->probe_why, sizeof(l->probe_why));
    }
    if (l->warned || now - l->down_ms < NODE_LS_WARN_MS)
        return;
    l->warned = true;
    if (l->probe_fd >= 0) {
        node_probe_result(l->probe_fd, l->probe_why, sizeof(l->probe_why));
        l->probe_fd = -1;
    }
    if (l->ls.state == NODE_LS_REFUSED || l->ls.state == NODE_LS_HANDSHAKE)
        why = l->ls.reason;
    else if (l->tcp_seen)
        why = "TCP connects but no handshake completes (is it an ewhub?)";
    else if (l->probe_why[0] != '\0' &&
             strcmp(l->probe_why, "TCP connects") != 0) {
        snprintf(buf, sizeof(buf), "no TCP connection: %s", l->probe_why);
        why = buf;
    } else
        why = "no TCP connection: nothing listening there, connection "
              "refused, or no route";
    ewh_log_warnx("agent: cannot reach the hub at %s for %lld s: %s; "
                  "retrying (at most every %u ms)",
                  c->endpoint, (long long)(now - l->down_ms) / 1000, why,
                  a->d->cfg.reconnect_max_ms);
    if (l->ls.state != NODE_LS_REFUSED && l->ls.state != NODE_LS_HANDSHAKE)
        s_state(a, c, NODE_LS_UNREACHABLE, why);
}

void
node_link_tick(struct node_agent *a, struct node_conn *c)
{
    struct node_link *l = &c->link;
    int64_t now = ewh_mono_ms();

    s_link_watch(a, c);

    if (l->reopen_at > 0 && now >= l->reopen_at)
        node_link_reopen(a, c);
    if (l->connected &&
        (l->need_hello ||
         (!l->ready && now - l->hello_at > NODE_HELLO_RETRY_MS)))
        s_hello(a, c);
    if (l->ready && now - l->beat_at >= (int64_t)a->d->cfg.heartbeat_ms)
        s_heartbeat(a, c);
}

/* The next combination of (node key, hub key) to try: current or, when
 * one is pending, the new node key (bit 0) and the hub's announced key
 * (bit 1). */
static void
s_next_try(struct node_agent *a, struct node_conn *c)
{
    struct node_link *l = &c->link;
    unsigned i, idx;

    for (i = 1; i <= 4; i++) {
        idx = (l->try_idx + i) % 4;
        if ((idx & 1) && s_alt_key(a) == NULL)
            continue;
        if ((idx & 2) && !s_has_next(a, c))
            continue;
        l->try_idx = idx;
        return;
    }
}

/* libzmq ends a session whose handshake failed (a ZAP refusal: not
 * enrolled yet, or revoked) and never reconnects it: open the socket again,
 * on a backoff, so that a country enrolled (again) later is admitted
 * without a restart. */
static void
s_reopen_refused(struct node_agent *a, struct node_conn *c, int64_t now)
{
    struct node_link *l = &c->link;

    if (!l->hs_failed || l->sock == NULL)
        return;
    if (l->refused_backoff > 0 && now - l->refused_at < l->refused_backoff)
        return;
    l->refused_backoff = l->refused_backoff == 0 ? NODE_REFUSED_MIN_MS
                         : l->refused_backoff * 2 > NODE_REFUSED_MAX_MS
                             ? NODE_REFUSED_MAX_MS
                             : l->refused_backoff * 2;
    l->refused_at = now;
    ewh_log_info("agent: handshake refused: opening the connection again "
                 "(next in %lld ms)%s",
                 (long long)l->refused_backoff, c->via);
    node_link_reopen(a, c);
}

/* A new node key is refused until the hub enrols it; a hub key works only
 * if the pinned hub key announced it. */
void
node_link_try_keys(struct node_agent *a, struct node_conn *c)
{
    struct node_link *l = &c->link;
    int64_t now = ewh_mono_ms();

    if (l->connected) {
        l->down_since = 0;
        l->alt_now = false;
        return;
    }
    if (l->down_since == 0)
        l->down_since = now;
    if (now - l->down_since < (l->alt_now ? NODE_ALT_FAILED_MS : NODE_ALT_MS))
        return;
    l->alt_now = false;
    l->down_since = now;
    node_rekey_find_pending(a);
    if (s_alt_key(a) == NULL && !s_has_next(a, c) && l->try_idx == 0) {
        s_reopen_refused(a, c, now);
        return;
    }
    s_next_try(a, c);
    node_link_reopen(a, c);
}
