/* cmd_schedule — `ferry schedule install | remove | show`. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "schedule.h"

static int run_schedule(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_schedule = {
	"schedule", "install, remove or show scheduled backups (systemd timers or cron)",
	"usage: ferry schedule install|remove|show [--profile NAME] [--systemd | --cron]\n"
	"\n"
	"install  writes systemd timers ferry-backup-<profile>-<daily|weekly|monthly>\n"
	"         (daily 02:00, weekly Sunday 03:00, monthly on the 1st 04:00) for the\n"
	"         kinds in backup.schedule (default all three) and enables them; where\n"
	"         systemd is not running, a cron file /etc/cron.d/ferry-<profile>\n"
	"remove   removes them; show prints what is installed\n",
	run_schedule};

enum { OPT_SYSTEMD = OPT_COMMAND_BASE, OPT_CRON };

static int parse(struct cli *c, int argc, char **argv, enum schedule_mode *mode, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS, {"systemd", no_argument, NULL, OPT_SYSTEMD},
		{"cron", no_argument, NULL, OPT_CRON}, {0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_schedule, opt, optarg, e);
		if (r == 2)
			return 1;
		if (r == 1)
			continue;
		if (opt == OPT_SYSTEMD)
			*mode = SCHEDULE_SYSTEMD;
		else if (opt == OPT_CRON)
			*mode = SCHEDULE_CRON;
		else
			return cli_bad_option(&command_schedule, argv, e);
	}
	if (optind != argc - 1) {
		err_set(e, ERR_USAGE, "schedule: expected install, remove or show");
		return err_hint(e, "`ferry help schedule`");
	}
	return 0;
}

static int act(const char *what, const struct profile *p, const struct schedule_opts *o,
	       struct err *e)
{
	char *report = NULL;
	int rc = 0;
	if (strcmp(what, "install") == 0)
		rc = schedule_install(p, o, &report, e);
	else if (strcmp(what, "remove") == 0)
		rc = schedule_remove(p, o, &report, e);
	else if (strcmp(what, "show") == 0)
		report = schedule_show(p, o);
	else {
		err_set(e, ERR_USAGE, "schedule: unknown action \"%s\"", what);
		return err_hint(e, "use install, remove or show");
	}
	if (report)
		fputs(report, stdout);
	free(report);
	return rc;
}

static int run_schedule(struct cli *c, int argc, char **argv, struct err *e)
{
	enum schedule_mode mode = SCHEDULE_AUTO;
	int r = parse(c, argc, argv, &mode, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	const char *what = argv[optind];
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	if (!p) {
		profile_file_free(pf);
		return -1;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	struct schedule_opts o = {.mode = mode, .ferry_path = n > 0 ? self : "ferry",
				  .profiles_path = profile_file_path(pf)};
	int rc = act(what, p, &o, e);
	profile_file_free(pf);
	return rc;
}
