/* gate.c — the connections that have not finished their CURVE handshake
 * (issue 16 item 4).  Anyone who can reach the port can open them, and
 * each holds a file descriptor until libzmq's handshake timeout
 * (EWH_HUB_HANDSHAKE_MS): at most EWH_HUB_MAX_PENDING are kept, and none
 * may take the last EWH_HUB_FD_RESERVE descriptors of the process's limit
 * (the store, the roster work and a re-bind need them).  Over the count
 * the oldest pending connection is shut down to make room, so that a flood
 * cannot starve a real node's handshake; a connection given a descriptor
 * within the reserve is shut down with the oldest pending one, so that the
 * count falls back.  Fed from the ROUTER's monitor events (conn.c).
 *
 * And what the hub queues to each authenticated connection (issue 16
 * item 5).  libzmq keeps what a peer does not read in that peer's pipe,
 * in the hub's memory, bounded only by ZMQ_SNDHWM in messages.  The pipe
 * grows only while the connection's socket cannot take more (its send
 * buffer full: the peer does not read), so the gate counts the bytes of
 * answers queued to a connection since its socket was last seen
 * writable, and queues no more once EWH_HUB_CONN_OUT_BYTES are counted
 * and the socket is still full.  Deliveries and relays are not answers:
 * they are bounded by the node's credit and EWH_HUB_INFLIGHT_BYTES and
 * sent again when acknowledged nothing (deliver.c).  Each kind of request
 * that has an answer has a per-country budget besides (here: Hello,
 * Receipt, the Errors for refused frames; admit.c: Submit; conn.c:
 * AuditRequest). */
#include "hubint.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

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
    free(h->gate.out);
    h->gate.out = NULL;
    h->gate.n_out = h->gate.cap_out = 0;
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

static void
s_out_remove(struct hub_gate *g, size_t i)
{
    g->out[i] = g->out[--g->n_out];
}

void
hub_gate_done(struct hub *h, int fd, bool closed)
{
    struct hub_gate *g = &h->gate;
    size_t i;

    for (i = 0; closed && i < g->n_out; i++)
        if (g->out[i].fd == fd) {
            s_out_remove(g, i);
            break;
        }
    for (i = 0; i < g->n; i++)
        if (g->p[i].fd == fd) {
            s_remove(g, i);
            return;
        }
}

/* ---- what is queued to each authenticated connection ---- */

static uint64_t
s_ino(int fd)
{
    struct stat st;

    return fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)
               ? (uint64_t)st.st_ino
               : 0;
}

static struct hub_gate_out *
s_out_find(struct hub_gate *g, const uint8_t *rid, size_t rid_len)
{
    size_t i;

    for (i = 0; i < g->n_out; i++)
        if (g->out[i].rid_len == rid_len &&
            memcmp(g->out[i].rid, rid, rid_len) == 0)
            return &g->out[i];
    return NULL;
}

void
hub_gate_seen(struct hub *h, const uint8_t *rid, size_t rid_len, int fd)
{
    struct hub_gate *g = &h->gate;
    struct hub_gate_out *e, *np;
    size_t i;

    if (fd < 0 || rid_len == 0 || rid_len > HUB_MAX_RID)
        return;
    if ((e = s_out_find(g, rid, rid_len)) != NULL && e->fd == fd)
        return;
    /* A new connection, or its fd reused: an entry of that fd is of a
     * connection that closed (its event not read yet). */
    for (i = 0; i < g->n_out; i++)
        if (g->out[i].fd == fd || (g->out[i].rid_len == rid_len &&
                                   memcmp(g->out[i].rid, rid, rid_len) == 0)) {
            s_out_remove(g, i);
            i--;
        }
    /* At most one entry per open descriptor. */
    if (g->n_out >= (size_t)g->fd_limit)
        return;
    np = hub_grow(g->out, &g->cap_out, g->n_out + 1, sizeof(*g->out));
    if (np == NULL)
        return; /* untracked: answered as before */
    g->out = np;
    e = &g->out[g->n_out++];
    memcpy(e->rid, rid, rid_len);
    e->rid_len = rid_len;
    e->fd = fd;
    e->ino = s_ino(fd);
    e->queued = 0;
    hub_bucket_init(&e->req[HUB_REQ_HELLO]);
    hub_bucket_init(&e->req[HUB_REQ_RECEIPT]);
}

/* What one queued message costs besides its bytes: libzmq's msg_t in
 * the pipe (64 bytes) and its content's header and allocation. */
#define S_MSG_COST 128

/* Can the socket take more (libzmq's I/O thread then empties the pipe)? */
static bool
s_drains(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};

    return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0 &&
           (p.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0;
}

bool
hub_gate_out_ok(struct hub *h, const uint8_t *rid, size_t rid_len, size_t len)
{
    struct hub_gate *g = &h->gate;
    struct hub_gate_out *e = s_out_find(g, rid, rid_len);

    if (e == NULL)
        return true;
    len += S_MSG_COST;
    /* One answer always goes on a connection that has nothing counted. */
    if (e->queued > 0 && e->queued + len > EWH_HUB_CONN_OUT_BYTES) {
        if (e->ino == 0 || s_ino(e->fd) != e->ino) {
            /* Not that socket any more: forget it. */
            s_out_remove(g, (size_t)(e - g->out));
            return true;
        }
        if (!s_drains(e->fd)) {
            g->answers_dropped++;
            ewh_log_warnx("router: a connection does not read its answers "
                          "(fd %d, %llu bytes queued): not answered "
                          "(%llu answers dropped so far)",
                          e->fd, (unsigned long long)e->queued,
                          (unsigned long long)g->answers_dropped);
            return false;
        }
        e->queued = 0;
    }
    e->queued += len;
    return true;
}

/* ---- budgets of requests ---- */

bool
hub_gate_budget(struct hub *h, const uint8_t *rid, size_t rid_len,
                enum hub_req k)
{
    static const uint32_t rate[] = {
        [HUB_REQ_HELLO] = EWH_HUB_HELLOS_PER_S,
        [HUB_REQ_RECEIPT] = EWH_HUB_RECEIPTS_PER_S,
    };
    struct hub_gate_out *e = s_out_find(&h->gate, rid, rid_len);

    /* Untracked (fd unknown, or out of memory): unbounded, as before. */
    return e == NULL || hub_bucket_take(&e->req[k], rate[k], ewh_mono_ms());
}

bool
hub_gate_error_ok(struct hub *h, const char *cc)
{
    struct hub_gate *g = &h->gate;
    struct hub_gate_budget *b = NULL;
    size_t i;

    for (i = 0; i < g->n_budget && b == NULL; i++)
        if (strncmp(g->budget[i].cc, cc, EWH_CC_BYTES) == 0)
            b = &g->budget[i];
    if (b == NULL && g->n_budget < EWH_MAX_ROSTER_ENTRIES) {
        b = &g->budget[g->n_budget++];
        snprintf(b->cc, sizeof(b->cc), "%.2s", cc);
        hub_bucket_init(&b->errors);
    }
    if (b == NULL ||
        hub_bucket_take(&b->errors, EWH_HUB_ERRORS_PER_S, ewh_mono_ms()))
        return true;
    g->answers_dropped++;
    return false;
}
