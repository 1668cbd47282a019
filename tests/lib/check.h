/* check.h — minimal assertions for the unit tests: a failed CHECK prints
 * the place and the expression and exits 1, so meson counts the test as
 * failed. */
#ifndef EWH_TEST_CHECK_H
#define EWH_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                               \
    do {                                                                       \
        if (!(x)) {                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #x);                                                       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define CHECK_OK(call, errp)                                                   \
    do {                                                                       \
        if ((call) != 0) {                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__,      \
                    #call, (errp)->reason);                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* The call must fail with code; the reason must contain `needle`. */
#define CHECK_FAILS(call, errp, ecode, needle)                                 \
    do {                                                                       \
        (errp)->code = EWH_E_OK;                                               \
        (errp)->reason[0] = '\0';                                              \
        if ((call) == 0) {                                                     \
            fprintf(stderr, "%s:%d: %s unexpectedly succeeded\n", __FILE__,    \
                    __LINE__, #call);                                          \
            exit(1);                                                           \
        }                                                                      \
        if ((errp)->code != (ecode) ||                                         \
            strstr((errp)->reason, (needle)) == NULL) {                        \
            fprintf(stderr, "%s:%d: %s: got code %d reason '%s'\n", __FILE__,  \
                    __LINE__, #call, (int)(errp)->code, (errp)->reason);       \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define RUN(t)                                                                 \
    do {                                                                       \
        fprintf(stderr, "  %s\n", #t);                                         \
        t();                                                                   \
    } while (0)

#endif
