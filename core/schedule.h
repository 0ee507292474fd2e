/* schedule — scheduled runs as systemd timers (Persistent=true: a run
 * missed while the machine was off happens at the next boot), or a cron
 * file where systemd is not running.
 *
 *   backups  daily 02:00, weekly Sunday 03:00, monthly on the 1st at 04:00
 *            (local time), for the kinds in backup.schedule (default all
 *            three): ferry-backup-<profile>-<kind>
 *   drill    drill.schedule (default weekly, Sunday 05:00; "off" = none):
 *            ferry-drill-<profile>
 *   status   daily 06:00 `ferry status --notify`, when the profile has a
 *            notify section: ferry-status-<profile>
 *
 * Every run is marked --scheduled (status: --notify), so a failure or a
 * warning reaches the profile's notify section. Directories can be
 * redirected for tests with FERRY_SYSTEMD_DIR and FERRY_CRON_DIR. */
#ifndef FERRY_SCHEDULE_H
#define FERRY_SCHEDULE_H

#include <stdbool.h>

#include "err.h"
#include "profile/profile.h"

enum schedule_mode { SCHEDULE_AUTO, SCHEDULE_SYSTEMD, SCHEDULE_CRON };

struct schedule_opts {
	enum schedule_mode mode;
	const char *ferry_path;      /* absolute path of the ferry binary */
	const char *profiles_path;   /* absolute path of the profiles file */
};

/* The unit/cron texts (pure; for tests and `show`). kind is a backup kind,
 * "drill" or "status"; NULL when the profile has no such job. Caller frees. */
char *schedule_service_text(const struct profile *p, const char *kind,
			    const struct schedule_opts *o);
char *schedule_timer_text(const struct profile *p, const char *kind);
char *schedule_cron_text(const struct profile *p, const struct schedule_opts *o);

/* Install, remove, or describe (text to print, caller frees). */
int schedule_install(const struct profile *p, const struct schedule_opts *o, char **report,
		     struct err *e);
int schedule_remove(const struct profile *p, const struct schedule_opts *o, char **report,
		    struct err *e);
char *schedule_show(const struct profile *p, const struct schedule_opts *o);

#endif
