/* cmd_profiles — `ferry profiles list | show | check`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"

static const char *const subcommands[] = {"list", "show", "check", NULL};

static const struct cmd_arg args[] = {
	{.name = "SUBCOMMAND", .what = "subcommand", .choices = subcommands},
	{.name = "NAME|FILE", .value = CMD_V_PROFILE},
	{0},
};

/* The file and its profile names as JSON. */
static void print_list_json(const profile_file *pf)
{
	json_t *names = json_array();
	for (size_t i = 0; i < profile_file_count(pf); i++)
		json_array_append_new(names, json_string(profile_file_at(pf, i)->name));
	json_t *o = json_pack("{s:s, s:o}", "file", profile_file_path(pf), "profiles", names);
	cli_print_json(o);
}

/* `profiles list`: one line per profile. */
static int profiles_list(struct cli *c, struct err *e)
{
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	if (c->json) {
		print_list_json(pf);
	} else {
		for (size_t i = 0; i < profile_file_count(pf); i++) {
			const struct profile *p = profile_file_at(pf, i);
			char *db = profile_db_name(p);
			printf("%-16s database %-20s%s%s\n", p->name, db ? db : "-",
			       p->has_ssh ? " ssh " : "", p->has_ssh ? p->ssh.host : "");
			free(db);
		}
	}
	profile_file_free(pf);
	return 0;
}

/* `profiles show [NAME]`: the profile as ferry sees it, secrets redacted. */
static int profiles_show(struct cli *c, const char *name, struct err *e)
{
	if (name)
		c->profile_name = name;
	profile_file *pf;
	const struct profile *p = cli_profile(c, &pf, e);
	if (!p) {
		profile_file_free(pf);
		return -1;
	}
	char *text = profile_to_json_redacted(p);
	printf("%s\n", text);
	free(text);
	profile_file_free(pf);
	return 0;
}

/* `profiles check [FILE]`: load and validate every profile. */
static int profiles_check(struct cli *c, const char *file, struct err *e)
{
	if (file)
		c->profiles_path = file;
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	size_t n = profile_file_count(pf);
	if (c->json) {
		print_list_json(pf);
	} else {
		printf("ok: %s: %zu profile%s (", profile_file_path(pf), n, n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++)
			printf("%s%s", i ? ", " : "", profile_file_at(pf, i)->name);
		printf(")\n");
	}
	profile_file_free(pf);
	return 0;
}

/* list (the default), show NAME, check FILE. */
static int profiles_exec(struct cmd_run *r, struct err *e)
{
	const char *sub = r->argc > 0 ? r->argv[0] : "list";
	const char *arg = r->argc > 1 ? r->argv[1] : NULL;
	if (strcmp(sub, "list") == 0 && arg) {
		err_set(e, ERR_USAGE, "profiles list: unexpected argument \"%s\"", arg);
		return err_hint(e, "`ferry help profiles`");
	}
	if (strcmp(sub, "show") == 0)
		return profiles_show(r->c, arg, e);
	if (strcmp(sub, "check") == 0)
		return profiles_check(r->c, arg, e);
	return profiles_list(r->c, e);
}

const struct cmd_entry cmd_profiles_entry = {
	.name = "profiles",
	.summary = "list, show or check migration profiles",
	.description =
		"  list    the profiles in the profiles file, one per line\n"
		"  show    one profile as ferry sees it: defaults applied, ${VAR} expanded,\n"
		"          paths made absolute, passwords redacted\n"
		"  check   validate every profile in FILE (default: the file found);\n"
		"          exits 2 naming the line and column or the key path at fault\n",
	.args = args,
	.args_max = 2,
	.need = CMD_NEED_OPTIONAL,
	.flags = CMD_JSON,
	.exec = profiles_exec,
};
