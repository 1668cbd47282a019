/*
 * keyfile.h — writing and reading files that hold secrets.
 *
 * Written O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, to a temporary name in the
 * same directory, fsynced, renamed over the target, directory fsynced.
 * Read with O_NOFOLLOW, then checked on the open descriptor: a non-regular
 * file, another owner, or any group/other permission bit is refused with the
 * path, the mode found and the fix.
 */
#ifndef EWH_KEYFILE_H
#define EWH_KEYFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "ewh/err.h"

/* Atomically write len bytes to path with the given mode (0600 for secrets,
 * 0644 for public files).  An existing file is replaced. */
EWH_MUST_CHECK int ewh_keyfile_write(const char *path, const void *data,
                                     size_t len, mode_t mode,
                                     struct ewh_err *err);

/* Read a secret file of at most cap bytes into buf (which should be locked
 * memory), after the ownership and mode checks above.  *len gets the size.
 * A file larger than cap is refused. */
EWH_MUST_CHECK int ewh_keyfile_read_secret(const char *path, void *buf,
                                           size_t cap, size_t *len,
                                           struct ewh_err *err);

/* Read a public file of at most cap bytes (no mode check, O_NOFOLLOW not
 * required).  Caller owns *out (NUL-terminated), free with free(). */
EWH_MUST_CHECK int ewh_file_read(const char *path, size_t cap, char **out,
                                 size_t *len, struct ewh_err *err);

#endif
