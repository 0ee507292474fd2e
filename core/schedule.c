/* schedule — write or remove systemd timer units or a cron file. */
#include "schedule.h"
#include "fsx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

static const struct {
	const char *kind;
	const char *on_calendar;   /* systemd */
	const char *cron;          /* minute hour dom month dow */
} slots[] = {
	{"daily", "*-*-* 02:00:00", "0 2 * * *"},
	{"weekly", "Sun *-*-* 03:00:00", "0 3 * * 0"},
	{"monthly", "*-*-01 04:00:00", "0 4 1 * *"},
};
#define NSLOTS (sizeof slots / sizeof slots[0])

/* The daily `ferry status --notify`: after the backups and the drill. */
#define STATUS_CALENDAR "*-*-* 06:00:00"
#define STATUS_CRON "0 6 * * *"

/* One scheduled job of a profile: a backup kind, the drill, the status check. */
struct job {
	char *kind;          /* "daily", "weekly", "monthly", "drill", "status" */
	char *unit;          /* ferry-backup-<p>-<kind>, ferry-drill-<p>, ferry-status-<p> */
	char *on_calendar, *cron;
	char *what;          /* "daily backup", "restore drill", "status check" */
};

struct jobs {
	struct job v[NSLOTS + 2];
	size_t n;
};

static void add_job(struct jobs *js, const char *kind, char *unit, const char *cal, const char *cron,
		    const char *what)
{
	js->v[js->n++] = (struct job){xstrdup(kind), unit, xstrdup(cal), xstrdup(cron), xstrdup(what)};
}

/* The drill's time from drill.schedule: systemd's calendar and cron's fields. */
static bool drill_when(const struct profile *p, char **cal, char **cron)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	struct profile_when w;
	if (profile_when_parse(p->drill.schedule ? p->drill.schedule : "weekly", &w) < 0 || w.off)
		return false;
	if (w.monthly) {
		*cal = xasprintf("*-*-01 %02d:%02d:00", w.hour, w.minute);
		*cron = xasprintf("%d %d 1 * *", w.minute, w.hour);
	} else if (w.weekday >= 0) {
		*cal = xasprintf("%s *-*-* %02d:%02d:00", days[w.weekday], w.hour, w.minute);
		*cron = xasprintf("%d %d * * %d", w.minute, w.hour, w.weekday);
	} else {
		*cal = xasprintf("*-*-* %02d:%02d:00", w.hour, w.minute);
		*cron = xasprintf("%d %d * * *", w.minute, w.hour);
	}
	return true;
}

/* What `install` writes for p: the backup kinds of backup.schedule (default
 * all three), the drill unless drill.schedule is "off", and the daily
 * status check when the profile has a notify section. all: every job there
 * could be (what `remove` looks for). */
static void jobs_of(const struct profile *p, bool all, struct jobs *js)
{
	memset(js, 0, sizeof *js);
	for (size_t i = 0; i < NSLOTS; i++)
		if (all || p->backup.schedule.n == 0 || strv_contains(&p->backup.schedule, slots[i].kind)) {
			char *what = xasprintf("%s backup", slots[i].kind);
			add_job(js, slots[i].kind, xasprintf("ferry-backup-%s-%s", p->name, slots[i].kind),
				slots[i].on_calendar, slots[i].cron, what);
			free(what);
		}
	char *cal = NULL, *cron = NULL;
	if (drill_when(p, &cal, &cron) || all)
		add_job(js, "drill", xasprintf("ferry-drill-%s", p->name), cal ? cal : "", cron ? cron : "",
			"restore drill");
	free(cal), free(cron);
	if (p->has_notify || all)
		add_job(js, "status", xasprintf("ferry-status-%s", p->name), STATUS_CALENDAR, STATUS_CRON,
			"status check");
}

static void jobs_done(struct jobs *js)
{
	for (size_t i = 0; i < js->n; i++) {
		free(js->v[i].kind), free(js->v[i].unit), free(js->v[i].on_calendar);
		free(js->v[i].cron), free(js->v[i].what);
	}
	js->n = 0;
}

static const struct job *find_job(const struct jobs *js, const char *kind)
{
	for (size_t i = 0; i < js->n; i++)
		if (strcmp(js->v[i].kind, kind) == 0)
			return &js->v[i];
	return NULL;
}

static const char *systemd_dir(void)
{
	const char *d = getenv("FERRY_SYSTEMD_DIR");
	return d && *d ? d : "/etc/systemd/system";
}

static const char *cron_dir(void)
{
	const char *d = getenv("FERRY_CRON_DIR");
	return d && *d ? d : "/etc/cron.d";
}

static bool systemd_running(void)
{
	if (getenv("FERRY_SYSTEMD_DIR"))
		return true;
	struct stat st;
	return stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

static enum schedule_mode pick_mode(const struct schedule_opts *o)
{
	if (o->mode != SCHEDULE_AUTO)
		return o->mode;
	return systemd_running() ? SCHEDULE_SYSTEMD : SCHEDULE_CRON;
}

/* The job's command: every run is marked --scheduled, so a failure or a
 * warning reaches the profile's notify section. */
static char *command_line(const struct profile *p, const char *kind, const struct schedule_opts *o)
{
	if (strcmp(kind, "drill") == 0)
		return xasprintf("%s drill --profiles %s --profile %s --scheduled", o->ferry_path, o->profiles_path,
				 p->name);
	if (strcmp(kind, "status") == 0)
		return xasprintf("%s status --profiles %s --profile %s --notify", o->ferry_path, o->profiles_path,
				 p->name);
	return xasprintf("%s backup --profiles %s --profile %s --type %s --scheduled", o->ferry_path,
			 o->profiles_path, p->name, kind);
}

char *schedule_service_text(const struct profile *p, const char *kind, const struct schedule_opts *o)
{
	struct jobs js;
	jobs_of(p, true, &js);
	const struct job *j = find_job(&js, kind);
	char *text = NULL;
	if (j) {
		char *cmd = command_line(p, kind, o);
		text = xasprintf("# written by ferry schedule install\n"
				 "[Unit]\nDescription=ferry %s of %s\n\n"
				 "[Service]\nType=oneshot\nExecStart=%s\n", j->what, p->name, cmd);
		free(cmd);
	}
	jobs_done(&js);
	return text;
}

char *schedule_timer_text(const struct profile *p, const char *kind)
{
	struct jobs js;
	jobs_of(p, false, &js);
	const struct job *j = find_job(&js, kind);
	char *text = j ? xasprintf("# written by ferry schedule install\n"
				   "[Unit]\nDescription=ferry %s of %s\n\n"
				   "[Timer]\nOnCalendar=%s\nPersistent=true\n\n"
				   "[Install]\nWantedBy=timers.target\n", j->what, p->name, j->on_calendar)
		       : NULL;
	jobs_done(&js);
	return text;
}

char *schedule_cron_text(const struct profile *p, const struct schedule_opts *o)
{
	struct jobs js;
	jobs_of(p, false, &js);
	struct sbuf b = {0};
	sbuf_addf(&b, "# written by ferry schedule install: backups, drill and checks of %s\n"
		  "SHELL=/bin/sh\n", p->name);
	for (size_t i = 0; i < js.n; i++) {
		char *cmd = command_line(p, js.v[i].kind, o);
		sbuf_addf(&b, "%s root %s\n", js.v[i].cron, cmd);
		free(cmd);
	}
	jobs_done(&js);
	return sbuf_take(&b);
}

static int write_file(const char *path, const char *text, struct err *e)
{
	if (fsx_write_atomic(path, text, strlen(text), 0644, e) == 0)
		return 0;
	return err_hint(e, "installing a schedule needs root (or the right to write there)");
}

static void systemctl(const char *const *args)
{
	if (getenv("FERRY_SYSTEMD_DIR"))
		return;   /* a test directory: no systemd to tell */
	struct err ignored = {0};
	struct proc_opts po = {.stdout_null = true};
	proc_run(args, &po, &ignored);
}

static char *cron_path(const struct profile *p)
{
	return xasprintf("%s/ferry-%s", cron_dir(), p->name);
}

static void note(char **report, const char *fmt, const char *a, const char *b)
{
	char *more = xasprintf(fmt, a, b);
	char *all = xasprintf("%s%s", *report, more);
	free(more);
	free(*report);
	*report = all;
}

/* One job's service and timer, enabled. */
static int install_unit(const struct profile *p, const struct job *j, const struct schedule_opts *o,
			char **report, struct err *e)
{
	char *svc_path = xasprintf("%s/%s.service", systemd_dir(), j->unit);
	char *tmr_path = xasprintf("%s/%s.timer", systemd_dir(), j->unit);
	char *tmr = xasprintf("%s.timer", j->unit);
	char *svc_text = schedule_service_text(p, j->kind, o);
	char *tmr_text = schedule_timer_text(p, j->kind);
	int rc = write_file(svc_path, svc_text, e);
	if (rc == 0)
		rc = write_file(tmr_path, tmr_text, e);
	if (rc == 0) {
		systemctl((const char *const[]){"systemctl", "daemon-reload", NULL});
		systemctl((const char *const[]){"systemctl", "enable", "--now", tmr, NULL});
		note(report, "installed %s (%s)\n", tmr_path, j->on_calendar);
	}
	free(svc_path), free(tmr_path), free(tmr), free(svc_text), free(tmr_text);
	return rc;
}

static int install_systemd(const struct profile *p, const struct schedule_opts *o,
			   char **report, struct err *e)
{
	*report = xstrdup("");
	struct jobs js;
	jobs_of(p, false, &js);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < js.n; i++)
		rc = install_unit(p, &js.v[i], o, report, e);
	jobs_done(&js);
	return rc;
}

static int install_cron(const struct profile *p, const struct schedule_opts *o, char **report,
			struct err *e)
{
	char *path = cron_path(p);
	char *text = schedule_cron_text(p, o);
	int rc = write_file(path, text, e);
	if (rc == 0)
		*report = xasprintf("installed %s\n%s", path, text);
	free(path);
	free(text);
	return rc;
}

int schedule_install(const struct profile *p, const struct schedule_opts *o, char **report,
		     struct err *e)
{
	*report = NULL;
	if (pick_mode(o) == SCHEDULE_SYSTEMD)
		return install_systemd(p, o, report, e);
	return install_cron(p, o, report, e);
}

static void remove_and_note(const char *path, char **report)
{
	if (unlink(path) == 0)
		note(report, "removed %s%s\n", path, "");
}

/* Every unit ferry could have installed for p (also those the profile no
 * longer asks for). */
static void remove_systemd(const struct profile *p, char **report)
{
	struct jobs js;
	jobs_of(p, true, &js);
	for (size_t i = 0; i < js.n; i++) {
		char *tmr = xasprintf("%s.timer", js.v[i].unit);
		systemctl((const char *const[]){"systemctl", "disable", "--now", tmr, NULL});
		char *tp = xasprintf("%s/%s.timer", systemd_dir(), js.v[i].unit);
		char *sp = xasprintf("%s/%s.service", systemd_dir(), js.v[i].unit);
		remove_and_note(tp, report);
		remove_and_note(sp, report);
		free(tmr), free(tp), free(sp);
	}
	jobs_done(&js);
	systemctl((const char *const[]){"systemctl", "daemon-reload", NULL});
}

int schedule_remove(const struct profile *p, const struct schedule_opts *o, char **report,
		    struct err *e)
{
	(void)e;
	*report = xstrdup("");
	if (pick_mode(o) == SCHEDULE_SYSTEMD) {
		remove_systemd(p, report);
	} else {
		char *path = cron_path(p);
		remove_and_note(path, report);
		free(path);
	}
	if (!**report) {
		free(*report);
		*report = xasprintf("no schedule installed for %s\n", p->name);
	}
	return 0;
}

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The OnCalendar= line of an installed timer, or "?". */
static char *calendar_of(const char *timer_text)
{
	const char *at = strstr(timer_text, "OnCalendar=");
	return at ? xstrndup(at + 11, strcspn(at + 11, "\n")) : xstrdup("?");
}

char *schedule_show(const struct profile *p, const struct schedule_opts *o)
{
	struct sbuf b = {0};
	bool sd = pick_mode(o) == SCHEDULE_SYSTEMD;
	struct jobs js;
	jobs_of(p, true, &js);
	for (size_t i = 0; sd && i < js.n; i++) {
		char *tp = xasprintf("%s/%s.timer", systemd_dir(), js.v[i].unit);
		char *text = read_small(tp);
		if (text) {
			char *cal = calendar_of(text);
			sbuf_addf(&b, "%s: %s (%s)\n", tp, cal, js.v[i].what);
			free(cal);
		}
		free(text), free(tp);
	}
	jobs_done(&js);
	if (!sd) {
		char *path = cron_path(p);
		char *text = read_small(path);
		if (text)
			sbuf_addf(&b, "%s:\n%s", path, text);
		free(text);
		free(path);
	}
	if (!b.len)
		sbuf_addf(&b, "no schedule installed for %s (%s)\n", p->name, sd ? "systemd timers" : "cron");
	return sbuf_take(&b);
}
