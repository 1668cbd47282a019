/* store_queue.c — envelopes and their deliveries: the envelope as
 * received, one fan-out row per report (which recipients still wait),
 * a deliveries row per delivery that is over, and the lanes (lanes.h):
 * each country's queued deliveries in order, in memory, changed only when
 * a transaction commits.  The lanes are the one owner of queue depth in
 * ewhub run (hub_store_queued()).  Also expiry and retention. */
#include "storeint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

static const char s_env_find[] = "SELECT hash FROM envelopes WHERE id = ?1";
static const char s_env_ins[] =
    "INSERT INTO envelopes(id, origin, level, created_at,"
    " expires_at, received_at, hash, env)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char s_fan_ins[] =
    "INSERT INTO fanout(seq, rcpts, level, expires_at,"
    " queued_at, waiting) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";
/* The walk's order comes from the lanes; the envelope is read only for
 * deliveries sent now, not for the ones in flight. */
static const char s_env_get[] = "SELECT id, env, expires_at FROM envelopes"
                                " WHERE rowid = ?1";
/* Clear delivery ?1's bit if it is cc ?2's and still waiting.  An
 * all-zero id: the node could not read the header (see
 * docs/protocol.md); seq and country still identify the delivery. */
static const char s_done[] = S_CLEAR_WAITING
    " AND substr(rcpts, 2 * (?1 % " S_SPAN ") + 1, 2) = ?2"
    " AND (?3 = zeroblob(16)"
    " OR ?3 = (SELECT id FROM envelopes WHERE rowid = ?1 / " S_SPAN "))"
    " RETURNING level";
static const char s_dlv_ins[] =
    "INSERT OR REPLACE INTO deliveries(seq, country, state,"
    " done_at) VALUES(?1, ?2, ?3, ?4)";
static const char s_counts[] =
    "SELECT " S_SLOT_CC ", f.level, count(*)" S_WAITING_ROWS " GROUP BY 1, 2";
static const char s_load[] = "SELECT seq, rcpts, level, waiting FROM fanout"
                             " WHERE waiting != 0 ORDER BY seq";
static const char s_queued_at[] = "SELECT queued_at FROM fanout"
                                  " WHERE seq = ?1 / " S_SPAN;
static const char s_expired[] =
    "SELECT f.seq, f.rcpts, f.waiting, e.id, e.origin"
    " FROM fanout f JOIN envelopes e ON e.rowid = f.seq"
    " WHERE f.waiting != 0 AND f.expires_at > 0"
    " AND f.expires_at <= ?1 LIMIT " S_STR(HUB_EXPIRE_ROWS);
static const char s_expire[] = S_CLEAR_WAITING;

/* ---- the lanes ---- */

/* Record a lane change for the commit (only when the lanes are loaded). */
static void
s_lane_op(hub_store_t *st, const char *cc, int level, uint64_t seq)
{
    if (st->lanes == NULL || st->lanes_stale)
        return;
    if (st->n_ops == st->cap_ops) {
        size_t ncap = st->cap_ops ? st->cap_ops * 2 : 256;
        struct hub_store_lane_op *n = realloc(st->ops, ncap * sizeof(*n));
        if (n == NULL) {
            st->lanes_stale = true; /* rebuilt from the database */
            return;
        }
        st->ops = n;
        st->cap_ops = ncap;
    }
    st->ops[st->n_ops].seq = seq;
    memcpy(st->ops[st->n_ops].cc, cc, 2);
    st->ops[st->n_ops].level = (uint8_t)level;
    st->n_ops++;
}

void
hub_store__lanes_commit(hub_store_t *st)
{
    size_t i;

    for (i = 0; i < st->n_ops && !st->lanes_stale; i++) {
        const struct hub_store_lane_op *o = &st->ops[i];
        if (o->level == 0)
            (void)hub_lanes_del(st->lanes, o->cc, o->seq);
        else if (hub_lanes_add(st->lanes, o->cc, o->level, o->seq) != 0)
            st->lanes_stale = true;
    }
    st->n_ops = 0;
}

void
hub_store__lanes_rollback(hub_store_t *st)
{
    st->n_ops = 0;
}

/* Queue the waiting deliveries of one fan-out row in the lanes. */
static int
s_lanes_row(hub_store_t *st, sqlite3_stmt *s, struct ewh_err *err)
{
    uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
    const char *rcpts = (const char *)sqlite3_column_text(s, 1);
    size_t n = (size_t)sqlite3_column_bytes(s, 1) / 2, i;
    int level = sqlite3_column_int(s, 2);
    uint64_t waiting = (uint64_t)sqlite3_column_int64(s, 3);

    if (level < EWH_LEVEL_LOW || level > EWH_LEVEL_HIGH) {
        /* Not written by ewhub: left out, the others still go. */
        ewh_log_warnx("store: report row %llu has level %d: not queued",
                      (unsigned long long)seq, level);
        return 0;
    }
    for (i = 0; i < n && i < HUB_SEQ_SPAN; i++) {
        if (((waiting >> i) & 1) == 0)
            continue;
        if (hub_lanes_add(st->lanes, &rcpts[2 * i], level,
                          seq * HUB_SEQ_SPAN + i) != 0)
            return ewh_err_set(err, EWH_E_NOMEM,
                               "cannot order the queue in memory (out "
                               "of memory, or more than %u countries)",
                               EWH_MAX_ROSTER_ENTRIES);
    }
    return 0;
}

/* (Re)build the lanes from the fan-out rows: once per ewhub run, and
 * after a change could not be applied in memory. */
static int
s_lanes_load(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s;
    int rc;

    if (st->lanes != NULL && !st->lanes_stale)
        return 0;
    EWH_ASSERT(!st->in_tx);
    if (st->lanes == NULL && (st->lanes = hub_lanes_new()) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    hub_lanes_clear(st->lanes);
    st->lanes_stale = true;
    if ((s = ewh_db_stmt(st->db, s_load, err)) == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "load queue", err)) == 1)
        if (s_lanes_row(st, s, err) != 0) {
            sqlite3_reset(s);
            return -1;
        }
    if (rc < 0)
        return -1;
    st->lanes_stale = false;
    return 0;
}

int
hub_store_queue_open(hub_store_t *st, struct ewh_err *err)
{
    return s_lanes_load(st, err);
}

static int
s_first_seq(void *arg, uint64_t seq)
{
    *(uint64_t *)arg = seq;
    return 1;
}

int
hub_store_queue_oldest(hub_store_t *st, const char *cc, int64_t *at,
                       struct ewh_err *err)
{
    sqlite3_stmt *s;
    int level, rc;

    *at = 0;
    if (s_lanes_load(st, err) != 0 ||
        (s = ewh_db_stmt(st->db, s_queued_at, err)) == NULL)
        return -1;
    for (level = EWH_LEVEL_LOW; level <= EWH_LEVEL_HIGH; level++) {
        uint64_t seq = 0;
        int64_t q;

        if (hub_lanes_walk(st->lanes, cc, level, s_first_seq, &seq) == 0)
            continue;
        sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
        if ((rc = ewh_db_step(st->db, s, "oldest queued", err)) < 0)
            return -1;
        if (rc == 1) {
            q = sqlite3_column_int64(s, 0);
            if (*at == 0 || q < *at)
                *at = q;
        }
        sqlite3_reset(s);
    }
    return 0;
}

int
hub_store_queued_levels(hub_store_t *st, const char *cc, uint64_t q[4],
                        struct ewh_err *err)
{
    int l;

    if (s_lanes_load(st, err) != 0)
        return -1;
    q[0] = 0;
    for (l = EWH_LEVEL_LOW; l <= EWH_LEVEL_HIGH; l++)
        q[l] = hub_lanes_count(st->lanes, cc, l);
    return 0;
}

int
hub_store_queued(hub_store_t *st, const char *cc, uint64_t *n,
                 struct ewh_err *err)
{
    uint64_t q[4];

    *n = 0;
    if (hub_store_queued_levels(st, cc, q, err) != 0)
        return -1;
    *n = q[1] + q[2] + q[3];
    return 0;
}

int
hub_store_queue_oldest_of(hub_store_t *st, const char *cc, int level,
                          int64_t *queued_at, struct ewh_err *err)
{
    sqlite3_stmt *s;
    uint64_t seq = 0;

    *queued_at = 0;
    if (s_lanes_load(st, err) != 0)
        return -1;
    if (hub_lanes_walk(st->lanes, cc, level, s_first_seq, &seq) == 0)
        return 0;
    if ((s = ewh_db_stmt(st->db, s_queued_at, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    return ewh_db_int(st->db, s, "oldest queued", queued_at, err);
}

/* ---- envelopes and fan-out rows ---- */

int
hub_store__delivery_add(hub_store_t *st, const char *cc, uint64_t seq,
                        int state, int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_dlv_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, state);
    sqlite3_bind_int64(s, 4, at);
    if (ewh_db_done(st->db, s, "record delivery", err) != 0)
        return -1;
    s_lane_op(st, cc, 0, seq);
    return 0;
}

int
hub_store__fan_add(hub_store_t *st, const struct hub_store_fan *f,
                   struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_fan_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, f->rowid);
    sqlite3_bind_text(s, 2, f->rcpts, (int)(2 * f->n), SQLITE_STATIC);
    sqlite3_bind_int(s, 3, f->level);
    sqlite3_bind_int64(s, 4, f->expires_at);
    sqlite3_bind_int64(s, 5, f->queued_at);
    sqlite3_bind_int64(s, 6, (int64_t)f->waiting);
    return ewh_db_done(st->db, s, "queue deliveries", err);
}

int
hub_store_envelope_find(hub_store_t *st, const uint8_t id[EWH_ID_BYTES],
                        const uint8_t hash[EWH_HASH_BYTES],
                        enum hub_env_match *found, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_env_find, err);
    int rc;

    *found = HUB_ENV_NEW;
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id, EWH_ID_BYTES, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "find envelope", err)) < 0)
        return -1;
    if (rc == 1) {
        *found =
            sqlite3_column_bytes(s, 0) == EWH_HASH_BYTES &&
                    memcmp(sqlite3_column_blob(s, 0), hash, EWH_HASH_BYTES) == 0
                ? HUB_ENV_SAME
                : HUB_ENV_OTHER;
        sqlite3_reset(s);
    }
    return 0;
}

int
hub_store_envelope_add(hub_store_t *st, const uint8_t *env, size_t len,
                       const struct ewh_header *hdr,
                       const uint8_t hash[EWH_HASH_BYTES], int64_t received_at,
                       struct ewh_err *err)
{
    return hub_store_envelope_add_local(st, env, len, hdr, hash, received_at,
                                        UINT64_MAX, NULL, err);
}

int
hub_store_envelope_add_local(hub_store_t *st, const uint8_t *env, size_t len,
                             const struct ewh_header *hdr,
                             const uint8_t hash[EWH_HASH_BYTES],
                             int64_t received_at, uint64_t local,
                             int64_t *rowid, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_env_ins, err);
    struct hub_store_fan f;
    size_t i;

    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, hdr->id, EWH_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hdr->origin, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, (int)hdr->level);
    sqlite3_bind_int64(s, 4, hdr->created_at);
    sqlite3_bind_int64(s, 5, hdr->expires_at);
    sqlite3_bind_int64(s, 6, received_at);
    sqlite3_bind_blob(s, 7, hash, EWH_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 8, env, (int)len, SQLITE_STATIC);
    if (ewh_db_done(st->db, s, "store envelope", err) != 0)
        return -1;
    f.rowid = sqlite3_last_insert_rowid(hub_store__sql(st));
    if (hdr->type == EWH_TYPE_RETURN &&
        hub_store__return_note(st, hdr, received_at, err) != 0)
        return -1;
    EWH_ASSERT(hdr->n_recipients >= 1 && hdr->n_recipients <= HUB_SEQ_SPAN);
    for (f.n = 0; f.n < hdr->n_recipients; f.n++)
        memcpy(&f.rcpts[2 * f.n], hdr->recipients[f.n], 2);
    f.level = (int)hdr->level;
    f.expires_at = hdr->expires_at;
    f.queued_at = received_at;
    f.waiting = ((UINT64_C(1) << f.n) - 1) & local;
    if (hub_store__fan_add(st, &f, err) != 0)
        return -1;
    for (i = 0; i < f.n; i++)
        if ((f.waiting >> i) & 1)
            s_lane_op(st, hdr->recipients[i], f.level,
                      (uint64_t)f.rowid * HUB_SEQ_SPAN + i);
    if (rowid != NULL)
        *rowid = f.rowid;
    return 0;
}

/* ---- the walk, delivered, counts ---- */

struct s_walk {
    hub_store_t *st;
    sqlite3_stmt *e; /* s_env_get */
    const char *cc;
    int level;
    size_t left;
    hub_skip_fn skip;
    void *skip_ctx;
    hub_qrow_fn fn;
    void *ctx;
    int rc; /* SQLite's, on a failed read */
};

static int
s_walk_one(void *arg, uint64_t seq)
{
    struct s_walk *w = arg;
    sqlite3_stmt *e = w->e;
    struct hub_qrow row;

    if (w->left == 0)
        return 1;
    w->left--;
    if (w->skip != NULL && w->skip(w->skip_ctx, w->cc, seq))
        return 0;
    sqlite3_reset(e);
    sqlite3_bind_int64(e, 1, (int64_t)(seq / HUB_SEQ_SPAN));
    if ((w->rc = sqlite3_step(e)) != SQLITE_ROW) {
        if (w->rc == SQLITE_DONE)
            w->rc = SQLITE_CORRUPT; /* a queued delivery without envelope */
        return 1;
    }
    w->rc = SQLITE_OK;
    memset(&row, 0, sizeof(row));
    row.seq = seq;
    if (sqlite3_column_bytes(e, 0) == EWH_ID_BYTES)
        memcpy(row.id, sqlite3_column_blob(e, 0), EWH_ID_BYTES);
    row.level = (enum ewh_level)w->level;
    row.env = sqlite3_column_blob(e, 1);
    row.env_len = (size_t)sqlite3_column_bytes(e, 1);
    row.expires_at = sqlite3_column_int64(e, 2);
    return w->fn(w->ctx, &row) != 0 ? 1 : 0;
}

int
hub_store_queue_walk(hub_store_t *st, const char *cc, size_t limit,
                     hub_skip_fn skip, void *skip_ctx, hub_qrow_fn fn,
                     void *ctx, struct ewh_err *err)
{
    struct s_walk w = {.st = st,
                       .cc = cc,
                       .left = limit,
                       .skip = skip,
                       .skip_ctx = skip_ctx,
                       .fn = fn,
                       .ctx = ctx,
                       .rc = SQLITE_OK};
    int stop = 0;

    if (s_lanes_load(st, err) != 0 ||
        (w.e = ewh_db_stmt(st->db, s_env_get, err)) == NULL)
        return -1;
    for (w.level = EWH_LEVEL_HIGH; w.level >= EWH_LEVEL_LOW && !stop; w.level--)
        stop = hub_lanes_walk(st->lanes, cc, w.level, s_walk_one, &w);
    sqlite3_reset(w.e);
    if (w.rc != SQLITE_OK)
        return ewh_db_err(st->db, w.rc, "walk queue", err);
    return 0;
}

int
hub_store_queue_done(hub_store_t *st, const char *cc, uint64_t seq,
                     const uint8_t id[EWH_ID_BYTES], bool *changed,
                     enum ewh_level *level, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_done, err);
    int rc, v;

    *changed = false;
    *level = EWH_LEVEL_NONE;
    if (s == NULL)
        return -1;
    if (seq > (uint64_t)INT64_MAX)
        return 0; /* no such delivery */
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id, EWH_ID_BYTES, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "mark delivered", err)) < 0)
        return -1;
    if (rc == 0)
        return 0; /* not queued (any more), or not cc's */
    v = sqlite3_column_int(s, 0);
    *level = v >= EWH_LEVEL_LOW && v <= EWH_LEVEL_HIGH ? (enum ewh_level)v
                                                       : EWH_LEVEL_NONE;
    /* One row at most (seq names one fan-out row); done. */
    if (ewh_db_done(st->db, s, "mark delivered", err) != 0 ||
        hub_store__delivery_add(st, cc, seq, S_DLV_DELIVERED, ewh_now(), err) !=
            0) {
        *level = EWH_LEVEL_NONE;
        return -1;
    }
    *changed = true;
    return 0;
}

struct s_count {
    hub_count_fn fn;
    void *ctx;
};

static void
s_count_lane(void *arg, const char *cc, int level, uint64_t n)
{
    struct s_count *c = arg;

    c->fn(c->ctx, cc, (enum ewh_level)level, n);
}

int
hub_store_queue_counts(hub_store_t *st, hub_count_fn fn, void *ctx,
                       struct ewh_err *err)
{
    sqlite3_stmt *s;
    char cc[EWH_CC_BYTES];
    int rc;

    if (st->lanes != NULL && !st->lanes_stale && !st->in_tx) {
        struct s_count c = {fn, ctx};
        hub_lanes_counts(st->lanes, s_count_lane, &c);
        return 0;
    }
    if ((s = ewh_db_stmt(st->db, s_counts, err)) == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "count queues", err)) == 1) {
        ewh_db_text(s, 0, cc, sizeof(cc));
        fn(ctx, cc, (enum ewh_level)sqlite3_column_int(s, 1),
           (uint64_t)sqlite3_column_int64(s, 2));
    }
    return rc < 0 ? -1 : 0;
}

/* ---- expiry ---- */

struct s_expired {
    uint64_t seq; /* the fan-out row's */
    uint64_t waiting;
    char rcpts[2 * HUB_SEQ_SPAN];
    size_t n_rcpts;
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES];
};

/* Read up to HUB_EXPIRE_ROWS reports with deliveries past their expiry. */
static int
s_expired_rows(hub_store_t *st, int64_t now, struct s_expired *rows, size_t *n,
               struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_expired, err);
    int rc = 0;

    *n = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while (*n < HUB_EXPIRE_ROWS &&
           (rc = ewh_db_step(st->db, s, "find expired", err)) == 1) {
        struct s_expired *r = &rows[*n];
        r->seq = (uint64_t)sqlite3_column_int64(s, 0);
        r->n_rcpts = (size_t)sqlite3_column_bytes(s, 1) / 2;
        if (r->n_rcpts > HUB_SEQ_SPAN)
            r->n_rcpts = HUB_SEQ_SPAN;
        memcpy(r->rcpts, sqlite3_column_text(s, 1), 2 * r->n_rcpts);
        r->waiting = (uint64_t)sqlite3_column_int64(s, 2);
        if (sqlite3_column_bytes(s, 3) == EWH_ID_BYTES)
            memcpy(r->id, sqlite3_column_blob(s, 3), EWH_ID_BYTES);
        ewh_db_text(s, 4, r->origin, sizeof(r->origin));
        (*n)++;
    }
    sqlite3_reset(s);
    return rc < 0 ? -1 : 0;
}

static int
s_expire_one(hub_store_t *st, uint64_t seq, const char *cc, int64_t now,
             struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_expire, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    if (ewh_db_done(st->db, s, "expire", err) != 0)
        return -1;
    return hub_store__delivery_add(st, cc, seq, S_DLV_EXPIRED, now, err);
}

int
hub_store_expire(hub_store_t *st, int64_t now, hub_skip_fn skip,
                 hub_expired_fn fn, void *ctx, size_t *n_expired,
                 struct ewh_err *err)
{
    struct s_expired *rows = NULL;
    size_t n = 0, i, k;
    int ret = -1;

    *n_expired = 0;
    if ((rows = calloc(HUB_EXPIRE_ROWS, sizeof(*rows))) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    if (s_expired_rows(st, now, rows, &n, err) != 0)
        goto out;
    for (i = 0; i < n; i++)
        for (k = 0; k < rows[i].n_rcpts; k++) {
            uint64_t seq = rows[i].seq * HUB_SEQ_SPAN + k;
            char cc[EWH_CC_BYTES];
            if (((rows[i].waiting >> k) & 1) == 0)
                continue;
            snprintf(cc, sizeof(cc), "%.2s", &rows[i].rcpts[2 * k]);
            if (skip != NULL && skip(ctx, cc, seq))
                continue;
            if (s_expire_one(st, seq, cc, now, err) != 0 ||
                (fn != NULL &&
                 fn(ctx, cc, rows[i].id, rows[i].origin, now, err) != 0))
                goto out;
            (*n_expired)++;
        }
    ret = 0;
out:
    free(rows);
    return ret;
}

/* ---- retention ---- */

/* A report is final when none of its deliveries is still waiting; it is
 * removed (its envelope bytes emptied, the row kept) once its last
 * delivery became final before the cutoff of its kind.  The row stays so
 * that a resend of the id is still a duplicate and the audit chain entry
 * keeps its id. */
#define S_DLV_OF_E                                                             \
    "d.seq >= e.rowid * " S_SPAN " AND d.seq < (e.rowid + 1) * " S_SPAN
#define S_CUTOFF                                                               \
    "(CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE " S_DLV_OF_E          \
    " AND d.state = 2) THEN ?2 ELSE ?1 END)"
static const char s_sweep_sql[] =
    "UPDATE envelopes SET env = X'' WHERE rowid IN ("
    " SELECT e.rowid FROM envelopes e LEFT JOIN fanout f ON f.seq = e.rowid"
    " WHERE e.rowid > ?3 AND e.rowid <= ?4 AND length(e.env) > 0"
    " AND coalesce(f.waiting, 0) = 0 AND " S_CUTOFF " > 0"
    /* a transfer still queued for a peer hub keeps it (issue 22) */
    " AND NOT EXISTS (SELECT 1 FROM fed_out o WHERE o.env = e.rowid"
    " AND o.state = 0)"
    " AND coalesce((SELECT max(d.done_at) FROM deliveries d WHERE " S_DLV_OF_E
    "), e.received_at) <= " S_CUTOFF ")";
/* max(rowid) is a single b-tree descent, not a scan. */
static const char s_max_rowid[] =
    "SELECT coalesce(max(rowid), 0) FROM envelopes";

int
hub_store_retention_sweep(hub_store_t *st, int64_t delivered_before,
                          int64_t expired_before, int64_t after, int64_t span,
                          int64_t *next, size_t *n_removed, struct ewh_err *err)
{
    sqlite3_stmt *s;
    int64_t max_rowid = 0;

    *n_removed = 0;
    *next = 0;
    if ((s = ewh_db_stmt(st->db, s_max_rowid, err)) == NULL ||
        ewh_db_int(st->db, s, "retention", &max_rowid, err) != 0)
        return -1;
    if (after >= max_rowid)
        return 0;
    if ((s = ewh_db_stmt(st->db, s_sweep_sql, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, delivered_before);
    sqlite3_bind_int64(s, 2, expired_before);
    sqlite3_bind_int64(s, 3, after);
    sqlite3_bind_int64(s, 4, after + span);
    if (ewh_db_done(st->db, s, "retention", err) != 0)
        return -1;
    *n_removed = (size_t)sqlite3_changes(hub_store__sql(st));
    *next = after + span < max_rowid ? after + span : 0;
    return 0;
}

/* ---- storage budgets (issue 16, item 6) ---- */

/* Bytes of the envelopes still waiting for cc (one per delivery). */
static const char s_bytes_for[] =
    "SELECT coalesce(sum(length(e.env)), 0)"
    " FROM fanout f JOIN slots s ON s.i < length(f.rcpts) / 2"
    " JOIN envelopes e ON e.rowid = f.seq"
    " WHERE f.waiting != 0 AND (f.waiting >> s.i) & 1"
    " AND substr(f.rcpts, 2 * s.i + 1, 2) = ?1";
/* Bytes of cc's envelopes still waiting for any addressee. */
static const char s_bytes_from[] =
    "SELECT coalesce(sum(length(e.env)), 0)"
    " FROM fanout f JOIN envelopes e ON e.rowid = f.seq"
    " WHERE f.waiting != 0 AND e.origin = ?1";

static int
s_bytes(hub_store_t *st, const char *sql, const char *cc, uint64_t *n,
        struct ewh_err *err)
{
    sqlite3_stmt *s;
    int rc;

    *n = 0;
    if ((s = ewh_db_stmt(st->db, sql, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "budget bytes", err)) < 0)
        return -1;
    if (rc == 1)
        *n = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return 0;
}

/* The same for every country at once: one scan of the waiting rows for
 * each of the two, grouped (issue 19: the two scans of each country's
 * first submit after a start stalled the loop, 274 ms with 100,000
 * reports waiting). */
static const char s_bytes_for_all[] =
    "SELECT substr(f.rcpts, 2 * s.i + 1, 2) AS cc,"
    " coalesce(sum(length(e.env)), 0)"
    " FROM fanout f JOIN slots s ON s.i < length(f.rcpts) / 2"
    " JOIN envelopes e ON e.rowid = f.seq"
    " WHERE f.waiting != 0 AND (f.waiting >> s.i) & 1 GROUP BY cc";
static const char s_bytes_from_all[] =
    "SELECT e.origin, coalesce(sum(length(e.env)), 0)"
    " FROM fanout f JOIN envelopes e ON e.rowid = f.seq"
    " WHERE f.waiting != 0 GROUP BY e.origin";

int
hub_store_bytes_all(hub_store_t *st, hub_store_bytes_fn fn, void *ctx,
                    struct ewh_err *err)
{
    const char *sql[2] = {s_bytes_for_all, s_bytes_from_all};
    sqlite3_stmt *s;
    size_t k;
    int rc;

    for (k = 0; k < 2; k++) {
        if ((s = ewh_db_stmt(st->db, sql[k], err)) == NULL)
            return -1;
        while ((rc = ewh_db_step(st->db, s, "budget bytes", err)) == 1) {
            const unsigned char *cc = sqlite3_column_text(s, 0);
            if (cc != NULL && sqlite3_column_bytes(s, 0) == 2)
                fn(ctx, (const char *)cc, k == 0,
                   (uint64_t)sqlite3_column_int64(s, 1));
        }
        sqlite3_reset(s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
hub_store_bytes_for(hub_store_t *st, const char *cc, uint64_t *n,
                    struct ewh_err *err)
{
    return s_bytes(st, s_bytes_for, cc, n, err);
}

int
hub_store_bytes_from(hub_store_t *st, const char *cc, uint64_t *n,
                     struct ewh_err *err)
{
    return s_bytes(st, s_bytes_from, cc, n, err);
}

int
hub_store_quota(hub_store_t *st, uint64_t *used, uint64_t *max,
                struct ewh_err *err)
{
    static const char *const q[4] = {
        "PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA max_page_count",
        "PRAGMA page_size"};
    sqlite3_stmt *s;
    int64_t v[4] = {0, 0, 0, 0};
    int i, rc;

    *used = *max = 0;
    for (i = 0; i < 4; i++) {
        if ((s = ewh_db_stmt(st->db, q[i], err)) == NULL)
            return -1;
        if ((rc = ewh_db_step(st->db, s, "store size", err)) < 0)
            return -1;
        if (rc == 1)
            v[i] = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
    }
    *used = (uint64_t)(v[0] > v[1] ? v[0] - v[1] : 0) * (uint64_t)v[3];
    /* SQLite's default max_page_count (4294967294) means "no quota". */
    if (v[2] > 0 && v[2] < 4294967294LL)
        *max = (uint64_t)v[2] * (uint64_t)v[3];
    return 0;
}
