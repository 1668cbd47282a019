/* cmd_enroll.c — ewhub enroll and ewhub revoke: change the roster.
 *
 * Both write the store directly (WAL lets them while the hub runs) and bump
 * the roster version; the running hub notices within a quarter second,
 * pushes the new signed roster and cuts revoked or re-keyed nodes. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "ewh/identity.h"
#include "ewh/log.h"
#include "ewh/util.h"

/* The data dir, and the one argument in *arg; NULL with *exit_code set
 * (0 after --help, 2 on a usage error) when the command must stop. */
static const char *
s_parse(int argc, char **argv, const char *usage, const char **arg,
        bool *override, int *exit_code)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"override", no_argument, NULL, 'O'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int c;

    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'O':
            if (override != NULL) {
                *override = true;
                break;
            }
            fputs(usage, stderr);
            *exit_code = 2;
            return NULL;
        case 'h':
            printf("%s", usage);
            *exit_code = 0;
            return NULL;
        default:
            fputs(usage, stderr);
            *exit_code = 2;
            return NULL;
        }
    }
    if (optind + 1 != argc) {
        *exit_code = hub_cmd_usage(usage, "%s",
                                   optind == argc ? "missing argument"
                                                  : "too many arguments");
        return NULL;
    }
    *arg = argv[optind];
    return hub_cmd_dir(dir);
}

static hub_store_t *
s_open(const char *dir)
{
    struct ewh_err err = {0};
    char path[4096];
    hub_store_t *st;

    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, 0, 0, &err)) == NULL)
        hub_cmd_fail("%s (run 'ewhub init --dir %s' first?)", err.reason, dir);
    return st;
}

int
hub_cmd_enroll(int argc, char **argv)
{
    struct ewh_err err = {0};
    struct ewh_pubid id;
    hub_store_t *st;
    const char *file, *dir;
    char fp[EWH_FINGERPRINT_CHARS];
    bool override = false, revoked = false;
    enum hub_enrol_result res = HUB_ENROL_SAME;
    uint64_t v = 0;
    int rc = 0;

    dir = s_parse(argc, argv,
                  "usage: ewhub enroll [--dir DIR] [--override] FILE.pub\n"
                  "--override enrols key material the hub revoked; every "
                  "node then sees\nan unendorsed key change (docs/trust.md).\n",
                  &file, &override, &rc);
    if (dir == NULL)
        return rc;
    if (ewh_pubid_load(file, &id, &err) != 0)
        return hub_cmd_fail("enroll: %s", err.reason);
    if (id.kind != EWH_KIND_NODE)
        return hub_cmd_fail("enroll: %s is not a node identity", file);
    if ((st = s_open(dir)) == NULL)
        return 1;
    if (hub_store_node_enrol(st, &id, override, &res, &revoked, &err) != 0 ||
        hub_store_roster_version(st, &v, &err) != 0)
        rc = -1;
    hub_store_close(&st);
    if (rc != 0)
        return hub_cmd_fail("enroll: %s", err.reason);
    ewh_pubid_fingerprint(&id, fp);
    switch (res) {
    case HUB_ENROL_SAME:
        printf("%s already enrolled with these keys (fingerprint %s)\n",
               id.country, fp);
        return 0;
    case HUB_ENROL_NEW:
        printf("enrolled %s: fingerprint %s, roster version %llu\n"
               "Every node enrolled before sees %s as unverified until its "
               "liaison officer\ncompares this fingerprint by telephone "
               "(ewnode peers verify %s %s).\n",
               id.country, fp, (unsigned long long)v, id.country, id.country,
               fp);
        break;
    case HUB_ENROL_ENDORSED:
        printf("re-keyed %s: fingerprint %s, roster version %llu (endorsed "
               "by its previous key)\n",
               id.country, fp, (unsigned long long)v);
        break;
    case HUB_ENROL_UNENDORSED:
        printf("re-keyed %s%s: fingerprint %s, roster version %llu\n"
               "WARNING: not endorsed by %s's current key%s: every node "
               "marks %s unverified\nand seals nothing for it until its "
               "officer compares the fingerprint by telephone.\n",
               id.country, revoked ? " (revocation lifted)" : "", fp,
               (unsigned long long)v, id.country,
               revoked ? " (it was revoked)" : "", id.country);
        break;
    }
    if (override)
        ewh_log_warnx("enroll: %s enrolled with --override (revoked key "
                      "material allowed), fingerprint %s",
                      id.country, fp);
    ewh_log_info("enroll: %s %s fingerprint %s", id.country,
                 res == HUB_ENROL_NEW        ? "enrolled"
                 : res == HUB_ENROL_ENDORSED ? "re-keyed (endorsed)"
                                             : "re-keyed (unendorsed)",
                 fp);
    return 0;
}

int
hub_cmd_revoke(int argc, char **argv)
{
    struct ewh_err err = {0};
    hub_store_t *st;
    const char *cc, *dir;
    bool changed;
    uint64_t v = 0;
    int rc = 0;

    dir = s_parse(argc, argv, "usage: ewhub revoke [--dir DIR] CC\n", &cc, NULL,
                  &rc);
    if (dir == NULL)
        return rc;
    if (!ewh_country_is_valid(cc))
        return hub_cmd_fail("revoke: '%s' is not an ISO 3166-1 alpha-2 code "
                            "(upper case, e.g. RS)",
                            cc);
    if ((st = s_open(dir)) == NULL)
        return 1;
    if (hub_store_node_revoke(st, cc, &changed, &err) != 0 ||
        hub_store_roster_version(st, &v, &err) != 0)
        rc = -1;
    hub_store_close(&st);
    if (rc != 0)
        return hub_cmd_fail("revoke: %s", err.reason);
    if (changed) {
        printf("revoked %s: roster version %llu\n", cc, (unsigned long long)v);
        ewh_log_info("revoke: %s revoked", cc);
    } else {
        printf("%s was already revoked\n", cc);
    }
    return 0;
}
