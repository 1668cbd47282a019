/*
 * store_trust.c — what this node trusts of its peers' keys (docs/trust.md):
 * each peer's current key and whether it is verified, the history of the
 * keys each peer held (trusted or not for what it signed), the roster heads
 * this node held, the evidence of split views, and the reports and
 * receipts signed by unverified keys.  node/trust.c alone decides; these
 * tables are its memory.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS peer_trust(country TEXT PRIMARY KEY,"
    "  sign BLOB NOT NULL, fingerprint TEXT NOT NULL,"
    "  verified INTEGER NOT NULL, why TEXT NOT NULL, since INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS peer_keys(country TEXT NOT NULL,"
    "  sign BLOB NOT NULL, curve BLOB NOT NULL, box BLOB NOT NULL,"
    "  trusted INTEGER NOT NULL, how TEXT NOT NULL,"
    "  at INTEGER NOT NULL, PRIMARY KEY(country, sign));"
    "CREATE TABLE IF NOT EXISTS roster_heads(version INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL, signed BLOB NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS split_view(seq INTEGER PRIMARY KEY"
    "  AUTOINCREMENT, country TEXT NOT NULL, version INTEGER NOT NULL,"
    "  ours BLOB NOT NULL, theirs BLOB NOT NULL, what TEXT NOT NULL,"
    "  our_roster BLOB NOT NULL, peer_signed BLOB NOT NULL,"
    "  at INTEGER NOT NULL);"
    /* heads peers named for versions this node had not yet: compared when
     * the hub's roster of that version arrives */
    "CREATE TABLE IF NOT EXISTS peer_heads(country TEXT NOT NULL,"
    "  version INTEGER NOT NULL, hash BLOB NOT NULL, what TEXT NOT NULL,"
    "  signed BLOB NOT NULL, at INTEGER NOT NULL,"
    "  PRIMARY KEY(country, version, hash));"
    "CREATE TABLE IF NOT EXISTS unverified(kind TEXT NOT NULL,"
    "  id TEXT NOT NULL, country TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    "  signed BLOB NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(kind, id));";

int
node_store_trust_schema(node_store_t *s, struct ewh_err *err)
{
    return ewh_db_exec(s->db, s_schema, "create the trust tables", err);
}

int
node_store_trust_get(node_store_t *s, const char *cc, struct node_trust *out,
                     struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT sign, fingerprint, verified, why,"
                                   " since FROM peer_trust WHERE country = ?1",
                                   err);
    int rc;

    memset(out, 0, sizeof(*out));
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, cc, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read peer trust", err)) <= 0)
        return rc < 0 ? -1
                      : ewh_err_set(err, EWH_E_NOTFOUND,
                                    "no trust recorded for %s", cc);
    snprintf(out->country, sizeof(out->country), "%.2s", cc);
    if (!ewh_db_blob(st, 0, out->sign, sizeof(out->sign)) ||
        !ewh_db_text(st, 1, out->fp, sizeof(out->fp)) ||
        !ewh_db_text(st, 3, out->why, sizeof(out->why))) {
        sqlite3_reset(st);
        return ewh_err_set(err, EWH_E_STORE, "store: bad trust row for %s", cc);
    }
    out->verified = sqlite3_column_int(st, 2) != 0;
    out->since = sqlite3_column_int64(st, 4);
    sqlite3_reset(st);
    return 0;
}

int
node_store_trust_put(node_store_t *s, const struct node_trust *t,
                     struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "INSERT OR REPLACE INTO peer_trust(country, sign, fingerprint,"
        " verified, why, since) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, t->country, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, t->sign, sizeof(t->sign), SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->fp, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, t->verified ? 1 : 0);
    sqlite3_bind_text(st, 5, t->why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, t->since);
    return ewh_db_done(s->db, st, "write peer trust", err);
}

int
node_store_trust_count(node_store_t *s, int64_t *n, struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db, "SELECT count(*) FROM peer_trust", err);

    return st == NULL ? -1 : ewh_db_int(s->db, st, "count peer trust", n, err);
}

int
node_store_key_put(node_store_t *s, const struct ewh_pubid *id, bool trusted,
                   const char *how, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "INSERT INTO peer_keys(country, sign, curve, box, trusted, how, at)"
        " VALUES(?1, ?2, ?6, ?7, ?3, ?4, ?5) ON CONFLICT(country, sign)"
        " DO UPDATE SET trusted = excluded.trusted, how = excluded.how",
        err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id->country, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, id->sign, EWH_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, trusted ? 1 : 0);
    sqlite3_bind_text(st, 4, how, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ewh_now());
    sqlite3_bind_blob(st, 6, id->curve, EWH_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, id->box, EWH_KEY_BYTES, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "write peer key", err);
}

int
node_store_key_get(node_store_t *s, const char *cc,
                   const uint8_t sign[EWH_KEY_BYTES], bool *found,
                   bool *trusted, char *how, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT trusted, how FROM peer_keys"
                                   " WHERE country = ?1 AND sign = ?2",
                                   err);
    int rc;

    *found = *trusted = false;
    if (how != NULL)
        how[0] = '\0';
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, sign, EWH_KEY_BYTES, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read peer key", err)) <= 0)
        return rc;
    *found = true;
    *trusted = sqlite3_column_int(st, 0) != 0;
    if (how != NULL)
        (void)ewh_db_text(st, 1, how, 16);
    sqlite3_reset(st);
    return 0;
}

int
node_store_keys_trusted(node_store_t *s, const char *cc, struct ewh_pubid *out,
                        size_t cap, size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT sign, curve, box FROM peer_keys"
                                   " WHERE"
                                   " country = ?1 AND trusted = 1"
                                   " ORDER BY at DESC, rowid DESC",
                                   err);
    int rc;

    *n = 0;
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, cc, -1, SQLITE_STATIC);
    while ((rc = ewh_db_step(s->db, st, "read peer keys", err)) == 1) {
        struct ewh_pubid *id = &out[*n];
        if (*n == cap)
            continue;
        memset(id, 0, sizeof(*id));
        id->kind = EWH_KIND_NODE;
        snprintf(id->country, sizeof(id->country), "%.2s", cc);
        if (ewh_db_blob(st, 0, id->sign, EWH_KEY_BYTES) &&
            ewh_db_blob(st, 1, id->curve, EWH_KEY_BYTES) &&
            ewh_db_blob(st, 2, id->box, EWH_KEY_BYTES))
            (*n)++;
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_head_put(node_store_t *s, uint64_t version, const uint8_t hash[32],
                    const uint8_t *buf, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st =
        ewh_db_stmt(s->db,
                    "INSERT OR IGNORE INTO roster_heads(version, hash,"
                    " signed, at) VALUES(?1, ?2, ?3, ?4)",
                    err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ewh_now());
    return ewh_db_done(s->db, st, "keep the roster head", err);
}

int
node_store_head_get(node_store_t *s, uint64_t version, bool *found,
                    uint8_t hash[32], struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db, "SELECT hash FROM roster_heads WHERE version = ?1", err);
    int rc;

    *found = false;
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    if ((rc = ewh_db_step(s->db, st, "read roster head", err)) <= 0)
        return rc;
    *found = ewh_db_blob(st, 0, hash, 32);
    sqlite3_reset(st);
    return *found ? 0 : ewh_err_set(err, EWH_E_STORE, "store: bad roster head");
}

int
node_store_split_add(node_store_t *s, const char *cc, uint64_t version,
                     const uint8_t ours[32], const uint8_t theirs[32],
                     const char *what, const uint8_t *peer, size_t peer_len,
                     struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "INSERT INTO split_view(country, version, ours, theirs, what,"
        " our_roster, peer_signed, at) SELECT ?1, ?2, ?3, ?4, ?5,"
        " coalesce((SELECT signed FROM roster_heads WHERE version = ?2),"
        " x''), ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM split_view"
        " WHERE country = ?1 AND version = ?2 AND theirs = ?4)",
        err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)version);
    sqlite3_bind_blob(st, 3, ours, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, theirs, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, what, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, peer, (int)peer_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, ewh_now());
    return ewh_db_done(s->db, st, "keep split-view evidence", err);
}

int
node_store_split_list(node_store_t *s, node_split_fn fn, void *ctx, size_t *n,
                      struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT country, version, what, at FROM"
                                   " split_view ORDER BY seq",
                                   err);
    char cc[EWH_CC_BYTES], what[16];
    int rc;

    *n = 0;
    if (st == NULL)
        return -1;
    while ((rc = ewh_db_step(s->db, st, "read split views", err)) == 1) {
        (void)ewh_db_text(st, 0, cc, sizeof(cc));
        (void)ewh_db_text(st, 2, what, sizeof(what));
        if (fn != NULL)
            fn(ctx, cc, (uint64_t)sqlite3_column_int64(st, 1), what,
               sqlite3_column_int64(st, 3));
        (*n)++;
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_unverified_add(node_store_t *s, const char *kind, const char *id,
                          const char *cc, const char *fp, const uint8_t *buf,
                          size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "INSERT OR IGNORE INTO unverified(kind, id, country, fingerprint,"
        " signed, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cc, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fp, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, ewh_now());
    return ewh_db_done(s->db, st, "mark unverified", err);
}

int
node_store_unverified_is(node_store_t *s, const char *id, bool *marked,
                         char fp[EWH_FINGERPRINT_CHARS], struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT fingerprint FROM unverified"
                                   " WHERE kind = 'report' AND id = ?1",
                                   err);
    int rc;

    *marked = false;
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(s->db, st, "read unverified mark", err)) <= 0)
        return rc;
    *marked = true;
    if (fp != NULL)
        (void)ewh_db_text(st, 0, fp, EWH_FINGERPRINT_CHARS);
    sqlite3_reset(st);
    return 0;
}

int
node_store_key_distrust(node_store_t *s, const char *cc,
                        const uint8_t sign[EWH_KEY_BYTES], struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "UPDATE peer_keys SET trusted = 0"
                                   " WHERE country = ?1 AND sign = ?2",
                                   err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, sign, EWH_KEY_BYTES, SQLITE_STATIC);
    return ewh_db_done(s->db, st, "distrust peer key", err);
}

int
node_store_trust_unverified(node_store_t *s, node_trust_fn fn, void *ctx,
                            size_t *n, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT country, why, fingerprint FROM"
                                   " peer_trust WHERE verified = 0"
                                   " ORDER BY country",
                                   err);
    char cc[EWH_CC_BYTES], why[16], fp[EWH_FINGERPRINT_CHARS];
    int rc;

    *n = 0;
    if (st == NULL)
        return -1;
    while ((rc = ewh_db_step(s->db, st, "read peer trust", err)) == 1) {
        (void)ewh_db_text(st, 0, cc, sizeof(cc));
        (void)ewh_db_text(st, 1, why, sizeof(why));
        (void)ewh_db_text(st, 2, fp, sizeof(fp));
        if (fn != NULL)
            fn(ctx, cc, why, fp);
        (*n)++;
    }
    return rc < 0 ? -1 : 0;
}

int
node_store_peer_head_add(node_store_t *s, const char *cc, uint64_t version,
                         const uint8_t hash[32], const char *what,
                         const uint8_t *buf, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(
        s->db,
        "INSERT OR IGNORE INTO peer_heads(country, version, hash, what,"
        " signed, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)version);
    sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, what, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, ewh_now());
    return ewh_db_done(s->db, st, "keep a peer's roster head", err);
}

int
node_store_peer_head_take(node_store_t *s, uint64_t version,
                          const uint8_t ours[32], node_head_fn fn, void *ctx,
                          struct ewh_err *err)
{
    sqlite3_stmt *st = ewh_db_stmt(s->db,
                                   "SELECT country, hash, what, signed FROM"
                                   " peer_heads WHERE version = ?1",
                                   err);
    char cc[EWH_CC_BYTES], what[16];
    uint8_t h[32];
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    while ((rc = ewh_db_step(s->db, st, "read peer heads", err)) == 1) {
        (void)ewh_db_text(st, 0, cc, sizeof(cc));
        (void)ewh_db_text(st, 2, what, sizeof(what));
        if (ewh_db_blob(st, 1, h, 32) && memcmp(h, ours, 32) != 0 &&
            fn(ctx, cc, h, what, sqlite3_column_blob(st, 3),
               (size_t)sqlite3_column_bytes(st, 3)) != 0) {
            sqlite3_reset(st);
            return -1;
        }
    }
    if (rc < 0)
        return -1;
    if ((st = ewh_db_stmt(s->db, "DELETE FROM peer_heads WHERE version <= ?1",
                          err)) == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    return ewh_db_done(s->db, st, "forget peer heads", err);
}
