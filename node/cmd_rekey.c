/* cmd_rekey.c — ewnode rekey: new keys beside the old ones; resealing at
 * the switch. */
#include "rekey.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ewh/envelope.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"

#define S_MAX_ROWS 1000000

struct s_row {
    int64_t seq;
    char id[EWH_ID_HEX];
    uint8_t *buf;
    size_t len;
};

struct s_rows {
    struct s_row *v;
    size_t n, cap;
    bool oom;
};

static int
s_collect(void *ctx, int64_t seq, const char *id, const uint8_t *buf,
          size_t len)
{
    struct s_rows *r = ctx;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct s_row *v = realloc(r->v, cap * sizeof(*v));
        if (v == NULL) {
            r->oom = true;
            return 1;
        }
        r->v = v;
        r->cap = cap;
    }
    if ((r->v[r->n].buf = malloc(len > 0 ? len : 1)) == NULL) {
        r->oom = true;
        return 1;
    }
    memcpy(r->v[r->n].buf, buf, len);
    r->v[r->n].len = len;
    r->v[r->n].seq = seq;
    snprintf(r->v[r->n].id, EWH_ID_HEX, "%s", id);
    r->n++;
    return 0;
}

static void
s_rows_free(struct s_rows *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        free(r->v[i].buf);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

/* A lookup that knows only our old identity. */
static const struct ewh_pubid *
s_self(void *ctx, const char *cc)
{
    const struct ewh_pubid *id = ctx;

    return strcmp(id->country, cc) == 0 ? id : NULL;
}

static int
s_reseal_one(struct node_dir *d, const ewh_secret_t *old,
             const ewh_roster_t *roster, const struct s_row *row,
             struct ewh_err *err)
{
    struct ewh_report r;
    struct ewh_header h;
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS];
    uint8_t *env = NULL;
    size_t len = 0, i;
    int rc = -1;

    memset(&r, 0, sizeof(r));
    if (ewh_envelope_open(row->buf, row->len, old, s_self,
                          (void *)ewh_secret_pubid(old), &r, &h, err) != 0) {
        rc = 1; /* not sealed with the old keys: already resealed */
        goto out;
    }
    for (i = 0; i < h.n_recipients; i++) {
        if ((to[i] = ewh_roster_lookup((void *)roster, h.recipients[i])) ==
            NULL) {
            /* Revoked meanwhile: the hub refuses it either way. */
            ewh_err_set(err, EWH_E_REVOKED, "recipient %s not in roster",
                        h.recipients[i]);
            goto out;
        }
    }
    if (ewh_envelope_seal(&r, to, h.n_recipients, d->secret, NULL, &env, &len,
                          err) != 0 ||
        node_store_outbox_set_envelope(d->store, row->id, env, len, err) != 0)
        goto out;
    rc = 0;
out:
    free(env);
    ewh_report_clear(&r);
    return rc;
}

int
node_rekey_reseal(struct node_dir *d, const ewh_secret_t *old,
                  const ewh_roster_t *roster, size_t *n_env, size_t *n_rcpt,
                  struct ewh_err *err)
{
    struct s_rows rows = {0};
    struct ewh_err e2 = {0};
    struct ewh_receipt rc;
    uint8_t *buf = NULL;
    size_t i, len = 0;

    *n_env = *n_rcpt = 0;
    if (node_store_begin(d->store, err) != 0)
        return -1;
    if (node_store_outbox_pending(d->store, 0, INT64_MAX, S_MAX_ROWS, s_collect,
                                  &rows, err) < 0 ||
        (rows.oom && ewh_err_set(err, EWH_E_NOMEM, "out of memory")))
        goto fail;
    for (i = 0; i < rows.n; i++) {
        int k = s_reseal_one(d, old, roster, &rows.v[i], &e2);
        if (k < 0)
            ewh_log_warnx("rekey: id=%s left as sealed: %s", rows.v[i].id,
                          e2.reason);
        else if (k == 0)
            (*n_env)++;
    }
    s_rows_free(&rows);
    if (node_store_receipt_pending(d->store, 0, S_MAX_ROWS, s_collect, &rows,
                                   err) < 0 ||
        (rows.oom && ewh_err_set(err, EWH_E_NOMEM, "out of memory")))
        goto fail;
    for (i = 0; i < rows.n; i++) {
        memset(&rc, 0, sizeof(rc));
        if (ewh_receipt_verify(rows.v[i].buf, rows.v[i].len, d->cfg.country,
                               s_self, (void *)ewh_secret_pubid(old), &rc,
                               &e2) != 0)
            continue; /* not signed with the old key: leave it */
        if (ewh_receipt_sign(&rc, d->secret, &buf, &len, err) != 0 ||
            node_store_receipt_set(d->store, rows.v[i].seq, buf, len, err) != 0)
            goto fail;
        free(buf);
        buf = NULL;
        (*n_rcpt)++;
    }
    s_rows_free(&rows);
    if (node_store_commit(d->store, err) != 0)
        goto fail;
    return 0;
fail:
    free(buf);
    s_rows_free(&rows);
    node_store_rollback(d->store);
    return -1;
}

int
node_cmd_rekey(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"abort", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct node_dir d;
    struct ewh_err err = {0};
    ewh_secret_t *next = NULL;
    const char *dir = NULL;
    char f[1200], pub[1200], fp[EWH_FINGERPRINT_CHARS], name[32];
    bool abort_ = false;
    int ch;

    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'a':
            abort_ = true;
            break;
        case 'h':
            fputs("usage: ewnode rekey [--dir DIR] [--abort]\n"
                  "Write new keys to DIR/node.key.new and "
                  "DIR/node-CC.pub.new; the node\n"
                  "goes on with its current keys until the hub operator "
                  "enrols the new\n"
                  "file (ewhub enroll node-CC.pub.new), then switches by "
                  "itself.\n"
                  "--abort forgets pending new keys.\n",
                  stdout);
            return 0;
        default:
            return node_cmd_usage("rekey", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("rekey", "unexpected argument");
    if (node_cmd_open_dir(&d, dir, false, "rekey") != 0)
        return 1;
    node_dir_file(&d, "node.key.new", f, sizeof(f));
    snprintf(name, sizeof(name), "node-%s.pub.new", d.cfg.country);
    node_dir_file(&d, name, pub, sizeof(pub));
    if (abort_) {
        if (unlink(f) != 0) {
            ewh_err_set(&err, EWH_E_NOTFOUND, "no re-key pending in %s",
                        d.path);
            node_dir_close(&d);
            return node_cmd_fail("rekey", &err);
        }
        (void)unlink(pub);
        printf("re-key of %s called off; the current keys stay\n",
               d.cfg.country);
        node_dir_close(&d);
        return 0;
    }
    if (node_dir_load_key(&d, "node.key.new", &next, &err) != 0)
        goto fail;
    if (next != NULL) {
        ewh_pubid_fingerprint(ewh_secret_pubid(next), fp);
        ewh_err_set(&err, EWH_E_INVALID,
                    "a re-key is already pending (new fingerprint %s): have "
                    "%s enrolled at the hub, or run `ewnode rekey --abort`",
                    fp, pub);
        goto fail;
    }
    if ((next = ewh_secret_generate(EWH_KIND_NODE, d.cfg.country, &err)) ==
            NULL ||
        ewh_pubid_save(ewh_secret_pubid(next), pub, &err) != 0 ||
        ewh_secret_save(next, f, &err) != 0)
        goto fail;
    ewh_pubid_fingerprint(ewh_secret_pubid(next), fp);
    printf("new keys for %s: %s\n"
           "new fingerprint: %s\n"
           "The node keeps its current keys until the hub enrols the new "
           "ones.\n"
           "Send %s to the hub operator, compare the fingerprint by "
           "telephone;\n"
           "the operator runs: ewhub enroll %s\n"
           "The agent then switches by itself (ewnode peers shows the new "
           "fingerprint).\n",
           d.cfg.country, f, fp, pub, name);
    ewh_secret_destroy(&next);
    node_dir_close(&d);
    return 0;
fail:
    ewh_secret_destroy(&next);
    node_dir_close(&d);
    return node_cmd_fail("rekey", &err);
}
