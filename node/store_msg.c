/*
 * store_msg.c — reports of both directions in the node store: the rows
 * of table msg with their references, lookups by id and listings.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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

int
node_store_msg_insert(node_store_t *s, const struct node_msg *m,
                      const uint8_t *env, size_t len, const char *state,
                      struct ewh_err *err)
{
    char rcpts[EWH_MAX_RECIPIENTS * 3 + 1];
    sqlite3_stmt *st;
    size_t i;

    s_join_recipients(m, rcpts, sizeof(rcpts));
    st = ewh_db_stmt(s->db,
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
    if (ewh_db_done(s->db, st, "store a report", err) != 0)
        return -1;
    for (i = 0; i < m->n_refs; i++) {
        st = ewh_db_stmt(
            s->db, "INSERT OR IGNORE INTO refs(id, ref) VALUES(?, ?)", err);
        if (st == NULL)
            return -1;
        sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->refs[i], -1, SQLITE_STATIC);
        if (ewh_db_done(s->db, st, "store a reference", err) != 0)
            return -1;
    }
    return 0;
}

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

/* The columns of msg itself. */
static int
s_fill_row(sqlite3_stmt *st, struct node_msg *m, struct ewh_err *err)
{
    char rcpts[EWH_MAX_RECIPIENTS * 3 + 1], dir[4];
    const unsigned char *body;

    m->seq = sqlite3_column_int64(st, 0);
    (void)ewh_db_text(st, 1, m->id, sizeof(m->id));
    (void)ewh_db_text(st, 2, dir, sizeof(dir));
    m->outgoing = strcmp(dir, "out") == 0;
    m->type = (enum ewh_type)sqlite3_column_int(st, 3);
    (void)ewh_db_text(st, 4, m->origin, sizeof(m->origin));
    (void)ewh_db_text(st, 5, m->author, sizeof(m->author));
    m->level = (enum ewh_level)sqlite3_column_int(st, 6);
    (void)ewh_db_text(st, 7, m->category, sizeof(m->category));
    m->tlp = (enum ewh_tlp)sqlite3_column_int(st, 8);
    (void)ewh_db_text(st, 9, m->title, sizeof(m->title));
    body = sqlite3_column_text(st, 10);
    m->body = strdup(body != NULL ? (const char *)body : "");
    if (m->body == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    (void)ewh_db_text(st, 11, m->urgency, sizeof(m->urgency));
    (void)ewh_db_text(st, 12, m->certainty, sizeof(m->certainty));
    m->created_at = sqlite3_column_int64(st, 13);
    m->expires_at = sqlite3_column_int64(st, 14);
    (void)ewh_db_text(st, 15, rcpts, sizeof(rcpts));
    s_split_cc(rcpts, m->recipients, EWH_MAX_RECIPIENTS, &m->n_recipients);
    m->to_all = sqlite3_column_int(st, 16) != 0;
    m->received_at = sqlite3_column_int64(st, 17);
    m->acked_at = sqlite3_column_int64(st, 18);
    (void)ewh_db_text(st, 19, m->acked_by, sizeof(m->acked_by));
    (void)ewh_db_text(st, 20, m->state, sizeof(m->state));
    (void)ewh_db_text(st, 21, m->reason, sizeof(m->reason));
    return 0;
}

/* References, in the order they were stored. */
static int
s_fill_refs(node_store_t *s, struct node_msg *m, struct ewh_err *err)
{
    sqlite3_stmt *q = ewh_db_stmt(
        s->db, "SELECT ref FROM refs WHERE id = ? ORDER BY rowid", err);
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
    while ((rc = ewh_db_step(s->db, q, "read references", err)) == 1 &&
           m->n_refs < EWH_MAX_REFERENCES)
        (void)ewh_db_text(q, 0, m->refs[m->n_refs++], EWH_ID_HEX);
    if (rc == 1)
        sqlite3_reset(q);
    return rc < 0 ? -1 : 0;
}

/* The latest report of the same origin that references this one, a
 * cancellation first (it ends the whole chain), with its author and
 * creation. */
static int
s_fill_superseded(node_store_t *s, struct node_msg *m, struct ewh_err *err)
{
    sqlite3_stmt *q = ewh_db_stmt(
        s->db,
        "SELECT m.id, m.type, m.author, m.created_at FROM refs r JOIN msg m "
        "ON m.id = r.id WHERE r.ref = ? AND m.origin = ? ORDER BY m.type = 3 "
        "DESC, m.created_at DESC, m.seq DESC LIMIT 1",
        err);
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, m->origin, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, q, "read what supersedes", err)) == 1) {
        (void)ewh_db_text(q, 0, m->superseded_by, sizeof(m->superseded_by));
        m->superseded_type = (enum ewh_type)sqlite3_column_int(q, 1);
        (void)ewh_db_text(q, 2, m->superseded_author,
                          sizeof(m->superseded_author));
        m->superseded_at = sqlite3_column_int64(q, 3);
        sqlite3_reset(q);
    }
    return rc < 0 ? -1 : 0;
}

/* What an update or cancel names first, when stored here: its title and
 * creation. */
static int
s_fill_replaces(node_store_t *s, struct node_msg *m, struct ewh_err *err)
{
    sqlite3_stmt *q;
    int rc;

    if (m->n_refs == 0)
        return 0;
    q = ewh_db_stmt(s->db,
                    "SELECT title, created_at FROM msg WHERE id = ? AND "
                    "origin = ?",
                    err);
    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->refs[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, m->origin, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, q, "read what is replaced", err)) == 1) {
        (void)ewh_db_text(q, 0, m->ref_title, sizeof(m->ref_title));
        m->ref_created_at = sqlite3_column_int64(q, 1);
        sqlite3_reset(q);
    }
    return rc < 0 ? -1 : 0;
}

/* Our report's addressees and how far each got. */
static int
s_fill_rcpts(node_store_t *s, struct node_msg *m, struct ewh_err *err)
{
    sqlite3_stmt *q = ewh_db_stmt(s->db,
                                  "SELECT country, state, reason, at FROM "
                                  "rcpt WHERE id = ? ORDER BY country",
                                  err);
    int rc;

    if (q == NULL)
        return -1;
    sqlite3_bind_text(q, 1, m->id, -1, SQLITE_STATIC);
    while ((rc = ewh_db_step(s->db, q, "read addressees", err)) == 1 &&
           m->n_rcpt < EWH_MAX_RECIPIENTS) {
        struct node_rcpt *r = &m->rcpt[m->n_rcpt++];
        (void)ewh_db_text(q, 0, r->cc, sizeof(r->cc));
        r->state = (enum node_rstate)sqlite3_column_int(q, 1);
        (void)ewh_db_text(q, 2, r->reason, sizeof(r->reason));
        r->at = sqlite3_column_int64(q, 3);
    }
    if (rc == 1)
        sqlite3_reset(q);
    return rc < 0 ? -1 : 0;
}

int
node_store_msg_fill(node_store_t *s, sqlite3_stmt *st, struct node_msg *m,
                    struct ewh_err *err)
{
    memset(m, 0, sizeof(*m));
    if (s_fill_row(st, m, err) != 0 || s_fill_refs(s, m, err) != 0 ||
        s_fill_superseded(s, m, err) != 0 || s_fill_replaces(s, m, err) != 0)
        return -1;
    if (!m->outgoing)
        return node_store_unverified_is(s, m->id, &m->unverified,
                                        m->unverified_fp, err);
    if (s_fill_rcpts(s, m, err) != 0)
        return -1;
    return node_store_msg_fill_hubs(s, m, err);
}

int
node_store_msg_get(node_store_t *s, const char *id, struct node_msg *m,
                   struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db, "SELECT " NODE_MSG_COLS " FROM msg WHERE id = ?", err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read a report", err)) <= 0)
        return rc < 0 ? -1
                      : ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", id);
    rc = node_store_msg_fill(s, st, m, err);
    sqlite3_reset(st);
    return rc;
}

int
node_store_envelope_get(node_store_t *s, const char *id, uint8_t **env,
                        size_t *len, struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db, "SELECT envelope FROM msg WHERE id = ?", err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read an envelope", err)) <= 0)
        return rc < 0 ? -1
                      : ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", id);
    rc = node_store_blob_dup(st, 0, env, len, err);
    sqlite3_reset(st);
    return rc;
}

int
node_store_created_at(node_store_t *s, const char *id, int64_t *out,
                      struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db, "SELECT created_at FROM msg WHERE id = ?", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (ewh_db_int(s->db, st, "read created_at", out, err) != 0) {
        if (err != NULL && err->code == EWH_E_NOTFOUND)
            ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", id);
        return -1;
    }
    return 0;
}

int
node_store_expires_at(node_store_t *s, const char *id, int64_t *out,
                      struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db, "SELECT expires_at FROM msg WHERE id = ?", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (ewh_db_int(s->db, st, "read expires_at", out, err) != 0) {
        if (err != NULL && err->code == EWH_E_NOTFOUND)
            ewh_err_set(err, EWH_E_NOTFOUND, "no report %s", id);
        return -1;
    }
    return 0;
}

/* Split a search into LIKE patterns "%word%", with %, _ and \ escaped. */
static int
s_search_words(const char *q, char (*out)[EWH_MAX_TITLE_BYTES + 3], size_t *n,
               struct ewh_err *err)
{
    size_t len, o;

    *n = 0;
    if (q == NULL)
        return 0;
    while (*q != '\0') {
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\0')
            break;
        len = strcspn(q, " \t");
        if (*n == EWH_MAX_SEARCH_WORDS)
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "more than %u words to search for",
                               EWH_MAX_SEARCH_WORDS);
        if (2 * len + 3 > sizeof(out[0]))
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "a search word longer than %u bytes",
                               (EWH_MAX_TITLE_BYTES - 1) / 2);
        o = 0;
        out[*n][o++] = '%';
        for (; len > 0; len--, q++) {
            if (*q == '%' || *q == '_' || *q == '\\')
                out[*n][o++] = '\\';
            out[*n][o++] = *q;
        }
        out[*n][o++] = '%';
        out[*n][o] = '\0';
        (*n)++;
    }
    return 0;
}

/* The statement text depends on the order and the number of search
 * words only, so that each variant stays in the cache. */
int
node_store_msg_list(node_store_t *s, const struct node_filter *f,
                    node_msg_fn fn, void *ctx, struct ewh_err *err)
{
    char sql[1536], words[EWH_MAX_SEARCH_WORDS][EWH_MAX_TITLE_BYTES + 3];
    size_t n_words = 0, off, i;
    sqlite3_stmt *st;
    struct node_msg m;
    int rc = 0, step;

    if (s_search_words(f->search, words, &n_words, err) != 0)
        return -1;
    off = (size_t)snprintf(sql, sizeof(sql),
                           "SELECT " NODE_MSG_COLS
                           " FROM msg WHERE dir = ? AND seq > ?"
                           " AND (? = 0 OR ((1 << level) & ?) != 0)"
                           " AND (? = '' OR origin = ?)"
                           " AND (? = 0 OR acked_at = 0)%s"
                           " AND (?8 = '' OR category = ?8)"
                           " AND (?9 = 0 OR created_at >= ?9)"
                           " AND (?10 = 0 OR created_at < ?10)",
                           /* a literal term, so that the msg_unacked
                            * index serves the unacknowledged (desk) */
                           f->unacked ? " AND acked_at = 0" : "");
    for (i = 0; i < n_words; i++)
        off += (size_t)snprintf(sql + off, sizeof(sql) - off,
                                " AND (title LIKE ?%zu ESCAPE '\\' OR body "
                                "LIKE ?%zu ESCAPE '\\')",
                                13 + i, 13 + i);
    snprintf(sql + off, sizeof(sql) - off, " ORDER BY %s LIMIT ?11 OFFSET ?12",
             f->level_newest   ? "level DESC, seq DESC"
             : f->level_first  ? "level DESC, seq ASC"
             : f->oldest_first ? "seq ASC"
                               /* newest first by arrival (seq), never by
                                * the sender's clock: a report from a
                                * clock days behind is listed (and
                                * alerted) when it arrives */
                               : "seq DESC");
    if ((st = ewh_db_stmt(s->db, sql, err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 8, f->category, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, f->since);
    sqlite3_bind_int64(st, 10, f->until);
    sqlite3_bind_int64(st, 11, f->limit > 0 ? f->limit : -1);
    sqlite3_bind_int64(st, 12, f->offset > 0 ? f->offset : 0);
    for (i = 0; i < n_words; i++)
        sqlite3_bind_text(st, 13 + (int)i, words[i], -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 1, f->outgoing ? "out" : "in", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->after_seq);
    sqlite3_bind_int(st, 3, (int)f->levels);
    sqlite3_bind_int(st, 4, (int)f->levels);
    sqlite3_bind_text(st, 5, f->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, f->from, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, f->unacked ? 1 : 0);
    while ((step = ewh_db_step(s->db, st, "list reports", err)) == 1) {
        if (node_store_msg_fill(s, st, &m, err) != 0) {
            node_msg_clear(&m);
            rc = -1;
            break;
        }
        rc = fn(ctx, &m);
        node_msg_clear(&m);
        if (rc != 0)
            break;
    }
    if (step == 1)
        sqlite3_reset(st); /* stopped early: end the read */
    else if (step < 0)
        rc = -1;
    return rc;
}

int
node_store_figures(node_store_t *s, struct node_store_figures *f,
                   struct ewh_err *err)
{
    static const char *const sql[2] = {
        "SELECT count(*), coalesce(min(created_at), 0) FROM msg"
        " WHERE dir = 'out' AND state = 'queued'",
        "SELECT count(*), coalesce(min(received_at), 0) FROM msg"
        " WHERE dir = 'in' AND level = 3 AND acked_at = 0"};
    int64_t *out[2][2] = {{&f->outbox, &f->outbox_oldest},
                          {&f->unacked_high, &f->unacked_high_oldest}};
    sqlite3_stmt *st;
    int i, rc;

    memset(f, 0, sizeof(*f));
    for (i = 0; i < 2; i++) {
        if ((st = ewh_db_stmt(s->db, sql[i], err)) == NULL)
            return -1;
        if ((rc = ewh_db_step(s->db, st, "read the figures", err)) != 1)
            return rc < 0 ? -1
                          : ewh_err_set(err, EWH_E_STORE, "figures: no row");
        *out[i][0] = sqlite3_column_int64(st, 0);
        *out[i][1] = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
    }
    return 0;
}
