/* cmd_user.c — ewnode user: the desk's accounts (add, del, passwd, role,
 * list).  The node's administrator runs these on the node itself. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cmd.h"
#include "users.h"

/* The password: the first line of --password-file (or "-" for stdin), or
 * typed twice at the terminal without echo. */
static int
s_password(const char *file, char *out, size_t cap, struct ewh_err *err)
{
    struct termios old, quiet;
    char again[EWH_DESK_MAX_PASSWORD_BYTES + 2];
    char *buf = NULL;
    size_t len = 0;
    bool tty;

    if (file != NULL) {
        if (node_cmd_read_file(file, EWH_DESK_MAX_PASSWORD_BYTES + 2, &buf,
                               &len, err) != 0)
            return -1;
        len = strcspn(buf, "\r\n");
        buf[len] = '\0';
        if (len >= cap) {
            sodium_memzero(buf, len);
            free(buf);
            return ewh_err_set(err, EWH_E_TOOBIG,
                               "password longer than %u bytes",
                               EWH_DESK_MAX_PASSWORD_BYTES);
        }
        memcpy(out, buf, len + 1);
        sodium_memzero(buf, len);
        free(buf);
        return 0;
    }
    tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs("password: ", stderr);
    }
    if (fgets(out, (int)cap, stdin) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (tty) {
        fputs("\nagain: ", stderr);
        if (fgets(again, sizeof(again), stdin) == NULL)
            again[0] = '\0';
        again[strcspn(again, "\r\n")] = '\0';
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
        if (strcmp(out, again) != 0) {
            sodium_memzero(again, sizeof(again));
            return ewh_err_set(err, EWH_E_INVALID, "the two passwords differ");
        }
        sodium_memzero(again, sizeof(again));
    }
    return 0;
}

struct s_list {
    bool json;
    json_t *arr;
};

static int
s_list_one(void *ctx, const struct node_user *a)
{
    struct s_list *l = ctx;
    char roles[48], t[32];

    node_roles_format(a->roles, roles, sizeof(roles));
    if (l->json) {
        json_array_append_new(l->arr,
                              json_pack("{s:s, s:s, s:I, s:b, s:I}", "name",
                                        a->name, "roles", roles, "last_login",
                                        (json_int_t)a->last_login, "locked",
                                        a->locked_until > ewh_now(), "failures",
                                        (json_int_t)a->failures));
        return 0;
    }
    printf("%-20s %-24s last sign-in %s%s\n", a->name, roles,
           a->last_login ? ewh_time_format(a->last_login, t, sizeof(t))
                         : "never",
           a->locked_until > ewh_now() ? "  LOCKED" : "");
    return 0;
}

int
node_cmd_user(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"role", required_argument, NULL, 'r'},
        {"password-file", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL, *role = NULL, *pwfile = NULL, *sub, *name = NULL;
    char pw[EWH_DESK_MAX_PASSWORD_BYTES + 2];
    struct node_dir d;
    struct ewh_err err = {0};
    struct s_list l = {0};
    node_users_t *u = NULL;
    unsigned roles = 0;
    int ch, rc = 1;

    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return node_cmd_help("user");
    if (argc < 2)
        return node_cmd_usage("user", "give add, del, passwd, role or list");
    sub = argv[1];
    argc--;
    argv++;
    while ((ch = getopt_long(argc, argv, "d:r:p:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'p':
            pwfile = optarg;
            break;
        case 'j':
            l.json = true;
            break;
        case 'h':
            return node_cmd_help("user");
        default:
            return node_cmd_usage("user", "bad option");
        }
    }
    if (strcmp(sub, "list") == 0) {
        if (optind != argc)
            return node_cmd_usage("user", "list takes no NAME");
    } else if (strcmp(sub, "add") == 0 || strcmp(sub, "del") == 0 ||
               strcmp(sub, "passwd") == 0 || strcmp(sub, "role") == 0) {
        if (optind + 1 != argc)
            return node_cmd_usage("user", "give one account NAME");
        name = argv[optind];
        if (!node_user_name_is_valid(name)) {
            fprintf(stderr,
                    "ewnode user: bad account name '%.40s': 1 to %u of "
                    "A-Z a-z 0-9 . _ -\n",
                    name, EWH_DESK_MAX_NAME_BYTES);
            return 1;
        }
    } else
        return node_cmd_usage("user", "give add, del, passwd, role or list");
    if (strcmp(sub, "add") == 0 || strcmp(sub, "role") == 0) {
        if (role == NULL)
            return node_cmd_usage("user", "--role analyst|liaison|admin[,...] "
                                          "is needed");
        if (node_roles_parse(role, &roles, &err) != 0)
            return node_cmd_fail("user", &err);
    }
    if (node_cmd_open_dir(&d, dir, false, "user") != 0)
        return 1;
    if ((u = node_users_open(d.path, strcmp(sub, "add") == 0, &err)) == NULL)
        goto fail;
    if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
        if (s_password(pwfile, pw, sizeof(pw), &err) != 0)
            goto fail;
        if (strcmp(sub, "add") == 0)
            rc = node_users_add(u, name, roles, pw, strlen(pw), &err);
        else
            rc = node_users_passwd(u, name, pw, strlen(pw), &err);
        sodium_memzero(pw, sizeof(pw));
        if (rc != 0)
            goto fail;
        if (node_users_audit(u, ewh_now(), "(cli)", sub, "", name, &err) != 0)
            goto fail;
        printf("%s %s\n",
               strcmp(sub, "add") == 0 ? "added" : "new password for", name);
    } else if (strcmp(sub, "del") == 0) {
        if (node_users_del(u, name, &err) != 0 ||
            node_users_audit(u, ewh_now(), "(cli)", "del", "", name, &err) != 0)
            goto fail;
        printf("deleted %s\n", name);
    } else if (strcmp(sub, "role") == 0) {
        if (node_users_set_roles(u, name, roles, &err) != 0 ||
            node_users_audit(u, ewh_now(), "(cli)", "role", "", name, &err) !=
                0)
            goto fail;
        printf("%s is now %s\n", name, role);
    } else {
        l.arr = json_array();
        if (node_users_list(u, s_list_one, &l, &err) != 0)
            goto fail;
        if (l.json) {
            char *s = json_dumps(l.arr, JSON_COMPACT);
            printf("%s\n", s ? s : "[]");
            free(s);
        }
    }
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("user", &err);
out:
    json_decref(l.arr);
    node_users_close(&u);
    node_dir_close(&d);
    return rc;
}
