/* desk_priv.c — the desk's privileged part (desk.h): it holds node.key,
 * signs submits and acknowledgements for the HTTP part after checking the
 * person's session and roles itself, and runs the escalation timer. */
#include "desk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "action.h"
#include "catalogue.h"
#include "ewh/log.h"
#include "trust.h"

/* ---- messages ------------------------------------------------------- */

int
node_desk_send(int fd, json_t *msg, struct ewh_err *err)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    size_t len;
    ssize_t n;

    if (s == NULL)
        return ewh_err_set(err, EWH_E_NOMEM, "out of memory");
    len = strlen(s);
    if (len > NODE_DESK_MAX_MSG) {
        sodium_memzero(s, len);
        free(s);
        return ewh_err_set(err, EWH_E_TOOBIG, "desk message of %zu bytes", len);
    }
    do
        n = send(fd, s, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    sodium_memzero(s, len);
    free(s);
    if (n != (ssize_t)len)
        return ewh_err_set(err, EWH_E_IO, "desk socket: %s",
                           n < 0 ? strerror(errno) : "short send");
    return 0;
}

json_t *
node_desk_recv(int fd, struct ewh_err *err)
{
    char *buf = malloc(NODE_DESK_MAX_MSG + 1);
    json_error_t je;
    json_t *j;
    ssize_t n;

    if (buf == NULL) {
        ewh_err_set(err, EWH_E_NOMEM, "out of memory");
        return NULL;
    }
    do
        n = recv(fd, buf, NODE_DESK_MAX_MSG + 1, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n <= 0 || (size_t)n > NODE_DESK_MAX_MSG) {
        free(buf);
        ewh_err_set(err, n == 0 ? EWH_E_IO : EWH_E_TOOBIG, "desk socket: %s",
                    n < 0    ? strerror(errno)
                    : n == 0 ? "closed"
                             : "message too big");
        return NULL;
    }
    j = json_loadb(buf, (size_t)n, 0, &je);
    sodium_memzero(buf, (size_t)n);
    free(buf);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        ewh_err_set(err, EWH_E_INVALID, "desk socket: not a JSON object");
        return NULL;
    }
    return j;
}

/* ---- requests ------------------------------------------------------- */

struct s_priv {
    struct node_dir *d;
    const struct node_desk_config *c;
    node_users_t *u;
    pid_t hooks[2 * EWH_DESK_MAX_ALERTS];
    int64_t hook_deadline[2 * EWH_DESK_MAX_ALERTS];
};

static const char *
s_str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_t *
s_refusal(const struct ewh_err *err, const char *field)
{
    return json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "code", (int)err->code,
                     "reason", err->reason, "field", field ? field : "");
}

/* The session, checked here again: the HTTP part cannot act for anyone
 * who is not signed in, nor beyond their roles. */
static int
s_session(struct s_priv *p, json_t *req, unsigned role, struct node_session *s,
          struct ewh_err *err)
{
    if (node_users_session(p->u, s_str(req, "token"), ewh_now(), &p->c->policy,
                           false, s, err) != 0)
        return -1;
    if ((s->roles & role) == 0)
        return ewh_err_set(err, EWH_E_FORBIDDEN, "%s may not do this (roles)",
                           s->name);
    return 0;
}

static json_t *
s_do_submit(struct s_priv *p, json_t *req)
{
    struct node_submit_req q;
    struct node_session s;
    struct ewh_err err = {0};
    json_t *f = json_object_get(req, "fields");
    const char *field = "", *v;
    char id[EWH_ID_HEX], detail[128];
    struct node_action_notes notes;

    if (s_session(p, req, NODE_ROLE_ANALYST, &s, &err) != 0)
        return s_refusal(&err, "");
    if (!json_is_object(f)) {
        ewh_err_set(&err, EWH_E_INVALID, "no fields");
        return s_refusal(&err, "");
    }
    memset(&q, 0, sizeof(q));
    q.level = s_str(f, "level");
    q.to = s_str(f, "to");
    q.category = s_str(f, "category");
    q.title = s_str(f, "title");
    if ((v = s_str(f, "body")) != NULL) {
        q.body = v;
        q.body_len = json_string_length(json_object_get(f, "body"));
    }
    q.tlp = s_str(f, "tlp");
    q.expires = s_str(f, "expires");
    q.urgency = s_str(f, "urgency");
    q.certainty = s_str(f, "certainty");
    q.updates = s_str(f, "updates");
    q.cancels = s_str(f, "cancels");
    /* Why the level departs from the catalogue's default: sealed in the
     * report as with `ewnode submit --reason`. */
    q.reason = s_str(f, "reason");
    q.type = s_str(f, "type");
    q.distribution = s_str(f, "distribution");
    /* The report's author is the signed-in person. */
    q.author = s.name;
    memset(&notes, 0, sizeof(notes));
    if (node_action_submit_noted(p->d, &q, id, &field, &notes, &err) != 0) {
        ewh_log_info("desk: submit refused who=%s field=%s code=%s", s.name,
                     field, ewh_errcode_name(err.code));
        return s_refusal(&err, field);
    }
    snprintf(detail, sizeof(detail), "level=%s to=%.64s",
             q.level ? q.level : "-", q.to ? q.to : "(as before)");
    if (node_users_audit(p->u, ewh_now(), s.name,
                         q.updates   ? "update"
                         : q.cancels ? "cancel"
                                     : "submit",
                         id, detail, &err) != 0)
        ewh_log_warnx("desk: audit: %s", err.reason);
    ewh_log_info("desk: submit id=%s who=%s", id, s.name);
    /* The notes (catalogue guidance, warnings) for the person; the HTTP
     * part shows them on the report's page. */
    return json_pack("{s:b, s:s, s:s%}", "ok", 1, "id", id, "notes", notes.text,
                     notes.len);
}

/* The catalogue of concern held (verified here, where DIR/catalogue.signed
 * is in reach: the HTTP part's confinement does not cover it), as the
 * reviewable JSON file (docs/catalogue.md) for the submit form's
 * guidance. */
static json_t *
s_do_catalogue(struct s_priv *p, json_t *req)
{
    struct node_session s;
    struct ewh_err err = {0};
    ewh_catalogue_t *c;
    char *text;
    json_t *rep;

    if (s_session(p, req, NODE_ROLE_ANALYST, &s, &err) != 0)
        return s_refusal(&err, "");
    if ((c = node_catalogue_load(p->d, &err)) == NULL)
        return s_refusal(&err, "");
    text = ewh_catalogue_to_json(c, &err);
    ewh_catalogue_destroy(&c);
    if (text == NULL)
        return s_refusal(&err, "");
    rep = json_pack("{s:b, s:s}", "ok", 1, "catalogue", text);
    free(text);
    return rep;
}

static json_t *
s_do_ack(struct s_priv *p, json_t *req)
{
    struct node_session s;
    struct ewh_err err = {0};
    const char *id = s_str(req, "id");
    char origin[EWH_CC_BYTES] = "";
    bool already = false;

    if (s_session(p, req, NODE_ROLE_LIAISON, &s, &err) != 0)
        return s_refusal(&err, "");
    if (id == NULL) {
        ewh_err_set(&err, EWH_E_INVALID, "no id");
        return s_refusal(&err, "");
    }
    if (node_action_ack(p->d, id, s.name, &already, origin, &err) != 0)
        return s_refusal(&err, "");
    if (!already) {
        if (node_users_audit(p->u, ewh_now(), s.name, "acknowledge", id, origin,
                             &err) != 0)
            ewh_log_warnx("desk: audit: %s", err.reason);
        ewh_log_info("desk: ack id=%.32s who=%s origin=%s", id, s.name, origin);
    }
    return json_pack("{s:b, s:b}", "ok", 1, "already", already);
}

/* Account changes from the admin page: the privileged part checks the
 * admin's session itself, as for submits.  An admin does not delete or
 * change their own account here (the CLI can), so that no one locks the
 * desk's last admin out by a slip. */
static json_t *
s_do_user(struct s_priv *p, json_t *req)
{
    struct node_session s;
    struct ewh_err err = {0};
    const char *action = s_str(req, "action"), *name = s_str(req, "name"),
               *pw = s_str(req, "password");
    json_int_t roles = json_integer_value(json_object_get(req, "roles"));
    char detail[64];
    int rc;

    if (s_session(p, req, NODE_ROLE_ADMIN, &s, &err) != 0)
        return s_refusal(&err, "");
    if (action == NULL || name == NULL) {
        ewh_err_set(&err, EWH_E_INVALID, "no action or name");
        return s_refusal(&err, "");
    }
    if (strcmp(name, s.name) == 0 && strcmp(action, "passwd") != 0) {
        ewh_err_set(&err, EWH_E_INVALID,
                    "you cannot delete or change the roles of your own "
                    "account here (ewnode user on the node can)");
        return s_refusal(&err, "name");
    }
    if (strcmp(action, "add") == 0)
        rc = node_users_add(p->u, name, (unsigned)roles, pw ? pw : "",
                            pw ? strlen(pw) : 0, &err);
    else if (strcmp(action, "del") == 0)
        rc = node_users_del(p->u, name, &err);
    else if (strcmp(action, "role") == 0)
        rc = node_users_set_roles(p->u, name, (unsigned)roles, &err);
    else if (strcmp(action, "passwd") == 0)
        rc = node_users_passwd(p->u, name, pw ? pw : "", pw ? strlen(pw) : 0,
                               &err);
    else
        rc = ewh_err_set(&err, EWH_E_INVALID, "unknown action");
    if (rc != 0)
        return s_refusal(
            &err, strstr(err.reason, "password") != NULL ? "password" : "name");
    snprintf(detail, sizeof(detail), "%.8s %.32s", action, name);
    if (node_users_audit(p->u, ewh_now(), s.name, "account", "", detail,
                         &err) != 0)
        ewh_log_warnx("desk: audit: %s", err.reason);
    ewh_log_info("desk: account %s name=%s by=%s", action, name, s.name);
    return json_pack("{s:b}", "ok", 1);
}

/* An admin verifies a peer from the peers page: the session is checked
 * here again, then the same node_trust_verify as `ewnode peers verify`
 * (a wrong fingerprint is refused with its message, and nothing
 * changes).  The audit log names the admin. */
static json_t *
s_do_verify(struct s_priv *p, json_t *req)
{
    struct node_session s;
    struct ewh_err err = {0};
    const char *cc = s_str(req, "cc"), *fp = s_str(req, "fingerprint");
    ewh_roster_t *ro = NULL;
    char detail[EWH_CC_BYTES + EWH_FINGERPRINT_CHARS + 1];

    if (s_session(p, req, NODE_ROLE_ADMIN, &s, &err) != 0)
        return s_refusal(&err, "");
    if (cc == NULL || fp == NULL || !ewh_country_is_valid(cc)) {
        ewh_err_set(&err, EWH_E_INVALID, "no country or fingerprint");
        return s_refusal(&err, "fingerprint");
    }
    if ((ro = node_dir_roster(p->d, &err)) == NULL)
        return s_refusal(&err, "");
    if (node_store_begin(p->d->store, &err) != 0) {
        ewh_roster_destroy(&ro);
        return s_refusal(&err, "");
    }
    if (node_trust_verify(p->d->store, ro, cc, fp, &err) != 0 ||
        node_store_commit(p->d->store, &err) != 0) {
        node_store_rollback(p->d->store);
        ewh_roster_destroy(&ro);
        ewh_log_info("desk: peer verify refused cc=%s who=%s code=%s", cc,
                     s.name, ewh_errcode_name(err.code));
        return s_refusal(&err, "fingerprint");
    }
    ewh_roster_destroy(&ro);
    snprintf(detail, sizeof(detail), "%s %s", cc, fp);
    if (node_users_audit(p->u, ewh_now(), s.name, "verify-peer", "", detail,
                         &err) != 0)
        ewh_log_warnx("desk: audit: %s", err.reason);
    ewh_log_info("desk: peer %s verified fingerprint=%s by=%s", cc, fp, s.name);
    return json_pack("{s:b}", "ok", 1);
}

static int
s_request(struct s_priv *p, int fd)
{
    struct ewh_err err = {0};
    json_t *req = node_desk_recv(fd, &err), *rep;
    const char *op;
    int rc;

    if (req == NULL) {
        if (err.code == EWH_E_IO)
            return -1; /* the HTTP part is gone */
        ewh_log_warnx("desk: bad request from the http part: %s", err.reason);
        ewh_err_set(&err, EWH_E_INVALID, "bad request");
        rep = s_refusal(&err, "");
    } else if ((op = s_str(req, "op")) != NULL && strcmp(op, "submit") == 0)
        rep = s_do_submit(p, req);
    else if (op != NULL && strcmp(op, "ack") == 0)
        rep = s_do_ack(p, req);
    else if (op != NULL && strcmp(op, "user") == 0)
        rep = s_do_user(p, req);
    else if (op != NULL && strcmp(op, "verify") == 0)
        rep = s_do_verify(p, req);
    else if (op != NULL && strcmp(op, "catalogue") == 0)
        rep = s_do_catalogue(p, req);
    else {
        ewh_err_set(&err, EWH_E_INVALID, "unknown op");
        rep = s_refusal(&err, "");
    }
    json_decref(req);
    rc = rep != NULL ? node_desk_send(fd, rep, &err) : -1;
    json_decref(rep);
    return rc;
}

/* ---- escalation ----------------------------------------------------- */

static void
s_setenv_ll(const char *k, long long v)
{
    char b[32];

    snprintf(b, sizeof(b), "%lld", v);
    setenv(k, b, 1);
}

static void
s_hook_start(struct s_priv *p, const struct node_msg *m, int step, int64_t age)
{
    const char *cmd = p->c->escalate_hook[step - 1];
    pid_t pid;
    size_t i;
    int fd;

    if (cmd[0] == '\0')
        return;
    for (i = 0; i < 2 * EWH_DESK_MAX_ALERTS; i++)
        if (p->hooks[i] == 0)
            break;
    if (i == 2 * EWH_DESK_MAX_ALERTS) {
        ewh_log_warnx("desk: escalation hook for id=%s not run: %u hooks "
                      "still running",
                      m->id, 2 * EWH_DESK_MAX_ALERTS);
        return;
    }
    if ((pid = fork()) < 0) {
        ewh_log_warn("desk: fork for escalation hook");
        return;
    }
    if (pid == 0) {
        /* Metadata only, unless escalate_content is set. */
        setenv("EWH_REPORT_ID", m->id, 1);
        setenv("EWH_LEVEL", ewh_level_name(m->level), 1);
        setenv("EWH_ORIGIN", m->origin, 1);
        setenv("EWH_COUNTRY", p->d->cfg.country, 1);
        setenv("EWH_CATEGORY", m->category, 1);
        setenv("EWH_TLP", ewh_tlp_name(m->tlp), 1);
        setenv("EWH_TYPE", ewh_type_name(m->type), 1);
        s_setenv_ll("EWH_STEP", step);
        s_setenv_ll("EWH_RECEIVED_AT", (long long)m->received_at);
        s_setenv_ll("EWH_UNACKED_S", (long long)age);
        s_setenv_ll("EWH_UNACKED_MIN", (long long)(age / 60));
        if (p->c->escalate_content) {
            setenv("EWH_TITLE", m->title, 1);
            setenv("EWH_BODY", m->body ? m->body : "", 1);
        }
        if ((fd = open("/dev/null", O_RDWR)) >= 0) {
            dup2(fd, STDIN_FILENO);
            if (fd > 2)
                close(fd);
        }
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    p->hooks[i] = pid;
    p->hook_deadline[i] =
        ewh_mono_ms() + (int64_t)p->d->cfg.hook_timeout_s * 1000;
    ewh_log_info("desk: escalation hook step=%d id=%s pid=%d", step, m->id,
                 (int)pid);
}

static void
s_hooks_reap(struct s_priv *p)
{
    int64_t now = ewh_mono_ms();
    size_t i;
    int st;

    for (i = 0; i < 2 * EWH_DESK_MAX_ALERTS; i++) {
        if (p->hooks[i] == 0)
            continue;
        if (waitpid(p->hooks[i], &st, WNOHANG) == p->hooks[i]) {
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                ewh_log_warnx("desk: escalation hook pid=%d failed (status "
                              "%d)",
                              (int)p->hooks[i], st);
            p->hooks[i] = 0;
        } else if (now > p->hook_deadline[i]) {
            ewh_log_warnx("desk: escalation hook pid=%d ran past %u s: "
                          "killed",
                          (int)p->hooks[i], p->d->cfg.hook_timeout_s);
            kill(-p->hooks[i], SIGKILL);
            p->hook_deadline[i] = now + 60000;
        }
    }
}

static int
s_escalate_one(void *ctx, const struct node_msg *m)
{
    struct s_priv *p = ctx;
    struct ewh_err err = {0};
    int64_t now = ewh_now(), age = now - m->received_at;
    bool fresh = false;
    int step, done;

    if (m->expires_at > 0 && now > m->expires_at)
        return 0;
    if (m->superseded_by[0] && m->superseded_type == EWH_TYPE_CANCEL)
        return 0;
    if (age < p->c->escalate_after_s[0])
        return 0;
    /* A read first: the scan runs every second, and an old unacknowledged
     * report must not cost a write (an fsync) each time. */
    if (node_users_escalation_step(p->u, m->id, &done, &err) != 0) {
        ewh_log_warnx("desk: escalation: %s", err.reason);
        return 0;
    }
    for (step = done + 1; step <= 2; step++) {
        if (p->c->escalate_after_s[step - 1] <= 0 ||
            age < p->c->escalate_after_s[step - 1])
            break;
        /* Recorded durably before the hook runs: each step fires once,
         * even across a restart (docs/desk.md). */
        if (node_users_escalation_mark(p->u, m->id, step, now, &fresh, &err) !=
            0) {
            ewh_log_warnx("desk: escalation: %s", err.reason);
            return 0;
        }
        if (!fresh)
            continue;
        ewh_log_info("desk: escalation step=%d id=%s level=%s from=%s "
                     "unacked=%llds",
                     step, m->id, ewh_level_name(m->level), m->origin,
                     (long long)age);
        if (node_users_audit(p->u, now, "-", "escalate", m->id,
                             step == 1 ? "step 1" : "step 2", &err) != 0)
            ewh_log_warnx("desk: audit: %s", err.reason);
        s_hook_start(p, m, step, age);
    }
    return 0;
}

static void
s_escalate(struct s_priv *p)
{
    struct node_filter f = {0};
    struct ewh_err err = {0};

    if (p->c->escalate_levels == 0)
        return;
    f.levels = p->c->escalate_levels;
    f.unacked = true;
    f.level_newest = true;
    f.limit = 1000;
    if (node_store_msg_list(p->d->store, &f, s_escalate_one, p, &err) != 0)
        ewh_log_warnx("desk: escalation scan: %s", err.reason);
}

/* ---- loop ----------------------------------------------------------- */

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

int
node_desk_priv_run(struct node_dir *d, const struct node_desk_config *c, int fd,
                   pid_t child)
{
    struct s_priv p;
    struct ewh_err err = {0};
    struct sigaction sa;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int64_t next_tick = 0;
    int st, rc = 0;

    memset(&p, 0, sizeof(p));
    p.d = d;
    p.c = c;
    if ((p.u = node_users_open(d->path, false, &err)) == NULL) {
        ewh_log_err("desk: %s", err.reason);
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!s_stop) {
        int n = poll(&pfd, 1, 250);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            if (s_request(&p, fd) != 0)
                break;
        }
        if (ewh_mono_ms() >= next_tick) {
            s_escalate(&p);
            s_hooks_reap(&p);
            next_tick = ewh_mono_ms() + 1000;
        }
        if (waitpid(child, &st, WNOHANG) == child) {
            ewh_log_warnx("desk: http part exited (status %d)", st);
            child = 0;
            rc = 1;
            break;
        }
    }
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
    }
    node_users_close(&p.u);
    ewh_log_info("desk: exiting");
    return rc;
}
