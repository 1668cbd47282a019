/* roster.c — apply a signed roster if it is genuine and newer. */
#include "roster.h"

#include <stdlib.h>
#include <string.h>

#include "ewh/log.h"

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
    if (node_store_roster_put(d->store, buf, len, *version, err) != 0 ||
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
