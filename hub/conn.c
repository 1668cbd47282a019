/* conn.c — the ROUTER socket: bind, re-bind, monitor, read one message,
 * check who sent it, dispatch it to its module; every send. */
#include "hubint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "audit.h"
#include "zap.h"
#include "ewh/frame.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

/* ---- the socket ---- */

static int
s_options(struct hub *h)
{
    void *r = h->conn.router;
    int one = 1, hwm = EWH_HUB_SNDHWM, rcvhwm = EWH_HUB_RCVHWM,
        hb = HUB_HEARTBEAT_MS;
    int ttl = HUB_HEARTBEAT_TTL, hs = EWH_HUB_HANDSHAKE_MS,
        backlog = EWH_HUB_BACKLOG;
    int64_t maxmsg = EWH_MAX_FRAME_BYTES + 1024;

    if (zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, ewh_secret_curve_sk(h->a->key),
                       32) != 0 ||
        zmq_setsockopt(r, ZMQ_ZAP_DOMAIN, "ewhub", 5) != 0 ||
        zmq_setsockopt(r, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(r, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(r, ZMQ_RCVHWM, &rcvhwm, sizeof(rcvhwm)) != 0 ||
        zmq_setsockopt(r, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
        zmq_setsockopt(r, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) != 0 ||
        zmq_setsockopt(r, ZMQ_HEARTBEAT_TTL, &ttl, sizeof(ttl)) != 0 ||
        zmq_setsockopt(r, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof(ttl)) != 0 ||
        zmq_setsockopt(r, ZMQ_HANDSHAKE_IVL, &hs, sizeof(hs)) != 0 ||
        zmq_setsockopt(r, ZMQ_BACKLOG, &backlog, sizeof(backlog)) != 0)
        return -1;
    return 0;
}

int
hub_conn_open(struct hub *h, const char *endpoint, struct ewh_err *err)
{
    struct hub_conn *c = &h->conn;
    char monep[64];
    size_t len;
    int tries, zero = 0;

    c->router = zmq_socket(h->zctx, ZMQ_ROUTER);
    if (c->router == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq_socket: %s",
                           zmq_strerror(zmq_errno()));
    if (s_options(h) != 0)
        return ewh_err_set(err, EWH_E_IO, "router options: %s",
                           zmq_strerror(zmq_errno()));
    /* The monitor first: the gate hears of the listening socket
     * (LISTENING) and of every connection. */
    snprintf(monep, sizeof(monep), "inproc://ewhub-monitor-%u", c->mon_gen++);
    if (zmq_socket_monitor(c->router, monep,
                           ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPTED |
                               ZMQ_EVENT_CLOSED | ZMQ_EVENT_LISTENING |
                               ZMQ_EVENT_ACCEPT_FAILED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (c->mon = zmq_socket(h->zctx, ZMQ_PAIR)) == NULL ||
        /* No HWM on the events' pipe: libzmq sends each event with a
         * blocking send from the I/O thread that saw it
         * (socket_base.cpp monitor_event), so a full pipe would hold that
         * thread, and an event must never wait or be lost.  An inproc
         * pipe's limit is the sum of both sides', none if either is 0
         * (socket_base.cpp connect). */
        zmq_setsockopt(c->mon, ZMQ_RCVHWM, &zero, sizeof(zero)) != 0 ||
        zmq_connect(c->mon, monep) != 0)
        return ewh_err_set(err, EWH_E_IO, "monitor: %s",
                           zmq_strerror(zmq_errno()));
    /* A re-bind may race the old listener's close in the I/O thread. */
    for (tries = 0; zmq_bind(c->router, endpoint) != 0; tries++) {
        if (zmq_errno() != EADDRINUSE || tries >= 200)
            return ewh_err_set(err, EWH_E_IO, "bind %s: %s", endpoint,
                               zmq_strerror(zmq_errno()));
        usleep(10 * 1000);
    }
    len = sizeof(c->endpoint);
    if (zmq_getsockopt(c->router, ZMQ_LAST_ENDPOINT, c->endpoint, &len) != 0)
        return ewh_err_set(err, EWH_E_IO, "last endpoint: %s",
                           zmq_strerror(zmq_errno()));
    return 0;
}

void
hub_conn_close(struct hub *h, int linger)
{
    struct hub_conn *c = &h->conn;
    size_t i;

    if (c->router != NULL) {
        (void)zmq_socket_monitor(c->router, NULL, 0);
        zmq_setsockopt(c->router, ZMQ_LINGER, &linger, sizeof(linger));
        zmq_close(c->router);
        c->router = NULL;
    }
    if (c->mon != NULL) {
        int zero = 0;
        zmq_setsockopt(c->mon, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(c->mon);
        c->mon = NULL;
    }
    for (i = 0; h->peers != NULL && i < hub_peers_count(h->peers); i++)
        hub_peer_conn_clear(hub_peers_at(h->peers, i));
    hub_gate_clear(h);
}

int
hub_conn_rebind(struct hub *h)
{
    struct ewh_err err = {0};

    h->n.rebinds++;
    hub_conn_close(h, HUB_CLOSE_LINGER_MS);
    if (hub_conn_open(h, h->conn.endpoint, &err) != 0) {
        /* Survived: no peer can reach the hub until a retry binds. */
        ewh_log_err("router: re-bind: %s (retrying)", err.reason);
        hub_conn_close(h, 0);
        h->conn.rebind_due = true;
        return -1;
    }
    h->conn.rebind_due = false;
    return 0;
}

void
hub_conn_retry(struct hub *h)
{
    if (!h->conn.rebind_due)
        return;
    if (hub_conn_rebind(h) == 0)
        ewh_log_info("router: listening again on %s", h->conn.endpoint);
}

int
hub_conn_write_endpoint(struct hub *h, struct ewh_err *err)
{
    char path[4096], line[HUB_MAX_ENDPOINT + 2];

    snprintf(path, sizeof(path), "%s/endpoint", h->a->dir);
    snprintf(line, sizeof(line), "%s\n", h->conn.endpoint);
    return ewh_keyfile_write(path, line, strlen(line), 0644, err);
}

/* ---- the monitor: disconnects ---- */

/* That one connection went: another of the same country keeps (or takes
 * over) the session. */
static void
s_on_disconnect(struct hub *h, int fd)
{
    size_t i;

    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        switch (hub_peer_conn_gone(n, fd, NULL, 0)) {
        case 1:
            ewh_log_info("router: %s: a second connection went away; the "
                         "session stays",
                         n->cc);
            break;
        case 2:
            ewh_log_info("router: %s: session moved to its other connection",
                         n->cc);
            hub_roster_send(h, n);
            break;
        case 3:
            ewh_log_info("router: %s disconnected", n->cc);
            (void)hub_event_new(h, HUB_EV_DISCONNECTED, n->cc, NULL);
            h->status_due = true;
            break;
        default:
            break;
        }
    }
}

void
hub_conn_on_monitor(struct hub *h)
{
    zmq_msg_t m;
    uint16_t ev;
    uint32_t val;
    int more;

    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, h->conn.mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        more = zmq_msg_more(&m);
        if (zmq_msg_size(&m) >= 6) {
            memcpy(&ev, zmq_msg_data(&m), 2);
            memcpy(&val, (uint8_t *)zmq_msg_data(&m) + 2, 4);
            if (ev == ZMQ_EVENT_ACCEPTED)
                hub_gate_accepted(h, (int)val);
            else if (ev == ZMQ_EVENT_LISTENING)
                hub_gate_listening(h, (int)val);
            else if (ev == ZMQ_EVENT_ACCEPT_FAILED)
                hub_gate_accept_failed(h, (int)val);
            else if (ev == ZMQ_EVENT_DISCONNECTED || ev == ZMQ_EVENT_CLOSED)
                hub_gate_done(h, (int)val);
            /* The HANDSHAKE_* events carry a status, not the fd
             * (stream_engine_base.cpp): a connection leaves the gate's
             * pending list with its first message (hub_gate_seen). */
            if (ev == ZMQ_EVENT_DISCONNECTED) {
                s_on_disconnect(h, (int)val);
            } else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
                ewh_log_debug("router: handshake failed (event %u, %u)", ev,
                              val);
        }
        zmq_msg_close(&m);
        while (more) {
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, h->conn.mon, 0) < 0) {
                zmq_msg_close(&m);
                return;
            }
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
    }
}

/* ---- sending ---- */

int
hub_conn_send(struct hub *h, const uint8_t *rid, size_t rid_len,
              const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = -1;

    if (rid_len == 0 || h->conn.router == NULL)
        return -1;
    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("router: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return -1;
    }
    /* Deliveries and relays have their own bounds (deliver.c); every
     * other frame is an answer, bounded per connection (gate.c). */
    if (f->msg_case != EWH__FRAME__MSG_DELIVER &&
        f->msg_case != EWH__FRAME__MSG_RECEIPT_RELAY &&
        f->msg_case != EWH__FRAME__MSG_NOTICE &&
        !hub_gate_out_ok(h, rid, rid_len, len)) {
        errno = EAGAIN;
        goto out;
    }
    if (zmq_send(h->conn.router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        goto out;
    if (zmq_send(h->conn.router, buf, len, ZMQ_DONTWAIT) < 0)
        goto out;
    rc = 0;
out:
    free(buf);
    return rc;
}

void
hub_conn_send_error(struct hub *h, const uint8_t *rid, size_t rid_len,
                    enum ewh_errcode code, const char *reason)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Error e = EWH__ERROR__INIT;

    e.code = (uint32_t)code;
    e.reason = (char *)reason;
    f.msg_case = EWH__FRAME__MSG_ERROR;
    f.error = &e;
    (void)hub_conn_send(h, rid, rid_len, &f);
}

void
hub_conn_send_receipt_ack(struct hub *h, const struct hub_from *to,
                          const struct ewh_receipt *rc,
                          const struct ewh_err *refused)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ReceiptAck ra = EWH__RECEIPT_ACK__INIT;
    ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];

    ewh_receipt_ack_fill(&ra, rc, ids);
    if (refused != NULL) {
        ra.refused_code = (uint32_t)refused->code;
        ra.refused = (char *)refused->reason;
    }
    f.msg_case = EWH__FRAME__MSG_RECEIPT_ACK;
    f.receipt_ack = &ra;
    (void)hub_conn_send(h, to->rid, to->rid_len, &f);
}

void
hub_conn_send_ack(struct hub *h, const struct hub_from *to,
                  const uint8_t id[EWH_ID_BYTES], enum hub_status st,
                  const struct ewh_err *err, const uint8_t *cp, size_t cp_len)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SubmitAck a = EWH__SUBMIT_ACK__INIT;
    Ewh__Checkpoint *c = NULL;

    a.id.data = (uint8_t *)id;
    a.id.len = EWH_ID_BYTES;
    a.status = (Ewh__AckStatus)st;
    if (st == HUB_REFUSED && err != NULL) {
        a.code = (uint32_t)err->code;
        a.reason = (char *)err->reason;
        a.retry = ewh_errcode_is_retryable(err->code);
    }
    if (cp != NULL && (c = ewh__checkpoint__unpack(NULL, cp_len, cp)) != NULL)
        a.checkpoint = c;
    f.msg_case = EWH__FRAME__MSG_SUBMIT_ACK;
    f.submit_ack = &a;
    (void)hub_conn_send(h, to->rid, to->rid_len, &f);
    if (c != NULL)
        ewh__checkpoint__free_unpacked(c, NULL);
}

/* ---- frames from nodes ---- */

/* A node from before key continuity: it would accept any key the hub
 * gives for a peer.  The hub goes on serving it (an upgrade is rolled out
 * node by node) but says, once per connection, what it lacks. */
static void
s_tell_not_upgraded(struct hub *h, struct hub_peer *n)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Error e = EWH__ERROR__INIT;

    ewh_log_warnx("router: %s has not upgraded: its agent does not check "
                  "key continuity, roster chains or split views "
                  "(docs/trust.md)",
                  n->cc);
    e.code = EWH_E_VERSION;
    e.reason = "this node has not upgraded: it lacks key continuity "
               "(endorsed re-keys), unverified-peer checks and split-view "
               "detection, so it would seal for any key the hub gives; "
               "upgrade ewnode (docs/trust.md)";
    f.msg_case = EWH__FRAME__MSG_ERROR;
    f.error = &e;
    (void)hub_conn_send(h, n->rid, n->rid_len, &f);
}

/* A node holds a checkpoint we signed at a length beyond our chain: this
 * hub lost acknowledged reports (a damaged WAL, a restore).  Said at
 * error, counted, shown in status, and told to the node. */
static void
s_check_chain(struct hub *h, struct hub_peer *n, const struct hub_from *from,
              uint64_t len)
{
    char why[EWH_MAX_REASON_BYTES];

    if (len <= h->chain.len) {
        n->ckpt_ahead = 0;
        return;
    }
    n->ckpt_ahead = len;
    h->n.audit_behind++;
    h->status_due = true;
    hub_metrics_audit_behind(h->m);
    ewh_log_errx("audit: %s holds a checkpoint at length %llu, beyond this "
                 "hub's chain (%llu): the hub lost acknowledged reports "
                 "(damaged store or restore; docs/operations.md)",
                 n->cc, (unsigned long long)len,
                 (unsigned long long)h->chain.len);
    snprintf(why, sizeof(why),
             "hub audit chain at %llu is behind your checkpoint at %llu: "
             "the hub lost acknowledged reports",
             (unsigned long long)h->chain.len, (unsigned long long)len);
    hub_conn_send_error(h, from->rid, from->rid_len, EWH_E_STORE, why);
}

static void
s_on_hello(struct hub *h, struct hub_peer *n, const struct hub_from *from,
           int fd, const char *key, const Ewh__Hello *m)
{
    struct ewh_err err = {0};
    uint64_t queued = 0;

    /* A closed connection's fd may be this one's now: take its
     * DISCONNECTED event first, so that it cannot end this session. */
    hub_conn_on_monitor(h);
    if (n->n_conns > 0)
        ewh_log_info("router: %s: another connection (%zu already)", n->cc,
                     n->n_conns);
    (void)hub_peer_conn_hello(n, from->rid, from->rid_len, fd, key, m->credit,
                              ewh_now());
    (void)hub_event_new(h, HUB_EV_CONNECTED, n->cc, NULL);
    h->status_due = true;
    n->roster_known = true;
    n->roster_version = m->roster_version;
    n->features = m->features;
    if (hub_store_queued(h->st, n->cc, &queued, &err) != 0)
        ewh_log_warnx("router: queue of %s: %s", n->cc, err.reason);
    ewh_log_info("router: %s connected (credit %u, roster %llu, queued %llu)",
                 n->cc, m->credit, (unsigned long long)m->roster_version,
                 (unsigned long long)queued);
    s_check_chain(h, n, from, m->checkpoint_length);
    if (!(m->features & EWH_FEATURE_TRUST))
        /* docs/trust.md: told in its own log (the Error frame) and ours. */
        s_tell_not_upgraded(h, n);
    /* The newest roster, not one from before the last enrolment: a node's
     * first roster is the one it trusts on first use (docs/trust.md). */
    (void)hub_roster_zap(h, true);
    hub_roster_send(h, n);
    hub_catalogue_send(h, n);
    /* The foreign regions' rosters (docs/federation.md), to a node that
     * knows the frame. */
    if (m->features & EWH_FEATURE_FEDERATION)
        hub_fed_rosters_to_node(h, from->rid, from->rid_len);
}

/* AuditRequest: answer on the connection that asked (ewnode audit may use
 * a second connection of the same country; the agent's is untouched). */
static void
s_on_audit(struct hub *h, struct hub_peer *n, const struct hub_from *from,
           const Ewh__AuditRequest *m)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;

    /* A budget per country (each answer is up to tens of kB, queued
     * whether or not the node reads): beyond it, no answer. */
    if (!hub_bucket_take(&n->audit, EWH_HUB_AUDIT_PER_S, ewh_mono_ms())) {
        h->n.req_dropped++;
        ewh_log_warnx("router: audit request from=%s over its budget (%d/s): "
                      "not answered",
                      from->cc, EWH_HUB_AUDIT_PER_S);
        /* Said once a second at most (a client asking in turn waits and
         * asks again); a flood that does not read gets nothing more. */
        if (hub_bucket_take(&n->audit_no, 1, ewh_mono_ms()))
            hub_conn_send_error(h, from->rid, from->rid_len, EWH_E_RATE,
                                "audit requests over budget: ask again in "
                                "a second");
        return;
    }
    if (hub_audit_proof(h->st, h->a->key, h->chain.len, h->chain.head,
                        m->from_length, m->max_entries, &buf, &len,
                        &err) != 0) {
        ewh_log_warnx("router: audit proof for %s: %s", from->cc, err.reason);
        hub_conn_send_error(h, from->rid, from->rid_len, err.code, err.reason);
        return;
    }
    ewh_log_debug("router: audit proof to=%s from_length=%llu size=%zu",
                  from->cc, (unsigned long long)m->from_length, len);
    if (!hub_gate_out_ok(h, from->rid, from->rid_len, len) ||
        zmq_send(h->conn.router, from->rid, from->rid_len,
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(h->conn.router, buf, len, ZMQ_DONTWAIT) < 0)
        ewh_log_debug("router: audit proof to %s not sent", from->cc);
    free(buf);
}

static void
s_refuse_frame(struct hub *h, const struct hub_from *from,
               const struct ewh_err *err)
{
    h->n.bad_frames++;
    ewh_log_warnx("router: refused frame from=%s reason=\"%s\"", from->cc,
                  err->reason);
    /* A budget of Errors per country: junk costs the sender its frame,
     * and beyond the budget not even an answer. */
    if (hub_gate_error_ok(h, from->cc))
        hub_conn_send_error(h, from->rid, from->rid_len, err->code,
                            err->reason);
}

/* A request over its connection's budget (gate.c): dropped unprocessed,
 * counted, logged (limited); told so within the Errors' budget. */
static void
s_over_budget(struct hub *h, const struct hub_from *from, const char *what,
              int per_s)
{
    char why[EWH_MAX_REASON_BYTES];

    h->n.req_dropped++;
    ewh_log_warnx("router: %s from=%s over its budget (%d/s): dropped", what,
                  from->cc, per_s);
    if (!hub_gate_error_ok(h, from->cc))
        return;
    snprintf(why, sizeof(why), "%s over budget (%d/s): dropped", what, per_s);
    hub_conn_send_error(h, from->rid, from->rid_len, EWH_E_RATE, why);
}

static void
s_dispatch(struct hub *h, struct hub_peer *n, const struct hub_from *from,
           int fd, const char *key, const ewh_frame_t *f)
{
    struct ewh_err err = {0};

    switch (f->msg_case) {
    case EWH__FRAME__MSG_HELLO:
        if (!hub_gate_budget(h, from->rid, from->rid_len, HUB_REQ_HELLO)) {
            s_over_budget(h, from, "hello", EWH_HUB_HELLOS_PER_S);
            break;
        }
        s_on_hello(h, n, from, fd, key, f->hello);
        break;
    case EWH__FRAME__MSG_SUBMIT:
        if (h->stopping) {
            ewh_err_set(&err, EWH_E_SHUTDOWN, "hub is shutting down");
            hub_admit_refuse(h, from, NULL, &err);
            break;
        }
        hub_admit_submit(h, n, from, f->submit);
        break;
    case EWH__FRAME__MSG_DELIVER_ACK:
        hub_batch_add_dack(h, n->cc, f->deliver_ack);
        break;
    case EWH__FRAME__MSG_RECEIPT:
        if (!hub_gate_budget(h, from->rid, from->rid_len, HUB_REQ_RECEIPT)) {
            s_over_budget(h, from, "receipt", EWH_HUB_RECEIPTS_PER_S);
            break;
        }
        hub_receipt_on(h, n, from, f->receipt);
        break;
    case EWH__FRAME__MSG_RECEIPT_ACK:
        hub_batch_add_rack(h, n->cc, f->receipt_ack->seq);
        break;
    case EWH__FRAME__MSG_NOTICE_ACK:
        hub_batch_add_rack(h, n->cc, f->notice_ack->seq);
        break;
    case EWH__FRAME__MSG_AUDIT_REQUEST:
        s_on_audit(h, n, from, f->audit_request);
        break;
    case EWH__FRAME__MSG_HEARTBEAT:
        /* The node is alive (last_seen is set for every frame) and holds
         * this roster (a pushed one is applied without a new Hello). */
        if (n->connected && from->rid_len == n->rid_len &&
            memcmp(from->rid, n->rid, n->rid_len) == 0) {
            n->roster_known = true;
            n->roster_version = f->heartbeat->roster_version;
        }
        break;
    default:
        ewh_err_set(&err, EWH_E_INVALID, "unexpected %s frame",
                    ewh_frame_name(f));
        s_refuse_frame(h, from, &err);
        break;
    }
}

/* One frame per message: drop the whole multipart message.  (libzmq
 * bounds each part by max_frame_bytes but buffers all parts before we see
 * the first: see docs/reliability.md.) */
static void
s_drop_multipart(struct hub *h, zmq_msg_t *rid, zmq_msg_t *body)
{
    zmq_msg_t extra;
    int more = 1;
    size_t parts = 1, total = zmq_msg_size(body);
    uint64_t wire = hub_gate_wire(zmq_msg_size(body));
    const char *who = zmq_msg_gets(body, "User-Id");
    char from[3];

    snprintf(from, sizeof(from), "%s", who != NULL ? who : "-");
    while (more) {
        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, h->conn.router, 0) < 0)
            more = 0;
        else {
            more = zmq_msg_more(&extra);
            parts++;
            total += zmq_msg_size(&extra);
            wire += hub_gate_wire(zmq_msg_size(&extra));
        }
        zmq_msg_close(&extra);
    }
    if (who != NULL)
        hub_gate_seen(h, zmq_msg_data(rid), zmq_msg_size(rid),
                      zmq_msg_get(body, ZMQ_SRCFD), wire);
    h->n.bad_frames++;
    ewh_log_warnx("router: refused frame from=%s reason=\"multipart "
                  "message of %zu parts, %zu bytes\"",
                  from, parts, total);
}

/* The connection was admitted under the roster of that moment: check the
 * country and its key against the roster of now. */
static bool
s_sender_ok(struct hub *h, zmq_msg_t *rid, const char *cc, const char *key)
{
    struct ewh_err err = {0};
    const struct ewh_pubid *id;
    char keyhex[65];
    bool revoked;

    id = ewh_roster_find(h->ros.roster, cc, &revoked);
    if (id != NULL && !revoked &&
        strcmp(ewh_hex(id->curve, 32, keyhex, sizeof(keyhex)), key) == 0)
        return true;
    h->n.bad_frames++;
    /* Told why.  revoked: the country is refused; unknown: this key is (a
     * re-key), the node's new key is not. */
    ewh_err_set(&err, id == NULL || revoked ? EWH_E_REVOKED : EWH_E_UNKNOWN,
                "%s",
                id == NULL ? "this node is not enrolled"
                : revoked  ? "this node is revoked"
                           : "this node's key was replaced");
    ewh_log_warnx("router: refused frame from=%s reason=\"%s\"", cc,
                  err.reason);
    hub_conn_send_error(h, zmq_msg_data(rid), zmq_msg_size(rid), err.code,
                        err.reason);
    return false;
}

/* The sender is known (s_sender_ok): size, decode, dispatch. */
static void
s_on_frame(struct hub *h, zmq_msg_t *rid, zmq_msg_t *body, const char *cc,
           const char *key)
{
    struct ewh_err err = {0};
    struct hub_from from;
    ewh_frame_t *f = NULL;
    struct hub_peer *n;

    if ((n = hub_peers_get(h->peers, cc, true)) == NULL)
        return;
    n->last_seen = ewh_now();
    memcpy(from.cc, n->cc, EWH_CC_BYTES);
    memcpy(from.rid, zmq_msg_data(rid), zmq_msg_size(rid));
    from.rid_len = zmq_msg_size(rid);
    if (zmq_msg_size(body) > h->cfg->max_frame_bytes) {
        ewh_err_set(&err, EWH_E_TOOBIG,
                    "frame of %zu bytes > max_frame_bytes "
                    "%u",
                    zmq_msg_size(body), h->cfg->max_frame_bytes);
        s_refuse_frame(h, &from, &err);
        return;
    }
    if (ewh_frame_decode(zmq_msg_data(body), zmq_msg_size(body), &f, &err) !=
        0) {
        s_refuse_frame(h, &from, &err);
        return;
    }
    ewh_log_debug("router: %s from=%s size=%zu", ewh_frame_name(f), cc,
                  zmq_msg_size(body));
    s_dispatch(h, n, &from, zmq_msg_get(body, ZMQ_SRCFD), key, f);
    ewh_frame_destroy(&f);
}

int
hub_conn_read(struct hub *h)
{
    zmq_msg_t rid, body;
    const char *cc, *key;
    int rc = 0;

    if (h->conn.router == NULL)
        return 1;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&rid, h->conn.router, ZMQ_DONTWAIT) < 0) {
        rc = 1;
        goto out;
    }
    if (!zmq_msg_more(&rid) || zmq_msg_size(&rid) > HUB_MAX_RID ||
        zmq_msg_recv(&body, h->conn.router, 0) < 0)
        goto out;
    if (zmq_msg_more(&body)) {
        s_drop_multipart(h, &rid, &body);
        goto out;
    }
    cc = zmq_msg_gets(&body, "User-Id");
    key = zmq_msg_gets(&body, HUB_ZAP_KEY_PROP);
    if (cc != NULL && cc[0] == '@' && key != NULL) {
        /* A peer hub's link (docs/federation.md): fed_in.c. */
        hub_fed_on_frame(h, cc + 1, key, zmq_msg_data(&rid), zmq_msg_size(&rid),
                         zmq_msg_data(&body), zmq_msg_size(&body));
        goto out;
    }
    if (cc == NULL || strlen(cc) != 2 || key == NULL) {
        h->n.bad_frames++;
        goto out;
    }
    hub_gate_seen(h, zmq_msg_data(&rid), zmq_msg_size(&rid),
                  zmq_msg_get(&body, ZMQ_SRCFD),
                  hub_gate_wire(zmq_msg_size(&body)));
    if (s_sender_ok(h, &rid, cc, key))
        s_on_frame(h, &rid, &body, cc, key);
out:
    zmq_msg_close(&body);
    zmq_msg_close(&rid);
    return rc;
}
