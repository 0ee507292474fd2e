/* fsx — the file system as ferry uses it: whole-file reads with a limit,
 * atomic writes, directories, free space.
 *
 * Atomic write: the data goes to "<path>.part" (mode as given), is fsynced,
 * renamed over path, and the directory is fsynced: a reader sees the old
 * file or the new one, never half of one, and a crash leaves at most a
 * .part that the next write replaces. Every state, journal, log and
 * profiles file ferry writes goes through fsx_write_atomic.
 *
 * Errors: -1 with e filled (ERR_FAILED naming the path; ERR_SPACE when the
 * disk is full). Strings returned are the caller's to free. */
#ifndef FERRY_FSX_H
#define FERRY_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The whole file, NUL-terminated (len without the NUL, may be NULL). A file
 * longer than max bytes is an error naming the limit (max 0 = 64 MiB).
 * path "-" reads standard input. NULL with e filled. */
char *fsx_read_file(const char *path, size_t max, size_t *len, struct err *e);

/* Replace path with data atomically (see above); mode e.g. 0600. */
int fsx_write_atomic(const char *path, const void *data, size_t len, unsigned mode, struct err *e);

/* mkdir -p with mode for the directories it creates; ERR_FAILED when a
 * component is not a directory. */
int fsx_mkdir_p(const char *path, unsigned mode, struct err *e);

/* rm -rf, best effort, never following symbolic links. */
void fsx_rm_rf(const char *path);

/* Bytes available to an unprivileged writer on path's file system (of its
 * nearest existing ancestor when path is not made yet). */
int fsx_free_space(const char *path, uint64_t *avail, struct err *e);

/* Sum of the sizes of the regular files below path (links not followed). */
uint64_t fsx_dir_bytes(const char *path);

/* Whether path exists (lstat: a dangling link exists). */
bool fsx_exists(const char *path);

/* fsync the directory that holds path (after a rename into it). */
void fsx_sync_parent(const char *path);

#endif
