/* skewtime.c — LD_PRELOAD shim that moves the wall clock of one process
 * by EWH_SKEW_S seconds (time() and CLOCK_REALTIME), so a test can play a
 * node whose clock runs ahead of the hub's.  Test-only, never installed. */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long
s_skew(void)
{
    const char *s = getenv("EWH_SKEW_S");

    return s != NULL ? strtol(s, NULL, 10) : 0;
}

time_t
time(time_t *t)
{
    struct timespec ts;
    time_t now;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = ts.tv_sec;
    if (t != NULL)
        *t = now;
    return now;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    int rc;

    if (real == NULL)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT,
                                                            "clock_gettime");
    rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += s_skew();
    return rc;
}
