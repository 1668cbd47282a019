/* desk_outbox.c — the outbox: per-addressee state, who acknowledged and
 * when, and which hubs accepted each report. */
#include "desk_int.h"

/* ---- outbox --------------------------------------------------------- */

void
node_desk_rcpt_html(struct node_buf *b, const struct node_msg *m, int64_t now)
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
            bool watched =
                (node_desk_g.c->escalate_levels & (1u << m->level)) != 0;
            node_html(b, "<li data-cc=\"{s}\">{s}: delivered at {t}", rc->cc,
                      rc->cc, (long long)rc->at);
            if (watched && late >= node_desk_g.c->escalate_after_s[0]) {
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

/* Which hubs have it (issue 18): "accepted by 2 of 2 hubs", and a hub
 * it was sent to again after that hub lost data. */
static void
s_hubs_html(struct node_buf *b, const struct node_msg *m)
{
    size_t i;

    if (m->n_hubs == 0)
        return;
    node_html(b, "<br><span class=hubs>accepted by {d} of {d} hub{s}</span>",
              (long long)m->n_hubs_accepted, (long long)m->n_hubs,
              m->n_hubs == 1 ? "" : "s");
    for (i = 0; i < m->n_hubs; i++)
        if (m->hubs[i].resent_at != 0)
            node_html(b,
                      "<br><span class=refill>resent to {s} after it lost "
                      "data at {t}</span>",
                      m->hubs[i].endpoint, (long long)m->hubs[i].resent_at);
}

static int
s_outbox_row(void *ctx, const struct node_msg *m)
{
    struct node_desk_list *l = ctx;
    struct node_buf rc, hubs;

    if (l->n == l->max) {
        l->more = true;
        return 1;
    }
    l->n++;
    node_buf_init(&rc);
    node_buf_init(&hubs);
    node_desk_rcpt_html(&rc, m, l->now);
    s_hubs_html(&hubs, m);
    node_html(&l->rows,
              "<tr class=\"{s}\" data-id=\"{s}\"><td class=\"lvl-{s}\">{s}"
              "</td><td>{t}</td><td>{s}</td><td>{s}</td><td><a "
              "href=\"/report/{s}\">{s}</a></td><td>{s}{s}{s}{h}</td><td><ul>"
              "{h}</ul></td></tr>",
              node_desk_level_class(m->level), m->id,
              node_desk_level_class(m->level), ewh_level_name(m->level),
              (long long)m->created_at, ewh_type_name(m->type), m->category,
              m->id, m->title, m->state, m->reason[0] ? ": " : "", m->reason,
              &hubs, &rc);
    node_buf_free(&rc);
    node_buf_free(&hubs);
    return 0;
}

enum MHD_Result
node_desk_outbox(struct node_desk_req *r, bool fragment)
{
    struct node_desk_query q;
    struct node_desk_list l = {.max = EWH_DESK_PAGE_ROWS};
    struct ewh_err err = {0};
    struct node_buf b, list, pager;
    const char *bad = NULL;
    int rc;

    NEED(r, NODE_ROLE_ANALYST, !fragment);
    if (node_desk_query(r, &q, true, &bad) != 0)
        return node_desk_text(r, MHD_HTTP_BAD_REQUEST, bad);
    l.now = ewh_now();
    q.f.limit = EWH_DESK_PAGE_ROWS + 1;
    q.f.offset = (size_t)(q.page - 1) * EWH_DESK_PAGE_ROWS;
    node_buf_init(&l.rows);
    node_buf_init(&b);
    node_buf_init(&list);
    node_buf_init(&pager);
    pthread_mutex_lock(&node_desk_g.store_lock);
    rc =
        node_store_msg_list(node_desk_g.d->store, &q.f, s_outbox_row, &l, &err);
    rc = rc > 0 ? 0 : rc; /* 1: the row callback stopped at a page */
    pthread_mutex_unlock(&node_desk_g.store_lock);
    if (rc != 0) {
        node_buf_free(&l.rows);
        return node_desk_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err.reason);
    }
    node_desk_pager(&pager, "/outbox", &q, l.more);
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
        return node_desk_respond(r);
    }
    node_html(&b,
              "<div id=outbox-live data-live=\"/live/outbox?page={d}\">{h}"
              "</div>",
              (long long)q.page, &list);
    node_buf_free(&list);
    node_desk_page(r, "Outbox", &b);
    node_buf_free(&b);
    return node_desk_respond(r);
}
