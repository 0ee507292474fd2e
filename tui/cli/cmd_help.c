/* cmd_help — `ferry help [COMMAND | exit-codes] [--man]` and `ferry
 * version`. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/help.h"
#include "remote.h"

struct help_args {
	bool man;
};

static const struct cmd_option help_options[] = {
	{.name = "man", .kind = CMD_FLAG, .field = offsetof(struct help_args, man),
	 .help = "print the manual page, ferry(1), as roff (man -l - reads it)"},
	{0},
};

static const struct cmd_arg help_args_spec[] = {
	{.name = "COMMAND | exit-codes", .what = "command", .value = CMD_V_COMMAND},
	{0},
};

/* The manual page, a command's usage, the exit codes, or the overview. */
static int help_exec(struct cmd_run *r, struct err *e)
{
	const struct help_args *a = r->args;
	if (a->man) {
		help_man(stdout, r->commands);
		return 0;
	}
	if (r->argc == 0) {
		help_main(stdout, r->commands);
		return 0;
	}
	if (strcmp(r->argv[0], "exit-codes") == 0) {
		help_exit_codes(stdout);
		return 0;
	}
	const struct cmd_entry *ce = cmd_find(r->commands, r->argv[0]);
	if (!ce) {
		err_set(e, ERR_USAGE, "help: unknown command \"%s\"", r->argv[0]);
		const struct cmd_entry *near = cmd_nearest(r->commands, r->argv[0]);
		if (near)
			return err_hint(e, "did you mean \"%s\"? `ferry --help` lists the commands", near->name);
		return err_hint(e, "`ferry --help` lists the commands");
	}
	help_usage(stdout, ce);
	return 0;
}

/* "ferry 0.1.0", or {"version":"0.1.0"} with --json. */
static int version_exec(struct cmd_run *r, struct err *e)
{
	(void)e;
	if (r->c->json)
		printf("{\"program\":\"ferry\",\"version\":\"%s\",\"protocol\":%d}\n", FERRY_VERSION,
		       REMOTE_PROTOCOL);
	else
		printf("ferry %s\n", FERRY_VERSION);
	return 0;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.summary = "show help for ferry or one command (`ferry help exit-codes`, `--man`)",
	.description =
		"Without COMMAND: every command and the common options. With COMMAND:\n"
		"its options. exit-codes: what each exit status means.\n",
	.options = help_options,
	.args = help_args_spec,
	.args_max = 1,
	.args_size = sizeof(struct help_args),
	.exec = help_exec,
};

const struct cmd_entry cmd_help_version_entry = {
	.name = "version",
	.summary = "print the version (`ferry --version`)",
	.need = CMD_NEED_NONE,
	.flags = CMD_JSON,
	.json_help = "{\"program\":\"ferry\",\"version\":\"...\",\"protocol\":N}",
	.exec = version_exec,
};
