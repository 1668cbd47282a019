/* dir.c — the node's data directory and its config file. */
#include "dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ewh/config.h"
#include "ewh/keyfile.h"

const char *
node_dir_default(const char *arg)
{
    const char *env;

    if (arg != NULL && arg[0] != '\0')
        return arg;
    env = getenv("EWNODE_DIR");
    if (env != NULL && env[0] != '\0')
        return env;
    return NODE_DEFAULT_DIR;
}

void
node_dir_file(const struct node_dir *d, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", d->path, name);
}

void
node_config_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->credit = EWH_DEFAULT_CREDIT;
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
node_dir_write_config(const char *path, const struct node_config *cfg,
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
        "%sauthor = %s\n",
        cfg->country, cfg->hub, EWH_MAX_CREDIT, cfg->credit, cfg->reconnect_ms,
        cfg->reconnect_max_ms, cfg->heartbeat_ms, cfg->hook_timeout_s,
        cfg->author[0] ? "" : "# ", cfg->author);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return ewh_err_set(err, EWH_E_INVALID, "config too long");
    return ewh_keyfile_write(path, buf, (size_t)n, 0640, err);
}

int
node_dir_open(struct node_dir *d, const char *path, bool with_secret,
              struct ewh_err *err)
{
    char f[1200];
    struct stat sb;

    memset(d, 0, sizeof(*d));
    snprintf(d->path, sizeof(d->path), "%s", path);
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "%s: not a node directory (run `ewnode init "
                           "--dir %s` first)",
                           path, path);
    node_config_defaults(&d->cfg);
    node_dir_file(d, "ewnode.conf", f, sizeof(f));
    if (ewh_config_load(f, false, s_config_kv, &d->cfg, err) != 0)
        return -1;
    if (d->cfg.country[0] == '\0')
        return ewh_err_set(err, EWH_E_INVALID, "%s: no country set", f);
    node_dir_file(d, "hub.pub", f, sizeof(f));
    if (ewh_pubid_load(f, &d->hub, err) != 0)
        return -1;
    if (d->hub.kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID, "%s is not a hub identity", f);
    node_dir_file(d, "hub.pub.next", f, sizeof(f));
    if (access(f, F_OK) == 0) {
        if (ewh_pubid_load(f, &d->hub_next, err) != 0)
            return -1;
        d->has_hub_next = d->hub_next.kind == EWH_KIND_HUB;
    }
    if (with_secret) {
        node_dir_file(d, "node.key", f, sizeof(f));
        if ((d->secret = ewh_secret_load(f, err)) == NULL)
            return -1;
        if (strcmp(ewh_secret_pubid(d->secret)->country, d->cfg.country) != 0) {
            node_dir_close(d);
            return ewh_err_set(err, EWH_E_INVALID,
                               "node.key is for %s but ewnode.conf says %s",
                               ewh_secret_pubid(d->secret)->country,
                               d->cfg.country);
        }
    }
    node_dir_file(d, "store.db", f, sizeof(f));
    if ((d->store = node_store_open(f, true, err)) == NULL) {
        node_dir_close(d);
        return -1;
    }
    return 0;
}

void
node_dir_close(struct node_dir *d)
{
    node_store_close(&d->store);
    ewh_secret_destroy(&d->secret);
}

ewh_roster_t *
node_dir_roster(struct node_dir *d, struct ewh_err *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    ewh_roster_t *r;

    if (node_store_roster_get(d->store, &buf, &len, err) != 0)
        return NULL;
    r = ewh_roster_open(buf, len, d->hub.sign, err);
    free(buf);
    return r;
}

/* ---- key changes ---- */

int
node_dir_load_key(struct node_dir *d, const char *name, ewh_secret_t **out,
                  struct ewh_err *err)
{
    char f[1200];

    *out = NULL;
    node_dir_file(d, name, f, sizeof(f));
    if (access(f, F_OK) != 0)
        return 0;
    if ((*out = ewh_secret_load(f, err)) == NULL)
        return -1;
    if (strcmp(ewh_secret_pubid(*out)->country, d->cfg.country) != 0) {
        ewh_err_set(err, EWH_E_INVALID, "%s is for %s, not %s", f,
                    ewh_secret_pubid(*out)->country, d->cfg.country);
        ewh_secret_destroy(out);
        return -1;
    }
    return 0;
}

/* from becomes to (replacing it); the previous to is kept as keep (a hard
 * link), so that to exists at every moment. */
static int
s_rotate_file(struct node_dir *d, const char *from, const char *to,
              const char *keep, struct ewh_err *err)
{
    char a[1200], b[1200], c[1200];

    node_dir_file(d, from, a, sizeof(a));
    node_dir_file(d, to, b, sizeof(b));
    node_dir_file(d, keep, c, sizeof(c));
    (void)unlink(c);
    if (link(b, c) != 0 && errno != ENOENT)
        return ewh_err_set(err, EWH_E_IO, "link %s %s: %s", b, c,
                           strerror(errno));
    if (rename(a, b) != 0)
        return ewh_err_set(err, EWH_E_IO, "rename %s %s: %s", a, b,
                           strerror(errno));
    return 0;
}

static int
s_sync_dir(struct node_dir *d)
{
    FILE *f = fopen(d->path, "re");

    if (f == NULL)
        return -1;
    (void)fsync(fileno(f));
    fclose(f);
    return 0;
}

int
node_dir_rekey_commit(struct node_dir *d, struct ewh_err *err)
{
    char pub[64], pubnew[64], pubold[64];

    snprintf(pub, sizeof(pub), "node-%s.pub", d->cfg.country);
    snprintf(pubnew, sizeof(pubnew), "node-%s.pub.new", d->cfg.country);
    snprintf(pubold, sizeof(pubold), "node-%s.pub.old", d->cfg.country);
    if (s_rotate_file(d, "node.key.new", "node.key", "node.key.old", err) != 0)
        return -1;
    if (s_rotate_file(d, pubnew, pub, pubold, err) != 0)
        return -1;
    (void)s_sync_dir(d);
    return 0;
}

int
node_dir_hub_announce(struct node_dir *d, const uint8_t sign[32],
                      const uint8_t curve[32], struct ewh_err *err)
{
    struct ewh_pubid id;
    char f[1200];

    if (d->has_hub_next && memcmp(d->hub_next.sign, sign, 32) == 0 &&
        memcmp(d->hub_next.curve, curve, 32) == 0)
        return 0;
    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_HUB;
    memcpy(id.sign, sign, 32);
    memcpy(id.curve, curve, 32);
    node_dir_file(d, "hub.pub.next", f, sizeof(f));
    if (ewh_pubid_save(&id, f, err) != 0)
        return -1;
    d->hub_next = id;
    d->has_hub_next = true;
    return 0;
}

int
node_dir_hub_forget_next(struct node_dir *d)
{
    char f[1200];

    if (!d->has_hub_next)
        return 0;
    node_dir_file(d, "hub.pub.next", f, sizeof(f));
    d->has_hub_next = false;
    return unlink(f);
}

int
node_dir_hub_repin(struct node_dir *d, struct ewh_err *err)
{
    if (!d->has_hub_next)
        return ewh_err_set(err, EWH_E_INVALID, "no announced hub keys");
    if (s_rotate_file(d, "hub.pub.next", "hub.pub", "hub.pub.old", err) != 0)
        return -1;
    (void)s_sync_dir(d);
    d->hub = d->hub_next;
    d->has_hub_next = false;
    return 0;
}
