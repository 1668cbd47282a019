/*
 * dir.h — the node's data directory: node.key, node-CC.pub, hub.pub,
 * ewnode.conf and store.db.
 *
 * node_dir_open() loads the config (config.h), the pinned hub identity
 * and the store; the secret key is loaded only when asked for (commands
 * that sign or open envelopes).
 */
#ifndef NODE_DIR_H
#define NODE_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/roster.h"
#include "config.h"
#include "store.h"

#define NODE_DEFAULT_DIR "/var/lib/ewnode"

struct node_dir {
    char path[1024];
    struct node_config cfg;
    struct ewh_pubid hub;      /* pinned */
    struct ewh_pubid hub_next; /* announced by the pinned key (hub.pub.next) */
    bool has_hub_next;
    ewh_secret_t *secret; /* NULL unless loaded */
    node_store_t *store;
    int lock_fd; /* > 0 while this process holds the agent lock */
};

/* The directory from --dir, else $EWNODE_DIR, else NODE_DEFAULT_DIR. */
const char *node_dir_default(const char *arg);

/* Build "DIR/name" into out. */
void node_dir_file(const struct node_dir *d, const char *name, char *out,
                   size_t cap);

/* Check that the node directory is this user's and closed to group and
 * others (no 0077 bit), and that store.db, -wal and -shm, where present,
 * are regular files closed to them too.  With fix, a directory open to
 * others is chmod'ed 0700 instead (and *fixed set); a loose store file
 * is always refused.  -1 with err (EWH_E_PERM) naming the path, the mode
 * found and the fix. */
EWH_MUST_CHECK int node_dir_check_private(const char *path, bool fix,
                                          bool *fixed, struct ewh_err *err);

/* Create DIR/store.db empty with mode 0600 unless it exists, so that
 * SQLite (and its -wal, -shm) never make it wider, whatever the umask. */
EWH_MUST_CHECK int node_dir_store_create(const char *path, struct ewh_err *err);

/* Open an initialised directory (refused as node_dir_check_private()
 * says).  with_secret loads node.key. */
EWH_MUST_CHECK int node_dir_open(struct node_dir *d, const char *path,
                                 bool with_secret, struct ewh_err *err);
void node_dir_close(struct node_dir *d);

/* Take the agent's lock on the directory (a record lock on
 * DIR/ewnode.pid, which then holds our pid), held until node_dir_close()
 * or exit.  -1 with err "an agent already runs on this dir (pid N, DIR)"
 * when another process holds it. */
EWH_MUST_CHECK int node_dir_lock(struct node_dir *d, struct ewh_err *err);

/* The pid of the agent holding the directory's lock, or 0 when no agent
 * runs on it.  Takes no lock. */
long node_dir_agent_pid(const struct node_dir *d);

/* The roster held in the store, verified against the pinned hub key.
 * EWH_E_NOTFOUND when none has arrived.  Caller owns it. */
EWH_MUST_CHECK ewh_roster_t *node_dir_roster(struct node_dir *d,
                                             struct ewh_err *err);

/* ---- key changes (docs/operations.md) ---- */

/* Load DIR/name as a node secret of this country into *out; *out NULL
 * (and 0) when the file does not exist. */
EWH_MUST_CHECK int node_dir_load_key(struct node_dir *d, const char *name,
                                     ewh_secret_t **out, struct ewh_err *err);

/* Make node.key.new and node-CC.pub.new current: the old ones become
 * node.key.old and node-CC.pub.old.  node.key is replaced by rename, so
 * there is always a node.key. */
EWH_MUST_CHECK int node_dir_rekey_commit(struct node_dir *d,
                                         struct ewh_err *err);

/* Hub key rotation.  Remember next keys announced in a roster signed by
 * the pinned key (DIR/hub.pub.next); re-pin to them (hub.pub.next becomes
 * hub.pub, the old one hub.pub.old) once a roster verifies with them. */
EWH_MUST_CHECK int node_dir_hub_announce(struct node_dir *d,
                                         const uint8_t sign[32],
                                         const uint8_t curve[32],
                                         struct ewh_err *err);
EWH_MUST_CHECK int node_dir_hub_repin(struct node_dir *d, struct ewh_err *err);
/* The rotation was aborted (a roster from the pinned key names no next
 * keys): drop hub.pub.next. */
int node_dir_hub_forget_next(struct node_dir *d);

#endif
