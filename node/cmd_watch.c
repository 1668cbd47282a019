/*
 * cmd_watch.c — ewnode watch: print each report as it arrives.
 *
 * First the backlog: received reports not yet acknowledged, high first.
 * Then every report stored after the watch started, in arrival order (high
 * first within one poll).  The inbox is polled every S_POLL_MS; the watch
 * position (the highest seq shown) is kept so nothing is shown twice.
 *
 * --exec CMD runs /bin/sh -c CMD for each report shown, with the report's
 * JSON on stdin, in its own process group, for at most hook_timeout
 * seconds (then the group is killed).  Hooks run beside the display, up to
 * EWH_MAX_HOOKS_RUNNING at once (the others wait their turn, in order):
 * a slow hook never delays the next report on screen.  A hook that exits
 * 0 is recorded in the store (hook_run) and does not run again for that
 * report, in this watch or a later one; a failing, killed or interrupted
 * hook is reported on stderr and runs again at the next watch.  Either
 * way the report stays in the inbox, unacknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "exchange.h"
#include "linkstate.h"
#include "trust.h"
#include "render.h"
#include "ewh/limits.h"

#define S_POLL_MS      200
#define S_HOOK_POLL_MS 20

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* One running hook: the child's process group, the pipe on its stdin and
 * what is still to write into it. */
struct s_hook {
    pid_t pid; /* 0: slot free */
    int fd;    /* -1 once all is written (or the hook closed its stdin) */
    char *js;
    size_t len, off;
    bool wrote; /* the whole report went in */
    int64_t deadline;
    char id[EWH_ID_HEX];
};

struct s_watch {
    bool json;
    bool color;
    const char *exec;
    unsigned timeout_s;
    int64_t max_seq;
    node_store_t *store;
    /* reports whose hook waits for a free slot, in the order shown */
    char (*pending)[EWH_ID_HEX];
    size_t n_pending, head, cap_pending;
    struct s_hook hooks[EWH_MAX_HOOKS_RUNNING];
};

static void
s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static size_t
s_hooks_running(const struct s_watch *w)
{
    size_t i, n = 0;

    for (i = 0; i < EWH_MAX_HOOKS_RUNNING; i++)
        n += w->hooks[i].pid != 0;
    return n;
}

/* Queue the hook of report id, unless it already ran to success (in this
 * watch or an earlier one: the store remembers). */
static void
s_hook_queue(struct s_watch *w, const char *id)
{
    struct ewh_err err = {0};
    bool ran = false;

    if (node_store_hook_has_run(w->store, id, w->exec, &ran, &err) != 0)
        fprintf(stderr, "ewnode watch: %s (the hook for %s runs anyway)\n",
                err.reason, id);
    if (ran)
        return;
    if (w->n_pending == w->cap_pending) {
        size_t cap = w->cap_pending ? w->cap_pending * 2 : 64;
        void *p;
        if (w->head > 0) { /* reuse the room of hooks already started */
            memmove(w->pending, w->pending + w->head,
                    (w->n_pending - w->head) * sizeof(*w->pending));
            w->n_pending -= w->head;
            w->head = 0;
        }
        if (w->n_pending == w->cap_pending) {
            if ((p = realloc(w->pending, cap * sizeof(*w->pending))) == NULL) {
                fprintf(stderr,
                        "ewnode watch: hook for %s not run: out of "
                        "memory\n",
                        id);
                return;
            }
            w->pending = p;
            w->cap_pending = cap;
        }
    }
    memcpy(w->pending[w->n_pending++], id, EWH_ID_HEX);
}

static void
s_hook_start(struct s_watch *w, struct s_hook *h, const char *id)
{
    struct node_msg m;
    struct ewh_err err = {0};
    json_t *o = NULL;
    int fds[2] = {-1, -1};
    pid_t pid;

    memset(&m, 0, sizeof(m));
    memset(h, 0, sizeof(*h));
    h->fd = -1;
    memcpy(h->id, id, EWH_ID_HEX);
    if (node_store_msg_get(w->store, id, &m, &err) != 0) {
        fprintf(stderr, "ewnode watch: hook for %s not run: %s\n", id,
                err.reason);
        goto out;
    }
    o = node_render_json(&m, true);
    h->js = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (h->js == NULL || pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr,
                "ewnode watch: hook for %s not run: out of "
                "resources\n",
                id);
        goto out;
    }
    h->len = strlen(h->js);
    h->js[h->len++] = '\n'; /* json_dumps leaves room: its NUL */
    fflush(stdout);
    if ((pid = fork()) < 0) {
        fprintf(stderr, "ewnode watch: hook for %s not run: fork: %s\n", id,
                strerror(errno));
        goto out;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        dup2(fds[0], STDIN_FILENO);
        execl("/bin/sh", "sh", "-c", w->exec, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[0]);
    fds[0] = -1;
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    h->pid = pid;
    h->fd = fds[1];
    fds[1] = -1;
    h->deadline = ewh_mono_ms() + (int64_t)w->timeout_s * 1000;
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    json_decref(o);
    node_msg_clear(&m);
    if (h->pid == 0) {
        free(h->js);
        h->js = NULL;
    }
}

/* A hook is over: say how, remember it, free the slot. */
static void
s_hook_end(struct s_watch *w, struct s_hook *h, int status, bool killed)
{
    struct ewh_err err = {0};
    int code = killed ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;

    if (killed)
        fprintf(stderr,
                "ewnode watch: hook for %s killed after %u s (report kept, "
                "unacknowledged)\n",
                h->id, w->timeout_s);
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        fprintf(stderr,
                "ewnode watch: hook for %s exited %d (report kept, "
                "unacknowledged)\n",
                h->id, WEXITSTATUS(status));
    else if (!WIFEXITED(status))
        fprintf(stderr,
                "ewnode watch: hook for %s died by signal %d (report kept, "
                "unacknowledged)\n",
                h->id, WTERMSIG(status));
    else if (!h->wrote)
        fprintf(stderr,
                "ewnode watch: hook for %s did not read the whole report\n",
                h->id);
    /* Only a hook that succeeded is not run again by a later watch. */
    if (node_store_hook_record(w->store, h->id, w->exec, ewh_now(), code,
                               &err) != 0)
        fprintf(stderr, "ewnode watch: hook for %s not recorded: %s\n", h->id,
                err.reason);
    if (h->fd >= 0)
        close(h->fd);
    free(h->js);
    memset(h, 0, sizeof(*h));
    h->fd = -1;
}

/* One turn of the hooks: feed their stdin, reap the finished, kill the
 * overdue, start waiting ones in free slots.  Never blocks. */
static void
s_hooks_turn(struct s_watch *w)
{
    size_t i;
    int status;
    ssize_t n;

    for (i = 0; i < EWH_MAX_HOOKS_RUNNING; i++) {
        struct s_hook *h = &w->hooks[i];
        if (h->pid == 0)
            continue;
        while (h->fd >= 0 && h->off < h->len) {
            n = write(h->fd, h->js + h->off, h->len - h->off);
            if (n > 0)
                h->off += (size_t)n;
            else if (n < 0 && errno == EINTR)
                continue;
            else {
                if (n < 0 && errno != EAGAIN) { /* EPIPE: stdin closed */
                    close(h->fd);
                    h->fd = -1;
                }
                break;
            }
        }
        if (h->fd >= 0 && h->off == h->len) {
            h->wrote = true;
            close(h->fd);
            h->fd = -1;
        }
        if (waitpid(h->pid, &status, WNOHANG) == h->pid)
            s_hook_end(w, h, status, false);
        else if (ewh_mono_ms() >= h->deadline) {
            kill(-h->pid, SIGKILL);
            waitpid(h->pid, &status, 0);
            s_hook_end(w, h, status, true);
        }
    }
    for (i = 0; i < EWH_MAX_HOOKS_RUNNING && w->head < w->n_pending; i++)
        if (w->hooks[i].pid == 0)
            s_hook_start(w, &w->hooks[i], w->pending[w->head++]);
    if (w->head == w->n_pending)
        w->head = w->n_pending = 0;
}

/* watch is stopping: hooks still running are stopped (and not recorded,
 * so the next watch runs them again); waiting ones run then too. */
static void
s_hooks_stop(struct s_watch *w)
{
    size_t i;
    int status;

    for (i = 0; i < EWH_MAX_HOOKS_RUNNING; i++) {
        struct s_hook *h = &w->hooks[i];
        if (h->pid == 0)
            continue;
        /* one that has finished meanwhile counts as run */
        if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
            s_hook_end(w, h, status, false);
            continue;
        }
        kill(-h->pid, SIGKILL);
        waitpid(h->pid, &status, 0);
        fprintf(stderr, "ewnode watch: hook for %s stopped with watch\n",
                h->id);
        if (h->fd >= 0)
            close(h->fd);
        free(h->js);
        h->pid = 0;
    }
    free(w->pending);
    w->pending = NULL;
}

static int
s_show(void *ctx, const struct node_msg *m)
{
    struct s_watch *w = ctx;

    if (m->seq > w->max_seq)
        w->max_seq = m->seq;
    if (w->json) {
        if (node_render_json_line(stdout, m, true) != 0)
            return -1;
    } else {
        node_render_line(stdout, m, w->color);
        if (node_render_is_alarm(m) && w->color)
            fputc('\a', stdout);
    }
    fflush(stdout);
    if (w->exec != NULL)
        s_hook_queue(w, m->id);
    return 0;
}

int
node_cmd_watch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"level", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"exec", required_argument, NULL, 'e'},
        {"exec-timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct s_watch w = {0};
    struct node_filter f = {0};
    struct node_dir d;
    struct ewh_err err = {0};
    struct sigaction sa;
    const char *dir = NULL;
    int64_t start = 0, dv = 0, last_dv = -1;
    long tmo = 0;
    int ch, rc = 0, link, trust;

    while ((ch = getopt_long(argc, argv, "d:l:je:t:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            if (node_cmd_levels(optarg, &f.levels, &err) != 0)
                return node_cmd_fail("watch", &err);
            break;
        case 'j':
            w.json = true;
            break;
        case 'e':
            w.exec = optarg;
            break;
        case 't':
            tmo = strtol(optarg, NULL, 10);
            if (tmo <= 0 || tmo > 3600)
                return node_cmd_usage("watch",
                                      "--exec-timeout is 1..3600 seconds");
            break;
        case 'h':
            return node_cmd_help("watch");
        default:
            return node_cmd_usage("watch", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("watch", "unexpected argument");
    if (node_cmd_open_dir(&d, dir, false, "watch") != 0)
        return 1;
    /* The annual exchange's reminder (exchange.h), on stderr so that
     * --json output stays one report a line. */
    (void)node_exchange_remind(&d, ewh_now(), stderr);
    w.timeout_s = tmo > 0 ? (unsigned)tmo : d.cfg.hook_timeout_s;
    w.store = d.store;
    w.color = !w.json && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = s_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The backlog: unacknowledged, high first, up to now. */
    if (node_store_max_seq(d.store, &start, &err) != 0)
        goto fail;
    f.unacked = true;
    f.level_first = true;
    if (node_store_msg_list(d.store, &f, s_show, &w, &err) != 0)
        goto fail;
    w.max_seq = start > w.max_seq ? start : w.max_seq;

    /* New arrivals. */
    f.unacked = false;
    link = node_linkstate_follow(&d, "watch", -1, stderr);
    trust = node_trust_hint(d.store, "watch", stderr);
    while (!s_stop) {
        link = node_linkstate_follow(&d, "watch", link, stderr);
        if (node_store_data_version(d.store, &dv, &err) != 0)
            goto fail;
        if (dv != last_dv) {
            /* a peer became unverified, or a split view was caught */
            if (node_trust_hint(d.store, "watch", NULL) != trust)
                trust = node_trust_hint(d.store, "watch", stderr);
            last_dv = dv;
            f.after_seq = w.max_seq;
            if (node_store_msg_list(d.store, &f, s_show, &w, &err) != 0)
                goto fail;
        }
        s_hooks_turn(&w);
        /* hooks at work: look at them more often than at the inbox */
        s_sleep_ms(s_hooks_running(&w) > 0 ? S_HOOK_POLL_MS : S_POLL_MS);
    }
    goto out;
fail:
    rc = node_cmd_fail("watch", &err);
out:
    s_hooks_stop(&w);
    node_dir_close(&d);
    return rc;
}
