/*
 * linkstate.h — what the agent knows of its link to the hub, for the
 * commands that would otherwise wait or queue in silence.
 *
 * The agent (node_run) owns DIR/link.json: it rewrites it, atomically
 * (temp file, fsync, rename; mode 0600) and only when the state or its
 * reason changes.  Commands read it, together with the agent's lock
 * (node_dir_agent_pid), and say when the agent is not running, has not
 * been connected since a given time, or the hub refuses this node.
 */
#ifndef NODE_LINKSTATE_H
#define NODE_LINKSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dir.h"

enum node_link_state {
    NODE_LS_UNKNOWN = 0,  /* no file (no agent ever ran here) */
    NODE_LS_CONNECTING,   /* started, no session yet */
    NODE_LS_CONNECTED,    /* CURVE handshake done, hello sent */
    NODE_LS_DISCONNECTED, /* was connected; reconnecting */
    NODE_LS_UNREACHABLE,  /* TCP connection fails for a while */
    NODE_LS_HANDSHAKE,    /* handshake fails: wrong hub key? */
    NODE_LS_REFUSED,      /* the hub refuses this node (revoked...) */
    NODE_LS_STOPPED,      /* the agent stopped in order */
};

/* After this long without a session the agent logs that the hub cannot be
 * reached and says why if it can tell. */
#define NODE_LS_WARN_MS 3000

struct node_linkstate {
    enum node_link_state state;
    int64_t since;          /* unix seconds: this state began */
    int64_t last_connected; /* unix seconds the link was last up, 0 never */
    int64_t started;        /* unix seconds the agent started */
    long pid;               /* the agent's */
    char hub[256];          /* the endpoint it connects to */
    char reason[256];       /* why, for people; "" when connected */
    /* read from "hubs" (several hubs): how many, how many connected */
    int n_hubs, n_connected;
};

const char *node_linkstate_name(enum node_link_state s);

/* Agent side: set the state (and reason, may be NULL) and rewrite
 * DIR/link.json when either changed.  Errors are logged, never fatal:
 * the link works without the file. */
void node_linkstate_set(const struct node_dir *d, struct node_linkstate *ls,
                        enum node_link_state state, const char *reason);

/* The same in memory only: true when the state or its reason changed
 * (the agent then writes the file, node_linkstate_write()). */
bool node_linkstate_note(struct node_linkstate *ls, const char *hub,
                         enum node_link_state state, const char *reason);

/* Rewrite DIR/link.json: ls (hub #0) as the top-level fields, and hubs
 * (borrowed; NULL: none) as "hubs", one object per hub (issue 18:
 * endpoint, fingerprint, state, connected, since, last_frame_at,
 * accepted, lagging, roster_version, roster_mismatch, refills). */
void node_linkstate_write(const struct node_dir *d,
                          const struct node_linkstate *ls, json_t *hubs);

/* Read DIR/link.json into *ls; state NODE_LS_UNKNOWN when absent or
 * unreadable. */
void node_linkstate_read(const struct node_dir *d, struct node_linkstate *ls);

/* Commands: print to out ("ewnode CMD: ...") what the user must know
 * about the link (agent not running; not connected since T and why; the
 * hub refuses this node), nothing when the agent is connected or has just
 * started.  Returns the state as a code: NODE_LS_CONNECTED when the
 * agent runs and is connected, NODE_LS_STOPPED when no agent runs,
 * NODE_LS_UNKNOWN when it has just started (nothing said), else the
 * agent's state. */
enum node_link_state node_linkstate_hint(const struct node_dir *d,
                                         const char *cmd, FILE *out);

/* For a command that waits (watch): print the hint when the state
 * differs from last (-1 at first, saying nothing when connected), and "the
 * agent is connected to the hub" when it comes back.  Returns the state
 * to pass as last next time. */
int node_linkstate_follow(const struct node_dir *d, const char *cmd, int last,
                          FILE *out);

/* The same facts as a JSON object for --json outputs: {"agent_running",
 * "state", "since", "last_connected", "reason"}.  Caller owns it
 * (json_decref). */
json_t *node_linkstate_json(const struct node_dir *d);

#endif
