/* log.c — one line per event on stderr. */
#include "ewh/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ewh/limits.h"

static const char *s_prog = "ewh";
static enum ewh_loglevel s_level = EWH_LOG_INFO;

/* Rate limit (issue 16 item 7): every warning and error (what refused
 * input and misbehaving peers cause; fatal aside) is counted against its
 * kind, the call site's format string: at most
 * EWH_LOG_BURST lines of one kind per EWH_LOG_WINDOW_MS; the rest are
 * counted and said in one line when the window ends.  A peer flooding
 * refusals costs a few lines, not a full disk, and the count says how
 * much was hidden.  Guarded by one mutex: the helper threads log too. */
#define S_SLOTS 128

struct s_kind {
    const char *fmt; /* NULL: free */
    enum ewh_loglevel level;
    const char *tag;
    int64_t start; /* ms of the window's first line */
    uint32_t n;    /* lines in this window */
    uint64_t suppressed;
};

static struct s_kind s_kinds[S_SLOTS];
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t s_suppressed_total;

static int64_t
s_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_say_suppressed(struct s_kind *k)
{
    if (k->suppressed == 0)
        return;
    fprintf(stderr,
            "%s: %s(%llu more lines like \"%.80s\" suppressed in %d ms)\n",
            s_prog, k->tag, (unsigned long long)k->suppressed, k->fmt,
            EWH_LOG_WINDOW_MS);
    k->suppressed = 0;
}

/* May a line of this kind go out now?  Called under s_mu. */
static int
s_admit(const char *fmt, enum ewh_loglevel level, const char *tag)
{
    size_t h = ((uintptr_t)fmt >> 3) % S_SLOTS, i;
    int64_t now = s_ms();
    struct s_kind *k = NULL;

    for (i = 0; i < S_SLOTS; i++) {
        struct s_kind *c = &s_kinds[(h + i) % S_SLOTS];
        if (c->fmt == fmt || c->fmt == NULL) {
            k = c;
            break;
        }
    }
    if (k == NULL)
        return 1; /* more kinds than slots: not limited */
    if (k->fmt == NULL) {
        k->fmt = fmt;
        k->level = level;
        k->tag = tag;
        k->start = now;
    }
    if (now - k->start >= EWH_LOG_WINDOW_MS) {
        s_say_suppressed(k);
        k->start = now;
        k->n = 0;
    }
    if (k->n < EWH_LOG_BURST) {
        k->n++;
        return 1;
    }
    k->suppressed++;
    s_suppressed_total++;
    return 0;
}

void
ewh_log_flush_suppressed(void)
{
    int64_t now = s_ms();
    size_t i;

    pthread_mutex_lock(&s_mu);
    for (i = 0; i < S_SLOTS; i++)
        if (s_kinds[i].fmt != NULL && s_kinds[i].suppressed > 0 &&
            now - s_kinds[i].start >= EWH_LOG_WINDOW_MS) {
            s_say_suppressed(&s_kinds[i]);
            s_kinds[i].start = now;
            s_kinds[i].n = 0;
        }
    pthread_mutex_unlock(&s_mu);
}

uint64_t
ewh_log_suppressed(void)
{
    uint64_t n;

    pthread_mutex_lock(&s_mu);
    n = s_suppressed_total;
    pthread_mutex_unlock(&s_mu);
    return n;
}

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
    pthread_mutex_lock(&s_mu);
    if (level > EWH_LOG_WARN || strcmp(tag, "fatal: ") == 0 ||
        s_admit(fmt, level, tag)) {
        if (errnum != 0)
            fprintf(stderr, "%s: %s%s: %s\n", s_prog, tag, buf,
                    strerror(errnum));
        else
            fprintf(stderr, "%s: %s%s\n", s_prog, tag, buf);
    }
    pthread_mutex_unlock(&s_mu);
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
