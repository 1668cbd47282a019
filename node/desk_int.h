/* desk_int.h — what the desk's HTTP part (desk.c, desk_*.c) shares
 * between its files: the request, the process-wide state and the
 * helpers the pages use.  Private to the desk; not an API. */
#ifndef NODE_DESK_INT_H
#define NODE_DESK_INT_H

#include "desk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "action.h"
#include "cap.h"
#include "cmd.h"
#include "ewh/addr.h"
#include "ewh/catalogue.h"
#include "exchange.h"
#include "ewh/log.h"
#include "html.h"
#include "render.h"
#include "trust.h"

#define NODE_DESK_MAX_FIELDS  64
#define NODE_DESK_SSE_BEAT_MS 2000

struct node_desk_field {
    char name[24];
    struct node_buf val;
};

struct node_desk_conn {
    struct MHD_PostProcessor *pp;
    size_t posted;
    bool too_big;
    struct node_desk_field f[NODE_DESK_MAX_FIELDS];
    size_t n;
};

struct node_desk_req {
    struct MHD_Connection *c;
    struct node_desk_conn *cn;
    const char *url, *method;
    bool post;
    bool signed_in;
    struct node_session s;
    const char *token;
    /* response */
    unsigned status;
    struct node_buf out;
    const char *ctype;
    bool cacheable;
    char location[300];
    char cookie[200];
    char disposition[120];
};

struct node_desk_list {
    struct node_buf rows;
    size_t n, max;
    bool more;
    bool outbox;
    int64_t now;
};

/* Parse the inbox filters of the query string (as `ewnode inbox`). */
struct node_desk_query {
    struct node_filter f;
    unsigned page;
    char search[EWH_DESK_MAX_QUERY_BYTES + 1];
    char within[16];
    char qs[900]; /* the filters again, for links */
};

struct node_desk_state {
    struct node_dir *d;
    const struct node_desk_config *c;
    node_users_t *u;
    pthread_mutex_t store_lock;
    pthread_mutex_t priv_lock;
    pthread_mutex_t login_lock; /* one Argon2id at a time (64 MiB each) */
    int priv_fd;
    bool tls;
    atomic_uint streams;
    atomic_bool stopping;
    const char *cookie; /* the session cookie's name */
    /* A submit's notes until its report's page shows them (once), keyed
     * by a hash of the session token and the report id. */
    pthread_mutex_t sent_lock;
    struct node_desk_sent {
        bool used;
        unsigned char tok[crypto_generichash_BYTES];
        char id[EWH_ID_HEX];
        char notes[sizeof(((struct node_action_notes *)0)->text)];
    } sent[EWH_DESK_SENT_NOTES];
    size_t sent_next;
};

/* The one desk this process serves (desk.c). */
extern struct node_desk_state node_desk_g;

/* desk_request.c */
const char *node_desk_arg(const struct node_desk_req *r, const char *name);
void node_desk_audit(const char *who, const char *action, const char *id,
                     const char *detail);
void node_desk_conn_free(struct node_desk_conn *cn);
const char *node_desk_form(const struct node_desk_req *r, const char *name);
enum MHD_Result node_desk_post_it(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *filename,
                                  const char *content_type,
                                  const char *transfer_encoding,
                                  const char *data, uint64_t off, size_t size);
json_t *node_desk_priv(json_t *req, struct ewh_err *err);
enum MHD_Result node_desk_redirect(struct node_desk_req *r, const char *to);
enum MHD_Result node_desk_respond(struct node_desk_req *r);
enum MHD_Result node_desk_text(struct node_desk_req *r, unsigned status,
                               const char *msg);
/* desk_layout.c */
void node_desk_alerts_html(struct node_buf *b);
enum MHD_Result node_desk_error_page(struct node_desk_req *r, unsigned status,
                                     const char *msg);
bool node_desk_has(const struct node_desk_req *r, unsigned role);
void node_desk_late_html(struct node_buf *b);
enum MHD_Result node_desk_need(struct node_desk_req *r, unsigned role,
                               bool page);
void node_desk_page(struct node_desk_req *r, const char *title,
                    const struct node_buf *body);
/* desk_session.c */
bool node_desk_csrf_ok(const struct node_desk_req *r);
enum MHD_Result node_desk_login(struct node_desk_req *r);
enum MHD_Result node_desk_logout(struct node_desk_req *r);
/* desk_inbox.c */
enum MHD_Result node_desk_alerts(struct node_desk_req *r);
enum MHD_Result node_desk_inbox(struct node_desk_req *r, bool fragment);
const char *node_desk_level_class(enum ewh_level l);
void node_desk_pager(struct node_buf *b, const char *base,
                     const struct node_desk_query *q, bool more);
int node_desk_query(struct node_desk_req *r, struct node_desk_query *q,
                    bool outgoing, const char **bad);
/* desk_outbox.c */
enum MHD_Result node_desk_outbox(struct node_desk_req *r, bool fragment);
void node_desk_rcpt_html(struct node_buf *b, const struct node_msg *m,
                         int64_t now);
/* desk_report.c */
enum MHD_Result node_desk_report_ack(struct node_desk_req *r, const char *hex);
enum MHD_Result node_desk_report_download(struct node_desk_req *r,
                                          const char *hex, const char *kind);
int node_desk_report_load(struct node_desk_req *r, const char *hex,
                          struct node_msg *m, enum MHD_Result *res);
enum MHD_Result node_desk_report_page(struct node_desk_req *r, const char *hex);
void node_desk_sent_put(const char *token, const char *id, const char *notes);
/* desk_submit.c */
enum MHD_Result node_desk_submit(struct node_desk_req *r);
/* desk_peers.c */
enum MHD_Result node_desk_peers(struct node_desk_req *r, const char *cc,
                                const char *msg, bool ok_msg);
enum MHD_Result node_desk_peers_verify_post(struct node_desk_req *r);
/* desk_admin.c */
enum MHD_Result node_desk_admin(struct node_desk_req *r, const char *msg,
                                bool ok);
enum MHD_Result node_desk_admin_user_post(struct node_desk_req *r);
enum MHD_Result node_desk_settings(struct node_desk_req *r);
/* desk_live.c */
enum MHD_Result node_desk_events(struct node_desk_req *r);
/* desk.c */
bool node_desk_is_hex_id(const char *s, size_t len);
bool node_desk_origin_ok(const struct node_desk_req *r);

/* Return the sign-in page or a refusal unless the person holds role. */
#define NEED(r, role, page)                                                    \
    do {                                                                       \
        if (!(r)->signed_in || ((r)->s.roles & (role)) == 0)                   \
            return node_desk_need((r), (role), (page));                        \
    } while (0)

#endif
