/* batch.c — the group commit: the submits, delivery and relay
 * acknowledgements and receipts of one turn are written in one
 * transaction; only after it commits are they acknowledged (Redis's
 * beforeSleep: durable first, then reply).  Also the duplicates within
 * one batch, the audit chain's head and its signed checkpoint. */
#include "hubint.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ewh/audit.h"
#include "ewh/log.h"

/* ---- filling the batch ---- */

static size_t
s_reserve_find(const struct hub_batch *b, const char *cc)
{
    size_t i;

    for (i = 0; i < b->n_resv && memcmp(b->resv[i].cc, cc, 2) != 0; i++)
        ;
    return i;
}

/* Count one delivery to cc in the batch.  (A country beyond the roster's
 * size cannot be enrolled, so the table cannot be full of others.) */
static void
s_reserve(struct hub_batch *b, const char *cc)
{
    size_t i = s_reserve_find(b, cc);

    if (i == b->n_resv) {
        if (b->n_resv == EWH_MAX_ROSTER_ENTRIES)
            return;
        memset(&b->resv[i], 0, sizeof(b->resv[i]));
        memcpy(b->resv[i].cc, cc, 2);
        b->n_resv++;
    }
    b->resv[i].n++;
}

uint64_t
hub_batch_reserved(const struct hub *h, const char *cc)
{
    size_t i = s_reserve_find(&h->b, cc);

    return i < h->b.n_resv ? h->b.resv[i].n : 0;
}

/* Mark s (just added as sub[n_sub - 1]) a duplicate, or an id used by a
 * different envelope, if an earlier submit of this batch has its id.
 * Acknowledged after the commit, like the rest of the batch. */
static void
s_batch_id(struct hub_batch *b, struct hub_submit *s)
{
    uint64_t k;
    size_t i;

    if (b->ids_full || b->n_sub > EWH_HUB_BATCH_IDS / 2) {
        b->ids_full = true;
        return;
    }
    memcpy(&k, s->hdr.id + EWH_ID_BYTES - sizeof(k), sizeof(k));
    for (i = (size_t)(k % EWH_HUB_BATCH_IDS); b->ids[i] != 0;
         i = (i + 1) % EWH_HUB_BATCH_IDS) {
        const struct hub_submit *o = &b->sub[b->ids[i] - 1];
        if (memcmp(o->hdr.id, s->hdr.id, EWH_ID_BYTES) != 0)
            continue;
        if (memcmp(o->hash, s->hash, EWH_HASH_BYTES) == 0)
            s->status = HUB_DUPLICATE;
        else {
            s->status = HUB_REFUSED;
            ewh_err_set(&s->err, EWH_E_IDREUSED,
                        "id already used by a different envelope");
        }
        return;
    }
    b->ids[i] = (uint32_t)b->n_sub;
}

int
hub_batch_add_submit(struct hub *h, const struct hub_from *from, uint8_t **env,
                     size_t len, const struct ewh_header *hdr,
                     const uint8_t hash[EWH_HASH_BYTES], struct ewh_err *err)
{
    struct hub_batch *b = &h->b;
    struct hub_submit *s, *ns;
    size_t i;

    ns = hub_grow(b->sub, &b->cap_sub, b->n_sub + 1, sizeof(*b->sub));
    if (ns == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    b->sub = ns;
    s = &b->sub[b->n_sub];
    memset(s, 0, sizeof(*s));
    s->env = *env;
    *env = NULL;
    s->len = len;
    s->from = *from;
    s->hdr = *hdr;
    memcpy(s->hash, hash, EWH_HASH_BYTES);
    b->n_sub++;
    s_batch_id(b, s);
    /* Count its deliveries now, so that one batch cannot overfill a
     * queue. */
    for (i = 0; i < hdr->n_recipients; i++)
        if (ewh_roster_find(h->ros.roster, hdr->recipients[i], NULL) != NULL)
            s_reserve(b, hdr->recipients[i]); /* not a foreign one's */
    return 0;
}

void
hub_batch_add_dack(struct hub *h, const char *cc, const Ewh__DeliverAck *m)
{
    struct hub_batch *b = &h->b;
    struct hub_dack *d, *nd;

    nd = hub_grow(b->dack, &b->cap_dack, b->n_dack + 1, sizeof(*b->dack));
    if (nd == NULL) {
        /* The delivery stays in flight; the node is sent it again on its
         * next hello and acknowledges it again. */
        ewh_log_warnx("router: out of memory: delivery ack from=%s seq=%llu "
                      "dropped",
                      cc, (unsigned long long)m->seq);
        return;
    }
    b->dack = nd;
    d = &b->dack[b->n_dack++];
    memset(d, 0, sizeof(*d));
    memcpy(d->cc, cc, EWH_CC_BYTES);
    d->seq = m->seq;
    memcpy(d->id, m->id.data, EWH_ID_BYTES);
}

void
hub_batch_add_rack(struct hub *h, const char *cc, uint64_t seq)
{
    struct hub_batch *b = &h->b;
    struct hub_rack *r;

    r = hub_grow(b->rack, &b->cap_rack, b->n_rack + 1, sizeof(*b->rack));
    if (r == NULL) {
        ewh_log_warnx("router: out of memory: relay ack from=%s seq=%llu "
                      "dropped",
                      cc, (unsigned long long)seq);
        return;
    }
    b->rack = r;
    r = &b->rack[b->n_rack++];
    memcpy(r->cc, cc, EWH_CC_BYTES);
    r->seq = seq;
}

int
hub_batch_add_receipt(struct hub *h, struct hub_rcpt *r)
{
    struct hub_batch *b = &h->b;
    struct hub_rcpt *nr;

    nr = hub_grow(b->rcpt, &b->cap_rcpt, b->n_rcpt + 1, sizeof(*b->rcpt));
    if (nr == NULL)
        return -1;
    b->rcpt = nr;
    b->rcpt[b->n_rcpt++] = *r;
    r->buf = NULL;
    return 0;
}

/* ---- writing it ---- */

static int
s_event_accepted(struct hub *h, const struct hub_submit *s, int64_t now,
                 struct ewh_err *err)
{
    struct hub_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.at = now;
    ev.kind = HUB_EV_ACCEPTED;
    ev.has_id = true;
    memcpy(ev.id, s->hdr.id, EWH_ID_BYTES);
    snprintf(ev.origin, sizeof(ev.origin), "%.2s", s->from.cc);
    hub_event_recipients(&ev, &s->hdr);
    ev.level = (int)s->hdr.level;
    ev.size = (int64_t)s->len;
    return hub_store_event_add(h->st, &ev, err);
}

/* Store one submit of the batch and chain it, unless stored already. */
static int
s_write_submit(struct hub *h, struct hub_submit *s, int64_t now,
               struct ewh_err *err)
{
    enum hub_env_match found = HUB_ENV_NEW;

    /* Earlier batches were looked up at admission; within this one,
     * s_batch_id() marked the duplicates, unless it was full. */
    if (s->status != HUB_PENDING)
        return 0;
    if (h->b.ids_full &&
        hub_store_envelope_find(h->st, s->hdr.id, s->hash, &found, err) != 0)
        return -1;
    if (found == HUB_ENV_SAME) {
        s->status = HUB_DUPLICATE;
        return 0;
    }
    if (found == HUB_ENV_OTHER) {
        s->status = HUB_REFUSED;
        ewh_err_set(&s->err, EWH_E_IDREUSED,
                    "id already used by a different envelope");
        return 0;
    }
    {
        int64_t rowid = 0;
        if (hub_store_envelope_add_local(
                h->st, s->env, s->len, &s->hdr, s->hash, now,
                s->fed != NULL ? s->fed->local : UINT64_MAX, &rowid,
                err) != 0 ||
            hub_fed_stored(h, s, rowid, now, err) != 0)
            return -1;
    }
    ewh_audit_next(h->chain.head, s->hdr.id, s->hash, s->hdr.origin, now,
                   h->chain.head);
    h->chain.len++;
    if (hub_store_audit_append(h->st, h->chain.len, s->hdr.id, s->hash,
                               s->hdr.origin, now, h->chain.head, err) != 0)
        return -1;
    s->status = HUB_ACCEPTED;
    return s_event_accepted(h, s, now, err);
}

/* Sign the new head and keep the checkpoint with the batch. */
static int
s_write_checkpoint(struct hub *h, int64_t now, struct ewh_err *err)
{
    struct ewh_checkpoint cp;

    cp.length = h->chain.len;
    memcpy(cp.head, h->chain.head, EWH_HASH_BYTES);
    cp.time = now;
    free(h->chain.cpbuf);
    h->chain.cpbuf = NULL;
    if (ewh_checkpoint_sign(&cp, h->a->key, &h->chain.cpbuf, &h->chain.cplen,
                            err) != 0)
        return -1;
    return hub_store_checkpoint_add(h->st, cp.length, cp.head, cp.time,
                                    h->chain.cpbuf, h->chain.cplen, err);
}

static int
s_write_acks(struct hub *h, bool events, int64_t now, struct ewh_err *err)
{
    struct hub_batch *b = &h->b;
    bool changed;
    size_t i;

    for (i = 0; i < b->n_dack; i++)
        if (hub_store_queue_done(h->st, b->dack[i].cc, b->dack[i].seq,
                                 b->dack[i].id, &b->dack[i].done,
                                 &b->dack[i].level, err) != 0)
            return -1;
    for (i = 0; events && i < b->n_dack; i++)
        if (b->dack[i].done &&
            hub_store_event_delivered(h->st, b->dack[i].cc, b->dack[i].seq, now,
                                      err) != 0)
            return -1;
    for (i = 0; i < b->n_rack; i++)
        if (hub_store_relay_done(h->st, b->rack[i].cc, b->rack[i].seq, &changed,
                                 err) != 0)
            return -1;
    return 0;
}

/* An acknowledged receipt names one report (ewnode ack); an event for
 * each report it names all the same. */
static int
s_event_acknowledged(struct hub *h, const struct hub_rcpt *r, int64_t now,
                     struct ewh_err *err)
{
    struct hub_event ev;
    size_t j;

    for (j = 0; j < r->rc.n_ids; j++) {
        memset(&ev, 0, sizeof(ev));
        ev.at = now;
        ev.kind = HUB_EV_ACKNOWLEDGED;
        ev.has_id = true;
        memcpy(ev.id, r->rc.ids[j], EWH_ID_BYTES);
        snprintf(ev.origin, sizeof(ev.origin), "%.2s", r->origin);
        snprintf(ev.recipients, sizeof(ev.recipients), "%.2s", r->from.cc);
        ev.size = -1;
        if (hub_store_event_add(h->st, &ev, err) != 0)
            return -1;
    }
    return 0;
}

static int
s_write_receipts(struct hub *h, bool events, int64_t now, struct ewh_err *err)
{
    struct hub_batch *b = &h->b;
    size_t i;

    for (i = 0; i < b->n_rcpt; i++) {
        struct hub_rcpt *r = &b->rcpt[i];
        bool fed = false;
        /* A foreign origin's report: back across its link (fed.c). */
        if (hub_fed_receipt_write(h, r, &fed, err) != 0)
            return -1;
        if (fed)
            continue;
        if (hub_store_receipt_add(
                h->st, (const uint8_t(*)[EWH_ID_BYTES])r->rc.ids, r->rc.n_ids,
                r->from.cc, (int)r->rc.kind, r->origin, r->rc.at, r->buf,
                r->len, &r->added, err) != 0)
            return -1;
    }
    for (i = 0; events && i < b->n_rcpt; i++)
        if (b->rcpt[i].added > 0 &&
            b->rcpt[i].rc.kind == EWH_RECEIPT_ACKNOWLEDGED &&
            s_event_acknowledged(h, &b->rcpt[i], now, err) != 0)
            return -1;
    return 0;
}

/* Write the batch in one transaction.  With submits false, only the
 * acknowledgements and receipts (after a failed full batch). */
static int
s_write(struct hub *h, bool submits, int64_t now, struct ewh_err *err)
{
    uint64_t len0 = h->chain.len;
    size_t i;

    if (hub_store_begin(h->st, err) != 0)
        return -1;
    /* Events that waited (connections, refusals) come first, in order;
     * they wait for a full batch: the acknowledgements-only retry after a
     * full disk must not need new space. */
    if (submits && hub_events_write(h, err) != 0)
        goto fail;
    for (i = 0; submits && i < h->b.n_sub; i++)
        if (s_write_submit(h, &h->b.sub[i], now, err) != 0)
            goto fail;
    if (submits && h->chain.len > len0 && s_write_checkpoint(h, now, err) != 0)
        goto fail;
    if (s_write_acks(h, submits, now, err) != 0 ||
        s_write_receipts(h, submits, now, err) != 0 ||
        hub_fed_write(h, err) != 0 || hub_store_commit(h->st, err) != 0)
        goto fail;
    if (submits)
        hub_events_written(h);
    return 0;
fail:
    hub_store_rollback(h->st);
    free(h->chain.cpbuf);
    h->chain.cpbuf = NULL;
    return -1;
}

static void
s_clear(struct hub_batch *b)
{
    size_t i;

    for (i = 0; i < b->n_sub; i++) {
        free(b->sub[i].env);
        free(b->sub[i].fed);
    }
    for (i = 0; i < b->n_rcpt; i++)
        free(b->rcpt[i].buf);
    if (b->n_sub > 0) /* a batch of acks alone left the set empty */
        memset(b->ids, 0, sizeof(b->ids));
    b->n_sub = b->n_dack = b->n_rack = b->n_rcpt = 0;
    b->n_resv = 0;
    b->ids_full = false;
}

void
hub_batch_free(struct hub *h)
{
    s_clear(&h->b);
    free(h->b.sub);
    free(h->b.dack);
    free(h->b.rack);
    free(h->b.rcpt);
    free(h->chain.cpbuf);
    h->chain.cpbuf = NULL;
    h->b.sub = NULL;
    h->b.dack = NULL;
    h->b.rack = NULL;
    h->b.rcpt = NULL;
}

/* ---- after the commit: acknowledge ---- */

static void
s_ack_submit(struct hub *h, struct hub_submit *s, const struct ewh_err *failed,
             const uint8_t *cp, size_t cplen)
{
    struct hub_peer *on;
    char hex[EWH_ID_HEX];
    size_t j;

    if (s->fed != NULL && s->fed->in_link >= 0) {
        /* A transfer from a peer hub (fed_in.c): its TransferAck. */
        if (failed == NULL && s->status == HUB_ACCEPTED) {
            h->n.accepted++;
            hub_metrics_accepted(h->m, s->hdr.level);
            for (j = 0; j < s->hdr.n_recipients; j++) {
                struct hub_peer *rn =
                    hub_peers_get(h->peers, s->hdr.recipients[j], false);
                if (rn != NULL)
                    rn->want_fill = true;
            }
        }
        hub_fed_ack_transfer(h, s, failed);
        return;
    }
    on = hub_peers_get(h->peers, s->from.cc, false);
    if (on != NULL && on->pending_submits > 0)
        on->pending_submits--;
    if (failed != NULL) {
        hub_admit_refuse(h, &s->from, s->hdr.id, failed);
        return;
    }
    switch (s->status) {
    case HUB_ACCEPTED:
        h->n.accepted++;
        hub_metrics_accepted(h->m, s->hdr.level);
        ewh_log_debug("router: accepted id=%s from=%s level=%s to=%zu "
                      "size=%zu",
                      hub_idhex(s->hdr.id, hex), s->from.cc,
                      ewh_level_name(s->hdr.level), s->hdr.n_recipients,
                      s->len);
        for (j = 0; j < s->hdr.n_recipients; j++) {
            struct hub_peer *rn =
                hub_peers_get(h->peers, s->hdr.recipients[j], false);
            if (rn != NULL)
                rn->want_fill = true;
        }
        hub_conn_send_ack(h, &s->from, s->hdr.id, HUB_ACCEPTED, NULL, cp,
                          cplen);
        break;
    case HUB_DUPLICATE:
        h->n.duplicate++;
        hub_metrics_duplicate(h->m);
        (void)hub_event_new(h, HUB_EV_DUPLICATE, s->from.cc, s->hdr.id);
        hub_conn_send_ack(h, &s->from, s->hdr.id, HUB_DUPLICATE, NULL, NULL, 0);
        break;
    default:
        hub_admit_refuse(h, &s->from, s->hdr.id, &s->err);
        break;
    }
}

/* The acknowledgements stored: free the windows, answer the receipts. */
static void
s_ack_acks(struct hub *h)
{
    struct hub_batch *b = &h->b;
    struct hub_peer *n;
    size_t i;

    for (i = 0; i < b->n_dack; i++) {
        struct hub_dack *d = &b->dack[i];
        if ((n = hub_peers_get(h->peers, d->cc, false)) == NULL)
            continue;
        /* The level from the store: a disconnect in the same turn has
         * already emptied the node's in-flight set. */
        {
            unsigned level;
            if (hub_seqset_del(n->inflight, d->seq, &level))
                hub_deliver_acked(n, d->seq, level);
        }
        n->progress_ms = ewh_mono_ms();
        if (d->done) {
            h->n.delivered++;
            hub_metrics_delivered(h->m, d->level);
        }
        n->want_fill = true;
    }
    for (i = 0; i < b->n_rack; i++) {
        if ((n = hub_peers_get(h->peers, b->rack[i].cc, false)) == NULL)
            continue;
        hub_seqset_del(n->relays, b->rack[i].seq, NULL);
        n->progress_ms = ewh_mono_ms();
        n->want_fill = true;
    }
    for (i = 0; i < b->n_rcpt; i++) {
        struct hub_rcpt *r = &b->rcpt[i];
        if (r->fed_link > 0)
            hub_fed_ack_receipt(h, r, NULL); /* a peer's (fed_in.c) */
        else
            hub_conn_send_receipt_ack(h, &r->from, &r->rc, NULL);
        if (r->added == 0)
            continue;
        h->n.receipts += r->added;
        if (r->rc.kind == EWH_RECEIPT_ACKNOWLEDGED)
            hub_metrics_acknowledged(h->m, r->added);
        if ((n = hub_peers_get(h->peers, r->origin, true)) != NULL)
            n->want_fill = true;
    }
}

/* The full batch did not commit: put the chain back, and store the
 * acknowledgements alone (they need little or no new space). */
static bool
s_after_failure(struct hub *h, uint64_t len0, const uint8_t head0[],
                int64_t now, struct ewh_err *err)
{
    struct hub_batch *b = &h->b;
    struct ewh_err err2 = {0};
    bool acks_ok = false;

    h->chain.len = len0;
    memcpy(h->chain.head, head0, EWH_HASH_BYTES);
    ewh_log_warnx("router: batch of %zu submits not stored: %s", b->n_sub,
                  err->reason);
    /* The wire says disk-full or store (a busy or failing store alike). */
    if (err->code != EWH_E_DISKFULL)
        err->code = EWH_E_STORE;
    /* (The full batch also carried traffic events, which need space.) */
    if (b->n_dack + b->n_rack + b->n_rcpt > 0) {
        acks_ok = s_write(h, false, now, &err2) == 0;
        if (!acks_ok)
            ewh_log_warnx("router: acknowledgements not stored: %s",
                          err2.reason[0] ? err2.reason : err->reason);
    }
    return acks_ok;
}

void
hub_batch_commit(struct hub *h)
{
    struct hub_batch *b = &h->b;
    struct ewh_err err = {0};
    uint8_t head0[EWH_HASH_BYTES], *cp = NULL;
    uint64_t len0 = h->chain.len;
    int64_t now = ewh_now();
    struct timespec t0, t1;
    size_t cplen = 0, i, n_acc = 0;
    bool ok, acks_ok = true;

    if (b->n_sub + b->n_dack + b->n_rack + b->n_rcpt == 0 &&
        !hub_fed_pending(h))
        return;
    memcpy(head0, h->chain.head, sizeof(head0));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ok = s_write(h, true, now, &err) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    hub_metrics_commit(h->m, (double)(t1.tv_sec - t0.tv_sec) +
                                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (!ok)
        acks_ok = s_after_failure(h, len0, head0, now, &err);
    if (ok && h->chain.len > len0) {
        /* Signed and stored in s_write(). */
        cp = h->chain.cpbuf;
        cplen = h->chain.cplen;
        h->chain.cpbuf = NULL;
    }
    /* Committed: now, and only now, acknowledge. */
    for (i = 0; i < b->n_sub; i++) {
        n_acc += ok && b->sub[i].status == HUB_ACCEPTED;
        s_ack_submit(h, &b->sub[i], ok ? NULL : &err, cp, cplen);
    }
    hub_fed_committed(h, ok || acks_ok);
    if (ok || acks_ok)
        s_ack_acks(h);
    if (n_acc > 0)
        ewh_log_debug("router: committed %zu accepted, audit length %llu",
                      n_acc, (unsigned long long)h->chain.len);
    free(cp);
    s_clear(b);
}
