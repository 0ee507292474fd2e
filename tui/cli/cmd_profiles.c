/* cmd_profiles — `ferry profiles list | show | check`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "util.h"

static const char *const subcommands[] = {"list", "show", "check", NULL};

static const struct cmd_arg args[] = {
	{.name = "SUBCOMMAND", .what = "subcommand", .choices = subcommands},
	{.name = "NAME|FILE", .value = CMD_V_PROFILE},
	{0},
};

/* The file and its profile names as JSON (with --json of list and check):
 * "profiles" the names, "details" each one's database, ssh host and
 * description. */
static json_t *list_json(const profile_file *pf)
{
	json_t *names = json_array(), *details = json_array();
	for (size_t i = 0; i < profile_file_count(pf); i++) {
		const struct profile *p = profile_file_at(pf, i);
		char *db = profile_db_name(p);
		json_array_append_new(names, json_string(p->name));
		json_array_append_new(details, json_pack("{s:s, s:s?, s:s?, s:s?}", "name", p->name,
							 "database", db, "ssh_host",
							 p->has_ssh ? p->ssh.host : NULL,
							 "description", p->description));
		free(db);
	}
	return json_pack("{s:s, s:o, s:o}", "file", profile_file_path(pf), "profiles", names,
			 "details", details);
}

/* `profiles list`: one line per profile: name, database, ssh host,
 * description. */
static int profiles_list(struct cli *c, struct err *e)
{
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	if (c->json) {
		cli_print_json(list_json(pf));
	} else {
		for (size_t i = 0; i < profile_file_count(pf); i++) {
			const struct profile *p = profile_file_at(pf, i);
			char *db = profile_db_name(p);
			char *where = p->has_ssh ? xasprintf("database %s, ssh %s", db ? db : "-", p->ssh.host)
						 : xasprintf("database %s", db ? db : "-");
			printf("%-16s %-32s %s\n", p->name, where, p->description ? p->description : "");
			free(where);
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

/* The paths of every profile (profile_check_paths): 0, or -1 with e naming
 * the missing ones; notes is filled either way. */
static int check_paths(const profile_file *pf, struct strv *notes, struct err *e)
{
	struct strv errors = {0};
	for (size_t i = 0; i < profile_file_count(pf); i++)
		profile_check_paths(profile_file_at(pf, i), &errors, notes);
	if (errors.n == 0)
		return 0;
	char *all = strv_join(&errors, "; ");
	if (errors.n == 1)
		err_set(e, ERR_PROFILE, "%s: %s", profile_file_path(pf), all);
	else
		err_set(e, ERR_PROFILE, "%s: %zu paths a run needs are missing: %s", profile_file_path(pf),
			errors.n, all);
	free(all);
	strv_done(&errors);
	return err_hint(e, "create them (a backup dir with mkdir -p -m 0700 DIR) or correct the "
			"profile; `ferry init` writes a profile for this machine");
}

/* `profiles check [FILE]`: load and validate every profile, then check
 * the paths its runs need. */
static int profiles_check(struct cli *c, const char *file, struct err *e)
{
	if (file)
		c->profiles_path = file;
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	struct strv notes = {0};
	int rc = check_paths(pf, &notes, e);
	size_t n = profile_file_count(pf);
	for (size_t i = 0; i < notes.n; i++)
		fprintf(stderr, "note: %s\n", notes.v[i]);
	if (rc == 0 && c->json) {
		cli_print_json(list_json(pf));
	} else if (rc == 0) {
		printf("ok: %s: %zu profile%s (", profile_file_path(pf), n, n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++)
			printf("%s%s", i ? ", " : "", profile_file_at(pf, i)->name);
		printf(")\n");
	}
	strv_done(&notes);
	profile_file_free(pf);
	return rc;
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
		"  list    the profiles in the profiles file, one per line: name, database,\n"
		"          ssh host, description\n"
		"  show    one profile as ferry sees it: defaults applied, ${VAR} expanded,\n"
		"          paths made absolute, passwords redacted\n"
		"  check   validate every profile in FILE (default: the file found) and\n"
		"          check that the paths a run needs exist here (app.root, app.paths,\n"
		"          backup.dir; of a profile with an ssh section only noted); exits 2\n"
		"          naming the line and column, the key path or the missing path\n",
	.args = args,
	.args_max = 2,
	.need = CMD_NEED_OPTIONAL,
	.flags = CMD_JSON,
	.exec = profiles_exec,
};
