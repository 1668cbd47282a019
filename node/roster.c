/* roster.c — apply a signed roster if it is genuine and newer. */
#include "roster.h"

#include <stdlib.h>

int
node_roster_apply(struct node_dir *d, const uint8_t *buf, size_t len,
                  uint64_t *version, struct ewh_err *err)
{
    ewh_roster_t *got = NULL, *held = NULL;
    struct ewh_err e2 = {0};
    int rc = -1;

    if ((got = ewh_roster_open(buf, len, d->hub.sign, err)) == NULL)
        return -1;
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
    rc = 0;
out:
    ewh_roster_destroy(&held);
    ewh_roster_destroy(&got);
    return rc;
}
