/* desk_submit.c — the submit form: every field, the catalogue's guidance,
 * validation next to the field. */
#include "desk_int.h"
#include "foreign.h"

struct s_sub {
    const char *level, *to, *category, *title, *body, *tlp, *expires, *urgency,
        *certainty, *updates, *cancels, *reason;
    const char *type, *distribution; /* issue 22 */
    const char *ccs[EWH_MAX_RECIPIENTS];
    size_t n_ccs;
    const char *err_field, *err_reason;
};

/* ---- submit --------------------------------------------------------- */

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
s_guidance_html(struct node_desk_req *r, struct node_buf *b,
                const char *const *cats)
{
    struct ewh_err err = {0};
    ewh_catalogue_t *c = NULL;
    json_t *req, *rep = NULL;
    const char *txt;
    uint64_t based_on = 0;
    size_t i, j;
    int lv;

    req = json_pack("{s:s, s:s}", "op", "catalogue", "token", r->token);
    rep = req ? node_desk_priv(req, &err) : NULL;
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
s_submit_form(struct node_desk_req *r, const struct s_sub *v)
{
    static const char *const levels[] = {"high", "medium", "low", NULL};
    static const char *const tlps[] = {"red", "amber", "green", "clear", NULL};
    static const char *const types[] = {"alert", "lessons", NULL};
    static const char *const dists[] = {"region", "connected", "all", NULL};
    static const char *const urg[] = {"",     "Immediate", "Expected", "Future",
                                      "Past", "Unknown",   NULL};
    static const char *const cer[] = {
        "", "Observed", "Likely", "Possible", "Unlikely", "Unknown", NULL};
    const char *cats[EWH_MAX_CATEGORIES + 1];
    struct ewh_err err = {0};
    struct node_buf b, ccs;
    ewh_roster_t *ro;
    node_foreign_t *fo = NULL;
    const char *ref = v->updates ? v->updates : v->cancels;
    const char *to = v->to ? v->to : ref ? "same" : "all";
    size_t i, n = 0;
    bool revoked;

    node_buf_init(&b);
    node_buf_init(&ccs);
    pthread_mutex_lock(&node_desk_g.store_lock);
    ro = node_dir_roster(node_desk_g.d, &err);
    pthread_mutex_unlock(&node_desk_g.store_lock);
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
            if (revoked || strcmp(id->country, node_desk_g.d->cfg.country) == 0)
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
    /* issue 22: other regions' countries, with their region (the
     * distribution must reach them: docs/federation-node.md) */
    pthread_mutex_lock(&node_desk_g.store_lock);
    fo = ro != NULL ? node_foreign_load(node_desk_g.d->store, NULL) : NULL;
    pthread_mutex_unlock(&node_desk_g.store_lock);
    for (i = 0; i < node_foreign_count(fo); i++) {
        const char *region;
        const ewh_roster_t *fr = node_foreign_at(fo, i, &region);
        size_t j;
        node_html(&ccs, "<span class=region>{s}:</span> ", region);
        for (j = 0; j < ewh_roster_count(fr); j++) {
            const struct ewh_pubid *id = ewh_roster_at(fr, j, &revoked);
            if (revoked)
                continue;
            node_html(&ccs,
                      "<label class=cc><input type=checkbox name=cc "
                      "value=\"{s}\" data-region=\"{s}\"{s}> {s}</label> ",
                      id->country, region,
                      s_cc_chosen(v, id->country) ? " checked" : "",
                      id->country);
        }
    }
    node_foreign_destroy(&fo);
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
    if (ref == NULL) {
        /* lessons learned: low or medium, 90 days unless given
         * (docs/federation-node.md) */
        s_select(&b, v, "type", "Type (lessons: lessons learned)", types,
                 v->type ? v->type : "alert");
        s_field_err(&b, v, "type");
    }
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
    if (ref == NULL) /* an update or cancel keeps its chain's */
        s_select(&b, v, "distribution",
                 "Distribution (region: never leaves this region; "
                 "connected: also directly peered regions; all: onward "
                 "through peers)",
                 dists, v->distribution ? v->distribution : "region");
    s_field_err(&b, v, "distribution");
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
    node_desk_page(r,
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
               {"reason", EWH_MAX_LEVEL_REASON_BYTES},
               {"type", 16},
               {"distribution", 16}};
    const char *vals[] = {v->level,       v->category, v->title,   v->body,
                          v->tlp,         v->expires,  v->urgency, v->certainty,
                          v->updates,     v->cancels,  v->reason,  v->type,
                          v->distribution};
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

enum MHD_Result
node_desk_submit(struct node_desk_req *r)
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
        v.updates = node_desk_arg(r, "updates");
        v.cancels = node_desk_arg(r, "cancels");
        if ((v.updates && strlen(v.updates) > 64) ||
            (v.cancels && strlen(v.cancels) > 64))
            return node_desk_error_page(r, MHD_HTTP_BAD_REQUEST,
                                        "bad report id");
        if (v.updates != NULL || v.cancels != NULL) {
            /* Start from the earlier report's fields. */
            struct node_msg m;
            const char *ref = v.updates ? v.updates : v.cancels;
            enum MHD_Result res2;
            if (!node_desk_is_hex_id(ref, strlen(ref)) ||
                node_desk_report_load(r, ref, &m, &res2) != 0) {
                if (!node_desk_is_hex_id(ref, strlen(ref)))
                    return node_desk_error_page(r, MHD_HTTP_BAD_REQUEST,
                                                "bad report id");
                return res2;
            }
            if (!m.outgoing) {
                node_msg_clear(&m);
                return node_desk_error_page(
                    r, MHD_HTTP_BAD_REQUEST,
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
            return node_desk_respond(r);
        }
        s_submit_form(r, &v);
        return node_desk_respond(r);
    }
    if (!node_desk_csrf_ok(r))
        return node_desk_error_page(
            r, MHD_HTTP_FORBIDDEN,
            "Refused: the form's CSRF token is missing or "
            "wrong. Reload the page and try again.");
    v.level = node_desk_form(r, "level");
    v.to = node_desk_form(r, "to");
    v.category = node_desk_form(r, "category");
    v.title = node_desk_form(r, "title");
    v.body = node_desk_form(r, "body");
    v.tlp = node_desk_form(r, "tlp");
    v.expires = node_desk_form(r, "expires");
    v.urgency = node_desk_form(r, "urgency");
    v.certainty = node_desk_form(r, "certainty");
    v.updates = node_desk_form(r, "updates");
    v.cancels = node_desk_form(r, "cancels");
    v.reason = node_desk_form(r, "reason");
    v.type = node_desk_form(r, "type");
    v.distribution = node_desk_form(r, "distribution");
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
        return node_desk_respond(r);
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
    s_json_opt(f, "type", v.type);
    s_json_opt(f, "distribution", v.distribution);
    if (f != NULL && v.reason != NULL && v.reason[0] != '\0' &&
        json_object_get(f, "reason") == NULL) {
        json_decref(f);
        f = NULL;
        v.err_field = "reason";
        v.err_reason = "the reason is not valid UTF-8 text";
        r->status = 422;
        s_submit_form(r, &v);
        return node_desk_respond(r);
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
        return node_desk_respond(r);
    }
    if (f != NULL)
        req = json_pack("{s:s, s:s, s:o}", "op", "submit", "token", r->token,
                        "fields", f);
    rep = req ? node_desk_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return node_desk_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    err.reason[0] ? err.reason
                                                  : "out of memory");
    if (!json_is_true(json_object_get(rep, "ok"))) {
        int code = (int)json_integer_value(json_object_get(rep, "code"));
        if (code == EWH_E_FORBIDDEN || code == EWH_E_AUTH) {
            res = node_desk_error_page(
                r, MHD_HTTP_FORBIDDEN,
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
        return node_desk_respond(r);
    }
    snprintf(loc, sizeof(loc), "/report/%.32s",
             json_string_value(json_object_get(rep, "id")));
    node_desk_sent_put(r->token, loc + 8,
                       json_string_value(json_object_get(rep, "notes")));
    json_decref(rep);
    return node_desk_redirect(r, loc);
}
