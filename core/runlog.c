/* runlog — one run's log file under the profile's log_dir. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsx.h"
#include "runlog.h"
#include "util.h"

struct runlog {
	FILE *f;
	char *path;
};

/* A new file <dir>/ferry-<flow>-<stamp>[-N].log; NULL when none can be made. */
static FILE *create_new(const char *dir, const char *flow, const char *stamp, char **path)
{
	FILE *f = NULL;
	for (int i = 1; i < 100 && !f; i++) {
		free(*path);
		*path = i == 1 ? xasprintf("%s/ferry-%s-%s.log", dir, flow, stamp)
			       : xasprintf("%s/ferry-%s-%s-%d.log", dir, flow, stamp, i);
		f = fopen(*path, "wx");
		if (!f && errno != EEXIST)
			break;
	}
	return f;
}

runlog *runlog_open(const char *log_dir, const char *flow, const char *profile, struct err *e)
{
	if (fsx_mkdir_p(log_dir, 0755, e) < 0)
		return NULL;
	time_t now = time(NULL);
	char *stamp = util_stamp(now);
	char *path = NULL;
	FILE *f = create_new(log_dir, flow, stamp, &path);
	free(stamp);
	if (!f) {
		err_set(e, ERR_FAILED, "cannot create a log file in %s: %s", log_dir, strerror(errno));
		free(path);
		return NULL;
	}
	runlog *l = xcalloc(1, sizeof *l);
	l->f = f;
	l->path = path;
	char *iso = util_iso_time(now);
	fprintf(f, "ferry %s: %s, profile %s, started %s\n", FERRY_VERSION, flow,
		profile ? profile : "-", iso);
	free(iso);
	fflush(f);
	return l;
}

const char *runlog_path(const runlog *l)
{
	return l ? l->path : NULL;
}

void runlog_event(runlog *l, const struct event *ev)
{
	if (!l || ev->type == EV_PROGRESS)
		return;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char hms[16];
	strftime(hms, sizeof hms, "%H:%M:%S", &tm);
	const char *origin = ev->origin ? ev->origin : NULL;
	fprintf(l->f, "%s %-10s %s%s%s%s%s%s\n", hms, event_type_name(ev->type),
		origin ? "[" : "", origin ? origin : "", origin ? "] " : "",
		ev->step ? ev->step : "", ev->step && ev->text ? ": " : "", ev->text ? ev->text : "");
	fflush(l->f);
}

void runlog_line(runlog *l, const char *fmt, ...)
{
	if (!l)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(l->f, fmt, ap);
	va_end(ap);
	fputc('\n', l->f);
	fflush(l->f);
}

void runlog_close(runlog *l)
{
	if (!l)
		return;
	fclose(l->f);
	free(l->path);
	free(l);
}
