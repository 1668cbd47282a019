/*
 * trust.c — key continuity, unverified peers and split views: the
 * decisions (docs/trust.md).  The memory is store_trust.c.
 */
#include "trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dir.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"

static const char *
s_hex8(const uint8_t *h, char out[17])
{
    return ewh_hex(h, 8, out, 17);
}

/* A split view: keep the evidence, mark the peer, say it at error. */
static int
s_split(node_store_t *s, const char *cc, uint64_t version, const uint8_t *ours,
        const uint8_t *theirs, const char *what, const uint8_t *signed_buf,
        size_t len, struct ewh_err *err)
{
    struct node_trust t;
    char a[17], b[17];

    if (node_store_split_add(s, cc, version, ours, theirs, what, signed_buf,
                             len, err) != 0)
        return -1;
    if (node_store_trust_get(s, cc, &t, err) == 0) {
        t.verified = false;
        snprintf(t.why, sizeof(t.why), "split-view");
        if (node_store_trust_put(s, &t, err) != 0)
            return -1;
    } else if (err == NULL || err->code != EWH_E_NOTFOUND)
        return -1;
    ewh_log_errx("trust: SPLIT VIEW: %s's %s names roster version %llu with "
                 "hash %s..., this node holds %s... for it: the hub showed "
                 "the two countries different rosters.  Evidence kept; "
                 "nothing is sealed for %s (ewnode audit)",
                 cc, what, (unsigned long long)version, s_hex8(theirs, a),
                 s_hex8(ours, b), cc);
    return 0;
}

struct s_late {
    node_store_t *s;
    uint64_t version;
    const uint8_t *ours;
    struct ewh_err *err;
};

static int
s_late_split(void *ctx, const char *cc, const uint8_t hash[32],
             const char *what, const uint8_t *buf, size_t len)
{
    struct s_late *l = ctx;

    return s_split(l->s, cc, l->version, l->ours, hash, what, buf, len, l->err);
}

int
node_trust_chain_check(const ewh_roster_t *got, const ewh_roster_t *held,
                       struct ewh_err *err)
{
    uint64_t pv = 0, hv;
    const uint8_t *ph;

    if (held == NULL)
        return 0;
    hv = ewh_roster_version(held);
    ph = ewh_roster_prev(got, &pv);
    if (ph == NULL) {
        /* A hub before the chain signs none; one that had started the
         * chain does not start it again. */
        if (ewh_roster_prev(held, NULL) != NULL)
            return ewh_err_set(err, EWH_E_SIGNATURE,
                               "roster version %llu names no previous "
                               "roster, but the one held (%llu) is in a "
                               "chain: refused",
                               (unsigned long long)ewh_roster_version(got),
                               (unsigned long long)hv);
        return 0;
    }
    if (pv == hv && !ewh_roster_links(got, held))
        return ewh_err_set(err, EWH_E_SIGNATURE,
                           "roster version %llu names another roster %llu "
                           "than the one held: its chain does not link "
                           "(the hub signed two rosters of version %llu)",
                           (unsigned long long)ewh_roster_version(got),
                           (unsigned long long)pv, (unsigned long long)pv);
    if (pv < hv)
        return ewh_err_set(err, EWH_E_SIGNATURE,
                           "roster version %llu follows version %llu, not "
                           "the one held (%llu): it does not extend this "
                           "node's history",
                           (unsigned long long)ewh_roster_version(got),
                           (unsigned long long)pv, (unsigned long long)hv);
    if (pv > hv)
        ewh_log_info("trust: roster version %llu follows %llu; this node "
                     "held %llu (versions in between not seen)",
                     (unsigned long long)ewh_roster_version(got),
                     (unsigned long long)pv, (unsigned long long)hv);
    return 0;
}

static void
s_trust_of(struct node_trust *t, const struct ewh_pubid *id, bool verified,
           const char *why)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->country, sizeof(t->country), "%s", id->country);
    memcpy(t->sign, id->sign, sizeof(t->sign));
    ewh_pubid_fingerprint(id, t->fp);
    t->verified = verified;
    snprintf(t->why, sizeof(t->why), "%s", why);
    t->since = ewh_now();
}

/* A peer first seen: trusted on first use, or unverified. */
static int
s_first_seen(node_store_t *s, const struct ewh_pubid *id, bool tofu,
             const char *when, struct ewh_err *err)
{
    struct node_trust t;

    s_trust_of(&t, id, tofu, tofu ? "tofu" : "new-country");
    if (node_store_trust_put(s, &t, err) != 0 ||
        node_store_key_put(s, id, tofu, tofu ? "tofu" : "unendorsed", err) != 0)
        return -1;
    if (tofu)
        ewh_log_info("trust: %s fingerprint %s trusted on first use (%s); "
                     "compare it by telephone (ewnode peers)",
                     id->country, t.fp, when);
    else
        ewh_log_warnx("trust: %s is new in the roster (fingerprint %s): "
                      "UNVERIFIED; nothing is sealed for it until an "
                      "officer compares the fingerprint by telephone "
                      "(ewnode peers verify %s %s)",
                      id->country, t.fp, id->country, t.fp);
    return 0;
}

/* A peer whose keys changed. */
static int
s_changed(node_store_t *s, const struct node_trust *t,
          const struct ewh_pubid *id, const struct ewh_pubid *links,
          size_t n_links, struct ewh_err *err)
{
    size_t k = 0, j;
    struct node_trust nt;
    struct ewh_pubid prev = {.kind = EWH_KIND_NODE};
    bool found, trusted;
    char how[16];

    if (strcmp(t->why, "split-view") != 0 &&
        ewh_pubid_follows(id, links, n_links, t->sign, &k)) {
        /* Key continuity: the key held endorsed the new one (through the
         * keys in between when this node missed re-keys). */
        s_trust_of(&nt, id, t->verified, t->verified ? "endorsed" : t->why);
        if (node_store_trust_put(s, &nt, err) != 0 ||
            node_store_key_put(s, id, t->verified, "endorsed", err) != 0)
            return -1;
        for (j = 0; j < k; j++)
            if (node_store_key_put(s, &links[j], t->verified, "endorsed",
                                   err) != 0)
                return -1;
        if (k == 0)
            ewh_log_info("trust: %s re-keyed %s -> %s, endorsed by its "
                         "previous key%s",
                         id->country, t->fp, nt.fp,
                         t->verified ? "" : " (still unverified)");
        else
            ewh_log_info("trust: %s re-keyed %s -> %s, endorsed through %zu "
                         "key(s) in between%s",
                         id->country, t->fp, nt.fp, k,
                         t->verified ? "" : " (still unverified)");
        return 0;
    }
    /* Not endorsed by the key held: a lost key, or the hub lying.  A key
     * that itself came without endorsement is never trusted again once
     * replaced, for what it signed either. */
    snprintf(prev.country, sizeof(prev.country), "%s", id->country);
    memcpy(prev.sign, t->sign, sizeof(prev.sign));
    if (node_store_key_get(s, id->country, t->sign, &found, &trusted, how,
                           err) != 0)
        return -1;
    if (found && strcmp(how, "unendorsed") == 0 &&
        node_store_key_distrust(s, id->country, t->sign, err) != 0)
        return -1;
    s_trust_of(&nt, id, false, "unendorsed");
    if (node_store_trust_put(s, &nt, err) != 0 ||
        node_store_key_put(s, id, false, "unendorsed", err) != 0)
        return -1;
    ewh_log_warnx("trust: %s's keys changed %s -> %s WITHOUT an endorsement "
                  "by the key held: %s is UNVERIFIED; nothing is sealed for "
                  "it and what it signs is marked until an officer compares "
                  "the fingerprint by telephone (ewnode peers verify %s %s)",
                  id->country, t->fp, nt.fp, id->country, id->country, nt.fp);
    return 0;
}

int
node_trust_on_roster(node_store_t *s, const char *self, const ewh_roster_t *got,
                     const ewh_roster_t *held, const uint8_t *buf, size_t len,
                     struct ewh_err *err)
{
    if (ewh_roster_hash(got) != NULL) {
        struct s_late l = {s, ewh_roster_version(got), ewh_roster_hash(got),
                           err};
        /* and the heads peers named for it before it came */
        if (node_store_head_put(s, l.version, l.ours, buf, len, err) != 0 ||
            node_store_peer_head_take(s, l.version, l.ours, s_late_split, &l,
                                      err) != 0)
            return -1;
    }
    return node_trust_on_keys(s, self, got, held, err);
}

int
node_trust_on_keys(node_store_t *s, const char *self, const ewh_roster_t *got,
                   const ewh_roster_t *held, struct ewh_err *err)
{
    struct node_trust t;
    int64_t n = 0;
    size_t i;
    bool first, revoked;

    if (node_store_trust_count(s, &n, err) != 0)
        return -1;
    first = n == 0;
    if (first && held != NULL) {
        /* A store from before key continuity: what it held is what it
         * trusted (on first use); the new roster is judged against it. */
        for (i = 0; i < ewh_roster_count(held); i++) {
            const struct ewh_pubid *id = ewh_roster_at(held, i, &revoked);
            if (strcmp(id->country, self) != 0 &&
                s_first_seen(s, id, true, "held before the upgrade", err) != 0)
                return -1;
        }
        first = false;
    }
    for (i = 0; i < ewh_roster_count(got); i++) {
        const struct ewh_pubid *id = ewh_roster_at(got, i, &revoked);
        char fp[EWH_FINGERPRINT_CHARS];
        if (strcmp(id->country, self) == 0) {
            /* Our own row marks that the first roster was seen, even
             * when it names no other country yet. */
            if (first) {
                s_trust_of(&t, id, true, "self");
                if (node_store_trust_put(s, &t, err) != 0)
                    return -1;
            }
            continue;
        }
        if (node_store_trust_get(s, id->country, &t, err) != 0) {
            if (err == NULL || err->code != EWH_E_NOTFOUND)
                return -1;
            if (s_first_seen(s, id, first, "first roster after init", err) != 0)
                return -1;
            continue;
        }
        ewh_pubid_fingerprint(id, fp);
        if (strcmp(fp, t.fp) != 0) {
            size_t nl = 0;
            const struct ewh_pubid *links =
                ewh_roster_chain(got, id->country, &nl);
            if (s_changed(s, &t, id, links, nl, err) != 0)
                return -1;
        }
    }
    return 0;
}

int
node_trust_on_foreign(node_store_t *s, const char *region,
                      const ewh_roster_t *got, bool first, struct ewh_err *err)
{
    struct node_trust t;
    char when[EWH_MAX_REGION_BYTES + 40];
    size_t i;
    bool revoked;

    snprintf(when, sizeof(when), "first roster of region %s", region);
    for (i = 0; i < ewh_roster_count(got); i++) {
        const struct ewh_pubid *id = ewh_roster_at(got, i, &revoked);
        char fp[EWH_FINGERPRINT_CHARS];
        if (node_store_trust_get(s, id->country, &t, err) != 0) {
            if (err == NULL || err->code != EWH_E_NOTFOUND)
                return -1;
            if (s_first_seen(s, id, first, when, err) != 0)
                return -1;
            continue;
        }
        ewh_pubid_fingerprint(id, fp);
        if (strcmp(fp, t.fp) != 0) {
            size_t nl = 0;
            const struct ewh_pubid *links =
                ewh_roster_chain(got, id->country, &nl);
            if (s_changed(s, &t, id, links, nl, err) != 0)
                return -1;
        }
    }
    return 0;
}

int
node_trust_sealable(node_store_t *s, const char *cc, bool policy_warn, bool *ok,
                    bool *warn, struct node_trust *t, struct ewh_err *err)
{
    int64_t n = 0;

    *ok = *warn = false;
    if (node_store_trust_get(s, cc, t, err) != 0) {
        if (err == NULL || err->code != EWH_E_NOTFOUND)
            return -1;
        if (node_store_trust_count(s, &n, err) != 0)
            return -1;
        /* No trust recorded at all: a store upgraded in place that has
         * not had a roster since; it seals as it did before. */
        *ok = n == 0;
        memset(t, 0, sizeof(*t));
        snprintf(t->country, sizeof(t->country), "%s", cc);
        snprintf(t->why, sizeof(t->why), "%s", n == 0 ? "tofu" : "unknown");
        t->verified = *ok;
        return 0;
    }
    if (t->verified) {
        *ok = true;
        return 0;
    }
    if (strcmp(t->why, "split-view") != 0 && policy_warn) {
        *ok = *warn = true;
        return 0;
    }
    return 0;
}

int
node_trust_verify(node_store_t *s, const ewh_roster_t *ro, const char *cc,
                  const char *fp, struct ewh_err *err)
{
    const struct ewh_pubid *id = ewh_roster_find(ro, cc, NULL);
    struct node_trust t;
    char cur[EWH_FINGERPRINT_CHARS], how[16];
    bool found, trusted;

    if (id == NULL)
        return ewh_err_set(err, EWH_E_NOTFOUND, "%s is not in the roster", cc);
    ewh_pubid_fingerprint(id, cur);
    if (strcasecmp(fp, cur) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "fingerprint %s is not that of %s's key in the "
                           "roster (%s): nothing verified; the key the hub "
                           "gives for %s is not the one you compared",
                           fp, cc, cur, cc);
    if (node_store_key_get(s, cc, id->sign, &found, &trusted, how, err) != 0)
        return -1;
    s_trust_of(&t, id, true, "verified");
    if (node_store_trust_put(s, &t, err) != 0 ||
        node_store_key_put(s, id, true, found ? how : "verified", err) != 0)
        return -1;
    ewh_log_info("trust: %s fingerprint %s verified by an officer", cc, cur);
    return 0;
}

void
node_trust_head(const ewh_roster_t *ro, bool *has, uint64_t *version,
                uint8_t hash[EWH_HEAD_HASH_BYTES])
{
    const uint8_t *h = ro != NULL ? ewh_roster_hash(ro) : NULL;

    *has = h != NULL;
    *version = h != NULL ? ewh_roster_version(ro) : 0;
    if (h != NULL)
        memcpy(hash, h, EWH_HEAD_HASH_BYTES);
}

int
node_trust_check_head(node_store_t *s, const char *cc, bool has,
                      uint64_t version, const uint8_t *hash, const char *what,
                      const uint8_t *signed_buf, size_t len, bool *split,
                      struct ewh_err *err)
{
    uint8_t ours[32];
    bool found;

    *split = false;
    if (!has)
        return 0; /* a peer that has not upgraded: nothing to compare */
    if (node_store_head_get(s, version, &found, ours, err) != 0)
        return -1;
    if (!found)
        /* A version this node has not had (yet): compared when the hub's
         * roster of that version arrives (node_trust_on_roster). */
        return node_store_peer_head_add(s, cc, version, hash, what, signed_buf,
                                        len, err);
    if (sodium_memcmp(ours, hash, 32) == 0)
        return 0;
    *split = true;
    return s_split(s, cc, version, ours, hash, what, signed_buf, len, err);
}

int
node_trust_signer_verified(node_store_t *s, const ewh_roster_t *ro,
                           const char *cc, bool *verified,
                           char fp[EWH_FINGERPRINT_CHARS], struct ewh_err *err)
{
    const struct ewh_pubid *id = ewh_roster_find(ro, cc, NULL);
    struct node_trust t;
    bool ok, warn;

    *verified = false;
    fp[0] = '\0';
    if (id != NULL)
        ewh_pubid_fingerprint(id, fp);
    if (node_trust_sealable(s, cc, false, &ok, &warn, &t, err) != 0)
        return -1;
    *verified = ok && id != NULL && (t.fp[0] == '\0' || strcmp(t.fp, fp) == 0);
    return 0;
}

const struct ewh_pubid *
node_trust_lookup_one(void *ctx, const char *cc)
{
    const struct ewh_pubid *id = ctx;

    return strcmp(id->country, cc) == 0 ? id : NULL;
}

struct s_hint {
    const char *cmd;
    FILE *out;
    json_t *a;
};

static void
s_hint_one(void *ctx, const char *cc, const char *why, const char *fp)
{
    struct s_hint *h = ctx;

    if (h->a != NULL) {
        json_t *o = json_object();
        json_object_set_new(o, "country", json_string(cc));
        json_object_set_new(o, "why", json_string(why));
        json_object_set_new(o, "fingerprint", json_string(fp));
        json_array_append_new(h->a, o);
        return;
    }
    if (h->out == NULL)
        return;
    fprintf(h->out,
            "ewnode %s: %s is UNVERIFIED (%s, key %s): nothing is sealed "
            "for it and what it signs is marked; `ewnode peers`\n",
            h->cmd, cc, why, fp);
}

int
node_trust_hint(node_store_t *s, const char *cmd, FILE *out)
{
    struct ewh_err err = {0};
    struct s_hint h = {cmd, out, NULL};
    size_t n = 0, ns = 0;

    if (node_store_trust_unverified(s, s_hint_one, &h, &n, &err) != 0 ||
        node_store_split_list(s, NULL, NULL, &ns, &err) != 0) {
        if (out != NULL)
            fprintf(out, "ewnode %s: cannot read peer trust: %s\n", cmd,
                    err.reason);
        return 1;
    }
    if (ns > 0 && out != NULL)
        fprintf(out,
                "ewnode %s: SPLIT VIEW: the hub showed peers different "
                "rosters (%zu piece(s) of evidence held): `ewnode audit`\n",
                cmd, ns);
    return (int)(n + (ns > 0));
}

json_t *
node_trust_json(node_store_t *s)
{
    struct ewh_err err = {0};
    struct s_hint h = {"", NULL, json_array()};
    json_t *o = json_object();
    size_t n = 0, ns = 0;

    if (node_store_trust_unverified(s, s_hint_one, &h, &n, &err) != 0 ||
        node_store_split_list(s, NULL, NULL, &ns, &err) != 0)
        json_object_set_new(o, "error", json_string(err.reason));
    json_object_set_new(o, "unverified", h.a);
    json_object_set_new(o, "split_views", json_integer((json_int_t)ns));
    return o;
}

void
node_trust_status_write(struct node_dir *d)
{
    struct ewh_err err = {0};
    json_t *o = node_trust_json(d->store);
    char path[1200], *text;

    json_object_set_new(o, "at", json_integer((json_int_t)ewh_now()));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL) {
        ewh_log_errx("trust: out of memory writing trust.json");
        return;
    }
    node_dir_file(d, "trust.json", path, sizeof(path));
    if (ewh_keyfile_write(path, text, strlen(text), 0600, &err) != 0)
        ewh_log_errx("trust: %s", err.reason);
    free(text);
}
