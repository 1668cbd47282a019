/* admit.c — a submit's admission: the cheap limits at once (in flight,
 * rate), the hand-off to the verify pool, the checks after it in order
 * (stored already, clock, expiry, recipients, queue room), refusals.
 * A refused submit changes no state. */
#include "hubint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

int
hub_admit_init(struct hub *h, struct ewh_err *err)
{
    /* main() blocked the signals before any thread starts. */
    h->adm.vpool = hub_verify_new(hub_verify_default_workers(), err);
    return h->adm.vpool == NULL ? -1 : 0;
}

void
hub_admit_free(struct hub *h)
{
    struct hub_admit *a = &h->adm;
    size_t i;

    if (a->vpool != NULL)
        hub_verify_wait(a->vpool);
    for (i = 0; i < a->n_pend; i++)
        free(a->pend[i].env);
    for (i = 0; i < a->n_vpend; i++)
        free(a->vpend[i].env);
    free(a->pend);
    free(a->vpend);
    free(a->jobs);
    hub_verify_destroy(&a->vpool);
    memset(a, 0, sizeof(*a));
}

/* ---- refusals ---- */

/* A flooding node must not flood the log, nor the traffic events (a row
 * each in the next commit, which a high report waits for): rate (and
 * shutdown) refusals are logged and recorded once a second per country,
 * with the number left out.  True when this one is to be left out;
 * *left_out gets the number left out before this one otherwise. */
static bool
s_ratelog_quiet(struct hub *h, const char *cc, uint64_t *left_out)
{
    struct hub_admit *a = &h->adm;
    struct hub_ratelog *rl = NULL;
    int64_t now = ewh_mono_ms();
    size_t k;

    for (k = 0; k < a->n_ratelog; k++)
        if (strcmp(a->ratelog[k].cc, cc) == 0)
            rl = &a->ratelog[k];
    if (rl == NULL && a->n_ratelog < EWH_MAX_ROSTER_ENTRIES) {
        rl = &a->ratelog[a->n_ratelog++];
        snprintf(rl->cc, sizeof(rl->cc), "%.2s", cc);
    }
    if (rl == NULL)
        return false;
    if (rl->at_ms != 0 && now - rl->at_ms < 1000) {
        rl->suppressed++;
        return true;
    }
    rl->at_ms = now;
    *left_out = rl->suppressed;
    if (rl->suppressed > 0)
        ewh_log_warnx("router: %llu more rate-limit refusals from=%s "
                      "not logged",
                      (unsigned long long)rl->suppressed, cc);
    rl->suppressed = 0;
    return false;
}

void
hub_admit_refuse(struct hub *h, const struct hub_from *to, const uint8_t *id,
                 const struct ewh_err *err)
{
    static const uint8_t zero[EWH_ID_BYTES];
    struct hub_event *ev;
    char hex[EWH_ID_HEX];
    uint64_t left_out = 0;

    h->n.refused++;
    hub_metrics_refused(h->m, err->code);
    if ((err->code == EWH_E_RATE || err->code == EWH_E_SHUTDOWN) &&
        s_ratelog_quiet(h, to->cc, &left_out)) {
        /* Not recorded as an event, but counted (issue 20). */
        hub_event_count(h, HUB_EV_REFUSED, ewh_errcode_name(err->code));
        hub_conn_send_ack(h, to, id != NULL ? id : zero, HUB_REFUSED, err, NULL,
                          0);
        return;
    }
    if ((ev = hub_event_new_code(h, HUB_EV_REFUSED, to->cc, id,
                                 ewh_errcode_name(err->code))) != NULL) {
        if (left_out > 0)
            snprintf(ev->reason, sizeof(ev->reason),
                     "%.150s (and %llu more not recorded)", err->reason,
                     (unsigned long long)left_out);
        else
            snprintf(ev->reason, sizeof(ev->reason), "%s", err->reason);
    }
    ewh_log_warnx("router: refused submit from=%s id=%s reason=\"%s\"", to->cc,
                  id != NULL ? hub_idhex(id, hex) : "-", err->reason);
    hub_conn_send_ack(h, to, id != NULL ? id : zero, HUB_REFUSED, err, NULL, 0);
}

/* ---- before verification ---- */

void
hub_admit_submit(struct hub *h, struct hub_peer *n, const struct hub_from *from,
                 const Ewh__Submit *m)
{
    struct hub_admit *a = &h->adm;
    struct ewh_err err = {0};
    struct ewh_header hdr;
    struct hub_pend *p, *np;
    uint8_t *env;

    if (n->pending_submits >= h->cfg->max_inflight_submits) {
        ewh_err_set(&err, EWH_E_RATE,
                    "more than max_inflight_submits %u in flight",
                    h->cfg->max_inflight_submits);
        hub_admit_refuse(h, from, NULL, &err);
        return;
    }
    if (!hub_bucket_take(&n->bucket, h->cfg->submits_per_s, ewh_mono_ms())) {
        ewh_err_set(&err, EWH_E_RATE, "over submits_per_second %u",
                    h->cfg->submits_per_s);
        /* Name the id when we can read it, so the node can match. */
        hub_admit_refuse(h, from,
                         ewh_envelope_peek(m->envelope.data, m->envelope.len,
                                           &hdr, NULL) == 0
                             ? hdr.id
                             : NULL,
                         &err);
        return;
    }
    np = hub_grow(a->pend, &a->cap_pend, a->n_pend + 1, sizeof(*a->pend));
    env = np != NULL ? malloc(m->envelope.len) : NULL;
    if (np != NULL)
        a->pend = np;
    if (env == NULL) {
        ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        hub_admit_refuse(h, from, NULL, &err);
        return;
    }
    p = &a->pend[a->n_pend++];
    /* The level decides the queue only: the signature over it is checked
     * before anything is stored, and a forged "high" gains a sender no
     * more than its own rate limit allows. */
    p->high =
        ewh_envelope_peek(m->envelope.data, m->envelope.len, &hdr, NULL) == 0 &&
        hdr.level == EWH_LEVEL_HIGH;
    a->n_high += p->high;
    p->from = *from;
    p->env = env;
    memcpy(p->env, m->envelope.data, m->envelope.len);
    p->len = m->envelope.len;
    /* Counts against max_inflight_submits from now on. */
    n->pending_submits++;
}

/* ---- after verification ---- */

/* Stored already?  A duplicate is acknowledged at once; an id used by
 * another envelope refused.  0 when new. */
static int
s_check_stored(struct hub *h, const struct hub_from *from,
               const struct ewh_header *hdr, const uint8_t *hash)
{
    struct ewh_err err = {0};
    enum hub_env_match found;
    char hex[EWH_ID_HEX];

    if (hub_store_envelope_find(h->st, hdr->id, hash, &found, &err) != 0) {
        hub_admit_refuse(h, from, hdr->id, &err);
        return -1;
    }
    if (found == HUB_ENV_SAME) {
        h->n.duplicate++;
        hub_metrics_duplicate(h->m);
        (void)hub_event_new(h, HUB_EV_DUPLICATE, from->cc, hdr->id);
        ewh_log_debug("router: duplicate submit from=%s id=%s", from->cc,
                      hub_idhex(hdr->id, hex));
        hub_conn_send_ack(h, from, hdr->id, HUB_DUPLICATE, NULL, NULL, 0);
        return -1;
    }
    if (found == HUB_ENV_OTHER) {
        ewh_err_set(&err, EWH_E_IDREUSED,
                    "id already used by a different envelope");
        hub_admit_refuse(h, from, hdr->id, &err);
        return -1;
    }
    return 0;
}

static int
s_check_time(const struct ewh_header *hdr, int64_t now, struct ewh_err *err)
{
    if (hdr->created_at > now + EWH_MAX_CLOCK_SKEW_S)
        return ewh_err_set(err, EWH_E_CLOCK,
                           "created_at %llds ahead of the hub's clock "
                           "(EWH_MAX_CLOCK_SKEW_S %d)",
                           (long long)(hdr->created_at - now),
                           EWH_MAX_CLOCK_SKEW_S);
    if (hdr->expires_at != 0 && hdr->expires_at <= now)
        return ewh_err_set(err, EWH_E_EXPIRED, "already expired");
    return 0;
}

/* Every recipient enrolled, not revoked, with room in its queue (the
 * store's depth plus what the open batch adds). */
static int
s_check_recipients(struct hub *h, const struct ewh_header *hdr,
                   struct ewh_err *err)
{
    uint64_t queued;
    bool revoked;
    size_t i;

    for (i = 0; i < hdr->n_recipients; i++) {
        const char *rc = hdr->recipients[i];
        if (ewh_roster_find(h->ros.roster, rc, &revoked) == NULL) {
            /* A country of a foreign region goes to a peer hub
             * (hub_fed_route decides whether it may). */
            if (hub_fed_region_of(h, rc) != NULL)
                continue;
            return ewh_err_set(err, EWH_E_UNKNOWN,
                               "recipient %s is not enrolled", rc);
        }
        if (revoked)
            return ewh_err_set(err, EWH_E_REVOKED, "recipient %s is revoked",
                               rc);
        /* From its first report on, a recipient has a peer entry
         * (status.json and the gauges list it). */
        (void)hub_peers_get(h->peers, rc, true);
        if (hub_store_queued(h->st, rc, &queued, err) != 0)
            return -1;
        if (queued + hub_batch_reserved(h, rc) >= h->cfg->max_queue)
            return ewh_err_set(err, EWH_E_QUEUEFULL,
                               "queue of %s is full (max_queue %u)", rc,
                               h->cfg->max_queue);
    }
    return 0;
}

/* ---- storage budgets (issue 16, item 6) ---- */

/* hub_store_bytes_fn: one country's exact count (hub_store_bytes_all). */
static void
s_budget_row(void *ctx, const char *cc, bool for_, uint64_t bytes)
{
    struct hub *h = ctx;

    hub_peers_budget_count(h->peers, cc, for_, bytes);
}

/* The counter thread's finished recounts: a country's estimates become
 * the count plus what was accepted since its ask (deliveries since its
 * snapshot are still counted: an upper bound, as before). */
static void
s_budget_results(struct hub *h)
{
    struct hub_store_count_res r[8];
    struct hub_peer *n;
    size_t i, k;

    while ((k = hub_store_count_take(h->st, r, 8)) > 0)
        for (i = 0; i < k; i++) {
            if ((n = hub_peers_get(h->peers, r[i].cc, false)) == NULL ||
                !n->budget_asked)
                continue;
            n->budget_asked = false;
            n->budget_exact_ms = ewh_mono_ms();
            if (!r[i].ok)
                continue; /* the estimate stands; asked again later */
            n->bytes_for = r[i].for_ + n->since_for;
            n->bytes_from = r[i].from + n->since_from;
            n->budget_known = true;
        }
}

/* Ask the counter to recount n: 0 asked, 1 not now, -1 no counter.  The
 * bytes the batch holds for or from n are not committed, so not in the
 * count's snapshot: they start what is added to it. */
static int
s_budget_ask(struct hub *h, struct hub_peer *n)
{
    size_t i, k;
    int rc;

    if ((rc = hub_store_count_ask(h->st, n->cc)) != 0)
        return rc;
    n->budget_asked = true;
    n->since_for = n->since_from = 0;
    for (i = 0; i < h->b.n_sub; i++) {
        const struct hub_submit *s = &h->b.sub[i];
        if (memcmp(s->hdr.origin, n->cc, 2) == 0)
            n->since_from += s->len;
        for (k = 0; k < s->hdr.n_recipients; k++)
            if (memcmp(s->hdr.recipients[k], n->cc, 2) == 0)
                n->since_for += s->len;
    }
    return 0;
}

/* Accepted len bytes for n (for) or from n (!for). */
static void
s_budget_grow(struct hub_peer *n, bool for_, uint64_t len)
{
    *(for_ ? &n->bytes_for : &n->bytes_from) += len;
    if (n->budget_asked)
        *(for_ ? &n->since_for : &n->since_from) += len;
}

/* Bytes waiting for n (for) or from n (!for), an upper bound made exact
 * from the store when it is unknown or would reach limit with len more
 * (at most once per EWH_HUB_BUDGET_RECHECK_MS).  The recount of a known
 * country runs on the counter thread (issue 19: two scans, 274 ms with
 * 100,000 reports waiting, blocked the loop while a country sat at its
 * budget); until it ends the estimate stands.  True when len fits. */
static bool
s_budget_fits(struct hub *h, struct hub_peer *n, bool for_, uint64_t len,
              uint64_t limit, uint64_t *have, struct ewh_err *err)
{
    uint64_t *est = for_ ? &n->bytes_for : &n->bytes_from;
    int64_t now = ewh_mono_ms();
    uint64_t f, o;
    bool recount;

    s_budget_results(h);
    /* The first check of a run counts every country at once (issue 19:
     * two scans per country's first submit, 274 ms together with 100,000
     * reports waiting, stalled the loop and the high reports behind it). */
    *have = 0;
    if (!n->budget_known && !hub_peers_budgets_are_known(h->peers)) {
        int64_t t0 = ewh_mono_ms();
        hub_peers_budgets_begin(h->peers);
        if (hub_store_bytes_all(h->st, s_budget_row, h, err) != 0)
            return false;
        hub_peers_budgets_known(h->peers, t0);
        ewh_log_info("router: storage budgets counted in %lld ms",
                     (long long)(ewh_mono_ms() - t0));
    }
    recount = !n->budget_known;
    if (!recount && *est + len > limit && !n->budget_asked &&
        now - n->budget_exact_ms >= EWH_HUB_BUDGET_RECHECK_MS)
        recount = s_budget_ask(h, n) < 0;
    if (recount) {
        if (hub_store_bytes_for(h->st, n->cc, &f, err) != 0 ||
            hub_store_bytes_from(h->st, n->cc, &o, err) != 0)
            return false;
        n->bytes_for = f;
        n->bytes_from = o;
        n->budget_known = true;
        n->budget_exact_ms = now;
        n->budget_asked = false;
    }
    *have = *est;
    return *est + len <= limit;
}

/* A country's budgets: bytes waiting for each recipient and from the
 * origin; and, where the store has a quota, its last high_reserve_percent
 * for high reports.  A high report may go beyond a country's budgets by
 * that percent of them. */
/* Each local recipient's storage budget (a high report may use the
 * reserve beyond it).  A foreign recipient waits on a link, not here
 * (fed.c). */
static int
s_recipients_fit(struct hub *h, const struct ewh_header *hdr, uint64_t len,
                 struct ewh_err *err)
{
    const struct hub_config *c = h->cfg;
    uint64_t have, limit;
    struct hub_peer *n;
    size_t i;

    for (i = 0; i < hdr->n_recipients; i++) {
        if (ewh_roster_find(h->ros.roster, hdr->recipients[i], NULL) == NULL)
            continue;
        if ((n = hub_peers_get(h->peers, hdr->recipients[i], true)) == NULL)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        limit = c->recipient_bytes;
        if (hdr->level == EWH_LEVEL_HIGH)
            limit += limit / 100 * c->high_reserve_pct;
        if (!s_budget_fits(h, n, true, len, limit, &have, err))
            return err->code != EWH_E_OK
                       ? -1
                       : ewh_err_set(err, EWH_E_BUDGET,
                                     "%llu bytes wait for %s at the hub "
                                     "(recipient_bytes %u)",
                                     (unsigned long long)have,
                                     hdr->recipients[i], c->recipient_bytes);
    }
    return 0;
}

/* Accepted for them: each local recipient's estimate grows by len until
 * the next exact count. */
static void
s_recipients_grow(struct hub *h, const struct ewh_header *hdr, uint64_t len)
{
    struct hub_peer *n;
    size_t i;

    for (i = 0; i < hdr->n_recipients; i++)
        if (ewh_roster_find(h->ros.roster, hdr->recipients[i], NULL) != NULL &&
            (n = hub_peers_get(h->peers, hdr->recipients[i], false)) != NULL)
            s_budget_grow(n, true, len);
}

static int
s_check_budget(struct hub *h, const struct hub_from *from,
               const struct ewh_header *hdr, uint64_t len, struct ewh_err *err)
{
    const struct hub_config *c = h->cfg;
    bool high = hdr->level == EWH_LEVEL_HIGH;
    uint64_t used, max, have, limit;
    struct hub_peer *n;

    /* The quota is the connection's (PRAGMA max_page_count, set from
     * [store] max_pages): no quota, no query. */
    used = max = 0;
    if (!high && c->store_max_pages > 0 &&
        hub_store_quota(h->st, &used, &max, err) != 0)
        return -1;
    /* A store with no room at all says disk-full (the batch's commit). */
    if (!high && max > 0 && used + len <= max &&
        used + len > max / 100 * (100 - c->high_reserve_pct))
        return ewh_err_set(err, EWH_E_BUDGET,
                           "store %llu of %llu bytes used: the last %u%% "
                           "(high_reserve_percent) is kept for high reports",
                           (unsigned long long)used, (unsigned long long)max,
                           c->high_reserve_pct);
    if ((n = hub_peers_get(h->peers, from->cc, true)) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    limit = c->origin_bytes;
    if (high)
        limit += limit / 100 * c->high_reserve_pct;
    if (!s_budget_fits(h, n, false, len, limit, &have, err))
        return err->code != EWH_E_OK
                   ? -1
                   : ewh_err_set(err, EWH_E_BUDGET,
                                 "%s has %llu bytes waiting at the hub "
                                 "(origin_bytes %u)",
                                 from->cc, (unsigned long long)have,
                                 c->origin_bytes);
    return s_recipients_fit(h, hdr, len, err);
}

/* A transfer from a peer hub (fed_in.c): its local recipients, checked
 * as a submit's are, their storage budgets included (a foreign origin has
 * no budget here: the peer's rate limit bounds it).  On success the
 * recipients' estimates grow by len. */
int
hub_admit_check_local(struct hub *h, const struct ewh_header *hdr, size_t len,
                      struct ewh_err *err)
{
    if (s_check_recipients(h, hdr, err) != 0)
        return -1;
    if (s_recipients_fit(h, hdr, len, err) != 0)
        return -1;
    s_recipients_grow(h, hdr, len);
    return 0;
}

/* Accepted: the estimates grow by len until the next exact count. */
static void
s_budget_add(struct hub *h, const struct hub_from *from,
             const struct ewh_header *hdr, uint64_t len)
{
    struct hub_peer *n;

    if ((n = hub_peers_get(h->peers, from->cc, false)) != NULL)
        s_budget_grow(n, false, len);
    s_recipients_grow(h, hdr, len);
}

/* A submit after verification (j): the remaining checks in order, then
 * into the batch.  Takes over p->env. */
static void
s_on_verified(struct hub *h, struct hub_pend *p, const struct hub_verify_job *j)
{
    struct ewh_err err = {0};
    struct hub_fed_sub *fs = NULL;
    struct hub_peer *n;

    if ((n = hub_peers_get(h->peers, p->from.cc, true)) == NULL)
        goto out;
    if (n->pending_submits > 0)
        n->pending_submits--; /* taken again when it joins the batch */
    if (j->rc != 0) {
        struct ewh_header peek;
        bool have = ewh_envelope_peek(p->env, p->len, &peek, NULL) == 0;
        hub_admit_refuse(h, &p->from, have ? peek.id : NULL, &j->err);
        goto out;
    }
    if (s_check_stored(h, &p->from, &j->hdr, j->hash) != 0)
        goto out;
    if (s_check_time(&j->hdr, ewh_now(), &err) != 0 ||
        s_check_recipients(h, &j->hdr, &err) != 0 ||
        s_check_budget(h, &p->from, &j->hdr, p->len, &err) != 0 ||
        /* Foreign recipients: which links it may go on (fed.c). */
        (hub_fed_has_foreign(h, &j->hdr) &&
         hub_fed_route(h, -1, &j->hdr, h->cfg->region, NULL, 0, &fs, &err) !=
             0) ||
        hub_batch_add_submit(h, &p->from, &p->env, p->len, &j->hdr, j->hash,
                             &err) != 0) {
        free(fs);
        hub_admit_refuse(h, &p->from, j->hdr.id, &err);
        goto out;
    }
    h->b.sub[h->b.n_sub - 1].fed = fs;
    s_budget_add(h, &p->from, &j->hdr, p->len);
    n->pending_submits++;
out:
    free(p->env);
    p->env = NULL;
}

/* ---- the verify pool ---- */

/* The submits the pool has verified, in the order they came. */
static void
s_collect(struct hub *h)
{
    struct hub_admit *a = &h->adm;
    size_t i;

    for (i = 0; i < a->n_vpend; i++)
        s_on_verified(h, &a->vpend[i], &a->jobs[i]);
    a->n_vpend = 0;
}

/* Move the submits read into the run to verify: all, or the first
 * EWH_HUB_VERIFY_RUN.  -1 when out of memory (they wait for the next turn). */
static int
s_take_run(struct hub_admit *a)
{
    struct hub_pend *tp;
    size_t tc;

    if (a->n_pend > EWH_HUB_VERIFY_RUN) {
        /* The rest waits for the next run: small runs keep verification
         * and the commit of the previous run overlapping, and the acks
         * (which free the senders' windows) flowing. */
        tp = hub_grow(a->vpend, &a->cap_vpend, EWH_HUB_VERIFY_RUN,
                      sizeof(*a->vpend));
        if (tp == NULL)
            return -1;
        a->vpend = tp;
        memcpy(a->vpend, a->pend, EWH_HUB_VERIFY_RUN * sizeof(*a->pend));
        memmove(a->pend, a->pend + EWH_HUB_VERIFY_RUN,
                (a->n_pend - EWH_HUB_VERIFY_RUN) * sizeof(*a->pend));
        a->n_vpend = EWH_HUB_VERIFY_RUN;
        a->n_pend -= EWH_HUB_VERIFY_RUN;
        return 0;
    }
    tp = a->vpend;
    tc = a->cap_vpend;
    a->vpend = a->pend;
    a->cap_vpend = a->cap_pend;
    a->n_vpend = a->n_pend;
    a->pend = tp;
    a->cap_pend = tc;
    a->n_pend = 0;
    return 0;
}

/* High submits first: verified here on the loop thread, at most
 * EWH_HUB_VERIFY_HIGH_INLINE a turn, and into this turn's batch, so that a
 * high report waits neither for the pool's run of other countries' (or
 * a flooder's) submits nor for its own turn in the pending list.  The
 * rest of pend keeps its order. */
static void
s_start_high(struct hub *h)
{
    struct hub_admit *a = &h->adm;
    struct hub_verify_job job;
    size_t i, k = 0, done = 0;

    if (a->n_high == 0)
        return;
    for (i = 0; i < a->n_pend; i++) {
        struct hub_pend p = a->pend[i];
        if (!p.high || done == EWH_HUB_VERIFY_HIGH_INLINE) {
            a->pend[k++] = p;
            continue;
        }
        memset(&job, 0, sizeof(job));
        job.env = p.env;
        job.len = p.len;
        job.cc = p.from.cc;
        hub_verify_run(NULL, &job, 1, ewh_roster_lookup, h->ros.roster);
        s_on_verified(h, &p, &job);
        done++;
    }
    a->n_pend = k;
    a->n_high -= done;
}

/* Hand this turn's submits to the pool if it is idle (else they wait for
 * the next turn).  While the workers verify, the loop thread commits the
 * previous batch and acknowledges it. */
static void
s_start(struct hub *h)
{
    struct hub_admit *a = &h->adm;
    struct hub_verify_job *nj;
    size_t i;

    s_start_high(h);
    if (a->n_pend == 0 || a->n_vpend > 0)
        return;
    nj = hub_grow(a->jobs, &a->cap_jobs,
                  a->n_pend < EWH_HUB_VERIFY_RUN ? a->n_pend
                                                 : EWH_HUB_VERIFY_RUN,
                  sizeof(*a->jobs));
    if (nj == NULL || s_take_run(a) != 0) {
        ewh_log_warnx("router: out of memory: %zu submits wait a turn",
                      a->n_pend);
        if (nj != NULL)
            a->jobs = nj;
        return;
    }
    a->jobs = nj;
    a->n_high = 0;
    for (i = 0; i < a->n_pend; i++)
        a->n_high += a->pend[i].high;
    for (i = 0; i < a->n_vpend; i++) {
        memset(&a->jobs[i], 0, sizeof(a->jobs[i]));
        a->jobs[i].env = a->vpend[i].env;
        a->jobs[i].len = a->vpend[i].len;
        a->jobs[i].cc = a->vpend[i].from.cc;
    }
    if (a->n_vpend < HUB_VERIFY_INLINE) {
        hub_verify_run(NULL, a->jobs, a->n_vpend, ewh_roster_lookup,
                       h->ros.roster);
        s_collect(h);
        return;
    }
    hub_verify_start(a->vpool, a->jobs, a->n_vpend, ewh_roster_lookup,
                     h->ros.roster);
}

void
hub_admit_turn(struct hub *h, bool pool_ready)
{
    struct hub_admit *a = &h->adm;

    if (a->n_vpend > 0 && (pool_ready || !hub_verify_busy(a->vpool))) {
        hub_verify_wait(a->vpool);
        s_collect(h);
    }
    s_start(h);
}

void
hub_admit_drain(struct hub *h)
{
    struct hub_admit *a = &h->adm;

    if (a->n_vpend > 0) {
        hub_verify_wait(a->vpool);
        s_collect(h);
    }
    s_start(h);
    if (a->n_vpend > 0) {
        hub_verify_wait(a->vpool);
        s_collect(h);
    }
}
