/* test_peer_conns.c — the hub's per-connection sessions (hub/peers.c): one
 * connection of a country going away never ends another's session. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peers.h"
#include "check.h"
#include "ewh/limits.h"

static const uint8_t s_rid_a[] = {0, 1, 2, 3, 4};
static const uint8_t s_rid_b[] = {0, 9, 9, 9, 9};

static struct hub_peer *
s_node(hub_peers_t **q)
{
    *q = hub_peers_new();
    CHECK(*q != NULL);
    return hub_peers_get(*q, "RS", true);
}

static bool
s_session_is(const struct hub_peer *n, const uint8_t *rid, size_t len)
{
    return n->connected && n->rid_len == len && memcmp(n->rid, rid, len) == 0;
}

static void
test_stray_leaves(void)
{
    hub_peers_t *q;
    struct hub_peer *n = s_node(&q);

    (void)hub_peer_conn_hello(n, s_rid_a, sizeof(s_rid_a), 10, "ka", 256, 100);
    CHECK(hub_seqset_add(n->inflight, 7, 1) == 0);
    /* A second connection: it is the session now. */
    (void)hub_peer_conn_hello(n, s_rid_b, sizeof(s_rid_b), 11, "ka", 8, 200);
    CHECK(s_session_is(n, s_rid_b, sizeof(s_rid_b)));
    CHECK(n->credit == 8 && n->n_conns == 2 &&
          hub_seqset_size(n->inflight) == 0);
    /* It goes: the session moves back to the first, with its credit. */
    CHECK(hub_peer_conn_gone(n, 11, NULL, 0) == 2);
    CHECK(s_session_is(n, s_rid_a, sizeof(s_rid_a)));
    CHECK(n->credit == 256 && n->connected_at == 100 && n->want_fill);
    /* An fd nobody has: nothing happens. */
    CHECK(hub_peer_conn_gone(n, 12, NULL, 0) == 0);
    CHECK(s_session_is(n, s_rid_a, sizeof(s_rid_a)));
    /* The last one goes: disconnected. */
    CHECK(hub_peer_conn_gone(n, 10, NULL, 0) == 3);
    CHECK(!n->connected && n->n_conns == 0);
    hub_peers_destroy(&q);
}

static void
test_old_connection_noticed_late(void)
{
    hub_peers_t *q;
    struct hub_peer *n = s_node(&q);

    (void)hub_peer_conn_hello(n, s_rid_a, sizeof(s_rid_a), 10, "ka", 256, 100);
    (void)hub_peer_conn_hello(n, s_rid_b, sizeof(s_rid_b), 11, "ka", 256, 200);
    /* The old connection is seen dead after the reconnect: the session
     * (the newest hello) stays, in flight and all. */
    CHECK(hub_seqset_add(n->inflight, 7, 1) == 0);
    CHECK(hub_peer_conn_gone(n, 10, NULL, 0) == 1);
    CHECK(s_session_is(n, s_rid_b, sizeof(s_rid_b)));
    CHECK(hub_seqset_size(n->inflight) == 1 && n->n_conns == 1);
    /* By routing id (a send found it unreachable). */
    CHECK(hub_peer_conn_gone(n, -1, s_rid_b, sizeof(s_rid_b)) == 3);
    hub_peers_destroy(&q);
}

static void
test_same_rid_or_fd_replaces(void)
{
    hub_peers_t *q;
    struct hub_peer *n = s_node(&q);

    (void)hub_peer_conn_hello(n, s_rid_a, sizeof(s_rid_a), 10, "ka", 1, 1);
    (void)hub_peer_conn_hello(n, s_rid_a, sizeof(s_rid_a), 10, "ka", 2, 2);
    CHECK(n->n_conns == 1 && n->credit == 2);
    /* An fd reused by a new connection: the old record is surely dead. */
    (void)hub_peer_conn_hello(n, s_rid_b, sizeof(s_rid_b), 10, "ka", 3, 3);
    CHECK(n->n_conns == 1 && s_session_is(n, s_rid_b, sizeof(s_rid_b)));
    hub_peers_destroy(&q);
}

static void
test_limit_and_cut_marks(void)
{
    hub_peers_t *q;
    struct hub_peer *n = s_node(&q);
    uint8_t rid[4] = {0, 0, 0, 0};
    unsigned i;

    for (i = 0; i < EWH_MAX_NODE_CONNS + 3; i++) {
        rid[3] = (uint8_t)i;
        (void)hub_peer_conn_hello(n, rid, sizeof(rid), 20 + (int)i, "ka", 1, i);
    }
    CHECK(n->n_conns == EWH_MAX_NODE_CONNS);
    CHECK(n->conns[0].fd == 23); /* the oldest were forgotten */
    /* A connection being cut never takes over the session. */
    n->conns[EWH_MAX_NODE_CONNS - 2].cut_at_ms = 1;
    rid[3] = (uint8_t)(EWH_MAX_NODE_CONNS + 2);
    CHECK(hub_peer_conn_gone(n, -1, rid, sizeof(rid)) == 2);
    CHECK(n->fd == 20 + (int)EWH_MAX_NODE_CONNS); /* not the marked one */
    hub_peers_destroy(&q);
}

static void
test_cut_checks_the_peer(void)
{
    struct hub_peer_conn c;
    int sv[2];

    /* A socketpair has no peer address getpeername() can compare: never
     * cut.  A recorded peer that differs from the fd's: never cut. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    memset(&c, 0, sizeof(c));
    c.fd = sv[0];
    CHECK(!hub_peer_conn_cut(&c));
    c.peer_len = 8;
    memset(c.peer, 0x55, sizeof(c.peer));
    CHECK(!hub_peer_conn_cut(&c));
    c.fd = -1;
    CHECK(!hub_peer_conn_cut(&c));
    close(sv[0]);
    close(sv[1]);
}

int
main(void)
{
    RUN(test_stray_leaves);
    RUN(test_old_connection_noticed_late);
    RUN(test_same_rid_or_fd_replaces);
    RUN(test_limit_and_cut_marks);
    RUN(test_cut_checks_the_peer);
    return 0;
}
