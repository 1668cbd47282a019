/*
 * rotate.h — the hub's own key rotation (ewhub rotate-keys).
 *
 * Step 1 writes DIR/hub.key.next and DIR/hub.pub.next and bumps the roster
 * version; the running hub then signs, with its current key, a roster that
 * names the next keys (next_hub_sign, next_hub_curve).  Nodes that verify
 * it keep the next keys.  Step 2 (--commit, hub stopped) moves the next
 * keys into place; after the restart nodes accept the new keys only
 * because the old key announced them.  See docs/operations.md.
 */
#ifndef HUB_ROTATE_H
#define HUB_ROTATE_H

#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/roster.h"

/* If DIR/hub.pub.next holds a hub identity, name it in r as the next hub
 * keys.  Errors are logged. */
void hub_rotate_announce(const char *dir, ewh_roster_t *r);

/* The hub's signing keys, oldest first, ending with the current one
 * (DIR/hub.pub): DIR/hub.pub.retired-1, -2, ... (written by --commit),
 * then DIR/hub.pub.old when it is not already among them (a rotation
 * made before the chain was kept).  At most EWH_MAX_HUB_KEYS.  -1 with
 * err when a file is unreadable or not a hub identity. */
EWH_MUST_CHECK int hub_rotate_chain(const char *dir, uint8_t (*keys)[32],
                                    size_t cap, size_t *n, struct ewh_err *err);

int hub_cmd_rotate(int argc, char **argv);

#endif
