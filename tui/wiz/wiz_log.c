/* wiz_log — the wizard run's log file under the profile's log_dir: one
 * line per event, the result at the end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fsx.h"
#include "util.h"
#include "wiz/wiz_log.h"

/* Open <log_dir>/ferry-<flow>-<UTC time>.log for the run. */
void wiz_log_open(struct wiz *w)
{
	if (!w->p || !w->p->log_dir)
		return;
	struct err e = {0};
	if (fsx_mkdir_p(w->p->log_dir, 0755, &e) < 0) {
		wiz_runview_log(&w->rv, "warning: no log file: cannot create the log directory");
		return;
	}
	time_t now = time(NULL);
	char *stamp = util_stamp(now);
	/* A new file: another run in the same second (another profile sharing
	 * the log_dir) gets -2, -3, ... rather than writing into this one. */
	for (int i = 1; i < 100 && !w->log; i++) {
		free(w->log_path);
		w->log_path = i == 1 ? xasprintf("%s/ferry-%s-%s.log", w->p->log_dir, w->flow->name, stamp)
				     : xasprintf("%s/ferry-%s-%s-%d.log", w->p->log_dir, w->flow->name, stamp, i);
		w->log = fopen(w->log_path, "wx");
		if (!w->log && errno != EEXIST)
			break;
	}
	free(stamp);
	if (!w->log) {
		free(w->log_path);
		w->log_path = NULL;
		return;
	}
	char *iso = util_iso_time(now);
	fprintf(w->log, "ferry %s: %s, profile %s, started %s\n", FERRY_VERSION, w->flow->name,
		w->p->name, iso);
	free(iso);
	fflush(w->log);
}

/* One event as a log line (progress is left out). */
void wiz_log_event(struct wiz *w, const struct event *ev)
{
	if (!w->log || ev->type == EV_PROGRESS)
		return;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char hms[16];
	strftime(hms, sizeof hms, "%H:%M:%S", &tm);
	fprintf(w->log, "%s %-10s %s%s%s\n", hms, event_type_name(ev->type), ev->step ? ev->step : "",
		ev->step && ev->text ? ": " : "", ev->text ? ev->text : "");
	fflush(w->log);
}

/* Write the result and close the log. */
void wiz_log_close(struct wiz *w)
{
	if (!w->log)
		return;
	for (size_t i = 0; i < w->result.n; i++)
		fprintf(w->log, "result: %s\n", w->result.v[i]);
	if (w->written)
		fprintf(w->log, "result: %s\n", w->written);
	if (w->next_cmd)
		fprintf(w->log, "next: %s\n", w->next_cmd);
	fclose(w->log);
	w->log = NULL;
}
