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
    const char *updates, *cancels; /* hex id of an earlier report of ours */
};

/* Validate req, seal the report for its addressees and store it in the
 * outbox in one transaction; id_out gets its hex id.  On refusal nothing
 * is stored, err says why and *field (if not NULL) names the field at
 * fault ("level", "to", "category", "title", "body", "tlp", "expires",
 * "author", "urgency", "certainty", "updates", "cancels") or "" when it is
 * no one field's. */
EWH_MUST_CHECK int node_action_submit(struct node_dir *d,
                                      const struct node_submit_req *req,
                                      char id_out[EWH_ID_HEX],
                                      const char **field, struct ewh_err *err);

/* Acknowledge the received report id (hex) as who: the inbox row and a
 * signed receipt naming who are stored in one transaction.  *already is
 * set (and nothing changes) when it was acknowledged before.  origin_out
 * (may be NULL) gets the report's origin. */
EWH_MUST_CHECK int node_action_ack(struct node_dir *d, const char *id,
                                   const char *who, bool *already,
                                   char origin_out[EWH_CC_BYTES],
                                   struct ewh_err *err);

#endif
