/* gate.c — the connections that have not finished their CURVE handshake
 * (issue 16 item 4).  Anyone who can reach the port can open them, and
 * each holds a file descriptor until libzmq's handshake timeout
 * (EWH_HUB_HANDSHAKE_MS): at most EWH_HUB_MAX_PENDING are kept, and none
 * may take the last EWH_HUB_FD_RESERVE descriptors of the process's limit
 * (the store, the roster work and a re-bind need them).  Over the count
 * the oldest pending connection is shut down to make room, so that a flood
 * cannot starve a real node's handshake; a connection given a descriptor
 * within the reserve is shut down with the oldest pending one, so that the
 * count falls back.  Fed from the ROUTER's monitor events (conn.c). */
#include "hubint.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "ewh/log.h"

void
hub_gate_init(struct hub *h)
{
    struct rlimit rl;

    memset(&h->gate, 0, sizeof(h->gate));
    h->gate.fd_limit = 1024; /* the usual soft limit, if none can be read */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        h->gate.fd_limit =
            rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)1 << 30
                ? 1 << 30
                : (int)rl.rlim_cur;
    if (h->gate.fd_limit <= 2 * EWH_HUB_FD_RESERVE)
        ewh_log_warnx("router: open-file limit %d leaves little room beyond "
                      "the %d kept in reserve (set LimitNOFILE)",
                      h->gate.fd_limit, EWH_HUB_FD_RESERVE);
}

void
hub_gate_clear(struct hub *h)
{
    h->gate.n = 0;
}

static void
s_remove(struct hub_gate *g, size_t i)
{
    memmove(&g->p[i], &g->p[i + 1], (g->n - i - 1) * sizeof(g->p[0]));
    g->n--;
}

static void
s_cut(struct hub *h, int fd, const char *why)
{
    h->gate.cut++;
    /* libzmq owns the descriptor: shutting the socket down makes its I/O
     * thread see the end and close it. */
    (void)shutdown(fd, SHUT_RDWR);
    ewh_log_warnx("router: closed a connection before its handshake (fd %d, "
                  "%s; %llu so far)",
                  fd, why, (unsigned long long)h->gate.cut);
}

void
hub_gate_accepted(struct hub *h, int fd)
{
    struct hub_gate *g = &h->gate;
    int64_t now = ewh_mono_ms();
    bool low_fd = fd >= g->fd_limit - EWH_HUB_FD_RESERVE;

    /* Forget entries whose end we did not hear of (a monitor event lost):
     * never shut down a descriptor that may be someone else's now. */
    while (g->n > 0 && now - g->p[0].at > 2 * EWH_HUB_HANDSHAKE_MS)
        s_remove(g, 0);
    if (low_fd) {
        /* Within the reserve: this one goes, and the oldest pending one
         * too, so that the count falls back below the reserve (libzmq
         * accepts in bursts, ahead of the events we read). */
        s_cut(h, fd, "descriptors kept in reserve");
        if (g->n > 0) {
            s_cut(h, g->p[0].fd, "descriptors kept in reserve");
            s_remove(g, 0);
        }
        return;
    }
    if (g->n == EWH_HUB_MAX_PENDING) {
        s_cut(h, g->p[0].fd, "too many connections in handshake");
        s_remove(g, 0);
    }
    g->p[g->n].fd = fd;
    g->p[g->n].at = now;
    g->n++;
}

void
hub_gate_done(struct hub *h, int fd)
{
    struct hub_gate *g = &h->gate;
    size_t i;

    for (i = 0; i < g->n; i++)
        if (g->p[i].fd == fd) {
            s_remove(g, i);
            return;
        }
}
