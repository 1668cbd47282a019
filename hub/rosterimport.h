/*
 * rosterimport.h — take another hub's roster into this hub's store
 * (ewhub roster import, docs/roster-sharing.md).
 *
 * The other hub (A) exported its signed roster; this hub (B) verified it
 * against A's pinned key.  hub_import_plan() compares it with B's roster
 * country by country and says what to do, under key continuity
 * (docs/trust.md): a country new at B is enrolled with A's keys; a
 * revocation at A is applied at B (and A's revoked keys are remembered as
 * revoked at B); a re-key is applied only when endorsed — directly or
 * through the key chain A's roster carries — by the key B holds.  A key
 * change nothing endorses (a lost key, or a hub lying) is refused unless
 * the operator accepts it.  Nothing imported ever lifts a revocation at B
 * or replaces a newer key B holds.  hub_import_apply() makes the changes
 * inside the caller's transaction, so that a refusal leaves B unchanged.
 */
#ifndef HUB_ROSTERIMPORT_H
#define HUB_ROSTERIMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "ewh/identity.h"
#include "ewh/roster.h"

enum hub_import_kind {
    /* changes */
    HUB_IMPORT_ENROL = 1,        /* new at B: enrolled with A's keys */
    HUB_IMPORT_ENROL_REVOKED,    /* new at B, revoked at A: enrolled and
                                    revoked (its keys refused at B too) */
    HUB_IMPORT_REKEY,            /* A's keys endorsed from B's: re-keyed */
    HUB_IMPORT_REKEY_UNENDORSED, /* A's keys not endorsed from B's: refused
                                    unless accepted (then enrolled
                                    unendorsed: every node of B marks the
                                    country unverified) */
    HUB_IMPORT_REVOKE,           /* revoked at A: revoked at B */
    HUB_IMPORT_REVOKED_KEYS,     /* revoked at both with other keys: A's
                                    keys remembered as revoked at B */
    /* kept as B has it (said, no change) */
    HUB_IMPORT_KEEP_REVOKED,  /* revoked at B, not at A: never lifted */
    HUB_IMPORT_KEEP_NEWER,    /* B holds a newer key endorsed from A's */
    HUB_IMPORT_KEEP_ONLY_HERE /* not in A's roster */
};

struct hub_import_op {
    enum hub_import_kind kind;
    char country[EWH_CC_BYTES];
    struct ewh_pubid id; /* A's entry (B's for KEEP_ONLY_HERE) */
    /* REKEY: the keys between B's and A's, oldest first, enrolled in turn
     * before id (each endorsed by the one before). */
    struct ewh_pubid links[EWH_MAX_KEY_CHAIN];
    size_t n_links;
    /* REKEY_UNENDORSED without accept_unendorsed: the import is refused. */
    bool refused;
    bool forked; /* REKEY_UNENDORSED: both keys descend from one earlier */
    char fp_here[EWH_FINGERPRINT_CHARS]; /* B's key ("-" when none) */
    char fp_from[EWH_FINGERPRINT_CHARS]; /* A's key ("-" when none) */
};

/* Ops at most: one per country of either roster. */
#define HUB_IMPORT_MAX_OPS (2u * EWH_MAX_ROSTER_ENTRIES)

/* Compare here (B's roster, from its store) with from (A's, verified) and
 * fill ops (at most cap; HUB_IMPORT_MAX_OPS suffices), in country order;
 * countries equal at both give none.  *n the count, *refused how many ops
 * are refused.  -1 with EWH_E_TOOBIG when cap is too small. */
EWH_MUST_CHECK int
hub_import_plan(const ewh_roster_t *here, const ewh_roster_t *from,
                bool accept_unendorsed, struct hub_import_op *ops, size_t cap,
                size_t *n, size_t *refused, struct ewh_err *err);

/* True for the kinds that change B's store. */
bool hub_import_is_change(enum hub_import_kind k);

/* Apply ops (none refused) inside the caller's transaction.  A re-key
 * that the store does not take as endorsed, or key material B revoked, is
 * refused (-1, EWH_E_SIGNATURE / EWH_E_REVOKED, naming the country): the
 * caller rolls back.  *changes counts what changed. */
EWH_MUST_CHECK int hub_import_apply(hub_store_t *st,
                                    const struct hub_import_op *ops, size_t n,
                                    size_t *changes, struct ewh_err *err);

/* One line about op for the operator (no newline): "enrolled HR ...". */
void hub_import_describe(const struct hub_import_op *op, char *out, size_t cap);

#endif
