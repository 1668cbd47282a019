/*
 * ewh-peer.c — a raw-protocol test client for ewhub (built, not installed).
 *
 * Speaks docs/protocol.md directly over a CURVE DEALER so that hub tests do
 * not depend on ewnode, and adversarial tests and benchmarks can reuse it.
 * All crypto and framing go through libewh.  Every event is printed on
 * stdout as one JSON line (flushed at once), so a test can read the output
 * of a process it SIGKILLs.
 *
 *   ewh-peer keygen --country CC --out DIR
 *       writes DIR/node.key (0600) and DIR/node-CC.pub
 *
 *   ewh-peer submit --key node.key --hub-pub hub.pub --endpoint E
 *                   --to CC[,CC...] [--level high|medium|low] [--count N]
 *                   [--expires SECONDS] [--body-bytes N] [--window N]
 *                   [--seal-key other.key] [--created-offset SECONDS]
 *                   [--env-out DIR] [--env-in FILE] [--junk N]
 *                   [--resend SECONDS] [--timeout SECONDS]
 *                   [--title TEXT] [--dry-run]
 *       Says hello, waits for the roster (the recipients' keys), seals N
 *       real envelopes and submits them, at most --window unacknowledged.
 *       --seal-key seals with another country's key (origin spoofing);
 *       --env-out saves each envelope as DIR/<id>.env; --env-in submits a
 *       saved envelope (--count times) instead of sealing; --junk sends N
 *       undecodable frames first; --resend re-submits unacknowledged (and
 *       retry-refused) envelopes every SECONDS, like a node's outbox.
 *       --expires is counted from created_at (created-offset + expires < 0
 *       makes an already expired report); --dry-run seals (and saves with
 *       --env-out) without submitting.
 *       --return-year Y --body-file FILE seals annual returns instead
 *       (TYPE_RETURN, category security-forces, the clear header naming
 *       year Y, FILE as the sealed body, whatever year it names).
 *       Exits 0 when every submit got an ack, 1 on timeout.
 *
 *   ewh-peer recv --key node.key --hub-pub hub.pub --endpoint E
 *                 [--credit N] [--count N] [--idle SECONDS]
 *                 [--timeout SECONDS] [--no-ack] [--receipt KIND]
 *                 [--ack-delay MS]
 *       Says hello with the credit and prints every frame: roster, deliver
 *       (opened with the node's key: the report's level and id must agree),
 *       notice, receipt relays (verified against the roster), errors.
 *       Acknowledges deliveries, notices and relays unless --no-ack;
 *       --receipt delivered|acknowledged signs and sends a receipt for each
 *       delivery.  --ack-delay waits MS after printing a delivery before
 *       acknowledging it (a test stops the hub in between).
 *       Stops after --count deliveries, after --idle seconds
 *       without a frame, or at --timeout (exit 1 if --count not reached).
 *
 * Attacker features (issue 7, tests/adversarial; reusable by benchmarks):
 *
 *   submit ... --flood SECONDS
 *       After sealing --count envelopes, keeps sending them round and
 *       round for SECONDS, as fast as --window unacknowledged allows
 *       (rate limits ignored), without printing each ack; ends with
 *       {"type":"flood","seconds":S,"sent":N,"accepted":N,"duplicate":N,
 *       "refused":N,"rate_limited":N}.  Exits 0.
 *   submit ... --id HEX
 *       gives every report this id (with --count 2 or more: different
 *       envelopes under one id).
 *   submit ... --to-pub FILE
 *       also seals for the public identity FILE (a country the hub does
 *       not know, or a stale key).
 *   recv ... --env-out DIR
 *       saves each delivered envelope as DIR/<id>.env (to replay it).
 *   submit ... --stall
 *       sends the --junk frames and all --count submits at once (no
 *       window), prints {"type":"stall_sent",...} and never reads again
 *       until --timeout (a node that does not read its answers).
 *   recv ... --stall
 *       says hello, then never reads (a slow-loris peer) until --timeout;
 *       receive buffers are tiny, so the hub's sends back up at once.
 *   submit ... --distribution region|connected|all
 *       seals with that distribution in the signed header (issue 22).
 *   fedsend --key HUBDIR/hub.key --hub-pub TARGET/hub.pub --endpoint E
 *           --region NAME --env-in FILE --path A[,B...] [--timeout S]
 *       Plays a peer hub of region NAME (issue 22, a misbehaving one):
 *       says FedHello and sends the envelope FILE as one Transfer with
 *       the path given; prints {"type":"transfer_ack","status":...,
 *       "code":...,"reason":...} and exits 0 when it is answered.
 *   forge --key node.key --hub-pub hub.pub --endpoint E
 *         [--receipt-id HEX[,HEX...] --origin CC
 *          [--kind delivered|acknowledged]
 *          [--from CC] [--seal-key other.key]] [--ack-seq A:B]
 *         [--multipart N [--part-bytes B]] [--audit N [--pace MS]]
 *         [--hello N] [--stall] [--no-hello]
 *         [--idle SECONDS]
 *       Sends frames a misbehaving node might: a Receipt for the reports
 *       HEX,... (signed by --seal-key or the node's key, claiming to be from
 *       --from, default the signer's country) and/or a DeliverAck with an
 *       all-zero id for each seq A..B, and/or one message of N parts of B
 *       bytes (default 65536), and/or N more Hello frames (--hello);
 *       prints the answers (errors,
 *       receipt acks) until --idle seconds (default 2) pass without one.
 *
 * JSON lines: {"type":"roster","version":N,"countries":[...]},
 * {"type":"ack","id":HEX,"status":"accepted|duplicate|refused","code":NAME,
 * "reason":TEXT,"retry":BOOL,"checkpoint":N,"checkpoint_head":HEX,
 * "checkpoint_time":T,"checkpoint_signed":HEX}, {"type":"deliver","seq":N,
 * "id":HEX,"level":L,"origin":CC,"opened":BOOL}, {"type":"notice",...},
 * {"type":"receipt","seq":N,"ids":[HEX...],"from":CC,"kind":K,
 * "verified":BOOL}, {"type":"receipt_ack","ids":[HEX...],"from":CC
 * [,"code":NAME,"refused":TEXT]}, {"type":"error","code":N,"reason":TEXT},
 * {"type":"timeout",...}.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <zmq.h>

#include "ewh.pb-c.h"
#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/frame.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"
#include "ewh/util.h"

#define S_MAX_SUBMITS 100000

struct s_opts {
    const char *key, *hub_pub, *endpoint, *to, *seal_key, *env_out, *env_in;
    const char *country, *out, *receipt, *title;
    const char *to_pub, *receipt_id, *origin, *from, *kind, *ack_seq;
    const char *report_id, *body_file;
    const char *region, *path;
    enum ewh_distribution distribution;
    long return_year;
    long multipart, part_bytes, audit, hellos, pace_ms;
    double flood;
    bool dry_run, stall;
    enum ewh_level level;
    long count, window, body_bytes, junk, credit, created_offset;
    double expires, resend, timeout, idle;
    bool no_ack;
    bool old_node; /* a Hello without features (not upgraded) */
    bool no_hello; /* forge: never say hello (the first frame is forged) */
    long ack_delay_ms;
};

struct s_sub {
    uint8_t id[EWH_ID_BYTES];
    uint8_t *env;
    size_t len;
    int state; /* 0 unsent, 1 sent, 2 acked, 3 needs resend */
    int64_t sent_ms;
};

struct s_peer {
    struct s_opts o;
    void *ctx, *sock, *mon;
    long links; /* handshakes that succeeded */
    ewh_secret_t *me, *sealer;
    struct ewh_pubid hub;
    ewh_roster_t *roster;
    struct s_sub *subs;
    long n_subs, n_acked, n_delivered, in_flight;
    long n_status[4], n_rate; /* flood counts per ack status */
    int64_t last_frame_ms;
    struct ewh_pubid extra; /* --to-pub */
};

static void
s_emit(json_t *o)
{
    json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(o);
}

static const char *
s_hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
    return ewh_hex(b, n, out, cap);
}

static int
s_send(struct s_peer *p, const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (ewh_frame_encode(f, &buf, &len, &err) != 0)
        fatalx("encode: %s", err.reason);
    rc = zmq_send(p->sock, buf, len, 0) < 0 ? -1 : 0;
    free(buf);
    return rc;
}

static void
s_connect(struct s_peer *p)
{
    const struct ewh_pubid *me = ewh_secret_pubid(p->me);
    int linger = 2000, hb = 2000, ttl = 10000, ivl = 100, one = 1;
    int rcvbuf = 4096;

    /* A staller keeps its connection: it goes on sending heartbeats but
     * never times the hub's out (its own input is stopped, so it would
     * see none and reconnect every ttl, which frees what the hub queued). */
    if (p->o.stall)
        ttl = (int)((p->o.timeout + p->o.idle) * 1000) + ttl;
    p->ctx = zmq_ctx_new();
    p->sock = zmq_socket(p->ctx, ZMQ_DEALER);
    if (p->sock == NULL ||
        zmq_setsockopt(p->sock, ZMQ_CURVE_SERVERKEY, p->hub.curve, 32) != 0 ||
        zmq_setsockopt(p->sock, ZMQ_CURVE_PUBLICKEY, me->curve, 32) != 0 ||
        zmq_setsockopt(p->sock, ZMQ_CURVE_SECRETKEY, ewh_secret_curve_sk(p->me),
                       32) != 0 ||
        zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_setsockopt(p->sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) != 0 ||
        zmq_setsockopt(p->sock, ZMQ_HEARTBEAT_TIMEOUT, &ttl, sizeof(ttl)) !=
            0 ||
        zmq_setsockopt(p->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) != 0 ||
        (p->o.stall &&
         (zmq_setsockopt(p->sock, ZMQ_RCVHWM, &one, sizeof(one)) != 0 ||
          zmq_setsockopt(p->sock, ZMQ_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)) ||
        zmq_socket_monitor(p->sock, "inproc://ewh-peer-monitor",
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0 ||
        (p->mon = zmq_socket(p->ctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(p->mon, "inproc://ewh-peer-monitor") != 0 ||
        zmq_connect(p->sock, p->o.endpoint) != 0)
        fatalx("connect %s: %s", p->o.endpoint, zmq_strerror(zmq_errno()));
}

static void s_hello(struct s_peer *p);

/* Link events: {"type":"link","event":"up|down|auth_failed|
 * protocol_error"}.  A node says hello again after every reconnect. */
static void
s_on_monitor(struct s_peer *p)
{
    zmq_msg_t m;
    uint16_t ev = 0;
    uint32_t val = 0;
    const char *what = NULL;
    json_t *o;

    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (zmq_msg_size(&m) >= 6) {
            memcpy(&ev, zmq_msg_data(&m), 2);
            memcpy(&val, (uint8_t *)zmq_msg_data(&m) + 2, 4);
        }
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        (void)zmq_msg_recv(&m, p->mon, 0); /* the endpoint frame */
        zmq_msg_close(&m);
        switch (ev) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            what = "up";
            break;
        case ZMQ_EVENT_DISCONNECTED:
            what = "down";
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            what = "auth_failed";
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            what = "protocol_error";
            break;
        default:
            continue;
        }
        o = json_object();
        json_object_set_new(o, "type", json_string("link"));
        json_object_set_new(o, "event", json_string(what));
        json_object_set_new(o, "value", json_integer(val));
        s_emit(o);
        if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && p->links++ > 0)
            s_hello(p);
    }
}

static void
s_hello(struct s_peer *p)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Hello h = EWH__HELLO__INIT;

    if (p->o.no_hello)
        return;
    h.version = 1;
    h.roster_version = p->roster != NULL ? ewh_roster_version(p->roster) : 0;
    h.credit = (uint32_t)p->o.credit;
    h.features = p->o.old_node ? 0 : EWH_FEATURE_TRUST;
    f.msg_case = EWH__FRAME__MSG_HELLO;
    f.hello = &h;
    (void)s_send(p, &f);
}

static void
s_on_roster(struct s_peer *p, const Ewh__SignedRoster *sr)
{
    struct ewh_err err = {0};
    size_t len = ewh__signed_roster__get_packed_size(sr), i;
    uint8_t *buf = malloc(len);
    ewh_roster_t *r;
    json_t *o, *arr;

    ewh__signed_roster__pack(sr, buf);
    r = ewh_roster_open(buf, len, p->hub.sign, &err);
    free(buf);
    o = json_object();
    json_object_set_new(o, "type", json_string("roster"));
    if (r == NULL) {
        json_object_set_new(o, "verified", json_false());
        json_object_set_new(o, "reason", json_string(err.reason));
        s_emit(o);
        return;
    }
    json_object_set_new(o, "verified", json_true());
    json_object_set_new(o, "version",
                        json_integer((json_int_t)ewh_roster_version(r)));
    arr = json_array();
    for (i = 0; i < ewh_roster_count(r); i++) {
        bool rev;
        const struct ewh_pubid *id = ewh_roster_at(r, i, &rev);
        json_t *e = json_object();
        json_object_set_new(e, "country", json_string(id->country));
        json_object_set_new(e, "revoked", json_boolean(rev));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "countries", arr);
    s_emit(o);
    if (p->roster == NULL ||
        ewh_roster_version(r) > ewh_roster_version(p->roster)) {
        ewh_roster_destroy(&p->roster);
        p->roster = r;
    } else {
        ewh_roster_destroy(&r);
    }
}

static void
s_on_ack(struct s_peer *p, const Ewh__SubmitAck *a)
{
    static const char *const st[] = {"unspecified", "accepted", "duplicate",
                                     "refused"};
    char hex[EWH_ID_HEX];
    json_t *o = json_object();
    struct ewh_checkpoint cp = {0};
    long i;

    if (a->status <= 3)
        p->n_status[a->status]++;
    if (a->status == EWH__ACK_STATUS__ACK_REFUSED && a->code == EWH_E_RATE)
        p->n_rate++;
    if (p->o.flood > 0) { /* counted, not printed */
        json_decref(o);
        if (p->in_flight > 0)
            p->in_flight--;
        return;
    }
    json_object_set_new(o, "type", json_string("ack"));
    json_object_set_new(
        o, "id", json_string(s_hex(a->id.data, a->id.len, hex, sizeof(hex))));
    json_object_set_new(o, "status",
                        json_string(a->status <= 3 ? st[a->status] : "?"));
    if (a->status == EWH__ACK_STATUS__ACK_REFUSED) {
        json_object_set_new(
            o, "code",
            json_string(ewh_errcode_name((enum ewh_errcode)a->code)));
        json_object_set_new(o, "reason", json_string(a->reason));
        json_object_set_new(o, "retry", json_boolean(a->retry));
    }
    if (a->checkpoint != NULL) {
        size_t len = ewh__checkpoint__get_packed_size(a->checkpoint);
        uint8_t *buf = malloc(len);
        ewh__checkpoint__pack(a->checkpoint, buf);
        if (ewh_checkpoint_verify(buf, len, p->hub.sign, &cp, NULL) == 0) {
            /* What a node keeps of it (ewhub audit verify --checkpoints
             * takes these): head and the signed bytes. */
            char *sx = malloc(2 * len + 1);
            char hx[2 * EWH_HASH_BYTES + 1];
            json_object_set_new(o, "checkpoint",
                                json_integer((json_int_t)cp.length));
            json_object_set_new(
                o, "checkpoint_head",
                json_string(ewh_hex(cp.head, EWH_HASH_BYTES, hx, sizeof(hx))));
            json_object_set_new(o, "checkpoint_time",
                                json_integer((json_int_t)cp.time));
            if (sx != NULL)
                json_object_set_new(
                    o, "checkpoint_signed",
                    json_string(ewh_hex(buf, len, sx, 2 * len + 1)));
            free(sx);
        } else
            json_object_set_new(o, "checkpoint", json_string("bad"));
        free(buf);
    }
    s_emit(o);
    for (i = 0; i < p->n_subs; i++) {
        struct s_sub *s = &p->subs[i];
        if (a->id.len != EWH_ID_BYTES ||
            memcmp(s->id, a->id.data, EWH_ID_BYTES) != 0 || s->state == 2)
            continue;
        if (s->state == 1)
            p->in_flight--;
        if (a->status == EWH__ACK_STATUS__ACK_REFUSED && a->retry &&
            p->o.resend > 0) {
            s->state = 3;
        } else {
            s->state = 2;
            p->n_acked++;
        }
        break;
    }
}

static void
s_on_deliver(struct s_peer *p, const Ewh__Deliver *d)
{
    struct ewh_err err = {0};
    struct ewh_header hdr;
    struct ewh_report r;
    char hex[EWH_ID_HEX];
    json_t *o = json_object();
    bool opened = false, have = false;

    memset(&r, 0, sizeof(r));
    if (p->roster != NULL &&
        ewh_envelope_open(d->envelope.data, d->envelope.len, p->me,
                          ewh_roster_lookup, p->roster, &r, &hdr, &err) == 0) {
        opened =
            r.level == hdr.level && memcmp(r.id, hdr.id, EWH_ID_BYTES) == 0;
        have = true;
    } else if (ewh_envelope_peek(d->envelope.data, d->envelope.len, &hdr,
                                 NULL) == 0) {
        have = true;
    }
    ewh_report_clear(&r);
    if (have && p->o.env_out != NULL) {
        char path[4096], hx[EWH_ID_HEX];
        snprintf(path, sizeof(path), "%s/%s.env", p->o.env_out,
                 s_hex(hdr.id, EWH_ID_BYTES, hx, sizeof(hx)));
        (void)unlink(path);
        if (ewh_keyfile_write(path, d->envelope.data, d->envelope.len, 0644,
                              &err) != 0)
            fatalx("%s", err.reason);
    }
    json_object_set_new(o, "type", json_string("deliver"));
    json_object_set_new(o, "seq", json_integer((json_int_t)d->seq));
    if (have) {
        json_object_set_new(
            o, "id",
            json_string(s_hex(hdr.id, EWH_ID_BYTES, hex, sizeof(hex))));
        json_object_set_new(o, "level", json_string(ewh_level_name(hdr.level)));
        json_object_set_new(o, "origin", json_string(hdr.origin));
    }
    json_object_set_new(o, "opened", json_boolean(opened));
    if (!opened)
        json_object_set_new(o, "reason", json_string(err.reason));
    s_emit(o);
    p->n_delivered++;
    if (p->o.ack_delay_ms > 0)
        usleep((useconds_t)p->o.ack_delay_ms * 1000);
    if (!p->o.no_ack && have) {
        Ewh__Frame f = EWH__FRAME__INIT;
        Ewh__DeliverAck a = EWH__DELIVER_ACK__INIT;
        a.seq = d->seq;
        a.id.data = hdr.id;
        a.id.len = EWH_ID_BYTES;
        f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
        f.deliver_ack = &a;
        (void)s_send(p, &f);
    }
    if (p->o.receipt != NULL && have) {
        struct ewh_receipt rc;
        uint8_t *buf = NULL;
        size_t len = 0;
        Ewh__Receipt *m;
        Ewh__Frame f = EWH__FRAME__INIT;

        memset(&rc, 0, sizeof(rc));
        memcpy(rc.ids[0], hdr.id, EWH_ID_BYTES);
        rc.n_ids = 1;
        memcpy(rc.origin, hdr.origin, EWH_CC_BYTES);
        memcpy(rc.from, ewh_secret_pubid(p->me)->country, EWH_CC_BYTES);
        rc.kind = strcmp(p->o.receipt, "acknowledged") == 0
                      ? EWH_RECEIPT_ACKNOWLEDGED
                      : EWH_RECEIPT_DELIVERED;
        rc.at = ewh_now();
        snprintf(rc.who, sizeof(rc.who), "duty officer");
        if (ewh_receipt_sign(&rc, p->me, &buf, &len, &err) != 0)
            fatalx("receipt: %s", err.reason);
        m = ewh__receipt__unpack(NULL, len, buf);
        f.msg_case = EWH__FRAME__MSG_RECEIPT;
        f.receipt = m;
        (void)s_send(p, &f);
        ewh__receipt__free_unpacked(m, NULL);
        free(buf);
    }
}

static void
s_on_notice(struct s_peer *p, const Ewh__Notice *n)
{
    static const char *const kinds[] = {"unspecified", "expired", "refused"};
    char hex[EWH_ID_HEX];
    json_t *o = json_object();

    json_object_set_new(o, "type", json_string("notice"));
    json_object_set_new(o, "seq", json_integer((json_int_t)n->seq));
    json_object_set_new(
        o, "id", json_string(s_hex(n->id.data, n->id.len, hex, sizeof(hex))));
    json_object_set_new(o, "country", json_string(n->country));
    json_object_set_new(o, "kind",
                        json_string(n->kind <= 2 ? kinds[n->kind] : "?"));
    json_object_set_new(o, "reason", json_string(n->reason));
    s_emit(o);
    if (!p->o.no_ack) {
        Ewh__Frame f = EWH__FRAME__INIT;
        Ewh__NoticeAck a = EWH__NOTICE_ACK__INIT;
        a.seq = n->seq;
        f.msg_case = EWH__FRAME__MSG_NOTICE_ACK;
        f.notice_ack = &a;
        (void)s_send(p, &f);
    }
}

static void
s_on_relay(struct s_peer *p, const Ewh__ReceiptRelay *rr)
{
    struct ewh_err err = {0};
    struct ewh_receipt rc;
    size_t len = ewh__receipt__get_packed_size(rr->receipt);
    uint8_t *buf = malloc(len);
    char hex[EWH_ID_HEX];
    json_t *o = json_object();
    bool ok;

    ewh__receipt__pack(rr->receipt, buf);
    ok = p->roster != NULL &&
         ewh_receipt_verify(buf, len, NULL, ewh_roster_lookup, p->roster, &rc,
                            &err) == 0;
    free(buf);
    json_object_set_new(o, "type", json_string("receipt"));
    json_object_set_new(o, "seq", json_integer((json_int_t)rr->seq));
    json_object_set_new(o, "verified", json_boolean(ok));
    if (ok) {
        json_t *ids = json_array();
        for (size_t i = 0; i < rc.n_ids; i++)
            json_array_append_new(
                ids,
                json_string(s_hex(rc.ids[i], EWH_ID_BYTES, hex, sizeof(hex))));
        json_object_set_new(o, "ids", ids);
        json_object_set_new(o, "from", json_string(rc.from));
        json_object_set_new(o, "origin", json_string(rc.origin));
        json_object_set_new(o, "kind",
                            json_string(ewh_receipt_kind_name(rc.kind)));
    } else {
        json_object_set_new(o, "reason", json_string(err.reason));
    }
    s_emit(o);
    if (!p->o.no_ack) {
        Ewh__Frame f = EWH__FRAME__INIT;
        Ewh__ReceiptAck a = EWH__RECEIPT_ACK__INIT;
        ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];
        a.seq = rr->seq;
        if (ok)
            ewh_receipt_ack_fill(&a, &rc, ids);
        f.msg_case = EWH__FRAME__MSG_RECEIPT_ACK;
        f.receipt_ack = &a;
        (void)s_send(p, &f);
    }
}

/* Read and handle every frame that arrives within timeout_ms. */
static void
s_pump(struct s_peer *p, long timeout_ms)
{
    zmq_pollitem_t it[2] = {{p->sock, 0, ZMQ_POLLIN, 0},
                            {p->mon, 0, ZMQ_POLLIN, 0}};
    struct ewh_err err = {0};
    ewh_frame_t *f;
    zmq_msg_t m;

    if (zmq_poll(it, 2, timeout_ms) <= 0)
        return;
    if (it[1].revents & ZMQ_POLLIN)
        s_on_monitor(p);
    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        p->last_frame_ms = ewh_mono_ms();
        if (ewh_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m), &f, &err) !=
            0) {
            json_t *o = json_object();
            json_object_set_new(o, "type", json_string("bad_frame"));
            json_object_set_new(o, "reason", json_string(err.reason));
            s_emit(o);
            zmq_msg_close(&m);
            continue;
        }
        zmq_msg_close(&m);
        switch (f->msg_case) {
        case EWH__FRAME__MSG_ROSTER:
            s_on_roster(p, f->roster);
            break;
        case EWH__FRAME__MSG_SUBMIT_ACK:
            s_on_ack(p, f->submit_ack);
            break;
        case EWH__FRAME__MSG_DELIVER:
            s_on_deliver(p, f->deliver);
            break;
        case EWH__FRAME__MSG_NOTICE:
            s_on_notice(p, f->notice);
            break;
        case EWH__FRAME__MSG_RECEIPT_RELAY:
            s_on_relay(p, f->receipt_relay);
            break;
        case EWH__FRAME__MSG_RECEIPT_ACK: {
            char hex[EWH_ID_HEX];
            json_t *o = json_object(), *ids = json_array();
            json_object_set_new(o, "type", json_string("receipt_ack"));
            for (size_t i = 0; i < f->receipt_ack->n_ids; i++)
                json_array_append_new(
                    ids, json_string(s_hex(f->receipt_ack->ids[i].data,
                                           f->receipt_ack->ids[i].len, hex,
                                           sizeof(hex))));
            json_object_set_new(o, "ids", ids);
            if (f->receipt_ack->refused[0] != '\0') {
                json_object_set_new(
                    o, "code",
                    json_string(ewh_errcode_name(
                        (enum ewh_errcode)f->receipt_ack->refused_code)));
                json_object_set_new(o, "refused",
                                    json_string(f->receipt_ack->refused));
            }
            json_object_set_new(o, "from", json_string(f->receipt_ack->from));
            s_emit(o);
            break;
        }
        case EWH__FRAME__MSG_ERROR: {
            json_t *o = json_object();
            json_object_set_new(o, "type", json_string("error"));
            json_object_set_new(o, "code",
                                json_integer((json_int_t)f->error->code));
            json_object_set_new(o, "reason", json_string(f->error->reason));
            s_emit(o);
            break;
        }
        default:
            break;
        }
        ewh_frame_destroy(&f);
    }
}

static void
s_timeout(const char *what, long done, long want)
{
    json_t *o = json_object();

    json_object_set_new(o, "type", json_string("timeout"));
    json_object_set_new(o, "what", json_string(what));
    json_object_set_new(o, "done", json_integer(done));
    json_object_set_new(o, "want", json_integer(want));
    s_emit(o);
}

static void
s_seal_all(struct s_peer *p)
{
    struct ewh_err err = {0};
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS];
    ewh_wrapcache_t *cache = ewh_wrapcache_new();
    char list[256], *save = NULL, *tok, *body;
    size_t n_to = 0;
    long i;
    int64_t now = ewh_now();

    snprintf(list, sizeof(list), "%s", p->o.to);
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (n_to == EWH_MAX_RECIPIENTS)
            fatalx("too many recipients");
        if ((to[n_to] = ewh_roster_find(p->roster, tok, NULL)) == NULL)
            fatalx("recipient %s is not in the hub's roster", tok);
        n_to++;
    }
    if (p->o.to_pub != NULL) {
        if (n_to == EWH_MAX_RECIPIENTS)
            fatalx("too many recipients");
        if (ewh_pubid_load(p->o.to_pub, &p->extra, &err) != 0)
            fatalx("%s", err.reason);
        to[n_to++] = &p->extra;
    }
    if (p->o.body_file != NULL) {
        size_t blen = 0;
        if (ewh_file_read(p->o.body_file, EWH_MAX_BODY_BYTES, &body, &blen,
                          &err) != 0)
            fatalx("--body-file: %s", err.reason);
        p->o.body_bytes = (long)blen;
    } else if ((body = malloc((size_t)p->o.body_bytes + 1)) == NULL)
        fatalx("out of memory");
    else
        memset(body, 'x', (size_t)p->o.body_bytes);
    for (i = 0; i < p->o.count; i++) {
        struct ewh_report r;
        struct s_sub *s = &p->subs[i];

        memset(&r, 0, sizeof(r));
        ewh_id_new(r.id);
        if (p->o.report_id != NULL &&
            ewh_id_parse(p->o.report_id, r.id, &err) != 0)
            fatalx("--id: %s", err.reason);
        r.type = p->o.return_year != 0 ? EWH_TYPE_RETURN : EWH_TYPE_ALERT;
        r.return_year = (uint32_t)p->o.return_year;
        memcpy(r.origin, ewh_secret_pubid(p->sealer)->country, EWH_CC_BYTES);
        snprintf(r.author, sizeof(r.author), "ewh-peer");
        r.created_at = now + p->o.created_offset;
        r.expires_at =
            p->o.expires != 0 ? r.created_at + (int64_t)p->o.expires : 0;
        r.level = p->o.level;
        r.distribution = p->o.distribution;
        snprintf(r.category, sizeof(r.category), "%s",
                 p->o.return_year != 0 ? "security-forces" : "other");
        r.tlp = EWH_TLP_GREEN;
        snprintf(r.title, sizeof(r.title), "%s %ld",
                 p->o.title != NULL ? p->o.title : "ewh-peer test report", i);
        if (ewh_report_set_body(&r, body, (size_t)p->o.body_bytes, &err) != 0 ||
            ewh_envelope_seal(&r, to, n_to, p->sealer, cache, &s->env, &s->len,
                              &err) != 0)
            fatalx("seal: %s", err.reason);
        memcpy(s->id, r.id, EWH_ID_BYTES);
        ewh_report_clear(&r);
        if (p->o.env_out != NULL) {
            char path[4096], hex[EWH_ID_HEX];
            snprintf(path, sizeof(path), "%s/%s.env", p->o.env_out,
                     s_hex(s->id, EWH_ID_BYTES, hex, sizeof(hex)));
            if (ewh_keyfile_write(path, s->env, s->len, 0644, &err) != 0)
                fatalx("%s", err.reason);
        }
    }
    free(body);
    ewh_wrapcache_destroy(&cache);
}

static void
s_load_env(struct s_peer *p)
{
    struct ewh_err err = {0};
    struct ewh_header hdr;
    char *buf = NULL;
    size_t len = 0;
    long i;

    if (ewh_file_read(p->o.env_in, EWH_MAX_ENVELOPE_BYTES, &buf, &len, &err) !=
        0)
        fatalx("%s", err.reason);
    if (ewh_envelope_peek((uint8_t *)buf, len, &hdr, &err) != 0)
        fatalx("%s: %s", p->o.env_in, err.reason);
    for (i = 0; i < p->o.count; i++) {
        p->subs[i].env = malloc(len);
        memcpy(p->subs[i].env, buf, len);
        p->subs[i].len = len;
        memcpy(p->subs[i].id, hdr.id, EWH_ID_BYTES);
    }
    free(buf);
}

static void
s_submit_one(struct s_peer *p, struct s_sub *s)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Submit m = EWH__SUBMIT__INIT;

    m.envelope.data = s->env;
    m.envelope.len = s->len;
    f.msg_case = EWH__FRAME__MSG_SUBMIT;
    f.submit = &m;
    if (s_send(p, &f) == 0) {
        if (s->state != 1)
            p->in_flight++;
        s->state = 1;
        s->sent_ms = ewh_mono_ms();
    }
}

/* --flood: send the sealed envelopes round and round, as fast as the
 * window allows, for --flood seconds; then one summary line. */
static int
s_flood(struct s_peer *p)
{
    int64_t start = ewh_mono_ms();
    int64_t end = start + (int64_t)(p->o.flood * 1000);
    long i = 0, sent = 0;
    json_t *o;

    while (ewh_mono_ms() < end) {
        while (p->in_flight < p->o.window) {
            Ewh__Frame f = EWH__FRAME__INIT;
            Ewh__Submit m = EWH__SUBMIT__INIT;
            struct s_sub *s = &p->subs[i++ % p->n_subs];
            m.envelope.data = s->env;
            m.envelope.len = s->len;
            f.msg_case = EWH__FRAME__MSG_SUBMIT;
            f.submit = &m;
            if (s_send(p, &f) != 0)
                break;
            p->in_flight++;
            sent++;
        }
        s_pump(p, 5);
        /* Lost acks (a reconnect) must not stop the flood. */
        if (p->in_flight >= p->o.window &&
            ewh_mono_ms() - p->last_frame_ms > 2000)
            p->in_flight = 0;
    }
    s_pump(p, 200);
    o = json_object();
    json_object_set_new(o, "type", json_string("flood"));
    json_object_set_new(o, "seconds", json_real(p->o.flood));
    json_object_set_new(o, "sent", json_integer(sent));
    json_object_set_new(o, "accepted", json_integer(p->n_status[1]));
    json_object_set_new(o, "duplicate", json_integer(p->n_status[2]));
    json_object_set_new(o, "refused", json_integer(p->n_status[3]));
    json_object_set_new(o, "rate_limited", json_integer(p->n_rate));
    s_emit(o);
    return 0;
}

static int
s_run_submit(struct s_peer *p)
{
    int64_t deadline = ewh_mono_ms() + (int64_t)(p->o.timeout * 1000);
    long i;

    s_hello(p);
    while (p->roster == NULL && ewh_mono_ms() < deadline)
        s_pump(p, 100);
    if (p->roster == NULL) {
        s_timeout("roster", 0, 1);
        return 3;
    }
    if ((p->subs = calloc((size_t)p->o.count, sizeof(*p->subs))) == NULL)
        fatalx("out of memory");
    p->n_subs = p->o.count;
    if (p->o.env_in != NULL)
        s_load_env(p);
    else
        s_seal_all(p);
    if (p->o.dry_run)
        return 0;
    for (i = 0; i < p->o.junk; i++) {
        uint8_t junk[64];
        randombytes_buf(junk, sizeof(junk));
        (void)zmq_send(p->sock, junk, sizeof(junk), 0);
    }
    if (p->o.flood > 0)
        return s_flood(p);
    if (p->o.stall) {
        /* Never read an answer (issue 16 item 5): every submit at once,
         * then sleep until --timeout. */
        for (i = 0; i < p->n_subs; i++)
            s_submit_one(p, &p->subs[i]);
        s_emit(json_pack("{s:s,s:i,s:i}", "type", "stall_sent", "submits",
                         (json_int_t)p->n_subs, "junk", (json_int_t)p->o.junk));
        while (ewh_mono_ms() < deadline)
            usleep(50000);
        return 0;
    }
    while (p->n_acked < p->n_subs && ewh_mono_ms() < deadline) {
        int64_t now = ewh_mono_ms();
        for (i = 0; i < p->n_subs && p->in_flight < p->o.window; i++) {
            struct s_sub *s = &p->subs[i];
            if (s->state == 0 ||
                (s->state == 3 &&
                 now - s->sent_ms > (int64_t)(p->o.resend * 1000)))
                s_submit_one(p, s);
        }
        if (p->o.resend > 0)
            for (i = 0; i < p->n_subs; i++) {
                struct s_sub *s = &p->subs[i];
                if (s->state == 1 &&
                    now - s->sent_ms > (int64_t)(p->o.resend * 1000))
                    s_submit_one(p, s);
            }
        s_pump(p, 50);
    }
    /* Drain what else is already here (rosters, errors). */
    s_pump(p, 100);
    if (p->n_acked < p->n_subs) {
        s_timeout("acks", p->n_acked, p->n_subs);
        return 1;
    }
    return 0;
}

static int
s_run_recv(struct s_peer *p)
{
    int64_t start = ewh_mono_ms();
    int64_t deadline = start + (int64_t)(p->o.timeout * 1000);

    s_hello(p);
    p->last_frame_ms = start;
    if (p->o.stall) {
        /* Never read again: the hub's sends to us back up. */
        while (ewh_mono_ms() < deadline)
            usleep(50000);
        return 0;
    }
    while (ewh_mono_ms() < deadline) {
        if (p->o.count >= 0 && p->n_delivered >= p->o.count)
            break;
        if (p->o.idle > 0 &&
            ewh_mono_ms() - p->last_frame_ms > (int64_t)(p->o.idle * 1000))
            break;
        s_pump(p, 50);
    }
    /* Give late frames (notices, relays) and our acks a moment. */
    s_pump(p, 200);
    if (p->o.count >= 0 && p->n_delivered < p->o.count) {
        s_timeout("deliveries", p->n_delivered, p->o.count);
        return 1;
    }
    return 0;
}

/* forge: frames a misbehaving node might send (see the header). */
static int
s_run_forge(struct s_peer *p)
{
    struct ewh_err err = {0};
    int64_t deadline = ewh_mono_ms() + (int64_t)(p->o.timeout * 1000);
    double idle = p->o.idle > 0 ? p->o.idle : 2;

    s_hello(p);
    while (!p->o.no_hello && p->roster == NULL && ewh_mono_ms() < deadline)
        s_pump(p, 100);
    /* --no-hello: the handshake only. */
    while (p->o.no_hello && p->links == 0 && ewh_mono_ms() < deadline)
        s_pump(p, 100);
    if (p->roster == NULL && !(p->o.no_hello && p->links > 0)) {
        s_timeout("roster", 0, 1);
        return 3;
    }
    if (p->o.receipt_id != NULL) {
        Ewh__ReceiptBody b = EWH__RECEIPT_BODY__INIT;
        Ewh__Receipt r = EWH__RECEIPT__INIT;
        Ewh__Frame f = EWH__FRAME__INIT;
        uint8_t id[EWH_MAX_RECEIPT_IDS][EWH_ID_BYTES], sig[EWH_SIG_BYTES];
        ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];
        char list[EWH_MAX_RECEIPT_IDS * EWH_ID_HEX], *one, *save = NULL;
        uint8_t *bbuf;
        size_t blen;

        /* HEX[,HEX...]: one receipt for several reports, as agents sign. */
        snprintf(list, sizeof(list), "%s", p->o.receipt_id);
        for (one = strtok_r(list, ",", &save); one != NULL;
             one = strtok_r(NULL, ",", &save)) {
            if (b.n_ids == EWH_MAX_RECEIPT_IDS)
                fatalx("--receipt-id: more than %u ids", EWH_MAX_RECEIPT_IDS);
            if (ewh_id_parse(one, id[b.n_ids], &err) != 0)
                fatalx("--receipt-id: %s", err.reason);
            ids[b.n_ids].data = id[b.n_ids];
            ids[b.n_ids].len = EWH_ID_BYTES;
            b.n_ids++;
        }
        b.ids = ids;
        if (p->o.origin == NULL)
            fatalx("--receipt-id needs --origin");
        b.origin = (char *)p->o.origin;
        b.from =
            (char *)(p->o.from != NULL ? p->o.from
                                       : ewh_secret_pubid(p->sealer)->country);
        b.kind = p->o.kind != NULL && strcmp(p->o.kind, "acknowledged") == 0
                     ? EWH__RECEIPT_KIND__RECEIPT_ACKNOWLEDGED
                     : EWH__RECEIPT_KIND__RECEIPT_DELIVERED;
        b.at = ewh_now();
        b.who = (char *)"forger";
        blen = ewh__receipt_body__get_packed_size(&b);
        if ((bbuf = malloc(blen)) == NULL)
            fatalx("out of memory");
        ewh__receipt_body__pack(&b, bbuf);
        if (ewh_sign(EWH_CTX_RECEIPT, bbuf, blen, ewh_secret_sign_sk(p->sealer),
                     sig, &err) != 0)
            fatalx("sign: %s", err.reason);
        r.body.data = bbuf;
        r.body.len = blen;
        r.signature.data = sig;
        r.signature.len = sizeof(sig);
        f.msg_case = EWH__FRAME__MSG_RECEIPT;
        f.receipt = &r;
        (void)s_send(p, &f);
        free(bbuf);
    }
    if (p->o.multipart > 0) {
        /* One message of many parts (the hub takes one part): the parts
         * stay below max_frame_bytes, the whole does not. */
        size_t plen = p->o.part_bytes > 0 ? (size_t)p->o.part_bytes : 65536;
        uint8_t *part = calloc(1, plen);
        long k;
        if (part == NULL)
            fatalx("out of memory");
        for (k = 0; k < p->o.multipart; k++)
            if (zmq_send(p->sock, part, plen,
                         k + 1 < p->o.multipart ? ZMQ_SNDMORE : 0) < 0)
                fatalx("send part %ld: %s", k, zmq_strerror(zmq_errno()));
        free(part);
        s_emit(json_pack("{s:s,s:i,s:i}", "type", "multipart_sent", "parts",
                         (json_int_t)p->o.multipart, "part_bytes",
                         (json_int_t)plen));
    }
    if (p->o.ack_seq != NULL) {
        static uint8_t zero[EWH_ID_BYTES];
        unsigned long long a = 0, b = 0, q;
        if (sscanf(p->o.ack_seq, "%llu:%llu", &a, &b) != 2 || b < a ||
            b - a > 100000)
            fatalx("--ack-seq A:B");
        for (q = a; q <= b; q++) {
            Ewh__Frame f = EWH__FRAME__INIT;
            Ewh__DeliverAck m = EWH__DELIVER_ACK__INIT;
            m.seq = q;
            m.id.data = zero;
            m.id.len = EWH_ID_BYTES;
            f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
            f.deliver_ack = &m;
            (void)s_send(p, &f);
        }
    }
    if (p->o.audit > 0) {
        long k;
        for (k = 0; k < p->o.audit; k++) {
            Ewh__Frame f = EWH__FRAME__INIT;
            Ewh__AuditRequest m = EWH__AUDIT_REQUEST__INIT;
            m.from_length = 0;
            m.max_entries = EWH_MAX_PROOF_ENTRIES;
            f.msg_case = EWH__FRAME__MSG_AUDIT_REQUEST;
            f.audit_request = &m;
            (void)s_send(p, &f);
            if (p->o.pace_ms > 0)
                usleep((useconds_t)p->o.pace_ms * 1000);
        }
        s_emit(json_pack("{s:s,s:i}", "type", "audit_sent", "requests",
                         (json_int_t)p->o.audit));
    }
    if (p->o.hellos > 0) {
        long k;
        for (k = 0; k < p->o.hellos; k++)
            s_hello(p);
        s_emit(json_pack("{s:s,s:i}", "type", "hellos_sent", "hellos",
                         (json_int_t)p->o.hellos));
    }
    if (p->o.stall) {
        /* Never read: the hub's answers back up (a slow-loris peer). */
        usleep((useconds_t)(idle * 1e6));
        return 0;
    }
    p->last_frame_ms = ewh_mono_ms();
    while (ewh_mono_ms() < deadline &&
           ewh_mono_ms() - p->last_frame_ms < (int64_t)(idle * 1000))
        s_pump(p, 50);
    return 0;
}

/* fedsend: one Transfer as a peer hub would send it. */
static int
s_run_fedsend(struct s_peer *p)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__FedHello fh = EWH__FED_HELLO__INIT;
    Ewh__Transfer t = EWH__TRANSFER__INIT;
    char *env = NULL, pbuf[512], *save = NULL, *tok, *path[16];
    size_t len = 0, n = 0;
    int64_t end = ewh_mono_ms() + (int64_t)(p->o.timeout * 1000);
    bool up = false, sent = false;

    if (p->o.region == NULL || p->o.env_in == NULL || p->o.path == NULL)
        fatalx("fedsend needs --region, --env-in and --path");
    if (ewh_file_read(p->o.env_in, EWH_MAX_FRAME_BYTES, &env, &len, &err) != 0)
        fatalx("--env-in: %s", err.reason);
    snprintf(pbuf, sizeof(pbuf), "%s", p->o.path);
    for (tok = strtok_r(pbuf, ",", &save); tok != NULL && n < 16;
         tok = strtok_r(NULL, ",", &save))
        path[n++] = tok;
    while (ewh_mono_ms() < end) {
        zmq_pollitem_t it[2] = {{p->sock, 0, ZMQ_POLLIN, 0},
                                {p->mon, 0, ZMQ_POLLIN, 0}};
        zmq_msg_t m;
        ewh_frame_t *fr = NULL;

        if (up && !sent) {
            fh.version = 1;
            fh.region = (char *)p->o.region;
            fh.credit = 64;
            f.msg_case = EWH__FRAME__MSG_FED_HELLO;
            f.fed_hello = &fh;
            (void)s_send(p, &f);
            t.seq = 1;
            t.envelope.data = (uint8_t *)env;
            t.envelope.len = len;
            t.n_path = n;
            t.path = path;
            f.msg_case = EWH__FRAME__MSG_TRANSFER;
            f.transfer = &t;
            (void)s_send(p, &f);
            sent = true;
        }
        if (zmq_poll(it, 2, 100) < 0)
            break;
        if (it[1].revents & ZMQ_POLLIN) {
            long before = p->links;
            s_on_monitor(p);
            up = up || p->links > before;
        }
        if (!(it[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->sock, 0) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        if (ewh_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m), &fr, &err) ==
                0 &&
            fr->msg_case == EWH__FRAME__MSG_TRANSFER_ACK) {
            json_t *o = json_object();
            json_object_set_new(o, "type", json_string("transfer_ack"));
            json_object_set_new(
                o, "status",
                json_string(
                    fr->transfer_ack->status == EWH__ACK_STATUS__ACK_ACCEPTED
                        ? "accepted"
                    : fr->transfer_ack->status == EWH__ACK_STATUS__ACK_DUPLICATE
                        ? "duplicate"
                        : "refused"));
            json_object_set_new(o, "code",
                                json_string(ewh_errcode_name(
                                    (enum ewh_errcode)fr->transfer_ack->code)));
            json_object_set_new(o, "reason",
                                json_string(fr->transfer_ack->reason != NULL
                                                ? fr->transfer_ack->reason
                                                : ""));
            s_emit(o);
            ewh_frame_destroy(&fr);
            zmq_msg_close(&m);
            free(env);
            return 0;
        }
        ewh_frame_destroy(&fr);
        zmq_msg_close(&m);
    }
    free(env);
    s_timeout("transfer_ack", 0, 1);
    return 1;
}

static int
s_keygen(const struct s_opts *o)
{
    struct ewh_err err = {0};
    ewh_secret_t *s;
    char path[4096], fp[EWH_FINGERPRINT_CHARS];

    if (o->country == NULL || o->out == NULL)
        fatalx("keygen needs --country and --out");
    if (mkdir(o->out, 0700) != 0 && errno != EEXIST)
        fatal("mkdir %s", o->out);
    if ((s = ewh_secret_generate(EWH_KIND_NODE, o->country, &err)) == NULL)
        fatalx("keygen: %s", err.reason);
    snprintf(path, sizeof(path), "%s/node.key", o->out);
    if (ewh_secret_save(s, path, &err) != 0)
        fatalx("keygen: %s", err.reason);
    snprintf(path, sizeof(path), "%s/node-%s.pub", o->out, o->country);
    if (ewh_pubid_save(ewh_secret_pubid(s), path, &err) != 0)
        fatalx("keygen: %s", err.reason);
    ewh_pubid_fingerprint(ewh_secret_pubid(s), fp);
    printf("{\"type\":\"keygen\",\"country\":\"%s\",\"pub\":\"%s\","
           "\"fingerprint\":\"%s\"}\n",
           o->country, path, fp);
    ewh_secret_destroy(&s);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"hub-pub", required_argument, NULL, 'H'},
        {"endpoint", required_argument, NULL, 'e'},
        {"to", required_argument, NULL, 't'},
        {"level", required_argument, NULL, 'l'},
        {"count", required_argument, NULL, 'n'},
        {"expires", required_argument, NULL, 'x'},
        {"body-bytes", required_argument, NULL, 'b'},
        {"window", required_argument, NULL, 'w'},
        {"seal-key", required_argument, NULL, 'S'},
        {"created-offset", required_argument, NULL, 'C'},
        {"env-out", required_argument, NULL, 'O'},
        {"env-in", required_argument, NULL, 'I'},
        {"junk", required_argument, NULL, 'J'},
        {"resend", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 'T'},
        {"credit", required_argument, NULL, 'c'},
        {"old-node", no_argument, NULL, 0x101},
        {"no-hello", no_argument, NULL, 0x102},
        {"idle", required_argument, NULL, 'i'},
        {"no-ack", no_argument, NULL, 'N'},
        {"ack-delay", required_argument, NULL, 'j'},
        {"receipt", required_argument, NULL, 'r'},
        {"country", required_argument, NULL, 'y'},
        {"out", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, 'P'},
        {"dry-run", no_argument, NULL, 'D'},
        {"flood", required_argument, NULL, 'F'},
        {"to-pub", required_argument, NULL, 'U'},
        {"stall", no_argument, NULL, 'Z'},
        {"receipt-id", required_argument, NULL, 'K'},
        {"id", required_argument, NULL, 'X'},
        {"origin", required_argument, NULL, 'G'},
        {"from", required_argument, NULL, 'f'},
        {"kind", required_argument, NULL, 'd'},
        {"ack-seq", required_argument, NULL, 'q'},
        {"multipart", required_argument, NULL, 'M'},
        {"part-bytes", required_argument, NULL, 'B'},
        {"return-year", required_argument, NULL, 'Y'},
        {"body-file", required_argument, NULL, 'W'},
        {"audit", required_argument, NULL, 'A'},
        {"distribution", required_argument, NULL, 0x112},
        {"region", required_argument, NULL, 0x113},
        {"path", required_argument, NULL, 0x114},
        {"hello", required_argument, NULL, 'E'},
        {"pace", required_argument, NULL, 'Q'},
        {NULL, 0, NULL, 0}};
    struct s_peer p;
    struct ewh_err err = {0};
    const char *cmd;
    int c, rc;

    memset(&p, 0, sizeof(p));
    p.o.level = EWH_LEVEL_MEDIUM;
    p.o.count = -1;
    p.o.window = 100;
    p.o.body_bytes = 200;
    p.o.credit = 64;
    p.o.timeout = 30;
    ewh_log_init("ewh-peer", EWH_LOG_WARN);
    if (argc < 2)
        fatalx("usage: ewh-peer keygen|submit|recv|forge [options] (see the "
               "header of tests/tools/ewh-peer.c)");
    cmd = argv[1];
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            p.o.key = optarg;
            break;
        case 'H':
            p.o.hub_pub = optarg;
            break;
        case 'e':
            p.o.endpoint = optarg;
            break;
        case 't':
            p.o.to = optarg;
            break;
        case 'l':
            if ((p.o.level = ewh_level_parse(optarg)) == EWH_LEVEL_NONE)
                fatalx("bad level '%s'", optarg);
            break;
        case 'n':
            p.o.count = atol(optarg);
            break;
        case 'x':
            p.o.expires = atof(optarg);
            break;
        case 'b':
            p.o.body_bytes = atol(optarg);
            break;
        case 'w':
            p.o.window = atol(optarg);
            break;
        case 'S':
            p.o.seal_key = optarg;
            break;
        case 'C':
            p.o.created_offset = atol(optarg);
            break;
        case 'O':
            p.o.env_out = optarg;
            break;
        case 'I':
            p.o.env_in = optarg;
            break;
        case 'J':
            p.o.junk = atol(optarg);
            break;
        case 'R':
            p.o.resend = atof(optarg);
            break;
        case 'T':
            p.o.timeout = atof(optarg);
            break;
        case 'c':
            p.o.credit = atol(optarg);
            break;
        case 0x102:
            p.o.no_hello = true;
            break;
        case 0x101:
            p.o.old_node = true;
            break;
        case 'i':
            p.o.idle = atof(optarg);
            break;
        case 'N':
            p.o.no_ack = true;
            break;
        case 'j':
            p.o.ack_delay_ms = atol(optarg);
            break;
        case 'r':
            p.o.receipt = optarg;
            break;
        case 'y':
            p.o.country = optarg;
            break;
        case 'o':
            p.o.out = optarg;
            break;
        case 'P':
            p.o.title = optarg;
            break;
        case 'D':
            p.o.dry_run = true;
            break;
        case 'F':
            p.o.flood = atof(optarg);
            break;
        case 'U':
            p.o.to_pub = optarg;
            break;
        case 'Z':
            p.o.stall = true;
            break;
        case 'K':
            p.o.receipt_id = optarg;
            break;
        case 'X':
            p.o.report_id = optarg;
            break;
        case 'G':
            p.o.origin = optarg;
            break;
        case 'f':
            p.o.from = optarg;
            break;
        case 'd':
            p.o.kind = optarg;
            break;
        case 'q':
            p.o.ack_seq = optarg;
            break;
        case 'M':
            p.o.multipart = atol(optarg);
            break;
        case 'B':
            p.o.part_bytes = atol(optarg);
            break;
        case 'Y':
            p.o.return_year = atol(optarg);
            break;
        case 'W':
            p.o.body_file = optarg;
            break;
        case 'A':
            p.o.audit = atol(optarg);
            break;
        case 0x112:
            if (ewh_distribution_parse(optarg, &p.o.distribution) != 0)
                fatalx("bad distribution '%s'", optarg);
            break;
        case 0x113:
            p.o.region = optarg;
            break;
        case 0x114:
            p.o.path = optarg;
            break;
        case 'E':
            p.o.hellos = atol(optarg);
            break;
        case 'Q':
            p.o.pace_ms = atol(optarg);
            break;
        default:
            return 2;
        }
    }
    if (sodium_init() < 0)
        fatalx("sodium_init failed");
    if (strcmp(cmd, "keygen") == 0)
        return s_keygen(&p.o);
    if (p.o.key == NULL || p.o.hub_pub == NULL || p.o.endpoint == NULL)
        fatalx("%s needs --key, --hub-pub and --endpoint", cmd);
    if ((p.me = ewh_secret_load(p.o.key, &err)) == NULL ||
        ewh_pubid_load(p.o.hub_pub, &p.hub, &err) != 0)
        fatalx("%s", err.reason);
    p.sealer = p.me;
    if (p.o.seal_key != NULL &&
        (p.sealer = ewh_secret_load(p.o.seal_key, &err)) == NULL)
        fatalx("%s", err.reason);
    s_connect(&p);
    if (strcmp(cmd, "submit") == 0) {
        if (p.o.to == NULL && p.o.env_in == NULL)
            fatalx("submit needs --to or --env-in");
        if (p.o.count < 0)
            p.o.count = 1;
        if (p.o.count > S_MAX_SUBMITS)
            fatalx("--count at most %d", S_MAX_SUBMITS);
        rc = s_run_submit(&p);
    } else if (strcmp(cmd, "recv") == 0) {
        rc = s_run_recv(&p);
    } else if (strcmp(cmd, "forge") == 0) {
        rc = s_run_forge(&p);
    } else if (strcmp(cmd, "fedsend") == 0) {
        rc = s_run_fedsend(&p);
    } else {
        fatalx("unknown command '%s'", cmd);
    }
    (void)zmq_socket_monitor(p.sock, NULL, 0);
    zmq_close(p.mon);
    zmq_close(p.sock);
    zmq_ctx_term(p.ctx);
    for (long i = 0; i < p.n_subs; i++)
        free(p.subs[i].env);
    free(p.subs);
    ewh_roster_destroy(&p.roster);
    if (p.sealer != p.me)
        ewh_secret_destroy(&p.sealer);
    ewh_secret_destroy(&p.me);
    return rc;
}
