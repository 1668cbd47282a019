/* desk.c — the desk's HTTP part (desk.h): pages, sign-in, live updates.
 *
 * libmicrohttpd, one thread per connection (live-update streams block in
 * their callback).  The store connection (d->store) is not thread-safe
 * and is used under s_desk.store_lock; desk.db is opened serialized
 * (SQLITE_OPEN_FULLMUTEX) and used from any thread.  Every byte of HTML
 * is made by node_html() (html.h), which escapes every value. */
#include "desk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "action.h"
#include "cap.h"
#include "cmd.h"
#include "ewh/addr.h"
#include "ewh/catalogue.h"
#include "exchange.h"
#include "ewh/log.h"
#include "html.h"
#include "render.h"
#include "trust.h"

#define S_MAX_FIELDS  64
#define S_SSE_BEAT_MS 2000

struct s_desk {
    struct node_dir *d;
    const struct node_desk_config *c;
    node_users_t *u;
    pthread_mutex_t store_lock;
    pthread_mutex_t priv_lock;
    pthread_mutex_t login_lock; /* one Argon2id at a time (64 MiB each) */
    int priv_fd;
    bool tls;
    atomic_uint streams;
    atomic_bool stopping;
    const char *cookie; /* the session cookie's name */
    /* A submit's notes until its report's page shows them (once), keyed
     * by a hash of the session token and the report id. */
    pthread_mutex_t sent_lock;
    struct s_sent {
        bool used;
        unsigned char tok[crypto_generichash_BYTES];
        char id[EWH_ID_HEX];
        char notes[sizeof(((struct node_action_notes *)0)->text)];
    } sent[EWH_DESK_SENT_NOTES];
    size_t sent_next;
};

static struct s_desk s_g;

static bool s_is_hex_id(const char *s, size_t len);

/* ---- per-request state ---------------------------------------------- */

struct s_field {
    char name[24];
    struct node_buf val;
};

struct s_conn {
    struct MHD_PostProcessor *pp;
    size_t posted;
    bool too_big;
    struct s_field f[S_MAX_FIELDS];
    size_t n;
};

struct s_req {
    struct MHD_Connection *c;
    struct s_conn *cn;
    const char *url, *method;
    bool post;
    bool signed_in;
    struct node_session s;
    const char *token;
    /* response */
    unsigned status;
    struct node_buf out;
    const char *ctype;
    bool cacheable;
    char location[300];
    char cookie[200];
    char disposition[120];
};

static enum MHD_Result
s_post_it(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *filename, const char *content_type,
          const char *transfer_encoding, const char *data, uint64_t off,
          size_t size)
{
    struct s_conn *cn = cls;
    struct s_field *f;

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
        if (cn->n == S_MAX_FIELDS) {
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
static const char *
s_form(const struct s_req *r, const char *name)
{
    size_t i;

    if (r->cn == NULL)
        return NULL;
    for (i = 0; i < r->cn->n; i++)
        if (strcmp(r->cn->f[i].name, name) == 0)
            return r->cn->f[i].val.p ? r->cn->f[i].val.p : "";
    return NULL;
}

static const char *
s_arg(const struct s_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

static void
s_conn_free(struct s_conn *cn)
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

static enum MHD_Result
s_send(struct s_req *r)
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
     * "Origin: null" on form posts, and s_origin_ok() needs the origin. */
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control",
                            r->cacheable ? "private, max-age=3600"
                                         : "no-store");
    if (s_g.tls)
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

static enum MHD_Result
s_redirect(struct s_req *r, const char *to)
{
    r->status = MHD_HTTP_SEE_OTHER;
    snprintf(r->location, sizeof(r->location), "%s", to);
    node_buf_free(&r->out);
    return s_send(r);
}

static enum MHD_Result
s_text(struct s_req *r, unsigned status, const char *msg)
{
    r->status = status;
    r->ctype = "text/plain; charset=utf-8";
    node_buf_free(&r->out);
    node_buf_add(&r->out, msg, strlen(msg));
    node_buf_add(&r->out, "\n", 1);
    return s_send(r);
}

static void
s_audit(const char *who, const char *action, const char *id, const char *detail)
{
    struct ewh_err err = {0};

    if (node_users_audit(s_g.u, ewh_now(), who, action, id, detail, &err) != 0)
        ewh_log_warnx("desk: audit: %s", err.reason);
}

/* ---- layout --------------------------------------------------------- */

static bool
s_has(const struct s_req *r, unsigned role)
{
    return r->signed_in && (r->s.roles & role) != 0;
}

/* The banner: unacknowledged high reports (and medium when escalation
 * covers medium), escalated ones louder. */
struct s_alerts {
    struct node_buf items;
    size_t n;
    int max_step;
    struct ewh_err err; /* desk.db's, from the row callback */
};

static int
s_alert_one(void *ctx, const struct node_msg *m)
{
    struct s_alerts *a = ctx;
    int step;

    if (m->superseded_by[0] && m->superseded_type == EWH_TYPE_CANCEL)
        return 0;
    if (node_users_escalation_step(s_g.u, m->id, &step, &a->err) != 0)
        return -1;
    if (step > a->max_step)
        a->max_step = step;
    a->n++;
    node_html(&a->items,
              "<li><strong>{s}</strong> from {s}: <a href=\"/report/{s}\">"
              "{s}</a> (received {t}){s}</li>",
              ewh_level_name(m->level), m->origin, m->id, m->title,
              (long long)m->received_at,
              step >= 2   ? " \xe2\x80\x94 ESCALATED (step 2)"
              : step == 1 ? " \xe2\x80\x94 escalated"
                          : "");
    return 0;
}

static void
s_alerts_html(struct node_buf *b)
{
    struct node_filter f = {0};
    struct s_alerts a = {0};
    struct ewh_err err = {0};
    int rc;

    f.levels = (1u << EWH_LEVEL_HIGH) |
               (s_g.c->escalate_levels & (1u << EWH_LEVEL_MEDIUM));
    f.unacked = true;
    f.level_newest = true;
    f.limit = EWH_DESK_MAX_ALERTS;
    node_buf_init(&a.items);
    pthread_mutex_lock(&s_g.store_lock);
    rc = node_store_msg_list(s_g.d->store, &f, s_alert_one, &a, &err);
    pthread_mutex_unlock(&s_g.store_lock);
    if (rc != 0)
        node_html(b, "<p class=error>{s}</p>",
                  a.err.reason[0] ? a.err.reason : err.reason);
    else if (a.n > 0)
        node_html(b,
                  "<div class=\"banner{s}\" data-alert=\"1\" role=alert>"
                  "{s}UNACKNOWLEDGED ALERT{s} \xe2\x80\x94 acknowledge to "
                  "silence<ul>{h}</ul></div>",
                  a.max_step > 0 ? " escalated" : "",
                  a.max_step > 0 ? "ESCALATED: " : "", a.n > 1 ? "S" : "",
                  &a.items);
    node_buf_free(&a.items);
}

/* For analysts: their reports at a watched level that an addressee has
 * had longer than escalate_after without acknowledging ("not
 * acknowledged at HR after 15 min"), among the newest sent ones. */
struct s_late {
    struct node_buf items;
    size_t n;
    int64_t now;
};

static int
s_late_one(void *ctx, const struct node_msg *m)
{
    struct s_late *l = ctx;
    size_t i;

    if ((s_g.c->escalate_levels & (1u << m->level)) == 0 ||
        (m->expires_at > 0 && l->now > m->expires_at) ||
        m->type == EWH_TYPE_CANCEL)
        return 0;
    for (i = 0; i < m->n_rcpt; i++) {
        const struct node_rcpt *rc = &m->rcpt[i];
        int64_t late = l->now - rc->at;
        if (rc->state != NODE_R_DELIVERED ||
            late < s_g.c->escalate_after_s[0] || l->n == EWH_DESK_MAX_ALERTS)
            continue;
        l->n++;
        node_html(&l->items,
                  "<li><a href=\"/report/{s}\">{s}</a>: not acknowledged "
                  "at {s} after {d} {s}</li>",
                  m->id, m->title, rc->cc,
                  (long long)(late >= 60 ? late / 60 : late),
                  late >= 60 ? "min" : "s");
    }
    return 0;
}

static void
s_late_html(struct node_buf *b)
{
    struct node_filter f = {0};
    struct s_late l = {0};
    struct ewh_err err = {0};
    int rc;

    f.outgoing = true;
    f.limit = 200;
    l.now = ewh_now();
    node_buf_init(&l.items);
    pthread_mutex_lock(&s_g.store_lock);
    rc = node_store_msg_list(s_g.d->store, &f, s_late_one, &l, &err);
    pthread_mutex_unlock(&s_g.store_lock);
    if (rc < 0)
        node_html(b, "<p class=error>{s}</p>", err.reason);
    else if (l.n > 0)
        node_html(b,
                  "<div class=notice id=late>Sent reports still "
                  "unacknowledged:<ul>{h}</ul></div>",
                  &l.items);
    node_buf_free(&l.items);
}

/* The annual exchange's reminder (exchange.h: the same text `watch` and
 * `ewnode exchange remind` print), for those who act on it. */
static void
s_remind_html(struct node_buf *b)
{
    char *txt = NULL;
    size_t len = 0, n;
    FILE *f = open_memstream(&txt, &len);

    if (f == NULL)
        return;
    pthread_mutex_lock(&s_g.store_lock);
    n = node_exchange_remind(s_g.d, ewh_now(), f);
    pthread_mutex_unlock(&s_g.store_lock);
    if (fclose(f) == 0 && n > 0 && txt != NULL) {
        while (len > 0 && txt[len - 1] == '\n')
            txt[--len] = '\0';
        node_html(b, "<div class=notice id=exchange-remind>{s}</div>", txt);
    }
    free(txt);
}

static void
s_page(struct s_req *r, const char *title, const struct node_buf *body)
{
    struct node_buf nav, alerts, who;
    char roles[48];

    node_buf_init(&nav);
    node_buf_init(&alerts);
    node_buf_init(&who);
    if (s_has(r, NODE_ROLE_LIAISON))
        node_html(&nav, "<a href=\"/inbox\">Inbox</a>");
    if (s_has(r, NODE_ROLE_ANALYST))
        node_html(&nav, "<a href=\"/submit\">New report</a>"
                        "<a href=\"/outbox\">Outbox</a>");
    if (r->signed_in)
        node_html(&nav, "<a href=\"/peers\">Peers</a>");
    if (s_has(r, NODE_ROLE_ADMIN))
        node_html(&nav, "<a href=\"/admin\">Accounts &amp; audit</a>"
                        "<a href=\"/settings\">Settings</a>");
    if (r->signed_in) {
        node_roles_format(r->s.roles, roles, sizeof(roles));
        node_html(&who,
                  "<span class=who>signed in as <strong id=me>{s}</strong> "
                  "({s}) <form method=post action=\"/logout\"><input "
                  "type=hidden name=csrf value=\"{s}\"><button>Sign "
                  "out</button></form></span>",
                  r->s.name, roles, r->s.csrf);
    }
    if (s_has(r, NODE_ROLE_ANALYST)) {
        struct node_buf inner;
        node_buf_init(&inner);
        s_late_html(&inner);
        node_html(&alerts,
                  "<div id=late-live data-live=\"/live/late\">{h}"
                  "</div>",
                  &inner);
        node_buf_free(&inner);
    }
    if (s_has(r, NODE_ROLE_ANALYST) || s_has(r, NODE_ROLE_ADMIN))
        s_remind_html(&alerts);
    if (s_has(r, NODE_ROLE_LIAISON)) {
        struct node_buf inner;
        node_buf_init(&inner);
        s_alerts_html(&inner);
        node_html(&alerts,
                  "<div id=alerts data-live=\"/live/alerts\">{h}</div>",
                  &inner);
        node_buf_free(&inner);
    }
    node_html(&r->out,
              "<!doctype html><html lang=en><head><meta charset=utf-8>"
              "<meta name=viewport content=\"width=device-width\">"
              "<title>{s} \xe2\x80\x94 ewhub desk {s}</title>"
              "<link rel=stylesheet href=\"/static/desk.css\">"
              "<script src=\"/static/desk.js\" defer></script></head><body>"
              "<header><strong>ewhub desk {s}</strong>{h}{h}</header><main>"
              "{h}<p id=sound class=sound hidden>The browser blocked the "
              "alert sound: click anywhere on the page to allow it.</p>"
              "<h1>{s}</h1>{h}</main></body></html>",
              title, s_g.d->cfg.country, s_g.d->cfg.country, &nav, &who,
              &alerts, title, body);
    node_buf_free(&nav);
    node_buf_free(&alerts);
    node_buf_free(&who);
}

static enum MHD_Result
s_error_page(struct s_req *r, unsigned status, const char *msg)
{
    struct node_buf b;

    node_buf_init(&b);
    node_html(&b, "<p class=error id=refused>{s}</p>", msg);
    r->status = status;
    s_page(r, "Refused", &b);
    node_buf_free(&b);
    return s_send(r);
}

/* No session: HTML pages go to the sign-in page, everything else gets
 * 401 and no content. */
static enum MHD_Result
s_need(struct s_req *r, unsigned role, bool page)
{
    if (!r->signed_in)
        return page ? s_redirect(r, "/login")
                    : s_text(r, MHD_HTTP_UNAUTHORIZED, "sign in first");
    if ((r->s.roles & role) == 0)
        return page ? s_error_page(r, MHD_HTTP_FORBIDDEN,
                                   "Your roles do not allow this page.")
                    : s_text(r, MHD_HTTP_FORBIDDEN, "roles do not allow this");
    return MHD_YES;
}
#define NEED(r, role, page)                                                    \
    do {                                                                       \
        if (!(r)->signed_in || ((r)->s.roles & (role)) == 0)                   \
            return s_need((r), (role), (page));                                \
    } while (0)

/* Every change carries the session's CSRF token. */
static bool
s_csrf_ok(const struct s_req *r)
{
    const char *t = s_form(r, "csrf");

    return r->signed_in && t != NULL && strlen(t) == strlen(r->s.csrf) &&
           sodium_memcmp(t, r->s.csrf, strlen(t)) == 0;
}

/* ---- sign-in -------------------------------------------------------- */

static void
s_login_form(struct s_req *r, const char *msg)
{
    struct node_buf b;

    node_buf_init(&b);
    node_html(&b,
              "{h}<form class=stack method=post action=\"/login\">"
              "<label for=name>Name</label><input type=text id=name "
              "name=name maxlength={d} autocomplete=username autofocus>"
              "<label for=password>Password</label><input type=password "
              "id=password name=password maxlength={d} "
              "autocomplete=current-password><p><button "
              "id=signin>Sign in</button></p></form>",
              NULL, (long long)EWH_DESK_MAX_NAME_BYTES,
              (long long)EWH_DESK_MAX_PASSWORD_BYTES);
    if (msg != NULL) {
        struct node_buf m;
        node_buf_init(&m);
        node_html(&m, "<p class=error id=login-error>{s}</p>{h}", msg, &b);
        node_buf_free(&b);
        b = m;
    }
    s_page(r, "Sign in", &b);
    node_buf_free(&b);
}

static enum MHD_Result
s_login(struct s_req *r)
{
    struct node_session s;
    struct ewh_err err = {0};
    const char *name, *pw;
    int rc;

    if (!r->post) {
        if (r->signed_in)
            return s_redirect(r, "/");
        s_login_form(r, NULL);
        return s_send(r);
    }
    name = s_form(r, "name");
    pw = s_form(r, "password");
    if (name == NULL || pw == NULL) {
        r->status = MHD_HTTP_BAD_REQUEST;
        s_login_form(r, "Give a name and a password.");
        return s_send(r);
    }
    /* Password hashing is serialized: each costs EWH_DESK_PWHASH_MEMLIMIT
     * of memory, and many sign-ins at once must not exhaust it. */
    pthread_mutex_lock(&s_g.login_lock);
    rc = node_users_login(s_g.u, name, pw, strlen(pw), ewh_now(),
                          &s_g.c->policy, &s, &err);
    pthread_mutex_unlock(&s_g.login_lock);
    if (rc != 0) {
        ewh_log_info("desk: sign-in refused name=%.32s code=%s", name,
                     ewh_errcode_name(err.code));
        if (node_user_name_is_valid(name))
            s_audit(name,
                    err.code == EWH_E_LOCKED ? "sign-in-locked"
                                             : "sign-in-refused",
                    "", "");
        r->status = err.code == EWH_E_LOCKED ? 423 : MHD_HTTP_UNAUTHORIZED;
        s_login_form(r, err.code == EWH_E_LOCKED || err.code == EWH_E_AUTH
                            ? err.reason
                            : "The sign-in failed.");
        return s_send(r);
    }
    snprintf(r->cookie, sizeof(r->cookie),
             "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", s_g.cookie, s.token,
             s_g.tls ? "; Secure" : "");
    s_audit(s.name, "sign-in", "", "");
    ewh_log_info("desk: sign-in name=%s", s.name);
    sodium_memzero(&s, sizeof(s));
    return s_redirect(r, "/");
}

static enum MHD_Result
s_logout(struct s_req *r)
{
    struct ewh_err err = {0};

    if (!r->post)
        return s_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    if (!s_csrf_ok(r))
        return s_text(r, MHD_HTTP_FORBIDDEN, "refused: bad CSRF token");
    if (node_users_logout(s_g.u, r->token, &err) != 0)
        ewh_log_warnx("desk: %s", err.reason);
    s_audit(r->s.name, "sign-out", "", "");
    snprintf(r->cookie, sizeof(r->cookie),
             "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", s_g.cookie,
             s_g.tls ? "; Secure" : "");
    return s_redirect(r, "/login");
}

/* ---- report lists --------------------------------------------------- */

struct s_list {
    struct node_buf rows;
    size_t n, max;
    bool more;
    bool outbox;
    int64_t now;
};

static const char *
s_level_class(enum ewh_level l)
{
    return ewh_level_name(l);
}

static int
s_inbox_row(void *ctx, const struct node_msg *m)
{
    struct s_list *l = ctx;
    struct node_buf sup, ack;

    if (l->n == l->max) {
        l->more = true;
        return 1;
    }
    l->n++;
    node_buf_init(&sup);
    node_buf_init(&ack);
    if (m->superseded_by[0])
        node_html(&sup,
                  " <em>({s} by <a href=\"/report/{s}\">later "
                  "report</a>)</em>",
                  m->superseded_type == EWH_TYPE_CANCEL ? "cancelled"
                                                        : "updated",
                  m->superseded_by);
    if (m->acked_at > 0)
        node_html(&ack, "acknowledged by {s} at {t}", m->acked_by,
                  (long long)m->acked_at);
    else
        node_html(&ack, "<strong>unacknowledged</strong>");
    node_html(&l->rows,
              "<tr class=\"{s}\" data-id=\"{s}\"><td class=\"lvl-{s}\">{s}"
              "</td><td>{t}</td><td>{s}</td><td>{s}</td><td>{s}</td><td>"
              "<a href=\"/report/{s}\">{s}</a>{h}</td><td>{h}</td></tr>",
              s_level_class(m->level), m->id, s_level_class(m->level),
              ewh_level_name(m->level), (long long)m->received_at, m->origin,
              ewh_type_name(m->type), m->category, m->id, m->title, &sup, &ack);
    node_buf_free(&sup);
    node_buf_free(&ack);
    return 0;
}

/* Parse the inbox filters of the query string (as `ewnode inbox`). */
struct s_query {
    struct node_filter f;
    unsigned page;
    char search[EWH_DESK_MAX_QUERY_BYTES + 1];
    char within[16];
    char qs[900]; /* the filters again, for links */
};

static int
s_query(struct s_req *r, struct s_query *q, bool outgoing, const char **bad)
{
    const char *level = s_arg(r, "level"), *from = s_arg(r, "from"),
               *unacked = s_arg(r, "unacked"), *page = s_arg(r, "page"),
               *search = s_arg(r, "q"), *cat = s_arg(r, "category"),
               *within = s_arg(r, "within");
    struct ewh_err err = {0};
    struct node_buf qs;
    char *end = NULL;
    unsigned long pg = 1;
    int64_t secs = 0;

    memset(q, 0, sizeof(*q));
    q->f.outgoing = outgoing;
    *bad = NULL;
    if ((level && strlen(level) > EWH_DESK_MAX_QUERY_BYTES) ||
        (from && strlen(from) > EWH_DESK_MAX_QUERY_BYTES) ||
        (search && strlen(search) > EWH_DESK_MAX_QUERY_BYTES) ||
        (cat && strlen(cat) > EWH_MAX_CATEGORY_BYTES) ||
        (within && strlen(within) > 8) || (page && strlen(page) > 8)) {
        *bad = "a filter is too long";
        return -1;
    }
    /* As `ewnode inbox --search --category --since`: words in the title
     * or body (the store checks their number and length), one category,
     * a time back from now. */
    if (search != NULL && search[0] != '\0') {
        if (!ewh_text_is_valid(search, strlen(search), false)) {
            *bad = "bad search: not UTF-8 text";
            return -1;
        }
        q->f.search = search;
        snprintf(q->search, sizeof(q->search), "%s", search);
    }
    if (cat != NULL && cat[0] != '\0' && strcmp(cat, "all") != 0) {
        if (strspn(cat, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
            strlen(cat)) {
            *bad = "bad category";
            return -1;
        }
        snprintf(q->f.category, sizeof(q->f.category), "%s", cat);
    }
    if (within != NULL && within[0] != '\0' && strcmp(within, "any") != 0) {
        if (ewh_duration_parse(within, 366LL * 86400, &secs, &err) != 0) {
            *bad = "bad time span (24h, 7d, 30d)";
            return -1;
        }
        q->f.since = ewh_now() - secs;
        snprintf(q->within, sizeof(q->within), "%s", within);
    }
    if (level != NULL && level[0] != '\0' && strcmp(level, "all") != 0 &&
        node_cmd_levels(level, &q->f.levels, &err) != 0) {
        *bad = "bad level: high, medium or low";
        return -1;
    }
    if (from != NULL && from[0] != '\0') {
        if (!ewh_country_is_valid(from)) {
            *bad = "bad country: an ISO 3166-1 alpha-2 code such as RS";
            return -1;
        }
        snprintf(q->f.from, sizeof(q->f.from), "%s", from);
    }
    q->f.unacked = unacked != NULL && strcmp(unacked, "1") == 0;
    if (page != NULL && page[0] != '\0') {
        pg = strtoul(page, &end, 10);
        if (*end != '\0' || pg < 1 || pg > EWH_DESK_MAX_PAGE) {
            *bad = "bad page number";
            return -1;
        }
    }
    q->page = (unsigned)pg;
    node_buf_init(&qs);
    node_html(&qs,
              "level={u}&from={u}&unacked={s}&q={u}&category={u}"
              "&within={u}",
              level && q->f.levels ? level : "", q->f.from,
              q->f.unacked ? "1" : "", q->search, q->f.category, q->within);
    snprintf(q->qs, sizeof(q->qs), "%s", qs.p ? qs.p : "");
    node_buf_free(&qs);
    return 0;
}

static void
s_pager(struct node_buf *b, const char *base, const struct s_query *q,
        bool more)
{
    if (q->page > 1)
        node_html(b, "<a href=\"{s}?{s}&page={d}\">&larr; newer</a> ", base,
                  q->qs, (long long)(q->page - 1));
    node_html(b, "page {d}", (long long)q->page);
    if (more)
        node_html(b,
                  " <a href=\"{s}?{s}&page={d}\" id=older>older "
                  "&rarr;</a>",
                  base, q->qs, (long long)(q->page + 1));
}

static void
s_inbox_head(struct node_buf *b)
{
    node_html(b, "<thead><tr><th>level</th><th>received</th><th>from</th>"
                 "<th>type</th><th>category</th><th>title</th>"
                 "<th>acknowledged</th></tr></thead>");
}

static int
s_inbox_html(struct node_buf *b, const struct s_query *q, struct ewh_err *err)
{
    struct s_list pend = {.max = EWH_DESK_PAGE_ROWS},
                  all = {.max = EWH_DESK_PAGE_ROWS};
    struct node_filter f = q->f;
    struct node_buf pager, head;
    int rc = 0;

    node_buf_init(&head);
    s_inbox_head(&head);
    node_buf_init(&pend.rows);
    node_buf_init(&all.rows);
    node_buf_init(&pager);
    pthread_mutex_lock(&s_g.store_lock);
    if (q->page == 1 && !q->f.unacked) {
        /* High first: what awaits acknowledgement, by level. */
        f.unacked = true;
        f.level_newest = true;
        f.limit = EWH_DESK_PAGE_ROWS + 1;
        rc = node_store_msg_list(s_g.d->store, &f, s_inbox_row, &pend, err);
        rc = rc > 0 ? 0 : rc; /* 1: the row callback stopped at a page */
    }
    f = q->f;
    if (f.unacked)
        f.level_newest = true;
    f.limit = EWH_DESK_PAGE_ROWS + 1;
    f.offset = (size_t)(q->page - 1) * EWH_DESK_PAGE_ROWS;
    if (rc == 0)
        rc = node_store_msg_list(s_g.d->store, &f, s_inbox_row, &all, err);
    rc = rc > 0 ? 0 : rc;
    pthread_mutex_unlock(&s_g.store_lock);
    if (rc == 0) {
        s_pager(&pager, "/inbox", q, all.more);
        if (pend.n > 0)
            node_html(b,
                      "<h2>Awaiting acknowledgement, high first{s}</h2>"
                      "<table id=pending>{h}<tbody>{h}</tbody></table>",
                      pend.more ? " (the first ones)" : "", &head, &pend.rows);
        node_html(b,
                  "<h2>{s}</h2><table id=reports>{h}<tbody>{h}</tbody>"
                  "</table><p class=pager>{h}</p>",
                  q->f.unacked ? "Unacknowledged, high first"
                               : "All received, newest first",
                  &head, &all.rows, &pager);
        if (all.n == 0)
            node_html(b, "<p id=empty>No report matches.</p>");
    }
    node_buf_free(&pend.rows);
    node_buf_free(&all.rows);
    node_buf_free(&pager);
    node_buf_free(&head);
    return rc;
}

static enum MHD_Result
s_inbox(struct s_req *r, bool fragment)
{
    struct s_query q;
    struct ewh_err err = {0};
    struct node_buf b, list;
    const char *bad = NULL, *lv;
    static const char *const levels[] = {"all", "high", "medium", "low"};
    static const char *const withins[] = {"any", "24h", "7d", "30d"};
    size_t i;

    NEED(r, NODE_ROLE_LIAISON, !fragment);
    if (s_query(r, &q, false, &bad) != 0)
        return fragment ? s_text(r, MHD_HTTP_BAD_REQUEST, bad)
                        : s_error_page(r, MHD_HTTP_BAD_REQUEST, bad);
    node_buf_init(&b);
    node_buf_init(&list);
    if (s_inbox_html(&list, &q, &err) != 0) {
        node_buf_free(&list);
        node_buf_free(&b);
        /* the store refuses too many or too long search words */
        if (err.code == EWH_E_TOOBIG || err.code == EWH_E_INVALID)
            return fragment ? s_text(r, MHD_HTTP_BAD_REQUEST, err.reason)
                            : s_error_page(r, MHD_HTTP_BAD_REQUEST, err.reason);
        return s_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err.reason);
    }
    if (fragment) {
        node_buf_free(&b);
        r->out = list;
        return s_send(r);
    }
    lv = s_arg(r, "level");
    node_html(&b, "<form class=filters method=get action=\"/inbox\">"
                  "<label>level <select name=level>");
    for (i = 0; i < 4; i++)
        node_html(&b, "<option{s}>{s}</option>",
                  lv != NULL && strcmp(lv, levels[i]) == 0 ? " selected" : "",
                  levels[i]);
    node_html(&b,
              "</select></label><label>from <input type=text name=from "
              "size=3 maxlength=2 value=\"{s}\"></label>"
              "<label>category <select name=category><option>all</option>",
              q.f.from);
    {
        struct ewh_err rerr = {0};
        ewh_roster_t *ro;
        pthread_mutex_lock(&s_g.store_lock);
        ro = node_dir_roster(s_g.d, &rerr);
        pthread_mutex_unlock(&s_g.store_lock);
        if (ro != NULL && ewh_roster_category_count(ro) > 0)
            for (i = 0; i < ewh_roster_category_count(ro); i++)
                node_html(&b, "<option{s}>{s}</option>",
                          strcmp(q.f.category, ewh_roster_category(ro, i)) == 0
                              ? " selected"
                              : "",
                          ewh_roster_category(ro, i));
        else
            for (i = 0; ewh_default_categories[i] != NULL; i++)
                node_html(&b, "<option{s}>{s}</option>",
                          strcmp(q.f.category, ewh_default_categories[i]) == 0
                              ? " selected"
                              : "",
                          ewh_default_categories[i]);
        ewh_roster_destroy(&ro);
    }
    node_html(&b, "</select></label><label>sent within <select name=within>");
    for (i = 0; i < 4; i++)
        node_html(&b, "<option{s}>{s}</option>",
                  strcmp(q.within[0] ? q.within : "any", withins[i]) == 0
                      ? " selected"
                      : "",
                  withins[i]);
    node_html(&b,
              "</select></label><label>search <input type=search name=q "
              "id=q size=24 maxlength={d} value=\"{s}\"></label><label>"
              "<input type=checkbox name=unacked value=1{s}> unacknowledged "
              "only</label><button>Filter</button></form>"
              "<div id=inbox data-live=\"/live/inbox?{s}&page={d}\">{h}"
              "</div>",
              (long long)EWH_DESK_MAX_QUERY_BYTES, q.search,
              q.f.unacked ? " checked" : "", q.qs, (long long)q.page, &list);
    s_page(r, "Inbox", &b);
    node_buf_free(&b);
    node_buf_free(&list);
    return s_send(r);
}

static enum MHD_Result
s_alerts(struct s_req *r)
{
    NEED(r, NODE_ROLE_LIAISON, false);
    s_alerts_html(&r->out);
    return s_send(r);
}

/* ---- outbox --------------------------------------------------------- */

static void
s_rcpt_html(struct node_buf *b, const struct node_msg *m, int64_t now)
{
    size_t i;

    for (i = 0; i < m->n_rcpt; i++) {
        const struct node_rcpt *rc = &m->rcpt[i];
        if (rc->state == NODE_R_ACKNOWLEDGED)
            node_html(b,
                      "<li data-cc=\"{s}\" class=acked>{s}: "
                      "<strong>acknowledged by {s}</strong> at {t}</li>",
                      rc->cc, rc->cc, rc->reason[0] ? rc->reason : "(unnamed)",
                      (long long)rc->at);
        else if (rc->state == NODE_R_DELIVERED) {
            int64_t late = now - rc->at;
            bool watched = (s_g.c->escalate_levels & (1u << m->level)) != 0;
            node_html(b, "<li data-cc=\"{s}\">{s}: delivered at {t}", rc->cc,
                      rc->cc, (long long)rc->at);
            if (watched && late >= s_g.c->escalate_after_s[0]) {
                if (late >= 60)
                    node_html(b,
                              " \xe2\x80\x94 <strong class=late>not "
                              "acknowledged at {s} after {d} min</strong>",
                              rc->cc, (long long)(late / 60));
                else
                    node_html(b,
                              " \xe2\x80\x94 <strong class=late>not "
                              "acknowledged at {s} after {d} s</strong>",
                              rc->cc, (long long)late);
            }
            node_html(b, "</li>");
        } else
            node_html(
                b, "<li data-cc=\"{s}\">{s}: {s}{s}{s}{s}</li>", rc->cc, rc->cc,
                node_rstate_name(rc->state), rc->at > 0 ? " " : "", "",
                rc->reason[0] && rc->state >= NODE_R_EXPIRED ? rc->reason : "");
    }
}

static int
s_outbox_row(void *ctx, const struct node_msg *m)
{
    struct s_list *l = ctx;
    struct node_buf rc;

    if (l->n == l->max) {
        l->more = true;
        return 1;
    }
    l->n++;
    node_buf_init(&rc);
    s_rcpt_html(&rc, m, l->now);
    node_html(&l->rows,
              "<tr class=\"{s}\" data-id=\"{s}\"><td class=\"lvl-{s}\">{s}"
              "</td><td>{t}</td><td>{s}</td><td>{s}</td><td><a "
              "href=\"/report/{s}\">{s}</a></td><td>{s}{s}{s}</td><td><ul>"
              "{h}</ul></td></tr>",
              s_level_class(m->level), m->id, s_level_class(m->level),
              ewh_level_name(m->level), (long long)m->created_at,
              ewh_type_name(m->type), m->category, m->id, m->title, m->state,
              m->reason[0] ? ": " : "", m->reason, &rc);
    node_buf_free(&rc);
    return 0;
}

static enum MHD_Result
s_outbox(struct s_req *r, bool fragment)
{
    struct s_query q;
    struct s_list l = {.max = EWH_DESK_PAGE_ROWS};
    struct ewh_err err = {0};
    struct node_buf b, list, pager;
    const char *bad = NULL;
    int rc;

    NEED(r, NODE_ROLE_ANALYST, !fragment);
    if (s_query(r, &q, true, &bad) != 0)
        return s_text(r, MHD_HTTP_BAD_REQUEST, bad);
    l.now = ewh_now();
    q.f.limit = EWH_DESK_PAGE_ROWS + 1;
    q.f.offset = (size_t)(q.page - 1) * EWH_DESK_PAGE_ROWS;
    node_buf_init(&l.rows);
    node_buf_init(&b);
    node_buf_init(&list);
    node_buf_init(&pager);
    pthread_mutex_lock(&s_g.store_lock);
    rc = node_store_msg_list(s_g.d->store, &q.f, s_outbox_row, &l, &err);
    rc = rc > 0 ? 0 : rc; /* 1: the row callback stopped at a page */
    pthread_mutex_unlock(&s_g.store_lock);
    if (rc != 0) {
        node_buf_free(&l.rows);
        return s_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err.reason);
    }
    s_pager(&pager, "/outbox", &q, l.more);
    node_html(&list,
              "<table id=outbox><thead><tr><th>level</th><th>sent</th>"
              "<th>type</th><th>category</th><th>title</th><th>hub</th>"
              "<th>addressees</th></tr></thead><tbody>{h}</tbody></table>"
              "<p class=pager>{h}</p>",
              &l.rows, &pager);
    node_buf_free(&l.rows);
    node_buf_free(&pager);
    if (fragment) {
        node_buf_free(&b);
        r->out = list;
        return s_send(r);
    }
    node_html(&b,
              "<div id=outbox-live data-live=\"/live/outbox?page={d}\">{h}"
              "</div>",
              (long long)q.page, &list);
    node_buf_free(&list);
    s_page(r, "Outbox", &b);
    node_buf_free(&b);
    return s_send(r);
}

/* ---- one report ----------------------------------------------------- */

static int
s_report_load(struct s_req *r, const char *hex, struct node_msg *m,
              enum MHD_Result *res)
{
    struct ewh_err err = {0};
    int rc;

    memset(m, 0, sizeof(*m));
    pthread_mutex_lock(&s_g.store_lock);
    rc = node_store_msg_get(s_g.d->store, hex, m, &err);
    pthread_mutex_unlock(&s_g.store_lock);
    if (rc != 0) {
        *res = err.code == EWH_E_NOTFOUND
                   ? s_error_page(r, MHD_HTTP_NOT_FOUND, "No such report.")
                   : s_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err.reason);
        return -1;
    }
    /* A received report is for liaison officers, a sent one for
     * analysts. */
    if (!s_has(r, m->outgoing ? NODE_ROLE_ANALYST : NODE_ROLE_LIAISON)) {
        node_msg_clear(m);
        *res = s_error_page(r, MHD_HTTP_FORBIDDEN,
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

static void
s_sent_put(const char *token, const char *id, const char *notes)
{
    struct s_sent *e;

    if (token == NULL || notes == NULL || notes[0] == '\0')
        return;
    pthread_mutex_lock(&s_g.sent_lock);
    e = &s_g.sent[s_g.sent_next];
    s_g.sent_next = (s_g.sent_next + 1) % EWH_DESK_SENT_NOTES;
    e->used = true;
    s_sent_key(token, e->tok);
    snprintf(e->id, sizeof(e->id), "%.*s", (int)sizeof(e->id) - 1, id);
    snprintf(e->notes, sizeof(e->notes), "%s", notes);
    pthread_mutex_unlock(&s_g.sent_lock);
}

/* The notes for report id sent in this session, as HTML onto b, and
 * forgotten. */
static void
s_sent_take(const struct s_req *r, const char *id, struct node_buf *b)
{
    unsigned char k[crypto_generichash_BYTES];
    struct node_buf items;
    char notes[sizeof(s_g.sent[0].notes)] = "";
    char *line, *nl;
    size_t i;

    if (!r->signed_in || r->token == NULL)
        return;
    s_sent_key(r->token, k);
    pthread_mutex_lock(&s_g.sent_lock);
    for (i = 0; i < EWH_DESK_SENT_NOTES; i++) {
        struct s_sent *e = &s_g.sent[i];
        if (e->used && strcmp(e->id, id) == 0 &&
            sodium_memcmp(e->tok, k, sizeof(k)) == 0) {
            memcpy(notes, e->notes, sizeof(notes));
            sodium_memzero(e, sizeof(*e));
            break;
        }
    }
    pthread_mutex_unlock(&s_g.sent_lock);
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

static enum MHD_Result
s_report_page(struct s_req *r, const char *hex)
{
    struct node_msg m;
    struct node_buf b, refs, acts, st, notes;
    char addr[EWH_MAX_RECIPIENTS * 4 + 8];
    enum MHD_Result res;
    size_t i;

    if (s_report_load(r, hex, &m, &res) != 0)
        return res;
    s_audit(r->s.name, "read", m.id, m.outgoing ? "outbox" : "inbox");
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
        if (m.acked_at == 0 && s_has(r, NODE_ROLE_LIAISON))
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
        s_rcpt_html(&st, &m, ewh_now());
        node_html(&st, "</ul>");
        if (s_has(r, NODE_ROLE_ANALYST) && m.type != EWH_TYPE_CANCEL)
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
    s_page(r, m.title, &b);
    node_buf_free(&b);
    node_buf_free(&refs);
    node_buf_free(&acts);
    node_buf_free(&st);
    node_buf_free(&notes);
    node_msg_clear(&m);
    return s_send(r);
}

static enum MHD_Result
s_report_download(struct s_req *r, const char *hex, const char *kind)
{
    struct node_msg m;
    struct ewh_err err = {0};
    enum MHD_Result res;
    char *out = NULL;
    size_t len = 0;
    int rc = 0;

    if (s_report_load(r, hex, &m, &res) != 0)
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
        pthread_mutex_lock(&s_g.store_lock);
        rc = node_cap_write(&m, s_g.d->store, &out, &len, &err);
        pthread_mutex_unlock(&s_g.store_lock);
        r->ctype = "application/cap+xml";
    } else {
        if (m.outgoing || m.acked_at == 0)
            rc = ewh_err_set(&err, EWH_E_NOTFOUND, "not acknowledged");
        else
            rc = node_cap_write_ack(&m, s_g.d->cfg.country, &out, &len, &err);
        r->ctype = "application/cap+xml";
    }
    if (rc != 0) {
        node_msg_clear(&m);
        return s_text(r,
                      err.code == EWH_E_NOTFOUND
                          ? MHD_HTTP_NOT_FOUND
                          : MHD_HTTP_INTERNAL_SERVER_ERROR,
                      err.reason);
    }
    s_audit(r->s.name, "export", m.id, kind);
    snprintf(r->disposition, sizeof(r->disposition),
             "attachment; filename=\"%s%s.%s\"", m.id,
             strcmp(kind, "ack.cap") == 0 ? "-ack" : "",
             strcmp(kind, "json") == 0 ? "json" : "xml");
    node_buf_add(&r->out, out, len);
    sodium_memzero(out, len);
    free(out);
    node_msg_clear(&m);
    return s_send(r);
}

/* Ask the privileged part; NULL when it cannot be reached. */
static json_t *
s_priv(json_t *req, struct ewh_err *err)
{
    json_t *rep = NULL;

    pthread_mutex_lock(&s_g.priv_lock);
    if (node_desk_send(s_g.priv_fd, req, err) == 0)
        rep = node_desk_recv(s_g.priv_fd, err);
    pthread_mutex_unlock(&s_g.priv_lock);
    return rep;
}

static enum MHD_Result
s_report_ack(struct s_req *r, const char *hex)
{
    struct ewh_err err = {0};
    json_t *req, *rep;
    char to[64];
    enum MHD_Result res;

    if (!r->post)
        return s_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    NEED(r, NODE_ROLE_LIAISON, true);
    if (!s_csrf_ok(r))
        return s_error_page(r, MHD_HTTP_FORBIDDEN,
                            "Refused: the form's CSRF token is missing or "
                            "wrong. Reload the page and try again.");
    req =
        json_pack("{s:s, s:s, s:s}", "op", "ack", "token", r->token, "id", hex);
    rep = req ? s_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return s_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, err.reason);
    if (!json_is_true(json_object_get(rep, "ok"))) {
        int code = (int)json_integer_value(json_object_get(rep, "code"));
        res = s_error_page(r,
                           code == EWH_E_FORBIDDEN || code == EWH_E_AUTH
                               ? MHD_HTTP_FORBIDDEN
                               : 422,
                           json_string_value(json_object_get(rep, "reason")));
        json_decref(rep);
        return res;
    }
    json_decref(rep);
    snprintf(to, sizeof(to), "/report/%s", hex);
    return s_redirect(r, to);
}

/* ---- submit --------------------------------------------------------- */

struct s_sub {
    const char *level, *to, *category, *title, *body, *tlp, *expires, *urgency,
        *certainty, *updates, *cancels, *reason;
    const char *ccs[EWH_MAX_RECIPIENTS];
    size_t n_ccs;
    const char *err_field, *err_reason;
};

static void
s_field_err(struct node_buf *b, const struct s_sub *v, const char *field)
{
    if (v->err_field != NULL && strcmp(v->err_field, field) == 0)
        node_html(b, "<p class=error id=\"err-{s}\">{s}</p>", field,
                  v->err_reason);
}

static void
s_select(struct node_buf *b, const struct s_sub *v, const char *name,
         const char *label, const char *const *opts, const char *cur)
{
    size_t i;

    node_html(b,
              "<label for=\"{s}\">{s}</label><select id=\"{s}\" "
              "name=\"{s}\">",
              name, label, name, name);
    for (i = 0; opts[i] != NULL; i++)
        node_html(b, "<option{s}>{s}</option>",
                  cur != NULL && strcmp(cur, opts[i]) == 0 ? " selected" : "",
                  opts[i]);
    node_html(b, "</select>");
    s_field_err(b, v, name);
}

static bool
s_cc_chosen(const struct s_sub *v, const char *cc)
{
    size_t i;

    for (i = 0; i < v->n_ccs; i++)
        if (strcmp(v->ccs[i], cc) == 0)
            return true;
    return false;
}

/* The catalogue of concern's guidance for every area of the form, one
 * block each (desk.js shows the chosen area's and marks the chosen
 * level; without script all are shown).  The catalogue comes from the
 * privileged part, which reads and verifies DIR/catalogue.signed. */
static void
s_guidance_html(struct s_req *r, struct node_buf *b, const char *const *cats)
{
    struct ewh_err err = {0};
    ewh_catalogue_t *c = NULL;
    json_t *req, *rep = NULL;
    const char *txt;
    uint64_t based_on = 0;
    size_t i, j;
    int lv;

    req = json_pack("{s:s, s:s}", "op", "catalogue", "token", r->token);
    rep = req ? s_priv(req, &err) : NULL;
    json_decref(req);
    if (rep != NULL && json_is_true(json_object_get(rep, "ok")) &&
        (txt = json_string_value(json_object_get(rep, "catalogue"))) != NULL)
        c = ewh_catalogue_from_json(txt, strlen(txt), &based_on, &err);
    else if (rep != NULL)
        snprintf(err.reason, sizeof(err.reason), "%s",
                 json_string_value(json_object_get(rep, "reason"))
                     ? json_string_value(json_object_get(rep, "reason"))
                     : "refused");
    json_decref(rep);
    if (c == NULL) {
        node_html(b,
                  "<p class=notice id=guidance-none>No catalogue of concern "
                  "to guide the level: {s}</p>",
                  err.reason);
        return;
    }
    node_html(b,
              "<section id=guidance><p>Catalogue of concern, version "
              "<span id=cat-version>{d}</span> (docs/catalogue.md): what "
              "each level means for the area chosen.</p>",
              (long long)based_on);
    for (i = 0; cats[i] != NULL; i++) {
        const struct ewh_catalogue_area *a = ewh_catalogue_find(c, cats[i]);
        struct node_buf lv_html, ind;
        if (a == NULL) {
            node_html(b,
                      "<div class=guide data-area=\"{s}\">The catalogue "
                      "has no area {s}.</div>",
                      cats[i], cats[i]);
            continue;
        }
        node_buf_init(&lv_html);
        node_buf_init(&ind);
        for (lv = EWH_LEVEL_HIGH; lv >= EWH_LEVEL_LOW; lv--)
            node_html(&lv_html,
                      "<dt data-level=\"{s}\">{s}{s}</dt>"
                      "<dd data-level=\"{s}\">{s}</dd>",
                      ewh_level_name((enum ewh_level)lv),
                      ewh_level_name((enum ewh_level)lv),
                      (enum ewh_level)lv == a->default_level ? " (default)"
                                                             : "",
                      ewh_level_name((enum ewh_level)lv), a->guide[lv]);
        if (a->n_ind > 0)
            node_html(&ind, "<p>Indicators:</p><ul>");
        for (j = 0; j < a->n_ind; j++)
            node_html(&ind, "<li>{s}</li>", a->ind[j]);
        if (a->n_ind > 0)
            node_html(&ind, "</ul>");
        node_html(b,
                  "<div class=guide id=\"guide-{s}\" data-area=\"{s}\" "
                  "data-default=\"{s}\"><p><strong>{s}</strong> ({s}): "
                  "default level <strong class=default>{s}</strong></p>"
                  "<dl>{h}</dl>{h}</div>",
                  a->area, a->area, ewh_level_name(a->default_level), a->title,
                  a->area, ewh_level_name(a->default_level), &lv_html, &ind);
        node_buf_free(&lv_html);
        node_buf_free(&ind);
    }
    node_html(b, "</section>");
    ewh_catalogue_destroy(&c);
}

static void
s_submit_form(struct s_req *r, const struct s_sub *v)
{
    static const char *const levels[] = {"high", "medium", "low", NULL};
    static const char *const tlps[] = {"red", "amber", "green", "clear", NULL};
    static const char *const urg[] = {"",     "Immediate", "Expected", "Future",
                                      "Past", "Unknown",   NULL};
    static const char *const cer[] = {
        "", "Observed", "Likely", "Possible", "Unlikely", "Unknown", NULL};
    const char *cats[EWH_MAX_CATEGORIES + 1];
    struct ewh_err err = {0};
    struct node_buf b, ccs;
    ewh_roster_t *ro;
    const char *ref = v->updates ? v->updates : v->cancels;
    const char *to = v->to ? v->to : ref ? "same" : "all";
    size_t i, n = 0;
    bool revoked;

    node_buf_init(&b);
    node_buf_init(&ccs);
    pthread_mutex_lock(&s_g.store_lock);
    ro = node_dir_roster(s_g.d, &err);
    pthread_mutex_unlock(&s_g.store_lock);
    if (ro != NULL && ewh_roster_category_count(ro) > 0) {
        for (i = 0; i < ewh_roster_category_count(ro) && n < EWH_MAX_CATEGORIES;
             i++)
            cats[n++] = ewh_roster_category(ro, i);
    } else
        for (i = 0; ewh_default_categories[i] != NULL && n < EWH_MAX_CATEGORIES;
             i++)
            cats[n++] = ewh_default_categories[i];
    cats[n] = NULL;
    if (ro != NULL)
        for (i = 0; i < ewh_roster_count(ro); i++) {
            const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
            if (revoked || strcmp(id->country, s_g.d->cfg.country) == 0)
                continue;
            node_html(&ccs,
                      "<label class=cc><input type=checkbox name=cc "
                      "value=\"{s}\"{s}> {s}</label> ",
                      id->country,
                      s_cc_chosen(v, id->country) ? " checked" : "",
                      id->country);
        }
    else
        node_html(&ccs, "<p class=error>{s}</p>",
                  "No roster yet: the agent has not reached the hub.");
    if (v->err_field != NULL && v->err_field[0] == '\0')
        node_html(&b, "<p class=error id=err-form>{s}</p>", v->err_reason);
    if (ref != NULL)
        node_html(&b,
                  "<p class=notice>This report {s} <a "
                  "href=\"/report/{s}\">{s}</a>; the level, category, TLP "
                  "and addressees you leave as they are stay the earlier "
                  "report's.</p>",
                  v->updates ? "updates" : "cancels", ref, ref);
    node_html(&b,
              "<form class=stack method=post action=\"/submit\" "
              "novalidate><input type=hidden name=csrf value=\"{s}\">",
              r->s.csrf);
    if (v->updates)
        node_html(&b, "<input type=hidden name=updates value=\"{s}\">",
                  v->updates);
    if (v->cancels)
        node_html(&b, "<input type=hidden name=cancels value=\"{s}\">",
                  v->cancels);
    s_field_err(&b, v, "updates");
    s_field_err(&b, v, "cancels");
    s_select(&b, v, "level", "Level of concern", levels,
             v->level ? v->level : "medium");
    node_html(&b,
              "<label>Addressees</label>{s}<label class=cc><input "
              "type=radio name=to value=all id=to-all{s}> all countries"
              "</label> <label class=cc><input type=radio name=to "
              "value=chosen id=to-chosen{s}> only:</label> {h}",
              NULL, strcmp(to, "all") == 0 ? " checked" : "",
              strcmp(to, "chosen") == 0 ? " checked" : "", &ccs);
    if (ref != NULL)
        node_html(&b,
                  "<label class=cc><input type=radio name=to value=same{s}>"
                  " the earlier report's addressees</label>",
                  strcmp(to, "same") == 0 ? " checked" : "");
    s_field_err(&b, v, "to");
    s_select(&b, v, "category", "Category", cats, v->category);
    s_guidance_html(r, &b, cats);
    node_html(&b,
              "<label for=reason>Reason for this level (when it departs "
              "from the catalogue's default for the area; sealed in the "
              "report)</label><p class=notice id=departs hidden></p>"
              "<textarea id=reason name=reason class=short "
              "maxlength={d}>{s}</textarea>",
              (long long)EWH_MAX_LEVEL_REASON_BYTES,
              v->reason ? v->reason : "");
    s_field_err(&b, v, "reason");
    node_html(&b,
              "<label for=title>Title</label><input type=text id=title "
              "name=title maxlength={d} value=\"{s}\">",
              (long long)EWH_MAX_TITLE_BYTES, v->title ? v->title : "");
    s_field_err(&b, v, "title");
    node_html(&b,
              "<label for=body>Body</label><textarea id=body name=body "
              "maxlength={d}>{s}</textarea>",
              (long long)EWH_MAX_BODY_BYTES, v->body ? v->body : "");
    s_field_err(&b, v, "body");
    s_select(&b, v, "tlp", "TLP", tlps, v->tlp ? v->tlp : "amber");
    node_html(&b,
              "<label for=expires>Expires after (e.g. 90m, 12h, 3d; empty: "
              "never)</label><input type=text id=expires name=expires "
              "maxlength=16 value=\"{s}\">",
              v->expires ? v->expires : "");
    s_field_err(&b, v, "expires");
    s_select(&b, v, "urgency", "CAP urgency (empty: from the level)", urg,
             v->urgency ? v->urgency : "");
    s_select(&b, v, "certainty", "CAP certainty", cer,
             v->certainty ? v->certainty : "");
    node_html(&b,
              "<p>Author: <strong>{s}</strong> (the signed-in person)</p>"
              "<p><button id=send>Seal and send</button></p></form>",
              r->s.name);
    s_field_err(&b, v, "author");
    s_page(r,
           v->cancels   ? "Cancel a report"
           : v->updates ? "Update a report"
                        : "New report",
           &b);
    ewh_roster_destroy(&ro);
    node_buf_free(&b);
    node_buf_free(&ccs);
}

/* Length and shape checks before anything goes to the privileged part. */
static bool
s_sub_check(struct s_sub *v)
{
    static const struct {
        const char *name;
        size_t max;
    } lim[] = {{"level", 16},
               {"category", EWH_MAX_CATEGORY_BYTES},
               {"title", EWH_MAX_TITLE_BYTES},
               {"body", EWH_MAX_BODY_BYTES},
               {"tlp", 16},
               {"expires", 16},
               {"urgency", EWH_MAX_CAPWORD_BYTES},
               {"certainty", EWH_MAX_CAPWORD_BYTES},
               {"updates", 64},
               {"cancels", 64},
               {"reason", EWH_MAX_LEVEL_REASON_BYTES}};
    const char *vals[] = {v->level,   v->category, v->title,   v->body,
                          v->tlp,     v->expires,  v->urgency, v->certainty,
                          v->updates, v->cancels,  v->reason};
    size_t i;

    for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
        if (vals[i] != NULL && strlen(vals[i]) > lim[i].max) {
            v->err_field = lim[i].name;
            v->err_reason = "too long";
            return false;
        }
    if (v->to != NULL && strcmp(v->to, "all") != 0 &&
        strcmp(v->to, "chosen") != 0 && strcmp(v->to, "same") != 0) {
        v->err_field = "to";
        v->err_reason = "choose all countries or some";
        return false;
    }
    if (v->to != NULL && strcmp(v->to, "chosen") == 0 && v->n_ccs == 0) {
        v->err_field = "to";
        v->err_reason = "choose at least one country";
        return false;
    }
    return true;
}

static void
s_json_opt(json_t *o, const char *k, const char *v)
{
    if (v != NULL && v[0] != '\0')
        json_object_set_new(o, k, json_string(v));
}

static enum MHD_Result
s_submit(struct s_req *r)
{
    struct s_sub v;
    struct ewh_err err = {0};
    json_t *req = NULL, *f, *rep = NULL;
    char to[EWH_MAX_RECIPIENTS * 3 + 1], loc[64], reason[EWH_MAX_REASON_BYTES];
    char field[24];
    size_t i, off = 0;
    enum MHD_Result res;

    NEED(r, NODE_ROLE_ANALYST, true);
    memset(&v, 0, sizeof(v));
    if (!r->post) {
        v.updates = s_arg(r, "updates");
        v.cancels = s_arg(r, "cancels");
        if ((v.updates && strlen(v.updates) > 64) ||
            (v.cancels && strlen(v.cancels) > 64))
            return s_error_page(r, MHD_HTTP_BAD_REQUEST, "bad report id");
        if (v.updates != NULL || v.cancels != NULL) {
            /* Start from the earlier report's fields. */
            struct node_msg m;
            const char *ref = v.updates ? v.updates : v.cancels;
            enum MHD_Result res2;
            if (!s_is_hex_id(ref, strlen(ref)) ||
                s_report_load(r, ref, &m, &res2) != 0) {
                if (!s_is_hex_id(ref, strlen(ref)))
                    return s_error_page(r, MHD_HTTP_BAD_REQUEST,
                                        "bad report id");
                return res2;
            }
            if (!m.outgoing) {
                node_msg_clear(&m);
                return s_error_page(r, MHD_HTTP_BAD_REQUEST,
                                    "only the origin updates or cancels a "
                                    "report");
            }
            v.level = ewh_level_name(m.level);
            v.category = m.category;
            v.tlp = ewh_tlp_name(m.tlp);
            if (v.updates != NULL) {
                v.title = m.title;
                v.body = m.body;
            }
            s_submit_form(r, &v);
            node_msg_clear(&m);
            return s_send(r);
        }
        s_submit_form(r, &v);
        return s_send(r);
    }
    if (!s_csrf_ok(r))
        return s_error_page(r, MHD_HTTP_FORBIDDEN,
                            "Refused: the form's CSRF token is missing or "
                            "wrong. Reload the page and try again.");
    v.level = s_form(r, "level");
    v.to = s_form(r, "to");
    v.category = s_form(r, "category");
    v.title = s_form(r, "title");
    v.body = s_form(r, "body");
    v.tlp = s_form(r, "tlp");
    v.expires = s_form(r, "expires");
    v.urgency = s_form(r, "urgency");
    v.certainty = s_form(r, "certainty");
    v.updates = s_form(r, "updates");
    v.cancels = s_form(r, "cancels");
    v.reason = s_form(r, "reason");
    for (i = 0; i < r->cn->n; i++)
        if (strcmp(r->cn->f[i].name, "cc") == 0) {
            const char *cc = r->cn->f[i].val.p ? r->cn->f[i].val.p : "";
            if (v.n_ccs == EWH_MAX_RECIPIENTS || !ewh_country_is_valid(cc)) {
                v.err_field = "to";
                v.err_reason = "bad country list";
                break;
            }
            v.ccs[v.n_ccs++] = cc;
        }
    if (v.err_field != NULL || !s_sub_check(&v)) {
        r->status = 422;
        s_submit_form(r, &v);
        return s_send(r);
    }
    to[0] = '\0';
    if (v.to != NULL && strcmp(v.to, "chosen") == 0)
        for (i = 0; i < v.n_ccs; i++)
            off += (size_t)snprintf(to + off, sizeof(to) - off, "%s%s",
                                    i ? "," : "", v.ccs[i]);
    else if (v.to != NULL && strcmp(v.to, "all") == 0)
        snprintf(to, sizeof(to), "all");
    f = json_object();
    s_json_opt(f, "level", v.level);
    s_json_opt(f, "to", to);
    s_json_opt(f, "category", v.category);
    s_json_opt(f, "title", v.title);
    if (v.body != NULL && v.body[0] != '\0')
        json_object_set_new(f, "body", json_stringn(v.body, strlen(v.body)));
    s_json_opt(f, "tlp", v.tlp);
    s_json_opt(f, "expires", v.expires);
    s_json_opt(f, "urgency", v.urgency);
    s_json_opt(f, "certainty", v.certainty);
    s_json_opt(f, "updates", v.updates);
    s_json_opt(f, "cancels", v.cancels);
    s_json_opt(f, "reason", v.reason);
    if (f != NULL && v.reason != NULL && v.reason[0] != '\0' &&
        json_object_get(f, "reason") == NULL) {
        json_decref(f);
        f = NULL;
        v.err_field = "reason";
        v.err_reason = "the reason is not valid UTF-8 text";
        r->status = 422;
        s_submit_form(r, &v);
        return s_send(r);
    }
    if (f != NULL && v.body != NULL && v.body[0] != '\0' &&
        json_object_get(f, "body") == NULL) {
        /* jansson refuses text that is not UTF-8 */
        json_decref(f);
        f = NULL;
        v.err_field = "body";
        v.err_reason = "the body is not valid UTF-8 text";
        r->status = 422;
        s_submit_form(r, &v);
        return s_send(r);
    }
    if (f != NULL)
        req = json_pack("{s:s, s:s, s:o}", "op", "submit", "token", r->token,
                        "fields", f);
    rep = req ? s_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return s_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                            err.reason[0] ? err.reason : "out of memory");
    if (!json_is_true(json_object_get(rep, "ok"))) {
        int code = (int)json_integer_value(json_object_get(rep, "code"));
        if (code == EWH_E_FORBIDDEN || code == EWH_E_AUTH) {
            res =
                s_error_page(r, MHD_HTTP_FORBIDDEN,
                             json_string_value(json_object_get(rep, "reason")));
            json_decref(rep);
            return res;
        }
        snprintf(reason, sizeof(reason), "%s",
                 json_string_value(json_object_get(rep, "reason"))
                     ? json_string_value(json_object_get(rep, "reason"))
                     : "refused");
        snprintf(field, sizeof(field), "%s",
                 json_string_value(json_object_get(rep, "field"))
                     ? json_string_value(json_object_get(rep, "field"))
                     : "");
        json_decref(rep);
        v.err_field = field;
        v.err_reason = reason;
        r->status = 422;
        s_submit_form(r, &v);
        return s_send(r);
    }
    snprintf(loc, sizeof(loc), "/report/%.32s",
             json_string_value(json_object_get(rep, "id")));
    s_sent_put(r->token, loc + 8,
               json_string_value(json_object_get(rep, "notes")));
    json_decref(rep);
    return s_redirect(r, loc);
}

/* ---- peers and admin ------------------------------------------------ */

/* The peers page; msg (when not NULL) is the outcome of a verification
 * of cc, shown next to that peer's field (an error) or above the table. */
static enum MHD_Result
s_peers(struct s_req *r, const char *cc, const char *msg, bool ok_msg)
{
    struct ewh_err err = {0};
    struct node_buf b, rows;
    ewh_roster_t *ro;
    char fp[EWH_FINGERPRINT_CHARS];
    bool revoked;
    size_t i;

    NEED(r, NODE_ROLE_ALL, true);
    pthread_mutex_lock(&s_g.store_lock);
    ro = node_dir_roster(s_g.d, &err);
    pthread_mutex_unlock(&s_g.store_lock);
    node_buf_init(&b);
    node_buf_init(&rows);
    ewh_pubid_fingerprint(&s_g.d->hub, fp);
    if (ro == NULL)
        node_html(&b, "<p class=error>{s}</p>", err.reason);
    else {
        for (i = 0; i < ewh_roster_count(ro); i++) {
            const struct ewh_pubid *id = ewh_roster_at(ro, i, &revoked);
            char pf[EWH_FINGERPRINT_CHARS], why[200];
            struct node_buf form, fe;
            struct node_trust t;
            bool ok = false, warn = false;
            ewh_pubid_fingerprint(id, pf);
            /* docs/trust.md: the node's own judgement of the key, not
             * the hub's word */
            pthread_mutex_lock(&s_g.store_lock);
            if (node_trust_sealable(s_g.d->store, id->country, false, &ok,
                                    &warn, &t, &err) != 0)
                ok = false;
            pthread_mutex_unlock(&s_g.store_lock);
            if (ok && t.fp[0] != '\0' && strcmp(t.fp, pf) != 0)
                ok = false;
            if (strcmp(id->country, s_g.d->cfg.country) == 0)
                ok = true;
            if (ok)
                snprintf(why, sizeof(why), "verified (%s)",
                         t.why[0] ? t.why : "tofu");
            else
                snprintf(why, sizeof(why),
                         "UNVERIFIED (%s): nothing is sealed for it; "
                         "compare the fingerprint by telephone, then "
                         "ewnode peers verify %s %s",
                         t.why, id->country, pf);
            node_buf_init(&form);
            /* An admin verifies here what `ewnode peers verify` would:
             * the privileged part checks the session and calls the same
             * node_trust_verify. */
            if (!ok && s_has(r, NODE_ROLE_ADMIN)) {
                node_buf_init(&fe);
                if (msg != NULL && !ok_msg && cc != NULL &&
                    strcmp(cc, id->country) == 0)
                    node_html(&fe,
                              "<p class=error id=\"err-verify-{s}\">"
                              "{s}</p>",
                              id->country, msg);
                node_html(&form,
                          "<form method=post action=\"/peers/verify\" "
                          "class=verify id=\"verify-{s}\"><input "
                          "type=hidden name=csrf value=\"{s}\"><input "
                          "type=hidden name=cc value=\"{s}\"><label "
                          "for=\"fp-{s}\">Fingerprint read out on the "
                          "telephone</label> <input type=text id=\"fp-{s}\" "
                          "name=fingerprint maxlength={d} autocomplete=off "
                          "placeholder=\"XXXX-XXXX-XXXX-XXXX-XXXX\"> "
                          "<button>Verify {s}</button>{h}</form>",
                          id->country, r->s.csrf, id->country, id->country,
                          id->country, (long long)(EWH_FINGERPRINT_CHARS - 1),
                          id->country, &fe);
                node_buf_free(&fe);
            }
            node_html(&rows,
                      "<tr data-verified=\"{s}\" data-cc=\"{s}\"><td>{s}"
                      "</td><td><code>{s}</code></td><td>{s}</td><td>{s}{h}"
                      "</td></tr>",
                      ok ? "true" : "false", id->country, id->country, pf,
                      revoked ? "REVOKED" : "active",
                      strcmp(id->country, s_g.d->cfg.country) == 0 ? "this node"
                                                                   : why,
                      &form);
            node_buf_free(&form);
        }
        if (msg != NULL && ok_msg)
            node_html(&b, "<p class=ok id=peers-msg>{s}</p>", msg);
        node_html(&b,
                  "<p>Roster version <strong>{d}</strong>; hub fingerprint "
                  "<code>{s}</code> (pinned at init).</p><table id=peers>"
                  "<thead><tr><th>country</th><th>fingerprint</th>"
                  "<th>state</th><th>verification</th></tr></thead><tbody>"
                  "{h}</tbody></table>",
                  (long long)ewh_roster_version(ro), fp, &rows);
    }
    s_page(r, "Peers", &b);
    ewh_roster_destroy(&ro);
    node_buf_free(&b);
    node_buf_free(&rows);
    return s_send(r);
}

/* POST /peers/verify: an admin enters the fingerprint read out on the
 * telephone; the privileged part checks the admin's session again and
 * calls node_trust_verify, as `ewnode peers verify` does. */
static enum MHD_Result
s_peers_verify_post(struct s_req *r)
{
    struct ewh_err err = {0};
    const char *cc = s_form(r, "cc"), *fp = s_form(r, "fingerprint");
    char msg[EWH_MAX_REASON_BYTES + 64];
    json_t *req, *rep;
    bool ok;

    NEED(r, NODE_ROLE_ADMIN, true);
    if (!s_csrf_ok(r))
        return s_error_page(r, MHD_HTTP_FORBIDDEN,
                            "Refused: the form's CSRF token is missing or "
                            "wrong. Reload the page and try again.");
    if (cc == NULL || !ewh_country_is_valid(cc)) {
        r->status = MHD_HTTP_BAD_REQUEST;
        return s_peers(r, NULL, "Refused: not an ISO 3166-1 alpha-2 code.",
                       false);
    }
    if (fp == NULL || fp[0] == '\0' || strlen(fp) >= EWH_FINGERPRINT_CHARS) {
        r->status = 422;
        return s_peers(r, cc,
                       "Give the fingerprint as read out (XXXX-XXXX-XXXX-"
                       "XXXX-XXXX).",
                       false);
    }
    req = json_pack("{s:s, s:s, s:s, s:s}", "op", "verify", "token", r->token,
                    "cc", cc, "fingerprint", fp);
    rep = req ? s_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return s_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                            err.reason[0] ? err.reason : "out of memory");
    ok = json_is_true(json_object_get(rep, "ok"));
    if (ok)
        snprintf(msg, sizeof(msg),
                 "%s verified: fingerprint %s; this node seals for %s again.",
                 cc, fp, cc);
    else {
        int code = (int)json_integer_value(json_object_get(rep, "code"));
        const char *why = json_string_value(json_object_get(rep, "reason"));
        snprintf(msg, sizeof(msg), "Refused: %s", why ? why : "?");
        r->status = code == EWH_E_FORBIDDEN || code == EWH_E_AUTH
                        ? MHD_HTTP_FORBIDDEN
                        : 422;
    }
    json_decref(rep);
    return s_peers(r, cc, msg, ok);
}

static const char *
s_secs(char *buf, size_t n, int64_t s)
{
    snprintf(buf, n, "%lld s", (long long)s);
    return buf;
}

/* GET /settings: what the desk runs with, read-only (docs/desk.md: the
 * node's administrator changes them in ewnode.conf). */
static enum MHD_Result
s_settings(struct s_req *r)
{
    const struct node_desk_config *c = s_g.c;
    struct node_buf b;
    char levels[64] = "", a[32], bb[32], cc[32], dd[32], ee[32], ff[32];
    enum ewh_level l;

    NEED(r, NODE_ROLE_ADMIN, true);
    for (l = EWH_LEVEL_LOW; l <= EWH_LEVEL_HIGH; l++)
        if (c->escalate_levels & (1u << l)) {
            if (levels[0] != '\0')
                strcat(levels, ", ");
            strcat(levels, ewh_level_name(l));
        }
    node_buf_init(&b);
    node_html(
        &b,
        "<p>Read-only. These are changed in <code>ewnode.conf</code> by the "
        "node's administrator, and take effect when the desk (or the agent) "
        "is restarted; see docs/desk.md.</p><table id=settings><tbody>"
        "<tr><th colspan=2>Desk</th></tr>"
        "<tr><td>listen</td><td><code>{s}</code></td></tr>"
        "<tr><td>HTTPS</td><td>{s}</td></tr>"
        "<tr><td>session idle timeout</td><td>{s}</td></tr>"
        "<tr><td>session longest life</td><td>{s}</td></tr>"
        "<tr><td>lock-out after failures</td><td>{d}</td></tr>"
        "<tr><td>lock-out for</td><td>{s}</td></tr>"
        "<tr><th colspan=2>Escalation</th></tr>"
        "<tr><td>levels</td><td id=set-escalate-levels>{s}</td></tr>"
        "<tr><td>step 1 after</td><td>{s}</td></tr>"
        "<tr><td>step 1 hook</td><td><code>{s}</code></td></tr>"
        "<tr><td>step 2 after</td><td>{s}</td></tr>"
        "<tr><td>step 2 hook</td><td><code>{s}</code></td></tr>"
        "<tr><td>report content in hooks</td><td>{s}</td></tr>"
        "<tr><td>hook timeout</td><td>{s}</td></tr>"
        "<tr><th colspan=2>Peers</th></tr>"
        "<tr><td>unverified peers</td><td id=set-unverified>{s}</td></tr>"
        "</tbody></table>",
        c->listen, s_g.tls ? "yes" : "no",
        s_secs(a, sizeof(a), c->policy.idle_s),
        s_secs(bb, sizeof(bb), c->policy.max_s),
        (long long)c->policy.lockout_failures,
        s_secs(cc, sizeof(cc), c->policy.lockout_s),
        levels[0] ? levels : "none",
        s_secs(dd, sizeof(dd), c->escalate_after_s[0]),
        c->escalate_hook[0][0] ? c->escalate_hook[0] : "(none)",
        c->escalate_after_s[1] > 0
            ? s_secs(ee, sizeof(ee), c->escalate_after_s[1])
            : "(no step 2)",
        c->escalate_hook[1][0] ? c->escalate_hook[1] : "(none)",
        c->escalate_content ? "yes (escalate_content)" : "no (metadata only)",
        s_secs(ff, sizeof(ff), (int64_t)s_g.d->cfg.hook_timeout_s),
        s_g.d->cfg.unverified_warn
            ? "warn: sealed for, with a warning"
            : "refuse: nothing is sealed for them until verified");
    s_page(r, "Settings", &b);
    node_buf_free(&b);
    return s_send(r);
}

struct s_admin_ctx {
    struct node_buf *rows;
    const struct s_req *r;
};

static void
s_role_boxes(struct node_buf *b, unsigned roles)
{
    node_html(b,
              "<label class=cc><input type=checkbox name=role "
              "value=analyst{s}> analyst</label><label class=cc><input "
              "type=checkbox name=role value=liaison{s}> liaison</label>"
              "<label class=cc><input type=checkbox name=role value=admin{s}>"
              " admin</label>",
              roles & NODE_ROLE_ANALYST ? " checked" : "",
              roles & NODE_ROLE_LIAISON ? " checked" : "",
              roles & NODE_ROLE_ADMIN ? " checked" : "");
}

static int
s_admin_user(void *ctx, const struct node_user *a)
{
    struct s_admin_ctx *c = ctx;
    struct node_buf boxes;
    char roles[48];

    node_roles_format(a->roles, roles, sizeof(roles));
    node_buf_init(&boxes);
    s_role_boxes(&boxes, a->roles);
    node_html(c->rows,
              "<tr data-user=\"{s}\"><td>{s}</td><td>{s}</td><td>{t}</td>"
              "<td>{s}</td><td><form method=post action=\"/admin/user\">"
              "<input type=hidden name=csrf value=\"{s}\"><input "
              "type=hidden name=name value=\"{s}\">{h}<button name=action "
              "value=role>set roles</button></form><form method=post "
              "action=\"/admin/user\"><input type=hidden name=csrf "
              "value=\"{s}\"><input type=hidden name=name value=\"{s}\">"
              "<input type=password name=password maxlength={d} "
              "autocomplete=new-password placeholder=\"new password\">"
              "<button name=action value=passwd>set password (and "
              "unlock)</button> <button name=action value=del>delete"
              "</button></form></td></tr>",
              a->name, a->name, roles, (long long)a->last_login,
              a->locked_until > ewh_now() ? "locked" : "", c->r->s.csrf,
              a->name, &boxes, c->r->s.csrf, a->name,
              (long long)EWH_DESK_MAX_PASSWORD_BYTES);
    node_buf_free(&boxes);
    return 0;
}

static int
s_admin_audit(void *ctx, const struct node_audit_row *a)
{
    node_html(ctx,
              "<tr><td>{t}</td><td>{s}</td><td>{s}</td><td>{s}</td>"
              "<td>{s}</td></tr>",
              (long long)a->at, a->who, a->action, a->id, a->detail);
    return 0;
}

static enum MHD_Result
s_admin(struct s_req *r, const char *msg, bool ok)
{
    struct ewh_err err = {0};
    struct node_buf b, users, audit, boxes;
    struct s_admin_ctx actx;

    NEED(r, NODE_ROLE_ADMIN, true);
    node_buf_init(&b);
    node_buf_init(&users);
    node_buf_init(&audit);
    node_buf_init(&boxes);
    s_role_boxes(&boxes, 0);
    actx.rows = &users;
    actx.r = r;
    if (msg != NULL)
        node_html(&b, "<p class=\"{s}\" id=admin-msg>{s}</p>",
                  ok ? "ok" : "error", msg);
    if (node_users_list(s_g.u, s_admin_user, &actx, &err) != 0 ||
        node_users_audit_list(s_g.u, EWH_DESK_MAX_AUDIT_ROWS, s_admin_audit,
                              &audit, &err) != 0)
        node_html(&b, "<p class=error>{s}</p>", err.reason);
    node_html(&b,
              "<h2>Accounts</h2><table id=accounts><thead><tr><th>name</th>"
              "<th>roles</th><th>last sign-in</th><th></th><th>change"
              "</th></tr></thead><tbody>{h}</tbody></table>"
              "<h3>New account</h3><form method=post action=\"/admin/user\" "
              "class=stack><input type=hidden name=csrf value=\"{s}\">"
              "<label for=new-name>Name</label><input type=text id=new-name "
              "name=name maxlength={d}><label>Roles</label>{h}<label "
              "for=new-password>Password (at least {d} bytes)</label><input "
              "type=password id=new-password name=password maxlength={d} "
              "autocomplete=new-password><p><button name=action value=add "
              "id=add-user>Add</button></p></form>"
              "<p>The same with <code>ewnode user</code> on the node.</p>"
              "<h2>Audit log (newest first)</h2>"
              "<table id=audit><thead><tr><th>when</th><th>who</th>"
              "<th>what</th><th>report</th><th>detail</th></tr></thead>"
              "<tbody>{h}</tbody></table>",
              &users, r->s.csrf, (long long)EWH_DESK_MAX_NAME_BYTES, &boxes,
              (long long)EWH_DESK_MIN_PASSWORD_BYTES,
              (long long)EWH_DESK_MAX_PASSWORD_BYTES, &audit);
    s_page(r, "Accounts and audit", &b);
    node_buf_free(&b);
    node_buf_free(&users);
    node_buf_free(&audit);
    node_buf_free(&boxes);
    return s_send(r);
}

/* POST /admin/user: add, del, role, passwd, done by the privileged part
 * after it checked the admin's session. */
static enum MHD_Result
s_admin_user_post(struct s_req *r)
{
    struct ewh_err err = {0};
    const char *action = s_form(r, "action"), *name = s_form(r, "name"),
               *pw = s_form(r, "password");
    char msg[EWH_MAX_REASON_BYTES + 64];
    unsigned roles = 0;
    json_t *req, *rep;
    bool ok;
    size_t i;

    NEED(r, NODE_ROLE_ADMIN, true);
    if (!s_csrf_ok(r))
        return s_error_page(r, MHD_HTTP_FORBIDDEN,
                            "Refused: the form's CSRF token is missing or "
                            "wrong. Reload the page and try again.");
    if (action == NULL || name == NULL || strlen(action) > 8 ||
        !node_user_name_is_valid(name) ||
        (pw != NULL && strlen(pw) > EWH_DESK_MAX_PASSWORD_BYTES)) {
        r->status = MHD_HTTP_BAD_REQUEST;
        return s_admin(r, "Give a valid name (A-Z a-z 0-9 . _ -).", false);
    }
    for (i = 0; i < r->cn->n; i++)
        if (strcmp(r->cn->f[i].name, "role") == 0) {
            unsigned one = 0;
            if (node_roles_parse(r->cn->f[i].val.p ? r->cn->f[i].val.p : "",
                                 &one, &err) != 0) {
                r->status = MHD_HTTP_BAD_REQUEST;
                return s_admin(r, err.reason, false);
            }
            roles |= one;
        }
    if ((strcmp(action, "add") == 0 || strcmp(action, "role") == 0) &&
        roles == 0) {
        r->status = 422;
        return s_admin(r, "Tick at least one role.", false);
    }
    req = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "op", "user", "token",
                    r->token, "action", action, "name", name, "roles",
                    (int)roles, "password", pw ? pw : "");
    rep = req ? s_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return s_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                            err.reason[0] ? err.reason : "out of memory");
    ok = json_is_true(json_object_get(rep, "ok"));
    if (ok)
        snprintf(msg, sizeof(msg), "Done: %s %s.", action, name);
    else
        snprintf(msg, sizeof(msg), "Refused: %s",
                 json_string_value(json_object_get(rep, "reason"))
                     ? json_string_value(json_object_get(rep, "reason"))
                     : "?");
    if (!ok)
        r->status = (int)json_integer_value(json_object_get(rep, "code")) ==
                            EWH_E_FORBIDDEN
                        ? MHD_HTTP_FORBIDDEN
                        : 422;
    json_decref(rep);
    return s_admin(r, msg, ok);
}

/* ---- live updates (server-sent events) ------------------------------ */

struct s_stream {
    int64_t v_store, v_users;
    int64_t beat, check;
    bool started;
    char token[NODE_TOKEN_CHARS];
};

static ssize_t
s_sse_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct s_stream *st = cls;
    struct node_session s;
    struct ewh_err err = {0};
    int64_t vs = 0, vu, now;
    int n;

    (void)pos;
    if (!st->started) {
        st->started = true;
        n = snprintf(buf, max, "retry: 1000\n\n");
        return n;
    }
    for (;;) {
        if (atomic_load(&s_g.stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&s_g.store_lock);
        if (node_store_data_version(s_g.d->store, &vs, &err) != 0)
            vs = st->v_store;
        pthread_mutex_unlock(&s_g.store_lock);
        if (node_users_data_version(s_g.u, &vu, &err) != 0)
            vu = st->v_users; /* try again at the next poll */
        if (vs != st->v_store || vu != st->v_users) {
            st->v_store = vs;
            st->v_users = vu;
            return snprintf(buf, max, "event: change\ndata: %lld\n\n",
                            (long long)vs);
        }
        now = ewh_mono_ms();
        if (now - st->check > 5000) {
            st->check = now;
            if (node_users_session(s_g.u, st->token, ewh_now(), &s_g.c->policy,
                                   false, &s, &err) != 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        /* A closed stream is noticed only when something is written to
         * it: a comment every S_SSE_BEAT_MS frees its thread soon after
         * the page is left. */
        if (now - st->beat > S_SSE_BEAT_MS) {
            st->beat = now;
            return snprintf(buf, max, ": keep-alive\n\n");
        }
        usleep(EWH_DESK_POLL_MS * 1000);
    }
}

static void
s_sse_free(void *cls)
{
    struct s_stream *st = cls;

    sodium_memzero(st, sizeof(*st));
    free(st);
    atomic_fetch_sub(&s_g.streams, 1);
}

static enum MHD_Result
s_events(struct s_req *r)
{
    struct MHD_Response *resp;
    struct s_stream *st;
    struct ewh_err err = {0};
    enum MHD_Result rc;

    NEED(r, NODE_ROLE_ALL, false);
    if (atomic_fetch_add(&s_g.streams, 1) >= EWH_DESK_MAX_EVENT_STREAMS) {
        atomic_fetch_sub(&s_g.streams, 1);
        return s_text(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                      "too many live-update streams");
    }
    if ((st = calloc(1, sizeof(*st))) == NULL) {
        atomic_fetch_sub(&s_g.streams, 1);
        return s_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    snprintf(st->token, sizeof(st->token), "%s", r->token);
    pthread_mutex_lock(&s_g.store_lock);
    if (node_store_data_version(s_g.d->store, &st->v_store, &err) != 0)
        st->v_store = 0;
    pthread_mutex_unlock(&s_g.store_lock);
    if (node_users_data_version(s_g.u, &st->v_users, &err) != 0)
        st->v_users = 0;
    st->beat = st->check = ewh_mono_ms();
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, s_sse_cb,
                                             st, s_sse_free);
    if (resp == NULL) {
        s_sse_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    rc = MHD_queue_response(r->c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* ---- routing -------------------------------------------------------- */

static bool
s_is_hex_id(const char *s, size_t len)
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
static bool
s_origin_ok(const struct s_req *r)
{
    const char *o =
        MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Origin");
    const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Host");
    char want[300];

    if (o == NULL)
        return true;
    if (h == NULL)
        return false;
    snprintf(want, sizeof(want), "%s://%s", s_g.tls ? "https" : "http", h);
    return strcmp(o, want) == 0;
}

static enum MHD_Result
s_route(struct s_req *r)
{
    const char *u = r->url;
    const struct node_desk_file *f;
    size_t n;

    if (r->post && !s_origin_ok(r))
        return s_text(r, MHD_HTTP_FORBIDDEN, "refused: cross-site request");
    if (!r->post && (f = node_desk_static(u)) != NULL) {
        r->ctype = f->type;
        r->cacheable = true;
        node_buf_add(&r->out, f->data, f->len);
        return s_send(r);
    }
    if (strcmp(u, "/login") == 0)
        return s_login(r);
    if (strcmp(u, "/logout") == 0)
        return s_logout(r);
    if (r->post && strcmp(u, "/submit") != 0 && strcmp(u, "/admin/user") != 0 &&
        strcmp(u, "/peers/verify") != 0 && strncmp(u, "/report/", 8) != 0)
        return s_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
    if (strcmp(u, "/") == 0) {
        if (!r->signed_in)
            return s_redirect(r, "/login");
        return s_redirect(r, s_has(r, NODE_ROLE_LIAISON)   ? "/inbox"
                             : s_has(r, NODE_ROLE_ANALYST) ? "/outbox"
                                                           : "/admin");
    }
    if (strcmp(u, "/inbox") == 0)
        return s_inbox(r, false);
    if (strcmp(u, "/live/inbox") == 0)
        return s_inbox(r, true);
    if (strcmp(u, "/live/alerts") == 0)
        return s_alerts(r);
    if (strcmp(u, "/live/late") == 0) {
        NEED(r, NODE_ROLE_ANALYST, false);
        s_late_html(&r->out);
        return s_send(r);
    }
    if (strcmp(u, "/outbox") == 0)
        return s_outbox(r, false);
    if (strcmp(u, "/live/outbox") == 0)
        return s_outbox(r, true);
    if (strcmp(u, "/submit") == 0)
        return s_submit(r);
    if (strcmp(u, "/peers") == 0)
        return s_peers(r, NULL, NULL, false);
    if (strcmp(u, "/peers/verify") == 0) {
        if (!r->post)
            return s_redirect(r, "/peers");
        return s_peers_verify_post(r);
    }
    if (strcmp(u, "/settings") == 0)
        return s_settings(r);
    if (strcmp(u, "/admin") == 0)
        return s_admin(r, NULL, false);
    if (strcmp(u, "/admin/user") == 0) {
        if (!r->post)
            return s_redirect(r, "/admin");
        return s_admin_user_post(r);
    }
    if (strcmp(u, "/events") == 0)
        return s_events(r);
    if (strncmp(u, "/report/", 8) == 0) {
        const char *id = u + 8, *rest;
        char hex[EWH_ID_HEX];
        n = strcspn(id, "./");
        rest = id + n;
        if (!s_is_hex_id(id, n))
            return r->signed_in
                       ? s_error_page(r, MHD_HTTP_NOT_FOUND, "No such report.")
                       : s_redirect(r, "/login");
        memcpy(hex, id, 32);
        hex[32] = '\0';
        if (strcmp(rest, "/ack") == 0)
            return s_report_ack(r, hex);
        if (r->post)
            return s_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
        if (rest[0] == '\0') {
            NEED(r, NODE_ROLE_ANALYST | NODE_ROLE_LIAISON, true);
            return s_report_page(r, hex);
        }
        if (strcmp(rest, ".json") == 0 || strcmp(rest, ".cap") == 0 ||
            strcmp(rest, ".ack.cap") == 0) {
            NEED(r, NODE_ROLE_ANALYST | NODE_ROLE_LIAISON, false);
            return s_report_download(r, hex, rest + 1);
        }
    }
    if (!r->signed_in)
        return s_redirect(r, "/login");
    return s_error_page(r, MHD_HTTP_NOT_FOUND, "No such page.");
}

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    struct s_conn *cn = *con_cls;
    struct s_req r;
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
            cn->pp = MHD_create_post_processor(c, 8192, s_post_it, cn);
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
    r.token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, s_g.cookie);
    if (r.token != NULL &&
        node_users_session(s_g.u, r.token, ewh_now(), &s_g.c->policy,
                           strncmp(url, "/live/", 6) != 0 &&
                               strcmp(url, "/events") != 0,
                           &r.s, &err) == 0)
        r.signed_in = true;
    if (strlen(url) > 256)
        rc = s_text(&r, MHD_HTTP_URI_TOO_LONG, "URL too long");
    else if (post && cn->too_big)
        rc = s_text(&r, MHD_HTTP_CONTENT_TOO_LARGE,
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
    s_conn_free(*con_cls);
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

    memset(&s_g, 0, sizeof(s_g));
    s_g.d = d;
    s_g.c = c;
    s_g.priv_fd = fd;
    pthread_mutex_init(&s_g.store_lock, NULL);
    pthread_mutex_init(&s_g.priv_lock, NULL);
    pthread_mutex_init(&s_g.login_lock, NULL);
    pthread_mutex_init(&s_g.sent_lock, NULL);
    if ((s_g.u = node_users_open(d->path, false, &err)) == NULL) {
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
        s_g.tls = true;
    }
    s_g.cookie = s_g.tls ? "__Host-ewh_session" : "ewh_session";
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
        pthread_mutex_lock(&s_g.store_lock);
        if (node_store_data_version(d->store, &v, &err) != 0)
            ewh_log_warnx("desk: %s", err.reason);
        pthread_mutex_unlock(&s_g.store_lock);
        if (node_users_data_version(s_g.u, &v, &err) != 0)
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
    if (s_g.tls)
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
    snprintf(url, sizeof(url), "%s://%s/", s_g.tls ? "https" : "http",
             hostport);
    fprintf(uf, "%s\n", url);
    fclose(uf);
    ewh_log_info("desk: listening on %s", url);
    while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
        ;
    atomic_store(&s_g.stopping, true);
    MHD_stop_daemon(daemon);
    node_users_close(&s_g.u);
    return 0;
}
