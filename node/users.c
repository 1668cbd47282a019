/* users.c — the desk's accounts, sessions, audit log and escalation steps
 * (DIR/desk.db; the only SQL of the desk). */
#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#define S_BUSY_MS 10000

/* Our named limits are libsodium's interactive ones; fail the build if
 * someone lowers them below. */
_Static_assert(EWH_DESK_PWHASH_OPSLIMIT >= 2u, "Argon2id ops below "
                                               "interactive");
_Static_assert(EWH_DESK_PWHASH_MEMLIMIT >= 64u * 1024u * 1024u,
               "Argon2id memory below interactive");

struct node_users {
    sqlite3 *db;
};

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS account("
    "  name TEXT PRIMARY KEY, roles INTEGER NOT NULL, hash TEXT NOT NULL,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  locked_until INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, last_login INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS session("
    "  hash BLOB PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS session_name ON session(name);"
    "CREATE TABLE IF NOT EXISTS audit("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    "  who TEXT NOT NULL, action TEXT NOT NULL, id TEXT NOT NULL,"
    "  detail TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS escalation("
    "  id TEXT NOT NULL, step INTEGER NOT NULL, at INTEGER NOT NULL,"
    "  PRIMARY KEY(id, step));";

static const char *const s_role_names[] = {"analyst", "liaison", "admin"};

int
node_roles_parse(const char *s, unsigned *out, struct ewh_err *err)
{
    char buf[64], *tok, *save = NULL;
    size_t i;

    *out = 0;
    if (s == NULL || strlen(s) >= sizeof(buf))
        return ewh_err_set(err, EWH_E_INVALID, "bad role list");
    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        for (i = 0; i < 3; i++)
            if (strcmp(tok, s_role_names[i]) == 0)
                break;
        if (i == 3)
            return ewh_err_set(err, EWH_E_INVALID,
                               "unknown role '%.16s' (analyst, liaison or "
                               "admin)",
                               tok);
        *out |= 1u << i;
    }
    if (*out == 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "no role given (analyst, liaison or admin)");
    return 0;
}

void
node_roles_format(unsigned roles, char *out, size_t cap)
{
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < 3; i++)
        if (roles & (1u << i))
            off += (size_t)snprintf(out + off, off < cap ? cap - off : 0,
                                    "%s%s", off ? "," : "", s_role_names[i]);
    if (off == 0)
        snprintf(out, cap, "none");
}

bool
node_user_name_is_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > EWH_DESK_MAX_NAME_BYTES)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

void
node_users_policy_defaults(struct node_users_policy *p)
{
    p->idle_s = EWH_DESK_SESSION_IDLE_S;
    p->max_s = EWH_DESK_SESSION_MAX_S;
    p->lockout_failures = EWH_DESK_LOCKOUT_FAILURES;
    p->lockout_s = EWH_DESK_LOCKOUT_S;
}

static int
s_sqlerr(node_users_t *u, struct ewh_err *err, const char *what)
{
    if ((sqlite3_extended_errcode(u->db) & 0xff) == SQLITE_FULL)
        return ewh_err_set(err, EWH_E_DISKFULL, "desk.db full: %s", what);
    return ewh_err_set(err, EWH_E_STORE, "desk.db: %s: %s", what,
                       sqlite3_errmsg(u->db));
}

static sqlite3_stmt *
s_prep(node_users_t *u, const char *sql, struct ewh_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(u->db, sql, -1, &st, NULL) != SQLITE_OK) {
        s_sqlerr(u, err, "prepare");
        return NULL;
    }
    return st;
}

/* Step a statement that returns no rows and finalize it. */
static int
s_done(node_users_t *u, sqlite3_stmt *st, struct ewh_err *err)
{
    int rc = sqlite3_step(st);

    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return s_sqlerr(u, err, "write");
    return 0;
}

static void
s_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

/* Create the file 0600 (never through a symlink) before SQLite opens it,
 * and refuse an existing one that others can read. */
static int
s_secure_file(const char *path, bool create, struct ewh_err *err)
{
    struct stat st;
    int fd;

    fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0),
              0600);
    if (fd < 0) {
        if (errno == ENOENT)
            return ewh_err_set(err, EWH_E_NOTFOUND,
                               "%s does not exist: add an account first "
                               "(ewnode user add)",
                               path);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    }
    close(fd);
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
        return ewh_err_set(err, EWH_E_PERM,
                           "%s is not a regular file of this user", path);
    if (st.st_mode & 0077)
        return ewh_err_set(err, EWH_E_PERM,
                           "%s has mode %03o: others may read it (chmod 600 "
                           "%s)",
                           path, (unsigned)(st.st_mode & 0777), path);
    return 0;
}

node_users_t *
node_users_open(const char *dir, bool create, struct ewh_err *err)
{
    node_users_t *u = NULL;
    char path[1100];
    char *msg = NULL;

    snprintf(path, sizeof(path), "%s/desk.db", dir);
    if (s_secure_file(path, create, err) != 0)
        return NULL;
    if ((u = calloc(1, sizeof(*u))) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &u->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
                            SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", path,
                    u->db ? sqlite3_errmsg(u->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(u->db, S_BUSY_MS);
    if (sqlite3_exec(u->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(u->db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: %s", path, msg ? msg : "schema");
        sqlite3_free(msg);
        goto fail;
    }
    return u;
fail:
    node_users_close(&u);
    return NULL;
}

void
node_users_close(node_users_t **u)
{
    if (u == NULL || *u == NULL)
        return;
    sqlite3_close((*u)->db);
    free(*u);
    *u = NULL;
}

/* ---- accounts ------------------------------------------------------- */

static int
s_hash(const char *pw, size_t len, char out[crypto_pwhash_STRBYTES],
       struct ewh_err *err)
{
    if (len < EWH_DESK_MIN_PASSWORD_BYTES)
        return ewh_err_set(err, EWH_E_INVALID, "password shorter than %u bytes",
                           EWH_DESK_MIN_PASSWORD_BYTES);
    if (len > EWH_DESK_MAX_PASSWORD_BYTES)
        return ewh_err_set(err, EWH_E_TOOBIG, "password longer than %u bytes",
                           EWH_DESK_MAX_PASSWORD_BYTES);
    if (crypto_pwhash_str_alg(out, pw, len, EWH_DESK_PWHASH_OPSLIMIT,
                              EWH_DESK_PWHASH_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ewh_err_set(err, EWH_E_NOMEM, "Argon2id needs %u MiB of memory",
                           EWH_DESK_PWHASH_MEMLIMIT >> 20);
    return 0;
}

/* Run an UPDATE/DELETE on one account by name; EWH_E_NOTFOUND when no
 * row changed. */
static int
s_change(node_users_t *u, sqlite3_stmt *st, const char *name,
         struct ewh_err *err)
{
    if (st == NULL || s_done(u, st, err) != 0)
        return -1;
    if (sqlite3_changes(u->db) == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no account '%s'", name);
    return 0;
}

static int
s_end_sessions(node_users_t *u, const char *name, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(u, "DELETE FROM session WHERE name = ?", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    return s_done(u, st, err);
}

int
node_users_add(node_users_t *u, const char *name, unsigned roles,
               const char *pw, size_t len, struct ewh_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    sqlite3_stmt *st;
    int rc;

    if (!node_user_name_is_valid(name))
        return ewh_err_set(err, EWH_E_INVALID,
                           "bad account name: 1 to %u of A-Z a-z 0-9 . _ -",
                           EWH_DESK_MAX_NAME_BYTES);
    if (roles == 0 || (roles & ~NODE_ROLE_ALL) != 0)
        return ewh_err_set(err, EWH_E_INVALID, "bad role set");
    if (s_hash(pw, len, hash, err) != 0)
        return -1;
    st = s_prep(u,
                "INSERT INTO account(name, roles, hash, created_at) "
                "VALUES (?, ?, ?, ?)",
                err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)roles);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ewh_now());
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return ewh_err_set(err, EWH_E_INVALID, "account '%s' exists", name);
    if (rc != SQLITE_DONE)
        return s_sqlerr(u, err, "add account");
    return 0;
}

int
node_users_del(node_users_t *u, const char *name, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(u, "DELETE FROM account WHERE name = ?", err);

    if (st != NULL)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (s_change(u, st, name, err) != 0)
        return -1;
    return s_end_sessions(u, name, err);
}

int
node_users_passwd(node_users_t *u, const char *name, const char *pw, size_t len,
                  struct ewh_err *err)
{
    char hash[crypto_pwhash_STRBYTES];
    sqlite3_stmt *st;

    if (s_hash(pw, len, hash, err) != 0)
        return -1;
    st = s_prep(u,
                "UPDATE account SET hash = ?, failures = 0, locked_until = 0 "
                "WHERE name = ?",
                err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    }
    if (s_change(u, st, name, err) != 0)
        return -1;
    return s_end_sessions(u, name, err);
}

int
node_users_set_roles(node_users_t *u, const char *name, unsigned roles,
                     struct ewh_err *err)
{
    sqlite3_stmt *st;

    if (roles == 0 || (roles & ~NODE_ROLE_ALL) != 0)
        return ewh_err_set(err, EWH_E_INVALID, "bad role set");
    st = s_prep(u, "UPDATE account SET roles = ? WHERE name = ?", err);
    if (st != NULL) {
        sqlite3_bind_int(st, 1, (int)roles);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    }
    if (s_change(u, st, name, err) != 0)
        return -1;
    return s_end_sessions(u, name, err);
}

#define S_ACCOUNT_COLS                                                         \
    "name, roles, failures, locked_until, created_at, last_login"

static void
s_user_fill(sqlite3_stmt *st, struct node_user *a)
{
    memset(a, 0, sizeof(*a));
    s_text(st, 0, a->name, sizeof(a->name));
    a->roles = (unsigned)sqlite3_column_int(st, 1);
    a->failures = (unsigned)sqlite3_column_int(st, 2);
    a->locked_until = sqlite3_column_int64(st, 3);
    a->created_at = sqlite3_column_int64(st, 4);
    a->last_login = sqlite3_column_int64(st, 5);
}

int
node_users_list(node_users_t *u, node_user_fn fn, void *ctx,
                struct ewh_err *err)
{
    sqlite3_stmt *st =
        s_prep(u, "SELECT " S_ACCOUNT_COLS " FROM account ORDER BY name", err);
    struct node_user a;
    int rc = 0, step;

    if (st == NULL)
        return -1;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        s_user_fill(st, &a);
        if ((rc = fn(ctx, &a)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_sqlerr(u, err, "list accounts");
    sqlite3_finalize(st);
    return rc;
}

int
node_users_get(node_users_t *u, const char *name, struct node_user *out,
               struct ewh_err *err)
{
    sqlite3_stmt *st =
        s_prep(u, "SELECT " S_ACCOUNT_COLS " FROM account WHERE name = ?", err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s_user_fill(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return ewh_err_set(err, EWH_E_NOTFOUND, "no account '%s'", name);
    if (rc != SQLITE_ROW)
        return s_sqlerr(u, err, "account");
    return 0;
}

/* ---- sessions ------------------------------------------------------- */

static void
s_token(char out[NODE_TOKEN_CHARS])
{
    uint8_t raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, NODE_TOKEN_CHARS, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

static void
s_token_hash(const char *token, uint8_t out[32])
{
    crypto_generichash(out, 32, (const uint8_t *)token, strlen(token),
                       (const uint8_t *)"ewh-desk-session", 16);
}

static int
s_exec(node_users_t *u, const char *sql, struct ewh_err *err)
{
    if (sqlite3_exec(u->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return s_sqlerr(u, err, sql);
    return 0;
}

int
node_users_login(node_users_t *u, const char *name, const char *pw, size_t len,
                 int64_t now, const struct node_users_policy *p,
                 struct node_session *out, struct ewh_err *err)
{
    char hash[crypto_pwhash_STRBYTES] = "";
    uint8_t th[32];
    sqlite3_stmt *st = NULL;
    struct node_user a;
    bool found = false, good;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!node_user_name_is_valid(name) || len > EWH_DESK_MAX_PASSWORD_BYTES)
        return ewh_err_set(err, EWH_E_AUTH, "unknown name or bad password");
    if ((st = s_prep(u,
                     "SELECT " S_ACCOUNT_COLS ", hash FROM account WHERE "
                     "name = ?",
                     err)) == NULL)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s_user_fill(st, &a);
        s_text(st, 6, hash, sizeof(hash));
        found = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_sqlerr(u, err, "sign-in");
    if (!found) {
        /* Spend the same time as for a real account, so that timing does
         * not tell which names exist. */
        char dummy[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(dummy, pw, len, EWH_DESK_PWHASH_OPSLIMIT,
                                  EWH_DESK_PWHASH_MEMLIMIT,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
            return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return ewh_err_set(err, EWH_E_AUTH, "unknown name or bad password");
    }
    if (a.locked_until > now)
        return ewh_err_set(err, EWH_E_LOCKED,
                           "account locked after %u failed sign-ins; try "
                           "again in %lld s",
                           p->lockout_failures,
                           (long long)(a.locked_until - now));
    good = crypto_pwhash_str_verify(hash, pw, len) == 0;
    sodium_memzero(hash, sizeof(hash));
    if (!good) {
        unsigned f = a.failures + 1;
        st = s_prep(u,
                    "UPDATE account SET failures = ?, locked_until = ? "
                    "WHERE name = ?",
                    err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int(st, 1, f >= p->lockout_failures ? 0 : (int)f);
        sqlite3_bind_int64(st, 2,
                           f >= p->lockout_failures ? now + p->lockout_s : 0);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        if (s_done(u, st, err) != 0)
            return -1;
        if (f >= p->lockout_failures)
            return ewh_err_set(err, EWH_E_LOCKED,
                               "account locked after %u failed sign-ins",
                               p->lockout_failures);
        return ewh_err_set(err, EWH_E_AUTH, "unknown name or bad password");
    }

    s_token(out->token);
    s_token(out->csrf);
    s_token_hash(out->token, th);
    snprintf(out->name, sizeof(out->name), "%s", a.name);
    out->roles = a.roles;
    out->created_at = out->last_seen = now;
    if (s_exec(u, "BEGIN IMMEDIATE", err) != 0)
        return -1;
    st = s_prep(u,
                "UPDATE account SET failures = 0, locked_until = 0, "
                "last_login = ? WHERE name = ?",
                err);
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (s_done(u, st, err) != 0)
        goto fail;
    /* Sweep sessions that have run out, so the table stays small. */
    st = s_prep(u, "DELETE FROM session WHERE last_seen < ? OR created_at < ?",
                err);
    if (st == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, now - p->idle_s);
    sqlite3_bind_int64(st, 2, now - p->max_s);
    if (s_done(u, st, err) != 0)
        goto fail;
    st = s_prep(u,
                "INSERT INTO session(hash, name, csrf, created_at, "
                "last_seen) VALUES (?, ?, ?, ?, ?)",
                err);
    if (st == NULL)
        goto fail;
    sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, out->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, now);
    if (s_done(u, st, err) != 0 || s_exec(u, "COMMIT", err) != 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
    sodium_memzero(out, sizeof(*out));
    return -1;
}

int
node_users_session(node_users_t *u, const char *token, int64_t now,
                   const struct node_users_policy *p, bool touch,
                   struct node_session *out, struct ewh_err *err)
{
    uint8_t th[32];
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    if (token == NULL || strlen(token) != NODE_TOKEN_CHARS - 1)
        return ewh_err_set(err, EWH_E_AUTH, "no session");
    s_token_hash(token, th);
    st = s_prep(u,
                "SELECT s.name, a.roles, s.csrf, s.created_at, s.last_seen "
                "FROM session s JOIN account a ON a.name = s.name WHERE "
                "s.hash = ?",
                err);
    if (st == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s_text(st, 0, out->name, sizeof(out->name));
        out->roles = (unsigned)sqlite3_column_int(st, 1);
        s_text(st, 2, out->csrf, sizeof(out->csrf));
        out->created_at = sqlite3_column_int64(st, 3);
        out->last_seen = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return ewh_err_set(err, EWH_E_AUTH, "no session");
    if (rc != SQLITE_ROW)
        return s_sqlerr(u, err, "session");
    if (now - out->last_seen > p->idle_s || now - out->created_at > p->max_s) {
        memset(out, 0, sizeof(*out));
        if ((st = s_prep(u, "DELETE FROM session WHERE hash = ?", err)) == NULL)
            return -1;
        sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
        if (s_done(u, st, err) != 0)
            return -1;
        return ewh_err_set(err, EWH_E_AUTH, "session expired");
    }
    if (touch && now > out->last_seen) {
        if ((st = s_prep(u, "UPDATE session SET last_seen = ? WHERE hash = ?",
                         err)) == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_blob(st, 2, th, sizeof(th), SQLITE_STATIC);
        if (s_done(u, st, err) != 0)
            return -1;
        out->last_seen = now;
    }
    return 0;
}

int
node_users_logout(node_users_t *u, const char *token, struct ewh_err *err)
{
    uint8_t th[32];
    sqlite3_stmt *st;

    if (token == NULL)
        return 0;
    s_token_hash(token, th);
    if ((st = s_prep(u, "DELETE FROM session WHERE hash = ?", err)) == NULL)
        return -1;
    sqlite3_bind_blob(st, 1, th, sizeof(th), SQLITE_STATIC);
    return s_done(u, st, err);
}

/* ---- audit ---------------------------------------------------------- */

int
node_users_audit(node_users_t *u, int64_t at, const char *who,
                 const char *action, const char *id, const char *detail,
                 struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(u,
                              "INSERT INTO audit(at, who, action, id, detail) "
                              "VALUES (?, ?, ?, ?, ?)",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id ? id : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
    return s_done(u, st, err);
}

int
node_users_audit_list(node_users_t *u, size_t max, node_audit_fn fn, void *ctx,
                      struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(u,
                              "SELECT seq, at, who, action, id, detail FROM "
                              "audit ORDER BY seq DESC LIMIT ?",
                              err);
    struct node_audit_row r;
    int rc = 0, step;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (int64_t)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        r.seq = sqlite3_column_int64(st, 0);
        r.at = sqlite3_column_int64(st, 1);
        s_text(st, 2, r.who, sizeof(r.who));
        s_text(st, 3, r.action, sizeof(r.action));
        s_text(st, 4, r.id, sizeof(r.id));
        s_text(st, 5, r.detail, sizeof(r.detail));
        if ((rc = fn(ctx, &r)) != 0)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = s_sqlerr(u, err, "audit");
    sqlite3_finalize(st);
    return rc;
}

/* ---- escalation ----------------------------------------------------- */

int
node_users_escalation_mark(node_users_t *u, const char *id, int step,
                           int64_t at, bool *fresh, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(u,
                              "INSERT OR IGNORE INTO escalation(id, step, at) "
                              "VALUES (?, ?, ?)",
                              err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, step);
    sqlite3_bind_int64(st, 3, at);
    if (s_done(u, st, err) != 0)
        return -1;
    *fresh = sqlite3_changes(u->db) == 1;
    return 0;
}

int
node_users_escalation_step(node_users_t *u, const char *id, int *out,
                           struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(
        u, "SELECT coalesce(max(step), 0) FROM escalation WHERE id = ?", err);
    int rc;

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : s_sqlerr(u, err, "escalation step");
}

int
node_users_data_version(node_users_t *u, int64_t *out, struct ewh_err *err)
{
    sqlite3_stmt *st = s_prep(u, "PRAGMA data_version", err);
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : s_sqlerr(u, err, "data_version");
}
