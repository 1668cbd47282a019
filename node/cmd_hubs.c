/*
 * cmd_hubs.c — ewnode hubs add|list|remove: the hubs this node uses
 * (issue 18, docs/redundancy.md).
 *
 * The list lives in the node store (table hubs, store.h), so these work
 * while the agent runs: it notices the change (PRAGMA data_version) and
 * opens or closes the session.  `list` adds what the running agent writes
 * in DIR/link.json "hubs" (connected, since, last frame, roster) to what
 * the store knows (accepted, lagging, refills).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "render.h"
#include "ewh/util.h"

/* "tcp://HOST:PORT": a host and a port 1..65535. */
static int
s_check_endpoint(const char *ep, struct ewh_err *err)
{
    const char *host = ep + 6, *colon;
    char *end = NULL;
    long port;

    if (strlen(ep) >= EWH_MAX_HUB_ENDPOINT_BYTES || strncmp(ep, "tcp://", 6))
        goto bad;
    colon = strrchr(host, ':');
    if (colon == NULL || colon == host || strpbrk(host, " \t/") != NULL)
        goto bad;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
        goto bad;
    return 0;
bad:
    return ewh_err_set(err, EWH_E_INVALID,
                       "--hub '%.64s': expected tcp://HOST:PORT (a port "
                       "1..65535, at most %u bytes)",
                       ep, EWH_MAX_HUB_ENDPOINT_BYTES - 1);
}

static int
s_add(const char *dir, const char *ep, const char *keyfile)
{
    struct ewh_err err = {0};
    struct ewh_pubid key;
    struct node_hub h;
    struct node_dir d;
    char fp[EWH_FINGERPRINT_CHARS];
    int64_t id = 0;
    size_t n = 0;

    if (ep == NULL || keyfile == NULL)
        return node_cmd_usage("hubs", "add needs --hub tcp://HOST:PORT and "
                                      "--hub-key FILE");
    if (s_check_endpoint(ep, &err) != 0)
        return node_cmd_fail("hubs add", &err);
    if (ewh_pubid_load(keyfile, &key, &err) != 0) {
        fprintf(stderr,
                "ewnode hubs add: --hub-key: not a public identity file "
                "(the hub's hub.pub): %s\n",
                err.reason);
        return 1;
    }
    if (key.kind != EWH_KIND_HUB) {
        fprintf(stderr,
                "ewnode hubs add: %s is a node's identity, not a hub's "
                "(the hub's hub.pub)\n",
                keyfile);
        return 1;
    }
    if (node_cmd_open_dir(&d, dir, false, "hubs add") != 0)
        return 1;
    if (node_store_hub_add(d.store, ep, &key, ewh_now(), &id, &err) != 0 ||
        node_store_hub_by_id(d.store, id, &h, &err) != 0 ||
        node_store_hubs_count(d.store, &n, &err) != 0) {
        node_dir_close(&d);
        return node_cmd_fail("hubs add", &err);
    }
    ewh_pubid_fingerprint(&key, fp);
    printf("hub %s added as #%lld of %zu (fingerprint %s)\n"
           "  compare the fingerprint with the hub's operator by "
           "telephone;\n"
           "  it is sent every report not yet receipted by all its "
           "addressees%s\n",
           ep, (long long)h.position, n, fp,
           node_dir_agent_pid(&d) != 0 ? " (the running agent connects now)"
                                       : " once `ewnode run` starts");
    node_dir_close(&d);
    return 0;
}

static int
s_remove(const char *dir, const char *ep)
{
    struct ewh_err err = {0};
    struct node_hub h;
    struct node_dir d;
    size_t n = 0;

    if (node_cmd_open_dir(&d, dir, false, "hubs remove") != 0)
        return 1;
    if (node_store_hub_get(d.store, ep, &h, &err) == 0 &&
        memcmp(h.key.sign, d.hub.sign, EWH_KEY_BYTES) == 0 &&
        node_store_hubs_count(d.store, &n, &err) == 0 && n > 1) {
        /* its roster and catalogue are the ones this node follows */
        fprintf(stderr,
                "ewnode hubs remove: %s is the pinned hub (DIR/hub.pub, "
                "ewnode.conf hub=): this node's roster and catalogue are "
                "verified with its key.  To retire it, pin another listed "
                "hub first (agent stopped: copy that hub's identity file "
                "over %s/hub.pub and set hub= in ewnode.conf to its "
                "endpoint), then remove this one\n",
                ep, d.path);
        node_dir_close(&d);
        return 1;
    }
    if (node_store_hub_remove(d.store, ep, &err) != 0 ||
        node_store_hubs_count(d.store, &n, &err) != 0) {
        node_dir_close(&d);
        return node_cmd_fail("hubs remove", &err);
    }
    printf("hub %s removed; %zu hub%s left", ep, n, n == 1 ? "" : "s");
    if (d.cfg.min_hubs > n)
        printf(" (min_hubs = %u in ewnode.conf is more: lower it)",
               d.cfg.min_hubs);
    printf("\n");
    node_dir_close(&d);
    return 0;
}

/* DIR/link.json "hubs" of the running agent, else NULL (no agent, or one
 * that does not write them). */
static json_t *
s_agent_hubs(struct node_dir *d, bool *running)
{
    char f[1200];
    json_t *o, *hubs, *pid;

    *running = node_dir_agent_pid(d) != 0;
    if (!*running)
        return NULL;
    node_dir_file(d, "link.json", f, sizeof(f));
    if ((o = json_load_file(f, 0, NULL)) == NULL)
        return NULL;
    pid = json_object_get(o, "pid");
    hubs = json_object_get(o, "hubs");
    if (!json_is_integer(pid) ||
        json_integer_value(pid) != (json_int_t)node_dir_agent_pid(d) ||
        !json_is_array(hubs)) {
        json_decref(o);
        return NULL;
    }
    json_incref(hubs);
    json_decref(o);
    return hubs;
}

static json_t *
s_agent_entry(json_t *hubs, const char *ep)
{
    size_t i;
    json_t *e;

    json_array_foreach(hubs, i, e)
    {
        json_t *v = json_object_get(e, "endpoint");
        if (json_is_string(v) && strcmp(json_string_value(v), ep) == 0)
            return e;
    }
    return NULL;
}

/* An agent field as text ("-" when absent). */
static const char *
s_field(json_t *e, const char *k, char *buf, size_t cap)
{
    json_t *v = e != NULL ? json_object_get(e, k) : NULL;
    char t[NODE_TIME_CHARS];

    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    if (json_is_integer(v)) {
        if (strcmp(k, "since") == 0 || strcmp(k, "last_frame_at") == 0) {
            if (json_integer_value(v) == 0)
                return "never";
            snprintf(buf, cap, "%s",
                     node_render_time(json_integer_value(v), t, sizeof(t)));
        } else
            snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_string(v)) {
        snprintf(buf, cap, "%s", json_string_value(v));
        return buf;
    }
    return "-";
}

static int
s_list(const char *dir, bool json)
{
    static const char *const agent_keys[] = {
        "connected",      "state",           "since",  "last_frame_at",
        "roster_version", "roster_mismatch", "reason", NULL};
    struct ewh_err err = {0};
    struct node_hub hubs[EWH_MAX_HUBS];
    struct node_hub_counts c[EWH_MAX_HUBS];
    int64_t refills[EWH_MAX_HUBS];
    struct node_dir d;
    json_t *ag;
    bool running = false;
    size_t n = 0, i, k;
    int64_t now = ewh_now_ms();
    char buf[64], t[NODE_TIME_CHARS];

    if (node_cmd_open_dir(&d, dir, false, "hubs list") != 0)
        return 1;
    if (node_store_hubs_list(d.store, hubs, EWH_MAX_HUBS, &n, &err) != 0)
        goto fail;
    for (i = 0; i < n; i++)
        if (node_store_hub_counts(d.store, hubs[i].id, now, &c[i], &err) != 0 ||
            node_store_hub_refills(d.store, hubs[i].id, &refills[i], &err) != 0)
            goto fail;
    ag = s_agent_hubs(&d, &running);
    if (json) {
        json_t *o = json_object(), *a = json_array();
        char *s;
        for (i = 0; i < n; i++) {
            json_t *e = json_object(), *x = s_agent_entry(ag, hubs[i].endpoint);
            json_object_set_new(e, "position", json_integer(hubs[i].position));
            json_object_set_new(e, "endpoint", json_string(hubs[i].endpoint));
            json_object_set_new(e, "fingerprint", json_string(hubs[i].fp));
            json_object_set_new(e, "added_at", json_integer(hubs[i].added_at));
            json_object_set_new(
                e, "pinned",
                json_boolean(
                    memcmp(hubs[i].key.sign, d.hub.sign, EWH_KEY_BYTES) == 0));
            json_object_set_new(e, "accepted", json_integer(c[i].accepted));
            json_object_set_new(e, "lagging", json_integer(c[i].lagging));
            json_object_set_new(e, "refills", json_integer(refills[i]));
            for (k = 0; agent_keys[k] != NULL; k++) {
                json_t *v =
                    x != NULL ? json_object_get(x, agent_keys[k]) : NULL;
                json_object_set(e, agent_keys[k], v != NULL ? v : json_null());
            }
            json_array_append_new(a, e);
        }
        json_object_set_new(o, "hubs", a);
        json_object_set_new(o, "min_hubs", json_integer(d.cfg.min_hubs));
        json_object_set_new(o, "agent_running", json_boolean(running));
        json_object_set_new(o, "agent_reports", json_boolean(ag != NULL));
        if ((s = json_dumps(o, JSON_COMPACT)) != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("%zu hub%s; a report counts as accepted once %u ha%s it "
               "(min_hubs)\n",
               n, n == 1 ? "" : "s", d.cfg.min_hubs,
               d.cfg.min_hubs == 1 ? "s" : "ve");
        for (i = 0; i < n; i++) {
            json_t *x = s_agent_entry(ag, hubs[i].endpoint);
            printf("#%zu %s  fingerprint %s  added %s%s\n", i, hubs[i].endpoint,
                   hubs[i].fp, node_render_time(hubs[i].added_at, t, sizeof(t)),
                   memcmp(hubs[i].key.sign, d.hub.sign, EWH_KEY_BYTES) == 0
                       ? "  (pinned: hub.pub)"
                       : "");
            printf("    accepted %lld  lagging %lld  refills %lld\n",
                   (long long)c[i].accepted, (long long)c[i].lagging,
                   (long long)refills[i]);
            if (x == NULL)
                continue;
            printf("    connected %s",
                   s_field(x, "connected", buf, sizeof(buf)));
            printf(" (%s)", s_field(x, "state", buf, sizeof(buf)));
            printf("  since %s", s_field(x, "since", buf, sizeof(buf)));
            printf("  last frame %s\n",
                   s_field(x, "last_frame_at", buf, sizeof(buf)));
            printf("    roster version %s",
                   s_field(x, "roster_version", buf, sizeof(buf)));
            printf("  roster mismatch %s\n",
                   s_field(x, "roster_mismatch", buf, sizeof(buf)));
            if (strcmp(s_field(x, "reason", buf, sizeof(buf)), "-") != 0 &&
                buf[0] != '\0')
                printf("    %s\n", buf);
        }
        if (!running)
            printf("the agent is not running (`ewnode run`): no link state "
                   "to show\n");
        else if (ag == NULL)
            printf("the agent runs but reports no per-hub link state "
                   "(DIR/link.json has no \"hubs\")\n");
        if (d.cfg.min_hubs > n)
            printf("min_hubs = %u in ewnode.conf is more than the hubs "
                   "listed: the agent refuses to start\n",
                   d.cfg.min_hubs);
    }
    json_decref(ag);
    node_dir_close(&d);
    return 0;
fail:
    node_dir_close(&d);
    return node_cmd_fail("hubs list", &err);
}

int
node_cmd_hubs(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"hub", required_argument, NULL, 'u'},
        {"hub-key", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL, *ep = NULL, *key = NULL, *sub;
    bool json = false;
    int ch;

    while ((ch = getopt_long(argc, argv, "d:u:k:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'u':
            ep = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            return node_cmd_help("hubs");
        default:
            return node_cmd_usage("hubs", "bad option");
        }
    }
    if (optind >= argc)
        return node_cmd_usage("hubs", "add, list or remove?");
    sub = argv[optind++];
    if (strcmp(sub, "add") == 0) {
        if (optind != argc || json)
            return node_cmd_usage("hubs", "add takes --hub and --hub-key "
                                          "only");
        return s_add(dir, ep, key);
    }
    if (ep != NULL || key != NULL)
        return node_cmd_usage("hubs", "--hub and --hub-key are for add");
    if (strcmp(sub, "list") == 0) {
        if (optind != argc)
            return node_cmd_usage("hubs", "list takes no argument");
        return s_list(dir, json);
    }
    if (strcmp(sub, "remove") == 0) {
        if (optind + 1 != argc || json)
            return node_cmd_usage("hubs", "remove takes one ENDPOINT "
                                          "(as `ewnode hubs list` shows it)");
        return s_remove(dir, argv[optind]);
    }
    return node_cmd_usage("hubs", "add, list or remove?");
}
