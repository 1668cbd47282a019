/* agent.c — the node agent's event loop. */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "ewh/audit.h"
#include "ewh/envelope.h"
#include "ewh/frame.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "catalogue.h"
#include "rekey.h"
#include "roster.h"
#include "ewh/keyfile.h"

#define S_WINDOW            256   /* submits in flight */
#define S_BUDGET            256   /* frames drained per turn */
#define S_POLL_STORE_MS     150   /* PRAGMA data_version */
#define S_HELLO_RETRY_MS    3000  /* resend Hello until the roster comes */
#define S_SUBMIT_TMO_MS     30000 /* resend a submit not acked by then */
#define S_RECEIPT_RESEND_MS 30000
#define S_RETRY_MS          5000 /* after a temporary refusal */
#define S_MON_EP            "inproc://ewnode-monitor-%u"
#define S_ALT_MS            1500 /* down this long: try announced keys */

struct s_flight {
    char id[EWH_ID_HEX];
    int64_t at;
};

struct s_out {
    uint8_t *buf;
    size_t len;
};

/* A report stored this turn whose delivered receipt is not signed yet. */
struct s_owed {
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES];
};

struct s_agent {
    struct node_dir *d;
    const char *me;
    void *ctx, *sock, *mon;
    int sfd;
    ewh_roster_t *roster;
    bool connected, ready, need_hello, stop;
    int64_t hello_at, store_at, dv, receipts_at, retry_at;
    /* The outbox is read from after out_cursor, the last seq sent (or
     * found in flight) since the last full rescan, so that a turn does not
     * read again the envelopes already in flight. */
    int64_t out_cursor;
    ewh_wrapcache_t *wc; /* pair keys for opening deliveries */
    /* The last audit checkpoint verified: a batch's acks all carry the
     * same one, verified once. */
    uint8_t *cp_raw;
    size_t cp_len;
    bool outbox_dirty, receipts_dirty;
    int64_t rc_cursor;
    struct s_flight fl[S_WINDOW];
    size_t n_fl;
    bool in_tx;
    struct s_out *out; /* frames to send after the batch commits */
    size_t n_out, cap_out;
    /* Delivered receipts owed for this turn's reports: signed at the end
     * of the turn, one receipt per origin, in the turn's transaction. */
    struct s_owed owed[S_BUDGET];
    size_t n_owed;
    /* Key changes (docs/operations.md). */
    ewh_secret_t *next;        /* node.key.new: a re-key not yet enrolled */
    ewh_secret_t *prev;        /* node.key.old: opens deliveries sealed
                                  for the keys before a re-key */
    ewh_roster_t *prev_roster; /* the roster before the last one: verifies
                                  envelopes and receipts signed with a
                                  peer's keys before its re-key */
    unsigned try_idx;          /* which key pair the socket uses */
    unsigned mon_gen;
    int64_t down_since;
    bool alt_now;
    bool rekeyed;    /* switched keys in this run */
    bool reseal_due; /* an old-key submit came back refused */
};

static int s_sock_open(struct s_agent *a, struct ewh_err *err);
static void s_sock_close(struct s_agent *a);

/* ---- sending ---- */

/* Encode and send now.  -1 if the hub is not reachable (EAGAIN). */
static int
s_send(struct s_agent *a, const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("agent: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return -1;
    }
    rc = zmq_send(a->sock, buf, len, ZMQ_DONTWAIT);
    free(buf);
    if (rc < 0) {
        if (errno != EAGAIN)
            ewh_log_warn("agent: send %s", ewh_frame_name(f));
        return -1;
    }
    ewh_log_debug("agent: sent %s (%zu bytes)", ewh_frame_name(f), len);
    return 0;
}

/* Queue a frame to go out once the current batch has committed. */
static void
s_send_later(struct s_agent *a, const Ewh__Frame *f)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;

    if (!a->in_tx) {
        (void)s_send(a, f);
        return;
    }
    if (ewh_frame_encode(f, &buf, &len, &err) != 0) {
        ewh_log_warnx("agent: cannot encode %s: %s", ewh_frame_name(f),
                      err.reason);
        return;
    }
    if (a->n_out == a->cap_out) {
        size_t cap = a->cap_out ? a->cap_out * 2 : 64;
        struct s_out *o = realloc(a->out, cap * sizeof(*o));
        if (o == NULL) {
            free(buf);
            return; /* the hub sends again; nothing is lost */
        }
        a->out = o;
        a->cap_out = cap;
    }
    a->out[a->n_out].buf = buf;
    a->out[a->n_out].len = len;
    a->n_out++;
}

static int
s_begin(struct s_agent *a, struct ewh_err *err)
{
    if (a->in_tx)
        return 0;
    if (node_store_begin(a->d->store, err) != 0)
        return -1;
    a->in_tx = true;
    return 0;
}

/* Sign the delivered receipts owed: one receipt per origin for all the
 * reports of that origin stored this turn (at most S_BUDGET, within
 * EWH_MAX_RECEIPT_IDS), queued in the turn's transaction.  One signature
 * per origin per turn instead of one per report: the recipient signs, and
 * the hub and the origin verify, once per receipt. */
static void
s_sign_owed(struct s_agent *a)
{
    struct ewh_err err = {0};
    struct ewh_receipt rc;
    uint8_t *buf = NULL;
    size_t i, j, len = 0;
    char id[EWH_ID_HEX];
    bool taken[S_BUDGET] = {false};

    for (i = 0; i < a->n_owed; i++) {
        if (taken[i])
            continue;
        memset(&rc, 0, sizeof(rc));
        memcpy(rc.origin, a->owed[i].origin, EWH_CC_BYTES);
        memcpy(rc.from, a->me, EWH_CC_BYTES);
        rc.kind = EWH_RECEIPT_DELIVERED;
        rc.at = ewh_now();
        for (j = i; j < a->n_owed && rc.n_ids < EWH_MAX_RECEIPT_IDS; j++) {
            if (taken[j] || strcmp(a->owed[j].origin, rc.origin) != 0)
                continue;
            memcpy(rc.ids[rc.n_ids++], a->owed[j].id, EWH_ID_BYTES);
            taken[j] = true;
        }
        ewh_hex(rc.ids[0], EWH_ID_BYTES, id, sizeof(id));
        if (ewh_receipt_sign(&rc, a->d->secret, &buf, &len, &err) != 0 ||
            node_store_receipt_queue(a->d->store, id, EWH_RECEIPT_DELIVERED,
                                     buf, len, &err) != 0)
            ewh_log_errx("agent: delivered receipt id=%s (+%zu): %s", id,
                         rc.n_ids - 1, err.reason);
        free(buf);
        buf = NULL;
        a->receipts_dirty = true;
    }
    a->n_owed = 0;
}

/* Commit the batch, then send what depended on it.  If the commit fails,
 * nothing is acknowledged: the hub sends the deliveries again. */
static void
s_flush(struct s_agent *a)
{
    struct ewh_err err = {0};
    bool ok = true;
    size_t i;

    if (a->n_owed > 0)
        s_sign_owed(a);
    if (a->in_tx) {
        a->in_tx = false;
        if (node_store_commit(a->d->store, &err) != 0) {
            ewh_log_errx("agent: store commit failed: %s", err.reason);
            ok = false;
            free(a->cp_raw); /* its checkpoint row was not stored */
            a->cp_raw = NULL;
        }
    }
    for (i = 0; i < a->n_out; i++) {
        if (ok &&
            zmq_send(a->sock, a->out[i].buf, a->out[i].len, ZMQ_DONTWAIT) < 0)
            ewh_log_debug("agent: deferred send failed");
        free(a->out[i].buf);
    }
    a->n_out = 0;
}

static void
s_hello(struct s_agent *a)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Hello h = EWH__HELLO__INIT;

    h.version = EWH_ENVELOPE_VERSION;
    h.roster_version = a->roster != NULL ? ewh_roster_version(a->roster) : 0;
    h.credit = a->d->cfg.credit;
    h.checkpoint_length = node_store_checkpoint_length(a->d->store);
    f.msg_case = EWH__FRAME__MSG_HELLO;
    f.hello = &h;
    a->hello_at = ewh_mono_ms();
    a->need_hello = s_send(a, &f) != 0;
    if (!a->need_hello)
        ewh_log_debug("agent: hello roster_version=%llu",
                      (unsigned long long)h.roster_version);
}

static void
s_reload_roster(struct s_agent *a)
{
    struct ewh_err err = {0};
    ewh_roster_t *r = node_dir_roster(a->d, &err);

    if (r == NULL) {
        if (err.code != EWH_E_NOTFOUND)
            ewh_log_warnx("agent: stored roster unusable: %s", err.reason);
        return;
    }
    ewh_roster_destroy(&a->roster);
    a->roster = r;
}

/* ---- outbox ---- */

static bool
s_in_flight(struct s_agent *a, const char *id, size_t *at)
{
    size_t i;

    for (i = 0; i < a->n_fl; i++)
        if (strcmp(a->fl[i].id, id) == 0) {
            if (at != NULL)
                *at = i;
            return true;
        }
    return false;
}

static void
s_land(struct s_agent *a, const char *id)
{
    size_t i;

    if (s_in_flight(a, id, &i))
        a->fl[i] = a->fl[--a->n_fl];
}

/* Something other than an acknowledgement changed what may be sent: read
 * the outbox from its start on the next turn. */
static void
s_outbox_rescan(struct s_agent *a)
{
    a->outbox_dirty = true;
    a->out_cursor = 0;
}

static int
s_submit_one(void *ctx, int64_t seq, const char *id, const uint8_t *env,
             size_t len)
{
    struct s_agent *a = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Submit s = EWH__SUBMIT__INIT;

    if (a->n_fl == S_WINDOW)
        return 1;
    if (s_in_flight(a, id, NULL)) {
        a->out_cursor = seq;
        return 0;
    }
    s.envelope.data = (uint8_t *)env;
    s.envelope.len = len;
    f.msg_case = EWH__FRAME__MSG_SUBMIT;
    f.submit = &s;
    if (s_send(a, &f) != 0) {
        a->outbox_dirty = true; /* try again next turn */
        return 1;
    }
    snprintf(a->fl[a->n_fl].id, EWH_ID_HEX, "%s", id);
    a->fl[a->n_fl].at = ewh_mono_ms();
    a->n_fl++;
    a->out_cursor = seq;
    ewh_log_debug("agent: submit id=%s", id);
    return 0;
}

static void
s_pump_outbox(struct s_agent *a)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms(), wall = ewh_now_ms();
    size_t i;

    if (!a->ready)
        return;
    for (i = 0; i < a->n_fl;) {
        if (now - a->fl[i].at > S_SUBMIT_TMO_MS) {
            ewh_log_warnx("agent: no submit-ack for id=%s, sending again",
                          a->fl[i].id);
            a->fl[i] = a->fl[--a->n_fl];
            s_outbox_rescan(a);
        } else
            i++;
    }
    if (a->retry_at > 0 && wall >= a->retry_at) {
        a->retry_at = 0;
        s_outbox_rescan(a);
    }
    if (!a->outbox_dirty || a->n_fl == S_WINDOW)
        return;
    a->outbox_dirty = false;
    if (node_store_outbox_pending(a->d->store, a->out_cursor, wall,
                                  S_WINDOW + a->n_fl, s_submit_one, a,
                                  &err) < 0)
        ewh_log_warnx("agent: outbox: %s", err.reason);
    a->retry_at = node_store_outbox_next_try(a->d->store, wall);
}

/* ---- receipts we signed ---- */

static int
s_receipt_one(void *ctx, int64_t seq, const char *id, const uint8_t *buf,
              size_t len)
{
    struct s_agent *a = ctx;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Receipt *r = ewh__receipt__unpack(NULL, len, buf);
    int rc;

    if (r == NULL) {
        ewh_log_warnx("agent: stored receipt for id=%s unreadable", id);
        a->rc_cursor = seq;
        return 0;
    }
    f.msg_case = EWH__FRAME__MSG_RECEIPT;
    f.receipt = r;
    rc = s_send(a, &f);
    ewh__receipt__free_unpacked(r, NULL);
    if (rc != 0)
        return 1;
    a->rc_cursor = seq;
    ewh_log_debug("agent: receipt id=%s", id);
    return 0;
}

static void
s_pump_receipts(struct s_agent *a)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms();

    if (!a->ready)
        return;
    if (now - a->receipts_at > S_RECEIPT_RESEND_MS) {
        /* The hub acknowledges receipts with ReceiptAck{id, from, kind};
         * whatever it has not acknowledged goes again. */
        a->rc_cursor = 0;
        a->receipts_dirty = true;
        a->receipts_at = now;
    }
    if (!a->receipts_dirty)
        return;
    a->receipts_dirty = false;
    if (node_store_receipt_pending(a->d->store, a->rc_cursor, S_WINDOW,
                                   s_receipt_one, a, &err) < 0)
        ewh_log_warnx("agent: receipts: %s", err.reason);
}

/* ---- key changes ---- */

/* The roster that was held before the one just applied: kept (and saved
 * as DIR/roster.prev) so that envelopes and receipts a peer signed before
 * its re-key still verify. */
static void
s_keep_prev_roster(struct s_agent *a, const uint8_t *old, size_t len)
{
    struct ewh_err err = {0};
    ewh_roster_t *r;
    char f[1200];

    if (old == NULL)
        return;
    if ((r = ewh_roster_open(old, len, a->d->hub.sign, &err)) == NULL)
        return; /* signed by the hub's keys before a rotation */
    ewh_roster_destroy(&a->prev_roster);
    a->prev_roster = r;
    node_dir_file(a->d, "roster.prev", f, sizeof(f));
    if (ewh_keyfile_write(f, old, len, 0644, &err) != 0)
        ewh_log_warnx("agent: %s", err.reason);
}

static void
s_load_prev_roster(struct s_agent *a)
{
    struct ewh_err err = {0};
    char f[1200], *buf = NULL;
    size_t len = 0;

    node_dir_file(a->d, "roster.prev", f, sizeof(f));
    if (access(f, F_OK) != 0 ||
        ewh_file_read(f, EWH_MAX_FRAME_BYTES, &buf, &len, &err) != 0)
        return;
    a->prev_roster = ewh_roster_open((uint8_t *)buf, len, a->d->hub.sign, &err);
    free(buf);
}

/* The hub's roster names our new identity: the operator enrolled
 * node-CC.pub.new.  Switch for good and reseal what is not yet accepted. */
static void
s_rekey_check(struct s_agent *a)
{
    struct ewh_err err = {0};
    const struct ewh_pubid *mine;
    size_t n_env = 0, n_rcpt = 0;
    char fp[EWH_FINGERPRINT_CHARS];

    if (a->next == NULL || a->roster == NULL)
        return;
    mine = ewh_roster_find(a->roster, a->me, NULL);
    if (mine == NULL || !ewh_pubid_equal(mine, ewh_secret_pubid(a->next)))
        return;
    s_flush(a);
    if (node_dir_rekey_commit(a->d, &err) != 0) {
        ewh_log_errx("agent: re-key: %s", err.reason);
        return;
    }
    ewh_secret_destroy(&a->prev);
    a->prev = a->d->secret;
    a->d->secret = a->next;
    a->next = NULL;
    a->rekeyed = true;
    if (node_rekey_reseal(a->d, a->prev, a->roster, &n_env, &n_rcpt, &err) != 0)
        ewh_log_errx("agent: re-key: reseal: %s", err.reason);
    ewh_pubid_fingerprint(ewh_secret_pubid(a->d->secret), fp);
    ewh_log_info("agent: re-keyed: now using fingerprint %s (resealed %zu "
                 "queued reports, re-signed %zu receipts)",
                 fp, n_env, n_rcpt);
    a->n_fl = 0;
    s_outbox_rescan(a);
    a->receipts_dirty = true;
    a->rc_cursor = 0;
    if (a->try_idx & 1) {
        /* The socket already runs on the new key (it was the trial one):
         * the new key is now the current one. */
        a->try_idx &= ~1u;
    } else if (a->ctx != NULL) {
        struct ewh_err e2 = {0};
        s_sock_close(a);
        if (s_sock_open(a, &e2) != 0)
            ewh_log_errx("agent: reconnect: %s", e2.reason);
    }
}

static const struct ewh_pubid *
s_self_lookup(void *ctx, const char *cc)
{
    const struct ewh_pubid *id = ctx;

    return strcmp(id->country, cc) == 0 ? id : NULL;
}

/* Is the outbox envelope of id signed with our keys before the re-key? */
static bool
s_sealed_with_prev(struct s_agent *a, const char *id)
{
    struct ewh_err err = {0};
    struct ewh_header h;
    uint8_t *env = NULL;
    size_t len = 0;
    bool yes;

    if (node_store_envelope_get(a->d->store, id, &env, &len, &err) != 0)
        return false;
    yes = ewh_envelope_verify(env, len, a->me, s_self_lookup,
                              (void *)ewh_secret_pubid(a->prev), &h, &err) == 0;
    free(env);
    return yes;
}

/* Open a delivery: our keys, then the keys before a re-key; the roster,
 * then the one before it. */
static int
s_open_env(struct s_agent *a, const uint8_t *env, size_t len,
           struct ewh_report *r, struct ewh_header *h, struct ewh_err *err)
{
    const ewh_secret_t *keys[2] = {a->d->secret, a->prev};
    ewh_roster_t *ros[2] = {a->roster, a->prev_roster};
    struct ewh_err e2 = {0};
    int i, j;

    if (ewh_envelope_open_cached(env, len, keys[0], a->wc, ewh_roster_lookup,
                                 ros[0], r, h, err) == 0)
        return 0;
    for (i = 0; i < 2; i++)
        for (j = 0; j < 2; j++) {
            if ((i == 0 && j == 0) || keys[i] == NULL || ros[j] == NULL)
                continue;
            ewh_report_clear(r);
            if (ewh_envelope_open(env, len, keys[i], ewh_roster_lookup, ros[j],
                                  r, h, &e2) == 0)
                return 0;
        }
    return -1;
}

/* ---- frames from the hub ---- */

static void
s_on_roster(struct s_agent *a, const Ewh__SignedRoster *sr)
{
    struct ewh_err err = {0};
    uint64_t v = 0;
    size_t len = ewh__signed_roster__get_packed_size(sr), old_len = 0;
    uint8_t *buf = malloc(len > 0 ? len : 1), *old = NULL;

    if (buf == NULL)
        return;
    ewh__signed_roster__pack(sr, buf);
    s_flush(a); /* the roster has its own transaction */
    if (node_store_roster_get(a->d->store, &old, &old_len, &err) != 0)
        old = NULL;
    if (node_roster_apply(a->d, buf, len, &v, &err) == 0) {
        ewh_log_info("agent: roster version %llu applied",
                     (unsigned long long)v);
        s_keep_prev_roster(a, old, old_len);
        s_reload_roster(a);
        if ((a->try_idx & 2) && !a->d->has_hub_next)
            a->try_idx &= ~2u; /* the announced hub keys are pinned now */
        s_rekey_check(a);
    } else if (err.code == EWH_E_VERSION && a->roster != NULL &&
               v < ewh_roster_version(a->roster))
        /* Genuinely signed but older: a hub rolled back (restored from an
         * old backup, or trying to bring back replaced keys). */
        ewh_log_warnx("agent: refused roster: %s (a rollback?)", err.reason);
    else if (err.code == EWH_E_VERSION)
        ewh_log_debug("agent: roster: %s", err.reason);
    else
        ewh_log_warnx("agent: refused roster: %s", err.reason);
    free(buf);
    free(old);
    if (a->roster == NULL) {
        ewh_log_warnx("agent: no usable roster yet; waiting");
        return;
    }
    if (!a->ready)
        ewh_log_info("agent: session ready (roster version %llu)",
                     (unsigned long long)ewh_roster_version(a->roster));
    a->ready = true;
    s_outbox_rescan(a);
    a->receipts_dirty = true;
}

static void
s_on_submit_ack(struct s_agent *a, const Ewh__SubmitAck *k)
{
    struct ewh_err err = {0};
    struct ewh_checkpoint cp;
    char id[EWH_ID_HEX];
    int rc = 0;

    ewh_hex(k->id.data, EWH_ID_BYTES, id, sizeof(id));
    s_land(a, id);
    a->outbox_dirty = true;
    if (s_begin(a, &err) != 0)
        goto fail;
    switch (k->status) {
    case EWH__ACK_STATUS__ACK_ACCEPTED:
    case EWH__ACK_STATUS__ACK_DUPLICATE:
        ewh_log_info(
            "agent: hub accepted id=%s%s", id,
            k->status == EWH__ACK_STATUS__ACK_DUPLICATE ? " (duplicate)" : "");
        rc = node_store_outbox_accepted(a->d->store, id, ewh_now(), &err);
        break;
    default:
        if (k->retry) {
            ewh_log_warnx("agent: hub deferred id=%s: %s", id, k->reason);
            rc = node_store_outbox_retry(
                a->d->store, id, ewh_now_ms() + S_RETRY_MS, k->reason, &err);
        } else if (a->prev != NULL && k->code == EWH_E_SIGNATURE &&
                   s_sealed_with_prev(a, id)) {
            /* Sealed with the old keys by a command that loaded them
             * just before the switch: reseal, send again. */
            ewh_log_info("agent: id=%s was sealed with the old keys; "
                         "resealing",
                         id);
            a->reseal_due = true;
        } else if (a->rekeyed && k->reason != NULL &&
                   strstr(k->reason, "already used by a different") != NULL) {
            /* Resealed at the re-key, but the hub had already accepted
             * the old-key envelope of the same report (its ack was lost
             * when the connection was cut). */
            ewh_log_info("agent: hub holds id=%s sealed with the old key", id);
            rc = node_store_outbox_accepted(a->d->store, id, ewh_now(), &err);
        } else {
            ewh_log_warnx("agent: hub refused id=%s: %s", id, k->reason);
            rc = node_store_outbox_refused(a->d->store, id,
                                           k->reason[0] ? k->reason : "refused",
                                           ewh_now(), &err);
        }
        break;
    }
    if (rc != 0)
        goto fail;
    if (k->checkpoint != NULL && k->checkpoint->body.len > 0) {
        size_t len = ewh__checkpoint__get_packed_size(k->checkpoint);
        uint8_t *raw = malloc(len > 0 ? len : 1);
        if (raw == NULL)
            return;
        ewh__checkpoint__pack(k->checkpoint, raw);
        if (a->cp_raw != NULL && a->cp_len == len &&
            memcmp(a->cp_raw, raw, len) == 0) {
            free(raw); /* verified and stored with an earlier ack */
            return;
        }
        if (ewh_checkpoint_verify(raw, len, a->d->hub.sign, &cp, &err) != 0)
            ewh_log_warnx("agent: bad audit checkpoint with id=%s: %s", id,
                          err.reason);
        else if (node_store_checkpoint_put(a->d->store, cp.length, cp.head,
                                           cp.time, raw, len, &err) != 0)
            ewh_log_warnx("agent: checkpoint: %s", err.reason);
        else {
            free(a->cp_raw);
            a->cp_raw = raw;
            a->cp_len = len;
            raw = NULL;
        }
        free(raw);
    }
    return;
fail:
    ewh_log_errx("agent: submit-ack id=%s: %s", id, err.reason);
}

static bool
s_to_all(const ewh_roster_t *ro, const struct ewh_header *h)
{
    size_t i, j, n = 0;
    bool revoked, found;

    for (i = 0; i < ewh_roster_count(ro); i++) {
        const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
        if (revoked || strcmp(id->country, h->origin) == 0)
            continue;
        n++;
        found = false;
        for (j = 0; j < h->n_recipients && !found; j++)
            found = strcmp(h->recipients[j], id->country) == 0;
        if (!found)
            return false;
    }
    return n > 0 && n == h->n_recipients;
}

static void
s_deliver_ack(struct s_agent *a, uint64_t seq, const uint8_t *id)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__DeliverAck k = EWH__DELIVER_ACK__INIT;

    k.seq = seq;
    k.id.data = (uint8_t *)id;
    k.id.len = EWH_ID_BYTES;
    f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
    f.deliver_ack = &k;
    s_send_later(a, &f);
}

static void
s_on_deliver(struct s_agent *a, const Ewh__Deliver *dv)
{
    struct ewh_err err = {0}, e2 = {0};
    struct ewh_report r;
    struct ewh_header h;
    struct node_msg m;
    uint8_t zero[EWH_ID_BYTES] = {0};
    char id[EWH_ID_HEX] = "?";
    bool dup = false;

    memset(&r, 0, sizeof(r));
    memset(&m, 0, sizeof(m));
    memset(&h, 0, sizeof(h));
    if (a->roster == NULL) {
        /* Cannot judge it yet: no ack, the hub sends it again. */
        ewh_log_warnx("agent: delivery seq=%llu before any roster; not "
                      "acknowledged",
                      (unsigned long long)dv->seq);
        return;
    }
    if (s_open_env(a, dv->envelope.data, dv->envelope.len, &r, &h, &err) != 0 ||
        (strcmp(h.origin, a->me) == 0 &&
         ewh_err_set(&err, EWH_E_ORIGIN, "report from this node") != 0)) {
        /* A bad envelope is acknowledged so it does not loop, recorded,
         * and never shown. */
        struct ewh_header ph;
        bool have = ewh_envelope_peek(dv->envelope.data, dv->envelope.len, &ph,
                                      &e2) == 0;
        if (have)
            ewh_hex(ph.id, EWH_ID_BYTES, id, sizeof(id));
        ewh_log_warnx("agent: refused delivery seq=%llu id=%s reason=\"%s\"",
                      (unsigned long long)dv->seq, id, err.reason);
        if (s_begin(a, &e2) == 0 &&
            node_store_refusal_add(a->d->store, id, have ? ph.origin : "",
                                   err.reason, ewh_now(), &e2) != 0)
            ewh_log_errx("agent: %s", e2.reason);
        s_deliver_ack(a, dv->seq, have ? ph.id : zero);
        goto out;
    }
    node_msg_from_report(&m, &r, &h, false);
    m.to_all = s_to_all(a->roster, &h);
    m.received_at = ewh_now();
    if (m.body == NULL || s_begin(a, &err) != 0 ||
        node_store_inbox_add(a->d->store, &m, dv->envelope.data,
                             dv->envelope.len, &dup, &err) != 0) {
        ewh_log_errx("agent: cannot store delivery id=%s: %s", m.id,
                     err.reason[0] ? err.reason : "out of memory");
        goto out; /* not acknowledged: the hub sends it again */
    }
    if (!dup) {
        if (a->n_owed == S_BUDGET)
            s_sign_owed(a);
        memcpy(a->owed[a->n_owed].id, h.id, EWH_ID_BYTES);
        memcpy(a->owed[a->n_owed].origin, h.origin, EWH_CC_BYTES);
        a->n_owed++;
        ewh_log_info("agent: stored id=%s from=%s level=%s type=%s", m.id,
                     m.origin, ewh_level_name(m.level), ewh_type_name(m.type));
    } else
        ewh_log_info("agent: redelivery id=%s from=%s (stored once)", m.id,
                     m.origin);
    s_deliver_ack(a, dv->seq, h.id);
out:
    node_msg_clear(&m);
    ewh_report_clear(&r);
}

static void
s_on_relay(struct s_agent *a, const Ewh__ReceiptRelay *rr)
{
    struct ewh_err err = {0};
    struct ewh_receipt rc;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ReceiptAck k = EWH__RECEIPT_ACK__INIT;
    ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];
    size_t i, len = ewh__receipt__get_packed_size(rr->receipt);
    uint8_t *buf = malloc(len > 0 ? len : 1);
    char id[EWH_ID_HEX];

    if (buf == NULL)
        return;
    ewh__receipt__pack(rr->receipt, buf);
    if (a->roster == NULL ||
        (ewh_receipt_verify(buf, len, NULL, ewh_roster_lookup, a->roster, &rc,
                            &err) != 0 &&
         (a->prev_roster == NULL ||
          ewh_receipt_verify(buf, len, NULL, ewh_roster_lookup, a->prev_roster,
                             &rc, &err) != 0))) {
        ewh_log_warnx("agent: refused receipt relay seq=%llu: %s",
                      (unsigned long long)rr->seq,
                      a->roster ? err.reason : "no roster");
    } else if (strcmp(rc.origin, a->me) != 0) {
        ewh_log_warnx("agent: receipt relay seq=%llu is about a report of "
                      "%s",
                      (unsigned long long)rr->seq, rc.origin);
    } else {
        if (s_begin(a, &err) != 0)
            goto fail;
        for (i = 0; i < rc.n_ids; i++) {
            ewh_hex(rc.ids[i], EWH_ID_BYTES, id, sizeof(id));
            if (node_store_receipt_add(a->d->store, &rc, i, buf, len, &err) !=
                    0 ||
                node_store_rcpt_update(a->d->store, id, rc.from,
                                       rc.kind == EWH_RECEIPT_ACKNOWLEDGED
                                           ? NODE_R_ACKNOWLEDGED
                                           : NODE_R_DELIVERED,
                                       rc.who, rc.at, &err) != 0)
                goto fail;
            ewh_log_info("agent: receipt id=%s from=%s %s", id, rc.from,
                         ewh_receipt_kind_name(rc.kind));
        }
        ewh_receipt_ack_fill(&k, &rc, ids);
    }
    /* A refused relay is acknowledged too (by seq alone), so that it does
     * not loop; it was logged. */
    k.seq = rr->seq;
    f.msg_case = EWH__FRAME__MSG_RECEIPT_ACK;
    f.receipt_ack = &k;
    s_send_later(a, &f);
    free(buf);
    return;
fail:
    /* Not acknowledged: the hub relays it again, and storing it again
     * changes nothing already stored. */
    ewh_log_errx("agent: receipt relay seq=%llu: %s",
                 (unsigned long long)rr->seq, err.reason);
    free(buf);
}

static void
s_on_receipt_ack(struct s_agent *a, const Ewh__ReceiptAck *k)
{
    struct ewh_err err = {0};
    char id[EWH_ID_HEX];

    if (strcmp(k->from, a->me) != 0 || k->n_ids == 0)
        return;
    ewh_hex(k->ids[0].data, EWH_ID_BYTES, id, sizeof(id));
    if (k->refused[0] != '\0')
        /* Refused for good: sending it again cannot help. */
        ewh_log_warnx("agent: hub refused %s receipt id=%s (+%zu) code=%s: "
                      "%s; not sent again",
                      ewh_receipt_kind_name((enum ewh_receipt_kind)k->kind), id,
                      k->n_ids - 1,
                      ewh_errcode_name((enum ewh_errcode)k->refused_code),
                      k->refused);
    if (s_begin(a, &err) != 0 ||
        node_store_receipt_done(a->d->store, id, (enum ewh_receipt_kind)k->kind,
                                &err) != 0)
        ewh_log_errx("agent: receipt-ack id=%s: %s", id, err.reason);
}

static void
s_on_notice(struct s_agent *a, const Ewh__Notice *n)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__NoticeAck k = EWH__NOTICE_ACK__INIT;
    char id[EWH_ID_HEX];
    enum node_rstate st = n->kind == EWH__NOTICE_KIND__NOTICE_EXPIRED
                              ? NODE_R_EXPIRED
                              : NODE_R_REFUSED;

    ewh_hex(n->id.data, EWH_ID_BYTES, id, sizeof(id));
    ewh_log_warnx("agent: notice id=%s country=%s %s: %s", id, n->country,
                  node_rstate_name(st), n->reason);
    if (s_begin(a, &err) != 0 ||
        node_store_rcpt_update(a->d->store, id, n->country, st,
                               n->reason[0] ? n->reason : node_rstate_name(st),
                               n->at > 0 ? n->at : ewh_now(), &err) != 0) {
        ewh_log_errx("agent: notice id=%s: %s", id, err.reason);
        return;
    }
    k.seq = n->seq;
    f.msg_case = EWH__FRAME__MSG_NOTICE_ACK;
    f.notice_ack = &k;
    s_send_later(a, &f);
}

static void
s_on_frame(struct s_agent *a, const uint8_t *buf, size_t len)
{
    struct ewh_err err = {0};
    ewh_frame_t *f = NULL;

    if (ewh_frame_decode(buf, len, &f, &err) != 0) {
        ewh_log_warnx("agent: refused frame from hub: %s", err.reason);
        return;
    }
    ewh_log_debug("agent: got %s", ewh_frame_name(f));
    switch (f->msg_case) {
    case EWH__FRAME__MSG_ROSTER:
        s_on_roster(a, f->roster);
        break;
    case EWH__FRAME__MSG_SUBMIT_ACK:
        s_on_submit_ack(a, f->submit_ack);
        break;
    case EWH__FRAME__MSG_DELIVER:
        s_on_deliver(a, f->deliver);
        break;
    case EWH__FRAME__MSG_RECEIPT_RELAY:
        s_on_relay(a, f->receipt_relay);
        break;
    case EWH__FRAME__MSG_RECEIPT_ACK:
        s_on_receipt_ack(a, f->receipt_ack);
        break;
    case EWH__FRAME__MSG_NOTICE:
        s_on_notice(a, f->notice);
        break;
    case EWH__FRAME__MSG_CATALOGUE:
        node_catalogue_receive(a->d, f->catalogue);
        break;
    case EWH__FRAME__MSG_ERROR:
        ewh_log_warnx("agent: hub error %s: %s",
                      ewh_errcode_name((enum ewh_errcode)f->error->code),
                      f->error->reason);
        break;
    default:
        ewh_log_debug("agent: ignored %s", ewh_frame_name(f));
        break;
    }
    ewh_frame_destroy(&f);
}

/* ---- connection events ---- */

static void
s_on_monitor(struct s_agent *a)
{
    zmq_msg_t m1, m2;
    uint16_t ev;
    uint32_t val;

    for (;;) {
        zmq_msg_init(&m1);
        zmq_msg_init(&m2);
        if (zmq_msg_recv(&m1, a->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m1);
            zmq_msg_close(&m2);
            return;
        }
        (void)zmq_msg_recv(&m2, a->mon, 0);
        if (zmq_msg_size(&m1) >= 6) {
            memcpy(&ev, zmq_msg_data(&m1), 2);
            memcpy(&val, (uint8_t *)zmq_msg_data(&m1) + 2, 4);
            (void)val;
            switch (ev) {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                ewh_log_info("agent: connected to hub %s", a->d->cfg.hub);
                a->connected = true;
                a->ready = false;
                a->n_fl = 0;
                a->out_cursor = 0;
                a->rc_cursor = 0;
                s_hello(a);
                break;
            case ZMQ_EVENT_DISCONNECTED:
                if (a->connected)
                    ewh_log_info("agent: disconnected from hub; "
                                 "reconnecting");
                a->connected = false;
                a->ready = false;
                a->n_fl = 0;
                a->out_cursor = 0;
                break;
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                ewh_log_warnx("agent: hub refused this node (not enrolled "
                              "or revoked?); retrying");
                a->alt_now = true;
                break;
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                ewh_log_warnx("agent: handshake with hub failed (wrong hub "
                              "key? only keys announced by the pinned hub "
                              "key are accepted); retrying");
                a->alt_now = true;
                break;
            default:
                break;
            }
        }
        zmq_msg_close(&m1);
        zmq_msg_close(&m2);
    }
}

static void
s_sock_close(struct s_agent *a)
{
    if (a->sock != NULL) {
        zmq_socket_monitor(a->sock, NULL, 0);
        zmq_close(a->sock);
        a->sock = NULL;
    }
    if (a->mon != NULL) {
        zmq_close(a->mon);
        a->mon = NULL;
    }
    a->connected = false;
    a->ready = false;
    a->n_fl = 0;
    a->out_cursor = 0;
}

/* The next combination of (node key, hub key) to try: current or, when
 * one is pending, the new node key (bit 0) and the hub's announced key
 * (bit 1). */
static void
s_next_try(struct s_agent *a)
{
    unsigned i, idx;

    for (i = 1; i <= 4; i++) {
        idx = (a->try_idx + i) % 4;
        if ((idx & 1) && a->next == NULL)
            continue;
        if ((idx & 2) && !a->d->has_hub_next)
            continue;
        a->try_idx = idx;
        return;
    }
}

static int
s_sock_open(struct s_agent *a, struct ewh_err *err)
{
    const ewh_secret_t *sec =
        (a->try_idx & 1) && a->next != NULL ? a->next : a->d->secret;
    const uint8_t *srv = (a->try_idx & 2) && a->d->has_hub_next
                             ? a->d->hub_next.curve
                             : a->d->hub.curve;
    const struct node_config *c = &a->d->cfg;
    int zero = 0, one = 1, hb = (int)c->heartbeat_ms, hbt = 3 * hb;
    int ivl = (int)c->reconnect_ms, ivlmax = (int)c->reconnect_max_ms;
    int64_t maxmsg = EWH_MAX_FRAME_BYTES + 1024;
    char mon_ep[64];

    snprintf(mon_ep, sizeof(mon_ep), S_MON_EP, a->mon_gen++);
    if ((a->sock = zmq_socket(a->ctx, ZMQ_DEALER)) == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq: %s", zmq_strerror(errno));
    if (a->try_idx != 0)
        ewh_log_info("agent: trying %s node key and %s hub key",
                     (a->try_idx & 1) ? "the new" : "the current",
                     (a->try_idx & 2) ? "the announced" : "the pinned");
    if (zmq_setsockopt(a->sock, ZMQ_CURVE_SERVERKEY, srv, 32) ||
        zmq_setsockopt(a->sock, ZMQ_CURVE_PUBLICKEY,
                       ewh_secret_pubid(sec)->curve, 32) ||
        zmq_setsockopt(a->sock, ZMQ_CURVE_SECRETKEY, ewh_secret_curve_sk(sec),
                       32) ||
        zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero)) ||
        zmq_setsockopt(a->sock, ZMQ_IMMEDIATE, &one, sizeof(one)) ||
        zmq_setsockopt(a->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) ||
        zmq_setsockopt(a->sock, ZMQ_RECONNECT_IVL_MAX, &ivlmax,
                       sizeof(ivlmax)) ||
        zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb)) ||
        zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof(hbt)) ||
        zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_TTL, &hbt, sizeof(hbt)) ||
        zmq_setsockopt(a->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)))
        return ewh_err_set(err, EWH_E_IO, "zmq setsockopt: %s",
                           zmq_strerror(errno));
    if (zmq_socket_monitor(a->sock, mon_ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0 ||
        (a->mon = zmq_socket(a->ctx, ZMQ_PAIR)) == NULL ||
        zmq_setsockopt(a->mon, ZMQ_LINGER, &zero, sizeof(zero)) ||
        zmq_connect(a->mon, mon_ep) != 0)
        return ewh_err_set(err, EWH_E_IO, "zmq monitor: %s",
                           zmq_strerror(errno));
    if (zmq_connect(a->sock, c->hub) != 0)
        return ewh_err_set(err, EWH_E_INVALID, "hub endpoint %s: %s", c->hub,
                           zmq_strerror(errno));
    return 0;
}

static int
s_setup(struct s_agent *a, struct ewh_err *err)
{
    if ((a->ctx = zmq_ctx_new()) == NULL)
        return ewh_err_set(err, EWH_E_IO, "zmq: %s", zmq_strerror(errno));
    return s_sock_open(a, err);
}

static void
s_on_signal(struct s_agent *a)
{
    struct signalfd_siginfo si;

    while (read(a->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            ewh_log_info("agent: SIGHUP: reloading the roster");
            s_reload_roster(a);
        } else {
            ewh_log_info("agent: signal %u: stopping", si.ssi_signo);
            a->stop = true;
        }
    }
}

/* Not connected for a while (or a handshake failed) and new keys are
 * pending: try the next combination of keys.  A new node key is refused
 * until the hub enrols it; a hub key works only if the pinned hub key
 * announced it. */
static void
s_maybe_alternate(struct s_agent *a, struct ewh_err *err)
{
    int64_t now = ewh_mono_ms();
    struct ewh_err e2 = {0};

    (void)err;
    if (a->connected) {
        a->down_since = 0;
        a->alt_now = false;
        return;
    }
    if (a->down_since == 0)
        a->down_since = now;
    if (now - a->down_since < (a->alt_now ? 300 : S_ALT_MS))
        return;
    a->alt_now = false;
    a->down_since = now;
    if (a->next == NULL) {
        /* `ewnode rekey` may have run since the agent started. */
        if (node_dir_load_key(a->d, "node.key.new", &a->next, &e2) != 0)
            ewh_log_warnx("agent: %s", e2.reason);
        else if (a->next != NULL)
            ewh_log_info("agent: found a pending re-key (node.key.new)");
    }
    if (a->next == NULL && !a->d->has_hub_next && a->try_idx == 0)
        return;
    s_next_try(a);
    s_sock_close(a);
    if (s_sock_open(a, &e2) != 0)
        ewh_log_errx("agent: reconnect: %s", e2.reason);
}

int
node_run(struct node_dir *d, int sfd, struct ewh_err *err)
{
    struct s_agent a;
    zmq_pollitem_t items[3];
    int rc = -1, n, i;

    memset(&a, 0, sizeof(a));
    a.d = d;
    a.me = d->cfg.country;
    a.sfd = sfd;
    a.receipts_at = ewh_mono_ms();
    if ((a.wc = ewh_wrapcache_new()) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    s_reload_roster(&a);
    s_load_prev_roster(&a);
    if (node_dir_load_key(d, "node.key.new", &a.next, err) != 0 ||
        node_dir_load_key(d, "node.key.old", &a.prev, err) != 0)
        goto out;
    if (a.next != NULL)
        ewh_log_info("agent: a re-key is pending (node.key.new); switching "
                     "once the hub enrols it");
    s_rekey_check(&a);
    if (s_setup(&a, err) != 0)
        goto out;
    ewh_log_info("agent: node %s connecting to %s (roster version %llu, "
                 "credit %u, heartbeat %ums)",
                 a.me, d->cfg.hub,
                 a.roster ? (unsigned long long)ewh_roster_version(a.roster)
                          : 0ULL,
                 d->cfg.credit, d->cfg.heartbeat_ms);

    while (!a.stop) {
        int64_t now = ewh_mono_ms(), dv = 0;
        long timeout = S_POLL_STORE_MS;

        if (a.need_hello || (a.ready && a.outbox_dirty && a.n_fl < S_WINDOW))
            timeout = 20;
        items[0] = (zmq_pollitem_t){a.sock, 0, ZMQ_POLLIN, 0};
        items[1] = (zmq_pollitem_t){a.mon, 0, ZMQ_POLLIN, 0};
        items[2] = (zmq_pollitem_t){NULL, sfd, ZMQ_POLLIN, 0};
        n = zmq_poll(items, 3, timeout);
        if (n < 0 && errno != EINTR) {
            ewh_err_set(err, EWH_E_IO, "zmq_poll: %s", zmq_strerror(errno));
            goto out;
        }
        if (items[2].revents & ZMQ_POLLIN)
            s_on_signal(&a);
        if (items[1].revents & ZMQ_POLLIN)
            s_on_monitor(&a);
        if (items[0].revents & ZMQ_POLLIN) {
            for (i = 0; i < S_BUDGET; i++) {
                zmq_msg_t msg;
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, a.sock, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&msg);
                    break;
                }
                s_on_frame(&a, zmq_msg_data(&msg), zmq_msg_size(&msg));
                zmq_msg_close(&msg);
            }
        }
        s_flush(&a);
        if (a.reseal_due && a.prev != NULL && a.roster != NULL) {
            size_t n_env = 0, n_rcpt = 0;
            a.reseal_due = false;
            if (node_rekey_reseal(d, a.prev, a.roster, &n_env, &n_rcpt, err) !=
                0)
                ewh_log_errx("agent: reseal: %s", err->reason);
            s_outbox_rescan(&a);
        }

        now = ewh_mono_ms();
        if (now - a.store_at >= S_POLL_STORE_MS) {
            a.store_at = now;
            if (node_store_data_version(d->store, &dv, err) == 0 &&
                dv != a.dv) {
                /* submit or ack committed something */
                a.dv = dv;
                s_outbox_rescan(&a);
                a.receipts_dirty = true;
            }
        }
        if (a.connected &&
            (a.need_hello || (!a.ready && now - a.hello_at > S_HELLO_RETRY_MS)))
            s_hello(&a);
        s_pump_outbox(&a);
        s_pump_receipts(&a);
        s_maybe_alternate(&a, err);
    }
    rc = 0;
out:
    s_flush(&a);
    free(a.out);
    free(a.cp_raw);
    ewh_wrapcache_destroy(&a.wc);
    s_sock_close(&a);
    if (a.ctx != NULL)
        zmq_ctx_term(a.ctx);
    ewh_roster_destroy(&a.roster);
    ewh_roster_destroy(&a.prev_roster);
    ewh_secret_destroy(&a.next);
    ewh_secret_destroy(&a.prev);
    return rc;
}
