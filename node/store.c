/* store.c — the node's SQLite store (the only SQL in ewnode). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "ewh/dbcheck.h"

/* Prepared statements are kept for the life of the connection: the agent
 * runs the same few dozen statements for every report, and preparing one
 * costs more than running it (docs/performance.md). */
#define S_STMT_CACHE 48

struct s_cached {
    char *sql;
    sqlite3_stmt *st;
    bool busy; /* handed out and not yet given back with s_fin() */
};

struct node_store {
    sqlite3 *db;
    struct s_cached cache[S_STMT_CACHE];
    size_t n_cache;
};

#define S_BUSY_MS 10000

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v);"
    "CREATE TABLE IF NOT EXISTS roster("
    "  one INTEGER PRIMARY KEY CHECK(one = 1),"
    "  version INTEGER NOT NULL, signed BLOB NOT NULL,"
    "  stored_at INTEGER NOT NULL);"
    /* Sent (dir 'out') and received (dir 'in') reports. */
    "CREATE TABLE IF NOT EXISTS msg("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  dir TEXT NOT NULL CHECK(dir IN ('in', 'out')),"
    "  envelope BLOB NOT NULL,"
    "  type INTEGER NOT NULL, origin TEXT NOT NULL, author TEXT NOT NULL,"
    "  level INTEGER NOT NULL, category TEXT NOT NULL, tlp INTEGER NOT NULL,"
    "  title TEXT NOT NULL, body TEXT NOT NULL, urgency TEXT NOT NULL,"
    "  certainty TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL, recipients TEXT NOT NULL,"
    "  to_all INTEGER NOT NULL, received_at INTEGER NOT NULL,"
    "  acked_at INTEGER NOT NULL DEFAULT 0, acked_by TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
    "  next_try INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS msg_dir ON msg(dir, state, seq);"
    /* Pages of the inbox newest first, and the unacknowledged (desk). */
    "CREATE INDEX IF NOT EXISTS msg_created ON msg(dir, created_at, seq);"
    "CREATE INDEX IF NOT EXISTS msg_unacked ON msg(dir, acked_at, level, seq);"
    "CREATE TABLE IF NOT EXISTS refs(id TEXT NOT NULL, ref TEXT NOT NULL,"
    "  PRIMARY KEY(id, ref));"
    "CREATE INDEX IF NOT EXISTS refs_ref ON refs(ref);"
    "CREATE TABLE IF NOT EXISTS rcpt(id TEXT NOT NULL, country TEXT NOT NULL,"
    "  state INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',"
    "  at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(id, country));"
    "CREATE TABLE IF NOT EXISTS receipt_out("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    "  kind INTEGER NOT NULL, receipt BLOB NOT NULL,"
    "  done INTEGER NOT NULL DEFAULT 0, UNIQUE(id, kind));"
    "CREATE TABLE IF NOT EXISTS receipt_in(id TEXT NOT NULL,"
    "  from_cc TEXT NOT NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL,"
    "  who TEXT NOT NULL, receipt BLOB NOT NULL,"
    "  PRIMARY KEY(id, from_cc, kind));"
    "CREATE TABLE IF NOT EXISTS checkpoint(length INTEGER PRIMARY KEY,"
    "  head BLOB NOT NULL, time INTEGER NOT NULL, raw BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS refusal(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL, origin TEXT NOT NULL, reason TEXT NOT NULL,"
    "  at INTEGER NOT NULL);";

static const char *const s_rstates[] = {"queued",       "accepted", "delivered",
                                        "acknowledged", "expired",  "refused"};

const char *
node_rstate_name(enum node_rstate s)
{
    return (unsigned)s <= NODE_R_REFUSED ? s_rstates[s] : "invalid";
}

static int
s_sqlerr(node_store_t *s, struct ewh_err *err, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);

    if ((code & 0xff) == SQLITE_FULL)
        return ewh_err_set(err, EWH_E_DISKFULL, "store full: %s", what);
    return ewh_err_set(err, EWH_E_STORE, "store: %s: %s", what,
                       sqlite3_errmsg(s->db));
}

static sqlite3_stmt *
s_prep(node_store_t *s, const char *sql, struct ewh_err *err)
{
    sqlite3_stmt *st = NULL;
    struct s_cached *c = NULL;
    size_t i;

    for (i = 0; i < s->n_cache; i++)
        if (!s->cache[i].busy && strcmp(s->cache[i].sql, sql) == 0) {
            s->cache[i].busy = true;
            return s->cache[i].st;
        }
    if (sqlite3_prepare_v3(s->db, sql, -1,
                           s->n_cache < S_STMT_CACHE ? SQLITE_PREPARE_PERSISTENT
                                                     : 0,
                           &st, NULL) != SQLITE_OK) {
        s_sqlerr(s, err, "prepare");
        return NULL;
    }
    /* A statement still in use (a walk whose callback runs the same SQL)
     * or a full cache: this one is finalized by s_fin(). */
    if (s->n_cache < S_STMT_CACHE) {
        c = &s->cache[s->n_cache];
        if ((c->sql = strdup(sql)) == NULL)
            return st;
        c->st = st;
        c->busy = true;
        s->n_cache++;
    }
    return st;
}

/* Give back a statement from s_prep(). */
static void
s_fin(node_store_t *s, sqlite3_stmt *st)
{
    size_t i;

    for (i = 0; i < s->n_cache; i++)
        if (s->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            s->cache[i].busy = false;
            return;
        }
    sqlite3_finalize(st);
}

static int
s_exec(node_store_t *s, const char *sql, struct ewh_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return s_sqlerr(s, err, "exec");
    return 0;
}

/* Step a statement that returns no row, then finalize it. */
static int
s_done(node_store_t *s, sqlite3_stmt *st, struct ewh_err *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        s_sqlerr(s, err, "step");
        s_fin(s, st);
        return -1;
    }
    s_fin(s, st);
    return 0;
}

static void
s_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

node_store_t *
node_store_open(const char *path, bool create, struct ewh_err *err)
{
    node_store_t *s = calloc(1, sizeof(*s));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

    if (s == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    if (create)
        flags |= SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                    s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, S_BUSY_MS);
    if (s_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err) !=
        0)
        goto fail;
    if (create && s_exec(s, s_schema, err) != 0)
        goto fail;
    return s;
fail:
    node_store_close(&s);
    return NULL;
}

void
node_store_close(node_store_t **s)
{
    size_t i;

    if (s == NULL || *s == NULL)
        return;
    for (i = 0; i < (*s)->n_cache; i++) {
        sqlite3_finalize((*s)->cache[i].st);
        free((*s)->cache[i].sql);
    }
    sqlite3_close((*s)->db);
    free(*s);
    *s = NULL;
}

int
node_store_begin(node_store_t *s, struct ewh_err *err)
{
    return s_exec(s, "BEGIN IMMEDIATE", err);
}

int
node_store_commit(node_store_t *s, struct ewh_err *err)
{
    if (s_exec(s, "COMMIT", err) != 0) {
        node_store_rollback(s);
        return -1;
    }
    return 0;
}

void
node_store_rollback(node_store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int64_t
s_int(node_store_t *s, const char *sql, const char *arg, int64_t dflt)
{
    sqlite3_stmt *st = s_prep(s, sql, NULL);
    int64_t v = dflt;

    if (st == NULL)
        return dflt;
    if (arg != NULL)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    s_fin(s, st);
    return v;
}

int
node_store_data_version(node_store_t *s, int64_t *out, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s, "PRAGMA data_version", err);

    if (st == NULL)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW) {
        s_fin(s, st);
        return s_sqlerr(s, err, "data_version");
    }
    *out = sqlite3_column_int64(st, 0);
    s_fin(s, st);
    return 0;
}

/* ---- roster -------------------------------------------------------- */

int
node_store_roster_get(node_store_t *s, uint8_t **buf, size_t *len,
                      struct ewh_err *err)
{
    sqlite3_stmt *st =
        s_prep(s, "SELECT signed FROM roster WHERE one = 1", err);
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        s_fin(s, st);
        if (rc == SQLITE_DONE)
            return ewh_err_set(err, EWH_E_NOTFOUND, "no roster yet");
        return s_sqlerr(s, err, "roster");
    }
    *len = (size_t)sqlite3_column_bytes(st, 0);
    *buf = malloc(*len > 0 ? *len : 1);
    if (*buf == NULL) {
        s_fin(s, st);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    memcpy(*buf, sqlite3_column_blob(st, 0), *len);
    s_fin(s, st);
    return 0;
}

int
node_store_roster_put(node_store_t *s, const uint8_t *buf, size_t len,
                      uint64_t version, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "INSERT OR REPLACE INTO roster(one, version, "
                              "signed, stored_at) VALUES(1, ?, ?, ?)",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    sqlite3_bind_blob(st, 2, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ewh_now());
    return s_done(s, st, err);
}

/* ---- messages ------------------------------------------------------ */

void
node_msg_from_report(struct node_msg *m, const struct ewh_report *r,
                     const struct ewh_header *h, bool outgoing)
{
    size_t i;

    memset(m, 0, sizeof(*m));
    ewh_hex(r->id, EWH_ID_BYTES, m->id, sizeof(m->id));
    m->outgoing = outgoing;
    m->type = r->type;
    memcpy(m->origin, r->origin, EWH_CC_BYTES);
    snprintf(m->author, sizeof(m->author), "%s", r->author);
    m->level = r->level;
    snprintf(m->category, sizeof(m->category), "%s", r->category);
    m->tlp = r->tlp;
    snprintf(m->title, sizeof(m->title), "%s", r->title);
    snprintf(m->urgency, sizeof(m->urgency), "%s", r->urgency);
    snprintf(m->certainty, sizeof(m->certainty), "%s", r->certainty);
    m->body = strndup(r->body != NULL ? r->body : "", r->body_len);
    m->created_at = r->created_at;
    m->expires_at = r->expires_at;
    for (i = 0; i < r->n_refs; i++)
        ewh_hex(r->refs[i], EWH_ID_BYTES, m->refs[i], EWH_ID_HEX);
    m->n_refs = r->n_refs;
    if (h != NULL) {
        for (i = 0; i < h->n_recipients; i++)
            memcpy(m->recipients[i], h->recipients[i], EWH_CC_BYTES);
        m->n_recipients = h->n_recipients;
    }
}

void
node_msg_clear(struct node_msg *m)
{
    if (m->body != NULL) {
        sodium_memzero(m->body, strlen(m->body));
        free(m->body);
    }
    sodium_memzero(m, sizeof(*m));
}

static void
s_join_recipients(const struct node_msg *m, char *out, size_t cap)
{
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < m->n_recipients && off + 4 < cap; i++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? " " : "",
                                m->recipients[i]);
}

static int
s_msg_insert(node_store_t *s, const struct node_msg *m, const uint8_t *env,
             size_t len, const char *state, struct ewh_err *err)
{
    char rcpts[EWH_MAX_RECIPIENTS * 3 + 1];
    sqlite3_stmt *st;
    size_t i;

    s_join_recipients(m, rcpts, sizeof(rcpts));
    st = s_prep(s,
                "INSERT INTO msg(id, dir, envelope, type, origin, author, "
                "level, category, tlp, title, body, urgency, certainty, "
                "created_at, expires_at, recipients, to_all, received_at, "
                "state) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->outgoing ? "out" : "in", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, env, (int)len, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)m->type);
    sqlite3_bind_text(st, 5, m->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->author, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, (int)m->level);
    sqlite3_bind_text(st, 8, m->category, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, (int)m->tlp);
    sqlite3_bind_text(st, 10, m->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, m->body != NULL ? m->body : "", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 12, m->urgency, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, m->certainty, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 14, m->created_at);
    sqlite3_bind_int64(st, 15, m->expires_at);
    sqlite3_bind_text(st, 16, rcpts, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 17, m->to_all ? 1 : 0);
    sqlite3_bind_int64(st, 18, m->received_at);
    sqlite3_bind_text(st, 19, state, -1, SQLITE_STATIC);
    if (s_done(s, st, err) != 0)
        return -1;
    for (i = 0; i < m->n_refs; i++) {
        st = s_prep(s, "INSERT OR IGNORE INTO refs(id, ref) VALUES(?, ?)", err);
        if (st == NULL)
            return -1;
        sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->refs[i], -1, SQLITE_STATIC);
        if (s_done(s, st, err) != 0)
            return -1;
    }
    return 0;
}

int
node_store_outbox_add(node_store_t *s, const struct node_msg *m,
                      const uint8_t *env, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st;
    size_t i;

    if (s_msg_insert(s, m, env, len, "queued", err) != 0)
        return -1;
    for (i = 0; i < m->n_recipients; i++) {
        st = s_prep(s,
                    "INSERT INTO rcpt(id, country, state, at) "
                    "VALUES(?, ?, 0, ?)",
                    err);
        if (st == NULL)
            return -1;
        sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->recipients[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, m->received_at);
        if (s_done(s, st, err) != 0)
            return -1;
    }
    return 0;
}

int
node_store_inbox_add(node_store_t *s, const struct node_msg *m,
                     const uint8_t *env, size_t len, bool *dup,
                     struct ewh_err *err)
{
    *dup = s_int(s, "SELECT count(*) FROM msg WHERE id = ?", m->id, 0) > 0;
    if (*dup)
        return 0;
    return s_msg_insert(s, m, env, len, "", err);
}

#define S_MSG_COLS                                                             \
    "seq, id, dir, type, origin, author, level, category, tlp, title, body, "  \
    "urgency, certainty, created_at, expires_at, recipients, to_all, "         \
    "received_at, acked_at, acked_by, state, reason"

static void
s_split_cc(const char *list, char (*out)[EWH_CC_BYTES], size_t max, size_t *n)
{
    const char *p = list;

    *n = 0;
    while (*p != '\0' && *n < max) {
        while (*p == ' ')
            p++;
        if (p[0] == '\0' || p[1] == '\0')
            break;
        out[*n][0] = p[0];
        out[*n][1] = p[1];
        out[*n][2] = '\0';
        (*n)++;
        p += 2;
    }
}

static int
s_msg_fill(node_store_t *s, sqlite3_stmt *st, struct node_msg *m,
           struct ewh_err *err)
{
    char rcpts[EWH_MAX_RECIPIENTS * 3 + 1];
    const unsigned char *body;
    sqlite3_stmt *q;

    memset(m, 0, sizeof(*m));
    m->seq = sqlite3_column_int64(st, 0);
    s_text(st, 1, m->id, sizeof(m->id));
    m->outgoing = strcmp((const char *)sqlite3_column_text(st, 2), "out") == 0;
    m->type = (enum ewh_type)sqlite3_column_int(st, 3);
    s_text(st, 4, m->origin, sizeof(m->origin));
    s_text(st, 5, m->author, sizeof(m->author));
    m->level = (enum ewh_level)sqlite3_column_int(st, 6);
    s_text(st, 7, m->category, sizeof(m->category));
    m->tlp = (enum ewh_tlp)sqlite3_column_int(st, 8);
    s_text(st, 9, m->title, sizeof(m->title));
    body = sqlite3_column_text(st, 10);
    m->body = strdup(body != NULL ? (const char *)body : "");
    if (m->body == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    s_text(st, 11, m->urgency, sizeof(m->urgency));
    s_text(st, 12, m->certainty, sizeof(m->certainty));
    m->created_at = sqlite3_column_int64(st, 13);
    m->expires_at = sqlite3_column_int64(st, 14);
    s_text(st, 15, rcpts, sizeof(rcpts));
    s_split_cc(rcpts, m->recipients, EWH_MAX_RECIPIENTS, &m->n_recipients);
    m->to_all = sqlite3_column_int(st, 16) != 0;
    m->received_at = sqlite3_column_int64(st, 17);
    m->acked_at = sqlite3_column_int64(st, 18);
    s_text(st, 19, m->acked_by, sizeof(m->acked_by));
    s_text(st, 20, m->state, sizeof(m->state));
    s_text(st, 21, m->reason, sizeof(m->reason));

    /* references, in the order they were stored */
    if ((q = s_prep(s, "SELECT ref FROM refs WHERE id = ? ORDER BY rowid",
                    err)) == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW && m->n_refs < EWH_MAX_REFERENCES)
        s_text(q, 0, m->refs[m->n_refs++], EWH_ID_HEX);
    s_fin(s, q);

    /* the latest report of the same origin that references this one */
    if ((q = s_prep(s,
                    "SELECT m.id, m.type FROM refs r JOIN msg m ON m.id = "
                    "r.id WHERE r.ref = ? AND m.origin = ? ORDER BY "
                    "m.created_at DESC, m.seq DESC LIMIT 1",
                    err)) == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, m->origin, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        s_text(q, 0, m->superseded_by, sizeof(m->superseded_by));
        m->superseded_type = (enum ewh_type)sqlite3_column_int(q, 1);
    }
    s_fin(s, q);

    if (!m->outgoing)
        return 0;
    if ((q = s_prep(s,
                    "SELECT country, state, reason, at FROM rcpt WHERE id = "
                    "? ORDER BY country",
                    err)) == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW && m->n_rcpt < EWH_MAX_RECIPIENTS) {
        struct node_rcpt *r = &m->rcpt[m->n_rcpt++];
        s_text(q, 0, r->cc, sizeof(r->cc));
        r->state = (enum node_rstate)sqlite3_column_int(q, 1);
        s_text(q, 2, r->reason, sizeof(r->reason));
        r->at = sqlite3_column_int64(q, 3);
    }
    s_fin(s, q);
    return 0;
}

int
node_store_msg_get(node_store_t *s, const char *id, struct node_msg *m,
                   struct ewh_err *err)
{
    sqlite3_stmt *st =
        s_prep(s, "SELECT " S_MSG_COLS " FROM msg WHERE id = ?", err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        s_fin(s, st);
        if (rc == SQLITE_DONE)
            return ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", id);
        return s_sqlerr(s, err, "get");
    }
    rc = s_msg_fill(s, st, m, err);
    s_fin(s, st);
    return rc;
}

int
node_store_envelope_get(node_store_t *s, const char *id, uint8_t **env,
                        size_t *len, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s, "SELECT envelope FROM msg WHERE id = ?", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        s_fin(s, st);
        return ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", id);
    }
    *len = (size_t)sqlite3_column_bytes(st, 0);
    if ((*env = malloc(*len > 0 ? *len : 1)) == NULL) {
        s_fin(s, st);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    memcpy(*env, sqlite3_column_blob(st, 0), *len);
    s_fin(s, st);
    return 0;
}

int64_t
node_store_created_at(node_store_t *s, const char *id)
{
    return s_int(s, "SELECT created_at FROM msg WHERE id = ?", id, -1);
}

int
node_store_msg_list(node_store_t *s, const struct node_filter *f,
                    node_msg_fn fn, void *ctx, struct ewh_err *err)
{
    char sql[640];
    sqlite3_stmt *st;
    struct node_msg m;
    int rc = 0, step;

    /* "acked_at = 0" as a literal, not "(? = 0 OR ...)", so that the
     * msg_unacked index serves it. */
    snprintf(sql, sizeof(sql),
             "SELECT " S_MSG_COLS " FROM msg WHERE dir = ? AND seq > ?"
             " AND (? = 0 OR ((1 << level) & ?) != 0)"
             " AND (? = '' OR origin = ?)"
             " AND (? = 0 OR 1)%s"
             " ORDER BY %s LIMIT %lld OFFSET %lld",
             f->unacked ? " AND acked_at = 0" : "",
             f->level_newest   ? "level DESC, seq DESC"
             : f->level_first  ? "level DESC, seq ASC"
             : f->oldest_first ? "seq ASC"
                               : "created_at DESC, seq DESC",
             f->limit > 0 ? (long long)f->limit : -1LL,
             (long long)f->offset);
    if ((st = s_prep(s, sql, err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 1, f->outgoing ? "out" : "in", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->after_seq);
    sqlite3_bind_int(st, 3, (int)f->levels);
    sqlite3_bind_int(st, 4, (int)f->levels);
    sqlite3_bind_text(st, 5, f->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, f->from, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, f->unacked ? 1 : 0);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (s_msg_fill(s, st, &m, err) != 0) {
            node_msg_clear(&m);
            rc = -1;
            break;
        }
        rc = fn(ctx, &m);
        node_msg_clear(&m);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_sqlerr(s, err, "list");
    s_fin(s, st);
    return rc;
}

int
node_store_max_seq(node_store_t *s, int64_t *out, struct ewh_err *err)
{
    (void)err;
    *out = s_int(s, "SELECT max(seq) FROM msg WHERE dir = 'in'", NULL, 0);
    return 0;
}

int
node_store_inbox_ack(node_store_t *s, const char *id, const char *who,
                     int64_t at, bool *already, struct ewh_err *err)
{
    int64_t acked = s_int(
        s, "SELECT acked_at FROM msg WHERE id = ? AND dir = 'in'", id, -1);
    sqlite3_stmt *st;

    if (acked < 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no received report %s", id);
    *already = acked > 0;
    if (*already)
        return 0;
    st = s_prep(s, "UPDATE msg SET acked_at = ?, acked_by = ? WHERE id = ?",
                err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    return s_done(s, st, err);
}

/* ---- outbox work --------------------------------------------------- */

int
node_store_outbox_pending(node_store_t *s, int64_t after, int64_t now_ms,
                          size_t max, node_env_fn fn, void *ctx,
                          struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "SELECT seq, id, envelope FROM msg WHERE dir = "
                              "'out' AND state = 'queued' AND seq > ? AND "
                              "next_try <= ? ORDER BY seq LIMIT ?",
                              err);
    char id[EWH_ID_HEX];
    int rc = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        s_text(st, 1, id, sizeof(id));
        rc =
            fn(ctx, sqlite3_column_int64(st, 0), id, sqlite3_column_blob(st, 2),
               (size_t)sqlite3_column_bytes(st, 2));
    }
    s_fin(s, st);
    return rc;
}

static int
s_update_msg(node_store_t *s, const char *sql, const char *id, const char *text,
             int64_t num, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s, sql, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, num);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    return s_done(s, st, err);
}

int
node_store_outbox_accepted(node_store_t *s, const char *id, int64_t at,
                           struct ewh_err *err)
{
    if (s_update_msg(s,
                     "UPDATE msg SET state = 'accepted', reason = ?, "
                     "next_try = ? WHERE id = ? AND dir = 'out' AND state = "
                     "'queued'",
                     id, "", 0, err) != 0)
        return -1;
    return s_update_msg(s,
                        "UPDATE rcpt SET state = 1, reason = ?, at = ? "
                        "WHERE id = ? AND state = 0",
                        id, "", at, err);
}

int
node_store_outbox_refused(node_store_t *s, const char *id, const char *reason,
                          int64_t at, struct ewh_err *err)
{
    if (s_update_msg(s,
                     "UPDATE msg SET state = 'refused', reason = ?, "
                     "next_try = ? WHERE id = ? AND dir = 'out'",
                     id, reason, 0, err) != 0)
        return -1;
    return s_update_msg(s,
                        "UPDATE rcpt SET state = 5, reason = ?, at = ? "
                        "WHERE id = ? AND state < 2",
                        id, reason, at, err);
}

int
node_store_outbox_retry(node_store_t *s, const char *id, int64_t next_try_ms,
                        const char *reason, struct ewh_err *err)
{
    return s_update_msg(s,
                        "UPDATE msg SET reason = ?, next_try = ? WHERE id = "
                        "? AND dir = 'out' AND state = 'queued'",
                        id, reason, next_try_ms, err);
}

int64_t
node_store_outbox_next_try(node_store_t *s, int64_t now_ms)
{
    char now[32];

    snprintf(now, sizeof(now), "%lld", (long long)now_ms);
    return s_int(s,
                 "SELECT min(next_try) FROM msg WHERE dir = 'out' AND state "
                 "= 'queued' AND next_try > CAST(? AS INTEGER)",
                 now, 0);
}

int
node_store_rcpt_update(node_store_t *s, const char *id, const char *cc,
                       enum node_rstate state, const char *reason, int64_t at,
                       struct ewh_err *err)
{
    sqlite3_stmt *st;

    /* Progress only forwards; expired and refused are final, and an
     * acknowledged addressee cannot become expired. */
    st = s_prep(s,
                "UPDATE rcpt SET state = ?1, reason = ?2, at = ?3 WHERE id = "
                "?4 AND country = ?5 AND state < 4 AND "
                "(CASE WHEN ?1 >= 4 THEN state < 2 ELSE state < ?1 END)",
                err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, (int)state);
    sqlite3_bind_text(st, 2, reason != NULL ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, cc, -1, SQLITE_STATIC);
    if (s_done(s, st, err) != 0)
        return -1;
    /* A receipt proves the hub has the report even if our SubmitAck was
     * lost. */
    if (state == NODE_R_DELIVERED || state == NODE_R_ACKNOWLEDGED)
        return s_update_msg(s,
                            "UPDATE msg SET state = 'accepted', reason = ?, "
                            "next_try = ? WHERE id = ? AND dir = 'out' AND "
                            "state = 'queued'",
                            id, "", 0, err);
    return 0;
}

/* ---- receipts ------------------------------------------------------ */

int
node_store_receipt_queue(node_store_t *s, const char *id,
                         enum ewh_receipt_kind kind, const uint8_t *buf,
                         size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "INSERT OR IGNORE INTO receipt_out(id, kind, "
                              "receipt) VALUES(?, ?, ?)",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
    return s_done(s, st, err);
}

int
node_store_receipt_pending(node_store_t *s, int64_t after, size_t max,
                           node_env_fn fn, void *ctx, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "SELECT seq, id, receipt FROM receipt_out "
                              "WHERE done = 0 AND seq > ? ORDER BY seq "
                              "LIMIT ?",
                              err);
    char id[EWH_ID_HEX];
    int rc = 0;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        s_text(st, 1, id, sizeof(id));
        rc =
            fn(ctx, sqlite3_column_int64(st, 0), id, sqlite3_column_blob(st, 2),
               (size_t)sqlite3_column_bytes(st, 2));
    }
    s_fin(s, st);
    return rc;
}

int
node_store_receipt_done(node_store_t *s, const char *id,
                        enum ewh_receipt_kind kind, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(
        s, "UPDATE receipt_out SET done = 1 WHERE id = ? AND kind = ?", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)kind);
    return s_done(s, st, err);
}

int
node_store_receipt_add(node_store_t *s, const struct ewh_receipt *rc, size_t i,
                       const uint8_t *buf, size_t len, struct ewh_err *err)
{
    char id[EWH_ID_HEX];
    sqlite3_stmt *st = s_prep(s,
                              "INSERT OR IGNORE INTO receipt_in(id, from_cc, "
                              "kind, at, who, receipt) VALUES(?,?,?,?,?,?)",
                              err);

    if (st == NULL)
        return -1;
    ewh_hex(rc->ids[i], EWH_ID_BYTES, id, sizeof(id));
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, rc->from, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)rc->kind);
    sqlite3_bind_int64(st, 4, rc->at);
    sqlite3_bind_text(st, 5, rc->who, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, buf, i == 0 ? (int)len : 0, SQLITE_STATIC);
    return s_done(s, st, err);
}

/* ---- audit and refusals -------------------------------------------- */

int
node_store_checkpoint_put(node_store_t *s, uint64_t length,
                          const uint8_t head[32], int64_t time,
                          const uint8_t *raw, size_t raw_len,
                          struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "INSERT OR IGNORE INTO checkpoint(length, head, "
                              "time, raw) VALUES(?, ?, ?, ?)",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)length);
    sqlite3_bind_blob(st, 2, head, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, time);
    sqlite3_bind_blob(st, 4, raw, (int)raw_len, SQLITE_STATIC);
    return s_done(s, st, err);
}

uint64_t
node_store_checkpoint_length(node_store_t *s)
{
    return (uint64_t)s_int(s, "SELECT max(length) FROM checkpoint", NULL, 0);
}

int
node_store_refusal_add(node_store_t *s, const char *id, const char *origin,
                       const char *reason, int64_t at, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "INSERT INTO refusal(id, origin, reason, at) "
                              "VALUES(?, ?, ?, ?)",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    return s_done(s, st, err);
}

int64_t
node_store_refusal_count(node_store_t *s)
{
    return s_int(s, "SELECT count(*) FROM refusal", NULL, 0);
}

/* ---- re-key (issue 8) ---- */

int
node_store_outbox_set_envelope(node_store_t *s, const char *id,
                               const uint8_t *env, size_t len,
                               struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "UPDATE msg SET envelope = ?, next_try = 0 "
                              "WHERE id = ? AND dir = 'out' AND state = "
                              "'queued'",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, env, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    return s_done(s, st, err);
}

int
node_store_receipt_set(node_store_t *s, int64_t seq, const uint8_t *buf,
                       size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(s,
                              "UPDATE receipt_out SET receipt = ? WHERE seq = "
                              "? AND done = 0",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    return s_done(s, st, err);
}

int
node_store_checkpoint_walk(node_store_t *s, node_cp_fn fn, void *ctx,
                           struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(
        s, "SELECT length, head, time FROM checkpoint ORDER BY length", err);
    int rc;

    if (st == NULL)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != 32)
            continue;
        if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
               sqlite3_column_blob(st, 1), sqlite3_column_int64(st, 2)) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    s_fin(s, st);
    if (rc != SQLITE_DONE)
        return s_sqlerr(s, err, "walk checkpoints");
    return 0;
}

int
node_store_check(node_store_t *s, struct ewh_err *err)
{
    return ewh_db_quick_check(s->db, err);
}
