/* cmd_outbox.c — ewnode outbox: sent reports and each addressee's state. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "linkstate.h"
#include "trust.h"
#include "render.h"

#define NODE_OUTBOX_EVENTS 5 /* the latest hub events shown */

static int
s_print(void *ctx, const struct node_msg *m)
{
    if (*(bool *)ctx)
        return node_render_json_line(stdout, m, false);
    node_render_outbox_line(stdout, m);
    return 0;
}

/* The refills recorded (issue 18): a hub that lost data was sent again
 * what it had accepted and no addressee had receipted. */
static int
s_event(void *ctx, const struct node_hub_event *e)
{
    char t[NODE_TIME_CHARS];

    (void)ctx;
    if (strcmp(e->kind, "refill") != 0)
        return 0;
    printf("resent %lld report%s to %s after it lost data, at %s%s%s%s\n",
           (long long)e->n, e->n == 1 ? "" : "s", e->endpoint,
           node_render_time(e->at, t, sizeof(t)), e->why[0] ? " (" : "", e->why,
           e->why[0] ? ")" : "");
    return 0;
}

int
node_cmd_outbox(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct node_filter f = {.outgoing = true};
    struct node_dir d;
    struct ewh_err err = {0};
    const char *dir = NULL;
    bool json = false;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            return node_cmd_help("outbox");
        default:
            return node_cmd_usage("outbox", "bad option");
        }
    }
    if (optind != argc)
        return node_cmd_usage("outbox", "unexpected argument");
    if (node_cmd_open_dir(&d, dir, false, "outbox") != 0)
        return 1;
    rc = node_store_msg_list(d.store, &f, s_print, &json, &err);
    if (rc == 0 && !json)
        rc = node_store_hub_events(d.store, NODE_OUTBOX_EVENTS, s_event, NULL,
                                   &err);
    if (rc == 0) {
        (void)node_linkstate_hint(&d, "outbox", stderr);
        (void)node_trust_hint(d.store, "outbox", stderr);
    }
    node_dir_close(&d);
    if (rc != 0)
        return node_cmd_fail("outbox", &err);
    return fflush(stdout) == 0 ? 0 : 1;
}
