/* table — the list of commands (each defined in its cmd_*.c, `easy` in
 * tui/wiz/wiz_easy.c). */
#include "cli/table.h"
#include "wiz/wiz_easy.h"

extern const struct cmd_entry cmd_backup_entry;
extern const struct cmd_entry cmd_restore_entry;
extern const struct cmd_entry cmd_restore_rollback_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_drill_entry;
extern const struct cmd_entry cmd_migrate_entry;
extern const struct cmd_entry cmd_deploy_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_list_prune_entry;
extern const struct cmd_entry cmd_schedule_entry;
extern const struct cmd_entry cmd_db_entry;
extern const struct cmd_entry cmd_counts_entry;
extern const struct cmd_entry cmd_recover_entry;
extern const struct cmd_entry cmd_profiles_entry;
extern const struct cmd_entry cmd_remote_entry;
extern const struct cmd_entry cmd_push_entry;
extern const struct cmd_entry cmd_offsite_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_notify_entry;
extern const struct cmd_entry cmd_admin_action_entry;
extern const struct cmd_entry cmd_admin_sql_entry;
extern const struct cmd_entry cmd_admin_exec_entry;
extern const struct cmd_entry cmd_admin_shell_entry;
extern const struct cmd_entry cmd_admin_seed_entry;
extern const struct cmd_entry cmd_admin_reset_entry;
extern const struct cmd_entry cmd_completion_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_help_version_entry;

static const struct cmd_entry *const entries[] = {
	&cmd_backup_entry,
	&cmd_restore_entry,
	&cmd_restore_rollback_entry,
	&cmd_verify_entry,
	&cmd_drill_entry,
	&cmd_migrate_entry,
	&cmd_deploy_entry,
	&cmd_list_entry,
	&cmd_list_prune_entry,
	&cmd_schedule_entry,
	&cmd_db_entry,
	&cmd_counts_entry,
	&cmd_recover_entry,
	&cmd_profiles_entry,
	&cmd_remote_entry,
	&cmd_push_entry,
	&cmd_offsite_entry,
	&cmd_status_entry,
	&cmd_notify_entry,
	&wiz_easy_entry,
	&cmd_admin_action_entry,
	&cmd_admin_sql_entry,
	&cmd_admin_exec_entry,
	&cmd_admin_shell_entry,
	&cmd_admin_seed_entry,
	&cmd_admin_reset_entry,
	&cmd_completion_entry,
	&cmd_help_entry,
	&cmd_help_version_entry,
};

/* Every command. */
const struct cmd_list *table_commands(void)
{
	static const struct cmd_list list = {entries, sizeof entries / sizeof entries[0]};
	return &list;
}
