/*
 * rekey.c — re-keying a node without a gap in service (rekey.h): the
 * resealing of what the hub has not accepted yet, and the agent's side of
 * the switch (agent_int.h): node.key.new tried and taken once the hub's
 * roster names it, node.key.old and the roster before the last one kept
 * to open and verify what peers sealed or signed before a re-key.
 */
#include "rekey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "trust.h"
#include "ewh/envelope.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"

/* ---- resealing (ewnode run and ewnode rekey) ---- */

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

/* The key to seal for id's country: id when this node may seal for it,
 * else the newest key of its trusted history (*n 1, in *kept); none:
 * EWH_E_UNVERIFIED. */
static int
s_trusted_key(struct node_dir *d, const struct ewh_pubid *id,
              struct ewh_pubid *kept, size_t *n, struct ewh_err *err)
{
    struct node_trust t;
    char fp[EWH_FINGERPRINT_CHARS];
    bool ok, warn;

    *n = 0;
    if (node_trust_sealable(d->store, id->country, d->cfg.unverified_warn, &ok,
                            &warn, &t, err) != 0)
        return -1;
    ewh_pubid_fingerprint(id, fp);
    if (ok && (t.fp[0] == '\0' || strcmp(t.fp, fp) == 0))
        return 0;
    if (node_store_keys_trusted(d->store, id->country, kept, 1, n, err) != 0)
        return -1;
    if (*n == 0)
        return ewh_err_set(err, EWH_E_UNVERIFIED,
                           "recipient %s is unverified and no key of it is "
                           "trusted: not resealed",
                           id->country);
    return 0;
}

static int
s_reseal_one(struct node_dir *d, const ewh_secret_t *old,
             const ewh_roster_t *roster, const struct s_row *row,
             struct ewh_err *err)
{
    struct ewh_report r;
    struct ewh_header h;
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS];
    struct ewh_pubid kept[EWH_MAX_RECIPIENTS];
    uint8_t *env = NULL;
    size_t len = 0, i, n;
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
        /* docs/trust.md: never sealed again for a key this node does not
         * trust: the report keeps going to the key it was written for. */
        if (s_trusted_key(d, to[i], &kept[i], &n, err) != 0)
            goto out;
        if (n == 1)
            to[i] = &kept[i];
    }
    node_trust_head(roster, &r.has_head, &r.roster_version, r.roster_hash);
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

/* Every queued report sealed with old: sealed again with d->secret. */
static int
s_reseal_reports(struct node_dir *d, const ewh_secret_t *old,
                 const ewh_roster_t *roster, size_t *n, struct ewh_err *err)
{
    struct s_rows rows = {0};
    struct ewh_err e2 = {0};
    size_t i;

    if (node_store_outbox_pending(d->store, 0, INT64_MAX, S_MAX_ROWS, s_collect,
                                  &rows, err) < 0 ||
        (rows.oom && ewh_err_set(err, EWH_E_NOMEM, "out of memory"))) {
        s_rows_free(&rows);
        return -1;
    }
    for (i = 0; i < rows.n; i++) {
        int k = s_reseal_one(d, old, roster, &rows.v[i], &e2);
        if (k < 0)
            ewh_log_warnx("rekey: id=%s left as sealed: %s", rows.v[i].id,
                          e2.reason);
        else if (k == 0)
            (*n)++;
    }
    s_rows_free(&rows);
    return 0;
}

/* Every unsent receipt signed with old: signed again with d->secret. */
static int
s_resign_receipts(struct node_dir *d, const ewh_secret_t *old, size_t *n,
                  struct ewh_err *err)
{
    struct s_rows rows = {0};
    struct ewh_err e2 = {0};
    struct ewh_receipt rc;
    uint8_t *buf = NULL;
    size_t i, len = 0;
    int ret = -1;

    if (node_store_receipt_pending(d->store, 0, S_MAX_ROWS, s_collect, &rows,
                                   err) < 0 ||
        (rows.oom && ewh_err_set(err, EWH_E_NOMEM, "out of memory")))
        goto out;
    for (i = 0; i < rows.n; i++) {
        memset(&rc, 0, sizeof(rc));
        if (ewh_receipt_verify(rows.v[i].buf, rows.v[i].len, d->cfg.country,
                               s_self, (void *)ewh_secret_pubid(old), &rc,
                               &e2) != 0)
            continue; /* not signed with the old key: leave it */
        if (ewh_receipt_sign(&rc, d->secret, &buf, &len, err) != 0 ||
            node_store_receipt_set(d->store, rows.v[i].seq, buf, len, err) != 0)
            goto out;
        free(buf);
        buf = NULL;
        (*n)++;
    }
    ret = 0;
out:
    free(buf);
    s_rows_free(&rows);
    return ret;
}

int
node_rekey_reseal(struct node_dir *d, const ewh_secret_t *old,
                  const ewh_roster_t *roster, size_t *n_env, size_t *n_rcpt,
                  struct ewh_err *err)
{
    *n_env = *n_rcpt = 0;
    if (node_store_begin(d->store, err) != 0)
        return -1;
    if (s_reseal_reports(d, old, roster, n_env, err) != 0 ||
        s_resign_receipts(d, old, n_rcpt, err) != 0 ||
        node_store_commit(d->store, err) != 0) {
        node_store_rollback(d->store);
        return -1;
    }
    return 0;
}

/* ---- the agent's side ---- */

int
node_rekey_load(struct node_agent *a, struct ewh_err *err)
{
    if (node_dir_load_key(a->d, "node.key.new", &a->key.next, err) != 0 ||
        node_dir_load_key(a->d, "node.key.old", &a->key.prev, err) != 0)
        return -1;
    if (a->key.next != NULL)
        ewh_log_info("agent: a re-key is pending (node.key.new); switching "
                     "once the hub enrols it");
    return 0;
}

void
node_rekey_find_pending(struct node_agent *a)
{
    struct ewh_err err = {0};

    if (a->key.next != NULL)
        return;
    if (node_dir_load_key(a->d, "node.key.new", &a->key.next, &err) != 0)
        ewh_log_warnx("agent: %s", err.reason);
    else if (a->key.next != NULL)
        ewh_log_info("agent: found a pending re-key (node.key.new)");
}

/* The hub's roster names our new identity: the operator enrolled
 * node-CC.pub.new.  Switch for good and reseal what is not yet accepted. */
void
node_rekey_check(struct node_agent *a)
{
    struct ewh_err err = {0};
    struct node_keys *k = &a->key;
    const struct ewh_pubid *mine;
    const ewh_roster_t *ro =
        a->n_conn > 0 ? node_agent_first(a)->link.roster : NULL;
    size_t n_env = 0, n_rcpt = 0, i;
    char fp[EWH_FINGERPRINT_CHARS];

    if (k->next == NULL || ro == NULL)
        return;
    mine = ewh_roster_find(ro, a->me, NULL);
    if (mine == NULL || !ewh_pubid_equal(mine, ewh_secret_pubid(k->next)))
        return;
    node_agent_flush(a);
    if (node_dir_rekey_commit(a->d, &err) != 0) {
        ewh_log_errx("agent: re-key: %s", err.reason);
        return;
    }
    ewh_secret_destroy(&k->prev);
    k->prev = a->d->secret;
    a->d->secret = k->next;
    k->next = NULL;
    k->rekeyed = true;
    if (node_rekey_reseal(a->d, k->prev, ro, &n_env, &n_rcpt, &err) != 0)
        ewh_log_errx("agent: re-key: reseal: %s", err.reason);
    ewh_pubid_fingerprint(ewh_secret_pubid(a->d->secret), fp);
    ewh_log_info("agent: re-keyed: now using fingerprint %s (resealed %zu "
                 "queued reports, re-signed %zu receipts)",
                 fp, n_env, n_rcpt);
    node_outbox_rescan(a, NULL);
    node_receipts_rescan(a, NULL);
    node_receipts_reset(a, NULL);
    for (i = 0; i < a->n_conn; i++) {
        struct node_conn *c = &a->conn[i];
        node_outbox_reset(a, c);
        if (c->link.try_idx & 1) {
            /* The socket already runs on the new key (it was the trial
             * one): the new key is now the current one. */
            c->link.try_idx &= ~1u;
        } else
            node_link_reopen(a, c);
    }
}

bool
node_rekey_sealed_with_prev(struct node_agent *a, const char *id)
{
    struct ewh_err err = {0};
    struct ewh_header h;
    uint8_t *env = NULL;
    size_t len = 0;
    bool yes;

    if (node_store_envelope_get(a->d->store, id, &env, &len, &err) != 0)
        return false;
    yes = ewh_envelope_verify(env, len, a->me, s_self,
                              (void *)ewh_secret_pubid(a->key.prev), &h,
                              &err) == 0;
    free(env);
    return yes;
}

void
node_rekey_reseal_if_due(struct node_agent *a)
{
    struct ewh_err err = {0};
    size_t n_env = 0, n_rcpt = 0;
    const ewh_roster_t *ro = node_agent_first(a)->link.roster;

    if (!a->key.reseal_due || a->key.prev == NULL || ro == NULL)
        return;
    a->key.reseal_due = false;
    if (node_rekey_reseal(a->d, a->key.prev, ro, &n_env, &n_rcpt, &err) != 0)
        ewh_log_errx("agent: reseal: %s", err.reason);
    node_outbox_rescan(a, NULL);
}

void
node_rekey_free(struct node_agent *a)
{
    ewh_secret_destroy(&a->key.next);
    ewh_secret_destroy(&a->key.prev);
}
