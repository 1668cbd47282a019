/* db.c — the SQLite discipline shared by the store modules (see db.h). */
#include "ewh/db.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct s_slot {
    const char *key; /* the caller's sql pointer */
    sqlite3_stmt *st;
};

struct ewh_db {
    sqlite3 *db;
    /* The statement cache: open addressing on the sql pointer, each hit
     * checked against the statement's own text (a buffer may be reused
     * for other SQL). */
    struct s_slot *slot;
    size_t cap, n; /* cap a power of two; n < cap / 2 */
};

int
ewh_db_must_exist(const char *path, struct ewh_err *err)
{
    struct stat sb, wb;
    char wal[1100];

    if (stat(path, &sb) != 0)
        return ewh_err_set(err, EWH_E_STORE,
                           "%s: missing in an initialised directory (never "
                           "taken for a new store): restore the last backup, "
                           "see docs/operations.md \"Backup and restore\"",
                           path);
    snprintf(wal, sizeof(wal), "%s-wal", path);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0 &&
        (stat(wal, &wb) != 0 || wb.st_size == 0))
        return ewh_err_set(
            err, EWH_E_STORE,
            "%s: empty (0 bytes) in an initialised directory "
            "(never taken for a new store): restore the last "
            "backup, see docs/operations.md \"Backup and restore\"",
            path);
    return 0;
}

ewh_db_t *
ewh_db_open(const char *path, unsigned flags, struct ewh_err *err)
{
    ewh_db_t *db;
    int rc, oflags = SQLITE_OPEN_NOMUTEX;

    if ((db = calloc(1, sizeof(*db))) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    oflags |= (flags & EWH_DB_READONLY) ? SQLITE_OPEN_READONLY
                                        : SQLITE_OPEN_READWRITE;
    if (flags & EWH_DB_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    rc = sqlite3_open_v2(path, &db->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(
            err, (rc & 0xff) == SQLITE_NOMEM ? EWH_E_NOMEM : EWH_E_STORE,
            "%s: %s", path,
            db->db != NULL ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
        ewh_db_close(&db);
        return NULL;
    }
    sqlite3_busy_timeout(db->db, EWH_DB_BUSY_MS);
    return db;
}

void
ewh_db_close(ewh_db_t **dbp)
{
    ewh_db_t *db;
    size_t i;

    if (dbp == NULL || *dbp == NULL)
        return;
    db = *dbp;
    for (i = 0; i < db->cap; i++)
        sqlite3_finalize(db->slot[i].st);
    free(db->slot);
    if (db->db != NULL)
        sqlite3_close(db->db);
    free(db);
    *dbp = NULL;
}

sqlite3 *
ewh_db_handle(ewh_db_t *db)
{
    return db->db;
}

void
ewh_db_busy_timeout(ewh_db_t *db, int ms)
{
    sqlite3_busy_timeout(db->db, ms);
}

int
ewh_db_err(ewh_db_t *db, int rc, const char *what, struct ewh_err *err)
{
    int ext = rc;

    /* sqlite3_step() returns the primary code; the connection knows the
     * extended one (SQLITE_IOERR_WRITE, ...). */
    if (db != NULL && db->db != NULL && (rc & 0xff) == rc &&
        (sqlite3_extended_errcode(db->db) & 0xff) == rc)
        ext = sqlite3_extended_errcode(db->db);
    switch (ext & 0xff) {
    case SQLITE_FULL:
        return ewh_err_set(err, EWH_E_DISKFULL, "store full (%s)", what);
    case SQLITE_IOERR:
        if (ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC)
            return ewh_err_set(err, EWH_E_DISKFULL, "store write failed (%s)",
                               what);
        return ewh_err_set(err, EWH_E_IO, "store: %s: %s", what,
                           sqlite3_errstr(ext));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ewh_err_set(err, EWH_E_BUSY,
                           "store: %s: the database is locked by another "
                           "connection",
                           what);
    case SQLITE_NOMEM:
        return ewh_err_set(err, EWH_E_NOMEM, "store: %s: out of memory", what);
    default:
        return ewh_err_set(err, EWH_E_STORE, "store: %s: %s", what,
                           db != NULL && db->db != NULL ? sqlite3_errmsg(db->db)
                                                        : sqlite3_errstr(ext));
    }
}

static size_t
s_hash(const char *key, size_t cap)
{
    uintptr_t k = (uintptr_t)key;

    k ^= k >> 17;
    k *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(k >> 7) & (cap - 1);
}

static int
s_grow(ewh_db_t *db)
{
    size_t ncap = db->cap ? db->cap * 2 : 64, i, j;
    struct s_slot *n = calloc(ncap, sizeof(*n));

    if (n == NULL)
        return -1;
    for (i = 0; i < db->cap; i++) {
        if (db->slot[i].key == NULL)
            continue;
        for (j = s_hash(db->slot[i].key, ncap); n[j].key != NULL;
             j = (j + 1) & (ncap - 1))
            ;
        n[j] = db->slot[i];
    }
    free(db->slot);
    db->slot = n;
    db->cap = ncap;
    return 0;
}

sqlite3_stmt *
ewh_db_prepare(ewh_db_t *db, const char *sql, struct ewh_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK) {
        ewh_db_err(db, rc, "prepare", err);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

sqlite3_stmt *
ewh_db_stmt(ewh_db_t *db, const char *sql, struct ewh_err *err)
{
    struct s_slot *sl;
    size_t i;
    int rc;

    if (db->cap == 0 && s_grow(db) != 0) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    for (i = s_hash(sql, db->cap); db->slot[i].key != NULL;
         i = (i + 1) & (db->cap - 1)) {
        sl = &db->slot[i];
        if (sl->key != sql)
            continue;
        if (strcmp(sqlite3_sql(sl->st), sql) != 0) {
            /* The caller's buffer now holds other SQL. */
            sqlite3_stmt *st = NULL;
            rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &st, NULL);
            if (rc != SQLITE_OK) {
                ewh_db_err(db, rc, "prepare", err);
                sqlite3_finalize(st);
                return NULL;
            }
            sqlite3_finalize(sl->st);
            sl->st = st;
            return st;
        }
        sqlite3_reset(sl->st);
        sqlite3_clear_bindings(sl->st);
        return sl->st;
    }
    if (2 * (db->n + 1) > db->cap) {
        if (s_grow(db) != 0) {
            ewh_err_set(err, EWH_E_NOMEM, "out of memory");
            return NULL;
        }
        for (i = s_hash(sql, db->cap); db->slot[i].key != NULL;
             i = (i + 1) & (db->cap - 1))
            ;
    }
    sl = &db->slot[i];
    rc = sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &sl->st,
                            NULL);
    if (rc != SQLITE_OK) {
        ewh_db_err(db, rc, "prepare", err);
        sqlite3_finalize(sl->st);
        sl->st = NULL;
        return NULL;
    }
    sl->key = sql;
    db->n++;
    return sl->st;
}

int
ewh_db_step(ewh_db_t *db, sqlite3_stmt *s, const char *what,
            struct ewh_err *err)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW)
        return 1;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    return ewh_db_err(db, rc, what, err);
}

int
ewh_db_done(ewh_db_t *db, sqlite3_stmt *s, const char *what,
            struct ewh_err *err)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_ROW)
        return ewh_err_set(err, EWH_E_STORE,
                           "store: %s: a row where none was expected", what);
    return ewh_db_err(db, rc, what, err);
}

int
ewh_db_int(ewh_db_t *db, sqlite3_stmt *s, const char *what, int64_t *out,
           struct ewh_err *err)
{
    int rc = ewh_db_step(db, s, what, err);

    if (rc < 0)
        return -1;
    if (rc == 0)
        return ewh_err_set(err, EWH_E_NOTFOUND, "store: %s: no row", what);
    if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
        sqlite3_reset(s);
        return ewh_err_set(err, EWH_E_STORE, "store: %s: NULL", what);
    }
    *out = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return 0;
}

int
ewh_db_exec(ewh_db_t *db, const char *sql, const char *what,
            struct ewh_err *err)
{
    int rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return ewh_db_err(db, rc, what, err);
    return 0;
}

int
ewh_db_begin(ewh_db_t *db, bool write, struct ewh_err *err)
{
    static const char begin_w[] = "BEGIN IMMEDIATE", begin_r[] = "BEGIN";
    sqlite3_stmt *s = ewh_db_stmt(db, write ? begin_w : begin_r, err);

    if (s == NULL)
        return -1;
    return ewh_db_done(db, s, write ? "begin" : "begin read", err);
}

int
ewh_db_commit(ewh_db_t *db, struct ewh_err *err)
{
    static const char commit[] = "COMMIT";
    sqlite3_stmt *s = ewh_db_stmt(db, commit, err);

    if (s == NULL)
        return -1;
    return ewh_db_done(db, s, "commit", err);
}

void
ewh_db_rollback(ewh_db_t *db)
{
    /* After some errors SQLite has already rolled back; ask the
     * connection rather than trust a flag. */
    if (!sqlite3_get_autocommit(db->db))
        (void)sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

bool
ewh_db_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    int n;

    if (cap == 0)
        return false;
    n = snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
    return t != NULL && n >= 0 && (size_t)n < cap;
}

bool
ewh_db_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t len)
{
    if (sqlite3_column_type(s, col) != SQLITE_BLOB ||
        (size_t)sqlite3_column_bytes(s, col) != len)
        return false;
    memcpy(out, sqlite3_column_blob(s, col), len);
    return true;
}

/* quick_check answers one row "ok", or up to N rows of complaints. */
int
ewh_db_quick_check(sqlite3 *db, struct ewh_err *err)
{
    const char *path = sqlite3_db_filename(db, "main");
    sqlite3_stmt *q = NULL;
    const unsigned char *t;
    int rc;

    if (path == NULL || *path == '\0')
        path = "store";
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        ewh_err_set(err, EWH_E_STORE,
                    "%s is damaged (%s); restore it from a backup", path,
                    sqlite3_errmsg(db));
        sqlite3_finalize(q);
        return -1;
    }
    t = sqlite3_column_text(q, 0);
    if (t == NULL || strcmp((const char *)t, "ok") != 0) {
        char why[101], *c;
        snprintf(why, sizeof(why), "%s", t != NULL ? (const char *)t : "?");
        for (c = why; *c != '\0'; c++) /* one log line */
            if (*c == '\n' || *c == '\r' || *c == '\t')
                *c = ' ';
        ewh_err_set(err, EWH_E_STORE,
                    "%s is damaged (quick_check: %s); restore it from a "
                    "backup",
                    path, why);
        sqlite3_finalize(q);
        return -1;
    }
    sqlite3_finalize(q);
    return 0;
}
