/* peers.c — the peer table (per-country state, in memory). */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

struct hub_peers {
    struct hub_peer n[EWH_MAX_ROSTER_ENTRIES];
    size_t count;
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
    p->count++;
    return n;
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
    hub_seqset_clear(n->inflight);
    hub_seqset_clear(n->relays);
}
