/* help — usage texts and the manual page, printed from the command table. */
#include <stdlib.h>
#include <string.h>

#include "cli/help.h"
#include "ui/ui.h"
#include "util.h"

#define WIDTH 79
#define HELP_COLUMN 24

static const char tagline[] = "back up, restore, migrate and deploy a PostgreSQL-backed app";

/* The environment ferry reads, for `ferry --help` and the man page. */
static const char *const environment[][2] = {
	{"FERRY_PROFILES", "the profiles file (as --profiles)"},
	{"FERRY_PROFILE", "the profile (as --profile)"},
	{"DATABASE_URL", "overrides the profile's database.url"},
	{"PGPASSWORD, PGPASSFILE", "passwords, read by libpq (never on a command line)"},
	{"FERRY_PG_BIN", "the directory of the PostgreSQL client programs to use"},
	{"FERRY_KEYS", "a key script for the wizards (as `ferry easy --keys FILE`)"},
	{"FERRY_RESTORE_OPTIONS", "server settings for loading the shadow database"},
	{"NO_COLOR", "no colour"},
};

/* --- pieces of the synopsis --------------------------------------------------------- */

/* An option's value in the synopsis: the metavar, or its choices "a|b". */
static void value_text(const struct cmd_option *d, char *buf, size_t n)
{
	buf[0] = '\0';
	if (d->kind == CMD_FLAG)
		return;
	if (d->metavar || !d->choices) {
		snprintf(buf, n, "%s", d->metavar ? d->metavar : "VALUE");
		return;
	}
	size_t used = 0;
	for (size_t i = 0; d->choices[i] && used < n; i++) {
		int w = snprintf(buf + used, n - used, "%s%s", i ? "|" : "", d->choices[i]);
		used += w > 0 ? (size_t)w : 0;
	}
}

/* "[--out DIR]", "[--schema S]...", "[-n | --no-stdin]". */
static void option_token(const struct cmd_option *d, char *buf, size_t n)
{
	char value[128];
	value_text(d, value, sizeof value);
	char shortname[8] = "";
	if (d->short_name)
		snprintf(shortname, sizeof shortname, "-%c | ", d->short_name);
	snprintf(buf, n, "[%s--%s%s%s]%s", shortname, d->name, value[0] ? " " : "", value,
		 d->kind == CMD_LIST ? "..." : "");
}

/* A positional argument: "BUNDLE", "[BUNDLE]", "migrate|status|rollback", "[ARG]...". */
static void arg_token(const struct cmd_entry *ce, int i, char *buf, size_t n)
{
	const struct cmd_arg *a = &ce->args[i];
	char name[256];
	if (a->choices) {
		size_t used = 0;
		name[0] = '\0';
		for (size_t k = 0; a->choices[k] && used < sizeof name; k++) {
			int w = snprintf(name + used, sizeof name - used, "%s%s", k ? "|" : "", a->choices[k]);
			used += w > 0 ? (size_t)w : 0;
		}
	} else {
		snprintf(name, sizeof name, "%s", a->name);
	}
	bool optional = i >= ce->args_min;
	bool repeats = ce->args_max < 0 && i == cmd_arg_count(ce) - 1;
	snprintf(buf, n, "%s%s%s%s", optional ? "[" : "", name, optional ? "]" : "", repeats ? "..." : "");
}

/* The synopsis as words: positionals, then options (remote: the other way). */
static void synopsis_words(const struct cmd_entry *ce, struct strv *words)
{
	char buf[512];
	struct strv args = {0}, opts = {0};
	for (int i = 0; i < cmd_arg_count(ce); i++) {
		arg_token(ce, i, buf, sizeof buf);
		strv_push(&args, buf);
	}
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(ce, i)); i++) {
		const struct cmd_option *d = cmd_decl(o);
		if (d == &cmd_opt_help || !cmd_option_listed(ce, o))
			continue;
		option_token(d, buf, sizeof buf);
		strv_push(&opts, buf);
	}
	const struct strv *first = ce->flags & CMD_WORDS_END ? &opts : &args;
	const struct strv *second = ce->flags & CMD_WORDS_END ? &args : &opts;
	for (size_t i = 0; i < first->n; i++)
		strv_push(words, first->v[i]);
	if (ce->flags & CMD_WORDS_END)
		strv_push(words, "[--]");
	for (size_t i = 0; i < second->n; i++)
		strv_push(words, second->v[i]);
	strv_done(&args);
	strv_done(&opts);
}

/* --- text --------------------------------------------------------------------- */

/* "usage: ferry NAME words...", wrapped under the first word. */
static void print_synopsis(FILE *out, const struct cmd_entry *ce)
{
	struct strv words = {0};
	synopsis_words(ce, &words);
	int indent = fprintf(out, "usage: ferry %s", ce->name);
	int col = indent;
	for (size_t i = 0; i < words.n; i++) {
		int w = (int)strlen(words.v[i]) + 1;
		if (col + w > WIDTH && col > indent) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		}
		col += fprintf(out, " %s", words.v[i]);
	}
	fputc('\n', out);
	strv_done(&words);
}

/* One line of at most width columns, wrapped at blanks, each piece
 * indented to column at (the first after what is already on the line). */
static int print_wrapped(FILE *out, const char *line, int len, int col, int at, int width)
{
	while (len > 0) {
		int take = len;
		if (take > width) {
			take = width;
			while (take > 0 && line[take] != ' ')
				take--;
			if (take == 0)
				take = width;
		}
		fprintf(out, "%*s%.*s\n", col < at ? at - col : 0, "", take, line);
		col = 0;
		line += take;
		len -= take;
		while (len > 0 && *line == ' ')
			line++, len--;
	}
	return col;
}

/* Text lines each indented to column at and wrapped to WIDTH, the first
 * one after what is already on the line (col). */
static void print_indented(FILE *out, const char *text, int col, int at)
{
	const char *line = text;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		col = print_wrapped(out, line, len, col, at, WIDTH - at);
		line = nl ? nl + 1 : NULL;
	}
}

/* "  --jobs N              parallel jobs (...) (1-64)". */
static void print_option(FILE *out, const struct cmd_entry *ce, const struct cmd_option *o)
{
	const struct cmd_option *d = cmd_decl(o);
	char value[128], head[192];
	value_text(d, value, sizeof value);
	int col = snprintf(head, sizeof head, "  %s%s--%s%s%s", d->short_name ? (char[]){'-', d->short_name, 0} : "",
			   d->short_name ? ", " : "", d->name, value[0] ? " " : "", value);
	fputs(head, out);
	if (col >= HELP_COLUMN - 1) {
		fputc('\n', out);
		col = 0;
	}
	char *help = d->kind == CMD_INT ? xasprintf("%s (%d-%d)", cmd_option_help(ce, o), d->min, d->max)
					: xstrdup(cmd_option_help(ce, o));
	print_indented(out, help, col, HELP_COLUMN);
	free(help);
}

/* One command's usage text. */
void help_usage(FILE *out, const struct cmd_entry *ce)
{
	print_synopsis(out, ce);
	if (ce->description)
		fprintf(out, "\n%s", ce->description);
	fputs("\noptions:\n", out);
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(ce, i)); i++)
		if (cmd_option_listed(ce, o))
			print_option(out, ce, o);
	if (ce->footer)
		fprintf(out, "\n%s", ce->footer);
}

/* The exit codes, one per line. */
void help_exit_codes(FILE *out)
{
	fprintf(out, "exit codes:\n");
	for (int k = 0; k < ERR_KIND_COUNT; k++)
		fprintf(out, "  %3d  %-11s %s\n", err_exit_code((enum err_kind)k),
			err_kind_name((enum err_kind)k), err_kind_describe((enum err_kind)k));
}

/* A second line for a command whose first argument is one of a few words. */
static void print_forms(FILE *out, const struct cmd_entry *ce)
{
	if (!ce->args || !ce->args[0].choices)
		return;
	char buf[256];
	arg_token(ce, 0, buf, sizeof buf);
	fprintf(out, "  %-11s ferry %s %s\n", "", ce->name, buf);
}

/* `ferry --help`. */
void help_main(FILE *out, const struct cmd_list *commands)
{
	fprintf(out, "ferry %s — %s\n\n", FERRY_VERSION, tagline);
	fprintf(out, "usage: ferry [--help | --version]\n"
		     "       ferry COMMAND [OPTIONS] [ARGS]   (ferry alone on a terminal: the helper menu)\n\n"
		     "commands:\n");
	for (size_t i = 0; i < commands->n; i++) {
		const struct cmd_entry *ce = commands->v[i];
		fprintf(out, "  %-11s %s\n", ce->name, ce->summary);
		print_forms(out, ce);
	}
	fputs("\ncommon options (every command):\n", out);
	const struct cmd_option *common[] = {&cmd_opt_profiles, &cmd_opt_profile, &cmd_opt_json,
					     &cmd_opt_yes, &cmd_opt_help};
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
		print_option(out, &(struct cmd_entry){.name = ""}, common[i]);
	fputs("\nenvironment:\n", out);
	for (size_t i = 0; i < sizeof environment / sizeof environment[0]; i++)
		fprintf(out, "  %-23s %s\n", environment[i][0], environment[i][1]);
	fputs("\n`ferry help COMMAND` for a command's options, `ferry help exit-codes` for the\n"
	      "exit codes, `ferry help --man` for the manual page, `ferry completion bash|zsh`\n"
	      "for shell completion.\n", out);
}

/* --- the manual page ------------------------------------------------------------------ */

/* Text for roff: backslashes, minus signs, non-ASCII as \[uXXXX], a
 * leading dot or quote made harmless. */
static void roff(FILE *out, const char *s, size_t len)
{
	bool line_start = true;
	for (size_t i = 0; i < len && s[i];) {
		unsigned char ch = (unsigned char)s[i];
		if (line_start && (ch == '.' || ch == '\''))
			fputs("\\&", out);
		line_start = ch == '\n';
		if (ch >= 0x80) {
			int cp;
			size_t n = ui_utf8_decode(s + i, &cp);
			fprintf(out, "\\[u%04X]", (unsigned)cp);
			i += n;
			continue;
		}
		if (ch == '\\')
			fputs("\\e", out);
		else if (ch == '-')
			fputs("\\-", out);
		else
			fputc(ch, out);
		i++;
	}
}

/* roff() of a whole string. */
static void roff_s(FILE *out, const char *s)
{
	roff(out, s, strlen(s));
}

/* Whether a paragraph is laid out by hand (a line starts with blanks). */
static bool preformatted(const char *para, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((i == 0 || para[i - 1] == '\n') && para[i] == ' ')
			return true;
	return false;
}

/* Paragraphs (blank-line separated): filled text, or kept as laid out. */
static void roff_paragraphs(FILE *out, const char *text)
{
	const char *p = text;
	while (p && *p) {
		while (*p == '\n')
			p++;
		if (!*p)
			break;
		const char *end = strstr(p, "\n\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && p[len - 1] == '\n')
			len--;
		bool pre = preformatted(p, len);
		fputs(pre ? ".PP\n.nf\n" : ".PP\n", out);
		roff(out, p, len);
		fputs(pre ? "\n.fi\n" : "\n", out);
		p = end ? end + 2 : NULL;
	}
}

/* One option as a tagged paragraph. */
static void roff_option(FILE *out, const struct cmd_entry *ce, const struct cmd_option *o)
{
	const struct cmd_option *d = cmd_decl(o);
	char value[128];
	value_text(d, value, sizeof value);
	fputs(".TP\n", out);
	if (d->short_name)
		fprintf(out, "\\fB\\-%c\\fR, ", d->short_name);
	fputs("\\fB", out);
	roff(out, "--", 2);
	roff_s(out, d->name);
	fputs("\\fR", out);
	if (value[0]) {
		fputs(" \\fI", out);
		roff_s(out, value);
		fputs("\\fR", out);
	}
	fputc('\n', out);
	roff_s(out, cmd_option_help(ce, o));
	if (d->kind == CMD_INT)
		fprintf(out, " (%d\\-%d)", d->min, d->max);
	fputc('\n', out);
}

/* A command's section: synopsis, description, options, footer. */
static void roff_command(FILE *out, const struct cmd_entry *ce)
{
	fprintf(out, ".SS \"ferry %s\"\n", ce->name);
	struct strv words = {0};
	synopsis_words(ce, &words);
	fprintf(out, ".PP\n.nf\n\\fBferry %s\\fR", ce->name);
	int col = 6 + (int)strlen(ce->name);
	for (size_t i = 0; i < words.n; i++) {
		int w = (int)strlen(words.v[i]) + 1;
		if (col + w > 70) {
			fputs("\n    ", out);
			col = 4;
		}
		fputc(' ', out);
		roff_s(out, words.v[i]);
		col += w;
	}
	fputs("\n.fi\n", out);
	strv_done(&words);
	fputs(".PP\n", out);
	roff_s(out, ce->summary);
	fputs(".\n", out);
	if (ce->description)
		roff_paragraphs(out, ce->description);
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(ce, i)); i++)
		if (cmd_option_listed(ce, o) && cmd_decl(o) != &cmd_opt_help)
			roff_option(out, ce, o);
	if (ce->footer)
		roff_paragraphs(out, ce->footer);
}

/* ferry(1). */
void help_man(FILE *out, const struct cmd_list *commands)
{
	fprintf(out, ".\\\" ferry(1), printed by `ferry help --man` from its command table\n"
		     ".TH FERRY 1 \"\" \"ferry %s\" \"User Commands\"\n.nh\n.ad l\n.SH NAME\nferry \\- ", FERRY_VERSION);
	roff_s(out, tagline);
	fputs("\n.SH SYNOPSIS\n.nf\n\\fBferry\\fR\n\\fBferry\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n"
	      "\\fBferry\\fR \\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR\n.fi\n.SH DESCRIPTION\n", out);
	roff_paragraphs(out,
		"ferry backs up a PostgreSQL-backed application (database and files) into one verified "
		"bundle, restores it, moves it to a new server over SSH, and deploys new releases. "
		"Each environment is a profile in a JSON profiles file.\n\n"
		"Without arguments on a terminal ferry opens the helper menu: guided wizards that run "
		"the same steps as the commands below (`ferry easy`).");
	fputs(".SH COMMANDS\n", out);
	for (size_t i = 0; i < commands->n; i++)
		roff_command(out, commands->v[i]);
	fputs(".SH COMMON OPTIONS\nEvery command accepts these; a command's section lists those it uses.\n", out);
	const struct cmd_option *common[] = {&cmd_opt_profiles, &cmd_opt_profile, &cmd_opt_json,
					     &cmd_opt_yes, &cmd_opt_help};
	for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
		roff_option(out, &(struct cmd_entry){.name = ""}, common[i]);
	fputs(".SH EXIT STATUS\n", out);
	for (int k = 0; k < ERR_KIND_COUNT; k++) {
		fprintf(out, ".TP\n.B %d\n", err_exit_code((enum err_kind)k));
		roff_s(out, err_kind_name((enum err_kind)k));
		fputs(": ", out);
		roff_s(out, err_kind_describe((enum err_kind)k));
		fputc('\n', out);
	}
	fputs(".SH ENVIRONMENT\n", out);
	for (size_t i = 0; i < sizeof environment / sizeof environment[0]; i++) {
		fputs(".TP\n.B ", out);
		roff_s(out, environment[i][0]);
		fputc('\n', out);
		roff_s(out, environment[i][1]);
		fputc('\n', out);
	}
	fputs(".SH FILES\n.TP\n.I ./config/migration_profiles.json\n.TQ\n"
	      ".I $XDG_CONFIG_HOME/ferry/profiles.json\n.TQ\n.I /etc/ferry/profiles.json\n"
	      "where the profiles file is looked for, in this order, without \\fB\\-\\-profiles\\fR "
	      "or \\fBFERRY_PROFILES\\fR.\n.SH SEE ALSO\n"
	      "\\fBpg_dump\\fR(1), \\fBpg_restore\\fR(1), \\fBssh\\fR(1); the profile reference in "
	      "share/ferry/profiles/README.md.\n", out);
}
