/* cmd_roster.c — ewhub roster export / import: share enrolments,
 * revocations and re-keys between the hubs of one region without typing
 * them twice (docs/roster-sharing.md). */
#include "cmd.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "rosterimport.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/roster.h"
#include "ewh/util.h"

/* ewhub roster import's exit statuses (docs/roster-sharing.md). */
#define S_EXIT_REFUSED 3 /* a change key continuity does not explain */
#define S_EXIT_STALE   4 /* older than (or a fork of) a roster imported */
#define S_EXIT_FORGED  5 /* not a roster signed by --from-key */

static const char s_usage[] =
    "usage: ewhub roster export [--dir DIR] --out FILE|- [--wait SECONDS]\n"
    "       ewhub roster import [--dir DIR] --from-key OTHER-hub.pub\n"
    "                           [--dry-run] [--accept-unendorsed] FILE\n"
    "  export writes the roster this hub signed last (the one its nodes\n"
    "  hold), waiting up to --wait seconds (default 10) for the running\n"
    "  hub to sign a change made just before.\n"
    "  import verifies FILE against the other hub's key and applies what\n"
    "  differs under key continuity: countries new here are enrolled,\n"
    "  revocations applied, re-keys taken only when endorsed by the key\n"
    "  this hub holds.  Nothing imported lifts a revocation or replaces a\n"
    "  newer key.  --dry-run says what it would do and changes nothing.\n"
    "  exit status: 0 done (or nothing to do), 1 failure, 2 usage error,\n"
    "  3 refused: a key change no endorsement explains (or keys this hub\n"
    "  revoked), 4 older than a roster already imported from that hub (or\n"
    "  another roster of the same version), 5 FILE is not a roster signed\n"
    "  by --from-key.  Every refusal leaves this hub unchanged.\n";

static hub_store_t *
s_open(const char *dir, struct ewh_err *err)
{
    char path[4096];

    hub_cmd_path(dir, "store.db", path, sizeof(path));
    return hub_store_open(path, 0, 0, err);
}

static int
s_own_key(const char *dir, struct ewh_pubid *own, struct ewh_err *err)
{
    char path[4096];

    hub_cmd_path(dir, "hub.pub", path, sizeof(path));
    return ewh_pubid_load(path, own, err);
}

/* ---- export ---- */

static int
s_export(const char *dir, const char *out, int64_t wait_s)
{
    struct ewh_err err = {0};
    struct ewh_pubid own;
    hub_store_t *st = NULL;
    ewh_roster_t *r = NULL;
    uint8_t *buf = NULL, hash[32];
    size_t len = 0;
    uint64_t v = 0, kept = 0;
    int64_t deadline = ewh_mono_ms() + wait_s * 1000;
    bool found = false;
    int rc = 1;

    if (s_own_key(dir, &own, &err) != 0)
        return hub_cmd_fail("roster export: %s", err.reason);
    if ((st = s_open(dir, &err)) == NULL)
        return hub_cmd_fail("roster export: %s (run 'ewhub init --dir %s' "
                            "first?)",
                            err.reason, dir);
    /* The running hub signs each version of the store's roster once
     * (hub/rosterpush.c); the export is that signed roster, never a second
     * one of the same version. */
    for (;;) {
        if (hub_store_roster_version(st, &v, &err) != 0 ||
            hub_store_roster_signed_before(st, (uint64_t)INT64_MAX, &found,
                                           &kept, hash, &err) != 0) {
            hub_cmd_fail("roster export: %s", err.reason);
            goto out;
        }
        if (found && kept >= v)
            break;
        if (ewh_mono_ms() >= deadline) {
            hub_cmd_fail("roster export: roster version %llu is not signed "
                         "yet (the newest signed is %llu): is 'ewhub run' "
                         "running for %s?  It signs a change within a "
                         "second; try again, or --wait longer",
                         (unsigned long long)v, (unsigned long long)kept, dir);
            goto out;
        }
        {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (hub_store_roster_signed_get(st, kept, &buf, &len, &err) != 0) {
        hub_cmd_fail("roster export: %s", err.reason);
        goto out;
    }
    if ((r = ewh_roster_open(buf, len, own.sign, &err)) == NULL) {
        hub_cmd_fail("roster export: the roster signed last (version %llu) "
                     "does not verify with this hub's key %s/hub.pub (%s): "
                     "after a key rotation, wait for the hub to sign a new "
                     "version",
                     (unsigned long long)kept, dir, err.reason);
        goto out;
    }
    if (strcmp(out, "-") == 0) {
        /* To stdout (ssh A 'ewhub roster export --out -' > file); the
         * line for people goes to stderr then. */
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
            hub_cmd_fail("roster export: writing to stdout failed");
            goto out;
        }
    } else if (ewh_keyfile_write(out, buf, len, 0644, &err) != 0) {
        hub_cmd_fail("roster export: %s", err.reason);
        goto out;
    }
    fprintf(strcmp(out, "-") == 0 ? stderr : stdout,
            "exported roster version %llu: %zu countries, %zu bytes, to %s\n",
            (unsigned long long)kept, ewh_roster_count(r), len,
            strcmp(out, "-") == 0 ? "stdout" : out);
    ewh_log_info("roster export: version %llu (%zu countries) to %s",
                 (unsigned long long)kept, ewh_roster_count(r), out);
    rc = 0;
out:
    ewh_roster_destroy(&r);
    free(buf);
    hub_store_close(&st);
    return rc;
}

/* ---- import ---- */

/* Is category c among r's? */
static bool
s_has_cat(const ewh_roster_t *r, const char *c)
{
    size_t i;

    for (i = 0; i < ewh_roster_category_count(r); i++)
        if (strcmp(ewh_roster_category(r, i), c) == 0)
            return true;
    return false;
}

/* The categories are each hub's config, not shared: say so when they
 * differ from those in the roster this hub signed last (a report one hub
 * accepts the other would refuse). */
static void
s_categories_warn(hub_store_t *st, const struct ewh_pubid *own,
                  const ewh_roster_t *from)
{
    struct ewh_err e = {0};
    ewh_roster_t *mine = NULL;
    uint8_t *buf = NULL, hash[32];
    uint64_t kv = 0;
    size_t len = 0, i;
    bool found = false, same = true;

    if (hub_store_roster_signed_before(st, (uint64_t)INT64_MAX, &found, &kv,
                                       hash, &e) != 0 ||
        !found || hub_store_roster_signed_get(st, kv, &buf, &len, &e) != 0 ||
        (mine = ewh_roster_open(buf, len, own->sign, &e)) == NULL)
        goto out;
    for (i = 0; same && i < ewh_roster_category_count(from); i++)
        same = s_has_cat(mine, ewh_roster_category(from, i));
    for (i = 0; same && i < ewh_roster_category_count(mine); i++)
        same = s_has_cat(from, ewh_roster_category(mine, i));
    if (same)
        goto out;
    printf("  WARNING: the report categories differ (the other hub: ");
    for (i = 0; i < ewh_roster_category_count(from); i++)
        printf("%s%s", i ? ", " : "", ewh_roster_category(from, i));
    printf("; this hub: ");
    for (i = 0; i < ewh_roster_category_count(mine); i++)
        printf("%s%s", i ? ", " : "", ewh_roster_category(mine, i));
    printf("): they are not imported; keep [roster] categories equal in "
           "both ewhub.conf, or a report one hub accepts the other "
           "refuses\n");
out:
    ewh_roster_destroy(&mine);
    free(buf);
}

struct s_import {
    const char *dir, *file, *from_key;
    bool dry_run, accept;
};

static int
s_import(const struct s_import *o)
{
    struct ewh_err err = {0};
    struct ewh_pubid own, from_id;
    struct hub_import_op *ops = NULL;
    struct hub_import_rec rec, prev;
    hub_store_t *st = NULL;
    ewh_roster_t *from = NULL, *here = NULL;
    char *buf = NULL, fp[EWH_FINGERPRINT_CHARS], line[600];
    size_t len = 0, n = 0, refused = 0, changes = 0, kept = 0, only = 0, i;
    uint64_t v = 0;
    bool found = false, in_tx = false;
    int rc = 1;

    if (ewh_pubid_load(o->from_key, &from_id, &err) != 0)
        return hub_cmd_fail("roster import: %s", err.reason);
    if (from_id.kind != EWH_KIND_HUB)
        return hub_cmd_usage(s_usage,
                             "roster import: %s is not a hub's public "
                             "identity (hub.pub)",
                             o->from_key);
    if (s_own_key(o->dir, &own, &err) != 0)
        return hub_cmd_fail("roster import: %s", err.reason);
    if (memcmp(own.sign, from_id.sign, 32) == 0)
        return hub_cmd_usage(s_usage,
                             "roster import: %s is this hub's own key; "
                             "--from-key names the hub that exported FILE",
                             o->from_key);
    ewh_pubid_fingerprint(&from_id, fp);
    /* Check the file first: a forged or damaged one changes nothing. */
    if (ewh_file_read(o->file, EWH_MAX_ROSTER_BYTES, &buf, &len, &err) != 0)
        return hub_cmd_fail("roster import: %s", err.reason);
    if ((from = ewh_roster_open((const uint8_t *)buf, len, from_id.sign,
                                &err)) == NULL) {
        free(buf);
        hub_cmd_fail("roster import: %s is not a roster signed by the hub "
                     "of %s (fingerprint %s): %s; nothing changed",
                     o->file, o->from_key, fp, err.reason);
        return S_EXIT_FORGED;
    }
    free(buf);
    buf = NULL;
    if ((ops = calloc(HUB_IMPORT_MAX_OPS, sizeof(*ops))) == NULL) {
        hub_cmd_fail("roster import: out of memory");
        goto out;
    }
    if ((st = s_open(o->dir, &err)) == NULL) {
        hub_cmd_fail("roster import: %s", err.reason);
        goto out;
    }
    /* One write transaction: the roster read, the plan and every change
     * (all or nothing; the dry run rolls it back). */
    if (hub_store_begin(st, &err) != 0) {
        hub_cmd_fail("roster import: %s", err.reason);
        goto out;
    }
    in_tx = true;
    if (hub_store_import_get(st, from_id.sign, &found, &prev, &err) != 0 ||
        hub_store_roster_load(st, &here, &err) != 0) {
        hub_cmd_fail("roster import: %s", err.reason);
        goto out;
    }
    if (found && ewh_roster_version(from) < prev.version) {
        hub_cmd_fail("roster import: %s is roster version %llu of hub %s, "
                     "older than version %llu imported before: a stale "
                     "file; export it again; nothing changed",
                     o->file, (unsigned long long)ewh_roster_version(from), fp,
                     (unsigned long long)prev.version);
        rc = S_EXIT_STALE;
        goto out;
    }
    if (found && ewh_roster_version(from) == prev.version &&
        sodium_memcmp(prev.hash, ewh_roster_hash(from), 32) != 0) {
        hub_cmd_fail("roster import: hub %s signed two different rosters of "
                     "version %llu (the one imported before and %s): a hub "
                     "never does that (docs/trust.md); keep both files as "
                     "evidence; nothing changed",
                     fp, (unsigned long long)prev.version, o->file);
        ewh_log_errx("roster import: hub %s signed two rosters of version "
                     "%llu",
                     fp, (unsigned long long)prev.version);
        rc = S_EXIT_STALE;
        goto out;
    }
    if (hub_import_plan(here, from, o->accept, ops, HUB_IMPORT_MAX_OPS, &n,
                        &refused, &err) != 0) {
        hub_cmd_fail("roster import: %s", err.reason);
        goto out;
    }
    printf("roster import%s from hub %s (its roster version %llu, %zu "
           "countries):\n",
           o->dry_run ? " (dry run)" : "", fp,
           (unsigned long long)ewh_roster_version(from),
           ewh_roster_count(from));
    for (i = 0; i < n; i++) {
        hub_import_describe(&ops[i], line, sizeof(line));
        printf("  %s\n", line);
        if (!hub_import_is_change(ops[i].kind))
            kept++;
        if (ops[i].kind == HUB_IMPORT_KEEP_ONLY_HERE)
            only++;
    }
    s_categories_warn(st, &own, from);
    if (refused > 0) {
        hub_cmd_fail("roster import: refused: %zu key change(s) that no "
                     "endorsement by the key this hub holds explains (see "
                     "REFUSED above); nothing changed",
                     refused);
        ewh_log_warnx("roster import: from hub %s refused: %zu unendorsed key "
                      "change(s)",
                      fp, refused);
        rc = S_EXIT_REFUSED;
        goto out;
    }
    if (hub_import_apply(st, ops, n, &changes, &err) != 0) {
        bool cont = err.code == EWH_E_REVOKED || err.code == EWH_E_SIGNATURE;
        hub_cmd_fail("roster import: refused: %s; nothing changed", err.reason);
        rc = cont ? S_EXIT_REFUSED : 1;
        goto out;
    }
    memset(&rec, 0, sizeof(rec));
    memcpy(rec.from_sign, from_id.sign, 32);
    memcpy(rec.from_curve, from_id.curve, 32);
    rec.version = ewh_roster_version(from);
    memcpy(rec.hash, ewh_roster_hash(from), 32);
    rec.at = ewh_now();
    rec.changes = changes;
    if (hub_store_import_put(st, &rec, &err) != 0 ||
        hub_store_roster_version(st, &v, &err) != 0) {
        hub_cmd_fail("roster import: %s; nothing changed", err.reason);
        goto out;
    }
    if (o->dry_run) {
        printf("dry run: %zu change(s) would be made, %zu kept as they "
               "are; nothing changed\n",
               changes, kept);
        rc = 0;
        goto out;
    }
    if (hub_store_commit(st, &err) != 0) {
        hub_cmd_fail("roster import: %s; nothing changed", err.reason);
        goto out;
    }
    in_tx = false;
    for (i = 0; i < n; i++) {
        if (!hub_import_is_change(ops[i].kind))
            continue;
        hub_import_describe(&ops[i], line, sizeof(line));
        if (ops[i].kind == HUB_IMPORT_REKEY_UNENDORSED)
            ewh_log_warnx("roster import: from hub %s: %s", fp, line);
        else
            ewh_log_info("roster import: from hub %s: %s", fp, line);
    }
    printf("imported: %zu change(s), %zu kept as they are, %zu "
           "countries already in step; roster version now %llu\n",
           changes, kept, ewh_roster_count(from) - (n - only),
           (unsigned long long)v);
    rc = 0;
out:
    if (in_tx)
        hub_store_rollback(st);
    hub_store_close(&st);
    ewh_roster_destroy(&here);
    ewh_roster_destroy(&from);
    free(ops);
    return rc;
}

int
hub_cmd_roster(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"out", required_argument, NULL, 'o'},
        {"wait", required_argument, NULL, 'w'},
        {"from-key", required_argument, NULL, 'k'},
        {"dry-run", no_argument, NULL, 'n'},
        {"accept-unendorsed", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct s_import o = {0};
    const char *sub, *dir = NULL, *out = NULL, *wait = NULL;
    int64_t wait_s = 10;
    bool exp;
    int c;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    sub = argv[1];
    if (strcmp(sub, "export") != 0 && strcmp(sub, "import") != 0)
        return hub_cmd_usage(s_usage, "roster: unknown subcommand '%s'", sub);
    exp = strcmp(sub, "export") == 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'w':
            wait = optarg;
            break;
        case 'k':
            o.from_key = optarg;
            break;
        case 'n':
            o.dry_run = true;
            break;
        case 'A':
            o.accept = true;
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
    if (exp) {
        if (o.from_key != NULL || o.dry_run || o.accept)
            return hub_cmd_usage(s_usage, "roster export: --from-key, "
                                          "--dry-run and --accept-unendorsed "
                                          "are import options");
        if (out == NULL || optind != argc)
            return hub_cmd_usage(s_usage, "roster export: %s",
                                 out == NULL ? "--out FILE is required"
                                             : "unexpected argument");
        if (wait != NULL && strcmp(wait, "0") != 0 &&
            ewh_duration_parse(wait, 3600, &wait_s, &err) != 0)
            return hub_cmd_usage(s_usage, "roster export: --wait: %s",
                                 err.reason);
        if (wait != NULL && strcmp(wait, "0") == 0)
            wait_s = 0;
        return s_export(dir, out, wait_s);
    }
    if (out != NULL || wait != NULL)
        return hub_cmd_usage(s_usage,
                             "roster import: --out and --wait are export "
                             "options");
    if (o.from_key == NULL)
        return hub_cmd_usage(s_usage, "roster import: --from-key "
                                      "OTHER-hub.pub is required");
    if (optind + 1 != argc)
        return hub_cmd_usage(s_usage, "roster import: %s",
                             optind == argc ? "missing FILE"
                                            : "too many arguments");
    o.dir = dir;
    o.file = argv[optind];
    return s_import(&o);
}
