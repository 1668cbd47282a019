/* test_desk.c — the desk's escaping template layer (node/html.c) and its
 * accounts, sessions and lock-out (node/users.c, a real SQLite file and
 * real Argon2id). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "html.h"
#include "users.h"

static void
test_escape(void)
{
    struct node_buf b, f;

    node_buf_init(&b);
    node_buf_init(&f);
    node_html(&f, "<i>{s}</i>", "a<b");
    node_html(&b, "<p title=\"{s}\">{s} {d} {h} {{x}</p>", "\"'><script>",
              "<&>", -42LL, &f);
    CHECK(!b.oom);
    CHECK(strcmp(b.p, "<p title=\"&quot;&#39;&gt;&lt;script&gt;\">&lt;&amp;"
                      "&gt; -42 <i>a&lt;b</i> {x}</p>") == 0);
    node_buf_free(&b);
    node_html(&b, "<a href=\"/inbox?from={u}\">", "R S&\"<");
    CHECK(strcmp(b.p, "<a href=\"/inbox?from=R%20S%26%22%3C\">") == 0);
    node_buf_free(&b);
    node_html(&b, "{t}|{t}|{s}", 0LL, 1764624000LL, (const char *)NULL);
    CHECK(strncmp(b.p, "-|2025-12-01T21:20:00", 21) == 0);
    CHECK(b.p[b.len - 1] == '|');
    node_buf_free(&b);
    node_buf_free(&f);
}

static void
test_big(void)
{
    struct node_buf b;
    char *s = malloc(100001);
    size_t i;

    CHECK(s != NULL);
    memset(s, '<', 100000);
    s[100000] = '\0';
    node_buf_init(&b);
    node_html(&b, "{s}", s);
    CHECK(!b.oom && b.len == 400000);
    for (i = 0; i < b.len; i += 4)
        CHECK(memcmp(b.p + i, "&lt;", 4) == 0);
    node_buf_free(&b);
    free(s);
}

static void
test_roles(void)
{
    struct ewh_err err = {0};
    unsigned r;
    char out[64];

    CHECK_OK(node_roles_parse("liaison,analyst", &r, &err), &err);
    CHECK(r == (NODE_ROLE_LIAISON | NODE_ROLE_ANALYST));
    node_roles_format(r, out, sizeof(out));
    CHECK(strcmp(out, "analyst,liaison") == 0);
    CHECK_FAILS(node_roles_parse("pilot", &r, &err), &err, EWH_E_INVALID,
                "unknown role");
    CHECK_FAILS(node_roles_parse("", &r, &err), &err, EWH_E_INVALID, "role");
    CHECK(node_user_name_is_valid("ana.marić") == false);
    CHECK(node_user_name_is_valid("ana_m-1.x"));
    CHECK(!node_user_name_is_valid(""));
    CHECK(!node_user_name_is_valid("123456789012345678901234567890123"));
}

static void
test_accounts(void)
{
    char dir[] = "/tmp/test_desk_XXXXXX", path[64];
    struct node_users_policy p;
    struct node_session s, s2;
    struct node_user a;
    struct ewh_err err = {0};
    struct stat st;
    node_users_t *u;
    char token[NODE_TOKEN_CHARS];
    int i;

    CHECK(mkdtemp(dir) != NULL);
    CHECK(node_users_open(dir, false, &err) == NULL &&
          err.code == EWH_E_NOTFOUND);
    CHECK((u = node_users_open(dir, true, &err)) != NULL);
    snprintf(path, sizeof(path), "%s/desk.db", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    node_users_policy_defaults(&p);
    p.lockout_failures = 3;

    CHECK_OK(
        node_users_add(u, "lia", NODE_ROLE_LIAISON, "0123456789", 10, &err),
        &err);
    CHECK_FAILS(
        node_users_add(u, "lia", NODE_ROLE_ADMIN, "0123456789", 10, &err), &err,
        EWH_E_INVALID, "exists");
    CHECK_FAILS(node_users_add(u, "bob", NODE_ROLE_ADMIN, "short", 5, &err),
                &err, EWH_E_INVALID, "shorter");

    /* sign in, session found, idle timeout ends it */
    CHECK_OK(node_users_login(u, "lia", "0123456789", 10, 1000, &p, &s, &err),
             &err);
    CHECK(strlen(s.token) == NODE_TOKEN_CHARS - 1 && s.csrf[0] != '\0');
    snprintf(token, sizeof(token), "%s", s.token);
    CHECK_OK(node_users_session(u, token, 1000 + p.idle_s, &p, true, &s2, &err),
             &err);
    CHECK(strcmp(s2.name, "lia") == 0 && s2.roles == NODE_ROLE_LIAISON);
    CHECK(strcmp(s2.csrf, s.csrf) == 0 && s2.token[0] == '\0');
    CHECK_FAILS(
        node_users_session(u, token, 1001 + 2 * p.idle_s, &p, true, &s2, &err),
        &err, EWH_E_AUTH, "expired");
    CHECK_FAILS(node_users_session(u, token, 1000, &p, true, &s2, &err), &err,
                EWH_E_AUTH, "no session");
    token[0] = token[0] == 'A' ? 'B' : 'A';
    CHECK_FAILS(node_users_session(u, token, 1000, &p, true, &s2, &err), &err,
                EWH_E_AUTH, "no session");

    /* a role change ends the sessions */
    CHECK_OK(node_users_login(u, "lia", "0123456789", 10, 2000, &p, &s, &err),
             &err);
    CHECK_OK(node_users_set_roles(u, "lia", NODE_ROLE_ANALYST, &err), &err);
    CHECK_FAILS(node_users_session(u, s.token, 2000, &p, true, &s2, &err), &err,
                EWH_E_AUTH, "no session");

    /* lock-out: the third bad password locks, then even the good one is
     * refused until the lock ends */
    for (i = 0; i < 2; i++)
        CHECK_FAILS(
            node_users_login(u, "lia", "wrongwrong", 10, 3000, &p, &s, &err),
            &err, EWH_E_AUTH, "bad password");
    CHECK_FAILS(
        node_users_login(u, "lia", "wrongwrong", 10, 3000, &p, &s, &err), &err,
        EWH_E_LOCKED, "locked");
    CHECK_FAILS(
        node_users_login(u, "lia", "0123456789", 10, 3001, &p, &s, &err), &err,
        EWH_E_LOCKED, "locked");
    CHECK_OK(node_users_get(u, "lia", &a, &err), &err);
    CHECK(a.locked_until == 3000 + p.lockout_s);
    CHECK_OK(node_users_login(u, "lia", "0123456789", 10,
                              3000 + p.lockout_s + 1, &p, &s, &err),
             &err);
    CHECK_FAILS(
        node_users_login(u, "nobody", "0123456789", 10, 3000, &p, &s, &err),
        &err, EWH_E_AUTH, "unknown name or bad password");

    /* escalation steps are recorded once */
    {
        bool fresh = false;
        CHECK_OK(node_users_escalation_mark(u, "00ff", 1, 5, &fresh, &err),
                 &err);
        CHECK(fresh);
        CHECK_OK(node_users_escalation_mark(u, "00ff", 1, 6, &fresh, &err),
                 &err);
        CHECK(!fresh);
        int step = -1;
        CHECK_OK(node_users_escalation_step(u, "00ff", &step, &err), &err);
        CHECK(step == 1);
        CHECK_OK(node_users_escalation_step(u, "00fe", &step, &err), &err);
        CHECK(step == 0);
    }
    CHECK_OK(node_users_del(u, "lia", &err), &err);
    CHECK_FAILS(node_users_del(u, "lia", &err), &err, EWH_E_NOTFOUND, "no");
    node_users_close(&u);

    /* a desk.db that others may read is refused */
    CHECK(chmod(path, 0644) == 0);
    CHECK(node_users_open(dir, false, &err) == NULL && err.code == EWH_E_PERM);
    unlink(path);
    snprintf(path, sizeof(path), "%s/desk.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/desk.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_escape();
    test_big();
    test_roles();
    test_accounts();
    printf("ok\n");
    return 0;
}
