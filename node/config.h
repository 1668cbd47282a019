/*
 * config.h — ewnode.conf, the node's INI config file ([node] section;
 * docs/usage.md lists the keys).  Flags of `ewnode run` override keys
 * through node_config_set(), with the same checks as the file.
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/limits.h"
#include "ewh/util.h"

#define NODE_DEFAULT_HOOK_TIMEOUT     10  /* seconds, watch --exec */
#define NODE_DEFAULT_RECONNECT_MS     100 /* first reconnect interval */
#define NODE_DEFAULT_RECONNECT_MAX_MS 5000
#define NODE_DEFAULT_HEARTBEAT_MS     2000
#define NODE_DEFAULT_EXCHANGE_DUE     "12-15" /* Vienna Document: 15 Dec */
#define NODE_DEFAULT_REMIND_DAYS      30

struct node_config {
    char country[EWH_CC_BYTES];
    char hub[256];     /* hub #0 (the store lists every hub: store.h) */
    uint32_t min_hubs; /* accepted once this many hubs have it (1) */
    uint32_t credit;
    uint32_t reconnect_ms;
    uint32_t reconnect_max_ms;
    uint32_t heartbeat_ms;
    uint32_t hook_timeout_s;
    char author[EWH_MAX_AUTHOR_BYTES + 1];
    bool unverified_warn; /* unverified = warn (default refuse) */
    /* annual exchange (docs/exchange.md): due date MM-DD, reminder days */
    char exchange_due[6];
    uint32_t exchange_remind_days;
    char metrics[EWH_MAX_LISTEN_BYTES]; /* HOST:PORT of the agent's /metrics, ""
                                           none */
};

/* The defaults of every key (country and hub empty). */
void node_config_defaults(struct node_config *cfg);

/* Load path over the defaults: -1 with "FILE:LINE: reason" for an unknown
 * section or key or a bad value, or when no country is set.  A refused
 * file leaves *cfg partly loaded: do not use it. */
EWH_MUST_CHECK int node_config_load(const char *path, struct node_config *cfg,
                                    struct ewh_err *err);

/* Write a fresh commented ewnode.conf (mode 0640, by rename). */
EWH_MUST_CHECK int node_config_write(const char *path,
                                     const struct node_config *cfg,
                                     struct ewh_err *err);

/* Set one [node] key with the same checks as the file (for flags that
 * override it); -1 with err for an unknown key or a bad value. */
EWH_MUST_CHECK int node_config_set(struct node_config *cfg, const char *name,
                                   const char *value, struct ewh_err *err);

/* min_hubs against the hubs listed (the agent at start): -1 with err
 * saying both when min_hubs is larger. */
EWH_MUST_CHECK int node_config_check_hubs(const struct node_config *cfg,
                                          size_t n_hubs, struct ewh_err *err);

#endif
