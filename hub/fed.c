/* fed.c — federation (issue 22, docs/federation.md): the peers and
 * foreign regions the loop knows, where a report may go (routing and the
 * distribution filter, decided at admission), what the batch writes for
 * it, the link counters, status and metrics.  The links themselves are
 * fed_link.c (ours) and fed_in.c (the peers'). */
#include "hubint.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ewh/fed.h"
#include "ewh/frame.h"
#include "ewh/log.h"

/* ---- paths: "a,b,c" ---- */

/* Split s into at most EWH_MAX_FED_PATH names (pointers into buf). */
static size_t
s_path_split(const char *s, char buf[HUB_FED_PATH_BYTES],
             const char *parts[EWH_MAX_FED_PATH])
{
    char *save = NULL, *tok;
    size_t n = 0;

    snprintf(buf, HUB_FED_PATH_BYTES, "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok != NULL && n < EWH_MAX_FED_PATH;
         tok = strtok_r(NULL, ",", &save))
        parts[n++] = tok;
    return n;
}

static void
s_path_join(const char *const *p, size_t n, const char *last,
            char out[HUB_FED_PATH_BYTES])
{
    size_t i, o = 0;

    out[0] = '\0';
    for (i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, HUB_FED_PATH_BYTES - o, "%s%s",
                              o ? "," : "", p[i]);
    if (last != NULL)
        snprintf(out + o, HUB_FED_PATH_BYTES - o, "%s%s", o ? "," : "", last);
}

static bool
s_on_path(const char *const *p, size_t n, const char *region)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(p[i], region) == 0)
            return true;
    return false;
}

/* ---- peers and regions ---- */

int
hub_fed_link_of(const struct hub *h, const char *region)
{
    size_t i;

    for (i = 0; i < h->fed.n_link; i++)
        if (h->fed.link[i].live && strcmp(h->fed.link[i].p.region, region) == 0)
            return (int)i;
    return -1;
}

const struct hub_fed_region *
hub_fed_region_of(const struct hub *h, const char *cc)
{
    size_t i;

    for (i = 0; i < h->fed.n_reg; i++)
        if (h->fed.reg[i].pins != NULL &&
            ewh_roster_find(h->fed.reg[i].pins, cc, NULL) != NULL)
            return &h->fed.reg[i];
    return NULL;
}

const struct ewh_pubid *
hub_fed_lookup(void *ctx, const char *cc)
{
    const struct hub_fed_region *r = hub_fed_region_of(ctx, cc);

    return r != NULL ? ewh_roster_lookup(r->pins, cc) : NULL;
}

bool
hub_fed_has_foreign(const struct hub *h, const struct ewh_header *hdr)
{
    size_t i;

    for (i = 0; i < hdr->n_recipients; i++)
        if (ewh_roster_find(h->ros.roster, hdr->recipients[i], NULL) == NULL)
            return true;
    return false;
}

static struct hub_fed_region *
s_region(struct hub *h, const char *name)
{
    size_t i;

    for (i = 0; i < h->fed.n_reg; i++)
        if (strcmp(h->fed.reg[i].name, name) == 0)
            return &h->fed.reg[i];
    return NULL;
}

static int
s_roster_peers(void *ctx, const struct hub_fed_peer_row *p)
{
    struct {
        char names[EWH_MAX_FED_PEERS][EWH_MAX_REGION_BYTES + 1];
        size_t n;
    } *c = ctx;

    if (c->n < EWH_MAX_FED_PEERS)
        snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", p->region);
    return 0;
}

int
hub_fed_roster_fields(struct hub *h, ewh_roster_t *r, struct ewh_err *err)
{
    struct {
        char names[EWH_MAX_FED_PEERS][EWH_MAX_REGION_BYTES + 1];
        size_t n;
    } c;
    const char *p[EWH_MAX_FED_PEERS];
    size_t i;

    c.n = 0;
    if (ewh_roster_set_region(r, h->cfg->region, err) != 0 ||
        hub_store_fed_peer_walk(h->st, s_roster_peers, &c, err) != 0)
        return -1;
    for (i = 0; i < c.n; i++)
        p[i] = c.names[i];
    return ewh_roster_set_peers(r, p, c.n, err);
}

static void s_tell_unpeered(struct hub *h);

/* ---- loading ---- */

static int
s_load_peer(void *ctx, const struct hub_fed_peer_row *p)
{
    struct hub *h = ctx;
    struct hub_fed_link *l = NULL;
    struct ewh_err err = {0};
    size_t i;

    for (i = 0; i < h->fed.n_link; i++)
        if (strcmp(h->fed.link[i].p.region, p->region) == 0)
            l = &h->fed.link[i];
    if (l != NULL && l->live) {
        l->live = true;
        if (strcmp(l->p.endpoint, p->endpoint) == 0 &&
            memcmp(l->p.curve, p->curve, 32) == 0 &&
            memcmp(l->p.sign, p->sign, 32) == 0)
            return 0;
        ewh_log_info("fed: peer %s changed: reconnecting to %s", p->region,
                     p->endpoint);
        hub_fed_link_close(l);
    }
    if (l == NULL) {
        if (h->fed.n_link == EWH_MAX_FED_PEERS) {
            ewh_log_warnx("fed: more than %u peers: %s left out",
                          EWH_MAX_FED_PEERS, p->region);
            return 0;
        }
        l = &h->fed.link[h->fed.n_link++];
        memset(l, 0, sizeof(*l));
        hub_bucket_init(&l->bucket);
        hub_bucket_init(&l->rbucket);
        if ((l->inflight = hub_seqset_new()) == NULL ||
            (l->rflight = hub_seqset_new()) == NULL) {
            ewh_log_warnx("fed: out of memory for peer %s", p->region);
            h->fed.n_link--;
            hub_seqset_destroy(&l->inflight);
            return 0;
        }
    }
    l->p = *p;
    l->live = true;
    l->rid_len = 0;
    if (h->zctx != NULL && hub_fed_link_open(h, l, &err) != 0)
        ewh_log_warnx("fed: link to %s: %s", p->region, err.reason);
    return 0;
}

static int
s_load_region(void *ctx, const struct hub_fed_roster_row *row)
{
    struct hub *h = ctx;
    struct hub_fed_region *r;
    struct ewh_err err = {0};

    if ((r = s_region(h, row->region)) == NULL) {
        if (h->fed.n_reg == EWH_MAX_FOREIGN_REGIONS)
            return 0;
        r = &h->fed.reg[h->fed.n_reg++];
        memset(r, 0, sizeof(*r));
    }
    free(r->buf);
    ewh_roster_destroy(&r->roster);
    snprintf(r->name, sizeof(r->name), "%s", row->region);
    snprintf(r->via, sizeof(r->via), "%s", row->via);
    snprintf(r->path, sizeof(r->path), "%s", row->path);
    memcpy(r->hub_sign, row->hub_sign, 32);
    if ((r->buf = malloc(row->len)) != NULL) {
        memcpy(r->buf, row->signed_roster, row->len);
        r->len = row->len;
    }
    r->roster =
        ewh_roster_open(row->signed_roster, row->len, row->hub_sign, &err);
    if (r->roster == NULL)
        ewh_log_warnx("fed: stored roster of %s: %s", row->region, err.reason);
    if (r->pins == NULL)
        r->pins = ewh_roster_new(0);
    return 0;
}

static int
s_load_key(void *ctx, const char *region, const struct ewh_pubid *id,
           bool revoked)
{
    struct hub *h = ctx;
    struct hub_fed_region *r = s_region(h, region);
    struct ewh_err err = {0};

    if (r == NULL || r->pins == NULL)
        return 0;
    if (ewh_roster_put(r->pins, id, revoked, &err) != 0)
        ewh_log_warnx("fed: pinned key of %s: %s", id->country, err.reason);
    return 0;
}

/* The regions and pinned keys again from the store (after a foreign
 * roster was accepted). */
int
hub_fed__reload_regions(struct hub *h, struct ewh_err *err)
{
    size_t i;

    for (i = 0; i < h->fed.n_reg; i++)
        ewh_roster_destroy(&h->fed.reg[i].pins);
    if (hub_store_fed_roster_walk(h->st, s_load_region, h, err) != 0 ||
        hub_store_fed_key_walk(h->st, s_load_key, h, err) != 0)
        return -1;
    return 0;
}

int
hub_fed_init(struct hub *h, struct ewh_err *err)
{
    if (hub_store_fed_peer_walk(h->st, s_load_peer, h, err) != 0 ||
        hub_fed__reload_regions(h, err) != 0)
        return -1;
    s_tell_unpeered(h); /* a `peer remove` while this hub was stopped */
    if (h->fed.n_link > 0 || h->fed.n_reg > 0)
        ewh_log_info("fed: region %s, %zu peers, %zu foreign regions",
                     h->cfg->region, h->fed.n_link, h->fed.n_reg);
    return 0;
}

void
hub_fed_free(struct hub *h)
{
    size_t i;

    for (i = 0; i < h->fed.n_link; i++) {
        hub_fed_link_close(&h->fed.link[i]);
        hub_seqset_destroy(&h->fed.link[i].inflight);
        hub_seqset_destroy(&h->fed.link[i].rflight);
    }
    for (i = 0; i < h->fed.n_reg; i++) {
        free(h->fed.reg[i].buf);
        ewh_roster_destroy(&h->fed.reg[i].roster);
        ewh_roster_destroy(&h->fed.reg[i].pins);
    }
    free(h->fed.cnt);
    free(h->fed.ack);
    free(h->fed.nin);
    free(h->fed.metrics);
    memset(&h->fed, 0, sizeof(h->fed));
}

struct s_mark {
    struct hub *h;
    bool seen[EWH_MAX_FED_PEERS];
};

static int
s_mark_peer(void *ctx, const struct hub_fed_peer_row *p)
{
    struct s_mark *m = ctx;
    int i = hub_fed_link_of(m->h, p->region);

    if (i >= 0)
        m->seen[i] = true;
    return 0;
}

void
hub_fed_on_roster(struct hub *h)
{
    struct ewh_err err = {0};
    struct s_mark m;
    size_t i;

    if (hub_store_fed_peer_walk(h->st, s_load_peer, h, &err) != 0) {
        ewh_log_warnx("fed: peers: %s", err.reason);
        return;
    }
    /* A link whose peer is gone from the store is closed. */
    memset(&m, 0, sizeof(m));
    m.h = h;
    if (hub_store_fed_peer_walk(h->st, s_mark_peer, &m, &err) != 0)
        return;
    for (i = 0; i < h->fed.n_link; i++) {
        struct hub_fed_link *l = &h->fed.link[i];
        if (!l->live || m.seen[i])
            continue;
        ewh_log_info("fed: peer %s removed: link closed", l->p.region);
        hub_fed_link_close(l);
        l->live = false;
        l->rid_len = 0;
        hub_seqset_clear(l->inflight);
        hub_seqset_clear(l->rflight);
    }
    s_tell_unpeered(h);
    for (i = 0; i < h->fed.n_link; i++)
        if (h->fed.link[i].live && h->fed.link[i].up)
            hub_fed_rosters_to_link(h, &h->fed.link[i]);
    h->status_due = true;
}

/* ---- routing: where a report may go ---- */

static const char *
s_why_name(uint8_t why)
{
    switch (why) {
    case HUB_FED_W_DISTRIBUTION:
        return "distribution";
    case HUB_FED_W_NOROUTE:
        return "no-route";
    default:
        return "other";
    }
}

/* May a report of distribution d from origin_region, held here with
 * path p (ours last), cross to link peer dest and from there reach
 * region final? */
static int
s_may_go(struct hub *h, enum ewh_distribution d, const char *origin_region,
         const char *const *p, size_t n, const char *dest, const char *final,
         struct ewh_err *err)
{
    const struct hub_fed_region *o = s_region(h, origin_region);
    const char *p2[EWH_MAX_FED_PATH + 1];
    bool ours = strcmp(origin_region, h->cfg->region) == 0;
    bool peers;

    peers = ours ? true
                 : (o != NULL && o->roster != NULL &&
                    ewh_roster_has_peer(o->roster, dest));
    if (ewh_fed_may_enter(d, origin_region, p, n, dest, peers, err) != 0)
        return -1;
    if (strcmp(dest, final) == 0)
        return 0;
    /* The hop after dest, as dest will judge it. */
    if (n + 1 > EWH_MAX_FED_PATH)
        return ewh_err_set(err, EWH_E_DISTRIBUTION, "path too long");
    memcpy(p2, p, n * sizeof(*p));
    p2[n] = dest;
    {
        const struct hub_fed_region *dr = s_region(h, dest);
        peers = ours ? (dr != NULL && dr->roster != NULL &&
                        ewh_roster_has_peer(dr->roster, final) &&
                        hub_fed_link_of(h, final) >= 0)
                     : (o != NULL && o->roster != NULL &&
                        ewh_roster_has_peer(o->roster, final));
    }
    return ewh_fed_may_enter(d, origin_region, p2, n + 1, final, peers, err);
}

int
hub_fed_route(struct hub *h, int in_link, const struct ewh_header *hdr,
              const char *origin_region, const char *const *path, size_t n_path,
              struct hub_fed_sub **out, struct ewh_err *err)
{
    const char *here[EWH_MAX_FED_PATH + 1];
    struct hub_fed_sub *f;
    bool dist = false;
    size_t i, n = 0;

    *out = NULL;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    f->in_link = in_link;
    snprintf(f->origin_region, sizeof(f->origin_region), "%s", origin_region);
    for (i = 0; path != NULL && i < n_path && n < EWH_MAX_FED_PATH; i++)
        here[n++] = path[i];
    here[n++] = h->cfg->region;
    s_path_join(here, n, NULL, f->path);
    for (i = 0; i < hdr->n_recipients; i++) {
        const char *cc = hdr->recipients[i];
        const struct hub_fed_region *r;
        struct ewh_err e = {0};
        int L;

        if (ewh_roster_find(h->ros.roster, cc, NULL) != NULL) {
            f->local |= UINT64_C(1) << i;
            continue;
        }
        if ((r = hub_fed_region_of(h, cc)) == NULL) {
            f->unreach |= UINT64_C(1) << i;
            f->noroute++;
            continue;
        }
        if (s_on_path(here, n, r->name))
            continue; /* served there already */
        if ((L = hub_fed_link_of(h, r->name)) < 0)
            L = hub_fed_link_of(h, r->via);
        if (L < 0 || s_on_path(here, n, h->fed.link[L].p.region)) {
            f->unreach |= UINT64_C(1) << i;
            f->noroute++;
            continue;
        }
        if (s_may_go(h, hdr->distribution, origin_region, here, n,
                     h->fed.link[L].p.region, r->name, &e) != 0) {
            f->unreach |= UINT64_C(1) << i;
            f->filtered[L]++;
            dist = true;
            continue;
        }
        f->out |= 1u << L;
    }
    if (f->local == 0 && f->out == 0) {
        /* Nothing to store it for: refused, and the recipients that would
         * have gone on a link are counted as filtered all the same. */
        for (i = 0; i < h->fed.n_link; i++)
            if (f->filtered[i] > 0)
                hub_fed_count(h, h->fed.link[i].p.region, "filtered",
                              s_why_name(HUB_FED_W_DISTRIBUTION),
                              f->filtered[i]);
        if (f->noroute > 0)
            hub_fed_count(h, "-", "filtered", s_why_name(HUB_FED_W_NOROUTE),
                          f->noroute);
        free(f);
        if (dist)
            return ewh_err_set(err, EWH_E_DISTRIBUTION,
                               "distribution %s does not let it reach any "
                               "of its recipients from here",
                               ewh_distribution_name(hdr->distribution));
        return ewh_err_set(err, EWH_E_UNKNOWN,
                           "no recipient is enrolled here or reachable "
                           "through a peer");
    }
    *out = f;
    return 0;
}

/* ---- what the batch writes ---- */

/* Transfer seq on link i is over without reaching the peer's region
 * (refused by the peer for good, or expired): a local origin is told, by
 * a notice for each recipient that would have gone on that link.  Inside
 * a transaction. */
static int
s_tell_origin(struct hub *h, size_t i, uint64_t seq, int kind, const char *why,
              struct ewh_err *err)
{
    struct ewh_err e2 = {0};
    struct ewh_header hdr;
    uint8_t *env = NULL;
    size_t len = 0, k;
    int rc = 0;

    if (hub_store_fed_out_envelope(h->st, h->fed.link[i].p.region, seq, &env,
                                   &len, &e2) != 0 ||
        ewh_envelope_peek(env, len, &hdr, &e2) != 0) {
        free(env);
        return 0; /* nothing to name it by: counted all the same */
    }
    for (k = 0; k < hdr.n_recipients && rc == 0; k++) {
        const struct hub_fed_region *r =
            hub_fed_region_of(h, hdr.recipients[k]);
        int L;
        if (r == NULL)
            continue;
        if ((L = hub_fed_link_of(h, r->name)) < 0)
            L = hub_fed_link_of(h, r->via);
        if (L == (int)i)
            rc = hub_fed__notice(h, hdr.id, hdr.origin, hdr.recipients[k], kind,
                                 why, ewh_now(), err);
    }
    free(env);
    return rc;
}

/* A transfer to peer, dropped by `ewhub peer remove` (state 4): its
 * origin (local or foreign) is told, by a Notice{REFUSED} for each
 * recipient that would have gone on that link (routed as s_tell_origin
 * does, the removed link standing for its own region and those learnt
 * through it).  Inside the transaction that marks it told. */
struct s_unpeered_ctx {
    struct hub *h;
    struct ewh_err *err;
    uint64_t told; /* notices made */
};

static int
s_unpeered(void *ctx, const char *peer, uint64_t seq)
{
    struct s_unpeered_ctx *c = ctx;
    struct hub *h = c->h;
    struct ewh_err e2 = {0};
    struct ewh_header hdr;
    char why[160];
    uint8_t *env = NULL;
    size_t len = 0, k, n = 0;
    int64_t now = ewh_now();

    if (hub_store_fed_out_envelope(h->st, peer, seq, &env, &len, &e2) != 0 ||
        ewh_envelope_peek(env, len, &hdr, &e2) != 0) {
        free(env);
        ewh_log_warnx("fed: transfer %llu dropped for %s: origin not told "
                      "(%s)",
                      (unsigned long long)seq, peer, e2.reason);
        return hub_store_fed_count_add(h->st, peer, "dropped-untold",
                                       "unpeered", 1, c->err);
    }
    snprintf(why, sizeof(why),
             "the link to region %s was removed at hub %s before it took "
             "the report",
             peer, h->cfg->region);
    for (k = 0; k < hdr.n_recipients; k++) {
        const struct hub_fed_region *r =
            hub_fed_region_of(h, hdr.recipients[k]);
        /* Its own region, or one learnt through it and not peered now. */
        if (r == NULL ||
            (strcmp(r->name, peer) != 0 &&
             (hub_fed_link_of(h, r->name) >= 0 || strcmp(r->via, peer) != 0)))
            continue;
        if (hub_fed__notice(h, hdr.id, hdr.origin, hdr.recipients[k],
                            EWH__NOTICE_KIND__NOTICE_REFUSED, why, now,
                            c->err) != 0) {
            free(env);
            return -1;
        }
        n++;
    }
    if (n > 0 && ewh_roster_find(h->ros.roster, hdr.origin, NULL) != NULL) {
        struct hub_peer *on = hub_peers_get(h->peers, hdr.origin, false);
        if (on != NULL)
            on->want_fill = true;
    }
    free(env);
    c->told += n;
    if (n > 0)
        return hub_store_fed_count_add(h->st, peer, "dropped-told", "unpeered",
                                       n, c->err);
    ewh_log_warnx("fed: transfer %llu dropped for %s: no recipient of it is "
                  "routed there now; origin not told",
                  (unsigned long long)seq, peer);
    return hub_store_fed_count_add(h->st, peer, "dropped-untold", "unpeered", 1,
                                   c->err);
}

/* The transfers dropped by `ewhub peer remove` and not yet told (state 4:
 * the command ran while this hub was stopped, or since its last look):
 * their origins are told and the rows marked told (5), in one
 * transaction, so a kill in between loses neither the drop nor the
 * notices and tells nobody twice.  Counted under the removed peer. */
static void
s_tell_unpeered(struct hub *h)
{
    struct ewh_err err = {0};
    struct s_unpeered_ctx c = {h, &err, 0};
    size_t n = 0;

    if (hub_store_begin(h->st, &err) != 0) {
        ewh_log_warnx("fed: notices of dropped transfers: %s", err.reason);
        return;
    }
    if (hub_store_fed_out_unpeered(h->st, s_unpeered, &c, &n, &err) != 0)
        goto fail;
    if (n == 0) {
        hub_store_rollback(h->st);
        return;
    }
    if (hub_store_commit(h->st, &err) != 0)
        goto fail;
    ewh_log_info("fed: %zu transfers dropped by peer remove: %llu notices "
                 "to their origins",
                 n, (unsigned long long)c.told);
    return;
fail:
    hub_store_rollback(h->st);
    ewh_log_warnx("fed: notices of dropped transfers: %s (tried again at "
                  "the next tick)",
                  err.reason);
}

static int
s_notice(struct hub *h, const struct ewh_header *hdr, const char *cc,
         const char *why, int64_t now, struct ewh_err *err)
{
    return hub_fed__notice(h, hdr->id, hdr->origin, cc,
                           EWH__NOTICE_KIND__NOTICE_REFUSED, why, now, err);
}

int
hub_fed__notice(struct hub *h, const uint8_t id[EWH_ID_BYTES],
                const char *origin, const char *cc, int kind, const char *why,
                int64_t now, struct ewh_err *err)
{
    Ewh__Notice nt = EWH__NOTICE__INIT;
    char peer[EWH_MAX_REGION_BYTES + 1];
    uint8_t buf[512];
    bool found = false;
    size_t len;
    int L;

    nt.id.data = (uint8_t *)id;
    nt.id.len = EWH_ID_BYTES;
    nt.country = (char *)cc;
    nt.kind = (Ewh__NoticeKind)kind;
    nt.at = now;
    nt.reason = (char *)why;
    len = ewh__notice__get_packed_size(&nt);
    EWH_ASSERT(len <= sizeof(buf));
    ewh__notice__pack(&nt, buf);
    if (ewh_roster_find(h->ros.roster, origin, NULL) != NULL)
        return hub_store_relay_add(h->st, origin, HUB_RELAY_NOTICE, buf, len,
                                   err);
    /* A foreign origin: back along the link the report came on, towards
     * its hub (which relays it to the origin). */
    if (hub_store_fed_in_peer(h->st, id, peer, &found, err) != 0)
        return -1;
    if (!found)
        return 0;
    if ((L = hub_fed_link_of(h, peer)) >= 0)
        h->fed.link[L].want_fill = true;
    return hub_store_fed_notice_add(h->st, peer, buf, len, err);
}

int
hub_fed_stored(struct hub *h, const struct hub_submit *s, int64_t rowid,
               int64_t now, struct ewh_err *err)
{
    const struct hub_fed_sub *f = s->fed;
    size_t i;

    if (f == NULL)
        return 0;
    if (f->in_link >= 0) {
        const char *peer = h->fed.link[f->in_link].p.region;
        if (hub_store_fed_in_add(h->st, s->hdr.id, peer, f->path, now, err) !=
                0 ||
            hub_store_fed_count_add(h->st, peer, "received", "", 1, err) != 0)
            return -1;
    }
    for (i = 0; i < h->fed.n_link; i++) {
        if (f->out & (1u << i)) {
            if (hub_store_fed_out_add(h->st, h->fed.link[i].p.region, rowid,
                                      (int)s->hdr.level, s->hdr.expires_at,
                                      f->path, now, err) != 0)
                return -1;
            h->fed.link[i].want_fill = true;
        }
        if (f->filtered[i] > 0 &&
            hub_store_fed_count_add(h->st, h->fed.link[i].p.region, "filtered",
                                    s_why_name(HUB_FED_W_DISTRIBUTION),
                                    f->filtered[i], err) != 0)
            return -1;
    }
    if (f->noroute > 0 && hub_store_fed_count_add(h->st, "-", "filtered",
                                                  s_why_name(HUB_FED_W_NOROUTE),
                                                  f->noroute, err) != 0)
        return -1;
    /* The origin is told which recipients it will not reach (a foreign
     * one through the link it came on). */
    for (i = 0; i < s->hdr.n_recipients; i++)
        if ((f->unreach >> i) & 1 &&
            s_notice(h, &s->hdr, s->hdr.recipients[i],
                     "not sent to this country: its region is not reached "
                     "by the report's distribution, or by any peer link",
                     now, err) != 0)
            return -1;
    return 0;
}

int
hub_fed_receipt_write(struct hub *h, struct hub_rcpt *r, bool *handled,
                      struct ewh_err *err)
{
    char peer[EWH_MAX_REGION_BYTES + 1];
    bool found = false;

    *handled = false;
    if (ewh_roster_find(h->ros.roster, r->origin, NULL) != NULL ||
        hub_fed_region_of(h, r->origin) == NULL)
        return 0;
    *handled = true;
    if (hub_store_receipt_keep(h->st, (const uint8_t(*)[EWH_ID_BYTES])r->rc.ids,
                               r->rc.n_ids, r->from.cc, (int)r->rc.kind,
                               r->origin, r->rc.at, r->buf, r->len, &r->added,
                               err) != 0)
        return -1;
    if (r->added == 0)
        return 0;
    if (hub_store_fed_in_peer(h->st, r->rc.ids[0], peer, &found, err) != 0)
        return -1;
    if (!found) {
        ewh_log_warnx("fed: receipt for a report of %s that came on no "
                      "link: kept, not relayed",
                      r->origin);
        return 0;
    }
    if (hub_fed_link_of(h, peer) >= 0)
        h->fed.link[hub_fed_link_of(h, peer)].want_fill = true;
    return hub_store_fed_relay_add(h->st, peer, r->buf, r->len, err);
}

void
hub_fed_count(struct hub *h, const char *peer, const char *what,
              const char *code, uint64_t n)
{
    struct hub_fed *f = &h->fed;
    struct hub_fed_cnt *c;
    size_t i;

    for (i = 0; i < f->n_cnt; i++) {
        c = &f->cnt[i];
        if (strcmp(c->peer, peer) == 0 && strcmp(c->what, what) == 0 &&
            strcmp(c->code, code != NULL ? code : "") == 0) {
            c->n += n;
            return;
        }
    }
    if ((c = hub_grow(f->cnt, &f->cap_cnt, f->n_cnt + 1, sizeof(*c))) == NULL) {
        ewh_log_warnx("fed: out of memory: a %s count of %s lost", what, peer);
        return;
    }
    f->cnt = c;
    c = &f->cnt[f->n_cnt++];
    memset(c, 0, sizeof(*c));
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    snprintf(c->what, sizeof(c->what), "%s", what);
    snprintf(c->code, sizeof(c->code), "%s", code != NULL ? code : "");
    c->n = n;
}

bool
hub_fed_pending(const struct hub *h)
{
    return h->fed.n_ack > 0 || h->fed.n_cnt > 0 || h->fed.n_nin > 0;
}

int
hub_fed_write(struct hub *h, struct ewh_err *err)
{
    struct hub_fed *f = &h->fed;
    bool changed;
    size_t i;

    for (i = 0; i < f->n_ack; i++) {
        struct hub_fed_ack *a = &f->ack[i];
        const char *peer = f->link[a->link].p.region;
        if (a->receipt) {
            if (hub_store_fed_relay_done(h->st, peer, a->seq, &changed, err) !=
                0)
                return -1;
        } else if (hub_store_fed_out_done(h->st, peer, a->seq, a->state,
                                          &changed, err) != 0)
            return -1;
        else if (changed && a->state == HUB_FED_REFUSED &&
                 s_tell_origin(
                     h, a->link, a->seq, EWH__NOTICE_KIND__NOTICE_REFUSED,
                     "refused by the peer hub of its region", err) != 0)
            return -1;
    }
    for (i = 0; i < f->n_cnt; i++)
        if (hub_store_fed_count_add(h->st, f->cnt[i].peer, f->cnt[i].what,
                                    f->cnt[i].code, f->cnt[i].n, err) != 0)
            return -1;
    /* Notices from peers: to our origin, or on towards a foreign one's. */
    for (i = 0; i < f->n_nin; i++) {
        struct hub_fed_nin *n = &f->nin[i];
        char peer[EWH_MAX_REGION_BYTES + 1];
        bool found = false;
        if (ewh_roster_find(h->ros.roster, n->origin, NULL) != NULL) {
            struct hub_peer *on = hub_peers_get(h->peers, n->origin, false);
            if (hub_store_relay_add(h->st, n->origin, HUB_RELAY_NOTICE, n->buf,
                                    n->len, err) != 0)
                return -1;
            if (on != NULL)
                on->want_fill = true;
            continue;
        }
        if (hub_store_fed_in_peer(h->st, n->id, peer, &found, err) != 0 ||
            (found &&
             hub_store_fed_notice_add(h->st, peer, n->buf, n->len, err) != 0))
            return -1;
    }
    f->n_ack_written = f->n_ack;
    f->n_nin_written = f->n_nin;
    return 0;
}

void
hub_fed_committed(struct hub *h, bool ok)
{
    struct hub_fed *f = &h->fed;
    int64_t now = ewh_mono_ms();
    size_t i;

    if (!ok) {
        f->n_ack_written = 0;
        f->n_nin_written = 0;
        return;
    }
    /* Stored: now acknowledge the peers' notices. */
    for (i = 0; i < f->n_nin_written; i++) {
        Ewh__Frame fr = EWH__FRAME__INIT;
        Ewh__NoticeAck na = EWH__NOTICE_ACK__INIT;
        na.seq = f->nin[i].seq;
        fr.msg_case = EWH__FRAME__MSG_NOTICE_ACK;
        fr.notice_ack = &na;
        (void)hub_conn_send(h, f->nin[i].rid, f->nin[i].rid_len, &fr);
    }
    if (f->n_nin > f->n_nin_written)
        memmove(f->nin, f->nin + f->n_nin_written,
                (f->n_nin - f->n_nin_written) * sizeof(*f->nin));
    f->n_nin -= f->n_nin_written;
    f->n_nin_written = 0;
    for (i = 0; i < f->n_ack_written; i++) {
        struct hub_fed_ack *a = &f->ack[i];
        struct hub_fed_link *l = &f->link[a->link];
        hub_seqset_del(a->receipt ? l->rflight : l->inflight, a->seq, NULL);
        l->moved_ms = now;
        l->want_fill = true;
    }
    if (f->n_ack > f->n_ack_written)
        memmove(f->ack, f->ack + f->n_ack_written,
                (f->n_ack - f->n_ack_written) * sizeof(*f->ack));
    f->n_ack -= f->n_ack_written;
    f->n_ack_written = 0;
    f->n_cnt = 0;
}

/* ---- acknowledgements to peers (after the commit) ---- */

void
hub_fed_ack_transfer(struct hub *h, const struct hub_submit *s,
                     const struct ewh_err *failed)
{
    Ewh__Frame fr = EWH__FRAME__INIT;
    Ewh__TransferAck a = EWH__TRANSFER_ACK__INIT;
    const struct ewh_err *e = failed != NULL ? failed : &s->err;
    const char *peer = h->fed.link[s->fed->in_link].p.region;
    enum hub_status st = failed != NULL ? HUB_REFUSED : s->status;
    char hex[EWH_ID_HEX];

    a.seq = s->fed->in_seq;
    a.id.data = (uint8_t *)s->hdr.id;
    a.id.len = EWH_ID_BYTES;
    a.status = (Ewh__AckStatus)st;
    if (st == HUB_REFUSED) {
        a.code = (uint32_t)e->code;
        a.reason = (char *)e->reason;
        a.retry = ewh_errcode_is_retryable(e->code);
        if (!a.retry)
            hub_fed_count(h, peer, "refused", ewh_errcode_name(e->code), 1);
        ewh_log_warnx("fed: refused transfer from=%s id=%s reason=\"%s\"", peer,
                      hub_idhex(s->hdr.id, hex), e->reason);
    } else if (st == HUB_DUPLICATE) {
        hub_fed_count(h, peer, "duplicate", "", 1);
    } else {
        ewh_log_debug("fed: stored transfer from=%s id=%s", peer,
                      hub_idhex(s->hdr.id, hex));
    }
    fr.msg_case = EWH__FRAME__MSG_TRANSFER_ACK;
    fr.transfer_ack = &a;
    (void)hub_conn_send(h, s->from.rid, s->from.rid_len, &fr);
}

void
hub_fed_ack_receipt(struct hub *h, const struct hub_rcpt *r,
                    const struct ewh_err *refused)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ReceiptAck ra = EWH__RECEIPT_ACK__INIT;
    ProtobufCBinaryData ids[EWH_MAX_RECEIPT_IDS];

    ewh_receipt_ack_fill(&ra, &r->rc, ids);
    ra.seq = r->fed_seq;
    if (refused != NULL) {
        ra.refused_code = (uint32_t)refused->code;
        ra.refused = (char *)refused->reason;
    }
    f.msg_case = EWH__FRAME__MSG_RECEIPT_ACK;
    f.receipt_ack = &ra;
    (void)hub_conn_send(h, r->from.rid, r->from.rid_len, &f);
}

/* ---- foreign rosters to nodes ---- */

static void
s_foreign_frame(struct hub *h, const struct hub_fed_region *r,
                const uint8_t *rid, size_t rid_len, void *dealer)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__ForeignRoster fr = EWH__FOREIGN_ROSTER__INIT;
    char pbuf[HUB_FED_PATH_BYTES];
    const char *parts[EWH_MAX_FED_PATH + 1];
    size_t n = s_path_split(r->path, pbuf, parts);

    if (r->buf == NULL || n >= EWH_MAX_FED_PATH)
        return;
    parts[n++] = h->cfg->region;
    fr.region = (char *)r->name;
    fr.signed_roster.data = r->buf;
    fr.signed_roster.len = r->len;
    fr.hub_key.data = (uint8_t *)r->hub_sign;
    fr.hub_key.len = 32;
    fr.n_path = n;
    fr.path = (char **)parts;
    f.msg_case = EWH__FRAME__MSG_FOREIGN_ROSTER;
    f.foreign_roster = &fr;
    if (dealer == NULL) {
        (void)hub_conn_send(h, rid, rid_len, &f);
        return;
    }
    {
        struct ewh_err err = {0};
        uint8_t *buf = NULL;
        size_t len = 0;
        if (ewh_frame_encode(&f, &buf, &len, &err) == 0)
            (void)zmq_send(dealer, buf, len, ZMQ_DONTWAIT);
        free(buf);
    }
}

void
hub_fed__foreign_to(struct hub *h, const struct hub_fed_region *r, void *dealer)
{
    s_foreign_frame(h, r, NULL, 0, dealer);
}

void
hub_fed_rosters_to_node(struct hub *h, const uint8_t *rid, size_t rid_len)
{
    size_t i;

    for (i = 0; i < h->fed.n_reg; i++)
        s_foreign_frame(h, &h->fed.reg[i], rid, rid_len, NULL);
}

/* One region's roster to every node connected now. */
void
hub_fed__region_to_nodes(struct hub *h, const struct hub_fed_region *r)
{
    size_t i, k;

    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        if (!(n->features & EWH_FEATURE_FEDERATION))
            continue;
        for (k = 0; k < n->n_conns; k++)
            if (n->conns[k].cut_at_ms == 0)
                s_foreign_frame(h, r, n->conns[k].rid, n->conns[k].rid_len,
                                NULL);
    }
}

/* ---- the tick: expiry, figures, stall ---- */

static void
s_expired(void *ctx, const char *peer, uint64_t seq)
{
    struct hub *h = ctx;
    struct ewh_err err = {0};
    int i = hub_fed_link_of(h, peer);

    hub_fed_count(h, peer, "expired", "", 1);
    if (i >= 0 &&
        s_tell_origin(h, (size_t)i, seq, EWH__NOTICE_KIND__NOTICE_EXPIRED,
                      "expired before the peer hub of its region took it",
                      &err) != 0)
        ewh_log_warnx("fed: expiry notice: %s", err.reason);
}

void
hub_fed_tick(struct hub *h)
{
    struct ewh_err err = {0};
    int64_t now = ewh_mono_ms();
    size_t i, n = 0;

    if (h->fed.n_link == 0 && h->fed.n_reg == 0)
        return;
    if (hub_store_begin(h->st, &err) != 0 ||
        hub_store_fed_out_expire(h->st, ewh_now(), s_expired, h, &n, &err) !=
            0 ||
        hub_store_commit(h->st, &err) != 0) {
        hub_store_rollback(h->st);
        ewh_log_warnx("fed: expiry sweep: %s", err.reason);
    } else if (n > 0) {
        ewh_log_info("fed: %zu queued transfers expired", n);
    }
    /* Normally done at the roster change that removed the peer: again
     * here, should that have failed (a busy store). */
    s_tell_unpeered(h);
    for (i = 0; i < h->fed.n_link; i++) {
        struct hub_fed_link *l = &h->fed.link[i];
        bool was = l->stalled;
        if (!l->live)
            continue;
        if (hub_store_fed_out_queued(h->st, l->p.region, &l->queued, &err) !=
                0 ||
            hub_store_fed_relay_queued(h->st, l->p.region, &l->rqueued, &err) !=
                0)
            ewh_log_warnx("fed: queue of %s: %s", l->p.region, err.reason);
        /* Work waits and nothing moved for longer than a heartbeat. */
        l->stalled = l->queued + l->rqueued > 0 &&
                     now - l->moved_ms > EWH_FED_HEARTBEAT_MS;
        if (l->stalled && !was)
            ewh_log_warnx("fed: link to %s stalled: %llu transfers and %llu "
                          "receipts wait, nothing moved for %lld s (%s)",
                          l->p.region, (unsigned long long)l->queued,
                          (unsigned long long)l->rqueued,
                          (long long)((now - l->moved_ms) / 1000),
                          l->up ? "connected" : "not connected");
        l->want_fill = true;
    }
}

void *
hub_fed_status_json(struct hub *h)
{
    struct ewh_err err = {0};
    json_t *counts = hub_store_fed_counts_json(h->st, &err);
    json_t *root = json_object(), *links = json_array(), *regs = json_array();
    int64_t now = ewh_mono_ms(), wall = ewh_now();
    size_t i;

    if (counts == NULL) {
        ewh_log_warnx("fed: counters: %s", err.reason);
        counts = json_object();
    }
    for (i = 0; i < h->fed.n_link; i++) {
        struct hub_fed_link *l = &h->fed.link[i];
        json_t *o, *cnt;
        if (!l->live)
            continue;
        o = json_pack(
            "{s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:b, s:I}", "peer",
            l->p.region, "endpoint", l->p.endpoint, "up", l->up, "inbound",
            l->in_seen > 0 &&
                wall - l->in_seen <= 3 * EWH_FED_HEARTBEAT_MS / 1000,
            "queued", (json_int_t)l->queued, "receipts_waiting",
            (json_int_t)l->rqueued, "in_flight",
            (json_int_t)hub_seqset_size(l->inflight), "last_moved_s_ago",
            (json_int_t)(l->moved_ms > 0 ? (now - l->moved_ms) / 1000 : -1),
            "stalled", l->stalled, "up_at", (json_int_t)l->up_at);
        cnt = json_object_get(counts, l->p.region);
        json_object_set_new(o, "counters",
                            cnt != NULL ? json_incref(cnt) : json_object());
        json_array_append_new(links, o);
    }
    for (i = 0; i < h->fed.n_reg; i++) {
        struct hub_fed_region *r = &h->fed.reg[i];
        json_array_append_new(
            regs,
            json_pack(
                "{s:s, s:s, s:s, s:I, s:I}", "region", r->name, "via", r->via,
                "path", r->path, "version",
                (json_int_t)(r->roster ? ewh_roster_version(r->roster) : 0),
                "countries",
                (json_int_t)(r->pins ? ewh_roster_count(r->pins) : 0)));
    }
    json_object_set_new(root, "region", json_string(h->cfg->region));
    json_object_set_new(root, "links", links);
    json_object_set_new(root, "regions", regs);
    {
        json_t *u = json_object_get(counts, "-"), *former = json_object();
        const char *k;
        json_t *v;
        json_object_set_new(root, "unrouted",
                            u != NULL ? json_incref(u) : json_object());
        /* Counters of peers no longer enrolled (dropped{unpeered}, ...). */
        json_object_foreach(counts, k, v)
        {
            if (strcmp(k, "-") != 0 && hub_fed_link_of(h, k) < 0)
                json_object_set(former, k, v);
        }
        json_object_set_new(root, "former", former);
    }
    json_decref(counts);
    return root;
}

/* ---- /metrics ---- */

/* One sample of ewhub_fed_total. */
static void
s_prom_cnt(FILE *f, const char *peer, const char *what, const char *code,
           json_t *n)
{
    fprintf(f, "ewhub_fed_total{peer=\"%s\",what=\"%s\",reason=\"%s\"} %lld\n",
            peer, what, code, (long long)json_integer_value(n));
}

char *
hub_fed_metrics_text(struct hub *h)
{
    struct ewh_err err = {0};
    FILE *f;
    json_t *counts, *o, *w, *n;
    const char *peer, *what, *code;
    char *out = NULL;
    size_t len = 0, i;
    static const char *const g[][2] = {
        {"ewhub_fed_link_up", "Our link to the peer hub is connected."},
        {"ewhub_fed_link_stalled",
         "Work waits on the link and it moved nothing for longer than its "
         "heartbeat."},
        {"ewhub_fed_queued", "Transfers queued for the peer."},
        {"ewhub_fed_receipts_waiting", "Receipts queued for the peer."},
        {"ewhub_fed_in_flight", "Transfers sent, not yet acknowledged."},
    };
    size_t k;

    if (h->fed.n_link == 0 && h->fed.n_reg == 0)
        return NULL;
    if ((f = open_memstream(&out, &len)) == NULL)
        return NULL;
    for (k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", g[k][0], g[k][1],
                g[k][0]);
        for (i = 0; i < h->fed.n_link; i++) {
            const struct hub_fed_link *l = &h->fed.link[i];
            uint64_t v = k == 0   ? l->up
                         : k == 1 ? l->stalled
                         : k == 2 ? l->queued
                         : k == 3 ? l->rqueued
                                  : hub_seqset_size(l->inflight);
            if (l->live)
                fprintf(f, "%s{peer=\"%s\"} %llu\n", g[k][0], l->p.region,
                        (unsigned long long)v);
        }
    }
    fprintf(f, "# HELP ewhub_fed_total Federation link events by peer "
               "(\"-\": no link), what (sent, received, filtered, refused, "
               "refused-by-peer, expired, dropped, dropped-told, duplicate, "
               "receipts-*, roster-*) and reason (docs/federation.md).\n"
               "# TYPE ewhub_fed_total counter\n");
    if ((counts = hub_store_fed_counts_json(h->st, &err)) == NULL)
        ewh_log_warnx("fed: counters: %s", err.reason);
    json_object_foreach(counts, peer, o)
    {
        json_object_foreach(o, what, w)
        {
            if (json_is_integer(w)) {
                s_prom_cnt(f, peer, what, "", w);
                continue;
            }
            json_object_foreach(w, code, n) s_prom_cnt(f, peer, what, code, n);
        }
    }
    json_decref(counts);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
