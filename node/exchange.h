/*
 * exchange.h — the annual exchange on security forces at the node
 * (docs/exchange.md): returns as JSON (schemas/security-forces-return-1.json,
 * include/ewh/secforces.h), their CSV layout, the returns held, and the
 * reminder before the due date.
 */
#ifndef NODE_EXCHANGE_H
#define NODE_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dir.h"
#include "ewh/secforces.h"

/* ---- CSV (exchange_csv.c) ---- */

/* Build a return's JSON from the CSV layout (docs/exchange.md: sections
 * introduced by a "#section NAME" line, each a header row and data rows).
 * The result is not validated.  Caller owns *out (json_decref). */
EWH_MUST_CHECK int node_exchange_from_csv(const char *csv, size_t len,
                                          json_t **out, struct ewh_err *err);
/* Write a (valid) return in the CSV layout. */
EWH_MUST_CHECK int node_exchange_to_csv(const json_t *ret, FILE *out,
                                        struct ewh_err *err);

/* ---- returns (exchange.c) ---- */

/* Read FILE: JSON as it is, or (a name ending in .csv) imported from CSV
 * and serialized.  Caller owns *text (free()). */
EWH_MUST_CHECK int node_exchange_read(const char *path, char **text,
                                      size_t *len, struct ewh_err *err);

/* Print the errors of a validation, one "PATH: reason (rule: KEYWORD)" a
 * line. */
void node_exchange_print_errors(const struct ewh_sf_result *res, FILE *out);

/* A return held at this node: the latest of each country and year, sent
 * or received. */
struct node_return {
    char origin[EWH_CC_BYTES];
    unsigned year;
    char id[EWH_ID_HEX];
    int64_t created_at;
    bool outgoing;
    size_t replaced; /* earlier returns for the same year it replaced */
    char refs[EWH_MAX_REFERENCES][EWH_ID_HEX]; /* the returns it replaces */
    size_t n_refs;
    json_t *doc; /* the return (owned) */
};

struct node_returns {
    struct node_return *r;
    size_t n, cap;
};

/* Collect the returns held (only those that validate and whose country is
 * their origin; others are counted in *bad).  Sorted by country, year. */
EWH_MUST_CHECK int node_exchange_collect(struct node_dir *d,
                                         struct node_returns *out, size_t *bad,
                                         struct ewh_err *err);
void node_exchange_free(struct node_returns *rs);
const struct node_return *node_exchange_find(const struct node_returns *rs,
                                             const char *cc, unsigned year);

/* The reminder (docs/exchange.md): from remind_days before the due date
 * of this year's return ([exchange] due, default 12-15) until one arrives,
 * print who has not sent it.  Returns the number of countries missing (0:
 * nothing printed). */
size_t node_exchange_remind(struct node_dir *d, int64_t now, FILE *out);

#endif
