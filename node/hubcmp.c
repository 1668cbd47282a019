/* hubcmp.c — compare the rosters of two hubs (issue 18). */
#include "hubcmp.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ewh/identity.h"

static const char *const s_names[] = {
    [NODE_HUBCMP_A_LAGS] = "a-lags",
    [NODE_HUBCMP_B_LAGS] = "b-lags",
    [NODE_HUBCMP_ONLY_A] = "only-a",
    [NODE_HUBCMP_ONLY_B] = "only-b",
    [NODE_HUBCMP_REVOKED_A] = "revoked-a",
    [NODE_HUBCMP_REVOKED_B] = "revoked-b",
    [NODE_HUBCMP_FORKED] = "forked",
    [NODE_HUBCMP_KEYS_DIFFER] = "keys-differ",
};

const char *
node_hubcmp_reason_name(enum node_hubcmp_reason r)
{
    if ((int)r < NODE_HUBCMP_A_LAGS || (int)r > NODE_HUBCMP__MAX)
        return "unknown";
    return s_names[r];
}

size_t
node_hubcmp_alarms(const struct node_hubcmp_diff *diffs, size_t n)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++)
        k += diffs[i].alarm ? 1 : 0;
    return k;
}

static bool
s_in(const uint8_t key[EWH_KEY_BYTES],
     uint8_t set[1 + EWH_MAX_KEY_CHAIN][EWH_KEY_BYTES], size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (sodium_memcmp(set[i], key, EWH_KEY_BYTES) == 0)
            return true;
    return false;
}

/* A country present in both rosters: 0 when they agree, else the reason. */
static int
s_compare(const ewh_roster_t *a, const struct ewh_pubid *ia, bool ra,
          const ewh_roster_t *b, const struct ewh_pubid *ib, bool rb)
{
    uint8_t anc_a[1 + EWH_MAX_KEY_CHAIN][EWH_KEY_BYTES];
    uint8_t anc_b[1 + EWH_MAX_KEY_CHAIN][EWH_KEY_BYTES];
    size_t na, nb, i;

    /* Revoked at both: no node seals for it through either hub. */
    if (ra && rb)
        return 0;
    if (ra)
        return NODE_HUBCMP_REVOKED_A;
    if (rb)
        return NODE_HUBCMP_REVOKED_B;
    if (ewh_pubid_equal(ia, ib))
        return 0;
    na = ewh_roster_ancestry(a, ia, anc_a);
    nb = ewh_roster_ancestry(b, ib, anc_b);
    if (s_in(ia->sign, anc_b, nb))
        return NODE_HUBCMP_A_LAGS;
    if (s_in(ib->sign, anc_a, na))
        return NODE_HUBCMP_B_LAGS;
    for (i = 0; i < na; i++)
        if (s_in(anc_a[i], anc_b, nb))
            return NODE_HUBCMP_FORKED;
    return NODE_HUBCMP_KEYS_DIFFER;
}

static void
s_text(struct node_hubcmp_diff *d, const struct ewh_pubid *ia, bool ra,
       const struct ewh_pubid *ib, bool rb)
{
    char fa[EWH_FINGERPRINT_CHARS] = "-", fb[EWH_FINGERPRINT_CHARS] = "-";
    const char *cc = d->country;

    if (ia != NULL)
        ewh_pubid_fingerprint(ia, fa);
    if (ib != NULL)
        ewh_pubid_fingerprint(ib, fb);
    switch (d->reason) {
    case NODE_HUBCMP_A_LAGS:
        snprintf(d->text, sizeof(d->text),
                 "%s: A holds key %s, B the newer key %s endorsed from it "
                 "(A lags behind the re-key)",
                 cc, fa, fb);
        break;
    case NODE_HUBCMP_B_LAGS:
        snprintf(d->text, sizeof(d->text),
                 "%s: B holds key %s, A the newer key %s endorsed from it "
                 "(B lags behind the re-key)",
                 cc, fb, fa);
        break;
    case NODE_HUBCMP_ONLY_A:
        snprintf(d->text, sizeof(d->text),
                 "%s is in A's roster (key %s%s) but not in B's", cc, fa,
                 ra ? ", revoked" : "");
        break;
    case NODE_HUBCMP_ONLY_B:
        snprintf(d->text, sizeof(d->text),
                 "%s is in B's roster (key %s%s) but not in A's", cc, fb,
                 rb ? ", revoked" : "");
        break;
    case NODE_HUBCMP_REVOKED_A:
        snprintf(d->text, sizeof(d->text),
                 "%s is revoked at A (key %s) but not at B (key %s)", cc, fa,
                 fb);
        break;
    case NODE_HUBCMP_REVOKED_B:
        snprintf(d->text, sizeof(d->text),
                 "%s is revoked at B (key %s) but not at A (key %s)", cc, fb,
                 fa);
        break;
    case NODE_HUBCMP_FORKED:
        snprintf(d->text, sizeof(d->text),
                 "%s: A shows key %s, B key %s, both endorsed from one "
                 "earlier key: two successors of one key",
                 cc, fa, fb);
        break;
    case NODE_HUBCMP_KEYS_DIFFER:
        snprintf(d->text, sizeof(d->text),
                 "%s: A shows key %s, B key %s, and no endorsement links "
                 "them",
                 cc, fa, fb);
        break;
    }
}

int
node_hubcmp_rosters(const ewh_roster_t *a, const ewh_roster_t *b,
                    struct node_hubcmp_diff *out, size_t cap, size_t *n,
                    struct ewh_err *err)
{
    size_t i = 0, j = 0, na, nb;

    *n = 0;
    if (a == NULL || b == NULL)
        return ewh_err_set(err, EWH_E_INVALID, "hubcmp: no roster");
    na = ewh_roster_count(a);
    nb = ewh_roster_count(b);
    /* Both are sorted by country: one merge walk. */
    while (i < na || j < nb) {
        bool ra = false, rb = false;
        const struct ewh_pubid *ia = i < na ? ewh_roster_at(a, i, &ra) : NULL;
        const struct ewh_pubid *ib = j < nb ? ewh_roster_at(b, j, &rb) : NULL;
        int c = ia == NULL   ? 1
                : ib == NULL ? -1
                             : strcmp(ia->country, ib->country);
        int reason;
        struct node_hubcmp_diff *d;

        if (c < 0) {
            reason = NODE_HUBCMP_ONLY_A;
            ib = NULL;
            i++;
        } else if (c > 0) {
            reason = NODE_HUBCMP_ONLY_B;
            ia = NULL;
            j++;
        } else {
            reason = s_compare(a, ia, ra, b, ib, rb);
            i++;
            j++;
        }
        if (reason == 0)
            continue;
        if (*n == cap)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "hubcmp: more than %zu differences", cap);
        d = &out[(*n)++];
        memset(d, 0, sizeof(*d));
        snprintf(d->country, sizeof(d->country), "%s",
                 ia != NULL ? ia->country : ib->country);
        d->reason = (enum node_hubcmp_reason)reason;
        d->alarm = reason != NODE_HUBCMP_A_LAGS && reason != NODE_HUBCMP_B_LAGS;
        s_text(d, ia, ra, ib, rb);
    }
    return 0;
}
