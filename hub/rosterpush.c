/* rosterpush.c — the signed roster: loaded from the store and signed
 * (with the categories and, during a key rotation, the next hub keys),
 * pushed to every node when its version changes, and the connections of
 * countries revoked or re-keyed cut, each alone.  The signed catalogue of
 * concern (catalogue.c) travels the same way: on hello and when a new
 * version is published. */
#include "hubint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "rotate.h"
#include "ewh/log.h"

static int
s_categories(struct hub *h, ewh_roster_t *r, struct ewh_err *err)
{
    const char *cats[EWH_MAX_CATEGORIES];
    size_t i;

    if (h->cfg->n_cats > 0) {
        for (i = 0; i < h->cfg->n_cats; i++)
            cats[i] = h->cfg->cats[i];
        return ewh_roster_set_categories(r, cats, h->cfg->n_cats, err);
    }
    for (i = 0; ewh_default_categories[i] != NULL; i++)
        cats[i] = ewh_default_categories[i];
    return ewh_roster_set_categories(r, cats, i, err);
}

/* The roster of version v signed once and kept: each version has one
 * hash, which nodes compare (docs/trust.md).  *had says one is kept (even
 * if it no longer verifies with our key: the hub keys rotated). */
static ewh_roster_t *
s_kept(struct hub *h, uint64_t v, uint8_t **buf, size_t *len, bool *had)
{
    struct ewh_err e2 = {0};
    ewh_roster_t *r;

    *had = false;
    if (hub_store_roster_signed_get(h->st, v, buf, len, &e2) != 0)
        return NULL;
    *had = true;
    r = ewh_roster_open(*buf, *len, ewh_secret_pubid(h->a->key)->sign, &e2);
    if (r == NULL) {
        free(*buf);
        *buf = NULL;
    }
    return r;
}

/* Does the kept roster say what the store and config say now? */
static bool
s_same(const ewh_roster_t *a, const ewh_roster_t *b)
{
    const uint8_t *x = ewh_roster_next_hub_sign(a);
    const uint8_t *y = ewh_roster_next_hub_sign(b);
    size_t i;

    if (ewh_roster_count(a) != ewh_roster_count(b) ||
        ewh_roster_category_count(a) != ewh_roster_category_count(b) ||
        (x == NULL) != (y == NULL) || (x != NULL && memcmp(x, y, 32) != 0))
        return false;
    for (i = 0; i < ewh_roster_count(a); i++) {
        bool ra, rb;
        const struct ewh_pubid *p = ewh_roster_at(a, i, &ra);
        const struct ewh_pubid *q = ewh_roster_at(b, i, &rb);
        if (ra != rb || !ewh_pubid_equal(p, q) || p->endorsed != q->endorsed ||
            (p->endorsed && memcmp(p->endorsement, q->endorsement, 64) != 0))
            return false;
    }
    for (i = 0; i < ewh_roster_category_count(a); i++)
        if (strcmp(ewh_roster_category(a, i), ewh_roster_category(b, i)) != 0)
            return false;
    if (strcmp(ewh_roster_region(a), ewh_roster_region(b)) != 0 ||
        ewh_roster_peer_count(a) != ewh_roster_peer_count(b))
        return false;
    for (i = 0; i < ewh_roster_peer_count(a); i++)
        if (strcmp(ewh_roster_peer(a, i), ewh_roster_peer(b, i)) != 0)
            return false;
    return true;
}

/* The roster as the store and config say now, at the store's version. */
static int
s_build(struct hub *h, ewh_roster_t **r, struct ewh_err *err)
{
    if (hub_store_roster_load(h->st, r, err) != 0 ||
        s_categories(h, *r, err) != 0 ||
        /* federation (docs/federation.md): the region and its peers */
        hub_fed_roster_fields(h, *r, err) != 0)
        return -1;
    /* During a key rotation: announce the next keys (ewhub rotate-keys). */
    hub_rotate_announce(h->a->dir, *r);
    return 0;
}

int
hub_roster_refresh(struct hub *h, struct ewh_err *err)
{
    ewh_roster_t *r = NULL, *signed_r = NULL;
    uint8_t *buf = NULL, ph[32];
    size_t len = 0;
    uint64_t pv = 0;
    bool found = false, had;

    /* The workers may be reading the roster that this replaces. */
    if (h->adm.vpool != NULL)
        hub_verify_wait(h->adm.vpool);
    if (s_build(h, &r, err) != 0)
        goto fail;
    signed_r = s_kept(h, ewh_roster_version(r), &buf, &len, &had);
    if (signed_r != NULL && s_same(signed_r, r))
        goto done;
    if (!had && ewh_roster_version(r) > 0 &&
        hub_store_roster_signed_before(h->st, ewh_roster_version(r) + 1, &found,
                                       &pv, ph, err) != 0)
        goto fail;
    /* A store from before the chain keeps no signed roster: nodes may hold
     * one the old hub signed at this version, so the chain starts at a new
     * one (never two rosters of one version). */
    if (!had && ewh_roster_version(r) > 0 && !found) {
        bool born;
        if (hub_store_roster_chained(h->st, &born, err) != 0)
            goto fail;
        had = !born;
    }
    if (had) {
        /* Version v was signed with other content (config changed while
         * stopped, or other hub keys): never a second roster of one
         * version — a new version. */
        ewh_roster_destroy(&signed_r);
        free(buf);
        buf = NULL;
        ewh_roster_destroy(&r);
        if (hub_store_roster_bump(h->st, NULL, err) != 0 ||
            s_build(h, &r, err) != 0)
            goto fail;
    }
    /* The chain: this roster commits to the one signed before it. */
    if (hub_store_roster_signed_before(h->st, ewh_roster_version(r), &found,
                                       &pv, ph, err) != 0)
        goto fail;
    ewh_roster_set_prev(r, pv, found ? ph : NULL);
    if (ewh_roster_sign(r, h->a->key, &buf, &len, err) != 0)
        goto fail;
    if ((signed_r = ewh_roster_open(buf, len, ewh_secret_pubid(h->a->key)->sign,
                                    err)) == NULL ||
        hub_store_roster_signed_put(h->st, ewh_roster_version(r),
                                    ewh_roster_hash(signed_r), buf, len,
                                    err) != 0)
        goto fail;
done:
    ewh_roster_destroy(&r);
    ewh_roster_destroy(&h->ros.roster);
    free(h->ros.buf);
    h->ros.roster = signed_r;
    h->ros.buf = buf;
    h->ros.len = len;
    return 0;
fail:
    free(buf);
    ewh_roster_destroy(&signed_r);
    ewh_roster_destroy(&r);
    return -1;
}

const ewh_roster_t *
hub_roster_zap(void *ctx, bool refresh)
{
    struct hub *h = ctx;
    struct ewh_err err = {0};
    uint64_t v;

    /* Only the keys are needed here; hub_roster_check() pushes the roster
     * and cuts connections when it sees the version it has not pushed. */
    if (refresh && hub_store_roster_version(h->st, &v, &err) == 0 &&
        v != ewh_roster_version(h->ros.roster)) {
        if (hub_roster_refresh(h, &err) != 0)
            ewh_log_warnx("zap: cannot reload roster: %s", err.reason);
        h->ros.next_check_ms = 0;
    }
    return h->ros.roster;
}

static void
s_send_to(struct hub *h, const char *cc, const uint8_t *rid, size_t rid_len)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SignedRoster *sr;

    sr = ewh__signed_roster__unpack(NULL, h->ros.len, h->ros.buf);
    if (sr == NULL)
        return;
    f.msg_case = EWH__FRAME__MSG_ROSTER;
    f.roster = sr;
    if (hub_conn_send(h, rid, rid_len, &f) != 0)
        ewh_log_warnx("router: cannot send roster to %s: %s", cc,
                      zmq_strerror(zmq_errno()));
    ewh__signed_roster__free_unpacked(sr, NULL);
}

void
hub_roster_send(struct hub *h, struct hub_peer *n)
{
    s_send_to(h, n->cc, n->rid, n->rid_len);
}

int
hub_catalogue_open(struct hub *h, struct ewh_err *err)
{
    const char *cats[EWH_MAX_CATEGORIES];
    size_t k;

    for (k = 0; k < ewh_roster_category_count(h->ros.roster); k++)
        cats[k] = ewh_roster_category(h->ros.roster, k);
    h->ros.cat = hub_catalogue_new(h->a->dir, h->a->key, cats, k, err);
    return h->ros.cat == NULL ? -1 : 0;
}

static void
s_catalogue_to(struct hub *h, const char *cc, const uint8_t *rid,
               size_t rid_len)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SignedCatalogue *sc;
    const uint8_t *buf;
    size_t len;

    hub_catalogue_bytes(h->ros.cat, &buf, &len);
    if (len == 0)
        return; /* none usable (catalogue.c) */
    if ((sc = ewh__signed_catalogue__unpack(NULL, len, buf)) == NULL)
        return;
    f.msg_case = EWH__FRAME__MSG_CATALOGUE;
    f.catalogue = sc;
    if (hub_conn_send(h, rid, rid_len, &f) != 0)
        ewh_log_warnx("router: cannot send catalogue to %s: %s", cc,
                      zmq_strerror(zmq_errno()));
    ewh__signed_catalogue__free_unpacked(sc, NULL);
}

void
hub_catalogue_send(struct hub *h, struct hub_peer *n)
{
    s_catalogue_to(h, n->cc, n->rid, n->rid_len);
}

/* Connections marked to be cut (their Error sent HUB_CLOSE_LINGER_MS
 * ago): shut each down alone.  Returns false if one could not be (libzmq
 * gave no fd for it), and the caller falls back to a re-bind. */
static bool
s_cut_due(struct hub *h)
{
    int64_t now = ewh_mono_ms();
    bool ok = true;
    size_t i, k;

    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        for (k = 0; k < n->n_conns; k++) {
            struct hub_peer_conn c = n->conns[k];
            if (c.cut_at_ms == 0 || now < c.cut_at_ms)
                continue;
            /* Not cut when its fd is another peer's by now: it is gone. */
            if (!hub_peer_conn_cut(&c) && c.fd < 0)
                ok = false;
            /* Not the session any more (s_cut_mark). */
            (void)hub_peer_conn_gone(n, -1, c.rid, c.rid_len);
            k--;
        }
    }
    return ok;
}

/* Mark n's connections that the roster no longer admits (revoked, or a
 * key the roster replaced) to be cut, and tell each why. */
static void
s_cut_mark(struct hub *h, struct hub_peer *n)
{
    const struct ewh_pubid *id;
    struct ewh_err err = {0};
    char hex[65];
    bool rev = false, session = false;
    size_t k;

    id = ewh_roster_find(h->ros.roster, n->cc, &rev);
    if (id != NULL)
        ewh_hex(id->curve, 32, hex, sizeof(hex));
    for (k = 0; k < n->n_conns; k++) {
        struct hub_peer_conn *c = &n->conns[k];
        if (c->cut_at_ms != 0 ||
            (id != NULL && !rev && strcmp(hex, c->key) == 0))
            continue;
        /* revoked: the country is refused; unknown: this key is. */
        ewh_err_set(&err, id == NULL || rev ? EWH_E_REVOKED : EWH_E_UNKNOWN,
                    "%s",
                    id == NULL || rev ? "this node is revoked"
                                      : "this node's key was replaced");
        ewh_log_info("router: cutting %s's connection (%s)", n->cc,
                     id == NULL || rev ? "revoked" : "re-keyed");
        hub_conn_send_error(h, c->rid, c->rid_len, err.code, err.reason);
        c->cut_at_ms = ewh_mono_ms() + HUB_CLOSE_LINGER_MS;
        session |= n->connected && n->rid_len == c->rid_len &&
                   memcmp(n->rid, c->rid, c->rid_len) == 0;
    }
    if (session) {
        /* Nothing more goes to it: the newest connection still admitted
         * takes the session, or the country is disconnected now. */
        for (k = n->n_conns; k > 0; k--)
            if (n->conns[k - 1].cut_at_ms == 0)
                break;
        if (k > 0) {
            hub_peer_conn_use(n, &n->conns[k - 1]);
        } else {
            hub_peer_disconnect(n);
            ewh_log_info("router: %s disconnected", n->cc);
            (void)hub_event_new(h, HUB_EV_DISCONNECTED, n->cc, NULL);
            h->status_due = true;
        }
    }
}

void
hub_roster_check(struct hub *h)
{
    struct ewh_err err = {0};
    uint64_t v;
    size_t i, k;

    /* A new catalogue goes to every connection still admitted. */
    if (hub_catalogue_poll(h->ros.cat))
        for (i = 0; i < hub_peers_count(h->peers); i++) {
            struct hub_peer *n = hub_peers_at(h->peers, i);
            for (k = 0; k < n->n_conns; k++)
                if (n->conns[k].cut_at_ms == 0)
                    s_catalogue_to(h, n->cc, n->conns[k].rid,
                                   n->conns[k].rid_len);
        }
    if (!s_cut_due(h)) {
        /* A connection whose fd libzmq did not tell: the old way (a
         * failed bind is logged and retried, hub_conn_retry). */
        (void)hub_conn_rebind(h);
        return;
    }
    if (hub_store_roster_version(h->st, &v, &err) != 0) {
        ewh_log_warnx("router: roster check: %s", err.reason);
        return;
    }
    if (v == h->ros.pushed_version)
        return;
    if (v != ewh_roster_version(h->ros.roster) &&
        hub_roster_refresh(h, &err) != 0) {
        ewh_log_err("router: cannot load roster: %s", err.reason);
        return;
    }
    h->ros.pushed_version = ewh_roster_version(h->ros.roster);
    ewh_log_info("roster: version %llu, %zu countries",
                 (unsigned long long)h->ros.pushed_version,
                 ewh_roster_count(h->ros.roster));
    /* libzmq 4.3 has no call to drop one ROUTER peer: each connection
     * the roster no longer admits is told why, then its TCP connection is
     * shut down (s_cut_due, HUB_CLOSE_LINGER_MS later) and the ZAP
     * handler refuses its reconnects.  Every other connection keeps its
     * session and gets the new roster. */
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        s_cut_mark(h, n);
        for (k = 0; k < n->n_conns; k++)
            if (n->conns[k].cut_at_ms == 0)
                s_send_to(h, n->cc, n->conns[k].rid, n->conns[k].rid_len);
    }
    /* Peers added or removed (they bump the version): links follow, and
     * every peer gets the new roster (fed.c). */
    hub_fed_on_roster(h);
}
