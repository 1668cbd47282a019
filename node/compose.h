/*
 * compose.h — a report from an analyst's input, and an acknowledgement:
 * the checks, defaults and chain rules of `ewnode submit` and `ewnode
 * ack`, for any front end (the command line, a desk).
 *
 * Both work on an open node directory (node_dir_open() with the secret
 * keys), change nothing when they refuse, and commit what they do in one
 * store transaction; neither needs the agent or the hub to run.
 */
#ifndef NODE_COMPOSE_H
#define NODE_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "dir.h"

/* The analyst's input, as text.  NULL means "not given": defaults apply
 * (for an update or cancel, those of the report it replaces). */
struct node_compose_in {
    const char *level;    /* high, medium, low */
    const char *to;       /* "all" or "HR, bg,..." */
    const char *category; /* one of the roster's */
    const char *title;    /* at most EWH_MAX_TITLE_BYTES */
    const char *body;     /* body_len bytes, at most EWH_MAX_BODY_BYTES */
    size_t body_len;
    const char *tlp;       /* red, amber, green, clear (white = clear) */
    const char *expires;   /* a duration, at most EWH_MAX_EXPIRY_S */
    const char *author;    /* default: the config's author */
    const char *urgency;   /* CAP urgency; default by level */
    const char *certainty; /* CAP certainty; default Unknown */
    const char *updates;   /* id or abbreviation of this node's report */
    const char *cancels;   /* the same; at most one of the two */
};

/* What the analyst should read besides the id: notes and warnings, one
 * per line (e.g. "warning: --to leaves out BG ..."). */
struct node_compose_notes {
    char text[2048];
    size_t len;
};

/* Check the input (limits, the roster, the chain's rules of an update or
 * cancellation: docs/usage.md), fill the defaults, seal the report for its
 * addressees and queue it in the outbox.  id gets the new report's id;
 * notes (may be NULL) what to tell the analyst.  err names the first
 * problem; nothing is queued then. */
EWH_MUST_CHECK int node_compose_submit(struct node_dir *d,
                                       const struct node_compose_in *in,
                                       char id[EWH_ID_HEX],
                                       struct node_compose_notes *notes,
                                       struct ewh_err *err);

/* Acknowledge the received report named by ref (id or abbreviation) on
 * behalf of who (at most EWH_MAX_WHO_BYTES), queueing a receipt signed by
 * this node for its origin.  id and origin (may be NULL) get the report's
 * id and origin; *already is set when it was acknowledged before (then
 * nothing changes). */
EWH_MUST_CHECK int node_compose_ack(struct node_dir *d, const char *ref,
                                    const char *who, char id[EWH_ID_HEX],
                                    char origin[EWH_CC_BYTES], bool *already,
                                    struct ewh_err *err);

#endif
