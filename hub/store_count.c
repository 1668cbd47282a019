/* store_count.c — the budget counter (hub_store_counter_start): a thread
 * with its own read-only connection counts a country's storage budgets
 * (the scans of hub_store_bytes_for and _from) when the loop asks, so
 * that a country held at its budget no longer blocks the loop for the
 * scans (issue 19).  It touches no loop state: asks and results pass
 * under cnt.mu.  Each count reads a WAL snapshot taken after its ask, so
 * it holds everything committed before the ask (admit.c adds what was
 * accepted since). */
#include "storeint.h"

#include <string.h>

#include "ewh/log.h"

/* One statement's count of cc on the counter's connection. */
static int
s_count(sqlite3_stmt *s, const char *cc, uint64_t *n)
{
    int rc;

    *n = 0;
    sqlite3_bind_text(s, 1, cc, 2, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *n = (uint64_t)sqlite3_column_int64(s, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void *
s_count_main(void *arg)
{
    struct hub_store_count *c = arg;
    struct hub_store_count_res r;
    int rc;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && c->n_ask == 0)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        memset(&r, 0, sizeof(r));
        memcpy(r.cc, c->ask[0], 2);
        memmove(c->ask[0], c->ask[1], (c->n_ask - 1) * sizeof(c->ask[0]));
        c->n_ask--;
        c->busy = 1;
        pthread_mutex_unlock(&c->mu);
        /* One read transaction for both: one snapshot, begun here, after
         * the ask. */
        rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = s_count(c->q_for, r.cc, &r.for_);
        if (rc == SQLITE_OK)
            rc = s_count(c->q_from, r.cc, &r.from);
        (void)sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
        r.ok = rc == SQLITE_OK;
        if (!r.ok && rc != c->last_rc)
            ewh_log_warnx("store: budget count: %s", sqlite3_errstr(rc));
        c->last_rc = r.ok ? 0 : rc;
        pthread_mutex_lock(&c->mu);
        c->res[c->n_res++] = r; /* room: n_ask + busy + n_res <= ASKS */
        c->busy = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static int
s_fail(struct hub_store_count *c, const char *path, int rc, struct ewh_err *err)
{
    ewh_err_set(err, EWH_E_STORE, "%s: budget counter: %s", path,
                c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    sqlite3_finalize(c->q_for);
    sqlite3_finalize(c->q_from);
    c->q_for = c->q_from = NULL;
    sqlite3_close(c->db);
    c->db = NULL;
    return -1;
}

int
hub_store_counter_start(hub_store_t *st, const char *path, struct ewh_err *err)
{
    struct hub_store_count *c = &st->cnt;
    int rc;

    if (c->started)
        return 0;
    rc = sqlite3_open_v2(path, &c->db,
                         SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return s_fail(c, path, rc, err);
    sqlite3_busy_timeout(c->db, EWH_DB_BUSY_MS);
    if ((rc = sqlite3_prepare_v3(c->db, hub_store__bytes_for_sql, -1,
                                 SQLITE_PREPARE_PERSISTENT, &c->q_for, NULL)) !=
            SQLITE_OK ||
        (rc = sqlite3_prepare_v3(c->db, hub_store__bytes_from_sql, -1,
                                 SQLITE_PREPARE_PERSISTENT, &c->q_from,
                                 NULL)) != SQLITE_OK)
        return s_fail(c, path, rc, err);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->th, NULL, s_count_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        s_fail(c, path, SQLITE_OK, err);
        return ewh_err_set(err, EWH_E_NOMEM, "cannot start budget counter");
    }
    c->started = true;
    return 0;
}

int
hub_store_count_ask(hub_store_t *st, const char *cc)
{
    struct hub_store_count *c = &st->cnt;
    int rc = 1;

    if (!c->started)
        return -1;
    pthread_mutex_lock(&c->mu);
    if (c->n_ask + c->busy + c->n_res < EWH_HUB_BUDGET_ASKS) {
        memcpy(c->ask[c->n_ask++], cc, 2);
        pthread_cond_signal(&c->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

size_t
hub_store_count_take(hub_store_t *st, struct hub_store_count_res *out,
                     size_t max)
{
    struct hub_store_count *c = &st->cnt;
    size_t n;

    if (!c->started)
        return 0;
    pthread_mutex_lock(&c->mu);
    n = c->n_res < max ? c->n_res : max;
    memcpy(out, c->res, n * sizeof(*out));
    memmove(c->res, c->res + n, (c->n_res - n) * sizeof(*out));
    c->n_res -= n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void
hub_store__count_stop(hub_store_t *st)
{
    struct hub_store_count *c = &st->cnt;

    if (!c->started)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_finalize(c->q_for);
    sqlite3_finalize(c->q_from);
    c->q_for = c->q_from = NULL;
    sqlite3_close(c->db);
    c->db = NULL;
    c->started = false;
}
