/* cli — the context of a command: terminal facts, profiles, questions,
 * the cancel flag, errors and JSON on the way out. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fsx.h"
#include "offsite/offsite.h"

/* The terminal and the environment; the options come later. */
void cli_init(struct cli *c, char **argv)
{
	memset(c, 0, sizeof *c);
	c->program = argv[0];
	c->stdout_tty = isatty(STDOUT_FILENO);
	c->stdin_tty = isatty(STDIN_FILENO);
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	c->color = isatty(STDERR_FILENO) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}

/* The one flag the signal handlers may touch. */
static volatile sig_atomic_t cancel_requested;

/* SIGINT / SIGTERM: ask the flow to stop. */
static void on_cancel_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

/* Install the handlers and hand out the flag. */
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

/* The profiles file: from stdin, or where profile_locate finds it. */
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

/* The profile --profile names, or FERRY_PROFILE's, or the only one. */
const struct profile *cli_pick_profile(const struct cli *c, profile_file *pf, struct err *e)
{
	return profile_file_get(pf, c->profile_name, e);
}

/* Load and pick. */
const struct profile *cli_profile(const struct cli *c, profile_file **pf, struct err *e)
{
	*pf = cli_load_profiles(c, e);
	return *pf ? cli_pick_profile(c, *pf, e) : NULL;
}

/* The error as a JSON object. */
struct json_t *cli_error_json(const struct err *e)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "status", "error",
			      "error", err_kind_name(e->kind), "message", e->msg,
			      "exit_code", err_exit_code(e->kind));
	if (e->hint[0])
		json_object_set_new(o, "hint", json_string(e->hint));
	return o;
}

/* The error as JSON on stdout. */
static void print_error_json(const struct err *e)
{
	cli_print_json(cli_error_json(e));
}

/* Print a JSON value and drop it. */
void cli_print_json(json_t *value)
{
	/* 15 significant digits: a rounded 0.04 prints as 0.04, not 0.04000000000000001. */
	json_dumpf(value, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(value);
}

/* The message and its hint on stderr (and JSON with --json). */
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

/* Ask for a word to be typed back. */
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

/* Show the plan (on a terminal) and ask for the word. */
int cli_confirm_plan(void *ud, const struct plan *plan, const char *word, struct err *e)
{
	const struct cli *c = ud;
	if (c->stdin_tty)
		plan_print(plan, stderr);
	return cli_ask_typed(c, plan->title, word, e);
}

/* An unknown host key: ask y/N on a terminal, else no. */
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

/* A path that exists, or a name in the profile's backup.dir. */
char *cli_resolve_bundle(const char *arg, const struct profile *p, struct err *e)
{
	if (access(arg, F_OK) == 0)
		return xstrdup(arg);
	if (p && !strchr(arg, '/')) {
		char *path = xasprintf("%s/%s", p->backup.dir, arg);
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	if (strchr(arg, '/') || !p) {
		/* A path: it is not looked for in the backup dir, so do not say so. */
		err_set(e, ERR_USAGE, "bundle %s does not exist", arg);
		err_hint(e, "check the path; `ferry list` shows the bundles in the backup dir");
		return NULL;
	}
	err_set(e, ERR_USAGE, "no bundle \"%s\" in %s", arg, p->backup.dir);
	err_hint(e, "give a path, or a name from `ferry list`");
	return NULL;
}

int cli_decrypt_local(const struct profile *p, const char *bundle, const char *identity,
		      const struct event_sink *events, volatile sig_atomic_t *cancel, char **plain,
		      struct err *e)
{
	*plain = NULL;
	if (!str_ends(bundle, ".age"))
		return 0;
	if (!p) {
		err_set(e, ERR_USAGE, "bundle %s is encrypted; its profile is needed to open it", bundle);
		return err_hint(e, "add --profile NAME (its signing.public_key checks the signature)");
	}
	if (!identity) {
		err_set(e, ERR_USAGE, "bundle %s is encrypted (encryption.local)", bundle);
		return err_hint(e, "add --identity FILE: the age key or ssh private key of one of "
				"encryption.recipients");
	}
	char *dir = xstrdup(bundle);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	struct offsite_pull_opts o = {.identity = identity, .events = events, .cancel = cancel};
	struct offsite_pull_result r = {0};
	int rc = offsite_open_local(p, bundle, slash ? dir : ".", &o, &r, e);
	if (rc == 0)
		*plain = xstrdup(r.path);
	offsite_pull_result_done(&r);
	free(dir);
	return rc;
}
