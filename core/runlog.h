/* runlog — the log file of one run: <log_dir>/ferry-<flow>-<UTC time>.log
 * (never an existing file: a second run in the same second gets -2, -3,
 * ...), a header line, one line per event (progress left out), free lines
 * (the result) and a close. The wizard's runs and the command line's write
 * the same file.
 *
 * Ownership: runlog_open returns a log the caller closes with
 * runlog_close (NULL is fine); runlog_path's string belongs to the log. */
#ifndef FERRY_RUNLOG_H
#define FERRY_RUNLOG_H

#include "err.h"
#include "event.h"

typedef struct runlog runlog;

/* Create the log directory (0755) and a new log file in it for flow and
 * profile. NULL with e filled (ERR_FAILED) when that cannot be done. */
runlog *runlog_open(const char *log_dir, const char *flow, const char *profile, struct err *e);
/* The file's path. */
const char *runlog_path(const runlog *l);
/* One event as a line: "HH:MM:SS step_done  dump: 7 tables" (progress is
 * left out). NULL l is fine. */
void runlog_event(runlog *l, const struct event *ev);
/* A line of its own ("result: ..."). NULL l is fine. */
void runlog_line(runlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close the file and free l; NULL is fine. */
void runlog_close(runlog *l);

#endif
