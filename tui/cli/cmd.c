/* cmd — the options several commands share, declared once, and the
 * walk over the options a command accepts. */
#include <string.h>

#include "cli/cmd.h"
#include "util.h"

const struct cmd_option cmd_opt_profiles = {
	.name = "profiles", .kind = CMD_STRING, .value = CMD_V_FILE, .metavar = "FILE",
	.help = "the profiles file (else $FERRY_PROFILES,\n"
		"./config/migration_profiles.json, $XDG_CONFIG_HOME/ferry/profiles.json,\n"
		"/etc/ferry/profiles.json); - reads it from standard input",
	.in_cli = true, .field = offsetof(struct cli, profiles_path)};

const struct cmd_option cmd_opt_profile = {
	.name = "profile", .kind = CMD_STRING, .value = CMD_V_PROFILE, .metavar = "NAME",
	.help = "the profile (else $FERRY_PROFILE, or the only one)",
	.in_cli = true, .field = offsetof(struct cli, profile_name)};

const struct cmd_option cmd_opt_json = {
	.name = "json", .kind = CMD_FLAG, .help = "a machine-readable result on stdout",
	.in_cli = true, .field = offsetof(struct cli, json)};

const struct cmd_option cmd_opt_yes = {
	.name = "yes", .kind = CMD_FLAG,
	.help = "confirm without asking (needed without a terminal)",
	.in_cli = true, .field = offsetof(struct cli, yes)};

const struct cmd_option cmd_opt_help = {
	.name = "help", .kind = CMD_FLAG, .help = "print this help and exit",
	.in_cli = true, .field = offsetof(struct cli, help)};

const struct cmd_option cmd_opt_no_log = {
	.name = "no-log", .kind = CMD_FLAG,
	.help = "write no log file (else <log_dir>/ferry-<command>-<time>.log, its path\n"
		"printed at the end)",
	.in_cli = true, .field = offsetof(struct cli, no_log)};

const struct cmd_option cmd_opt_dry_run = {
	.name = "dry-run", .kind = CMD_FLAG,
	.help = "show what would be done and change nothing (with --json: as JSON)",
	.in_cli = true, .field = offsetof(struct cli, dry_run)};

const struct cmd_option cmd_opt_target = {
	.name = "target", .kind = CMD_STRING, .value = CMD_V_PROFILE, .metavar = "NAME",
	.help = "the profile of the other server (required)",
	.in_cli = true, .field = offsetof(struct cli, target_name)};

const struct cmd_option cmd_opt_jobs = {
	.name = "jobs", .kind = CMD_INT, .min = 1, .max = 64, .metavar = "N",
	.help = "parallel jobs, default the number of cores"};

const struct cmd_option cmd_opt_db_only = {
	.name = "db-only", .kind = CMD_FLAG, .help = "only the database"};

const struct cmd_option cmd_opt_files_only = {
	.name = "files-only", .kind = CMD_FLAG, .help = "only the app files"};

const struct cmd_option cmd_opt_schema_only = {
	.name = "schema-only", .kind = CMD_FLAG, .help = "the schema without table data"};

const struct cmd_option cmd_opt_data_only = {
	.name = "data-only", .kind = CMD_FLAG, .help = "table data without the schema"};

const struct cmd_option cmd_opt_accept_new_host_key = {
	.name = "accept-new-host-key", .kind = CMD_FLAG,
	.help = "the host key is not in ssh.known_hosts yet: record it and go on (check\n"
		"the printed SHA256 fingerprint with the server's administrator first);\n"
		"a changed key is always refused"};

const struct cmd_option cmd_opt_break_lock = {
	.name = "break-lock", .kind = CMD_FLAG, .help = "remove a stale lock left by a dead run"};

const struct cmd_option cmd_opt_scheduled = {
	.name = "scheduled", .kind = CMD_FLAG,
	.help = "a run by a timer (`ferry schedule install` passes it): when it fails or\n"
		"warns, the profile's notify section is told (notify.on)"};

/* Accepted by every command, listed where the entry says they mean something. */
static const struct cmd_option *const common[] = {
	&cmd_opt_profiles, &cmd_opt_profile, &cmd_opt_json, &cmd_opt_yes, &cmd_opt_no_log, &cmd_opt_help,
};

#define NCOMMON (sizeof common / sizeof common[0])

/* A command by name. */
const struct cmd_entry *cmd_find(const struct cmd_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->name, name) == 0)
			return l->v[i];
	return NULL;
}

/* The closest command name within two edits. */
const struct cmd_entry *cmd_nearest(const struct cmd_list *l, const char *name)
{
	const struct cmd_entry *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < l->n; i++) {
		size_t d = util_edit_distance(name, l->v[i]->name);
		if (d < best_d) {
			best = l->v[i];
			best_d = d;
		}
	}
	return best;
}

/* Positional specs up to the one without a name. */
int cmd_arg_count(const struct cmd_entry *ce)
{
	int n = 0;
	while (ce->args && ce->args[n].name)
		n++;
	return n;
}

/* Word i's spec; past the declared ones, the last (it repeats). */
const struct cmd_arg *cmd_arg_at(const struct cmd_entry *ce, int i)
{
	int n = cmd_arg_count(ce);
	if (n == 0)
		return NULL;
	return &ce->args[i < n ? i : n - 1];
}

/* The declaration of o. */
const struct cmd_option *cmd_decl(const struct cmd_option *o)
{
	return o->shared ? o->shared : o;
}

/* The number of the command's own options. */
static size_t own_count(const struct cmd_entry *ce)
{
	size_t n = 0;
	while (ce->options && (ce->options[n].name || ce->options[n].shared))
		n++;
	return n;
}

/* Own options, --dry-run, the common ones. */
const struct cmd_option *cmd_option_at(const struct cmd_entry *ce, size_t i)
{
	size_t own = own_count(ce);
	if (i < own)
		return &ce->options[i];
	i -= own;
	if (ce->flags & CMD_DRY_RUN) {
		if (i == 0)
			return &cmd_opt_dry_run;
		i--;
	}
	return i < NCOMMON ? common[i] : NULL;
}

/* The common options a command does not use are not listed. */
bool cmd_option_listed(const struct cmd_entry *ce, const struct cmd_option *o)
{
	const struct cmd_option *d = cmd_decl(o);
	bool profiles = ce->need != CMD_NEED_NONE;
	bool profile = ce->need == CMD_NEED_PROFILE || ce->need == CMD_NEED_PAIR ||
		       ce->need == CMD_NEED_OPTIONAL;
	if (d == &cmd_opt_profiles)
		return profiles;
	if (d == &cmd_opt_profile)
		return profile;
	if (d == &cmd_opt_json)
		return ce->flags & CMD_JSON;
	if (d == &cmd_opt_yes)
		return ce->flags & CMD_YES;
	if (d == &cmd_opt_no_log)
		return (ce->flags & CMD_PROGRESS) && !(ce->flags & CMD_NO_RUN_LOG) && profiles;
	return true;
}

/* --json and --yes say what they do for this command. */
const char *cmd_option_help(const struct cmd_entry *ce, const struct cmd_option *o)
{
	const struct cmd_option *d = cmd_decl(o);
	if (d == &cmd_opt_json && ce->json_help)
		return ce->json_help;
	if (d == &cmd_opt_yes && ce->yes_help)
		return ce->yes_help;
	return d->help;
}
