/* journal — what a destructive run has made and is doing, on disk, so that
 * the next run can tell its own leftovers from the operator's things and
 * finish or undo what a killed run left half-done.
 *
 * One file per profile: <backup.dir>/.ferry-journal-<profile>.json, written
 * atomically (fsx_write_atomic) after every change:
 *   {"profile": ..., "flow": "restore", "pid": ..., "host": ..., "started": ...,
 *    "created": [{"kind": "database"|"dir", "name": ...}, ...],
 *    "steps": [{"op": "swap", "state": "begun"|"done", ...}, ...]}
 * A database or directory ferry made is recorded before it is made and
 * forgotten once it is handed over (the shadow renamed into place) or
 * removed; ferry only ever drops a database that a journal lists or that it
 * made in this run. The file is removed when the run ends cleanly.
 *
 * Ownership: journal_open returns a heap object freed by journal_close
 * (NULL-safe); strings passed in are copied. */
#ifndef FERRY_JOURNAL_H
#define FERRY_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "err.h"

typedef struct journal journal;

/* The journal of profile in dir, for flow: an earlier run's record is
 * loaded (see journal_earlier), a new one started for this run. */
journal *journal_open(const char *dir, const char *profile, const char *flow, struct err *e);

/* What an earlier, unfinished run recorded (NULL when nothing): borrowed,
 * valid until journal_close. */
const json_t *journal_earlier(const journal *j);
/* Whether an earlier run (or this one) recorded that it made name. */
bool journal_made(const journal *j, const char *kind, const char *name);

/* Record, before making it, that this run makes name; forget it once it is
 * handed over or removed. */
int journal_make(journal *j, const char *kind, const char *name, struct err *e);
int journal_forget(journal *j, const char *kind, const char *name, struct err *e);

/* A destructive step: recorded as "begun" with its details (an object,
 * reference taken) before it starts, "done" after. Returns its index. */
int journal_begin(journal *j, json_t *step, struct err *e);
int journal_done(journal *j, int step, struct err *e);

/* The earlier run's record is dealt with: forget it. */
int journal_clear_earlier(journal *j, struct err *e);

/* The run ended: when nothing is left recorded the file goes, else it is
 * kept for the next run. Frees j. */
void journal_close(journal *j);

#endif
