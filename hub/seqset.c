/* seqset.c — a sorted array of seq << 2 | tag. */
#include "seqset.h"

#include <stdlib.h>
#include <string.h>

#include "ewh/limits.h"

struct hub_seqset {
    uint64_t *v;  /* seq << 2 | tag, sorted by seq; EWH_MAX_CREDIT slots */
    uint32_t *sz; /* the bytes of each, in v's order */
    size_t n;
    uint64_t bytes; /* sum of sz */
};

hub_seqset_t *
hub_seqset_new(void)
{
    return calloc(1, sizeof(struct hub_seqset));
}

void
hub_seqset_destroy(hub_seqset_t **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    free((*sp)->v);
    free((*sp)->sz);
    free(*sp);
    *sp = NULL;
}

/* Index of the first element whose seq is >= seq. */
static size_t
s_lower(const hub_seqset_t *s, uint64_t seq)
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
hub_seqset_has(const hub_seqset_t *s, uint64_t seq)
{
    size_t i = s_lower(s, seq);

    return i < s->n && (s->v[i] >> 2) == seq;
}

int
hub_seqset_add_sized(hub_seqset_t *s, uint64_t seq, unsigned tag,
                     uint32_t bytes)
{
    size_t i;

    if (s->v == NULL && (s->v = calloc(EWH_MAX_CREDIT, sizeof(*s->v))) == NULL)
        return -1;
    if (s->sz == NULL &&
        (s->sz = calloc(EWH_MAX_CREDIT, sizeof(*s->sz))) == NULL)
        return -1;
    i = s_lower(s, seq);
    if (i < s->n && (s->v[i] >> 2) == seq)
        return 0;
    if (s->n == EWH_MAX_CREDIT)
        return -1;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
    memmove(&s->sz[i + 1], &s->sz[i], (s->n - i) * sizeof(*s->sz));
    s->v[i] = seq << 2 | (tag & 3u);
    s->sz[i] = bytes;
    s->bytes += bytes;
    s->n++;
    return 0;
}

int
hub_seqset_add(hub_seqset_t *s, uint64_t seq, unsigned tag)
{
    return hub_seqset_add_sized(s, seq, tag, 0);
}

uint64_t
hub_seqset_bytes(const hub_seqset_t *s)
{
    return s->bytes;
}

bool
hub_seqset_del(hub_seqset_t *s, uint64_t seq, unsigned *tag)
{
    size_t i = s_lower(s, seq);

    if (i >= s->n || (s->v[i] >> 2) != seq)
        return false;
    if (tag != NULL)
        *tag = (unsigned)(s->v[i] & 3u);
    s->bytes -= s->sz[i];
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
    memmove(&s->sz[i], &s->sz[i + 1], (s->n - i - 1) * sizeof(*s->sz));
    s->n--;
    return true;
}

void
hub_seqset_clear(hub_seqset_t *s)
{
    s->n = 0;
    s->bytes = 0;
}

size_t
hub_seqset_size(const hub_seqset_t *s)
{
    return s->n;
}

void
hub_seqset_tag_counts(const hub_seqset_t *s, size_t counts[4])
{
    size_t i;

    memset(counts, 0, 4 * sizeof(*counts));
    for (i = 0; i < s->n; i++)
        counts[s->v[i] & 3u]++;
}
