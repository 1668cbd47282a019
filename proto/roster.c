/* roster.c — the hub-signed roster of enrolled countries. */
#include "ewh/roster.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ewh.pb-c.h"
#include "ewh/util.h"

struct s_entry {
    struct ewh_pubid id;
    bool revoked;
    struct ewh_pubid chain[EWH_MAX_KEY_CHAIN];
    size_t n_chain;
};

struct ewh_roster {
    uint64_t version;
    char cats[EWH_MAX_CATEGORIES][EWH_MAX_CATEGORY_BYTES + 1];
    size_t n_cats;
    struct s_entry e[EWH_MAX_ROSTER_ENTRIES];
    size_t n;
    uint8_t next_sign[32];
    uint8_t next_curve[32];
    bool has_next;
    uint8_t hash[EWH_ROSTER_HASH_BYTES]; /* of the body, set by open */
    bool has_hash;
    uint64_t prev_version;
    uint8_t prev_hash[EWH_ROSTER_HASH_BYTES];
    bool has_prev;
    char region[EWH_MAX_REGION_BYTES + 1]; /* empty: EWH_DEFAULT_REGION */
    char peers[EWH_MAX_FED_PEERS][EWH_MAX_REGION_BYTES + 1];
    size_t n_peers;
};

const char *const ewh_default_categories[] = {
    "early-warning",   "terrorism",  "organised-crime",
    "border-security", "small-arms", "illegal-migration",
    "cyber",           "disaster",   "dual-use-infrastructure",
    "other",           NULL};

const char *const ewh_default_category_help[] = {
    "political-military early warning, conflict prevention, crisis "
    "management",
    "asymmetric threats: terrorism",
    "asymmetric threats: organised crime",
    "border security",
    "small arms and light weapons",
    "illegal migration",
    "cyber threats",
    "disasters and civil emergencies",
    "infrastructure with dual-use potential",
    "anything else",
    NULL};

static bool
s_category_ok(const char *c)
{
    size_t i, n = strlen(c);

    if (n == 0 || n > EWH_MAX_CATEGORY_BYTES)
        return false;
    for (i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') ||
              c[i] == '-'))
            return false;
    return true;
}

int
ewh_roster_set_categories(ewh_roster_t *r, const char *const *cats, size_t n,
                          struct ewh_err *err)
{
    size_t i;

    if (n > EWH_MAX_CATEGORIES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu categories > EWH_MAX_CATEGORIES %u", n,
                           EWH_MAX_CATEGORIES);
    for (i = 0; i < n; i++)
        if (!s_category_ok(cats[i]))
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad category '%.64s' (lower-case letters, "
                               "digits and '-', at most %u bytes)",
                               cats[i], EWH_MAX_CATEGORY_BYTES);
    for (i = 0; i < n; i++)
        snprintf(r->cats[i], sizeof(r->cats[i]), "%s", cats[i]);
    r->n_cats = n;
    return 0;
}

size_t
ewh_roster_category_count(const ewh_roster_t *r)
{
    return r->n_cats;
}

const char *
ewh_roster_category(const ewh_roster_t *r, size_t i)
{
    return i < r->n_cats ? r->cats[i] : NULL;
}

bool
ewh_roster_has_category(const ewh_roster_t *r, const char *cat)
{
    size_t i;

    if (r == NULL || r->n_cats == 0) {
        for (i = 0; ewh_default_categories[i] != NULL; i++)
            if (strcmp(ewh_default_categories[i], cat) == 0)
                return true;
        return false;
    }
    for (i = 0; i < r->n_cats; i++)
        if (strcmp(r->cats[i], cat) == 0)
            return true;
    return false;
}

int
ewh_roster_set_region(ewh_roster_t *r, const char *region, struct ewh_err *err)
{
    if (!ewh_region_is_valid(region))
        return ewh_err_set(err, EWH_E_INVALID,
                           "bad region name (1..%u of a-z, 0-9 and '-')",
                           EWH_MAX_REGION_BYTES);
    snprintf(r->region, sizeof(r->region), "%s", region);
    return 0;
}

const char *
ewh_roster_region(const ewh_roster_t *r)
{
    return r->region[0] != '\0' ? r->region : EWH_DEFAULT_REGION;
}

static int
s_cmp_region(const void *a, const void *b)
{
    return strcmp(a, b);
}

int
ewh_roster_set_peers(ewh_roster_t *r, const char *const *peers, size_t n,
                     struct ewh_err *err)
{
    char tmp[EWH_MAX_FED_PEERS][EWH_MAX_REGION_BYTES + 1];
    size_t i, j;

    if (n > EWH_MAX_FED_PEERS)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu peer regions > EWH_MAX_FED_PEERS %u", n,
                           EWH_MAX_FED_PEERS);
    for (i = 0; i < n; i++) {
        if (!ewh_region_is_valid(peers[i]))
            return ewh_err_set(err, EWH_E_INVALID, "bad peer region name");
        if (strcmp(peers[i], ewh_roster_region(r)) == 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "a region does not peer with itself");
        for (j = 0; j < i; j++)
            if (strcmp(peers[i], peers[j]) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "peer region %s given twice", peers[i]);
        snprintf(tmp[i], sizeof(tmp[i]), "%s", peers[i]);
    }
    qsort(tmp, n, sizeof(tmp[0]), s_cmp_region);
    memcpy(r->peers, tmp, n * sizeof(tmp[0]));
    r->n_peers = n;
    return 0;
}

size_t
ewh_roster_peer_count(const ewh_roster_t *r)
{
    return r->n_peers;
}

const char *
ewh_roster_peer(const ewh_roster_t *r, size_t i)
{
    return i < r->n_peers ? r->peers[i] : NULL;
}

bool
ewh_roster_has_peer(const ewh_roster_t *r, const char *region)
{
    size_t i;

    for (i = 0; i < r->n_peers; i++)
        if (strcmp(r->peers[i], region) == 0)
            return true;
    return false;
}

ewh_roster_t *
ewh_roster_new(uint64_t version)
{
    ewh_roster_t *r = calloc(1, sizeof(*r));

    if (r != NULL)
        r->version = version;
    return r;
}

void
ewh_roster_destroy(ewh_roster_t **r)
{
    if (r == NULL || *r == NULL)
        return;
    free(*r);
    *r = NULL;
}

int
ewh_roster_put(ewh_roster_t *r, const struct ewh_pubid *id, bool revoked,
               struct ewh_err *err)
{
    size_t i;

    if (id->kind != EWH_KIND_NODE || !ewh_country_is_valid(id->country))
        return ewh_err_set(err, EWH_E_INVALID,
                           "roster entries are node identities");
    for (i = 0; i < r->n; i++) {
        int c = strcmp(r->e[i].id.country, id->country);
        if (c == 0) {
            r->e[i].id = *id;
            r->e[i].revoked = revoked;
            r->e[i].n_chain = 0;
            return 0;
        }
        if (c > 0)
            break;
    }
    if (r->n == EWH_MAX_ROSTER_ENTRIES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "roster full: EWH_MAX_ROSTER_ENTRIES %u",
                           EWH_MAX_ROSTER_ENTRIES);
    memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof(r->e[0]));
    r->e[i].id = *id;
    r->e[i].revoked = revoked;
    r->e[i].n_chain = 0;
    r->n++;
    return 0;
}

int
ewh_roster_set_chain(ewh_roster_t *r, const char *cc,
                     const struct ewh_pubid *links, size_t n,
                     struct ewh_err *err)
{
    size_t i;

    if (n > EWH_MAX_KEY_CHAIN)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu chained keys > EWH_MAX_KEY_CHAIN %u", n,
                           EWH_MAX_KEY_CHAIN);
    for (i = 0; i < r->n; i++)
        if (strcmp(r->e[i].id.country, cc) == 0) {
            memcpy(r->e[i].chain, links, n * sizeof(links[0]));
            r->e[i].n_chain = n;
            return 0;
        }
    return ewh_err_set(err, EWH_E_NOTFOUND, "%s is not in the roster", cc);
}

const struct ewh_pubid *
ewh_roster_chain(const ewh_roster_t *r, const char *cc, size_t *n)
{
    size_t i;

    *n = 0;
    for (i = 0; i < r->n; i++)
        if (strcmp(r->e[i].id.country, cc) == 0) {
            *n = r->e[i].n_chain;
            return *n > 0 ? r->e[i].chain : NULL;
        }
    return NULL;
}

uint64_t
ewh_roster_version(const ewh_roster_t *r)
{
    return r->version;
}

size_t
ewh_roster_count(const ewh_roster_t *r)
{
    return r->n;
}

const struct ewh_pubid *
ewh_roster_at(const ewh_roster_t *r, size_t i, bool *revoked)
{
    if (i >= r->n)
        return NULL;
    if (revoked != NULL)
        *revoked = r->e[i].revoked;
    return &r->e[i].id;
}

const struct ewh_pubid *
ewh_roster_find(const ewh_roster_t *r, const char *cc, bool *revoked)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->e[i].id.country, cc) == 0)
            return ewh_roster_at(r, i, revoked);
    return NULL;
}

const struct ewh_pubid *
ewh_roster_lookup(void *ctx, const char *cc)
{
    bool revoked = false;
    const struct ewh_pubid *id = ewh_roster_find(ctx, cc, &revoked);

    return (id != NULL && !revoked) ? id : NULL;
}

const uint8_t *
ewh_roster_next_hub_sign(const ewh_roster_t *r)
{
    return r->has_next ? r->next_sign : NULL;
}

const uint8_t *
ewh_roster_next_hub_curve(const ewh_roster_t *r)
{
    return r->has_next ? r->next_curve : NULL;
}

void
ewh_roster_set_next_hub(ewh_roster_t *r, const uint8_t sign[32],
                        const uint8_t curve[32])
{
    if (sign == NULL || curve == NULL) {
        r->has_next = false;
        return;
    }
    memcpy(r->next_sign, sign, 32);
    memcpy(r->next_curve, curve, 32);
    r->has_next = true;
}

int
ewh_roster_sign(const ewh_roster_t *r, const ewh_secret_t *hub, uint8_t **out,
                size_t *out_len, struct ewh_err *err)
{
    Ewh__RosterBody body = EWH__ROSTER_BODY__INIT;
    Ewh__SignedRoster sr = EWH__SIGNED_ROSTER__INIT;
    Ewh__RosterEntry ent[EWH_MAX_ROSTER_ENTRIES];
    Ewh__RosterEntry *entp[EWH_MAX_ROSTER_ENTRIES];
    Ewh__KeyLink lk[EWH_MAX_ROSTER_ENTRIES][EWH_MAX_KEY_CHAIN];
    Ewh__KeyLink *lkp[EWH_MAX_ROSTER_ENTRIES][EWH_MAX_KEY_CHAIN];
    size_t k;
    char *cats[EWH_MAX_CATEGORIES];
    char *peers[EWH_MAX_FED_PEERS];
    uint8_t sig[EWH_SIG_BYTES], *bbuf = NULL, *obuf = NULL;
    size_t i, blen, olen;

    if (ewh_secret_pubid(hub)->kind != EWH_KIND_HUB)
        return ewh_err_set(err, EWH_E_INVALID, "only the hub signs rosters");
    for (i = 0; i < r->n; i++) {
        ewh__roster_entry__init(&ent[i]);
        ent[i].country = (char *)r->e[i].id.country;
        ent[i].curve.data = (uint8_t *)r->e[i].id.curve;
        ent[i].curve.len = 32;
        ent[i].sign.data = (uint8_t *)r->e[i].id.sign;
        ent[i].sign.len = 32;
        ent[i].box.data = (uint8_t *)r->e[i].id.box;
        ent[i].box.len = 32;
        ent[i].revoked = r->e[i].revoked;
        if (r->e[i].id.endorsed) {
            ent[i].endorsed_by.data = (uint8_t *)r->e[i].id.endorsed_by;
            ent[i].endorsed_by.len = 32;
            ent[i].endorsement.data = (uint8_t *)r->e[i].id.endorsement;
            ent[i].endorsement.len = 64;
        }
        for (k = 0; k < r->e[i].n_chain; k++) {
            const struct ewh_pubid *c = &r->e[i].chain[k];
            ewh__key_link__init(&lk[i][k]);
            lk[i][k].curve.data = (uint8_t *)c->curve;
            lk[i][k].curve.len = 32;
            lk[i][k].sign.data = (uint8_t *)c->sign;
            lk[i][k].sign.len = 32;
            lk[i][k].box.data = (uint8_t *)c->box;
            lk[i][k].box.len = 32;
            if (c->endorsed) {
                lk[i][k].endorsed_by.data = (uint8_t *)c->endorsed_by;
                lk[i][k].endorsed_by.len = 32;
                lk[i][k].endorsement.data = (uint8_t *)c->endorsement;
                lk[i][k].endorsement.len = 64;
            }
            lkp[i][k] = &lk[i][k];
        }
        ent[i].n_chain = r->e[i].n_chain;
        ent[i].chain = r->e[i].n_chain > 0 ? lkp[i] : NULL;
        entp[i] = &ent[i];
    }
    body.version = r->version;
    body.issued_at = ewh_now();
    body.n_entries = r->n;
    body.entries = entp;
    body.hub_sign.data = (uint8_t *)ewh_secret_pubid(hub)->sign;
    body.hub_sign.len = 32;
    if (r->has_next) {
        body.next_hub_sign.data = (uint8_t *)r->next_sign;
        body.next_hub_sign.len = 32;
        body.next_hub_curve.data = (uint8_t *)r->next_curve;
        body.next_hub_curve.len = 32;
    }
    for (i = 0; i < r->n_cats; i++)
        cats[i] = (char *)r->cats[i];
    body.n_categories = r->n_cats;
    body.categories = cats;
    /* An unset region stays off the wire: the roster of a hub that has
     * not configured federation is byte for byte what it was. */
    if (r->region[0] != '\0')
        body.region = (char *)r->region;
    for (i = 0; i < r->n_peers; i++)
        peers[i] = (char *)r->peers[i];
    body.n_peers = r->n_peers;
    body.peers = peers;
    if (r->has_prev) {
        body.prev_version = r->prev_version;
        body.prev_hash.data = (uint8_t *)r->prev_hash;
        body.prev_hash.len = EWH_ROSTER_HASH_BYTES;
    }
    blen = ewh__roster_body__get_packed_size(&body);
    if ((bbuf = malloc(blen)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    ewh__roster_body__pack(&body, bbuf);
    if (ewh_sign(EWH_CTX_ROSTER, bbuf, blen, ewh_secret_sign_sk(hub), sig,
                 err) != 0) {
        free(bbuf);
        return -1;
    }
    sr.body.data = bbuf;
    sr.body.len = blen;
    sr.signature.data = sig;
    sr.signature.len = sizeof(sig);
    olen = ewh__signed_roster__get_packed_size(&sr);
    if (olen > EWH_MAX_ROSTER_BYTES || (obuf = malloc(olen)) == NULL) {
        free(bbuf);
        return ewh_err_set(err, EWH_E_TOOBIG, "roster too large");
    }
    ewh__signed_roster__pack(&sr, obuf);
    free(bbuf);
    *out = obuf;
    *out_len = olen;
    return 0;
}

/* An entry's chain: each link a key of the same country, its endorsement
 * (if any) verifying over it.  Whether the links join up is the node's to
 * judge (docs/trust.md). */
static int
s_open_chain(ewh_roster_t *r, const Ewh__RosterEntry *e, struct ewh_err *err)
{
    struct ewh_pubid links[EWH_MAX_KEY_CHAIN];
    size_t k;

    if (e->n_chain > EWH_MAX_KEY_CHAIN)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu chained keys > EWH_MAX_KEY_CHAIN %u",
                           e->n_chain, EWH_MAX_KEY_CHAIN);
    for (k = 0; k < e->n_chain; k++) {
        const Ewh__KeyLink *l = e->chain[k];
        struct ewh_pubid *c = &links[k];
        memset(c, 0, sizeof(*c));
        c->kind = EWH_KIND_NODE;
        memcpy(c->country, e->country, 3);
        if (l->curve.len != 32 || l->sign.len != 32 || l->box.len != 32)
            return ewh_err_set(err, EWH_E_INVALID, "bad chained key");
        memcpy(c->curve, l->curve.data, 32);
        memcpy(c->sign, l->sign.data, 32);
        memcpy(c->box, l->box.data, 32);
        if (l->endorsed_by.len != 0 || l->endorsement.len != 0) {
            if (l->endorsed_by.len != 32 || l->endorsement.len != 64)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "bad chained endorsement");
            memcpy(c->endorsed_by, l->endorsed_by.data, 32);
            memcpy(c->endorsement, l->endorsement.data, 64);
            c->endorsed = true;
            if (ewh_pubid_endorsement_check(c, NULL, err) != 0)
                return -1;
        }
    }
    return e->n_chain > 0
               ? ewh_roster_set_chain(r, e->country, links, e->n_chain, err)
               : 0;
}

ewh_roster_t *
ewh_roster_open(const uint8_t *buf, size_t len, const uint8_t hub_sign[32],
                struct ewh_err *err)
{
    Ewh__SignedRoster *sr = NULL;
    Ewh__RosterBody *b = NULL;
    ewh_roster_t *r = NULL;
    size_t i;

    if (len > EWH_MAX_ROSTER_BYTES) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "roster of %zu bytes > EWH_MAX_ROSTER_BYTES %u", len,
                    EWH_MAX_ROSTER_BYTES);
        return NULL;
    }
    if ((sr = ewh__signed_roster__unpack(NULL, len, buf)) == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed roster");
        goto fail;
    }
    if (ewh_verify(EWH_CTX_ROSTER, sr->body.data, sr->body.len, hub_sign,
                   sr->signature.data, sr->signature.len, err) != 0) {
        ewh_err_set(err, EWH_E_SIGNATURE,
                    "roster not signed by the pinned hub key");
        goto fail;
    }
    if ((b = ewh__roster_body__unpack(NULL, sr->body.len, sr->body.data)) ==
        NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed roster body");
        goto fail;
    }
    if (b->hub_sign.len != 32 || memcmp(b->hub_sign.data, hub_sign, 32) != 0) {
        ewh_err_set(err, EWH_E_INVALID, "roster names another hub key");
        goto fail;
    }
    if (b->n_entries > EWH_MAX_ROSTER_ENTRIES) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "%zu roster entries > EWH_MAX_ROSTER_ENTRIES %u",
                    b->n_entries, EWH_MAX_ROSTER_ENTRIES);
        goto fail;
    }
    if ((r = ewh_roster_new(b->version)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < b->n_entries; i++) {
        const Ewh__RosterEntry *e = b->entries[i];
        struct ewh_pubid id = {.kind = EWH_KIND_NODE};
        if (!ewh_country_is_valid(e->country) || e->curve.len != 32 ||
            e->sign.len != 32 || e->box.len != 32 ||
            ewh_roster_find(r, e->country, NULL) != NULL) {
            ewh_err_set(err, EWH_E_INVALID, "bad roster entry %zu", i);
            goto fail;
        }
        memcpy(id.country, e->country, 3);
        memcpy(id.curve, e->curve.data, 32);
        memcpy(id.sign, e->sign.data, 32);
        memcpy(id.box, e->box.data, 32);
        if (e->endorsed_by.len != 0 || e->endorsement.len != 0) {
            /* A hub-signed entry whose endorsement does not verify is a
             * lie, not an unendorsed change: the roster is refused. */
            if (e->endorsed_by.len != 32 || e->endorsement.len != 64) {
                ewh_err_set(err, EWH_E_INVALID,
                            "bad endorsement in roster entry %zu", i);
                goto fail;
            }
            memcpy(id.endorsed_by, e->endorsed_by.data, 32);
            memcpy(id.endorsement, e->endorsement.data, 64);
            id.endorsed = true;
            if (ewh_pubid_endorsement_check(&id, NULL, err) != 0)
                goto fail;
        }
        if (ewh_roster_put(r, &id, e->revoked, err) != 0 ||
            s_open_chain(r, e, err) != 0)
            goto fail;
    }
    if (ewh_roster_set_categories(r, (const char *const *)b->categories,
                                  b->n_categories, err) != 0)
        goto fail;
    if (b->next_hub_sign.len == 32 && b->next_hub_curve.len == 32)
        ewh_roster_set_next_hub(r, b->next_hub_sign.data,
                                b->next_hub_curve.data);
    else if (b->next_hub_sign.len != 0 || b->next_hub_curve.len != 0) {
        ewh_err_set(err, EWH_E_INVALID, "bad next hub keys");
        goto fail;
    }
    if (b->region != NULL && b->region[0] != '\0' &&
        ewh_roster_set_region(r, b->region, err) != 0)
        goto fail;
    if (ewh_roster_set_peers(r, (const char *const *)b->peers, b->n_peers,
                             err) != 0)
        goto fail;
    if (b->prev_hash.len == EWH_ROSTER_HASH_BYTES) {
        if (b->prev_version >= b->version) {
            ewh_err_set(err, EWH_E_INVALID,
                        "roster %llu names a previous version %llu not "
                        "before it",
                        (unsigned long long)b->version,
                        (unsigned long long)b->prev_version);
            goto fail;
        }
        ewh_roster_set_prev(r, b->prev_version, b->prev_hash.data);
    } else if (b->prev_hash.len != 0 || b->prev_version != 0) {
        ewh_err_set(err, EWH_E_INVALID, "bad previous roster hash");
        goto fail;
    }
    crypto_generichash(r->hash, sizeof(r->hash), sr->body.data, sr->body.len,
                       NULL, 0);
    r->has_hash = true;
    ewh__roster_body__free_unpacked(b, NULL);
    ewh__signed_roster__free_unpacked(sr, NULL);
    return r;
fail:
    ewh_roster_destroy(&r);
    if (b != NULL)
        ewh__roster_body__free_unpacked(b, NULL);
    if (sr != NULL)
        ewh__signed_roster__free_unpacked(sr, NULL);
    return NULL;
}

void
ewh_roster_set_prev(ewh_roster_t *r, uint64_t version,
                    const uint8_t hash[EWH_ROSTER_HASH_BYTES])
{
    if (hash == NULL) {
        r->has_prev = false;
        r->prev_version = 0;
        return;
    }
    r->prev_version = version;
    memcpy(r->prev_hash, hash, EWH_ROSTER_HASH_BYTES);
    r->has_prev = true;
}

const uint8_t *
ewh_roster_prev(const ewh_roster_t *r, uint64_t *version)
{
    if (version != NULL)
        *version = r->has_prev ? r->prev_version : 0;
    return r->has_prev ? r->prev_hash : NULL;
}

const uint8_t *
ewh_roster_hash(const ewh_roster_t *r)
{
    return r->has_hash ? r->hash : NULL;
}

bool
ewh_roster_links(const ewh_roster_t *next, const ewh_roster_t *prev)
{
    return next->has_prev && prev->has_hash &&
           next->prev_version == prev->version &&
           sodium_memcmp(next->prev_hash, prev->hash, EWH_ROSTER_HASH_BYTES) ==
               0;
}

/* ---- key continuity (docs/trust.md) ---- */

bool
ewh_pubid_follows(const struct ewh_pubid *id, const struct ewh_pubid *links,
                  size_t n, const uint8_t held[32], size_t *k)
{
    size_t j, dummy;

    if (k == NULL)
        k = &dummy;
    *k = 0;
    if (!id->endorsed || ewh_pubid_endorsement_check(id, NULL, NULL) != 0)
        return false;
    if (sodium_memcmp(id->endorsed_by, held, 32) == 0)
        return true;
    for (j = 0; j < n; j++) {
        /* each link is the key that endorsed the one before it */
        const uint8_t *by = j == 0 ? id->endorsed_by : links[j - 1].endorsed_by;
        if (memcmp(links[j].sign, by, 32) != 0)
            return false;
        if (sodium_memcmp(links[j].sign, held, 32) == 0) {
            *k = j;
            return true;
        }
        if (!links[j].endorsed ||
            ewh_pubid_endorsement_check(&links[j], NULL, NULL) != 0)
            return false;
        if (sodium_memcmp(links[j].endorsed_by, held, 32) == 0) {
            *k = j + 1;
            return true;
        }
    }
    return false;
}

size_t
ewh_roster_ancestry(const ewh_roster_t *r, const struct ewh_pubid *id,
                    uint8_t anc[1 + EWH_MAX_KEY_CHAIN][32])
{
    const struct ewh_pubid *links;
    size_t nl = 0, j, k = 0;

    if (!id->endorsed || ewh_pubid_endorsement_check(id, NULL, NULL) != 0)
        return 0;
    memcpy(anc[k++], id->endorsed_by, 32);
    links = ewh_roster_chain(r, id->country, &nl);
    for (j = 0; j < nl && j < EWH_MAX_KEY_CHAIN; j++) {
        if (memcmp(links[j].sign, anc[k - 1], 32) != 0 || !links[j].endorsed ||
            ewh_pubid_endorsement_check(&links[j], NULL, NULL) != 0)
            break;
        memcpy(anc[k++], links[j].endorsed_by, 32);
    }
    return k;
}
