/* err.c — error codes and reasons. */
#include "ewh/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

static const char *const s_names[EWH_E__COUNT] = {
    [EWH_E_OK] = "ok",
    [EWH_E_INVALID] = "invalid",
    [EWH_E_TOOBIG] = "too-big",
    [EWH_E_SIGNATURE] = "bad-signature",
    [EWH_E_ORIGIN] = "wrong-origin",
    [EWH_E_UNKNOWN] = "unknown",
    [EWH_E_REVOKED] = "revoked",
    [EWH_E_NOTFORME] = "not-addressed",
    [EWH_E_DECRYPT] = "decrypt",
    [EWH_E_EXPIRED] = "expired",
    [EWH_E_CLOCK] = "clock-skew",
    [EWH_E_VERSION] = "version",
    [EWH_E_RATE] = "rate-limit",
    [EWH_E_QUEUEFULL] = "queue-full",
    [EWH_E_DISKFULL] = "disk-full",
    [EWH_E_STORE] = "store",
    [EWH_E_IO] = "io",
    [EWH_E_PERM] = "permissions",
    [EWH_E_NOMEM] = "no-memory",
    [EWH_E_CRYPTO] = "crypto",
    [EWH_E_NOTFOUND] = "not-found",
    [EWH_E_IDREUSED] = "id-reused",
    [EWH_E_SHUTDOWN] = "shutting-down",
    [EWH_E_BUSY] = "busy",
    [EWH_E_AUTH] = "auth",
    [EWH_E_LOCKED] = "locked",
    [EWH_E_FORBIDDEN] = "forbidden",
    [EWH_E_UNVERIFIED] = "unverified",
    [EWH_E_SPLITVIEW] = "split-view",
    [EWH_E_BUDGET] = "over-budget",
    [EWH_E_DISTRIBUTION] = "distribution",
};

/* May a submit refused with this code be sent again, unchanged, later?
 * Yes when the cause is the hub's passing state, no when it is the input.
 * Codes not listed are false. */
static const bool s_retryable[EWH_E__COUNT] = {
    [EWH_E_RATE] = true,     [EWH_E_QUEUEFULL] = true, [EWH_E_DISKFULL] = true,
    [EWH_E_STORE] = true,    [EWH_E_IO] = true,        [EWH_E_NOMEM] = true,
    [EWH_E_SHUTDOWN] = true, [EWH_E_BUSY] = true,      [EWH_E_BUDGET] = true,
};

int
ewh_err_set(struct ewh_err *err, enum ewh_errcode code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
    va_end(ap);
    return -1;
}

void
ewh_err_clear(struct ewh_err *err)
{
    if (err == NULL)
        return;
    err->code = EWH_E_OK;
    err->reason[0] = '\0';
}

const char *
ewh_errcode_name(enum ewh_errcode code)
{
    if ((unsigned)code >= EWH_E__COUNT || s_names[code] == NULL)
        return "unknown-error";
    return s_names[code];
}

bool
ewh_errcode_is_retryable(enum ewh_errcode code)
{
    if ((unsigned)code >= EWH_E__COUNT)
        return false;
    return s_retryable[code];
}

void
ewh_assert_fail(const char *expr, const char *file, int line)
{
    fatalx("assertion failed: %s (%s:%d)", expr, file, line);
}
