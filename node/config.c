/* config.c — ewnode.conf: its keys, their checks and defaults. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ewh/config.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"

void
node_config_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->credit = EWH_DEFAULT_CREDIT;
    cfg->min_hubs = 1;
    cfg->reconnect_ms = NODE_DEFAULT_RECONNECT_MS;
    cfg->reconnect_max_ms = NODE_DEFAULT_RECONNECT_MAX_MS;
    cfg->heartbeat_ms = NODE_DEFAULT_HEARTBEAT_MS;
    cfg->hook_timeout_s = NODE_DEFAULT_HOOK_TIMEOUT;
    snprintf(cfg->exchange_due, sizeof(cfg->exchange_due), "%s",
             NODE_DEFAULT_EXCHANGE_DUE);
    cfg->exchange_remind_days = NODE_DEFAULT_REMIND_DAYS;
}

static int
s_config_kv(void *ctx, const char *section, const char *name, const char *value,
            struct ewh_err *err)
{
    struct node_config *cfg = ctx;
    uint64_t v;

    if (strcmp(section, "desk") == 0)
        return 0; /* the web console's own (node/cmd_desk.c) */
    if (strcmp(section, "node") != 0)
        return ewh_err_set(err, EWH_E_INVALID, "unknown section [%.32s]",
                           section);
    if (strcmp(name, "country") == 0) {
        if (!ewh_country_is_valid(value))
            return ewh_err_set(err, EWH_E_INVALID,
                               "country: '%.8s' is not an ISO 3166-1 "
                               "alpha-2 code",
                               value);
        snprintf(cfg->country, sizeof(cfg->country), "%s", value);
    } else if (strcmp(name, "hub") == 0) {
        if (strlen(value) >= sizeof(cfg->hub) ||
            strncmp(value, "tcp://", 6) != 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "hub: expected tcp://HOST:PORT");
        snprintf(cfg->hub, sizeof(cfg->hub), "%s", value);
    } else if (strcmp(name, "author") == 0) {
        if (strlen(value) > EWH_MAX_AUTHOR_BYTES)
            return ewh_err_set(err, EWH_E_TOOBIG, "author too long");
        snprintf(cfg->author, sizeof(cfg->author), "%s", value);
    } else if (strcmp(name, "credit") == 0) {
        if (ewh_config_uint(name, value, 1, EWH_MAX_CREDIT, &v, err) != 0)
            return -1;
        cfg->credit = (uint32_t)v;
    } else if (strcmp(name, "reconnect_ms") == 0) {
        if (ewh_config_uint(name, value, 10, 600000, &v, err) != 0)
            return -1;
        cfg->reconnect_ms = (uint32_t)v;
    } else if (strcmp(name, "reconnect_max_ms") == 0) {
        if (ewh_config_uint(name, value, 10, 3600000, &v, err) != 0)
            return -1;
        cfg->reconnect_max_ms = (uint32_t)v;
    } else if (strcmp(name, "heartbeat_ms") == 0) {
        if (ewh_config_uint(name, value, 100, 600000, &v, err) != 0)
            return -1;
        cfg->heartbeat_ms = (uint32_t)v;
    } else if (strcmp(name, "unverified") == 0) {
        /* docs/trust.md: seal for an unverified peer, or not. */
        if (strcmp(value, "refuse") == 0)
            cfg->unverified_warn = false;
        else if (strcmp(value, "warn") == 0)
            cfg->unverified_warn = true;
        else
            return ewh_err_set(err, EWH_E_INVALID,
                               "unverified: expected refuse or warn");
    } else if (strcmp(name, "metrics") == 0) {
        if (strlen(value) >= sizeof(cfg->metrics))
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "metrics: longer than %zu bytes",
                               sizeof(cfg->metrics) - 1);
        snprintf(cfg->metrics, sizeof(cfg->metrics), "%s", value);
    } else if (strcmp(name, "hook_timeout") == 0) {
        if (ewh_config_uint(name, value, 1, 3600, &v, err) != 0)
            return -1;
        cfg->hook_timeout_s = (uint32_t)v;
    } else if (strcmp(name, "exchange_due") == 0) {
        /* MM-DD */
        int mo = 0, dd = 0, nn = 0;
        if (strlen(value) != 5 ||
            sscanf(value, "%2d-%2d%n", &mo, &dd, &nn) != 2 || nn != 5 ||
            mo < 1 || mo > 12 || dd < 1 || dd > 31)
            return ewh_err_set(err, EWH_E_INVALID,
                               "exchange_due: expected MM-DD (e.g. 12-15)");
        snprintf(cfg->exchange_due, sizeof(cfg->exchange_due), "%s", value);
    } else if (strcmp(name, "min_hubs") == 0) {
        /* issue 18: accepted once this many hubs have it; checked
         * against the hubs listed when the agent starts */
        if (ewh_config_uint(name, value, 1, EWH_MAX_HUBS, &v, err) != 0)
            return -1;
        cfg->min_hubs = (uint32_t)v;
    } else if (strcmp(name, "exchange_remind_days") == 0) {
        if (ewh_config_uint(name, value, 0, 366, &v, err) != 0)
            return -1;
        cfg->exchange_remind_days = (uint32_t)v;
    } else
        return ewh_err_set(err, EWH_E_INVALID, "unknown setting '%.32s'", name);
    return 0;
}

int
node_config_set(struct node_config *cfg, const char *name, const char *value,
                struct ewh_err *err)
{
    return s_config_kv(cfg, "node", name, value, err);
}

int
node_config_load(const char *path, struct node_config *cfg, struct ewh_err *err)
{
    node_config_defaults(cfg);
    if (ewh_config_load(path, false, s_config_kv, cfg, err) != 0)
        return -1;
    if (cfg->country[0] == '\0')
        return ewh_err_set(err, EWH_E_INVALID, "%s: no country set", path);
    return 0;
}

int
node_config_write(const char *path, const struct node_config *cfg,
                  struct ewh_err *err)
{
    char buf[2048];
    int n;

    n = snprintf(
        buf, sizeof(buf),
        "# ewnode configuration.  See docs/usage.md.\n"
        "[node]\n"
        "# This node's country (ISO 3166-1 alpha-2).  Must match node.key.\n"
        "country = %s\n"
        "# The hub's endpoint.  Its identity is pinned in hub.pub.\n"
        "hub = %s\n"
        "# Further hubs: `ewnode hubs add` (docs/redundancy.md).  A report\n"
        "# counts as accepted once this many hubs have it (1..%u, at most\n"
        "# the hubs listed).\n"
        "# min_hubs = 1\n"
        "# Deliveries accepted in flight from the hub (1..%u).\n"
        "credit = %u\n"
        "# Reconnect backoff: first interval and ceiling, milliseconds.\n"
        "reconnect_ms = %u\n"
        "reconnect_max_ms = %u\n"
        "# ZeroMQ heartbeat interval, milliseconds (dead after 3x).\n"
        "heartbeat_ms = %u\n"
        "# Seconds a `watch --exec` hook may run before it is killed.\n"
        "hook_timeout = %u\n"
        "# Annual exchange on security forces (docs/exchange.md): the due\n"
        "# date (MM-DD) and how many days before it to remind.\n"
        "# exchange_due = 12-15\n"
        "# exchange_remind_days = 30\n"
        "# Default author name for submitted reports (optional).\n"
        "%sauthor = %s\n"
        "# Peers whose keys are unverified (docs/trust.md): refuse to seal\n"
        "# for them until `ewnode peers verify`, or warn and seal.\n"
        "unverified = %s\n"
        "# Serve the agent's Prometheus metrics on HOST:PORT (optional;\n"
        "# docs/operations.md, \"Node agent metrics\").\n"
        "# metrics = 127.0.0.1:9465\n",
        cfg->country, cfg->hub, EWH_MAX_HUBS, EWH_MAX_CREDIT, cfg->credit,
        cfg->reconnect_ms, cfg->reconnect_max_ms, cfg->heartbeat_ms,
        cfg->hook_timeout_s, cfg->author[0] ? "" : "# ", cfg->author,
        cfg->unverified_warn ? "warn" : "refuse");
    if (n < 0 || (size_t)n >= sizeof(buf))
        return ewh_err_set(err, EWH_E_INVALID, "config too long");
    return ewh_keyfile_write(path, buf, (size_t)n, 0640, err);
}

int
node_config_check_hubs(const struct node_config *cfg, size_t n_hubs,
                       struct ewh_err *err)
{
    if (cfg->min_hubs <= n_hubs)
        return 0;
    return ewh_err_set(err, EWH_E_INVALID,
                       "min_hubs = %u in ewnode.conf, but %zu hub%s listed: "
                       "a report could never count as accepted (add hubs "
                       "with `ewnode hubs add`, or lower min_hubs)",
                       cfg->min_hubs, n_hubs, n_hubs == 1 ? " is" : "s are");
}
