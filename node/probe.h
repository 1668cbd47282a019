/*
 * probe.h — why the hub cannot be reached, when the agent can tell.
 *
 * libzmq's monitor says only that a TCP connect was retried.  When the
 * agent has had no session for a while it opens one non-blocking TCP
 * connection of its own to the hub's address (numeric hosts only: no
 * DNS lookup may block the loop) and reads the answer a few seconds
 * later: "Connection refused", "No route to host", no answer at all...
 */
#ifndef NODE_PROBE_H
#define NODE_PROBE_H

#include <stddef.h>

/* Start a TCP connect to the host and port of a tcp://HOST:PORT endpoint.
 * Returns the socket (caller closes it with node_probe_result()), or -1
 * when the host is not numeric or the connect failed at once (then why
 * holds the reason, "" if none can be given). */
int node_probe_start(const char *endpoint, char *why, size_t cap);

/* The outcome of the probe on fd, into why: the connect's error, "TCP
 * connects" when it succeeded, or "no answer" when it is still pending.
 * Closes fd. */
void node_probe_result(int fd, char *why, size_t cap);

#endif
