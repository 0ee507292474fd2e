/* fsx — reads, atomic writes, directories and free space. */
#define _XOPEN_SOURCE 700
#include "fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fault.h"
#include "util.h"

#define READ_MAX_DEFAULT (64u << 20)

static int read_error(const char *path, struct err *e)
{
	enum err_kind k = errno == ENOENT ? ERR_USAGE : ERR_FAILED;
	return err_set(e, k, "cannot read %s: %s", path, strerror(errno));
}

char *fsx_read_file(const char *path, size_t max, size_t *len, struct err *e)
{
	if (max == 0)
		max = READ_MAX_DEFAULT;
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		read_error(path, e);
		return NULL;
	}
	struct sbuf b = {0};
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > max) {
			if (n < 0)
				read_error(path, e);
			else
				err_set(e, ERR_FAILED, "%s is larger than %zu MiB, the limit for this file",
					is_stdin ? "standard input" : path, max >> 20);
			if (!is_stdin)
				close(fd);
			sbuf_done(&b);
			return NULL;
		}
		sbuf_add(&b, chunk, (size_t)n);
	}
	if (!is_stdin)
		close(fd);
	if (len)
		*len = b.len;
	return sbuf_take(&b);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_failed(const char *what, const char *path, struct err *e)
{
	enum err_kind k = errno == ENOSPC || errno == EDQUOT ? ERR_SPACE : ERR_FAILED;
	err_set(e, k, "cannot %s %s: %s", what, path, strerror(errno));
	return k == ERR_SPACE ? err_hint(e, "free space on that disk; the old file was kept") : -1;
}

void fsx_sync_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int fsx_write_atomic(const char *path, const void *data, size_t len, unsigned mode, struct err *e)
{
	char *part = xasprintf("%s.part", path);
	unlink(part);
	int fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	int rc = fd < 0 ? write_failed("create", part, e) : 0;
	if (rc == 0 && (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0))
		rc = write_failed("write", part, e);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = write_failed("write", part, e);
	if (rc == 0 && fault_point("fsx.write_atomic") < 0)
		rc = err_set(e, ERR_FAILED, "cannot rename %s (injected fault)", part);
	if (rc == 0 && rename(part, path) < 0)
		rc = write_failed("rename into place", path, e);
	if (rc < 0)
		unlink(part);
	else
		fsx_sync_parent(path);
	free(part);
	return rc;
}

int fsx_mkdir_p(const char *path, unsigned mode, struct err *e)
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
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, ERR_FAILED, "%s is not a directory", path);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

void fsx_rm_rf(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fsx_free_space(const char *path, uint64_t *avail, struct err *e)
{
	struct statvfs sv;
	char *at = xstrdup(path);
	int rc;
	/* A directory not made yet: the space is that of the nearest one there is. */
	while ((rc = statvfs(at, &sv)) < 0 && errno == ENOENT && strrchr(at, '/') && strcmp(at, "/") != 0) {
		char *slash = strrchr(at, '/');
		if (slash == at)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(at);
	if (rc < 0)
		return err_set(e, ERR_FAILED, "cannot read free space of %s: %s", path, strerror(errno));
	*avail = fault_free_bytes((uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize);
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

uint64_t fsx_dir_bytes(const char *path)
{
	uint64_t sum = 0;
	dir_bytes_sum = &sum;
	nftw(path, add_size, 16, FTW_PHYS);
	dir_bytes_sum = NULL;
	return sum;
}

bool fsx_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}
