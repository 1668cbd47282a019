/*
 * roster.h — the signed list of enrolled countries.
 *
 * The hub publishes country -> public keys with revoked flags and a
 * version, signed with its Ed25519 key.  Nodes accept only a correctly
 * signed roster with a higher version than the one they hold.
 */
#ifndef EWH_ROSTER_H
#define EWH_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/limits.h"

typedef struct ewh_roster ewh_roster_t;

#define EWH_ROSTER_HASH_BYTES 32u /* BLAKE2b-256 of a RosterBody */
/* Hello.features: the node checks key continuity, roster chains and
 * roster heads (docs/trust.md). */
#define EWH_FEATURE_TRUST 1u
/* Hello.features: the node takes ForeignRoster frames, opens reports of
 * foreign origins and checks their distribution (issue 22,
 * docs/federation-node.md).  A hub sends foreign rosters and
 * foreign-origin reports only to nodes that set it. */
#define EWH_FEATURE_FEDERATION 2u

/* An empty roster of the given version.  Caller owns it. */
EWH_MUST_CHECK ewh_roster_t *ewh_roster_new(uint64_t version);
void ewh_roster_destroy(ewh_roster_t **r);

/* Add or replace the entry for id->country (a node identity).  At most
 * EWH_MAX_ROSTER_ENTRIES countries. */
EWH_MUST_CHECK int ewh_roster_put(ewh_roster_t *r, const struct ewh_pubid *id,
                                  bool revoked, struct ewh_err *err);

uint64_t ewh_roster_version(const ewh_roster_t *r);
size_t ewh_roster_count(const ewh_roster_t *r);

/* The i-th entry (sorted by country), borrowed; *revoked gets its flag. */
const struct ewh_pubid *ewh_roster_at(const ewh_roster_t *r, size_t i,
                                      bool *revoked);

/* The entry for cc, borrowed, or NULL; revoked may be NULL. */
const struct ewh_pubid *ewh_roster_find(const ewh_roster_t *r, const char *cc,
                                        bool *revoked);

/* An ewh_lookup_fn over a roster (ctx is the roster): unrevoked only. */
const struct ewh_pubid *ewh_roster_lookup(void *ctx, const char *cc);

/* The hub's next keys during a rotation, if set (NULL otherwise). */
const uint8_t *ewh_roster_next_hub_sign(const ewh_roster_t *r);
const uint8_t *ewh_roster_next_hub_curve(const ewh_roster_t *r);
void ewh_roster_set_next_hub(ewh_roster_t *r, const uint8_t sign[32],
                             const uint8_t curve[32]);

/* The region's report categories, set by the hub operator (defaults:
 * ewh_default_categories).  Each is 1..EWH_MAX_CATEGORY_BYTES of lower-case
 * letters, digits and '-'; at most EWH_MAX_CATEGORIES. */
EWH_MUST_CHECK int ewh_roster_set_categories(ewh_roster_t *r,
                                             const char *const *cats, size_t n,
                                             struct ewh_err *err);
size_t ewh_roster_category_count(const ewh_roster_t *r);
const char *ewh_roster_category(const ewh_roster_t *r, size_t i);
/* True if cat is one of the roster's categories (or, for a roster with no
 * categories, one of the defaults). */
bool ewh_roster_has_category(const ewh_roster_t *r, const char *cat);

/* The default category list of DESIGN.md, NULL-terminated, with a
 * one-line description each (ewh_default_category_help). */
extern const char *const ewh_default_categories[];
extern const char *const ewh_default_category_help[];

/* Serialize and sign as a SignedRoster with the hub's secret.  Caller owns
 * *out (free()). */
EWH_MUST_CHECK int ewh_roster_sign(const ewh_roster_t *r,
                                   const ewh_secret_t *hub, uint8_t **out,
                                   size_t *out_len, struct ewh_err *err);

/* Verify a SignedRoster against the pinned hub signing key, check every
 * entry, and return the roster.  Caller owns it. */
EWH_MUST_CHECK ewh_roster_t *ewh_roster_open(const uint8_t *buf, size_t len,
                                             const uint8_t hub_sign[32],
                                             struct ewh_err *err);

/* The endorsed chain of cc's entry (earlier identities, newest first, each
 * with its own endorsement): set (n <= EWH_MAX_KEY_CHAIN) / get (borrowed,
 * *n gets the count; NULL when none). */
EWH_MUST_CHECK int ewh_roster_set_chain(ewh_roster_t *r, const char *cc,
                                        const struct ewh_pubid *links, size_t n,
                                        struct ewh_err *err);
const struct ewh_pubid *ewh_roster_chain(const ewh_roster_t *r, const char *cc,
                                         size_t *n);

/* Key continuity (docs/trust.md), the one rule every holder of a key
 * applies (node trust, hubs comparing or importing rosters, foreign
 * rosters at a hub): is id endorsed by the signing key held[32], directly
 * or through links (the entry's chain, newest first: each link is the key
 * that endorsed the one before it, and every endorsement verifies)?  *k
 * (may be NULL) gets the number of links between (0: directly). */
bool ewh_pubid_follows(const struct ewh_pubid *id,
                       const struct ewh_pubid *links, size_t n,
                       const uint8_t held[32], size_t *k);
/* The signing keys id descends from in roster r, newest first: its
 * endorser, then each link's endorser, as far as the rule above holds.
 * Returns how many (at most 1 + EWH_MAX_KEY_CHAIN). */
size_t ewh_roster_ancestry(const ewh_roster_t *r, const struct ewh_pubid *id,
                           uint8_t anc[1 + EWH_MAX_KEY_CHAIN][32]);

/* Federation (docs/federation.md).  The region the roster's hub serves
 * (ewh_region_is_valid; a roster that names none, from a hub before
 * issue 22, reads as EWH_DEFAULT_REGION) and the regions that hub is
 * directly peered with (at most EWH_MAX_FED_PEERS, none twice, never its
 * own; kept sorted). */
EWH_MUST_CHECK int ewh_roster_set_region(ewh_roster_t *r, const char *region,
                                         struct ewh_err *err);
const char *ewh_roster_region(const ewh_roster_t *r);
EWH_MUST_CHECK int ewh_roster_set_peers(ewh_roster_t *r,
                                        const char *const *peers, size_t n,
                                        struct ewh_err *err);
size_t ewh_roster_peer_count(const ewh_roster_t *r);
const char *ewh_roster_peer(const ewh_roster_t *r, size_t i);
bool ewh_roster_has_peer(const ewh_roster_t *r, const char *region);

/* The hash chain (docs/trust.md).  A roster commits to the one before it
 * by version and hash; a roster without one starts the chain.  set_prev
 * with hash NULL clears it. */
void ewh_roster_set_prev(ewh_roster_t *r, uint64_t version,
                         const uint8_t hash[EWH_ROSTER_HASH_BYTES]);
/* The previous roster's hash (borrowed) and *version, or NULL. */
const uint8_t *ewh_roster_prev(const ewh_roster_t *r, uint64_t *version);
/* The hash of this roster's signed body, known for a roster from
 * ewh_roster_open (NULL for one built with ewh_roster_new). */
const uint8_t *ewh_roster_hash(const ewh_roster_t *r);
/* True when next names prev (version and hash) as its previous roster. */
bool ewh_roster_links(const ewh_roster_t *next, const ewh_roster_t *prev);

#endif
