/* peers.c — the peer table (per-country state, in memory). */
#include "peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct hub_peers {
    struct hub_peer n[EWH_MAX_ROSTER_ENTRIES];
    size_t count;
    /* The run's first count of every country's waiting bytes (admit.c):
     * for countries with no entry yet, kept for when they get one. */
    bool budgets_known;
    struct s_count {
        char cc[3];
        uint64_t for_, from;
    } cnt[HUB_PEERS_MAX_COUNTS];
    size_t n_cnt;
    bool cnt_full; /* a country's count was not kept: not known */
    int64_t budgets_at_ms;
};

hub_peers_t *
hub_peers_new(void)
{
    return calloc(1, sizeof(struct hub_peers));
}

void
hub_peers_destroy(hub_peers_t **pp)
{
    size_t i;

    if (pp == NULL || *pp == NULL)
        return;
    for (i = 0; i < (*pp)->count; i++) {
        hub_seqset_destroy(&(*pp)->n[i].inflight);
        hub_seqset_destroy(&(*pp)->n[i].relays);
    }
    free(*pp);
    *pp = NULL;
}

struct hub_peer *
hub_peers_get(hub_peers_t *p, const char *cc, bool create)
{
    struct hub_peer *n;
    size_t i;

    for (i = 0; i < p->count; i++)
        if (strcmp(p->n[i].cc, cc) == 0)
            return &p->n[i];
    if (!create || p->count == EWH_MAX_ROSTER_ENTRIES)
        return NULL;
    n = &p->n[p->count];
    memset(n, 0, sizeof(*n));
    if ((n->inflight = hub_seqset_new()) == NULL ||
        (n->relays = hub_seqset_new()) == NULL) {
        hub_seqset_destroy(&n->inflight);
        return NULL;
    }
    memcpy(n->cc, cc, 2);
    n->fd = -1;
    hub_bucket_init(&n->bucket);
    hub_bucket_init(&n->audit);
    hub_bucket_init(&n->audit_no);
    if (p->budgets_known) {
        /* Its count from the run's first, or none waiting then. */
        n->budget_known = !p->cnt_full;
        for (i = 0; i < p->n_cnt; i++)
            if (memcmp(p->cnt[i].cc, cc, 2) == 0) {
                n->bytes_for = p->cnt[i].for_;
                n->bytes_from = p->cnt[i].from;
                n->budget_known = true;
            }
        n->budget_exact_ms = p->budgets_at_ms;
    }
    p->count++;
    return n;
}

void
hub_peers_budgets_begin(hub_peers_t *p)
{
    size_t i;

    for (i = 0; i < p->count; i++)
        p->n[i].bytes_for = p->n[i].bytes_from = 0;
    p->n_cnt = 0;
    p->cnt_full = false;
}

void
hub_peers_budget_count(hub_peers_t *p, const char *cc, bool for_,
                       uint64_t bytes)
{
    struct hub_peer *n = hub_peers_get(p, cc, false);
    size_t i;

    if (n != NULL) {
        *(for_ ? &n->bytes_for : &n->bytes_from) = bytes;
        return;
    }
    for (i = 0; i < p->n_cnt; i++)
        if (memcmp(p->cnt[i].cc, cc, 2) == 0)
            break;
    if (i == p->n_cnt) {
        if (p->n_cnt == HUB_PEERS_MAX_COUNTS) {
            p->cnt_full = true;
            return;
        }
        memset(&p->cnt[i], 0, sizeof(p->cnt[i]));
        memcpy(p->cnt[i].cc, cc, 2);
        p->n_cnt++;
    }
    *(for_ ? &p->cnt[i].for_ : &p->cnt[i].from) = bytes;
}

void
hub_peers_budgets_known(hub_peers_t *p, int64_t at_ms)
{
    size_t i;

    p->budgets_known = true;
    p->budgets_at_ms = at_ms;
    for (i = 0; i < p->count; i++) {
        p->n[i].budget_known = true;
        p->n[i].budget_exact_ms = at_ms;
    }
}

bool
hub_peers_budgets_are_known(const hub_peers_t *p)
{
    return p->budgets_known;
}

size_t
hub_peers_count(const hub_peers_t *p)
{
    return p->count;
}

struct hub_peer *
hub_peers_at(hub_peers_t *p, size_t i)
{
    return i < p->count ? &p->n[i] : NULL;
}

void
hub_peer_disconnect(struct hub_peer *n)
{
    n->connected = false;
    n->rid_len = 0;
    n->fd = -1;
    n->credit = 0;
    memset(&n->link, 0, sizeof(n->link));
    hub_seqset_clear(n->inflight);
    hub_seqset_clear(n->relays);
}

/* ---- connections ---- */

/* Make c the session of n. */
static void
s_use(struct hub_peer *n, const struct hub_peer_conn *c)
{
    hub_peer_disconnect(n);
    snprintf(n->key, sizeof(n->key), "%s", c->key);
    memcpy(n->rid, c->rid, c->rid_len);
    n->rid_len = c->rid_len;
    n->fd = c->fd;
    n->credit = c->credit;
    n->connected = true;
    n->connected_at = c->at;
    n->want_fill = true;
}

static void
s_conn_del(struct hub_peer *n, size_t i)
{
    memmove(&n->conns[i], &n->conns[i + 1],
            (n->n_conns - i - 1) * sizeof(n->conns[0]));
    n->n_conns--;
}

struct hub_peer_conn *
hub_peer_conn_hello(struct hub_peer *n, const uint8_t *rid, size_t rid_len,
                    int fd, const char *key, uint32_t credit, int64_t now)
{
    struct hub_peer_conn *c;
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    size_t i;

    if (rid_len > HUB_MAX_RID)
        rid_len = HUB_MAX_RID;
    for (i = 0; i < n->n_conns; i++)
        if ((n->conns[i].rid_len == rid_len &&
             memcmp(n->conns[i].rid, rid, rid_len) == 0) ||
            (fd >= 0 && n->conns[i].fd == fd))
            s_conn_del(n, i--);
    if (n->n_conns == EWH_MAX_NODE_CONNS)
        s_conn_del(n, 0);
    c = &n->conns[n->n_conns++];
    memset(c, 0, sizeof(*c));
    memcpy(c->rid, rid, rid_len);
    c->rid_len = rid_len;
    c->fd = fd;
    snprintf(c->key, sizeof(c->key), "%s", key);
    c->credit = credit;
    c->at = now;
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&sa, &sl) == 0 &&
        sl <= sizeof(c->peer)) {
        memcpy(c->peer, &sa, sl);
        c->peer_len = (uint32_t)sl;
    }
    s_use(n, c);
    return c;
}

int
hub_peer_conn_gone(struct hub_peer *n, int fd, const uint8_t *rid,
                   size_t rid_len)
{
    bool current;
    size_t i;

    for (i = 0; i < n->n_conns; i++) {
        const struct hub_peer_conn *c = &n->conns[i];
        if (fd >= 0
                ? c->fd == fd
                : c->rid_len == rid_len && memcmp(c->rid, rid, rid_len) == 0)
            break;
    }
    if (i == n->n_conns)
        return 0;
    current = n->connected && n->rid_len == n->conns[i].rid_len &&
              memcmp(n->rid, n->conns[i].rid, n->rid_len) == 0;
    s_conn_del(n, i);
    if (!current)
        return 1;
    /* The newest connection not being cut takes over. */
    for (i = n->n_conns; i > 0; i--)
        if (n->conns[i - 1].cut_at_ms == 0) {
            s_use(n, &n->conns[i - 1]);
            return 2;
        }
    hub_peer_disconnect(n);
    return 3;
}

void
hub_peer_conn_use(struct hub_peer *n, const struct hub_peer_conn *c)
{
    s_use(n, c);
}

void
hub_peer_conn_clear(struct hub_peer *n)
{
    n->n_conns = 0;
    hub_peer_disconnect(n);
}

bool
hub_peer_conn_cut(const struct hub_peer_conn *c)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);

    /* The fd is libzmq's: never close it, only shut the connection down,
     * and only while it is still the connection seen at hello (an fd
     * number is reused once libzmq closes it). */
    if (c->fd < 0 || c->peer_len == 0 ||
        getpeername(c->fd, (struct sockaddr *)&sa, &sl) != 0 ||
        sl != c->peer_len || memcmp(&sa, c->peer, sl) != 0)
        return false;
    return shutdown(c->fd, SHUT_RDWR) == 0;
}
