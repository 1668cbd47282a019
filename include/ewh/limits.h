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
/* Stack buffer a parsed envelope's messages are allocated in (beyond it,
 * malloc): a 2 KiB report to 11 countries takes about 9 KiB
 * (proto/envelope.c, docs/performance.md "Accept: a queue, not runs"). */
#define EWH_PARSE_ARENA_BYTES (16u * 1024u)
#define EWH_MAX_ROSTER_BYTES  (64u * 1024u) /* serialized SignedRoster */
#define EWH_MAX_PROOF_ENTRIES 1000u         /* audit entries per proof */
#define EWH_MAX_CREDIT        4096u         /* deliveries in flight/node */

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

/* Why a report's level departs from the catalogue's default (sealed) */
#define EWH_MAX_LEVEL_REASON_BYTES 500u

/* Annual exchange on security forces (docs/exchange.md).  A return is the
 * body of a report, so it fits in one. */
#define EWH_MIN_RETURN_YEAR       1990u
#define EWH_MAX_RETURN_YEAR       2100u
#define EWH_MAX_RETURN_BYTES      EWH_MAX_BODY_BYTES /* the JSON file */
#define EWH_MAX_RETURN_CSV_BYTES  (256u * 1024u)     /* an import's CSV */
#define EWH_MAX_RETURN_CSV_FIELDS 32u                /* cells per CSV record */
#define EWH_MAX_RETURN_CSV_CELL   2048u              /* bytes per CSV cell */
#define EWH_MAX_RETURN_AGENCIES   16u
#define EWH_MAX_RETURN_UNITS      256u /* per agency */
#define EWH_MAX_RETURN_TEXT       200u /* names, designations (code points) */
#define EWH_MAX_RETURN_NOTES      2000u
#define EWH_MAX_RETURN_COUNT      1000000000u      /* personnel, holdings */
#define EWH_MAX_RETURN_MINOR      99999999999999LL /* budget cell, minor units */

/* Catalogue of concern (docs/catalogue.md) */
#define EWH_MAX_CATALOGUE_BYTES  (64u * 1024u) /* serialized, signed */
#define EWH_MAX_GUIDANCE_BYTES   600u          /* one level's sentence(s) */
#define EWH_MAX_AREA_TITLE_BYTES 120u
#define EWH_MAX_INDICATORS       16u /* per area */
#define EWH_MAX_INDICATOR_BYTES  200u

/* Roster */
#define EWH_MAX_ROSTER_ENTRIES 64u
/* Earlier keys a roster entry may carry to link its endorsement to a key a
 * node held before several re-keys (docs/trust.md); a node that missed
 * more re-keys marks the peer unverified. */
#define EWH_MAX_KEY_CHAIN  4u
#define EWH_MAX_CATEGORIES 64u
/* Hub keys kept in the rotation chain (DIR/hub.pub.retired-N, hub.pub):
 * rotations `ewhub audit verify` can follow. */
#define EWH_MAX_HUB_KEYS 256u
/* `ewhub audit verify --checkpoints FILE`: files at once (one per node),
 * the size of one, and of one signed checkpoint in it (docs/operations.md). */
#define EWH_MAX_CHECKPOINT_FILES      256u
#define EWH_MAX_CHECKPOINT_FILE_BYTES (64u * 1024u * 1024u)
#define EWH_MAX_CHECKPOINT_BYTES      512u
/* Connections one country may hold at once that the hub keeps track of
 * (an agent, a reconnect not yet noticed as dead, a stray second client). */
#define EWH_MAX_NODE_CONNS 8u
/* Hubs one node uses at once (issue 18, docs/redundancy.md): `ewnode hubs
 * add` refuses a fifth; the agent keeps one session per hub. */
#define EWH_MAX_HUBS 4u
/* A hub's endpoint tcp://HOST:PORT as configured, incl. NUL. */
#define EWH_MAX_HUB_ENDPOINT_BYTES 256u

/* Federation (issue 22, docs/federation.md) */
#define EWH_MAX_REGION_BYTES 32u /* a region's name, [a-z0-9-] */
#define EWH_MAX_FED_PEERS    16u /* regions one hub peers with directly */
/* Regions a transfer or a foreign roster may carry in its path. */
#define EWH_MAX_FED_PATH 16u
/* Foreign regions a node keeps rosters for. */
#define EWH_MAX_FOREIGN_REGIONS 32u
/* A federation link (hub/fed_link.c): transfers and receipts in flight
 * on it, at most; a heartbeat each interval (a link that moved nothing
 * for longer while work waits shows as stalled); a refused handshake or
 * a retryable refusal tried again after a backoff from MIN to MAX ms. */
#define EWH_FED_WINDOW       64u
#define EWH_FED_HEARTBEAT_MS 5000
#define EWH_FED_RETRY_MIN_MS 500
#define EWH_FED_RETRY_MAX_MS 10000
/* Foreign rosters taken from one peer link per second (a token bucket,
 * one second of burst); beyond it they are dropped, counted.  A hub sends
 * one per region on each change and on every link up. */
#define EWH_FED_ROSTERS_PER_S 40
/* A lessons-learned report's expiry when none is given (days); at most
 * EWH_MAX_EXPIRY_S like any other. */
#define EWH_LESSONS_EXPIRY_DAYS 90

/* Text */
#define EWH_MAX_REASON_BYTES 200u /* refusal reasons, incl. NUL */
#define EWH_MAX_WHO_BYTES    64u  /* officer name on a receipt */
/* The address part of a listening HOST:PORT (metrics, desk), incl. NUL. */
#define EWH_MAX_ADDR_HOST_BYTES 128u
/* A listening HOST:PORT setting as a whole (metrics, desk), incl. NUL. */
#define EWH_MAX_LISTEN_BYTES  160u
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
/* The node store's page cache per connection, KiB (SQLite's default is
 * 2,000): the agent's indexes stay cached between turns while the rows
 * of new reports (envelope and body, on overflow pages) stream through
 * (docs/performance.md, "Issue 19", the agents' stores). */
#define EWH_NODE_CACHE_KIB 16384

/* Hub defaults, configurable in ewhub.conf */
#define EWH_DEFAULT_MAX_INFLIGHT_SUBMITS 1000u   /* per node */
#define EWH_DEFAULT_SUBMITS_PER_S        2000u   /* per node, token bucket */
#define EWH_DEFAULT_MAX_QUEUE            200000u /* deliveries per node */
#define EWH_DEFAULT_CREDIT               256u    /* node's delivery window */

/* Hub loop (hub/hubint.h has its timers; docs/performance.md says why) */
#define EWH_HUB_TURN_FRAMES 2048u  /* ROUTER messages read per loop turn */
#define EWH_HUB_SNDHWM      100000 /* messages queued to one node */
/* Messages queued from one node before libzmq stops reading its socket
 * (TCP pushes back): more than max_inflight_submits of a well-behaved node,
 * few enough that a flooding node cannot fill the hub's memory. */
#define EWH_HUB_RCVHWM     4096
#define EWH_HUB_VERIFY_RUN 1024u /* submits per verification run */
/* High submits read while the pool is busy are verified on the loop
 * thread at once, at most this many a turn (docs/performance.md, "High
 * under a flood"). */
#define EWH_HUB_VERIFY_HIGH_INLINE 64u
/* libzmq I/O threads (CURVE en/decryption): a connection goes to the less
 * loaded one, so a flooding node's frames do not hold everyone's. */
#define EWH_HUB_IO_THREADS 2
/* Slots of the in-batch duplicate check: a batch with more submits than
 * half of it checks in the store instead. */
#define EWH_HUB_BATCH_IDS 4096u
/* Deliveries of a level in flight to one node, at most: a new high report
 * waits behind what is already in the node's pipe, so low and medium fill
 * only part of a large credit window. */
#define EWH_HUB_LOW_WINDOW     64u /* low */
#define EWH_HUB_NONHIGH_WINDOW 96u /* low and medium */
/* ... and in bytes, adapted to the link (deliver.c, docs/performance.md
 * "High on a slow link"): low and medium bytes in flight to a node are at
 * most its measured delivery rate times (its shortest round trip +
 * EWH_HUB_QUEUE_TARGET_MS), never below EWH_HUB_WINDOW_MIN_BYTES.  A high
 * report then waits behind about EWH_HUB_QUEUE_TARGET_MS of others. */
#define EWH_HUB_QUEUE_TARGET_MS 50
/* Only on a link whose shortest round trip is at least this long: on a
 * LAN the round trip is mostly the recipient's own turn and commit, which
 * a smaller window would not shorten but would starve of deliveries. */
#define EWH_HUB_WAN_RTT_MS       20
#define EWH_HUB_WINDOW_MIN_BYTES 16384u
#define EWH_HUB_RATE_PERIOD_MS   500   /* the delivery rate is measured over */
#define EWH_HUB_RTT_PERIOD_MS    10000 /* the shortest round trip is kept */
/* Traffic events waiting for a transaction (more are counted, dropped). */
#define EWH_HUB_MAX_PENDING_EVENTS 10000u

/* Node agent (node/agent_int.h has its timers) */
#define EWH_NODE_SUBMIT_WINDOW 256u /* submits in flight, unacknowledged */
#define EWH_NODE_TURN_FRAMES   256u /* frames read from the hub per turn */

/* Node desk: the web console (docs/desk.md).  The *_S defaults can be set
 * in ewnode.conf's [desk] section. */
#define EWH_DESK_MAX_NAME_BYTES     32u /* account name */
#define EWH_DESK_MIN_PASSWORD_BYTES 10u
#define EWH_DESK_MAX_PASSWORD_BYTES 256u
/* Argon2id (crypto_pwhash_str): libsodium's "interactive" limits. */
#define EWH_DESK_PWHASH_OPSLIMIT  2u
#define EWH_DESK_PWHASH_MEMLIMIT  (64u * 1024u * 1024u)
#define EWH_DESK_SESSION_IDLE_S   900         /* idle timeout */
#define EWH_DESK_SESSION_MAX_S    (12 * 3600) /* a session's whole life */
#define EWH_DESK_LOCKOUT_FAILURES 5u          /* bad passwords in a row ... */
#define EWH_DESK_LOCKOUT_S        900 /* ... lock the account this long */
#define EWH_DESK_MAX_POST_BYTES   (96u * 1024u) /* one request body */
#define EWH_DESK_MAX_QUERY_BYTES  128u          /* one query-string value */
#define EWH_DESK_PAGE_ROWS        50u /* reports per inbox/outbox page */
#define EWH_DESK_MAX_PAGE         10000u
/* A submit's notes (catalogue guidance, warnings) wait for the report's
 * page in the HTTP part's memory: this many at once, the oldest dropped. */
#define EWH_DESK_SENT_NOTES        32u
#define EWH_DESK_MAX_CONNECTIONS   64u
#define EWH_DESK_MAX_EVENT_STREAMS 32u       /* open live-update streams */
#define EWH_DESK_POLL_MS           100u      /* live updates: store poll */
#define EWH_DESK_MAX_ALERTS        20u       /* reports named in the banner */
#define EWH_DESK_ESCALATE_AFTER_S  (15 * 60) /* first escalation step */
#define EWH_DESK_MAX_HOOK_BYTES    1024u     /* escalate hook command */
#define EWH_DESK_MAX_CERT_BYTES    (64u * 1024u) /* tls_cert, tls_key */
#define EWH_DESK_MAX_AUDIT_ROWS    500u /* audit rows on the admin page */
/* Hardening, second round (issue 16; docs/operations.md "Limits of the
 * second hardening round") */
/* An agent whose handshake the hub refused opens its socket again after
 * a backoff doubling from MIN to MAX ms (libzmq gives up on its own). */
#define EWH_NODE_REFUSED_REOPEN_MIN_MS 1000
#define EWH_NODE_REFUSED_REOPEN_MAX_MS 30000
/* The stalled-session rule: a live session whose deliveries wait
 * unacknowledged this long, nothing acknowledged meanwhile, gets them
 * again (ewhub.conf [limits] stall_resend). */
#define EWH_DEFAULT_STALL_RESEND_S 30
/* Storage budgets at the hub (ewhub.conf [limits], issue 16 item 6):
 * bytes of envelopes waiting for one recipient, and bytes of one origin's
 * envelopes still waiting for any addressee.  Beyond either, a submit is
 * refused with EWH_E_BUDGET (retry).  High reports may go beyond a
 * budget by high_reserve_percent of it; and where the store has a quota,
 * that share of the quota is kept for high reports alone. */
#define EWH_DEFAULT_RECIPIENT_BYTES  (1024u * 1024u * 1024u) /* 1 GiB */
#define EWH_DEFAULT_ORIGIN_BYTES     (1024u * 1024u * 1024u) /* 1 GiB */
#define EWH_DEFAULT_HIGH_RESERVE_PCT 10u
#define EWH_MAX_HIGH_RESERVE_PCT     50u
#define EWH_MIN_COUNTRY_BYTES        65536u
/* A refusal on a budget rests on an exact count from the store, reused
 * for this long (deliveries only lower it; the refusal is retryable). */
#define EWH_HUB_BUDGET_RECHECK_MS 250
/* Countries whose recount the budget counter thread (hub/store_count.c)
 * holds at once; one more waits for a later check, still refused. */
#define EWH_HUB_BUDGET_ASKS 32
/* Bytes of deliveries sent to one session and not yet acknowledged (with
 * its credit, the bound on what a node that does not read costs). */
#define EWH_HUB_INFLIGHT_BYTES (8u * 1024u * 1024u)
/* ... and of relays (receipts, notices) sent to an origin, unacknowledged. */
#define EWH_HUB_RELAY_BYTES (1024u * 1024u)
/* Logs: at most EWH_LOG_BURST lines of one kind (call site) per
 * EWH_LOG_WINDOW_MS; the rest are counted and said in one line. */
#define EWH_LOG_BURST     20
#define EWH_LOG_WINDOW_MS 10000
/* Hub connections before their CURVE handshake ends (hub/gate.c): at
 * most MAX_PENDING, each closed by libzmq after HANDSHAKE_MS, and never
 * within FD_RESERVE descriptors of the open-file limit (over a bound the
 * oldest pending one is shut down). */
#define EWH_HUB_MAX_PENDING  256
#define EWH_HUB_HANDSHAKE_MS 10000
#define EWH_HUB_FD_RESERVE   64
/* The listening socket's accept queue (ZMQ_BACKLOG): what can still reach
 * libzmq once the gate has closed the door (the kernel drops new SYNs
 * while fewer than FD_RESERVE + BACKLOG descriptors are free). */
#define EWH_HUB_BACKLOG 64
/* ... and at most this many pending from one address (the newest cut). */
#define EWH_HUB_MAX_PENDING_PER_ADDR 16
/* An IPv4 address beyond that is banned at the door (the listening
 * socket's filter drops its packets) for BAN_MS; at most MAX_BANNED at
 * once (a flood from more addresses meets the whole door). */
#define EWH_HUB_MAX_BANNED 16
#define EWH_HUB_BAN_MS     10000
/* AuditRequests answered per second per country (a token bucket, one
 * second of burst); beyond it they are dropped unanswered, counted. */
#define EWH_HUB_AUDIT_PER_S 10
/* What the hub queues to one authenticated connection (hub/gate.c): bytes
 * of answers (acks, Errors, receipt acks, rosters, audit proofs) queued
 * since its socket last drained; beyond them, while the socket stays
 * full, answers are dropped (counted).  Deliveries and relays have
 * EWH_HUB_INFLIGHT_BYTES and EWH_HUB_RELAY_BYTES. */
#define EWH_HUB_CONN_OUT_BYTES (512u * 1024u)
/* Budgets (token buckets, one second of burst) of the other requests
 * that are answered: per connection, Hellos (each answered with the
 * roster and the catalogue; an agent says one per connection, again
 * every 3 s until answered) and Receipts; per country, the Errors sent
 * for refused frames.  Beyond them a Hello or Receipt is dropped
 * unprocessed, an Error not sent; counted (requests_dropped,
 * answers_dropped). */
#define EWH_HUB_HELLOS_PER_S   2
#define EWH_HUB_RECEIPTS_PER_S 500
#define EWH_HUB_ERRORS_PER_S   20
/* What libzmq may hold received from a connection and not yet given to
 * the hub (a multipart message is given only once complete, and
 * ZMQ_MAXMSGSIZE bounds only each part): beyond it on one connection,
 * or beyond the total on all, the (largest) connection is cut; checked
 * every HUB_ROSTER_CHECK_MS (hub/gate.c).  Above what an honest node's
 * window of submits can hold (256 x 200 kB). */
#define EWH_HUB_RX_HELD_BYTES (64u * 1024u * 1024u)
#define EWH_HUB_RX_HELD_TOTAL (256u * 1024u * 1024u)

#endif
