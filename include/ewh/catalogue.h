/*
 * catalogue.h — the catalogue of concern (docs/catalogue.md).
 *
 * The action plan's "document on the exchange of political-military and
 * other early warning, conflict prevention and crisis management
 * information": for each area of concern (each report category of the
 * roster) what counts as high, medium and low concern, optional indicators
 * and the level a report in that area is expected to carry by default.
 *
 * Versioned and signed by the hub like the roster (EWH_CTX_CATALOGUE);
 * nodes accept only a correctly signed catalogue with a higher version.
 * The categories themselves are owned by the hub's config ([roster]
 * categories): a catalogue covers exactly those areas.
 */
#ifndef EWH_CATALOGUE_H
#define EWH_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/identity.h"
#include "ewh/limits.h"
#include "ewh/util.h"

#define EWH_CTX_CATALOGUE    "ewh-catalogue-v1"
#define EWH_CATALOGUE_FORMAT "ewh-catalogue-1" /* the JSON file's tag */

struct ewh_catalogue_area {
    char area[EWH_MAX_CATEGORY_BYTES + 1];
    char title[EWH_MAX_AREA_TITLE_BYTES + 1];
    enum ewh_level default_level;
    /* guide[EWH_LEVEL_LOW .. EWH_LEVEL_HIGH]; guide[0] unused */
    char guide[4][EWH_MAX_GUIDANCE_BYTES + 1];
    char ind[EWH_MAX_INDICATORS][EWH_MAX_INDICATOR_BYTES + 1];
    size_t n_ind;
};

typedef struct ewh_catalogue ewh_catalogue_t;

/* An empty catalogue of the given version.  Caller owns it. */
EWH_MUST_CHECK ewh_catalogue_t *ewh_catalogue_new(uint64_t version);
void ewh_catalogue_destroy(ewh_catalogue_t **c);

uint64_t ewh_catalogue_version(const ewh_catalogue_t *c);
void ewh_catalogue_set_version(ewh_catalogue_t *c, uint64_t v);
/* When the hub signed it (0 before signing / for a built one). */
int64_t ewh_catalogue_issued_at(const ewh_catalogue_t *c);
size_t ewh_catalogue_count(const ewh_catalogue_t *c);
/* Borrowed; NULL out of range / not found. */
const struct ewh_catalogue_area *ewh_catalogue_at(const ewh_catalogue_t *c,
                                                  size_t i);
const struct ewh_catalogue_area *ewh_catalogue_find(const ewh_catalogue_t *c,
                                                    const char *area);

/* Add an area (checked: a valid category name, not yet present, a default
 * level, three non-empty one-paragraph guidance texts within the limits).
 * At most EWH_MAX_CATEGORIES areas. */
EWH_MUST_CHECK int ewh_catalogue_put(ewh_catalogue_t *c,
                                     const struct ewh_catalogue_area *a,
                                     struct ewh_err *err);

/* The built-in catalogue (version 1) for the n categories given: the
 * default text for the areas of ewh_default_categories, a generic text for
 * any other.  Caller owns it. */
EWH_MUST_CHECK ewh_catalogue_t *
ewh_catalogue_builtin(const char *const *cats, size_t n, struct ewh_err *err);

/* EWH_E_INVALID unless c's areas are exactly the n categories (in any
 * order); the reason names the first one missing or extra. */
EWH_MUST_CHECK int ewh_catalogue_check_areas(const ewh_catalogue_t *c,
                                             const char *const *cats, size_t n,
                                             struct ewh_err *err);

/* Serialize and sign as a SignedCatalogue (stamping issued_at).  Caller
 * owns *out (free()). */
EWH_MUST_CHECK int ewh_catalogue_sign(ewh_catalogue_t *c,
                                      const ewh_secret_t *hub, uint8_t **out,
                                      size_t *out_len, struct ewh_err *err);

/* Verify a SignedCatalogue (at most EWH_MAX_CATALOGUE_BYTES) against the
 * pinned hub signing key and check every area.  Caller owns the result. */
EWH_MUST_CHECK ewh_catalogue_t *ewh_catalogue_open(const uint8_t *buf,
                                                   size_t len,
                                                   const uint8_t hub_sign[32],
                                                   struct ewh_err *err);

/* The file a person reviews and edits (docs/catalogue.md): JSON, indented.
 * Caller owns the string (free()). */
EWH_MUST_CHECK char *ewh_catalogue_to_json(const ewh_catalogue_t *c,
                                           struct ewh_err *err);
/* Parse such a file (at most EWH_MAX_CATALOGUE_BYTES); errors name the
 * area and field.  *based_on gets the file's "version" (0 if absent): the
 * version it was exported from.  Caller owns the result. */
EWH_MUST_CHECK ewh_catalogue_t *ewh_catalogue_from_json(const char *text,
                                                        size_t len,
                                                        uint64_t *based_on,
                                                        struct ewh_err *err);

#endif
