/*
 * outbox.c — our reports on their way to each hub: per hub the submit
 * window (at most NODE_WINDOW in flight), SubmitAck (accepted, deferred,
 * refused), the audit checkpoint an ack carries, and Notice about one
 * addressee.
 *
 * `ewnode submit` stores a report as queued (store: outbox_add); this
 * module sends it to every hub that does not hold it yet and records
 * each hub's answer (docs/redundancy.md).
 */
#include "agent_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ewh/audit.h"
#include "ewh/log.h"

/* ---- the window ---- */

static bool
s_in_flight(struct node_outq *q, const char *id, size_t *at)
{
    size_t i;

    for (i = 0; i < q->n_fl; i++)
        if (strcmp(q->fl[i].id, id) == 0) {
            if (at != NULL)
                *at = i;
            return true;
        }
    return false;
}

static void
s_land(struct node_outq *q, const char *id)
{
    size_t i;

    if (s_in_flight(q, id, &i))
        q->fl[i] = q->fl[--q->n_fl];
}

void
node_outbox_reset(struct node_agent *a, struct node_conn *c)
{
    (void)a;
    c->out.n_fl = 0;
    c->out.cursor = NODE_HUB_CURSOR_START;
    c->out.chain_asked = false;
}

void
node_outbox_rescan(struct node_agent *a, struct node_conn *c)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++)
        if (c == NULL || c == &a->conn[i]) {
            a->conn[i].out.dirty = true;
            a->conn[i].out.cursor = NODE_HUB_CURSOR_START;
        }
}

bool
node_outbox_wants_send(const struct node_agent *a)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++) {
        const struct node_conn *c = &a->conn[i];
        if (c->link.ready && c->out.dirty && c->out.n_fl < NODE_WINDOW)
            return true;
    }
    return false;
}

void
node_outbox_commit_failed(struct node_agent *a)
{
    size_t i;

    for (i = 0; i < a->n_conn; i++) {
        free(a->conn[i].out.cp_raw); /* its checkpoint row was not stored */
        a->conn[i].out.cp_raw = NULL;
        a->conn[i].out.refilled = false; /* nor its refill */
    }
    /* The acks of this turn were rolled back: their reports are queued
     * again behind the cursor.  Send them again (the hub answers
     * "duplicate"). */
    node_outbox_rescan(a, NULL);
}

void
node_outbox_free(struct node_conn *c)
{
    free(c->out.cp_raw);
    c->out.cp_raw = NULL;
}

struct s_pump {
    struct node_agent *a;
    struct node_conn *c;
    size_t sent;
};

static int
s_submit_one(void *ctx, const struct node_hub_entry *e)
{
    struct s_pump *p = ctx;
    struct node_agent *a = p->a;
    struct node_conn *c = p->c;
    struct node_outq *q = &c->out;
    const char *id = e->id;
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Submit s = EWH__SUBMIT__INIT;

    if (q->n_fl == NODE_WINDOW)
        return 1;
    if (s_in_flight(q, id, NULL)) {
        q->cursor =
            (struct node_hub_cursor){.level = (int)e->level, .seq = e->seq};
        return 0;
    }
    s.envelope.data = (uint8_t *)e->env;
    s.envelope.len = e->len;
    f.msg_case = EWH__FRAME__MSG_SUBMIT;
    f.submit = &s;
    if (node_link_send(a, c, &f) != 0) {
        q->dirty = true; /* try again next turn */
        return 1;
    }
    snprintf(q->fl[q->n_fl].id, EWH_ID_HEX, "%s", id);
    q->fl[q->n_fl].at = ewh_mono_ms();
    q->n_fl++;
    p->sent++;
    q->cursor = (struct node_hub_cursor){.level = (int)e->level, .seq = e->seq};
    ewh_log_debug("agent: submit id=%s%s", id, c->via);
    return 0;
}

/* Submits the hub has not answered in NODE_SUBMIT_TMO_MS go again. */
static void
s_expire_flights(struct node_agent *a, struct node_conn *c, int64_t now)
{
    struct node_outq *q = &c->out;
    size_t i;

    for (i = 0; i < q->n_fl;) {
        if (now - q->fl[i].at > NODE_SUBMIT_TMO_MS) {
            ewh_log_warnx("agent: no submit-ack for id=%s, sending again%s",
                          q->fl[i].id, c->via);
            q->fl[i] = q->fl[--q->n_fl];
            node_outbox_rescan(a, c);
        } else
            i++;
    }
}

void
node_outbox_pump(struct node_agent *a, struct node_conn *c)
{
    struct ewh_err err = {0};
    struct node_outq *q = &c->out;
    struct s_pump p = {a, c, 0};
    int64_t wall = ewh_now_ms();
    size_t i;

    if (!c->link.ready)
        return;
    s_expire_flights(a, c, ewh_mono_ms());
    if (q->retry_at > 0 && wall >= q->retry_at) {
        q->retry_at = 0;
        node_outbox_rescan(a, c);
    }
    if (!q->dirty || q->n_fl == NODE_WINDOW)
        return;
    q->dirty = false;
    if (node_store_hub_pending(a->d->store, c->id, &q->cursor, wall,
                               NODE_WINDOW + q->n_fl, s_submit_one, &p,
                               &err) < 0 ||
        node_store_hub_next_try(a->d->store, c->id, wall, &q->retry_at, &err) !=
            0) {
        /* A busy or failing store: said, and read again after
         * NODE_RETRY_MS (not every turn: one line per try). */
        ewh_log_warnx("agent: outbox: %s%s", err.reason, c->via);
        q->retry_at = wall + NODE_RETRY_MS;
    }
    /* A report this hub found may be new to the others too: an idle hub
     * looks at once rather than at the next data_version poll (a busy one
     * reads on with its acks), so that each report goes to every hub
     * together and not to one only if its receipt comes back first. */
    for (i = 0; p.sent > 0 && i < a->n_conn; i++)
        if (&a->conn[i] != c && a->conn[i].link.ready &&
            a->conn[i].out.n_fl == 0)
            node_outbox_rescan(a, &a->conn[i]);
}

/* ---- SubmitAck ---- */

/* The hub lost data (docs/redundancy.md): every report it accepted that
 * is not yet delivered to all its addressees (nor expired) is sent to it
 * again; the store records it (the outbox shows it).  Once per checkpoint
 * held: the hub's chain stays shorter than it until it has grown again.
 * In the turn's transaction. */
static void
s_refill(struct node_agent *a, struct node_conn *c, uint64_t held,
         uint64_t shown, const char *why)
{
    struct ewh_err err = {0};
    int64_t n = 0, moved = 0;

    if (c->out.refilled && c->out.refilled_at_len == held)
        return;
    /* The checkpoints beyond the chain it shows are set aside as the
     * evidence of a restore (ewnode audit says so), and its new chain is
     * held afresh. */
    if (node_agent_begin(a, &err) != 0 ||
        (shown < held &&
         node_store_hub_chain_back(a->d->store, c->id, shown, ewh_now(), &moved,
                                   &err) != 0) ||
        node_store_hub_refill(a->d->store, c->id, ewh_now_ms(),
                              a->d->cfg.min_hubs, why, &n, &err) != 0) {
        /* Tried again with the next checkpoint it shows. */
        ewh_log_errx("agent: refill of %s: %s", c->endpoint, err.reason);
        return;
    }
    c->out.refilled = true;
    c->out.refilled_at_len = held;
    if (n > 0)
        c->out.refills++;
    ewh_log_warnx("agent: hub %s lost data (%s): sending it again %lld "
                  "report%s not yet receipted by all their addressees",
                  c->endpoint, why, (long long)n, n == 1 ? "" : "s");
    node_outbox_rescan(a, c);
}

/* A checkpoint shorter than the longest we hold of that hub: its audit
 * chain went back, so it lost reports it had acknowledged (a damaged
 * store, a restore): refill it.  The hub says so too when our Hello names
 * the longer one.  An empty chain at a hub that accepted reports (and
 * never gave a checkpoint) is refilled too. */
static void
s_check_chain(struct node_agent *a, struct node_conn *c,
              const struct ewh_checkpoint *cp)
{
    struct ewh_err err = {0};
    struct node_hub_counts n = {0};
    uint64_t held = 0;
    char why[EWH_MAX_REASON_BYTES];

    if (node_store_hub_checkpoint_length(a->d->store, c->id, &held, &err) !=
        0) {
        ewh_log_warnx("agent: checkpoint: %s%s", err.reason, c->via);
        return;
    }
    if (cp->length < held && c->out.refilled && c->out.refilled_at_len == held)
        return; /* refilled for it: said once */
    if (cp->length < held) {
        ewh_log_errx("agent: AUDIT: the hub's chain is at length %llu, "
                     "behind its own checkpoint at %llu that this node "
                     "holds: the hub lost acknowledged reports (a restore? "
                     "ewnode audit); they are sent to it again%s",
                     (unsigned long long)cp->length, (unsigned long long)held,
                     c->via);
        snprintf(why, sizeof(why),
                 "its audit chain at %llu is behind its checkpoint at %llu "
                 "held here",
                 (unsigned long long)cp->length, (unsigned long long)held);
        s_refill(a, c, held, cp->length, why);
        return;
    }
    if (cp->length > 0 || held > 0)
        return;
    if (node_store_hub_counts(a->d->store, c->id, ewh_now_ms(), &n, &err) !=
        0) {
        ewh_log_warnx("agent: hub counts: %s%s", err.reason, c->via);
        return;
    }
    if (n.accepted > 0) {
        snprintf(why, sizeof(why),
                 "its audit chain is empty, but it had accepted %lld "
                 "report%s",
                 (long long)n.accepted, n.accepted == 1 ? "" : "s");
        s_refill(a, c, 0, 0, why);
    }
}

/* The audit checkpoint an ack carries: verified against the pinned hub
 * key and stored once (a batch's acks all carry the same one). */
static void
s_keep_checkpoint(struct node_agent *a, struct node_conn *c,
                  const Ewh__Checkpoint *k, const char *id)
{
    struct ewh_err err = {0};
    struct ewh_checkpoint cp;
    struct node_outq *q = &c->out;
    size_t len = ewh__checkpoint__get_packed_size(k);
    uint8_t *raw = malloc(len > 0 ? len : 1);

    if (raw == NULL) {
        /* The next ack carries one again. */
        ewh_log_errx("agent: out of memory: checkpoint with id=%s not kept",
                     id);
        return;
    }
    ewh__checkpoint__pack(k, raw);
    if (q->cp_raw != NULL && q->cp_len == len &&
        memcmp(q->cp_raw, raw, len) == 0) {
        free(raw); /* verified and stored with an earlier ack */
        return;
    }
    if (ewh_checkpoint_verify(raw, len, c->pin.sign, &cp, &err) != 0) {
        ewh_log_warnx("agent: bad audit checkpoint with id=%s: %s%s", id,
                      err.reason, c->via);
        goto out;
    }
    s_check_chain(a, c, &cp);
    if (node_store_hub_checkpoint_put(a->d->store, c->id, cp.length, cp.head,
                                      cp.time, raw, len, &err) != 0)
        ewh_log_warnx("agent: checkpoint: %s", err.reason);
    else {
        free(q->cp_raw);
        q->cp_raw = raw;
        q->cp_len = len;
        raw = NULL;
    }
out:
    free(raw);
}

/* A refusal: deferred (try again later), an old-key envelope (reseal,
 * now or at the pending switch),
 * the old-key twin the hub already holds (accepted), or final. */
static int
s_on_refusal(struct node_agent *a, struct node_conn *c, const Ewh__SubmitAck *k,
             const char *id, struct ewh_err *err)
{
    node_store_t *st = a->d->store;
    enum ewh_errcode code = (enum ewh_errcode)k->code;
    bool final = false;

    /* Decided on the code and the one table of retryable codes; the
     * reason is for people and logs. */
    if (ewh_errcode_is_retryable(code)) {
        ewh_log_warnx("agent: hub deferred id=%s: %s%s", id, k->reason, c->via);
        return node_store_hub_retry(st, c->id, id, ewh_now_ms() + NODE_RETRY_MS,
                                    k->reason, err);
    }
    if (a->key.prev != NULL && code == EWH_E_SIGNATURE &&
        node_rekey_sealed_with_prev(a, id)) {
        /* Sealed with the old keys by a command that loaded them just
         * before the switch: reseal, send again. */
        ewh_log_info("agent: id=%s was sealed with the old keys; resealing",
                     id);
        a->key.reseal_due = true;
        /* Offered to this hub again after NODE_RETRY_MS: a report another
         * hub accepted before the re-key keeps its old-key envelope
         * (only queued ones are resealed), and must not loop. */
        return node_store_hub_retry(st, c->id, id, ewh_now_ms() + NODE_RETRY_MS,
                                    k->reason, err);
    }
    if (code == EWH_E_SIGNATURE)
        node_rekey_find_pending(a); /* `ewnode rekey` may have run since */
    if (a->key.next != NULL && code == EWH_E_SIGNATURE) {
        /* The hub enrolled our pending new keys and checked this
         * envelope, signed with the old ones, against them before this
         * agent switched: kept queued, the switch reseals it (rekey.c). */
        ewh_log_info("agent: id=%s refused with the old keys while a "
                     "re-key is pending; kept for the switch",
                     id);
        return node_store_hub_retry(st, c->id, id, ewh_now_ms() + NODE_RETRY_MS,
                                    k->reason, err);
    }
    if (code == EWH_E_SIGNATURE && a->key.next == NULL && a->key.rekeyed &&
        (c->link.try_idx & 1)) {
        /* This hub still knows only our keys from before the re-key (the
         * session runs on them): kept for it until it enrols the new. */
        ewh_log_info("agent: id=%s refused by a hub that has not enrolled "
                     "our new keys yet; kept for it%s",
                     id, c->via);
        return node_store_hub_retry(st, c->id, id, ewh_now_ms() + NODE_RETRY_MS,
                                    k->reason, err);
    }
    if (a->key.rekeyed && code == EWH_E_IDREUSED) {
        /* Resealed at the re-key, but the hub had already accepted the
         * old-key envelope of the same report (its ack was lost when the
         * connection was cut). */
        ewh_log_info("agent: hub holds id=%s sealed with the old key", id);
        return node_store_hub_accepted(st, c->id, id, ewh_now(),
                                       a->d->cfg.min_hubs, err);
    }
    ewh_log_warnx("agent: hub refused id=%s: %s%s", id, k->reason, c->via);
    return node_store_hub_refused(st, c->id, id,
                                  k->reason[0] ? k->reason : "refused",
                                  ewh_now(), &final, err);
}

void
node_outbox_on_ack(struct node_agent *a, struct node_conn *c,
                   const Ewh__SubmitAck *k)
{
    struct ewh_err err = {0};
    char id[EWH_ID_HEX];
    int rc;

    ewh_hex(k->id.data, EWH_ID_BYTES, id, sizeof(id));
    s_land(&c->out, id);
    c->out.dirty = true;
    if (node_agent_begin(a, &err) != 0)
        goto fail;
    switch (k->status) {
    case EWH__ACK_STATUS__ACK_ACCEPTED:
    case EWH__ACK_STATUS__ACK_DUPLICATE:
        ewh_log_info(
            "agent: hub accepted id=%s%s%s", id,
            k->status == EWH__ACK_STATUS__ACK_DUPLICATE ? " (duplicate)" : "",
            c->via);
        rc = node_store_hub_accepted(a->d->store, c->id, id, ewh_now(),
                                     a->d->cfg.min_hubs, &err);
        break;
    default:
        rc = s_on_refusal(a, c, k, id, &err);
        break;
    }
    if (rc != 0)
        goto fail;
    if (k->checkpoint != NULL && k->checkpoint->body.len > 0)
        s_keep_checkpoint(a, c, k->checkpoint, id);
    return;
fail:
    /* Not stored: the report is still queued, behind the cursor.  Send
     * it again; the hub answers "duplicate". */
    ewh_log_errx("agent: submit-ack id=%s: %s%s", id, err.reason, c->via);
    node_outbox_rescan(a, c);
}

/* ---- Notice: one addressee expired or refused ---- */

/* A Notice{EXPIRED} checked against our own signed expires_at: a report
 * that never expires, or not yet (beyond the clock skew), did not expire;
 * the hub dropped it or lies.  1: forged (said at error, counted, noted
 * beside the addressee), 0: plausible, -1: the store failed. */
static int
s_expiry_forged(struct node_agent *a, struct node_conn *c, const char *id,
                const char *cc)
{
    struct ewh_err err = {0};
    char why[EWH_MAX_REASON_BYTES];
    int64_t exp = 0, now = ewh_now();

    if (node_store_expires_at(a->d->store, id, &exp, &err) != 0) {
        if (err.code == EWH_E_NOTFOUND)
            return 0; /* not ours: the update finds no row either */
        ewh_log_errx("agent: notice id=%s: %s", id, err.reason);
        return -1;
    }
    if (exp != 0 && exp <= now + EWH_MAX_CLOCK_SKEW_S)
        return 0;
    c->out.hub_faults++;
    if (exp == 0)
        snprintf(why, sizeof(why),
                 "hub fault: said expired, but the report never expires");
    else
        snprintf(why, sizeof(why),
                 "hub fault: said expired, but the report expires in %llds",
                 (long long)(exp - now));
    ewh_log_errx("agent: HUB FAULT: notice id=%s country=%s: %s (refused; "
                 "%llu hub faults since start)%s",
                 id, cc, why, (unsigned long long)c->out.hub_faults, c->via);
    if (node_store_rcpt_note(a->d->store, id, cc, why, &err) != 0) {
        ewh_log_errx("agent: notice id=%s: %s", id, err.reason);
        return -1;
    }
    return 1;
}

void
node_outbox_on_notice(struct node_agent *a, struct node_conn *c,
                      const Ewh__Notice *n)
{
    struct ewh_err err = {0};
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__NoticeAck k = EWH__NOTICE_ACK__INIT;
    char id[EWH_ID_HEX];
    enum node_rstate st = n->kind == EWH__NOTICE_KIND__NOTICE_EXPIRED
                              ? NODE_R_EXPIRED
                              : NODE_R_REFUSED;

    ewh_hex(n->id.data, EWH_ID_BYTES, id, sizeof(id));
    if (node_agent_begin(a, &err) != 0) {
        ewh_log_errx("agent: notice id=%s: %s", id, err.reason);
        return;
    }
    switch (st == NODE_R_EXPIRED ? s_expiry_forged(a, c, id, n->country) : 0) {
    case -1:
        return; /* the store failed: the hub sends the notice again */
    case 1:
        break; /* a hub fault, noted: acknowledged, never taken */
    default:
        ewh_log_warnx("agent: notice id=%s country=%s %s: %s", id, n->country,
                      node_rstate_name(st), n->reason);
        if (node_store_rcpt_update(a->d->store, id, n->country, st,
                                   n->reason[0] ? n->reason
                                                : node_rstate_name(st),
                                   n->at > 0 ? n->at : ewh_now(), &err) != 0) {
            ewh_log_errx("agent: notice id=%s: %s", id, err.reason);
            return;
        }
    }
    k.seq = n->seq;
    f.msg_case = EWH__FRAME__MSG_NOTICE_ACK;
    f.notice_ack = &k;
    node_link_send_later(a, c, &f);
}

/* ---- the hub's chain at the start of a session (refill) ---- */

void
node_outbox_ask_chain(struct node_agent *a, struct node_conn *c)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__AuditRequest r = EWH__AUDIT_REQUEST__INIT;

    if (c->out.chain_asked)
        return;
    /* From beyond its end: no entries, only its signed head. */
    r.from_length = UINT64_MAX;
    r.max_entries = 1;
    f.msg_case = EWH__FRAME__MSG_AUDIT_REQUEST;
    f.audit_request = &r;
    c->out.chain_asked = node_link_send(a, c, &f) == 0;
}

void
node_outbox_on_proof(struct node_agent *a, struct node_conn *c,
                     const Ewh__AuditProof *p)
{
    struct ewh_err err = {0};

    if (p->checkpoint == NULL || p->checkpoint->body.len == 0)
        return;
    if (node_agent_begin(a, &err) != 0) {
        ewh_log_errx("agent: audit head: %s%s", err.reason, c->via);
        c->out.chain_asked = false; /* asked again with the next Hello */
        return;
    }
    s_keep_checkpoint(a, c, p->checkpoint, "(its head)");
}
