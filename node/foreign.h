/*
 * foreign.h — other regions' countries, as this node knows them (issue 22,
 * docs/federation-node.md).
 *
 * The hub relays each peer region's roster, signed by that region's hub
 * (frame ForeignRoster).  This node pins the signing key per region on
 * first sight (TOFU) and afterwards follows only a rotation the pinned key
 * announced (RosterBody.next_hub_sign); each roster must be newer and
 * chain to the one held, and each foreign country's keys follow the same
 * continuity rules as a local peer's (trust.c).  A foreign roster that
 * names a country of this node's own roster, or of another foreign
 * region, is refused whole.
 *
 * The foreign countries are then addressable (`--to NO,SE`,
 * `--to region:NAME`), sealable for when verified, and their reports are
 * opened with their keys; a report is refused when it travelled further
 * than its distribution allows (node_foreign_check_distribution).
 */
#ifndef NODE_FOREIGN_H
#define NODE_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ewh.pb-c.h"
#include "ewh/envelope.h"
#include "ewh/roster.h"
#include "store.h"

typedef struct node_foreign node_foreign_t;

/* Every foreign roster held, each verified again against the key pinned
 * for its region.  Caller owns it (never NULL on success; may be empty). */
EWH_MUST_CHECK node_foreign_t *node_foreign_load(node_store_t *s,
                                                 struct ewh_err *err);
void node_foreign_destroy(node_foreign_t **f);

size_t node_foreign_count(const node_foreign_t *f);
/* The i-th region (by name) and its roster, borrowed. */
const ewh_roster_t *node_foreign_at(const node_foreign_t *f, size_t i,
                                    const char **region);
/* The i-th region's stored row (pinned hub key, version, path). */
const struct node_foreign_row *node_foreign_row_at(const node_foreign_t *f,
                                                   size_t i);
/* The roster of region, or NULL. */
const ewh_roster_t *node_foreign_roster(const node_foreign_t *f,
                                        const char *region);
/* The foreign country cc (borrowed), with its region (borrowed) and
 * revoked flag (either may be NULL); NULL when no foreign roster names
 * it.  f may be NULL. */
const struct ewh_pubid *node_foreign_find(const node_foreign_t *f,
                                          const char *cc, const char **region,
                                          bool *revoked);

/* The roster that names cc: local when it does, else the foreign region's
 * that does, else local (borrowed; f may be NULL). */
const ewh_roster_t *node_foreign_roster_of(const ewh_roster_t *local,
                                           const node_foreign_t *f,
                                           const char *cc);

/* An ewh_lookup_fn over this node's roster first, then the foreign ones
 * (unrevoked only).  ctx is a struct node_lookup. */
struct node_lookup {
    const ewh_roster_t *local;
    const node_foreign_t *foreign; /* may be NULL */
};
const struct ewh_pubid *node_lookup_any(void *ctx, const char *cc);

/* Verify and keep a ForeignRoster frame in its own transaction: the
 * checks of the header comment.  local is this node's roster (required:
 * before it, nothing foreign is taken).  *version gets the roster's
 * version; a roster not newer than the one held fails with
 * EWH_E_VERSION and changes nothing. */
EWH_MUST_CHECK int node_foreign_apply(node_store_t *s,
                                      const ewh_roster_t *local,
                                      const Ewh__ForeignRoster *fr,
                                      uint64_t *version, struct ewh_err *err);

/* Did the report of header h travel further than its distribution
 * allows, to reach this node?  Its origin's region is this node's own
 * when the local roster names it, else the foreign region whose roster
 * does; this node's hub's direct peers are the local roster's `peers`.
 * -1 with EWH_E_DISTRIBUTION (or EWH_E_UNKNOWN for an origin no roster
 * names) when it may not be here. */
EWH_MUST_CHECK int node_foreign_check_distribution(const ewh_roster_t *local,
                                                   const node_foreign_t *f,
                                                   const struct ewh_header *h,
                                                   struct ewh_err *err);

/* For the exports (`ewnode show --json`, `ewnode export`): add to o the
 * report id's "distribution" (from its stored, signed envelope) and its
 * origin's "origin_region" (local: ours; "" when no roster names it). */
EWH_MUST_CHECK int node_foreign_json_add(node_store_t *s,
                                         const ewh_roster_t *local,
                                         const node_foreign_t *f,
                                         const char *id, const char *origin,
                                         json_t *o, struct ewh_err *err);

/* ---- the agent ---- */

struct node_agent;
struct node_conn;
/* A ForeignRoster frame from hub c: applied (judged against c's roster of
 * this region), logged.  Foreign rosters are the node's, whichever of its
 * hubs relays them: pinned per region, not per hub. */
void node_foreign_on_frame(struct node_agent *a, struct node_conn *c,
                           const Ewh__ForeignRoster *fr);
/* The agent's foreign rosters (loaded once, again after each change;
 * NULL when none could be read).  Borrowed. */
const node_foreign_t *node_foreign_of_agent(struct node_agent *a);

#endif
