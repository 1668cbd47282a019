/* roster.c — apply a signed roster if it is genuine and newer. */
#include "roster.h"

#include <stdlib.h>
#include <string.h>

#include "trust.h"
#include "ewh/log.h"

/* The roster held is in the history of heads (a store from before the
 * chain did not keep it). */
static int
s_keep_held_head(struct node_dir *d, const ewh_roster_t *held,
                 struct ewh_err *err)
{
    uint8_t *hb = NULL;
    size_t hl = 0;
    int rc;

    if (held == NULL || ewh_roster_hash(held) == NULL)
        return 0;
    if (node_store_roster_get(d->store, &hb, &hl, err) != 0)
        return -1;
    rc = node_store_head_put(d->store, ewh_roster_version(held),
                             ewh_roster_hash(held), hb, hl, err);
    free(hb);
    return rc;
}

/* A roster that names the version held with another hash: the hub signed
 * two rosters of one version.  Keep the proof (both hub-signed) and end
 * the transaction; the roster is not applied. */
static void
s_keep_fork(struct node_dir *d, const ewh_roster_t *got,
            const ewh_roster_t *held, const uint8_t *buf, size_t len)
{
    struct ewh_err e2 = {0};
    uint64_t pv = 0;
    const uint8_t *ph = ewh_roster_prev(got, &pv);

    if (ph == NULL || held == NULL || ewh_roster_hash(held) == NULL ||
        pv != ewh_roster_version(held)) {
        node_store_rollback(d->store);
        return;
    }
    if (s_keep_held_head(d, held, &e2) != 0 ||
        node_store_split_add(d->store, "--", pv, ewh_roster_hash(held), ph,
                             "roster", buf, len, &e2) != 0 ||
        node_store_commit(d->store, &e2) != 0) {
        node_store_rollback(d->store);
        ewh_log_errx("roster: cannot keep the evidence: %s", e2.reason);
        return;
    }
    ewh_log_errx("trust: SPLIT VIEW: the hub signed two rosters of version "
                 "%llu (evidence kept; ewnode audit)",
                 (unsigned long long)pv);
}

int
node_roster_apply(struct node_dir *d, const uint8_t *buf, size_t len,
                  uint64_t *version, struct ewh_err *err)
{
    ewh_roster_t *got = NULL, *held = NULL;
    struct ewh_err e2 = {0};
    const uint8_t *ns, *nc;
    bool repin = false;
    int rc = -1;

    if ((got = ewh_roster_open(buf, len, d->hub.sign, err)) == NULL) {
        /* Hub key rotation: only keys that the pinned key announced. */
        if (!d->has_hub_next ||
            (got = ewh_roster_open(buf, len, d->hub_next.sign, &e2)) == NULL)
            return -1;
        repin = true;
    }
    *version = ewh_roster_version(got);
    if (node_store_begin(d->store, err) != 0)
        goto out;
    held = node_dir_roster(d, &e2);
    if (held != NULL && ewh_roster_version(held) >= *version) {
        node_store_rollback(d->store);
        ewh_err_set(err, EWH_E_VERSION,
                    "roster version %llu is not newer than the one held "
                    "(%llu)",
                    (unsigned long long)*version,
                    (unsigned long long)ewh_roster_version(held));
        goto out;
    }
    /* The chain must link to the roster held; then each peer's trust
     * (docs/trust.md). */
    if (node_trust_chain_check(got, held, err) != 0) {
        s_keep_fork(d, got, held, buf, len);
        goto out;
    }
    if (s_keep_held_head(d, held, err) != 0 ||
        node_trust_on_roster(d->store, d->cfg.country, got, held, buf, len,
                             err) != 0 ||
        node_store_roster_put(d->store, buf, len, *version, err) != 0 ||
        node_store_commit(d->store, err) != 0) {
        node_store_rollback(d->store);
        goto out;
    }
    if (repin) {
        /* The new hub keys were announced by the old key: pin them. */
        if (node_dir_hub_repin(d, err) != 0)
            goto out;
        ewh_log_info("roster: hub keys rotated as announced; pinned the "
                     "new hub identity (roster version %llu)",
                     (unsigned long long)*version);
    } else if ((ns = ewh_roster_next_hub_sign(got)) != NULL &&
               (nc = ewh_roster_next_hub_curve(got)) != NULL) {
        bool had = d->has_hub_next;
        if (node_dir_hub_announce(d, ns, nc, err) != 0)
            goto out;
        if (!had)
            ewh_log_info("roster: the hub announced its next keys; kept "
                         "in hub.pub.next");
    } else if (d->has_hub_next) {
        (void)node_dir_hub_forget_next(d);
        ewh_log_info("roster: the hub's key rotation was called off");
    }
    rc = 0;
out:
    ewh_roster_destroy(&held);
    ewh_roster_destroy(&got);
    return rc;
}
