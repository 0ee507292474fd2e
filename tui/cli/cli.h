/* cli — the command line front end: common options, the command table,
 * error printing and the plain-text event renderer. */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile.h"

/* Options every command understands; filled by cli_common_option(). */
struct cli {
	const char *profiles_path;   /* --profiles FILE */
	const char *profile_name;    /* --profile NAME */
	bool json;                   /* --json */
	bool yes;                    /* --yes */
	bool color;                  /* stderr is a terminal and NO_COLOR unset */
	bool stdout_tty;
	bool stdin_tty;
	const char *program;         /* argv[0] */
};

struct cli_command {
	const char *name;
	const char *summary;         /* one line for `ferry --help` */
	const char *usage;           /* full text for `ferry help NAME` */
	int (*run)(struct cli *c, int argc, char **argv, struct err *e);
};

/* Long options shared by all commands, to append to a command's own table. */
enum {
	OPT_PROFILES = 1000, OPT_PROFILE, OPT_JSON, OPT_YES, OPT_HELP,
	OPT_COMMAND_BASE = 1100      /* commands number their own long options from here */
};
#define CLI_COMMON_OPTIONS \
	{"profiles", required_argument, NULL, OPT_PROFILES}, \
	{"profile", required_argument, NULL, OPT_PROFILE}, \
	{"json", no_argument, NULL, OPT_JSON}, \
	{"yes", no_argument, NULL, OPT_YES}, \
	{"help", no_argument, NULL, OPT_HELP}

/* Handle a common option; returns 1 when handled, 0 when not a common one,
 * -1 on a usage error (e filled). OPT_HELP prints the command's usage and
 * returns 2 so the caller can exit 0. */
int cli_common_option(struct cli *c, const struct cli_command *cmd, int opt,
		      const char *arg, struct err *e);

/* The usage error for an unknown option or missing argument from getopt. */
int cli_bad_option(const struct cli_command *cmd, char **argv, struct err *e);

const struct cli_command *cli_find(const char *name);
size_t cli_command_count(void);
const struct cli_command *cli_command_at(size_t i);

/* Load the profiles file named by --profiles / the environment / defaults. */
profile_file *cli_load_profiles(const struct cli *c, struct err *e);
/* ...and pick the profile (--profile / FERRY_PROFILE / the only one). */
const struct profile *cli_pick_profile(const struct cli *c, profile_file *pf, struct err *e);

/* Ask on the terminal to type `expected`; ERR_REFUSED without a terminal
 * or on any other answer (nothing is changed then). */
int cli_ask_typed(const struct cli *c, const char *question, const char *expected, struct err *e);
/* A flow_confirm_fn (ud = struct cli): print the plan, ask for `word`. */
int cli_confirm_plan(void *ud, const struct plan *plan, const char *word, struct err *e);
/* A flow_hostkey_fn (ud = struct cli): show the fingerprint, ask y/N. */
int cli_ask_host_key(void *ud, const char *host, int port, const char *fingerprint, const char *type);

/* A bundle given as a path, or as a file name in the profile's backup.dir
 * (p may be NULL). ERR_USAGE when neither exists. Caller frees. */
char *cli_resolve_bundle(const char *arg, const struct profile *p, struct err *e);

/* SIGINT/SIGTERM set this flag (handlers installed on first call), so a
 * flow can stop cleanly and remove its partial files. */
volatile sig_atomic_t *cli_cancel_flag(void);

/* "ferry: <msg>" and "hint: <hint>" on stderr, or a JSON error with --json. */
void cli_print_error(const struct cli *c, const struct err *e);

/* An event sink rendering to stderr: a bar on a terminal, a plain line every
 * few seconds otherwise, JSON lines on stdout with --json. */
struct cli_render;
struct cli_render *cli_render_new(const struct cli *c);
void cli_render_free(struct cli_render *r);
struct event_sink cli_render_sink(struct cli_render *r);

/* Commands: each tui/cmd_NAME.c defines its table entry. */
extern const struct cli_command command_profiles;
extern const struct cli_command command_backup;
extern const struct cli_command command_verify;
extern const struct cli_command command_list;
extern const struct cli_command command_prune;
extern const struct cli_command command_schedule;
extern const struct cli_command command_restore;
extern const struct cli_command command_rollback;
extern const struct cli_command command_db;
extern const struct cli_command command_counts;
extern const struct cli_command command_migrate;
extern const struct cli_command command_deploy;
extern const struct cli_command command_remote;
extern const struct cli_command command_push;
extern const struct cli_command command_status;
extern const struct cli_command command_action;
extern const struct cli_command command_sql;
extern const struct cli_command command_exec;
extern const struct cli_command command_shell;
extern const struct cli_command command_seed;
extern const struct cli_command command_reset;
int cmd_help(struct cli *c, int argc, char **argv, struct err *e);
int cmd_version(struct cli *c, int argc, char **argv, struct err *e);

#endif
