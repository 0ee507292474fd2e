/* dispatch — parse a command line against the command table and run the
 * command: options, positional arguments, profiles, renderer, cancel flag,
 * then the plan (--dry-run) or exec. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dispatch.h"
#include "cli/help.h"
#include "cli/render.h"
#include "cli/table.h"
#include "runlog.h"
#include "util.h"

#define MAX_OPTIONS 48
#define LONG_BASE 256   /* getopt values of long options: LONG_BASE + index */

/* A command's options as getopt_long wants them. */
struct parser {
	const struct cmd_entry *ce;
	const struct cmd_option *opts[MAX_OPTIONS];
	size_t n;
	struct option longopts[MAX_OPTIONS + 1];
	char shorts[2 * MAX_OPTIONS + 4];
};

/* --- messages --------------------------------------------------------------- */

/* The usual hint after a usage error. */
static int help_hint(const struct cmd_entry *ce, struct err *e)
{
	return err_hint(e, "`ferry help %s` lists the options", ce->name);
}

/* "a, b, c" (or "a, b or c" with last_or) into buf. */
static const char *join_words(const char *const *v, bool last_or, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; v[i] && used < n; i++) {
		const char *sep = i == 0 ? "" : last_or && !v[i + 1] ? " or " : ", ";
		int w = snprintf(buf + used, n - used, "%s%s", sep, v[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

/* Whether word is one of v. */
static bool in_words(const char *const *v, const char *word)
{
	for (size_t i = 0; v[i]; i++)
		if (strcmp(v[i], word) == 0)
			return true;
	return false;
}

/* --- the getopt table --------------------------------------------------------- */

/* Build getopt_long's tables from the entry. */
static void parser_init(struct parser *ps, const struct cmd_entry *ce)
{
	memset(ps, 0, sizeof *ps);
	ps->ce = ce;
	size_t k = 0;
	if (ce->flags & CMD_WORDS_END)
		ps->shorts[k++] = '+';
	ps->shorts[k++] = ':';
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(ce, i)) && ps->n < MAX_OPTIONS; i++) {
		const struct cmd_option *d = cmd_decl(o);
		ps->opts[ps->n] = o;
		ps->longopts[ps->n] = (struct option){
			d->name, d->kind == CMD_FLAG ? no_argument : required_argument, NULL,
			LONG_BASE + (int)ps->n};
		if (d->short_name) {
			ps->shorts[k++] = d->short_name;
			if (d->kind != CMD_FLAG)
				ps->shorts[k++] = ':';
		}
		ps->n++;
	}
	ps->shorts[k] = '\0';
}

/* The option getopt returned (a long option's value, or a short letter). */
static const struct cmd_option *parser_option(const struct parser *ps, int val)
{
	if (val >= LONG_BASE && val < LONG_BASE + (int)ps->n)
		return ps->opts[val - LONG_BASE];
	for (size_t i = 0; val > 0 && i < ps->n; i++)
		if (cmd_decl(ps->opts[i])->short_name == val)
			return ps->opts[i];
	return NULL;
}

/* The accepted option nearest to name (edit distance at most 2), or NULL. */
static const struct cmd_option *nearest_option(const struct parser *ps, const char *name)
{
	const struct cmd_option *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < ps->n; i++) {
		size_t d = util_edit_distance(name, cmd_decl(ps->opts[i])->name);
		if (d < best_d) {
			best = ps->opts[i];
			best_d = d;
		}
	}
	return best;
}

/* The options whose names start with prefix, "--a, --b" into buf; how many. */
static size_t prefixed_options(const struct parser *ps, const char *prefix, char *buf, size_t n)
{
	size_t count = 0, used = 0, len = strlen(prefix);
	buf[0] = '\0';
	for (size_t i = 0; i < ps->n && len > 0; i++) {
		const char *name = cmd_decl(ps->opts[i])->name;
		if (strncmp(name, prefix, len) != 0 || used >= n)
			continue;
		int w = snprintf(buf + used, n - used, "%s--%s", count ? ", " : "", name);
		used += w > 0 ? (size_t)w : 0;
		count++;
	}
	return count;
}

/* getopt did not know the word (or a flag got a value): say which, and
 * what was probably meant. */
static int bad_option(const struct parser *ps, const char *word, struct err *e)
{
	const char *ce_name = ps->ce->name;
	char name[128];
	snprintf(name, sizeof name, "%s", word + strspn(word, "-"));
	name[strcspn(name, "=")] = '\0';
	char list[512];
	if (word[0] == '-' && word[1] == '-' && prefixed_options(ps, name, list, sizeof list) > 1) {
		err_set(e, ERR_USAGE, "%s: \"%s\" is ambiguous: %s", ce_name, word, list);
		return help_hint(ps->ce, e);
	}
	for (size_t i = 0; i < ps->n; i++) {
		const struct cmd_option *d = cmd_decl(ps->opts[i]);
		if (strchr(word, '=') && strcmp(d->name, name) == 0 && d->kind == CMD_FLAG) {
			err_set(e, ERR_USAGE, "%s: --%s takes no value (\"%s\")", ce_name, d->name, word);
			return help_hint(ps->ce, e);
		}
	}
	err_set(e, ERR_USAGE, "%s: unknown option \"%s\"", ce_name, word);
	const struct cmd_option *near = nearest_option(ps, name);
	if (near)
		return err_hint(e, "did you mean --%s? `ferry help %s` lists the options",
				cmd_decl(near)->name, ce_name);
	return help_hint(ps->ce, e);
}

/* --- values ------------------------------------------------------------------------ */

/* Where an option's value goes. */
static void *option_field(const struct cmd_run *r, const struct cmd_option *use)
{
	const struct cmd_option *d = cmd_decl(use);
	if (d->in_cli)
		return (char *)r->c + d->field;
	return (char *)r->args + use->field;
}

/* "--jobs expects 1-64, got "0"". */
static int parse_int(const struct cmd_entry *ce, const struct cmd_option *d, const char *arg,
		     int *out, struct err *e)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < d->min || v > d->max) {
		err_set(e, ERR_USAGE, "%s: --%s expects %d-%d, got \"%s\"", ce->name, d->name, d->min,
			d->max, arg);
		return help_hint(ce, e);
	}
	*out = (int)v;
	return 0;
}

/* Set the field of one option from its argument. */
static int set_option(const struct cmd_run *r, const struct cmd_option *use, const char *arg,
		      struct err *e)
{
	const struct cmd_option *d = cmd_decl(use);
	void *p = option_field(r, use);
	char words[512];
	switch (d->kind) {
	case CMD_FLAG:
		*(bool *)p = true;
		return 0;
	case CMD_STRING:
		if (d->choices && !in_words(d->choices, arg)) {
			err_set(e, ERR_USAGE, "%s: --%s \"%s\" is not one of %s", r->entry->name, d->name,
				arg, join_words(d->choices, false, words, sizeof words));
			return help_hint(r->entry, e);
		}
		*(const char **)p = arg;
		return 0;
	case CMD_INT:
		return parse_int(r->entry, d, arg, p, e);
	case CMD_LIST:
		strv_push(p, arg);
		return 0;
	}
	return 0;
}

/* Free what the options put in the args struct (the lists). */
static void free_lists(const struct cmd_run *r)
{
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(r->entry, i)); i++)
		if (cmd_decl(o)->kind == CMD_LIST && !cmd_decl(o)->in_cli)
			strv_done(option_field(r, o));
}

/* --- parsing --------------------------------------------------------------------- */

/* The one getopt_long loop. 1 when --help was asked (and printed). */
static int parse_options(struct cmd_run *r, int argc, char **argv, struct err *e)
{
	struct parser ps;
	parser_init(&ps, r->entry);
	optind = 1;
	opterr = 0;
	int val;
	while ((val = getopt_long(argc, argv, ps.shorts, ps.longopts, NULL)) != -1) {
		const struct cmd_option *o = parser_option(&ps, val);
		if (val == ':' || val == '?') {
			char shortw[3] = {'-', (char)optopt, '\0'};
			const char *word = optopt > 0 && optopt < LONG_BASE ? shortw : argv[optind - 1];
			o = parser_option(&ps, optopt);
			if (val == '?' || !o)
				return bad_option(&ps, word, e);
			err_set(e, ERR_USAGE, "%s: --%s needs a value (%s)", r->entry->name, cmd_decl(o)->name,
				cmd_decl(o)->metavar ? cmd_decl(o)->metavar : "a value");
			return help_hint(r->entry, e);
		}
		if (cmd_decl(o) == &cmd_opt_help) {
			help_usage(stdout, r->entry);
			return 1;
		}
		if (set_option(r, o, optarg, e) < 0)
			return -1;
	}
	r->argc = argc - optind;
	r->argv = argv + optind;
	return 0;
}

/* Count the positional words and check those with choices. */
static int check_words(const struct cmd_run *r, struct err *e)
{
	const struct cmd_entry *ce = r->entry;
	char words[512];
	if (r->argc < ce->args_min) {
		const struct cmd_arg *a = cmd_arg_at(ce, r->argc);
		if (a && a->choices)
			err_set(e, ERR_USAGE, "%s: expected %s", ce->name, join_words(a->choices, true, words, sizeof words));
		else
			err_set(e, ERR_USAGE, "%s: no %s given", ce->name, a ? (a->what ? a->what : a->name) : "argument");
		return help_hint(ce, e);
	}
	if (ce->args_max >= 0 && r->argc > ce->args_max) {
		err_set(e, ERR_USAGE, "%s: unexpected argument \"%s\"", ce->name, r->argv[ce->args_max]);
		return help_hint(ce, e);
	}
	for (int i = 0; i < r->argc; i++) {
		const struct cmd_arg *a = cmd_arg_at(ce, i);
		if (!a || !a->choices || in_words(a->choices, r->argv[i]))
			continue;
		const char *what = a->what ? a->what : a->name;
		err_set(e, ERR_USAGE, "%s: no %s \"%s\"", ce->name, what, r->argv[i]);
		return err_hint(e, "the %ss: %s", what, join_words(a->choices, false, words, sizeof words));
	}
	return 0;
}

/* --- profiles ---------------------------------------------------------------------- */

/* This machine's profile for a pair: --from, else --profile /
 * FERRY_PROFILE, else the only profile that is not the target. */
static const struct profile *pick_from(const struct cmd_run *r, const struct profile *to, struct err *e)
{
	const struct cli *c = r->c;
	const char *name = c->from_name ? c->from_name : c->profile_name ? c->profile_name : getenv("FERRY_PROFILE");
	if (name && *name)
		return profile_file_get(r->pf, name, e);
	const struct profile *only = NULL;
	for (size_t i = 0; i < profile_file_count(r->pf); i++) {
		const struct profile *p = profile_file_at(r->pf, i);
		if (p == to)
			continue;
		if (only) {
			err_set(e, ERR_PROFILE, "%s: which profile is this machine?", r->entry->name);
			return err_hint(e, "pass --from NAME"), NULL;
		}
		only = p;
	}
	if (!only)
		err_set(e, ERR_PROFILE, "%s: the profiles file has no profile for this machine besides %s",
			r->entry->name, to->name);
	return only;
}

/* The target of TARGET and PAIR, and this machine's of a pair. */
static int load_target(struct cmd_run *r, struct err *e)
{
	const struct cmd_entry *ce = r->entry;
	if (!r->c->target_name) {
		err_set(e, ERR_USAGE, "%s: no --target profile given", ce->name);
		return err_hint(e, "ferry %s --target NAME; `ferry profiles list` shows the names", ce->name);
	}
	r->pf = cli_load_profiles(r->c, e);
	const struct profile *to = r->pf ? profile_file_get(r->pf, r->c->target_name, e) : NULL;
	if (!to)
		return -1;
	if (ce->need == CMD_NEED_TARGET) {
		r->p = to;
		return 0;
	}
	r->target = to;
	r->p = pick_from(r, to, e);
	if (r->p && r->p == to)
		return err_set(e, ERR_USAGE, "%s: --from and --target are the same profile (%s)", ce->name, to->name);
	return r->p ? 0 : -1;
}

/* Load what the entry needs. */
static int load_profiles(struct cmd_run *r, struct err *e)
{
	switch (r->entry->need) {
	case CMD_NEED_PROFILE:
		r->p = cli_profile(r->c, &r->pf, e);
		return r->p ? 0 : -1;
	case CMD_NEED_TARGET:
	case CMD_NEED_PAIR:
		return load_target(r, e);
	default:
		return 0;
	}
}

/* --- running ------------------------------------------------------------------------- */

/* --dry-run: the plan hook's plan, as text or JSON. */
static int print_plan(struct cmd_run *r, struct err *e)
{
	struct plan plan;
	memset(&plan, 0, sizeof plan);
	int rc = r->entry->plan(r, &plan, e);
	if (rc < 0)
		return -1;
	if (rc == CMD_PLAN_BY_EXEC) {   /* this use of the command dry-runs in exec */
		plan_done(&plan);
		return r->entry->exec(r, e);
	}
	if (r->c->json) {
		char *text = plan_to_json(&plan);
		printf("%s\n", text);
		free(text);
	} else {
		plan_print(&plan, stdout);
		printf("dry run: nothing was changed\n");
	}
	plan_done(&plan);
	return 0;
}

/* --- the run's log ---------------------------------------------------------------- */

/* The events of a run go to the renderer and to the run's log file, which
 * is opened at the first event under the profile the run has then (r->p:
 * the dispatcher's, or the one exec loaded). */
struct tee {
	struct cmd_run *r;
	struct event_sink render;
	runlog *log;
	bool tried;               /* opening was tried (once) */
};

/* Whether this run writes a log: a command with progress, not --no-log,
 * not a dry run, not a remote ferry's (`--profiles -`: the calling ferry
 * logs its lines). */
static bool wants_log(const struct cmd_run *r)
{
	const struct cli *c = r->c;
	return (r->entry->flags & CMD_PROGRESS) && !(r->entry->flags & CMD_NO_RUN_LOG) && !c->no_log &&
	       !c->dry_run &&
	       !(c->profiles_path && strcmp(c->profiles_path, "-") == 0);
}

/* Open the log for the run's profile (once). */
static void tee_open(struct tee *t)
{
	t->tried = true;
	const struct profile *p = t->r->p;
	if (!p || !p->log_dir || !wants_log(t->r) || ((t->r->entry->flags & CMD_REMOTE_PROFILE) && p->has_ssh))
		return;
	struct err e = {0};
	t->log = runlog_open(p->log_dir, t->r->entry->name, p->name, &e);
	if (!t->log) {
		struct event w = {.type = EV_LOG, .level = EV_WARN};
		char *line = xasprintf("no log file: %s", e.msg);
		w.text = line;
		event_emit(&t->render, &w);
		free(line);
	}
}

/* One event: to the renderer, and to the log. */
static void tee_event(void *ud, const struct event *ev)
{
	struct tee *t = ud;
	if (!t->tried)
		tee_open(t);
	event_emit(&t->render, ev);
	runlog_event(t->log, ev);
}

/* The outcome into the log, its path on stderr (the renderer's line). */
static void tee_close(struct tee *t, int rc, const struct err *e)
{
	if (!t->log)
		return;
	if (rc < 0) {
		runlog_line(t->log, "failed: %s", e->msg);
		if (e->hint[0])
			runlog_line(t->log, "hint: %s", e->hint);
	}
	int code = rc < 0 ? err_exit_code(e->kind) : rc;
	runlog_line(t->log, "exit status %d", code);
	if (!t->r->c->json)
		fprintf(stderr, "log: %s\n", runlog_path(t->log));
	runlog_close(t->log);
	t->log = NULL;
}

/* Renderer, log and cancel flag, then the plan or the work. */
static int run(struct cmd_run *r, struct err *e)
{
	const struct cmd_entry *ce = r->entry;
	struct render *render = NULL;
	struct tee tee = {.r = r};
	struct event_sink sink = {.fn = tee_event, .ud = &tee};
	if (ce->flags & CMD_PROGRESS) {
		render = render_new(r->c);
		tee.render = render_sink(render);
		r->events = &sink;
	}
	if (ce->flags & CMD_CANCEL)
		r->cancel = cli_cancel_flag();
	int rc = r->c->dry_run && ce->plan ? print_plan(r, e) : ce->exec(r, e);
	render_finish(render, rc < 0 ? e : NULL);
	tee_close(&tee, rc, e);
	render_free(render);
	r->events = NULL;
	return rc;
}

/* Parse, check, load, run, free. */
static int run_command(struct cli *c, const struct cmd_entry *ce, int argc, char **argv, struct err *e)
{
	struct cmd_run r = {.entry = ce, .c = c, .commands = table_commands()};
	r.args = xcalloc(1, ce->args_size ? ce->args_size : 1);
	int rc = parse_options(&r, argc, argv, e);
	if (rc == 0)
		rc = check_words(&r, e);
	if (rc == 0 && ce->check)
		rc = ce->check(&r, e);
	if (rc == 0)
		rc = load_profiles(&r, e);
	if (rc == 0)
		rc = run(&r, e);
	else if (rc > 0)
		rc = 0;   /* --help */
	profile_file_free(r.pf);
	free_lists(&r);
	free(r.args);
	return rc;
}

/* `ferry NAME ...`, `ferry --help`, `ferry --version`. */
int dispatch_run(struct cli *c, int argc, char **argv, struct err *e)
{
	const char *name = argv[0];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		help_main(stdout, table_commands());
		return 0;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		name = "version";
	const struct cmd_entry *ce = cmd_find(table_commands(), name);
	if (!ce) {
		err_set(e, ERR_USAGE, "unknown command \"%s\"", name);
		const struct cmd_entry *near = cmd_nearest(table_commands(), name);
		if (near)
			return err_hint(e, "did you mean \"%s\"? `ferry --help` lists the commands", near->name);
		return err_hint(e, "`ferry --help` lists the commands");
	}
	return run_command(c, ce, argc, argv, e);
}
