/* cmd — what a command is: its entry in the command table (modelled on
 * tmux's cmd_entry). Each command declares its options (long name, the
 * kind of argument, the field it sets, its help), its positional
 * arguments, the profile it needs and what it supports (--dry-run, --json,
 * --yes, progress, cancel). One parser (dispatch.c) reads every command's
 * options from here, and the usage text, the man page (help.c) and the
 * shell completion (cmd_completion.c) are printed from the same entries.
 *
 * Options several commands share (--jobs 1-64, --dry-run, --json, --yes,
 * --profile, --profiles, ...) are declared once below and referenced by the
 * commands with CMD_USE. The common options (--profiles, --profile,
 * --json, --yes, --help) are accepted by every command; the entry's need
 * and flags say which of them a command's help lists.
 *
 * Ownership: entries and options are static data; a struct cmd_run's
 * members are owned by the dispatcher, which frees them after exec. */
#ifndef FERRY_CMD_H
#define FERRY_CMD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/cli.h"
#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"

/* The kind of an option's argument. */
enum cmd_kind {
	CMD_FLAG,                 /* no argument: sets a bool */
	CMD_STRING,               /* one value: sets a const char * (into argv) */
	CMD_INT,                  /* an integer in [min, max]: sets an int */
	CMD_LIST,                 /* repeatable: appends to a struct strv */
};

/* What a value names: how the shell completes it. */
enum cmd_value {
	CMD_V_NONE,               /* free text */
	CMD_V_PROFILE,            /* a profile of the profiles file */
	CMD_V_BUNDLE,             /* a bundle in the profile's backup.dir, or a file */
	CMD_V_FILE,
	CMD_V_DIR,
	CMD_V_COMMAND,            /* a ferry command (`ferry help COMMAND`) */
};

struct cmd_option {
	/* A shared option: name, kind, range, help come from it (the rest of
	 * this entry is unused except field). */
	const struct cmd_option *shared;
	const char *name;         /* the long name without "--" */
	char short_name;          /* a one-letter alias, or 0 */
	enum cmd_kind kind;
	int min, max;             /* CMD_INT: the range */
	const char *const *choices;   /* CMD_STRING: the allowed values (NULL-terminated), or NULL */
	enum cmd_value value;     /* what the value names (completion) */
	const char *metavar;      /* the value in the usage text: "N", "DIR" */
	const char *help;         /* one line or more ("\n" between them) */
	bool in_cli;              /* the field is in struct cli, else in the command's args */
	size_t field;             /* offsetof the field it sets */
};

/* A command's option declared here once, and the field it sets in the
 * command's args struct (for a shared option whose field is in struct
 * cli, use CMD_USE_CLI). */
#define CMD_USE(opt, type, member) {.shared = &(opt), .field = offsetof(type, member)}
#define CMD_USE_CLI(opt) {.shared = &(opt)}

/* A positional argument. */
struct cmd_arg {
	const char *name;         /* "BUNDLE"; the usage text shows it as written */
	const char *what;         /* in messages: "no command given" (default: name) */
	const char *const *choices;   /* the words it may be (NULL-terminated), or NULL */
	enum cmd_value value;
};

/* Which profile the dispatcher loads before exec. */
enum cmd_need {
	CMD_NEED_NONE,            /* none, and --profile(s) mean nothing */
	CMD_NEED_OPTIONAL,        /* the exec loads one when it needs it */
	CMD_NEED_PROFILE,         /* --profile, $FERRY_PROFILE, or the only one */
	CMD_NEED_TARGET,          /* the one --target names (required) */
	CMD_NEED_PAIR,            /* --target (required) and this machine's: --from,
				   * --profile, $FERRY_PROFILE, or the only other one */
};

enum {
	CMD_DRY_RUN = 1 << 0,     /* --dry-run: the plan hook's plan is printed (text, or
				   * --json); without a plan hook exec reads c->dry_run */
	CMD_JSON = 1 << 1,        /* --json: a machine-readable result */
	CMD_YES = 1 << 2,         /* --yes: confirm without asking */
	CMD_PROGRESS = 1 << 3,    /* events rendered: a bar, plain lines, or JSON lines */
	CMD_CANCEL = 1 << 4,      /* SIGINT / SIGTERM set the cancel flag */
	CMD_WORDS_END = 1 << 5,   /* the first positional word ends the options (remote) */
	CMD_REMOTE_PROFILE = 1 << 6, /* with an ssh section, the profile is another host's
				      * (deploy, push): its log_dir is there, no log here */
	CMD_NO_RUN_LOG = 1 << 7,  /* progress, but no run log (init: no profile yet) */
};

struct cmd_entry;

/* A list of commands: the command table (tui/cli/table.c). */
struct cmd_list {
	const struct cmd_entry *const *v;
	size_t n;
};

/* What exec and the hooks get: the parsed command line, and what the
 * dispatcher set up from the entry. */
struct cmd_run {
	const struct cmd_entry *entry;
	struct cli *c;            /* the common options, terminal facts */
	void *args;               /* the command's args struct (args_size bytes) */
	int argc;                 /* the positional arguments */
	char **argv;
	profile_file *pf;         /* loaded when need is PROFILE, TARGET or PAIR */
	const struct profile *p;  /* PROFILE: the picked one; TARGET: --target's;
				   * PAIR: this machine's; OPTIONAL: exec sets it
				   * when it loads one (the run's log then goes
				   * under its log_dir) */
	const struct profile *target; /* PAIR: the new server's */
	struct event_sink *events;    /* CMD_PROGRESS: the renderer; else NULL */
	volatile sig_atomic_t *cancel; /* CMD_CANCEL: set by SIGINT / SIGTERM; else NULL */
	const struct cmd_list *commands;  /* every command (for help and completion) */
};

struct cmd_entry {
	const char *name;
	const char *summary;      /* one line for `ferry --help` */
	const char *description;  /* paragraphs for the usage text and the man page */
	const char *footer;       /* after the options (exit status, examples), or NULL */
	const struct cmd_option *options;  /* ends with an entry without name and shared */
	const struct cmd_arg *args;        /* ends with an entry without name; with
					    * args_max -1 the last one repeats */
	int args_min, args_max;   /* positional words allowed; args_max -1: any */
	enum cmd_need need;
	unsigned flags;           /* CMD_DRY_RUN | CMD_JSON | ... */
	const char *json_help;    /* what --json prints, or NULL */
	const char *yes_help;     /* what --yes confirms, or NULL */
	size_t args_size;         /* sizeof the args struct the options fill */
	/* After parsing, before the profiles are loaded (NULL: none). */
	int (*check)(struct cmd_run *r, struct err *e);
	/* CMD_DRY_RUN: the plan, as the run would make it; CMD_PLAN_BY_EXEC
	 * when this use of the command makes its dry run in exec (c->dry_run). */
	int (*plan)(struct cmd_run *r, struct plan *plan, struct err *e);
	/* The work: 0, -1 with e filled, or an exit code > 0. */
	int (*exec)(struct cmd_run *r, struct err *e);
};

#define CMD_PLAN_BY_EXEC 1

/* The shared options. */
extern const struct cmd_option cmd_opt_profiles;   /* --profiles FILE (cli) */
extern const struct cmd_option cmd_opt_profile;    /* --profile NAME (cli) */
extern const struct cmd_option cmd_opt_json;       /* --json (cli) */
extern const struct cmd_option cmd_opt_yes;        /* --yes (cli) */
extern const struct cmd_option cmd_opt_help;       /* --help */
extern const struct cmd_option cmd_opt_no_log;     /* --no-log (cli) */
extern const struct cmd_option cmd_opt_dry_run;    /* --dry-run (cli) */
extern const struct cmd_option cmd_opt_target;     /* --target NAME (cli) */
extern const struct cmd_option cmd_opt_jobs;       /* --jobs N, 1-64 */
extern const struct cmd_option cmd_opt_db_only;    /* --db-only */
extern const struct cmd_option cmd_opt_files_only; /* --files-only */
extern const struct cmd_option cmd_opt_schema_only; /* --schema-only */
extern const struct cmd_option cmd_opt_data_only;  /* --data-only */
extern const struct cmd_option cmd_opt_accept_new_host_key; /* --accept-new-host-key */
extern const struct cmd_option cmd_opt_break_lock; /* --break-lock */
extern const struct cmd_option cmd_opt_scheduled;  /* --scheduled */

/* The command of a name in l, or NULL. */
const struct cmd_entry *cmd_find(const struct cmd_list *l, const char *name);
/* The command in l nearest to a mistyped name (at most two edits), or NULL. */
const struct cmd_entry *cmd_nearest(const struct cmd_list *l, const char *name);

/* How many positional arguments the entry declares. */
int cmd_arg_count(const struct cmd_entry *ce);
/* The spec of the i-th positional word (the last one repeats), or NULL. */
const struct cmd_arg *cmd_arg_at(const struct cmd_entry *ce, int i);

/* The declaration of an option (the shared one it refers to, or itself). */
const struct cmd_option *cmd_decl(const struct cmd_option *o);

/* Every option a command accepts, in the order its help lists them: its
 * own, --dry-run (CMD_DRY_RUN), then the common ones. i from 0; NULL past
 * the end. */
const struct cmd_option *cmd_option_at(const struct cmd_entry *ce, size_t i);
/* Whether the command's help, man page and completion list option o (the
 * common options a command does not use are accepted but not listed). */
bool cmd_option_listed(const struct cmd_entry *ce, const struct cmd_option *o);
/* The help text of o for this command (--json and --yes take the entry's). */
const char *cmd_option_help(const struct cmd_entry *ce, const struct cmd_option *o);

#endif
