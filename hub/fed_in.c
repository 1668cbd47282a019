/* fed_in.c — the peers' links to us (issue 22): frames a peer hub sends
 * on our ROUTER (its DEALER, admitted by ZAP under the user id
 * "@REGION").  A Transfer is checked in order — the path, the origin's
 * region, the origin's signature under the key pinned for it, the
 * distribution, a duplicate, the clock, the local recipients — and then
 * joins the batch like a submit: stored, chained and acknowledged
 * (TransferAck) only after the commit.  A ReceiptRelay is checked like a
 * node's receipt and joins the batch.  A ForeignRoster is verified,
 * pinned with key continuity and relayed. */
#include "hubint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/audit.h"
#include "ewh/fed.h"
#include "ewh/frame.h"
#include "ewh/log.h"

static void
s_refuse_transfer(struct hub *h, struct hub_fed_link *l, const uint8_t *rid,
                  size_t rid_len, uint64_t seq, const uint8_t *id,
                  const struct ewh_err *err)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__TransferAck a = EWH__TRANSFER_ACK__INIT;
    static const uint8_t zero[EWH_ID_BYTES];
    char hex[EWH_ID_HEX];

    a.seq = seq;
    a.id.data = (uint8_t *)(id != NULL ? id : zero);
    a.id.len = EWH_ID_BYTES;
    a.status = EWH__ACK_STATUS__ACK_REFUSED;
    a.code = (uint32_t)err->code;
    a.reason = (char *)err->reason;
    a.retry = ewh_errcode_is_retryable(err->code);
    if (!a.retry)
        hub_fed_count(h, l->p.region, "refused", ewh_errcode_name(err->code),
                      1);
    ewh_log_warnx("fed: refused transfer from=%s id=%s code=%s reason=\"%s\"",
                  l->p.region, hub_idhex(id != NULL ? id : zero, hex),
                  ewh_errcode_name(err->code), err->reason);
    f.msg_case = EWH__FRAME__MSG_TRANSFER_ACK;
    f.transfer_ack = &a;
    (void)hub_conn_send(h, rid, rid_len, &f);
}

static void
s_ack_duplicate(struct hub *h, struct hub_fed_link *l, const uint8_t *rid,
                size_t rid_len, uint64_t seq, const uint8_t *id)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__TransferAck a = EWH__TRANSFER_ACK__INIT;

    a.seq = seq;
    a.id.data = (uint8_t *)id;
    a.id.len = EWH_ID_BYTES;
    a.status = EWH__ACK_STATUS__ACK_DUPLICATE;
    hub_fed_count(h, l->p.region, "duplicate", "", 1);
    f.msg_case = EWH__FRAME__MSG_TRANSFER_ACK;
    f.transfer_ack = &a;
    (void)hub_conn_send(h, rid, rid_len, &f);
}

static void
s_on_transfer(struct hub *h, struct hub_fed_link *l, const uint8_t *rid,
              size_t rid_len, const Ewh__Transfer *t)
{
    struct ewh_err err = {0};
    struct ewh_header hdr, peek;
    const struct hub_fed_region *reg;
    struct hub_fed_sub *fs = NULL;
    struct hub_from from;
    enum hub_env_match found;
    uint8_t hash[EWH_HASH_BYTES], *env = NULL;
    const uint8_t *id = NULL;
    const char *const *path = (const char *const *)t->path;
    size_t n = t->n_path;
    int64_t now = ewh_now();

    if (ewh_envelope_peek(t->envelope.data, t->envelope.len, &peek, &err) != 0)
        goto refuse;
    id = peek.id;
    if (h->stopping) {
        ewh_err_set(&err, EWH_E_SHUTDOWN, "hub is shutting down");
        goto refuse;
    }
    /* A peer is held to the rate a node is (a retryable refusal). */
    if (!hub_bucket_take(&l->bucket, h->cfg->submits_per_s, ewh_mono_ms())) {
        ewh_err_set(&err, EWH_E_RATE, "over submits_per_second %u",
                    h->cfg->submits_per_s);
        goto refuse;
    }
    /* The path: valid, the sender's region last, never ours. */
    if (ewh_fed_path_check(path, n, &err) != 0)
        goto refuse;
    if (strcmp(path[n - 1], l->p.region) != 0) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "path ends with %.32s, not the sender's region %s",
                    path[n - 1], l->p.region);
        goto refuse;
    }
    /* The origin: a country of another region, known from its roster. */
    if (ewh_roster_find(h->ros.roster, peek.origin, NULL) != NULL) {
        ewh_err_set(&err, EWH_E_ORIGIN,
                    "origin %s is a country of this region (%s): its reports "
                    "never come from a peer",
                    peek.origin, h->cfg->region);
        goto refuse;
    }
    if ((reg = hub_fed_region_of(h, peek.origin)) == NULL) {
        ewh_err_set(&err, EWH_E_UNKNOWN,
                    "origin %s is in no foreign roster this hub holds",
                    peek.origin);
        goto refuse;
    }
    if (strcmp(path[0], reg->name) != 0) {
        ewh_err_set(&err, EWH_E_DISTRIBUTION,
                    "path starts at %.32s, but origin %s is of region %s",
                    path[0], peek.origin, reg->name);
        goto refuse;
    }
    /* Signed by the origin's key as pinned here (an unendorsed re-key is
     * never pinned: docs/federation.md, "Trust"). */
    if (ewh_envelope_verify(t->envelope.data, t->envelope.len, NULL,
                            hub_fed_lookup, h, &hdr, &err) != 0)
        goto refuse;
    if (ewh_fed_may_enter(hdr.distribution, reg->name, path, n, h->cfg->region,
                          hub_fed_link_of(h, reg->name) >= 0, &err) != 0)
        goto refuse;
    ewh_audit_envelope_hash(t->envelope.data, t->envelope.len, hash);
    if (hub_store_envelope_find(h->st, hdr.id, hash, &found, &err) != 0)
        goto refuse;
    if (found == HUB_ENV_SAME) {
        s_ack_duplicate(h, l, rid, rid_len, t->seq, hdr.id);
        return;
    }
    if (found == HUB_ENV_OTHER) {
        ewh_err_set(&err, EWH_E_IDREUSED,
                    "id already used by a different envelope");
        goto refuse;
    }
    if (hdr.created_at > now + EWH_MAX_CLOCK_SKEW_S) {
        ewh_err_set(&err, EWH_E_CLOCK, "created_at %llds ahead of the clock",
                    (long long)(hdr.created_at - now));
        goto refuse;
    }
    if (hdr.expires_at != 0 && hdr.expires_at <= now) {
        ewh_err_set(&err, EWH_E_EXPIRED, "already expired");
        goto refuse;
    }
    if (hub_admit_check_local(h, &hdr, t->envelope.len, &err) != 0 ||
        hub_fed_route(h, (int)(l - h->fed.link), &hdr, reg->name, path, n, &fs,
                      &err) != 0)
        goto refuse;
    fs->in_seq = t->seq;
    if ((env = malloc(t->envelope.len)) == NULL) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto refuse;
    }
    memcpy(env, t->envelope.data, t->envelope.len);
    memset(&from, 0, sizeof(from));
    memcpy(from.cc, hdr.origin, EWH_CC_BYTES);
    memcpy(from.rid, rid, rid_len);
    from.rid_len = rid_len;
    if (hub_batch_add_submit(h, &from, &env, t->envelope.len, &hdr, hash,
                             &err) != 0) {
        free(env);
        goto refuse;
    }
    h->b.sub[h->b.n_sub - 1].fed = fs;
    return;
refuse:
    free(fs);
    s_refuse_transfer(h, l, rid, rid_len, t->seq, id, &err);
}

/* ---- receipts for reports that went out on our link to this peer ---- */

static void
s_on_receipt(struct hub *h, struct hub_fed_link *l, const uint8_t *rid,
             size_t rid_len, const Ewh__ReceiptRelay *rr)
{
    struct ewh_err err = {0};
    struct hub_rcpt r;
    char origin[EWH_CC_BYTES] = "", hex[EWH_ID_HEX];
    bool found = false;
    size_t i, len;

    memset(&r, 0, sizeof(r));
    r.fed_link = (int)(l - h->fed.link) + 1;
    r.fed_seq = rr->seq;
    memcpy(r.from.rid, rid, rid_len);
    r.from.rid_len = rid_len;
    if (rr->receipt == NULL) {
        ewh_err_set(&err, EWH_E_INVALID, "receipt relay without a receipt");
        goto refuse;
    }
    len = ewh__receipt__get_packed_size(rr->receipt);
    if (len > EWH_MAX_FRAME_BYTES || (r.buf = malloc(len)) == NULL) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto refuse;
    }
    ewh__receipt__pack(rr->receipt, r.buf);
    r.len = len;
    /* Signed by a foreign recipient under its pinned key. */
    if (ewh_receipt_verify(r.buf, len, NULL, hub_fed_lookup, h, &r.rc, &err) !=
        0)
        goto refuse;
    for (i = 0; i < r.rc.n_ids; i++) {
        if (hub_store_recipient_of(h->st, r.rc.ids[i], r.rc.from, &found,
                                   origin, &err) != 0)
            goto refuse;
        if (!found || strcmp(origin, r.rc.origin) != 0) {
            ewh_err_set(&err, EWH_E_NOTFORME,
                        "%s is not a recipient of %s from %s", r.rc.from,
                        hub_idhex(r.rc.ids[i], hex), r.rc.origin);
            goto refuse;
        }
    }
    memcpy(r.from.cc, r.rc.from, EWH_CC_BYTES);
    memcpy(r.origin, origin, EWH_CC_BYTES);
    hub_fed_count(h, l->p.region, "receipts-received", "", 1);
    if (hub_batch_add_receipt(h, &r) != 0) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        goto refuse;
    }
    return;
refuse:
    hub_fed_count(h, l->p.region, "receipts-refused",
                  ewh_errcode_name(err.code), 1);
    ewh_log_warnx("fed: refused receipt from=%s reason=\"%s\"", l->p.region,
                  err.reason);
    /* Answered with its seq: the peer stops sending it. */
    hub_fed_ack_receipt(h, &r, &err);
    free(r.buf);
}

/* ---- notices for reports that went out on our link to this peer ---- */

static void
s_ack_notice(struct hub *h, const uint8_t *rid, size_t rid_len, uint64_t seq)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__NoticeAck na = EWH__NOTICE_ACK__INIT;

    na.seq = seq;
    f.msg_case = EWH__FRAME__MSG_NOTICE_ACK;
    f.notice_ack = &na;
    (void)hub_conn_send(h, rid, rid_len, &f);
}

/* A recipient in the peer's direction was not reached (refused further
 * on, expired there): stored with the next batch for the report's origin
 * (or its link), then acknowledged.  One that names no report of ours
 * addressed to that country is acknowledged and dropped, counted. */
static void
s_on_notice(struct hub *h, struct hub_fed_link *l, const uint8_t *rid,
            size_t rid_len, const Ewh__Notice *m)
{
    struct ewh_err err = {0};
    struct hub_fed *f = &h->fed;
    struct hub_fed_nin *n;
    Ewh__Notice copy = *m;
    char origin[EWH_CC_BYTES] = "";
    bool found = false;

    if (m->id.len != EWH_ID_BYTES || m->country == NULL ||
        !ewh_country_is_valid(m->country) ||
        (m->kind != EWH__NOTICE_KIND__NOTICE_EXPIRED &&
         m->kind != EWH__NOTICE_KIND__NOTICE_REFUSED) ||
        hub_store_recipient_of(h->st, m->id.data, m->country, &found, origin,
                               &err) != 0 ||
        !found) {
        hub_fed_count(h, l->p.region, "notices-refused", "", 1);
        ewh_log_warnx("fed: notice from=%s names no report of ours for that "
                      "country: dropped",
                      l->p.region);
        s_ack_notice(h, rid, rid_len, m->seq);
        return;
    }
    copy.seq = 0;
    if (ewh__notice__get_packed_size(&copy) > sizeof(n->buf)) {
        s_ack_notice(h, rid, rid_len, m->seq);
        return;
    }
    n = hub_grow(f->nin, &f->cap_nin, f->n_nin + 1, sizeof(*f->nin));
    if (n == NULL)
        return; /* not acknowledged: it comes again */
    f->nin = n;
    n = &f->nin[f->n_nin++];
    memcpy(n->rid, rid, rid_len);
    n->rid_len = rid_len;
    n->seq = m->seq;
    memcpy(n->id, m->id.data, EWH_ID_BYTES);
    memcpy(n->origin, origin, EWH_CC_BYTES);
    n->len = ewh__notice__pack(&copy, n->buf);
    hub_fed_count(h, l->p.region, "notices-received", "", 1);
}

/* ---- foreign rosters ---- */

/* Does id's key follow from the pinned one (key continuity, the rule of
 * ewh_pubid_follows(), through the entry's chain)?  A hub that missed a
 * re-key follows it, as a node does. */
static bool
s_follows(const ewh_roster_t *ro, const struct ewh_pubid *id,
          const struct ewh_pubid *pin)
{
    size_t n = 0;
    const struct ewh_pubid *ch = ewh_roster_chain(ro, id->country, &n);

    return ewh_pubid_follows(id, ch, ch != NULL ? n : 0, pin->sign, NULL);
}

/* Pin the keys of roster ro for region name (inside a transaction). */
static int
s_pin(struct hub *h, struct hub_fed_link *l, const char *name,
      const ewh_roster_t *ro, struct ewh_err *err)
{
    size_t i;

    for (i = 0; i < ewh_roster_count(ro); i++) {
        bool revoked;
        const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
        const struct hub_fed_region *other;
        const struct ewh_pubid *pin = NULL;

        if (id == NULL)
            continue;
        if (ewh_roster_find(h->ros.roster, id->country, NULL) != NULL) {
            ewh_log_warnx("fed: roster of %s names %s, a country of this "
                          "region: entry ignored",
                          name, id->country);
            hub_fed_count(h, l->p.region, "roster-refused", "country-conflict",
                          1);
            continue;
        }
        other = hub_fed_region_of(h, id->country);
        if (other != NULL && strcmp(other->name, name) != 0) {
            ewh_log_warnx("fed: roster of %s names %s, pinned for region %s: "
                          "entry ignored",
                          name, id->country, other->name);
            hub_fed_count(h, l->p.region, "roster-refused", "country-conflict",
                          1);
            continue;
        }
        if (other != NULL)
            pin = ewh_roster_find(other->pins, id->country, NULL);
        if (pin != NULL && !ewh_pubid_equal(pin, id) &&
            !s_follows(ro, id, pin)) {
            /* Key continuity: a changed key its country did not endorse
             * stays unpinned; reports signed with it are refused. */
            ewh_log_warnx("fed: roster of %s gives %s a key its current key "
                          "did not endorse: the pinned key stays",
                          name, id->country);
            hub_fed_count(h, l->p.region, "roster-refused", "unendorsed-key",
                          1);
            if (hub_store_fed_key_put(h->st, name, pin, revoked, err) != 0)
                return -1;
            continue;
        }
        if (hub_store_fed_key_put(h->st, name, id, revoked, err) != 0)
            return -1;
    }
    return 0;
}

static void
s_on_roster(struct hub *h, struct hub_fed_link *l, const Ewh__ForeignRoster *fr)
{
    struct ewh_err err = {0};
    struct hub_fed_roster_row row;
    const struct hub_fed_region *known = NULL;
    ewh_roster_t *ro = NULL;
    const char *const *path = (const char *const *)fr->path;
    size_t n = fr->n_path, i, k;
    int direct;

    if (fr->region == NULL || !ewh_region_is_valid(fr->region)) {
        ewh_err_set(&err, EWH_E_INVALID, "foreign roster without a region");
        goto refuse;
    }
    if (strcmp(fr->region, h->cfg->region) == 0)
        return; /* our own, back from a peer */
    if (ewh_fed_path_check(path, n, &err) != 0)
        goto refuse;
    if (strcmp(path[0], fr->region) != 0 ||
        strcmp(path[n - 1], l->p.region) != 0) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "path must start at %s and end with the sender %s",
                    fr->region, l->p.region);
        goto refuse;
    }
    for (i = 0; i < n; i++)
        if (strcmp(path[i], h->cfg->region) == 0)
            return; /* went round: ours already */
    if (fr->hub_key.len != 32) {
        ewh_err_set(&err, EWH_E_INVALID, "hub key of %zu bytes",
                    fr->hub_key.len);
        goto refuse;
    }
    /* A direct peer's roster is signed by the key enrolled for it; another
     * region's by the key pinned the first time it was seen. */
    for (i = 0; i < h->fed.n_reg; i++)
        if (strcmp(h->fed.reg[i].name, fr->region) == 0)
            known = &h->fed.reg[i];
    /* (A direct peer's roster relayed by another peer: the enrolled key
     * too, never trust on first use.) */
    direct = hub_fed_link_of(h, fr->region);
    if (direct >= 0
            ? memcmp(fr->hub_key.data, h->fed.link[direct].p.sign, 32) != 0
            : (known != NULL &&
               memcmp(fr->hub_key.data, known->hub_sign, 32) != 0 &&
               /* a rotation the pinned key announced is followed */
               !(known->roster != NULL &&
                 ewh_roster_next_hub_sign(known->roster) != NULL &&
                 memcmp(ewh_roster_next_hub_sign(known->roster),
                        fr->hub_key.data, 32) == 0))) {
        ewh_err_set(&err, EWH_E_SIGNATURE,
                    "roster of %s signed by another hub key than the one "
                    "enrolled or pinned for it",
                    fr->region);
        goto refuse;
    }
    if ((ro = ewh_roster_open(fr->signed_roster.data, fr->signed_roster.len,
                              fr->hub_key.data, &err)) == NULL)
        goto refuse;
    if (strcmp(ewh_roster_region(ro), fr->region) != 0) {
        ewh_err_set(&err, EWH_E_INVALID, "roster names region %.32s, not %s",
                    ewh_roster_region(ro), fr->region);
        goto refuse;
    }
    if (known != NULL && known->roster != NULL) {
        uint64_t kv = ewh_roster_version(known->roster);
        if (ewh_roster_version(ro) < kv ||
            (ewh_roster_version(ro) == kv &&
             known->len == fr->signed_roster.len &&
             memcmp(known->buf, fr->signed_roster.data, known->len) == 0)) {
            ewh_roster_destroy(&ro);
            return; /* held already */
        }
    }
    if (known == NULL && h->fed.n_reg == EWH_MAX_FOREIGN_REGIONS) {
        ewh_err_set(&err, EWH_E_TOOBIG, "more than %u foreign regions",
                    EWH_MAX_FOREIGN_REGIONS);
        goto refuse;
    }
    memset(&row, 0, sizeof(row));
    snprintf(row.region, sizeof(row.region), "%s", fr->region);
    snprintf(row.via, sizeof(row.via), "%s", l->p.region);
    memcpy(row.hub_sign, fr->hub_key.data, 32);
    row.version = ewh_roster_version(ro);
    row.signed_roster = fr->signed_roster.data;
    row.len = fr->signed_roster.len;
    {
        size_t o = 0;
        for (i = 0; i < n; i++)
            o += (size_t)snprintf(row.path + o, sizeof(row.path) - o, "%s%s",
                                  i ? "," : "", path[i]);
    }
    if (hub_store_begin(h->st, &err) != 0 ||
        hub_store_fed_roster_put(h->st, &row, &err) != 0 ||
        s_pin(h, l, fr->region, ro, &err) != 0 ||
        hub_store_commit(h->st, &err) != 0) {
        hub_store_rollback(h->st);
        goto refuse;
    }
    ewh_roster_destroy(&ro);
    if (hub_fed__reload_regions(h, &err) != 0)
        ewh_log_warnx("fed: foreign rosters: %s", err.reason);
    ewh_log_info("fed: roster of %s version %llu via %s (path %s)", fr->region,
                 (unsigned long long)row.version, l->p.region, row.path);
    /* To our nodes, and onward to the other peers. */
    for (i = 0; i < h->fed.n_reg; i++) {
        if (strcmp(h->fed.reg[i].name, fr->region) != 0)
            continue;
        hub_fed__region_to_nodes(h, &h->fed.reg[i]);
        for (k = 0; k < h->fed.n_link; k++)
            if (h->fed.link[k].live && h->fed.link[k].up &&
                k != (size_t)(l - h->fed.link))
                hub_fed_rosters_to_link(h, &h->fed.link[k]);
    }
    h->status_due = true;
    return;
refuse:
    ewh_roster_destroy(&ro);
    hub_fed_count(h, l->p.region, "roster-refused", ewh_errcode_name(err.code),
                  1);
    ewh_log_warnx("fed: refused roster from=%s region=%s reason=\"%s\"",
                  l->p.region, fr->region != NULL ? fr->region : "-",
                  err.reason);
}

/* ---- dispatch ---- */

void
hub_fed_on_frame(struct hub *h, const char *region, const char *key,
                 const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                 size_t len)
{
    struct ewh_err err = {0};
    ewh_frame_t *f = NULL;
    struct hub_fed_link *l;
    char keyhex[65];
    int i = hub_fed_link_of(h, region);

    if (i < 0) {
        ewh_log_warnx("fed: frame from %s, no longer a peer: dropped", region);
        return;
    }
    l = &h->fed.link[i];
    if (strcmp(ewh_hex(l->p.curve, 32, keyhex, sizeof(keyhex)), key) != 0) {
        ewh_log_warnx("fed: frame from %s under a key no longer enrolled: "
                      "dropped",
                      region);
        return;
    }
    l->in_seen = ewh_now();
    if (len > h->cfg->max_frame_bytes) {
        ewh_err_set(&err, EWH_E_TOOBIG, "frame of %zu bytes", len);
        goto bad;
    }
    if (ewh_frame_decode(buf, len, &f, &err) != 0)
        goto bad;
    ewh_log_debug("fed: %s from=%s size=%zu", ewh_frame_name(f), region, len);
    switch (f->msg_case) {
    case EWH__FRAME__MSG_FED_HELLO:
        if (f->fed_hello->region == NULL ||
            strcmp(f->fed_hello->region, region) != 0) {
            ewh_err_set(
                &err, EWH_E_INVALID, "hello names region %.32s, enrolled as %s",
                f->fed_hello->region ? f->fed_hello->region : "-", region);
            goto bad;
        }
        memcpy(l->rid, rid, rid_len);
        l->rid_len = rid_len;
        ewh_log_info("fed: %s's link to us up", region);
        h->status_due = true;
        break;
    case EWH__FRAME__MSG_TRANSFER:
        s_on_transfer(h, l, rid, rid_len, f->transfer);
        break;
    case EWH__FRAME__MSG_RECEIPT_RELAY:
        /* Over the link's rate: not acknowledged, so sent again. */
        if (!hub_bucket_take(&l->bucket, h->cfg->submits_per_s,
                             ewh_mono_ms())) {
            hub_fed_count(h, region, "receipts-refused", "rate", 1);
            break;
        }
        s_on_receipt(h, l, rid, rid_len, f->receipt_relay);
        break;
    case EWH__FRAME__MSG_NOTICE:
        if (!hub_bucket_take(&l->bucket, h->cfg->submits_per_s, ewh_mono_ms()))
            break; /* not acknowledged: it comes again */
        s_on_notice(h, l, rid, rid_len, f->notice);
        break;
    case EWH__FRAME__MSG_FOREIGN_ROSTER:
        /* Rosters cost a transaction each: at most one a second per
         * link beyond the burst (an honest hub sends one per change). */
        if (!hub_bucket_take(&l->rbucket, EWH_FED_ROSTERS_PER_S,
                             ewh_mono_ms())) {
            hub_fed_count(h, region, "roster-refused", "rate", 1);
            break;
        }
        s_on_roster(h, l, f->foreign_roster);
        break;
    case EWH__FRAME__MSG_HEARTBEAT:
        break;
    default:
        ewh_err_set(&err, EWH_E_INVALID, "unexpected %s frame from a peer",
                    ewh_frame_name(f));
        goto bad;
    }
    ewh_frame_destroy(&f);
    return;
bad:
    ewh_frame_destroy(&f);
    h->n.bad_frames++;
    hub_fed_count(h, region, "bad-frames", ewh_errcode_name(err.code), 1);
    ewh_log_warnx("fed: refused frame from=%s reason=\"%s\"", region,
                  err.reason);
    hub_conn_send_error(h, rid, rid_len, err.code, err.reason);
}
