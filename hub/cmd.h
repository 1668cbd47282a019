/*
 * cmd.h — the operator's subcommands of ewhub, one cmd_<name>.c each.
 *
 * Each takes the arguments after the command name (argv[0] is the command)
 * and returns the process exit status.
 */
#ifndef HUB_CMD_H
#define HUB_CMD_H

#include <stddef.h>

#define HUB_DEFAULT_DIR "/var/lib/ewhub"

int hub_cmd_init(int argc, char **argv);
int hub_cmd_enroll(int argc, char **argv);
int hub_cmd_revoke(int argc, char **argv);
int hub_cmd_run(int argc, char **argv);
int hub_cmd_status(int argc, char **argv);
int hub_cmd_traffic(int argc, char **argv);
int hub_cmd_audit(int argc, char **argv);
int hub_cmd_backup(int argc, char **argv);
int hub_cmd_catalogue(int argc, char **argv);

/* The data dir: --dir if given, else $EWHUB_DIR, else HUB_DEFAULT_DIR. */
const char *hub_cmd_dir(const char *opt);

/* DIR/name into out (fatalx when it does not fit). */
void hub_cmd_path(const char *dir, const char *name, char *out, size_t cap);

#endif
