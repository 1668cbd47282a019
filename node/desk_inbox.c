/* desk_inbox.c — the inbox: filters and search as the CLI's, pages, the
 * live fragment and the alerts fragment. */
#include "desk_int.h"

/* ---- report lists --------------------------------------------------- */

const char *
node_desk_level_class(enum ewh_level l)
{
    return ewh_level_name(l);
}

static int
s_inbox_row(void *ctx, const struct node_msg *m)
{
    struct node_desk_list *l = ctx;
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
              node_desk_level_class(m->level), m->id,
              node_desk_level_class(m->level), ewh_level_name(m->level),
              (long long)m->received_at, m->origin, ewh_type_name(m->type),
              m->category, m->id, m->title, &sup, &ack);
    node_buf_free(&sup);
    node_buf_free(&ack);
    return 0;
}

int
node_desk_query(struct node_desk_req *r, struct node_desk_query *q,
                bool outgoing, const char **bad)
{
    const char *level = node_desk_arg(r, "level"),
               *from = node_desk_arg(r, "from"),
               *unacked = node_desk_arg(r, "unacked"),
               *page = node_desk_arg(r, "page"),
               *search = node_desk_arg(r, "q"),
               *cat = node_desk_arg(r, "category"),
               *within = node_desk_arg(r, "within");
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

void
node_desk_pager(struct node_buf *b, const char *base,
                const struct node_desk_query *q, bool more)
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
s_inbox_html(struct node_buf *b, const struct node_desk_query *q,
             struct ewh_err *err)
{
    struct node_desk_list pend = {.max = EWH_DESK_PAGE_ROWS},
                          all = {.max = EWH_DESK_PAGE_ROWS};
    struct node_filter f = q->f;
    struct node_buf pager, head;
    int rc = 0;

    node_buf_init(&head);
    s_inbox_head(&head);
    node_buf_init(&pend.rows);
    node_buf_init(&all.rows);
    node_buf_init(&pager);
    pthread_mutex_lock(&node_desk_g.store_lock);
    if (q->page == 1 && !q->f.unacked) {
        /* High first: what awaits acknowledgement, by level. */
        f.unacked = true;
        f.level_newest = true;
        f.limit = EWH_DESK_PAGE_ROWS + 1;
        rc = node_store_msg_list(node_desk_g.d->store, &f, s_inbox_row, &pend,
                                 err);
        rc = rc > 0 ? 0 : rc; /* 1: the row callback stopped at a page */
    }
    f = q->f;
    if (f.unacked)
        f.level_newest = true;
    f.limit = EWH_DESK_PAGE_ROWS + 1;
    f.offset = (size_t)(q->page - 1) * EWH_DESK_PAGE_ROWS;
    if (rc == 0)
        rc = node_store_msg_list(node_desk_g.d->store, &f, s_inbox_row, &all,
                                 err);
    rc = rc > 0 ? 0 : rc;
    pthread_mutex_unlock(&node_desk_g.store_lock);
    if (rc == 0) {
        node_desk_pager(&pager, "/inbox", q, all.more);
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

enum MHD_Result
node_desk_inbox(struct node_desk_req *r, bool fragment)
{
    struct node_desk_query q;
    struct ewh_err err = {0};
    struct node_buf b, list;
    const char *bad = NULL, *lv;
    static const char *const levels[] = {"all", "high", "medium", "low"};
    static const char *const withins[] = {"any", "24h", "7d", "30d"};
    size_t i;

    NEED(r, NODE_ROLE_LIAISON, !fragment);
    if (node_desk_query(r, &q, false, &bad) != 0)
        return fragment ? node_desk_text(r, MHD_HTTP_BAD_REQUEST, bad)
                        : node_desk_error_page(r, MHD_HTTP_BAD_REQUEST, bad);
    node_buf_init(&b);
    node_buf_init(&list);
    if (s_inbox_html(&list, &q, &err) != 0) {
        node_buf_free(&list);
        node_buf_free(&b);
        /* the store refuses too many or too long search words */
        if (err.code == EWH_E_TOOBIG || err.code == EWH_E_INVALID)
            return fragment
                       ? node_desk_text(r, MHD_HTTP_BAD_REQUEST, err.reason)
                       : node_desk_error_page(r, MHD_HTTP_BAD_REQUEST,
                                              err.reason);
        return node_desk_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err.reason);
    }
    if (fragment) {
        node_buf_free(&b);
        r->out = list;
        return node_desk_respond(r);
    }
    lv = node_desk_arg(r, "level");
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
        pthread_mutex_lock(&node_desk_g.store_lock);
        ro = node_dir_roster(node_desk_g.d, &rerr);
        pthread_mutex_unlock(&node_desk_g.store_lock);
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
    node_desk_page(r, "Inbox", &b);
    node_buf_free(&b);
    node_buf_free(&list);
    return node_desk_respond(r);
}

enum MHD_Result
node_desk_alerts(struct node_desk_req *r)
{
    NEED(r, NODE_ROLE_LIAISON, false);
    node_desk_alerts_html(&r->out);
    return node_desk_respond(r);
}
