/* store.c — the hub's SQLite store.  The only module that speaks SQL. */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "ewh.pb-c.h"
#include "ewh/dbcheck.h"
#include "ewh/log.h"
#include "ewh/util.h"
#include "lanes.h"

#define S_STR_(x) #x
#define S_STR(x)  S_STR_(x)

/* Delivery slots per envelope rowid (see the fanout table); the SQL below
 * spells it S_SPAN. */
#define HUB_SEQ_SPAN 32
#define S_SPAN       S_STR(HUB_SEQ_SPAN)
_Static_assert(HUB_SEQ_SPAN >= EWH_MAX_RECIPIENTS,
               "a report's recipients must fit its seq range");

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER);"
    "INSERT OR IGNORE INTO meta(k, v) VALUES('roster_version', 0);"
    "CREATE TABLE IF NOT EXISTS nodes("
    " country TEXT PRIMARY KEY, curve BLOB NOT NULL, sign BLOB NOT NULL,"
    " box BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " enrolled_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS envelopes("
    " id BLOB PRIMARY KEY, origin TEXT NOT NULL, level INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL, hash BLOB NOT NULL, env BLOB NOT NULL);"
    /* Delivery state, one fan-out row per report (layout 3): seq is the
     * envelope's rowid, rcpts its recipients in header order (two letters
     * each), and bit i of waiting is set while rcpts' i-th has not had it.
     * A delivery is named by seq * HUB_SEQ_SPAN + i.  The order of each
     * country's queued deliveries is kept in memory (lanes.h), so that an
     * accepted report costs one row here instead of one row and one index
     * entry per recipient (docs/performance.md).  No foreign key:
     * hub_store_envelope_add() writes the envelope and its fan-out row in
     * one transaction. */
    "CREATE TABLE IF NOT EXISTS fanout("
    " seq INTEGER PRIMARY KEY, rcpts TEXT NOT NULL, level INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, queued_at INTEGER NOT NULL,"
    " waiting INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS fanout_exp ON fanout(expires_at)"
    " WHERE waiting != 0 AND expires_at > 0;"
    /* A delivery that is over: state 1 delivered, 2 expired. */
    "CREATE TABLE IF NOT EXISTS deliveries("
    " seq INTEGER PRIMARY KEY, country TEXT NOT NULL, state INTEGER NOT NULL,"
    " done_at INTEGER NOT NULL);"
    /* 0 .. HUB_SEQ_SPAN - 1, to spell a report's slots in SQL. */
    "CREATE TABLE IF NOT EXISTS slots(i INTEGER PRIMARY KEY);"
    "INSERT OR IGNORE INTO slots(i) WITH RECURSIVE n(i) AS (SELECT 0"
    " UNION ALL SELECT i + 1 FROM n WHERE i + 1 < " S_SPAN ") SELECT i FROM n;"
    /* One row per delivery, as layout 2 stored them, for operators' SQL:
     * state 0 queued, 1 delivered, 2 expired. */
    "CREATE VIEW IF NOT EXISTS queue(seq, id, country, level, expires_at,"
    " state, queued_at, done_at) AS"
    " SELECT f.seq * " S_SPAN " + s.i, e.id, substr(f.rcpts, 2 * s.i + 1, 2),"
    " f.level, f.expires_at,"
    " CASE WHEN (f.waiting >> s.i) & 1 THEN 0 ELSE d.state END,"
    " f.queued_at, d.done_at"
    " FROM fanout f JOIN slots s ON s.i < length(f.rcpts) / 2"
    " JOIN envelopes e ON e.rowid = f.seq"
    " LEFT JOIN deliveries d ON d.seq = f.seq * " S_SPAN " + s.i;"
    "CREATE TABLE IF NOT EXISTS audit("
    " n INTEGER PRIMARY KEY, id BLOB NOT NULL, envelope_hash BLOB NOT NULL,"
    " origin TEXT NOT NULL, received_at INTEGER NOT NULL,"
    " head BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS receipts("
    " id BLOB NOT NULL, from_cc TEXT NOT NULL, kind INTEGER NOT NULL,"
    " origin TEXT NOT NULL, at INTEGER NOT NULL, receipt BLOB NOT NULL,"
    " PRIMARY KEY(id, from_cc, kind));"
    "CREATE TABLE IF NOT EXISTS relay("
    " seq INTEGER PRIMARY KEY, country TEXT NOT NULL,"
    " kind INTEGER NOT NULL, payload BLOB NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS relay_next ON relay(country, done, seq);"
    /* Monitoring and audit (issue 5): traffic events (metadata only) and
     * the signed checkpoints, one per batch that grew the chain. */
    "CREATE TABLE IF NOT EXISTS events("
    " seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " id BLOB, origin TEXT, recipients TEXT, level INTEGER,"
    " size INTEGER, code TEXT, reason TEXT);"
    /* Annual exchange (docs/exchange.md): which origin sent a return for
     * which year, from the clear routing header; metadata only. */
    "CREATE TABLE IF NOT EXISTS returns("
    " origin TEXT NOT NULL, year INTEGER NOT NULL, id BLOB NOT NULL,"
    " received_at INTEGER NOT NULL, PRIMARY KEY(origin, year, id));"
    "CREATE TABLE IF NOT EXISTS checkpoints("
    " length INTEGER PRIMARY KEY, head BLOB NOT NULL, time INTEGER NOT NULL,"
    " cp BLOB NOT NULL);";

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_VERSION,
    S_BUMP,
    S_NODE_GET,
    S_NODE_INS,
    S_NODE_UPD,
    S_NODE_REVOKE,
    S_NODES,
    S_ENV_FIND,
    S_ENV_INS,
    S_Q_INS,
    S_AUDIT_HEAD,
    S_AUDIT_INS,
    S_ENV_GET,
    S_Q_DONE,
    S_DLV_INS,
    S_Q_COUNTS,
    S_Q_LOAD,
    S_Q_EXPIRED,
    S_Q_EXPIRE,
    S_RECIPIENT,
    S_RC_INS,
    S_RELAY_INS,
    S_RELAY_WALK,
    S_RELAY_DONE,
    S_EV_INS,
    S_EV_DELIVERED,
    S_EV_TRIM,
    S_EV_WALK,
    S_CP_INS,
    S_CP_WALK,
    S_AUDIT_WALK,
    S_AUDIT_AT,
    S_UNCHAINED,
    S_META_GET,
    S_ST_SENT,
    S_ST_RECV,
    S_ST_OLDEST,
    S_ST_REFUSED,
    S_ST_SIZE,
    S__COUNT
};

/* Clear the bit of delivery ?1 (seq) in its fan-out row, if it waits. */
#define S_CLEAR_WAITING                                                        \
    "UPDATE fanout SET waiting = waiting & ~(1 << (?1 % " S_SPAN "))"          \
    " WHERE seq = ?1 / " S_SPAN " AND (waiting >> (?1 % " S_SPAN ")) & 1"
/* The deliveries still waiting, a row each: their country is S_SLOT_CC. */
#define S_SLOT_CC "substr(f.rcpts, 2 * s.i + 1, 2)"
#define S_WAITING_ROWS                                                         \
    " FROM fanout f JOIN slots s ON s.i < length(f.rcpts) / 2"                 \
    " WHERE f.waiting != 0 AND (f.waiting >> s.i) & 1"

static const char *const s_sql[S__COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_VERSION] = "SELECT v FROM meta WHERE k = 'roster_version'",
    [S_BUMP] = "UPDATE meta SET v = v + 1 WHERE k = 'roster_version'",
    [S_NODE_GET] = "SELECT curve, sign, box, revoked FROM nodes"
                   " WHERE country = ?1",
    [S_NODE_INS] = "INSERT INTO nodes(country, curve, sign, box, revoked,"
                   " enrolled_at, updated_at) VALUES(?1, ?2, ?3, ?4, 0, ?5,"
                   " ?5)",
    [S_NODE_UPD] = "UPDATE nodes SET curve = ?2, sign = ?3, box = ?4,"
                   " revoked = 0, updated_at = ?5 WHERE country = ?1",
    [S_NODE_REVOKE] = "UPDATE nodes SET revoked = 1, updated_at = ?2"
                      " WHERE country = ?1 AND revoked = 0",
    [S_NODES] = "SELECT country, curve, sign, box, revoked FROM nodes"
                " ORDER BY country",
    [S_ENV_FIND] = "SELECT hash FROM envelopes WHERE id = ?1",
    [S_ENV_INS] = "INSERT INTO envelopes(id, origin, level, created_at,"
                  " expires_at, received_at, hash, env)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_Q_INS] = "INSERT INTO fanout(seq, rcpts, level, expires_at,"
                " queued_at, waiting) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_AUDIT_HEAD] = "SELECT n, head FROM audit ORDER BY n DESC LIMIT 1",
    [S_AUDIT_INS] = "INSERT INTO audit(n, id, envelope_hash, origin,"
                    " received_at, head) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    /* The walk's order comes from the lanes; the envelope is read only
     * for deliveries sent now, not for the ones in flight. */
    [S_ENV_GET] = "SELECT id, env, expires_at FROM envelopes"
                  " WHERE rowid = ?1",
    /* Clear delivery ?1's bit if it is cc ?2's and still waiting.  An
     * all-zero id: the node could not read the header (see
     * docs/protocol.md); seq and country still identify the delivery. */
    [S_Q_DONE] = S_CLEAR_WAITING
    " AND substr(rcpts, 2 * (?1 % " S_SPAN ") + 1, 2) = ?2"
    " AND (?3 = zeroblob(16)"
    " OR ?3 = (SELECT id FROM envelopes WHERE rowid = ?1 / " S_SPAN "))"
    " RETURNING level",
    [S_DLV_INS] = "INSERT OR REPLACE INTO deliveries(seq, country, state,"
                  " done_at) VALUES(?1, ?2, ?3, ?4)",
    [S_Q_COUNTS] = "SELECT " S_SLOT_CC ", f.level, count(*)" S_WAITING_ROWS
                   " GROUP BY 1, 2",
    [S_Q_LOAD] = "SELECT seq, rcpts, level, waiting FROM fanout"
                 " WHERE waiting != 0 ORDER BY seq",
    [S_Q_EXPIRED] = "SELECT f.seq, f.rcpts, f.waiting, e.id, e.origin"
                    " FROM fanout f JOIN envelopes e ON e.rowid = f.seq"
                    " WHERE f.waiting != 0 AND f.expires_at > 0"
                    " AND f.expires_at <= ?1 LIMIT " S_STR(HUB_EXPIRE_ROWS),
    [S_Q_EXPIRE] = S_CLEAR_WAITING,
    [S_RECIPIENT] = "SELECT e.origin, f.rcpts FROM envelopes e"
                    " JOIN fanout f ON f.seq = e.rowid WHERE e.id = ?1",
    [S_RC_INS] = "INSERT OR IGNORE INTO receipts(id, from_cc, kind, origin,"
                 " at, receipt) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_RELAY_INS] = "INSERT INTO relay(country, kind, payload, created_at)"
                    " VALUES(?1, ?2, ?3, ?4)",
    [S_RELAY_WALK] = "SELECT seq, kind, payload FROM relay"
                     " WHERE country = ?1 AND done = 0 ORDER BY seq LIMIT ?2",
    [S_RELAY_DONE] = "UPDATE relay SET done = 1 WHERE seq = ?1"
                     " AND country = ?2 AND done = 0",
    /* level and size default to the stored envelope's, when there is one */
    [S_EV_INS] = "INSERT INTO events(at, kind, id, origin, recipients, level,"
                 " size, code, reason) VALUES(?1, ?2, ?3, ?4, ?5,"
                 " coalesce(?6, (SELECT level FROM envelopes WHERE id = ?3)),"
                 " coalesce(?7, (SELECT length(env) FROM envelopes"
                 " WHERE id = ?3)), ?8, ?9)",
    [S_EV_DELIVERED] = "INSERT INTO events(at, kind, id, origin, recipients,"
                       " level, size) SELECT ?3, ?4, e.id, e.origin, ?2,"
                       " f.level, length(e.env) FROM fanout f"
                       " JOIN envelopes e ON e.rowid = f.seq"
                       " WHERE f.seq = ?1 / " S_SPAN,
    [S_EV_TRIM] = "DELETE FROM events WHERE seq <= (SELECT max(seq) FROM"
                  " events) - ?1",
    [S_EV_WALK] = "SELECT seq, at, kind, id, origin, recipients, level, size,"
                  " code, reason FROM events WHERE seq > ?1 AND at >= ?2"
                  " ORDER BY seq LIMIT ?3",
    [S_CP_INS] = "INSERT OR REPLACE INTO checkpoints(length, head, time, cp)"
                 " VALUES(?1, ?2, ?3, ?4)",
    [S_CP_WALK] = "SELECT length, cp FROM checkpoints ORDER BY length",
    [S_AUDIT_WALK] = "SELECT a.n, a.id, a.envelope_hash, a.origin,"
                     " a.received_at, a.head, e.env, e.origin, e.received_at,"
                     " (SELECT f.waiting FROM fanout f"
                     "  WHERE f.seq = e.rowid AND e.id = a.id)"
                     " FROM audit a LEFT JOIN envelopes e ON e.id = a.id"
                     " WHERE a.n > ?1 ORDER BY a.n LIMIT ?2",
    [S_AUDIT_AT] = "SELECT head FROM audit WHERE n = ?1",
    [S_UNCHAINED] = "SELECT e.id, e.origin FROM envelopes e WHERE NOT EXISTS"
                    " (SELECT 1 FROM audit a WHERE a.id = e.id)",
    [S_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [S_ST_SENT] = "SELECT origin, level, sum(received_at > ?1 - 3600),"
                  " count(*) FROM envelopes WHERE received_at > ?1 - 86400"
                  " GROUP BY origin, level",
    [S_ST_RECV] = "SELECT d.country, f.level, sum(d.done_at > ?1 - 3600),"
                  " count(*) FROM deliveries d"
                  " JOIN fanout f ON f.seq = d.seq / " S_SPAN
                  " WHERE d.state = 1 AND d.done_at > ?1 - 86400"
                  " GROUP BY d.country, f.level",
    [S_ST_OLDEST] =
        "SELECT " S_SLOT_CC ", min(f.queued_at)" S_WAITING_ROWS " GROUP BY 1",
    [S_ST_REFUSED] = "SELECT coalesce(code, '-'), sum(at > ?1 - 3600),"
                     " sum(at > ?1 - 86400), count(*) FROM events"
                     " WHERE kind = 2 GROUP BY 1 ORDER BY 1",
    [S_ST_SIZE] = "SELECT page_count * page_size FROM pragma_page_count(),"
                  " pragma_page_size()",
};

/* The checkpointer (hub_store_checkpointer_start): a thread with its own
 * connection copies the WAL back into the database, so that the loop
 * thread's commits never do it. */
#define S_CKPT_PAGES  1024  /* WAL pages that start a checkpoint */
#define S_CKPT_INLINE 16384 /* ... and that make the writer do one */

struct s_ckpt {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;
    bool due, stop, started;
    int last_rc; /* of the last checkpoint, for one warning per change */
    uint64_t runs, failed, wal_pages; /* under mu */
};

/* A change to the lanes, made when the transaction that wrote it
 * commits. */
struct s_lane_op {
    uint64_t seq;
    char cc[2];
    uint8_t level; /* 1..3 to add; 0 to remove */
};

struct hub_store {
    sqlite3 *db;
    struct s_ckpt ck;
    sqlite3_stmt *st[S__COUNT];
    bool in_tx;
    /* The queued deliveries' order, loaded by the first walk (ewhub run
     * only); NULL in the other commands. */
    hub_lanes_t *lanes;
    bool lanes_stale; /* rebuild before the next use */
    struct s_lane_op *ops;
    size_t n_ops, cap_ops;
};

static int
s_dberr(hub_store_t *st, int rc, const char *what, struct ewh_err *err)
{
    int prim = rc & 0xff;

    if (prim == SQLITE_FULL)
        return ewh_err_set(err, EWH_E_DISKFULL, "store full (%s)", what);
    if (prim == SQLITE_IOERR &&
        (rc == SQLITE_IOERR_WRITE || rc == SQLITE_IOERR_FSYNC))
        return ewh_err_set(err, EWH_E_DISKFULL, "store write failed (%s)",
                           what);
    return ewh_err_set(err, EWH_E_STORE, "store: %s: %s", what,
                       st != NULL && st->db != NULL ? sqlite3_errmsg(st->db)
                                                    : sqlite3_errstr(rc));
}

/* The cached statement k, reset and with bindings cleared. */
static sqlite3_stmt *
s_stmt(hub_store_t *st, int k, struct ewh_err *err)
{
    int rc;

    if (st->st[k] == NULL) {
        rc = sqlite3_prepare_v3(st->db, s_sql[k], -1, SQLITE_PREPARE_PERSISTENT,
                                &st->st[k], NULL);
        if (rc != SQLITE_OK) {
            s_dberr(st, rc, "prepare", err);
            return NULL;
        }
    }
    sqlite3_reset(st->st[k]);
    sqlite3_clear_bindings(st->st[k]);
    return st->st[k];
}

/* Step a statement that returns no rows. */
static int
s_exec(hub_store_t *st, sqlite3_stmt *s, const char *what, struct ewh_err *err)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, what, err);
    return 0;
}

/* The store's layout, in meta('layout').  Layout 1 (before 2026-11-22,
 * no meta row) numbered queue rows in arrival order and indexed them by
 * id; layout 2 numbered them from the envelope's rowid, one row per
 * recipient; layout 3 keeps one fan-out row per report and a deliveries
 * row per delivery that is over (see the fanout table).  An older store is
 * upgraded in place, in one transaction. */
#define S_LAYOUT 3

static const char s_upgrade_1[] =
    "DROP INDEX IF EXISTS queue_id;"
    "DROP INDEX IF EXISTS queue_next;"
    "DROP INDEX IF EXISTS queue_exp;"
    "ALTER TABLE queue RENAME TO queue_v1;"
    "CREATE TABLE queue(seq INTEGER PRIMARY KEY, id BLOB NOT NULL,"
    " country TEXT NOT NULL, level INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
    " queued_at INTEGER NOT NULL, done_at INTEGER);";
static const char s_upgrade_1_copy[] =
    "INSERT INTO queue(seq, id, country, level, expires_at, state,"
    " queued_at, done_at) SELECT e.rowid * " S_SPAN " + row_number() OVER"
    " (PARTITION BY q.id ORDER BY q.seq) - 1, q.id, q.country, q.level,"
    " q.expires_at, q.state, q.queued_at, q.done_at"
    " FROM queue_v1 q JOIN envelopes e ON e.id = q.id;";
static const char s_upgrade_2_read[] =
    "SELECT seq, country, level, expires_at, state, queued_at, done_at"
    " FROM queue ORDER BY seq";
static const char s_upgrade_2_drop[] = "DROP INDEX IF EXISTS queue_next;"
                                       "DROP INDEX IF EXISTS queue_exp;"
                                       "DROP TABLE queue;";

static int64_t
s_count(hub_store_t *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t n = -1;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* Record a lane change for the commit (only when the lanes are loaded). */
static void
s_lane_op(hub_store_t *st, const char *cc, int level, uint64_t seq)
{
    if (st->lanes == NULL || st->lanes_stale)
        return;
    if (st->n_ops == st->cap_ops) {
        size_t ncap = st->cap_ops ? st->cap_ops * 2 : 256;
        struct s_lane_op *n = realloc(st->ops, ncap * sizeof(*n));
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

static int
s_delivery_add(hub_store_t *st, const char *cc, uint64_t seq, int state,
               int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_DLV_INS, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, state);
    sqlite3_bind_int64(s, 4, at);
    if (s_exec(st, s, "record delivery", err) != 0)
        return -1;
    s_lane_op(st, cc, 0, seq);
    return 0;
}

/* A report's fan-out row. */
struct s_fan {
    int64_t rowid;
    char rcpts[2 * HUB_SEQ_SPAN];
    size_t n;
    int level;
    int64_t expires_at, queued_at;
    uint64_t waiting;
};

static int
s_fan_add(hub_store_t *st, const struct s_fan *f, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_Q_INS, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, f->rowid);
    sqlite3_bind_text(s, 2, f->rcpts, (int)(2 * f->n), SQLITE_STATIC);
    sqlite3_bind_int(s, 3, f->level);
    sqlite3_bind_int64(s, 4, f->expires_at);
    sqlite3_bind_int64(s, 5, f->queued_at);
    sqlite3_bind_int64(s, 6, (int64_t)f->waiting);
    return s_exec(st, s, "queue deliveries", err);
}

/* Layout 2 to 3 (inside the upgrade's transaction): a fan-out row per
 * report, a deliveries row per row delivered or expired.  *why explains a
 * refusal (rows that layout 3 cannot say). */
static int
s_upgrade_2(hub_store_t *st, int64_t *n_rows, const char **why,
            struct ewh_err *err)
{
    struct s_fan f = {.rowid = -1};
    sqlite3_stmt *r = NULL;
    int rc;

    *n_rows = 0;
    if ((rc = sqlite3_prepare_v2(st->db, s_upgrade_2_read, -1, &r, NULL)) !=
        SQLITE_OK)
        return s_dberr(st, rc, "upgrade", err);
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(r, 0);
        const char *cc = (const char *)sqlite3_column_text(r, 1);
        size_t slot = (size_t)(seq % HUB_SEQ_SPAN);
        int state = sqlite3_column_int(r, 4);
        if (seq < 0 || cc == NULL || sqlite3_column_bytes(r, 1) != 2) {
            *why = "a queue row has a bad seq or country";
            goto fail;
        }
        if (seq / HUB_SEQ_SPAN != f.rowid) {
            if (f.rowid >= 0 && s_fan_add(st, &f, err) != 0)
                goto fail;
            memset(&f, 0, sizeof(f));
            f.rowid = seq / HUB_SEQ_SPAN;
            f.level = sqlite3_column_int(r, 2);
            f.expires_at = sqlite3_column_int64(r, 3);
            f.queued_at = sqlite3_column_int64(r, 5);
        }
        if (slot != f.n) {
            *why = "a report's queue rows are not numbered 0, 1, 2, ...";
            goto fail;
        }
        memcpy(&f.rcpts[2 * slot], cc, 2);
        f.n++;
        if (state == 0)
            f.waiting |= UINT64_C(1) << slot;
        else if (s_delivery_add(st, cc, (uint64_t)seq, state,
                                sqlite3_column_type(r, 6) == SQLITE_NULL
                                    ? f.queued_at
                                    : sqlite3_column_int64(r, 6),
                                err) != 0)
            goto fail;
        (*n_rows)++;
    }
    if (rc != SQLITE_DONE) {
        s_dberr(st, rc, "upgrade", err);
        goto fail;
    }
    sqlite3_finalize(r);
    return f.rowid >= 0 ? s_fan_add(st, &f, err) : 0;
fail:
    sqlite3_finalize(r);
    return -1;
}

static int
s_layout(hub_store_t *st, const char *path, bool upgrade, struct ewh_err *err)
{
    static const char sql[] = "INSERT OR REPLACE INTO meta(k, v)"
                              " VALUES('layout', " S_STR(S_LAYOUT) ")";
    struct ewh_err e2 = {0};
    const char *why = NULL;
    char *msg = NULL;
    int64_t had, layout, n1, n2;
    int rc;

    /* The layout is read before anything is created, so that a store
     * this ewhub does not upgrade is left as it is. */
    had = s_count(st, "SELECT count(*) FROM sqlite_master"
                      " WHERE type = 'table' AND name = 'queue'");
    layout = s_count(st, "SELECT count(*) FROM sqlite_master"
                         " WHERE type = 'table' AND name = 'meta'");
    if (layout > 0)
        layout = s_count(st, "SELECT coalesce((SELECT v FROM meta"
                             " WHERE k = 'layout'), 0)");
    if (had < 0 || layout < 0) {
        rc = sqlite3_errcode(st->db);
        goto dberr;
    }
    if (layout == 0 && had > 0)
        layout = 1; /* before meta('layout') */
    if (layout > S_LAYOUT)
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: store layout %lld is newer than this ewhub's "
                           "(%d): run the ewhub that wrote it",
                           path, (long long)layout, S_LAYOUT);
    if (layout == S_LAYOUT || (layout == 0 && had == 0)) {
        if ((rc = sqlite3_exec(st->db, s_schema, NULL, NULL, &msg)) !=
                SQLITE_OK ||
            (layout == 0 &&
             (rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg)) != SQLITE_OK))
            goto dberr;
        return 0;
    }
    /* An older layout: convert it, in ewhub run only (another command may
     * be run by hand while an older ewhub still serves the store). */
    if (!upgrade)
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: store layout %lld is older than this ewhub's "
                           "(%d): start this version's 'ewhub run' once to "
                           "upgrade it",
                           path, (long long)layout, S_LAYOUT);
    if ((rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &msg)) !=
        SQLITE_OK)
        goto dberr;
    if ((rc = sqlite3_exec(st->db, s_schema, NULL, NULL, &msg)) != SQLITE_OK)
        goto rollback;
    n1 = s_count(st, "SELECT count(*) FROM queue");
    if (layout == 1) {
        /* Renumber the rows from their envelope's rowid (layout 2). */
        if (s_count(st, "SELECT count(*) FROM (SELECT 1 FROM queue GROUP BY id"
                        " HAVING count(*) > " S_SPAN ")") != 0) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return ewh_err_set(err, EWH_E_STORE,
                               "%s: cannot upgrade store layout 1: a report "
                               "has more than %d queue rows",
                               path, HUB_SEQ_SPAN);
        }
        if ((rc = sqlite3_exec(st->db, s_upgrade_1, NULL, NULL, &msg)) !=
                SQLITE_OK ||
            (rc = sqlite3_exec(st->db, s_upgrade_1_copy, NULL, NULL, &msg)) !=
                SQLITE_OK)
            goto rollback;
        n2 = s_count(st, "SELECT count(*) FROM queue");
        if (n1 != n2) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return ewh_err_set(err, EWH_E_STORE,
                               "%s: cannot upgrade store layout 1: %lld of "
                               "%lld queue rows have no envelope",
                               path, (long long)(n1 - n2), (long long)n1);
        }
        if ((rc = sqlite3_exec(st->db, "DROP TABLE queue_v1", NULL, NULL,
                               &msg)) != SQLITE_OK)
            goto rollback;
    }
    /* One fan-out row per report (layout 3); the queue becomes a view. */
    if (s_upgrade_2(st, &n2, &why, &e2) != 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: cannot upgrade store layout %lld: %s", path,
                           (long long)layout, why != NULL ? why : e2.reason);
    }
    if ((rc = sqlite3_exec(st->db, s_upgrade_2_drop, NULL, NULL, &msg)) !=
            SQLITE_OK ||
        (rc = sqlite3_exec(st->db, s_schema, NULL, NULL, &msg)) != SQLITE_OK ||
        (rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg)) != SQLITE_OK)
        goto rollback;
    if ((n1 = s_count(st, "SELECT count(*) FROM queue")) != n2) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: cannot upgrade store layout %lld: %lld of "
                           "%lld queue rows have no envelope",
                           path, (long long)layout, (long long)(n2 - n1),
                           (long long)n2);
    }
    if ((rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg)) != SQLITE_OK)
        goto rollback;
    ewh_log_info("store: upgraded %s from layout %lld to %d (%lld queue rows)",
                 path, (long long)layout, S_LAYOUT, (long long)n2);
    return 0;
rollback:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
dberr:
    ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return -1;
}

hub_store_t *
hub_store_open(const char *path, unsigned flags, uint64_t max_pages,
               struct ewh_err *err)
{
    hub_store_t *st;
    char *msg = NULL;
    char pragma[64];
    int rc, oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    if ((st = calloc(1, sizeof(*st))) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    if (flags & HUB_STORE_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                    st->db != NULL ? sqlite3_errmsg(st->db)
                                   : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 10000);
    rc = sqlite3_exec(st->db,
                      "PRAGMA journal_mode = WAL;"
                      "PRAGMA synchronous = FULL;"
                      "PRAGMA foreign_keys = ON;"
                      /* Performance (docs/performance.md): a page cache
                       * that holds the hot index pages (bounded, for the
                       * RSS budget); commands other than run checkpoint
                       * every 16 MiB of WAL themselves (run hands it to
                       * its checkpointer thread); the WAL file is
                       * truncated back to 16 MiB after a checkpoint. */
                      "PRAGMA cache_size = -16384;"
                      "PRAGMA wal_autocheckpoint = 4096;"
                      "PRAGMA journal_size_limit = 16777216;",
                      NULL, NULL, &msg);
    if (rc == SQLITE_OK &&
        s_layout(st, path, (flags & HUB_STORE_UPGRADE) != 0, err) != 0)
        goto fail;
    if (rc == SQLITE_OK && max_pages > 0) {
        snprintf(pragma, sizeof(pragma), "PRAGMA max_page_count = %llu",
                 (unsigned long long)max_pages);
        rc = sqlite3_exec(st->db, pragma, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                    msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        goto fail;
    }
    return st;
fail:
    hub_store_close(&st);
    return NULL;
}

static void *
s_ckpt_main(void *arg)
{
    struct s_ckpt *ck = arg;
    int rc;

    pthread_mutex_lock(&ck->mu);
    for (;;) {
        while (!ck->stop && !ck->due)
            pthread_cond_wait(&ck->cv, &ck->mu);
        if (ck->stop)
            break;
        ck->due = false;
        pthread_mutex_unlock(&ck->mu);
        /* PASSIVE: copies what it can without waiting for the writer or
         * blocking it; the writer restarts the WAL from its start once
         * everything in it is copied. */
        rc = sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != ck->last_rc)
            ewh_log_warnx("store: checkpoint: %s", sqlite3_errmsg(ck->db));
        pthread_mutex_lock(&ck->mu);
        ck->last_rc = rc;
        ck->runs++;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            ck->failed++;
    }
    pthread_mutex_unlock(&ck->mu);
    return NULL;
}

/* After each commit of the writer's connection: n pages in the WAL. */
static int
s_wal_hook(void *arg, sqlite3 *db, const char *name, int n)
{
    hub_store_t *st = arg;

    (void)db;
    (void)name;
    pthread_mutex_lock(&st->ck.mu);
    st->ck.wal_pages = (uint64_t)n;
    pthread_mutex_unlock(&st->ck.mu);
    if (n >= S_CKPT_INLINE) {
        /* The checkpointer has fallen far behind: do one here rather
         * than let the WAL grow without bound. */
        (void)sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                        NULL, NULL);
    } else if (n >= S_CKPT_PAGES) {
        pthread_mutex_lock(&st->ck.mu);
        st->ck.due = true;
        pthread_cond_signal(&st->ck.cv);
        pthread_mutex_unlock(&st->ck.mu);
    }
    return SQLITE_OK;
}

int
hub_store_checkpointer_start(hub_store_t *st, const char *path,
                             struct ewh_err *err)
{
    struct s_ckpt *ck = &st->ck;
    int rc;

    if (ck->started)
        return 0;
    rc = sqlite3_open_v2(path, &ck->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: checkpointer: %s", path,
                    ck->db != NULL ? sqlite3_errmsg(ck->db)
                                   : sqlite3_errstr(rc));
        sqlite3_close(ck->db);
        ck->db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(ck->db, 10000);
    /* A connection learns that the database is in WAL mode when it first
     * reads it; until then a checkpoint is a no-op. */
    if ((rc = sqlite3_exec(ck->db, "PRAGMA journal_mode = WAL", NULL, NULL,
                           NULL)) != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: checkpointer: %s", path,
                    sqlite3_errmsg(ck->db));
        sqlite3_close(ck->db);
        ck->db = NULL;
        return -1;
    }
    pthread_mutex_init(&ck->mu, NULL);
    pthread_cond_init(&ck->cv, NULL);
    if (pthread_create(&ck->th, NULL, s_ckpt_main, ck) != 0) {
        pthread_cond_destroy(&ck->cv);
        pthread_mutex_destroy(&ck->mu);
        sqlite3_close(ck->db);
        ck->db = NULL;
        return ewh_err_set(err, EWH_E_NOMEM, "cannot start checkpointer");
    }
    ck->started = true;
    /* Replaces the automatic checkpoint on the writer's commits. */
    sqlite3_wal_hook(st->db, s_wal_hook, st);
    return 0;
}

void
hub_store_wal_stats(hub_store_t *st, struct hub_wal_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!st->ck.started)
        return;
    pthread_mutex_lock(&st->ck.mu);
    out->checkpoints = st->ck.runs;
    out->failed = st->ck.failed;
    out->wal_pages = st->ck.wal_pages;
    pthread_mutex_unlock(&st->ck.mu);
}

static void
s_ckpt_stop(hub_store_t *st)
{
    struct s_ckpt *ck = &st->ck;

    if (!ck->started)
        return;
    sqlite3_wal_hook(st->db, NULL, NULL);
    pthread_mutex_lock(&ck->mu);
    ck->stop = true;
    pthread_cond_signal(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    pthread_join(ck->th, NULL);
    pthread_cond_destroy(&ck->cv);
    pthread_mutex_destroy(&ck->mu);
    sqlite3_close(ck->db);
    ck->db = NULL;
    ck->started = false;
}

void
hub_store_close(hub_store_t **stp)
{
    hub_store_t *st;
    int i;

    if (stp == NULL || *stp == NULL)
        return;
    st = *stp;
    s_ckpt_stop(st);
    hub_lanes_destroy(&st->lanes);
    free(st->ops);
    for (i = 0; i < S__COUNT; i++)
        sqlite3_finalize(st->st[i]);
    if (st->db != NULL)
        sqlite3_close(st->db);
    free(st);
    *stp = NULL;
}

int
hub_store_begin(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_BEGIN, err);

    if (s == NULL || s_exec(st, s, "begin", err) != 0)
        return -1;
    st->in_tx = true;
    return 0;
}

int
hub_store_commit(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_COMMIT, err);
    size_t i;

    if (s == NULL || s_exec(st, s, "commit", err) != 0)
        return -1;
    st->in_tx = false;
    for (i = 0; i < st->n_ops && !st->lanes_stale; i++) {
        const struct s_lane_op *o = &st->ops[i];
        if (o->level == 0)
            (void)hub_lanes_del(st->lanes, o->cc, o->seq);
        else if (hub_lanes_add(st->lanes, o->cc, o->level, o->seq) != 0)
            st->lanes_stale = true;
    }
    st->n_ops = 0;
    return 0;
}

void
hub_store_rollback(hub_store_t *st)
{
    /* After some errors SQLite has already rolled back; ask the
     * connection rather than trust our flag. */
    if (!sqlite3_get_autocommit(st->db))
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_tx = false;
    st->n_ops = 0;
}

/* ---- roster ---- */

static int
s_bump(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_BUMP, err);

    return s == NULL ? -1 : s_exec(st, s, "bump roster version", err);
}

int
hub_store_node_put(hub_store_t *st, const struct ewh_pubid *id, bool *changed,
                   struct ewh_err *err)
{
    sqlite3_stmt *s;
    bool exists = false, same = false;
    int rc, k;

    if (changed != NULL)
        *changed = false;
    if (id->kind != EWH_KIND_NODE)
        return ewh_err_set(err, EWH_E_INVALID, "not a node identity");
    if (hub_store_begin(st, err) != 0)
        return -1;
    if ((s = s_stmt(st, S_NODE_GET, err)) == NULL)
        goto fail;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        exists = true;
        same = sqlite3_column_bytes(s, 0) == 32 &&
               memcmp(sqlite3_column_blob(s, 0), id->curve, 32) == 0 &&
               sqlite3_column_bytes(s, 1) == 32 &&
               memcmp(sqlite3_column_blob(s, 1), id->sign, 32) == 0 &&
               sqlite3_column_bytes(s, 2) == 32 &&
               memcmp(sqlite3_column_blob(s, 2), id->box, 32) == 0 &&
               sqlite3_column_int(s, 3) == 0;
    } else if (rc != SQLITE_DONE) {
        s_dberr(st, rc, "read node", err);
        goto fail;
    }
    sqlite3_reset(s);
    if (same) {
        hub_store_rollback(st);
        return 0;
    }
    k = exists ? S_NODE_UPD : S_NODE_INS;
    if ((s = s_stmt(st, k, err)) == NULL)
        goto fail;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, id->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, id->box, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, ewh_now());
    if (s_exec(st, s, "write node", err) != 0 || s_bump(st, err) != 0 ||
        hub_store_commit(st, err) != 0)
        goto fail;
    if (changed != NULL)
        *changed = true;
    return 0;
fail:
    hub_store_rollback(st);
    return -1;
}

int
hub_store_node_revoke(hub_store_t *st, const char *cc, bool *changed,
                      struct ewh_err *err)
{
    sqlite3_stmt *s;
    int rc;

    if (changed != NULL)
        *changed = false;
    if (hub_store_begin(st, err) != 0)
        return -1;
    if ((s = s_stmt(st, S_NODE_GET, err)) == NULL)
        goto fail;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) {
        ewh_err_set(err, EWH_E_NOTFOUND, "%s is not enrolled", cc);
        goto fail;
    }
    if (rc != SQLITE_ROW) {
        s_dberr(st, rc, "read node", err);
        goto fail;
    }
    if ((s = s_stmt(st, S_NODE_REVOKE, err)) == NULL)
        goto fail;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ewh_now());
    if (s_exec(st, s, "revoke", err) != 0)
        goto fail;
    if (sqlite3_changes(st->db) == 0) {
        hub_store_rollback(st);
        return 0;
    }
    if (s_bump(st, err) != 0 || hub_store_commit(st, err) != 0)
        goto fail;
    if (changed != NULL)
        *changed = true;
    return 0;
fail:
    hub_store_rollback(st);
    return -1;
}

int
hub_store_roster_version(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_VERSION, err);
    int rc;

    if (s == NULL)
        return -1;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return s_dberr(st, rc, "roster version", err);
    }
    *v = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return 0;
}

int
hub_store_roster_load(hub_store_t *st, ewh_roster_t **out, struct ewh_err *err)
{
    ewh_roster_t *r = NULL;
    sqlite3_stmt *s;
    struct ewh_pubid id;
    uint64_t v = 0;
    int rc;

    *out = NULL;
    /* One read transaction, so the version matches the rows. */
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return s_dberr(st, sqlite3_errcode(st->db), "begin read", err);
    if (hub_store_roster_version(st, &v, err) != 0)
        goto fail;
    if ((r = ewh_roster_new(v)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((s = s_stmt(st, S_NODES, err)) == NULL)
        goto fail;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&id, 0, sizeof(id));
        id.kind = EWH_KIND_NODE;
        snprintf(id.country, sizeof(id.country), "%.2s",
                 (const char *)sqlite3_column_text(s, 0));
        if (sqlite3_column_bytes(s, 1) != 32 ||
            sqlite3_column_bytes(s, 2) != 32 ||
            sqlite3_column_bytes(s, 3) != 32) {
            sqlite3_reset(s);
            ewh_err_set(err, EWH_E_STORE, "store: bad keys for %s", id.country);
            goto fail;
        }
        memcpy(id.curve, sqlite3_column_blob(s, 1), 32);
        memcpy(id.sign, sqlite3_column_blob(s, 2), 32);
        memcpy(id.box, sqlite3_column_blob(s, 3), 32);
        if (ewh_roster_put(r, &id, sqlite3_column_int(s, 4) != 0, err) != 0) {
            sqlite3_reset(s);
            goto fail;
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        s_dberr(st, rc, "read nodes", err);
        goto fail;
    }
    (void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    *out = r;
    return 0;
fail:
    (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    ewh_roster_destroy(&r);
    return -1;
}

/* ---- envelopes, queue, audit ---- */

int
hub_store_envelope_find(hub_store_t *st, const uint8_t id[EWH_ID_BYTES],
                        const uint8_t hash[EWH_HASH_BYTES], int *found,
                        struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_ENV_FIND, err);
    int rc;

    *found = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id, EWH_ID_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *found =
            sqlite3_column_bytes(s, 0) == EWH_HASH_BYTES &&
                    memcmp(sqlite3_column_blob(s, 0), hash, EWH_HASH_BYTES) == 0
                ? 1
                : 2;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "find envelope", err);
    return 0;
}

/* The annual exchange's ledger (returns table); rare, so prepared here. */
static int
s_return_note(hub_store_t *st, const struct ewh_header *hdr,
              int64_t received_at, struct ewh_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = sqlite3_prepare_v2(st->db,
                            "INSERT OR IGNORE INTO returns(origin, year, id,"
                            " received_at) VALUES(?, ?, ?, ?)",
                            -1, &s, NULL);
    if (rc != SQLITE_OK)
        return s_dberr(st, rc, "note return", err);
    sqlite3_bind_text(s, 1, hdr->origin, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)hdr->return_year);
    sqlite3_bind_blob(s, 3, hdr->id, EWH_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, received_at);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "note return", err);
    return 0;
}

int
hub_store_returns_walk(hub_store_t *st, hub_return_fn fn, void *ctx,
                       struct ewh_err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = sqlite3_prepare_v2(st->db,
                            "SELECT origin, year, count(*), max(received_at)"
                            " FROM returns GROUP BY origin, year"
                            " ORDER BY year, origin",
                            -1, &s, NULL);
    if (rc != SQLITE_OK)
        return s_dberr(st, rc, "returns", err);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(s, 0),
           (unsigned)sqlite3_column_int(s, 1),
           (uint64_t)sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3));
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "returns", err);
    return 0;
}

int
hub_store_envelope_add(hub_store_t *st, const uint8_t *env, size_t len,
                       const struct ewh_header *hdr,
                       const uint8_t hash[EWH_HASH_BYTES], int64_t received_at,
                       struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_ENV_INS, err);
    struct s_fan f;
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
    if (s_exec(st, s, "store envelope", err) != 0)
        return -1;
    f.rowid = sqlite3_last_insert_rowid(st->db);
    if (hdr->type == EWH_TYPE_RETURN &&
        s_return_note(st, hdr, received_at, err) != 0)
        return -1;
    EWH_ASSERT(hdr->n_recipients >= 1 && hdr->n_recipients <= HUB_SEQ_SPAN);
    for (f.n = 0; f.n < hdr->n_recipients; f.n++)
        memcpy(&f.rcpts[2 * f.n], hdr->recipients[f.n], 2);
    f.level = (int)hdr->level;
    f.expires_at = hdr->expires_at;
    f.queued_at = received_at;
    f.waiting = (UINT64_C(1) << f.n) - 1;
    if (s_fan_add(st, &f, err) != 0)
        return -1;
    for (i = 0; i < f.n; i++)
        s_lane_op(st, hdr->recipients[i], f.level,
                  (uint64_t)f.rowid * HUB_SEQ_SPAN + i);
    return 0;
}

int
hub_store_audit_head(hub_store_t *st, uint64_t *length,
                     uint8_t head[EWH_HASH_BYTES], struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_AUDIT_HEAD, err);
    int rc;

    if (s == NULL)
        return -1;
    *length = 0;
    memset(head, 0, EWH_HASH_BYTES);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *length = (uint64_t)sqlite3_column_int64(s, 0);
        if (sqlite3_column_bytes(s, 1) == EWH_HASH_BYTES)
            memcpy(head, sqlite3_column_blob(s, 1), EWH_HASH_BYTES);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "audit head", err);
    return 0;
}

int
hub_store_audit_append(hub_store_t *st, uint64_t n,
                       const uint8_t id[EWH_ID_BYTES],
                       const uint8_t hash[EWH_HASH_BYTES], const char *origin,
                       int64_t at, const uint8_t head[EWH_HASH_BYTES],
                       struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_AUDIT_INS, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)n);
    sqlite3_bind_blob(s, 2, id, EWH_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, hash, EWH_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, origin, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, at);
    sqlite3_bind_blob(s, 6, head, EWH_HASH_BYTES, SQLITE_STATIC);
    return s_exec(st, s, "audit append", err);
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
    if ((s = s_stmt(st, S_Q_LOAD, err)) == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
        const char *rcpts = (const char *)sqlite3_column_text(s, 1);
        size_t n = (size_t)sqlite3_column_bytes(s, 1) / 2, i;
        int level = sqlite3_column_int(s, 2);
        uint64_t waiting = (uint64_t)sqlite3_column_int64(s, 3);
        if (level < EWH_LEVEL_LOW || level > EWH_LEVEL_HIGH) {
            /* Not written by ewhub: left out, the others still go. */
            ewh_log_warnx("store: report row %llu has level %d: not queued",
                          (unsigned long long)seq, level);
            continue;
        }
        for (i = 0; i < n && i < HUB_SEQ_SPAN; i++) {
            if (((waiting >> i) & 1) == 0)
                continue;
            if (hub_lanes_add(st->lanes, &rcpts[2 * i], level,
                              seq * HUB_SEQ_SPAN + i) != 0) {
                sqlite3_reset(s);
                return ewh_err_set(err, EWH_E_NOMEM,
                                   "cannot order the queue in memory (out "
                                   "of memory, or more than %u countries)",
                                   EWH_MAX_ROSTER_ENTRIES);
            }
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "load queue", err);
    st->lanes_stale = false;
    return 0;
}

struct s_walk {
    hub_store_t *st;
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
    sqlite3_stmt *e = w->st->st[S_ENV_GET];
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
            w->rc = SQLITE_CORRUPT;
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

    if (s_lanes_load(st, err) != 0 || s_stmt(st, S_ENV_GET, err) == NULL)
        return -1;
    for (w.level = EWH_LEVEL_HIGH; w.level >= EWH_LEVEL_LOW && !stop; w.level--)
        stop = hub_lanes_walk(st->lanes, cc, w.level, s_walk_one, &w);
    sqlite3_reset(st->st[S_ENV_GET]);
    if (w.rc != SQLITE_OK)
        return s_dberr(st, w.rc, "walk queue", err);
    return 0;
}

int
hub_store_queue_done(hub_store_t *st, const char *cc, uint64_t seq,
                     const uint8_t id[EWH_ID_BYTES], bool *changed,
                     enum ewh_level *level, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_Q_DONE, err);
    int rc;

    *changed = false;
    *level = EWH_LEVEL_NONE;
    if (s == NULL)
        return -1;
    if (seq > (uint64_t)INT64_MAX)
        return 0; /* no such delivery */
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id, EWH_ID_BYTES, SQLITE_STATIC);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int v = sqlite3_column_int(s, 0);
        *level = v >= EWH_LEVEL_LOW && v <= EWH_LEVEL_HIGH ? (enum ewh_level)v
                                                           : EWH_LEVEL_NONE;
        *changed = true;
        rc = sqlite3_step(s);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        *changed = false;
        return s_dberr(st, rc, "mark delivered", err);
    }
    if (!*changed)
        return 0;
    if (s_delivery_add(st, cc, seq, 1, ewh_now(), err) != 0) {
        *changed = false;
        return -1;
    }
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
    if ((s = s_stmt(st, S_Q_COUNTS, err)) == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        snprintf(cc, sizeof(cc), "%.2s",
                 (const char *)sqlite3_column_text(s, 0));
        fn(ctx, cc, (enum ewh_level)sqlite3_column_int(s, 1),
           (uint64_t)sqlite3_column_int64(s, 2));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "count queues", err);
    return 0;
}

static int
s_relay_add(hub_store_t *st, const char *cc, enum hub_relay_kind kind,
            const uint8_t *payload, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_RELAY_INS, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)kind);
    sqlite3_bind_blob(s, 3, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ewh_now());
    return s_exec(st, s, "queue relay", err);
}

struct s_expired {
    uint64_t seq; /* the fan-out row's */
    uint64_t waiting;
    char rcpts[2 * HUB_SEQ_SPAN];
    size_t n_rcpts;
    uint8_t id[EWH_ID_BYTES];
    char origin[EWH_CC_BYTES];
};

static int
s_expire_one(hub_store_t *st, const struct s_expired *r, size_t i, int64_t now,
             struct ewh_err *err)
{
    Ewh__Notice nt = EWH__NOTICE__INIT;
    uint64_t seq = r->seq * HUB_SEQ_SPAN + i;
    char cc[EWH_CC_BYTES];
    uint8_t buf[256];
    sqlite3_stmt *s;
    size_t len;

    snprintf(cc, sizeof(cc), "%.2s", &r->rcpts[2 * i]);
    if ((s = s_stmt(st, S_Q_EXPIRE, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    if (s_exec(st, s, "expire", err) != 0 ||
        s_delivery_add(st, cc, seq, 2, now, err) != 0)
        return -1;
    nt.id.data = (uint8_t *)r->id;
    nt.id.len = EWH_ID_BYTES;
    nt.country = cc;
    nt.kind = EWH__NOTICE_KIND__NOTICE_EXPIRED;
    nt.at = now;
    nt.reason = (char *)"expired before delivery";
    len = ewh__notice__get_packed_size(&nt);
    EWH_ASSERT(len <= sizeof(buf));
    ewh__notice__pack(&nt, buf);
    return s_relay_add(st, r->origin, HUB_RELAY_NOTICE, buf, len, err);
}

int
hub_store_expire(hub_store_t *st, int64_t now, hub_skip_fn skip,
                 hub_expired_fn fn, void *ctx, size_t *n_expired,
                 struct ewh_err *err)
{
    struct s_expired *rows = NULL;
    size_t n = 0, i, k;
    sqlite3_stmt *s;
    int rc = SQLITE_DONE, ret = -1;

    *n_expired = 0;
    if ((s = s_stmt(st, S_Q_EXPIRED, err)) == NULL)
        return -1;
    if ((rows = calloc(HUB_EXPIRE_ROWS, sizeof(*rows))) == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    sqlite3_bind_int64(s, 1, now);
    while (n < HUB_EXPIRE_ROWS && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct s_expired *r = &rows[n];
        r->seq = (uint64_t)sqlite3_column_int64(s, 0);
        r->n_rcpts = (size_t)sqlite3_column_bytes(s, 1) / 2;
        if (r->n_rcpts > HUB_SEQ_SPAN)
            r->n_rcpts = HUB_SEQ_SPAN;
        memcpy(r->rcpts, sqlite3_column_text(s, 1), 2 * r->n_rcpts);
        r->waiting = (uint64_t)sqlite3_column_int64(s, 2);
        if (sqlite3_column_bytes(s, 3) == EWH_ID_BYTES)
            memcpy(r->id, sqlite3_column_blob(s, 3), EWH_ID_BYTES);
        snprintf(r->origin, sizeof(r->origin), "%.2s",
                 (const char *)sqlite3_column_text(s, 4));
        n++;
    }
    sqlite3_reset(s);
    if (n < HUB_EXPIRE_ROWS && rc != SQLITE_DONE) {
        s_dberr(st, rc, "find expired", err);
        goto out;
    }
    for (i = 0; i < n; i++)
        for (k = 0; k < rows[i].n_rcpts; k++) {
            uint64_t seq = rows[i].seq * HUB_SEQ_SPAN + k;
            char cc[EWH_CC_BYTES];
            if (((rows[i].waiting >> k) & 1) == 0)
                continue;
            snprintf(cc, sizeof(cc), "%.2s", &rows[i].rcpts[2 * k]);
            if (skip != NULL && skip(ctx, cc, seq))
                continue;
            if (s_expire_one(st, &rows[i], k, now, err) != 0)
                goto out;
            if (fn != NULL)
                fn(ctx, cc, rows[i].id, rows[i].origin);
            (*n_expired)++;
        }
    ret = 0;
out:
    free(rows);
    return ret;
}

/* ---- receipts and relays ---- */

int
hub_store_recipient_of(hub_store_t *st, const uint8_t id[EWH_ID_BYTES],
                       const char *cc, bool *found, char origin[EWH_CC_BYTES],
                       struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_RECIPIENT, err);
    int rc;

    *found = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id, EWH_ID_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *rcpts = (const char *)sqlite3_column_text(s, 1);
        int i, n = sqlite3_column_bytes(s, 1) / 2;
        for (i = 0; i < n && !*found; i++)
            *found = memcmp(&rcpts[2 * i], cc, 2) == 0;
        snprintf(origin, EWH_CC_BYTES, "%.2s",
                 (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "find recipient", err);
    return 0;
}

int
hub_store_receipt_add(hub_store_t *st, const uint8_t (*ids)[EWH_ID_BYTES],
                      size_t n_ids, const char *from, int kind,
                      const char *origin, int64_t at, const uint8_t *buf,
                      size_t len, size_t *added, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_RC_INS, err);
    size_t i;

    *added = 0;
    if (s == NULL)
        return -1;
    /* Bindings outlive the reset after each row: only id and blob vary. */
    sqlite3_bind_text(s, 2, from, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, kind);
    sqlite3_bind_text(s, 4, origin, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, at);
    for (i = 0; i < n_ids; i++) {
        sqlite3_bind_blob(s, 1, ids[i], EWH_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 6, buf, i == 0 ? (int)len : 0, SQLITE_STATIC);
        if (s_exec(st, s, "store receipt", err) != 0)
            return -1;
        *added += (size_t)sqlite3_changes(st->db);
    }
    if (*added == 0)
        return 0;
    return s_relay_add(st, origin, HUB_RELAY_RECEIPT, buf, len, err);
}

int
hub_store_relay_walk(hub_store_t *st, const char *cc, size_t limit,
                     hub_relay_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_RELAY_WALK, err);
    struct hub_relay r;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        r.seq = (uint64_t)sqlite3_column_int64(s, 0);
        r.kind = (enum hub_relay_kind)sqlite3_column_int(s, 1);
        r.payload = sqlite3_column_blob(s, 2);
        r.len = (size_t)sqlite3_column_bytes(s, 2);
        if (fn(ctx, &r) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "walk relays", err);
    return 0;
}

int
hub_store_relay_done(hub_store_t *st, const char *cc, uint64_t seq,
                     bool *changed, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_RELAY_DONE, err);

    *changed = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    if (s_exec(st, s, "relay done", err) != 0)
        return -1;
    *changed = sqlite3_changes(st->db) > 0;
    return 0;
}

/* ---- retention and key rotation (issue 8) ---- */

int
hub_store_roster_bump(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    if (s_bump(st, err) != 0)
        return -1;
    return v == NULL ? 0 : hub_store_roster_version(st, v, err);
}

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
    " AND coalesce((SELECT max(d.done_at) FROM deliveries d WHERE " S_DLV_OF_E
    "), e.received_at) <= " S_CUTOFF ")";

int
hub_store_retention_sweep(hub_store_t *st, int64_t delivered_before,
                          int64_t expired_before, int64_t after, int64_t span,
                          int64_t *next, size_t *n_removed, struct ewh_err *err)
{
    sqlite3_stmt *s = NULL;
    int64_t max_rowid = 0;
    int rc;

    *n_removed = 0;
    *next = 0;
    /* max(rowid) is a single b-tree descent, not a scan. */
    rc = sqlite3_prepare_v2(st->db, "SELECT max(rowid) FROM envelopes", -1, &s,
                            NULL);
    if (rc != SQLITE_OK)
        return s_dberr(st, rc, "prepare retention", err);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        max_rowid = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return s_dberr(st, rc, "retention", err);
    if (after >= max_rowid)
        return 0;
    rc = sqlite3_prepare_v2(st->db, s_sweep_sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return s_dberr(st, rc, "prepare retention", err);
    sqlite3_bind_int64(s, 1, delivered_before);
    sqlite3_bind_int64(s, 2, expired_before);
    sqlite3_bind_int64(s, 3, after);
    sqlite3_bind_int64(s, 4, after + span);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "retention", err);
    *n_removed = (size_t)sqlite3_changes(st->db);
    *next = after + span < max_rowid ? after + span : 0;
    return 0;
}

/* ---- traffic events ---- */

const char *
hub_event_kind_name(int kind)
{
    static const char *const names[] = {
        "unknown",      "accepted", "refused",   "duplicate",    "delivered",
        "acknowledged", "expired",  "connected", "disconnected", "zap-refused",
    };

    if (kind < 1 || kind > HUB_EV__MAX)
        return names[0];
    return names[kind];
}

int
hub_store_event_add(hub_store_t *st, const struct hub_event *ev,
                    struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_EV_INS, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, ev->at);
    sqlite3_bind_int(s, 2, ev->kind);
    if (ev->has_id)
        sqlite3_bind_blob(s, 3, ev->id, EWH_ID_BYTES, SQLITE_STATIC);
    if (ev->origin[0] != '\0')
        sqlite3_bind_text(s, 4, ev->origin, -1, SQLITE_STATIC);
    if (ev->recipients[0] != '\0')
        sqlite3_bind_text(s, 5, ev->recipients, -1, SQLITE_STATIC);
    if (ev->level > 0)
        sqlite3_bind_int(s, 6, ev->level);
    if (ev->size >= 0)
        sqlite3_bind_int64(s, 7, ev->size);
    if (ev->code[0] != '\0')
        sqlite3_bind_text(s, 8, ev->code, -1, SQLITE_STATIC);
    if (ev->reason[0] != '\0')
        sqlite3_bind_text(s, 9, ev->reason, -1, SQLITE_STATIC);
    return s_exec(st, s, "add event", err);
}

int
hub_store_event_delivered(hub_store_t *st, const char *cc, uint64_t seq,
                          int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_EV_DELIVERED, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, at);
    sqlite3_bind_int(s, 4, HUB_EV_DELIVERED);
    return s_exec(st, s, "add delivered event", err);
}

int
hub_store_events_trim(hub_store_t *st, uint64_t keep, struct ewh_err *err)
{
    sqlite3_stmt *s;

    if (keep == 0)
        return 0;
    if ((s = s_stmt(st, S_EV_TRIM, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)keep);
    return s_exec(st, s, "trim events", err);
}

static void
s_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, col);

    snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

int
hub_store_event_walk(hub_store_t *st, int64_t after, int64_t since,
                     size_t limit, hub_event_fn fn, void *ctx,
                     struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_EV_WALK, err);
    struct hub_event ev;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, since);
    sqlite3_bind_int64(s, 3, (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&ev, 0, sizeof(ev));
        ev.seq = sqlite3_column_int64(s, 0);
        ev.at = sqlite3_column_int64(s, 1);
        ev.kind = sqlite3_column_int(s, 2);
        if (sqlite3_column_bytes(s, 3) == EWH_ID_BYTES) {
            ev.has_id = true;
            memcpy(ev.id, sqlite3_column_blob(s, 3), EWH_ID_BYTES);
        }
        s_text(s, 4, ev.origin, sizeof(ev.origin));
        s_text(s, 5, ev.recipients, sizeof(ev.recipients));
        ev.level = sqlite3_column_int(s, 6);
        ev.size = sqlite3_column_type(s, 7) == SQLITE_NULL
                      ? -1
                      : sqlite3_column_int64(s, 7);
        s_text(s, 8, ev.code, sizeof(ev.code));
        s_text(s, 9, ev.reason, sizeof(ev.reason));
        if (fn(ctx, &ev) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "walk events", err);
    return 0;
}

/* ---- statistics ---- */

int
hub_store_stats(hub_store_t *st, int64_t now, hub_stat_fn fn, void *ctx,
                struct ewh_err *err)
{
    static const struct {
        int k;
        const char *what;
    } q[] = {{S_ST_SENT, "sent"}, {S_ST_RECV, "received"}};
    char cc[EWH_CC_BYTES];
    sqlite3_stmt *s;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        if ((s = s_stmt(st, q[i].k, err)) == NULL)
            return -1;
        sqlite3_bind_int64(s, 1, now);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            s_text(s, 0, cc, sizeof(cc));
            fn(ctx, q[i].what, cc, sqlite3_column_int(s, 1),
               sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3));
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
            return s_dberr(st, rc, "statistics", err);
    }
    if ((s = s_stmt(st, S_ST_OLDEST, err)) == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        s_text(s, 0, cc, sizeof(cc));
        fn(ctx, "oldest", cc, 0, sqlite3_column_int64(s, 1), 0);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "oldest queued", err);
    return 0;
}

int
hub_store_refusals(hub_store_t *st, int64_t now, hub_refusal_fn fn, void *ctx,
                   struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_ST_REFUSED, err);
    char code[32];
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        s_text(s, 0, code, sizeof(code));
        fn(ctx, code, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
           sqlite3_column_int64(s, 3));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "refusals", err);
    return 0;
}

int
hub_store_size(hub_store_t *st, uint64_t *bytes, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_ST_SIZE, err);
    int rc;

    *bytes = 0;
    if (s == NULL)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *bytes = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "store size", err);
    return 0;
}

/* ---- audit trail ---- */

int
hub_store_checkpoint_add(hub_store_t *st, uint64_t length,
                         const uint8_t head[EWH_HASH_BYTES], int64_t time,
                         const uint8_t *cp, size_t cp_len, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_CP_INS, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)length);
    sqlite3_bind_blob(s, 2, head, EWH_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, time);
    sqlite3_bind_blob(s, 4, cp, (int)cp_len, SQLITE_STATIC);
    return s_exec(st, s, "store checkpoint", err);
}

int
hub_store_checkpoint_walk(hub_store_t *st, hub_cp_fn fn, void *ctx,
                          struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_CP_WALK, err);
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (fn(ctx, (uint64_t)sqlite3_column_int64(s, 0),
               sqlite3_column_blob(s, 1),
               (size_t)sqlite3_column_bytes(s, 1)) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "walk checkpoints", err);
    return 0;
}

static bool
s_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t len)
{
    if (sqlite3_column_type(s, col) != SQLITE_BLOB ||
        (size_t)sqlite3_column_bytes(s, col) != len)
        return false;
    memcpy(out, sqlite3_column_blob(s, col), len);
    return true;
}

int
hub_store_audit_walk(hub_store_t *st, uint64_t after, size_t limit,
                     hub_audit_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_AUDIT_WALK, err);
    struct hub_audit_row row;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)after);
    sqlite3_bind_int64(s, 2, limit == 0 ? -1 : (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        row.n = (uint64_t)sqlite3_column_int64(s, 0);
        row.bad_row = !s_blob(s, 1, row.id, EWH_ID_BYTES) ||
                      !s_blob(s, 2, row.hash, EWH_HASH_BYTES) ||
                      !s_blob(s, 5, row.head, EWH_HASH_BYTES) ||
                      sqlite3_column_bytes(s, 3) != 2;
        s_text(s, 3, row.origin, sizeof(row.origin));
        row.received_at = sqlite3_column_int64(s, 4);
        if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
            row.env = sqlite3_column_blob(s, 6);
            row.env_len = (size_t)sqlite3_column_bytes(s, 6);
            if (row.env == NULL)
                row.env = (const uint8_t *)"";
            s_text(s, 7, row.env_origin, sizeof(row.env_origin));
            row.env_received_at = sqlite3_column_int64(s, 8);
        }
        row.queued = (uint64_t)__builtin_popcountll(
            (unsigned long long)sqlite3_column_int64(s, 9));
        if (fn(ctx, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "walk audit", err);
    return 0;
}

int
hub_store_audit_head_at(hub_store_t *st, uint64_t n,
                        uint8_t head[EWH_HASH_BYTES], bool *found,
                        struct ewh_err *err)
{
    sqlite3_stmt *s;
    int rc;

    memset(head, 0, EWH_HASH_BYTES);
    *found = n == 0;
    if (n == 0)
        return 0;
    if ((s = s_stmt(st, S_AUDIT_AT, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)n);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *found = s_blob(s, 0, head, EWH_HASH_BYTES);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "audit head", err);
    return 0;
}

int
hub_store_unchained(hub_store_t *st, hub_unchained_fn fn, void *ctx,
                    struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_UNCHAINED, err);
    char origin[EWH_CC_BYTES];
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        s_text(s, 1, origin, sizeof(origin));
        fn(ctx, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
           origin);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "unchained envelopes", err);
    return 0;
}

int
hub_store_meta_get(hub_store_t *st, const char *k, int64_t *v,
                   struct ewh_err *err)
{
    sqlite3_stmt *s = s_stmt(st, S_META_GET, err);
    int rc;

    *v = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "meta", err);
    return 0;
}

int
hub_store_read_begin(hub_store_t *st, struct ewh_err *err)
{
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return s_dberr(st, sqlite3_errcode(st->db), "begin read", err);
    return 0;
}

void
hub_store_read_end(hub_store_t *st)
{
    (void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

/* ---- backup ---- */

int
hub_store_backup(const char *src, const char *dst, struct ewh_err *err)
{
    sqlite3 *from = NULL, *to = NULL;
    sqlite3_backup *b;
    int rc, ret = -1;

    rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", src,
                    from != NULL ? sqlite3_errmsg(from) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_busy_timeout(from, 10000);
    rc = sqlite3_open_v2(dst, &to,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_EXCLUSIVE,
                         NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_IO, "%s: %s", dst,
                    to != NULL ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
        goto out;
    }
    if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
        ewh_err_set(err, EWH_E_STORE, "backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    /* All pages in one step: one read transaction on the source, so the
     * copy is a consistent snapshot; in WAL mode the hub keeps writing. */
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        ewh_err_set(err,
                    (rc & 0xff) == SQLITE_FULL ? EWH_E_DISKFULL : EWH_E_STORE,
                    "backup: %s", sqlite3_errstr(rc));
        goto out;
    }
    rc = sqlite3_exec(to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "backup: %s", sqlite3_errmsg(to));
        goto out;
    }
    ret = 0;
out:
    if (to != NULL && sqlite3_close(to) != SQLITE_OK && ret == 0)
        ret = ewh_err_set(err, EWH_E_IO, "%s: close failed", dst);
    if (from != NULL)
        sqlite3_close(from);
    return ret;
}

int
hub_store_check(hub_store_t *st, struct ewh_err *err)
{
    return ewh_db_quick_check(st->db, err);
}
