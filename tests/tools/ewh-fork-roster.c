/* ewh-fork-roster.c — test tool: play a compromised hub that shows two
 * countries two different rosters of one version (a split view,
 * docs/trust.md), signed with the hub's genuine key.
 *
 *   ewh-fork-roster HUBDIR IN OUT_A OUT_B
 *   ewh-fork-roster --unlinked HUBDIR IN OUT
 *
 * IN is a roster the hub signed (version v); OUT_A and OUT_B are two
 * rosters of version v + 1 that both link to IN (prev_hash) and differ in
 * their categories, so their hashes differ.  --unlinked writes one roster
 * of version v + 1 that names version v with another hash (its chain does
 * not link). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/roster.h"
#include "ewh/util.h"

static int
s_die(const char *what, const struct ewh_err *err)
{
    fprintf(stderr, "ewh-fork-roster: %s: %s\n", what, err ? err->reason : "");
    return 1;
}

static int
s_write(const ewh_roster_t *in, const ewh_secret_t *hub, size_t n_cats,
        bool unlinked, const char *out)
{
    uint8_t prev[EWH_ROSTER_HASH_BYTES];
    struct ewh_err err = {0};
    const char *cats[EWH_MAX_CATEGORIES];
    ewh_roster_t *r = ewh_roster_new(ewh_roster_version(in) + 1);
    uint8_t *buf = NULL;
    size_t i, len = 0;
    bool revoked;
    int rc;

    if (r == NULL)
        return s_die("roster", NULL);
    for (i = 0; i < ewh_roster_count(in); i++) {
        const struct ewh_pubid *id = ewh_roster_at(in, i, &revoked);
        if (ewh_roster_put(r, id, revoked, &err) != 0)
            return s_die("put", &err);
    }
    for (i = 0; i < n_cats; i++)
        cats[i] = ewh_default_categories[i];
    if (ewh_roster_set_categories(r, cats, n_cats, &err) != 0)
        return s_die("categories", &err);
    memcpy(prev, ewh_roster_hash(in), sizeof(prev));
    if (unlinked)
        prev[0] ^= 0x01;
    ewh_roster_set_prev(r, ewh_roster_version(in), prev);
    if (ewh_roster_sign(r, hub, &buf, &len, &err) != 0)
        return s_die("sign", &err);
    rc = ewh_keyfile_write(out, (const char *)buf, len, 0644, &err);
    free(buf);
    ewh_roster_destroy(&r);
    return rc != 0 ? s_die(out, &err) : 0;
}

int
main(int argc, char **argv)
{
    struct ewh_err err = {0};
    char path[1024], *buf = NULL;
    size_t len = 0;
    ewh_secret_t *hub = NULL;
    ewh_roster_t *in = NULL;

    bool unlinked = argc == 5 && strcmp(argv[1], "--unlinked") == 0;

    if (sodium_init() < 0)
        return 1;
    if (unlinked) {
        argv++;
        argc--;
    }
    if (argc != 5 - (unlinked ? 1 : 0)) {
        fprintf(stderr, "usage: ewh-fork-roster [--unlinked] HUBDIR IN "
                        "OUT_A [OUT_B]\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/hub.key", argv[1]);
    if ((hub = ewh_secret_load(path, &err)) == NULL)
        return s_die(path, &err);
    if (ewh_file_read(argv[2], EWH_MAX_ROSTER_BYTES, &buf, &len, &err) != 0)
        return s_die(argv[2], &err);
    if ((in = ewh_roster_open((const uint8_t *)buf, len,
                              ewh_secret_pubid(hub)->sign, &err)) == NULL)
        return s_die(argv[2], &err);
    free(buf);
    if (unlinked ? s_write(in, hub, 3, true, argv[3]) != 0
                 : (s_write(in, hub, 3, false, argv[3]) != 0 ||
                    s_write(in, hub, 2, false, argv[4]) != 0))
        return 1;
    ewh_roster_destroy(&in);
    ewh_secret_destroy(&hub);
    return 0;
}
