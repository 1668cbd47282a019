/* lanes.c — the order of each country's queued deliveries, in memory. */
#include "lanes.h"

#include <stdlib.h>
#include <string.h>

#include "ewh/limits.h"

#define S_LEVELS 3
#define S_TOMB   (UINT64_C(1) << 63) /* delivered or expired, not yet dropped */
#define S_MINCAP 64
/* An empty lane gives back an array larger than this. */
#define S_KEEPCAP 4096

struct s_lane {
    uint64_t *v; /* sorted; v[head..end) in use */
    size_t head, end, cap;
    uint64_t live; /* entries without S_TOMB */
};

struct s_country {
    char cc[2];
    struct s_lane lane[S_LEVELS];
};

struct hub_lanes {
    struct s_country c[EWH_MAX_ROSTER_ENTRIES];
    size_t n;
};

hub_lanes_t *
hub_lanes_new(void)
{
    return calloc(1, sizeof(struct hub_lanes));
}

void
hub_lanes_destroy(hub_lanes_t **lp)
{
    size_t i, k;

    if (lp == NULL || *lp == NULL)
        return;
    for (i = 0; i < (*lp)->n; i++)
        for (k = 0; k < S_LEVELS; k++)
            free((*lp)->c[i].lane[k].v);
    free(*lp);
    *lp = NULL;
}

void
hub_lanes_clear(hub_lanes_t *l)
{
    size_t i, k;

    for (i = 0; i < l->n; i++)
        for (k = 0; k < S_LEVELS; k++) {
            struct s_lane *ln = &l->c[i].lane[k];
            ln->head = ln->end = 0;
            ln->live = 0;
        }
}

static struct s_country *
s_country(const hub_lanes_t *l, const char *cc)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (memcmp(l->c[i].cc, cc, 2) == 0)
            return (struct s_country *)&l->c[i];
    return NULL;
}

int
hub_lanes_add(hub_lanes_t *l, const char *cc, int level, uint64_t seq)
{
    struct s_country *c = s_country(l, cc);
    struct s_lane *ln;

    if (level < 1 || level > S_LEVELS || (seq & S_TOMB) != 0)
        return -1;
    if (c == NULL) {
        if (l->n == EWH_MAX_ROSTER_ENTRIES)
            return -1;
        c = &l->c[l->n++];
        memset(c, 0, sizeof(*c));
        memcpy(c->cc, cc, 2);
    }
    ln = &c->lane[level - 1];
    if (ln->end > ln->head && (ln->v[ln->end - 1] & ~S_TOMB) >= seq)
        return -1;
    if (ln->end == ln->cap) {
        if (ln->head >= ln->cap / 2 && ln->head > 0) {
            memmove(ln->v, ln->v + ln->head,
                    (ln->end - ln->head) * sizeof(*ln->v));
            ln->end -= ln->head;
            ln->head = 0;
        } else {
            size_t ncap = ln->cap ? ln->cap * 2 : S_MINCAP;
            uint64_t *nv = realloc(ln->v, ncap * sizeof(*nv));
            if (nv == NULL)
                return -1;
            ln->v = nv;
            ln->cap = ncap;
        }
    }
    ln->v[ln->end++] = seq;
    ln->live++;
    return 0;
}

/* Index in [head, end) of seq, or end. */
static size_t
s_find(const struct s_lane *ln, uint64_t seq)
{
    size_t lo = ln->head, hi = ln->end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((ln->v[mid] & ~S_TOMB) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ln->end && (ln->v[lo] & ~S_TOMB) == seq ? lo : ln->end;
}

bool
hub_lanes_del(hub_lanes_t *l, const char *cc, uint64_t seq)
{
    struct s_country *c = s_country(l, cc);
    size_t k, i;

    if (c == NULL)
        return false;
    for (k = 0; k < S_LEVELS; k++) {
        struct s_lane *ln = &c->lane[k];
        if ((i = s_find(ln, seq)) == ln->end || (ln->v[i] & S_TOMB) != 0)
            continue;
        ln->v[i] |= S_TOMB;
        ln->live--;
        while (ln->head < ln->end && (ln->v[ln->head] & S_TOMB) != 0)
            ln->head++;
        if (ln->head == ln->end) {
            ln->head = ln->end = 0;
            if (ln->cap > S_KEEPCAP) {
                free(ln->v);
                ln->v = NULL;
                ln->cap = 0;
            }
        }
        return true;
    }
    return false;
}

uint64_t
hub_lanes_count(const hub_lanes_t *l, const char *cc, int level)
{
    const struct s_country *c = s_country(l, cc);

    if (c == NULL || level < 1 || level > S_LEVELS)
        return 0;
    return c->lane[level - 1].live;
}

void
hub_lanes_counts(const hub_lanes_t *l, hub_lanes_count_fn fn, void *ctx)
{
    char cc[3] = {0};
    size_t i;
    int k;

    for (i = 0; i < l->n; i++)
        for (k = 1; k <= S_LEVELS; k++)
            if (l->c[i].lane[k - 1].live > 0) {
                memcpy(cc, l->c[i].cc, 2);
                fn(ctx, cc, k, l->c[i].lane[k - 1].live);
            }
}

int
hub_lanes_walk(hub_lanes_t *l, const char *cc, int level, hub_lanes_fn fn,
               void *ctx)
{
    struct s_country *c = s_country(l, cc);
    struct s_lane *ln;
    size_t i;
    int rc;

    if (c == NULL || level < 1 || level > S_LEVELS)
        return 0;
    ln = &c->lane[level - 1];
    for (i = ln->head; i < ln->end; i++) {
        if ((ln->v[i] & S_TOMB) != 0)
            continue;
        if ((rc = fn(ctx, ln->v[i])) != 0)
            return rc;
    }
    return 0;
}
