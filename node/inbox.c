/*
 * inbox.c — deliveries from any hub: opened (our keys and the delivering
 * hub's roster, or the ones from before a re-key), stored once in the
 * turn's transaction, and acknowledged to that hub once it commits.  A
 * delivered receipt is owed for each new report (receipts.c signs them at
 * the end of the turn); the same report brought by another hub is
 * acknowledged and dropped, and our receipt for it goes to that hub too.
 */
#include "agent_int.h"
#include "trust.h"
#include "foreign.h"

#include <stdlib.h>
#include <string.h>

#include "ewh/log.h"
#include "ewh/secforces.h"

/* Is the report addressed to every other country the roster names? */
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

/* A return says its year twice: in the clear header (what the hub's
 * ledger and `ewhub status` count) and in the sealed JSON (what people
 * read and compare).  A return whose two years differ is the sender's
 * fault and is refused (docs/exchange.md). */
static int
s_check_return(const struct ewh_report *r, const struct ewh_header *h,
               struct ewh_err *err)
{
    unsigned year;

    if (h->type != EWH_TYPE_RETURN)
        return 0;
    if (ewh_sf_year(r->body, r->body_len, &year, err) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "return for %u without a valid year inside",
                           h->return_year);
    /* The reason is logged: it names the clear year only. */
    if (year != h->return_year)
        return ewh_err_set(err, EWH_E_INVALID,
                           "return year %u in the routing header differs "
                           "from the sealed return's",
                           h->return_year);
    return 0;
}

/* Open a delivery: our keys (and those before our own re-key), with the
 * origin's key in the roster; then with the keys of the origin's trusted
 * history (docs/trust.md: its endorsed chain, never a key that came
 * without endorsement and was replaced).  *hist says a history key
 * opened it. */
static int
s_open_env(struct node_agent *a, struct node_conn *c, const uint8_t *env,
           size_t len, struct ewh_report *r, struct ewh_header *h, bool *hist,
           struct ewh_err *err)
{
    const ewh_roster_t *ro = c->link.roster;
    const ewh_secret_t *keys[2] = {a->d->secret, a->key.prev};
    struct node_lookup lk = {ro, node_foreign_of_agent(a)};
    struct ewh_pubid ids[NODE_TRUST_HISTORY];
    const struct ewh_pubid *cur;
    struct ewh_header ph;
    struct ewh_err e2 = {0};
    size_t i, n = 0;
    int j;

    *hist = false;
    /* The origin's key: our roster's, or a foreign region's. */
    if (ewh_envelope_open_cached(env, len, keys[0], a->wc, node_lookup_any, &lk,
                                 r, h, err) == 0)
        return 0;
    if (keys[1] != NULL) {
        ewh_report_clear(r);
        if (ewh_envelope_open(env, len, keys[1], node_lookup_any, &lk, r, h,
                              &e2) == 0)
            return 0;
    }
    if (ewh_envelope_peek(env, len, &ph, &e2) != 0 ||
        node_store_keys_trusted(a->d->store, ph.origin, ids, NODE_TRUST_HISTORY,
                                &n, &e2) != 0)
        return -1;
    cur = ewh_roster_find(ro, ph.origin, NULL);
    if (cur == NULL)
        cur = node_foreign_find(lk.foreign, ph.origin, NULL, NULL);
    for (i = 0; i < n; i++) {
        if (cur != NULL && memcmp(cur->sign, ids[i].sign, 32) == 0)
            continue;
        for (j = 0; j < 2; j++) {
            if (keys[j] == NULL)
                continue;
            ewh_report_clear(r);
            if (ewh_envelope_open(env, len, keys[j], node_trust_lookup_one,
                                  &ids[i], r, h, &e2) == 0) {
                *hist = true;
                return 0;
            }
        }
    }
    return -1;
}

static void
s_deliver_ack(struct node_agent *a, struct node_conn *c, uint64_t seq,
              const uint8_t *id)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__DeliverAck k = EWH__DELIVER_ACK__INIT;

    k.seq = seq;
    k.id.data = (uint8_t *)id;
    k.id.len = EWH_ID_BYTES;
    f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
    f.deliver_ack = &k;
    node_link_send_later(a, c, &f);
}

/* A bad envelope is acknowledged so it does not loop, recorded, and never
 * shown. */
static void
s_refuse(struct node_agent *a, struct node_conn *c, const Ewh__Deliver *dv,
         const struct ewh_err *why)
{
    struct ewh_err e2 = {0};
    struct ewh_header ph;
    uint8_t zero[EWH_ID_BYTES] = {0};
    char id[EWH_ID_HEX] = "?";
    bool have =
        ewh_envelope_peek(dv->envelope.data, dv->envelope.len, &ph, &e2) == 0;

    if (have)
        ewh_hex(ph.id, EWH_ID_BYTES, id, sizeof(id));
    ewh_log_warnx("agent: refused delivery seq=%llu id=%s code=%s "
                  "reason=\"%s\"%s",
                  (unsigned long long)dv->seq, id, ewh_errcode_name(why->code),
                  why->reason, c->via);
    if (node_agent_begin(a, &e2) == 0 &&
        node_store_refusal_add_code(a->d->store, id, have ? ph.origin : "",
                                    why->code, why->reason, ewh_now(),
                                    &e2) != 0)
        ewh_log_errx("agent: %s", e2.reason);
    s_deliver_ack(a, c, dv->seq, have ? ph.id : zero);
}

/* A report stored before, brought again (perhaps by another hub): that
 * hub gets our receipt for it too (docs/redundancy.md).  In the turn's
 * transaction. */
static int
s_again(struct node_agent *a, struct node_conn *c, const char *id,
        const char *origin)
{
    struct ewh_err err = {0};

    ewh_log_info("agent: redelivery id=%s from=%s (stored once)%s", id, origin,
                 c->via);
    if (node_store_hub_receipt_resend(a->d->store, c->id, id, &err) != 0) {
        ewh_log_errx("agent: receipt for id=%s: %s%s", id, err.reason, c->via);
        return -1;
    }
    node_receipts_reset(a, c);
    node_receipts_rescan(a, c);
    return 0;
}

/* Store an opened report; not acknowledged if it cannot be stored (the
 * hub sends it again). */
static void
s_store(struct node_agent *a, struct node_conn *c, const Ewh__Deliver *dv,
        const struct ewh_report *r, const struct ewh_header *h, bool hist)
{
    struct ewh_err err = {0};
    struct node_msg m;
    bool dup = false, split = false, verified = hist;
    char fp[EWH_FINGERPRINT_CHARS] = "";
    const char *region = NULL;
    /* A foreign origin's roster head is of its own region's chain: it is
     * not compared with ours, and its key is judged in its region's
     * roster (docs/federation-node.md). */
    bool foreign = ewh_roster_find(c->link.roster, h->origin, NULL) == NULL;
    const ewh_roster_t *oro = c->link.roster;

    if (foreign) {
        const node_foreign_t *f = node_foreign_of_agent(a);
        oro = node_foreign_find(f, h->origin, &region, NULL) != NULL
                  ? node_foreign_roster(f, region)
                  : NULL;
    }

    node_msg_from_report(&m, r, h, false);
    m.to_all = s_to_all(c->link.roster, h);
    m.received_at = ewh_now();
    if (m.body == NULL || node_agent_begin(a, &err) != 0 ||
        node_store_inbox_add(a->d->store, &m, dv->envelope.data,
                             dv->envelope.len, &dup, &err) != 0) {
        ewh_log_errx("agent: cannot store delivery id=%s: %s", m.id,
                     err.reason[0] ? err.reason : "out of memory");
        goto out;
    }
    /* docs/trust.md: the origin's roster head against ours, then whether
     * the key that signed is one this node verified. */
    if ((!foreign && node_trust_check_head(
                         a->d->store, h->origin, h->has_head, h->roster_version,
                         h->roster_hash, "envelope", dv->envelope.data,
                         dv->envelope.len, &split, &err) != 0) ||
        (!hist && oro != NULL &&
         node_trust_signer_verified(a->d->store, oro, h->origin, &verified, fp,
                                    &err) != 0) ||
        (!verified && !dup &&
         node_store_unverified_add(a->d->store, "report", m.id, h->origin, fp,
                                   dv->envelope.data, dv->envelope.len,
                                   &err) != 0)) {
        ewh_log_errx("agent: cannot judge delivery id=%s: %s", m.id,
                     err.reason);
        goto out;
    }
    if (split)
        a->trust_due = true; /* logged and kept by node_trust_check_head */
    if (!verified)
        ewh_log_warnx("agent: id=%s from=%s is signed by UNVERIFIED key %s: "
                      "stored marked unverified, not as %s's word",
                      m.id, h->origin, fp, h->origin);
    if (!dup) {
        node_receipts_owe(a, h->id, h->origin);
        ewh_log_info("agent: stored id=%s from=%s level=%s type=%s%s", m.id,
                     m.origin, ewh_level_name(m.level), ewh_type_name(m.type),
                     c->via);
    } else if (s_again(a, c, m.id, m.origin) != 0)
        goto out;
    s_deliver_ack(a, c, dv->seq, h->id);
out:
    node_msg_clear(&m);
}

/* A foreign origin's report is taken only when signed by a key this node
 * trusts for it (first seen, endorsed or verified): a foreign hub that
 * put another key in its roster for one of its countries cannot make
 * this node show what that key signed (docs/federation-node.md). */
static int
s_check_foreign_signer(struct node_agent *a, struct node_conn *c,
                       const struct ewh_header *h, bool hist,
                       struct ewh_err *err)
{
    const node_foreign_t *f = node_foreign_of_agent(a);
    const char *region = NULL;
    char fp[EWH_FINGERPRINT_CHARS];
    bool verified = false;

    if (hist || ewh_roster_find(c->link.roster, h->origin, NULL) != NULL)
        return 0;
    if (node_foreign_find(f, h->origin, &region, NULL) == NULL)
        return ewh_err_set(err, EWH_E_UNKNOWN,
                           "origin %s is in no roster this node holds",
                           h->origin);
    if (node_trust_signer_verified(a->d->store, node_foreign_roster(f, region),
                                   h->origin, &verified, fp, err) != 0)
        return -1;
    if (!verified)
        return ewh_err_set(err, EWH_E_UNVERIFIED,
                           "foreign origin %s (region %s) signed with key %s, "
                           "which this node does not trust for it",
                           h->origin, region, fp);
    return 0;
}

/* A delivery byte for byte the envelope this node already verified and
 * stored (the same report from another hub, or after a lost ack):
 * acknowledged and its receipt resent with no signature checked or key
 * unwrapped again (the second hub's copy costs no crypto).  false: not
 * known, or known with other bytes (then opened and judged in full). */
static bool
s_known(struct node_agent *a, struct node_conn *c, const Ewh__Deliver *dv)
{
    struct ewh_err err = {0};
    struct ewh_header h;
    char id[EWH_ID_HEX];
    uint8_t *env = NULL;
    size_t len = 0;
    bool same;

    if (ewh_envelope_peek(dv->envelope.data, dv->envelope.len, &h, &err) != 0 ||
        strcmp(h.origin, a->me) == 0)
        return false;
    ewh_hex(h.id, EWH_ID_BYTES, id, sizeof(id));
    if (node_store_envelope_get(a->d->store, id, &env, &len, &err) != 0)
        return false; /* EWH_E_NOTFOUND: new; else the full path says */
    same = len == dv->envelope.len && memcmp(env, dv->envelope.data, len) == 0;
    free(env);
    if (!same)
        return false;
    if (node_agent_begin(a, &err) != 0) {
        ewh_log_errx("agent: cannot store delivery id=%s: %s", id, err.reason);
        return true; /* not acknowledged: the hub sends it again */
    }
    if (s_again(a, c, id, h.origin) == 0)
        s_deliver_ack(a, c, dv->seq, h.id);
    return true;
}

void
node_inbox_on_deliver(struct node_agent *a, struct node_conn *c,
                      const Ewh__Deliver *dv)
{
    struct ewh_err err = {0};
    struct ewh_report r;
    struct ewh_header h;
    bool hist = false;

    memset(&r, 0, sizeof(r));
    memset(&h, 0, sizeof(h));
    if (c->link.roster == NULL) {
        /* Cannot judge it yet: no ack, the hub sends it again. */
        ewh_log_warnx("agent: delivery seq=%llu before any roster; not "
                      "acknowledged%s",
                      (unsigned long long)dv->seq, c->via);
        return;
    }
    if (s_known(a, c, dv))
        return;
    if (s_open_env(a, c, dv->envelope.data, dv->envelope.len, &r, &h, &hist,
                   &err) != 0 ||
        (strcmp(h.origin, a->me) == 0 &&
         ewh_err_set(&err, EWH_E_ORIGIN, "report from this node") != 0) ||
        s_check_return(&r, &h, &err) != 0 ||
        node_foreign_check_distribution(
            c->link.roster, node_foreign_of_agent(a), &h, &err) != 0 ||
        s_check_foreign_signer(a, c, &h, hist, &err) != 0)
        s_refuse(a, c, dv, &err);
    else
        s_store(a, c, dv, &r, &h, hist);
    ewh_report_clear(&r);
}
