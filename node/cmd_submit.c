/* cmd_submit.c — ewnode submit: seal a report into the durable outbox. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "action.h"
#include "cmd.h"
#include "linkstate.h"

struct s_args {
    const char *dir, *level, *to, *category, *title, *body, *body_file;
    const char *tlp, *expires, *author, *urgency, *certainty;
    const char *updates, *cancels, *reason;
    const char *type, *distribution;
};

static int
s_parse(int argc, char **argv, struct s_args *a)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"level", required_argument, NULL, 'l'},
        {"to", required_argument, NULL, 't'},
        {"category", required_argument, NULL, 'c'},
        {"title", required_argument, NULL, 'T'},
        {"body", required_argument, NULL, 'b'},
        {"body-file", required_argument, NULL, 'B'},
        {"tlp", required_argument, NULL, 'p'},
        {"expires", required_argument, NULL, 'e'},
        {"author", required_argument, NULL, 'a'},
        {"urgency", required_argument, NULL, 'U'},
        {"certainty", required_argument, NULL, 'C'},
        {"updates", required_argument, NULL, 'u'},
        {"cancels", required_argument, NULL, 'x'},
        {"reason", required_argument, NULL, 'R'},
        {"type", required_argument, NULL, 'y'},
        {"distribution", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;

    memset(a, 0, sizeof(*a));
    while ((c = getopt_long(argc, argv, "d:l:t:c:T:b:B:p:e:a:U:C:u:x:R:y:D:h",
                            opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a->dir = optarg;
            break;
        case 'l':
            a->level = optarg;
            break;
        case 't':
            a->to = optarg;
            break;
        case 'c':
            a->category = optarg;
            break;
        case 'T':
            a->title = optarg;
            break;
        case 'b':
            a->body = optarg;
            break;
        case 'B':
            a->body_file = optarg;
            break;
        case 'p':
            a->tlp = optarg;
            break;
        case 'e':
            a->expires = optarg;
            break;
        case 'a':
            a->author = optarg;
            break;
        case 'U':
            a->urgency = optarg;
            break;
        case 'C':
            a->certainty = optarg;
            break;
        case 'u':
            a->updates = optarg;
            break;
        case 'x':
            a->cancels = optarg;
            break;
        case 'R':
            a->reason = optarg;
            break;
        case 'y':
            a->type = optarg;
            break;
        case 'D':
            a->distribution = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

int
node_cmd_submit(int argc, char **argv)
{
    struct s_args a;
    struct node_submit_req q;
    struct node_action_notes notes;
    struct node_dir d = {0};
    struct ewh_err err = {0};
    char id[EWH_ID_HEX], *body = NULL;
    size_t body_len = 0;
    int rc = 1;

    switch (s_parse(argc, argv, &a)) {
    case 0:
        break;
    case 1:
        return node_cmd_help("submit");
    default:
        return node_cmd_usage("submit", optind < argc && argv[optind][0] != '-'
                                            ? "unexpected argument"
                                            : "bad option");
    }
    if (a.updates != NULL && a.cancels != NULL)
        return node_cmd_usage("submit", "--updates and --cancels exclude "
                                        "each other");
    if (a.body != NULL && a.body_file != NULL)
        return node_cmd_usage("submit", "give --body or --body-file, not "
                                        "both");
    if (node_cmd_open_dir(&d, a.dir, true, "submit") != 0)
        return 1;
    /* Say what keeps it from leaving; a node the hub refuses queues
     * nothing (linkstate.h). */
    if (node_linkstate_hint(&d, "submit", stderr) == NODE_LS_REFUSED) {
        ewh_err_set(&err, EWH_E_REVOKED, "nothing queued");
        goto fail;
    }
    memset(&q, 0, sizeof(q));
    if (a.body_file != NULL) {
        if (node_cmd_read_file(a.body_file, EWH_MAX_BODY_BYTES, &body,
                               &body_len, &err) != 0)
            goto fail;
        q.body = body;
        q.body_len = body_len;
    } else if (a.body != NULL) {
        q.body = a.body;
        q.body_len = strlen(a.body);
    }
    q.level = a.level;
    q.to = a.to;
    q.category = a.category;
    q.title = a.title;
    q.tlp = a.tlp;
    q.expires = a.expires;
    q.author = a.author;
    q.urgency = a.urgency;
    q.certainty = a.certainty;
    q.updates = a.updates;
    q.cancels = a.cancels;
    q.reason = a.reason;
    q.type = a.type;
    q.distribution = a.distribution;
    memset(&notes, 0, sizeof(notes));
    rc = node_action_submit_noted(&d, &q, id, NULL, &notes, &err);
    if (notes.len > 0) {
        /* each line of the notes, as "ewnode submit: ..." */
        char *line = notes.text, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            fprintf(stderr, "ewnode submit: %.*s\n", (int)(nl - line), line);
            line = nl + 1;
        }
    }
    if (rc != 0)
        goto fail;
    printf("%s\n", id);
    rc = 0;
    goto out;
fail:
    rc = node_cmd_fail("submit", &err);
out:
    if (body != NULL) {
        sodium_memzero(body, body_len);
        free(body);
    }
    node_dir_close(&d);
    return rc;
}
