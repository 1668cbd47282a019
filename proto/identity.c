/* identity.c — key generation, key files, public identity files. */
#include "ewh/identity.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>
#include <sodium.h>

#include "ewh/keyfile.h"

struct ewh_secret {
    struct ewh_pubid pub;
    uint8_t curve_sk[EWH_KEY_BYTES];
    uint8_t sign_sk[EWH_SIGN_SK_BYTES];
    uint8_t box_sk[EWH_KEY_BYTES];
};

static const char *
s_kind_name(enum ewh_kind k)
{
    return k == EWH_KIND_HUB ? "hub" : "node";
}

static ewh_secret_t *
s_alloc(struct ewh_err *err)
{
    ewh_secret_t *s;

    if (sodium_init() < 0) {
        ewh_err_set(err, EWH_E_CRYPTO, "libsodium failed to initialise");
        return NULL;
    }
    s = sodium_malloc(sizeof(*s));
    if (s == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "cannot allocate locked memory");
        return NULL;
    }
    sodium_memzero(s, sizeof(*s));
    return s;
}

/* Derive every public key from the secrets held in s. */
static int
s_derive_public(ewh_secret_t *s, struct ewh_err *err)
{
    uint8_t pk[EWH_KEY_BYTES], seed[32];
    int rc;

    if (crypto_scalarmult_base(s->pub.curve, s->curve_sk) != 0)
        return ewh_err_set(err, EWH_E_CRYPTO, "bad CURVE secret key");
    /* sign_sk holds seed || pk; rebuild it from the seed.  libsodium
     * hashes into sk before it copies the seed, so they must not alias. */
    memcpy(seed, s->sign_sk, sizeof(seed));
    rc = crypto_sign_seed_keypair(pk, s->sign_sk, seed);
    sodium_memzero(seed, sizeof(seed));
    if (rc != 0)
        return ewh_err_set(err, EWH_E_CRYPTO, "bad signing secret key");
    memcpy(s->pub.sign, pk, sizeof(pk));
    if (s->pub.kind == EWH_KIND_NODE) {
        if (crypto_scalarmult_base(s->pub.box, s->box_sk) != 0)
            return ewh_err_set(err, EWH_E_CRYPTO, "bad box secret key");
    } else {
        memset(s->pub.box, 0, sizeof(s->pub.box));
    }
    return 0;
}

ewh_secret_t *
ewh_secret_generate(enum ewh_kind kind, const char *country,
                    struct ewh_err *err)
{
    ewh_secret_t *s;

    if (kind == EWH_KIND_NODE && !ewh_country_is_valid(country)) {
        ewh_err_set(err, EWH_E_INVALID,
                    "'%s' is not an ISO 3166-1 alpha-2 country code "
                    "(two capital letters, e.g. RS)",
                    country ? country : "");
        return NULL;
    }
    if (kind != EWH_KIND_NODE && kind != EWH_KIND_HUB) {
        ewh_err_set(err, EWH_E_INVALID, "unknown identity kind");
        return NULL;
    }
    if ((s = s_alloc(err)) == NULL)
        return NULL;
    s->pub.kind = kind;
    if (kind == EWH_KIND_NODE)
        memcpy(s->pub.country, country, 3);
    randombytes_buf(s->curve_sk, sizeof(s->curve_sk));
    randombytes_buf(s->sign_sk, 32); /* seed */
    if (kind == EWH_KIND_NODE)
        randombytes_buf(s->box_sk, sizeof(s->box_sk));
    if (s_derive_public(s, err) != 0) {
        ewh_secret_destroy(&s);
        return NULL;
    }
    return s;
}

void
ewh_secret_destroy(ewh_secret_t **s)
{
    if (s == NULL || *s == NULL)
        return;
    sodium_free(*s); /* wipes */
    *s = NULL;
}

const struct ewh_pubid *
ewh_secret_pubid(const ewh_secret_t *s)
{
    return &s->pub;
}

const uint8_t *
ewh_secret_curve_sk(const ewh_secret_t *s)
{
    return s->curve_sk;
}

const uint8_t *
ewh_secret_sign_sk(const ewh_secret_t *s)
{
    return s->sign_sk;
}

const uint8_t *
ewh_secret_box_sk(const ewh_secret_t *s)
{
    return s->box_sk;
}

/* ---- secret key files --------------------------------------------- */

/* The text form lives in locked memory too. */
struct s_secret_text {
    char buf[EWH_MAX_KEYFILE_BYTES + 1];
};

int
ewh_secret_save(const ewh_secret_t *s, const char *path, struct ewh_err *err)
{
    struct s_secret_text *t;
    char h1[65], h2[65], h3[65];
    int n, rc = -1;

    if ((t = sodium_malloc(sizeof(*t))) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "cannot allocate locked memory");
    sodium_bin2hex(h1, sizeof(h1), s->curve_sk, 32);
    sodium_bin2hex(h2, sizeof(h2), s->sign_sk, 32);
    sodium_bin2hex(h3, sizeof(h3), s->box_sk, 32);
    n = snprintf(t->buf, sizeof(t->buf),
                 "# ewhub SECRET keys of %s%s%s. Never copy or mail this file;"
                 "\n# it must stay mode 0600. The public half is in the .pub "
                 "file.\n[secret]\nkind = %s\ncountry = %s\n"
                 "curve_secret = %s\nsign_seed = %s\n%s%s%s",
                 s_kind_name(s->pub.kind), s->pub.country[0] ? " " : "",
                 s->pub.country, s_kind_name(s->pub.kind), s->pub.country, h1,
                 h2, s->pub.kind == EWH_KIND_NODE ? "box_secret = " : "",
                 s->pub.kind == EWH_KIND_NODE ? h3 : "",
                 s->pub.kind == EWH_KIND_NODE ? "\n" : "");
    sodium_memzero(h1, sizeof(h1));
    sodium_memzero(h2, sizeof(h2));
    sodium_memzero(h3, sizeof(h3));
    if (n < 0 || (size_t)n >= sizeof(t->buf)) {
        ewh_err_set(err, EWH_E_TOOBIG, "key file text too long");
        goto out;
    }
    rc = ewh_keyfile_write(path, t->buf, (size_t)n, 0600, err);
out:
    sodium_free(t);
    return rc;
}

struct s_parse_ctx {
    ewh_secret_t *s;
    unsigned seen;
    struct ewh_err *err;
    int failed;
};

enum { S_KIND = 1, S_CC = 2, S_CURVE = 4, S_SIGN = 8, S_BOX = 16 };

static int
s_secret_handler(void *user, const char *section, const char *name,
                 const char *value)
{
    struct s_parse_ctx *c = user;
    uint8_t *dst = NULL;
    unsigned bit = 0;

    if (strcmp(section, "secret") != 0)
        goto bad;
    if (strcmp(name, "kind") == 0) {
        if (strcmp(value, "node") == 0)
            c->s->pub.kind = EWH_KIND_NODE;
        else if (strcmp(value, "hub") == 0)
            c->s->pub.kind = EWH_KIND_HUB;
        else
            goto bad;
        c->seen |= S_KIND;
        return 1;
    }
    if (strcmp(name, "country") == 0) {
        if (value[0] != '\0' && !ewh_country_is_valid(value))
            goto bad;
        snprintf(c->s->pub.country, sizeof(c->s->pub.country), "%s", value);
        c->seen |= S_CC;
        return 1;
    }
    if (strcmp(name, "curve_secret") == 0) {
        dst = c->s->curve_sk;
        bit = S_CURVE;
    } else if (strcmp(name, "sign_seed") == 0) {
        dst = c->s->sign_sk;
        bit = S_SIGN;
    } else if (strcmp(name, "box_secret") == 0) {
        dst = c->s->box_sk;
        bit = S_BOX;
    } else {
        goto bad;
    }
    if (ewh_unhex(value, dst, 32, NULL) != 0)
        goto bad;
    c->seen |= bit;
    return 1;
bad:
    if (!c->failed)
        ewh_err_set(c->err, EWH_E_INVALID, "bad entry '%s'", name);
    c->failed = 1;
    return 0;
}

ewh_secret_t *
ewh_secret_load(const char *path, struct ewh_err *err)
{
    struct s_secret_text *t = NULL;
    struct s_parse_ctx c = {0};
    ewh_secret_t *s = NULL;
    size_t len = 0;
    int line;
    struct ewh_err perr = {0};

    if ((s = s_alloc(err)) == NULL)
        return NULL;
    if ((t = sodium_malloc(sizeof(*t))) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "cannot allocate locked memory");
        goto fail;
    }
    if (ewh_keyfile_read_secret(path, t->buf, EWH_MAX_KEYFILE_BYTES, &len,
                                err) != 0)
        goto fail;
    t->buf[len] = '\0';
    c.s = s;
    c.err = &perr;
    line = ini_parse_string(t->buf, s_secret_handler, &c);
    if (line != 0) {
        ewh_err_set(err, EWH_E_INVALID, "%s:%d: %s", path, line,
                    c.failed ? perr.reason : "syntax error");
        goto fail;
    }
    if (!(c.seen & S_KIND) || !(c.seen & S_CURVE) || !(c.seen & S_SIGN) ||
        (s->pub.kind == EWH_KIND_NODE &&
         (!(c.seen & S_BOX) || !ewh_country_is_valid(s->pub.country)))) {
        ewh_err_set(err, EWH_E_INVALID, "%s: incomplete secret key file", path);
        goto fail;
    }
    if (s_derive_public(s, err) != 0)
        goto fail;
    sodium_free(t);
    return s;
fail:
    if (t != NULL)
        sodium_free(t);
    ewh_secret_destroy(&s);
    return NULL;
}

/* ---- public identities ---------------------------------------------- */

void
ewh_pubid_fingerprint(const struct ewh_pubid *id,
                      char out[EWH_FINGERPRINT_CHARS])
{
    crypto_generichash_state st;
    uint8_t fp[EWH_FINGERPRINT_BYTES];
    uint8_t kind = (uint8_t)id->kind;
    char hex[EWH_FINGERPRINT_BYTES * 2 + 1];
    size_t i, o = 0;

    crypto_generichash_init(&st, NULL, 0, sizeof(fp));
    crypto_generichash_update(&st, (const uint8_t *)"ewh-fp-v1", 9);
    crypto_generichash_update(&st, &kind, 1);
    crypto_generichash_update(&st, (const uint8_t *)id->country, 2);
    crypto_generichash_update(&st, id->curve, 32);
    crypto_generichash_update(&st, id->sign, 32);
    crypto_generichash_update(&st, id->box, 32);
    crypto_generichash_final(&st, fp, sizeof(fp));
    sodium_bin2hex(hex, sizeof(hex), fp, sizeof(fp));
    for (i = 0; i < sizeof(fp) * 2; i++) {
        if (i > 0 && i % 4 == 0)
            out[o++] = '-';
        out[o++] = (char)toupper((unsigned char)hex[i]);
    }
    out[o] = '\0';
}

bool
ewh_pubid_equal(const struct ewh_pubid *a, const struct ewh_pubid *b)
{
    return a->kind == b->kind && strcmp(a->country, b->country) == 0 &&
           memcmp(a->curve, b->curve, 32) == 0 &&
           memcmp(a->sign, b->sign, 32) == 0 && memcmp(a->box, b->box, 32) == 0;
}

int
ewh_pubid_format(const struct ewh_pubid *id, char *out, size_t out_cap,
                 struct ewh_err *err)
{
    char fp[EWH_FINGERPRINT_CHARS], h1[65], h2[65], h3[65];
    char eb[65], es[129], endo[320] = "";
    int n;

    ewh_pubid_fingerprint(id, fp);
    sodium_bin2hex(h1, sizeof(h1), id->curve, 32);
    sodium_bin2hex(h2, sizeof(h2), id->sign, 32);
    sodium_bin2hex(h3, sizeof(h3), id->box, 32);
    if (id->kind == EWH_KIND_NODE && id->endorsed) {
        sodium_bin2hex(eb, sizeof(eb), id->endorsed_by, 32);
        sodium_bin2hex(es, sizeof(es), id->endorsement, 64);
        snprintf(endo, sizeof(endo),
                 "# Endorsed by the country's previous signing key.\n"
                 "endorsed_by = %s\nendorsement = %s\n",
                 eb, es);
    }
    if (id->kind == EWH_KIND_NODE)
        n = snprintf(out, out_cap,
                     "# ewhub public identity of node %s.\n"
                     "# Safe to mail. Before enrolling, compare the "
                     "fingerprint by telephone.\n"
                     "[identity]\nkind = node\ncountry = %s\n"
                     "curve = %s\nsign = %s\nbox = %s\nfingerprint = %s\n%s",
                     id->country, id->country, h1, h2, h3, fp, endo);
    else
        n = snprintf(out, out_cap,
                     "# ewhub public identity of the hub.\n"
                     "# Safe to mail. Nodes pin it at init; compare the "
                     "fingerprint by telephone.\n"
                     "[identity]\nkind = hub\ncurve = %s\nsign = %s\n"
                     "fingerprint = %s\n",
                     h1, h2, fp);
    if (n < 0 || (size_t)n >= out_cap)
        return ewh_err_set(err, EWH_E_TOOBIG, "identity text too long");
    return n;
}

struct s_pub_ctx {
    struct ewh_pubid *id;
    unsigned seen;
    char fp[EWH_FINGERPRINT_CHARS];
    char bad[64];
};

enum {
    P_KIND = 1,
    P_CC = 2,
    P_CURVE = 4,
    P_SIGN = 8,
    P_BOX = 16,
    P_FP = 32,
    P_EBY = 64,
    P_ESIG = 128
};

static int
s_pub_handler(void *user, const char *section, const char *name,
              const char *value)
{
    struct s_pub_ctx *c = user;
    uint8_t *dst = NULL;
    unsigned bit;

    if (strcmp(section, "identity") != 0) {
        snprintf(c->bad, sizeof(c->bad), "unknown section [%.32s]", section);
        return 0;
    }
    if (strcmp(name, "kind") == 0) {
        if (strcmp(value, "node") == 0)
            c->id->kind = EWH_KIND_NODE;
        else if (strcmp(value, "hub") == 0)
            c->id->kind = EWH_KIND_HUB;
        else
            goto bad;
        bit = P_KIND;
    } else if (strcmp(name, "country") == 0) {
        if (!ewh_country_is_valid(value))
            goto bad;
        memcpy(c->id->country, value, 3);
        bit = P_CC;
    } else if (strcmp(name, "fingerprint") == 0) {
        if (strlen(value) != EWH_FINGERPRINT_CHARS - 1)
            goto bad;
        memcpy(c->fp, value, EWH_FINGERPRINT_CHARS);
        bit = P_FP;
    } else if (strcmp(name, "endorsement") == 0) {
        if (ewh_unhex(value, c->id->endorsement, EWH_SIG_BYTES, NULL) != 0)
            goto bad;
        bit = P_ESIG;
    } else {
        if (strcmp(name, "curve") == 0) {
            dst = c->id->curve;
            bit = P_CURVE;
        } else if (strcmp(name, "sign") == 0) {
            dst = c->id->sign;
            bit = P_SIGN;
        } else if (strcmp(name, "box") == 0) {
            dst = c->id->box;
            bit = P_BOX;
        } else if (strcmp(name, "endorsed_by") == 0) {
            dst = c->id->endorsed_by;
            bit = P_EBY;
        } else {
            snprintf(c->bad, sizeof(c->bad), "unknown key '%.32s'", name);
            return 0;
        }
        if (ewh_unhex(value, dst, 32, NULL) != 0)
            goto bad;
    }
    if (c->seen & bit) {
        snprintf(c->bad, sizeof(c->bad), "'%.32s' given twice", name);
        return 0;
    }
    c->seen |= bit;
    return 1;
bad:
    snprintf(c->bad, sizeof(c->bad), "bad value for '%.32s'", name);
    return 0;
}

int
ewh_pubid_parse(const char *text, size_t len, struct ewh_pubid *out,
                struct ewh_err *err)
{
    struct s_pub_ctx c = {0};
    struct ewh_pubid id = {0};
    char *copy;
    int line;

    if (len > EWH_MAX_PUBID_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG,
                           "identity of %zu bytes > EWH_MAX_PUBID_BYTES %u",
                           len, EWH_MAX_PUBID_BYTES);
    if (memchr(text, '\0', len) != NULL)
        return ewh_err_set(err, EWH_E_INVALID, "identity holds a NUL byte");
    if ((copy = malloc(len + 1)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    c.id = &id;
    line = ini_parse_string(copy, s_pub_handler, &c);
    free(copy);
    if (line != 0)
        return ewh_err_set(err, EWH_E_INVALID, "line %d: %s", line,
                           c.bad[0] ? c.bad : "syntax error");
    if (!(c.seen & P_KIND) || !(c.seen & P_CURVE) || !(c.seen & P_SIGN))
        return ewh_err_set(err, EWH_E_INVALID,
                           "identity lacks kind, curve or sign");
    if (id.kind == EWH_KIND_NODE && (!(c.seen & P_CC) || !(c.seen & P_BOX)))
        return ewh_err_set(err, EWH_E_INVALID,
                           "node identity lacks country or box");
    if (id.kind == EWH_KIND_HUB && (c.seen & (P_CC | P_BOX)))
        return ewh_err_set(err, EWH_E_INVALID,
                           "hub identity has country or box");
    if (!(c.seen & P_EBY) != !(c.seen & P_ESIG))
        return ewh_err_set(err, EWH_E_INVALID,
                           "identity has one of endorsed_by and endorsement "
                           "without the other");
    if ((c.seen & P_EBY) && id.kind != EWH_KIND_NODE)
        return ewh_err_set(err, EWH_E_INVALID,
                           "only a node identity carries an endorsement");
    if (c.seen & P_EBY) {
        id.endorsed = true;
        if (ewh_pubid_endorsement_check(&id, NULL, NULL) != 0)
            return ewh_err_set(err, EWH_E_SIGNATURE,
                               "the endorsement does not verify over these "
                               "keys (file altered?)");
    }
    if (c.seen & P_FP) {
        char fp[EWH_FINGERPRINT_CHARS];
        ewh_pubid_fingerprint(&id, fp);
        if (strcmp(fp, c.fp) != 0)
            return ewh_err_set(err, EWH_E_INVALID,
                               "fingerprint line does not match the keys "
                               "(file altered?)");
    }
    *out = id;
    return 0;
}

int
ewh_pubid_save(const struct ewh_pubid *id, const char *path,
               struct ewh_err *err)
{
    char buf[EWH_MAX_PUBID_BYTES];
    int n = ewh_pubid_format(id, buf, sizeof(buf), err);

    if (n < 0)
        return -1;
    return ewh_keyfile_write(path, buf, (size_t)n, 0644, err);
}

int
ewh_pubid_load(const char *path, struct ewh_pubid *out, struct ewh_err *err)
{
    char *text = NULL;
    size_t len = 0;
    struct ewh_err e = {0};
    int rc;

    if (ewh_file_read(path, EWH_MAX_PUBID_BYTES, &text, &len, err) != 0)
        return -1;
    rc = ewh_pubid_parse(text, len, out, &e);
    free(text);
    if (rc != 0)
        return ewh_err_set(err, e.code, "%s: %s", path, e.reason);
    return 0;
}

/* ---- domain-separated signatures ------------------------------------ */

int
ewh_sign(const char *ctx, const uint8_t *msg, size_t len,
         const uint8_t sign_sk[EWH_SIGN_SK_BYTES], uint8_t sig[EWH_SIG_BYTES],
         struct ewh_err *err)
{
    size_t clen = strlen(ctx) + 1;
    uint8_t *buf = malloc(clen + len);

    if (buf == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    memcpy(buf, ctx, clen);
    if (len > 0)
        memcpy(buf + clen, msg, len);
    crypto_sign_detached(sig, NULL, buf, clen + len, sign_sk);
    free(buf);
    return 0;
}

int
ewh_verify(const char *ctx, const uint8_t *msg, size_t len,
           const uint8_t sign_pk[EWH_KEY_BYTES], const uint8_t *sig,
           size_t sig_len, struct ewh_err *err)
{
    size_t clen = strlen(ctx) + 1;
    uint8_t *buf;
    int rc;

    if (sig_len != EWH_SIG_BYTES)
        return ewh_err_set(err, EWH_E_SIGNATURE,
                           "signature is %zu bytes, not %u", sig_len,
                           EWH_SIG_BYTES);
    if ((buf = malloc(clen + len)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    memcpy(buf, ctx, clen);
    if (len > 0)
        memcpy(buf + clen, msg, len);
    rc = crypto_sign_verify_detached(sig, buf, clen + len, sign_pk);
    free(buf);
    if (rc != 0)
        return ewh_err_set(err, EWH_E_SIGNATURE, "bad signature");
    return 0;
}

/* The bytes an endorsement signs: country || curve || sign || box. */
static void
s_endorse_msg(const struct ewh_pubid *id, uint8_t msg[2 + 3 * EWH_KEY_BYTES])
{
    memcpy(msg, id->country, 2);
    memcpy(msg + 2, id->curve, EWH_KEY_BYTES);
    memcpy(msg + 2 + EWH_KEY_BYTES, id->sign, EWH_KEY_BYTES);
    memcpy(msg + 2 + 2 * EWH_KEY_BYTES, id->box, EWH_KEY_BYTES);
}

int
ewh_pubid_endorse(struct ewh_pubid *next, const ewh_secret_t *old,
                  struct ewh_err *err)
{
    const struct ewh_pubid *o = ewh_secret_pubid(old);
    uint8_t msg[2 + 3 * EWH_KEY_BYTES];

    if (next->kind != EWH_KIND_NODE || o->kind != EWH_KIND_NODE ||
        strcmp(next->country, o->country) != 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "a country's keys endorse only its own next keys");
    if (memcmp(next->sign, o->sign, EWH_KEY_BYTES) == 0)
        return ewh_err_set(err, EWH_E_INVALID, "a key does not endorse itself");
    s_endorse_msg(next, msg);
    if (ewh_sign(EWH_CTX_ENDORSE, msg, sizeof(msg), ewh_secret_sign_sk(old),
                 next->endorsement, err) != 0)
        return -1;
    memcpy(next->endorsed_by, o->sign, EWH_KEY_BYTES);
    next->endorsed = true;
    return 0;
}

int
ewh_pubid_endorsement_check(const struct ewh_pubid *id, const uint8_t *by,
                            struct ewh_err *err)
{
    uint8_t msg[2 + 3 * EWH_KEY_BYTES];

    if (id->kind != EWH_KIND_NODE || !id->endorsed)
        return ewh_err_set(err, EWH_E_SIGNATURE, "%s's keys are not endorsed",
                           id->country);
    if (by != NULL && sodium_memcmp(id->endorsed_by, by, EWH_KEY_BYTES) != 0)
        return ewh_err_set(err, EWH_E_SIGNATURE,
                           "%s's keys are endorsed by another key than the "
                           "one held",
                           id->country);
    if (memcmp(id->endorsed_by, id->sign, EWH_KEY_BYTES) == 0)
        return ewh_err_set(err, EWH_E_SIGNATURE, "%s's keys endorse themselves",
                           id->country);
    s_endorse_msg(id, msg);
    if (ewh_verify(EWH_CTX_ENDORSE, msg, sizeof(msg), id->endorsed_by,
                   id->endorsement, EWH_SIG_BYTES, NULL) != 0)
        return ewh_err_set(err, EWH_E_SIGNATURE,
                           "%s's endorsement does not verify", id->country);
    return 0;
}
