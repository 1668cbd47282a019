/*
 * catalogue.h — the hub's copy of the signed catalogue of concern
 * (docs/catalogue.md): DIR/catalogue.signed, the SignedCatalogue bytes as
 * last published.  `ewhub catalogue publish` replaces it (written to a
 * temporary name, fsynced, renamed: a crash leaves the old or the new
 * one); the running hub notices the change and pushes it to every
 * connected node, and sends it to each node that says hello.
 *
 * The file is signed, so it is checked against the hub's own key whenever
 * it is read: a damaged or foreign file is never served.
 */
#ifndef HUB_CATALOGUE_H
#define HUB_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/catalogue.h"
#include "ewh/err.h"
#include "ewh/identity.h"

#define HUB_CATALOGUE_FILE "catalogue.signed"

/* The catalogue in dir, verified against hub_sign.  EWH_E_NOTFOUND when
 * none was published yet.  *out (caller owns) and, if buf is not NULL, the
 * signed bytes (caller owns, free()). */
EWH_MUST_CHECK int hub_catalogue_load(const char *dir,
                                      const uint8_t hub_sign[32],
                                      ewh_catalogue_t **out, uint8_t **buf,
                                      size_t *len, struct ewh_err *err);

/* Sign c with key and store it in dir as the current catalogue. */
EWH_MUST_CHECK int hub_catalogue_store(const char *dir, ewh_catalogue_t *c,
                                       const ewh_secret_t *key,
                                       struct ewh_err *err);

/* ewhub run: what the router serves.  Created at start (publishing the
 * built-in catalogue for the configured categories as version 1 if dir
 * holds none). */
typedef struct hub_catalogue hub_catalogue_t;
EWH_MUST_CHECK hub_catalogue_t *
hub_catalogue_new(const char *dir, const ewh_secret_t *key,
                  const char *const *cats, size_t n_cats, struct ewh_err *err);
void hub_catalogue_destroy(hub_catalogue_t **c);
/* Re-read the file if it changed; true when a new version was taken (push
 * it).  A bad file is logged and the version held is kept. */
bool hub_catalogue_poll(hub_catalogue_t *c);
/* The signed bytes held (borrowed); *len 0 when the file was unusable at
 * start and nothing was published since. */
void hub_catalogue_bytes(const hub_catalogue_t *c, const uint8_t **buf,
                         size_t *len);
uint64_t hub_catalogue_version(const hub_catalogue_t *c);

#endif
