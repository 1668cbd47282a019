/*
 * cmd.h — the ewnode subcommands.  Each takes main's argc/argv with
 * argv[0] being the command name and returns the process exit status:
 * 0 success, 1 failure (with a message on stderr), 2 usage error.
 */
#ifndef NODE_CMD_H
#define NODE_CMD_H

#include <stdbool.h>

#include "dir.h"

int node_cmd_init(int argc, char **argv);
int node_cmd_run(int argc, char **argv);
int node_cmd_submit(int argc, char **argv);
int node_cmd_inbox(int argc, char **argv);
int node_cmd_show(int argc, char **argv);
int node_cmd_ack(int argc, char **argv);
int node_cmd_watch(int argc, char **argv);
int node_cmd_outbox(int argc, char **argv);
int node_cmd_peers(int argc, char **argv);
int node_cmd_import_roster(int argc, char **argv);
int node_cmd_open(int argc, char **argv);
int node_cmd_audit(int argc, char **argv);
int node_cmd_hubs(int argc, char **argv);
int node_cmd_catalogue(int argc, char **argv);
int node_cmd_exchange(int argc, char **argv);
int node_cmd_desk(int argc, char **argv);
int node_cmd_user(int argc, char **argv);

/* Shared helpers (main.c). */

/* Print "ewnode CMD: reason" and return 1. */
int node_cmd_fail(const char *cmd, const struct ewh_err *err);
/* Print cmd's usage and options on stdout and return 0 (for --help). */
int node_cmd_help(const char *cmd);
/* Print a usage error for cmd and return 2. */
int node_cmd_usage(const char *cmd, const char *msg);
/* Open the directory named by --dir (or the default); prints errors. */
EWH_MUST_CHECK int node_cmd_open_dir(struct node_dir *d, const char *dir,
                                     bool with_secret, const char *cmd);
/* Parse "high,medium" into a level bit set (bit 1 << level). */
EWH_MUST_CHECK int node_cmd_levels(const char *s, unsigned *out,
                                   struct ewh_err *err);
/* Read a whole file ("-" = stdin) of at most cap bytes.  Caller owns *out
 * (NUL-terminated). */
EWH_MUST_CHECK int node_cmd_read_file(const char *path, size_t cap, char **out,
                                      size_t *len, struct ewh_err *err);

#endif
