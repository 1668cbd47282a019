/*
 * limits.h — every limit ewhub enforces, in one place.
 *
 * Decoders check sizes and counts against these before they look at
 * meaning, and a refusal names the limit.  Limits that an operator may
 * tighten at run time (rates, queue sizes) have their defaults here and are
 * set in the hub's config file; see docs/operations.md.
 */
#ifndef EWH_LIMITS_H
#define EWH_LIMITS_H

/* Wire */
#define EWH_MAX_FRAME_BYTES    (256u * 1024u) /* one ZeroMQ message */
#define EWH_MAX_ENVELOPE_BYTES (200u * 1024u) /* serialized Envelope */
#define EWH_MAX_ROSTER_BYTES   (64u * 1024u)  /* serialized SignedRoster */
#define EWH_MAX_PROOF_ENTRIES  1000u          /* audit entries per proof */
#define EWH_MAX_CREDIT         4096u          /* deliveries in flight/node */

/* Report and envelope */
#define EWH_ID_BYTES           16u
#define EWH_MAX_RECIPIENTS     32u
#define EWH_MAX_REFERENCES     16u
#define EWH_MAX_TITLE_BYTES    200u
#define EWH_MAX_CATEGORY_BYTES 64u
#define EWH_MAX_AUTHOR_BYTES   64u
#define EWH_MAX_BODY_BYTES     (64u * 1024u)
#define EWH_MAX_CAPWORD_BYTES  16u              /* urgency, certainty */
#define EWH_MAX_EXPIRY_S       (90 * 24 * 3600) /* 90 days */
#define EWH_MAX_CLOCK_SKEW_S   300 /* created_at ahead of the hub's clock */

/* Roster */
#define EWH_MAX_ROSTER_ENTRIES 64u
/* Earlier keys a roster entry may carry to link its endorsement to a key a
 * node held before several re-keys (docs/trust.md); a node that missed
 * more re-keys marks the peer unverified. */
#define EWH_MAX_KEY_CHAIN 4u
#define EWH_MAX_CATEGORIES     64u
/* Hub keys kept in the rotation chain (DIR/hub.pub.retired-N, hub.pub):
 * rotations `ewhub audit verify` can follow. */
#define EWH_MAX_HUB_KEYS 256u
/* Connections one country may hold at once that the hub keeps track of
 * (an agent, a reconnect not yet noticed as dead, a stray second client). */
#define EWH_MAX_NODE_CONNS 8u

/* Text */
#define EWH_MAX_REASON_BYTES  200u /* refusal reasons, incl. NUL */
#define EWH_MAX_WHO_BYTES     64u  /* officer name on a receipt */
#define EWH_MAX_PUBID_BYTES   1024u
#define EWH_MAX_KEYFILE_BYTES 2048u

/* Receipts: one signed receipt speaks for up to this many reports of one
 * origin; its serialized form (ids, fields, signature) fits in the bytes. */
#define EWH_MAX_RECEIPT_IDS   256u
#define EWH_MAX_RECEIPT_BYTES 8192u

/* Node commands */
#define EWH_MAX_SEARCH_WORDS  8u /* words of `ewnode inbox --search` */
#define EWH_MAX_HOOKS_RUNNING 4u /* `watch --exec` hooks at once */
#define EWH_MIN_ID_ABBREV     4u /* hex digits of an abbreviated id */

/* Stores: how long a connection waits for another's lock before the
 * store reports EWH_E_BUSY (include/ewh/db.h). */
#define EWH_DB_BUSY_MS 10000

/* Hub defaults, configurable in ewhub.conf */
#define EWH_DEFAULT_MAX_INFLIGHT_SUBMITS 1000u   /* per node */
#define EWH_DEFAULT_SUBMITS_PER_S        2000u   /* per node, token bucket */
#define EWH_DEFAULT_MAX_QUEUE            200000u /* deliveries per node */
#define EWH_DEFAULT_CREDIT               256u    /* node's delivery window */

/* Node agent (node/agent_int.h has its timers) */
#define EWH_NODE_SUBMIT_WINDOW 256u /* submits in flight, unacknowledged */
#define EWH_NODE_TURN_FRAMES   256u /* frames read from the hub per turn */

/* Node desk: the web console (docs/desk.md).  The *_S defaults can be set
 * in ewnode.conf's [desk] section. */
#define EWH_DESK_MAX_NAME_BYTES     32u  /* account name */
#define EWH_DESK_MIN_PASSWORD_BYTES 10u
#define EWH_DESK_MAX_PASSWORD_BYTES 256u
/* Argon2id (crypto_pwhash_str): libsodium's "interactive" limits. */
#define EWH_DESK_PWHASH_OPSLIMIT    2u
#define EWH_DESK_PWHASH_MEMLIMIT    (64u * 1024u * 1024u)
#define EWH_DESK_SESSION_IDLE_S     900         /* idle timeout */
#define EWH_DESK_SESSION_MAX_S      (12 * 3600) /* a session's whole life */
#define EWH_DESK_LOCKOUT_FAILURES   5u  /* bad passwords in a row ... */
#define EWH_DESK_LOCKOUT_S          900 /* ... lock the account this long */
#define EWH_DESK_MAX_POST_BYTES     (96u * 1024u) /* one request body */
#define EWH_DESK_MAX_QUERY_BYTES    128u /* one query-string value */
#define EWH_DESK_PAGE_ROWS          50u  /* reports per inbox/outbox page */
#define EWH_DESK_MAX_PAGE           10000u
#define EWH_DESK_MAX_CONNECTIONS    64u
#define EWH_DESK_MAX_EVENT_STREAMS  32u  /* open live-update streams */
#define EWH_DESK_POLL_MS            100u /* live updates: store poll */
#define EWH_DESK_MAX_ALERTS         20u  /* reports named in the banner */
#define EWH_DESK_ESCALATE_AFTER_S   (15 * 60) /* first escalation step */
#define EWH_DESK_MAX_HOOK_BYTES     1024u     /* escalate hook command */
#define EWH_DESK_MAX_CERT_BYTES     (64u * 1024u) /* tls_cert, tls_key */
#define EWH_DESK_MAX_AUDIT_ROWS     500u /* audit rows on the admin page */

#endif
