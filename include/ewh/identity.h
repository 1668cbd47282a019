/*
 * identity.h — node and hub identities.
 *
 * A node (a country) holds three key pairs: CURVE for transport, Ed25519
 * for signing reports and receipts, X25519 for receiving content keys.
 * The hub holds a CURVE pair and an Ed25519 pair.
 *
 * The public half is a small INI text file a person can read and mail
 * (node-RS.pub, hub.pub); its format is in docs/protocol.md.  The secret
 * half lives in sodium_malloc() memory (locked, guarded) inside
 * ewh_secret_t and is wiped on destroy.
 */
#ifndef EWH_IDENTITY_H
#define EWH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/util.h"

#define EWH_KEY_BYTES         32u
#define EWH_SIGN_SK_BYTES     64u
#define EWH_SIG_BYTES         64u
#define EWH_FINGERPRINT_BYTES 10u /* 80 bits, shown as 20 hex digits */
#define EWH_FINGERPRINT_CHARS 25u /* "3F2A-9C01-B7E4-0D55-1A2B" + NUL */

enum ewh_kind {
    EWH_KIND_NODE = 1,
    EWH_KIND_HUB = 2,
};

/* A public identity.  For the hub, country is "" and box is all zero. */
struct ewh_pubid {
    enum ewh_kind kind;
    char country[EWH_CC_BYTES];
    uint8_t curve[EWH_KEY_BYTES];
    uint8_t sign[EWH_KEY_BYTES];
    uint8_t box[EWH_KEY_BYTES];
    /* Key continuity (docs/trust.md): set when the country's previous
     * signing key endorsed these keys (ewh_pubid_endorse).  Not part of the
     * fingerprint nor of ewh_pubid_equal: it vouches for the keys, it is
     * not one of them. */
    bool endorsed;
    uint8_t endorsed_by[EWH_KEY_BYTES];
    uint8_t endorsement[EWH_SIG_BYTES];
};

typedef struct ewh_secret ewh_secret_t;

/* Generate fresh key pairs.  country must be a valid ISO 3166-1 alpha-2
 * code for a node and NULL for the hub.  Caller owns the result. */
EWH_MUST_CHECK ewh_secret_t *ewh_secret_generate(enum ewh_kind kind,
                                                 const char *country,
                                                 struct ewh_err *err);

/* Save to path (0600, atomically) / load with the key file checks.  Loading
 * also checks that each public key matches its secret key. */
EWH_MUST_CHECK int ewh_secret_save(const ewh_secret_t *s, const char *path,
                                   struct ewh_err *err);
EWH_MUST_CHECK ewh_secret_t *ewh_secret_load(const char *path,
                                             struct ewh_err *err);

/* Wipe, free and set *s to NULL.  Accepts NULL and *s == NULL. */
void ewh_secret_destroy(ewh_secret_t **s);

/* Borrowed views into the secret.  curve_sk and box_sk are 32 bytes,
 * sign_sk is 64 (libsodium's seed || public key form). */
const struct ewh_pubid *ewh_secret_pubid(const ewh_secret_t *s);
const uint8_t *ewh_secret_curve_sk(const ewh_secret_t *s);
const uint8_t *ewh_secret_sign_sk(const ewh_secret_t *s);
const uint8_t *ewh_secret_box_sk(const ewh_secret_t *s);

/* Render a public identity as its text file (NUL-terminated) into out.
 * Returns the length, or -1 if out_cap is too small. */
EWH_MUST_CHECK int ewh_pubid_format(const struct ewh_pubid *id, char *out,
                                    size_t out_cap, struct ewh_err *err);

/* Parse a public identity text (need not be NUL-terminated); every field
 * is checked: kind, country code, key lengths, and a fingerprint line if
 * present must match the keys. */
EWH_MUST_CHECK int ewh_pubid_parse(const char *text, size_t len,
                                   struct ewh_pubid *out, struct ewh_err *err);

EWH_MUST_CHECK int ewh_pubid_save(const struct ewh_pubid *id, const char *path,
                                  struct ewh_err *err);
EWH_MUST_CHECK int ewh_pubid_load(const char *path, struct ewh_pubid *out,
                                  struct ewh_err *err);

/* A short, human-comparable fingerprint of every public key in id:
 * 80 bits of BLAKE2b as five groups of four hex digits,
 * "3F2A-9C01-B7E4-0D55-1A2B". */
void ewh_pubid_fingerprint(const struct ewh_pubid *id,
                           char out[EWH_FINGERPRINT_CHARS]);

/* True if a and b hold the same kind, country and keys. */
bool ewh_pubid_equal(const struct ewh_pubid *a, const struct ewh_pubid *b);

/* Domain-separated Ed25519: sign / verify ctx || msg.  ctx names the kind
 * of object ("ewh-envelope-v1"), so one signature can never be replayed as
 * another kind. */
EWH_MUST_CHECK int ewh_sign(const char *ctx, const uint8_t *msg, size_t len,
                            const uint8_t sign_sk[EWH_SIGN_SK_BYTES],
                            uint8_t sig[EWH_SIG_BYTES], struct ewh_err *err);
EWH_MUST_CHECK int ewh_verify(const char *ctx, const uint8_t *msg, size_t len,
                              const uint8_t sign_pk[EWH_KEY_BYTES],
                              const uint8_t *sig, size_t sig_len,
                              struct ewh_err *err);

#define EWH_CTX_ENVELOPE   "ewh-envelope-v1"
#define EWH_CTX_ROSTER     "ewh-roster-v1"
#define EWH_CTX_RECEIPT    "ewh-receipt-v1"
#define EWH_CTX_CHECKPOINT "ewh-checkpoint-v1"
#define EWH_CTX_ENDORSE    "ewh-endorse-v1"

/* Key continuity.  Endorse next (a node identity of old's country) with
 * old's signing key: an Ed25519 signature by old over EWH_CTX_ENDORSE ||
 * country || curve || sign || box, kept in next->endorsed_by and
 * next->endorsement.  The two identities' keys must differ. */
EWH_MUST_CHECK int ewh_pubid_endorse(struct ewh_pubid *next,
                                     const ewh_secret_t *old,
                                     struct ewh_err *err);

/* True when id carries an endorsement made by the signing key by[32] that
 * verifies over id's keys.  by NULL: whoever id says endorsed it.  Returns
 * 0, or -1 with EWH_E_SIGNATURE (no endorsement, another endorser, a bad
 * signature). */
EWH_MUST_CHECK int ewh_pubid_endorsement_check(const struct ewh_pubid *id,
                                               const uint8_t *by,
                                               struct ewh_err *err);

/* A lookup from country code to its public identity, or NULL when unknown
 * or revoked.  Rosters provide one (ewh_roster_lookup). */
typedef const struct ewh_pubid *(*ewh_lookup_fn)(void *ctx, const char *cc);

#endif
