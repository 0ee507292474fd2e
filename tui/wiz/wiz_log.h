/* wiz_log — the run's log file: opened under the profile's log_dir when
 * the run starts (<log_dir>/ferry-<flow>-<UTC time>.log, never an existing
 * file), one line per event, the result at the end. Without a log_dir, or
 * when the file cannot be made, nothing is written (the run view says so). */
#ifndef FERRY_WIZ_LOG_H
#define FERRY_WIZ_LOG_H

#include "event.h"
#include "wiz/wiz.h"

void wiz_log_open(struct wiz *w);
/* One event as a line (progress is left out). */
void wiz_log_event(struct wiz *w, const struct event *ev);
/* Write the result lines and close; safe when nothing is open. */
void wiz_log_close(struct wiz *w);

#endif
