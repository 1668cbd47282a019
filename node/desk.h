/*
 * desk.h — the national desk: a web console for analysts and liaison
 * officers (docs/desk.md).
 *
 * `ewnode desk` runs as two processes (privilege separation):
 *
 *   - the privileged part (desk_priv.c) loads node.key; it signs submits
 *     and acknowledgements, after checking the person's session and roles
 *     itself in desk.db, and runs the escalation timer and its hooks.  It
 *     parses no HTTP.
 *   - the HTTP part (desk.c; its pages in desk_*.c behind desk_int.h),
 *     forked before the key is loaded, serves the pages with
 *     libmicrohttpd.  It reads the store for display and asks
 *     the privileged part, over a socketpair, to submit or acknowledge.
 *
 * The two speak JSON messages (jansson) of at most NODE_DESK_MAX_MSG
 * bytes over a SOCK_SEQPACKET socketpair: one request, one reply.
 */
#ifndef NODE_DESK_H
#define NODE_DESK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "dir.h"
#include "users.h"

#define NODE_DESK_DEFAULT_LISTEN "127.0.0.1:8470"
#define NODE_DESK_MAX_MSG        (EWH_DESK_MAX_POST_BYTES * 7u)

/* ewnode.conf [desk] */
struct node_desk_config {
    char listen[64];                    /* HOST:PORT (port 0: any free one) */
    char tls_cert[1024], tls_key[1024]; /* PEM paths; both or neither */
    struct node_users_policy policy;
    unsigned escalate_levels;    /* level bit set; default high */
    int64_t escalate_after_s[2]; /* step 1, step 2 (0: no step 2) */
    char escalate_hook[2][EWH_DESK_MAX_HOOK_BYTES + 1]; /* "" = none */
    bool escalate_content; /* title and body in the hook's env */
};

/* Defaults, then DIR/ewnode.conf's [desk] section.  Errors name the file
 * and line. */
EWH_MUST_CHECK int node_desk_config_load(const struct node_dir *d,
                                         struct node_desk_config *c,
                                         struct ewh_err *err);

/* The HTTP part: serve until SIGTERM/SIGINT.  fd: the socket to the
 * privileged part.  Writes DIR/desk.url once listening.  Returns the exit
 * status. */
int node_desk_http_run(struct node_dir *d, const struct node_desk_config *c,
                       int fd);

/* The privileged part: answer requests on fd and run escalation until
 * the HTTP part (child) exits or SIGTERM/SIGINT.  d->secret is loaded. */
int node_desk_priv_run(struct node_dir *d, const struct node_desk_config *c,
                       int fd, pid_t child);

/* Send one JSON message on fd; receive one (caller owns it).  -1 with
 * err on I/O failure or a message over NODE_DESK_MAX_MSG. */
EWH_MUST_CHECK int node_desk_send(int fd, json_t *msg, struct ewh_err *err);
EWH_MUST_CHECK json_t *node_desk_recv(int fd, struct ewh_err *err);

/* Confine the calling process, before it starts any thread, to the
 * store's and desk.db's files in dir (Landlock, desk_sandbox.c).  Returns
 * the Landlock ABI version in force, 0 when the kernel has none, -1 with
 * err when confinement failed. */
EWH_MUST_CHECK int node_desk_confine(const char *dir, struct ewh_err *err);

/* Static files served from the binary (desk_static.c). */
struct node_desk_file {
    const char *path; /* "/static/desk.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};
/* NULL when path is not one of them. */
const struct node_desk_file *node_desk_static(const char *path);

#endif
