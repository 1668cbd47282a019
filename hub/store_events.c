/* store_events.c — traffic events (metadata only) and the figures of
 * `ewhub status`: reports sent and received, the oldest waiting, the
 * refusals by code, the store's size, and the annual exchange's returns
 * ledger (who sent which year's return, from the clear header). */
#include "storeint.h"

#include <string.h>

/* level and size default to the stored envelope's, when there is one */
static const char s_ev_ins[] =
    "INSERT INTO events(at, kind, id, origin, recipients, level,"
    " size, code, reason, peer_key) VALUES(?1, ?2, ?3, ?4, ?5,"
    " coalesce(?6, (SELECT level FROM envelopes WHERE id = ?3)),"
    " coalesce(?7, (SELECT length(env) FROM envelopes"
    " WHERE id = ?3)), ?8, ?9, ?10)";
static const char s_ev_delivered[] =
    "INSERT INTO events(at, kind, id, origin, recipients,"
    " level, size) SELECT ?3, ?4, e.id, e.origin, ?2,"
    " f.level, length(e.env) FROM fanout f"
    " JOIN envelopes e ON e.rowid = f.seq"
    " WHERE f.seq = ?1 / " S_SPAN;
static const char s_ev_trim[] =
    "DELETE FROM events WHERE seq <= (SELECT max(seq) FROM"
    " events) - ?1";
static const char s_ev_walk[] =
    "SELECT seq, at, kind, id, origin, recipients, level, size,"
    " code, reason, peer_key FROM events WHERE seq > ?1 AND at >= ?2"
    " ORDER BY seq LIMIT ?3";
static const char s_st_sent[] =
    "SELECT origin, level, sum(received_at > ?1 - 3600),"
    " count(*) FROM envelopes WHERE received_at > ?1 - 86400"
    " GROUP BY origin, level";
static const char s_st_recv[] =
    "SELECT d.country, f.level, sum(d.done_at > ?1 - 3600),"
    " count(*) FROM deliveries d"
    " JOIN fanout f ON f.seq = d.seq / " S_SPAN
    " WHERE d.state = 1 AND d.done_at > ?1 - 86400"
    " GROUP BY d.country, f.level";
static const char s_st_oldest[] =
    "SELECT " S_SLOT_CC ", f.level, min(f.queued_at)" S_WAITING_ROWS
    " GROUP BY 1, 2";
static const char s_st_refused[] =
    "SELECT coalesce(code, '-'), sum(at > ?1 - 3600),"
    " sum(at > ?1 - 86400), count(*) FROM events"
    " WHERE kind = 2 GROUP BY 1 ORDER BY 1";
static const char s_ret_ins[] =
    "INSERT OR IGNORE INTO returns(origin, year, id, received_at)"
    " VALUES(?1, ?2, ?3, ?4)";
static const char s_ret_walk[] =
    "SELECT origin, year, count(*), max(received_at) FROM returns"
    " GROUP BY origin, year ORDER BY year, origin";
static const char s_st_size[] =
    "SELECT page_count * page_size FROM pragma_page_count(),"
    " pragma_page_size()";

static const char s_st_counters[] =
    "SELECT kind, level, code, n FROM counters ORDER BY kind, level, code";
static const char s_counter_add[] =
    "INSERT INTO counters(kind, level, code, n) VALUES(?1, ?2, ?3, ?4)"
    " ON CONFLICT(kind, level, code) DO UPDATE SET n = n + ?4";
static const char s_st_relays[] =
    "SELECT country, kind, count(*) FROM relay WHERE done = 0"
    " GROUP BY country, kind";
static const char s_st_node_refused[] =
    "SELECT origin, kind, coalesce(code, '-'), count(*) FROM events"
    " WHERE kind IN (2, 9) AND origin IS NOT NULL AND at > ?1 - 3600"
    " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
static const char s_st_receipts_of[] =
    "SELECT count(*) FROM relay WHERE country = ?1 AND done = 0"
    " AND kind = ?2";

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
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_ev_ins, err);

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
    if (ev->key[0] != '\0')
        sqlite3_bind_text(s, 10, ev->key, -1, SQLITE_STATIC);
    return ewh_db_done(st->db, s, "add event", err);
}

int
hub_store_event_delivered(hub_store_t *st, const char *cc, uint64_t seq,
                          int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_ev_delivered, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    sqlite3_bind_text(s, 2, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, at);
    sqlite3_bind_int(s, 4, HUB_EV_DELIVERED);
    return ewh_db_done(st->db, s, "add delivered event", err);
}

int
hub_store_events_trim(hub_store_t *st, uint64_t keep, struct ewh_err *err)
{
    sqlite3_stmt *s;

    if (keep == 0)
        return 0;
    if ((s = ewh_db_stmt(st->db, s_ev_trim, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)keep);
    return ewh_db_done(st->db, s, "trim events", err);
}

static void
s_event_row(sqlite3_stmt *s, struct hub_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->seq = sqlite3_column_int64(s, 0);
    ev->at = sqlite3_column_int64(s, 1);
    ev->kind = sqlite3_column_int(s, 2);
    if (ewh_db_blob(s, 3, ev->id, EWH_ID_BYTES))
        ev->has_id = true;
    ewh_db_text(s, 4, ev->origin, sizeof(ev->origin));
    ewh_db_text(s, 5, ev->recipients, sizeof(ev->recipients));
    ev->level = sqlite3_column_int(s, 6);
    ev->size = sqlite3_column_type(s, 7) == SQLITE_NULL
                   ? -1
                   : sqlite3_column_int64(s, 7);
    ewh_db_text(s, 8, ev->code, sizeof(ev->code));
    ewh_db_text(s, 9, ev->reason, sizeof(ev->reason));
    ewh_db_text(s, 10, ev->key, sizeof(ev->key));
}

int
hub_store_event_walk(hub_store_t *st, int64_t after, int64_t since,
                     size_t limit, hub_event_fn fn, void *ctx,
                     struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_ev_walk, err);
    struct hub_event ev;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, since);
    sqlite3_bind_int64(s, 3, (int64_t)limit);
    while ((rc = ewh_db_step(st->db, s, "walk events", err)) == 1) {
        s_event_row(s, &ev);
        if (fn(ctx, &ev) != 0) {
            sqlite3_reset(s);
            return 0;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* ---- statistics ---- */

static int
s_stat(hub_store_t *st, const char *sql, const char *what, int64_t now,
       hub_stat_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, sql, err);
    char cc[EWH_CC_BYTES];
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while ((rc = ewh_db_step(st->db, s, "statistics", err)) == 1) {
        ewh_db_text(s, 0, cc, sizeof(cc));
        fn(ctx, what, cc, sqlite3_column_int(s, 1), sqlite3_column_int64(s, 2),
           sqlite3_column_int64(s, 3));
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_stats(hub_store_t *st, int64_t now, bool oldest, hub_stat_fn fn,
                void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *s;
    char cc[EWH_CC_BYTES];
    int rc;

    if (s_stat(st, s_st_sent, "sent", now, fn, ctx, err) != 0 ||
        s_stat(st, s_st_recv, "received", now, fn, ctx, err) != 0)
        return -1;
    if (!oldest)
        return 0;
    if ((s = ewh_db_stmt(st->db, s_st_oldest, err)) == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "oldest queued", err)) == 1) {
        ewh_db_text(s, 0, cc, sizeof(cc));
        fn(ctx, "oldest", cc, sqlite3_column_int(s, 1),
           sqlite3_column_int64(s, 2), 0);
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_refusals(hub_store_t *st, int64_t now, hub_refusal_fn fn, void *ctx,
                   struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_st_refused, err);
    char code[32];
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while ((rc = ewh_db_step(st->db, s, "refusals", err)) == 1) {
        ewh_db_text(s, 0, code, sizeof(code));
        fn(ctx, code, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
           sqlite3_column_int64(s, 3));
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_size(hub_store_t *st, uint64_t *bytes, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_st_size, err);
    int64_t n = 0;

    *bytes = 0;
    if (s == NULL || ewh_db_int(st->db, s, "store size", &n, err) != 0)
        return -1;
    *bytes = (uint64_t)n;
    return 0;
}

/* ---- the annual exchange's returns ledger ---- */

int
hub_store__return_note(hub_store_t *st, const struct ewh_header *hdr,
                       int64_t received_at, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_ret_ins, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, hdr->origin, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)hdr->return_year);
    sqlite3_bind_blob(s, 3, hdr->id, EWH_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, received_at);
    return ewh_db_done(st->db, s, "note return", err);
}

int
hub_store_returns_walk(hub_store_t *st, hub_return_fn fn, void *ctx,
                       struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_ret_walk, err);
    char origin[EWH_CC_BYTES];
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "returns", err)) == 1) {
        (void)ewh_db_text(s, 0, origin, sizeof(origin));
        fn(ctx, origin, (unsigned)sqlite3_column_int(s, 1),
           (uint64_t)sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3));
    }
    return rc;
}

/* ---- counters since the store's creation (issue 20) ---- */

int
hub_store_counters(hub_store_t *st, hub_counter_fn fn, void *ctx,
                   struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_st_counters, err);
    char code[32];
    int rc;

    if (s == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "counters", err)) == 1) {
        ewh_db_text(s, 2, code, sizeof(code));
        fn(ctx, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1), code,
           (uint64_t)sqlite3_column_int64(s, 3));
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_counter_add(hub_store_t *st, int kind, int level, const char *code,
                      uint64_t n, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_counter_add, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int(s, 1, kind);
    sqlite3_bind_int(s, 2, level);
    sqlite3_bind_text(s, 3, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)n);
    return ewh_db_done(st->db, s, "add to counter", err);
}

/* ---- per-country figures (issue 20) ---- */

int
hub_store_node_stats(hub_store_t *st, int64_t now, hub_node_stat_fn fn,
                     void *ctx, struct ewh_err *err)
{
    char cc[EWH_CC_BYTES], code[32];
    sqlite3_stmt *s;
    int rc;

    if ((s = ewh_db_stmt(st->db, s_st_relays, err)) == NULL)
        return -1;
    while ((rc = ewh_db_step(st->db, s, "relays waiting", err)) == 1) {
        ewh_db_text(s, 0, cc, sizeof(cc));
        fn(ctx, cc,
           sqlite3_column_int(s, 1) == HUB_RELAY_RECEIPT ? "receipts"
                                                         : "notices",
           NULL, (uint64_t)sqlite3_column_int64(s, 2));
    }
    if (rc < 0 || (s = ewh_db_stmt(st->db, s_st_node_refused, err)) == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while ((rc = ewh_db_step(st->db, s, "refusals by node", err)) == 1) {
        ewh_db_text(s, 0, cc, sizeof(cc));
        ewh_db_text(s, 2, code, sizeof(code));
        fn(ctx, cc,
           sqlite3_column_int(s, 1) == HUB_EV_ZAP_REFUSED ? "zap_refused"
                                                          : "refused",
           code, (uint64_t)sqlite3_column_int64(s, 3));
    }
    return rc < 0 ? -1 : 0;
}

int
hub_store_receipts_waiting(hub_store_t *st, const char *cc, uint64_t *n,
                           struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_st_receipts_of, err);
    int64_t v = 0;

    *n = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, HUB_RELAY_RECEIPT);
    if (ewh_db_int(st->db, s, "receipts waiting", &v, err) != 0)
        return -1;
    *n = (uint64_t)v;
    return 0;
}
