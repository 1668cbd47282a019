/* desk.c — the desk's HTTP part (desk.h): the daemon's setup, listening,
 * routing; the pages are in desk_*.c behind desk_int.h.
 *
 * libmicrohttpd, one thread per connection (live-update streams block in
 * their callback).  The store connection (d->store) is not thread-safe
 * and is used under node_desk_g.store_lock; desk.db is opened serialized
 * (SQLITE_OPEN_FULLMUTEX) and used from any thread.  Every byte of HTML
 * is made by node_html() (html.h), which escapes every value. */
#include "desk_int.h"

struct node_desk_state node_desk_g;

/* ---- routing -------------------------------------------------------- */

bool
node_desk_is_hex_id(const char *s, size_t len)
{
    size_t i;

    if (len != 32)
        return false;
    for (i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A POST from another site is refused before anything else: the Origin
 * header, when the browser sends one, must be this desk. */
bool
node_desk_origin_ok(const struct node_desk_req *r)
{
    const char *o =
        MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Origin");
    const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Host");
    char want[300];

    if (o == NULL)
        return true;
    if (h == NULL)
        return false;
    snprintf(want, sizeof(want), "%s://%s", node_desk_g.tls ? "https" : "http",
             h);
    return strcmp(o, want) == 0;
}

static enum MHD_Result
s_route(struct node_desk_req *r)
{
    const char *u = r->url;
    const struct node_desk_file *f;
    size_t n;

    if (r->post && !node_desk_origin_ok(r))
        return node_desk_text(r, MHD_HTTP_FORBIDDEN,
                              "refused: cross-site request");
    if (!r->post && (f = node_desk_static(u)) != NULL) {
        r->ctype = f->type;
        r->cacheable = true;
        node_buf_add(&r->out, f->data, f->len);
        return node_desk_respond(r);
    }
    if (strcmp(u, "/login") == 0)
        return node_desk_login(r);
    if (strcmp(u, "/logout") == 0)
        return node_desk_logout(r);
    if (r->post && strcmp(u, "/submit") != 0 && strcmp(u, "/admin/user") != 0 &&
        strcmp(u, "/peers/verify") != 0 && strncmp(u, "/report/", 8) != 0)
        return node_desk_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
    if (strcmp(u, "/") == 0) {
        if (!r->signed_in)
            return node_desk_redirect(r, "/login");
        return node_desk_redirect(
            r, node_desk_has(r, NODE_ROLE_LIAISON)   ? "/inbox"
               : node_desk_has(r, NODE_ROLE_ANALYST) ? "/outbox"
                                                     : "/admin");
    }
    if (strcmp(u, "/inbox") == 0)
        return node_desk_inbox(r, false);
    if (strcmp(u, "/live/inbox") == 0)
        return node_desk_inbox(r, true);
    if (strcmp(u, "/live/alerts") == 0)
        return node_desk_alerts(r);
    if (strcmp(u, "/live/late") == 0) {
        NEED(r, NODE_ROLE_ANALYST, false);
        node_desk_late_html(&r->out);
        return node_desk_respond(r);
    }
    if (strcmp(u, "/outbox") == 0)
        return node_desk_outbox(r, false);
    if (strcmp(u, "/live/outbox") == 0)
        return node_desk_outbox(r, true);
    if (strcmp(u, "/submit") == 0)
        return node_desk_submit(r);
    if (strcmp(u, "/peers") == 0)
        return node_desk_peers(r, NULL, NULL, false);
    if (strcmp(u, "/peers/verify") == 0) {
        if (!r->post)
            return node_desk_redirect(r, "/peers");
        return node_desk_peers_verify_post(r);
    }
    if (strcmp(u, "/settings") == 0)
        return node_desk_settings(r);
    if (strcmp(u, "/admin") == 0)
        return node_desk_admin(r, NULL, false);
    if (strcmp(u, "/admin/user") == 0) {
        if (!r->post)
            return node_desk_redirect(r, "/admin");
        return node_desk_admin_user_post(r);
    }
    if (strcmp(u, "/events") == 0)
        return node_desk_events(r);
    if (strncmp(u, "/report/", 8) == 0) {
        const char *id = u + 8, *rest;
        char hex[EWH_ID_HEX];
        n = strcspn(id, "./");
        rest = id + n;
        if (!node_desk_is_hex_id(id, n))
            return r->signed_in ? node_desk_error_page(r, MHD_HTTP_NOT_FOUND,
                                                       "No such report.")
                                : node_desk_redirect(r, "/login");
        memcpy(hex, id, 32);
        hex[32] = '\0';
        if (strcmp(rest, "/ack") == 0)
            return node_desk_report_ack(r, hex);
        if (r->post)
            return node_desk_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
        if (rest[0] == '\0') {
            NEED(r, NODE_ROLE_ANALYST | NODE_ROLE_LIAISON, true);
            return node_desk_report_page(r, hex);
        }
        if (strcmp(rest, ".json") == 0 || strcmp(rest, ".cap") == 0 ||
            strcmp(rest, ".ack.cap") == 0) {
            NEED(r, NODE_ROLE_ANALYST | NODE_ROLE_LIAISON, false);
            return node_desk_report_download(r, hex, rest + 1);
        }
    }
    if (!r->signed_in)
        return node_desk_redirect(r, "/login");
    return node_desk_error_page(r, MHD_HTTP_NOT_FOUND, "No such page.");
}

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    struct node_desk_conn *cn = *con_cls;
    struct node_desk_req r;
    struct ewh_err err = {0};
    enum MHD_Result rc;
    bool post = strcmp(method, "POST") == 0;

    (void)cls;
    (void)version;
    if (cn == NULL) {
        if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return MHD_NO;
        if ((cn = calloc(1, sizeof(*cn))) == NULL)
            return MHD_NO;
        *con_cls = cn;
        if (post) {
            cn->pp = MHD_create_post_processor(c, 8192, node_desk_post_it, cn);
            if (cn->pp == NULL)
                cn->too_big = true; /* not a form: refused below */
        }
        return MHD_YES;
    }
    if (post && *upload_size > 0) {
        cn->posted += *upload_size;
        if (cn->posted > EWH_DESK_MAX_POST_BYTES)
            cn->too_big = true;
        else if (cn->pp != NULL &&
                 MHD_post_process(cn->pp, upload, *upload_size) != MHD_YES)
            cn->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&r, 0, sizeof(r));
    r.c = c;
    r.cn = cn;
    r.url = url;
    r.method = method;
    r.post = post;
    node_buf_init(&r.out);
    r.token =
        MHD_lookup_connection_value(c, MHD_COOKIE_KIND, node_desk_g.cookie);
    if (r.token != NULL && node_users_session(node_desk_g.u, r.token, ewh_now(),
                                              &node_desk_g.c->policy,
                                              strncmp(url, "/live/", 6) != 0 &&
                                                  strcmp(url, "/events") != 0,
                                              &r.s, &err) == 0)
        r.signed_in = true;
    if (strlen(url) > 256)
        rc = node_desk_text(&r, MHD_HTTP_URI_TOO_LONG, "URL too long");
    else if (post && cn->too_big)
        rc = node_desk_text(&r, MHD_HTTP_CONTENT_TOO_LARGE,
                            "request refused: not a form, or larger than the "
                            "desk's limits");
    else
        rc = s_route(&r);
    node_buf_free(&r.out);
    sodium_memzero(&r.s, sizeof(r.s));
    return rc;
}

static void
s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
            enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    node_desk_conn_free(*con_cls);
    *con_cls = NULL;
}

static int
s_read_pem(const char *path, bool secret, char **out, struct ewh_err *err)
{
    struct stat st;
    size_t len = 0;

    if (stat(path, &st) != 0)
        return ewh_err_set(err, EWH_E_IO, "%s: %s", path, strerror(errno));
    if (secret && (st.st_mode & 0077) != 0)
        return ewh_err_set(err, EWH_E_PERM,
                           "%s has mode %03o: others may read the TLS key "
                           "(chmod 600 %s)",
                           path, (unsigned)(st.st_mode & 0777), path);
    return node_cmd_read_file(path, EWH_DESK_MAX_CERT_BYTES, out, &len, err);
}

int
node_desk_http_run(struct node_dir *d, const struct node_desk_config *c, int fd)
{
    struct ewh_err err = {0};
    struct ewh_addr la;
    struct MHD_Daemon *daemon;
    const union MHD_DaemonInfo *info;
    char hostport[EWH_MAX_ADDR_HOST_BYTES + 8],
        *cert = NULL, *key = NULL, url[EWH_MAX_ADDR_HOST_BYTES + 24], f[1100];
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    sigset_t set;
    FILE *uf;
    int sig;

    memset(&node_desk_g, 0, sizeof(node_desk_g));
    node_desk_g.d = d;
    node_desk_g.c = c;
    node_desk_g.priv_fd = fd;
    pthread_mutex_init(&node_desk_g.store_lock, NULL);
    pthread_mutex_init(&node_desk_g.priv_lock, NULL);
    pthread_mutex_init(&node_desk_g.login_lock, NULL);
    pthread_mutex_init(&node_desk_g.sent_lock, NULL);
    if ((node_desk_g.u = node_users_open(d->path, false, &err)) == NULL) {
        ewh_log_err("desk: %s", err.reason);
        return 1;
    }
    if (ewh_addr_parse("desk: listen", c->listen, &la, &err) != 0) {
        ewh_log_err("%s", err.reason);
        return 1;
    }
    if (la.v6)
        flags |= MHD_USE_IPv6;
    if (c->tls_cert[0]) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            ewh_log_err("desk: this libmicrohttpd has no TLS support");
            return 1;
        }
        if (s_read_pem(c->tls_cert, false, &cert, &err) != 0 ||
            s_read_pem(c->tls_key, true, &key, &err) != 0) {
            ewh_log_err("desk: %s", err.reason);
            return 1;
        }
        flags |= MHD_USE_TLS;
        node_desk_g.tls = true;
    }
    node_desk_g.cookie = node_desk_g.tls ? "__Host-ewh_session" : "ewh_session";
    /* desk.url is opened now: after confinement no file can be made. */
    node_dir_file(d, "desk.url", f, sizeof(f));
    if ((uf = fopen(f, "w")) == NULL) {
        ewh_log_err("desk: %s: %s", f, strerror(errno));
        return 1;
    }
    {
        /* Touch both databases so that their -wal and -shm files exist
         * when the rules are made. */
        int64_t v = 0;
        pthread_mutex_lock(&node_desk_g.store_lock);
        if (node_store_data_version(d->store, &v, &err) != 0)
            ewh_log_warnx("desk: %s", err.reason);
        pthread_mutex_unlock(&node_desk_g.store_lock);
        if (node_users_data_version(node_desk_g.u, &v, &err) != 0)
            ewh_log_warnx("desk: %s", err.reason);
    }
    switch (node_desk_confine(d->path, &err)) {
    case -1:
        ewh_log_err("desk: cannot confine the http part: %s", err.reason);
        fclose(uf);
        return 1;
    case 0:
        ewh_log_warnx("desk: no Landlock in this kernel: the http part is "
                      "not confined to its files");
        break;
    default:
        ewh_log_info("desk: http part confined by Landlock: node.key out of "
                     "reach");
    }
    /* Signals go to this thread alone (sigwait below). */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (node_desk_g.tls)
        daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, &la.ss,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)EWH_DESK_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, 120u,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
            MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
            MHD_OPTION_END);
    else
        daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, &la.ss,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)EWH_DESK_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, 120u,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    if (key != NULL) {
        sodium_memzero(key, strlen(key));
        free(key);
    }
    free(cert);
    if (daemon == NULL) {
        ewh_log_err("desk: cannot listen on %s", c->listen);
        fclose(uf);
        return 1;
    }
    info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    ewh_addr_format(&la, info ? info->port : la.port, hostport,
                    sizeof(hostport));
    snprintf(url, sizeof(url), "%s://%s/", node_desk_g.tls ? "https" : "http",
             hostport);
    fprintf(uf, "%s\n", url);
    fclose(uf);
    ewh_log_info("desk: listening on %s", url);
    while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
        ;
    atomic_store(&node_desk_g.stopping, true);
    MHD_stop_daemon(daemon);
    node_users_close(&node_desk_g.u);
    return 0;
}
