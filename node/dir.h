/*
 * dir.h — the node's data directory: node.key, node-CC.pub, hub.pub,
 * ewnode.conf and store.db.
 *
 * node_dir_open() loads the config, the pinned hub identity and the store;
 * the secret key is loaded only when asked for (commands that sign or
 * open envelopes).
 */
#ifndef NODE_DIR_H
#define NODE_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/roster.h"
#include "store.h"

#define NODE_DEFAULT_DIR              "/var/lib/ewnode"
#define NODE_DEFAULT_HOOK_TIMEOUT     10  /* seconds, watch --exec */
#define NODE_DEFAULT_RECONNECT_MS     100 /* first reconnect interval */
#define NODE_DEFAULT_RECONNECT_MAX_MS 5000
#define NODE_DEFAULT_HEARTBEAT_MS     2000

struct node_config {
    char country[EWH_CC_BYTES];
    char hub[256];
    uint32_t credit;
    uint32_t reconnect_ms;
    uint32_t reconnect_max_ms;
    uint32_t heartbeat_ms;
    uint32_t hook_timeout_s;
    char author[EWH_MAX_AUTHOR_BYTES + 1];
};

struct node_dir {
    char path[1024];
    struct node_config cfg;
    struct ewh_pubid hub; /* pinned */
    ewh_secret_t *secret; /* NULL unless loaded */
    node_store_t *store;
};

/* The directory from --dir, else $EWNODE_DIR, else NODE_DEFAULT_DIR. */
const char *node_dir_default(const char *arg);

/* Build "DIR/name" into out. */
void node_dir_file(const struct node_dir *d, const char *name, char *out,
                   size_t cap);

/* Open an initialised directory.  with_secret loads node.key. */
EWH_MUST_CHECK int node_dir_open(struct node_dir *d, const char *path,
                                 bool with_secret, struct ewh_err *err);
void node_dir_close(struct node_dir *d);

/* Write a fresh commented ewnode.conf. */
EWH_MUST_CHECK int node_dir_write_config(const char *path,
                                         const struct node_config *cfg,
                                         struct ewh_err *err);
void node_config_defaults(struct node_config *cfg);

/* Set one [node] key with the same checks as the file (for flags that
 * override it); -1 with err for an unknown key or a bad value. */
EWH_MUST_CHECK int node_config_set(struct node_config *cfg, const char *name,
                                   const char *value, struct ewh_err *err);

/* The roster held in the store, verified against the pinned hub key.
 * EWH_E_NOTFOUND when none has arrived.  Caller owns it. */
EWH_MUST_CHECK ewh_roster_t *node_dir_roster(struct node_dir *d,
                                             struct ewh_err *err);

#endif
