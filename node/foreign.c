/*
 * foreign.c — foreign rosters: verify, pin per region, keep; look foreign
 * countries up; check a report's distribution at the recipient
 * (foreign.h, docs/federation-node.md).
 */
#include "foreign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent_int.h"
#include "trust.h"
#include "ewh/fed.h"
#include "ewh/log.h"

struct s_region {
    char name[EWH_MAX_REGION_BYTES + 1];
    ewh_roster_t *ro;
    struct node_foreign_row row;
};

struct node_foreign {
    struct s_region r[EWH_MAX_FOREIGN_REGIONS];
    size_t n;
};

static int
s_load_one(void *ctx, const struct node_foreign_row *row, const uint8_t *buf,
           size_t len)
{
    node_foreign_t *f = ctx;
    struct ewh_err e2 = {0};
    ewh_roster_t *ro;

    if (f->n == EWH_MAX_FOREIGN_REGIONS)
        return 1;
    /* Verified again with the key pinned for the region: the store is
     * ours, but a roster is only ever used as its hub signed it. */
    if ((ro = ewh_roster_open(buf, len, row->hub_sign, &e2)) == NULL) {
        ewh_log_warnx("foreign: stored roster of region %s unusable: %s",
                      row->region, e2.reason);
        return 0;
    }
    snprintf(f->r[f->n].name, sizeof(f->r[f->n].name), "%s", row->region);
    f->r[f->n].ro = ro;
    f->r[f->n].row = *row;
    f->n++;
    return 0;
}

node_foreign_t *
node_foreign_load(node_store_t *s, struct ewh_err *err)
{
    node_foreign_t *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    if (node_store_foreign_walk(s, s_load_one, f, err) != 0)
        node_foreign_destroy(&f);
    return f;
}

void
node_foreign_destroy(node_foreign_t **f)
{
    size_t i;

    if (f == NULL || *f == NULL)
        return;
    for (i = 0; i < (*f)->n; i++)
        ewh_roster_destroy(&(*f)->r[i].ro);
    free(*f);
    *f = NULL;
}

size_t
node_foreign_count(const node_foreign_t *f)
{
    return f != NULL ? f->n : 0;
}

const ewh_roster_t *
node_foreign_at(const node_foreign_t *f, size_t i, const char **region)
{
    if (f == NULL || i >= f->n)
        return NULL;
    if (region != NULL)
        *region = f->r[i].name;
    return f->r[i].ro;
}

const struct node_foreign_row *
node_foreign_row_at(const node_foreign_t *f, size_t i)
{
    return f != NULL && i < f->n ? &f->r[i].row : NULL;
}

const ewh_roster_t *
node_foreign_roster(const node_foreign_t *f, const char *region)
{
    size_t i;

    for (i = 0; f != NULL && i < f->n; i++)
        if (strcmp(f->r[i].name, region) == 0)
            return f->r[i].ro;
    return NULL;
}

const struct ewh_pubid *
node_foreign_find(const node_foreign_t *f, const char *cc, const char **region,
                  bool *revoked)
{
    const struct ewh_pubid *id;
    size_t i;

    for (i = 0; f != NULL && i < f->n; i++)
        if ((id = ewh_roster_find(f->r[i].ro, cc, revoked)) != NULL) {
            if (region != NULL)
                *region = f->r[i].name;
            return id;
        }
    return NULL;
}

const ewh_roster_t *
node_foreign_roster_of(const ewh_roster_t *local, const node_foreign_t *f,
                       const char *cc)
{
    const char *region = NULL;

    if (ewh_roster_find(local, cc, NULL) == NULL &&
        node_foreign_find(f, cc, &region, NULL) != NULL)
        return node_foreign_roster(f, region);
    return local;
}

const struct ewh_pubid *
node_lookup_any(void *ctx, const char *cc)
{
    const struct node_lookup *l = ctx;
    const struct ewh_pubid *id;
    bool revoked = false;

    if (l->local != NULL && ewh_roster_find(l->local, cc, NULL) != NULL)
        return ewh_roster_lookup((void *)l->local, cc);
    id = node_foreign_find(l->foreign, cc, NULL, &revoked);
    return id != NULL && !revoked ? id : NULL;
}

/* ---- applying a foreign roster ---- */

static void
s_path_text(const Ewh__ForeignRoster *fr, char *out, size_t cap)
{
    size_t i, used = 0;

    out[0] = '\0';
    for (i = 0; i < fr->n_path && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s",
                                 i > 0 ? ">" : "", fr->path[i]);
}

/* No country of got may be ours, or another foreign region's. */
static int
s_check_claims(const ewh_roster_t *got, const char *region,
               const ewh_roster_t *local, const node_foreign_t *held,
               struct ewh_err *err)
{
    const char *other = NULL;
    size_t i;

    for (i = 0; i < ewh_roster_count(got); i++) {
        const struct ewh_pubid *id = ewh_roster_at(got, i, NULL);
        if (ewh_roster_find(local, id->country, NULL) != NULL)
            return ewh_err_set(err, EWH_E_INVALID,
                               "the roster of region %s names %s, a country "
                               "of this node's own region: refused",
                               region, id->country);
        if (node_foreign_find(held, id->country, &other, NULL) != NULL &&
            strcmp(other, region) != 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "the roster of region %s names %s, which the "
                               "roster of region %s names: refused",
                               region, id->country, other);
    }
    return 0;
}

int
node_foreign_apply(node_store_t *s, const ewh_roster_t *local,
                   const Ewh__ForeignRoster *fr, uint64_t *version,
                   struct ewh_err *err)
{
    struct node_foreign_row row, old;
    ewh_roster_t *got = NULL, *held = NULL;
    node_foreign_t *all = NULL;
    uint8_t *hb = NULL;
    size_t hl = 0;
    const uint8_t *next;
    bool first = false, repin = false, in_tx = false;
    char hex[17];
    int rc = -1;

    *version = 0;
    if (local == NULL)
        return ewh_err_set(err, EWH_E_NOTFOUND,
                           "no roster of this node's own region yet");
    if (!ewh_region_is_valid(fr->region) || fr->hub_key.len != EWH_KEY_BYTES)
        return ewh_err_set(err, EWH_E_INVALID, "bad foreign roster frame");
    if (strcmp(fr->region, ewh_roster_region(local)) == 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "a foreign roster of this node's own region %s",
                           fr->region);
    if (node_store_begin(s, err) != 0)
        return -1;
    in_tx = true;
    memset(&old, 0, sizeof(old));
    if (node_store_foreign_get(s, fr->region, &old, &hb, &hl, err) != 0) {
        if (err == NULL || err->code != EWH_E_NOTFOUND)
            goto out;
        first = true;
    }
    if (first) {
        /* Trust on first use, per region; the operator compares the
         * fingerprint of the region's hub key (ewnode peers). */
        if ((all = node_foreign_load(s, err)) == NULL)
            goto out;
        if (node_foreign_count(all) >= EWH_MAX_FOREIGN_REGIONS) {
            ewh_err_set(err, EWH_E_TOOBIG,
                        "already %u foreign regions "
                        "(EWH_MAX_FOREIGN_REGIONS): region %s refused",
                        EWH_MAX_FOREIGN_REGIONS, fr->region);
            goto out;
        }
    } else if (sodium_memcmp(fr->hub_key.data, old.hub_sign, EWH_KEY_BYTES) !=
               0) {
        if (!old.has_next || sodium_memcmp(fr->hub_key.data, old.next_sign,
                                           EWH_KEY_BYTES) != 0) {
            ewh_err_set(err, EWH_E_SIGNATURE,
                        "roster of region %s signed by hub key %s..., not "
                        "the key pinned for the region (%s...) nor one it "
                        "announced: refused",
                        fr->region, ewh_hex(fr->hub_key.data, 8, hex, 17),
                        ewh_hex(old.hub_sign, 8, (char[17]){0}, 17));
            goto out;
        }
        repin = true;
    }
    if ((got = ewh_roster_open(fr->signed_roster.data, fr->signed_roster.len,
                               fr->hub_key.data, err)) == NULL)
        goto out;
    *version = ewh_roster_version(got);
    if (strcmp(ewh_roster_region(got), fr->region) != 0) {
        ewh_err_set(err, EWH_E_INVALID,
                    "the roster sent as region %s says it is region %s",
                    fr->region, ewh_roster_region(got));
        goto out;
    }
    if (!first) {
        if ((held = ewh_roster_open(hb, hl, old.hub_sign, err)) == NULL)
            goto out;
        if (ewh_roster_version(held) >= *version) {
            ewh_err_set(err, EWH_E_VERSION,
                        "roster of region %s version %llu is not newer "
                        "than the one held (%llu)",
                        fr->region, (unsigned long long)*version,
                        (unsigned long long)ewh_roster_version(held));
            goto out;
        }
        if (node_trust_chain_check(got, held, err) != 0)
            goto out;
        if ((all = node_foreign_load(s, err)) == NULL)
            goto out;
    }
    if (s_check_claims(got, fr->region, local, all, err) != 0 ||
        node_trust_on_foreign(s, fr->region, got, first, err) != 0)
        goto out;
    memset(&row, 0, sizeof(row));
    snprintf(row.region, sizeof(row.region), "%s", fr->region);
    memcpy(row.hub_sign, fr->hub_key.data, EWH_KEY_BYTES);
    if ((next = ewh_roster_next_hub_sign(got)) != NULL) {
        row.has_next = true;
        memcpy(row.next_sign, next, EWH_KEY_BYTES);
    }
    row.version = *version;
    row.at = ewh_now();
    s_path_text(fr, row.path, sizeof(row.path));
    if (node_store_foreign_put(s, &row, fr->signed_roster.data,
                               fr->signed_roster.len, err) != 0 ||
        node_store_commit(s, err) != 0)
        goto out;
    in_tx = false;
    if (first)
        ewh_log_info("foreign: region %s: hub key %s... trusted on first "
                     "use; %zu countries (roster version %llu, via %s)",
                     fr->region, ewh_hex(fr->hub_key.data, 8, hex, 17),
                     ewh_roster_count(got), (unsigned long long)*version,
                     row.path);
    else if (repin)
        ewh_log_info("foreign: region %s: hub key rotated to %s... as "
                     "announced (roster version %llu)",
                     fr->region, ewh_hex(fr->hub_key.data, 8, hex, 17),
                     (unsigned long long)*version);
    rc = 0;
out:
    if (in_tx)
        node_store_rollback(s);
    free(hb);
    node_foreign_destroy(&all);
    ewh_roster_destroy(&held);
    ewh_roster_destroy(&got);
    return rc;
}

/* ---- the recipient's check ---- */

int
node_foreign_check_distribution(const ewh_roster_t *local,
                                const node_foreign_t *f,
                                const struct ewh_header *h, struct ewh_err *err)
{
    const char *own = ewh_roster_region(local), *origin_region = NULL;

    if (ewh_roster_find(local, h->origin, NULL) != NULL)
        return 0; /* from this region: nothing travelled */
    if (node_foreign_find(f, h->origin, &origin_region, NULL) == NULL)
        return ewh_err_set(err, EWH_E_UNKNOWN,
                           "origin %s is in no roster this node holds",
                           h->origin);
    return ewh_fed_may_enter(h->distribution, origin_region, NULL, 0, own,
                             ewh_roster_has_peer(local, origin_region), err);
}

int
node_foreign_json_add(node_store_t *s, const ewh_roster_t *local,
                      const node_foreign_t *f, const char *id,
                      const char *origin, json_t *o, struct ewh_err *err)
{
    struct ewh_header ph;
    const char *region = "";
    uint8_t *env = NULL;
    size_t len = 0;
    int rc;

    if (node_store_envelope_get(s, id, &env, &len, err) != 0)
        return -1;
    rc = ewh_envelope_peek(env, len, &ph, err);
    free(env);
    if (rc != 0)
        return -1;
    if (local != NULL && ewh_roster_find(local, origin, NULL) != NULL)
        region = ewh_roster_region(local);
    else
        (void)node_foreign_find(f, origin, &region, NULL);
    json_object_set_new(o, "distribution",
                        json_string(ewh_distribution_name(ph.distribution)));
    json_object_set_new(o, "origin_region",
                        json_string(region != NULL ? region : ""));
    return 0;
}

/* ---- the agent ---- */

/* The agent's foreign rosters: one agent per process, one loop thread;
 * this module alone owns the set and reloads it after each change. */
static node_foreign_t *s_agent_set;
static bool s_agent_loaded;

const node_foreign_t *
node_foreign_of_agent(struct node_agent *a)
{
    struct ewh_err err = {0};

    if (!s_agent_loaded) {
        node_foreign_destroy(&s_agent_set);
        if ((s_agent_set = node_foreign_load(a->d->store, &err)) == NULL)
            ewh_log_errx("foreign: cannot read the foreign rosters: %s",
                         err.reason);
        else
            s_agent_loaded = true;
    }
    return s_agent_set;
}

void
node_foreign_on_frame(struct node_agent *a, struct node_conn *c,
                      const Ewh__ForeignRoster *fr)
{
    struct ewh_err err = {0};
    uint64_t v = 0;

    if (c->link.roster == NULL) {
        /* Its countries are judged against ours: wait for our roster;
         * the hub sends the foreign ones again with the next session. */
        ewh_log_warnx("foreign: roster of region %s before our own roster; "
                      "ignored",
                      fr->region);
        return;
    }
    node_agent_flush(a); /* the foreign roster has its own transaction */
    if (node_foreign_apply(a->d->store, c->link.roster, fr, &v, &err) == 0) {
        ewh_log_info("foreign: roster of region %s version %llu applied",
                     fr->region, (unsigned long long)v);
        s_agent_loaded = false;
        a->trust_due = true;
    } else if (err.code == EWH_E_VERSION)
        ewh_log_debug("foreign: %s%s", err.reason, c->via);
    else if (ewh_errcode_is_retryable(err.code))
        ewh_log_errx("foreign: roster of region %s not stored: %s", fr->region,
                     err.reason);
    else
        ewh_log_warnx("foreign: refused roster of region %s: %s", fr->region,
                      err.reason);
}
