/*
 * audit.h — the hub's side of the audit trail: proofs for nodes
 * (AuditRequest -> AuditProof) and the offline check behind
 * `ewhub audit verify`.  The chain itself: include/ewh/audit.h.
 *
 * An entry's envelope hash in a proof is the hash of the envelope the hub
 * holds now (the chain's stored hash once retention emptied the envelope),
 * so a changed envelope, like a changed, missing or reordered entry, breaks
 * the path to every checkpoint a node holds.
 */
#ifndef HUB_AUDIT_H
#define HUB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "ewh/audit.h"
#include "ewh/err.h"
#include "ewh/identity.h"

/* Build the serialized Frame{AuditProof} answering a request for the
 * entries after from_length (at most max_entries, capped at
 * EWH_MAX_PROOF_ENTRIES; 0 means the cap), with a checkpoint of
 * (length, head, now) freshly signed by key.  Caller owns *out. */
EWH_MUST_CHECK int hub_audit_proof(hub_store_t *st, const ewh_secret_t *key,
                                   uint64_t length,
                                   const uint8_t head[EWH_HASH_BYTES],
                                   uint64_t from_length, uint32_t max_entries,
                                   uint8_t **out, size_t *out_len,
                                   struct ewh_err *err);

struct hub_audit_result {
    uint64_t entries;     /* chain entries checked */
    uint64_t envelopes;   /* envelopes whose hash was checked */
    uint64_t pruned;      /* entries whose envelope retention emptied */
    uint64_t checkpoints; /* signed checkpoints checked */
    uint64_t problems;
    char first[512]; /* the first mismatch, "" when none */
};

/* Recompute the chain from the genesis head, check every stored envelope
 * and every stored signed checkpoint against the hub key in force when it
 * was signed.  keys[0..n_keys-1] are the hub's signing keys oldest first
 * (the rotation chain, ending with the current key): checkpoints, in the
 * order of their length, may only move forward along it, so a checkpoint
 * signed with a key retired before an earlier checkpoint's is a problem.
 * Each problem is printed to out (may be NULL), one line each, up to
 * max_lines.  Returns 0 when the walk ran (r->problems tells the
 * verdict), -1 on a store error. */
EWH_MUST_CHECK int hub_audit_verify(hub_store_t *st, const uint8_t (*keys)[32],
                                    size_t n_keys, FILE *out, size_t max_lines,
                                    struct hub_audit_result *r,
                                    struct ewh_err *err);

/* ---- restore or rewrite (issue 18) ----
 *
 * A checkpoint a node holds of this hub (length, head, the time the hub
 * signed it), from a file the node exported; `is_signed` when it came with
 * the hub's signature, verified. */
struct hub_audit_claim {
    uint64_t length;
    uint8_t head[EWH_HASH_BYTES];
    int64_t time; /* 0: not known */
    bool is_signed;
};

enum hub_claim_kind {
    HUB_CLAIM_ON_CHAIN = 0, /* the chain has this head at this length */
    HUB_CLAIM_BEYOND,       /* longer than the chain: entries lost */
    HUB_CLAIM_DIFFERS,      /* the chain has another head there: rewrite */
    HUB_CLAIM_SUPERSEDED,   /* beyond or differing, but beyond a recorded
                               restore and signed before it: history the
                               restore lost (the chain since refilled) */
};

/* A restore recorded by `ewhub audit verify` (meta restore_length,
 * restore_at): the chain was restored to length, at time at.  at 0: none. */
struct hub_audit_restore {
    uint64_t length;
    int64_t at;
};

/* Judge one claim against the chain in st (inside a read transaction;
 * the chain itself verified by hub_audit_verify).  chain_len is the
 * chain's length. */
EWH_MUST_CHECK int hub_audit_claim_check(hub_store_t *st, uint64_t chain_len,
                                         const struct hub_audit_restore *rs,
                                         const struct hub_audit_claim *c,
                                         enum hub_claim_kind *kind,
                                         uint8_t chain_head[EWH_HASH_BYTES],
                                         struct ewh_err *err);

#endif
