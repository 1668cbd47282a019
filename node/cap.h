/*
 * cap.h — a report as an OASIS CAP 1.2 alert, written with libxml2's
 * xmlTextWriter (no hand-made escaping).  The mapping is in
 * docs/usage.md, "CAP 1.2 export".
 */
#ifndef NODE_CAP_H
#define NODE_CAP_H

#include <stddef.h>

#include "ewh/err.h"
#include "store.h"

/* CAP sender of a country's messages ("ewhub-RS"). */
void node_cap_sender(const char *cc, char *out, size_t cap);

/* Canonical CAP urgency / certainty for s (case-insensitive), or NULL if
 * s is not one of the CAP values. */
const char *node_cap_urgency(const char *s);
const char *node_cap_certainty(const char *s);

/* Default urgency for a concern level: Immediate, Expected, Future. */
const char *node_cap_default_urgency(enum ewh_level l);
#define NODE_CAP_DEFAULT_CERTAINTY "Unknown"

/* Render m as CAP 1.2 XML.  The store gives the sent times of referenced
 * reports.  Caller owns *out (free()). */
EWH_MUST_CHECK int node_cap_write(const struct node_msg *m, node_store_t *s,
                                  char **out, size_t *out_len,
                                  struct ewh_err *err);

/* An acknowledgement of the received report m (acked_at set) by country
 * me as a CAP 1.2 alert of msgType Ack referencing it, its note naming who
 * acknowledged.  Caller owns *out (free()). */
EWH_MUST_CHECK int node_cap_write_ack(const struct node_msg *m, const char *me,
                                      char **out, size_t *out_len,
                                      struct ewh_err *err);

#endif
