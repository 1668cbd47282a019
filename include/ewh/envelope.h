/*
 * envelope.h — the signed, end-to-end encrypted envelope.
 *
 * seal: the origin serializes the Report, encrypts it with
 *   XChaCha20-Poly1305 under a fresh content key with the serialized Header
 *   as associated data, wraps the content key for every recipient and for
 *   itself, and signs ctx || EnvelopeBody bytes with Ed25519.
 * verify (hub): size, limits and header meaning, origin equals the
 *   authenticated country, signature.  No key to decrypt.
 * open (recipient): verify, unwrap its content key, decrypt, check that the
 *   report agrees with the header.
 *
 * Key wrapping (see docs/protocol.md, "Key wrapping"): the wrap key for a
 * (origin, recipient) pair is BLAKE2b over X25519(origin box sk, recipient
 * box pk) and both public keys; a content key is wrapped with
 * XChaCha20-Poly1305 under it, a random nonce, and the envelope id and
 * recipient as associated data.  ewh_wrapcache_t keeps derived pair keys so
 * a sender pays the X25519 once per peer, not once per envelope.
 */
#ifndef EWH_ENVELOPE_H
#define EWH_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/util.h"

#define EWH_ENVELOPE_VERSION 1u
#define EWH_HEAD_HASH_BYTES  32u /* a roster head's hash (roster.h) */

/* The plaintext report.  body is heap memory owned by the struct (NULL when
 * empty); ewh_report_clear() wipes and frees it. */
struct ewh_report {
    uint8_t id[EWH_ID_BYTES];
    enum ewh_type type;
    uint8_t refs[EWH_MAX_REFERENCES][EWH_ID_BYTES];
    size_t n_refs;
    char origin[EWH_CC_BYTES];
    char author[EWH_MAX_AUTHOR_BYTES + 1];
    int64_t created_at;
    int64_t expires_at; /* 0: never */
    enum ewh_level level;
    char category[EWH_MAX_CATEGORY_BYTES + 1];
    enum ewh_tlp tlp;
    char title[EWH_MAX_TITLE_BYTES + 1];
    char urgency[EWH_MAX_CAPWORD_BYTES + 1];
    char certainty[EWH_MAX_CAPWORD_BYTES + 1];
    /* why the level departs from the catalogue's default for the category
     * (sealed; empty: none given) */
    char level_reason[EWH_MAX_LEVEL_REASON_BYTES + 1];
    /* EWH_TYPE_RETURN only: the reporting year, copied into the clear
     * header (docs/exchange.md); 0 otherwise */
    uint32_t return_year;
    char *body;
    size_t body_len;
    /* Not encrypted: the sealer's roster head, copied into the signed
     * header when has_head (docs/trust.md). */
    bool has_head;
    uint64_t roster_version;
    uint8_t roster_hash[EWH_HEAD_HASH_BYTES];
    /* Not encrypted: how far it may travel, copied into the signed header
     * (docs/federation.md).  0 (zeroed struct) is EWH_DIST_REGION. */
    enum ewh_distribution distribution;
};

/* The clear routing header, as the hub sees it. */
struct ewh_header {
    uint32_t version;
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES];
    enum ewh_level level;
    int64_t created_at;
    int64_t expires_at;
    char recipients[EWH_MAX_RECIPIENTS][EWH_CC_BYTES];
    size_t n_recipients;
    enum ewh_type type;
    uint8_t refs[EWH_MAX_REFERENCES][EWH_ID_BYTES];
    size_t n_refs;
    bool has_head; /* the origin's roster head, if it sent one */
    uint64_t roster_version;
    uint8_t roster_hash[EWH_HEAD_HASH_BYTES];
    uint32_t return_year; /* EWH_TYPE_RETURN only, else 0 */
    /* EWH_DIST_REGION for envelopes from before issue 22 */
    enum ewh_distribution distribution;
};

/* Copy len bytes of body into r (replacing any); wiped when freed. */
EWH_MUST_CHECK int ewh_report_set_body(struct ewh_report *r, const char *body,
                                       size_t len, struct ewh_err *err);
/* Wipe the whole struct and free its body. */
void ewh_report_clear(struct ewh_report *r);

/* Check a report's fields against the limits and their meaning (lengths,
 * valid text, level, type, references, expiry). */
EWH_MUST_CHECK int ewh_report_check(const struct ewh_report *r,
                                    struct ewh_err *err);

typedef struct ewh_wrapcache ewh_wrapcache_t;

/* Caller owns the cache; destroy wipes it. */
EWH_MUST_CHECK ewh_wrapcache_t *ewh_wrapcache_new(void);
void ewh_wrapcache_destroy(ewh_wrapcache_t **c);

/* Seal r (whose origin must be the secret's country) for the n recipients
 * whose public identities are given (never the origin itself; the origin's
 * own wrap is added).  cache may be NULL.  On success *out is a serialized
 * Envelope of *out_len bytes; caller owns it (free()). */
EWH_MUST_CHECK int ewh_envelope_seal(const struct ewh_report *r,
                                     const struct ewh_pubid *const *to,
                                     size_t n, const ewh_secret_t *origin,
                                     ewh_wrapcache_t *cache, uint8_t **out,
                                     size_t *out_len, struct ewh_err *err);

/* Hub side.  Check env's size and limits, parse the header, check that its
 * origin equals expect_origin (the authenticated country; NULL skips this),
 * look the origin up and verify the signature.  hdr gets the header. */
EWH_MUST_CHECK int ewh_envelope_verify(const uint8_t *env, size_t len,
                                       const char *expect_origin,
                                       ewh_lookup_fn lookup, void *lookup_ctx,
                                       struct ewh_header *hdr,
                                       struct ewh_err *err);

/* Parse the header without verifying anything but the limits: for stores
 * that hold envelopes which were verified when they arrived. */
EWH_MUST_CHECK int ewh_envelope_peek(const uint8_t *env, size_t len,
                                     struct ewh_header *hdr,
                                     struct ewh_err *err);

/* Recipient (or origin) side: verify as above, then unwrap me's content
 * key, decrypt and check that the report agrees with the header.  r gets
 * the report (clear it with ewh_report_clear); hdr may be NULL.  A node to
 * which env is not addressed gets EWH_E_NOTFORME. */
EWH_MUST_CHECK int
ewh_envelope_open(const uint8_t *env, size_t len, const ewh_secret_t *me,
                  ewh_lookup_fn lookup, void *lookup_ctx, struct ewh_report *r,
                  struct ewh_header *hdr, struct ewh_err *err);

/* The same, keeping the pair keys it derives in cache (which may be NULL):
 * a node opening many reports from the same origins derives each pair key
 * once. */
EWH_MUST_CHECK int
ewh_envelope_open_cached(const uint8_t *env, size_t len, const ewh_secret_t *me,
                         ewh_wrapcache_t *cache, ewh_lookup_fn lookup,
                         void *lookup_ctx, struct ewh_report *r,
                         struct ewh_header *hdr, struct ewh_err *err);

#endif
