/* test_err.c — error codes: every code has a stable name, and the one
 * retry table says which refusals may be sent again. */
#include "ewh/err.h"

#include <string.h>

#include "check.h"

static void
test_names(void)
{
    int i, j;

    /* every code named, no two alike (metrics labels) */
    for (i = 0; i < EWH_E__COUNT; i++) {
        CHECK(strcmp(ewh_errcode_name((enum ewh_errcode)i), "unknown-error") !=
              0);
        for (j = 0; j < i; j++)
            CHECK(strcmp(ewh_errcode_name((enum ewh_errcode)i),
                         ewh_errcode_name((enum ewh_errcode)j)) != 0);
    }
    /* names the metrics and the tests use stay as they were */
    CHECK(strcmp(ewh_errcode_name(EWH_E_RATE), "rate-limit") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E_DISKFULL), "disk-full") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E_SIGNATURE), "bad-signature") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E_IDREUSED), "id-reused") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E_SHUTDOWN), "shutting-down") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E_BUSY), "busy") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E_LOCKED), "locked") == 0);
    CHECK(strcmp(ewh_errcode_name(EWH_E__COUNT), "unknown-error") == 0);
}

static void
test_retryable(void)
{
    static const enum ewh_errcode yes[] = {
        EWH_E_RATE,  EWH_E_QUEUEFULL, EWH_E_DISKFULL, EWH_E_STORE, EWH_E_IO,
        EWH_E_NOMEM, EWH_E_SHUTDOWN,  EWH_E_BUSY,     EWH_E_BUDGET};
    static const enum ewh_errcode no[] = {
        EWH_E_OK,        EWH_E_INVALID,     EWH_E_TOOBIG,    EWH_E_SIGNATURE,
        EWH_E_ORIGIN,    EWH_E_UNKNOWN,     EWH_E_REVOKED,   EWH_E_NOTFORME,
        EWH_E_DECRYPT,   EWH_E_EXPIRED,     EWH_E_CLOCK,     EWH_E_VERSION,
        EWH_E_PERM,      EWH_E_CRYPTO,      EWH_E_NOTFOUND,  EWH_E_IDREUSED,
        EWH_E_AUTH,      EWH_E_LOCKED,      EWH_E_FORBIDDEN, EWH_E_UNVERIFIED,
        EWH_E_SPLITVIEW, EWH_E_DISTRIBUTION};
    size_t i;

    CHECK(sizeof(yes) / sizeof(yes[0]) + sizeof(no) / sizeof(no[0]) ==
          EWH_E__COUNT);
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK(ewh_errcode_is_retryable(yes[i]));
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CHECK(!ewh_errcode_is_retryable(no[i]));
    CHECK(!ewh_errcode_is_retryable(EWH_E__COUNT));
    CHECK(!ewh_errcode_is_retryable((enum ewh_errcode) - 1));
}

int
main(void)
{
    RUN(test_names);
    RUN(test_retryable);
    return 0;
}
