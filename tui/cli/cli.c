/* cli — common options, profile loading and error printing for commands. */
#include "cli/cli.h"
#include "fsx.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The one flag the signal handlers may touch. */
static volatile sig_atomic_t cancel_requested;

static void on_cancel_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

volatile sig_atomic_t *cli_cancel_flag(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_cancel_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &cancel_requested;
}

int cli_common_option(struct cli *c, const struct cli_command *cmd, int opt,
		      const char *arg, struct err *e)
{
	(void)e;
	switch (opt) {
	case OPT_PROFILES: c->profiles_path = arg; return 1;
	case OPT_PROFILE: c->profile_name = arg; return 1;
	case OPT_JSON: c->json = true; return 1;
	case OPT_YES: c->yes = true; return 1;
	case OPT_HELP: fputs(cmd->usage, stdout); return 2;
	default: return 0;
	}
}

int cli_bad_option(const struct cli_command *cmd, char **argv, struct err *e)
{
	const char *opt = argv[optind - 1] ? argv[optind - 1] : "?";
	err_set(e, ERR_USAGE, "%s: bad option or missing value near \"%s\"", cmd->name, opt);
	return err_hint(e, "`ferry help %s` lists its options", cmd->name);
}

/* `--profiles -`: the profiles JSON on standard input (how a remote ferry
 * gets its settings); relative paths are relative to the current directory. */
static profile_file *load_profiles_stdin(struct err *e)
{
	char *text = fsx_read_file("-", PROFILE_FILE_MAX, NULL, e);
	if (!text)
		return NULL;
	profile_file *pf = profile_file_load_string(text, "-", e);
	free(text);
	return pf;
}

profile_file *cli_load_profiles(const struct cli *c, struct err *e)
{
	if (c->profiles_path && strcmp(c->profiles_path, "-") == 0)
		return load_profiles_stdin(e);
	char *path = profile_locate(c->profiles_path, e);
	if (!path)
		return NULL;
	profile_file *pf = profile_file_load(path, e);
	free(path);
	return pf;
}

const struct profile *cli_pick_profile(const struct cli *c, profile_file *pf, struct err *e)
{
	return profile_file_get(pf, c->profile_name, e);
}

static void print_error_json(const struct err *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "status", "error",
			      "error", err_kind_name(e->kind), "message", e->msg,
			      "exit_code", err_exit_code(e->kind));
	if (e->hint[0])
		json_object_set_new(o, "hint", json_string(e->hint));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

void cli_print_error(const struct cli *c, const struct err *e)
{
	const char *red = c->color ? "\033[31m" : "";
	const char *dim = c->color ? "\033[2m" : "";
	const char *off = c->color ? "\033[0m" : "";
	fprintf(stderr, "%sferry:%s %s\n", red, off, e->msg[0] ? e->msg : "failed");
	if (e->hint[0])
		fprintf(stderr, "%shint:%s %s\n", dim, off, e->hint);
	if (c->json)
		print_error_json(e);
}

int cli_ask_typed(const struct cli *c, const char *question, const char *expected, struct err *e)
{
	if (!c->stdin_tty) {
		err_set(e, ERR_REFUSED, "confirmation needed and there is no terminal to ask on");
		return err_hint(e, "pass --yes to confirm from a script; nothing was changed");
	}
	fprintf(stderr, "%s\ntype \"%s\" to go on, anything else stops: ", question, expected);
	fflush(stderr);
	char line[256] = "";
	if (!fgets(line, sizeof line, stdin))
		line[0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, expected) == 0)
		return 0;
	err_set(e, ERR_REFUSED, "not confirmed (typed \"%s\", expected \"%s\")", line, expected);
	return err_hint(e, "nothing was changed");
}

int cli_confirm_plan(void *ud, const struct plan *plan, const char *word, struct err *e)
{
	const struct cli *c = ud;
	if (c->stdin_tty)
		plan_print(plan, stderr);
	return cli_ask_typed(c, plan->title, word, e);
}

int cli_ask_host_key(void *ud, const char *host, int port, const char *fingerprint, const char *type)
{
	const struct cli *c = ud;
	if (!c->stdin_tty)
		return 0;
	fprintf(stderr, "the host key of %s:%d is not known yet:\n  %s %s\n"
		"check it with the server's administrator. accept and record it? [y/N] ",
		host, port, type, fingerprint);
	char line[16] = "";
	return fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y');
}
