/* verify.c — the signature verification pool (fork-join per loop turn). */
#include "verify.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Below this many jobs the calling thread verifies alone: waking a worker
 * costs more than it saves. */
#define S_MIN_PARALLEL 4
#define S_MAX_WORKERS  7

struct hub_verify {
    pthread_mutex_t mu;
    pthread_cond_t go;   /* a run started, or stop */
    pthread_cond_t done; /* a worker finished its part */
    pthread_t th[S_MAX_WORKERS];
    unsigned n_th;
    bool stop;
    uint64_t gen; /* run number */
    /* the current run, under mu */
    struct hub_verify_job *jobs;
    size_t n, next;
    ewh_lookup_fn lookup;
    void *lookup_ctx;
    unsigned busy; /* workers inside the current run */
    bool running;  /* a started run is not complete */
    int efd;       /* eventfd: a started run completed */
};

static void
s_verify_one(struct hub_verify_job *j, ewh_lookup_fn lookup, void *ctx)
{
    memset(&j->err, 0, sizeof(j->err));
    j->rc = ewh_envelope_verify(j->env, j->len, j->cc, lookup, ctx, &j->hdr,
                                &j->err);
    /* The audit chain's hash of the envelope, off the loop thread too. */
    if (j->rc == 0)
        ewh_audit_envelope_hash(j->env, j->len, j->hash);
}

/* Take jobs one by one until none is left.  Called with mu held; returns
 * with it held. */
static void
s_work(struct hub_verify *v)
{
    while (v->next < v->n) {
        struct hub_verify_job *j = &v->jobs[v->next++];
        ewh_lookup_fn lookup = v->lookup;
        void *ctx = v->lookup_ctx;
        pthread_mutex_unlock(&v->mu);
        s_verify_one(j, lookup, ctx);
        pthread_mutex_lock(&v->mu);
    }
}

static void *
s_worker(void *arg)
{
    struct hub_verify *v = arg;
    uint64_t seen = 0;

    pthread_mutex_lock(&v->mu);
    for (;;) {
        while (!v->stop && v->gen == seen)
            pthread_cond_wait(&v->go, &v->mu);
        if (v->stop)
            break;
        seen = v->gen;
        v->busy++;
        s_work(v);
        v->busy--;
        if (v->running && v->busy == 0 && v->next >= v->n) {
            uint64_t one = 1;
            v->running = false;
            if (write(v->efd, &one, sizeof(one)) < 0) {
                /* cannot overflow at one write per run */
            }
        }
        pthread_cond_signal(&v->done);
    }
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

unsigned
hub_verify_default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        return 1;
    if (n > S_MAX_WORKERS)
        return S_MAX_WORKERS;
    return (unsigned)n;
}

hub_verify_t *
hub_verify_new(unsigned n_workers, struct ewh_err *err)
{
    struct hub_verify *v;
    unsigned i;

    if (n_workers > S_MAX_WORKERS)
        n_workers = S_MAX_WORKERS;
    if ((v = calloc(1, sizeof(*v))) == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    if ((v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        ewh_err_set(err, EWH_E_IO, "eventfd failed");
        free(v);
        return NULL;
    }
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->go, NULL);
    pthread_cond_init(&v->done, NULL);
    for (i = 0; i < n_workers; i++) {
        if (pthread_create(&v->th[i], NULL, s_worker, v) != 0) {
            ewh_err_set(err, EWH_E_NOMEM, "cannot start verify thread %u", i);
            hub_verify_destroy(&v);
            return NULL;
        }
        v->n_th++;
    }
    return v;
}

void
hub_verify_run(hub_verify_t *v, struct hub_verify_job *jobs, size_t n,
               ewh_lookup_fn lookup, void *lookup_ctx)
{
    size_t i;

    if (v == NULL || v->n_th == 0 || n < S_MIN_PARALLEL) {
        for (i = 0; i < n; i++)
            s_verify_one(&jobs[i], lookup, lookup_ctx);
        return;
    }
    pthread_mutex_lock(&v->mu);
    v->jobs = jobs;
    v->n = n;
    v->next = 0;
    v->lookup = lookup;
    v->lookup_ctx = lookup_ctx;
    v->gen++;
    pthread_cond_broadcast(&v->go);
    s_work(v);
    /* Every job is taken; wait until the workers finish theirs. */
    while (v->busy > 0)
        pthread_cond_wait(&v->done, &v->mu);
    v->jobs = NULL;
    v->n = v->next = 0;
    pthread_mutex_unlock(&v->mu);
}

void
hub_verify_start(hub_verify_t *v, struct hub_verify_job *jobs, size_t n,
                 ewh_lookup_fn lookup, void *lookup_ctx)
{
    uint64_t one = 1;

    if (v->n_th == 0 || n == 0) {
        size_t i;
        for (i = 0; i < n; i++)
            s_verify_one(&jobs[i], lookup, lookup_ctx);
        if (write(v->efd, &one, sizeof(one)) < 0) {
            /* see s_worker */
        }
        return;
    }
    pthread_mutex_lock(&v->mu);
    v->jobs = jobs;
    v->n = n;
    v->next = 0;
    v->lookup = lookup;
    v->lookup_ctx = lookup_ctx;
    v->running = true;
    v->gen++;
    pthread_cond_broadcast(&v->go);
    pthread_mutex_unlock(&v->mu);
}

int
hub_verify_fd(const hub_verify_t *v)
{
    return v->efd;
}

bool
hub_verify_busy(hub_verify_t *v)
{
    bool b;

    pthread_mutex_lock(&v->mu);
    b = v->running;
    pthread_mutex_unlock(&v->mu);
    return b;
}

void
hub_verify_wait(hub_verify_t *v)
{
    uint64_t cnt;

    pthread_mutex_lock(&v->mu);
    while (v->running)
        pthread_cond_wait(&v->done, &v->mu);
    pthread_mutex_unlock(&v->mu);
    if (read(v->efd, &cnt, sizeof(cnt)) < 0) {
        /* EAGAIN: already cleared */
    }
}

void
hub_verify_destroy(hub_verify_t **vp)
{
    struct hub_verify *v;
    unsigned i;

    if (vp == NULL || *vp == NULL)
        return;
    v = *vp;
    pthread_mutex_lock(&v->mu);
    v->stop = true;
    pthread_cond_broadcast(&v->go);
    pthread_mutex_unlock(&v->mu);
    for (i = 0; i < v->n_th; i++)
        pthread_join(v->th[i], NULL);
    pthread_cond_destroy(&v->go);
    pthread_cond_destroy(&v->done);
    pthread_mutex_destroy(&v->mu);
    close(v->efd);
    free(v);
    *vp = NULL;
}
