/* cmd_schedule — `ferry schedule install | remove | show`. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "schedule.h"

struct schedule_args {
	bool systemd, cron;
};

static const struct cmd_option options[] = {
	{.name = "systemd", .kind = CMD_FLAG, .field = offsetof(struct schedule_args, systemd),
	 .help = "systemd timers, even where systemd does not seem to run"},
	{.name = "cron", .kind = CMD_FLAG, .field = offsetof(struct schedule_args, cron),
	 .help = "a cron file instead of systemd timers"},
	{0},
};

static const char *const actions[] = {"install", "remove", "show", NULL};

static const struct cmd_arg args[] = {
	{.name = "ACTION", .what = "action", .choices = actions},
	{0},
};

/* install, remove or show, with this ferry's path in the timers. */
static int schedule_exec(struct cmd_run *r, struct err *e)
{
	const struct schedule_args *a = r->args;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	struct schedule_opts o = {
		.mode = a->cron ? SCHEDULE_CRON : a->systemd ? SCHEDULE_SYSTEMD : SCHEDULE_AUTO,
		.ferry_path = n > 0 ? self : "ferry", .profiles_path = profile_file_path(r->pf)};
	const char *what = r->argv[0];
	char *report = NULL;
	int rc = 0;
	if (strcmp(what, "install") == 0)
		rc = schedule_install(r->p, &o, &report, e);
	else if (strcmp(what, "remove") == 0)
		rc = schedule_remove(r->p, &o, &report, e);
	else
		report = schedule_show(r->p, &o);
	if (report)
		fputs(report, stdout);
	free(report);
	return rc;
}

const struct cmd_entry cmd_schedule_entry = {
	.name = "schedule",
	.summary = "install, remove or show scheduled backups and drills (systemd timers or cron)",
	.description =
		"install  writes systemd timers ferry-backup-<profile>-<daily|weekly|monthly>\n"
		"         (daily 02:00, weekly Sunday 03:00, monthly on the 1st 04:00) for the\n"
		"         kinds in backup.schedule (default all three), ferry-drill-<profile>\n"
		"         (drill.schedule, default weekly Sunday 05:00; \"off\" = none) and, when\n"
		"         the profile has a notify section, ferry-status-<profile> (daily 06:00,\n"
		"         `ferry status --notify`), all Persistent=true, and enables them; where\n"
		"         systemd is not running, a cron file /etc/cron.d/ferry-<profile>.\n"
		"         Each run is marked --scheduled: a failure or warning is notified\n"
		"remove   removes them; show prints what is installed\n",
	.options = options,
	.args = args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_PROFILE,
	.args_size = sizeof(struct schedule_args),
	.exec = schedule_exec,
};
