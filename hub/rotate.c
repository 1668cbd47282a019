/* rotate.c — the running hub's part of a key rotation: announce the
 * next keys in the roster it signs (ewhub rotate-keys, cmd_rotate.c,
 * writes them). */
#include "rotate.h"

#include <stdio.h>
#include <unistd.h>

#include "ewh/identity.h"
#include "ewh/log.h"

void
hub_rotate_announce(const char *dir, ewh_roster_t *r)
{
    struct ewh_err err = {0};
    struct ewh_pubid id;
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/hub.pub.next", dir);

    if (n < 0 || (size_t)n >= sizeof(path)) {
        ewh_log_errx("rotate: path too long: %s/hub.pub.next", dir);
        return;
    }
    if (access(path, F_OK) != 0)
        return;
    if (ewh_pubid_load(path, &id, &err) != 0 || id.kind != EWH_KIND_HUB) {
        ewh_log_errx("rotate: %s: %s", path,
                     err.reason[0] ? err.reason : "not a hub identity");
        return;
    }
    ewh_roster_set_next_hub(r, id.sign, id.curve);
}
