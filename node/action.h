/*
 * action.h — the two things a person does in a country's name: submit a
 * report (seal it into the durable outbox) and acknowledge a received one
 * (a signed receipt queued for its origin).  `ewnode submit`, `ewnode ack`
 * and the desk's privileged part call these; each needs the node's secret
 * key (d->secret loaded).
 */
#ifndef NODE_ACTION_H
#define NODE_ACTION_H

#include <stdbool.h>
#include <stddef.h>

#include "dir.h"

/* A submit as given by a person: every field is text as typed, NULL when
 * not given.  body is body_len bytes (not necessarily NUL-terminated). */
struct node_submit_req {
    const char *level, *to, *category, *title;
    const char *body;
    size_t body_len;
    const char *tlp, *expires, *author, *urgency, *certainty;
    const char *updates, *cancels; /* id (or abbreviation) of our report */
    /* why the level departs from the catalogue's default (sealed) */
    const char *reason;
    /* issue 22 (docs/federation-node.md): "alert" (default) or "lessons";
     * how far it may travel: "region" (default; an update or cancel
     * keeps its chain's), "connected" or "all" */
    const char *type, *distribution;
};

/* Validate req, seal the report for its addressees and store it in the
 * outbox in one transaction; id_out gets its hex id.  On refusal nothing
 * is stored, err says why and *field (if not NULL) names the field at
 * fault ("level", "to", "category", "title", "body", "tlp", "expires",
 * "author", "urgency", "certainty", "updates", "cancels", "reason",
 * "type", "distribution") or ""
 * when it is no one field's. */
EWH_MUST_CHECK int node_action_submit(struct node_dir *d,
                                      const struct node_submit_req *req,
                                      char id_out[EWH_ID_HEX],
                                      const char **field, struct ewh_err *err);

/* What the person should read besides the id: notes and warnings, one
 * per line, e.g. "warning: --to leaves out BG, who had the earlier
 * report: there it stays live (not cancelled). ...", and the catalogue of
 * concern's guidance for the category and level (node/catalogue.h). */
struct node_action_notes {
    char text[2048];
    size_t len;
};

/* node_action_submit(), and the notes (may be NULL) for the person.  An
 * update or cancellation follows the chain's rules (docs/usage.md): a
 * cancel ends the whole chain, nothing follows it, an update names the
 * latest report, both reach every addressee of the chain unless req->to
 * narrows them (a warning in the notes).  updates and cancels take an id
 * or any unique abbreviation of one (node_store_id_resolve()). */
EWH_MUST_CHECK int
node_action_submit_noted(struct node_dir *d, const struct node_submit_req *req,
                         char id_out[EWH_ID_HEX], const char **field,
                         struct node_action_notes *notes, struct ewh_err *err);

/* Acknowledge the received report id (hex, or a unique abbreviation) as who:
 * the inbox row and a signed receipt naming who are stored in one transaction.
 * *already is set (and nothing changes) when it was acknowledged before.
 * origin_out (may be NULL) gets the report's origin. */
EWH_MUST_CHECK int node_action_ack(struct node_dir *d, const char *id,
                                   const char *who, bool *already,
                                   char origin_out[EWH_CC_BYTES],
                                   struct ewh_err *err);

#endif
