/* desk_report.c — one report: its page, its JSON and CAP downloads, and the
 * acknowledge button. */
#include "desk_int.h"

/* ---- one report ----------------------------------------------------- */

int
node_desk_report_load(struct node_desk_req *r, const char *hex,
                      struct node_msg *m, enum MHD_Result *res)
{
    struct ewh_err err = {0};
    int rc;

    memset(m, 0, sizeof(*m));
    pthread_mutex_lock(&node_desk_g.store_lock);
    rc = node_store_msg_get(node_desk_g.d->store, hex, m, &err);
    pthread_mutex_unlock(&node_desk_g.store_lock);
    if (rc != 0) {
        *res =
            err.code == EWH_E_NOTFOUND
                ? node_desk_error_page(r, MHD_HTTP_NOT_FOUND, "No such report.")
                : node_desk_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err.reason);
        return -1;
    }
    /* A received report is for liaison officers, a sent one for
     * analysts. */
    if (!node_desk_has(r,
                       m->outgoing ? NODE_ROLE_ANALYST : NODE_ROLE_LIAISON)) {
        node_msg_clear(m);
        *res = node_desk_error_page(r, MHD_HTTP_FORBIDDEN,
                                    "Your roles do not allow this report.");
        return -1;
    }
    return 0;
}

/* ---- a submit's notes, shown once on its report's page ------------ */

static void
s_sent_key(const char *token, unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES,
                       (const unsigned char *)token, strlen(token), NULL, 0);
}

void
node_desk_sent_put(const char *token, const char *id, const char *notes)
{
    struct node_desk_sent *e;

    if (token == NULL || notes == NULL || notes[0] == '\0')
        return;
    pthread_mutex_lock(&node_desk_g.sent_lock);
    e = &node_desk_g.sent[node_desk_g.sent_next];
    node_desk_g.sent_next = (node_desk_g.sent_next + 1) % EWH_DESK_SENT_NOTES;
    e->used = true;
    s_sent_key(token, e->tok);
    snprintf(e->id, sizeof(e->id), "%.*s", (int)sizeof(e->id) - 1, id);
    snprintf(e->notes, sizeof(e->notes), "%s", notes);
    pthread_mutex_unlock(&node_desk_g.sent_lock);
}

/* The notes for report id sent in this session, as HTML onto b, and
 * forgotten. */
static void
s_sent_take(const struct node_desk_req *r, const char *id, struct node_buf *b)
{
    unsigned char k[crypto_generichash_BYTES];
    struct node_buf items;
    char notes[sizeof(node_desk_g.sent[0].notes)] = "";
    char *line, *nl;
    size_t i;

    if (!r->signed_in || r->token == NULL)
        return;
    s_sent_key(r->token, k);
    pthread_mutex_lock(&node_desk_g.sent_lock);
    for (i = 0; i < EWH_DESK_SENT_NOTES; i++) {
        struct node_desk_sent *e = &node_desk_g.sent[i];
        if (e->used && strcmp(e->id, id) == 0 &&
            sodium_memcmp(e->tok, k, sizeof(k)) == 0) {
            memcpy(notes, e->notes, sizeof(notes));
            sodium_memzero(e, sizeof(*e));
            break;
        }
    }
    pthread_mutex_unlock(&node_desk_g.sent_lock);
    if (notes[0] == '\0')
        return;
    node_buf_init(&items);
    for (line = notes; *line != '\0'; line = nl + 1) {
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = '\0';
        if (*line != '\0')
            node_html(&items, "<li{s}>{s}</li>",
                      strncmp(line, "warning:", 8) == 0 ? " class=error" : "",
                      line);
        if (nl == NULL)
            break;
    }
    node_html(b,
              "<div class=notice id=notes><p>Sealed and queued. Notes on "
              "this report:</p><ul>{h}</ul></div>",
              &items);
    node_buf_free(&items);
}

enum MHD_Result
node_desk_report_page(struct node_desk_req *r, const char *hex)
{
    struct node_msg m;
    struct node_buf b, refs, acts, st, notes;
    char addr[EWH_MAX_RECIPIENTS * 4 + 8];
    enum MHD_Result res;
    size_t i;

    if (node_desk_report_load(r, hex, &m, &res) != 0)
        return res;
    node_desk_audit(r->s.name, "read", m.id, m.outgoing ? "outbox" : "inbox");
    {
        size_t off =
            (size_t)snprintf(addr, sizeof(addr), "%s", m.to_all ? "all: " : "");
        for (i = 0; i < m.n_recipients && off < sizeof(addr); i++)
            off += (size_t)snprintf(addr + off, sizeof(addr) - off, "%s%s",
                                    i ? ", " : "", m.recipients[i]);
    }
    node_buf_init(&b);
    node_buf_init(&refs);
    node_buf_init(&acts);
    node_buf_init(&st);
    node_buf_init(&notes);
    if (m.outgoing)
        s_sent_take(r, m.id, &notes);
    for (i = 0; i < m.n_refs; i++)
        node_html(&refs, "<li><a href=\"/report/{s}\">{s}</a></li>", m.refs[i],
                  m.refs[i]);
    if (m.superseded_by[0])
        node_html(&refs, "<li>{s} by <a href=\"/report/{s}\">{s}</a></li>",
                  m.superseded_type == EWH_TYPE_CANCEL ? "cancelled"
                                                       : "updated",
                  m.superseded_by, m.superseded_by);
    if (!m.outgoing) {
        if (m.acked_at > 0)
            node_html(&st,
                      "<span id=ack-state class=ok>acknowledged by {s} at "
                      "{t}</span>",
                      m.acked_by, (long long)m.acked_at);
        else
            node_html(&st, "<strong id=ack-state>not acknowledged</strong>");
        if (m.acked_at == 0 && node_desk_has(r, NODE_ROLE_LIAISON))
            node_html(&acts,
                      "<form method=post action=\"/report/{s}/ack\">"
                      "<input type=hidden name=csrf value=\"{s}\">"
                      "<button class=ack id=ack>Acknowledge</button></form>",
                      m.id, r->s.csrf);
        node_html(&acts,
                  "<p><a href=\"/report/{s}.json\" download>JSON</a> \xc2\xb7 "
                  "<a href=\"/report/{s}.cap\" download>CAP 1.2</a>{s}{s}{s}"
                  "</p>",
                  m.id, m.id, m.acked_at ? " \xc2\xb7 <a href=\"/report/" : "",
                  m.acked_at ? m.id : "",
                  m.acked_at ? ".ack.cap\" download>CAP Ack</a>" : "");
    } else {
        node_html(&st, "hub: {s}{s}{s}<ul id=rcpts>", m.state,
                  m.reason[0] ? ": " : "", m.reason);
        node_desk_rcpt_html(&st, &m, ewh_now());
        node_html(&st, "</ul>");
        if (node_desk_has(r, NODE_ROLE_ANALYST) && m.type != EWH_TYPE_CANCEL)
            node_html(&acts,
                      "<p><a href=\"/submit?updates={s}\">Update</a> \xc2\xb7 "
                      "<a href=\"/submit?cancels={s}\">Cancel</a></p>",
                      m.id, m.id);
        node_html(&acts,
                  "<p><a href=\"/report/{s}.json\" download>JSON</a> \xc2\xb7 "
                  "<a href=\"/report/{s}.cap\" download>CAP 1.2</a></p>",
                  m.id, m.id);
    }
    node_html(&b,
              "<div id=report{s}>{h}<dl>"
              "<dt>id</dt><dd id=rid>{s}</dd>"
              "<dt>level</dt><dd class=\"lvl-{s}\" id=level>{s}</dd>"
              "<dt>type</dt><dd>{s}</dd>"
              "<dt>origin</dt><dd>{s}</dd><dt>author</dt><dd>{s}</dd>"
              "<dt>category</dt><dd>{s}</dd><dt>TLP</dt><dd>{s}</dd>"
              "<dt>urgency</dt><dd>{s}</dd><dt>certainty</dt><dd>{s}</dd>"
              "<dt>created</dt><dd>{t}</dd><dt>expires</dt><dd>{t}</dd>"
              "<dt>{s}</dt><dd>{t}</dd>"
              "<dt>addressees</dt><dd>{s}</dd>"
              "<dt>state</dt><dd>{h}</dd>"
              "<dt>chain</dt><dd><ul>{h}</ul></dd></dl>"
              "<pre class=body id=body>{s}</pre>{h}"
              "</div>",
              m.outgoing ? "" : " data-live-none", &notes, m.id,
              ewh_level_name(m.level), ewh_level_name(m.level),
              ewh_type_name(m.type), m.origin, m.author, m.category,
              ewh_tlp_name(m.tlp), m.urgency, m.certainty,
              (long long)m.created_at, (long long)m.expires_at,
              m.outgoing ? "queued" : "received", (long long)m.received_at,
              addr, &st, &refs, m.body ? m.body : "", &acts);
    node_desk_page(r, m.title, &b);
    node_buf_free(&b);
    node_buf_free(&refs);
    node_buf_free(&acts);
    node_buf_free(&st);
    node_buf_free(&notes);
    node_msg_clear(&m);
    return node_desk_respond(r);
}

enum MHD_Result
node_desk_report_download(struct node_desk_req *r, const char *hex,
                          const char *kind)
{
    struct node_msg m;
    struct ewh_err err = {0};
    enum MHD_Result res;
    char *out = NULL;
    size_t len = 0;
    int rc = 0;

    if (node_desk_report_load(r, hex, &m, &res) != 0)
        return res;
    if (strcmp(kind, "json") == 0) {
        json_t *j = node_render_json(&m, true);
        out = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        if (out == NULL)
            rc = ewh_err_set(&err, EWH_E_NOMEM, "out of memory");
        else
            len = strlen(out);
        r->ctype = "application/json";
    } else if (strcmp(kind, "cap") == 0) {
        pthread_mutex_lock(&node_desk_g.store_lock);
        rc = node_cap_write(&m, node_desk_g.d->store, &out, &len, &err);
        pthread_mutex_unlock(&node_desk_g.store_lock);
        r->ctype = "application/cap+xml";
    } else {
        if (m.outgoing || m.acked_at == 0)
            rc = ewh_err_set(&err, EWH_E_NOTFOUND, "not acknowledged");
        else
            rc = node_cap_write_ack(&m, node_desk_g.d->cfg.country, &out, &len,
                                    &err);
        r->ctype = "application/cap+xml";
    }
    if (rc != 0) {
        node_msg_clear(&m);
        return node_desk_text(r,
                              err.code == EWH_E_NOTFOUND
                                  ? MHD_HTTP_NOT_FOUND
                                  : MHD_HTTP_INTERNAL_SERVER_ERROR,
                              err.reason);
    }
    node_desk_audit(r->s.name, "export", m.id, kind);
    snprintf(r->disposition, sizeof(r->disposition),
             "attachment; filename=\"%s%s.%s\"", m.id,
             strcmp(kind, "ack.cap") == 0 ? "-ack" : "",
             strcmp(kind, "json") == 0 ? "json" : "xml");
    node_buf_add(&r->out, out, len);
    sodium_memzero(out, len);
    free(out);
    node_msg_clear(&m);
    return node_desk_respond(r);
}

enum MHD_Result
node_desk_report_ack(struct node_desk_req *r, const char *hex)
{
    struct ewh_err err = {0};
    json_t *req, *rep;
    char to[64];
    enum MHD_Result res;

    if (!r->post)
        return node_desk_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    NEED(r, NODE_ROLE_LIAISON, true);
    if (!node_desk_csrf_ok(r))
        return node_desk_error_page(
            r, MHD_HTTP_FORBIDDEN,
            "Refused: the form's CSRF token is missing or "
            "wrong. Reload the page and try again.");
    req =
        json_pack("{s:s, s:s, s:s}", "op", "ack", "token", r->token, "id", hex);
    rep = req ? node_desk_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return node_desk_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    err.reason);
    if (!json_is_true(json_object_get(rep, "ok"))) {
        int code = (int)json_integer_value(json_object_get(rep, "code"));
        res = node_desk_error_page(
            r,
            code == EWH_E_FORBIDDEN || code == EWH_E_AUTH ? MHD_HTTP_FORBIDDEN
                                                          : 422,
            json_string_value(json_object_get(rep, "reason")));
        json_decref(rep);
        return res;
    }
    json_decref(rep);
    snprintf(to, sizeof(to), "/report/%s", hex);
    return node_desk_redirect(r, to);
}
