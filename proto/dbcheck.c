/* dbcheck.c — the SQLite integrity check shared by the store modules. */
#include "ewh/dbcheck.h"

#include <stdio.h>
#include <string.h>

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
