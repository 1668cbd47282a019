/*
 * agent.h — the node agent: one zmq_poll() loop.
 *
 * A DEALER with CURVE client keys connects to the pinned hub; ZeroMQ
 * reconnects with backoff and heartbeats detect a dead hub.  A socket
 * monitor reports each completed handshake: the agent then sends Hello,
 * and once the hub answers with the roster it sends the outbox (at most
 * EWH_NODE_SUBMIT_WINDOW in flight) and the receipts not yet
 * acknowledged.  Deliveries are stored, committed, then acknowledged.
 * SIGTERM/SIGINT end the loop; SIGHUP reloads the roster from the store.
 *
 * Its files share agent_int.h: agent.c (the loop), link.c, outbox.c,
 * inbox.c, receipts.c, rekey.c (docs/architecture.md).
 */
#ifndef NODE_AGENT_H
#define NODE_AGENT_H

#include "dir.h"

/* Run until SIGTERM or SIGINT.  d must be opened with its secret.  The
 * signals must be blocked by the caller before any thread starts; sfd is
 * a signalfd for SIGINT, SIGTERM and SIGHUP.  Returns 0 on a clean exit. */
EWH_MUST_CHECK int node_run(struct node_dir *d, int sfd, struct ewh_err *err);

#endif
