/* store_ckpt.c — the checkpointer (hub_store_checkpointer_start): a
 * thread with its own connection copies the WAL back into the database,
 * so that the loop thread's commits never do it.  It touches no loop
 * state: the writer's WAL hook signals it under ck.mu, and the figures it
 * keeps are read under ck.mu. */
#include "storeint.h"

#include <string.h>

#include "ewh/log.h"

#define S_CKPT_PAGES  1024  /* WAL pages that start a checkpoint */
#define S_CKPT_INLINE 16384 /* ... and that make the writer do one */

static void *
s_ckpt_main(void *arg)
{
    struct hub_store_ckpt *ck = arg;
    int rc;

    pthread_mutex_lock(&ck->mu);
    for (;;) {
        while (!ck->stop && !ck->due)
            pthread_cond_wait(&ck->cv, &ck->mu);
        if (ck->stop)
            break;
        ck->due = false;
        pthread_mutex_unlock(&ck->mu);
        /* PASSIVE: copies what it can without waiting for the writer or
         * blocking it; the writer restarts the WAL from its start once
         * everything in it is copied. */
        rc = sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != ck->last_rc)
            ewh_log_warnx("store: checkpoint: %s", sqlite3_errmsg(ck->db));
        pthread_mutex_lock(&ck->mu);
        ck->last_rc = rc;
        ck->runs++;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            ck->failed++;
    }
    pthread_mutex_unlock(&ck->mu);
    return NULL;
}

/* After each commit of the writer's connection: n pages in the WAL. */
static int
s_wal_hook(void *arg, sqlite3 *db, const char *name, int n)
{
    hub_store_t *st = arg;

    (void)db;
    (void)name;
    pthread_mutex_lock(&st->ck.mu);
    st->ck.wal_pages = (uint64_t)n;
    pthread_mutex_unlock(&st->ck.mu);
    if (n >= S_CKPT_INLINE) {
        /* The checkpointer has fallen far behind: do one here rather
         * than let the WAL grow without bound. */
        (void)sqlite3_wal_checkpoint_v2(hub_store__sql(st), NULL,
                                        SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (n >= S_CKPT_PAGES) {
        pthread_mutex_lock(&st->ck.mu);
        st->ck.due = true;
        pthread_cond_signal(&st->ck.cv);
        pthread_mutex_unlock(&st->ck.mu);
    }
    return SQLITE_OK;
}

int
hub_store_checkpointer_start(hub_store_t *st, const char *path,
                             struct ewh_err *err)
{
    struct hub_store_ckpt *ck = &st->ck;
    int rc;

    if (ck->started)
        return 0;
    rc = sqlite3_open_v2(path, &ck->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: checkpointer: %s", path,
                    ck->db != NULL ? sqlite3_errmsg(ck->db)
                                   : sqlite3_errstr(rc));
        sqlite3_close(ck->db);
        ck->db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(ck->db, EWH_DB_BUSY_MS);
    /* A connection learns that the database is in WAL mode when it first
     * reads it; until then a checkpoint is a no-op. */
    if ((rc = sqlite3_exec(ck->db, "PRAGMA journal_mode = WAL", NULL, NULL,
                           NULL)) != SQLITE_OK) {
        ewh_err_set(err, EWH_E_STORE, "%s: checkpointer: %s", path,
                    sqlite3_errmsg(ck->db));
        sqlite3_close(ck->db);
        ck->db = NULL;
        return -1;
    }
    pthread_mutex_init(&ck->mu, NULL);
    pthread_cond_init(&ck->cv, NULL);
    if (pthread_create(&ck->th, NULL, s_ckpt_main, ck) != 0) {
        pthread_cond_destroy(&ck->cv);
        pthread_mutex_destroy(&ck->mu);
        sqlite3_close(ck->db);
        ck->db = NULL;
        return ewh_err_set(err, EWH_E_NOMEM, "cannot start checkpointer");
    }
    ck->started = true;
    /* Replaces the automatic checkpoint on the writer's commits. */
    sqlite3_wal_hook(hub_store__sql(st), s_wal_hook, st);
    return 0;
}

void
hub_store_wal_stats(hub_store_t *st, struct hub_wal_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!st->ck.started)
        return;
    pthread_mutex_lock(&st->ck.mu);
    out->checkpoints = st->ck.runs;
    out->failed = st->ck.failed;
    out->wal_pages = st->ck.wal_pages;
    pthread_mutex_unlock(&st->ck.mu);
}

void
hub_store__ckpt_stop(hub_store_t *st)
{
    struct hub_store_ckpt *ck = &st->ck;

    if (!ck->started)
        return;
    sqlite3_wal_hook(hub_store__sql(st), NULL, NULL);
    pthread_mutex_lock(&ck->mu);
    ck->stop = true;
    pthread_cond_signal(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    pthread_join(ck->th, NULL);
    pthread_cond_destroy(&ck->cv);
    pthread_mutex_destroy(&ck->mu);
    sqlite3_close(ck->db);
    ck->db = NULL;
    ck->started = false;
}
