/* wiz_log — the wizard run's log file under the profile's log_dir
 * (core/runlog.h): one line per event, the result at the end. */
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "wiz/wiz_log.h"

/* Open <log_dir>/ferry-<flow>-<UTC time>.log for the run. */
void wiz_log_open(struct wiz *w)
{
	if (!w->p || !w->p->log_dir)
		return;
	struct err e = {0};
	w->log = runlog_open(w->p->log_dir, w->flow->name, w->p->name, &e);
	if (!w->log) {
		char *line = xasprintf("warning: no log file: %s", e.msg);
		wiz_runview_log(&w->rv, line);
		free(line);
		return;
	}
	free(w->log_path);
	w->log_path = xstrdup(runlog_path(w->log));
}

/* One event as a log line (progress is left out). */
void wiz_log_event(struct wiz *w, const struct event *ev)
{
	runlog_event(w->log, ev);
}

/* Write the result and close the log. */
void wiz_log_close(struct wiz *w)
{
	if (!w->log)
		return;
	for (size_t i = 0; i < w->result.n; i++)
		runlog_line(w->log, "result: %s", w->result.v[i]);
	if (w->written)
		runlog_line(w->log, "result: %s", w->written);
	if (w->next_cmd)
		runlog_line(w->log, "next: %s", w->next_cmd);
	runlog_close(w->log);
	w->log = NULL;
}
