/* metrics.c — the node agent's Prometheus text on /metrics. */
#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ewh/addr.h"
#include "ewh/limits.h"

#if MHD_VERSION < 0x00097002
#define S_RESULT int
#else
#define S_RESULT enum MHD_Result
#endif

struct node_metrics {
    pthread_mutex_t mu;
    struct MHD_Daemon *httpd;
    char country[EWH_CC_BYTES];
    int64_t started;
    struct node_metrics_state s;
};

node_metrics_t *
node_metrics_new(const char *country)
{
    node_metrics_t *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    snprintf(m->country, sizeof(m->country), "%.2s", country);
    m->started = ewh_now();
    m->s.hub_key = "pinned";
    return m;
}

void
node_metrics_destroy(node_metrics_t **mp)
{
    node_metrics_t *m;

    if (mp == NULL || *mp == NULL)
        return;
    m = *mp;
    if (m->httpd != NULL)
        MHD_stop_daemon(m->httpd);
    pthread_mutex_destroy(&m->mu);
    free(m);
    *mp = NULL;
}

void
node_metrics_set(node_metrics_t *m, const struct node_metrics_state *s)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->s = *s;
    pthread_mutex_unlock(&m->mu);
}

static void
s_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long
s_age(int64_t now, int64_t t)
{
    return t > 0 && now > t ? (long long)(now - t) : 0;
}

/* A label value in the text format: \, " and newline escaped. */
static void
s_label(FILE *f, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*v, f);
    }
}

/* One gauge per hub, labelled hub="ENDPOINT". */
static void
s_hub_gauge(FILE *f, const struct node_metrics_state *s, const char *name,
            const char *type, const char *help, size_t off)
{
    size_t i;

    s_head(f, name, type, help);
    for (i = 0; i < s->n_hubs; i++) {
        const struct node_metrics_hub *h = &s->hubs[i];
        int64_t v;
        if (off == (size_t)-1)
            v = (int64_t)s_age(s->now, h->last_frame);
        else
            memcpy(&v, (const char *)h + off, sizeof(v));
        fprintf(f, "%s{hub=\"", name);
        s_label(f, h->hub);
        fprintf(f, "\"} %lld\n", (long long)v);
    }
}

static void
s_per_hub(FILE *f, const struct node_metrics_state *s)
{
    if (s->n_hubs == 0)
        return;
    s_hub_gauge(f, s, "ewnode_hub_last_frame_age_seconds", "gauge",
                "Seconds since the last frame from this hub (0: none yet).",
                (size_t)-1);
    s_hub_gauge(f, s, "ewnode_hub_accepted", "gauge",
                "Our reports this hub has acknowledged durably (SubmitAck).",
                offsetof(struct node_metrics_hub, accepted));
    s_hub_gauge(f, s, "ewnode_hub_lagging", "gauge",
                "Reports another hub accepted that this one has not yet.",
                offsetof(struct node_metrics_hub, lagging));
    s_hub_gauge(f, s, "ewnode_hub_refills_total", "counter",
                "Times this hub was found to have lost data and was sent "
                "again what is not yet receipted (docs/redundancy.md).",
                offsetof(struct node_metrics_hub, refills));
    s_hub_gauge(f, s, "ewnode_hub_roster_mismatch", "gauge",
                "Differences between this hub's roster and another hub's "
                "that key continuity does not explain (0: none).",
                offsetof(struct node_metrics_hub, roster_mismatch));
}

static void
s_render(node_metrics_t *m, FILE *f)
{
    const struct node_metrics_state *s = &m->s;
    size_t i;

    s_head(f, "ewnode_build_info", "gauge",
           "Always 1; the labels name the build and the node's country.");
    fprintf(f, "ewnode_build_info{version=\"%s\",country=\"%s\"} 1\n",
            EWH_VERSION, m->country);
    s_head(f, "ewnode_start_time_seconds", "gauge",
           "Unix time the agent started.");
    fprintf(f, "ewnode_start_time_seconds %lld\n", (long long)m->started);
    s_head(f, "ewnode_hub_connected", "gauge",
           "1 while the agent has a session with the hub (handshake done and "
           "roster received), by hub endpoint and the hub key used.");
    if (s->n_hubs == 0) {
        fprintf(f, "ewnode_hub_connected{hub=\"");
        s_label(f, s->hub);
        fprintf(f, "\",key=\"%s\"} %d\n", s->hub_key,
                s->connected && s->ready ? 1 : 0);
    }
    for (i = 0; i < s->n_hubs; i++) {
        fprintf(f, "ewnode_hub_connected{hub=\"");
        s_label(f, s->hubs[i].hub);
        fprintf(f, "\",key=\"%s\"} %d\n", s->hubs[i].hub_key,
                s->hubs[i].up ? 1 : 0);
    }
    s_head(f, "ewnode_hub_last_frame_timestamp_seconds", "gauge",
           "Unix time of the last frame received from the hub (0: none).");
    fprintf(f, "ewnode_hub_last_frame_timestamp_seconds %lld\n",
            (long long)s->last_frame);
    s_head(f, "ewnode_roster_version", "gauge",
           "Version of the roster the node holds (0: none yet).");
    fprintf(f, "ewnode_roster_version %llu\n",
            (unsigned long long)s->roster_version);
    s_head(f, "ewnode_outbox_depth", "gauge",
           "Reports in the outbox the hub has not accepted yet.");
    fprintf(f, "ewnode_outbox_depth %lld\n", (long long)s->outbox);
    s_head(f, "ewnode_outbox_oldest_age_seconds", "gauge",
           "Age of the oldest report the hub has not accepted yet (0: "
           "none).");
    fprintf(f, "ewnode_outbox_oldest_age_seconds %lld\n",
            s_age(s->now, s->outbox_oldest));
    s_head(f, "ewnode_submits_in_flight", "gauge",
           "Submits sent to the hub and not yet acknowledged by it.");
    fprintf(f, "ewnode_submits_in_flight %llu\n",
            (unsigned long long)s->in_flight);
    s_head(f, "ewnode_inbox_unacknowledged_high", "gauge",
           "High reports received that no liaison officer has acknowledged "
           "(ewnode ack).");
    fprintf(f, "ewnode_inbox_unacknowledged_high %lld\n",
            (long long)s->unacked_high);
    s_head(f, "ewnode_inbox_unacknowledged_high_oldest_age_seconds", "gauge",
           "Age of the oldest high report not acknowledged (0: none).");
    fprintf(f, "ewnode_inbox_unacknowledged_high_oldest_age_seconds %lld\n",
            s_age(s->now, s->unacked_high_oldest));
    s_head(f, "ewnode_peers_unverified", "gauge",
           "Peers whose key this node has not verified: nothing is sealed "
           "for them (docs/trust.md).");
    fprintf(f, "ewnode_peers_unverified %lld\n",
            (long long)s->peers_unverified);
    s_head(f, "ewnode_split_views", "gauge",
           "Split views caught: the hub showed peers different rosters "
           "(ewnode audit; docs/trust.md).");
    fprintf(f, "ewnode_split_views %lld\n", (long long)s->split_views);
    s_per_hub(f, s);
}

int
node_metrics_render(node_metrics_t *m, char **out, size_t *len)
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
    node_metrics_t *m = cls;
    char *body = NULL;
    size_t len = 0;

    (void)version;
    (void)upload;
    if (*state == NULL) {
        *state = &first; /* headers first; answer on the second call */
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
    if (node_metrics_render(m, &body, &len) != 0)
        return MHD_NO;
    return s_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                   body, len, true);
}

int
node_metrics_listen(node_metrics_t *m, const char *hostport, char *bound,
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
