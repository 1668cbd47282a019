/* test_peers.c — the peer table (hub/peers.c), the seq set
 * (hub/seqset.c) and the token bucket (hub/bucket.c). */
#include "peers.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static void
test_table(void)
{
    hub_peers_t *p = hub_peers_new();
    struct hub_peer *a, *b;
    char cc[3];
    size_t i;

    CHECK(p != NULL);
    CHECK(hub_peers_get(p, "HR", false) == NULL);
    CHECK(hub_peers_count(p) == 0);
    a = hub_peers_get(p, "HR", true);
    CHECK(a != NULL && strcmp(a->cc, "HR") == 0);
    CHECK(a->fd == -1 && !a->connected && a->inflight != NULL);
    CHECK(hub_peers_get(p, "HR", true) == a);
    CHECK(hub_peers_get(p, "HR", false) == a);
    b = hub_peers_get(p, "RS", true);
    CHECK(b != NULL && b != a);
    CHECK(hub_peers_count(p) == 2);
    CHECK(hub_peers_at(p, 0) == a && hub_peers_at(p, 1) == b);
    CHECK(hub_peers_at(p, 2) == NULL);
    /* full at EWH_MAX_ROSTER_ENTRIES */
    for (i = 2; i < EWH_MAX_ROSTER_ENTRIES; i++) {
        snprintf(cc, sizeof(cc), "%c%c", 'A' + (int)(i / 26),
                 'A' + (int)(i % 26));
        CHECK(hub_peers_get(p, cc, true) != NULL);
    }
    CHECK(hub_peers_count(p) == EWH_MAX_ROSTER_ENTRIES);
    CHECK(hub_peers_get(p, "ZZ", true) == NULL);
    CHECK(hub_peers_get(p, "HR", true) == a); /* existing still found */
    /* a disconnect forgets the connection and what was in flight */
    a->connected = true;
    a->fd = 7;
    a->credit = 10;
    a->rid_len = 5;
    CHECK(hub_seqset_add(a->inflight, 64, 3) == 0);
    CHECK(hub_seqset_add(a->relays, 2, 0) == 0);
    hub_peer_disconnect(a);
    CHECK(!a->connected && a->fd == -1 && a->credit == 0 && a->rid_len == 0);
    CHECK(hub_seqset_size(a->inflight) == 0);
    CHECK(hub_seqset_size(a->relays) == 0);
    hub_peers_destroy(&p);
    CHECK(p == NULL);
    hub_peers_destroy(&p);
}

static void
test_seqset(void)
{
    hub_seqset_t *s = hub_seqset_new();
    size_t counts[4];
    unsigned tag = 9;
    uint64_t i;

    CHECK(s != NULL);
    CHECK(!hub_seqset_has(s, 5));
    CHECK(!hub_seqset_del(s, 5, &tag));
    CHECK(hub_seqset_add(s, 50, 3) == 0);
    CHECK(hub_seqset_add(s, 10, 1) == 0);
    CHECK(hub_seqset_add(s, 30, 2) == 0);
    CHECK(hub_seqset_add(s, 30, 1) == 0); /* present: left as it is */
    CHECK(hub_seqset_size(s) == 3);
    CHECK(hub_seqset_has(s, 10) && hub_seqset_has(s, 30) &&
          hub_seqset_has(s, 50) && !hub_seqset_has(s, 20));
    hub_seqset_tag_counts(s, counts);
    CHECK(counts[0] == 0 && counts[1] == 1 && counts[2] == 1 && counts[3] == 1);
    CHECK(hub_seqset_del(s, 30, &tag) && tag == 2);
    CHECK(!hub_seqset_has(s, 30));
    CHECK(hub_seqset_del(s, 50, NULL));
    CHECK(hub_seqset_size(s) == 1);
    /* large seqs keep their tag apart from the number */
    CHECK(hub_seqset_add(s, UINT64_C(1) << 60, 3) == 0);
    CHECK(hub_seqset_has(s, UINT64_C(1) << 60));
    CHECK(!hub_seqset_has(s, (UINT64_C(1) << 60) + 1));
    hub_seqset_clear(s);
    CHECK(hub_seqset_size(s) == 0 && !hub_seqset_has(s, 10));
    /* at most EWH_MAX_CREDIT, in any order of insertion */
    for (i = 0; i < EWH_MAX_CREDIT; i++)
        CHECK(hub_seqset_add(s, (i * 7919) % EWH_MAX_CREDIT, 1) == 0);
    CHECK(hub_seqset_size(s) == EWH_MAX_CREDIT);
    CHECK(hub_seqset_add(s, EWH_MAX_CREDIT + 1, 1) == -1);
    CHECK(hub_seqset_add(s, 3, 1) == 0); /* present: not an add */
    for (i = 0; i < EWH_MAX_CREDIT; i++)
        CHECK(hub_seqset_has(s, i));
    hub_seqset_tag_counts(s, counts);
    CHECK(counts[1] == EWH_MAX_CREDIT);
    hub_seqset_destroy(&s);
    CHECK(s == NULL);
}

static void
test_bucket(void)
{
    struct hub_bucket b;
    int i, n;

    hub_bucket_init(&b);
    /* full at first use: one second of burst */
    for (n = 0; hub_bucket_take(&b, 10, 1000); n++)
        CHECK(n < 100);
    CHECK(n == 10);
    /* 100 ms later: one token */
    CHECK(!hub_bucket_take(&b, 10, 1050));
    CHECK(hub_bucket_take(&b, 10, 1100));
    CHECK(!hub_bucket_take(&b, 10, 1100));
    /* a long pause refills to the burst, no more */
    for (n = 0, i = 0; i < 100 && hub_bucket_take(&b, 10, 60000); i++)
        n++;
    CHECK(n == 10);
    /* time going backwards gives nothing */
    CHECK(!hub_bucket_take(&b, 10, 500));
}

int
main(void)
{
    RUN(test_table);
    RUN(test_seqset);
    RUN(test_bucket);
    return 0;
}
