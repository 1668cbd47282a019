/* router.c — hub_run(): the hub's zmq_poll() loop, group commit, relay. */
#include "router.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "audit.h"
#include "metrics.h"
#include "queue.h"
#include "verify.h"
#include "retention.h"
#include "rotate.h"
#include "zap.h"
#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/frame.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"
#include "catalogue.h"
#include "ewh/util.h"

#define S_TURN_BUDGET     2048 /* ROUTER messages read per loop turn */
#define S_TURN_MS         10   /* ... or for at most this long */
#define S_ROSTER_CHECK_MS 250  /* how often enroll/revoke are noticed */
#define S_TICK_MS         1000 /* expiry sweep, status file */
/* Queue counts are kept in memory as reports come and go; recounting
 * scans every queued row, so only after an expiry and as a safety net. */
#define S_RECOUNT_MS 30000
#define S_HWM        100000
/* Messages queued from one node before libzmq stops reading its socket
 * (TCP pushes back): more than max_inflight_submits of a well-behaved node,
 * few enough that a flooding node cannot fill the hub's memory. */
#define S_RCVHWM          4096
#define S_HEARTBEAT_MS    5000
#define S_HEARTBEAT_TTL   15000
#define S_CLOSE_LINGER_MS 200 /* flush final acks on close/re-bind */

enum s_status {
    S_PENDING = 0,
    S_ACCEPTED = EWH__ACK_STATUS__ACK_ACCEPTED,
    S_DUPLICATE = EWH__ACK_STATUS__ACK_DUPLICATE,
    S_REFUSED = EWH__ACK_STATUS__ACK_REFUSED,
};

struct s_submit {
    char cc[EWH_CC_BYTES];
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
    uint8_t *env;
    size_t len;
    struct ewh_header hdr;
    uint8_t hash[EWH_HASH_BYTES];
    enum s_status status;
    struct ewh_err err;
    bool retry;
};

struct s_dack {
    char cc[EWH_CC_BYTES];
    uint64_t seq;
    uint8_t id[EWH_ID_BYTES];
    bool done;
    enum ewh_level level; /* the report's, when done */
};

struct s_rack {
    char cc[EWH_CC_BYTES];
    uint64_t seq;
};

struct s_rcpt {
    char cc[EWH_CC_BYTES];
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
    struct ewh_receipt rc;
    char origin[EWH_CC_BYTES];
    uint8_t *buf;
    size_t len;
    size_t added; /* reports that had no such receipt yet */
};

/* A submit read this turn, waiting for the verify pool. */
struct s_pend {
    char cc[EWH_CC_BYTES];
    uint8_t rid[HUB_MAX_RID];
    size_t rid_len;
    uint8_t *env;
    size_t len;
};

/* The ids of a batch's submits, for the duplicates within one batch (the
 * store already has every earlier one): open addressing over
 * S_BATCH_IDS slots holding index + 1.  A batch with more submits than
 * half of it checks in the store instead (ids_full). */
#define S_BATCH_IDS 4096

struct s_batch {
    struct s_submit *sub;
    size_t n_sub, cap_sub;
    uint32_t ids[S_BATCH_IDS];
    bool ids_full;
    struct s_dack *dack;
    size_t n_dack, cap_dack;
    struct s_rack *rack;
    size_t n_rack, cap_rack;
    struct s_rcpt *rcpt;
    size_t n_rcpt, cap_rcpt;
};

struct hub {
    const struct hub_run_args *a;
    const struct hub_config *cfg;
    void *zctx;
    void *router;
    void *zap;
    void *mon;
    unsigned mon_gen;
    char endpoint[HUB_MAX_ENDPOINT];
    hub_store_t *st;
    ewh_roster_t *roster;
    uint8_t *roster_buf;
    size_t roster_len;
    hub_catalogue_t *cat; /* the catalogue of concern (catalogue.h) */
    hub_queue_t *q;
    struct s_batch b;
    hub_verify_t *vpool;
    struct s_pend *pend; /* submits read, not yet handed to the pool */
    size_t n_pend, cap_pend;
    struct s_pend *vpend; /* submits the pool verifies (jobs) */
    size_t n_vpend, cap_vpend;
    struct hub_verify_job *jobs;
    size_t cap_jobs;
    uint64_t pushed_version; /* roster version last pushed to nodes */
    uint64_t audit_len;
    uint8_t audit_head[EWH_HASH_BYTES];
    bool stopping;
    bool expire_due;
    int64_t next_roster_ms;
    int64_t next_tick_ms;
    int64_t next_recount_ms;
    bool recount_due;
    struct s_ratelog {
        char cc[EWH_CC_BYTES];
        int64_t at_ms;       /* last rate refusal logged */
        uint64_t suppressed; /* rate refusals not logged since */
    } ratelog[EWH_MAX_ROSTER_ENTRIES];
    size_t n_ratelog;
    /* Monitoring (issue 5): counters for /metrics, traffic events waiting
     * for the next batch, the batch's signed checkpoint. */
    hub_metrics_t *m;
    struct hub_event *ev;
    size_t n_ev, cap_ev;
    uint64_t ev_dropped;
    uint8_t *cpbuf;
    size_t cplen;
    bool status_due;
    struct {
        uint64_t accepted, duplicate, refused, delivered, expired;
        uint64_t zap_refused, bad_frames, receipts, rebinds;
    } n;
};

/* ---- small helpers ---- */

static void *
s_grow(void *p, size_t *cap, size_t need, size_t size)
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

static const char *
s_idhex(const uint8_t *id, char out[EWH_ID_HEX])
{
    return ewh_hex(id, EWH_ID_BYTES, out, EWH_ID_HEX);
}

/* ---- traffic events (metadata only) ---- */

#define S_MAX_PENDING_EVENTS 10000

/* A new event to be written with the next batch, or NULL when too many
 * wait (counted).  The pointer is valid until the next call. */
static struct hub_event *
s_event(struct hub *h, int kind, const char *cc, const uint8_t *id)
{
    struct hub_event *e;

    if (h->n_ev >= S_MAX_PENDING_EVENTS) {
        h->ev_dropped++;
        return NULL;
    }
    h->ev = s_grow(h->ev, &h->cap_ev, h->n_ev + 1, sizeof(*h->ev));
    if (h->ev == NULL)
        fatalx("out of memory");
    e = &h->ev[h->n_ev++];
    memset(e, 0, sizeof(*e));
    e->at = ewh_now();
    e->kind = kind;
    e->size = -1;
    if (cc != NULL)
        snprintf(e->origin, sizeof(e->origin), "%.2s", cc);
    if (id != NULL) {
        e->has_id = true;
        memcpy(e->id, id, EWH_ID_BYTES);
    }
    return e;
}

static void
s_event_recipients(struct hub_event *e, const struct ewh_header *hdr)
{
    size_t i, off = 0;

    for (i = 0; i < hdr->n_recipients && off + 3 < sizeof(e->recipients); i++)
        off +=
            (size_t)snprintf(e->recipients + off, sizeof(e->recipients) - off,
                             "%s%.2s", i ? "," : "", hdr->recipients[i]);
}

/* Write the waiting events (inside the batch transaction). */
static int
s_events_write(struct hub *h, struct ewh_err *err)
{
    size_t i;

    for (i = 0; i < h->n_ev; i++)
        if (hub_store_event_add(h->st, &h->ev[i], err) != 0)
            return -1;
    return 0;
}

/* Send one Frame to a routing id.  Returns 0, or -1 with errno-like
 * zmq_errno() (EAGAIN, EHOSTUNREACH) when it could not be queued. */
static int
s_send_frame(struct hub *h, const uint8_t *rid, size_t rid_len,
             const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = -1;

    if (rid_len == 0)
        return -1;
    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("router: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return -1;
    }
    if (zmq_send(h->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        goto out;
    if (zmq_send(h->router, buf, len, ZMQ_DONTWAIT) < 0)
        goto out;
    rc = 0;
out:
    free(buf);
    return rc;
}

static void
s_send_error(struct hub *h, const uint8_t *rid, size_t rid_len,
             enum ewh_errcode code, const char *reason)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Error e = EWH__ERROR__INIT;

    e.code = (uint32_t)code;
    e.reason = (char *)reason;
    f.msg_case = EWH__FRAME__MSG_ERROR;
    f.error = &e;
    (void)s_send_frame(h, rid, rid_len, &f);
}

/* ReceiptAck{ids, from, kind} for a receipt stored (refused NULL) or
 * refused for good (its code and reason: the node stops sending it). */
static void
s_send_receipt_ack(struct hub *h, const uint8_t *rid, size_t rid_len,
                   const struct ewh_receipt *rc, const struct ewh_err *refused)
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
    (void)s_send_frame(h, rid, rid_len, &f);
}

static void
s_send_ack(struct hub *h, const uint8_t *rid, size_t rid_len,
           const uint8_t id[EWH_ID_BYTES], enum s_status st,
           const struct ewh_err *err, bool retry, const uint8_t *cp,
           size_t cp_len)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SubmitAck a = EWH__SUBMIT_ACK__INIT;
    Ewh__Checkpoint *c = NULL;

    a.id.data = (uint8_t *)id;
    a.id.len = EWH_ID_BYTES;
    a.status = (Ewh__AckStatus)st;
    if (st == S_REFUSED && err != NULL) {
        a.code = (uint32_t)err->code;
        a.reason = (char *)err->reason;
        a.retry = retry;
    }
    if (cp != NULL && (c = ewh__checkpoint__unpack(NULL, cp_len, cp)) != NULL)
        a.checkpoint = c;
    f.msg_case = EWH__FRAME__MSG_SUBMIT_ACK;
    f.submit_ack = &a;
    (void)s_send_frame(h, rid, rid_len, &f);
    if (c != NULL)
        ewh__checkpoint__free_unpacked(c, NULL);
}

/* Refuse a submit at once: nothing was stored. */
static void
s_refuse(struct hub *h, const char *cc, const uint8_t *rid, size_t rid_len,
         const uint8_t *id, const struct ewh_err *err, bool retry)
{
    static const uint8_t zero[EWH_ID_BYTES];
    char hex[EWH_ID_HEX];

    h->n.refused++;
    hub_metrics_refused(h->m, err->code);
    {
        struct hub_event *ev = s_event(h, HUB_EV_REFUSED, cc, id);
        if (ev != NULL) {
            snprintf(ev->code, sizeof(ev->code), "%s",
                     ewh_errcode_name(err->code));
            snprintf(ev->reason, sizeof(ev->reason), "%s", err->reason);
        }
    }
    /* A flooding node must not flood the log too: rate refusals are
     * logged once a second with the number left out. */
    if (err->code == EWH_E_RATE) {
        struct s_ratelog *rl = NULL;
        int64_t now = ewh_mono_ms();
        size_t k;
        for (k = 0; k < h->n_ratelog; k++)
            if (strcmp(h->ratelog[k].cc, cc) == 0)
                rl = &h->ratelog[k];
        if (rl == NULL && h->n_ratelog < EWH_MAX_ROSTER_ENTRIES) {
            rl = &h->ratelog[h->n_ratelog++];
            snprintf(rl->cc, sizeof(rl->cc), "%.2s", cc);
        }
        if (rl != NULL) {
            if (rl->at_ms != 0 && now - rl->at_ms < 1000) {
                rl->suppressed++;
                goto ack;
            }
            rl->at_ms = now;
            if (rl->suppressed > 0)
                ewh_log_warnx("router: %llu more rate-limit refusals from=%s "
                              "not logged",
                              (unsigned long long)rl->suppressed, cc);
            rl->suppressed = 0;
        }
    }
    ewh_log_warnx("router: refused submit from=%s id=%s reason=\"%s\"", cc,
                  id != NULL ? s_idhex(id, hex) : "-", err->reason);
ack:
    s_send_ack(h, rid, rid_len, id != NULL ? id : zero, S_REFUSED, err, retry,
               NULL, 0);
}

/* ---- roster ---- */

static int
s_roster_refresh(struct hub *h, struct ewh_err *err)
{
    ewh_roster_t *r = NULL;
    const char *cats[EWH_MAX_CATEGORIES];
    uint8_t *buf = NULL;
    size_t len = 0, i;

    /* The workers may be reading the roster that this replaces. */
    if (h->vpool != NULL)
        hub_verify_wait(h->vpool);
    if (hub_store_roster_load(h->st, &r, err) != 0)
        return -1;
    if (h->cfg->n_cats > 0) {
        for (i = 0; i < h->cfg->n_cats; i++)
            cats[i] = h->cfg->cats[i];
        if (ewh_roster_set_categories(r, cats, h->cfg->n_cats, err) != 0)
            goto fail;
    } else {
        for (i = 0; ewh_default_categories[i] != NULL; i++)
            cats[i] = ewh_default_categories[i];
        if (ewh_roster_set_categories(r, cats, i, err) != 0)
            goto fail;
    }
    /* During a key rotation: announce the next keys (ewhub rotate-keys). */
    hub_rotate_announce(h->a->dir, r);
    if (ewh_roster_sign(r, h->a->key, &buf, &len, err) != 0)
        goto fail;
    ewh_roster_destroy(&h->roster);
    free(h->roster_buf);
    h->roster = r;
    h->roster_buf = buf;
    h->roster_len = len;
    return 0;
fail:
    ewh_roster_destroy(&r);
    return -1;
}

static const ewh_roster_t *
s_zap_roster(void *ctx, bool refresh)
{
    struct hub *h = ctx;
    struct ewh_err err = {0};
    uint64_t v;

    /* Only the keys are needed here; s_roster_check() pushes the roster
     * and cuts connections when it sees the version it has not pushed. */
    if (refresh && hub_store_roster_version(h->st, &v, &err) == 0 &&
        v != ewh_roster_version(h->roster)) {
        if (s_roster_refresh(h, &err) != 0)
            ewh_log_warnx("zap: cannot reload roster: %s", err.reason);
        h->next_roster_ms = 0;
    }
    return h->roster;
}

static void
s_send_roster(struct hub *h, struct hub_node *n)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SignedRoster *sr;

    sr = ewh__signed_roster__unpack(NULL, h->roster_len, h->roster_buf);
    if (sr == NULL)
        return;
    f.msg_case = EWH__FRAME__MSG_ROSTER;
    f.roster = sr;
    if (s_send_frame(h, n->rid, n->rid_len, &f) != 0)
        ewh_log_warnx("router: cannot send roster to %s: %s", n->cc,
                      zmq_strerror(zmq_errno()));
    ewh__signed_roster__free_unpacked(sr, NULL);
}

/* The catalogue of concern, on hello and when a new version is published
 * (hub/catalogue.c). */
static void
s_send_catalogue(struct hub *h, struct hub_node *n)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SignedCatalogue *sc;
    const uint8_t *buf;
    size_t len;

    hub_catalogue_bytes(h->cat, &buf, &len);
    if (len == 0)
        return; /* none usable (catalogue.c) */
    if ((sc = ewh__signed_catalogue__unpack(NULL, len, buf)) == NULL)
        return;
    f.msg_case = EWH__FRAME__MSG_CATALOGUE;
    f.catalogue = sc;
    if (s_send_frame(h, n->rid, n->rid_len, &f) != 0)
        ewh_log_warnx("router: cannot send catalogue to %s: %s", n->cc,
                      zmq_strerror(zmq_errno()));
    ewh__signed_catalogue__free_unpacked(sc, NULL);
}

/* ---- sockets ---- */

static int
s_router_open(struct hub *h, const char *endpoint, struct ewh_err *err)
{
    int one = 1, hwm = S_HWM, rcvhwm = S_RCVHWM, hb = S_HEARTBEAT_MS;
    int ttl = S_HEARTBEAT_TTL;
    int64_t maxmsg = EWH_MAX_FRAME_BYTES + 1024;
    char monep[64];
    size_t len;
    int tries;

    h->router = zmq_socket(h->zctx, ZMQ_ROUTER);
    if (h->router == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq_socket: %s",
                           zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(h->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(h->router, ZMQ_CURVE_SECRETKEY,
                       ewh_secret_curve_sk(h->a->key), 32) != 0 ||
        zmq_setsockopt(h->router, ZMQ_ZAP_DOMAIN, "ewhub", 5) != 0 ||
        zmq_setsockopt(h->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) !=
            0 ||
        zmq_setsockopt(h->router, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(h->router, ZMQ_RCVHWM, &rcvhwm, sizeof(rcvhwm)) != 0 ||
        zmq_setsockopt(h->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) !=
            0 ||
        zmq_setsockopt(h->router, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) != 0 ||
        zmq_setsockopt(h->router, ZMQ_HEARTBEAT_TTL, &ttl, sizeof(ttl)) != 0 ||
        zmq_setsockopt(h->router, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof(ttl)) !=
            0)
        return ewh_err_set(err, EWH_E_IO, "router options: %s",
                           zmq_strerror(zmq_errno()));
    /* A re-bind may race the old listener's close in the I/O thread. */
    for (tries = 0; zmq_bind(h->router, endpoint) != 0; tries++) {
        if (zmq_errno() != EADDRINUSE || tries >= 200)
            return ewh_err_set(err, EWH_E_IO, "bind %s: %s", endpoint,
                               zmq_strerror(zmq_errno()));
        usleep(10 * 1000);
    }
    len = sizeof(h->endpoint);
    if (zmq_getsockopt(h->router, ZMQ_LAST_ENDPOINT, h->endpoint, &len) != 0)
        return ewh_err_set(err, EWH_E_IO, "last endpoint: %s",
                           zmq_strerror(zmq_errno()));
    snprintf(monep, sizeof(monep), "inproc://ewhub-monitor-%u", h->mon_gen++);
    if (zmq_socket_monitor(h->router, monep,
                           ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (h->mon = zmq_socket(h->zctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(h->mon, monep) != 0)
        return ewh_err_set(err, EWH_E_IO, "monitor: %s",
                           zmq_strerror(zmq_errno()));
    return 0;
}

static void
s_router_close(struct hub *h, int linger)
{
    size_t i;

    if (h->router != NULL) {
        (void)zmq_socket_monitor(h->router, NULL, 0);
        zmq_setsockopt(h->router, ZMQ_LINGER, &linger, sizeof(linger));
        zmq_close(h->router);
        h->router = NULL;
    }
    if (h->mon != NULL) {
        int zero = 0;
        zmq_setsockopt(h->mon, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(h->mon);
        h->mon = NULL;
    }
    for (i = 0; i < hub_queue_count(h->q); i++)
        hub_queue_disconnect(hub_queue_at(h->q, i));
}

static int
s_write_endpoint(struct hub *h, struct ewh_err *err)
{
    char path[4096], line[HUB_MAX_ENDPOINT + 2];

    snprintf(path, sizeof(path), "%s/endpoint", h->a->dir);
    snprintf(line, sizeof(line), "%s\n", h->endpoint);
    return ewh_keyfile_write(path, line, strlen(line), 0644, err);
}

/* ---- monitor ---- */

static void
s_on_monitor(struct hub *h)
{
    zmq_msg_t m;
    uint16_t ev;
    uint32_t val;
    size_t i;
    int more;

    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, h->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        more = zmq_msg_more(&m);
        if (zmq_msg_size(&m) >= 6) {
            memcpy(&ev, zmq_msg_data(&m), 2);
            memcpy(&val, (uint8_t *)zmq_msg_data(&m) + 2, 4);
            if (ev == ZMQ_EVENT_DISCONNECTED) {
                for (i = 0; i < hub_queue_count(h->q); i++) {
                    struct hub_node *n = hub_queue_at(h->q, i);
                    if (n->connected && n->fd == (int)val) {
                        ewh_log_info("router: %s disconnected", n->cc);
                        hub_queue_disconnect(n);
                        (void)s_event(h, HUB_EV_DISCONNECTED, n->cc, NULL);
                        h->status_due = true;
                    }
                }
            } else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
                ewh_log_debug("router: handshake failed (event %u, %u)", ev,
                              val);
            }
        }
        zmq_msg_close(&m);
        while (more) {
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, h->mon, 0) < 0) {
                zmq_msg_close(&m);
                return;
            }
            more = zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
    }
}

/* ---- frames from nodes ---- */

static void
s_on_hello(struct hub *h, struct hub_node *n, const uint8_t *rid,
           size_t rid_len, int fd, const char *key, const Ewh__Hello *m)
{
    hub_queue_disconnect(n);
    snprintf(n->key, sizeof(n->key), "%s", key);
    memcpy(n->rid, rid, rid_len);
    n->rid_len = rid_len;
    n->fd = fd;
    n->connected = true;
    n->connected_at = ewh_now();
    (void)s_event(h, HUB_EV_CONNECTED, n->cc, NULL);
    h->status_due = true;
    n->credit = m->credit;
    n->want_fill = true;
    ewh_log_info("router: %s connected (credit %u, roster %llu, queued %llu)",
                 n->cc, m->credit, (unsigned long long)m->roster_version,
                 (unsigned long long)hub_queue_total(n));
    s_send_roster(h, n);
    s_send_catalogue(h, n);
}

/* A submit frame: the cheap checks (in flight, rate) at once, then it
 * waits for the verify pool (s_verify_pending), which runs once a turn. */
static void
s_on_submit(struct hub *h, struct hub_node *n, const uint8_t *rid,
            size_t rid_len, const Ewh__Submit *m)
{
    struct ewh_err err = {0};
    struct ewh_header hdr;
    struct s_pend *p;

    if (n->pending_submits >= h->cfg->max_inflight_submits) {
        ewh_err_set(&err, EWH_E_RATE,
                    "more than max_inflight_submits %u in flight",
                    h->cfg->max_inflight_submits);
        s_refuse(h, n->cc, rid, rid_len, NULL, &err, true);
        return;
    }
    if (!hub_queue_take_token(n, h->cfg->submits_per_s, ewh_mono_ms())) {
        ewh_err_set(&err, EWH_E_RATE, "over submits_per_second %u",
                    h->cfg->submits_per_s);
        /* Name the id when we can read it, so the node can match. */
        if (ewh_envelope_peek(m->envelope.data, m->envelope.len, &hdr, NULL) ==
            0)
            s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, true);
        else
            s_refuse(h, n->cc, rid, rid_len, NULL, &err, true);
        return;
    }
    h->pend = s_grow(h->pend, &h->cap_pend, h->n_pend + 1, sizeof(*h->pend));
    if (h->pend == NULL)
        fatalx("out of memory");
    p = &h->pend[h->n_pend++];
    memcpy(p->cc, n->cc, EWH_CC_BYTES);
    memcpy(p->rid, rid, rid_len);
    p->rid_len = rid_len;
    if ((p->env = malloc(m->envelope.len)) == NULL)
        fatalx("out of memory");
    memcpy(p->env, m->envelope.data, m->envelope.len);
    p->len = m->envelope.len;
    /* Counts against max_inflight_submits from now on. */
    n->pending_submits++;
}

/* Mark s (just added to the batch as sub[n_sub - 1]) a duplicate, or an
 * id used by a different envelope, if an earlier submit of this batch has
 * its id.  Acknowledged after the commit, like the rest of the batch. */
static void
s_batch_id(struct s_batch *b, struct s_submit *s)
{
    uint64_t k;
    size_t i;

    if (b->ids_full || b->n_sub > S_BATCH_IDS / 2) {
        b->ids_full = true;
        return;
    }
    memcpy(&k, s->hdr.id + EWH_ID_BYTES - sizeof(k), sizeof(k));
    for (i = (size_t)(k % S_BATCH_IDS); b->ids[i] != 0;
         i = (i + 1) % S_BATCH_IDS) {
        const struct s_submit *o = &b->sub[b->ids[i] - 1];
        if (memcmp(o->hdr.id, s->hdr.id, EWH_ID_BYTES) != 0)
            continue;
        if (memcmp(o->hash, s->hash, EWH_HASH_BYTES) == 0)
            s->status = S_DUPLICATE;
        else {
            s->status = S_REFUSED;
            ewh_err_set(&s->err, EWH_E_INVALID,
                        "id already used by a different envelope");
        }
        return;
    }
    b->ids[i] = (uint32_t)b->n_sub;
}

/* A submit after verification (j): the remaining checks in order, then
 * into the batch.  Takes over p->env. */
static void
s_on_verified(struct hub *h, struct s_pend *p, const struct hub_verify_job *j)
{
    struct ewh_err err = {0};
    struct ewh_header hdr;
    struct hub_node *n;
    struct s_submit *s;
    const uint8_t *rid = p->rid;
    size_t rid_len = p->rid_len;
    uint8_t hash[EWH_HASH_BYTES];
    int64_t now = ewh_now();
    int found = 0;
    size_t i;
    bool revoked;

    if ((n = hub_queue_node(h->q, p->cc, true)) == NULL)
        goto out;
    if (n->pending_submits > 0)
        n->pending_submits--; /* taken again when it joins the batch */
    if (j->rc != 0) {
        struct ewh_header peek;
        bool have = ewh_envelope_peek(p->env, p->len, &peek, NULL) == 0;
        s_refuse(h, n->cc, rid, rid_len, have ? peek.id : NULL, &j->err, false);
        goto out;
    }
    hdr = j->hdr;
    memcpy(hash, j->hash, sizeof(hash));
    if (hub_store_envelope_find(h->st, hdr.id, hash, &found, &err) != 0) {
        s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, true);
        goto out;
    }
    if (found == 1) {
        char hex[EWH_ID_HEX];
        h->n.duplicate++;
        hub_metrics_duplicate(h->m);
        (void)s_event(h, HUB_EV_DUPLICATE, n->cc, hdr.id);
        ewh_log_debug("router: duplicate submit from=%s id=%s", n->cc,
                      s_idhex(hdr.id, hex));
        s_send_ack(h, rid, rid_len, hdr.id, S_DUPLICATE, NULL, false, NULL, 0);
        goto out;
    }
    if (found == 2) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "id already used by a different envelope");
        s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, false);
        goto out;
    }
    if (hdr.created_at > now + EWH_MAX_CLOCK_SKEW_S) {
        ewh_err_set(&err, EWH_E_CLOCK,
                    "created_at %llds ahead of the hub's clock "
                    "(EWH_MAX_CLOCK_SKEW_S %d)",
                    (long long)(hdr.created_at - now), EWH_MAX_CLOCK_SKEW_S);
        s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, false);
        goto out;
    }
    if (hdr.expires_at != 0 && hdr.expires_at <= now) {
        ewh_err_set(&err, EWH_E_EXPIRED, "already expired");
        s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, false);
        goto out;
    }
    for (i = 0; i < hdr.n_recipients; i++) {
        const char *rc = hdr.recipients[i];
        struct hub_node *rn;
        if (ewh_roster_find(h->roster, rc, &revoked) == NULL) {
            ewh_err_set(&err, EWH_E_UNKNOWN, "recipient %s is not enrolled",
                        rc);
            s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, false);
            goto out;
        }
        if (revoked) {
            ewh_err_set(&err, EWH_E_REVOKED, "recipient %s is revoked", rc);
            s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, false);
            goto out;
        }
        rn = hub_queue_node(h->q, rc, true);
        if (rn != NULL && hub_queue_total(rn) >= h->cfg->max_queue) {
            ewh_err_set(&err, EWH_E_QUEUEFULL,
                        "queue of %s is full (max_queue %u)", rc,
                        h->cfg->max_queue);
            s_refuse(h, n->cc, rid, rid_len, hdr.id, &err, true);
            goto out;
        }
    }
    h->b.sub =
        s_grow(h->b.sub, &h->b.cap_sub, h->b.n_sub + 1, sizeof(*h->b.sub));
    if (h->b.sub == NULL)
        fatalx("out of memory");
    s = &h->b.sub[h->b.n_sub];
    memset(s, 0, sizeof(*s));
    s->env = p->env;
    p->env = NULL;
    s->len = p->len;
    memcpy(s->cc, n->cc, EWH_CC_BYTES);
    memcpy(s->rid, rid, rid_len);
    s->rid_len = rid_len;
    s->hdr = hdr;
    memcpy(s->hash, hash, sizeof(hash));
    h->b.n_sub++;
    s_batch_id(&h->b, s);
    n->pending_submits++;
    /* Count the queue rows now, so that one batch cannot overfill. */
    for (i = 0; i < hdr.n_recipients; i++) {
        struct hub_node *rn = hub_queue_node(h->q, hdr.recipients[i], true);
        if (rn != NULL)
            rn->queued[hdr.level]++;
    }
out:
    free(p->env);
    p->env = NULL;
}

/* Below this many submits the loop thread verifies at once itself: a
 * lone report (the common case) gets no hand-over latency. */
#define S_VERIFY_INLINE 4
/* At most this many submits per verification run (see s_verify_start). */
#define S_VERIFY_RUN 1024

/* The submits the pool has verified, in the order they came. */
static void
s_verify_collect(struct hub *h)
{
    size_t i;

    for (i = 0; i < h->n_vpend; i++)
        s_on_verified(h, &h->vpend[i], &h->jobs[i]);
    h->n_vpend = 0;
}

/* Hand this turn's submits to the pool if it is idle (else they wait for
 * the next turn).  While the workers verify, the loop thread commits the
 * previous batch and acknowledges it. */
static void
s_verify_start(struct hub *h)
{
    struct s_pend *tp;
    size_t i, tc;

    if (h->n_pend == 0 || h->n_vpend > 0)
        return;
    if (h->n_pend > S_VERIFY_RUN) {
        /* The rest waits for the next run: small runs keep verification
         * and the commit of the previous run overlapping, and the acks
         * (which free the senders' windows) flowing. */
        h->vpend =
            s_grow(h->vpend, &h->cap_vpend, S_VERIFY_RUN, sizeof(*h->vpend));
        if (h->vpend == NULL)
            fatalx("out of memory");
        memcpy(h->vpend, h->pend, S_VERIFY_RUN * sizeof(*h->pend));
        memmove(h->pend, h->pend + S_VERIFY_RUN,
                (h->n_pend - S_VERIFY_RUN) * sizeof(*h->pend));
        h->n_vpend = S_VERIFY_RUN;
        h->n_pend -= S_VERIFY_RUN;
    } else {
        tp = h->vpend;
        tc = h->cap_vpend;
        h->vpend = h->pend;
        h->cap_vpend = h->cap_pend;
        h->n_vpend = h->n_pend;
        h->pend = tp;
        h->cap_pend = tc;
        h->n_pend = 0;
    }
    h->jobs = s_grow(h->jobs, &h->cap_jobs, h->n_vpend, sizeof(*h->jobs));
    if (h->jobs == NULL)
        fatalx("out of memory");
    for (i = 0; i < h->n_vpend; i++) {
        memset(&h->jobs[i], 0, sizeof(h->jobs[i]));
        h->jobs[i].env = h->vpend[i].env;
        h->jobs[i].len = h->vpend[i].len;
        h->jobs[i].cc = h->vpend[i].cc;
    }
    if (h->n_vpend < S_VERIFY_INLINE) {
        hub_verify_run(NULL, h->jobs, h->n_vpend, ewh_roster_lookup, h->roster);
        s_verify_collect(h);
        return;
    }
    hub_verify_start(h->vpool, h->jobs, h->n_vpend, ewh_roster_lookup,
                     h->roster);
}

/* Everything read so far verified and in the batch (shutdown). */
static void
s_verify_drain(struct hub *h)
{
    if (h->n_vpend > 0) {
        hub_verify_wait(h->vpool);
        s_verify_collect(h);
    }
    s_verify_start(h);
    if (h->n_vpend > 0) {
        hub_verify_wait(h->vpool);
        s_verify_collect(h);
    }
}

static void
s_on_deliver_ack(struct hub *h, struct hub_node *n, const Ewh__DeliverAck *m)
{
    struct s_dack *d;

    h->b.dack =
        s_grow(h->b.dack, &h->b.cap_dack, h->b.n_dack + 1, sizeof(*h->b.dack));
    if (h->b.dack == NULL)
        fatalx("out of memory");
    d = &h->b.dack[h->b.n_dack++];
    memset(d, 0, sizeof(*d));
    memcpy(d->cc, n->cc, EWH_CC_BYTES);
    d->seq = m->seq;
    memcpy(d->id, m->id.data, EWH_ID_BYTES);
}

static void
s_on_relay_ack(struct hub *h, struct hub_node *n, uint64_t seq)
{
    struct s_rack *r;

    h->b.rack =
        s_grow(h->b.rack, &h->b.cap_rack, h->b.n_rack + 1, sizeof(*h->b.rack));
    if (h->b.rack == NULL)
        fatalx("out of memory");
    r = &h->b.rack[h->b.n_rack++];
    memcpy(r->cc, n->cc, EWH_CC_BYTES);
    r->seq = seq;
}

/* A Receipt: verified once, then each report it names must be addressed
 * to the sender and come from the origin it names; otherwise the whole
 * receipt is refused and nothing of it stored. */
static void
s_on_receipt(struct hub *h, struct hub_node *n, const uint8_t *rid,
             size_t rid_len, const Ewh__Receipt *m)
{
    struct ewh_err err = {0};
    struct s_rcpt *r;
    uint8_t *buf;
    size_t i, len = ewh__receipt__get_packed_size(m);
    char origin[EWH_CC_BYTES] = "", hex[EWH_ID_HEX];
    bool found = false;

    h->b.rcpt =
        s_grow(h->b.rcpt, &h->b.cap_rcpt, h->b.n_rcpt + 1, sizeof(*h->b.rcpt));
    if (h->b.rcpt == NULL || (buf = malloc(len)) == NULL)
        fatalx("out of memory");
    r = &h->b.rcpt[h->b.n_rcpt];
    ewh__receipt__pack(m, buf);
    if (ewh_receipt_verify(buf, len, n->cc, ewh_roster_lookup, h->roster,
                           &r->rc, &err) != 0)
        goto refuse;
    for (i = 0; i < r->rc.n_ids; i++) {
        if (hub_store_recipient_of(h->st, r->rc.ids[i], n->cc, &found, origin,
                                   &err) != 0)
            goto refuse;
        if (!found) {
            ewh_err_set(&err, EWH_E_NOTFORME, "%s is not a recipient of %s",
                        n->cc, s_idhex(r->rc.ids[i], hex));
            goto refuse_for_good;
        }
        if (strcmp(origin, r->rc.origin) != 0) {
            ewh_err_set(&err, EWH_E_ORIGIN,
                        "receipt names origin %s, report %s is from %s",
                        r->rc.origin, s_idhex(r->rc.ids[i], hex), origin);
            goto refuse_for_good;
        }
    }
    h->b.n_rcpt++;
    memcpy(r->cc, n->cc, EWH_CC_BYTES);
    memcpy(r->rid, rid, rid_len);
    r->rid_len = rid_len;
    memcpy(r->origin, origin, EWH_CC_BYTES);
    r->buf = buf;
    r->len = len;
    r->added = 0;
    return;
refuse_for_good:
    /* Signed by the sender, about reports this hub does not hold for it
     * (a report lost with a restore from an old backup, or a node that
     * misbehaves): answered with the receipt's ids, so that an honest
     * node stops sending it rather than resend it every 30 s forever. */
    ewh_log_warnx("router: refused receipt from=%s reason=\"%s\"", n->cc,
                  err.reason);
    s_send_receipt_ack(h, rid, rid_len, &r->rc, &err);
    free(buf);
    return;
refuse:
    /* Unreadable, or not signed by the sender: nothing to name it by. */
    ewh_log_warnx("router: refused receipt from=%s reason=\"%s\"", n->cc,
                  err.reason);
    s_send_error(h, rid, rid_len, err.code, err.reason);
    free(buf);
}

/* AuditRequest: answer on the connection that asked (ewnode audit may use
 * a second connection of the same country; the agent's is untouched). */
static void
s_on_audit(struct hub *h, const char *cc, const uint8_t *rid, size_t rid_len,
           const Ewh__AuditRequest *m)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;

    if (hub_audit_proof(h->st, h->a->key, h->audit_len, h->audit_head,
                        m->from_length, m->max_entries, &buf, &len,
                        &err) != 0) {
        ewh_log_warnx("router: audit proof for %s: %s", cc, err.reason);
        s_send_error(h, rid, rid_len, err.code, err.reason);
        return;
    }
    ewh_log_debug("router: audit proof to=%s from_length=%llu size=%zu", cc,
                  (unsigned long long)m->from_length, len);
    if (zmq_send(h->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(h->router, buf, len, ZMQ_DONTWAIT) < 0)
        ewh_log_debug("router: audit proof to %s not sent", cc);
    free(buf);
}

/* Read one message from the ROUTER.  Returns 1 when there was none. */
static int
s_on_router(struct hub *h)
{
    zmq_msg_t rid, body;
    struct ewh_err err = {0};
    ewh_frame_t *f = NULL;
    struct hub_node *n;
    const char *cc, *key;
    const struct ewh_pubid *id;
    char keyhex[65];
    bool revoked;
    int fd, rc = 0;

    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&rid, h->router, ZMQ_DONTWAIT) < 0) {
        rc = 1;
        goto out;
    }
    if (!zmq_msg_more(&rid) || zmq_msg_size(&rid) > HUB_MAX_RID) {
        goto out;
    }
    if (zmq_msg_recv(&body, h->router, 0) < 0)
        goto out;
    if (zmq_msg_more(&body)) {
        /* One frame per message; drop the whole multipart message.  (libzmq
         * bounds each part by max_frame_bytes but buffers all parts before
         * we see the first: see docs/reliability.md.) */
        zmq_msg_t extra;
        int more = 1;
        size_t parts = 1, total = zmq_msg_size(&body);
        const char *who = zmq_msg_gets(&body, "User-Id");
        char from[3];
        snprintf(from, sizeof(from), "%s", who != NULL ? who : "-");
        while (more) {
            zmq_msg_init(&extra);
            if (zmq_msg_recv(&extra, h->router, 0) < 0)
                more = 0;
            else {
                more = zmq_msg_more(&extra);
                parts++;
                total += zmq_msg_size(&extra);
            }
            zmq_msg_close(&extra);
        }
        h->n.bad_frames++;
        ewh_log_warnx("router: refused frame from=%s reason=\"multipart "
                      "message of %zu parts, %zu bytes\"",
                      from, parts, total);
        goto out;
    }
    cc = zmq_msg_gets(&body, "User-Id");
    key = zmq_msg_gets(&body, HUB_ZAP_KEY_PROP);
    if (cc == NULL || strlen(cc) != 2 || key == NULL) {
        h->n.bad_frames++;
        goto out;
    }
    /* The connection was admitted under the roster of that moment: check
     * the country and its key against the roster of now. */
    id = ewh_roster_find(h->roster, cc, &revoked);
    if (id == NULL || revoked ||
        strcmp(ewh_hex(id->curve, 32, keyhex, sizeof(keyhex)), key) != 0) {
        h->n.bad_frames++;
        ewh_log_warnx("router: dropped frame from=%s reason=\"%s\"", cc,
                      id == NULL ? "not enrolled"
                      : revoked  ? "revoked"
                                 : "key replaced");
        goto out;
    }
    n = hub_queue_node(h->q, cc, true);
    if (n == NULL)
        goto out;
    n->last_seen = ewh_now();
    fd = zmq_msg_get(&body, ZMQ_SRCFD);
    if (zmq_msg_size(&body) > h->cfg->max_frame_bytes) {
        h->n.bad_frames++;
        ewh_err_set(&err, EWH_E_TOOBIG,
                    "frame of %zu bytes > max_frame_bytes "
                    "%u",
                    zmq_msg_size(&body), h->cfg->max_frame_bytes);
        ewh_log_warnx("router: refused frame from=%s reason=\"%s\"", cc,
                      err.reason);
        s_send_error(h, zmq_msg_data(&rid), zmq_msg_size(&rid), err.code,
                     err.reason);
        goto out;
    }
    if (ewh_frame_decode(zmq_msg_data(&body), zmq_msg_size(&body), &f, &err) !=
        0) {
        h->n.bad_frames++;
        ewh_log_warnx("router: refused frame from=%s reason=\"%s\"", cc,
                      err.reason);
        s_send_error(h, zmq_msg_data(&rid), zmq_msg_size(&rid), err.code,
                     err.reason);
        goto out;
    }
    ewh_log_debug("router: %s from=%s size=%zu", ewh_frame_name(f), cc,
                  zmq_msg_size(&body));
    switch (f->msg_case) {
    case EWH__FRAME__MSG_HELLO:
        s_on_hello(h, n, zmq_msg_data(&rid), zmq_msg_size(&rid), fd, key,
                   f->hello);
        break;
    case EWH__FRAME__MSG_SUBMIT:
        if (h->stopping) {
            ewh_err_set(&err, EWH_E_RATE, "hub is shutting down");
            s_refuse(h, cc, zmq_msg_data(&rid), zmq_msg_size(&rid), NULL, &err,
                     true);
            break;
        }
        s_on_submit(h, n, zmq_msg_data(&rid), zmq_msg_size(&rid), f->submit);
        break;
    case EWH__FRAME__MSG_DELIVER_ACK:
        s_on_deliver_ack(h, n, f->deliver_ack);
        break;
    case EWH__FRAME__MSG_RECEIPT:
        s_on_receipt(h, n, zmq_msg_data(&rid), zmq_msg_size(&rid), f->receipt);
        break;
    case EWH__FRAME__MSG_RECEIPT_ACK:
        s_on_relay_ack(h, n, f->receipt_ack->seq);
        break;
    case EWH__FRAME__MSG_NOTICE_ACK:
        s_on_relay_ack(h, n, f->notice_ack->seq);
        break;
    case EWH__FRAME__MSG_AUDIT_REQUEST:
        s_on_audit(h, cc, zmq_msg_data(&rid), zmq_msg_size(&rid),
                   f->audit_request);
        break;
    default:
        h->n.bad_frames++;
        ewh_err_set(&err, EWH_E_INVALID, "unexpected %s frame",
                    ewh_frame_name(f));
        ewh_log_warnx("router: refused frame from=%s reason=\"%s\"", cc,
                      err.reason);
        s_send_error(h, zmq_msg_data(&rid), zmq_msg_size(&rid), err.code,
                     err.reason);
        break;
    }
out:
    ewh_frame_destroy(&f);
    zmq_msg_close(&body);
    zmq_msg_close(&rid);
    return rc;
}

/* ---- group commit ---- */

/* Write the batch in one transaction.  With submits false, only the
 * acknowledgements and receipts (after a failed full batch). */
static int
s_write_batch(struct hub *h, bool submits, int64_t now, struct ewh_err *err)
{
    size_t i;
    int found;
    uint64_t len0 = h->audit_len;

    if (hub_store_begin(h->st, err) != 0)
        return -1;
    /* Events that waited (connections, refusals) come first, in order;
     * they wait for a full batch: the acknowledgements-only retry after a
     * full disk must not need new space. */
    if (submits && s_events_write(h, err) != 0)
        goto fail;
    for (i = 0; submits && i < h->b.n_sub; i++) {
        struct s_submit *s = &h->b.sub[i];
        /* Earlier batches were looked up in s_on_verified(); within this
         * one, s_batch_id() marked the duplicates, unless it was full. */
        if (s->status != S_PENDING)
            continue;
        found = 0;
        if (h->b.ids_full && hub_store_envelope_find(h->st, s->hdr.id, s->hash,
                                                     &found, err) != 0)
            goto fail;
        if (found == 1) {
            s->status = S_DUPLICATE;
            continue;
        }
        if (found == 2) {
            s->status = S_REFUSED;
            ewh_err_set(&s->err, EWH_E_INVALID,
                        "id already used by a different envelope");
            continue;
        }
        if (hub_store_envelope_add(h->st, s->env, s->len, &s->hdr, s->hash, now,
                                   err) != 0)
            goto fail;
        ewh_audit_next(h->audit_head, s->hdr.id, s->hash, s->hdr.origin, now,
                       h->audit_head);
        h->audit_len++;
        if (hub_store_audit_append(h->st, h->audit_len, s->hdr.id, s->hash,
                                   s->hdr.origin, now, h->audit_head, err) != 0)
            goto fail;
        s->status = S_ACCEPTED;
        {
            struct hub_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.at = now;
            ev.kind = HUB_EV_ACCEPTED;
            ev.has_id = true;
            memcpy(ev.id, s->hdr.id, EWH_ID_BYTES);
            snprintf(ev.origin, sizeof(ev.origin), "%.2s", s->cc);
            s_event_recipients(&ev, &s->hdr);
            ev.level = (int)s->hdr.level;
            ev.size = (int64_t)s->len;
            if (hub_store_event_add(h->st, &ev, err) != 0)
                goto fail;
        }
    }
    /* Sign the new head and keep the checkpoint with the batch. */
    if (submits && h->audit_len > len0) {
        struct ewh_checkpoint cp;
        cp.length = h->audit_len;
        memcpy(cp.head, h->audit_head, EWH_HASH_BYTES);
        cp.time = now;
        free(h->cpbuf);
        h->cpbuf = NULL;
        if (ewh_checkpoint_sign(&cp, h->a->key, &h->cpbuf, &h->cplen, err) !=
                0 ||
            hub_store_checkpoint_add(h->st, cp.length, cp.head, cp.time,
                                     h->cpbuf, h->cplen, err) != 0)
            goto fail;
    }
    for (i = 0; i < h->b.n_dack; i++)
        if (hub_store_queue_done(h->st, h->b.dack[i].cc, h->b.dack[i].seq,
                                 h->b.dack[i].id, &h->b.dack[i].done,
                                 &h->b.dack[i].level, err) != 0)
            goto fail;
    for (i = 0; submits && i < h->b.n_dack; i++)
        if (h->b.dack[i].done &&
            hub_store_event_delivered(h->st, h->b.dack[i].cc, h->b.dack[i].seq,
                                      now, err) != 0)
            goto fail;
    for (i = 0; i < h->b.n_rack; i++) {
        bool changed;
        if (hub_store_relay_done(h->st, h->b.rack[i].cc, h->b.rack[i].seq,
                                 &changed, err) != 0)
            goto fail;
    }
    for (i = 0; i < h->b.n_rcpt; i++) {
        struct s_rcpt *r = &h->b.rcpt[i];
        if (hub_store_receipt_add(
                h->st, (const uint8_t(*)[EWH_ID_BYTES])r->rc.ids, r->rc.n_ids,
                r->cc, (int)r->rc.kind, r->origin, r->rc.at, r->buf, r->len,
                &r->added, err) != 0)
            goto fail;
    }
    for (i = 0; submits && i < h->b.n_rcpt; i++) {
        struct s_rcpt *r = &h->b.rcpt[i];
        struct hub_event ev;
        size_t j;
        if (r->added == 0 || r->rc.kind != EWH_RECEIPT_ACKNOWLEDGED)
            continue;
        /* An acknowledged receipt names one report (ewnode ack); an event
         * for each report it names all the same. */
        for (j = 0; j < r->rc.n_ids; j++) {
            memset(&ev, 0, sizeof(ev));
            ev.at = now;
            ev.kind = HUB_EV_ACKNOWLEDGED;
            ev.has_id = true;
            memcpy(ev.id, r->rc.ids[j], EWH_ID_BYTES);
            snprintf(ev.origin, sizeof(ev.origin), "%.2s", r->origin);
            snprintf(ev.recipients, sizeof(ev.recipients), "%.2s", r->cc);
            ev.size = -1;
            if (hub_store_event_add(h->st, &ev, err) != 0)
                goto fail;
        }
    }
    if (hub_store_commit(h->st, err) != 0)
        goto fail;
    if (submits)
        h->n_ev = 0;
    return 0;
fail:
    hub_store_rollback(h->st);
    free(h->cpbuf);
    h->cpbuf = NULL;
    return -1;
}

static void
s_batch_clear(struct hub *h)
{
    size_t i;

    for (i = 0; i < h->b.n_sub; i++)
        free(h->b.sub[i].env);
    for (i = 0; i < h->b.n_rcpt; i++)
        free(h->b.rcpt[i].buf);
    if (h->b.n_sub > 0) /* a batch of acks alone left the set empty */
        memset(h->b.ids, 0, sizeof(h->b.ids));
    h->b.n_sub = h->b.n_dack = h->b.n_rack = h->b.n_rcpt = 0;
    h->b.ids_full = false;
}

static void
s_commit(struct hub *h)
{
    struct ewh_err err = {0}, err2 = {0};
    uint8_t *cpbuf = NULL;
    size_t cplen = 0, i, j, n_acc = 0;
    uint64_t len0 = h->audit_len;
    uint8_t head0[EWH_HASH_BYTES];
    int64_t now = ewh_now();
    bool ok, acks_ok = true;
    char hex[EWH_ID_HEX];

    if (h->b.n_sub + h->b.n_dack + h->b.n_rack + h->b.n_rcpt == 0)
        return;
    memcpy(head0, h->audit_head, sizeof(head0));
    {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ok = s_write_batch(h, true, now, &err) == 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        hub_metrics_commit(h->m, (double)(t1.tv_sec - t0.tv_sec) +
                                     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    if (!ok) {
        h->audit_len = len0;
        memcpy(h->audit_head, head0, sizeof(head0));
        ewh_log_warnx("router: batch of %zu submits not stored: %s", h->b.n_sub,
                      err.reason);
        if (err.code != EWH_E_DISKFULL)
            err.code = EWH_E_STORE;
        /* Keep the acknowledgements, which need little or no new space. */
        acks_ok = false;
        /* (The full batch also carried traffic events, which need space.) */
        if (h->b.n_dack + h->b.n_rack + h->b.n_rcpt > 0)
            acks_ok = s_write_batch(h, false, now, &err2) == 0;
        if (!acks_ok && h->b.n_dack + h->b.n_rack + h->b.n_rcpt > 0)
            ewh_log_warnx("router: acknowledgements not stored: %s",
                          err2.reason[0] ? err2.reason : err.reason);
    }
    if (ok && h->audit_len > len0) {
        /* Signed and stored in s_write_batch(). */
        cpbuf = h->cpbuf;
        cplen = h->cplen;
        h->cpbuf = NULL;
    }
    /* Committed: now, and only now, acknowledge. */
    for (i = 0; i < h->b.n_sub; i++) {
        struct s_submit *s = &h->b.sub[i];
        struct hub_node *on = hub_queue_node(h->q, s->cc, false);
        if (on != NULL && on->pending_submits > 0)
            on->pending_submits--;
        if (!ok || s->status != S_ACCEPTED)
            for (j = 0; j < s->hdr.n_recipients; j++) {
                struct hub_node *rn =
                    hub_queue_node(h->q, s->hdr.recipients[j], false);
                if (rn != NULL && rn->queued[s->hdr.level] > 0)
                    rn->queued[s->hdr.level]--;
            }
        if (!ok) {
            s_refuse(h, s->cc, s->rid, s->rid_len, s->hdr.id, &err, true);
            continue;
        }
        switch (s->status) {
        case S_ACCEPTED:
            n_acc++;
            h->n.accepted++;
            hub_metrics_accepted(h->m, s->hdr.level);
            ewh_log_debug("router: accepted id=%s from=%s level=%s to=%zu "
                          "size=%zu",
                          s_idhex(s->hdr.id, hex), s->cc,
                          ewh_level_name(s->hdr.level), s->hdr.n_recipients,
                          s->len);
            for (j = 0; j < s->hdr.n_recipients; j++) {
                struct hub_node *rn =
                    hub_queue_node(h->q, s->hdr.recipients[j], false);
                if (rn != NULL)
                    rn->want_fill = true;
            }
            s_send_ack(h, s->rid, s->rid_len, s->hdr.id, S_ACCEPTED, NULL,
                       false, cpbuf, cplen);
            break;
        case S_DUPLICATE:
            h->n.duplicate++;
            hub_metrics_duplicate(h->m);
            (void)s_event(h, HUB_EV_DUPLICATE, s->cc, s->hdr.id);
            s_send_ack(h, s->rid, s->rid_len, s->hdr.id, S_DUPLICATE, NULL,
                       false, NULL, 0);
            break;
        default:
            s_refuse(h, s->cc, s->rid, s->rid_len, s->hdr.id, &s->err, false);
            break;
        }
    }
    if (ok || acks_ok) {
        for (i = 0; i < h->b.n_dack; i++) {
            struct s_dack *d = &h->b.dack[i];
            struct hub_node *n = hub_queue_node(h->q, d->cc, false);
            if (n == NULL)
                continue;
            /* The level from the store: a disconnect in the same turn has
             * already emptied the node's in-flight set. */
            (void)hub_seqset_del(&n->inflight, d->seq, NULL);
            if (d->done) {
                if (n->queued[d->level] > 0)
                    n->queued[d->level]--;
                h->n.delivered++;
                hub_metrics_delivered(h->m, d->level);
            }
            n->want_fill = true;
        }
        for (i = 0; i < h->b.n_rack; i++) {
            struct hub_node *n = hub_queue_node(h->q, h->b.rack[i].cc, false);
            if (n == NULL)
                continue;
            hub_seqset_del(&n->relays, h->b.rack[i].seq, NULL);
            n->want_fill = true;
        }
        for (i = 0; i < h->b.n_rcpt; i++) {
            struct s_rcpt *r = &h->b.rcpt[i];
            struct hub_node *on;
            s_send_receipt_ack(h, r->rid, r->rid_len, &r->rc, NULL);
            if (r->added > 0) {
                h->n.receipts += r->added;
                if (r->rc.kind == EWH_RECEIPT_ACKNOWLEDGED)
                    hub_metrics_acknowledged(h->m, r->added);
                if ((on = hub_queue_node(h->q, r->origin, true)) != NULL)
                    on->want_fill = true;
            }
        }
    }
    if (n_acc > 0)
        ewh_log_debug("router: committed %zu accepted, audit length %llu",
                      n_acc, (unsigned long long)h->audit_len);
    free(cpbuf);
    s_batch_clear(h);
}

/* ---- delivery ---- */

/* Deliveries of a level in flight to one node, at most: a new high report
 * waits behind what is already in the node's pipe, so low and medium fill
 * only part of a large credit window (docs/performance.md). */
#define S_LOW_WINDOW     64 /* low */
#define S_NONHIGH_WINDOW 96 /* low and medium */

struct s_fill {
    struct hub *h;
    struct hub_node *n;
    size_t free;
    size_t low, nonhigh;         /* in flight now */
    size_t low_cap, nonhigh_cap; /* at most */
    int64_t now;
    bool stop;
};

static bool s_in_flight(void *ctx, const char *cc, uint64_t seq);

static int
s_fill_one(void *ctx, const struct hub_qrow *row)
{
    struct s_fill *c = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Deliver d = EWH__DELIVER__INIT;

    if (c->free == 0)
        return 1;
    if (hub_seqset_has(&c->n->inflight, row->seq))
        return 0;
    if (row->expires_at != 0 && row->expires_at <= c->now) {
        c->h->expire_due = true;
        return 0;
    }
    /* Rows come high first: a full level window ends the walk. */
    if (row->level != EWH_LEVEL_HIGH && c->nonhigh >= c->nonhigh_cap)
        return 1;
    if (row->level == EWH_LEVEL_LOW && c->low >= c->low_cap)
        return 1;
    d.seq = row->seq;
    d.envelope.data = (uint8_t *)row->env;
    d.envelope.len = row->env_len;
    f.msg_case = EWH__FRAME__MSG_DELIVER;
    f.deliver = &d;
    if (s_send_frame(c->h, c->n->rid, c->n->rid_len, &f) != 0) {
        if (zmq_errno() == EHOSTUNREACH) {
            ewh_log_info("router: %s unreachable", c->n->cc);
            hub_queue_disconnect(c->n);
        }
        c->stop = true;
        return 1;
    }
    if (hub_seqset_add(&c->n->inflight, row->seq, (unsigned)row->level) != 0) {
        c->stop = true;
        return 1;
    }
    c->free--;
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
    if (hub_seqset_has(&c->n->relays, r->seq))
        return 0;
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
    sent = s_send_frame(c->h, c->n->rid, c->n->rid_len, &f);
    if (rc != NULL)
        ewh__receipt__free_unpacked(rc, NULL);
    if (nt != NULL)
        ewh__notice__free_unpacked(nt, NULL);
    if (sent != 0) {
        c->stop = true;
        return 1;
    }
    if (hub_seqset_add(&c->n->relays, r->seq, 0) != 0) {
        c->stop = true;
        return 1;
    }
    c->free--;
    return 0;
}

static void
s_fill(struct hub *h)
{
    struct ewh_err err = {0};
    size_t i;

    for (i = 0; i < hub_queue_count(h->q); i++) {
        struct hub_node *n = hub_queue_at(h->q, i);
        struct s_fill c = {.h = h, .n = n, .now = ewh_now()};
        if (!n->connected || !n->want_fill)
            continue;
        n->want_fill = false;
        if (n->credit > n->inflight.n && hub_queue_total(n) > n->inflight.n) {
            size_t k;
            c.free = n->credit - n->inflight.n;
            c.low_cap = n->credit < S_LOW_WINDOW ? n->credit : S_LOW_WINDOW;
            c.nonhigh_cap =
                n->credit < S_NONHIGH_WINDOW ? n->credit : S_NONHIGH_WINDOW;
            for (k = 0; k < n->inflight.n; k++) {
                unsigned lvl = (unsigned)(n->inflight.v[k] & 3);
                if (lvl != EWH_LEVEL_HIGH)
                    c.nonhigh++;
                if (lvl == EWH_LEVEL_LOW)
                    c.low++;
            }
            if (hub_store_queue_walk(h->st, n->cc, n->inflight.n + c.free,
                                     s_in_flight, h, s_fill_one, &c, &err) != 0)
                ewh_log_warnx("router: cannot read queue of %s: %s", n->cc,
                              err.reason);
        }
        if (!n->connected || c.stop)
            continue;
        if (n->credit > n->relays.n) {
            c.free = n->credit - n->relays.n;
            if (hub_store_relay_walk(h->st, n->cc, n->relays.n + c.free,
                                     s_relay_one, &c, &err) != 0)
                ewh_log_warnx("router: cannot read relays of %s: %s", n->cc,
                              err.reason);
        }
    }
}

/* ---- timers ---- */

static void
s_on_expired(void *ctx, const char *cc, const uint8_t id[EWH_ID_BYTES],
             const char *origin)
{
    struct hub *h = ctx;
    struct hub_node *on = hub_queue_node(h->q, origin, true);
    char hex[EWH_ID_HEX];

    h->n.expired++;
    h->recount_due = true;
    hub_metrics_expired(h->m);
    {
        struct hub_event *ev = s_event(h, HUB_EV_EXPIRED, origin, id);
        if (ev != NULL)
            snprintf(ev->recipients, sizeof(ev->recipients), "%.2s", cc);
    }
    ewh_log_info("router: expired id=%s to=%s origin=%s", s_idhex(id, hex), cc,
                 origin);
    if (on != NULL)
        on->want_fill = true;
}

static bool
s_in_flight(void *ctx, const char *cc, uint64_t seq)
{
    struct hub *h = ctx;
    struct hub_node *n = hub_queue_node(h->q, cc, false);

    return n != NULL && hub_seqset_has(&n->inflight, seq);
}

static void
s_expire(struct hub *h)
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

static void
s_count_cb(void *ctx, const char *cc, enum ewh_level level, uint64_t n)
{
    struct hub *h = ctx;
    struct hub_node *nd = hub_queue_node(h->q, cc, true);

    if (nd != NULL && level >= 1 && level <= 3)
        nd->queued[level] = n;
}

static void
s_recount(struct hub *h)
{
    struct ewh_err err = {0};
    size_t i;

    for (i = 0; i < hub_queue_count(h->q); i++)
        memset(hub_queue_at(h->q, i)->queued, 0,
               sizeof(hub_queue_at(h->q, i)->queued));
    if (hub_store_queue_counts(h->st, s_count_cb, h, &err) != 0)
        ewh_log_warnx("router: cannot count queues: %s", err.reason);
}

static void
s_write_status(struct hub *h)
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
        "\"bad_frames\": %llu, \"receipts\": %llu, \"nodes\": {",
        (long)getpid(), (long long)ewh_now(), h->endpoint,
        (unsigned long long)ewh_roster_version(h->roster),
        (unsigned long long)h->audit_len, (unsigned long long)h->n.accepted,
        (unsigned long long)h->n.duplicate, (unsigned long long)h->n.refused,
        (unsigned long long)h->n.delivered, (unsigned long long)h->n.expired,
        (unsigned long long)h->n.zap_refused,
        (unsigned long long)h->n.bad_frames, (unsigned long long)h->n.receipts);
    for (i = 0; i < hub_queue_count(h->q); i++) {
        struct hub_node *n = hub_queue_at(h->q, i);
        fprintf(f,
                "%s\"%s\": {\"connected\": %s, \"last_seen\": %lld, "
                "\"in_flight\": %zu, \"credit\": %u, "
                "\"connected_since\": %lld}",
                i ? ", " : "", n->cc, n->connected ? "true" : "false",
                (long long)n->last_seen, n->inflight.n, n->credit,
                (long long)(n->connected ? n->connected_at : 0));
    }
    fprintf(f, "}}\n");
    fclose(f);
    snprintf(path, sizeof(path), "%s/status.json", h->a->dir);
    if (ewh_keyfile_write(path, buf, len, 0644, &err) != 0)
        ewh_log_debug("router: status file: %s", err.reason);
    free(buf);
}

/* Once a tick: events that no batch carried (connections, expiries),
 * the events cap, and the gauges for /metrics. */
static void
s_monitor_tick(struct hub *h)
{
    struct ewh_err err = {0};
    unsigned conn = 0, enrolled = 0;
    struct hub_wal_stats ws;
    size_t i;

    if (h->n_ev > 0) {
        if (hub_store_begin(h->st, &err) != 0 || s_events_write(h, &err) != 0 ||
            hub_store_events_trim(h->st, h->cfg->events_keep, &err) != 0 ||
            hub_store_commit(h->st, &err) != 0) {
            hub_store_rollback(h->st);
            ewh_log_warnx("router: %zu traffic events not stored: %s", h->n_ev,
                          err.reason);
        }
        h->n_ev = 0;
    }
    if (h->ev_dropped > 0) {
        ewh_log_warnx("router: %llu traffic events dropped (more than %d "
                      "waiting)",
                      (unsigned long long)h->ev_dropped, S_MAX_PENDING_EVENTS);
        h->ev_dropped = 0;
    }
    hub_metrics_queue_clear(h->m);
    for (i = 0; i < hub_queue_count(h->q); i++) {
        struct hub_node *n = hub_queue_at(h->q, i);
        conn += n->connected;
        hub_metrics_queue(h->m, n->cc, n->queued);
    }
    for (i = 0; i < ewh_roster_count(h->roster); i++) {
        bool rev = false;
        (void)ewh_roster_at(h->roster, i, &rev);
        enrolled += !rev;
    }
    hub_metrics_nodes(h->m, conn, enrolled);
    hub_metrics_audit_length(h->m, h->audit_len);
    hub_store_wal_stats(h->st, &ws);
    hub_metrics_wal(h->m, ws.checkpoints, ws.failed, ws.wal_pages);
}

/* The roster changed in the store: re-sign, push to every node, and cut
 * the connections of countries revoked or re-keyed. */
static void
s_roster_check(struct hub *h)
{
    struct ewh_err err = {0};
    uint64_t v;
    size_t i;
    bool cut = false;

    if (hub_catalogue_poll(h->cat))
        for (i = 0; i < hub_queue_count(h->q); i++)
            if (hub_queue_at(h->q, i)->connected)
                s_send_catalogue(h, hub_queue_at(h->q, i));
    if (hub_store_roster_version(h->st, &v, &err) != 0) {
        ewh_log_warnx("router: roster check: %s", err.reason);
        return;
    }
    if (v == h->pushed_version)
        return;
    if (v != ewh_roster_version(h->roster) && s_roster_refresh(h, &err) != 0) {
        ewh_log_err("router: cannot load roster: %s", err.reason);
        return;
    }
    h->pushed_version = ewh_roster_version(h->roster);
    ewh_log_info("roster: version %llu, %zu countries",
                 (unsigned long long)h->pushed_version,
                 ewh_roster_count(h->roster));
    for (i = 0; i < hub_queue_count(h->q); i++) {
        struct hub_node *n = hub_queue_at(h->q, i);
        const struct ewh_pubid *id;
        char hex[65];
        bool rev = false;
        if (!n->connected)
            continue;
        id = ewh_roster_find(h->roster, n->cc, &rev);
        if (id == NULL || rev ||
            strcmp(ewh_hex(id->curve, 32, hex, sizeof(hex)), n->key) != 0) {
            ewh_log_info("router: cutting %s (%s)", n->cc,
                         id == NULL || rev ? "revoked" : "re-keyed");
            cut = true;
        }
    }
    if (cut) {
        /* libzmq cannot drop one ROUTER peer: re-bind.  The batch is
         * committed and its acks sent; nodes reconnect and say hello. */
        h->n.rebinds++;
        s_router_close(h, S_CLOSE_LINGER_MS);
        if (s_router_open(h, h->endpoint, &err) != 0)
            fatalx("router: re-bind: %s", err.reason);
        return;
    }
    for (i = 0; i < hub_queue_count(h->q); i++) {
        struct hub_node *n = hub_queue_at(h->q, i);
        if (n->connected)
            s_send_roster(h, n);
    }
}

static void
s_on_signal(struct hub *h)
{
    struct signalfd_siginfo si;

    while (read(h->a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            ewh_log_info("SIGHUP: re-reading the config and the roster");
            if (h->a->reload != NULL)
                h->a->reload(h->a->reload_ctx);
            h->next_roster_ms = 0;
            continue;
        }
        ewh_log_info("%s: stopping", strsignal((int)si.ssi_signo));
        h->stopping = true;
    }
}

/* ---- the loop ---- */

int
hub_run(const struct hub_run_args *a, struct ewh_err *err)
{
    struct hub h;
    int rc = -1, i;
    int64_t now, timeout;

    memset(&h, 0, sizeof(h));
    h.a = a;
    h.cfg = a->cfg;
    h.st = a->store;
    if ((h.q = hub_queue_new()) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    if ((h.m = hub_metrics_new()) == NULL) {
        hub_queue_destroy(&h.q);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    if (s_roster_refresh(&h, err) != 0)
        goto out;
    h.pushed_version = ewh_roster_version(h.roster);
    {
        const char *cats[EWH_MAX_CATEGORIES];
        size_t k;
        for (k = 0; k < ewh_roster_category_count(h.roster); k++)
            cats[k] = ewh_roster_category(h.roster, k);
        if ((h.cat = hub_catalogue_new(a->dir, a->key, cats, k, err)) == NULL)
            goto out;
    }
    if (hub_store_audit_head(h.st, &h.audit_len, h.audit_head, err) != 0)
        goto out;
    s_recount(&h);
    /* main() blocked the signals before any thread starts. */
    if ((h.vpool = hub_verify_new(hub_verify_default_workers(), err)) == NULL)
        goto out;
    if ((h.zctx = zmq_ctx_new()) == NULL) {
        ewh_err_set(err, EWH_E_IO, "zmq_ctx_new: %s",
                    zmq_strerror(zmq_errno()));
        goto out;
    }
    if ((h.zap = zmq_socket(h.zctx, ZMQ_REP)) == NULL ||
        zmq_bind(h.zap, HUB_ZAP_ENDPOINT) != 0) {
        ewh_err_set(err, EWH_E_IO, "zap: %s", zmq_strerror(zmq_errno()));
        goto out;
    }
    if (s_router_open(&h, a->cfg->listen, err) != 0 ||
        s_write_endpoint(&h, err) != 0)
        goto out;
    if (a->cfg->metrics[0] != '\0') {
        char bound[HUB_MAX_ENDPOINT], path[4096], line[HUB_MAX_ENDPOINT + 2];
        if (hub_metrics_listen(h.m, a->cfg->metrics, bound, sizeof(bound),
                               err) != 0)
            goto out;
        snprintf(path, sizeof(path), "%s/metrics_endpoint", a->dir);
        snprintf(line, sizeof(line), "%s\n", bound);
        if (ewh_keyfile_write(path, line, strlen(line), 0644, err) != 0)
            goto out;
        ewh_log_info("metrics on http://%s/metrics", bound);
    }
    ewh_log_info("listening on %s (roster version %llu, %zu countries, "
                 "audit length %llu)",
                 h.endpoint, (unsigned long long)ewh_roster_version(h.roster),
                 ewh_roster_count(h.roster), (unsigned long long)h.audit_len);
    s_expire(&h);
    s_write_status(&h);
    now = ewh_mono_ms();
    h.next_roster_ms = now + S_ROSTER_CHECK_MS;
    h.next_tick_ms = now + S_TICK_MS;

    while (!h.stopping) {
        zmq_pollitem_t items[5] = {
            {h.router, 0, ZMQ_POLLIN, 0},
            {h.zap, 0, ZMQ_POLLIN, 0},
            {h.mon, 0, ZMQ_POLLIN, 0},
            {NULL, a->sigfd, ZMQ_POLLIN, 0},
            {NULL, hub_verify_fd(h.vpool), ZMQ_POLLIN, 0},
        };
        now = ewh_mono_ms();
        timeout = h.next_roster_ms < h.next_tick_ms ? h.next_roster_ms
                                                    : h.next_tick_ms;
        timeout -= now;
        if (timeout < 0 || h.expire_due)
            timeout = 0;
        if (zmq_poll(items, 5, (long)timeout) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            ewh_err_set(err, EWH_E_IO, "zmq_poll: %s",
                        zmq_strerror(zmq_errno()));
            goto out;
        }
        if (items[3].revents & ZMQ_POLLIN)
            s_on_signal(&h);
        if (items[1].revents & ZMQ_POLLIN) {
            uint64_t z0 = h.n.zap_refused;
            if (hub_zap_handle(h.zap, s_zap_roster, &h, &h.n.zap_refused,
                               err) != 0)
                goto out;
            if (h.n.zap_refused > z0) {
                hub_metrics_zap_refused(h.m, h.n.zap_refused - z0);
                (void)s_event(&h, HUB_EV_ZAP_REFUSED, NULL, NULL);
            }
        }
        if (items[2].revents & ZMQ_POLLIN)
            s_on_monitor(&h);
        if (items[0].revents & ZMQ_POLLIN && !h.stopping) {
            /* A turn ends after S_TURN_MS too, so that a flood of cheap
             * frames cannot delay the commit (and a high report) long. */
            int64_t t_end = ewh_mono_ms() + S_TURN_MS;
            for (i = 0; i < S_TURN_BUDGET; i++) {
                if (s_on_router(&h) != 0)
                    break;
                if ((i & 63) == 63 && ewh_mono_ms() >= t_end)
                    break;
            }
        }
        /* Take what the pool verified, hand it the next submits, commit,
         * then acknowledge, then deliver. */
        if (h.n_vpend > 0 &&
            (items[4].revents & ZMQ_POLLIN || !hub_verify_busy(h.vpool))) {
            hub_verify_wait(h.vpool);
            s_verify_collect(&h);
        }
        s_verify_start(&h);
        s_commit(&h);
        if (h.expire_due)
            s_expire(&h);
        s_fill(&h);
        if (h.status_due) {
            /* Connection state shows in `ewhub status` at once. */
            h.status_due = false;
            s_write_status(&h);
        }
        now = ewh_mono_ms();
        if (now >= h.next_roster_ms) {
            h.next_roster_ms = now + S_ROSTER_CHECK_MS;
            s_roster_check(&h);
        }
        if (now >= h.next_tick_ms) {
            h.next_tick_ms = now + S_TICK_MS;
            s_expire(&h);
            hub_retention_tick(h.st, h.cfg, now);
            if (h.recount_due || now >= h.next_recount_ms) {
                h.recount_due = false;
                h.next_recount_ms = now + S_RECOUNT_MS;
                s_recount(&h);
            }
            for (i = 0; i < (int)hub_queue_count(h.q); i++)
                hub_queue_at(h.q, i)->want_fill = true;
            s_monitor_tick(&h);
            s_write_status(&h);
        }
    }
    /* Orderly stop: whatever was read is committed and acknowledged. */
    s_verify_drain(&h);
    s_commit(&h);
    s_monitor_tick(&h);
    for (i = 0; i < (int)hub_queue_count(h.q); i++)
        hub_queue_disconnect(hub_queue_at(h.q, i));
    s_write_status(&h);
    rc = 0;
out:
    s_batch_clear(&h);
    if (h.vpool != NULL)
        hub_verify_wait(h.vpool);
    for (i = 0; i < (int)h.n_pend; i++)
        free(h.pend[i].env);
    for (i = 0; i < (int)h.n_vpend; i++)
        free(h.vpend[i].env);
    free(h.pend);
    free(h.vpend);
    free(h.jobs);
    hub_verify_destroy(&h.vpool);
    free(h.b.sub);
    free(h.b.dack);
    free(h.b.rack);
    free(h.b.rcpt);
    s_router_close(&h, S_CLOSE_LINGER_MS);
    if (h.zap != NULL) {
        int zero = 0;
        zmq_setsockopt(h.zap, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(h.zap);
    }
    if (h.zctx != NULL)
        zmq_ctx_term(h.zctx);
    ewh_roster_destroy(&h.roster);
    free(h.roster_buf);
    hub_catalogue_destroy(&h.cat);
    hub_queue_destroy(&h.q);
    hub_metrics_destroy(&h.m);
    free(h.ev);
    free(h.cpbuf);
    if (rc == 0)
        ewh_log_info("exiting (accepted %llu, delivered %llu)",
                     (unsigned long long)h.n.accepted,
                     (unsigned long long)h.n.delivered);
    return rc;
}
