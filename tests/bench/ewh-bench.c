/*
 * ewh-bench.c — the benchmark client behind deploy/bench (built, not
 * installed).  tests/bench/bench.py drives it; every mode prints one JSON
 * object on stdout.
 *
 *   ewh-bench seal --key node.key --pubs DIR --to CC,CC... --count N
 *                  [--body-bytes B] [--level L] --out FILE
 *       Seals N reports offline (recipients' node-CC.pub files in DIR, the
 *       pair keys cached) into FILE: [u32 length][envelope] records.
 *
 *   ewh-bench submit --key K --hub-pub P --endpoint E --in FILE
 *                    [--window W] [--timeout S]
 *       Submits every envelope of FILE, at most W unacknowledged.  Timing
 *       starts at the first send and stops at the last ack.  Reports the
 *       rate and the submit→ack latency percentiles.
 *
 *   ewh-bench flood --key K --hub-pub P --endpoint E --in FILE --seconds S
 *       A misbehaving node: sends the envelopes of FILE round and round as
 *       fast as the socket takes them, never waiting for an ack.
 *
 *   ewh-bench high --key SENDER --rkey RECIPIENT --hub-pub P --endpoint E
 *                  --in HIGHFILE --db PATH [--credit N] [--backlog M]
 *                  [--interval-ms I] [--seconds S] [--rendpoint E2]
 *       The recipient connects with credit N, verifies and opens every
 *       delivery, stores it in SQLite (WAL, synchronous=FULL, one commit
 *       per poll turn) and acknowledges after the commit, like ewnode's
 *       agent.  Meanwhile the sender submits one high report of HIGHFILE
 *       every I ms, until M other (low) deliveries have been stored, or for
 *       S seconds when M is 0.  Latency: submit sent → high stored.
 *       The recipient connects to E2 when given (a slow link's proxy).
 *
 *   ewh-bench fill-outbox --dir NODEDIR --to CC,CC... --count N
 *                         [--body-bytes B] [--level L]
 *       Bulk `ewnode submit`: seals N reports with the node's key and puts
 *       them in its outbox through node/store.c, 1000 per transaction. *
 *   ewh-bench first --key RECIPIENT --hub-pub P --endpoint E [--timeout S]
 *       Connects (re-trying every 10 ms, so it may start before the hub)
 *       and waits for the first delivery of a high report; prints the
 *       CLOCK_MONOTONIC microsecond it came at and how many deliveries
 *       came before it.  --in is not needed.
 *
 *   ewh-bench ceiling --key ORIGIN --rkey RECIPIENT --pubs DIR --to CC,...
 *                     [--body-bytes B] [--seconds S] [--threads N]
 *                     [--count IDS]
 *       What the machine allows, measured on envelopes like the run's own
 *       (sealed here for the --to list, B bytes of body): Ed25519 envelope
 *       verifications per second on one thread and on N threads (default:
 *       every core) for S seconds each, and the microseconds of each piece
 *       of a report's crypto on one thread: seal (sign and wrap), verify
 *       (the hub), open (a recipient: verify, unwrap with a warm pair-key
 *       cache, decrypt), sign and verify a receipt of IDS ids.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>
#include <zmq.h>

#include "ewh.pb-c.h"
#include "ewh/envelope.h"
#include "ewh/frame.h"
#include "ewh/identity.h"
#include "ewh/keyfile.h"
#include "ewh/log.h"
#include "ewh/receipt.h"
#include "ewh/roster.h"
#include "ewh/util.h"
#include "dir.h"
#include "store.h"

struct s_opts {
    const char *key, *rkey, *hub_pub, *endpoint, *in, *out, *pubs, *to, *db;
    const char *dir, *rendpoint;
    enum ewh_level level;
    long count, body_bytes, window, credit, backlog, interval_ms, threads;
    double timeout, seconds;
};

struct s_env {
    uint8_t id[EWH_ID_BYTES];
    uint8_t *buf;
    size_t len;
    int64_t sent_us;
    bool acked;
};

struct s_file {
    struct s_env *e;
    size_t n;
};

struct s_conn {
    void *sock;
    ewh_secret_t *me;
    ewh_roster_t *roster;
};

static int64_t
s_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Percentile p (0..100) of n sorted samples, in ms. */
static double
s_pct_ms(const int64_t *v, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return -1;
    i = (size_t)ceil(p / 100.0 * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1000.0;
}

/* ---- envelope files ---- */

static void
s_file_load(const char *path, struct s_file *f)
{
    FILE *fp = fopen(path, "rb");
    struct ewh_header hdr;
    uint32_t len;
    size_t cap = 0;

    if (fp == NULL)
        fatal("%s", path);
    memset(f, 0, sizeof(*f));
    while (fread(&len, sizeof(len), 1, fp) == 1) {
        struct s_env *e;
        if (len > EWH_MAX_ENVELOPE_BYTES)
            fatalx("%s: record of %u bytes", path, len);
        if (f->n == cap) {
            cap = cap ? cap * 2 : 1024;
            if ((f->e = realloc(f->e, cap * sizeof(*f->e))) == NULL)
                fatalx("out of memory");
        }
        e = &f->e[f->n];
        memset(e, 0, sizeof(*e));
        if ((e->buf = malloc(len)) == NULL)
            fatalx("out of memory");
        if (fread(e->buf, 1, len, fp) != len)
            fatalx("%s: truncated", path);
        e->len = len;
        if (ewh_envelope_peek(e->buf, len, &hdr, NULL) != 0)
            fatalx("%s: record %zu is not an envelope", path, f->n);
        memcpy(e->id, hdr.id, EWH_ID_BYTES);
        f->n++;
    }
    fclose(fp);
}

static void
s_file_free(struct s_file *f)
{
    size_t i;

    for (i = 0; i < f->n; i++)
        free(f->e[i].buf);
    free(f->e);
    memset(f, 0, sizeof(*f));
}

static void
s_report_fill(struct ewh_report *r, const char *origin, enum ewh_level level,
              const char *body, size_t body_len, long i)
{
    struct ewh_err err = {0};

    memset(r, 0, sizeof(*r));
    ewh_id_new(r->id);
    r->type = EWH_TYPE_ALERT;
    memcpy(r->origin, origin, EWH_CC_BYTES);
    snprintf(r->author, sizeof(r->author), "ewh-bench");
    r->created_at = ewh_now();
    r->level = level;
    snprintf(r->category, sizeof(r->category), "other");
    r->tlp = EWH_TLP_GREEN;
    snprintf(r->title, sizeof(r->title), "benchmark report %ld", i);
    if (ewh_report_set_body(r, body, body_len, &err) != 0)
        fatalx("body: %s", err.reason);
}

static char *
s_body(long n)
{
    char *b = malloc((size_t)n + 1);
    long i;

    if (b == NULL)
        fatalx("out of memory");
    for (i = 0; i < n; i++)
        b[i] = (char)('a' + (i * 7 + i / 64) % 26);
    b[n] = 0;
    return b;
}

static int
s_seal(const struct s_opts *o)
{
    struct ewh_err err = {0};
    struct ewh_pubid ids[EWH_MAX_RECIPIENTS];
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS];
    ewh_wrapcache_t *cache;
    ewh_secret_t *me;
    char list[256], *tok, *save = NULL, path[4096], *body;
    size_t n_to = 0;
    FILE *fp;
    long i;

    if (o->key == NULL || o->pubs == NULL || o->to == NULL || o->out == NULL)
        fatalx("seal needs --key, --pubs, --to and --out");
    if ((me = ewh_secret_load(o->key, &err)) == NULL)
        fatalx("%s", err.reason);
    snprintf(list, sizeof(list), "%s", o->to);
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (n_to == EWH_MAX_RECIPIENTS)
            fatalx("too many recipients");
        snprintf(path, sizeof(path), "%s/node-%s.pub", o->pubs, tok);
        if (ewh_pubid_load(path, &ids[n_to], &err) != 0)
            fatalx("%s", err.reason);
        to[n_to] = &ids[n_to];
        n_to++;
    }
    if ((cache = ewh_wrapcache_new()) == NULL)
        fatalx("out of memory");
    if ((fp = fopen(o->out, "wb")) == NULL)
        fatal("%s", o->out);
    body = s_body(o->body_bytes);
    for (i = 0; i < o->count; i++) {
        struct ewh_report r;
        uint8_t *env = NULL;
        size_t len = 0;
        uint32_t l32;

        s_report_fill(&r, ewh_secret_pubid(me)->country, o->level, body,
                      (size_t)o->body_bytes, i);
        if (ewh_envelope_seal(&r, to, n_to, me, cache, &env, &len, &err) != 0)
            fatalx("seal: %s", err.reason);
        ewh_report_clear(&r);
        l32 = (uint32_t)len;
        if (fwrite(&l32, sizeof(l32), 1, fp) != 1 ||
            fwrite(env, 1, len, fp) != len)
            fatal("%s", o->out);
        if (i == 0)
            printf("{\"mode\":\"seal\",\"envelope_bytes\":%zu,", len);
        free(env);
    }
    if (fclose(fp) != 0)
        fatal("%s", o->out);
    printf("\"count\":%ld}\n", o->count);
    free(body);
    ewh_wrapcache_destroy(&cache);
    ewh_secret_destroy(&me);
    return 0;
}

/* ---- ceiling: what the machine allows ---- */

#define S_CEIL_POOL 64

struct s_ceil {
    uint8_t *env[S_CEIL_POOL];
    size_t len[S_CEIL_POOL];
    const struct ewh_pubid *ids[2];
    double seconds;
    uint64_t done;
    pthread_t th;
};

static const struct ewh_pubid *
s_ceil_lookup(void *ctx, const char *cc)
{
    struct s_ceil *c = ctx;
    size_t i;

    for (i = 0; i < 2; i++)
        if (memcmp(c->ids[i]->country, cc, EWH_CC_BYTES) == 0)
            return c->ids[i];
    return NULL;
}

/* Verify the pool round and round for c->seconds; c->done gets the count. */
static void *
s_ceil_verify(void *arg)
{
    struct s_ceil *c = arg;
    int64_t end = s_us() + (int64_t)(c->seconds * 1e6);
    uint64_t n = 0;

    do {
        struct ewh_header hdr;
        struct ewh_err err = {0};
        size_t i = n % S_CEIL_POOL;

        if (ewh_envelope_verify(c->env[i], c->len[i], NULL, s_ceil_lookup, c,
                                &hdr, &err) != 0)
            fatalx("verify: %s", err.reason);
        n++;
    } while ((n & 15) != 0 || s_us() < end);
    c->done = n;
    return NULL;
}

static int
s_ceiling(const struct s_opts *o)
{
    struct ewh_err err = {0};
    struct ewh_pubid ids[EWH_MAX_RECIPIENTS];
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS];
    struct s_ceil base, *th;
    ewh_wrapcache_t *cache, *rcache;
    ewh_secret_t *me, *rme;
    struct ewh_receipt rc;
    char list[256], *tok, *save = NULL, path[4096], *body;
    size_t n_to = 0, i, rlen = 0;
    uint8_t *rbuf = NULL;
    long nt = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    int64_t t0 = 0, t_seal, t_verify, t_open, t_rsign, t_rverify;
    uint64_t total = 0;
    double one_s, all_s;
    long k, reps = 200;

    if (o->key == NULL || o->rkey == NULL || o->pubs == NULL || o->to == NULL)
        fatalx("ceiling needs --key, --rkey, --pubs and --to");
    if (nt < 1)
        nt = 1;
    if ((me = ewh_secret_load(o->key, &err)) == NULL ||
        (rme = ewh_secret_load(o->rkey, &err)) == NULL)
        fatalx("%s", err.reason);
    snprintf(list, sizeof(list), "%s", o->to);
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (n_to == EWH_MAX_RECIPIENTS)
            fatalx("too many recipients");
        snprintf(path, sizeof(path), "%s/node-%s.pub", o->pubs, tok);
        if (ewh_pubid_load(path, &ids[n_to], &err) != 0)
            fatalx("%s", err.reason);
        to[n_to] = &ids[n_to];
        n_to++;
    }
    memset(&base, 0, sizeof(base));
    base.ids[0] = ewh_secret_pubid(me);
    base.ids[1] = ewh_secret_pubid(rme);
    if ((cache = ewh_wrapcache_new()) == NULL ||
        (rcache = ewh_wrapcache_new()) == NULL)
        fatalx("out of memory");
    body = s_body(o->body_bytes);

    /* Seal: the pool, then more of the same for the timing (warm cache, as
     * an origin sealing many reports). */
    for (k = 0; k < S_CEIL_POOL + reps; k++) {
        struct ewh_report r;
        uint8_t *env = NULL;
        size_t len = 0;

        if (k == S_CEIL_POOL)
            t0 = s_us();
        s_report_fill(&r, base.ids[0]->country, o->level, body,
                      (size_t)o->body_bytes, k);
        if (ewh_envelope_seal(&r, to, n_to, me, cache, &env, &len, &err) != 0)
            fatalx("seal: %s", err.reason);
        ewh_report_clear(&r);
        if (k < S_CEIL_POOL) {
            base.env[k] = env;
            base.len[k] = len;
        } else {
            free(env);
        }
    }
    t_seal = s_us() - t0;

    t0 = s_us();
    for (k = 0; k < reps; k++) {
        struct ewh_header hdr;
        if (ewh_envelope_verify(base.env[k % S_CEIL_POOL],
                                base.len[k % S_CEIL_POOL], NULL, s_ceil_lookup,
                                &base, &hdr, &err) != 0)
            fatalx("verify: %s", err.reason);
    }
    t_verify = s_us() - t0;

    for (k = -1; k < reps; k++) { /* k = -1 warms the pair-key cache */
        struct ewh_report r;
        if (k == 0)
            t0 = s_us();
        memset(&r, 0, sizeof(r));
        if (ewh_envelope_open_cached(base.env[(k + 1) % S_CEIL_POOL],
                                     base.len[(k + 1) % S_CEIL_POOL], rme,
                                     rcache, s_ceil_lookup, &base, &r, NULL,
                                     &err) != 0)
            fatalx("open: %s", err.reason);
        ewh_report_clear(&r);
    }
    t_open = s_us() - t0;

    memset(&rc, 0, sizeof(rc));
    rc.n_ids = o->count < 1                             ? 1
               : (size_t)o->count > EWH_MAX_RECEIPT_IDS ? EWH_MAX_RECEIPT_IDS
                                                        : (size_t)o->count;
    for (i = 0; i < rc.n_ids; i++)
        ewh_id_new(rc.ids[i]);
    memcpy(rc.origin, base.ids[0]->country, EWH_CC_BYTES);
    memcpy(rc.from, base.ids[1]->country, EWH_CC_BYTES);
    rc.kind = EWH_RECEIPT_DELIVERED;
    rc.at = ewh_now();
    t0 = s_us();
    for (k = 0; k < reps; k++) {
        free(rbuf);
        rbuf = NULL;
        if (ewh_receipt_sign(&rc, rme, &rbuf, &rlen, &err) != 0)
            fatalx("receipt: %s", err.reason);
    }
    t_rsign = s_us() - t0;
    t0 = s_us();
    for (k = 0; k < reps; k++) {
        struct ewh_receipt out;
        if (ewh_receipt_verify(rbuf, rlen, base.ids[1]->country, s_ceil_lookup,
                               &base, &out, &err) != 0)
            fatalx("receipt verify: %s", err.reason);
    }
    t_rverify = s_us() - t0;

    /* Verifications per second: one thread, then nt at once. */
    base.seconds = o->seconds;
    t0 = s_us();
    s_ceil_verify(&base);
    one_s = (double)base.done / ((double)(s_us() - t0) / 1e6);
    if ((th = calloc((size_t)nt, sizeof(*th))) == NULL)
        fatalx("out of memory");
    t0 = s_us();
    for (k = 0; k < nt; k++) {
        th[k] = base;
        if (pthread_create(&th[k].th, NULL, s_ceil_verify, &th[k]) != 0)
            fatalx("pthread_create failed");
    }
    for (k = 0; k < nt; k++) {
        pthread_join(th[k].th, NULL);
        total += th[k].done;
    }
    all_s = (double)total / ((double)(s_us() - t0) / 1e6);

    printf("{\"mode\":\"ceiling\",\"envelope_bytes\":%zu,\"recipients\":%zu,"
           "\"threads\":%ld,\"verify_per_s_1\":%.1f,\"verify_per_s_all\":%.1f,"
           "\"seal_us\":%.2f,\"verify_us\":%.2f,\"open_us\":%.2f,"
           "\"receipt_ids\":%zu,\"receipt_sign_us\":%.2f,"
           "\"receipt_verify_us\":%.2f}\n",
           base.len[0], n_to, nt, one_s, all_s, (double)t_seal / reps,
           (double)t_verify / reps, (double)t_open / reps, rc.n_ids,
           (double)t_rsign / reps, (double)t_rverify / reps);
    for (i = 0; i < S_CEIL_POOL; i++)
        free(base.env[i]);
    free(th);
    free(rbuf);
    free(body);
    ewh_wrapcache_destroy(&rcache);
    ewh_wrapcache_destroy(&cache);
    ewh_secret_destroy(&rme);
    ewh_secret_destroy(&me);
    return 0;
}

/* ---- connections ---- */

static void
s_conn_open(void *ctx, struct s_conn *c, const char *keypath,
            const struct ewh_pubid *hub, const char *endpoint)
{
    struct ewh_err err = {0};
    const struct ewh_pubid *me;
    int linger = 0, hwm = 200000;

    memset(c, 0, sizeof(*c));
    if ((c->me = ewh_secret_load(keypath, &err)) == NULL)
        fatalx("%s", err.reason);
    me = ewh_secret_pubid(c->me);
    c->sock = zmq_socket(ctx, ZMQ_DEALER);
    if (c->sock == NULL ||
        zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, hub->curve, 32) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, me->curve, 32) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, ewh_secret_curve_sk(c->me),
                       32) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_connect(c->sock, endpoint) != 0)
        fatalx("connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
}

static void
s_conn_close(struct s_conn *c)
{
    if (c->sock != NULL)
        zmq_close(c->sock);
    ewh_roster_destroy(&c->roster);
    ewh_secret_destroy(&c->me);
}

static int
s_send(void *sock, const Ewh__Frame *f, int flags)
{
    struct ewh_err err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (ewh_frame_encode(f, &buf, &len, &err) != 0)
        fatalx("encode: %s", err.reason);
    rc = zmq_send(sock, buf, len, flags) < 0 ? -1 : 0;
    free(buf);
    return rc;
}

static void
s_hello(struct s_conn *c, uint32_t credit)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Hello h = EWH__HELLO__INIT;

    h.version = EWH_ENVELOPE_VERSION;
    h.credit = credit;
    f.msg_case = EWH__FRAME__MSG_HELLO;
    f.hello = &h;
    if (s_send(c->sock, &f, 0) != 0)
        fatalx("hello: %s", zmq_strerror(zmq_errno()));
}

static void
s_take_roster(struct s_conn *c, const struct ewh_pubid *hub,
              const Ewh__SignedRoster *sr)
{
    size_t len = ewh__signed_roster__get_packed_size(sr);
    uint8_t *buf = malloc(len);
    ewh_roster_t *r;

    if (buf == NULL)
        fatalx("out of memory");
    ewh__signed_roster__pack(sr, buf);
    r = ewh_roster_open(buf, len, hub->sign, NULL);
    free(buf);
    if (r != NULL) {
        ewh_roster_destroy(&c->roster);
        c->roster = r;
    }
}

/* Receive one frame without waiting; NULL when none. */
static ewh_frame_t *
s_recv(void *sock)
{
    zmq_msg_t m;
    ewh_frame_t *f = NULL;

    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return NULL;
    }
    if (ewh_frame_decode(zmq_msg_data(&m), zmq_msg_size(&m), &f, NULL) != 0)
        f = NULL;
    zmq_msg_close(&m);
    if (f == NULL) {
        /* undecodable: skip it, try the next one */
        return s_recv(sock);
    }
    return f;
}

static void
s_wait_roster(struct s_conn *c, const struct ewh_pubid *hub, double secs)
{
    int64_t deadline = ewh_mono_ms() + (int64_t)(secs * 1000);
    ewh_frame_t *f;

    s_hello(c, 1);
    while (c->roster == NULL && ewh_mono_ms() < deadline) {
        zmq_pollitem_t it = {c->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        while ((f = s_recv(c->sock)) != NULL) {
            if (f->msg_case == EWH__FRAME__MSG_ROSTER)
                s_take_roster(c, hub, f->roster);
            ewh_frame_destroy(&f);
        }
    }
    if (c->roster == NULL)
        fatalx("no roster from the hub within %.0fs", secs);
}

static void
s_submit_env(void *sock, struct s_env *e, int flags, int64_t now)
{
    Ewh__Frame f = EWH__FRAME__INIT;
    Ewh__Submit m = EWH__SUBMIT__INIT;

    m.envelope.data = e->buf;
    m.envelope.len = e->len;
    f.msg_case = EWH__FRAME__MSG_SUBMIT;
    f.submit = &m;
    if (s_send(sock, &f, flags) != 0)
        fatalx("send submit: %s", zmq_strerror(zmq_errno()));
    e->sent_us = now;
}

/* Find the envelope an ack names: acks come in order of commit, which is
 * the order of sending from one connection, so search from a cursor. */
static struct s_env *
s_find(struct s_file *f, size_t *cursor, const uint8_t *id)
{
    size_t k, i;

    for (k = 0; k < f->n; k++) {
        i = (*cursor + k) % f->n;
        if (memcmp(f->e[i].id, id, EWH_ID_BYTES) == 0) {
            *cursor = i;
            return &f->e[i];
        }
    }
    return NULL;
}

/* ---- submit: throughput and ack latency ---- */

static int
s_submit(const struct s_opts *o, const struct ewh_pubid *hub)
{
    struct s_file f;
    struct s_conn c;
    void *ctx = zmq_ctx_new();
    size_t next = 0, acked = 0, cursor = 0, accepted = 0, dup = 0, refused = 0;
    int64_t *lat, t0, t1, deadline;
    long in_flight = 0;
    ewh_frame_t *fr;
    int rc;

    s_file_load(o->in, &f);
    if ((lat = calloc(f.n ? f.n : 1, sizeof(*lat))) == NULL)
        fatalx("out of memory");
    s_conn_open(ctx, &c, o->key, hub, o->endpoint);
    s_wait_roster(&c, hub, 20);
    deadline = ewh_mono_ms() + (int64_t)(o->timeout * 1000);
    t0 = s_us();
    while (acked < f.n && ewh_mono_ms() < deadline) {
        zmq_pollitem_t it = {c.sock, 0, ZMQ_POLLIN, 0};
        while (next < f.n && in_flight < o->window) {
            s_submit_env(c.sock, &f.e[next++], 0, s_us());
            in_flight++;
        }
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        while ((fr = s_recv(c.sock)) != NULL) {
            if (fr->msg_case == EWH__FRAME__MSG_SUBMIT_ACK &&
                fr->submit_ack->id.len == EWH_ID_BYTES) {
                struct s_env *e = s_find(&f, &cursor, fr->submit_ack->id.data);
                if (e != NULL && !e->acked) {
                    e->acked = true;
                    lat[acked++] = s_us() - e->sent_us;
                    in_flight--;
                    if (fr->submit_ack->status == EWH__ACK_STATUS__ACK_ACCEPTED)
                        accepted++;
                    else if (fr->submit_ack->status ==
                             EWH__ACK_STATUS__ACK_DUPLICATE)
                        dup++;
                    else {
                        if (refused++ == 0)
                            fprintf(stderr, "ewh-bench: refused: %s\n",
                                    fr->submit_ack->reason);
                    }
                }
            }
            ewh_frame_destroy(&fr);
        }
    }
    t1 = s_us();
    qsort(lat, acked, sizeof(*lat), s_cmp_i64);
    printf("{\"mode\":\"submit\",\"count\":%zu,\"acked\":%zu,"
           "\"accepted\":%zu,\"duplicate\":%zu,\"refused\":%zu,"
           "\"secs\":%.6f,\"per_s\":%.1f,\"lat_p50_ms\":%.3f,"
           "\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f}\n",
           f.n, acked, accepted, dup, refused, (double)(t1 - t0) / 1e6,
           (double)accepted / ((double)(t1 - t0) / 1e6),
           s_pct_ms(lat, acked, 50), s_pct_ms(lat, acked, 99),
           s_pct_ms(lat, acked, 100));
    rc = acked == f.n ? 0 : 1;
    free(lat);
    s_conn_close(&c);
    zmq_ctx_term(ctx);
    s_file_free(&f);
    return rc;
}

/* ---- flood: a node far beyond its rate limit ---- */

static int
s_flood(const struct s_opts *o, const struct ewh_pubid *hub)
{
    struct s_file f;
    struct s_conn c;
    void *ctx = zmq_ctx_new();
    int64_t end;
    size_t i = 0;
    uint64_t sent = 0, accepted = 0, refused = 0, other = 0;
    ewh_frame_t *fr;

    s_file_load(o->in, &f);
    if (f.n == 0)
        fatalx("%s: empty", o->in);
    s_conn_open(ctx, &c, o->key, hub, o->endpoint);
    s_wait_roster(&c, hub, 20);
    printf("{\"mode\":\"flood\",\"started\":true}\n");
    fflush(stdout);
    end = ewh_mono_ms() + (int64_t)(o->seconds * 1000);
    while (ewh_mono_ms() < end) {
        int k;
        for (k = 0; k < 64; k++) {
            Ewh__Frame fm = EWH__FRAME__INIT;
            Ewh__Submit m = EWH__SUBMIT__INIT;
            m.envelope.data = f.e[i].buf;
            m.envelope.len = f.e[i].len;
            fm.msg_case = EWH__FRAME__MSG_SUBMIT;
            fm.submit = &m;
            if (s_send(c.sock, &fm, ZMQ_DONTWAIT) != 0)
                break;
            sent++;
            i = (i + 1) % f.n;
        }
        while ((fr = s_recv(c.sock)) != NULL) {
            if (fr->msg_case == EWH__FRAME__MSG_SUBMIT_ACK) {
                if (fr->submit_ack->status == EWH__ACK_STATUS__ACK_REFUSED)
                    refused++;
                else
                    accepted++;
            } else {
                other++;
            }
            ewh_frame_destroy(&fr);
        }
        if (k < 64) {
            zmq_pollitem_t it = {c.sock, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0};
            (void)zmq_poll(&it, 1, 5);
        }
    }
    printf("{\"mode\":\"flood\",\"sent\":%llu,\"per_s\":%.1f,"
           "\"accepted_or_dup\":%llu,\"refused\":%llu,\"other\":%llu}\n",
           (unsigned long long)sent, (double)sent / o->seconds,
           (unsigned long long)accepted, (unsigned long long)refused,
           (unsigned long long)other);
    s_conn_close(&c);
    zmq_ctx_term(ctx);
    s_file_free(&f);
    return 0;
}

/* ---- high: latency through a draining backlog ---- */

struct s_rstore {
    sqlite3 *db;
    sqlite3_stmt *ins;
    bool in_tx;
};

static void
s_rstore_open(struct s_rstore *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    if (sqlite3_open(path, &s->db) != SQLITE_OK ||
        sqlite3_exec(s->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "CREATE TABLE IF NOT EXISTS inbox(id BLOB PRIMARY KEY,"
                     " level INTEGER NOT NULL, title TEXT NOT NULL,"
                     " body BLOB NOT NULL, envelope BLOB NOT NULL,"
                     " received_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT OR IGNORE INTO inbox VALUES(?1, ?2, ?3,"
                           " ?4, ?5, ?6)",
                           -1, &s->ins, NULL) != SQLITE_OK)
        fatalx("%s: %s", path, sqlite3_errmsg(s->db));
}

static void
s_rstore_close(struct s_rstore *s)
{
    sqlite3_finalize(s->ins);
    sqlite3_close(s->db);
}

struct s_high {
    const struct s_opts *o;
    struct s_file f;
    struct s_conn snd, rcv;
    struct s_rstore st;
    size_t next, cursor;
    uint64_t *ack_seq; /* deliver-acks owed after the commit */
    uint8_t (*ack_id)[EWH_ID_BYTES];
    size_t n_ack, cap_ack;
    size_t *pending; /* highs stored in this transaction (file index) */
    size_t n_pending;
    int64_t *lat;
    size_t n_lat;
    int64_t *rx; /* submit sent -> its delivery read by the recipient */
    size_t n_rx;
    uint64_t lows, others;
};

static void
s_high_deliver(struct s_high *h, const Ewh__Deliver *d)
{
    struct ewh_err err = {0};
    struct ewh_report r;
    struct ewh_header hdr;
    sqlite3_stmt *s = h->st.ins;
    int64_t rx_us = s_us();

    memset(&r, 0, sizeof(r));
    if (ewh_envelope_open(d->envelope.data, d->envelope.len, h->rcv.me,
                          ewh_roster_lookup, h->rcv.roster, &r, &hdr,
                          &err) != 0) {
        fprintf(stderr, "ewh-bench: cannot open delivery: %s\n", err.reason);
        if (ewh_envelope_peek(d->envelope.data, d->envelope.len, &hdr, NULL) !=
            0)
            return;
    } else {
        if (!h->st.in_tx) {
            if (sqlite3_exec(h->st.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
                SQLITE_OK)
                fatalx("begin: %s", sqlite3_errmsg(h->st.db));
            h->st.in_tx = true;
        }
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, hdr.id, EWH_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, (int)r.level);
        sqlite3_bind_text(s, 3, r.title, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 4, r.body, (int)r.body_len, SQLITE_STATIC);
        sqlite3_bind_blob(s, 5, d->envelope.data, (int)d->envelope.len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, ewh_now());
        if (sqlite3_step(s) != SQLITE_DONE)
            fatalx("insert: %s", sqlite3_errmsg(h->st.db));
        sqlite3_reset(s);
        if (hdr.level == EWH_LEVEL_HIGH) {
            struct s_env *e = s_find(&h->f, &h->cursor, hdr.id);
            if (e != NULL && !e->acked) {
                e->acked = true;
                h->rx[h->n_rx++] = rx_us - e->sent_us;
                h->pending[h->n_pending++] = (size_t)(e - h->f.e);
            }
        } else if (hdr.level == EWH_LEVEL_LOW) {
            h->lows++;
        } else {
            h->others++;
        }
    }
    ewh_report_clear(&r);
    if (h->n_ack == h->cap_ack) {
        h->cap_ack = h->cap_ack ? h->cap_ack * 2 : 1024;
        h->ack_seq = realloc(h->ack_seq, h->cap_ack * sizeof(*h->ack_seq));
        h->ack_id = realloc(h->ack_id, h->cap_ack * sizeof(*h->ack_id));
        if (h->ack_seq == NULL || h->ack_id == NULL)
            fatalx("out of memory");
    }
    h->ack_seq[h->n_ack] = d->seq;
    memcpy(h->ack_id[h->n_ack], hdr.id, EWH_ID_BYTES);
    h->n_ack++;
}

/* Commit, then record the highs as stored, then acknowledge. */
static void
s_high_flush(struct s_high *h)
{
    size_t i;
    int64_t now;

    if (h->st.in_tx) {
        if (sqlite3_exec(h->st.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            fatalx("commit: %s", sqlite3_errmsg(h->st.db));
        h->st.in_tx = false;
    }
    now = s_us();
    for (i = 0; i < h->n_pending; i++)
        h->lat[h->n_lat++] = now - h->f.e[h->pending[i]].sent_us;
    h->n_pending = 0;
    for (i = 0; i < h->n_ack; i++) {
        Ewh__Frame f = EWH__FRAME__INIT;
        Ewh__DeliverAck a = EWH__DELIVER_ACK__INIT;
        a.seq = h->ack_seq[i];
        a.id.data = h->ack_id[i];
        a.id.len = EWH_ID_BYTES;
        f.msg_case = EWH__FRAME__MSG_DELIVER_ACK;
        f.deliver_ack = &a;
        (void)s_send(h->rcv.sock, &f, 0);
    }
    h->n_ack = 0;
}

static int
s_high(const struct s_opts *o, const struct ewh_pubid *hub)
{
    struct s_high h;
    void *ctx = zmq_ctx_new();
    int64_t t0, end, next_ms, last_ms;
    ewh_frame_t *fr;
    bool done = false;

    memset(&h, 0, sizeof(h));
    h.o = o;
    s_file_load(o->in, &h.f);
    if (h.f.n == 0)
        fatalx("%s: empty", o->in);
    if ((h.lat = calloc(h.f.n, sizeof(*h.lat))) == NULL ||
        (h.pending = calloc(h.f.n, sizeof(*h.pending))) == NULL ||
        (h.rx = calloc(h.f.n, sizeof(*h.rx))) == NULL)
        fatalx("out of memory");
    s_rstore_open(&h.st, o->db);
    s_conn_open(ctx, &h.snd, o->key, hub, o->endpoint);
    s_wait_roster(&h.snd, hub, 20);
    s_conn_open(ctx, &h.rcv, o->rkey, hub,
                o->rendpoint != NULL ? o->rendpoint : o->endpoint);
    s_hello(&h.rcv, (uint32_t)o->credit);
    t0 = s_us();
    end = ewh_mono_ms() + (int64_t)(o->seconds * 1000);
    next_ms = ewh_mono_ms() + 200; /* let the backlog start to flow */
    last_ms = 0;
    while (!done) {
        zmq_pollitem_t it[2] = {{h.rcv.sock, 0, ZMQ_POLLIN, 0},
                                {h.snd.sock, 0, ZMQ_POLLIN, 0}};
        int64_t now = ewh_mono_ms();
        long tmo;
        int budget;

        if (o->backlog > 0 ? (uint64_t)h.lows >= (uint64_t)o->backlog
                           : now >= end)
            if (last_ms == 0)
                last_ms = now;
        /* Stop sending when the backlog is drained (or time is up); wait
         * a little for the highs still on their way. */
        if (last_ms != 0 && (h.n_lat >= h.next || now - last_ms > 5000))
            break;
        if ((s_us() - t0) / 1000 > (int64_t)(o->timeout * 1000))
            break;
        if (last_ms == 0 && now >= next_ms && h.next < h.f.n &&
            h.rcv.roster != NULL) {
            s_submit_env(h.snd.sock, &h.f.e[h.next++], 0, s_us());
            next_ms += o->interval_ms;
            if (next_ms < now)
                next_ms = now + o->interval_ms;
        }
        tmo = (long)(next_ms - ewh_mono_ms());
        if (tmo < 0)
            tmo = 0;
        if (tmo > 50)
            tmo = 50;
        if (zmq_poll(it, 2, tmo) < 0 && zmq_errno() != EINTR)
            fatalx("poll: %s", zmq_strerror(zmq_errno()));
        while ((fr = s_recv(h.snd.sock)) != NULL)
            ewh_frame_destroy(&fr); /* acks, rosters */
        for (budget = 0; budget < 512 && (fr = s_recv(h.rcv.sock)) != NULL;
             budget++) {
            if (fr->msg_case == EWH__FRAME__MSG_ROSTER)
                s_take_roster(&h.rcv, hub, fr->roster);
            else if (fr->msg_case == EWH__FRAME__MSG_DELIVER &&
                     h.rcv.roster != NULL)
                s_high_deliver(&h, fr->deliver);
            ewh_frame_destroy(&fr);
        }
        s_high_flush(&h);
        if (h.next >= h.f.n && h.n_lat >= h.next && o->backlog == 0)
            done = true;
    }
    qsort(h.lat, h.n_lat, sizeof(*h.lat), s_cmp_i64);
    qsort(h.rx, h.n_rx, sizeof(*h.rx), s_cmp_i64);
    printf("{\"mode\":\"high\",\"highs_sent\":%zu,\"highs_stored\":%zu,"
           "\"lows_stored\":%llu,\"others_stored\":%llu,\"secs\":%.3f,"
           "\"high_p50_ms\":%.3f,\"high_p99_ms\":%.3f,"
           "\"high_max_ms\":%.3f,\"high_rx_p50_ms\":%.3f,"
           "\"high_rx_p99_ms\":%.3f}\n",
           h.next, h.n_lat, (unsigned long long)h.lows,
           (unsigned long long)h.others, (double)(s_us() - t0) / 1e6,
           s_pct_ms(h.lat, h.n_lat, 50), s_pct_ms(h.lat, h.n_lat, 99),
           s_pct_ms(h.lat, h.n_lat, 100), s_pct_ms(h.rx, h.n_rx, 50),
           s_pct_ms(h.rx, h.n_rx, 99));
    free(h.lat);
    free(h.rx);
    free(h.pending);
    free(h.ack_seq);
    free(h.ack_id);
    s_conn_close(&h.snd);
    s_conn_close(&h.rcv);
    zmq_ctx_term(ctx);
    s_rstore_close(&h.st);
    s_file_free(&h.f);
    return h.n_lat > 0 ? 0 : 1;
}

/* ---- first: the first high delivery after a hub starts ---- */

static int
s_first(const struct s_opts *o, const struct ewh_pubid *hub)
{
    void *ctx = zmq_ctx_new();
    struct s_conn c;
    int ivl = 10;
    int64_t deadline = ewh_mono_ms() + (int64_t)(o->timeout * 1000);
    uint64_t before = 0;
    ewh_frame_t *f;

    s_conn_open(ctx, &c, o->key, hub, o->endpoint);
    if (zmq_setsockopt(c.sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) != 0)
        fatalx("reconnect: %s", zmq_strerror(zmq_errno()));
    s_hello(&c, (uint32_t)o->credit);
    while (ewh_mono_ms() < deadline) {
        zmq_pollitem_t it = {c.sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        while ((f = s_recv(c.sock)) != NULL) {
            struct ewh_header hdr;
            if (f->msg_case == EWH__FRAME__MSG_DELIVER &&
                ewh_envelope_peek(f->deliver->envelope.data,
                                  f->deliver->envelope.len, &hdr, NULL) == 0) {
                if (hdr.level == EWH_LEVEL_HIGH) {
                    printf("{\"mode\":\"first\",\"first_high_us\":%lld,"
                           "\"delivered_before\":%llu}\n",
                           (long long)s_us(), (unsigned long long)before);
                    ewh_frame_destroy(&f);
                    s_conn_close(&c);
                    zmq_ctx_term(ctx);
                    return 0;
                }
                before++;
            }
            ewh_frame_destroy(&f);
        }
    }
    fatalx("no high delivery within %.0fs", o->timeout);
}

/* ---- fill-outbox: bulk ewnode submit ---- */

static int
s_fill_outbox(const struct s_opts *o)
{
    struct ewh_err err = {0};
    struct node_dir d;
    ewh_roster_t *ro;
    ewh_wrapcache_t *cache;
    const struct ewh_pubid *to[EWH_MAX_RECIPIENTS];
    char list[256], *tok, *save = NULL, *body;
    size_t n_to = 0;
    long i;

    memset(&d, 0, sizeof(d));
    if (o->dir == NULL || o->to == NULL)
        fatalx("fill-outbox needs --dir and --to");
    if (node_dir_open(&d, o->dir, true, &err) != 0)
        fatalx("%s", err.reason);
    if ((ro = node_dir_roster(&d, &err)) == NULL)
        fatalx("%s", err.reason);
    snprintf(list, sizeof(list), "%s", o->to);
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        if (n_to == EWH_MAX_RECIPIENTS)
            fatalx("too many recipients");
        if ((to[n_to] = ewh_roster_find(ro, tok, NULL)) == NULL)
            fatalx("%s is not in the roster", tok);
        n_to++;
    }
    if ((cache = ewh_wrapcache_new()) == NULL)
        fatalx("out of memory");
    body = s_body(o->body_bytes);
    for (i = 0; i < o->count; i++) {
        struct ewh_report r;
        struct ewh_header hdr;
        struct node_msg m;
        uint8_t *env = NULL;
        size_t len = 0;

        if (i % 1000 == 0 && node_store_begin(d.store, &err) != 0)
            fatalx("%s", err.reason);
        s_report_fill(&r, d.cfg.country, o->level, body, (size_t)o->body_bytes,
                      i);
        if (ewh_envelope_seal(&r, to, n_to, d.secret, cache, &env, &len,
                              &err) != 0 ||
            ewh_envelope_peek(env, len, &hdr, &err) != 0)
            fatalx("seal: %s", err.reason);
        node_msg_from_report(&m, &r, &hdr, true);
        if (node_store_outbox_add(d.store, &m, env, len, &err) != 0)
            fatalx("outbox: %s", err.reason);
        node_msg_clear(&m);
        ewh_report_clear(&r);
        free(env);
        if ((i % 1000 == 999 || i == o->count - 1) &&
            node_store_commit(d.store, &err) != 0)
            fatalx("%s", err.reason);
    }
    printf("{\"mode\":\"fill-outbox\",\"count\":%ld}\n", o->count);
    free(body);
    ewh_wrapcache_destroy(&cache);
    ewh_roster_destroy(&ro);
    node_dir_close(&d);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"rkey", required_argument, NULL, 'K'},
        {"hub-pub", required_argument, NULL, 'H'},
        {"endpoint", required_argument, NULL, 'e'},
        {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"pubs", required_argument, NULL, 'p'},
        {"to", required_argument, NULL, 't'},
        {"db", required_argument, NULL, 'd'},
        {"dir", required_argument, NULL, 'D'},
        {"level", required_argument, NULL, 'l'},
        {"count", required_argument, NULL, 'n'},
        {"body-bytes", required_argument, NULL, 'b'},
        {"window", required_argument, NULL, 'w'},
        {"credit", required_argument, NULL, 'c'},
        {"backlog", required_argument, NULL, 'B'},
        {"interval-ms", required_argument, NULL, 'I'},
        {"timeout", required_argument, NULL, 'T'},
        {"seconds", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'N'},
        {"rendpoint", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0}};
    struct s_opts o;
    struct ewh_err err = {0};
    struct ewh_pubid hub;
    const char *cmd;
    int c;

    memset(&o, 0, sizeof(o));
    o.level = EWH_LEVEL_LOW;
    o.count = 1;
    o.body_bytes = 2048;
    o.window = 1000;
    o.credit = EWH_DEFAULT_CREDIT;
    o.interval_ms = 20;
    o.timeout = 300;
    o.seconds = 5;
    ewh_log_init("ewh-bench", EWH_LOG_WARN);
    if (argc < 2)
        fatalx("usage: ewh-bench "
               "seal|submit|flood|high|first|fill-outbox|ceiling ... "
               "(see tests/bench/ewh-bench.c)");
    cmd = argv[1];
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o.key = optarg;
            break;
        case 'K':
            o.rkey = optarg;
            break;
        case 'H':
            o.hub_pub = optarg;
            break;
        case 'e':
            o.endpoint = optarg;
            break;
        case 'i':
            o.in = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'p':
            o.pubs = optarg;
            break;
        case 't':
            o.to = optarg;
            break;
        case 'd':
            o.db = optarg;
            break;
        case 'D':
            o.dir = optarg;
            break;
        case 'l':
            if ((o.level = ewh_level_parse(optarg)) == EWH_LEVEL_NONE)
                fatalx("bad level '%s'", optarg);
            break;
        case 'n':
            o.count = atol(optarg);
            break;
        case 'b':
            o.body_bytes = atol(optarg);
            break;
        case 'w':
            o.window = atol(optarg);
            break;
        case 'c':
            o.credit = atol(optarg);
            break;
        case 'B':
            o.backlog = atol(optarg);
            break;
        case 'I':
            o.interval_ms = atol(optarg);
            break;
        case 'T':
            o.timeout = atof(optarg);
            break;
        case 's':
            o.seconds = atof(optarg);
            break;
        case 'N':
            o.threads = atol(optarg);
            break;
        case 'R':
            o.rendpoint = optarg;
            break;
        default:
            return 2;
        }
    }
    if (sodium_init() < 0)
        fatalx("sodium_init failed");
    if (strcmp(cmd, "seal") == 0)
        return s_seal(&o);
    if (strcmp(cmd, "fill-outbox") == 0)
        return s_fill_outbox(&o);
    if (strcmp(cmd, "ceiling") == 0)
        return s_ceiling(&o);
    if (strcmp(cmd, "first") == 0 && o.key != NULL && o.hub_pub != NULL &&
        o.endpoint != NULL) {
        if (ewh_pubid_load(o.hub_pub, &hub, &err) != 0)
            fatalx("%s", err.reason);
        return s_first(&o, &hub);
    }
    if (o.key == NULL || o.hub_pub == NULL || o.endpoint == NULL ||
        o.in == NULL)
        fatalx("%s needs --key, --hub-pub, --endpoint and --in", cmd);
    if (ewh_pubid_load(o.hub_pub, &hub, &err) != 0)
        fatalx("%s", err.reason);
    if (strcmp(cmd, "submit") == 0)
        return s_submit(&o, &hub);
    if (strcmp(cmd, "flood") == 0)
        return s_flood(&o, &hub);
    if (strcmp(cmd, "high") == 0) {
        if (o.rkey == NULL || o.db == NULL)
            fatalx("high needs --rkey and --db");
        return s_high(&o, &hub);
    }
    fatalx("unknown mode '%s'", cmd);
}
