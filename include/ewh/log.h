/*
 * log.h — one line per event on stderr (journald stamps time).
 *
 * error: the operator must act.  warn: refused input, misbehaving peer.
 * info: lifecycle, enrol/revoke, connects.  debug: per frame (-v).
 * The plain variants append strerror(errno); the x variants do not.
 * Never log keys, titles, bodies or anything decrypted.
 */
#ifndef EWH_LOG_H
#define EWH_LOG_H

#include <stdint.h>

#include "ewh/err.h"

enum ewh_loglevel {
    EWH_LOG_ERR = 0,
    EWH_LOG_WARN,
    EWH_LOG_INFO,
    EWH_LOG_DEBUG,
};

/* Set the program name prefix and the most verbose level printed. */
void ewh_log_init(const char *prog, enum ewh_loglevel level);
void ewh_log_setlevel(enum ewh_loglevel level);
enum ewh_loglevel ewh_log_getlevel(void);

void ewh_log_debug(const char *fmt, ...) EWH_PRINTF(1, 2);
void ewh_log_info(const char *fmt, ...) EWH_PRINTF(1, 2);
void ewh_log_warn(const char *fmt, ...) EWH_PRINTF(1, 2);
void ewh_log_warnx(const char *fmt, ...) EWH_PRINTF(1, 2);
void ewh_log_err(const char *fmt, ...) EWH_PRINTF(1, 2);
void ewh_log_errx(const char *fmt, ...) EWH_PRINTF(1, 2);
/* Repeated warnings and errors (not fatal) are limited per kind, the call
 * site's format: EWH_LOG_BURST per EWH_LOG_WINDOW_MS, the rest counted
 * and said in one line ("N more lines like ... suppressed").  The loops
 * call ewh_log_flush_suppressed() each second so that a count is said
 * even when the flood has stopped; ewh_log_suppressed() is the total. */
void ewh_log_flush_suppressed(void);
uint64_t ewh_log_suppressed(void);
__attribute__((noreturn)) void fatal(const char *fmt, ...) EWH_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) EWH_PRINTF(1, 2);

#endif
