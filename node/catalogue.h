/*
 * catalogue.h — the catalogue of concern at the node (docs/catalogue.md):
 * DIR/catalogue.signed, the hub-signed catalogue last accepted.  Only a
 * catalogue that verifies against the pinned hub key and has a higher
 * version than the one held replaces it (written to a temporary name,
 * fsynced, renamed).  It is verified again whenever it is read.
 */
#ifndef NODE_CATALOGUE_H
#define NODE_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dir.h"
#include "ewh.pb-c.h"
#include "ewh/catalogue.h"

#define NODE_CATALOGUE_FILE "catalogue.signed"

/* Verify buf and keep it if newer; *version gets its version.  An older
 * or equal version is refused with EWH_E_VERSION (nothing changes). */
EWH_MUST_CHECK int node_catalogue_apply(struct node_dir *d, const uint8_t *buf,
                                        size_t len, uint64_t *version,
                                        struct ewh_err *err);

/* The agent: a catalogue frame from the hub, applied and logged. */
void node_catalogue_receive(struct node_dir *d, const Ewh__SignedCatalogue *sc);

/* The catalogue held, verified.  EWH_E_NOTFOUND before the first arrives.
 * Caller owns it. */
EWH_MUST_CHECK ewh_catalogue_t *node_catalogue_load(struct node_dir *d,
                                                    struct ewh_err *err);

/* A submit (action.c): the catalogue's guidance for the area and level
 * chosen, and a warning when the level departs from the area's default
 * and reason is empty, as lines ending in '\n' into out (cap bytes, always
 * NUL-terminated; cut when it does not fit).  Returns true when it warned.
 * No catalogue held, or an area it does not list: a one-line note, no
 * warning. */
bool node_catalogue_guide(struct node_dir *d, const char *area,
                          enum ewh_level level, const char *reason, char *out,
                          size_t cap);

/* The level's reason sealed in stored report id (Report.level_reason,
 * which the store does not keep in clear): the envelope opened again with
 * this node's key.  out gets "" when the report gives none.  Fails when
 * the envelope cannot be opened (e.g. sealed for keys replaced since). */
EWH_MUST_CHECK int node_catalogue_level_reason(struct node_dir *d,
                                               const char *id, char *out,
                                               size_t cap, struct ewh_err *err);

#endif
