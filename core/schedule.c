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

static bool kind_wanted(const struct profile *p, const char *kind)
{
	return p->backup.schedule.n == 0 || strv_contains(&p->backup.schedule, kind);
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

static char *unit_name(const struct profile *p, const char *kind, const char *ext)
{
	return xasprintf("ferry-backup-%s-%s.%s", p->name, kind, ext);
}

static char *command_line(const struct profile *p, const char *kind, const struct schedule_opts *o)
{
	return xasprintf("%s backup --profiles %s --profile %s --type %s", o->ferry_path,
			 o->profiles_path, p->name, kind);
}

char *schedule_service_text(const struct profile *p, const char *kind,
			    const struct schedule_opts *o)
{
	char *cmd = command_line(p, kind, o);
	char *text = xasprintf("# written by ferry schedule install\n"
			       "[Unit]\nDescription=ferry %s backup of %s\n\n"
			       "[Service]\nType=oneshot\nExecStart=%s\n",
			       kind, p->name, cmd);
	free(cmd);
	return text;
}

char *schedule_timer_text(const struct profile *p, const char *kind)
{
	for (size_t i = 0; i < NSLOTS; i++)
		if (strcmp(slots[i].kind, kind) == 0)
			return xasprintf("# written by ferry schedule install\n"
					 "[Unit]\nDescription=ferry %s backup of %s\n\n"
					 "[Timer]\nOnCalendar=%s\nPersistent=true\n\n"
					 "[Install]\nWantedBy=timers.target\n",
					 kind, p->name, slots[i].on_calendar);
	return NULL;
}

char *schedule_cron_text(const struct profile *p, const struct schedule_opts *o)
{
	char *text = xasprintf("# written by ferry schedule install: backups of %s\n"
			       "SHELL=/bin/sh\n", p->name);
	for (size_t i = 0; i < NSLOTS; i++) {
		if (!kind_wanted(p, slots[i].kind))
			continue;
		char *cmd = command_line(p, slots[i].kind, o);
		char *more = xasprintf("%s%s root %s\n", text, slots[i].cron, cmd);
		free(cmd);
		free(text);
		text = more;
	}
	return text;
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

static int install_systemd(const struct profile *p, const struct schedule_opts *o,
			   char **report, struct err *e)
{
	*report = xstrdup("");
	systemctl((const char *const[]){"systemctl", "daemon-reload", NULL});
	for (size_t i = 0; i < NSLOTS; i++) {
		if (!kind_wanted(p, slots[i].kind))
			continue;
		char *svc = unit_name(p, slots[i].kind, "service");
		char *tmr = unit_name(p, slots[i].kind, "timer");
		char *svc_path = xasprintf("%s/%s", systemd_dir(), svc);
		char *tmr_path = xasprintf("%s/%s", systemd_dir(), tmr);
		char *svc_text = schedule_service_text(p, slots[i].kind, o);
		char *tmr_text = schedule_timer_text(p, slots[i].kind);
		int rc = write_file(svc_path, svc_text, e);
		if (rc == 0)
			rc = write_file(tmr_path, tmr_text, e);
		if (rc == 0) {
			systemctl((const char *const[]){"systemctl", "daemon-reload", NULL});
			systemctl((const char *const[]){"systemctl", "enable", "--now", tmr, NULL});
			char *more = xasprintf("%sinstalled %s (%s)\n", *report, tmr_path,
					       slots[i].on_calendar);
			free(*report);
			*report = more;
		}
		free(svc), free(tmr), free(svc_path), free(tmr_path), free(svc_text), free(tmr_text);
		if (rc < 0)
			return -1;
	}
	return 0;
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
	if (unlink(path) == 0) {
		char *more = xasprintf("%sremoved %s\n", *report, path);
		free(*report);
		*report = more;
	}
}

int schedule_remove(const struct profile *p, const struct schedule_opts *o, char **report,
		    struct err *e)
{
	(void)e;
	*report = xstrdup("");
	if (pick_mode(o) == SCHEDULE_SYSTEMD) {
		for (size_t i = 0; i < NSLOTS; i++) {
			char *tmr = unit_name(p, slots[i].kind, "timer");
			char *svc = unit_name(p, slots[i].kind, "service");
			systemctl((const char *const[]){"systemctl", "disable", "--now", tmr, NULL});
			char *tp = xasprintf("%s/%s", systemd_dir(), tmr);
			char *sp = xasprintf("%s/%s", systemd_dir(), svc);
			remove_and_note(tp, report);
			remove_and_note(sp, report);
			free(tmr), free(svc), free(tp), free(sp);
		}
		systemctl((const char *const[]){"systemctl", "daemon-reload", NULL});
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

char *schedule_show(const struct profile *p, const struct schedule_opts *o)
{
	char *out = xstrdup("");
	bool sd = pick_mode(o) == SCHEDULE_SYSTEMD;
	for (size_t i = 0; sd && i < NSLOTS; i++) {
		char *tmr = unit_name(p, slots[i].kind, "timer");
		char *tp = xasprintf("%s/%s", systemd_dir(), tmr);
		char *text = read_small(tp);
		if (text) {
			char *more = xasprintf("%s%s: %s\n", out, tp, slots[i].on_calendar);
			free(out);
			out = more;
		}
		free(text), free(tmr), free(tp);
	}
	if (!sd) {
		char *path = cron_path(p);
		char *text = read_small(path);
		if (text) {
			char *more = xasprintf("%s%s:\n%s", out, path, text);
			free(out);
			out = more;
		}
		free(text);
		free(path);
	}
	if (!*out) {
		free(out);
		out = xasprintf("no schedule installed for %s (%s)\n", p->name,
				sd ? "systemd timers" : "cron");
	}
	return out;
}
