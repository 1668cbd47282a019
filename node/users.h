/*
 * users.h — the desk's people: accounts and roles, sessions, the sign-in
 * lock-out, the local audit log and the escalation steps that have fired.
 *
 * Everything lives in DIR/desk.db (SQLite, WAL, synchronous=FULL, mode
 * 0600), apart from the node's store: this module alone speaks SQL to it.
 * Passwords are hashed with Argon2id (crypto_pwhash_str) at the limits
 * named EWH_DESK_PWHASH_* in limits.h.  A session is a 32-byte random
 * token; the file keeps only its BLAKE2b hash, so a copy of desk.db does
 * not let anyone in.  See docs/desk.md.
 */
#ifndef NODE_USERS_H
#define NODE_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ewh/err.h"
#include "ewh/util.h"

typedef struct node_users node_users_t;

enum node_role {
    NODE_ROLE_ANALYST = 1u << 0, /* submit, update, cancel, outbox */
    NODE_ROLE_LIAISON = 1u << 1, /* inbox, read, acknowledge, export */
    NODE_ROLE_ADMIN = 1u << 2,   /* accounts, peers, settings, audit */
};
#define NODE_ROLE_ALL (NODE_ROLE_ANALYST | NODE_ROLE_LIAISON | NODE_ROLE_ADMIN)

/* "analyst,liaison" into a role set; -1 for an unknown or empty list. */
EWH_MUST_CHECK int node_roles_parse(const char *s, unsigned *out,
                                    struct ewh_err *err);
/* "analyst,liaison" (or "none") into out. */
void node_roles_format(unsigned roles, char *out, size_t cap);

/* A valid account name: 1..EWH_DESK_MAX_NAME_BYTES of [A-Za-z0-9._-]. */
bool node_user_name_is_valid(const char *name);

/* Session tokens and CSRF tokens: 43 base64url characters. */
#define NODE_TOKEN_CHARS 44 /* with the NUL */

struct node_user {
    char name[EWH_DESK_MAX_NAME_BYTES + 1];
    unsigned roles;
    unsigned failures;    /* bad passwords since the last good one */
    int64_t locked_until; /* 0: not locked */
    int64_t created_at;
    int64_t last_login;
};

struct node_session {
    char name[EWH_DESK_MAX_NAME_BYTES + 1];
    unsigned roles;
    char token[NODE_TOKEN_CHARS]; /* only right after a sign-in */
    char csrf[NODE_TOKEN_CHARS];
    int64_t created_at;
    int64_t last_seen;
};

/* Sign-in policy (ewnode.conf [desk], defaults in limits.h). */
struct node_users_policy {
    int64_t idle_s;
    int64_t max_s;
    unsigned lockout_failures;
    int64_t lockout_s;
};
void node_users_policy_defaults(struct node_users_policy *p);

/* Open DIR/desk.db, creating it (0600) and its schema when create is
 * true.  A file with group or other permission bits is refused. */
EWH_MUST_CHECK node_users_t *node_users_open(const char *dir, bool create,
                                             struct ewh_err *err);
void node_users_close(node_users_t **u);

/* ---- accounts (ewnode user) ---- */

/* Add an account; EWH_E_INVALID if the name exists or the password is
 * shorter than EWH_DESK_MIN_PASSWORD_BYTES. */
EWH_MUST_CHECK int node_users_add(node_users_t *u, const char *name,
                                  unsigned roles, const char *pw, size_t len,
                                  struct ewh_err *err);
/* Delete an account and its sessions.  EWH_E_NOTFOUND if none. */
EWH_MUST_CHECK int node_users_del(node_users_t *u, const char *name,
                                  struct ewh_err *err);
/* New password; ends the account's sessions and lifts a lock-out. */
EWH_MUST_CHECK int node_users_passwd(node_users_t *u, const char *name,
                                     const char *pw, size_t len,
                                     struct ewh_err *err);
/* New role set; ends the account's sessions. */
EWH_MUST_CHECK int node_users_set_roles(node_users_t *u, const char *name,
                                        unsigned roles, struct ewh_err *err);
typedef int (*node_user_fn)(void *ctx, const struct node_user *a);
EWH_MUST_CHECK int node_users_list(node_users_t *u, node_user_fn fn, void *ctx,
                                   struct ewh_err *err);
EWH_MUST_CHECK int node_users_get(node_users_t *u, const char *name,
                                  struct node_user *out, struct ewh_err *err);

/* ---- sessions ---- */

/* Check name and password.  On success a new session is stored and
 * returned in *out (with its token).  Refusals: EWH_E_AUTH (unknown name or
 * bad password, one message for both), EWH_E_LOCKED (too many failures:
 * refused without looking at the password until the lock ends). */
EWH_MUST_CHECK int node_users_login(node_users_t *u, const char *name,
                                    const char *pw, size_t len, int64_t now,
                                    const struct node_users_policy *p,
                                    struct node_session *out,
                                    struct ewh_err *err);
/* The live session of token (touching it when touch is true); EWH_E_AUTH
 * when it is unknown, idle past p->idle_s or older than p->max_s (an
 * expired one is deleted). */
EWH_MUST_CHECK int node_users_session(node_users_t *u, const char *token,
                                      int64_t now,
                                      const struct node_users_policy *p,
                                      bool touch, struct node_session *out,
                                      struct ewh_err *err);
/* End a session (sign out).  No error if it is already gone. */
EWH_MUST_CHECK int node_users_logout(node_users_t *u, const char *token,
                                     struct ewh_err *err);

/* ---- audit log ---- */

/* Append who did what ("sign-in", "sign-in-refused", "read", "ack",
 * "submit", ...) to which report (id may be ""), with a short detail
 * (metadata only, never content). */
EWH_MUST_CHECK int node_users_audit(node_users_t *u, int64_t at,
                                    const char *who, const char *action,
                                    const char *id, const char *detail,
                                    struct ewh_err *err);
struct node_audit_row {
    int64_t seq, at;
    char who[EWH_DESK_MAX_NAME_BYTES + 1];
    char action[32];
    char id[EWH_ID_HEX];
    char detail[EWH_MAX_REASON_BYTES];
};
typedef int (*node_audit_fn)(void *ctx, const struct node_audit_row *r);
/* Newest first, at most max rows. */
EWH_MUST_CHECK int node_users_audit_list(node_users_t *u, size_t max,
                                         node_audit_fn fn, void *ctx,
                                         struct ewh_err *err);

/* ---- escalation steps ---- */

/* Record that step (1, 2) fired for report id.  *fresh is false when it
 * had already been recorded (the step must not fire again). */
EWH_MUST_CHECK int node_users_escalation_mark(node_users_t *u, const char *id,
                                              int step, int64_t at, bool *fresh,
                                              struct ewh_err *err);
/* The highest step recorded for id into *out (0 when none). */
EWH_MUST_CHECK int node_users_escalation_step(node_users_t *u, const char *id,
                                              int *out, struct ewh_err *err);
/* A number that changes whenever another connection commits to desk.db
 * (PRAGMA data_version), for live updates. */
EWH_MUST_CHECK int node_users_data_version(node_users_t *u, int64_t *out,
                                           struct ewh_err *err);

#endif
