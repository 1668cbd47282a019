/* rosterpush.c — the signed roster: loaded from the store and signed
 * (with the categories and, during a key rotation, the next hub keys),
 * pushed to every node when its version changes, and the connections of
 * countries revoked or re-keyed cut. */
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
 * hash, which nodes compare (docs/trust.md).  A kept one that no longer
 * verifies with our key (the hub keys rotated) is signed again. */
static ewh_roster_t *
s_kept(struct hub *h, uint64_t v, uint8_t **buf, size_t *len)
{
    struct ewh_err e2 = {0};
    ewh_roster_t *r;

    if (hub_store_roster_signed_get(h->st, v, buf, len, &e2) != 0)
        return NULL;
    r = ewh_roster_open(*buf, *len, ewh_secret_pubid(h->a->key)->sign, &e2);
    if (r == NULL) {
        free(*buf);
        *buf = NULL;
    }
    return r;
}

int
hub_roster_refresh(struct hub *h, struct ewh_err *err)
{
    ewh_roster_t *r = NULL, *signed_r = NULL;
    uint8_t *buf = NULL, ph[32];
    size_t len = 0;
    uint64_t pv = 0;
    bool found;

    /* The workers may be reading the roster that this replaces. */
    if (h->adm.vpool != NULL)
        hub_verify_wait(h->adm.vpool);
    if (hub_store_roster_load(h->st, &r, err) != 0)
        return -1;
    if ((signed_r = s_kept(h, ewh_roster_version(r), &buf, &len)) != NULL)
        goto done;
    if (s_categories(h, r, err) != 0)
        goto fail;
    /* During a key rotation: announce the next keys (ewhub rotate-keys). */
    hub_rotate_announce(h->a->dir, r);
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

void
hub_roster_send(struct hub *h, struct hub_peer *n)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__SignedRoster *sr;

    sr = ewh__signed_roster__unpack(NULL, h->ros.len, h->ros.buf);
    if (sr == NULL)
        return;
    f.msg_case = EWH__FRAME__MSG_ROSTER;
    f.roster = sr;
    if (hub_conn_send(h, n->rid, n->rid_len, &f) != 0)
        ewh_log_warnx("router: cannot send roster to %s: %s", n->cc,
                      zmq_strerror(zmq_errno()));
    ewh__signed_roster__free_unpacked(sr, NULL);
}

/* Is a connected peer revoked or re-keyed in the roster of now? */
static bool
s_must_cut(struct hub *h, const struct hub_peer *n)
{
    const struct ewh_pubid *id;
    char hex[65];
    bool rev = false;

    id = ewh_roster_find(h->ros.roster, n->cc, &rev);
    if (id != NULL && !rev &&
        strcmp(ewh_hex(id->curve, 32, hex, sizeof(hex)), n->key) == 0)
        return false;
    ewh_log_info("router: cutting %s (%s)", n->cc,
                 id == NULL || rev ? "revoked" : "re-keyed");
    return true;
}

void
hub_roster_check(struct hub *h)
{
    struct ewh_err err = {0};
    uint64_t v;
    size_t i;
    bool cut = false;

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
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        if (n->connected && s_must_cut(h, n))
            cut = true;
    }
    if (cut) {
        /* libzmq cannot drop one ROUTER peer: re-bind.  The batch is
         * committed and its acks sent; nodes reconnect and say hello
         * (and get the new roster then).  A failed bind is logged and
         * retried (hub_conn_retry). */
        (void)hub_conn_rebind(h);
        return;
    }
    for (i = 0; i < hub_peers_count(h->peers); i++) {
        struct hub_peer *n = hub_peers_at(h->peers, i);
        if (n->connected)
            hub_roster_send(h, n);
    }
}
