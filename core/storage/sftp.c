/* storage/sftp — bundles in a directory on an SSH server. put is
 * sshc_upload (remote "<name>.part", resumed after a prefix hashed the
 * same on both sides, the whole file hashed on the server, renamed when it
 * matches); list, stat, remove and get go over one SFTP session, opened
 * when first needed. */
#include "storage_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct sftp_store {
	sshc_conn *c;              /* borrowed */
	char *dir;
	sshc_sftp *sf;             /* NULL until first needed */
};

/* The session, started on first use. */
static sshc_sftp *session(storage *s, struct err *e)
{
	struct sftp_store *st = s->priv;
	if (!st->sf)
		st->sf = sshc_sftp_new(st->c, e);
	return st->sf;
}

/* dir/name on the server; caller frees. */
static char *remote_path(const storage *s, const char *name)
{
	const struct sftp_store *st = s->priv;
	return sshc_remote_join(st->dir, name);
}

/* Every regular file in the remote directory (a missing one is empty). */
static int sftp_list(storage *s, struct storage_list *out, struct err *e)
{
	const struct sftp_store *st = s->priv;
	sshc_sftp *sf = session(s, e);
	if (!sf)
		return -1;
	struct sshc_dir d = {0};
	int r = sshc_sftp_list(sf, st->dir, &d, e);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].a.is_reg || d.v[i].a.mode == 0)
			storage_list_add(out, d.v[i].name, d.v[i].a.size, d.v[i].a.mtime);
	sshc_dir_done(&d);
	return 0;
}

/* stat dir/name on the server: 0, 1 when missing, -1. */
static int sftp_stat(storage *s, const char *name, struct storage_entry *out, struct err *e)
{
	const struct sftp_store *st = s->priv;
	sshc_sftp *sf = session(s, e);
	if (!sf)
		return -1;
	char *path = remote_path(s, name);
	struct sshc_attrs a;
	int r = sshc_sftp_stat(sf, path, &a, e);
	if (r == 0 && a.mode != 0 && !a.is_reg)
		r = err_set(e, ERR_SSH, "%s on %s is not a regular file", path, sshc_target(st->c));
	if (r == 0)
		*out = (struct storage_entry){.name = xstrdup(name), .size = a.size, .mtime = a.mtime};
	free(path);
	return r;
}

/* The resumable, verified upload to dir/name. */
static int sftp_put(storage *s, const char *local_path, const char *name,
		    const struct storage_put_opts *o, struct storage_put_result *r, struct err *e)
{
	const struct sftp_store *st = s->priv;
	char *path = remote_path(s, name);
	struct sshc_upload_opts uo = {.events = o->events, .step = o->step ? o->step : "put",
				      .cancel = o->cancel};
	struct sshc_upload_result ur;
	int rc = sshc_upload(st->c, local_path, path, &uo, &ur, e);
	r->bytes = ur.bytes;
	r->resumed_from = ur.resumed_from;
	r->sent = ur.sent;
	memcpy(r->sha256, ur.sha256, sizeof r->sha256);
	r->seconds = ur.seconds;
	free(path);
	return rc;
}

/* dir/name's bytes into fd over SFTP, hashed. */
static int sftp_get(storage *s, const char *name, int fd, const struct storage_get_opts *o,
		    struct storage_get_result *r, struct err *e)
{
	sshc_sftp *sf = session(s, e);
	if (!sf)
		return -1;
	char *path = remote_path(s, name);
	struct sshc_download_opts dopts = {.events = o->events, .step = o->step ? o->step : "get",
					   .cancel = o->cancel};
	struct sshc_download_result dr;
	int rc = sshc_sftp_download(sf, path, fd, &dopts, &dr, e);
	r->bytes = dr.bytes;
	memcpy(r->sha256, dr.sha256, sizeof r->sha256);
	r->seconds = dr.seconds;
	free(path);
	return rc;
}

/* Remove dir/name on the server: 0, 1 when missing, -1. */
static int sftp_remove(storage *s, const char *name, struct err *e)
{
	sshc_sftp *sf = session(s, e);
	if (!sf)
		return -1;
	char *path = remote_path(s, name);
	int rc = sshc_sftp_remove(sf, path, e);
	free(path);
	return rc;
}

/* End the session; the connection stays the caller's. */
static void sftp_close(storage *s)
{
	struct sftp_store *st = s->priv;
	sshc_sftp_free(st->sf);
	free(st->dir);
	free(st);
}

static const struct storage_driver sftp_driver = {
	.name = "sftp",
	.list = sftp_list,
	.stat = sftp_stat,
	.put = sftp_put,
	.get = sftp_get,
	.remove = sftp_remove,
	.path = remote_path,
	.close = sftp_close,
};

/* A directory on the server behind c (see storage.h). */
storage *storage_open_sftp(sshc_conn *c, const char *dir, struct err *e)
{
	if (!c || !dir || !*dir) {
		err_set(e, ERR_USAGE, "no %s given for the sftp storage", c ? "directory" : "connection");
		err_hint(e, "set backup.dir in the target profile");
		return NULL;
	}
	struct sftp_store *st = xcalloc(1, sizeof *st);
	st->c = c;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	st->dir = xstrndup(dir, n);
	char *desc = xasprintf("sftp://%s%s%s", sshc_target(c), st->dir[0] == '/' ? "" : "/~/",
			       st->dir);
	return storage_new(&sftp_driver, desc, st);
}
