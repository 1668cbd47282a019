/* desk_admin.c — the admin pages: accounts, the audit log, and the read-
 * only settings. */
#include "desk_int.h"

struct s_admin_ctx {
    struct node_buf *rows;
    const struct node_desk_req *r;
};

static const char *
s_secs(char *buf, size_t n, int64_t s)
{
    snprintf(buf, n, "%lld s", (long long)s);
    return buf;
}

/* GET /settings: what the desk runs with, read-only (docs/desk.md: the
 * node's administrator changes them in ewnode.conf). */
enum MHD_Result
node_desk_settings(struct node_desk_req *r)
{
    const struct node_desk_config *c = node_desk_g.c;
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
        c->listen, node_desk_g.tls ? "yes" : "no",
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
        s_secs(ff, sizeof(ff), (int64_t)node_desk_g.d->cfg.hook_timeout_s),
        node_desk_g.d->cfg.unverified_warn
            ? "warn: sealed for, with a warning"
            : "refuse: nothing is sealed for them until verified");
    node_desk_page(r, "Settings", &b);
    node_buf_free(&b);
    return node_desk_respond(r);
}

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

enum MHD_Result
node_desk_admin(struct node_desk_req *r, const char *msg, bool ok)
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
    if (node_users_list(node_desk_g.u, s_admin_user, &actx, &err) != 0 ||
        node_users_audit_list(node_desk_g.u, EWH_DESK_MAX_AUDIT_ROWS,
                              s_admin_audit, &audit, &err) != 0)
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
    node_desk_page(r, "Accounts and audit", &b);
    node_buf_free(&b);
    node_buf_free(&users);
    node_buf_free(&audit);
    node_buf_free(&boxes);
    return node_desk_respond(r);
}

/* POST /admin/user: add, del, role, passwd, done by the privileged part
 * after it checked the admin's session. */
enum MHD_Result
node_desk_admin_user_post(struct node_desk_req *r)
{
    struct ewh_err err = {0};
    const char *action = node_desk_form(r, "action"),
               *name = node_desk_form(r, "name"),
               *pw = node_desk_form(r, "password");
    char msg[EWH_MAX_REASON_BYTES + 64];
    unsigned roles = 0;
    json_t *req, *rep;
    bool ok;
    size_t i;

    NEED(r, NODE_ROLE_ADMIN, true);
    if (!node_desk_csrf_ok(r))
        return node_desk_error_page(
            r, MHD_HTTP_FORBIDDEN,
            "Refused: the form's CSRF token is missing or "
            "wrong. Reload the page and try again.");
    if (action == NULL || name == NULL || strlen(action) > 8 ||
        !node_user_name_is_valid(name) ||
        (pw != NULL && strlen(pw) > EWH_DESK_MAX_PASSWORD_BYTES)) {
        r->status = MHD_HTTP_BAD_REQUEST;
        return node_desk_admin(r, "Give a valid name (A-Z a-z 0-9 . _ -).",
                               false);
    }
    for (i = 0; i < r->cn->n; i++)
        if (strcmp(r->cn->f[i].name, "role") == 0) {
            unsigned one = 0;
            if (node_roles_parse(r->cn->f[i].val.p ? r->cn->f[i].val.p : "",
                                 &one, &err) != 0) {
                r->status = MHD_HTTP_BAD_REQUEST;
                return node_desk_admin(r, err.reason, false);
            }
            roles |= one;
        }
    if ((strcmp(action, "add") == 0 || strcmp(action, "role") == 0) &&
        roles == 0) {
        r->status = 422;
        return node_desk_admin(r, "Tick at least one role.", false);
    }
    req = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "op", "user", "token",
                    r->token, "action", action, "name", name, "roles",
                    (int)roles, "password", pw ? pw : "");
    rep = req ? node_desk_priv(req, &err) : NULL;
    json_decref(req);
    if (rep == NULL)
        return node_desk_error_page(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    err.reason[0] ? err.reason
                                                  : "out of memory");
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
    return node_desk_admin(r, msg, ok);
}
