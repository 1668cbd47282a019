/* envelope.c — seal, verify and open signed, encrypted envelopes. */
#include "ewh/envelope.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ewh.pb-c.h"

#define S_NONCE  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_TAG    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define S_KEY    crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define S_WRAPAD (sizeof("ewh-wrap-v1") + EWH_ID_BYTES + 2)

/* ---- an allocator that wipes what it frees (decrypted reports) ------ */

static void *
s_wipe_alloc(void *ud, size_t size)
{
    size_t *p;

    (void)ud;
    if (size > SIZE_MAX - sizeof(size_t))
        return NULL;
    p = malloc(sizeof(size_t) + size);
    if (p == NULL)
        return NULL;
    *p = size;
    return p + 1;
}

static void
s_wipe_free(void *ud, void *ptr)
{
    size_t *p;

    (void)ud;
    if (ptr == NULL)
        return;
    p = (size_t *)ptr - 1;
    sodium_memzero(p, sizeof(size_t) + *p);
    free(p);
}

/* Report plaintext is wiped when freed but not locked: the recipient's
 * store holds it anyway, and mlock()/munlock() of each heap buffer cost
 * four system calls per report, each splitting and merging the heap's
 * mapping (5 % of all CPU in the end-to-end benchmark).  Keys stay in
 * locked memory (identity.c). */
static void
s_free_wiped(void *p, size_t len)
{
    sodium_memzero(p, len);
    free(p);
}

static ProtobufCAllocator s_wiping = {
    .alloc = s_wipe_alloc,
    .free = s_wipe_free,
    .allocator_data = NULL,
};

/* ---- reports -------------------------------------------------------- */

int
ewh_report_set_body(struct ewh_report *r, const char *body, size_t len,
                    struct ewh_err *err)
{
    char *b = NULL;

    if (len > EWH_MAX_BODY_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "body of %zu bytes > EWH_MAX_BODY_BYTES %u", len,
                           EWH_MAX_BODY_BYTES);
    if ((b = malloc(len + 1)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    memcpy(b, body, len);
    b[len] = '\0';
    if (r->body != NULL)
        s_free_wiped(r->body, r->body_len + 1);
    r->body = b;
    r->body_len = len;
    return 0;
}

void
ewh_report_clear(struct ewh_report *r)
{
    if (r == NULL)
        return;
    if (r->body != NULL)
        s_free_wiped(r->body, r->body_len + 1);
    sodium_memzero(r, sizeof(*r));
}

static int
s_check_str(const char *what, const char *s, size_t min, size_t max,
            bool newline, const char *limit, struct ewh_err *err)
{
    size_t n = strnlen(s, max + 1);

    if (n > max)
        return ewh_err_set(err, EWH_E_TOOBIG, "%s longer than %s %zu bytes",
                           what, limit, max);
    if (n < min)
        return ewh_err_set(err, EWH_E_INVALID, "%s is empty", what);
    if (!ewh_text_is_valid(s, n, newline))
        return ewh_err_set(err, EWH_E_INVALID, "%s is not valid UTF-8 text",
                           what);
    return 0;
}

int
ewh_report_check(const struct ewh_report *r, struct ewh_err *err)
{
    if (r->type < EWH_TYPE_ALERT || r->type > EWH_TYPE_LESSONS)
        return ewh_err_set(err, EWH_E_INVALID, "bad report type %d",
                           (int)r->type);
    if (r->level < EWH_LEVEL_LOW || r->level > EWH_LEVEL_HIGH)
        return ewh_err_set(err, EWH_E_INVALID, "bad level %d", (int)r->level);
    if (r->type == EWH_TYPE_LESSONS && r->level == EWH_LEVEL_HIGH)
        return ewh_err_set(err, EWH_E_INVALID,
                           "lessons learned are of low or medium concern, "
                           "never high");
    if ((unsigned)r->distribution > EWH_DIST_ALL)
        return ewh_err_set(err, EWH_E_INVALID, "bad distribution %d",
                           (int)r->distribution);
    if (r->tlp < EWH_TLP_CLEAR || r->tlp > EWH_TLP_RED)
        return ewh_err_set(err, EWH_E_INVALID, "bad TLP %d", (int)r->tlp);
    if (!ewh_country_is_valid(r->origin))
        return ewh_err_set(err, EWH_E_INVALID, "bad origin country");
    if (r->n_refs > EWH_MAX_REFERENCES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu references > EWH_MAX_REFERENCES %u", r->n_refs,
                           EWH_MAX_REFERENCES);
    if ((r->type == EWH_TYPE_ALERT || r->type == EWH_TYPE_LESSONS) &&
        r->n_refs != 0)
        return ewh_err_set(
            err, EWH_E_INVALID, "an %s cannot reference other reports",
            r->type == EWH_TYPE_ALERT ? "alert" : "lessons report");
    if ((r->type == EWH_TYPE_UPDATE || r->type == EWH_TYPE_CANCEL) &&
        r->n_refs == 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "an %s must reference the report it replaces",
                           ewh_type_name(r->type));
    /* A return names its year; a later return for the same year references
     * the one it replaces (or none: the first). */
    if ((r->type == EWH_TYPE_RETURN) !=
        (r->return_year >= EWH_MIN_RETURN_YEAR &&
         r->return_year <= EWH_MAX_RETURN_YEAR))
        return ewh_err_set(err, EWH_E_INVALID,
                           "a return, and only a return, names a year "
                           "%u..%u",
                           EWH_MIN_RETURN_YEAR, EWH_MAX_RETURN_YEAR);
    if (strnlen(r->level_reason, sizeof(r->level_reason)) >
            EWH_MAX_LEVEL_REASON_BYTES ||
        !ewh_text_is_valid(r->level_reason, strlen(r->level_reason), false))
        return ewh_err_set(err, EWH_E_INVALID,
                           "level reason is not valid one-line text of at "
                           "most EWH_MAX_LEVEL_REASON_BYTES %u bytes",
                           EWH_MAX_LEVEL_REASON_BYTES);
    if (r->created_at <= 0)
        return ewh_err_set(err, EWH_E_INVALID, "bad creation time");
    if (r->expires_at != 0 &&
        (r->expires_at <= r->created_at ||
         r->expires_at - r->created_at > EWH_MAX_EXPIRY_S))
        return ewh_err_set(err, EWH_E_INVALID,
                           "expiry must be after creation and within "
                           "EWH_MAX_EXPIRY_S %d seconds",
                           EWH_MAX_EXPIRY_S);
    if (s_check_str("title", r->title, 1, EWH_MAX_TITLE_BYTES, false,
                    "EWH_MAX_TITLE_BYTES", err) != 0 ||
        s_check_str("category", r->category, 1, EWH_MAX_CATEGORY_BYTES, false,
                    "EWH_MAX_CATEGORY_BYTES", err) != 0 ||
        s_check_str("author", r->author, 0, EWH_MAX_AUTHOR_BYTES, false,
                    "EWH_MAX_AUTHOR_BYTES", err) != 0 ||
        s_check_str("urgency", r->urgency, 0, EWH_MAX_CAPWORD_BYTES, false,
                    "EWH_MAX_CAPWORD_BYTES", err) != 0 ||
        s_check_str("certainty", r->certainty, 0, EWH_MAX_CAPWORD_BYTES, false,
                    "EWH_MAX_CAPWORD_BYTES", err) != 0)
        return -1;
    if (r->body_len > EWH_MAX_BODY_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "body of %zu bytes > EWH_MAX_BODY_BYTES %u",
                           r->body_len, EWH_MAX_BODY_BYTES);
    if (r->body_len > 0 &&
        (r->body == NULL || !ewh_text_is_valid(r->body, r->body_len, true)))
        return ewh_err_set(err, EWH_E_INVALID, "body is not valid UTF-8 text");
    return 0;
}

/* ---- pair keys ------------------------------------------------------ */

#define S_CACHE_SLOTS (2 * EWH_MAX_ROSTER_ENTRIES)

struct s_slot {
    uint8_t mine[32];
    uint8_t theirs[32];
    uint8_t key[S_KEY];
    int used;
};

struct ewh_wrapcache {
    struct s_slot slot[S_CACHE_SLOTS];
    size_t next;
};

ewh_wrapcache_t *
ewh_wrapcache_new(void)
{
    ewh_wrapcache_t *c;

    if (sodium_init() < 0)
        return NULL;
    c = sodium_malloc(sizeof(*c));
    if (c != NULL)
        sodium_memzero(c, sizeof(*c));
    return c;
}

void
ewh_wrapcache_destroy(ewh_wrapcache_t **c)
{
    if (c == NULL || *c == NULL)
        return;
    sodium_free(*c);
    *c = NULL;
}

/* key = BLAKE2b-256("ewh-wrap-v1" || X25519(my_sk, their_pk) || lo || hi),
 * lo/hi being the two public keys in byte order, so both ends agree. */
static int
s_pair_key(const uint8_t my_sk[32], const uint8_t my_pk[32],
           const uint8_t their_pk[32], ewh_wrapcache_t *cache,
           uint8_t key[S_KEY], struct ewh_err *err)
{
    uint8_t q[crypto_scalarmult_BYTES];
    crypto_generichash_state st;
    const uint8_t *lo = my_pk, *hi = their_pk;
    size_t i;

    if (cache != NULL) {
        for (i = 0; i < S_CACHE_SLOTS; i++) {
            struct s_slot *s = &cache->slot[i];
            if (s->used && memcmp(s->mine, my_pk, 32) == 0 &&
                memcmp(s->theirs, their_pk, 32) == 0) {
                memcpy(key, s->key, S_KEY);
                return 0;
            }
        }
    }
    if (crypto_scalarmult(q, my_sk, their_pk) != 0)
        return ewh_err_set(err, EWH_E_CRYPTO,
                           "key agreement failed (weak public key)");
    if (memcmp(my_pk, their_pk, 32) > 0) {
        lo = their_pk;
        hi = my_pk;
    }
    crypto_generichash_init(&st, NULL, 0, S_KEY);
    crypto_generichash_update(&st, (const uint8_t *)"ewh-wrap-v1", 11);
    crypto_generichash_update(&st, q, sizeof(q));
    crypto_generichash_update(&st, lo, 32);
    crypto_generichash_update(&st, hi, 32);
    crypto_generichash_final(&st, key, S_KEY);
    sodium_memzero(q, sizeof(q));
    sodium_memzero(&st, sizeof(st));
    if (cache != NULL) {
        struct s_slot *s = &cache->slot[cache->next];
        cache->next = (cache->next + 1) % S_CACHE_SLOTS;
        memcpy(s->mine, my_pk, 32);
        memcpy(s->theirs, their_pk, 32);
        memcpy(s->key, key, S_KEY);
        s->used = 1;
    }
    return 0;
}

static void
s_wrap_ad(const uint8_t id[EWH_ID_BYTES], const char *cc, uint8_t ad[S_WRAPAD])
{
    memcpy(ad, "ewh-wrap-v1", sizeof("ewh-wrap-v1"));
    memcpy(ad + sizeof("ewh-wrap-v1"), id, EWH_ID_BYTES);
    memcpy(ad + sizeof("ewh-wrap-v1") + EWH_ID_BYTES, cc, 2);
}

/* ---- seal ----------------------------------------------------------- */

static void
s_refs_to_pb(uint8_t (*refs)[EWH_ID_BYTES], size_t n, ProtobufCBinaryData *pb)
{
    size_t i;

    for (i = 0; i < n; i++) {
        pb[i].data = refs[i];
        pb[i].len = EWH_ID_BYTES;
    }
}

int
ewh_envelope_seal(const struct ewh_report *r, const struct ewh_pubid *const *to,
                  size_t n, const ewh_secret_t *origin, ewh_wrapcache_t *cache,
                  uint8_t **out, size_t *out_len, struct ewh_err *err)
{
    const struct ewh_pubid *me = ewh_secret_pubid(origin);
    Ewh__Header hdr = EWH__HEADER__INIT;
    Ewh__Report rep = EWH__REPORT__INIT;
    Ewh__EnvelopeBody body = EWH__ENVELOPE_BODY__INIT;
    Ewh__Envelope env = EWH__ENVELOPE__INIT;
    Ewh__WrappedKey wk[EWH_MAX_RECIPIENTS + 1];
    Ewh__WrappedKey *wkp[EWH_MAX_RECIPIENTS + 1];
    uint8_t wnonce[EWH_MAX_RECIPIENTS + 1][S_NONCE];
    uint8_t wrapped[EWH_MAX_RECIPIENTS + 1][S_KEY + S_TAG];
    char *rcpt[EWH_MAX_RECIPIENTS];
    ProtobufCBinaryData refs[EWH_MAX_REFERENCES];
    uint8_t(*rrefs)[EWH_ID_BYTES] = (uint8_t(*)[EWH_ID_BYTES])r->refs;
    uint8_t ck[S_KEY], pk[S_KEY], nonce[S_NONCE], sig[EWH_SIG_BYTES];
    uint8_t *hdr_buf = NULL, *pt = NULL, *ct = NULL, *body_buf = NULL;
    uint8_t *env_buf = NULL;
    size_t hdr_len, pt_len = 0, body_len, env_len, i, j;
    unsigned long long ct_len = 0;
    int rc = -1;

    if (me->kind != EWH_KIND_NODE)
        return ewh_err_set(err, EWH_E_INVALID, "only a node can seal");
    if (ewh_report_check(r, err) != 0)
        return -1;
    if (strcmp(r->origin, me->country) != 0)
        return ewh_err_set(err, EWH_E_ORIGIN,
                           "report origin %s is not this node (%s)", r->origin,
                           me->country);
    if (n == 0)
        return ewh_err_set(err, EWH_E_INVALID, "no recipients");
    if (n > EWH_MAX_RECIPIENTS)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu recipients > EWH_MAX_RECIPIENTS %u", n,
                           EWH_MAX_RECIPIENTS);
    for (i = 0; i < n; i++) {
        if (to[i]->kind != EWH_KIND_NODE ||
            !ewh_country_is_valid(to[i]->country))
            return ewh_err_set(err, EWH_E_INVALID, "bad recipient identity");
        if (strcmp(to[i]->country, me->country) == 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "a node does not address itself");
        for (j = 0; j < i; j++)
            if (strcmp(to[i]->country, to[j]->country) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "recipient %s given twice", to[i]->country);
        rcpt[i] = (char *)to[i]->country;
    }

    /* Header: the clear routing data and the AEAD's associated data. */
    hdr.version = EWH_ENVELOPE_VERSION;
    hdr.id.data = (uint8_t *)r->id;
    hdr.id.len = EWH_ID_BYTES;
    hdr.origin = (char *)r->origin;
    hdr.level = (Ewh__Level)r->level;
    hdr.created_at = r->created_at;
    hdr.expires_at = r->expires_at;
    hdr.n_recipients = n;
    hdr.recipients = rcpt;
    hdr.type = (Ewh__ReportType)r->type;
    hdr.return_year = r->return_year;
    s_refs_to_pb(rrefs, r->n_refs, refs);
    hdr.n_references = r->n_refs;
    hdr.references = refs;
    hdr.distribution = (Ewh__Distribution)r->distribution;
    if (r->has_head) {
        hdr.roster_version = r->roster_version;
        hdr.roster_hash.data = (uint8_t *)r->roster_hash;
        hdr.roster_hash.len = EWH_HEAD_HASH_BYTES;
    }
    hdr_len = ewh__header__get_packed_size(&hdr);
    if ((hdr_buf = malloc(hdr_len)) == NULL)
        goto nomem;
    ewh__header__pack(&hdr, hdr_buf);

    /* Report, encrypted. */
    rep.id = hdr.id;
    rep.type = hdr.type;
    rep.n_references = r->n_refs;
    rep.references = refs;
    rep.origin = (char *)r->origin;
    rep.author = (char *)r->author;
    rep.created_at = r->created_at;
    rep.expires_at = r->expires_at;
    rep.level = hdr.level;
    rep.category = (char *)r->category;
    rep.tlp = (Ewh__Tlp)r->tlp;
    rep.title = (char *)r->title;
    rep.body = r->body != NULL ? r->body : (char *)"";
    rep.urgency = (char *)r->urgency;
    rep.certainty = (char *)r->certainty;
    rep.level_reason = (char *)r->level_reason;
    pt_len = ewh__report__get_packed_size(&rep);
    if ((pt = malloc(pt_len)) == NULL)
        goto nomem;
    ewh__report__pack(&rep, pt);
    if ((ct = malloc(pt_len + S_TAG)) == NULL)
        goto nomem;
    crypto_aead_xchacha20poly1305_ietf_keygen(ck);
    randombytes_buf(nonce, sizeof(nonce));
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, pt, pt_len, hdr_buf,
                                               hdr_len, NULL, nonce, ck);

    /* Content key, wrapped for each recipient and for the origin. */
    for (i = 0; i <= n; i++) {
        const struct ewh_pubid *peer = i < n ? to[i] : me;
        uint8_t ad[S_WRAPAD];
        ewh__wrapped_key__init(&wk[i]);
        if (s_pair_key(ewh_secret_box_sk(origin), me->box, peer->box, cache, pk,
                       err) != 0)
            goto out;
        randombytes_buf(wnonce[i], S_NONCE);
        s_wrap_ad(r->id, peer->country, ad);
        crypto_aead_xchacha20poly1305_ietf_encrypt(
            wrapped[i], NULL, ck, S_KEY, ad, sizeof(ad), NULL, wnonce[i], pk);
        wk[i].recipient = (char *)peer->country;
        wk[i].nonce.data = wnonce[i];
        wk[i].nonce.len = S_NONCE;
        wk[i].wrapped.data = wrapped[i];
        wk[i].wrapped.len = S_KEY + S_TAG;
        wkp[i] = &wk[i];
    }

    body.header.data = hdr_buf;
    body.header.len = hdr_len;
    body.nonce.data = nonce;
    body.nonce.len = S_NONCE;
    body.ciphertext.data = ct;
    body.ciphertext.len = (size_t)ct_len;
    body.n_keys = n + 1;
    body.keys = wkp;
    body_len = ewh__envelope_body__get_packed_size(&body);
    if ((body_buf = malloc(body_len)) == NULL)
        goto nomem;
    ewh__envelope_body__pack(&body, body_buf);
    if (ewh_sign(EWH_CTX_ENVELOPE, body_buf, body_len,
                 ewh_secret_sign_sk(origin), sig, err) != 0)
        goto out;
    env.body.data = body_buf;
    env.body.len = body_len;
    env.signature.data = sig;
    env.signature.len = sizeof(sig);
    env_len = ewh__envelope__get_packed_size(&env);
    if (env_len > EWH_MAX_ENVELOPE_BYTES) {
        ewh_err_set(err, EWH_E_TOOBIG,
                    "envelope of %zu bytes > EWH_MAX_ENVELOPE_BYTES %u",
                    env_len, EWH_MAX_ENVELOPE_BYTES);
        goto out;
    }
    if ((env_buf = malloc(env_len)) == NULL)
        goto nomem;
    ewh__envelope__pack(&env, env_buf);
    *out = env_buf;
    *out_len = env_len;
    rc = 0;
    goto out;
nomem:
    ewh_err_set(err, EWH_E_NOMEM, "out of memory");
out:
    sodium_memzero(ck, sizeof(ck));
    sodium_memzero(pk, sizeof(pk));
    if (pt != NULL)
        s_free_wiped(pt, pt_len);
    free(ct);
    free(hdr_buf);
    free(body_buf);
    return rc;
}

/* ---- parse and verify ----------------------------------------------- */

/* The three messages of a parsed envelope are allocated in a buffer of
 * the caller's stack frame (the parse is on the hub's hot path: some 70
 * small allocations an envelope with malloc), what does not fit with
 * malloc.  Only public bytes (ciphertext, wrapped keys, header) live
 * there.  Under AddressSanitizer everything goes to malloc, so that each
 * allocation keeps its own bounds. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ARENA_OFF 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define S_ARENA_OFF 1
#endif

struct s_arena {
    ProtobufCAllocator pa;
    size_t used;
    _Alignas(max_align_t) unsigned char buf[EWH_PARSE_ARENA_BYTES];
};

static void *
s_arena_alloc(void *data, size_t n)
{
    struct s_arena *a = data;
    size_t al = _Alignof(max_align_t);
    size_t at = (a->used + al - 1) & ~(al - 1);

#ifndef S_ARENA_OFF
    if (n <= sizeof(a->buf) && at <= sizeof(a->buf) - n) {
        a->used = at + n;
        return a->buf + at;
    }
#else
    (void)at;
#endif
    return malloc(n);
}

static void
s_arena_free(void *data, void *ptr)
{
    struct s_arena *a = data;
    uintptr_t u = (uintptr_t)ptr, b = (uintptr_t)a->buf;

    if (u >= b && u < b + sizeof(a->buf))
        return; /* with the frame */
    free(ptr);
}

struct s_parsed {
    Ewh__Envelope *env;
    Ewh__EnvelopeBody *body;
    Ewh__Header *hdr;
    struct s_arena ar; /* not to be copied: ar.pa points to it */
};

static void
s_parsed_init(struct s_parsed *p)
{
    p->env = NULL;
    p->body = NULL;
    p->hdr = NULL;
    p->ar.pa.alloc = s_arena_alloc;
    p->ar.pa.free = s_arena_free;
    p->ar.pa.allocator_data = &p->ar;
    p->ar.used = 0;
}

static void
s_parsed_free(struct s_parsed *p)
{
    if (p->hdr != NULL)
        ewh__header__free_unpacked(p->hdr, &p->ar.pa);
    if (p->body != NULL)
        ewh__envelope_body__free_unpacked(p->body, &p->ar.pa);
    if (p->env != NULL)
        ewh__envelope__free_unpacked(p->env, &p->ar.pa);
    s_parsed_init(p);
}

static int
s_header_from_pb(const Ewh__Header *h, struct ewh_header *out,
                 struct ewh_err *err)
{
    size_t i, j;

    memset(out, 0, sizeof(*out));
    if (h->version != EWH_ENVELOPE_VERSION)
        return ewh_err_set(err, EWH_E_VERSION,
                           "envelope version %u, expected %u", h->version,
                           EWH_ENVELOPE_VERSION);
    out->version = h->version;
    if (h->id.len != EWH_ID_BYTES)
        return ewh_err_set(err, EWH_E_INVALID, "id is %zu bytes, not %u",
                           h->id.len, EWH_ID_BYTES);
    memcpy(out->id, h->id.data, EWH_ID_BYTES);
    if (!ewh_country_is_valid(h->origin))
        return ewh_err_set(err, EWH_E_INVALID, "bad origin country code");
    memcpy(out->origin, h->origin, 3);
    if (h->level < EWH__LEVEL__LEVEL_LOW || h->level > EWH__LEVEL__LEVEL_HIGH)
        return ewh_err_set(err, EWH_E_INVALID, "bad level %d", (int)h->level);
    out->level = (enum ewh_level)h->level;
    if (h->type < EWH__REPORT_TYPE__TYPE_ALERT ||
        h->type > EWH__REPORT_TYPE__TYPE_LESSONS)
        return ewh_err_set(err, EWH_E_INVALID, "bad type %d", (int)h->type);
    out->type = (enum ewh_type)h->type;
    if (out->type == EWH_TYPE_LESSONS && out->level == EWH_LEVEL_HIGH)
        return ewh_err_set(err, EWH_E_INVALID,
                           "a lessons report of high concern");
    if ((unsigned)h->distribution > EWH_DIST_ALL)
        return ewh_err_set(err, EWH_E_INVALID, "bad distribution %d",
                           (int)h->distribution);
    out->distribution = (enum ewh_distribution)h->distribution;
    if ((out->type == EWH_TYPE_RETURN) !=
        (h->return_year >= EWH_MIN_RETURN_YEAR &&
         h->return_year <= EWH_MAX_RETURN_YEAR))
        return ewh_err_set(err, EWH_E_INVALID,
                           "return year does not fit the report type");
    out->return_year = h->return_year;
    if (h->created_at <= 0)
        return ewh_err_set(err, EWH_E_INVALID, "bad creation time");
    out->created_at = h->created_at;
    if (h->expires_at < 0 ||
        (h->expires_at != 0 &&
         (h->expires_at <= h->created_at ||
          h->expires_at - h->created_at > EWH_MAX_EXPIRY_S)))
        return ewh_err_set(err, EWH_E_INVALID,
                           "bad expiry (beyond EWH_MAX_EXPIRY_S %d?)",
                           EWH_MAX_EXPIRY_S);
    out->expires_at = h->expires_at;
    if (h->n_recipients == 0)
        return ewh_err_set(err, EWH_E_INVALID, "no recipients");
    if (h->n_recipients > EWH_MAX_RECIPIENTS)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu recipients > EWH_MAX_RECIPIENTS %u",
                           h->n_recipients, EWH_MAX_RECIPIENTS);
    for (i = 0; i < h->n_recipients; i++) {
        if (!ewh_country_is_valid(h->recipients[i]))
            return ewh_err_set(err, EWH_E_INVALID,
                               "bad recipient country code");
        if (strcmp(h->recipients[i], out->origin) == 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "origin among its own recipients");
        for (j = 0; j < i; j++)
            if (strcmp(h->recipients[i], out->recipients[j]) == 0)
                return ewh_err_set(err, EWH_E_INVALID,
                                   "recipient %s given twice",
                                   h->recipients[i]);
        memcpy(out->recipients[i], h->recipients[i], 3);
    }
    out->n_recipients = h->n_recipients;
    if (h->n_references > EWH_MAX_REFERENCES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "%zu references > EWH_MAX_REFERENCES %u",
                           h->n_references, EWH_MAX_REFERENCES);
    if (((out->type == EWH_TYPE_ALERT || out->type == EWH_TYPE_LESSONS) &&
         h->n_references != 0) ||
        ((out->type == EWH_TYPE_UPDATE || out->type == EWH_TYPE_CANCEL) &&
         h->n_references == 0))
        return ewh_err_set(err, EWH_E_INVALID,
                           "references do not fit the report type");
    for (i = 0; i < h->n_references; i++) {
        if (h->references[i].len != EWH_ID_BYTES)
            return ewh_err_set(err, EWH_E_INVALID, "bad reference length");
        memcpy(out->refs[i], h->references[i].data, EWH_ID_BYTES);
    }
    out->n_refs = h->n_references;
    out->has_head = false;
    out->roster_version = 0;
    if (h->roster_hash.len == EWH_HEAD_HASH_BYTES) {
        memcpy(out->roster_hash, h->roster_hash.data, EWH_HEAD_HASH_BYTES);
        out->roster_version = h->roster_version;
        out->has_head = true;
    } else if (h->roster_hash.len != 0 || h->roster_version != 0) {
        return ewh_err_set(err, EWH_E_INVALID, "bad roster head");
    }
    return 0;
}

/* Parse env and check everything that needs no key. */
static int
s_parse(const uint8_t *buf, size_t len, struct s_parsed *p,
        struct ewh_header *hdr, struct ewh_err *err)
{
    size_t i, j;

    s_parsed_init(p);
    if (len > EWH_MAX_ENVELOPE_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "envelope of %zu bytes > EWH_MAX_ENVELOPE_BYTES %u",
                           len, EWH_MAX_ENVELOPE_BYTES);
    if (len == 0)
        return ewh_err_set(err, EWH_E_INVALID, "empty envelope");
    p->env = ewh__envelope__unpack(&p->ar.pa, len, buf);
    if (p->env == NULL)
        return ewh_err_set(err, EWH_E_INVALID, "malformed envelope");
    if (p->env->signature.len != EWH_SIG_BYTES)
        goto bad_sig;
    p->body = ewh__envelope_body__unpack(&p->ar.pa, p->env->body.len,
                                         p->env->body.data);
    if (p->body == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed envelope body");
        goto fail;
    }
    p->hdr = ewh__header__unpack(&p->ar.pa, p->body->header.len,
                                 p->body->header.data);
    if (p->hdr == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed envelope header");
        goto fail;
    }
    if (s_header_from_pb(p->hdr, hdr, err) != 0)
        goto fail;
    if (p->body->nonce.len != S_NONCE || p->body->ciphertext.len < S_TAG) {
        ewh_err_set(err, EWH_E_INVALID, "bad nonce or ciphertext length");
        goto fail;
    }
    if (p->body->n_keys != hdr->n_recipients + 1) {
        ewh_err_set(err, EWH_E_INVALID,
                    "%zu wrapped keys for %zu recipients and the origin",
                    p->body->n_keys, hdr->n_recipients);
        goto fail;
    }
    for (i = 0; i < p->body->n_keys; i++) {
        const Ewh__WrappedKey *k = p->body->keys[i];
        bool known = strcmp(k->recipient, hdr->origin) == 0;
        for (j = 0; !known && j < hdr->n_recipients; j++)
            known = strcmp(k->recipient, hdr->recipients[j]) == 0;
        if (!known || k->nonce.len != S_NONCE ||
            k->wrapped.len != S_KEY + S_TAG) {
            ewh_err_set(err, EWH_E_INVALID, "bad wrapped key %zu", i);
            goto fail;
        }
        for (j = 0; j < i; j++)
            if (strcmp(k->recipient, p->body->keys[j]->recipient) == 0) {
                ewh_err_set(err, EWH_E_INVALID, "wrapped key given twice");
                goto fail;
            }
    }
    return 0;
bad_sig:
    ewh_err_set(err, EWH_E_SIGNATURE, "bad signature length");
fail:
    s_parsed_free(p);
    return -1;
}

static int
s_verify_parsed(struct s_parsed *p, const struct ewh_header *hdr,
                const char *expect_origin, ewh_lookup_fn lookup, void *ctx,
                const struct ewh_pubid **origin_id, struct ewh_err *err)
{
    const struct ewh_pubid *o;

    if (expect_origin != NULL && strcmp(hdr->origin, expect_origin) != 0)
        return ewh_err_set(err, EWH_E_ORIGIN,
                           "origin %s differs from authenticated country %s",
                           hdr->origin, expect_origin);
    o = lookup(ctx, hdr->origin);
    if (o == NULL)
        return ewh_err_set(err, EWH_E_UNKNOWN,
                           "origin %s is not enrolled or is revoked",
                           hdr->origin);
    if (ewh_verify(EWH_CTX_ENVELOPE, p->env->body.data, p->env->body.len,
                   o->sign, p->env->signature.data, p->env->signature.len,
                   err) != 0)
        return -1;
    *origin_id = o;
    return 0;
}

int
ewh_envelope_peek(const uint8_t *env, size_t len, struct ewh_header *hdr,
                  struct ewh_err *err)
{
    struct s_parsed p;

    if (s_parse(env, len, &p, hdr, err) != 0)
        return -1;
    s_parsed_free(&p);
    return 0;
}

int
ewh_envelope_verify(const uint8_t *env, size_t len, const char *expect_origin,
                    ewh_lookup_fn lookup, void *lookup_ctx,
                    struct ewh_header *hdr, struct ewh_err *err)
{
    struct s_parsed p;
    const struct ewh_pubid *o = NULL;
    int rc;

    if (s_parse(env, len, &p, hdr, err) != 0)
        return -1;
    rc = s_verify_parsed(&p, hdr, expect_origin, lookup, lookup_ctx, &o, err);
    s_parsed_free(&p);
    return rc;
}

static int
s_report_from_pb(const Ewh__Report *pb, const struct ewh_header *h,
                 struct ewh_report *r, struct ewh_err *err)
{
    size_t i;

    /* The report must say exactly what the signed header says. */
    if (pb->id.len != EWH_ID_BYTES ||
        memcmp(pb->id.data, h->id, EWH_ID_BYTES) != 0 || pb->origin == NULL ||
        strcmp(pb->origin, h->origin) != 0 || (int)pb->level != (int)h->level ||
        (int)pb->type != (int)h->type || pb->created_at != h->created_at ||
        pb->expires_at != h->expires_at || pb->n_references != h->n_refs)
        return ewh_err_set(err, EWH_E_INVALID,
                           "report disagrees with its header");
    for (i = 0; i < h->n_refs; i++)
        if (pb->references[i].len != EWH_ID_BYTES ||
            memcmp(pb->references[i].data, h->refs[i], EWH_ID_BYTES) != 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "report references disagree with header");
#define S_COPY(field, max, name)                                               \
    do {                                                                       \
        if (strlen(pb->field) > (max))                                         \
            return ewh_err_set(err, EWH_E_TOOBIG,                              \
                               #field " longer than " name " %u bytes",        \
                               (unsigned)(max));                               \
        memcpy(r->field, pb->field, strlen(pb->field) + 1);                    \
    } while (0)
    S_COPY(author, EWH_MAX_AUTHOR_BYTES, "EWH_MAX_AUTHOR_BYTES");
    S_COPY(category, EWH_MAX_CATEGORY_BYTES, "EWH_MAX_CATEGORY_BYTES");
    S_COPY(title, EWH_MAX_TITLE_BYTES, "EWH_MAX_TITLE_BYTES");
    S_COPY(urgency, EWH_MAX_CAPWORD_BYTES, "EWH_MAX_CAPWORD_BYTES");
    S_COPY(certainty, EWH_MAX_CAPWORD_BYTES, "EWH_MAX_CAPWORD_BYTES");
    S_COPY(level_reason, EWH_MAX_LEVEL_REASON_BYTES,
           "EWH_MAX_LEVEL_REASON_BYTES");
#undef S_COPY
    memcpy(r->id, h->id, EWH_ID_BYTES);
    memcpy(r->origin, h->origin, 3);
    r->type = h->type;
    r->level = h->level;
    r->created_at = h->created_at;
    r->expires_at = h->expires_at;
    r->n_refs = h->n_refs;
    r->return_year = h->return_year;
    r->distribution = h->distribution;
    memcpy(r->refs, h->refs, sizeof(r->refs));
    r->tlp = (enum ewh_tlp)pb->tlp;
    if (ewh_report_set_body(r, pb->body, strlen(pb->body), err) != 0)
        return -1;
    return ewh_report_check(r, err);
}

int
ewh_envelope_open(const uint8_t *env, size_t len, const ewh_secret_t *me,
                  ewh_lookup_fn lookup, void *lookup_ctx, struct ewh_report *r,
                  struct ewh_header *hdr_out, struct ewh_err *err)
{
    return ewh_envelope_open_cached(env, len, me, NULL, lookup, lookup_ctx, r,
                                    hdr_out, err);
}

int
ewh_envelope_open_cached(const uint8_t *env, size_t len, const ewh_secret_t *me,
                         ewh_wrapcache_t *cache, ewh_lookup_fn lookup,
                         void *lookup_ctx, struct ewh_report *r,
                         struct ewh_header *hdr_out, struct ewh_err *err)
{
    const struct ewh_pubid *self = ewh_secret_pubid(me), *o = NULL;
    struct ewh_header hdr;
    struct s_parsed p;
    const Ewh__WrappedKey *k = NULL;
    Ewh__Report *rep = NULL;
    uint8_t pk[S_KEY], ck[S_KEY], ad[S_WRAPAD];
    uint8_t *pt = NULL;
    unsigned long long pt_len = 0;
    size_t i, ct_len;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    if (s_parse(env, len, &p, &hdr, err) != 0)
        return -1;
    if (s_verify_parsed(&p, &hdr, NULL, lookup, lookup_ctx, &o, err) != 0)
        goto out;
    for (i = 0; i < p.body->n_keys; i++)
        if (strcmp(p.body->keys[i]->recipient, self->country) == 0)
            k = p.body->keys[i];
    if (k == NULL) {
        ewh_err_set(err, EWH_E_NOTFORME, "envelope not addressed to %s",
                    self->country);
        goto out;
    }
    if (s_pair_key(ewh_secret_box_sk(me), self->box, o->box, cache, pk, err) !=
        0)
        goto out;
    s_wrap_ad(hdr.id, self->country, ad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            ck, NULL, NULL, k->wrapped.data, k->wrapped.len, ad, sizeof(ad),
            k->nonce.data, pk) != 0) {
        ewh_err_set(err, EWH_E_DECRYPT, "content key does not unwrap");
        goto out;
    }
    ct_len = p.body->ciphertext.len;
    if ((pt = malloc(ct_len)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto out;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            pt, &pt_len, NULL, p.body->ciphertext.data, ct_len,
            p.body->header.data, p.body->header.len, p.body->nonce.data,
            ck) != 0) {
        ewh_err_set(err, EWH_E_DECRYPT, "report does not decrypt");
        goto out;
    }
    rep = ewh__report__unpack(&s_wiping, (size_t)pt_len, pt);
    if (rep == NULL) {
        ewh_err_set(err, EWH_E_INVALID, "malformed report");
        goto out;
    }
    if (s_report_from_pb(rep, &hdr, r, err) != 0) {
        ewh_report_clear(r);
        goto out;
    }
    if (hdr_out != NULL)
        *hdr_out = hdr;
    rc = 0;
out:
    sodium_memzero(pk, sizeof(pk));
    sodium_memzero(ck, sizeof(ck));
    if (rep != NULL)
        ewh__report__free_unpacked(rep, &s_wiping);
    if (pt != NULL)
        s_free_wiped(pt, ct_len);
    s_parsed_free(&p);
    return rc;
}
