/*
 * util.h — small shared helpers: hex, country codes, enums as text, time
 * and duration parsing.
 */
#ifndef EWH_UTIL_H
#define EWH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"

#define EWH_CC_BYTES 3 /* two letters and a NUL */
#define EWH_ID_HEX   (EWH_ID_BYTES * 2 + 1)

enum ewh_level {
    EWH_LEVEL_NONE = 0,
    EWH_LEVEL_LOW = 1,
    EWH_LEVEL_MEDIUM = 2,
    EWH_LEVEL_HIGH = 3,
};

enum ewh_type {
    EWH_TYPE_NONE = 0,
    EWH_TYPE_ALERT = 1,
    EWH_TYPE_UPDATE = 2,
    EWH_TYPE_CANCEL = 3,
    EWH_TYPE_RETURN = 4,  /* annual return on security forces (exchange.md) */
    EWH_TYPE_LESSONS = 5, /* lessons learned, low or medium (federation) */
};

/* How far a report may travel (docs/federation.md). */
enum ewh_distribution {
    EWH_DIST_REGION = 0,    /* never leaves the origin's region (default) */
    EWH_DIST_CONNECTED = 1, /* to regions directly peered with the origin's */
    EWH_DIST_ALL = 2,       /* onward through peers, never back */
};

/* The default region name of a hub (and roster) that names none. */
#define EWH_DEFAULT_REGION "region"

enum ewh_tlp {
    EWH_TLP_NONE = 0,
    EWH_TLP_CLEAR = 1,
    EWH_TLP_GREEN = 2,
    EWH_TLP_AMBER = 3,
    EWH_TLP_RED = 4,
};

/* Lower-case hex of len bytes into out (needs 2*len+1).  Returns out. */
char *ewh_hex(const uint8_t *bin, size_t len, char *out, size_t out_cap);

/* Parse exactly want bytes of hex (case-insensitive, no spaces). */
EWH_MUST_CHECK int ewh_unhex(const char *hex, uint8_t *out, size_t want,
                             struct ewh_err *err);

/* True if cc is an officially assigned ISO 3166-1 alpha-2 code, upper case.
 */
bool ewh_country_is_valid(const char *cc);

/* Level, type and TLP names ("high", "update", "amber") and back.  The
 * parsers are case-insensitive and return 0 (NONE) for unknown text. */
const char *ewh_level_name(enum ewh_level l);
enum ewh_level ewh_level_parse(const char *s);
const char *ewh_type_name(enum ewh_type t);
enum ewh_type ewh_type_parse(const char *s);
const char *ewh_tlp_name(enum ewh_tlp t);
enum ewh_tlp ewh_tlp_parse(const char *s);
/* "region", "connected", "all" and back; parse returns -1 for unknown
 * text (case-insensitive). */
const char *ewh_distribution_name(enum ewh_distribution d);
EWH_MUST_CHECK int ewh_distribution_parse(const char *s,
                                          enum ewh_distribution *out);

/* True if s is a region name: 1..EWH_MAX_REGION_BYTES of a-z, 0-9, '-'. */
bool ewh_region_is_valid(const char *s);

/* Wall clock, unix seconds / milliseconds; monotonic milliseconds. */
int64_t ewh_now(void);
int64_t ewh_now_ms(void);
int64_t ewh_mono_ms(void);

/* A new report id: a UUIDv7 (RFC 9562), the creation time in milliseconds
 * followed by 74 random bits.  Ids in time order keep the hub's id index
 * appending instead of touching a random page per report
 * (docs/performance.md); the time in it is the created_at every reader of
 * the header already sees. */
void ewh_id_new(uint8_t id[EWH_ID_BYTES]);

/* Parse a duration: a positive integer followed by s, m, h or d ("90m",
 * "2d"); a bare number means seconds.  At most max_s seconds. */
EWH_MUST_CHECK int ewh_duration_parse(const char *s, int64_t max_s,
                                      int64_t *out, struct ewh_err *err);

/* Format t as RFC 3339 in UTC with a numeric offset:
 * "2026-11-22T13:37:05+00:00".  out needs 26 bytes. */
char *ewh_time_format(int64_t t, char *out, size_t out_cap);

/* Parse an id of 32 hex characters. */
EWH_MUST_CHECK int ewh_id_parse(const char *hex, uint8_t id[EWH_ID_BYTES],
                                struct ewh_err *err);

/* True if s (len bytes) is valid UTF-8 without NUL or C0 controls other
 * than tab/newline (allow_newline) — for titles, bodies, names. */
bool ewh_text_is_valid(const char *s, size_t len, bool allow_newline);

#endif
