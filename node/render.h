/*
 * render.h — reports as JSON (jansson), as text for people, and one-line
 * summaries for inbox, watch and outbox.
 */
#ifndef NODE_RENDER_H
#define NODE_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

/* Room for node_render_time(). */
#define NODE_TIME_CHARS 32

/* t as RFC 3339 in the local time zone (TZ), with its offset:
 * "2026-11-22T15:26:33+01:00".  For people; JSON stays in UTC
 * (ewh_time_format).  out needs NODE_TIME_CHARS.  Returns out. */
char *node_render_time(int64_t t, char *out, size_t cap);

/* The TLP label as CAP and FIRST spell it: "TLP:AMBER".  Returns out. */
char *node_render_tlp(enum ewh_tlp tlp, char *out, size_t cap);

/* True if the report should alarm (the "!!! HIGH" mark, red, the bell):
 * a high alert or update still live.  A cancellation never alarms, nor a
 * report already cancelled or replaced. */
bool node_render_is_alarm(const struct node_msg *m);

/* The report as a JSON object; caller owns the reference.  with_body adds
 * the body. */
json_t *node_render_json(const struct node_msg *m, bool with_body);

/* Print the JSON object on one line followed by '\n'.  Returns 0 or -1. */
EWH_MUST_CHECK int node_render_json_line(FILE *f, const struct node_msg *m,
                                         bool with_body);

/* A report in full, for reading. */
void node_render_text(FILE *f, const struct node_msg *m);

/* One line for inbox and watch; high concern stands out ("!!! HIGH"), in
 * bold red when color is true. */
void node_render_line(FILE *f, const struct node_msg *m, bool color);

/* A received report created more than EWH_MAX_CLOCK_SKEW_S before it
 * arrived (its sender's clock behind, or a long outage). */
bool node_render_is_late(const struct node_msg *m);

/* One line per sent report with each addressee's state. */
void node_render_outbox_line(FILE *f, const struct node_msg *m);

#endif
