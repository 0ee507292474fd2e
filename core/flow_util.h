/* flow_util — small helpers shared by the flows: time, sizes, directories,
 * running the profile's shell commands. */
#ifndef FERRY_FLOW_UTIL_H
#define FERRY_FLOW_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "event.h"
#include "profile.h"

#include "bundle.h"

/* "zstd" / "gzip" / "none" ↔ enum; the bundle file name's ending. */
int flow_compression_parse(const char *name, enum bundle_compression *out);
const char *flow_compression_name(enum bundle_compression c);
const char *flow_bundle_extension(enum bundle_compression c);

double flow_now(void);                       /* monotonic seconds */
char *flow_iso_time(time_t t);               /* "2026-11-21T19:50:00Z"; caller frees */
char *flow_hostname(void);                   /* caller frees */
const char *flow_human_bytes(uint64_t n, char *buf, size_t len);

/* Whether app.root/rel exists (a file, directory or link). */
bool flow_app_path_exists(const struct profile *p, const char *rel);
/* Whether any of the profile's app paths exists. */
bool flow_any_app_path_exists(const struct profile *p);

int flow_mkdir_p(const char *path, unsigned mode, struct err *e);
int flow_free_space(const char *path, uint64_t *avail, struct err *e);
uint64_t flow_dir_bytes(const char *path);   /* sum of regular file sizes below path */
void flow_rm_rf(const char *path);           /* best effort, never follows links */

/* Run each command with /bin/sh -c in app.root (else the profile's dir),
 * with env ("K=V", NULL-terminated) added; output lines become log
 * events. Stops at the first failure: ERR_FAILED naming the command. */
int flow_run_commands(const struct strv *cmds, const struct profile *p, const char *const *env,
		      const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e);

#endif
