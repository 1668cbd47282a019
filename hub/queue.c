/* queue.c — per-node delivery bookkeeping in memory. */
#include "queue.h"

#include <string.h>

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
