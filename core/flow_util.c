/* flow_util — helpers shared by the flows. */
#define _XOPEN_SOURCE 700
#include "flow_util.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

int flow_compression_parse(const char *name, enum bundle_compression *out)
{
	if (strcmp(name, "zstd") == 0)
		*out = BUNDLE_ZSTD;
	else if (strcmp(name, "gzip") == 0)
		*out = BUNDLE_GZIP;
	else if (strcmp(name, "none") == 0)
		*out = BUNDLE_NONE;
	else
		return -1;
	return 0;
}

const char *flow_compression_name(enum bundle_compression c)
{
	return c == BUNDLE_GZIP ? "gzip" : c == BUNDLE_NONE ? "none" : "zstd";
}

const char *flow_bundle_extension(enum bundle_compression c)
{
	return c == BUNDLE_GZIP ? ".ferry.tar.gz" : c == BUNDLE_NONE ? ".ferry.tar" : ".ferry.tar.zst";
}

double flow_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *flow_iso_time(time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

char *flow_hostname(void)
{
	char buf[256] = "";
	if (gethostname(buf, sizeof buf - 1) < 0)
		snprintf(buf, sizeof buf, "unknown");
	return xstrdup(buf);
}

const char *flow_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

bool flow_app_path_exists(const struct profile *p, const char *rel)
{
	char *path = xasprintf("%s/%s", p->app.root, rel);
	struct stat st;
	bool yes = lstat(path, &st) == 0;
	free(path);
	return yes;
}

bool flow_any_app_path_exists(const struct profile *p)
{
	for (size_t i = 0; p->has_app && i < p->app.paths.n; i++)
		if (flow_app_path_exists(p, p->app.paths.v[i]))
			return true;
	return false;
}

int flow_mkdir_p(const char *path, unsigned mode, struct err *e)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; ; s++) {
		char saved = *s;
		if (saved != '/' && saved != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			err_set(e, ERR_FAILED, "cannot create directory %s: %s", p, strerror(errno));
			free(p);
			return err_hint(e, "check the path and its permissions");
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(e, ERR_FAILED, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

int flow_free_space(const char *path, uint64_t *avail, struct err *e)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return err_set(e, ERR_FAILED, "cannot read free space of %s: %s", path, strerror(errno));
	*avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	const char *fake = getenv("FERRY_TEST_FREE_BYTES");
	if (fake && *fake)
		*avail = strtoull(fake, NULL, 10);
	return 0;
}

/* nftw callbacks cannot take user data; the sum lives on the caller's
 * stack through this pointer for the duration of one walk. */
static _Thread_local uint64_t *dir_bytes_sum;

static int add_size(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path, (void)ftw;
	if (type == FTW_F && S_ISREG(st->st_mode))
		*dir_bytes_sum += (uint64_t)st->st_size;
	return 0;
}

uint64_t flow_dir_bytes(const char *path)
{
	uint64_t sum = 0;
	dir_bytes_sum = &sum;
	nftw(path, add_size, 16, FTW_PHYS);
	dir_bytes_sum = NULL;
	return sum;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

void flow_rm_rf(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct command_log {
	const struct event_sink *ev;
};

static void command_line(void *ud, const char *line, bool is_stderr)
{
	const struct command_log *cl = ud;
	if (*line)
		event_log(cl->ev, is_stderr ? EV_WARN : EV_INFO, "%s", line);
}

int flow_run_commands(const struct strv *cmds, const struct profile *p, const char *const *env,
		      const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e)
{
	struct command_log cl = {ev};
	struct proc_opts po = {
		.cwd = p->has_app && p->app.root ? p->app.root : p->dir,
		.env = env,
		.stdout_lines = true,
		.on_line = command_line,
		.ud = &cl,
		.cancel = cancel,
	};
	for (size_t i = 0; i < cmds->n; i++) {
		event_log(ev, EV_INFO, "$ %s", cmds->v[i]);
		if (proc_run_shell(cmds->v[i], &po, e) < 0)
			return -1;
	}
	return 0;
}
