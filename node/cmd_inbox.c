/* cmd_inbox.c — ewnode inbox: received reports, newest first. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "render.h"

/* --since/--until: a date or time (local unless it carries Z or an
 * offset) or a duration back from now.  Unix seconds into *out. */
static int
s_time_arg(const char *opt, const char *v, int64_t *out, struct ewh_err *err)
{
    static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
                                       "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                                       "%Y-%m-%d",          NULL};
    struct tm tm;
    const char *rest = NULL;
    int64_t secs;
    size_t i;

    for (i = 0; fmts[i] != NULL && rest == NULL; i++) {
        memset(&tm, 0, sizeof(tm));
        rest = strptime(v, fmts[i], &tm);
        if (rest != NULL && *rest != '\0' && *rest != 'Z' && *rest != 'z' &&
            *rest != '+' && *rest != '-')
            rest = NULL;
    }
    if (rest != NULL) {
        int hh = 0, mm = 0;
        char sign;
        if (*rest == '\0') {
            tm.tm_isdst = -1;
            *out = (int64_t)mktime(&tm); /* local time (TZ) */
            return 0;
        }
        if ((rest[0] == 'Z' || rest[0] == 'z') && rest[1] == '\0') {
            *out = (int64_t)timegm(&tm);
            return 0;
        }
        if (sscanf(rest, "%c%2d:%2d", &sign, &hh, &mm) == 3 &&
            strlen(rest) == 6 && hh < 24 && mm < 60) {
            *out = (int64_t)timegm(&tm) -
                   (sign == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
            return 0;
        }
        return ewh_err_set(err, EWH_E_INVALID,
                           "--%s '%.40s': bad offset (Z or +HH:MM)", opt, v);
    }
    if (ewh_duration_parse(v, 100LL * 365 * 86400, &secs, NULL) == 0 &&
        strchr("smhd", v[strlen(v) - 1]) != NULL) {
        *out = ewh_now() - secs;
        return 0;
    }
    return ewh_err_set(err, EWH_E_INVALID,
                       "--%s '%.40s': give a date (2026-11-22), a local time "
                       "(2026-11-22T14:00), RFC 3339 (2026-11-22T14:00:00Z) "
                       "or a duration back from now (90m, 12h, 3d)",
                       opt, v);
}

/* A non-negative count for --limit/--offset. */
static int
s_count_arg(const char *opt, const char *v, int64_t *out, struct ewh_err *err)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0)
        return ewh_err_set(err, EWH_E_INVALID,
                           "--%s '%.20s': give a whole number, 0 or more", opt,
                           v);
    *out = (int64_t)n;
    return 0;
}

struct s_ctx {
    bool json;
    bool color;
};

static int
s_print(void *ctx, const struct node_msg *m)
{
    struct s_ctx *c = ctx;

    if (c->json)
        return node_render_json_line(stdout, m, false);
    node_render_line(stdout, m, c->color);
    return 0;
}

int
node_cmd_inbox(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"level", required_argument, NULL, 'l'},
        {"from", required_argument, NULL, 'f'},
        {"unacked", no_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"search", required_argument, NULL, 's'},
        {"category", required_argument, NULL, 'c'},
        {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},
        {"limit", required_argument, NULL, 'n'},
        {"offset", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct node_filter f = {0};
    struct s_ctx c = {0};
    struct node_dir d;
    struct ewh_err err = {0};
    const char *dir = NULL;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "d:l:f:ujs:c:S:U:n:o:h", opts,
                             NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            if (node_cmd_levels(optarg, &f.levels, &err) != 0)
                return node_cmd_fail("inbox", &err);
            break;
        case 'f':
            snprintf(f.from, sizeof(f.from), "%.2s", optarg);
            f.from[0] = (char)toupper((unsigned char)f.from[0]);
            f.from[1] = (char)toupper((unsigned char)f.from[1]);
            if (strlen(optarg) != 2 || !ewh_country_is_valid(f.from))
                return node_cmd_usage("inbox",
                                      "--from takes a country code (two "
                                      "letters, ISO 3166-1 alpha-2, e.g. RS)");
            break;
        case 'u':
            f.unacked = true;
            break;
        case 'j':
            c.json = true;
            break;
        case 's':
            f.search = optarg;
            break;
        case 'c':
            if (strlen(optarg) > EWH_MAX_CATEGORY_BYTES)
                return node_cmd_usage("inbox", "--category is too long");
            snprintf(f.category, sizeof(f.category), "%s", optarg);
            break;
        case 'S':
        case 'U':
            if (s_time_arg(ch == 'S' ? "since" : "until", optarg,
                           ch == 'S' ? &f.since : &f.until, &err) != 0)
                return node_cmd_usage("inbox", err.reason);
            break;
        case 'n':
        case 'o':
            if (s_count_arg(ch == 'n' ? "limit" : "offset", optarg,
                            ch == 'n' ? &f.limit : &f.offset, &err) != 0)
                return node_cmd_usage("inbox", err.reason);
            break;
        case 'h':
            return node_cmd_help("inbox");
        default:
            return node_cmd_usage("inbox", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("inbox", "unexpected argument");
    c.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
    if (node_cmd_open_dir(&d, dir, false, "inbox") != 0)
        return 1;
    rc = node_store_msg_list(d.store, &f, s_print, &c, &err);
    node_dir_close(&d);
    if (rc != 0)
        return node_cmd_fail("inbox", &err);
    return fflush(stdout) == 0 ? 0 : 1;
}
