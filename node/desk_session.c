/* desk_session.c — sign-in, sign-out, the session cookie and the CSRF
 * check. */
#include "desk_int.h"

/* Every change carries the session's CSRF token. */
bool
node_desk_csrf_ok(const struct node_desk_req *r)
{
    const char *t = node_desk_form(r, "csrf");

    return r->signed_in && t != NULL && strlen(t) == strlen(r->s.csrf) &&
           sodium_memcmp(t, r->s.csrf, strlen(t)) == 0;
}

/* ---- sign-in -------------------------------------------------------- */

static void
s_login_form(struct node_desk_req *r, const char *msg)
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
    node_desk_page(r, "Sign in", &b);
    node_buf_free(&b);
}

enum MHD_Result
node_desk_login(struct node_desk_req *r)
{
    struct node_session s;
    struct ewh_err err = {0};
    const char *name, *pw;
    int rc;

    if (!r->post) {
        if (r->signed_in)
            return node_desk_redirect(r, "/");
        s_login_form(r, NULL);
        return node_desk_respond(r);
    }
    name = node_desk_form(r, "name");
    pw = node_desk_form(r, "password");
    if (name == NULL || pw == NULL) {
        r->status = MHD_HTTP_BAD_REQUEST;
        s_login_form(r, "Give a name and a password.");
        return node_desk_respond(r);
    }
    /* Password hashing is serialized: each costs EWH_DESK_PWHASH_MEMLIMIT
     * of memory, and many sign-ins at once must not exhaust it. */
    pthread_mutex_lock(&node_desk_g.login_lock);
    rc = node_users_login(node_desk_g.u, name, pw, strlen(pw), ewh_now(),
                          &node_desk_g.c->policy, &s, &err);
    pthread_mutex_unlock(&node_desk_g.login_lock);
    if (rc != 0) {
        ewh_log_info("desk: sign-in refused name=%.32s code=%s", name,
                     ewh_errcode_name(err.code));
        if (node_user_name_is_valid(name))
            node_desk_audit(name,
                            err.code == EWH_E_LOCKED ? "sign-in-locked"
                                                     : "sign-in-refused",
                            "", "");
        r->status = err.code == EWH_E_LOCKED ? 423 : MHD_HTTP_UNAUTHORIZED;
        s_login_form(r, err.code == EWH_E_LOCKED || err.code == EWH_E_AUTH
                            ? err.reason
                            : "The sign-in failed.");
        return node_desk_respond(r);
    }
    snprintf(r->cookie, sizeof(r->cookie),
             "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", node_desk_g.cookie,
             s.token, node_desk_g.tls ? "; Secure" : "");
    node_desk_audit(s.name, "sign-in", "", "");
    ewh_log_info("desk: sign-in name=%s", s.name);
    sodium_memzero(&s, sizeof(s));
    return node_desk_redirect(r, "/");
}

enum MHD_Result
node_desk_logout(struct node_desk_req *r)
{
    struct ewh_err err = {0};

    if (!r->post)
        return node_desk_text(r, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
    if (!node_desk_csrf_ok(r))
        return node_desk_text(r, MHD_HTTP_FORBIDDEN, "refused: bad CSRF token");
    if (node_users_logout(node_desk_g.u, r->token, &err) != 0)
        ewh_log_warnx("desk: %s", err.reason);
    node_desk_audit(r->s.name, "sign-out", "", "");
    snprintf(r->cookie, sizeof(r->cookie),
             "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
             node_desk_g.cookie, node_desk_g.tls ? "; Secure" : "");
    return node_desk_redirect(r, "/login");
}
