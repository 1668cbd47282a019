/* rosterimport.c — another hub's roster into this hub's store, under key
 * continuity (docs/roster-sharing.md). */
#include "rosterimport.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

bool
hub_import_is_change(enum hub_import_kind k)
{
    return k == HUB_IMPORT_ENROL || k == HUB_IMPORT_ENROL_REVOKED ||
           k == HUB_IMPORT_REKEY || k == HUB_IMPORT_REKEY_UNENDORSED ||
           k == HUB_IMPORT_REVOKE || k == HUB_IMPORT_REVOKED_KEYS;
}

static bool
s_forked(const ewh_roster_t *here, const struct ewh_pubid *ih,
         const ewh_roster_t *from, const struct ewh_pubid *ia)
{
    uint8_t ah[1 + EWH_MAX_KEY_CHAIN][32], aa[1 + EWH_MAX_KEY_CHAIN][32];
    size_t nh = ewh_roster_ancestry(here, ih, ah),
           na = ewh_roster_ancestry(from, ia, aa), i, j;

    for (i = 0; i < nh; i++)
        for (j = 0; j < na; j++)
            if (sodium_memcmp(ah[i], aa[j], 32) == 0)
                return true;
    return false;
}

/* A country in both rosters: 0 when nothing is to be done or said. */
static int
s_both(const ewh_roster_t *here, const struct ewh_pubid *ih, bool rh,
       const ewh_roster_t *from, const struct ewh_pubid *ia, bool ra,
       struct hub_import_op *op)
{
    const struct ewh_pubid *links;
    size_t nl = 0, k = 0, j;

    if (rh && ra)
        return ewh_pubid_equal(ih, ia) ? 0 : HUB_IMPORT_REVOKED_KEYS;
    if (ra)
        return HUB_IMPORT_REVOKE;
    if (rh)
        return HUB_IMPORT_KEEP_REVOKED;
    if (ewh_pubid_equal(ih, ia))
        return 0;
    links = ewh_roster_chain(from, ia->country, &nl);
    if (ewh_pubid_follows(ia, links, nl, ih->sign, &k)) {
        /* oldest first: links[k-1] was endorsed by B's key */
        for (j = 0; j < k; j++)
            op->links[j] = links[k - 1 - j];
        op->n_links = k;
        return HUB_IMPORT_REKEY;
    }
    links = ewh_roster_chain(here, ih->country, &nl);
    if (ewh_pubid_follows(ih, links, nl, ia->sign, &k))
        return HUB_IMPORT_KEEP_NEWER;
    op->forked = s_forked(here, ih, from, ia);
    return HUB_IMPORT_REKEY_UNENDORSED;
}

int
hub_import_plan(const ewh_roster_t *here, const ewh_roster_t *from,
                bool accept_unendorsed, struct hub_import_op *ops, size_t cap,
                size_t *n, size_t *refused, struct ewh_err *err)
{
    size_t i = 0, j = 0, nh = ewh_roster_count(here),
           na = ewh_roster_count(from);
    struct hub_import_op op;

    *n = *refused = 0;
    while (i < nh || j < na) {
        bool rh = false, ra = false;
        const struct ewh_pubid *ih =
            i < nh ? ewh_roster_at(here, i, &rh) : NULL;
        const struct ewh_pubid *ia =
            j < na ? ewh_roster_at(from, j, &ra) : NULL;
        int c = ih == NULL   ? 1
                : ia == NULL ? -1
                             : strcmp(ih->country, ia->country);
        int kind;

        memset(&op, 0, sizeof(op));
        if (c < 0) {
            kind = HUB_IMPORT_KEEP_ONLY_HERE;
            ia = NULL;
            i++;
        } else if (c > 0) {
            kind = ra ? HUB_IMPORT_ENROL_REVOKED : HUB_IMPORT_ENROL;
            ih = NULL;
            j++;
        } else {
            kind = s_both(here, ih, rh, from, ia, ra, &op);
            i++;
            j++;
        }
        if (kind == 0)
            continue;
        if (*n == cap)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "roster import: more than %zu changes", cap);
        op.kind = (enum hub_import_kind)kind;
        op.id = ia != NULL ? *ia : *ih;
        snprintf(op.country, sizeof(op.country), "%s", op.id.country);
        snprintf(op.fp_here, sizeof(op.fp_here), "-");
        snprintf(op.fp_from, sizeof(op.fp_from), "-");
        if (ih != NULL)
            ewh_pubid_fingerprint(ih, op.fp_here);
        if (ia != NULL)
            ewh_pubid_fingerprint(ia, op.fp_from);
        if (kind == HUB_IMPORT_REKEY_UNENDORSED && !accept_unendorsed) {
            op.refused = true;
            (*refused)++;
        }
        ops[(*n)++] = op;
    }
    return 0;
}

int
hub_import_apply(hub_store_t *st, const struct hub_import_op *ops, size_t n,
                 size_t *changes, struct ewh_err *err)
{
    struct ewh_err e = {0};
    enum hub_enrol_result res;
    size_t i, j;
    bool changed;

    *changes = 0;
    for (i = 0; i < n; i++) {
        const struct hub_import_op *op = &ops[i];
        EWH_ASSERT(!op->refused);
        ewh_err_clear(&e);
        switch (op->kind) {
        case HUB_IMPORT_ENROL:
        case HUB_IMPORT_ENROL_REVOKED:
            if (hub_store_node_enrol_in(st, &op->id, false, &res, NULL, &e) !=
                0) {
                /* Keys this hub revoked itself: they stay refused, and so
                 * does the country. */
                if (op->kind != HUB_IMPORT_ENROL_REVOKED ||
                    e.code != EWH_E_REVOKED)
                    goto fail;
                if (hub_store_keys_revoked_add(st, &op->id, &e) != 0)
                    goto fail;
                (*changes)++;
                break;
            }
            if (op->kind == HUB_IMPORT_ENROL_REVOKED &&
                (hub_store_node_revoke_in(st, op->country, &changed, &e) != 0 ||
                 hub_store_keys_revoked_add(st, &op->id, &e) != 0))
                goto fail;
            (*changes)++;
            break;
        case HUB_IMPORT_REKEY:
            /* Each key in between, then A's: each endorsed by the one the
             * store holds at that moment. */
            for (j = 0; j <= op->n_links; j++) {
                const struct ewh_pubid *k =
                    j < op->n_links ? &op->links[j] : &op->id;
                if (hub_store_node_enrol_in(st, k, false, &res, NULL, &e) != 0)
                    goto fail;
                if (res != HUB_ENROL_ENDORSED) {
                    ewh_err_set(&e, EWH_E_SIGNATURE,
                                "the re-key was not taken as endorsed by the "
                                "key this hub holds");
                    goto fail;
                }
            }
            (*changes)++;
            break;
        case HUB_IMPORT_REKEY_UNENDORSED:
            if (hub_store_node_enrol_in(st, &op->id, false, &res, NULL, &e) !=
                0)
                goto fail;
            (*changes)++;
            break;
        case HUB_IMPORT_REVOKE:
            if (hub_store_node_revoke_in(st, op->country, &changed, &e) != 0 ||
                hub_store_keys_revoked_add(st, &op->id, &e) != 0)
                goto fail;
            (*changes)++;
            break;
        case HUB_IMPORT_REVOKED_KEYS:
            if (hub_store_keys_revoked_add(st, &op->id, &e) != 0)
                goto fail;
            (*changes)++;
            break;
        case HUB_IMPORT_KEEP_REVOKED:
        case HUB_IMPORT_KEEP_NEWER:
        case HUB_IMPORT_KEEP_ONLY_HERE:
            break;
        }
    }
    return 0;
fail:
    return ewh_err_set(err, e.code != EWH_E_OK ? e.code : EWH_E_STORE, "%s: %s",
                       ops[i].country, e.reason);
}

void
hub_import_describe(const struct hub_import_op *op, char *out, size_t cap)
{
    const char *cc = op->country;

    switch (op->kind) {
    case HUB_IMPORT_ENROL:
        snprintf(out, cap, "enrolled %s: fingerprint %s (new here)", cc,
                 op->fp_from);
        break;
    case HUB_IMPORT_ENROL_REVOKED:
        snprintf(out, cap,
                 "enrolled %s revoked: fingerprint %s (revoked at the other "
                 "hub; its keys are refused here too)",
                 cc, op->fp_from);
        break;
    case HUB_IMPORT_REKEY:
        snprintf(out, cap,
                 "re-keyed %s: %s -> %s, endorsed by its previous key%s", cc,
                 op->fp_here, op->fp_from,
                 op->n_links > 0 ? " (through the keys in between)" : "");
        break;
    case HUB_IMPORT_REKEY_UNENDORSED:
        if (op->refused)
            snprintf(out, cap,
                     "REFUSED %s: the other hub shows key %s, this hub holds "
                     "%s, and %s: a lost key or a hub lying; compare the "
                     "fingerprint with %s by telephone, then import with "
                     "--accept-unendorsed (or ewhub enroll its file)",
                     cc, op->fp_from, op->fp_here,
                     op->forked ? "both keys descend from one earlier key "
                                  "(two successors)"
                                : "no endorsement links them",
                     cc);
        else
            snprintf(out, cap,
                     "re-keyed %s UNENDORSED: %s -> %s (--accept-unendorsed): "
                     "every node of this hub marks %s unverified until its "
                     "officer compares the fingerprint by telephone",
                     cc, op->fp_here, op->fp_from, cc);
        break;
    case HUB_IMPORT_REVOKE:
        snprintf(out, cap, "revoked %s (revoked at the other hub, key %s)", cc,
                 op->fp_from);
        break;
    case HUB_IMPORT_REVOKED_KEYS:
        snprintf(out, cap,
                 "%s is revoked at both; the other hub's revoked key %s is "
                 "refused here too",
                 cc, op->fp_from);
        break;
    case HUB_IMPORT_KEEP_REVOKED:
        snprintf(out, cap,
                 "kept %s revoked: the other hub still enrols it (key %s); "
                 "an import never lifts a revocation",
                 cc, op->fp_from);
        break;
    case HUB_IMPORT_KEEP_NEWER:
        snprintf(out, cap,
                 "kept %s: this hub holds key %s, endorsed from the other "
                 "hub's %s (the other hub lags behind the re-key)",
                 cc, op->fp_here, op->fp_from);
        break;
    case HUB_IMPORT_KEEP_ONLY_HERE:
        snprintf(out, cap,
                 "kept %s: enrolled here (key %s), not in the other hub's "
                 "roster",
                 cc, op->fp_here);
        break;
    }
}
