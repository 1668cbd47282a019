/*
 * dbcheck.h — the integrity check both daemons' store modules run when
 * they open their SQLite file (libewhdb; only store modules call it, so
 * each daemon still has one module alone that speaks SQL).
 */
#ifndef EWH_DBCHECK_H
#define EWH_DBCHECK_H

#include <sqlite3.h>

#include "ewh/err.h"

/* Run PRAGMA quick_check on db's main file.  Returns 0 when it answers
 * "ok"; otherwise -1 with EWH_E_STORE and a one-line reason that names the
 * file and says to restore it from a backup. */
EWH_MUST_CHECK int ewh_db_quick_check(sqlite3 *db, struct ewh_err *err);

#endif
