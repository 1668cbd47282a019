/* verify.c — the signature verification pool: a bounded FIFO of jobs,
 * taken one at a time by the workers, collected in order by the loop. */
#include "verify.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define S_MAX_WORKERS 7

struct hub_verify {
    pthread_mutex_t mu;
    pthread_cond_t go;   /* a job queued, or stop */
    pthread_cond_t idle; /* every queued job verified */
    pthread_t th[S_MAX_WORKERS];
    unsigned n_th;
    bool stop;
    /* The queue, under mu: slot i % cap for job number i; head (oldest
     * not popped) <= take (next to verify) <= tail, tail - head <= cap. */
    struct hub_verify_job *ring;
    bool *fin; /* per slot: verified */
    size_t cap;
    uint64_t head, take, tail;
    unsigned busy; /* workers verifying a job */
    bool notified; /* efd written since the last hub_verify_ready */
    int efd;       /* eventfd: the oldest job is verified */
};

static void
s_verify_one(struct hub_verify_job *j)
{
    memset(&j->err, 0, sizeof(j->err));
    j->rc = ewh_envelope_verify(j->env, j->len, j->cc, j->lookup, j->lookup_ctx,
                                &j->hdr, &j->err);
    /* The audit chain's hash of the envelope, off the loop thread too. */
    if (j->rc == 0)
        ewh_audit_envelope_hash(j->env, j->len, j->hash);
}

/* The oldest job is verified: wake the loop thread, once.  mu held. */
static void
s_notify(struct hub_verify *v)
{
    uint64_t one = 1;

    if (v->notified || v->head == v->tail || !v->fin[v->head % v->cap])
        return;
    v->notified = true;
    if (write(v->efd, &one, sizeof(one)) < 0) {
        /* cannot overflow: one write per hub_verify_ready */
    }
}

static void *
s_worker(void *arg)
{
    struct hub_verify *v = arg;

    pthread_mutex_lock(&v->mu);
    for (;;) {
        uint64_t i;
        while (!v->stop && v->take == v->tail)
            pthread_cond_wait(&v->go, &v->mu);
        if (v->stop)
            break;
        i = v->take++;
        v->busy++;
        pthread_mutex_unlock(&v->mu);
        s_verify_one(&v->ring[i % v->cap]);
        pthread_mutex_lock(&v->mu);
        v->busy--;
        v->fin[i % v->cap] = true;
        s_notify(v);
        if (v->busy == 0 && v->take == v->tail)
            pthread_cond_broadcast(&v->idle);
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
hub_verify_new(unsigned n_workers, size_t cap, struct ewh_err *err)
{
    struct hub_verify *v;
    unsigned i;

    if (n_workers > S_MAX_WORKERS)
        n_workers = S_MAX_WORKERS;
    if (cap == 0)
        cap = 1;
    if ((v = calloc(1, sizeof(*v))) == NULL ||
        (v->ring = calloc(cap, sizeof(*v->ring))) == NULL ||
        (v->fin = calloc(cap, sizeof(*v->fin))) == NULL) {
        if (v != NULL)
            free(v->ring);
        free(v);
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    v->cap = cap;
    if ((v->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        ewh_err_set(err, EWH_E_IO, "eventfd failed");
        free(v->fin);
        free(v->ring);
        free(v);
        return NULL;
    }
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->go, NULL);
    pthread_cond_init(&v->idle, NULL);
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
hub_verify_run(struct hub_verify_job *jobs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        s_verify_one(&jobs[i]);
}

bool
hub_verify_push(hub_verify_t *v, const uint8_t *env, size_t len, const char *cc,
                ewh_lookup_fn lookup, void *lookup_ctx)
{
    struct hub_verify_job *j;
    uint64_t i;

    pthread_mutex_lock(&v->mu);
    if (v->tail - v->head >= v->cap) {
        pthread_mutex_unlock(&v->mu);
        return false;
    }
    i = v->tail;
    j = &v->ring[i % v->cap];
    j->env = env;
    j->len = len;
    j->cc = cc;
    j->lookup = lookup;
    j->lookup_ctx = lookup_ctx;
    v->fin[i % v->cap] = false;
    if (v->n_th == 0) {
        /* No workers: verified now, on the calling thread. */
        v->take = v->tail = i + 1;
        pthread_mutex_unlock(&v->mu);
        s_verify_one(j);
        pthread_mutex_lock(&v->mu);
        v->fin[i % v->cap] = true;
        s_notify(v);
        pthread_mutex_unlock(&v->mu);
        return true;
    }
    v->tail = i + 1;
    pthread_cond_signal(&v->go);
    pthread_mutex_unlock(&v->mu);
    return true;
}

size_t
hub_verify_queued(hub_verify_t *v)
{
    size_t n;

    pthread_mutex_lock(&v->mu);
    n = (size_t)(v->tail - v->head);
    pthread_mutex_unlock(&v->mu);
    return n;
}

size_t
hub_verify_ready(hub_verify_t *v)
{
    uint64_t cnt, i;

    pthread_mutex_lock(&v->mu);
    if (v->notified && read(v->efd, &cnt, sizeof(cnt)) < 0) {
        /* EAGAIN: already cleared */
    }
    v->notified = false;
    for (i = v->head; i < v->take && v->fin[i % v->cap]; i++)
        ;
    pthread_mutex_unlock(&v->mu);
    return (size_t)(i - v->head);
}

struct hub_verify_job *
hub_verify_at(hub_verify_t *v, size_t i)
{
    /* Verified and not popped: no worker writes it, and head moves only
     * in hub_verify_pop (the loop thread's). */
    return &v->ring[(v->head + i) % v->cap];
}

void
hub_verify_pop(hub_verify_t *v, size_t n)
{
    pthread_mutex_lock(&v->mu);
    v->head += n;
    s_notify(v); /* verified meanwhile */
    pthread_mutex_unlock(&v->mu);
}

int
hub_verify_fd(const hub_verify_t *v)
{
    return v->efd;
}

void
hub_verify_wait(hub_verify_t *v)
{
    pthread_mutex_lock(&v->mu);
    while (v->busy > 0 || v->take < v->tail)
        pthread_cond_wait(&v->idle, &v->mu);
    pthread_mutex_unlock(&v->mu);
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
    pthread_cond_destroy(&v->idle);
    pthread_mutex_destroy(&v->mu);
    close(v->efd);
    free(v->fin);
    free(v->ring);
    free(v);
    *vp = NULL;
}
