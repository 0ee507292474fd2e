/* sftp_ops — what callers do with an SFTP session (ssh.h): stat, list a
 * directory, remove a file, download a file with pipelined reads. */
#include "ssh_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define DL_CHUNK (128 * 1024)      /* one read request (< 256 KiB!) */
#define DL_OUTSTANDING 32          /* unanswered reads */

/* Start a session on c (see ssh.h). */
sshc_sftp *sshc_sftp_new(sshc_conn *c, struct err *e)
{
	struct sshc_sftp *sf = xcalloc(1, sizeof *sf);
	int rc = sshc_sftp_begin(sf, c, e);
	if (rc == 0)
		return sf;
	if (rc == 1) {
		err_set(e, ERR_SSH, "the server on %s has no sftp subsystem", c->target);
		err_hint(e, "enable it in sshd_config (Subsystem sftp internal-sftp)");
	}
	sshc_sftp_free(sf);
	return NULL;
}

/* End the session; NULL-safe. */
void sshc_sftp_free(sshc_sftp *s)
{
	if (!s)
		return;
	sshc_sftp_end(s);
	free(s);
}

/* stat path: 0, 1 when missing, -1 (see ssh.h). */
int sshc_sftp_stat(sshc_sftp *s, const char *path, struct sshc_attrs *a, struct err *e)
{
	s->cancel = NULL;
	s->doing = "sftp session with";
	return sshc_sftp_stat_path(s, path, a, e);
}

/* Free a listing's names and array and reset it. */
void sshc_dir_done(struct sshc_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	memset(d, 0, sizeof *d);
}

/* One SFTP string at *pos as a new C string (NUL bytes cut it short). */
static char *take_string(const struct sshc_sftp *sf, size_t *pos)
{
	if (*pos + 4 > sf->pkt_len)
		return NULL;
	uint32_t n = sshc_get_u32(sf->pkt + *pos);
	if (n > sf->pkt_len - *pos - 4)
		return NULL;
	char *s = xstrndup((const char *)sf->pkt + *pos + 4, n);
	*pos += 4 + (size_t)n;
	return s;
}

/* The entries of one NAME reply, appended to d. -1 when malformed. */
static int add_names(const struct sshc_sftp *sf, struct sshc_dir *d)
{
	if (sf->pkt_len < 9)
		return -1;
	uint32_t count = sshc_get_u32(sf->pkt + 5);
	size_t pos = 9;
	for (uint32_t i = 0; i < count; i++) {
		char *name = take_string(sf, &pos);
		char *longname = name ? take_string(sf, &pos) : NULL;
		struct sshc_attrs a;
		if (!longname || sshc_sftp_parse_attrs(sf, &pos, &a) != 0) {
			free(name);
			free(longname);
			return -1;
		}
		free(longname);
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			free(name);
			continue;
		}
		d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
		d->v[d->n++] = (struct sshc_dirent){.name = name, .a = a};
	}
	return 0;
}

/* qsort: entries by name. */
static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sshc_dirent *)a)->name, ((const struct sshc_dirent *)b)->name);
}

/* Read the open directory to its end into d. */
static int read_names(struct sshc_sftp *sf, const char *dir, struct sshc_dir *d, struct err *e)
{
	for (;;) {
		if (sshc_sftp_read_dir(sf, e) != 0)
			return -1;
		if (sf->pkt[0] == FXP_STATUS) {
			int code = sshc_sftp_status_of(sf);
			if (code == FX_EOF)
				return 0;
			return err_set(e, ERR_SSH, "cannot list %s on %s: %s", dir, sf->c->target,
				       sshc_sftp_status_text(sf, code));
		}
		if (sf->pkt[0] != FXP_NAME || add_names(sf, d) != 0)
			return err_set(e, ERR_SSH, "the sftp server on %s sent an unexpected reply",
				       sf->c->target);
	}
}

/* The entries of dir, sorted by name (see ssh.h). */
int sshc_sftp_list(sshc_sftp *s, const char *dir, struct sshc_dir *d, struct err *e)
{
	memset(d, 0, sizeof *d);
	s->cancel = NULL;
	s->doing = "sftp session with";
	int r = sshc_sftp_open_dir(s, dir, e);
	if (r != 0)
		return r;
	int rc = read_names(s, dir, d, e);
	struct err ignored;
	sshc_sftp_close_handle(s, dir, rc == 0 ? e : &ignored);
	if (rc != 0) {
		sshc_dir_done(d);
		return -1;
	}
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, by_name);
	return 0;
}

/* Remove the file path: 0, 1 when missing, -1 (see ssh.h). */
int sshc_sftp_remove(sshc_sftp *s, const char *path, struct err *e)
{
	s->cancel = NULL;
	s->doing = "sftp session with";
	return sshc_sftp_remove_path(s, path, e);
}

/* ---- download ----------------------------------------------------------------- */

/* A download in progress: the reads in flight and how far the hash got. */
struct download {
	struct sshc_sftp *sf;
	const char *path;
	const struct sshc_download_opts *o;
	const char *step;
	int fd;
	uint64_t size;             /* as stat said before the start */
	uint64_t next;             /* the next offset to ask for */
	uint64_t got;              /* bytes written */
	uint64_t hashed;           /* the hash covers [0, hashed) */
	bool in_order;             /* every reply came at `hashed` */
	struct hash_ctx h;
	struct sshc_fx_out out[DL_OUTSTANDING];   /* off / end of each read */
	size_t n_out;
};

/* Ask for [off, end) (at most DL_CHUNK of it). */
static int request(struct download *d, uint64_t off, uint64_t end, struct err *e)
{
	uint32_t n = end - off > DL_CHUNK ? DL_CHUNK : (uint32_t)(end - off);
	uint32_t id = d->sf->next_id++;
	if (sshc_sftp_send_read(d->sf, id, off, n, e) != 0)
		return -1;
	d->out[d->n_out++] = (struct sshc_fx_out){.id = id, .off = off, .end = off + n};
	return 0;
}

/* Keep DL_OUTSTANDING reads in flight while there is more to ask for. */
static int request_more(struct download *d, struct err *e)
{
	while (d->n_out < DL_OUTSTANDING && d->next < d->size) {
		uint64_t off = d->next;
		d->next = off + DL_CHUNK < d->size ? off + DL_CHUNK : d->size;
		if (request(d, off, d->next, e) != 0)
			return -1;
	}
	return 0;
}

/* The read a reply answers, taken off the list into *req; -1 when none. */
static int answered(struct download *d, uint32_t id, struct sshc_fx_out *req)
{
	for (size_t i = 0; i < d->n_out; i++) {
		if (d->out[i].id != id)
			continue;
		*req = d->out[i];
		d->out[i] = d->out[--d->n_out];
		return 0;
	}
	return -1;
}

/* Write data of a reply at off and hash it when it is the next in line. */
static int store(struct download *d, const unsigned char *data, size_t n, uint64_t off,
		 struct err *e)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(d->fd, data + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(e, errno == ENOSPC ? ERR_SPACE : ERR_FAILED,
				       "cannot write the download of %s: %s", d->path, strerror(errno));
		done += (size_t)w;
	}
	if (off == d->hashed) {
		hash_update(&d->h, data, n);
		d->hashed += n;
	} else {
		d->in_order = false;
	}
	d->got += n;
	return 0;
}

/* Handle one reply: data (a short one asks for the rest again) or status. */
static int take_reply(struct download *d, struct err *e)
{
	struct sshc_sftp *sf = d->sf;
	struct sshc_fx_out req;
	if (sf->pkt_len < 9 || answered(d, sshc_get_u32(sf->pkt + 1), &req) != 0)
		return err_set(e, ERR_SSH, "the sftp server on %s answered a request never made",
			       sf->c->target);
	if (sf->pkt[0] == FXP_STATUS) {
		int code = sshc_sftp_status_of(sf);
		if (code == FX_EOF)
			return err_set(e, ERR_SSH, "%s on %s shrank while it was being read (%llu of "
				       "%llu bytes there)", d->path, sf->c->target,
				       (unsigned long long)req.off, (unsigned long long)d->size);
		return err_set(e, ERR_SSH, "cannot read %s on %s: %s", d->path, sf->c->target,
			       sshc_sftp_status_text(sf, code));
	}
	uint32_t n = sshc_get_u32(sf->pkt + 5);
	if (sf->pkt[0] != FXP_DATA || n > sf->pkt_len - 9 || n > req.end - req.off || n == 0)
		return err_set(e, ERR_SSH, "the sftp server on %s sent an unexpected reply",
			       sf->c->target);
	if (store(d, sf->pkt + 9, n, req.off, e) != 0)
		return -1;
	if (req.off + n < req.end)
		return request(d, req.off + n, req.end, e);
	return 0;
}

/* Hash what fd holds, from the start (when replies came out of order). */
static int rehash(struct download *d, struct err *e)
{
	hash_done(&d->h);
	if (hash_init(&d->h, e) != 0)
		return -1;
	char *buf = xmalloc(DL_CHUNK);
	int rc = 0;
	for (uint64_t off = 0; off < d->got;) {
		size_t want = d->got - off > DL_CHUNK ? DL_CHUNK : (size_t)(d->got - off);
		ssize_t n = pread(d->fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(e, ERR_FAILED, "cannot read back the download of %s: %s", d->path,
				     n < 0 ? strerror(errno) : "short file");
			break;
		}
		hash_update(&d->h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* The transfer: reads in flight until every byte of the file is here. */
static int transfer(struct download *d, struct err *e)
{
	event_progress(d->o->events, d->step, 0, d->size);
	if (request_more(d, e) != 0)
		return -1;
	while (d->n_out > 0) {
		if (d->o->cancel && *d->o->cancel)
			return err_set(e, ERR_INTERRUPTED, "interrupted: download from %s stopped",
				       d->sf->c->target);
		if (sshc_sftp_next(d->sf, e) != 0 || take_reply(d, e) != 0)
			return -1;
		event_progress(d->o->events, d->step, d->got, d->size);
		if (request_more(d, e) != 0)
			return -1;
	}
	return d->in_order ? 0 : rehash(d, e);
}

/* Copy the remote file path into fd (see ssh.h). */
int sshc_sftp_download(sshc_sftp *s, const char *path, int fd, const struct sshc_download_opts *o,
		       struct sshc_download_result *r, struct err *e)
{
	static const struct sshc_download_opts defaults = {0};
	struct sshc_download_result r_local = {0};
	o = o ? o : &defaults;
	r = r ? r : &r_local;
	memset(r, 0, sizeof *r);
	double start = util_now();
	s->cancel = o->cancel;
	s->doing = "download from";
	struct sshc_attrs a;
	int st = sshc_sftp_stat_path(s, path, &a, e);
	if (st != 0)
		return st;
	if (a.is_dir)
		return err_set(e, ERR_SSH, "%s on %s is a directory", path, s->c->target);
	struct download d = {.sf = s, .path = path, .o = o, .fd = fd, .size = a.size,
			     .in_order = true, .step = o->step ? o->step : "download"};
	if (hash_init(&d.h, e) != 0 || sshc_sftp_open_file(s, path, FXF_READ, e) != 0) {
		hash_done(&d.h);
		return -1;
	}
	int rc = transfer(&d, e);
	struct err ignored;
	if (sshc_sftp_close_handle(s, path, rc == 0 ? e : &ignored) != 0)
		rc = -1;
	if (rc == 0)
		hash_final(&d.h, r->sha256);
	hash_done(&d.h);
	r->bytes = d.got;
	r->seconds = util_now() - start;
	return rc;
}
