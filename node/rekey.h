/*
 * rekey.h — re-keying a node without a gap in service.
 *
 * `ewnode rekey` writes node.key.new and node-CC.pub.new beside the keys
 * in use.  The agent goes on with the old keys; once the hub operator has
 * enrolled the new file, the hub refuses the old transport key, the agent
 * tries the new one, and when the hub's signed roster names the new
 * identity for this country it switches for good (node_dir_rekey_commit)
 * and reseals what the hub has not accepted yet (node_rekey_reseal).
 */
#ifndef NODE_REKEY_H
#define NODE_REKEY_H

#include "dir.h"

/* Inside one transaction: every sent report still queued (not accepted
 * by the hub) is opened with old and sealed again with d->secret under
 * the same id, for the same addressees (keys from roster); every receipt
 * not yet sent is signed again.  *n_env and *n_rcpt get the counts. */
EWH_MUST_CHECK int node_rekey_reseal(struct node_dir *d,
                                     const ewh_secret_t *old,
                                     const ewh_roster_t *roster, size_t *n_env,
                                     size_t *n_rcpt, struct ewh_err *err);

int node_cmd_rekey(int argc, char **argv);

#endif
