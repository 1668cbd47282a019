/*
 * receipts.c — receipts both ways.  Out: the delivered receipts this node
 * owes for the reports stored in a turn, signed at its end (one per
 * origin), queued in the store, sent to every hub and resent to each
 * until its ReceiptAck.  In: any hub relays receipts about our reports
 * from their addressees; each is verified, stored (once: receipt_in is
 * keyed), and acknowledged to that hub once the turn commits.
 */
#include "agent_int.h"
#include "trust.h"

#include <stdlib.h>
#include <string.h>

#include "ewh/log.h"
#include "ewh/receipt.h"

/* ---- receipts we owe ---- */

void
node_receipts_owe(struct node_agent *a, const uint8_t id[EWH_ID_BYTES],
                  const char *origin)
{
    struct node_owe *q = &a->owe;

    if (q->n_owed == NODE_BUDGET)
        node_receipts_sign_owed(a);
    memcpy(q->owed[q->n_owed].id, id, EWH_ID_BYTES);
    memcpy(q->owed[q->n_owed].origin, origin, EWH_CC_BYTES);
    q->n_owed++;
}

/* One receipt per origin for all the reports of that origin stored this
 * turn (at most NODE_BUDGET, within EWH_MAX_RECEIPT_IDS), queued in the
 * turn's transaction.  One signature per origin per turn instead of one
 * per report: the recipient signs, and the hub and the origin verify,
 * once per receipt. */
void
node_receipts_sign_owed(struct node_agent *a)
{
    struct node_owe *q = &a->owe;
    const ewh_roster_t *ro = node_agent_first(a)->link.roster;
    struct ewh_err err = {0};
    struct ewh_receipt rc;
    uint8_t *buf = NULL;
    size_t i, j, len = 0;
    char id[EWH_ID_HEX];
    bool taken[NODE_BUDGET] = {false};

    for (i = 0; i < q->n_owed; i++) {
        if (taken[i])
            continue;
        memset(&rc, 0, sizeof(rc));
        memcpy(rc.origin, q->owed[i].origin, EWH_CC_BYTES);
        memcpy(rc.from, a->me, EWH_CC_BYTES);
        rc.kind = EWH_RECEIPT_DELIVERED;
        rc.at = ewh_now();
        for (j = i; j < q->n_owed && rc.n_ids < EWH_MAX_RECEIPT_IDS; j++) {
            if (taken[j] || strcmp(q->owed[j].origin, rc.origin) != 0)
                continue;
            memcpy(rc.ids[rc.n_ids++], q->owed[j].id, EWH_ID_BYTES);
            taken[j] = true;
        }
        ewh_hex(rc.ids[0], EWH_ID_BYTES, id, sizeof(id));
        node_trust_head(ro, &rc.has_head, &rc.roster_version, rc.roster_hash);
        if (ewh_receipt_sign(&rc, a->d->secret, &buf, &len, &err) != 0 ||
            node_store_receipt_queue_rc(a->d->store, &rc, buf, len, &err) != 0)
            ewh_log_errx("agent: delivered receipt id=%s (+%zu): %s", id,
                         rc.n_ids - 1, err.reason);
        free(buf);
        buf = NULL;
        node_receipts_rescan(a, NULL);
    }
    q->n_owed = 0;
}

/* ---- sending them ---- */

void
node_receipts_rescan(struct node_agent *a, struct node_conn *c)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++)
        if (c == NULL || c == &a->conn[i])
            a->conn[i].rc.dirty = true;
}

void
node_receipts_reset(struct node_agent *a, struct node_conn *c)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++)
        if (c == NULL || c == &a->conn[i])
            a->conn[i].rc.cursor = 0;
}

struct s_pump {
    struct node_agent *a;
    struct node_conn *c;
};

static int
s_receipt_one(void *ctx, int64_t seq, const char *id, const uint8_t *buf,
              size_t len)
{
    struct s_pump *p = ctx;
    struct node_conn *c = p->c;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Receipt *r = ewh__receipt__unpack(NULL, len, buf);
    int rc;

    if (r == NULL) {
        ewh_log_warnx("agent: stored receipt for id=%s unreadable", id);
        c->rc.cursor = seq;
        return 0;
    }
    f.msg_case = EWH__FRAME__MSG_RECEIPT;
    f.receipt = r;
    rc = node_link_send(p->a, c, &f);
    ewh__receipt__free_unpacked(r, NULL);
    if (rc != 0)
        return 1;
    c->rc.cursor = seq;
    ewh_log_debug("agent: receipt id=%s%s", id, c->via);
    return 0;
}

void
node_receipts_pump(struct node_agent *a, struct node_conn *c)
{
    struct node_rcq *q = &c->rc;
    struct ewh_err err = {0};
    struct s_pump p = {a, c};
    int64_t now = ewh_mono_ms();

    if (!c->link.ready)
        return;
    if (now - q->resend_at > NODE_RECEIPT_RESEND) {
        /* The hub acknowledges receipts with ReceiptAck{id, from, kind};
         * whatever it has not acknowledged goes again. */
        q->cursor = 0;
        q->dirty = true;
        q->resend_at = now;
    }
    if (q->retry_at > 0 && now >= q->retry_at) {
        q->retry_at = 0;
        q->dirty = true;
    }
    if (!q->dirty)
        return;
    q->dirty = false;
    if (node_store_hub_receipt_pending(a->d->store, c->id, q->cursor,
                                       NODE_WINDOW, s_receipt_one, &p,
                                       &err) < 0) {
        /* A busy or failing store: said, and read again after
         * NODE_RETRY_MS (not every turn: one line per try). */
        ewh_log_warnx("agent: receipts: %s%s", err.reason, c->via);
        q->retry_at = now + NODE_RETRY_MS;
    }
}

void
node_receipts_on_ack(struct node_agent *a, struct node_conn *c,
                     const Ewh__ReceiptAck *k)
{
    struct ewh_err err = {0};
    char id[EWH_ID_HEX];

    if (strcmp(k->from, a->me) != 0 || k->n_ids == 0)
        return;
    ewh_hex(k->ids[0].data, EWH_ID_BYTES, id, sizeof(id));
    if (k->refused[0] != '\0')
        /* Refused for good: sending it again cannot help. */
        ewh_log_warnx("agent: hub refused %s receipt id=%s (+%zu) code=%s: "
                      "%s; not sent again%s",
                      ewh_receipt_kind_name((enum ewh_receipt_kind)k->kind), id,
                      k->n_ids - 1,
                      ewh_errcode_name((enum ewh_errcode)k->refused_code),
                      k->refused, c->via);
    if (node_agent_begin(a, &err) != 0 ||
        node_store_hub_receipt_done(a->d->store, c->id, id,
                                    (enum ewh_receipt_kind)k->kind, &err) != 0)
        ewh_log_errx("agent: receipt-ack id=%s: %s", id, err.reason);
}

/* ---- receipts about our reports ---- */

/* Verify a relayed receipt with the roster, then with the signer's
 * trusted key history (docs/trust.md); *verified says whether the key
 * that signed is one this node verified, *fp its fingerprint. */
static int
s_verify(struct node_agent *a, const ewh_roster_t *ro, const uint8_t *buf,
         size_t len, struct ewh_receipt *rc, bool *verified,
         char fp[EWH_FINGERPRINT_CHARS], struct ewh_err *err)
{
    struct ewh_pubid ids[NODE_TRUST_HISTORY];
    struct ewh_err e2 = {0};
    size_t i, n = 0;

    *verified = false;
    if (ro == NULL)
        return ewh_err_set(err, EWH_E_UNKNOWN, "no roster");
    if (ewh_receipt_verify(buf, len, NULL, ewh_roster_lookup, (void *)ro, rc,
                           err) == 0)
        return node_trust_signer_verified(a->d->store, ro, rc->from, verified,
                                          fp, err);
    /* The signer's country is in the body; try its trusted keys. */
    for (i = 0; i < ewh_roster_count(ro) && n == 0; i++) {
        const struct ewh_pubid *id = ewh_roster_at(ro, i, NULL);
        size_t k, m = 0;
        if (node_store_keys_trusted(a->d->store, id->country, ids,
                                    NODE_TRUST_HISTORY, &m, &e2) != 0)
            continue;
        for (k = 0; k < m; k++)
            if (ewh_receipt_verify(buf, len, NULL, node_trust_lookup_one,
                                   &ids[k], rc, &e2) == 0) {
                ewh_pubid_fingerprint(&ids[k], fp);
                *verified = true;
                return 0;
            }
    }
    return -1;
}

/* Store each report's receipt and move its addressee forward. */
static int
s_store(struct node_agent *a, const struct ewh_receipt *rc, const uint8_t *buf,
        size_t len, struct ewh_err *err)
{
    char id[EWH_ID_HEX];
    size_t i;

    if (node_agent_begin(a, err) != 0)
        return -1;
    for (i = 0; i < rc->n_ids; i++) {
        ewh_hex(rc->ids[i], EWH_ID_BYTES, id, sizeof(id));
        if (node_store_receipt_add(a->d->store, rc, i, buf, len, err) != 0 ||
            node_store_rcpt_update(a->d->store, id, rc->from,
                                   rc->kind == EWH_RECEIPT_ACKNOWLEDGED
                                       ? NODE_R_ACKNOWLEDGED
                                       : NODE_R_DELIVERED,
                                   rc->who, rc->at, err) != 0)
            return -1;
        ewh_log_info("agent: receipt id=%s from=%s %s", id, rc->from,
                     ewh_receipt_kind_name(rc->kind));
    }
    return 0;
}

/* The signer's roster head against ours; a receipt signed by an
 * unverified key is held (kept apart, logged), never recorded as the
 * country's word.  -1 on a store error. */
static int
s_judge(struct node_agent *a, const struct ewh_receipt *rc, const uint8_t *buf,
        size_t len, bool verified, const char *fp)
{
    struct ewh_err err = {0};
    char id[EWH_ID_HEX];
    bool split = false;

    ewh_hex(rc->ids[0], EWH_ID_BYTES, id, sizeof(id));
    if (node_agent_begin(a, &err) != 0 ||
        node_trust_check_head(a->d->store, rc->from, rc->has_head,
                              rc->roster_version, rc->roster_hash, "receipt",
                              buf, len, &split, &err) != 0 ||
        (!verified &&
         node_store_unverified_add(a->d->store, "receipt", id, rc->from, fp,
                                   buf, len, &err) != 0)) {
        ewh_log_errx("agent: receipt id=%s from=%s: %s", id, rc->from,
                     err.reason);
        return -1;
    }
    if (split)
        a->trust_due = true;
    if (!verified)
        ewh_log_warnx("agent: receipt id=%s from=%s signed by UNVERIFIED key "
                      "%s: held, not recorded as %s's",
                      id, rc->from, fp, rc->from);
    return 0;
}

void
node_receipts_on_relay(struct node_agent *a, struct node_conn *c,
                       const Ewh__ReceiptRelay *rr)
{
    struct ewh_err err = {0};
    struct ewh_receipt rc;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ReceiptAck k = EWH__RECEIPT_ACK__INIT;
    ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];
    char fp[EWH_FINGERPRINT_CHARS] = "";
    bool verified = false;
    size_t len = ewh__receipt__get_packed_size(rr->receipt);
    uint8_t *buf = malloc(len > 0 ? len : 1);

    if (buf == NULL) {
        /* Not acknowledged: the hub relays it again. */
        ewh_log_errx("agent: out of memory: receipt relay seq=%llu",
                     (unsigned long long)rr->seq);
        return;
    }
    ewh__receipt__pack(rr->receipt, buf);
    if (s_verify(a, c->link.roster, buf, len, &rc, &verified, fp, &err) != 0)
        ewh_log_warnx("agent: refused receipt relay seq=%llu: %s%s",
                      (unsigned long long)rr->seq, err.reason, c->via);
    else if (s_judge(a, &rc, buf, len, verified, fp) != 0) {
        /* Not acknowledged: relayed again. */
        free(buf);
        return;
    } else if (!verified)
        ewh_receipt_ack_fill(&k, &rc, ids); /* held, not recorded */
    else if (strcmp(rc.origin, a->me) != 0)
        ewh_log_warnx("agent: receipt relay seq=%llu is about a report of %s",
                      (unsigned long long)rr->seq, rc.origin);
    else if (s_store(a, &rc, buf, len, &err) != 0) {
        /* Not acknowledged: the hub relays it again, and storing it again
         * changes nothing already stored. */
        ewh_log_errx("agent: receipt relay seq=%llu: %s",
                     (unsigned long long)rr->seq, err.reason);
        free(buf);
        return;
    } else
        ewh_receipt_ack_fill(&k, &rc, ids);
    /* A refused relay is acknowledged too (by seq alone), so that it does
     * not loop; it was logged. */
    k.seq = rr->seq;
    f.msg_case = EWH__FRAME__MSG_RECEIPT_ACK;
    f.receipt_ack = &k;
    node_link_send_later(a, c, &f);
    free(buf);
}
