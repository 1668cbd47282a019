/*
 * db.h — the one SQLite discipline of both daemons' store modules
 * (libewhdb; only store modules include it, so each daemon still has one
 * module alone that speaks SQL).
 *
 * An ewh_db_t is a connection with a statement cache.  Every SQLite
 * failure becomes an enum ewh_errcode in one place, ewh_db_err():
 *
 *   SQLITE_FULL                          EWH_E_DISKFULL  "store full (what)"
 *   SQLITE_IOERR_WRITE / _FSYNC          EWH_E_DISKFULL  "store write failed"
 *   other SQLITE_IOERR                   EWH_E_IO
 *   SQLITE_BUSY / SQLITE_LOCKED          EWH_E_BUSY      (after the busy
 *                                        timeout: SQLite retried for
 *                                        EWH_DB_BUSY_MS first)
 *   SQLITE_NOMEM                         EWH_E_NOMEM
 *   anything else                        EWH_E_STORE
 *
 * No helper turns an error into a default value or into "no rows": a read
 * that must find a row says EWH_E_NOTFOUND when there is none, and a
 * statement that must not return rows fails when it returns one.
 */
#ifndef EWH_DB_H
#define EWH_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "ewh/err.h"
#include "ewh/limits.h"

typedef struct ewh_db ewh_db_t;

/* ewh_db_open() flags. */
#define EWH_DB_CREATE   1u /* create the file if missing */
#define EWH_DB_READONLY 2u /* open read-only */

/* Open the SQLite file at path (read-write unless EWH_DB_READONLY), with
 * a busy timeout of EWH_DB_BUSY_MS.  No pragma is set: each store sets
 * its own.  Caller owns the result; ewh_db_close() ends it. */
EWH_MUST_CHECK ewh_db_t *ewh_db_open(const char *path, unsigned flags,
                                     struct ewh_err *err);

/* The store of an initialised directory is never taken for a new one: 0
 * if path exists and holds data (a non-empty file, or a non-empty -wal
 * beside an empty one), else -1 with EWH_E_STORE and a reason naming the
 * path and what to do (restore the last backup, docs/operations.md).  Call
 * it before ewh_db_open() wherever the directory was initialised. */
EWH_MUST_CHECK int ewh_db_must_exist(const char *path, struct ewh_err *err);

/* Finalize every cached statement, close the connection, free, set *db to
 * NULL.  Accepts NULL. */
void ewh_db_close(ewh_db_t **db);

/* The connection, borrowed: for what the helpers below do not cover (WAL
 * hook, sqlite3_changes(), sqlite3_last_insert_rowid()). */
sqlite3 *ewh_db_handle(ewh_db_t *db);

/* Change the busy timeout (tests; a daemon keeps EWH_DB_BUSY_MS). */
void ewh_db_busy_timeout(ewh_db_t *db, int ms);

/* Fill err from SQLite's rc (a primary or extended result code; the
 * connection's extended code is used when it says more) as the table
 * above says, with `what` (a short verb phrase: "store envelope") in the
 * reason.  Returns -1. */
int ewh_db_err(ewh_db_t *db, int rc, const char *what, struct ewh_err *err);

/* The cached prepared statement for sql, reset and with its bindings
 * cleared.  The cache is keyed by the text, so sql may be a literal, an
 * entry of a table, or a buffer.  The statement stays valid until
 * ewh_db_close(); the next ewh_db_stmt() for the same sql resets it, so
 * a walk whose callback may run the same SQL uses ewh_db_prepare().
 * NULL (err set) when it does not compile. */
sqlite3_stmt *ewh_db_stmt(ewh_db_t *db, const char *sql, struct ewh_err *err);

/* An uncached statement, for SQL run once; caller finalizes it. */
sqlite3_stmt *ewh_db_prepare(ewh_db_t *db, const char *sql,
                             struct ewh_err *err);

/* Step s once: 1 on a row (read its columns, then step again or reset),
 * 0 when done (s is reset), -1 on an error (err set, s reset). */
EWH_MUST_CHECK int ewh_db_step(ewh_db_t *db, sqlite3_stmt *s, const char *what,
                               struct ewh_err *err);

/* Run s, which must return no row, to its end and reset it.  A row where
 * none was expected is an error (EWH_E_STORE). */
EWH_MUST_CHECK int ewh_db_done(ewh_db_t *db, sqlite3_stmt *s, const char *what,
                               struct ewh_err *err);

/* Run s, which must return exactly one row whose first column is a
 * non-NULL integer, into *out, and reset it.  No row: EWH_E_NOTFOUND;
 * NULL: EWH_E_STORE. */
EWH_MUST_CHECK int ewh_db_int(ewh_db_t *db, sqlite3_stmt *s, const char *what,
                              int64_t *out, struct ewh_err *err);

/* Run SQL without results (schema, pragmas, transactions), mapping the
 * error like the others. */
EWH_MUST_CHECK int ewh_db_exec(ewh_db_t *db, const char *sql, const char *what,
                               struct ewh_err *err);

/* BEGIN IMMEDIATE (write) or BEGIN (a read snapshot); COMMIT; ROLLBACK
 * if a transaction is open (SQLite may already have rolled back). */
EWH_MUST_CHECK int ewh_db_begin(ewh_db_t *db, bool write, struct ewh_err *err);
EWH_MUST_CHECK int ewh_db_commit(ewh_db_t *db, struct ewh_err *err);
void ewh_db_rollback(ewh_db_t *db);

/* Copy text column col of the current row into out (cap bytes, always
 * NUL-terminated; NULL reads as "").  Returns false when the value is
 * NULL or did not fit (out then holds what fitted). */
bool ewh_db_text(sqlite3_stmt *s, int col, char *out, size_t cap);

/* Copy blob column col into out when it is a blob of exactly len bytes;
 * false (out untouched) otherwise. */
bool ewh_db_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t len);

/* Run PRAGMA quick_check on db's main file.  Returns 0 when it answers
 * "ok"; otherwise -1 with EWH_E_STORE and a one-line reason that names the
 * file and says to restore it from a backup. */
EWH_MUST_CHECK int ewh_db_quick_check(sqlite3 *db, struct ewh_err *err);

#endif
