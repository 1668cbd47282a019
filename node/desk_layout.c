/* desk_layout.c — the page frame: navigation, the alert and escalation
 * banners, the exchange reminder, error pages and the role check. */
#include "desk_int.h"

/* The banner: unacknowledged high reports (and medium when escalation
 * covers medium), escalated ones louder. */
struct s_alerts {
    struct node_buf items;
    size_t n;
    int max_step;
    struct ewh_err err; /* desk.db's, from the row callback */
};

/* For analysts: their reports at a watched level that an addressee has
 * had longer than escalate_after without acknowledging ("not
 * acknowledged at HR after 15 min"), among the newest sent ones. */
struct s_late {
    struct node_buf items;
    size_t n;
    int64_t now;
};

/* ---- layout --------------------------------------------------------- */

bool
node_desk_has(const struct node_desk_req *r, unsigned role)
{
    return r->signed_in && (r->s.roles & role) != 0;
}

static int
s_alert_one(void *ctx, const struct node_msg *m)
{
    struct s_alerts *a = ctx;
    int step;

    if (m->superseded_by[0] && m->superseded_type == EWH_TYPE_CANCEL)
        return 0;
    if (node_users_escalation_step(node_desk_g.u, m->id, &step, &a->err) != 0)
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

void
node_desk_alerts_html(struct node_buf *b)
{
    struct node_filter f = {0};
    struct s_alerts a = {0};
    struct ewh_err err = {0};
    int rc;

    f.levels = (1u << EWH_LEVEL_HIGH) |
               (node_desk_g.c->escalate_levels & (1u << EWH_LEVEL_MEDIUM));
    f.unacked = true;
    f.level_newest = true;
    f.limit = EWH_DESK_MAX_ALERTS;
    node_buf_init(&a.items);
    pthread_mutex_lock(&node_desk_g.store_lock);
    rc = node_store_msg_list(node_desk_g.d->store, &f, s_alert_one, &a, &err);
    pthread_mutex_unlock(&node_desk_g.store_lock);
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

static int
s_late_one(void *ctx, const struct node_msg *m)
{
    struct s_late *l = ctx;
    size_t i;

    if ((node_desk_g.c->escalate_levels & (1u << m->level)) == 0 ||
        (m->expires_at > 0 && l->now > m->expires_at) ||
        m->type == EWH_TYPE_CANCEL)
        return 0;
    for (i = 0; i < m->n_rcpt; i++) {
        const struct node_rcpt *rc = &m->rcpt[i];
        int64_t late = l->now - rc->at;
        if (rc->state != NODE_R_DELIVERED ||
            late < node_desk_g.c->escalate_after_s[0] ||
            l->n == EWH_DESK_MAX_ALERTS)
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

void
node_desk_late_html(struct node_buf *b)
{
    struct node_filter f = {0};
    struct s_late l = {0};
    struct ewh_err err = {0};
    int rc;

    f.outgoing = true;
    f.limit = 200;
    l.now = ewh_now();
    node_buf_init(&l.items);
    pthread_mutex_lock(&node_desk_g.store_lock);
    rc = node_store_msg_list(node_desk_g.d->store, &f, s_late_one, &l, &err);
    pthread_mutex_unlock(&node_desk_g.store_lock);
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
    pthread_mutex_lock(&node_desk_g.store_lock);
    n = node_exchange_remind(node_desk_g.d, ewh_now(), f);
    pthread_mutex_unlock(&node_desk_g.store_lock);
    if (fclose(f) == 0 && n > 0 && txt != NULL) {
        while (len > 0 && txt[len - 1] == '\n')
            txt[--len] = '\0';
        node_html(b, "<div class=notice id=exchange-remind>{s}</div>", txt);
    }
    free(txt);
}

void
node_desk_page(struct node_desk_req *r, const char *title,
               const struct node_buf *body)
{
    struct node_buf nav, alerts, who;
    char roles[48];

    node_buf_init(&nav);
    node_buf_init(&alerts);
    node_buf_init(&who);
    if (node_desk_has(r, NODE_ROLE_LIAISON))
        node_html(&nav, "<a href=\"/inbox\">Inbox</a>");
    if (node_desk_has(r, NODE_ROLE_ANALYST))
        node_html(&nav, "<a href=\"/submit\">New report</a>"
                        "<a href=\"/outbox\">Outbox</a>");
    if (r->signed_in)
        node_html(&nav, "<a href=\"/peers\">Peers</a>");
    if (node_desk_has(r, NODE_ROLE_ADMIN))
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
    if (node_desk_has(r, NODE_ROLE_ANALYST)) {
        struct node_buf inner;
        node_buf_init(&inner);
        node_desk_late_html(&inner);
        node_html(&alerts,
                  "<div id=late-live data-live=\"/live/late\">{h}"
                  "</div>",
                  &inner);
        node_buf_free(&inner);
    }
    if (node_desk_has(r, NODE_ROLE_ANALYST) ||
        node_desk_has(r, NODE_ROLE_ADMIN))
        s_remind_html(&alerts);
    if (node_desk_has(r, NODE_ROLE_LIAISON)) {
        struct node_buf inner;
        node_buf_init(&inner);
        node_desk_alerts_html(&inner);
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
              title, node_desk_g.d->cfg.country, node_desk_g.d->cfg.country,
              &nav, &who, &alerts, title, body);
    node_buf_free(&nav);
    node_buf_free(&alerts);
    node_buf_free(&who);
}

enum MHD_Result
node_desk_error_page(struct node_desk_req *r, unsigned status, const char *msg)
{
    struct node_buf b;

    node_buf_init(&b);
    node_html(&b, "<p class=error id=refused>{s}</p>", msg);
    r->status = status;
    node_desk_page(r, "Refused", &b);
    node_buf_free(&b);
    return node_desk_respond(r);
}

/* No session: HTML pages go to the sign-in page, everything else gets
 * 401 and no content. */
enum MHD_Result
node_desk_need(struct node_desk_req *r, unsigned role, bool page)
{
    if (!r->signed_in)
        return page ? node_desk_redirect(r, "/login")
                    : node_desk_text(r, MHD_HTTP_UNAUTHORIZED, "sign in first");
    if ((r->s.roles & role) == 0)
        return page ? node_desk_error_page(r, MHD_HTTP_FORBIDDEN,
                                           "Your roles do not allow this page.")
                    : node_desk_text(r, MHD_HTTP_FORBIDDEN,
                                     "roles do not allow this");
    return MHD_YES;
}
