/* desk_request.c — per-request state (the POST fields), responses (headers,
 * redirects), the audit log and the request to the privileged part. */
#include "desk_int.h"

/* ---- per-request state ---------------------------------------------- */

enum MHD_Result
node_desk_post_it(void *cls, enum MHD_ValueKind kind, const char *key,
                  const char *filename, const char *content_type,
                  const char *transfer_encoding, const char *data, uint64_t off,
                  size_t size)
{
    struct node_desk_conn *cn = cls;
    struct node_desk_field *f;

    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    if (strlen(key) >= sizeof(cn->f[0].name)) {
        cn->too_big = true;
        return MHD_NO;
    }
    if (off > 0 && cn->n > 0 && strcmp(cn->f[cn->n - 1].name, key) == 0)
        f = &cn->f[cn->n - 1];
    else {
        if (cn->n == NODE_DESK_MAX_FIELDS) {
            cn->too_big = true;
            return MHD_NO;
        }
        f = &cn->f[cn->n++];
        snprintf(f->name, sizeof(f->name), "%s", key);
        node_buf_init(&f->val);
        node_buf_add(&f->val, "", 0);
    }
    node_buf_add(&f->val, data, size);
    return f->val.oom ? MHD_NO : MHD_YES;
}

/* The first value of a posted field (NUL-terminated), or NULL. */
const char *
node_desk_form(const struct node_desk_req *r, const char *name)
{
    size_t i;

    if (r->cn == NULL)
        return NULL;
    for (i = 0; i < r->cn->n; i++)
        if (strcmp(r->cn->f[i].name, name) == 0)
            return r->cn->f[i].val.p ? r->cn->f[i].val.p : "";
    return NULL;
}

const char *
node_desk_arg(const struct node_desk_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

void
node_desk_conn_free(struct node_desk_conn *cn)
{
    size_t i;

    if (cn == NULL)
        return;
    if (cn->pp != NULL)
        MHD_destroy_post_processor(cn->pp);
    for (i = 0; i < cn->n; i++)
        node_buf_free(&cn->f[i].val);
    free(cn);
}

/* ---- responses ------------------------------------------------------ */

enum MHD_Result
node_desk_respond(struct node_desk_req *r)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    if (r->out.oom) {
        node_buf_free(&r->out);
        r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        r->ctype = "text/plain; charset=utf-8";
        node_buf_add(&r->out, "out of memory\n", 14);
    }
    resp = MHD_create_response_from_buffer(r->out.len, r->out.p ? r->out.p : "",
                                           MHD_RESPMEM_MUST_COPY);
    node_buf_free(&r->out);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            r->ctype ? r->ctype : "text/html; charset=utf-8");
    MHD_add_response_header(
        resp, "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self'; media-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* same-origin, not no-referrer: with no-referrer Chromium sends
     * "Origin: null" on form posts, and node_desk_origin_ok() needs the origin.
     */
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control",
                            r->cacheable ? "private, max-age=3600"
                                         : "no-store");
    if (node_desk_g.tls)
        MHD_add_response_header(resp, "Strict-Transport-Security",
                                "max-age=31536000");
    if (r->location[0])
        MHD_add_response_header(resp, "Location", r->location);
    if (r->cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", r->cookie);
    if (r->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    rc = MHD_queue_response(r->c, r->status ? r->status : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result
node_desk_redirect(struct node_desk_req *r, const char *to)
{
    r->status = MHD_HTTP_SEE_OTHER;
    snprintf(r->location, sizeof(r->location), "%s", to);
    node_buf_free(&r->out);
    return node_desk_respond(r);
}

enum MHD_Result
node_desk_text(struct node_desk_req *r, unsigned status, const char *msg)
{
    r->status = status;
    r->ctype = "text/plain; charset=utf-8";
    node_buf_free(&r->out);
    node_buf_add(&r->out, msg, strlen(msg));
    node_buf_add(&r->out, "\n", 1);
    return node_desk_respond(r);
}

void
node_desk_audit(const char *who, const char *action, const char *id,
                const char *detail)
{
    struct ewh_err err = {0};

    if (node_users_audit(node_desk_g.u, ewh_now(), who, action, id, detail,
                         &err) != 0)
        ewh_log_warnx("desk: audit: %s", err.reason);
}

/* Ask the privileged part; NULL when it cannot be reached. */
json_t *
node_desk_priv(json_t *req, struct ewh_err *err)
{
    json_t *rep = NULL;

    pthread_mutex_lock(&node_desk_g.priv_lock);
    if (node_desk_send(node_desk_g.priv_fd, req, err) == 0)
        rep = node_desk_recv(node_desk_g.priv_fd, err);
    pthread_mutex_unlock(&node_desk_g.priv_lock);
    return rep;
}
