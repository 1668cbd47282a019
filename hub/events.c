/* events.c — traffic events (metadata only: ids, countries, level, size,
 * codes) waiting for the next transaction.  The batch writes them with
 * its submits (batch.c); the tick writes those no batch carried. */
#include "hubint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

/* Remember a dropped event that the store's counters count. */
static void
s_lost(struct hub_evq *q, int kind, const char *code)
{
    size_t i;

    if (kind != HUB_EV_REFUSED && kind != HUB_EV_DUPLICATE &&
        kind != HUB_EV_ZAP_REFUSED)
        return;
    if (code == NULL)
        code = "";
    for (i = 0; i < q->n_lost; i++)
        if (q->lost[i].kind == kind && strcmp(q->lost[i].code, code) == 0)
            break;
    if (i == q->n_lost) {
        if (i == sizeof(q->lost) / sizeof(q->lost[0]))
            return;
        q->lost[i].kind = kind;
        snprintf(q->lost[i].code, sizeof(q->lost[i].code), "%s", code);
        q->lost[i].n = 0;
        q->n_lost++;
    }
    q->lost[i].n++;
}

struct hub_event *
hub_event_new_code(struct hub *h, int kind, const char *cc, const uint8_t *id,
                   const char *code)
{
    struct hub_evq *q = &h->evq;
    struct hub_event *e;

    if (q->n >= EWH_HUB_MAX_PENDING_EVENTS ||
        (e = hub_grow(q->ev, &q->cap, q->n + 1, sizeof(*q->ev))) == NULL) {
        q->dropped++;
        s_lost(q, kind, code);
        return NULL;
    }
    q->ev = e;
    e = &q->ev[q->n++];
    memset(e, 0, sizeof(*e));
    e->at = ewh_now();
    e->kind = kind;
    e->size = -1;
    if (cc != NULL)
        snprintf(e->origin, sizeof(e->origin), "%.2s", cc);
    if (id != NULL) {
        e->has_id = true;
        memcpy(e->id, id, EWH_ID_BYTES);
    }
    if (code != NULL)
        snprintf(e->code, sizeof(e->code), "%s", code);
    return e;
}

void
hub_event_count(struct hub *h, int kind, const char *code)
{
    s_lost(&h->evq, kind, code);
}

struct hub_event *
hub_event_new(struct hub *h, int kind, const char *cc, const uint8_t *id)
{
    return hub_event_new_code(h, kind, cc, id, NULL);
}

void
hub_event_recipients(struct hub_event *e, const struct ewh_header *hdr)
{
    size_t i, off = 0;

    for (i = 0; i < hdr->n_recipients && off + 3 < sizeof(e->recipients); i++)
        off +=
            (size_t)snprintf(e->recipients + off, sizeof(e->recipients) - off,
                             "%s%.2s", i ? "," : "", hdr->recipients[i]);
}

int
hub_events_write(struct hub *h, struct ewh_err *err)
{
    size_t i;

    for (i = 0; i < h->evq.n; i++)
        if (hub_store_event_add(h->st, &h->evq.ev[i], err) != 0)
            return -1;
    for (i = 0; i < h->evq.n_lost; i++)
        if (hub_store_counter_add(h->st, h->evq.lost[i].kind, 0,
                                  h->evq.lost[i].code, h->evq.lost[i].n,
                                  err) != 0)
            return -1;
    return 0;
}

void
hub_events_written(struct hub *h)
{
    h->evq.n = 0;
    h->evq.n_lost = 0;
}

void
hub_events_tick(struct hub *h)
{
    struct ewh_err err = {0};

    if (h->evq.n > 0) {
        if (hub_store_begin(h->st, &err) != 0 ||
            hub_events_write(h, &err) != 0 ||
            hub_store_events_trim(h->st, h->cfg->events_keep, &err) != 0 ||
            hub_store_commit(h->st, &err) != 0) {
            hub_store_rollback(h->st);
            ewh_log_warnx("router: %zu traffic events not stored: %s", h->evq.n,
                          err.reason);
        }
        hub_events_written(h);
    }
    if (h->evq.dropped > 0) {
        ewh_log_warnx("router: %llu traffic events dropped (more than %u "
                      "waiting)",
                      (unsigned long long)h->evq.dropped,
                      EWH_HUB_MAX_PENDING_EVENTS);
        h->evq.dropped = 0;
    }
}

void
hub_events_free(struct hub *h)
{
    free(h->evq.ev);
    memset(&h->evq, 0, sizeof(h->evq));
}
