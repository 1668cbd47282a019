/*
 * trust.h — what this node trusts of its peers' keys (docs/trust.md).
 *
 * The hub signs the roster, but the keys in it are the countries' own: a
 * peer's key change counts only when its previous signing key endorsed the
 * new keys; otherwise, and for a country new after the first roster, the
 * peer is unverified until an officer compares its fingerprint by
 * telephone (`ewnode peers verify`).  Rosters form a hash chain, and every
 * signed envelope and receipt names its signer's roster head, so that a
 * hub showing two countries different rosters is caught.  The decisions
 * are here; their memory is in store_trust.c.
 */
#ifndef NODE_TRUST_H
#define NODE_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"
#include "ewh/envelope.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"

#define NODE_TRUST_HISTORY 16u /* keys of one peer tried for old signatures */

/* A new genuine roster `got` replacing `held` (NULL: the first): the chain
 * must link (-1 with EWH_E_SIGNATURE when it does not: the roster is
 * refused).  A gap in versions is accepted (logged). */
EWH_MUST_CHECK int node_trust_chain_check(const ewh_roster_t *got,
                                          const ewh_roster_t *held,
                                          struct ewh_err *err);

/* Decide each peer's trust for got (inside the caller's transaction):
 * TOFU for the first roster after init, endorsed key changes followed,
 * unendorsed ones and new countries unverified (logged at warn).  buf is
 * got's signed form, kept as a roster head.  self is this node's country. */
EWH_MUST_CHECK int node_trust_on_roster(node_store_t *s, const char *self,
                                        const ewh_roster_t *got,
                                        const ewh_roster_t *held,
                                        const uint8_t *buf, size_t len,
                                        struct ewh_err *err);

/* The peers' part of node_trust_on_roster(), without the roster heads:
 * for the roster of a hub other than the pinned hub #0 (issue 18,
 * docs/redundancy.md), whose versions and hashes are its own and are
 * not the heads peers name.  Endorsed key changes are followed, others
 * and new countries marked unverified, as for hub #0's roster. */
EWH_MUST_CHECK int node_trust_on_keys(node_store_t *s, const char *self,
                                      const ewh_roster_t *got,
                                      const ewh_roster_t *held,
                                      struct ewh_err *err);

/* May this node seal for cc now?  *ok false with *t saying why (an
 * unverified peer under `unverified = refuse`, or a peer in a split view,
 * which is refused under any policy).  *warn true when sealing for an
 * unverified peer under `unverified = warn`. */
EWH_MUST_CHECK int node_trust_sealable(node_store_t *s, const char *cc,
                                       bool policy_warn, bool *ok, bool *warn,
                                       struct node_trust *t,
                                       struct ewh_err *err);

/* An officer compared cc's fingerprint by telephone: fp must be the
 * fingerprint of cc's key in ro (else EWH_E_INVALID naming both). */
EWH_MUST_CHECK int node_trust_verify(node_store_t *s, const ewh_roster_t *ro,
                                     const char *cc, const char *fp,
                                     struct ewh_err *err);

/* The roster head to put in what we sign. */
void node_trust_head(const ewh_roster_t *ro, bool *has, uint64_t *version,
                     uint8_t hash[EWH_HEAD_HASH_BYTES]);

/* A peer signed something naming roster head (version, hash): compare it
 * with the heads this node held.  A same version with another hash is a
 * split view: evidence kept (signed is what the peer signed), the peer
 * marked "split-view", logged at error; *split true. */
EWH_MUST_CHECK int node_trust_check_head(node_store_t *s, const char *cc,
                                         bool has, uint64_t version,
                                         const uint8_t *hash, const char *what,
                                         const uint8_t *signed_buf, size_t len,
                                         bool *split, struct ewh_err *err);

/* Is the key that signed (origin's current roster key) verified here?
 * *fp gets its fingerprint. */
EWH_MUST_CHECK int node_trust_signer_verified(node_store_t *s,
                                              const ewh_roster_t *ro,
                                              const char *cc, bool *verified,
                                              char fp[EWH_FINGERPRINT_CHARS],
                                              struct ewh_err *err);

/* For the commands (peers, outbox, watch, submit): print to out what the
 * user must know ("ewnode CMD: HR is UNVERIFIED ..."; a split view held).
 * Returns the number of lines (out NULL: counts them, prints nothing). */
int node_trust_hint(node_store_t *s, const char *cmd, FILE *out);

/* The same as JSON: {"unverified": [{country, why, fingerprint}],
 * "split_views": N}.  Caller owns it. */
json_t *node_trust_json(node_store_t *s);

/* Write DIR/trust.json (node_trust_json and the time; 0600, atomically):
 * the node's status of its peers' keys, for monitoring.  Errors are
 * logged, never fatal. */
struct node_dir;
void node_trust_status_write(struct node_dir *d);

/* A lookup over one identity (ctx is a struct ewh_pubid). */
const struct ewh_pubid *node_trust_lookup_one(void *ctx, const char *cc);

#endif
