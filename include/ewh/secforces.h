/*
 * secforces.h — the annual return on security forces (docs/exchange.md):
 * the validator of schemas/security-forces-return-1.json, written for that
 * one schema with jansson.  It enforces exactly what the schema says (the
 * tests run the same samples through python3-jsonschema and expect the
 * same verdicts), plus the file size limit EWH_MAX_RETURN_BYTES, which a
 * JSON Schema cannot state.
 */
#ifndef EWH_SECFORCES_H
#define EWH_SECFORCES_H

#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/limits.h"

#define EWH_SF_SCHEMA     "security-forces-return-1"
#define EWH_SF_CATEGORY   "security-forces" /* the reports' category */
#define EWH_SF_MAX_ERRORS 32u               /* errors reported per validation */
#define EWH_SF_PATH_BYTES 160u

/* One broken rule: the JSON path ("$.agencies[0].type"), the schema
 * keyword ("required", "enum", "minimum", "type", ...) and a sentence. */
struct ewh_sf_error {
    char path[EWH_SF_PATH_BYTES];
    char rule[24];
    char msg[200];
};

struct ewh_sf_result {
    struct ewh_sf_error e[EWH_SF_MAX_ERRORS];
    size_t n;       /* errors kept */
    size_t n_total; /* errors found (more than kept: n_total > n) */
};

/* The agency types, UN Register categories, SALW types, MilEx rows and
 * columns of the schema, NULL-terminated. */
extern const char *const ewh_sf_agency_types[];
extern const char *const ewh_sf_unreg[];
extern const char *const ewh_sf_unreg_help[];
extern const char *const ewh_sf_salw[];
extern const char *const ewh_sf_rows[];
extern const char *const ewh_sf_cols[];

/* Validate len bytes of JSON.  0 when valid; -1 with res filled (and err
 * EWH_E_INVALID, or EWH_E_TOOBIG for a file over EWH_MAX_RETURN_BYTES,
 * naming the first error). */
EWH_MUST_CHECK int ewh_sf_validate(const char *text, size_t len,
                                   struct ewh_sf_result *res,
                                   struct ewh_err *err);

/* The reporting year a return names ($.year: an integer in JSON Schema's
 * sense, EWH_MIN_RETURN_YEAR..EWH_MAX_RETURN_YEAR) into *year, the rest of
 * the return unchecked.  For the receiving node, which compares it with
 * the clear Header.return_year.  -1 (EWH_E_TOOBIG over
 * EWH_MAX_RETURN_BYTES, else EWH_E_INVALID) when text is not a JSON
 * object with such a year. */
EWH_MUST_CHECK int ewh_sf_year(const char *text, size_t len, unsigned *year,
                               struct ewh_err *err);

/* A budget figure as a fixed-point number of 1/10,000 of the currency's
 * major unit (minor_unit: the currency's decimal places, 0..4).  The
 * figure must have passed validation. */
int64_t ewh_sf_money(const void *json_value, int minor_unit);

#endif
