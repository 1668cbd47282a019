/* test_lanes.c — the hub's in-memory order of queued deliveries
 * (hub/lanes.c), against a plain model under random adds and removals. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/lanes.h"
#include "check.h"
#include "ewh/limits.h"

#define N_CC  5
#define N_SEQ 20000

static const char *const s_cc[N_CC] = {"RS", "HR", "BG", "GR", "AL"};

/* The model: for each seq, its country, level and whether it waits. */
static struct {
    int cc, level;
    bool live;
} s_model[N_SEQ];

struct s_seen {
    uint64_t v[N_SEQ];
    size_t n, stop_after;
};

static int
s_collect(void *ctx, uint64_t seq)
{
    struct s_seen *s = ctx;

    s->v[s->n++] = seq;
    return s->n == s->stop_after ? 7 : 0;
}

static void
s_check(hub_lanes_t *l, uint64_t upto)
{
    static struct s_seen seen;
    int c, level;
    uint64_t i;

    for (c = 0; c < N_CC; c++)
        for (level = 1; level <= 3; level++) {
            size_t want = 0;
            seen.n = 0;
            seen.stop_after = 0;
            CHECK(hub_lanes_walk(l, s_cc[c], level, s_collect, &seen) == 0);
            for (i = 0; i < upto; i++)
                if (s_model[i].live && s_model[i].cc == c &&
                    s_model[i].level == level) {
                    CHECK(want < seen.n && seen.v[want] == i);
                    want++;
                }
            CHECK(seen.n == want);
            CHECK(hub_lanes_count(l, s_cc[c], level) == want);
        }
}

static void
test_against_model(void)
{
    hub_lanes_t *l = hub_lanes_new();
    uint64_t next = 0, i;
    size_t round;

    CHECK(l != NULL);
    srand(20261122);
    for (round = 0; round < 40; round++) {
        /* A burst of new seqs, then removals: mostly the oldest (as
         * deliveries go), some anywhere (in flight, expired). */
        size_t adds = (size_t)(rand() % 600), dels = (size_t)(rand() % 700);
        for (i = 0; i < adds && next < N_SEQ; i++, next++) {
            s_model[next].cc = rand() % N_CC;
            s_model[next].level = 1 + rand() % 3;
            s_model[next].live = true;
            CHECK(hub_lanes_add(l, s_cc[s_model[next].cc], s_model[next].level,
                                next) == 0);
        }
        for (i = 0; i < dels && next > 0; i++) {
            uint64_t seq = rand() % 4 == 0 ? (uint64_t)rand() % next : 0;
            while (seq < next && !s_model[seq].live && rand() % 4 != 0)
                seq++;
            if (seq >= next)
                continue;
            CHECK(hub_lanes_del(l, s_cc[s_model[seq].cc], seq) ==
                  s_model[seq].live);
            s_model[seq].live = false;
            /* Twice, or from another country: nothing to remove. */
            CHECK(!hub_lanes_del(l, s_cc[s_model[seq].cc], seq));
        }
        s_check(l, next);
    }
    /* Walks stop when told, with fn's value. */
    {
        static struct s_seen seen;
        seen.stop_after = 1;
        for (i = 0; i < next; i++)
            if (s_model[i].live)
                break;
        CHECK(i < next);
        CHECK(hub_lanes_walk(l, s_cc[s_model[i].cc], s_model[i].level,
                             s_collect, &seen) == 7);
        CHECK(seen.n == 1 && seen.v[0] == i);
    }
    /* Out of order, tombstone bit, bad level: refused, nothing changes. */
    CHECK(hub_lanes_add(l, "RS", 1, 0) != 0 || next == 0);
    CHECK(hub_lanes_add(l, "RS", 1, UINT64_C(1) << 63) != 0);
    CHECK(hub_lanes_add(l, "RS", 0, next + 1) != 0);
    CHECK(hub_lanes_add(l, "RS", 4, next + 1) != 0);
    s_check(l, next);
    /* Emptied lanes stay usable; clear forgets everything. */
    for (i = 0; i < next; i++)
        if (s_model[i].live) {
            CHECK(hub_lanes_del(l, s_cc[s_model[i].cc], i));
            s_model[i].live = false;
        }
    s_check(l, next);
    CHECK(hub_lanes_add(l, "HR", 3, next) == 0);
    CHECK(hub_lanes_count(l, "HR", 3) == 1);
    hub_lanes_clear(l);
    CHECK(hub_lanes_count(l, "HR", 3) == 0);
    CHECK(hub_lanes_add(l, "HR", 3, 1) == 0);
    hub_lanes_destroy(&l);
    CHECK(l == NULL);
    hub_lanes_destroy(&l);
}

/* A lane whose front is delivered while new seqs keep coming reuses its
 * array (the live part moves to the start) instead of growing. */
static void
test_front_reused(void)
{
    static struct s_seen seen;
    hub_lanes_t *l = hub_lanes_new();
    uint64_t next = 100, first = 100, i;
    size_t round;

    CHECK(l != NULL);
    for (round = 0; round < 50; round++) {
        for (i = 0; i < 37; i++)
            CHECK(hub_lanes_add(l, "GR", 1, next++) == 0);
        for (i = 0; i < 31; i++)
            CHECK(hub_lanes_del(l, "GR", first++));
        seen.n = 0;
        seen.stop_after = 0;
        CHECK(hub_lanes_walk(l, "GR", 1, s_collect, &seen) == 0);
        CHECK(seen.n == next - first);
        for (i = 0; i < seen.n; i++)
            CHECK(seen.v[i] == first + i);
    }
    hub_lanes_destroy(&l);
}

static void
test_country_limit(void)
{
    hub_lanes_t *l = hub_lanes_new();
    char cc[3];
    unsigned i;

    CHECK(l != NULL);
    for (i = 0; i < EWH_MAX_ROSTER_ENTRIES; i++) {
        snprintf(cc, sizeof(cc), "%c%c", 'A' + i / 26, 'A' + i % 26);
        CHECK(hub_lanes_add(l, cc, 2, i) == 0);
    }
    CHECK(hub_lanes_add(l, "ZZ", 2, 1000) != 0);
    CHECK(hub_lanes_count(l, "ZZ", 2) == 0);
    CHECK(hub_lanes_count(l, "AA", 2) == 1);
    hub_lanes_destroy(&l);
}

int
main(void)
{
    RUN(test_against_model);
    RUN(test_front_reused);
    RUN(test_country_limit);
    return 0;
}
