/* cmd_rotate.c — ewhub rotate-keys: announce, commit or abort a rotation
 * of the hub's own keys. */
#include "rotate.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/limits.h"
#include "ewh/log.h"

static const char s_usage[] =
    "usage: ewhub rotate-keys [--dir DIR] [--commit | --abort]\n"
    "Rotate the hub's own keys in two steps:\n"
    "  (no option)  generate DIR/hub.key.next and hub.pub.next; the running\n"
    "               hub announces them in a roster signed with the current\n"
    "               key.  Wait until every node has it (ewhub status shows\n"
    "               each node's roster version).\n"
    "  --commit     with the hub stopped: make the next keys current (the\n"
    "               old ones are kept as hub.key.old, hub.pub.old, and the\n"
    "               old public key in the chain hub.pub.retired-N that\n"
    "               `ewhub audit verify` follows), then\n"
    "               start the hub.  Nodes switch to the announced keys.\n"
    "  --abort      forget the next keys before --commit.\n";

static bool
s_hub_running(const char *dir)
{
    struct ewh_err err = {0};
    char path[4096], *buf = NULL;
    size_t len;
    long pid;

    hub_cmd_path(dir, "ewhub.pid", path, sizeof(path));
    if (ewh_file_read(path, 64, &buf, &len, &err) != 0)
        return false;
    pid = strtol(buf, NULL, 10);
    free(buf);
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Bump the roster version into *v; prints the failure and returns -1. */
static int
s_bump(const char *dir, uint64_t *v)
{
    struct ewh_err err = {0};
    char path[4096];
    hub_store_t *st;
    int rc = 0;

    *v = 0;
    hub_cmd_path(dir, "store.db", path, sizeof(path));
    if ((st = hub_store_open(path, 0, 0, &err)) == NULL ||
        hub_store_roster_bump(st, v, &err) != 0)
        rc = -1;
    hub_store_close(&st);
    if (rc != 0)
        hub_cmd_fail("rotate-keys: %s", err.reason);
    return rc;
}

static int
s_chain_add(const char *path, uint8_t (*keys)[32], size_t cap, size_t *n,
            bool skip_dup, struct ewh_err *err)
{
    struct ewh_pubid id;
    size_t i;

    if (ewh_pubid_load(path, &id, err) != 0)
        return -1;
    if (id.kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID, "%s is not a hub identity",
                           path);
    for (i = 0; skip_dup && i < *n; i++)
        if (memcmp(keys[i], id.sign, 32) == 0)
            return 0;
    if (*n >= cap)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "more than %zu hub keys in the rotation chain "
                           "(EWH_MAX_HUB_KEYS)",
                           cap);
    memcpy(keys[(*n)++], id.sign, 32);
    return 0;
}

int
hub_rotate_chain(const char *dir, uint8_t (*keys)[32], size_t cap, size_t *n,
                 struct ewh_err *err)
{
    char path[4096], name[64];
    unsigned i;

    *n = 0;
    for (i = 1;; i++) {
        snprintf(name, sizeof(name), "hub.pub.retired-%u", i);
        hub_cmd_path(dir, name, path, sizeof(path));
        if (access(path, F_OK) != 0)
            break;
        if (s_chain_add(path, keys, cap, n, false, err) != 0)
            return -1;
    }
    hub_cmd_path(dir, "hub.pub.old", path, sizeof(path));
    if (access(path, F_OK) == 0 &&
        s_chain_add(path, keys, cap, n, true, err) != 0)
        return -1;
    hub_cmd_path(dir, "hub.pub", path, sizeof(path));
    return s_chain_add(path, keys, cap, n, false, err);
}

/* Keep the retiring public key in the chain: DIR/hub.pub.retired-N, N
 * the first free number.  -1 (said) when it cannot be written. */
static int
s_retire(const char *dir, const struct ewh_pubid *cur)
{
    struct ewh_err err = {0};
    char path[4096], name[64];
    unsigned i;

    for (i = 1; i <= EWH_MAX_HUB_KEYS; i++) {
        snprintf(name, sizeof(name), "hub.pub.retired-%u", i);
        hub_cmd_path(dir, name, path, sizeof(path));
        if (access(path, F_OK) != 0)
            break;
    }
    if (i > EWH_MAX_HUB_KEYS) {
        hub_cmd_fail("rotate-keys: %u hub keys retired already "
                     "(EWH_MAX_HUB_KEYS)",
                     EWH_MAX_HUB_KEYS);
        return -1;
    }
    if (ewh_pubid_save(cur, path, &err) != 0) {
        hub_cmd_fail("rotate-keys: %s", err.reason);
        return -1;
    }
    return 0;
}

static int
s_rename(const char *dir, const char *from, const char *to)
{
    char a[4096], b[4096];

    hub_cmd_path(dir, from, a, sizeof(a));
    hub_cmd_path(dir, to, b, sizeof(b));
    if (rename(a, b) != 0) {
        hub_cmd_fail("rotate-keys: rename %s %s: %s", a, b, strerror(errno));
        return -1;
    }
    return 0;
}

int
hub_cmd_rotate(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"commit", no_argument, NULL, 'c'},
                                         {"abort", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct ewh_pubid cur, next;
    ewh_secret_t *key = NULL;
    const char *dir = NULL;
    char path[4096], fp[EWH_FINGERPRINT_CHARS], fp2[EWH_FINGERPRINT_CHARS];
    int c, mode = 0;
    uint64_t v;

    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'c':
            mode = 1;
            break;
        case 'a':
            mode = 2;
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
        return hub_cmd_usage(s_usage, "rotate-keys: unexpected argument '%s'",
                             argv[optind]);
    dir = hub_cmd_dir(dir);
    hub_cmd_path(dir, "hub.pub", path, sizeof(path));
    if (ewh_pubid_load(path, &cur, &err) != 0)
        return hub_cmd_fail("rotate-keys: %s", err.reason);
    ewh_pubid_fingerprint(&cur, fp);
    hub_cmd_path(dir, "hub.pub.next", path, sizeof(path));

    if (mode == 0) {
        if (access(path, F_OK) == 0)
            return hub_cmd_fail("rotate-keys: a rotation is already "
                                "announced (%s); finish it with --commit or "
                                "undo it with --abort",
                                path);
        if ((key = ewh_secret_generate(EWH_KIND_HUB, NULL, &err)) == NULL)
            return hub_cmd_fail("rotate-keys: %s", err.reason);
        hub_cmd_path(dir, "hub.key.next", path, sizeof(path));
        if (ewh_secret_save(key, path, &err) != 0)
            goto fail;
        hub_cmd_path(dir, "hub.pub.next", path, sizeof(path));
        if (ewh_pubid_save(ewh_secret_pubid(key), path, &err) != 0)
            goto fail;
        ewh_pubid_fingerprint(ewh_secret_pubid(key), fp2);
        ewh_secret_destroy(&key);
        if (s_bump(dir, &v) != 0)
            return 1;
        printf("next hub keys written to %s/hub.key.next and hub.pub.next\n"
               "current fingerprint: %s\n"
               "next fingerprint:    %s\n"
               "roster version %llu announces them (signed with the current "
               "key).\n"
               "When every node runs roster version %llu or later (ewhub "
               "status),\n"
               "stop the hub, run 'ewhub rotate-keys --commit', start the "
               "hub.\n",
               dir, fp, fp2, (unsigned long long)v, (unsigned long long)v);
        ewh_log_info("rotate-keys: announced next hub fingerprint %s", fp2);
        return 0;
    }
    if (access(path, F_OK) != 0)
        return hub_cmd_fail("rotate-keys: no rotation announced (run "
                            "'ewhub rotate-keys' first)");
    if (mode == 2) {
        hub_cmd_path(dir, "hub.key.next", path, sizeof(path));
        (void)unlink(path);
        hub_cmd_path(dir, "hub.pub.next", path, sizeof(path));
        if (unlink(path) != 0)
            return hub_cmd_fail("rotate-keys: unlink %s: %s", path,
                                strerror(errno));
        if (s_bump(dir, &v) != 0)
            return 1;
        printf("rotation aborted; roster version %llu no longer names next "
               "keys\n",
               (unsigned long long)v);
        return 0;
    }
    if (s_hub_running(dir))
        return hub_cmd_fail("rotate-keys --commit: the hub is running on %s; "
                            "stop it first (systemctl stop ewhub)",
                            dir);
    hub_cmd_path(dir, "hub.key.next", path, sizeof(path));
    if ((key = ewh_secret_load(path, &err)) == NULL)
        return hub_cmd_fail("rotate-keys: %s", err.reason);
    hub_cmd_path(dir, "hub.pub.next", path, sizeof(path));
    if (ewh_pubid_load(path, &next, &err) != 0)
        goto fail;
    if (!ewh_pubid_equal(&next, ewh_secret_pubid(key))) {
        ewh_secret_destroy(&key);
        return hub_cmd_fail("rotate-keys: hub.key.next does not match "
                            "hub.pub.next");
    }
    ewh_secret_destroy(&key);
    if (s_retire(dir, &cur) != 0 ||
        s_rename(dir, "hub.key", "hub.key.old") != 0 ||
        s_rename(dir, "hub.pub", "hub.pub.old") != 0 ||
        s_rename(dir, "hub.key.next", "hub.key") != 0 ||
        s_rename(dir, "hub.pub.next", "hub.pub") != 0 || s_bump(dir, &v) != 0)
        return 1;
    ewh_pubid_fingerprint(&next, fp2);
    printf("hub keys rotated: fingerprint %s (was %s), roster version %llu\n"
           "start the hub; nodes that saw the announcement switch by "
           "themselves.\n"
           "A node that missed it needs the new %s/hub.pub by hand: stop "
           "its agent,\nreplace its hub.pub (compare the fingerprint by "
           "telephone), start it.\n",
           fp2, fp, (unsigned long long)v, dir);
    ewh_log_info("rotate-keys: committed hub fingerprint %s (was %s)", fp2, fp);
    return 0;
fail:
    ewh_secret_destroy(&key);
    return hub_cmd_fail("rotate-keys: %s", err.reason);
}
