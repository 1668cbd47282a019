/* mkroster.c — test helper: a stand-in hub identity and signed rosters,
 * so the node's commands can be tested without a running hub.
 *
 *   mkroster init HUBDIR                    hub.key + hub.pub in HUBDIR
 *   mkroster sign HUBDIR VERSION OUT [-r CC]... node-XX.pub...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/roster.h"

static int
s_die(const char *what, const struct ewh_err *err)
{
    fprintf(stderr, "mkroster: %s: %s\n", what, err ? err->reason : "");
    return 1;
}

int
main(int argc, char **argv)
{
    struct ewh_err err = {0};
    char path[1024];
    ewh_secret_t *hub = NULL;
    ewh_roster_t *r = NULL;
    uint8_t *out = NULL;
    size_t len = 0;
    const char *cats[64];
    size_t n_cats = 0;
    int i;

    if (sodium_init() < 0)
        return 1;
    if (argc == 3 && strcmp(argv[1], "init") == 0) {
        if ((hub = ewh_secret_generate(EWH_KIND_HUB, NULL, &err)) == NULL)
            return s_die("generate", &err);
        snprintf(path, sizeof(path), "%s/hub.key", argv[2]);
        if (ewh_secret_save(hub, path, &err) != 0)
            return s_die(path, &err);
        snprintf(path, sizeof(path), "%s/hub.pub", argv[2]);
        if (ewh_pubid_save(ewh_secret_pubid(hub), path, &err) != 0)
            return s_die(path, &err);
        ewh_secret_destroy(&hub);
        return 0;
    }
    if (argc < 5 || strcmp(argv[1], "sign") != 0) {
        fprintf(stderr,
                "usage: mkroster init HUBDIR | mkroster sign HUBDIR "
                "VERSION OUT [-r CC]... [-c CATEGORY]... node.pub...\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/hub.key", argv[2]);
    if ((hub = ewh_secret_load(path, &err)) == NULL)
        return s_die(path, &err);
    if ((r = ewh_roster_new(strtoull(argv[3], NULL, 10))) == NULL)
        return s_die("roster", NULL);
    for (i = 5; i < argc; i++) {
        struct ewh_pubid id;
        if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "-c") == 0)
            continue;
        if (i > 5 &&
            (strcmp(argv[i - 1], "-r") == 0 || strcmp(argv[i - 1], "-c") == 0))
            continue;
        if (ewh_pubid_load(argv[i], &id, &err) != 0)
            return s_die(argv[i], &err);
        if (ewh_roster_put(r, &id, false, &err) != 0)
            return s_die(argv[i], &err);
    }
    for (i = 5; i + 1 < argc; i++)
        if (strcmp(argv[i], "-r") == 0) {
            bool rev;
            const struct ewh_pubid *id = ewh_roster_find(r, argv[i + 1], &rev);
            struct ewh_pubid copy;
            if (id == NULL)
                return s_die(argv[i + 1], NULL);
            copy = *id;
            if (ewh_roster_put(r, &copy, true, &err) != 0)
                return s_die("revoke", &err);
        }
    for (i = 5; i + 1 < argc; i++)
        if (strcmp(argv[i], "-c") == 0 && n_cats < 64)
            cats[n_cats++] = argv[i + 1];
    if (n_cats > 0 && ewh_roster_set_categories(r, cats, n_cats, &err) != 0)
        return s_die("categories", &err);
    if (ewh_roster_sign(r, hub, &out, &len, &err) != 0)
        return s_die("sign", &err);
    if (ewh_keyfile_write(argv[4], out, len, 0644, &err) != 0)
        return s_die(argv[4], &err);
    free(out);
    ewh_roster_destroy(&r);
    ewh_secret_destroy(&hub);
    return 0;
}
