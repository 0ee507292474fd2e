/* storage_int — what a storage driver implements, and the common parts
 * (storage.c) every driver shares. Private to core/storage/.
 *
 * storage.c does what is the same everywhere: checking names, filtering
 * and sorting lists, and the local side of get (the .part, its sync, the
 * hash check, the rename). A driver does what differs:
 *
 *   list    every regular file directly in its place (unfiltered, any
 *           order), name / size / mtime
 *   stat    one entry: 0, 1 when missing, -1
 *   put     the whole atomic, verified (and where it can, resumable) copy
 *           to the destination: a local directory writes .part and renames,
 *           sftp uses sshc_upload, S3 a multipart upload from a checkpoint
 *           with the SHA-256 stored as object metadata
 *   get     the entry's bytes into an open local descriptor from offset 0,
 *           with its SHA-256 (storage.c handles the file around it)
 *   remove  0, 1 when missing, -1
 *   path    where an entry lives, for messages; caller frees
 *   close   free the driver's state (not the struct storage)
 *
 * Names handed to a driver are already checked (storage_name_ok). */
#ifndef FERRY_STORAGE_INT_H
#define FERRY_STORAGE_INT_H

#include "storage.h"

struct storage_driver {
	const char *name;
	int (*list)(storage *s, struct storage_list *out, struct err *e);
	int (*stat)(storage *s, const char *name, struct storage_entry *out, struct err *e);
	int (*put)(storage *s, const char *local_path, const char *name,
		   const struct storage_put_opts *o, struct storage_put_result *r, struct err *e);
	int (*get)(storage *s, const char *name, int fd, const struct storage_get_opts *o,
		   struct storage_get_result *r, struct err *e);
	int (*remove)(storage *s, const char *name, struct err *e);
	char *(*path)(const storage *s, const char *name);
	/* optional: abort abandoned uploads (storage_abort_stale_uploads) */
	int (*abort_stale)(storage *s, int64_t older_than_s, struct storage_uploads_result *r,
			   struct err *e);
	void (*close)(storage *s);
};

struct storage {
	const struct storage_driver *drv;
	char *desc;                /* storage_describe */
	void *priv;                /* the driver's */
};

/* A storage of drv with its description (taken over) and state. */
storage *storage_new(const struct storage_driver *drv, char *desc, void *priv);

/* Add an entry to a list being built. */
void storage_list_add(struct storage_list *l, const char *name, uint64_t size, int64_t mtime);

#endif
