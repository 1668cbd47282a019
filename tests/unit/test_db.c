/* test_db.c — the store discipline (include/ewh/db.h) on real SQLite
 * files: the error mapping with real faults (another connection's write
 * lock, a quota via max_page_count), the step helpers' refusals, the
 * statement cache. */
#include "ewh/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char s_dir[] = "/tmp/ewh-test-db-XXXXXX";
static char s_path[256];

static ewh_db_t *
s_open(void)
{
    struct ewh_err err = {0};
    ewh_db_t *db = ewh_db_open(s_path, EWH_DB_CREATE, &err);

    if (db == NULL) {
        fprintf(stderr, "open: %s\n", err.reason);
        exit(1);
    }
    return db;
}

static void
s_reset(void)
{
    char p[300];

    unlink(s_path);
    snprintf(p, sizeof(p), "%s-wal", s_path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", s_path);
    unlink(p);
}

static void
test_open_missing(void)
{
    struct ewh_err err = {0};
    char p[300];

    snprintf(p, sizeof(p), "%s/none.db", s_dir);
    CHECK(ewh_db_open(p, 0, &err) == NULL);
    CHECK(err.code == EWH_E_STORE);
    CHECK(strstr(err.reason, p) != NULL);
    CHECK(access(p, F_OK) != 0); /* not created */
}

static void
test_step_helpers(void)
{
    struct ewh_err err = {0};
    ewh_db_t *db = s_open();
    sqlite3_stmt *s;
    int64_t v = 0;
    int n = 0, rc;

    CHECK_OK(
        ewh_db_exec(db, "CREATE TABLE t(k TEXT, v INTEGER)", "create", &err),
        &err);
    CHECK_OK(ewh_db_exec(db,
                         "INSERT INTO t VALUES('a', 1), ('b', NULL),"
                         " ('c', 3)",
                         "insert", &err),
             &err);
    /* a row where none was expected is an error, not success */
    s = ewh_db_stmt(db, "SELECT v FROM t", &err);
    CHECK(s != NULL);
    CHECK_FAILS(ewh_db_done(db, s, "select", &err), &err, EWH_E_STORE,
                "a row where none was expected");
    /* one integer: no row is NOTFOUND, NULL is an error, never a default */
    s = ewh_db_stmt(db, "SELECT v FROM t WHERE k = ?1", &err);
    sqlite3_bind_text(s, 1, "a", -1, SQLITE_STATIC);
    CHECK_OK(ewh_db_int(db, s, "v of a", &v, &err), &err);
    CHECK(v == 1);
    s = ewh_db_stmt(db, "SELECT v FROM t WHERE k = ?1", &err);
    sqlite3_bind_text(s, 1, "zz", -1, SQLITE_STATIC);
    v = 42;
    CHECK_FAILS(ewh_db_int(db, s, "v of zz", &v, &err), &err, EWH_E_NOTFOUND,
                "v of zz");
    CHECK(v == 42);
    s = ewh_db_stmt(db, "SELECT v FROM t WHERE k = ?1", &err);
    sqlite3_bind_text(s, 1, "b", -1, SQLITE_STATIC);
    CHECK_FAILS(ewh_db_int(db, s, "v of b", &v, &err), &err, EWH_E_STORE,
                "NULL");
    /* the cached statement comes back reset with its bindings cleared */
    s = ewh_db_stmt(db, "SELECT v FROM t WHERE k = ?1", &err);
    CHECK(sqlite3_bind_parameter_count(s) == 1);
    CHECK(ewh_db_step(db, s, "no binding", &err) == 0); /* k = NULL */
    s = ewh_db_stmt(db, "SELECT k FROM t ORDER BY k", &err);
    while ((rc = ewh_db_step(db, s, "walk", &err)) == 1)
        n++;
    CHECK(rc == 0 && n == 3);
    /* a statement that does not compile */
    CHECK(ewh_db_stmt(db, "SELEC nonsense", &err) == NULL);
    CHECK(err.code == EWH_E_STORE);
    ewh_db_close(&db);
    CHECK(db == NULL);
    ewh_db_close(&db); /* accepts NULL */
    s_reset();
}

static void
test_cache_buffer_reuse(void)
{
    struct ewh_err err = {0};
    ewh_db_t *db = s_open();
    char buf[64];
    sqlite3_stmt *s;
    int64_t v = 0;
    int i;

    /* one buffer, other SQL: the cache must not hand back the old one */
    for (i = 1; i <= 3; i++) {
        snprintf(buf, sizeof(buf), "SELECT %d", i * 10);
        s = ewh_db_stmt(db, buf, &err);
        CHECK(s != NULL);
        CHECK_OK(ewh_db_int(db, s, "select", &v, &err), &err);
        CHECK(v == i * 10);
    }
    /* many statements: the cache grows and each stays itself */
    {
        static char sql[200][32];
        for (i = 0; i < 200; i++)
            snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
        for (i = 0; i < 200; i++)
            CHECK(ewh_db_stmt(db, sql[i], &err) != NULL);
        for (i = 199; i >= 0; i--) {
            s = ewh_db_stmt(db, sql[i], &err);
            CHECK_OK(ewh_db_int(db, s, "select", &v, &err), &err);
            CHECK(v == i);
        }
    }
    ewh_db_close(&db);
    s_reset();
}

static void
test_text(void)
{
    struct ewh_err err = {0};
    ewh_db_t *db = s_open();
    sqlite3_stmt *s = ewh_db_stmt(db, "SELECT 'abcdef', NULL, x'0102'", &err);
    char out[4];
    uint8_t b[2] = {0};

    CHECK(ewh_db_step(db, s, "select", &err) == 1);
    CHECK(!ewh_db_text(s, 0, out, sizeof(out))); /* did not fit */
    CHECK(strcmp(out, "abc") == 0);
    CHECK(!ewh_db_text(s, 1, out, sizeof(out))); /* NULL */
    CHECK(strcmp(out, "") == 0);
    CHECK(ewh_db_blob(s, 2, b, 2) && b[0] == 1 && b[1] == 2);
    CHECK(!ewh_db_blob(s, 2, b, 3));
    CHECK(!ewh_db_blob(s, 0, b, 2)); /* text is not a blob */
    sqlite3_reset(s);
    s = ewh_db_stmt(db, "SELECT 'ab'", &err);
    CHECK(ewh_db_step(db, s, "select", &err) == 1);
    CHECK(ewh_db_text(s, 0, out, sizeof(out)) && strcmp(out, "ab") == 0);
    sqlite3_reset(s);
    ewh_db_close(&db);
    s_reset();
}

/* Another connection holds the write lock: after the busy timeout the
 * write is EWH_E_BUSY, and it succeeds once the lock is gone. */
static void
test_busy(void)
{
    struct ewh_err err = {0};
    ewh_db_t *a = s_open(), *b;
    sqlite3_stmt *s;

    CHECK_OK(ewh_db_exec(a,
                         "PRAGMA journal_mode = WAL;"
                         "CREATE TABLE t(v INTEGER)",
                         "create", &err),
             &err);
    b = s_open();
    ewh_db_busy_timeout(b, 100);
    CHECK_OK(ewh_db_begin(a, true, &err), &err);
    CHECK_OK(ewh_db_exec(a, "INSERT INTO t VALUES(1)", "insert", &err), &err);
    CHECK_FAILS(ewh_db_begin(b, true, &err), &err, EWH_E_BUSY, "locked");
    CHECK(ewh_errcode_is_retryable(err.code));
    s = ewh_db_stmt(b, "INSERT INTO t VALUES(2)", &err);
    CHECK(s != NULL);
    CHECK_FAILS(ewh_db_done(b, s, "insert", &err), &err, EWH_E_BUSY, "insert");
    CHECK_OK(ewh_db_commit(a, &err), &err);
    s = ewh_db_stmt(b, "INSERT INTO t VALUES(2)", &err);
    CHECK_OK(ewh_db_done(b, s, "insert", &err), &err);
    ewh_db_close(&b);
    ewh_db_close(&a);
    s_reset();
}

/* A quota (max_page_count) stands in for a full disk. */
static void
test_full(void)
{
    struct ewh_err err = {0};
    ewh_db_t *db = s_open();
    sqlite3_stmt *s;
    int i, rc = 0;

    CHECK_OK(ewh_db_exec(db, "CREATE TABLE t(v BLOB)", "create", &err), &err);
    CHECK_OK(ewh_db_exec(db, "PRAGMA max_page_count = 8", "quota", &err), &err);
    for (i = 0; i < 100 && rc == 0; i++) {
        s = ewh_db_stmt(db, "INSERT INTO t VALUES(zeroblob(4000))", &err);
        rc = ewh_db_done(db, s, "insert", &err);
    }
    CHECK(rc == -1);
    CHECK(err.code == EWH_E_DISKFULL);
    CHECK(strstr(err.reason, "store full (insert)") != NULL);
    ewh_db_rollback(db); /* no transaction open: harmless */
    ewh_db_close(&db);
    s_reset();
}

/* Error mapping of the codes a real fault is hard to provoke for. */
static void
test_err_map(void)
{
    struct ewh_err err = {0};

    CHECK(ewh_db_err(NULL, SQLITE_IOERR_WRITE, "w", &err) == -1);
    CHECK(err.code == EWH_E_DISKFULL);
    ewh_db_err(NULL, SQLITE_IOERR_FSYNC, "w", &err);
    CHECK(err.code == EWH_E_DISKFULL);
    ewh_db_err(NULL, SQLITE_IOERR_READ, "r", &err);
    CHECK(err.code == EWH_E_IO);
    ewh_db_err(NULL, SQLITE_FULL, "w", &err);
    CHECK(err.code == EWH_E_DISKFULL);
    ewh_db_err(NULL, SQLITE_LOCKED, "w", &err);
    CHECK(err.code == EWH_E_BUSY);
    ewh_db_err(NULL, SQLITE_NOMEM, "w", &err);
    CHECK(err.code == EWH_E_NOMEM);
    ewh_db_err(NULL, SQLITE_CORRUPT, "w", &err);
    CHECK(err.code == EWH_E_STORE);
}

static void
test_quick_check(void)
{
    struct ewh_err err = {0};
    ewh_db_t *db = s_open();

    CHECK_OK(ewh_db_exec(db, "CREATE TABLE t(v)", "create", &err), &err);
    CHECK_OK(ewh_db_quick_check(ewh_db_handle(db), &err), &err);
    ewh_db_close(&db);
    s_reset();
}

int
main(void)
{
    if (mkdtemp(s_dir) == NULL)
        return 1;
    snprintf(s_path, sizeof(s_path), "%s/t.db", s_dir);
    RUN(test_open_missing);
    RUN(test_step_helpers);
    RUN(test_cache_buffer_reuse);
    RUN(test_text);
    RUN(test_busy);
    RUN(test_full);
    RUN(test_err_map);
    RUN(test_quick_check);
    rmdir(s_dir);
    return 0;
}
