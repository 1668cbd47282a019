/* cmd_status_fed.c — the federation part of `ewhub status`: the peer
 * links (up, queued, stalled) and their counters by reason. */
#include "cmd_status_fed.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct s_fed {
    hub_store_t *st;
    json_t *links;    /* array */
    json_t *counters; /* peer -> {what: n | {reason: n}} */
    int rc;
    struct ewh_err *err;
};

static int
s_peer(void *ctx, const struct hub_fed_peer_row *p)
{
    struct s_fed *f = ctx;
    uint64_t q = 0, r = 0;
    json_t *c;

    if (hub_store_fed_out_queued(f->st, p->region, &q, f->err) != 0 ||
        hub_store_fed_relay_queued(f->st, p->region, &r, f->err) != 0) {
        f->rc = -1;
        return 1;
    }
    c = json_object_get(f->counters, p->region);
    json_array_append_new(
        f->links,
        json_pack("{s:s, s:s, s:I, s:I, s:O}", "peer", p->region, "endpoint",
                  p->endpoint, "queued", (json_int_t)q, "receipts_waiting",
                  (json_int_t)r, "counters", c != NULL ? c : json_object()));
    return 0;
}

json_t *
hub_status_fed(hub_store_t *st, json_t *live, struct ewh_err *err)
{
    struct s_fed f = {.st = st, .err = err};
    json_t *o, *u;

    if (live != NULL && (o = json_object_get(live, "federation")) != NULL)
        return json_incref(o);
    if ((f.counters = hub_store_fed_counts_json(st, err)) == NULL)
        return NULL;
    f.links = json_array();
    if (hub_store_fed_peer_walk(st, s_peer, &f, err) != 0 || f.rc != 0) {
        json_decref(f.links);
        json_decref(f.counters);
        return NULL;
    }
    u = json_object_get(f.counters, "-");
    o = json_pack("{s:O, s:o}", "links", f.links, "unrouted",
                  u != NULL ? json_incref(u) : json_object());
    {
        /* Counters of peers no longer enrolled. */
        json_t *former = json_object(), *v, *l;
        const char *k;
        size_t i;
        json_object_foreach(f.counters, k, v)
        {
            bool is_peer = strcmp(k, "-") == 0;
            json_array_foreach(f.links, i, l) is_peer =
                is_peer ||
                strcmp(json_string_value(json_object_get(l, "peer")), k) == 0;
            if (!is_peer)
                json_object_set(former, k, v);
        }
        json_object_set_new(o, "former", former);
    }
    json_decref(f.links);
    json_decref(f.counters);
    return o;
}

static void
s_counts(const json_t *c)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)c, k, v)
    {
        if (json_is_integer(v)) {
            printf(" %s %lld", k, (long long)json_integer_value(v));
        } else if (json_is_object(v)) {
            const char *r;
            json_t *n;
            bool first = true;
            printf(" %s{", k);
            json_object_foreach(v, r, n)
            {
                printf("%s%s %lld", first ? "" : ", ", r,
                       (long long)json_integer_value(n));
                first = false;
            }
            printf("}");
        }
    }
}

void
hub_status_fed_print(const json_t *fed)
{
    const json_t *links = json_object_get(fed, "links"), *l, *u;
    size_t i;

    if (fed == NULL || (json_array_size(links) == 0 &&
                        json_object_size(json_object_get(fed, "former")) == 0))
        return;
    if (json_string_value(json_object_get(fed, "region")) != NULL)
        printf("\nfederation (region %s):\n",
               json_string_value(json_object_get(fed, "region")));
    else
        printf("\nfederation (the hub is not running: stored figures):\n");
    json_array_foreach(links, i, l)
    {
        json_t *up = json_object_get(l, "up");
        printf("  %-16s %s%s queued %lld receipts %lld\n   ",
               json_string_value(json_object_get(l, "peer")),
               up == NULL         ? "(hub not running)"
               : json_is_true(up) ? "up"
                                  : "DOWN",
               json_is_true(json_object_get(l, "stalled")) ? " STALLED" : "",
               (long long)json_integer_value(json_object_get(l, "queued")),
               (long long)json_integer_value(
                   json_object_get(l, "receipts_waiting")));
        s_counts(json_object_get(l, "counters"));
        printf("\n");
    }
    u = json_object_get(fed, "unrouted");
    if (u != NULL && json_object_size(u) > 0) {
        printf("  (no link)       ");
        s_counts(u);
        printf("\n");
    }
    {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(fed, "former"), k, v)
        {
            printf("  %-16s (no longer a peer)\n   ", k);
            s_counts(v);
            printf("\n");
        }
    }
}
