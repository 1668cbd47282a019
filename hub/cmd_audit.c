/* cmd_audit.c — ewhub audit verify: recompute the audit chain, and, given
 * the checkpoints nodes hold, tell a restore from a rewrite. */
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "audit.h"
#include "rotate.h"
#include "store.h"
#include "ewh/identity.h"
#include "ewh/log.h"
#include "ewh/util.h"

#define S_MAX_LINES 20 /* mismatches printed; all are counted */

/* Exit statuses (docs/operations.md). */
#define S_EXIT_RESTORE 3 /* a consistent prefix of what nodes hold */
#define S_EXIT_REWRITE 4 /* another head at a length nodes hold */

static const char s_usage[] =
    "usage: ewhub audit verify [--dir DIR] [--json] [--checkpoints FILE]...\n"
    "  Recompute the audit hash chain from the genesis head, check every\n"
    "  stored envelope against its entry and every stored signed\n"
    "  checkpoint against the recomputed head and the hub key in force\n"
    "  when it was signed (the rotation chain: DIR/hub.pub.retired-N,\n"
    "  hub.pub.old, hub.pub).  Names the first entry\n"
    "  that does not match.\n"
    "  --checkpoints FILE (one per node, repeatable): the checkpoints a\n"
    "  node holds of this hub (JSON, docs/operations.md).  Each is judged\n"
    "  against the chain: on it, beyond its end (the hub lost what it\n"
    "  accepted after: a RESTORE, which the nodes refill, recorded in the\n"
    "  store), or another head at a length the chain has (a REWRITE).\n"
    "  Exit 0: intact (every checkpoint given on the chain), 1: a mismatch\n"
    "  in the chain or an error (the message says which), 2: usage error,\n"
    "  3: restore, 4: rewrite.\n"
    "  Safe while the hub runs (a read transaction); the result and its\n"
    "  time are then recorded in the store for /metrics.\n";

/* What the node files say, judged. */
struct s_claims {
    uint64_t given, on_chain, beyond, differ, superseded;
    uint64_t longest_beyond, longest_on_chain;
    size_t lines;
    json_t *problems; /* for --json: one object per beyond/differs */
};

static void
s_claim_line(struct s_claims *cl, bool json, const char *file,
             const struct hub_audit_claim *c, enum hub_claim_kind k,
             const uint8_t chain_head[EWH_HASH_BYTES], uint64_t chain_len)
{
    char hx[2 * EWH_HASH_BYTES + 1], hc[2 * EWH_HASH_BYTES + 1];
    json_t *o;

    if (k == HUB_CLAIM_ON_CHAIN || k == HUB_CLAIM_SUPERSEDED)
        return;
    ewh_hex(c->head, EWH_HASH_BYTES, hx, sizeof(hx));
    if (json) {
        o = json_object();
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "length", json_integer((json_int_t)c->length));
        json_object_set_new(o, "head", json_string(hx));
        json_object_set_new(o, "signed", json_boolean(c->is_signed));
        json_object_set_new(
            o, "kind",
            json_string(k == HUB_CLAIM_BEYOND ? "beyond" : "differs"));
        if (k == HUB_CLAIM_DIFFERS)
            json_object_set_new(o, "chain_head",
                                json_string(ewh_hex(chain_head, EWH_HASH_BYTES,
                                                    hc, sizeof(hc))));
        json_array_append_new(cl->problems, o);
        return;
    }
    if (cl->lines++ >= S_MAX_LINES)
        return;
    if (k == HUB_CLAIM_BEYOND)
        printf("RESTORE: %s: checkpoint length %llu head %.16s... lies "
               "beyond the chain's end (length %llu)%s\n",
               file, (unsigned long long)c->length, hx,
               (unsigned long long)chain_len,
               c->is_signed ? "" : " (unsigned: as the node says)");
    else
        printf("REWRITE: %s: checkpoint length %llu head %.16s... but the "
               "chain has head %.16s... there%s\n",
               file, (unsigned long long)c->length, hx,
               ewh_hex(chain_head, EWH_HASH_BYTES, hc, sizeof(hc)),
               c->is_signed ? " (signed by this hub)"
                            : " (unsigned: as the node says)");
}

/* One checkpoint object of a node file into c; a signed one must verify
 * with one of the hub's keys and say the same length, head and time. */
static int
s_claim_parse(json_t *o, const uint8_t (*keys)[32], size_t n_keys,
              struct hub_audit_claim *c, struct ewh_err *err)
{
    json_t *l = json_object_get(o, "length"), *h = json_object_get(o, "head");
    json_t *t = json_object_get(o, "time"), *sg = json_object_get(o, "signed");
    uint8_t buf[EWH_MAX_CHECKPOINT_BYTES];
    struct ewh_checkpoint cp;
    size_t k, n;

    memset(c, 0, sizeof(*c));
    if (!json_is_object(o) || !json_is_integer(l) ||
        json_integer_value(l) < 0 || !json_is_string(h))
        return ewh_err_set(err, EWH_E_INVALID,
                           "a checkpoint needs \"length\" (an integer >= 0) "
                           "and \"head\" (64 hex digits)");
    c->length = (uint64_t)json_integer_value(l);
    if (strlen(json_string_value(h)) != 2 * EWH_HASH_BYTES ||
        ewh_unhex(json_string_value(h), c->head, EWH_HASH_BYTES, err) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "checkpoint %llu: \"head\" is not 64 hex digits",
                           (unsigned long long)c->length);
    if (t != NULL && !json_is_null(t)) {
        if (!json_is_integer(t))
            return ewh_err_set(err, EWH_E_INVALID,
                               "checkpoint %llu: \"time\" is not an integer",
                               (unsigned long long)c->length);
        c->time = json_integer_value(t);
    }
    if (sg == NULL || json_is_null(sg))
        return 0;
    n = json_is_string(sg) ? strlen(json_string_value(sg)) : 0;
    if (n == 0 || n % 2 != 0 || n / 2 > sizeof(buf) ||
        ewh_unhex(json_string_value(sg), buf, n / 2, err) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "checkpoint %llu: \"signed\" is not the hex of a "
                           "signed checkpoint of at most %u bytes",
                           (unsigned long long)c->length,
                           EWH_MAX_CHECKPOINT_BYTES);
    for (k = 0; k < n_keys; k++)
        if (ewh_checkpoint_verify(buf, n / 2, keys[k], &cp, NULL) == 0)
            break;
    if (k == n_keys)
        return ewh_err_set(err, EWH_E_SIGNATURE,
                           "checkpoint %llu: not signed by this hub (tried "
                           "%zu key%s of its rotation chain)",
                           (unsigned long long)c->length, n_keys,
                           n_keys == 1 ? "" : "s");
    if (cp.length != c->length ||
        memcmp(cp.head, c->head, EWH_HASH_BYTES) != 0 ||
        (c->time != 0 && cp.time != c->time))
        return ewh_err_set(err, EWH_E_INVALID,
                           "checkpoint %llu: its signature is over another "
                           "length, head or time (length %llu)",
                           (unsigned long long)c->length,
                           (unsigned long long)cp.length);
    c->time = cp.time;
    c->is_signed = true;
    return 0;
}

/* Judge every checkpoint of one node file. */
static int
s_claims_file(hub_store_t *st, const char *file, const uint8_t (*keys)[32],
              size_t n_keys, uint64_t chain_len,
              const struct hub_audit_restore *rs, bool json,
              struct s_claims *cl, struct ewh_err *err)
{
    json_error_t jerr;
    json_t *root, *arr;
    struct stat sb;
    size_t i;
    int rc = -1;

    if (stat(file, &sb) != 0)
        return ewh_err_set(err, EWH_E_IO, "%s: cannot read it", file);
    if ((uint64_t)sb.st_size > EWH_MAX_CHECKPOINT_FILE_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%s: %lld bytes > EWH_MAX_CHECKPOINT_FILE_BYTES "
                           "%u",
                           file, (long long)sb.st_size,
                           EWH_MAX_CHECKPOINT_FILE_BYTES);
    if ((root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return ewh_err_set(err, EWH_E_INVALID, "%s: line %d: %s", file,
                           jerr.line, jerr.text);
    arr = json_object_get(root, "checkpoints");
    if (!json_is_array(arr)) {
        ewh_err_set(err, EWH_E_INVALID,
                    "%s: no \"checkpoints\" array (docs/operations.md)", file);
        goto out;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        struct hub_audit_claim c;
        enum hub_claim_kind k;
        uint8_t ch[EWH_HASH_BYTES];
        struct ewh_err e = {0};
        if (s_claim_parse(json_array_get(arr, i), keys, n_keys, &c, &e) != 0) {
            ewh_err_set(err, e.code, "%s: checkpoint #%zu: %s", file, i + 1,
                        e.reason);
            goto out;
        }
        if (hub_audit_claim_check(st, chain_len, rs, &c, &k, ch, err) != 0)
            goto out;
        cl->given++;
        switch (k) {
        case HUB_CLAIM_ON_CHAIN:
            cl->on_chain++;
            if (c.length > cl->longest_on_chain)
                cl->longest_on_chain = c.length;
            break;
        case HUB_CLAIM_BEYOND:
            cl->beyond++;
            if (c.length > cl->longest_beyond)
                cl->longest_beyond = c.length;
            break;
        case HUB_CLAIM_DIFFERS:
            cl->differ++;
            break;
        case HUB_CLAIM_SUPERSEDED:
            cl->superseded++;
            break;
        }
        s_claim_line(cl, json, file, &c, k, ch, chain_len);
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* The restore recorded before, if any. */
static int
s_restore_get(hub_store_t *st, struct hub_audit_restore *rs,
              struct ewh_err *err)
{
    int64_t len = 0, at = 0;

    if (hub_store_meta_get(st, "restore_length", &len, err) != 0 ||
        hub_store_meta_get(st, "restore_at", &at, err) != 0)
        return -1;
    rs->length = (uint64_t)len;
    rs->at = at;
    return 0;
}

int
hub_cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"checkpoints", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct ewh_err err = {0};
    struct hub_audit_result r;
    struct hub_audit_restore rs = {0};
    struct s_claims cl = {0};
    uint8_t(*keys)[32] = NULL, head[EWH_HASH_BYTES];
    const char *files[EWH_MAX_CHECKPOINT_FILES];
    size_t n_keys = 0, n_files = 0, i;
    uint64_t chain_len = 0;
    hub_store_t *st;
    const char *dir = NULL, *verdict;
    char path[4096];
    bool json = false, restore, rewrite, recorded = false;
    int64_t now = ewh_now();
    int c, rc, exit_code;

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
        case 'c':
            if (n_files == EWH_MAX_CHECKPOINT_FILES)
                return hub_cmd_usage(s_usage,
                                     "audit: more than %u --checkpoints "
                                     "files (EWH_MAX_CHECKPOINT_FILES)",
                                     EWH_MAX_CHECKPOINT_FILES);
            files[n_files++] = optarg;
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
    cl.problems = json_array();
    /* One read transaction: a consistent view while the hub writes. */
    rc = hub_store_read_begin(st, &err) != 0 ||
                 hub_audit_verify(st, (const uint8_t(*)[32])keys, n_keys,
                                  json ? NULL : stdout, S_MAX_LINES, &r,
                                  &err) != 0 ||
                 hub_store_audit_head(st, &chain_len, head, &err) != 0 ||
                 s_restore_get(st, &rs, &err) != 0
             ? -1
             : 0;
    for (i = 0; rc == 0 && i < n_files; i++)
        if (s_claims_file(st, files[i], (const uint8_t(*)[32])keys, n_keys,
                          chain_len, &rs, json, &cl, &err) != 0)
            rc = -1;
    hub_store_read_end(st);
    rewrite = rc == 0 && cl.differ > 0;
    restore = rc == 0 && !rewrite && r.problems == 0 && cl.beyond > 0;
    /* Recorded for /metrics (ewhub_audit_verify_last_*): the alert rules
     * want a verify that passed within the last day.  A user who may only
     * read the store still gets the verdict.  A restore is recorded, so
     * that later checks know the history it lost. */
    if (rc == 0) {
        struct ewh_err e2 = {0};
        bool new_restore = restore && (rs.at == 0 || rs.length != chain_len);
        if (hub_store_begin(st, &e2) != 0 ||
            hub_store_meta_set(st, "audit_verified_at", now, &e2) != 0 ||
            hub_store_meta_set(st, "audit_verified_ok",
                               r.problems == 0 && !rewrite ? 1 : 0, &e2) != 0 ||
            (new_restore &&
             (hub_store_meta_set(st, "restore_length", (int64_t)chain_len,
                                 &e2) != 0 ||
              hub_store_meta_set(st, "restore_at", now, &e2) != 0)) ||
            hub_store_commit(st, &e2) != 0) {
            hub_store_rollback(st);
            ewh_log_warnx("audit: result not recorded in the store: %s",
                          e2.reason);
        } else {
            recorded = restore;
            if (new_restore)
                ewh_log_warnx("audit: restore recorded: chain at length %llu, "
                              "nodes hold checkpoints up to %llu",
                              (unsigned long long)chain_len,
                              (unsigned long long)cl.longest_beyond);
        }
        if (rewrite)
            ewh_log_errx("audit: REWRITE: %llu checkpoint(s) nodes hold "
                         "differ from this hub's chain",
                         (unsigned long long)cl.differ);
    }
    hub_store_close(&st);
    free(keys);
    if (rc != 0) {
        json_decref(cl.problems);
        return hub_cmd_fail("audit: %s", err.reason);
    }
    verdict = r.problems > 0 ? "broken"
              : rewrite      ? "rewrite"
              : restore      ? "restore"
                             : "ok";
    exit_code = r.problems > 0 ? 1
                : rewrite      ? S_EXIT_REWRITE
                : restore      ? S_EXIT_RESTORE
                               : 0;
    if (json) {
        json_t *o = json_object(), *n = json_object();
        json_object_set_new(o, "ok", json_boolean(exit_code == 0));
        json_object_set_new(o, "verdict", json_string(verdict));
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
        json_object_set_new(o, "chain_length",
                            json_integer((json_int_t)chain_len));
        json_object_set_new(n, "files", json_integer((json_int_t)n_files));
        json_object_set_new(n, "given", json_integer((json_int_t)cl.given));
        json_object_set_new(n, "on_chain",
                            json_integer((json_int_t)cl.on_chain));
        json_object_set_new(n, "beyond", json_integer((json_int_t)cl.beyond));
        json_object_set_new(n, "differ", json_integer((json_int_t)cl.differ));
        json_object_set_new(n, "superseded",
                            json_integer((json_int_t)cl.superseded));
        json_object_set_new(n, "longest_beyond",
                            json_integer((json_int_t)cl.longest_beyond));
        json_object_set_new(n, "mismatches", cl.problems);
        cl.problems = NULL;
        json_object_set_new(o, "node_checkpoints", n);
        if (rs.at > 0 || recorded) {
            json_t *ro = json_object();
            json_object_set_new(
                ro, "length",
                json_integer((json_int_t)(recorded ? chain_len : rs.length)));
            json_object_set_new(
                ro, "at", json_integer(rs.at > 0 && !recorded ? rs.at : now));
            json_object_set_new(o, "restore", ro);
        } else {
            json_object_set_new(o, "restore", json_null());
        }
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    } else if (r.problems > 0) {
        printf("audit: FAILED: %llu problem(s) in %llu entries; first: %s\n",
               (unsigned long long)r.problems, (unsigned long long)r.entries,
               r.first);
    } else if (rewrite) {
        printf("audit: REWRITE: %llu checkpoint(s) the nodes hold differ "
               "from this hub's chain at their length: the history this hub "
               "signed was changed.  A compromise: keep the store and the "
               "nodes' files as evidence (docs/operations.md)\n",
               (unsigned long long)cl.differ);
    } else if (restore) {
        printf("audit: RESTORE: the chain (%llu entries, intact) is a "
               "consistent prefix of what the nodes hold: %llu checkpoint(s) "
               "up to length %llu lie beyond its end, %llu on it.  The %llu "
               "report(s) accepted after it are gone from this hub; the "
               "nodes refill it when it runs (each sends again what is not "
               "yet receipted by every addressee).  %s\n",
               (unsigned long long)chain_len, (unsigned long long)cl.beyond,
               (unsigned long long)cl.longest_beyond,
               (unsigned long long)cl.on_chain,
               (unsigned long long)(cl.longest_beyond - chain_len),
               recorded ? "Restore recorded in the store."
                        : "(Not recorded: the store is read-only here.)");
    } else {
        printf("audit: OK: %llu entries, %llu envelopes checked, %llu "
               "removed by retention, %llu signed checkpoints",
               (unsigned long long)r.entries, (unsigned long long)r.envelopes,
               (unsigned long long)r.pruned, (unsigned long long)r.checkpoints);
        if (n_files > 0)
            printf("; %llu node checkpoint(s) in %zu file(s), all on the "
                   "chain",
                   (unsigned long long)cl.given, n_files);
        if (cl.superseded > 0)
            printf(" or lost by the restore at length %llu",
                   (unsigned long long)rs.length);
        printf("\n");
    }
    json_decref(cl.problems);
    return exit_code;
}
