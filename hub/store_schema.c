/* store_schema.c — the hub store's schema and its in-place layout
 * upgrades (one transaction each). */
#include "storeint.h"

#include <stdio.h>
#include <string.h>

#include "ewh/log.h"

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER);"
    "INSERT OR IGNORE INTO meta(k, v) VALUES('roster_version', 0);"
    "CREATE TABLE IF NOT EXISTS nodes("
    " country TEXT PRIMARY KEY, curve BLOB NOT NULL, sign BLOB NOT NULL,"
    " box BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " enrolled_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    /* Key continuity (docs/trust.md): the endorsement of a country's
     * signing key by its previous one; keys the hub revoked (never enrolled
     * again without --override); every signed roster, so that a version is
     * signed once and each names the hash of the one before. */
    "CREATE TABLE IF NOT EXISTS endorsements(sign BLOB PRIMARY KEY,"
    " endorsed_by BLOB NOT NULL, sig BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS key_history(sign BLOB PRIMARY KEY,"
    " country TEXT NOT NULL, curve BLOB NOT NULL, box BLOB NOT NULL,"
    " endorsed_by BLOB, sig BLOB, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS revoked_keys(key BLOB PRIMARY KEY,"
    " country TEXT NOT NULL, fingerprint TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rosters(version INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL, signed BLOB NOT NULL, at INTEGER NOT NULL);"
    /* Rosters imported from other hubs (docs/roster-sharing.md), one row
     * per hub signing key.  No layout change: an older ewhub leaves it. */
    "CREATE TABLE IF NOT EXISTS roster_imports(from_sign BLOB PRIMARY KEY,"
    " from_curve BLOB NOT NULL, version INTEGER NOT NULL,"
    " hash BLOB NOT NULL, at INTEGER NOT NULL, changes INTEGER NOT NULL,"
    " imports INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS envelopes("
    " id BLOB PRIMARY KEY, origin TEXT NOT NULL, level INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL, hash BLOB NOT NULL, env BLOB NOT NULL);"
    /* `ewhub status`'s reports sent over the last day, without reading
     * the envelopes' pages (issue 19: 90 ms for 91,000 reports). */
    "CREATE INDEX IF NOT EXISTS envelopes_recv ON envelopes(received_at,"
    " origin, level);"
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
    " cp BLOB NOT NULL);"
    /* Counters since the store's creation (issue 20), keyed like the
     * events (kind, level, refusal code) and kept by triggers in the
     * transaction that writes what they count: reports accepted
     * (envelopes), deliveries done and expired (deliveries), reports
     * acknowledged by an officer (receipts), and refusals, duplicates and
     * refused handshakes (events; those the loop could not keep as events
     * are added by hub_store_counter_add()).  They survive restarts and
     * the events cap, and agree with the rest of the store at every
     * moment.  A store made before them is counted once from its tables
     * (s_counters_seed).  No layout change: an older ewhub of this layout
     * leaves them be. */
    /* Federation (issue 22, docs/federation.md): the peer hubs enrolled
     * (fed_peer), the transfers queued per peer link (fed_out: state 0
     * queued, 1 acknowledged by the peer, 2 expired, 3 refused by the
     * peer, 4 dropped when the peer was removed, 5 dropped and its origin
     * told), the peer each foreign
     * report came from (fed_in: receipts go back that way), the receipts
     * owed to a peer (fed_relay), the foreign rosters as their hubs signed
     * them (fed_roster) and the foreign keys pinned from them (fed_key),
     * and the link counters (fed_counts).  No layout change: tables an
     * older ewhub of this layout leaves be. */
    "CREATE TABLE IF NOT EXISTS fed_peer(region TEXT PRIMARY KEY,"
    " endpoint TEXT NOT NULL, curve BLOB NOT NULL, sign BLOB NOT NULL,"
    " box BLOB NOT NULL, added_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fed_out(seq INTEGER PRIMARY KEY,"
    " peer TEXT NOT NULL, env INTEGER NOT NULL, level INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, path TEXT NOT NULL,"
    " queued_at INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
    " done_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS fed_out_next ON fed_out(peer, level DESC, seq)"
    " WHERE state = 0;"
    "CREATE INDEX IF NOT EXISTS fed_out_env ON fed_out(env) WHERE state = 0;"
    "CREATE INDEX IF NOT EXISTS fed_out_untold ON fed_out(seq)"
    " WHERE state = 4;"
    "CREATE TABLE IF NOT EXISTS fed_in(id BLOB PRIMARY KEY,"
    " peer TEXT NOT NULL, path TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fed_relay(seq INTEGER PRIMARY KEY,"
    " peer TEXT NOT NULL, kind INTEGER NOT NULL DEFAULT 1,"
    " payload BLOB NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS fed_relay_next ON fed_relay(peer, seq)"
    " WHERE done = 0;"
    "CREATE TABLE IF NOT EXISTS fed_roster(region TEXT PRIMARY KEY,"
    " via TEXT NOT NULL, hub_sign BLOB NOT NULL, version INTEGER NOT NULL,"
    " signed BLOB NOT NULL, path TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fed_key(country TEXT PRIMARY KEY,"
    " region TEXT NOT NULL, curve BLOB NOT NULL, sign BLOB NOT NULL,"
    " box BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fed_counts(peer TEXT NOT NULL,"
    " what TEXT NOT NULL, code TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(peer, what, code));"
    "CREATE TABLE IF NOT EXISTS counters("
    " kind INTEGER NOT NULL, level INTEGER NOT NULL, code TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(kind, level, code));"
    "CREATE TRIGGER IF NOT EXISTS count_events AFTER INSERT ON events"
    " WHEN NEW.kind IN (2, 3, 9) BEGIN"
    " INSERT INTO counters(kind, level, code, n)"
    " VALUES(NEW.kind, 0, coalesce(NEW.code, ''), 1)"
    " ON CONFLICT(kind, level, code) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS count_envelopes AFTER INSERT ON envelopes"
    " BEGIN INSERT INTO counters(kind, level, code, n)"
    " VALUES(1, NEW.level, '', 1)"
    " ON CONFLICT(kind, level, code) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS count_deliveries AFTER INSERT ON deliveries"
    " WHEN NEW.state IN (1, 2) BEGIN"
    " INSERT INTO counters(kind, level, code, n)"
    " VALUES(CASE NEW.state WHEN 1 THEN 4 ELSE 6 END, coalesce((SELECT level"
    " FROM fanout WHERE seq = NEW.seq / " S_SPAN "), 0), '', 1)"
    " ON CONFLICT(kind, level, code) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS count_receipts AFTER INSERT ON receipts"
    " WHEN NEW.kind = 2 BEGIN INSERT INTO counters(kind, level, code, n)"
    " VALUES(5, 0, '', 1)"
    " ON CONFLICT(kind, level, code) DO UPDATE SET n = n + 1; END;";

/* Count a store made before the counters from what it holds: accepted,
 * delivered, expired and acknowledged exactly (retention keeps those rows),
 * refusals, duplicates and refused handshakes as far as the events go
 * back.  They count from the first enrolment or report. */
static const char s_counters_seed[] =
    "BEGIN IMMEDIATE;"
    "DELETE FROM counters WHERE NOT EXISTS"
    " (SELECT 1 FROM meta WHERE k = 'counters_since');"
    "INSERT INTO counters(kind, level, code, n)"
    " SELECT 1, level, '', count(*) FROM envelopes"
    " WHERE NOT EXISTS (SELECT 1 FROM meta WHERE k = 'counters_since')"
    " GROUP BY level;"
    "INSERT INTO counters(kind, level, code, n)"
    " SELECT CASE d.state WHEN 1 THEN 4 ELSE 6 END, coalesce(f.level, 0), '',"
    " count(*) FROM deliveries d LEFT JOIN fanout f"
    " ON f.seq = d.seq / " S_SPAN " WHERE d.state IN (1, 2) AND NOT EXISTS"
    " (SELECT 1 FROM meta WHERE k = 'counters_since') GROUP BY 1, 2;"
    "INSERT INTO counters(kind, level, code, n)"
    " SELECT 5, 0, '', count(*) FROM receipts WHERE kind = 2 AND NOT EXISTS"
    " (SELECT 1 FROM meta WHERE k = 'counters_since') HAVING count(*) > 0;"
    "INSERT INTO counters(kind, level, code, n)"
    " SELECT kind, 0, coalesce(code, ''), count(*) FROM events"
    " WHERE kind IN (2, 3, 9) AND NOT EXISTS"
    " (SELECT 1 FROM meta WHERE k = 'counters_since') GROUP BY 1, 3;"
    "INSERT OR IGNORE INTO meta(k, v) SELECT 'counters_since',"
    " min(coalesce((SELECT min(enrolled_at) FROM nodes), 1e18),"
    " coalesce((SELECT min(received_at) FROM envelopes), 1e18),"
    " CAST(strftime('%s', 'now') AS INTEGER));"
    "COMMIT;";

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

/* The one integer a counting query answers; -1 (err) when it fails. */
static int
s_count(hub_store_t *st, const char *sql, int64_t *n, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_prepare(st->db, sql, err);
    int rc;

    if (s == NULL)
        return -1;
    rc = ewh_db_int(st->db, s, "count", n, err);
    sqlite3_finalize(s);
    return rc;
}

/* Layout 2 to 3 (inside the upgrade's transaction): a fan-out row per
 * report, a deliveries row per row delivered or expired.  *why explains a
 * refusal (rows that layout 3 cannot say). */
static int
s_upgrade_2(hub_store_t *st, int64_t *n_rows, const char **why,
            struct ewh_err *err)
{
    struct hub_store_fan f = {.rowid = -1};
    sqlite3_stmt *r = NULL;
    int rc;

    *n_rows = 0;
    if ((rc = sqlite3_prepare_v2(hub_store__sql(st), s_upgrade_2_read, -1, &r,
                                 NULL)) != SQLITE_OK)
        return ewh_db_err(st->db, rc, "upgrade", err);
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
            if (f.rowid >= 0 && hub_store__fan_add(st, &f, err) != 0)
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
        else if (hub_store__delivery_add(st, cc, (uint64_t)seq, state,
                                         sqlite3_column_type(r, 6) ==
                                                 SQLITE_NULL
                                             ? f.queued_at
                                             : sqlite3_column_int64(r, 6),
                                         err) != 0)
            goto fail;
        (*n_rows)++;
    }
    if (rc != SQLITE_DONE) {
        ewh_db_err(st->db, rc, "upgrade", err);
        goto fail;
    }
    sqlite3_finalize(r);
    return f.rowid >= 0 ? hub_store__fan_add(st, &f, err) : 0;
fail:
    sqlite3_finalize(r);
    return -1;
}

/* The layout of the file as opened: 0 for a new file, 1 for a store
 * from before meta('layout').  Read before anything is created, so that
 * a store this ewhub does not upgrade is left as it is. */
static int
s_layout_of(hub_store_t *st, const char *path, int64_t *layout,
            struct ewh_err *err)
{
    struct ewh_err e2 = {0};
    int64_t had = 0;

    if (s_count(st,
                "SELECT count(*) FROM sqlite_master"
                " WHERE type = 'table' AND name = 'queue'",
                &had, &e2) != 0 ||
        s_count(st,
                "SELECT count(*) FROM sqlite_master"
                " WHERE type = 'table' AND name = 'meta'",
                layout, &e2) != 0 ||
        (*layout > 0 && s_count(st,
                                "SELECT coalesce((SELECT v FROM meta"
                                " WHERE k = 'layout'), 0)",
                                layout, &e2) != 0))
        return ewh_err_set(err, e2.code, "%s: %s", path, e2.reason);
    if (*layout == 0 && had > 0)
        *layout = 1; /* before meta('layout') */
    return 0;
}

/* Inside the upgrade's transaction: renumber layout 1's queue rows from
 * their envelope's rowid (layout 2).  *why explains a refusal; e2 a
 * failed count. */
static int
s_renumber_1(hub_store_t *st, const char **why, char **msg, struct ewh_err *e2)
{
    static char buf[128];
    int64_t n1 = 0, n2 = 0, big = 0;

    if (s_count(st, "SELECT count(*) FROM queue", &n1, e2) != 0 ||
        s_count(st,
                "SELECT count(*) FROM (SELECT 1 FROM queue GROUP BY id"
                " HAVING count(*) > " S_SPAN ")",
                &big, e2) != 0)
        return -1;
    if (big != 0) {
        *why = "a report has more than " S_SPAN " queue rows";
        return -1;
    }
    if (sqlite3_exec(hub_store__sql(st), s_upgrade_1, NULL, NULL, msg) !=
            SQLITE_OK ||
        sqlite3_exec(hub_store__sql(st), s_upgrade_1_copy, NULL, NULL, msg) !=
            SQLITE_OK ||
        s_count(st, "SELECT count(*) FROM queue", &n2, e2) != 0)
        return -1;
    if (n1 != n2) {
        snprintf(buf, sizeof(buf), "%lld of %lld queue rows have no envelope",
                 (long long)(n1 - n2), (long long)n1);
        *why = buf;
        return -1;
    }
    return sqlite3_exec(hub_store__sql(st), "DROP TABLE queue_v1", NULL, NULL,
                        msg) == SQLITE_OK
               ? 0
               : -1;
}

/* Convert an older layout in one transaction (ewhub run only). */
static int
s_upgrade(hub_store_t *st, const char *path, int64_t layout,
          struct ewh_err *err)
{
    static const char mark[] = "INSERT OR REPLACE INTO meta(k, v)"
                               " VALUES('layout', " S_STR(S_LAYOUT) ")";
    struct ewh_err e2 = {0};
    const char *why = NULL;
    char *msg = NULL;
    int64_t n1 = 0, n2 = 0;
    sqlite3 *db = hub_store__sql(st);

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto dberr;
    if (sqlite3_exec(db, s_schema, NULL, NULL, &msg) != SQLITE_OK ||
        (layout == 1 && s_renumber_1(st, &why, &msg, &e2) != 0) ||
        s_upgrade_2(st, &n2, &why, &e2) != 0)
        goto refuse;
    /* One fan-out row per report (layout 3); the queue becomes a view. */
    if (sqlite3_exec(db, s_upgrade_2_drop, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, s_schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, mark, NULL, NULL, &msg) != SQLITE_OK)
        goto refuse;
    if (s_count(st, "SELECT count(*) FROM queue", &n1, &e2) != 0)
        goto refuse;
    if (n1 != n2) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: cannot upgrade store layout %lld: %lld of "
                           "%lld queue rows have no envelope",
                           path, (long long)layout, (long long)(n2 - n1),
                           (long long)n2);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto refuse;
    ewh_log_info("store: upgraded %s from layout %lld to %d (%lld queue rows)",
                 path, (long long)layout, S_LAYOUT, (long long)n2);
    return 0;
refuse:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (why != NULL || e2.reason[0] != '\0') {
        sqlite3_free(msg);
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: cannot upgrade store layout %lld: %s", path,
                           (long long)layout, why != NULL ? why : e2.reason);
    }
dberr:
    ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                msg != NULL ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

/* What the monitoring round (issue 20) added to a store of this layout
 * made before it: the CURVE key of a refused handshake (a column of
 * events) and the counters, counted once from the tables.  Each runs once
 * per store; the counters' tables and triggers come with the schema. */
static int
s_monitoring(hub_store_t *st, const char *path, struct ewh_err *err)
{
    sqlite3 *db = hub_store__sql(st);
    char *msg = NULL;
    int64_t has_key = 0, has_since = 0;

    if (s_count(st,
                "SELECT count(*) FROM pragma_table_info('events')"
                " WHERE name = 'peer_key'",
                &has_key, err) != 0 ||
        s_count(st, "SELECT count(*) FROM meta WHERE k = 'counters_since'",
                &has_since, err) != 0)
        return -1;
    if (has_key == 0 &&
        sqlite3_exec(db, "ALTER TABLE events ADD COLUMN peer_key TEXT", NULL,
                     NULL, &msg) != SQLITE_OK)
        goto fail;
    if (has_since == 0 &&
        sqlite3_exec(db, s_counters_seed, NULL, NULL, &msg) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        goto fail;
    }
    return 0;
fail:
    ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                msg != NULL ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

int
hub_store__layout(hub_store_t *st, const char *path, bool upgrade,
                  struct ewh_err *err)
{
    static const char mark[] = "INSERT OR REPLACE INTO meta(k, v)"
                               " VALUES('layout', " S_STR(S_LAYOUT) ")";
    char *msg = NULL;
    int64_t layout;

    if (s_layout_of(st, path, &layout, err) != 0)
        return -1;
    if (layout > S_LAYOUT)
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: store layout %lld is newer than this ewhub's "
                           "(%d): run the ewhub that wrote it",
                           path, (long long)layout, S_LAYOUT);
    if (layout == S_LAYOUT || layout == 0) {
        if (sqlite3_exec(hub_store__sql(st), s_schema, NULL, NULL, &msg) !=
                SQLITE_OK ||
            (layout == 0 && sqlite3_exec(hub_store__sql(st), mark, NULL, NULL,
                                         &msg) != SQLITE_OK) ||
            /* docs/trust.md: a store born with the roster chain */
            (layout == 0 && sqlite3_exec(hub_store__sql(st),
                                         "INSERT OR IGNORE INTO meta(k, v)"
                                         " VALUES('roster_chain', 1)",
                                         NULL, NULL, &msg) != SQLITE_OK)) {
            ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                        msg != NULL ? msg : sqlite3_errmsg(hub_store__sql(st)));
            sqlite3_free(msg);
            return -1;
        }
        return s_monitoring(st, path, err);
    }
    /* An older layout: convert it, in ewhub run only (another command may
     * be run by hand while an older ewhub still serves the store). */
    if (!upgrade)
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: store layout %lld is older than this ewhub's "
                           "(%d): start this version's 'ewhub run' once to "
                           "upgrade it",
                           path, (long long)layout, S_LAYOUT);
    if (s_upgrade(st, path, layout, err) != 0)
        return -1;
    return s_monitoring(st, path, err);
}
