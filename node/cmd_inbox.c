/* cmd_inbox.c — ewnode inbox: received reports, newest first. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "render.h"

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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct node_filter f = {0};
    struct s_ctx c = {0};
    struct node_dir d;
    struct ewh_err err = {0};
    const char *dir = NULL;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "d:l:f:ujh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            if (node_cmd_levels(optarg, &f.levels, &err) != 0)
                return node_cmd_fail("inbox", &err);
            break;
        case 'f':
            if (!ewh_country_is_valid(optarg)) {
                fprintf(stderr, "ewnode inbox: bad country '%s'\n", optarg);
                return 1;
            }
            snprintf(f.from, sizeof(f.from), "%s", optarg);
            break;
        case 'u':
            f.unacked = true;
            break;
        case 'j':
            c.json = true;
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
