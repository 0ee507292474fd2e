/* cli — what every command works with: the common options of the command
 * line and the terminal's facts (struct cli, the one piece of parsed
 * global state), loading the profiles file, questions on the terminal, the
 * cancel flag, printing errors and JSON.
 *
 * Ownership: struct cli's strings point into argv (borrowed). Returned
 * profile files and strings are the caller's to free. */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"

struct json_t;

/* The common options (set by the dispatcher from the command table) and
 * the terminal. */
struct cli {
	const char *profiles_path;   /* --profiles FILE */
	const char *profile_name;    /* --profile NAME (deploy: --env) */
	const char *target_name;     /* --target NAME (migrate, push) */
	const char *from_name;       /* --from NAME (migrate) */
	bool json;                   /* --json */
	bool yes;                    /* --yes */
	bool dry_run;                /* --dry-run */
	bool help;                   /* --help */
	bool no_log;                 /* --no-log: no log file in log_dir */
	bool color;                  /* stderr is a terminal and NO_COLOR unset */
	bool stdout_tty;
	bool stdin_tty;
	const char *program;         /* argv[0] */
};

/* Fill c from the environment and the terminal (no options yet). */
void cli_init(struct cli *c, char **argv);

/* Load the profiles file named by --profiles / the environment / defaults
 * (`--profiles -`: from standard input). */
profile_file *cli_load_profiles(const struct cli *c, struct err *e);
/* ...and pick the profile (--profile / FERRY_PROFILE / the only one). */
const struct profile *cli_pick_profile(const struct cli *c, profile_file *pf, struct err *e);
/* Both: *pf is set (to free) even when picking fails. */
const struct profile *cli_profile(const struct cli *c, profile_file **pf, struct err *e);

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

/* A local bundle kept encrypted (encryption.local: "x.ferry.tar.zst.age"):
 * decrypted with identity next to it as the plain bundle, verified (hashes,
 * signature), and *plain set to that path, which the caller removes when
 * done. 0 with *plain NULL when bundle is not encrypted; -1 with e filled
 * (ERR_USAGE without an identity or a profile, ERR_VERIFY). */
int cli_decrypt_local(const struct profile *p, const char *bundle, const char *identity,
		      const struct event_sink *events, volatile sig_atomic_t *cancel, char **plain,
		      struct err *e);

/* SIGINT/SIGTERM set this flag (handlers installed on first call), so a
 * flow can stop cleanly and remove its partial files. */
volatile sig_atomic_t *cli_cancel_flag(void);

/* "ferry: <msg>" and "hint: <hint>" on stderr, and a JSON error on stdout
 * with --json. */
void cli_print_error(const struct cli *c, const struct err *e);

/* {"status":"error","error","message","hint","exit_code"}: a new reference. */
struct json_t *cli_error_json(const struct err *e);

/* After a scheduled run (--scheduled) or `status --notify` (cmd_notify.c):
 * the outcome (rc < 0: failure with e; else warning when warned, else
 * success) goes to the profile's notify section when its notify.on asks
 * for it. summary says what happened in one line; result (a reference
 * taken; NULL = the error's JSON) is the run's JSON. A failing notifier
 * is reported on stderr and changes nothing else. */
void cli_alert(const struct cli *c, const struct profile *p, const char *event, int rc,
	       const struct err *e, bool warned, const char *summary, struct json_t *result);

/* Print a JSON value on one line on stdout (keys in order) and free it. */
void cli_print_json(struct json_t *value);

#endif
