/* log.c — one line per event on stderr. */
#include "ewh/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_prog = "ewh";
static enum ewh_loglevel s_level = EWH_LOG_INFO;

void
ewh_log_init(const char *prog, enum ewh_loglevel level)
{
    s_prog = prog;
    s_level = level;
}

void
ewh_log_setlevel(enum ewh_loglevel level)
{
    s_level = level;
}

enum ewh_loglevel
ewh_log_getlevel(void)
{
    return s_level;
}

static void s_vlog(enum ewh_loglevel level, const char *tag, int errnum,
                   const char *fmt, va_list ap) EWH_PRINTF(4, 0);

static void
s_vlog(enum ewh_loglevel level, const char *tag, int errnum, const char *fmt,
       va_list ap)
{
    char buf[1024];
    int n;

    if (level > s_level)
        return;
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        return;
    if (errnum != 0)
        fprintf(stderr, "%s: %s%s: %s\n", s_prog, tag, buf, strerror(errnum));
    else
        fprintf(stderr, "%s: %s%s\n", s_prog, tag, buf);
}

#define S_LOGFN(name, level, tag, use_errno)                                   \
    void name(const char *fmt, ...)                                            \
    {                                                                          \
        int e = (use_errno) ? errno : 0;                                       \
        va_list ap;                                                            \
        va_start(ap, fmt);                                                     \
        s_vlog(level, tag, e, fmt, ap);                                        \
        va_end(ap);                                                            \
    }

S_LOGFN(ewh_log_debug, EWH_LOG_DEBUG, "", 0)
S_LOGFN(ewh_log_info, EWH_LOG_INFO, "", 0)
S_LOGFN(ewh_log_warn, EWH_LOG_WARN, "warning: ", 1)
S_LOGFN(ewh_log_warnx, EWH_LOG_WARN, "warning: ", 0)
S_LOGFN(ewh_log_err, EWH_LOG_ERR, "error: ", 1)
S_LOGFN(ewh_log_errx, EWH_LOG_ERR, "error: ", 0)

void
fatal(const char *fmt, ...)
{
    int e = errno;
    va_list ap;

    va_start(ap, fmt);
    s_vlog(EWH_LOG_ERR, "fatal: ", e, fmt, ap);
    va_end(ap);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    s_vlog(EWH_LOG_ERR, "fatal: ", 0, fmt, ap);
    va_end(ap);
    exit(1);
}
