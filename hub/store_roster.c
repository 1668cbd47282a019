/* store_roster.c — enrolled countries: their keys, revocations, and the
 * roster version that every change bumps. */
#include "storeint.h"

#include <stdio.h>
#include <string.h>

static const char s_version[] = "SELECT v FROM meta WHERE k = 'roster_version'";
static const char s_bump[] =
    "UPDATE meta SET v = v + 1 WHERE k = 'roster_version'";
static const char s_node_get[] = "SELECT curve, sign, box, revoked FROM nodes"
                                 " WHERE country = ?1";
static const char s_node_ins[] =
    "INSERT INTO nodes(country, curve, sign, box, revoked,"
    " enrolled_at, updated_at) VALUES(?1, ?2, ?3, ?4, 0, ?5, ?5)";
static const char s_node_upd[] =
    "UPDATE nodes SET curve = ?2, sign = ?3, box = ?4,"
    " revoked = 0, updated_at = ?5 WHERE country = ?1";
static const char s_node_revoke[] =
    "UPDATE nodes SET revoked = 1, updated_at = ?2"
    " WHERE country = ?1 AND revoked = 0";
static const char s_nodes[] =
    "SELECT n.country, n.curve, n.sign, n.box, n.revoked, e.endorsed_by,"
    " e.sig FROM nodes n LEFT JOIN endorsements e ON e.sign = n.sign"
    " ORDER BY n.country";
static const char s_rk_find[] =
    "SELECT fingerprint FROM revoked_keys WHERE key IN (?1, ?2, ?3) LIMIT 1";
static const char s_rk_add[] =
    "INSERT OR IGNORE INTO revoked_keys(key, country, fingerprint, at)"
    " SELECT curve, country, ?2, ?3 FROM nodes WHERE country = ?1"
    " UNION ALL SELECT sign, country, ?2, ?3 FROM nodes WHERE country = ?1"
    " UNION ALL SELECT box, country, ?2, ?3 FROM nodes WHERE country = ?1";
static const char s_endo_put[] =
    "INSERT OR REPLACE INTO endorsements(sign, endorsed_by, sig)"
    " VALUES(?1, ?2, ?3)";
static const char s_endo_del[] = "DELETE FROM endorsements WHERE sign = ?1";
static const char s_hist_add[] =
    "INSERT OR REPLACE INTO key_history(sign, country, curve, box,"
    " endorsed_by, sig, at) SELECT n.sign, n.country, n.curve, n.box,"
    " e.endorsed_by, e.sig, ?2 FROM nodes n LEFT JOIN endorsements e"
    " ON e.sign = n.sign WHERE n.country = ?1";
static const char s_hist_get[] =
    "SELECT curve, box, endorsed_by, sig FROM key_history"
    " WHERE sign = ?1 AND country = ?2";
static const char s_rs_get[] = "SELECT signed FROM rosters WHERE version = ?1";
static const char s_rs_before[] = "SELECT version, hash FROM rosters"
                                  " WHERE version < ?1"
                                  " ORDER BY version DESC LIMIT 1";
static const char s_rs_put[] = "INSERT OR IGNORE INTO rosters(version, hash,"
                               " signed, at) VALUES(?1, ?2, ?3, ?4)";

int
hub_store__bump(hub_store_t *st, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_bump, err);

    return s == NULL ? -1 : ewh_db_done(st->db, s, "bump roster version", err);
}

/* Does cc's stored row hold exactly id's keys, not revoked?  *exists says
 * whether there is a row. */
static int
s_node_same(hub_store_t *st, const struct ewh_pubid *id, bool *exists,
            bool *same, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_node_get, err);
    int rc;

    *exists = *same = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read node", err)) <= 0)
        return rc;
    *exists = true;
    *same = sqlite3_column_bytes(s, 0) == 32 &&
            memcmp(sqlite3_column_blob(s, 0), id->curve, 32) == 0 &&
            sqlite3_column_bytes(s, 1) == 32 &&
            memcmp(sqlite3_column_blob(s, 1), id->sign, 32) == 0 &&
            sqlite3_column_bytes(s, 2) == 32 &&
            memcmp(sqlite3_column_blob(s, 2), id->box, 32) == 0 &&
            sqlite3_column_int(s, 3) == 0;
    sqlite3_reset(s);
    return 0;
}

/* Is any of id's keys one the hub revoked?  fp gets its fingerprint. */
static int
s_key_revoked(hub_store_t *st, const struct ewh_pubid *id, bool *revoked,
              char fp[EWH_FINGERPRINT_CHARS], struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_rk_find, err);
    int rc;

    *revoked = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, id->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id->box, 32, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read revoked keys", err)) <= 0)
        return rc;
    *revoked = true;
    snprintf(fp, EWH_FINGERPRINT_CHARS, "%s",
             (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    return 0;
}

/* cc's current signing key and revoked flag (*exists false: none). */
static int
s_node_sign(hub_store_t *st, const char *cc, bool *exists, uint8_t sign[32],
            bool *revoked, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_node_get, err);
    int rc;

    *exists = *revoked = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read node", err)) <= 0)
        return rc;
    *exists = ewh_db_blob(s, 1, sign, 32);
    *revoked = sqlite3_column_int(s, 3) != 0;
    sqlite3_reset(s);
    return *exists
               ? 0
               : ewh_err_set(err, EWH_E_STORE, "store: bad keys for %s", cc);
}

/* hub_store_node_enrol inside the caller's transaction: on -1 the caller
 * rolls back. */
int
hub_store_node_enrol_in(hub_store_t *st, const struct ewh_pubid *id,
                        bool override, enum hub_enrol_result *res,
                        bool *was_revoked, struct ewh_err *err)
{
    sqlite3_stmt *s;
    bool exists, same, rk, rev = false, endorsed = false;
    uint8_t cur[32];
    char fp[EWH_FINGERPRINT_CHARS];

    *res = HUB_ENROL_SAME;
    if (was_revoked != NULL)
        *was_revoked = false;
    if (id->kind != EWH_KIND_NODE)
        return ewh_err_set(err, EWH_E_INVALID, "not a node identity");
    if (s_node_same(st, id, &exists, &same, err) != 0)
        return -1;
    if (same)
        return 0;
    if (s_key_revoked(st, id, &rk, fp, err) != 0)
        return -1;
    if (rk && !override) {
        ewh_err_set(err, EWH_E_REVOKED,
                    "this key material was revoked (fingerprint %s): a "
                    "revocation is lifted with new keys (ewnode init or "
                    "ewnode rekey at the node), or with --override, which "
                    "every node sees as an unendorsed key change",
                    fp);
        return -1;
    }
    if (exists && s_node_sign(st, id->country, &exists, cur, &rev, err) != 0)
        return -1;
    /* A store from before revoked_keys: the country's revoked keys are
     * still in its row. */
    if (rev && !override && memcmp(cur, id->sign, 32) == 0) {
        ewh_err_set(err, EWH_E_REVOKED,
                    "these are %s's revoked keys: a revocation is lifted "
                    "with new keys, or with --override",
                    id->country);
        return -1;
    }
    /* An endorsement counts only from the key in the roster now, and not
     * from a revoked one (its holder may be whom it was revoked for). */
    endorsed = exists && !rev && !override && id->endorsed &&
               ewh_pubid_endorsement_check(id, cur, NULL) == 0;
    /* The key it replaces joins the chain nodes may follow. */
    if (endorsed) {
        if ((s = ewh_db_stmt(st->db, s_hist_add, err)) == NULL)
            return -1;
        sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, ewh_now());
        if (ewh_db_done(st->db, s, "keep the key replaced", err) != 0)
            return -1;
    }
    if ((s = ewh_db_stmt(st->db, exists ? s_node_upd : s_node_ins, err)) ==
        NULL)
        return -1;
    sqlite3_bind_text(s, 1, id->country, 2, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, id->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, id->box, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, ewh_now());
    if (ewh_db_done(st->db, s, "write node", err) != 0)
        return -1;
    if ((s = ewh_db_stmt(st->db, endorsed ? s_endo_put : s_endo_del, err)) ==
        NULL)
        return -1;
    sqlite3_bind_blob(s, 1, id->sign, 32, SQLITE_STATIC);
    if (endorsed) {
        sqlite3_bind_blob(s, 2, id->endorsed_by, 32, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, id->endorsement, 64, SQLITE_STATIC);
    }
    if (ewh_db_done(st->db, s, "write endorsement", err) != 0 ||
        hub_store__bump(st, err) != 0)
        return -1;
    *res = !exists    ? HUB_ENROL_NEW
           : endorsed ? HUB_ENROL_ENDORSED
                      : HUB_ENROL_UNENDORSED;
    if (was_revoked != NULL)
        *was_revoked = rev;
    return 0;
}

int
hub_store_node_enrol(hub_store_t *st, const struct ewh_pubid *id, bool override,
                     enum hub_enrol_result *res, bool *was_revoked,
                     struct ewh_err *err)
{
    *res = HUB_ENROL_SAME;
    if (hub_store_begin(st, err) != 0)
        return -1;
    if (hub_store_node_enrol_in(st, id, override, res, was_revoked, err) != 0 ||
        (*res != HUB_ENROL_SAME && hub_store_commit(st, err) != 0)) {
        hub_store_rollback(st);
        *res = HUB_ENROL_SAME;
        return -1;
    }
    if (*res == HUB_ENROL_SAME)
        hub_store_rollback(st);
    return 0;
}

int
hub_store_node_put(hub_store_t *st, const struct ewh_pubid *id, bool *changed,
                   struct ewh_err *err)
{
    enum hub_enrol_result res;

    if (hub_store_node_enrol(st, id, false, &res, NULL, err) != 0)
        return -1;
    if (changed != NULL)
        *changed = res != HUB_ENROL_SAME;
    return 0;
}

/* The fingerprint of cc's keys as stored. */
static int
s_revoked_fp(hub_store_t *st, const char *cc, char fp[EWH_FINGERPRINT_CHARS],
             struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_node_get, err);
    struct ewh_pubid id = {.kind = EWH_KIND_NODE};
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    if ((rc = ewh_db_step(st->db, s, "read node", err)) <= 0)
        return rc < 0
                   ? -1
                   : ewh_err_set(err, EWH_E_NOTFOUND, "%s is not enrolled", cc);
    snprintf(id.country, sizeof(id.country), "%.2s", cc);
    if (!ewh_db_blob(s, 0, id.curve, 32) || !ewh_db_blob(s, 1, id.sign, 32) ||
        !ewh_db_blob(s, 2, id.box, 32)) {
        sqlite3_reset(s);
        return ewh_err_set(err, EWH_E_STORE, "store: bad keys for %s", cc);
    }
    sqlite3_reset(s);
    ewh_pubid_fingerprint(&id, fp);
    return 0;
}

/* hub_store_node_revoke inside the caller's transaction. */
int
hub_store_node_revoke_in(hub_store_t *st, const char *cc, bool *changed,
                         struct ewh_err *err)
{
    sqlite3_stmt *s;
    char fp[EWH_FINGERPRINT_CHARS];
    int rc;

    if (changed != NULL)
        *changed = false;
    if ((s = ewh_db_stmt(st->db, s_node_get, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    rc = ewh_db_step(st->db, s, "read node", err);
    sqlite3_reset(s);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "%s is not enrolled", cc);
    if ((s = ewh_db_stmt(st->db, s_node_revoke, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ewh_now());
    if (ewh_db_done(st->db, s, "revoke", err) != 0)
        return -1;
    if (sqlite3_changes(hub_store__sql(st)) == 0)
        return 0;
    /* Revocation sticks: these keys are never enrolled again. */
    if (s_revoked_fp(st, cc, fp, err) != 0 ||
        (s = ewh_db_stmt(st->db, s_rk_add, err)) == NULL)
        return -1;
    sqlite3_bind_text(s, 1, cc, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, fp, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, ewh_now());
    if (ewh_db_done(st->db, s, "remember revoked keys", err) != 0 ||
        hub_store__bump(st, err) != 0)
        return -1;
    if (changed != NULL)
        *changed = true;
    return 0;
}

int
hub_store_node_revoke(hub_store_t *st, const char *cc, bool *changed,
                      struct ewh_err *err)
{
    bool ch = false;

    if (changed != NULL)
        *changed = false;
    if (hub_store_begin(st, err) != 0)
        return -1;
    if (hub_store_node_revoke_in(st, cc, &ch, err) != 0 ||
        (ch && hub_store_commit(st, err) != 0)) {
        hub_store_rollback(st);
        return -1;
    }
    if (!ch)
        hub_store_rollback(st);
    if (changed != NULL)
        *changed = ch;
    return 0;
}

/* Remember id's key material as revoked (inside a transaction): another
 * hub revoked these keys (ewhub roster import). */
int
hub_store_keys_revoked_add(hub_store_t *st, const struct ewh_pubid *id,
                           struct ewh_err *err)
{
    static const char q[] =
        "INSERT OR IGNORE INTO revoked_keys(key, country, fingerprint, at)"
        " VALUES(?1, ?4, ?5, ?6), (?2, ?4, ?5, ?6), (?3, ?4, ?5, ?6)";
    sqlite3_stmt *s = ewh_db_stmt(st->db, q, err);
    char fp[EWH_FINGERPRINT_CHARS];

    if (s == NULL)
        return -1;
    ewh_pubid_fingerprint(id, fp);
    sqlite3_bind_blob(s, 1, id->curve, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, id->sign, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id->box, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, id->country, 2, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, fp, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 6, ewh_now());
    return ewh_db_done(st->db, s, "remember revoked keys", err);
}

int
hub_store_roster_version(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_version, err);
    int64_t n = 0;

    if (s == NULL || ewh_db_int(st->db, s, "roster version", &n, err) != 0)
        return -1;
    *v = (uint64_t)n;
    return 0;
}

/* The endorsed chain back from id->endorsed_by, from key_history. */
static int
s_chain(hub_store_t *st, const struct ewh_pubid *id, ewh_roster_t *r,
        struct ewh_err *err)
{
    struct ewh_pubid links[EWH_MAX_KEY_CHAIN];
    const uint8_t *by = id->endorsed_by;
    sqlite3_stmt *s;
    size_t n = 0;
    int rc;

    while (n < EWH_MAX_KEY_CHAIN) {
        struct ewh_pubid *c = &links[n];
        if ((s = ewh_db_stmt(st->db, s_hist_get, err)) == NULL)
            return -1;
        sqlite3_bind_blob(s, 1, by, 32, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, id->country, 2, SQLITE_STATIC);
        if ((rc = ewh_db_step(st->db, s, "read key history", err)) < 0)
            return -1;
        if (rc == 0)
            break;
        memset(c, 0, sizeof(*c));
        c->kind = EWH_KIND_NODE;
        memcpy(c->country, id->country, 3);
        memcpy(c->sign, by, 32);
        if (!ewh_db_blob(s, 0, c->curve, 32) ||
            !ewh_db_blob(s, 1, c->box, 32)) {
            sqlite3_reset(s);
            return ewh_err_set(err, EWH_E_STORE, "store: bad key history");
        }
        c->endorsed = ewh_db_blob(s, 2, c->endorsed_by, 32) &&
                      ewh_db_blob(s, 3, c->endorsement, 64);
        sqlite3_reset(s);
        n++;
        if (!c->endorsed)
            break;
        by = c->endorsed_by;
    }
    return n > 0 ? ewh_roster_set_chain(r, id->country, links, n, err) : 0;
}

int
hub_store_data_version(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, "PRAGMA data_version", err);
    int64_t n = 0;

    if (s == NULL || ewh_db_int(st->db, s, "data version", &n, err) != 0)
        return -1;
    *v = (uint64_t)n;
    return 0;
}

/* One row of the nodes table into r. */
static int
s_roster_row(hub_store_t *st, sqlite3_stmt *s, ewh_roster_t *r,
             struct ewh_err *err)
{
    struct ewh_pubid id;

    memset(&id, 0, sizeof(id));
    id.kind = EWH_KIND_NODE;
    snprintf(id.country, sizeof(id.country), "%.2s",
             (const char *)sqlite3_column_text(s, 0));
    if (!ewh_db_blob(s, 1, id.curve, 32) || !ewh_db_blob(s, 2, id.sign, 32) ||
        !ewh_db_blob(s, 3, id.box, 32))
        return ewh_err_set(err, EWH_E_STORE, "store: bad keys for %s",
                           id.country);
    id.endorsed = ewh_db_blob(s, 5, id.endorsed_by, 32) &&
                  ewh_db_blob(s, 6, id.endorsement, 64);
    if (ewh_roster_put(r, &id, sqlite3_column_int(s, 4) != 0, err) != 0)
        return -1;
    return id.endorsed ? s_chain(st, &id, r, err) : 0;
}

int
hub_store_roster_load(hub_store_t *st, ewh_roster_t **out, struct ewh_err *err)
{
    ewh_roster_t *r = NULL;
    sqlite3_stmt *s;
    uint64_t v = 0;
    int rc;

    bool own = !st->in_tx;

    *out = NULL;
    /* One read transaction, so the version matches the rows (or the
     * caller's transaction: ewhub roster import). */
    if (own && hub_store_read_begin(st, err) != 0)
        return -1;
    if (hub_store_roster_version(st, &v, err) != 0)
        goto fail;
    if ((r = ewh_roster_new(v)) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((s = ewh_db_stmt(st->db, s_nodes, err)) == NULL)
        goto fail;
    while ((rc = ewh_db_step(st->db, s, "read nodes", err)) == 1)
        if (s_roster_row(st, s, r, err) != 0) {
            sqlite3_reset(s);
            goto fail;
        }
    if (rc < 0)
        goto fail;
    if (own)
        hub_store_read_end(st);
    *out = r;
    return 0;
fail:
    if (own)
        hub_store_read_end(st);
    ewh_roster_destroy(&r);
    return -1;
}

int
hub_store_roster_bump(hub_store_t *st, uint64_t *v, struct ewh_err *err)
{
    if (hub_store__bump(st, err) != 0)
        return -1;
    return v == NULL ? 0 : hub_store_roster_version(st, v, err);
}

int
hub_store_roster_chained(hub_store_t *st, bool *yes, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(
        st->db, "SELECT count(*) FROM meta WHERE k = 'roster_chain'", err);
    int64_t n = 0;

    if (s == NULL || ewh_db_int(st->db, s, "roster chain mark", &n, err) != 0)
        return -1;
    *yes = n > 0;
    return 0;
}

int
hub_store_roster_signed_get(hub_store_t *st, uint64_t v, uint8_t **buf,
                            size_t *len, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_rs_get, err);
    size_t n;
    int rc;

    *buf = NULL;
    *len = 0;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)v);
    if ((rc = ewh_db_step(st->db, s, "read signed roster", err)) <= 0)
        return rc < 0
                   ? -1
                   : ewh_err_set(err, EWH_E_NOTFOUND, "no signed roster %llu",
                                 (unsigned long long)v);
    n = (size_t)sqlite3_column_bytes(s, 0);
    if (n == 0 || (*buf = malloc(n)) == NULL) {
        sqlite3_reset(s);
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    }
    memcpy(*buf, sqlite3_column_blob(s, 0), n);
    *len = n;
    sqlite3_reset(s);
    return 0;
}

int
hub_store_roster_signed_before(hub_store_t *st, uint64_t v, bool *found,
                               uint64_t *pv, uint8_t hash[32],
                               struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_rs_before, err);
    int rc;

    *found = false;
    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)v);
    if ((rc = ewh_db_step(st->db, s, "read signed roster", err)) <= 0)
        return rc;
    *pv = (uint64_t)sqlite3_column_int64(s, 0);
    *found = ewh_db_blob(s, 1, hash, 32);
    sqlite3_reset(s);
    return *found ? 0 : ewh_err_set(err, EWH_E_STORE, "store: bad roster hash");
}

int
hub_store_roster_signed_put(hub_store_t *st, uint64_t v, const uint8_t hash[32],
                            const uint8_t *buf, size_t len, struct ewh_err *err)
{
    sqlite3_stmt *s = ewh_db_stmt(st->db, s_rs_put, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)v);
    sqlite3_bind_blob(s, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, buf, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, ewh_now());
    return ewh_db_done(st->db, s, "keep the signed roster", err);
}
