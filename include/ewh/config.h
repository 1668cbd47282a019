/*
 * config.h — INI config files (libinih), with errors that name the file,
 * the line and the reason.
 */
#ifndef EWH_CONFIG_H
#define EWH_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "ewh/err.h"

/* Called for each name = value; return 0 to accept, or -1 with err set to
 * refuse (the loader adds file and line). */
typedef int (*ewh_config_fn)(void *ctx, const char *section, const char *name,
                             const char *value, struct ewh_err *err);

/* Parse path.  A missing file is an error unless optional.  Errors read
 * "FILE:LINE: reason". */
EWH_MUST_CHECK int ewh_config_load(const char *path, bool optional,
                                   ewh_config_fn fn, void *ctx,
                                   struct ewh_err *err);

/* Helpers for handlers: parse an unsigned integer in [min, max]; a
 * boolean (yes/no, true/false, 1/0). */
EWH_MUST_CHECK int ewh_config_uint(const char *name, const char *value,
                                   uint64_t min, uint64_t max, uint64_t *out,
                                   struct ewh_err *err);
EWH_MUST_CHECK int ewh_config_bool(const char *name, const char *value,
                                   bool *out, struct ewh_err *err);

#endif
