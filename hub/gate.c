/* gate.c — the hub's connections as libzmq does not bound them (issue 16).
 *
 * Before the CURVE handshake (item 4).  Anyone who can reach the port can
 * open connections, and each holds a descriptor until libzmq's handshake
 * timeout (EWH_HUB_HANDSHAKE_MS).  The gate hears of them from the
 * ROUTER's monitor (conn.c: ACCEPTED, DISCONNECTED, CLOSED; a connection
 * leaves the pending list with its first message) and keeps at most
 * EWH_HUB_MAX_PENDING, at most EWH_HUB_MAX_PENDING_PER_ADDR from one
 * address (an IPv4 address beyond it is banned at the door for
 * EWH_HUB_BAN_MS), and none within EWH_HUB_FD_RESERVE of the limit; room
 * is made by shutting down the oldest pending connection of the address
 * holding most.  The door is a socket filter on the listening socket:
 * closed (every packet dropped) while descriptors are short, so that the
 * kernel completes no new handshake and at most the accept queue
 * (EWH_HUB_BACKLOG) reaches libzmq; otherwise it drops the banned
 * addresses' packets.
 *
 * What the hub queues to each authenticated connection (item 5).
 * libzmq keeps what a peer does not read in that peer's pipe, in the
 * hub's memory, bounded only by ZMQ_SNDHWM in messages.  The pipe grows
 * only while the connection's socket cannot take more (the peer does not
 * read), so the gate counts the bytes of answers queued to a connection
 * since its socket was last seen writable, and queues no more once
 * EWH_HUB_CONN_OUT_BYTES are counted and the socket is still full.
 * Deliveries and relays are not answers: the credit, EWH_HUB_INFLIGHT_BYTES
 * and EWH_HUB_RELAY_BYTES bound them (deliver.c).  Hellos and Receipts
 * have a budget per connection here, the Errors for refused frames one
 * per country (Submit: admit.c; AuditRequest: conn.c).
 *
 * What libzmq holds received and not yet given to the hub (item 5: a
 * multipart message is given only once complete): the kernel's count of
 * bytes received (TCP_INFO) less what the hub read; a connection holding
 * more than EWH_HUB_RX_HELD_BYTES is cut. */
#include "hubint.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ewh/log.h"

void
hub_gate_init(struct hub *h)
{
    struct rlimit rl;

    memset(&h->gate, 0, sizeof(h->gate));
    h->gate.listen_fd = -1;
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
    h->gate.listen_fd = -1; /* closed with the socket, filter and all */
    h->gate.door_closed = false;
    h->gate.filter_on = false;
    h->gate.n_ban = 0;
    free(h->gate.out);
    h->gate.out = NULL;
    h->gate.n_out = h->gate.cap_out = 0;
}

static uint64_t s_ino(int fd);

/* ---- the door: new connections held in the kernel ---- */

/* Below this descriptor the gate takes connections: beyond it, what is
 * in the accept queue (EWH_HUB_BACKLOG) still comes, and the last
 * EWH_HUB_FD_RESERVE stay free. */
static int
s_brake(const struct hub_gate *g)
{
    return g->fd_limit - EWH_HUB_FD_RESERVE - EWH_HUB_BACKLOG;
}

/* Close (or open) the door: a socket filter on the listening socket that
 * drops every packet, so the kernel completes no new handshake (SYNs are
 * dropped; clients retry them) and libzmq accepts nothing beyond the
 * accept queue.  Connections already accepted are untouched. */
/* The listening socket's filter as the door and the bans say: all
 * packets dropped (closed), or those from banned addresses, or none. */
static int
s_filter(struct hub_gate *g)
{
    struct sock_filter f[3 + EWH_HUB_MAX_BANNED];
    struct sock_fprog prog = {.filter = f};
    size_t k, n = 0;
    int zero = 0;

    if (g->door_closed)
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
    else if (g->n_ban > 0) {
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                              SKF_NET_OFF + 12); /* saddr */
        for (k = 0; k < g->n_ban; k++)
            f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                                  g->ban[k].ip,
                                                  (uint8_t)(g->n_ban - k), 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
    }
    if (n == 0) {
        if (!g->filter_on)
            return 0;
        if (setsockopt(g->listen_fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
                       sizeof(zero)) != 0)
            return -1;
        g->filter_on = false;
        return 0;
    }
    prog.len = (unsigned short)n;
    if (setsockopt(g->listen_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
                   sizeof(prog)) != 0)
        return -1;
    g->filter_on = true;
    return 0;
}

/* Close (or open) the door: a socket filter on the listening socket that
 * drops every packet, so the kernel completes no new handshake (SYNs are
 * dropped; clients retry them) and libzmq accepts nothing beyond the
 * accept queue.  Connections already accepted are untouched. */
static void
s_door(struct hub *h, bool close)
{
    struct hub_gate *g = &h->gate;

    if (g->listen_fd < 0 || close == g->door_closed)
        return;
    if (s_ino(g->listen_fd) != g->listen_ino) {
        g->listen_fd = -1; /* not ours any more */
        return;
    }
    g->door_closed = close;
    if (s_filter(g) != 0) {
        ewh_log_warn("router: %s the door", close ? "closing" : "opening");
        g->door_closed = !close;
        return;
    }
    if (close) {
        g->door_shut++;
        g->door_at = ewh_mono_ms();
        ewh_log_warnx("router: descriptors short: new connections wait at the "
                      "door (their SYNs dropped) until some close (%llu "
                      "times so far)",
                      (unsigned long long)g->door_shut);
    } else
        ewh_log_debug("router: taking new connections again");
}

/* Ban an IPv4 address (key from s_addr) at the door for a while. */
static void
s_ban(struct hub *h, const uint8_t key[17])
{
    struct hub_gate *g = &h->gate;
    char txt[INET_ADDRSTRLEN];
    uint32_t ip;
    size_t k;

    if (key[0] != 4 || !g->listen_v4 || g->listen_fd < 0 ||
        g->n_ban == EWH_HUB_MAX_BANNED)
        return;
    memcpy(&ip, key + 1, 4);
    ip = ntohl(ip);
    /* Never the host's own address (local tools), nor a node's. */
    if (ip == INADDR_LOOPBACK)
        return;
    for (k = 0; k < g->n_known; k++)
        if (g->known[k] == ip)
            return;
    for (k = 0; k < g->n_ban; k++)
        if (g->ban[k].ip == ip)
            return;
    g->ban[g->n_ban].ip = ip;
    g->ban[g->n_ban].until = ewh_mono_ms() + EWH_HUB_BAN_MS;
    g->n_ban++;
    if (s_filter(g) != 0) {
        ewh_log_warn("router: banning an address");
        g->n_ban--;
        return;
    }
    inet_ntop(AF_INET, key + 1, txt, sizeof(txt));
    ewh_log_warnx("router: %s banned for %d ms: more than %d connections in "
                  "handshake from it (its packets dropped at the door)",
                  txt, EWH_HUB_BAN_MS, EWH_HUB_MAX_PENDING_PER_ADDR);
}

/* Bans that ran out end. */
static void
s_unban(struct hub *h, int64_t now)
{
    struct hub_gate *g = &h->gate;
    size_t k, n = g->n_ban;

    for (k = 0; k < g->n_ban; k++)
        if (now >= g->ban[k].until)
            g->ban[k--] = g->ban[--g->n_ban];
    if (g->n_ban != n && s_filter(g) != 0)
        ewh_log_warn("router: lifting a ban");
}

/* The lowest free descriptor (the kernel gives the lowest): below the
 * brake, there is room. */
static bool
s_room(const struct hub_gate *g)
{
    int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

    if (fd < 0)
        return false;
    (void)close(fd);
    return fd < s_brake(g);
}

void
hub_gate_listening(struct hub *h, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    h->gate.listen_fd = fd;
    h->gate.listen_ino = s_ino(fd);
    h->gate.door_closed = false;
    h->gate.filter_on = false;
    h->gate.n_ban = 0;
    h->gate.listen_v4 = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
                        ss.ss_family == AF_INET;
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

/* The peer's address as a key: family, then 4 or 16 bytes. */
static void
s_addr(int fd, uint8_t key[17])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    memset(key, 0, 17);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        key[0] = 6;
        memcpy(key + 1, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    }
}

/* Shut down pending entry i (if its fd is still that socket) and forget
 * it. */
static void
s_cut_pending(struct hub *h, size_t i, const char *why)
{
    struct hub_gate *g = &h->gate;

    if (s_ino(g->p[i].fd) == g->p[i].ino)
        s_cut(h, g->p[i].fd, why);
    s_remove(g, i);
}

/* The pending entry to cut to make room: the oldest of the address that
 * holds most of them (a majority vote, one pass), so that a flood pays
 * with its own connections.  -1 when none is pending. */
static ssize_t
s_victim(const struct hub_gate *g)
{
    size_t i, cand = 0, votes = 0;

    for (i = 0; i < g->n; i++) {
        if (votes == 0) {
            cand = i;
            votes = 1;
        } else if (memcmp(g->p[i].addr, g->p[cand].addr, 17) == 0)
            votes++;
        else
            votes--;
    }
    if (g->n == 0)
        return -1;
    for (i = 0; i < g->n; i++) /* its oldest */
        if (memcmp(g->p[i].addr, g->p[cand].addr, 17) == 0)
            return (ssize_t)i;
    return 0;
}

static void
s_make_room(struct hub *h, const char *why)
{
    ssize_t v = s_victim(&h->gate);

    if (v >= 0)
        s_cut_pending(h, (size_t)v, why);
}

void
hub_gate_accepted(struct hub *h, int fd)
{
    struct hub_gate *g = &h->gate;
    int64_t now = ewh_mono_ms();
    bool low_fd = fd >= g->fd_limit - EWH_HUB_FD_RESERVE;
    uint8_t addr[17];
    size_t i, same = 0, oldest = 0;
    ssize_t v;

    /* Forget entries whose end we did not hear of: never shut down a
     * descriptor that may be someone else's now. */
    while (g->n > 0 && now - g->p[0].at > 2 * EWH_HUB_HANDSHAKE_MS)
        s_remove(g, 0);
    s_addr(fd, addr);
    if (low_fd || fd >= s_brake(g))
        /* Descriptors short: the door closes (the accept queue still
         * comes). */
        s_door(h, true);
    if (low_fd) {
        /* Within the reserve (libzmq accepted a burst ahead of the events
         * we read): two go, so that the count falls back — this one if
         * it is of the address that holds most, and that address's
         * oldest. */
        v = s_victim(g);
        if (v < 0 || memcmp(g->p[v].addr, addr, sizeof(addr)) == 0) {
            s_cut(h, fd, "descriptors kept in reserve");
            s_make_room(h, "descriptors kept in reserve");
            return;
        }
        s_make_room(h, "descriptors kept in reserve");
        s_make_room(h, "descriptors kept in reserve");
    } else if (fd >= s_brake(g))
        s_make_room(h, "descriptors short");
    /* One address may hold only so many: a flood from one place churns
     * through its own connections (its oldest pending one goes), not
     * through another's. */
    for (i = 0; addr[0] != 0 && i < g->n; i++)
        if (memcmp(g->p[i].addr, addr, sizeof(addr)) == 0 && same++ == 0)
            oldest = i;
    if (same >= EWH_HUB_MAX_PENDING_PER_ADDR) {
        s_cut_pending(h, oldest,
                      "too many connections in handshake from one address");
        s_ban(h, addr);
    }
    if (g->n == EWH_HUB_MAX_PENDING)
        s_make_room(h, "too many connections in handshake");
    g->p[g->n].fd = fd;
    g->p[g->n].at = now;
    g->p[g->n].ino = s_ino(fd);
    memcpy(g->p[g->n].addr, addr, sizeof(addr));
    g->n++;
}

static void
s_out_remove(struct hub_gate *g, size_t i)
{
    g->out[i] = g->out[--g->n_out];
}

/* libzmq is out of descriptors (EMFILE, ENFILE): it would try again and
 * again.  Close the door and make room. */
void
hub_gate_accept_failed(struct hub *h, int err)
{
    (void)err;
    s_door(h, true);
    s_make_room(h, "descriptors exhausted");
}

/* ---- inbound: a message libzmq buffers before we see it ---- */

/* Bytes libzmq holds for connection e that we have not read: what the
 * kernel took from the peer (TCP_INFO) less the wire bytes of what we
 * read.  Handshake and heartbeats make it a little more; the floor
 * takes that out.  -1 when it cannot be read. */
static int64_t
s_rx_held(const struct hub_gate_out *e)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    memset(&ti, 0, sizeof(ti));
    if (getsockopt(e->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) +
                  sizeof(ti.tcpi_bytes_received))
        return -1;
    return (int64_t)ti.tcpi_bytes_received - (int64_t)e->rx_read;
}

/* libzmq makes a multipart message visible only once complete and bounds
 * only each part (ZMQ_MAXMSGSIZE): an authenticated peer could make it
 * buffer any amount.  A connection holding more than
 * EWH_HUB_RX_HELD_BYTES received and not yet read (all connections:
 * EWH_HUB_RX_HELD_TOTAL, the largest goes) is shut down: libzmq then
 * drops the incomplete message with the session. */
static void
s_rx_check(struct hub *h)
{
    struct hub_gate *g = &h->gate;
    int64_t total = 0, worst = 0;
    size_t i, wi = 0;

    for (i = 0; i < g->n_out; i++) {
        struct hub_gate_out *e = &g->out[i];
        int64_t held = s_rx_held(e), over;

        if (held < 0)
            continue;
        /* The floor follows a slow rise (heartbeats: tens of bytes a
         * second) and any fall at once. */
        if (!e->rx_floor_set || held < e->rx_floor) {
            e->rx_floor = held;
            e->rx_floor_set = true;
        } else
            e->rx_floor +=
                held - e->rx_floor < 4096 ? held - e->rx_floor : 4096;
        over = held - e->rx_floor;
        total += over;
        if (over > worst) {
            worst = over;
            wi = i;
        }
    }
    /* A connection whose first message is not complete yet is still in
     * the pending list: everything it sent beyond its handshake is held. */
    for (i = 0; i < g->n; i++) {
        struct tcp_info ti;
        socklen_t len = sizeof(ti);

        memset(&ti, 0, sizeof(ti));
        if (getsockopt(g->p[i].fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
            ti.tcpi_bytes_received > EWH_HUB_RX_HELD_BYTES &&
            s_ino(g->p[i].fd) == g->p[i].ino) {
            h->n.bad_frames++;
            ewh_log_warnx("router: cut a connection holding %llu bytes "
                          "received and not yet read (a first message not "
                          "complete, fd %d)",
                          (unsigned long long)ti.tcpi_bytes_received,
                          g->p[i].fd);
            s_cut_pending(h, i, "a first message beyond its limit");
            i--;
        }
    }
    if (worst == 0 || (worst <= (int64_t)EWH_HUB_RX_HELD_BYTES &&
                       total <= (int64_t)EWH_HUB_RX_HELD_TOTAL))
        return;
    if (s_ino(g->out[wi].fd) == g->out[wi].ino) {
        h->n.bad_frames++;
        (void)shutdown(g->out[wi].fd, SHUT_RDWR);
        ewh_log_warnx("router: cut a connection holding %lld bytes received "
                      "and not yet read (a message not complete: "
                      "EWH_HUB_RX_HELD_BYTES %u, fd %d)",
                      (long long)worst, EWH_HUB_RX_HELD_BYTES, g->out[wi].fd);
    }
    s_out_remove(g, wi);
}

void
hub_gate_tick(struct hub *h)
{
    struct hub_gate *g = &h->gate;
    int64_t now = ewh_mono_ms();

    s_rx_check(h);
    s_unban(h, now);
    while (g->n > 0 && now - g->p[0].at > 2 * EWH_HUB_HANDSHAKE_MS)
        s_remove(g, 0);
    if (g->door_closed && now - g->door_at >= 100 && s_room(g))
        s_door(h, false);
}

void
hub_gate_done(struct hub *h, int fd)
{
    struct hub_gate *g = &h->gate;
    size_t i;

    for (i = 0; i < g->n_out; i++)
        if (g->out[i].fd == fd) {
            s_out_remove(g, i);
            break;
        }
    for (i = 0; i < g->n; i++)
        if (g->p[i].fd == fd) {
            s_remove(g, i);
            break;
        }
    /* A connection went: the door opens as soon as there is room (closed
     * 100 ms at least, so that a burst does not flap it). */
    if (g->door_closed && ewh_mono_ms() - g->door_at >= 100 && s_room(g))
        s_door(h, false);
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

uint64_t
hub_gate_wire(size_t len)
{
    /* A CURVE MESSAGE command per part: name (8), nonce (8), flags (1)
     * and MAC (16) around the part, in a ZMTP frame (2 or 9 bytes). */
    return (uint64_t)len + 33 + (len + 33 > 255 ? 9 : 2);
}

static int64_t s_rx_held(const struct hub_gate_out *e);

/* A new entry for fd (rid, or none yet). */
static struct hub_gate_out *
s_out_new(struct hub_gate *g, const uint8_t *rid, size_t rid_len, int fd)
{
    struct hub_gate_out *e, *np;
    int64_t held;

    /* At most one entry per open descriptor. */
    if (g->n_out >= (size_t)g->fd_limit)
        return NULL;
    np = hub_grow(g->out, &g->cap_out, g->n_out + 1, sizeof(*g->out));
    if (np == NULL)
        return NULL; /* untracked: answered as before */
    g->out = np;
    e = &g->out[g->n_out++];
    memset(e, 0, sizeof(*e));
    if (rid_len > 0)
        memcpy(e->rid, rid, rid_len);
    e->rid_len = rid_len;
    e->fd = fd;
    e->ino = s_ino(fd);
    hub_bucket_init(&e->req[HUB_REQ_HELLO]);
    hub_bucket_init(&e->req[HUB_REQ_RECEIPT]);
    if ((held = s_rx_held(e)) >= 0) {
        e->rx_floor = held;
        e->rx_floor_set = true;
    }
    return e;
}

/* fd's peer sent an authenticated message: its IPv4 address is known. */
static void
s_known(struct hub_gate *g, int fd)
{
    uint8_t key[17];
    uint32_t ip;
    size_t k;

    s_addr(fd, key);
    if (key[0] != 4)
        return;
    memcpy(&ip, key + 1, 4);
    ip = ntohl(ip);
    for (k = 0; k < g->n_known; k++)
        if (g->known[k] == ip)
            return;
    if (g->n_known < EWH_MAX_ROSTER_ENTRIES)
        g->known[g->n_known++] = ip;
}

void
hub_gate_seen(struct hub *h, const uint8_t *rid, size_t rid_len, int fd,
              uint64_t wire)
{
    struct hub_gate *g = &h->gate;
    struct hub_gate_out *e;
    size_t i;

    if (fd < 0 || rid_len == 0 || rid_len > HUB_MAX_RID)
        return;
    if ((e = s_out_find(g, rid, rid_len)) != NULL && e->fd == fd) {
        e->rx_read += wire;
        return;
    }
    /* Its first message: authenticated, so no longer pending.  Any
     * other entry of that fd or that id is of a connection that closed
     * (its event not read yet). */
    for (i = 0; i < g->n; i++)
        if (g->p[i].fd == fd) {
            s_remove(g, i);
            break;
        }
    for (i = 0; i < g->n_out; i++)
        if (g->out[i].fd == fd || (g->out[i].rid_len == rid_len &&
                                   memcmp(g->out[i].rid, rid, rid_len) == 0))
            s_out_remove(g, i--);
    s_known(g, fd);
    if ((e = s_out_new(g, rid, rid_len, fd)) != NULL) {
        /* What came before this message (the handshake) is the floor. */
        e->rx_read = wire;
        if (e->rx_floor_set)
            e->rx_floor -= (int64_t)wire;
    }
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
