/*
 * store_outbox.c — our reports' way to the hub in the node store: queued
 * envelopes for the agent to send, the hub's answers (accepted, deferred,
 * refused), each addressee's progress, and the resealing at a re-key.
 */
#include "store_int.h"

#include <stdio.h>

#include "ewh/util.h"

int
node_store_outbox_add(node_store_t *s, const struct node_msg *m,
                      const uint8_t *env, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st;
    size_t i;

    if (node_store_msg_insert(s, m, env, len, "queued", err) != 0)
        return -1;
    for (i = 0; i < m->n_recipients; i++) {
        st = ewh_db_stmt(s->db,
                         "INSERT INTO rcpt(id, country, state, at) "
                         "VALUES(?, ?, 0, ?)",
                         err);
        if (st == NULL)
            return -1;
        sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->recipients[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, m->received_at);
        if (ewh_db_done(s->db, st, "store an addressee", err) != 0)
            return -1;
    }
    /* Owed to every hub until each addressee's receipt (store_hubs.c);
     * the expired ones are forgotten here. */
    static const char *const sql[] = {
        "INSERT INTO hub_need(seq, id, level, expires_at) SELECT seq, id,"
        " level, expires_at FROM msg WHERE id = ?1",
        "INSERT INTO hub_todo(hub, level, seq) SELECT h.id, m.level, m.seq"
        " FROM hubs h, msg m WHERE m.id = ?1",
    };
    static const char *const expired[] = {
        "DELETE FROM hub_todo WHERE seq IN (SELECT seq FROM hub_need WHERE"
        " expires_at > 0 AND expires_at < ?1)",
        "DELETE FROM hub_need WHERE expires_at > 0 AND expires_at < ?1",
    };
    for (i = 0; i < 2; i++) {
        if ((st = ewh_db_stmt(s->db, sql[i], err)) == NULL)
            return -1;
        sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
        if (ewh_db_done(s->db, st, "owe a report to the hubs", err) != 0)
            return -1;
    }
    for (i = 0; i < 2; i++) {
        if ((st = ewh_db_stmt(s->db, expired[i], err)) == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, ewh_now());
        if (ewh_db_done(s->db, st, "forget expired reports", err) != 0)
            return -1;
    }
    return 0;
}

int
node_store_outbox_pending(node_store_t *s, int64_t after, int64_t now_ms,
                          size_t max, node_env_fn fn, void *ctx,
                          struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT seq, id, envelope FROM msg WHERE "
                                   "dir = 'out' AND state = 'queued' AND seq "
                                   "> ? AND next_try <= ? ORDER BY seq LIMIT ?",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    return node_store_walk_blobs(s, st, "read the outbox", fn, ctx, err);
}

/* Run an UPDATE of msg or rcpt whose parameters are (text, num, id). */
static int
s_update(node_store_t *s, const char *sql, const char *id, const char *text,
         int64_t num, const char *what, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db, sql, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, num);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, what, err);
}

/* The state is read from the index msg_dir, not from the row: a report's
 * row holds its envelope and body on overflow pages, which reading the
 * state column from the row would fetch on every call (a receipt for a
 * report already accepted, the common case, changes nothing). */
static const char s_accept_msg[] =
    "UPDATE msg SET state = 'accepted', reason = ?1, next_try = ?2 WHERE "
    "seq = (SELECT seq FROM msg INDEXED BY msg_dir WHERE dir = 'out' AND "
    "state = 'queued' AND seq = (SELECT seq FROM msg WHERE id = ?3))";

int
node_store_outbox_accepted(node_store_t *s, const char *id, int64_t at,
                           struct ewh_err *err)
{
    return node_store_hub_first_accepted(s, id, at, err);
}

int
node_store_outbox_mark_accepted(node_store_t *s, const char *id, int64_t at,
                                struct ewh_err *err)
{
    if (s_update(s, s_accept_msg, id, "", 0, "mark accepted", err) != 0)
        return -1;
    return s_update(s,
                    "UPDATE rcpt SET state = 1, reason = ?, at = ? "
                    "WHERE id = ? AND state = 0",
                    id, "", at, "mark addressees accepted", err);
}

int
node_store_outbox_mark_queued(node_store_t *s, const char *id,
                              struct ewh_err *err)
{
    if (s_update(s,
                 "UPDATE msg SET state = 'queued', reason = ?, next_try = ? "
                 "WHERE id = ? AND dir = 'out' AND state = 'accepted'",
                 id, "", 0, "queue again", err) != 0)
        return -1;
    return s_update(s,
                    "UPDATE rcpt SET state = 0, reason = ?, at = ? "
                    "WHERE id = ? AND state = 1",
                    id, "", ewh_now(), "queue addressees again", err);
}

/* Every addressee has its receipt (or a final state): no hub needs the
 * report any more.  always: forgotten whatever the addressees' states
 * (the report was refused for good). */
static int
s_need_done(node_store_t *s, const char *id, bool always, struct ewh_err *err)
{
    static const char *const sql[2] = {
        "DELETE FROM hub_todo WHERE seq IN (SELECT seq FROM hub_need WHERE "
        "id = ?1)",
        "DELETE FROM hub_need WHERE id = ?1"};
    sqlite3_stmt *st;
    int64_t pending = 0;
    int i;

    /* Still owed to an addressee: nothing to forget.  One lookup in
     * rcpt's key, then the deletes only when they delete (the first of a
     * report's receipts, the common case, leaves the others pending). */
    if (!always) {
        if ((st = ewh_db_stmt(s->db,
                              "SELECT EXISTS(SELECT 1 FROM rcpt WHERE id = ?1 "
                              "AND state < 2)",
                              err)) == NULL)
            return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (ewh_db_int(s->db, st, "look for addressees still owed", &pending,
                       err) != 0)
            return -1;
        if (pending)
            return 0;
    }
    for (i = 0; i < 2; i++) {
        if ((st = ewh_db_stmt(s->db, sql[i], err)) == NULL)
            return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (ewh_db_done(s->db, st, "forget a report the hubs delivered", err) !=
            0)
            return -1;
    }
    return 0;
}

int
node_store_outbox_refused(node_store_t *s, const char *id, const char *reason,
                          int64_t at, struct ewh_err *err)
{
    if (s_update(s,
                 "UPDATE msg SET state = 'refused', reason = ?, "
                 "next_try = ? WHERE id = ? AND dir = 'out'",
                 id, reason, 0, "mark refused", err) != 0)
        return -1;
    if (s_update(s,
                 "UPDATE rcpt SET state = 5, reason = ?, at = ? "
                 "WHERE id = ? AND state < 2",
                 id, reason, at, "mark addressees refused", err) != 0)
        return -1;
    return s_need_done(s, id, true, err);
}

int
node_store_outbox_retry(node_store_t *s, const char *id, int64_t next_try_ms,
                        const char *reason, struct ewh_err *err)
{
    return s_update(s,
                    "UPDATE msg SET reason = ?, next_try = ? WHERE id = "
                    "? AND dir = 'out' AND state = 'queued'",
                    id, reason, next_try_ms, "defer a submit", err);
}

int
node_store_outbox_next_try(node_store_t *s, int64_t now_ms, int64_t *out,
                           struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT coalesce(min(next_try), 0) FROM "
                                   "msg WHERE dir = 'out' AND state = "
                                   "'queued' AND next_try > ?",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    return ewh_db_int(s->db, st, "read the next retry", out, err);
}

int
node_store_rcpt_update(node_store_t *s, const char *id, const char *cc,
                       enum node_rstate state, const char *reason, int64_t at,
                       struct ewh_err *err)
{
    sqlite3_stmt *st;

    /* Progress only forwards; expired and refused are final, and an
     * acknowledged addressee cannot become expired. */
    st = ewh_db_stmt(s->db,
                     "UPDATE rcpt SET state = ?1, reason = ?2, at = ?3 WHERE "
                     "id = ?4 AND country = ?5 AND state < 4 AND "
                     "(CASE WHEN ?1 >= 4 THEN state < 2 ELSE state < ?1 END)",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, (int)state);
    sqlite3_bind_text(st, 2, reason != NULL ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, cc, -1, SQLITE_STATIC);
    if (ewh_db_done(s->db, st, "move an addressee on", err) != 0 ||
        s_need_done(s, id, false, err) != 0)
        return -1;
    /* A receipt proves the hub has the report even if our SubmitAck was
     * lost. */
    if (state == NODE_R_DELIVERED || state == NODE_R_ACKNOWLEDGED)
        return s_update(s, s_accept_msg, id, "", 0, "mark accepted", err);
    return 0;
}

int
node_store_rcpt_note(node_store_t *s, const char *id, const char *cc,
                     const char *reason, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "UPDATE rcpt SET reason = ?1 WHERE id = ?2 "
                                   "AND country = ?3 AND state < 2",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cc, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "note a hub fault", err);
}

int
node_store_outbox_set_envelope(node_store_t *s, const char *id,
                               const uint8_t *env, size_t len,
                               struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "UPDATE msg SET envelope = ?, next_try = 0 "
                                   "WHERE id = ? AND dir = 'out' AND state = "
                                   "'queued'",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, env, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (ewh_db_done(s->db, st, "reseal a report", err) != 0)
        return -1;
    /* resealed: every hub that deferred it may have it now */
    st = ewh_db_stmt(s->db, "DELETE FROM hub_try WHERE id = ? AND refused = 0",
                     err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "reseal a report", err);
}
