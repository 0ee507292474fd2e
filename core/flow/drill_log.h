/* drill_log — the record of each drill: one JSON object (the --json
 * result of `ferry drill` and an entry of <log_dir>/drill_log.json, an
 * array written atomically), and the newest entry of a profile, for
 * `ferry status`. */
#ifndef FERRY_FLOW_DRILL_LOG_H
#define FERRY_FLOW_DRILL_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "err.h"
#include "flow/drill.h"
#include "profile/profile.h"

#define DRILL_LOG_NAME "drill_log.json"

/* The drill as a JSON object (a new reference):
 * {"status":"success|failed","profile","bundle","bundle_created","server",
 *  "scratch","kept","connect","signature","started_at","duration_s",
 *  "restore_s","content_s","checks_s","bundle_bytes","database_bytes",
 *  "tables","rows","content":{"checked","note","encoding","bytes",
 *  "tables":[{"schema","table","lines","bytes","dump_sha256","db_sha256",
 *  "match","first_diff_line","diff"}],"large_objects":{"dump","database",
 *  "differ"}},"checks":[{"name","expect","got","error","ok"}],
 *  "steps":[{"id","state","seconds","note"}],
 *  "failed_step","error","hint","exit_code"} */
json_t *drill_result_json(const struct profile *p, const struct drill_result *r);

/* Append rec to <log_dir>/drill_log.json; *path (caller frees) is the file. */
int drill_log_append(const struct profile *p, json_t *rec, char **path, struct err *e);

/* The newest drill of profile p in its log. */
struct drill_log_entry {
	bool found;
	bool ok;
	time_t at;                /* when it started */
	double restore_s;
	char *bundle;             /* its file name */
	char *error;              /* when it failed */
};
int drill_log_newest(const struct profile *p, struct drill_log_entry *out);
void drill_log_entry_done(struct drill_log_entry *en);

#endif
