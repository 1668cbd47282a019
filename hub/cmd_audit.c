/* cmd_audit.c — ewhub audit verify: recompute the audit chain. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "rotate.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/log.h"

#define S_MAX_LINES 20 /* mismatches printed; all are counted */

static const char s_usage[] =
    "usage: ewhub audit verify [--dir DIR] [--json]\n"
    "  Recompute the audit hash chain from the genesis head, check every\n"
    "  stored envelope against its entry and every stored signed\n"
    "  checkpoint against the recomputed head and the hub key in force\n"
    "  when it was signed (the rotation chain: DIR/hub.pub.retired-N,\n"
    "  hub.pub.old, hub.pub).  Names the first entry\n"
    "  that does not match.  Exit 0: intact, 1: a mismatch or an error\n"
    "  (the message says which), 2: usage error.\n"
    "  Safe while the hub runs (a read transaction); the result and its\n"
    "  time are then recorded in the store for /metrics.\n";

int
hub_cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct hub_audit_result r;
    uint8_t(*keys)[32] = NULL;
    size_t n_keys = 0;
    hub_store_t *st;
    const char *dir = NULL;
    char path[4096];
    bool json = false;
    int c, rc;

    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        if (argc >= 2 &&
            (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            fputs(s_usage, stdout);
            return 0;
        }
        fputs(s_usage, stderr);
        return 2;
    }
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
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
    if (optind != argc)
        return hub_cmd_usage(s_usage, "audit: unexpected argument '%s'",
                             argv[optind]);
    dir = hub_cmd_dir(dir);
    /* Each checkpoint against the key in force when it was signed. */
    if ((keys = calloc(EWH_MAX_HUB_KEYS, sizeof(*keys))) == NULL)
        return hub_cmd_fail("audit: out of memory");
    if (hub_rotate_chain(dir, keys, EWH_MAX_HUB_KEYS, &n_keys, &err) != 0) {
        free(keys);
        return hub_cmd_fail("audit: %s", err.reason);
    }
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, 0, 0, &err)) == NULL) {
        free(keys);
        return hub_cmd_fail("audit: %s", err.reason);
    }
    /* One read transaction: a consistent view while the hub writes. */
    rc = hub_store_read_begin(st, &err) != 0 ||
                 hub_audit_verify(st, (const uint8_t(*)[32])keys, n_keys,
                                  json ? NULL : stdout, S_MAX_LINES, &r,
                                  &err) != 0
             ? -1
             : 0;
    hub_store_read_end(st);
    /* Recorded for /metrics (ewhub_audit_verify_last_*): the alert rules
     * want a verify that passed within the last day.  A user who may only
     * read the store still gets the verdict. */
    if (rc == 0) {
        struct ewh_err e2 = {0};
        if (hub_store_begin(st, &e2) != 0 ||
            hub_store_meta_set(st, "audit_verified_at", ewh_now(), &e2) != 0 ||
            hub_store_meta_set(st, "audit_verified_ok", r.problems == 0 ? 1 : 0,
                               &e2) != 0 ||
            hub_store_commit(st, &e2) != 0) {
            hub_store_rollback(st);
            ewh_log_warnx("audit: result not recorded in the store: %s",
                          e2.reason);
        }
    }
    hub_store_close(&st);
    free(keys);
    if (rc != 0)
        return hub_cmd_fail("audit: %s", err.reason);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(r.problems == 0));
        json_object_set_new(o, "entries", json_integer((json_int_t)r.entries));
        json_object_set_new(o, "envelopes",
                            json_integer((json_int_t)r.envelopes));
        json_object_set_new(o, "pruned", json_integer((json_int_t)r.pruned));
        json_object_set_new(o, "hub_keys", json_integer((json_int_t)n_keys));
        json_object_set_new(o, "checkpoints",
                            json_integer((json_int_t)r.checkpoints));
        json_object_set_new(o, "problems",
                            json_integer((json_int_t)r.problems));
        json_object_set_new(o, "first",
                            r.problems ? json_string(r.first) : json_null());
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else if (r.problems == 0) {
        printf("audit: OK: %llu entries, %llu envelopes checked, %llu "
               "removed by retention, %llu signed checkpoints\n",
               (unsigned long long)r.entries, (unsigned long long)r.envelopes,
               (unsigned long long)r.pruned, (unsigned long long)r.checkpoints);
    } else {
        printf("audit: FAILED: %llu problem(s) in %llu entries; first: %s\n",
               (unsigned long long)r.problems, (unsigned long long)r.entries,
               r.first);
    }
    return r.problems == 0 ? 0 : 1;
}
