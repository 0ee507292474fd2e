/* main — dispatch `ferry COMMAND ...`; with no arguments, the helper menu. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "wiz/wiz_easy.h"

static const struct cli_command help_command = {
	"help", "show help for ferry or one command (`ferry help exit-codes`)",
	"usage: ferry help [COMMAND | exit-codes]\n", cmd_help};

static const struct cli_command version_command = {
	"version", "print the version", "usage: ferry version [--json]\n", cmd_version};

/* The command table: each command file defines its own entry. */
static const struct cli_command *const commands[] = {
	&command_backup,
	&command_restore,
	&command_rollback,
	&command_verify,
	&command_migrate,
	&command_deploy,
	&command_list,
	&command_prune,
	&command_schedule,
	&command_db,
	&command_counts,
	&command_profiles,
	&command_remote,
	&command_push,
	&command_status,
	&wiz_easy_command,
	&command_action,
	&command_sql,
	&command_exec,
	&command_shell,
	&command_seed,
	&command_reset,
	&help_command,
	&version_command,
};

size_t cli_command_count(void)
{
	return sizeof commands / sizeof commands[0];
}

const struct cli_command *cli_command_at(size_t i)
{
	return i < cli_command_count() ? commands[i] : NULL;
}

const struct cli_command *cli_find(const char *name)
{
	for (size_t i = 0; i < cli_command_count(); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

static void print_main_usage(FILE *out)
{
	fprintf(out,
		"ferry %s — back up, restore, migrate and deploy a PostgreSQL-backed app\n"
		"\n"
		"usage: ferry [--help | --version]\n"
		"       ferry COMMAND [--profiles FILE] [--profile NAME] [--json] [OPTIONS]\n"
		"\n"
		"commands:\n", FERRY_VERSION);
	for (size_t i = 0; i < cli_command_count(); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\n"
		"common options:\n"
		"  --profiles FILE   the profiles file (else $FERRY_PROFILES,\n"
		"                    ./config/migration_profiles.json,\n"
		"                    $XDG_CONFIG_HOME/ferry/profiles.json, /etc/ferry/profiles.json)\n"
		"  --profile NAME    the profile (else $FERRY_PROFILE, or the only one)\n"
		"  --json            machine-readable result on stdout\n"
		"  --yes             confirm destructive steps without asking\n"
		"\n"
		"`ferry help COMMAND` for a command's options, `ferry help exit-codes`.\n");
}

static void print_exit_codes(FILE *out)
{
	fprintf(out, "exit codes:\n");
	for (int k = 0; k < ERR_KIND_COUNT; k++) {
		int code = err_exit_code((enum err_kind)k);
		fprintf(out, "  %3d  %-11s %s\n", code, err_kind_name((enum err_kind)k),
			err_kind_describe((enum err_kind)k));
	}
}

static void init_cli(struct cli *c, char **argv)
{
	memset(c, 0, sizeof *c);
	c->program = argv[0];
	c->stdout_tty = isatty(STDOUT_FILENO);
	c->stdin_tty = isatty(STDIN_FILENO);
	const char *no_color = getenv("NO_COLOR");
	c->color = isatty(STDERR_FILENO) && !(no_color && *no_color) &&
		   !(getenv("TERM") && strcmp(getenv("TERM"), "dumb") == 0);
}

int cmd_help(struct cli *c, int argc, char **argv, struct err *e)
{
	(void)c;
	if (argc < 2) {
		print_main_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "exit-codes") == 0) {
		print_exit_codes(stdout);
		return 0;
	}
	const struct cli_command *cmd = cli_find(argv[1]);
	if (!cmd) {
		err_set(e, ERR_USAGE, "help: unknown command \"%s\"", argv[1]);
		return err_hint(e, "`ferry --help` lists the commands");
	}
	fputs(cmd->usage, stdout);
	return 0;
}

int cmd_version(struct cli *c, int argc, char **argv, struct err *e)
{
	(void)argc, (void)argv, (void)e;
	if (c->json)
		printf("{\"version\":\"%s\"}\n", FERRY_VERSION);
	else
		printf("ferry %s\n", FERRY_VERSION);
	return 0;
}

static int suggest_command(const char *name, struct err *e)
{
	err_set(e, ERR_USAGE, "unknown command \"%s\"", name);
	for (size_t i = 0; i < cli_command_count(); i++)
		if (util_edit_distance(name, commands[i]->name) <= 2)
			return err_hint(e, "did you mean \"%s\"? `ferry --help` lists the commands",
					commands[i]->name);
	return err_hint(e, "`ferry --help` lists the commands");
}

static int dispatch(struct cli *c, int argc, char **argv, struct err *e)
{
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_main_usage(stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		return cmd_version(c, 0, NULL, e);
	const struct cli_command *cmd = cli_find(name);
	if (!cmd)
		return suggest_command(name, e);
	return cmd->run(c, argc - 1, argv + 1, e);
}

int main(int argc, char **argv)
{
	struct cli c;
	struct err e = {0};
	setlocale(LC_ALL, "");
	init_cli(&c, argv);
	if (argc < 2 && !wiz_easy_wanted(&c)) {
		print_main_usage(stdout);
		return 0;
	}
	int rc = argc < 2 ? wiz_easy_helper(&c, &e) : dispatch(&c, argc, argv, &e);
	if (rc < 0) {
		cli_print_error(&c, &e);
		return err_exit_code(e.kind);
	}
	return rc;
}
