/* cmd_profiles — `ferry profiles list | show | check`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int run_profiles(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_profiles = {
	"profiles", "list, show or check migration profiles",
	"usage: ferry profiles list [--profiles FILE] [--json]\n"
	"       ferry profiles show [NAME] [--profiles FILE]\n"
	"       ferry profiles check [FILE] [--json]\n"
	"\n"
	"  list    the profiles in the profiles file, one per line\n"
	"  show    one profile as ferry sees it: defaults applied, ${VAR} expanded,\n"
	"          paths made absolute, passwords redacted\n"
	"  check   validate every profile in FILE (default: the file found);\n"
	"          exits 2 naming the line and column or the key path at fault\n",
	run_profiles};

static int parse_options(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
	const struct cli_command *cmd = &command_profiles;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, cmd, opt, optarg, e);
		if (r == 0)
			return cli_bad_option(cmd, argv, e);
		if (r == 2)
			return 1;
	}
	return 0;
}

static void print_list_json(const profile_file *pf)
{
	json_t *names = json_array();
	for (size_t i = 0; i < profile_file_count(pf); i++)
		json_array_append_new(names, json_string(profile_file_at(pf, i)->name));
	json_t *o = json_pack("{s:s, s:o}", "file", profile_file_path(pf), "profiles", names);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

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

static int profiles_show(struct cli *c, const char *name, struct err *e)
{
	if (name)
		c->profile_name = name;
	profile_file *pf = cli_load_profiles(c, e);
	if (!pf)
		return -1;
	const struct profile *p = cli_pick_profile(c, pf, e);
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

static int run_profiles(struct cli *c, int argc, char **argv, struct err *e)
{
	int r = parse_options(c, argc, argv, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	const char *sub = optind < argc ? argv[optind] : "list";
	const char *arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (optind + 2 < argc) {
		err_set(e, ERR_USAGE, "profiles %s: unexpected argument \"%s\"", sub, argv[optind + 2]);
		return err_hint(e, "`ferry help profiles`");
	}
	if (strcmp(sub, "list") == 0 && !arg)
		return profiles_list(c, e);
	if (strcmp(sub, "show") == 0)
		return profiles_show(c, arg, e);
	if (strcmp(sub, "check") == 0)
		return profiles_check(c, arg, e);
	err_set(e, ERR_USAGE, "profiles: unknown subcommand \"%s\"", sub);
	return err_hint(e, "use list, show NAME or check [FILE]");
}
