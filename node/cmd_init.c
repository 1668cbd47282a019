/* cmd_init.c — ewnode init: keys, config, store; pin the hub. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"

int
node_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"country", required_argument, NULL, 'c'},
        {"hub", required_argument, NULL, 'H'},
        {"hub-key", required_argument, NULL, 'k'},
        {"author", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL, *cc = NULL, *hub = NULL, *hubkey = NULL;
    const char *author = NULL;
    struct node_config cfg;
    struct node_dir d = {0};
    struct ewh_pubid hubid;
    struct ewh_err err = {0};
    ewh_secret_t *sec = NULL;
    node_store_t *st = NULL;
    char f[1200], fp[EWH_FINGERPRINT_CHARS], hfp[EWH_FINGERPRINT_CHARS];
    bool tightened = false;
    int c, rc = 1;

    while ((c = getopt_long(argc, argv, "d:c:H:k:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'c':
            cc = optarg;
            break;
        case 'H':
            hub = optarg;
            break;
        case 'k':
            hubkey = optarg;
            break;
        case 'a':
            author = optarg;
            break;
        case 'h':
            return node_cmd_help("init");
        default:
            return node_cmd_usage("init", "bad option");
        }
    }
    if (cc == NULL || hub == NULL || hubkey == NULL)
        return node_cmd_usage("init", "--country, --hub and --hub-key are "
                                      "required");
    if (optind != argc)
        return node_cmd_usage("init", "unexpected argument");
    if (!ewh_country_is_valid(cc)) {
        fprintf(stderr,
                "ewnode init: '%s' is not an ISO 3166-1 alpha-2 country "
                "code (upper case, e.g. RS)\n",
                cc);
        return 1;
    }
    if (strncmp(hub, "tcp://", 6) != 0 || strlen(hub) >= sizeof(cfg.hub)) {
        fprintf(stderr, "ewnode init: --hub must be tcp://HOST:PORT\n");
        return 1;
    }
    if (author != NULL && strlen(author) > EWH_MAX_AUTHOR_BYTES) {
        fprintf(stderr, "ewnode init: --author longer than %u bytes\n",
                EWH_MAX_AUTHOR_BYTES);
        return 1;
    }
    if (ewh_pubid_load(hubkey, &hubid, &err) != 0)
        return node_cmd_fail("init", &err);
    if (hubid.kind != EWH_KIND_HUB) {
        fprintf(stderr, "ewnode init: %s is not a hub identity\n", hubkey);
        return 1;
    }

    snprintf(d.path, sizeof(d.path), "%s", node_dir_default(dir));
    if (mkdir(d.path, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "ewnode init: %s: %s\n", d.path, strerror(errno));
        return 1;
    }
    /* A directory made beforehand (mkdir -m 755) is closed to others. */
    if (node_dir_check_private(d.path, true, &tightened, &err) != 0)
        return node_cmd_fail("init", &err);
    if (tightened)
        fprintf(stderr,
                "ewnode init: %s was open to group or others; set it to "
                "0700 (it will hold report plaintext)\n",
                d.path);
    node_dir_file(&d, "node.key", f, sizeof(f));
    if (access(f, F_OK) == 0) {
        fprintf(stderr,
                "ewnode init: %s already exists; refusing to replace this "
                "node's keys\n",
                f);
        return 1;
    }
    if ((sec = ewh_secret_generate(EWH_KIND_NODE, cc, &err)) == NULL ||
        ewh_secret_save(sec, f, &err) != 0)
        goto fail;
    snprintf(f, sizeof(f), "%s/node-%s.pub", d.path, cc);
    if (ewh_pubid_save(ewh_secret_pubid(sec), f, &err) != 0)
        goto fail;
    node_dir_file(&d, "hub.pub", f, sizeof(f));
    if (ewh_pubid_save(&hubid, f, &err) != 0)
        goto fail;
    node_config_defaults(&cfg);
    snprintf(cfg.country, sizeof(cfg.country), "%s", cc);
    snprintf(cfg.hub, sizeof(cfg.hub), "%s", hub);
    if (author != NULL)
        snprintf(cfg.author, sizeof(cfg.author), "%s", author);
    node_dir_file(&d, "ewnode.conf", f, sizeof(f));
    if (node_config_write(f, &cfg, &err) != 0)
        goto fail;
    node_dir_file(&d, "store.db", f, sizeof(f));
    if (node_dir_store_create(d.path, &err) != 0 ||
        (st = node_store_open(f, true, &err)) == NULL)
        goto fail;
    if (node_store_hubs_seed(st, hub, &hubid, &err) != 0) {
        node_store_close(&st);
        goto fail;
    }
    node_store_close(&st);

    ewh_pubid_fingerprint(ewh_secret_pubid(sec), fp);
    ewh_pubid_fingerprint(&hubid, hfp);
    printf("node %s initialised in %s\n"
           "fingerprint: %s\n"
           "public identity: %s/node-%s.pub\n"
           "  send it to the hub operator and compare the fingerprint by "
           "telephone.\n"
           "pinned hub: %s (fingerprint %s)\n",
           cc, d.path, fp, d.path, cc, hub, hfp);
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("init", &err);
out:
    ewh_secret_destroy(&sec);
    return rc;
}
