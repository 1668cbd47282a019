/* queue.c — per-node delivery bookkeeping in memory. */
#include "queue.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct hub_queue {
    struct hub_node n[EWH_MAX_ROSTER_ENTRIES];
    size_t count;
};

/* Index of the first element whose seq is >= seq. */
static size_t
s_lower(const struct hub_seqset *s, uint64_t seq)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((s->v[mid] >> 2) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool
hub_seqset_has(const struct hub_seqset *s, uint64_t seq)
{
    size_t i = s_lower(s, seq);

    return i < s->n && (s->v[i] >> 2) == seq;
}

int
hub_seqset_add(struct hub_seqset *s, uint64_t seq, unsigned tag)
{
    size_t i;

    if (s->v == NULL && (s->v = calloc(EWH_MAX_CREDIT, sizeof(*s->v))) == NULL)
        return -1;
    i = s_lower(s, seq);
    if (i < s->n && (s->v[i] >> 2) == seq)
        return 0;
    if (s->n == EWH_MAX_CREDIT)
        return -1;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
    s->v[i] = seq << 2 | (tag & 3u);
    s->n++;
    return 0;
}

bool
hub_seqset_del(struct hub_seqset *s, uint64_t seq, unsigned *tag)
{
    size_t i = s_lower(s, seq);

    if (i >= s->n || (s->v[i] >> 2) != seq)
        return false;
    if (tag != NULL)
        *tag = (unsigned)(s->v[i] & 3u);
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
    s->n--;
    return true;
}

void
hub_seqset_clear(struct hub_seqset *s)
{
    s->n = 0;
}

hub_queue_t *
hub_queue_new(void)
{
    return calloc(1, sizeof(struct hub_queue));
}

void
hub_queue_destroy(hub_queue_t **qp)
{
    size_t i;

    if (qp == NULL || *qp == NULL)
        return;
    for (i = 0; i < (*qp)->count; i++) {
        free((*qp)->n[i].inflight.v);
        free((*qp)->n[i].relays.v);
    }
    free(*qp);
    *qp = NULL;
}

struct hub_node *
hub_queue_node(hub_queue_t *q, const char *cc, bool create)
{
    struct hub_node *n;
    size_t i;

    for (i = 0; i < q->count; i++)
        if (strcmp(q->n[i].cc, cc) == 0)
            return &q->n[i];
    if (!create || q->count == EWH_MAX_ROSTER_ENTRIES)
        return NULL;
    n = &q->n[q->count++];
    memset(n, 0, sizeof(*n));
    memcpy(n->cc, cc, 2);
    n->fd = -1;
    n->tokens_ms = -1;
    return n;
}

size_t
hub_queue_count(const hub_queue_t *q)
{
    return q->count;
}

struct hub_node *
hub_queue_at(hub_queue_t *q, size_t i)
{
    return i < q->count ? &q->n[i] : NULL;
}

void
hub_queue_disconnect(struct hub_node *n)
{
    n->connected = false;
    n->rid_len = 0;
    n->fd = -1;
    n->credit = 0;
    hub_seqset_clear(&n->inflight);
    hub_seqset_clear(&n->relays);
}

uint64_t
hub_queue_total(const struct hub_node *n)
{
    return n->queued[1] + n->queued[2] + n->queued[3];
}

bool
hub_queue_take_token(struct hub_node *n, uint32_t rate, int64_t now_ms)
{
    if (n->tokens_ms < 0) {
        n->tokens = rate;
        n->tokens_ms = now_ms;
    } else if (now_ms > n->tokens_ms) {
        n->tokens += (double)(now_ms - n->tokens_ms) * rate / 1000.0;
        if (n->tokens > rate)
            n->tokens = rate;
        n->tokens_ms = now_ms;
    }
    if (n->tokens < 1.0)
        return false;
    n->tokens -= 1.0;
    return true;
}

/* Make c the session of n. */
static void
s_use(struct hub_node *n, const struct hub_conn *c)
{
    hub_queue_disconnect(n);
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
s_conn_del(struct hub_node *n, size_t i)
{
    memmove(&n->conns[i], &n->conns[i + 1],
            (n->n_conns - i - 1) * sizeof(n->conns[0]));
    n->n_conns--;
}

struct hub_conn *
hub_queue_conn_hello(struct hub_node *n, const uint8_t *rid, size_t rid_len,
                     int fd, const char *key, uint32_t credit, int64_t now)
{
    struct hub_conn *c;
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
hub_queue_conn_gone(struct hub_node *n, int fd, const uint8_t *rid,
                    size_t rid_len)
{
    bool current;
    size_t i;

    for (i = 0; i < n->n_conns; i++) {
        const struct hub_conn *c = &n->conns[i];
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
    hub_queue_disconnect(n);
    return 3;
}

void
hub_queue_conn_use(struct hub_node *n, const struct hub_conn *c)
{
    s_use(n, c);
}

void
hub_queue_conn_clear(struct hub_node *n)
{
    n->n_conns = 0;
    hub_queue_disconnect(n);
}

bool
hub_queue_conn_cut(const struct hub_conn *c)
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
