/*
 * hubcmp.h — compare the rosters two hubs show this node (issue 18,
 * docs/redundancy.md).
 *
 * Each hub signs its own roster; the keys in them are the countries' own
 * (docs/trust.md).  Two hubs of one region should show the same countries
 * with the same keys and revocations.  A difference that key continuity
 * explains — one hub holds a country's older key and the other its newer
 * key, endorsed (through the roster's key chain) by the older one — is a
 * hub that lags behind a re-key, not an alarm.  Every other difference is
 * an alarm: a country enrolled at one hub only, revoked at one only, or
 * keys that no endorsement links.
 *
 * A pure function over two verified rosters: no store, no log, no clock.
 */
#ifndef NODE_HUBCMP_H
#define NODE_HUBCMP_H

#include <stdbool.h>
#include <stddef.h>

#include "ewh/err.h"
#include "ewh/roster.h"
#include "ewh/util.h"

/* Why a country differs.  Stable codes (decisions and metrics labels rest
 * on them, never on the text); the names are node_hubcmp_reason_name(). */
enum node_hubcmp_reason {
    NODE_HUBCMP_A_LAGS = 1,  /* "a-lags": A holds an older key; B's key is
                                endorsed from it (A has not had the re-key) */
    NODE_HUBCMP_B_LAGS,      /* "b-lags": the same the other way round */
    NODE_HUBCMP_ONLY_A,      /* "only-a": enrolled at A, absent at B */
    NODE_HUBCMP_ONLY_B,      /* "only-b": enrolled at B, absent at A */
    NODE_HUBCMP_REVOKED_A,   /* "revoked-a": revoked at A, not at B */
    NODE_HUBCMP_REVOKED_B,   /* "revoked-b": revoked at B, not at A */
    NODE_HUBCMP_FORKED,      /* "forked": both keys descend (endorsed) from
                                one earlier key but differ: two successors */
    NODE_HUBCMP_KEYS_DIFFER, /* "keys-differ": different keys that no
                                endorsement links */
};
#define NODE_HUBCMP__MAX NODE_HUBCMP_KEYS_DIFFER

/* Differences at most: one per country of either roster. */
#define NODE_HUBCMP_MAX_DIFFS (2u * EWH_MAX_ROSTER_ENTRIES)
/* The text of a difference, with its NUL. */
#define NODE_HUBCMP_TEXT_BYTES 200u

struct node_hubcmp_diff {
    char country[EWH_CC_BYTES];
    enum node_hubcmp_reason reason;
    bool alarm; /* false only for A_LAGS and B_LAGS */
    /* For the log, one line; calls the rosters "A" and "B" (the caller's
     * line names the hubs).  Fingerprints, never keys. */
    char text[NODE_HUBCMP_TEXT_BYTES];
};

/* Compare a and b (verified rosters of two hubs) country by country, in
 * country order.  Equal countries (same keys and revoked flag, or revoked
 * at both) give nothing; each other country one entry in out.  *n gets
 * the number written.  Returns 0; -1 with EWH_E_INVALID for a NULL
 * roster, EWH_E_TOOBIG when more than cap differences exist (out then
 * holds the first cap, *n == cap).  cap NODE_HUBCMP_MAX_DIFFS always
 * suffices. */
EWH_MUST_CHECK int node_hubcmp_rosters(const ewh_roster_t *a,
                                       const ewh_roster_t *b,
                                       struct node_hubcmp_diff *out, size_t cap,
                                       size_t *n, struct ewh_err *err);

/* "a-lags", "only-b", ... ; "unknown" outside the enum. */
const char *node_hubcmp_reason_name(enum node_hubcmp_reason r);

/* Alarms among diffs[0..n): differences key continuity does not explain. */
size_t node_hubcmp_alarms(const struct node_hubcmp_diff *diffs, size_t n);

#endif
