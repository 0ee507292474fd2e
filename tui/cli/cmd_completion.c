/* cmd_completion — `ferry completion bash | zsh`: shell completion
 * scripts printed from the command table (commands, their options, the
 * values an option takes, positional arguments), and `ferry completion
 * profiles | bundles`, the names those scripts ask for: the profiles of the
 * profiles file, the bundles in the profile's backup.dir. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "flow/list.h"
#include "fsx.h"
#include "util.h"

static const char *const kinds[] = {"bash", "zsh", "profiles", "bundles", NULL};

static const struct cmd_arg args[] = {
	{.name = "SHELL", .what = "kind", .choices = kinds},
	{0},
};

/* --- the command table, walked for the scripts ---------------------------------- */

/* The options a command's completion offers (those its help lists). */
static void command_flags(const struct cmd_entry *ce, struct strv *flags, struct strv *with_value)
{
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(ce, i)); i++) {
		const struct cmd_option *d = cmd_decl(o);
		if (!cmd_option_listed(ce, o))
			continue;
		char *name = xasprintf("--%s", d->name);
		strv_push(flags, name);
		if (d->kind != CMD_FLAG)
			strv_push(with_value, name);
		free(name);
		if (d->short_name) {
			char s[3] = {'-', d->short_name, '\0'};
			strv_push(flags, s);
			if (d->kind != CMD_FLAG)
				strv_push(with_value, s);
		}
	}
}

/* Words joined by spaces; caller frees. */
static char *words_of(const char *const *v)
{
	struct strv s = {0};
	for (size_t i = 0; v && v[i]; i++)
		strv_push(&s, v[i]);
	char *out = strv_join(&s, " ");
	strv_done(&s);
	return out;
}

/* Every command name (and, for `help`, exit-codes). */
static char *command_words(const struct cmd_list *l, bool with_exit_codes)
{
	struct strv s = {0};
	for (size_t i = 0; i < l->n; i++)
		strv_push(&s, l->v[i]->name);
	if (with_exit_codes)
		strv_push(&s, "exit-codes");
	char *out = strv_join(&s, " ");
	strv_done(&s);
	return out;
}

/* --- bash ------------------------------------------------------------------------ */

/* The bash code that completes a value of kind v (or one of choices). */
static void bash_value(const struct cmd_list *l, FILE *out, enum cmd_value v, const char *const *choices)
{
	if (choices) {
		char *w = words_of(choices);
		fprintf(out, "COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))", w);
		free(w);
		return;
	}
	switch (v) {
	case CMD_V_PROFILE:
		fputs("COMPREPLY=($(compgen -W \"$(_ferry_names profiles)\" -- \"$cur\"))", out);
		return;
	case CMD_V_BUNDLE:
		fputs("COMPREPLY=($(compgen -W \"$(_ferry_names bundles)\" -- \"$cur\") $(compgen -f -- \"$cur\"))", out);
		return;
	case CMD_V_FILE:
		fputs("COMPREPLY=($(compgen -f -- \"$cur\"))", out);
		return;
	case CMD_V_DIR:
		fputs("COMPREPLY=($(compgen -d -- \"$cur\"))", out);
		return;
	case CMD_V_COMMAND: {
		char *w = command_words(l, true);
		fprintf(out, "COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))", w);
		free(w);
		return;
	}
	default:
		fputs(":", out);
		return;
	}
}

/* _ferry_value CMD OPTION: the values of an option. */
static void bash_values(const struct cmd_list *l, FILE *out)
{
	fputs("_ferry_value() {\n    case \"$1 $2\" in\n", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct cmd_entry *ce = l->v[i];
		const struct cmd_option *o;
		for (size_t k = 0; (o = cmd_option_at(ce, k)); k++) {
			const struct cmd_option *d = cmd_decl(o);
			if (d->kind == CMD_FLAG || !cmd_option_listed(ce, o))
				continue;
			fprintf(out, "        \"%s --%s\") ", ce->name, d->name);
			bash_value(l, out, d->value, d->choices);
			fputs(" ;;\n", out);
		}
	}
	fputs("    esac\n}\n\n", out);
}

/* _ferry_arg CMD N: the N-th positional argument (from 0). */
static void bash_args(const struct cmd_list *l, FILE *out)
{
	fputs("_ferry_arg() {\n    case \"$1 $2\" in\n", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct cmd_entry *ce = l->v[i];
		int n = cmd_arg_count(ce);
		for (int k = 0; k < n; k++) {
			const struct cmd_arg *a = &ce->args[k];
			bool last_repeats = ce->args_max < 0 && k == n - 1;
			fprintf(out, last_repeats ? "        \"%s \"*) " : "        \"%s %d\") ", ce->name, k);
			bash_value(l, out, a->value, a->choices);
			fputs(" ;;\n", out);
		}
	}
	fputs("    esac\n}\n\n", out);
}

/* The option lists of each command. */
static void bash_flags(const struct cmd_list *l, FILE *out)
{
	fputs("    case $cmd in\n", out);
	for (size_t i = 0; i < l->n; i++) {
		const struct cmd_entry *ce = l->v[i];
		struct strv flags = {0}, with_value = {0};
		command_flags(ce, &flags, &with_value);
		char *f = strv_join(&flags, " "), *v = strv_join(&with_value, " ");
		fprintf(out, "        %s) flags=\"%s\" values=\"%s\" ;;\n", ce->name, f, v);
		free(f);
		free(v);
		strv_done(&flags);
		strv_done(&with_value);
	}
	fputs("    esac\n", out);
}

/* The bash script. */
static void print_bash(const struct cmd_list *l, FILE *out)
{
	char *cmds = command_words(l, false);
	fputs("# bash completion for ferry, printed by `ferry completion bash` from its\n"
	      "# command table.  Load it with: source <(ferry completion bash)\n\n"
	      "# Names from ferry itself: `ferry completion profiles|bundles`, with the\n"
	      "# --profiles / --profile (--env) given on the line so far.\n"
	      "_ferry_names() {\n"
	      "    local i args=()\n"
	      "    for ((i = 2; i < COMP_CWORD; i++)); do\n"
	      "        case ${COMP_WORDS[i]} in\n"
	      "            --profiles) args+=(--profiles \"${COMP_WORDS[i+1]}\") ;;\n"
	      "            --profile|--env) args+=(--profile \"${COMP_WORDS[i+1]}\") ;;\n"
	      "        esac\n"
	      "    done\n"
	      "    \"${COMP_WORDS[0]}\" completion \"$1\" \"${args[@]}\" 2>/dev/null\n"
	      "}\n\n", out);
	bash_values(l, out);
	bash_args(l, out);
	fprintf(out,
	      "_ferry() {\n"
	      "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "    COMPREPLY=()\n"
	      "    if ((COMP_CWORD == 1)); then\n"
	      "        COMPREPLY=($(compgen -W \"%s --help --version\" -- \"$cur\"))\n"
	      "        return\n"
	      "    fi\n"
	      "    local cmd=${COMP_WORDS[1]} flags=\"\" values=\"\" i n=0\n", cmds);
	free(cmds);
	bash_flags(l, out);
	fputs("    case \" $values \" in\n"
	      "        *\" $prev \"*) _ferry_value \"$cmd\" \"$prev\"; return ;;\n"
	      "    esac\n"
	      "    if [[ $cur == -* ]]; then\n"
	      "        COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
	      "        return\n"
	      "    fi\n"
	      "    for ((i = 2; i < COMP_CWORD; i++)); do\n"
	      "        case ${COMP_WORDS[i]} in\n"
	      "            --) ;;\n"
	      "            -*) case \" $values \" in *\" ${COMP_WORDS[i]} \"*) ((i++)) ;; esac ;;\n"
	      "            *) ((n++)) ;;\n"
	      "        esac\n"
	      "    done\n"
	      "    _ferry_arg \"$cmd\" \"$n\"\n"
	      "}\n\n"
	      "complete -F _ferry ferry\n", out);
}

/* --- zsh --------------------------------------------------------------------------- */

/* Text inside a single-quoted zsh word: lines joined by blanks, ' quoted,
 * and the characters in special backslashed. */
static void zsh_quoted(FILE *out, const char *s, const char *special)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else if (*s == '\n')
			fputc(' ', out);
		else if (strchr(special, *s))
			fprintf(out, "\\%c", *s);
		else
			fputc(*s, out);
	}
}

/* An explanation in an _arguments spec: [text]. */
static void zsh_explanation(FILE *out, const char *s)
{
	fputc('[', out);
	zsh_quoted(out, s, "[]");
	fputc(']', out);
}

/* A message or a name in a spec (colons separate its parts). */
static void zsh_word(FILE *out, const char *s)
{
	zsh_quoted(out, s, ":");
}

/* The zsh action completing a value of kind v (or one of choices). */
static void zsh_value(const struct cmd_list *l, FILE *out, enum cmd_value v, const char *const *choices)
{
	if (choices) {
		char *w = words_of(choices);
		fprintf(out, "(%s)", w);
		free(w);
		return;
	}
	switch (v) {
	case CMD_V_PROFILE: fputs("_ferry_profiles", out); return;
	case CMD_V_BUNDLE: fputs("_ferry_bundles", out); return;
	case CMD_V_FILE: fputs("_files", out); return;
	case CMD_V_DIR: fputs("_files -/", out); return;
	case CMD_V_COMMAND: {
		char *w = command_words(l, true);
		fprintf(out, "(%s)", w);
		free(w);
		return;
	}
	default: fputs(" ", out); return;
	}
}

/* One option as an _arguments spec. */
static void zsh_option(const struct cmd_list *l, FILE *out, const struct cmd_entry *ce, const struct cmd_option *o)
{
	const struct cmd_option *d = cmd_decl(o);
	fputs(" \\\n        ", out);
	if (d->short_name)
		fprintf(out, "'(-%c --%s)'{-%c,--%s}'", d->short_name, d->name, d->short_name, d->name);
	else
		fprintf(out, "'%s--%s%s", d->kind == CMD_LIST ? "*" : "", d->name, d->kind == CMD_FLAG ? "" : "=");
	zsh_explanation(out, cmd_option_help(ce, o));
	if (d->kind != CMD_FLAG) {
		fputc(':', out);
		zsh_word(out, d->metavar ? d->metavar : "value");
		fputc(':', out);
		zsh_value(l, out, d->value, d->choices);
	}
	fputc('\'', out);
}

/* One command's _arguments call. */
static void zsh_command(const struct cmd_list *l, FILE *out, const struct cmd_entry *ce)
{
	fprintf(out, "        %s)\n            _arguments -S", ce->name);
	const struct cmd_option *o;
	for (size_t i = 0; (o = cmd_option_at(ce, i)); i++)
		if (cmd_option_listed(ce, o))
			zsh_option(l, out, ce, o);
	int n = cmd_arg_count(ce);
	for (int k = 0; k < n; k++) {
		const struct cmd_arg *a = &ce->args[k];
		bool repeats = ce->args_max < 0 && k == n - 1;
		fprintf(out, " \\\n        '%s%s:", repeats ? "*" : "", repeats ? "" : (char[]){(char)('1' + k), 0});
		zsh_word(out, a->name);
		fputc(':', out);
		zsh_value(l, out, a->value, a->choices);
		fputc('\'', out);
	}
	fputs(" ;;\n", out);
}

/* The zsh script. */
static void print_zsh(const struct cmd_list *l, FILE *out)
{
	fputs("#compdef ferry\n"
	      "# zsh completion for ferry, printed by `ferry completion zsh` from its\n"
	      "# command table.  Install it as _ferry in a directory of $fpath.\n\n"
	      "# Names from ferry itself: `ferry completion profiles|bundles`, with the\n"
	      "# --profiles / --profile (--env) given on the line so far.\n"
	      "_ferry_names() {\n"
	      "    local -a args names\n"
	      "    local i\n"
	      "    for (( i = 2; i < CURRENT; i++ )); do\n"
	      "        case $words[i] in\n"
	      "            --profiles) args+=(--profiles \"$words[i+1]\") ;;\n"
	      "            --profile|--env) args+=(--profile \"$words[i+1]\") ;;\n"
	      "        esac\n"
	      "    done\n"
	      "    names=(${(f)\"$($_ferry_prog completion $1 $args 2>/dev/null)\"})\n"
	      "    compadd -a names\n"
	      "}\n"
	      "_ferry_profiles() { _ferry_names profiles }\n"
	      "_ferry_bundles() { _ferry_names bundles; _files }\n\n"
	      "_ferry() {\n"
	      "    local _ferry_prog=$words[1]\n"
	      "    if (( CURRENT == 2 )); then\n"
	      "        local -a cmds\n"
	      "        cmds=(", out);
	for (size_t i = 0; i < l->n; i++) {
		fprintf(out, "\n            '%s:", l->v[i]->name);
		zsh_quoted(out, l->v[i]->summary, "");
		fputc('\'', out);
	}
	fputs("\n        )\n"
	      "        _describe -t commands 'ferry command' cmds\n"
	      "        return\n"
	      "    fi\n"
	      "    local cmd=$words[2]\n"
	      "    shift words\n"
	      "    (( CURRENT-- ))\n"
	      "    case $cmd in\n", out);
	for (size_t i = 0; i < l->n; i++)
		zsh_command(l, out, l->v[i]);
	fputs("    esac\n}\n\n_ferry \"$@\"\n", out);
}

/* --- names ------------------------------------------------------------------------- */

/* The profile names; when the file does not load as profiles (a ${VAR}
 * unset here, say), its top-level keys. */
static int print_profiles(const struct cli *c)
{
	struct err e = {0};
	profile_file *pf = cli_load_profiles(c, &e);
	if (pf) {
		for (size_t i = 0; i < profile_file_count(pf); i++)
			printf("%s\n", profile_file_at(pf, i)->name);
		profile_file_free(pf);
		return 0;
	}
	char *path = profile_locate(c->profiles_path, &e);
	char *text = path ? fsx_read_file(path, PROFILE_FILE_MAX, NULL, &e) : NULL;
	json_t *root = text ? json_loads(text, 0, NULL) : NULL;
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value)
		if (json_is_object(value))
			printf("%s\n", key);
	json_decref(root);
	free(text);
	free(path);
	return 0;
}

/* The bundle names in the profile's backup.dir. */
static int print_bundles(const struct cli *c)
{
	struct err e = {0};
	profile_file *pf;
	const struct profile *p = cli_profile(c, &pf, &e);
	struct bundle_list l = {0};
	if (p && list_bundles(p->backup.dir, p->name, &l, &e) == 0) {
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.v[i].name);
		list_done(&l);
	}
	profile_file_free(pf);
	return 0;
}

/* A script, or names for one. */
static int completion_exec(struct cmd_run *r, struct err *e)
{
	(void)e;
	const char *kind = r->argv[0];
	if (strcmp(kind, "bash") == 0)
		print_bash(r->commands, stdout);
	else if (strcmp(kind, "zsh") == 0)
		print_zsh(r->commands, stdout);
	else if (strcmp(kind, "profiles") == 0)
		return print_profiles(r->c);
	else
		return print_bundles(r->c);
	return 0;
}

const struct cmd_entry cmd_completion_entry = {
	.name = "completion",
	.summary = "shell completion for bash or zsh, from the command table",
	.description =
		"bash, zsh: print the completion script (commands, their options, the values\n"
		"options take, profile names from the profiles file, bundle names from the\n"
		"profile's backup.dir). Load it with `source <(ferry completion bash)`, or\n"
		"install it: `make install` puts them in share/bash-completion/completions/ferry\n"
		"and share/zsh/site-functions/_ferry.\n"
		"\n"
		"profiles, bundles: the names the scripts complete, one per line (nothing,\n"
		"and exit 0, when there are none).\n",
	.args = args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_OPTIONAL,
	.exec = completion_exec,
};
