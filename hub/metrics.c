/* metrics.c — Prometheus text on /metrics through libmicrohttpd. */
#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ewh/limits.h"
#include "ewh/addr.h"
#include "ewh/log.h"

#if MHD_VERSION < 0x00097002
#define S_RESULT int
#else
#define S_RESULT enum MHD_Result
#endif

#define S_MAX_COUNTRIES (EWH_MAX_ROSTER_ENTRIES * 2)

/* Upper bounds of the commit latency histogram, seconds. */
static const double s_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                   0.025,  0.05,  0.1,    0.25,  0.5,
                                   1.0,    2.5,   5.0,    10.0};
#define S_NBUCKETS (sizeof(s_buckets) / sizeof(s_buckets[0]))

struct s_country {
    char cc[EWH_CC_BYTES];
    uint64_t q[4];
    bool has_node; /* hub_metrics_node() was called for it */
    struct hub_metrics_node n;
};

struct hub_metrics {
    pthread_mutex_t mu;
    struct MHD_Daemon *httpd;
    uint64_t accepted[4];
    uint64_t refused[EWH_E__COUNT];
    uint64_t duplicate;
    uint64_t delivered[4];
    uint64_t acknowledged;
    uint64_t expired;
    uint64_t zap_refused;
    uint64_t audit_behind, stalled;
    uint64_t commit_bucket[S_NBUCKETS]; /* not cumulative; summed on render */
    uint64_t commit_count;
    double commit_sum;
    unsigned connected, enrolled;
    uint64_t audit_length;
    uint64_t checkpoints, checkpoints_failed, wal_pages;
    struct s_country c[S_MAX_COUNTRIES];
    size_t n_c;
    int64_t started;
    int64_t counters_since;
    uint64_t roster_version;
    int64_t now; /* of the last gauge refresh: ages are computed at it */
    uint64_t db_bytes, wal_bytes, fs_size, fs_avail;
    int64_t verify_at; /* last `ewhub audit verify`, 0 never */
    bool verify_ok;
    char *fed_text; /* the federation links' families (fed.c) */
};

hub_metrics_t *
hub_metrics_new(void)
{
    hub_metrics_t *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    m->started = ewh_now();
    return m;
}

int64_t
hub_metrics_started(const hub_metrics_t *m)
{
    return m->started;
}

void
hub_metrics_destroy(hub_metrics_t **mp)
{
    hub_metrics_t *m;

    if (mp == NULL || *mp == NULL)
        return;
    m = *mp;
    if (m->httpd != NULL)
        MHD_stop_daemon(m->httpd);
    pthread_mutex_destroy(&m->mu);
    free(m->fed_text);
    free(m);
    *mp = NULL;
}

#define S_LOCKED(m, stmt)                                                      \
    do {                                                                       \
        if ((m) == NULL)                                                       \
            break;                                                             \
        pthread_mutex_lock(&(m)->mu);                                          \
        stmt;                                                                  \
        pthread_mutex_unlock(&(m)->mu);                                        \
    } while (0)

static bool
s_level_ok(enum ewh_level l)
{
    return l >= EWH_LEVEL_LOW && l <= EWH_LEVEL_HIGH;
}

void
hub_metrics_accepted(hub_metrics_t *m, enum ewh_level level)
{
    if (s_level_ok(level))
        S_LOCKED(m, m->accepted[level]++);
}

void
hub_metrics_refused(hub_metrics_t *m, enum ewh_errcode code)
{
    if (code < EWH_E__COUNT)
        S_LOCKED(m, m->refused[code]++);
}

void
hub_metrics_duplicate(hub_metrics_t *m)
{
    S_LOCKED(m, m->duplicate++);
}

void
hub_metrics_delivered(hub_metrics_t *m, enum ewh_level level)
{
    if (s_level_ok(level))
        S_LOCKED(m, m->delivered[level]++);
}

void
hub_metrics_acknowledged(hub_metrics_t *m, uint64_t n)
{
    S_LOCKED(m, m->acknowledged += n);
}

void
hub_metrics_expired(hub_metrics_t *m)
{
    S_LOCKED(m, m->expired++);
}

void
hub_metrics_zap_refused(hub_metrics_t *m, uint64_t n)
{
    S_LOCKED(m, m->zap_refused += n);
}

void
hub_metrics_audit_behind(hub_metrics_t *m)
{
    S_LOCKED(m, m->audit_behind++);
}

void
hub_metrics_stalled(hub_metrics_t *m, uint64_t n)
{
    S_LOCKED(m, m->stalled += n);
}

void
hub_metrics_commit(hub_metrics_t *m, double seconds)
{
    size_t i;

    for (i = 0; i < S_NBUCKETS && seconds > s_buckets[i]; i++)
        ;
    S_LOCKED(m, {
        if (i < S_NBUCKETS)
            m->commit_bucket[i]++;
        m->commit_count++;
        m->commit_sum += seconds;
    });
}

void
hub_metrics_nodes(hub_metrics_t *m, unsigned connected, unsigned enrolled)
{
    S_LOCKED(m, {
        m->connected = connected;
        m->enrolled = enrolled;
    });
}

/* The country's slot, added when new (NULL when full).  Locked. */
static struct s_country *
s_country(hub_metrics_t *m, const char *cc)
{
    size_t i;

    for (i = 0; i < m->n_c && strcmp(m->c[i].cc, cc) != 0; i++)
        ;
    if (i == m->n_c) {
        if (m->n_c == S_MAX_COUNTRIES)
            return NULL;
        memset(&m->c[i], 0, sizeof(m->c[i]));
        snprintf(m->c[i].cc, sizeof(m->c[i].cc), "%.2s", cc);
        m->n_c++;
    }
    return &m->c[i];
}

void
hub_metrics_queue_clear(hub_metrics_t *m)
{
    S_LOCKED(m, {
        size_t i;
        for (i = 0; i < m->n_c; i++)
            memset(m->c[i].q, 0, sizeof(m->c[i].q));
    });
}

void
hub_metrics_queue(hub_metrics_t *m, const char *cc, const uint64_t q[4])
{
    S_LOCKED(m, {
        struct s_country *c = s_country(m, cc);
        if (c != NULL)
            memcpy(c->q, q, sizeof(c->q));
    });
}

void
hub_metrics_audit_length(hub_metrics_t *m, uint64_t n)
{
    S_LOCKED(m, m->audit_length = n);
}

void
hub_metrics_wal(hub_metrics_t *m, uint64_t checkpoints, uint64_t failed,
                uint64_t pages)
{
    S_LOCKED(m, {
        m->checkpoints = checkpoints;
        m->checkpoints_failed = failed;
        m->wal_pages = pages;
    });
}

void
hub_metrics_seed(hub_metrics_t *m, int kind, int level, const char *code,
                 uint64_t n)
{
    S_LOCKED(m, {
        size_t i;
        bool lv = level >= 1 && level <= 3;
        switch (kind) {
        case 1: /* HUB_EV_ACCEPTED */
            if (lv)
                m->accepted[level] += n;
            break;
        case 2: /* HUB_EV_REFUSED */
            for (i = 1; i < EWH_E__COUNT; i++)
                if (strcmp(code, ewh_errcode_name((enum ewh_errcode)i)) == 0)
                    m->refused[i] += n;
            break;
        case 3:
            m->duplicate += n;
            break;
        case 4:
            if (lv)
                m->delivered[level] += n;
            break;
        case 5:
            m->acknowledged += n;
            break;
        case 6:
            m->expired += n;
            break;
        case 9:
            m->zap_refused += n;
            break;
        default:
            break;
        }
    });
}

void
hub_metrics_counters_since(hub_metrics_t *m, int64_t since)
{
    S_LOCKED(m, m->counters_since = since);
}

void
hub_metrics_node(hub_metrics_t *m, const struct hub_metrics_node *n)
{
    S_LOCKED(m, {
        struct s_country *c = s_country(m, n->cc);
        if (c != NULL) {
            c->n = *n;
            c->has_node = true;
        }
    });
}

void
hub_metrics_hub(hub_metrics_t *m, int64_t now, uint64_t roster_version)
{
    S_LOCKED(m, {
        m->now = now;
        m->roster_version = roster_version;
    });
}

void
hub_metrics_disk(hub_metrics_t *m, uint64_t db_bytes, uint64_t wal_bytes,
                 uint64_t fs_size, uint64_t fs_avail)
{
    S_LOCKED(m, {
        m->db_bytes = db_bytes;
        m->wal_bytes = wal_bytes;
        m->fs_size = fs_size;
        m->fs_avail = fs_avail;
    });
}

void
hub_metrics_audit_verify(hub_metrics_t *m, int64_t at, bool ok)
{
    S_LOCKED(m, {
        m->verify_at = at;
        m->verify_ok = ok;
    });
}

static void
s_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one unlabelled sample. */
static void
s_one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    s_head(f, name, type, help);
    fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* The per-node families: one sample per country the hub has figures
 * for (hub_metrics_node()). */
static void
s_render_nodes(hub_metrics_t *m, FILE *f)
{
    static const char *const lv[] = {NULL, "low", "medium", "high"};
    const struct hub_metrics_node *n;
    size_t i;
    int l;

    s_one(f, "ewhub_roster_version", "gauge",
          "Version of the roster the hub signs and serves now.",
          m->roster_version);
    s_head(f, "ewhub_node_connected", "gauge",
           "1 while the country's node is connected, by enrolled country.");
    for (i = 0; i < m->n_c; i++)
        if (m->c[i].has_node && (n = &m->c[i].n)->enrolled)
            fprintf(f, "ewhub_node_connected{country=\"%s\"} %d\n", n->cc,
                    n->connected ? 1 : 0);
    s_head(f, "ewhub_node_roster_version", "gauge",
           "Roster version the node last said it holds (Hello, Heartbeat).");
    for (i = 0; i < m->n_c; i++)
        if (m->c[i].has_node && (n = &m->c[i].n)->roster_known)
            fprintf(f, "ewhub_node_roster_version{country=\"%s\"} %llu\n",
                    n->cc, (unsigned long long)n->roster_version);
    s_head(f, "ewhub_node_last_frame_timestamp_seconds", "gauge",
           "Unix time of the last frame received from the node.");
    for (i = 0; i < m->n_c; i++)
        if (m->c[i].has_node && (n = &m->c[i].n)->last_frame > 0)
            fprintf(f,
                    "ewhub_node_last_frame_timestamp_seconds{country=\"%s\"} "
                    "%lld\n",
                    n->cc, (long long)n->last_frame);
    s_head(f, "ewhub_node_deliveries_unacknowledged", "gauge",
           "Deliveries sent to the node and not yet acknowledged by it.");
    for (i = 0; i < m->n_c; i++)
        if (m->c[i].has_node)
            fprintf(f,
                    "ewhub_node_deliveries_unacknowledged{country=\"%s\"} "
                    "%llu\n",
                    m->c[i].cc, (unsigned long long)m->c[i].n.in_flight);
    s_head(f, "ewhub_node_receipts_waiting", "gauge",
           "Receipts held for the country (as origin), not yet taken.");
    for (i = 0; i < m->n_c; i++)
        if (m->c[i].has_node)
            fprintf(f, "ewhub_node_receipts_waiting{country=\"%s\"} %llu\n",
                    m->c[i].cc, (unsigned long long)m->c[i].n.receipts);
    s_head(f, "ewhub_queue_oldest_age_seconds", "gauge",
           "Age of the oldest delivery waiting, by recipient country and "
           "level (0: none waits).");
    for (i = 0; i < m->n_c; i++)
        for (l = 3; l >= 1 && m->c[i].has_node; l--) {
            int64_t t = m->c[i].n.oldest[l];
            fprintf(f,
                    "ewhub_queue_oldest_age_seconds{country=\"%s\","
                    "level=\"%s\"} %lld\n",
                    m->c[i].cc, lv[l],
                    (long long)(t > 0 && m->now > t ? m->now - t : 0));
        }
}

static void
s_render(hub_metrics_t *m, FILE *f)
{
    static const char *const lv[] = {NULL, "low", "medium", "high"};
    uint64_t cum = 0;
    size_t i;
    int l;

    s_head(f, "ewhub_build_info", "gauge",
           "Always 1; the version label names the build.");
    fprintf(f, "ewhub_build_info{version=\"%s\"} 1\n", EWH_VERSION);
    s_head(f, "ewhub_start_time_seconds", "gauge",
           "Unix time the hub started.");
    fprintf(f, "ewhub_start_time_seconds %lld\n", (long long)m->started);
    s_head(f, "ewhub_counters_since_timestamp_seconds", "gauge",
           "Unix time the _total counters count from: the store's creation "
           "(they are kept in the store and survive restarts).");
    fprintf(f, "ewhub_counters_since_timestamp_seconds %lld\n",
            (long long)m->counters_since);
    s_head(f, "ewhub_reports_accepted_total", "counter",
           "Reports stored and chained, by level.");
    for (l = 3; l >= 1; l--)
        fprintf(f, "ewhub_reports_accepted_total{level=\"%s\"} %llu\n", lv[l],
                (unsigned long long)m->accepted[l]);
    s_head(f, "ewhub_reports_refused_total", "counter",
           "Submits refused, by reason (error code).");
    for (i = 1; i < EWH_E__COUNT; i++)
        fprintf(f, "ewhub_reports_refused_total{reason=\"%s\"} %llu\n",
                ewh_errcode_name((enum ewh_errcode)i),
                (unsigned long long)m->refused[i]);
    s_one(f, "ewhub_reports_duplicate_total", "counter",
          "Submits of a report already stored (acknowledged, not stored "
          "again).",
          m->duplicate);
    s_head(f, "ewhub_deliveries_total", "counter",
           "Deliveries acknowledged by the recipient node, by level.");
    for (l = 3; l >= 1; l--)
        fprintf(f, "ewhub_deliveries_total{level=\"%s\"} %llu\n", lv[l],
                (unsigned long long)m->delivered[l]);
    s_one(f, "ewhub_acknowledgements_total", "counter",
          "Reports acknowledged by a liaison officer (signed receipts).",
          m->acknowledged);
    s_one(f, "ewhub_deliveries_expired_total", "counter",
          "Deliveries that expired before reaching their recipient.",
          m->expired);
    s_one(f, "ewhub_connections_refused_total", "counter",
          "Connections refused at the CURVE handshake (ZAP).", m->zap_refused);
    s_one(f, "ewhub_audit_behind_total", "counter",
          "Hellos naming a checkpoint beyond the hub's audit chain (the hub "
          "lost acknowledged reports).",
          m->audit_behind);
    s_one(f, "ewhub_deliveries_stalled_total", "counter",
          "Deliveries resent because none was acknowledged in time on a "
          "live session.",
          m->stalled);
    s_one(f, "ewhub_nodes_connected", "gauge", "Nodes connected now.",
          m->connected);
    s_one(f, "ewhub_nodes_enrolled", "gauge",
          "Countries enrolled and not revoked.", m->enrolled);
    s_head(f, "ewhub_queue_depth", "gauge",
           "Deliveries waiting, by recipient country and level.");
    for (i = 0; i < m->n_c; i++)
        for (l = 3; l >= 1; l--)
            fprintf(f, "ewhub_queue_depth{country=\"%s\",level=\"%s\"} %llu\n",
                    m->c[i].cc, lv[l], (unsigned long long)m->c[i].q[l]);
    s_render_nodes(m, f);
    s_one(f, "ewhub_audit_chain_length", "gauge",
          "Entries in the audit hash chain.", m->audit_length);
    s_one(f, "ewhub_store_checkpoints_total", "counter",
          "WAL checkpoints run by the checkpointer thread.", m->checkpoints);
    s_one(f, "ewhub_store_checkpoints_failed_total", "counter",
          "WAL checkpoints that failed (disk full, I/O error): the WAL "
          "keeps growing until one succeeds.",
          m->checkpoints_failed);
    s_one(f, "ewhub_store_wal_pages", "gauge",
          "Pages in the store's write-ahead log after the last commit.",
          m->wal_pages);
    s_one(f, "ewhub_store_db_bytes", "gauge",
          "Bytes of the store's database file.", m->db_bytes);
    s_one(f, "ewhub_store_wal_bytes", "gauge",
          "Bytes of the store's write-ahead log file.", m->wal_bytes);
    s_one(f, "ewhub_store_filesystem_size_bytes", "gauge",
          "Size of the file system holding the store.", m->fs_size);
    s_one(f, "ewhub_store_filesystem_avail_bytes", "gauge",
          "Bytes free for the hub on the file system holding the store.",
          m->fs_avail);
    s_head(f, "ewhub_audit_verify_last_run_timestamp_seconds", "gauge",
           "Unix time `ewhub audit verify` last ran on this store (0: "
           "never).");
    fprintf(f, "ewhub_audit_verify_last_run_timestamp_seconds %lld\n",
            (long long)m->verify_at);
    s_one(f, "ewhub_audit_verify_last_ok", "gauge",
          "1 when the last `ewhub audit verify` found the chain intact, 0 "
          "when it failed or never ran.",
          m->verify_ok && m->verify_at > 0);
    s_head(f, "ewhub_store_commit_seconds", "histogram",
           "Time to write and commit one batch (fsync included).");
    for (i = 0; i < S_NBUCKETS; i++) {
        cum += m->commit_bucket[i];
        fprintf(f, "ewhub_store_commit_seconds_bucket{le=\"%g\"} %llu\n",
                s_buckets[i], (unsigned long long)cum);
    }
    fprintf(f, "ewhub_store_commit_seconds_bucket{le=\"+Inf\"} %llu\n",
            (unsigned long long)m->commit_count);
    fprintf(f, "ewhub_store_commit_seconds_sum %.9f\n", m->commit_sum);
    fprintf(f, "ewhub_store_commit_seconds_count %llu\n",
            (unsigned long long)m->commit_count);
    if (m->fed_text != NULL)
        fputs(m->fed_text, f);
}

int
hub_metrics_render(hub_metrics_t *m, char **out, size_t *len)
{
    FILE *f;

    *out = NULL;
    *len = 0;
    if ((f = open_memstream(out, len)) == NULL)
        return -1;
    pthread_mutex_lock(&m->mu);
    s_render(m, f);
    pthread_mutex_unlock(&m->mu);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static S_RESULT
s_reply(struct MHD_Connection *c, unsigned status, const char *ctype,
        char *body, size_t len, bool must_free)
{
    struct MHD_Response *r;
    S_RESULT ret;

    r = MHD_create_response_from_buffer(
        len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        if (must_free)
            free(body);
        return MHD_NO;
    }
    (void)MHD_add_response_header(r, "Content-Type", ctype);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static S_RESULT
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_len, void **state)
{
    static char notfound[] = "not found; try /metrics\n";
    static char badmethod[] = "method not allowed\n";
    static int first;
    hub_metrics_t *m = cls;
    char *body = NULL;
    size_t len = 0;

    (void)version;
    (void)upload;
    if (*state == NULL) {
        /* Called once with the headers; answer on the second call. */
        *state = &first;
        return MHD_YES;
    }
    if (*upload_len != 0)
        return MHD_NO;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return s_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", badmethod,
                       strlen(badmethod), false);
    if (strcmp(url, "/metrics") != 0)
        return s_reply(c, MHD_HTTP_NOT_FOUND, "text/plain", notfound,
                       strlen(notfound), false);
    if (hub_metrics_render(m, &body, &len) != 0)
        return MHD_NO;
    return s_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                   body, len, true);
}

int
hub_metrics_listen(hub_metrics_t *m, const char *hostport, char *bound,
                   size_t bound_cap, struct ewh_err *err)
{
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    struct ewh_addr la;
    uint16_t port;

    if (ewh_addr_parse("metrics", hostport, &la, err) != 0)
        return -1;
    if (la.v6)
        flags |= MHD_USE_IPv6;
    m->httpd = MHD_start_daemon(
        flags, la.port, NULL, NULL, s_handler, m, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&la.ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (m->httpd == NULL)
        return ewh_err_set(err, EWH_E_IO, "metrics: cannot listen on %.64s",
                           hostport);
    info = MHD_get_daemon_info(m->httpd, MHD_DAEMON_INFO_BIND_PORT);
    port = info != NULL && info->port != 0 ? info->port : la.port;
    ewh_addr_format(&la, port, bound, bound_cap);
    return 0;
}

void
hub_metrics_fed(hub_metrics_t *m, char *text)
{
    pthread_mutex_lock(&m->mu);
    free(m->fed_text);
    m->fed_text = text;
    pthread_mutex_unlock(&m->mu);
}
