/*
 * err.h — error codes and reasons.
 *
 * Functions return 0 or -1 (NULL for pointers) and fill a struct ewh_err,
 * which may be NULL.  The reason is safe to log and to send to a peer: it
 * never holds key material or report content.
 */
#ifndef EWH_ERR_H
#define EWH_ERR_H

#include <stdbool.h>
#include <stdlib.h>

#include "ewh/limits.h"

#define EWH_MUST_CHECK   __attribute__((warn_unused_result))
#define EWH_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum ewh_errcode {
    EWH_E_OK = 0,
    EWH_E_INVALID,    /* malformed or meaningless input */
    EWH_E_TOOBIG,     /* a named limit was exceeded */
    EWH_E_SIGNATURE,  /* a signature did not verify */
    EWH_E_ORIGIN,     /* origin differs from the authenticated peer */
    EWH_E_UNKNOWN,    /* unknown country or key */
    EWH_E_REVOKED,    /* revoked country */
    EWH_E_NOTFORME,   /* not addressed to this node */
    EWH_E_DECRYPT,    /* authentication of ciphertext failed */
    EWH_E_EXPIRED,    /* past its expires_at */
    EWH_E_CLOCK,      /* timestamp outside the allowed skew */
    EWH_E_VERSION,    /* unsupported version */
    EWH_E_RATE,       /* rate or in-flight limit */
    EWH_E_QUEUEFULL,  /* a recipient queue is full */
    EWH_E_DISKFULL,   /* the store is full */
    EWH_E_STORE,      /* the store failed */
    EWH_E_IO,         /* file system or OS error */
    EWH_E_PERM,       /* unsafe file permissions or ownership */
    EWH_E_NOMEM,      /* out of memory */
    EWH_E_CRYPTO,     /* a crypto primitive failed */
    EWH_E_NOTFOUND,   /* no such object */
    EWH_E_IDREUSED,   /* the id is already used by a different envelope */
    EWH_E_SHUTDOWN,   /* the hub is shutting down */
    EWH_E_BUSY,       /* the store is locked by another connection */
    EWH_E_AUTH,       /* bad credentials or no valid session (desk) */
    EWH_E_LOCKED,     /* account locked after failed sign-ins (desk) */
    EWH_E_FORBIDDEN,  /* the signed-in person's roles do not allow it */
    EWH_E_UNVERIFIED, /* a peer's key is not verified (docs/trust.md) */
    EWH_E_SPLITVIEW,  /* the hub showed peers different rosters */
    EWH_E_BUDGET,     /* a country's storage budget at the hub is used up */
    /* travelled further than its distribution allows (federation) */
    EWH_E_DISTRIBUTION,
    EWH_E__COUNT
};

struct ewh_err {
    enum ewh_errcode code;
    char reason[EWH_MAX_REASON_BYTES];
};

/* Fill err (if not NULL) with code and a printf-formatted reason.
 * Returns -1 so that callers can `return ewh_err_set(...)`. */
int ewh_err_set(struct ewh_err *err, enum ewh_errcode code, const char *fmt,
                ...) EWH_PRINTF(3, 4);

/* Clear err to EWH_E_OK and an empty reason. */
void ewh_err_clear(struct ewh_err *err);

/* A stable lower-case name for code ("bad-signature", "too-big", ...),
 * used in metrics labels and logs.  Never NULL. */
const char *ewh_errcode_name(enum ewh_errcode code);

/* Whether a refusal with this code may be retried unchanged later (the
 * `retry` flag of a SubmitAck): true for a passing condition of the hub
 * (rate, full queue, full or failing store, shutdown), false for a fault
 * of the input itself.  One table in err.c decides; EWH_E_OK and unknown
 * codes are not retryable. */
bool ewh_errcode_is_retryable(enum ewh_errcode code);

/* Internal invariant, kept in release builds. */
#define EWH_ASSERT(x)                                                          \
    do {                                                                       \
        if (!(x))                                                              \
            ewh_assert_fail(#x, __FILE__, __LINE__);                           \
    } while (0)

__attribute__((noreturn)) void ewh_assert_fail(const char *expr,
                                               const char *file, int line);

#endif
