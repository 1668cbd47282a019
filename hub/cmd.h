/*
 * cmd.h — the operator's subcommands of ewhub, one cmd_<name>.c each.
 *
 * Each takes the arguments after the command name (argv[0] is the command)
 * and returns the process exit status.
 */
#ifndef HUB_CMD_H
#define HUB_CMD_H

#include <stddef.h>

#include "ewh/err.h"

#define HUB_DEFAULT_DIR "/var/lib/ewhub"
/* The longest data dir accepted (main() refuses a longer --dir or
 * EWHUB_DIR as a usage error), so that DIR/name always fits a path. */
#define HUB_MAX_DIR_CHARS 3900

int hub_cmd_init(int argc, char **argv);
int hub_cmd_enroll(int argc, char **argv);
int hub_cmd_revoke(int argc, char **argv);
int hub_cmd_roster(int argc, char **argv);
int hub_cmd_run(int argc, char **argv);
int hub_cmd_status(int argc, char **argv);
int hub_cmd_traffic(int argc, char **argv);
int hub_cmd_audit(int argc, char **argv);
int hub_cmd_backup(int argc, char **argv);
int hub_cmd_catalogue(int argc, char **argv);

/* The data dir: --dir if given, else $EWHUB_DIR, else HUB_DEFAULT_DIR. */
const char *hub_cmd_dir(const char *opt);

/* A command's runtime failure: print "ewhub: <message>" on stderr and
 * return 1, the exit status.  Commands return it; fatal()/fatalx() serve
 * only the daemon's start-up (`ewhub run`). */
int hub_cmd_fail(const char *fmt, ...) EWH_PRINTF(1, 2);

/* A usage error: print "ewhub: <message>" and the command's usage on
 * stderr and return 2, the exit status. */
int hub_cmd_usage(const char *usage, const char *fmt, ...) EWH_PRINTF(2, 3);

/* DIR/name into out.  Always fits: main() refuses a dir longer than
 * HUB_MAX_DIR_CHARS, and names are short constants (asserted). */
void hub_cmd_path(const char *dir, const char *name, char *out, size_t cap);

#endif
