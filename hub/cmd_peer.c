/* cmd_peer.c — ewhub peer add|remove|list: the peer hubs of other regions
 * (docs/federation.md, "Operations").
 *
 * Like enroll and revoke, each writes the store directly (WAL lets them
 * while the hub runs); the running hub notices the change within a quarter
 * second, connects to a new peer, cuts a removed one, and pushes a roster
 * naming its peers. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/log.h"
#include "ewh/util.h"

static const char s_usage[] =
    "usage: ewhub peer add [--dir DIR] --name REGION --endpoint "
    "tcp://HOST:PORT\n"
    "                      --key PEER-hub.pub\n"
    "       ewhub peer remove [--dir DIR] REGION\n"
    "       ewhub peer list [--dir DIR] [--json]\n"
    "  Peer hubs of other regions (docs/federation.md).  add enrols the\n"
    "  hub of REGION (its hub.pub, as its operator sent it) and the\n"
    "  endpoint where it listens; compare the fingerprint printed with the\n"
    "  peer's operator by telephone, as for nodes.  Both hubs must add\n"
    "  each other.  remove ends the peering: transfers still queued for\n"
    "  that peer are dropped (counted).  list shows the peers with their\n"
    "  fingerprints and what waits for each.\n";

static hub_store_t *
s_open(const char *dir)
{
    struct ewh_err err = {0};
    char path[4096];
    hub_store_t *st;

    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, 0, 0, &err)) == NULL)
        hub_cmd_fail("peer: %s (run 'ewhub init --dir %s' first?)", err.reason,
                     dir);
    return st;
}

/* This hub's region, from DIR/ewhub.conf. */
static int
s_region(const char *dir, char out[EWH_MAX_REGION_BYTES + 1])
{
    struct ewh_err err = {0};
    struct hub_config c;
    char path[4096];

    hub_cmd_path(dir, "ewhub.conf", path, sizeof(path));
    hub_config_defaults(&c);
    if (hub_config_load(path, &c, &err) != 0)
        return hub_cmd_fail("peer: %s", err.reason);
    snprintf(out, EWH_MAX_REGION_BYTES + 1, "%s", c.region);
    return 0;
}

static void
s_fingerprint(const struct hub_fed_peer_row *p, char fp[EWH_FINGERPRINT_CHARS])
{
    struct ewh_pubid id;

    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_HUB;
    memcpy(id.curve, p->curve, 32);
    memcpy(id.sign, p->sign, 32);
    memcpy(id.box, p->box, 32);
    ewh_pubid_fingerprint(&id, fp);
}

static int
s_add(const char *dir, const char *name, const char *endpoint,
      const char *keyfile)
{
    struct ewh_err err = {0};
    struct hub_fed_peer_row p;
    struct ewh_pubid id;
    char own[EWH_MAX_REGION_BYTES + 1], fp[EWH_FINGERPRINT_CHARS], path[4096];
    struct ewh_pubid self;
    hub_store_t *st;
    bool replaced = false;
    int rc = 0;

    if (!ewh_region_is_valid(name))
        return hub_cmd_usage(s_usage,
                             "peer add: --name '%.40s': expected 1 to %u of "
                             "a-z, 0-9 and '-'",
                             name, EWH_MAX_REGION_BYTES);
    if (strncmp(endpoint, "tcp://", 6) != 0 || strlen(endpoint) < 8 ||
        strlen(endpoint) >= HUB_FED_ENDPOINT_BYTES)
        return hub_cmd_usage(s_usage,
                             "peer add: --endpoint '%.64s': expected "
                             "tcp://HOST:PORT (at most %d characters)",
                             endpoint, HUB_FED_ENDPOINT_BYTES - 1);
    if (s_region(dir, own) != 0)
        return 1;
    if (strcmp(name, own) == 0)
        return hub_cmd_fail("peer add: %s is this hub's own region", name);
    if (ewh_pubid_load(keyfile, &id, &err) != 0)
        return hub_cmd_fail("peer add: %s", err.reason);
    if (id.kind != EWH_KIND_HUB)
        return hub_cmd_fail("peer add: %s is not a hub identity (hub.pub)",
                            keyfile);
    hub_cmd_path(dir, "hub.pub", path, sizeof(path));
    if (ewh_pubid_load(path, &self, &err) == 0 &&
        memcmp(self.curve, id.curve, 32) == 0)
        return hub_cmd_fail("peer add: %s is this hub's own key", keyfile);
    memset(&p, 0, sizeof(p));
    snprintf(p.region, sizeof(p.region), "%s", name);
    snprintf(p.endpoint, sizeof(p.endpoint), "%s", endpoint);
    memcpy(p.curve, id.curve, 32);
    memcpy(p.sign, id.sign, 32);
    memcpy(p.box, id.box, 32);
    p.added_at = ewh_now();
    if ((st = s_open(dir)) == NULL)
        return 1;
    if (hub_store_begin(st, &err) != 0 ||
        hub_store_fed_peer_put(st, &p, &replaced, &err) != 0 ||
        hub_store_commit(st, &err) != 0) {
        hub_store_rollback(st);
        rc = -1;
    }
    hub_store_close(&st);
    if (rc != 0)
        return hub_cmd_fail("peer add: %s", err.reason);
    s_fingerprint(&p, fp);
    printf("%s peer %s at %s: fingerprint %s\n"
           "Compare this fingerprint with %s's operator by telephone; they "
           "must add this\nhub too (region %s).\n",
           replaced ? "updated" : "added", name, endpoint, fp, name, own);
    ewh_log_info("peer: %s %s at %s fingerprint %s", name,
                 replaced ? "updated" : "added", endpoint, fp);
    return 0;
}

static int
s_remove(const char *dir, const char *name)
{
    struct ewh_err err = {0};
    hub_store_t *st;
    uint64_t dropped = 0;
    int rc = 0;

    if (!ewh_region_is_valid(name))
        return hub_cmd_usage(s_usage, "peer remove: '%.40s' is not a region",
                             name);
    if ((st = s_open(dir)) == NULL)
        return 1;
    if (hub_store_begin(st, &err) != 0 ||
        hub_store_fed_peer_remove(st, name, &dropped, &err) != 0 ||
        hub_store_commit(st, &err) != 0) {
        hub_store_rollback(st);
        rc = -1;
    }
    hub_store_close(&st);
    if (rc != 0)
        return hub_cmd_fail("peer remove: %s", err.reason);
    printf("removed peer %s; %llu queued transfers to it dropped%s\n", name,
           (unsigned long long)dropped,
           dropped > 0 ? " (the hub tells their origins: at once if it "
                         "runs, else when it starts)"
                       : "");
    ewh_log_info("peer: %s removed, %llu queued transfers dropped", name,
                 (unsigned long long)dropped);
    return 0;
}

struct s_list {
    hub_store_t *st;
    json_t *arr;
    bool json;
    int rc;
};

static int
s_list_one(void *ctx, const struct hub_fed_peer_row *p)
{
    struct s_list *l = ctx;
    struct ewh_err err = {0};
    char fp[EWH_FINGERPRINT_CHARS];
    uint64_t queued = 0, receipts = 0;

    if (hub_store_fed_out_queued(l->st, p->region, &queued, &err) != 0 ||
        hub_store_fed_relay_queued(l->st, p->region, &receipts, &err) != 0) {
        l->rc = hub_cmd_fail("peer list: %s", err.reason);
        return 1;
    }
    s_fingerprint(p, fp);
    if (l->json) {
        json_array_append_new(
            l->arr,
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "region", p->region,
                      "endpoint", p->endpoint, "fingerprint", fp, "added_at",
                      (json_int_t)p->added_at, "queued", (json_int_t)queued,
                      "receipts_waiting", (json_int_t)receipts));
    } else {
        printf("%-16s %-28s %s  queued %llu  receipts %llu\n", p->region,
               p->endpoint, fp, (unsigned long long)queued,
               (unsigned long long)receipts);
    }
    return 0;
}

static int
s_list(const char *dir, bool json)
{
    struct ewh_err err = {0};
    struct s_list l = {.json = json};
    char own[EWH_MAX_REGION_BYTES + 1];

    if (s_region(dir, own) != 0)
        return 1;
    if ((l.st = s_open(dir)) == NULL)
        return 1;
    l.arr = json_array();
    if (!json)
        printf("region %s; peers:\n", own);
    if (hub_store_fed_peer_walk(l.st, s_list_one, &l, &err) != 0)
        l.rc = hub_cmd_fail("peer list: %s", err.reason);
    hub_store_close(&l.st);
    if (l.rc == 0 && json) {
        json_t *o = json_pack("{s:s, s:O}", "region", own, "peers", l.arr);
        char *s = json_dumps(o, JSON_COMPACT);
        if (s != NULL)
            puts(s);
        free(s);
        json_decref(o);
    }
    json_decref(l.arr);
    return l.rc;
}

int
hub_cmd_peer(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"endpoint", required_argument, NULL, 'e'},
        {"key", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL, *name = NULL, *endpoint = NULL, *key = NULL, *sub;
    bool json = false;
    int c;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    sub = argv[1];
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return 0;
        default:
            fputs(s_usage, stderr);
            return 2;
        }
    }
    dir = hub_cmd_dir(dir);
    if (strcmp(sub, "add") == 0) {
        if (optind != argc)
            return hub_cmd_usage(s_usage, "peer add: unexpected '%s'",
                                 argv[optind]);
        if (name == NULL || endpoint == NULL || key == NULL)
            return hub_cmd_usage(s_usage, "peer add: --name, --endpoint and "
                                          "--key are required");
        return s_add(dir, name, endpoint, key);
    }
    if (strcmp(sub, "remove") == 0) {
        if (optind + 1 != argc)
            return hub_cmd_usage(s_usage, "peer remove: give one REGION");
        return s_remove(dir, argv[optind]);
    }
    if (strcmp(sub, "list") == 0) {
        if (optind != argc)
            return hub_cmd_usage(s_usage, "peer list: unexpected '%s'",
                                 argv[optind]);
        return s_list(dir, json);
    }
    return hub_cmd_usage(s_usage, "peer: unknown subcommand '%.32s'", sub);
}
