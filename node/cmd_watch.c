/*
 * cmd_watch.c — ewnode watch: print each report as it arrives.
 *
 * First the backlog: received reports not yet acknowledged, high first.
 * Then every report stored after the watch started, in arrival order (high
 * first within one poll).  The inbox is polled every S_POLL_MS; the watch
 * position (the highest seq shown) is kept so nothing is shown twice.
 *
 * --exec CMD runs /bin/sh -c CMD once per report with the report's JSON on
 * stdin, in its own process group, for at most hook_timeout seconds (then
 * the group is killed).  A failing or hanging hook is reported on stderr;
 * the report stays in the inbox, unacknowledged.
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
#include "render.h"

#define S_POLL_MS 200

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

struct s_watch {
    bool json;
    bool color;
    const char *exec;
    unsigned timeout_s;
    int64_t max_seq;
};

static void
s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Write all of buf to fd before the deadline (fd is non-blocking). */
static int
s_write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    size_t off = 0;
    ssize_t n;

    while (off < len) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int64_t left = deadline - ewh_mono_ms();
        if (left <= 0)
            return -1;
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            return -1;
        if (p.revents & (POLLERR | POLLHUP))
            return -1;
        n = write(fd, buf + off, len - off);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (n > 0)
            off += (size_t)n;
    }
    return 0;
}

static void
s_hook(const struct s_watch *w, const struct node_msg *m)
{
    json_t *o = node_render_json(m, true);
    char *js = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    int fds[2] = {-1, -1}, status = 0;
    int64_t deadline = ewh_mono_ms() + (int64_t)w->timeout_s * 1000;
    pid_t pid, got = 0;
    bool wrote;

    json_decref(o);
    if (js == NULL || pipe2(fds, O_CLOEXEC) != 0) {
        fprintf(stderr,
                "ewnode watch: hook for %s not run: out of "
                "resources\n",
                m->id);
        goto out;
    }
    fflush(stdout);
    if ((pid = fork()) < 0) {
        fprintf(stderr, "ewnode watch: hook for %s not run: fork: %s\n", m->id,
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
    wrote = s_write_all(fds[1], js, strlen(js), deadline) == 0 &&
            s_write_all(fds[1], "\n", 1, deadline) == 0;
    close(fds[1]);
    fds[1] = -1;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
           ewh_mono_ms() < deadline && !s_stop)
        s_sleep_ms(10);
    if (got == 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (s_stop)
            fprintf(stderr, "ewnode watch: hook for %s stopped with watch\n",
                    m->id);
        else
            fprintf(stderr,
                    "ewnode watch: hook for %s killed after %u s (report "
                    "kept, unacknowledged)\n",
                    m->id, w->timeout_s);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            fprintf(stderr,
                    "ewnode watch: hook for %s exited %d (report kept, "
                    "unacknowledged)\n",
                    m->id, WEXITSTATUS(status));
        else
            fprintf(stderr,
                    "ewnode watch: hook for %s died by signal %d (report "
                    "kept, unacknowledged)\n",
                    m->id, WTERMSIG(status));
    } else if (!wrote)
        fprintf(stderr,
                "ewnode watch: hook for %s did not read the whole report\n",
                m->id);
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    free(js);
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
        if (m->level == EWH_LEVEL_HIGH && w->color)
            fputc('\a', stdout);
    }
    fflush(stdout);
    if (w->exec != NULL)
        s_hook(w, m);
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
    int ch, rc = 0;

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
    while (!s_stop) {
        if (node_store_data_version(d.store, &dv, &err) != 0)
            goto fail;
        if (dv != last_dv) {
            last_dv = dv;
            f.after_seq = w.max_seq;
            if (node_store_msg_list(d.store, &f, s_show, &w, &err) != 0)
                goto fail;
        }
        s_sleep_ms(S_POLL_MS);
    }
    goto out;
fail:
    rc = node_cmd_fail("watch", &err);
out:
    node_dir_close(&d);
    return rc;
}
