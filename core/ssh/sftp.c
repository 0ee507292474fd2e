/* sftp — a minimal pipelined SFTP client (version 3) on its own channel:
 * packets, replies, stat, mkdir -p, open / close, directory reads, remove,
 * and the pipelined read and write requests. */
#include "ssh_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* v as 4 big-endian bytes at p. */
void sshc_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The 4 big-endian bytes at p. */
uint32_t sshc_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The 8 big-endian bytes at p. */
static uint64_t get_u64(const unsigned char *p)
{
	return (uint64_t)sshc_get_u32(p) << 32 | sshc_get_u32(p + 4);
}

/* A request being built: length, type, id, then fields. */
struct fxbuf {
	unsigned char b[1024];
	size_t len;
	bool overflow;
};

/* Append n raw bytes (an overlong request is refused when sent). */
static void fx_bytes(struct fxbuf *f, const void *p, size_t n)
{
	if (f->len + n > sizeof f->b) {
		f->overflow = true;
		return;
	}
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

/* Append a uint32. */
static void fx_u32(struct fxbuf *f, uint32_t v)
{
	unsigned char p[4];
	sshc_put_u32(p, v);
	fx_bytes(f, p, 4);
}

/* Append an SFTP string (length, bytes). */
static void fx_str(struct fxbuf *f, const void *s, size_t n)
{
	fx_u32(f, (uint32_t)n);
	fx_bytes(f, s, n);
}

/* Start a request of type (the length is filled in when sent). */
static void fx_start(struct fxbuf *f, int type)
{
	f->len = 4;
	f->overflow = false;
	unsigned char t = (unsigned char)type;
	fx_bytes(f, &t, 1);
}

/* Send a built request. */
static int sftp_send(struct sshc_sftp *sf, struct fxbuf *f, struct err *e)
{
	if (f->overflow)
		return err_set(e, ERR_FAILED, "sftp request too long (a path over 900 bytes?)");
	sshc_put_u32(f->b, (uint32_t)(f->len - 4));
	if (ssh_channel_write(sf->ch, f->b, (uint32_t)f->len) != (int)f->len)
		return err_set(e, ERR_SSH, "connection to %s lost: %s", sf->c->target,
			       ssh_get_error(sf->c->s));
	return 0;
}

/* Read what the channel has (waiting up to wait_ms when nothing). Returns
 * 0, or -1 when the channel or connection is gone. */
static int sftp_fill(struct sshc_sftp *sf, int wait_ms, struct err *e)
{
	if (sf->in_cap - sf->in_len < READ_CHUNK) {
		sf->in_cap = sf->in_len + READ_CHUNK;
		sf->in = xrealloc(sf->in, sf->in_cap);
	}
	int n = wait_ms > 0 ? ssh_channel_read_timeout(sf->ch, sf->in + sf->in_len, READ_CHUNK, 0, wait_ms)
			    : ssh_channel_read_nonblocking(sf->ch, sf->in + sf->in_len, READ_CHUNK, 0);
	if (n == SSH_ERROR || (n == 0 && ssh_channel_is_eof(sf->ch)))
		return err_set(e, ERR_SSH, "the sftp session with %s ended: %s", sf->c->target,
			       ssh_get_error(sf->c->s));
	if (n > 0)
		sf->in_len += (size_t)n;
	return 0;
}

/* Take one complete packet from the input into sf->pkt; 1 = got one. */
static int sftp_take(struct sshc_sftp *sf, struct err *e)
{
	if (sf->pkt) {
		size_t used = sf->pkt_len + 4;
		memmove(sf->in, sf->in + used, sf->in_len - used);
		sf->in_len -= used;
		sf->pkt = NULL;
	}
	if (sf->in_len < 4)
		return 0;
	uint32_t len = sshc_get_u32(sf->in);
	if (len < 5 || len > 256 * 1024)
		return err_set(e, ERR_SSH, "the sftp server on %s sent a malformed reply",
			       sf->c->target);
	if (sf->in_len < 4 + (size_t)len)
		return 0;
	sf->pkt = sf->in + 4;
	sf->pkt_len = len;
	return 1;
}

/* Take a buffered packet, else read what is there and try again. */
int sshc_sftp_poll(struct sshc_sftp *sf, int wait_ms, struct err *e)
{
	int r = sftp_take(sf, e);
	if (r != 0)
		return r;
	if (sftp_fill(sf, wait_ms, e) != 0)
		return -1;
	return sftp_take(sf, e);
}

/* Wait for the next packet; cancel and stall aware. */
int sshc_sftp_next(struct sshc_sftp *sf, struct err *e)
{
	double start = util_now();
	for (;;) {
		int r = sftp_take(sf, e);
		if (r != 0)
			return r < 0 ? -1 : 0;
		if (sf->cancel && *sf->cancel)
			return err_set(e, ERR_INTERRUPTED, "interrupted: %s %s stopped", sf->doing,
				       sf->c->target);
		if (util_now() - start > DEFAULT_IO_TIMEOUT_S)
			return err_set(e, ERR_SSH, "the sftp server on %s did not answer for %d s",
				       sf->c->target, DEFAULT_IO_TIMEOUT_S);
		if (sftp_fill(sf, POLL_MS, e) != 0)
			return -1;
	}
}

/* The code of the STATUS reply in sf->pkt; keeps its message. */
int sshc_sftp_status_of(struct sshc_sftp *sf)
{
	if (sf->pkt_len < 9)
		return 4;
	int code = (int)sshc_get_u32(sf->pkt + 5);
	if (code != FX_OK && sf->pkt_len >= 13) {
		uint32_t mlen = sshc_get_u32(sf->pkt + 9);
		if (mlen <= sf->pkt_len - 13)
			snprintf(sf->status_msg, sizeof sf->status_msg, "%.*s", (int)mlen,
				 (const char *)sf->pkt + 13);
		sf->status_code = code;
	}
	return code;
}

/* One request, its reply in sf->pkt. Replies to requests an earlier,
 * failed operation left unanswered are skipped. */
static int sftp_call(struct sshc_sftp *sf, struct fxbuf *f, struct err *e)
{
	uint32_t id = sshc_get_u32(f->b + 5);
	if (sftp_send(sf, f, e) != 0)
		return -1;
	do {
		if (sshc_sftp_next(sf, e) != 0)
			return -1;
	} while (sf->pkt_len < 5 || sshc_get_u32(sf->pkt + 1) != id);
	return 0;
}

/* The server's text for a failing status, else a generic one. */
const char *sshc_sftp_status_text(const struct sshc_sftp *sf, int code)
{
	if (sf->status_msg[0])
		return sf->status_msg;
	switch (code) {
	case FX_NO_SUCH_FILE: return "No such file";
	case FX_PERMISSION_DENIED: return "Permission denied";
	default: return "Failure";
	}
}

/* Skip an SFTP string at *pos; -1 when the packet is too short. */
static int skip_string(const struct sshc_sftp *sf, size_t *pos)
{
	if (*pos + 4 > sf->pkt_len)
		return -1;
	uint32_t n = sshc_get_u32(sf->pkt + *pos);
	if (n > sf->pkt_len - *pos - 4)
		return -1;
	*pos += 4 + (size_t)n;
	return 0;
}

/* Parse SFTP v3 ATTRS at *pos, advancing past them. */
int sshc_sftp_parse_attrs(const struct sshc_sftp *sf, size_t *pos, struct sshc_attrs *a)
{
	const unsigned char *p = sf->pkt;
	size_t len = sf->pkt_len;
	memset(a, 0, sizeof *a);
	if (*pos + 4 > len)
		return -1;
	uint32_t flags = sshc_get_u32(p + *pos);
	*pos += 4;
	if (flags & ATTR_SIZE) {
		if (*pos + 8 > len)
			return -1;
		a->size = get_u64(p + *pos);
		*pos += 8;
	}
	if (flags & ATTR_UIDGID) {
		if (*pos + 8 > len)
			return -1;
		*pos += 8;
	}
	if (flags & ATTR_PERMS) {
		if (*pos + 4 > len)
			return -1;
		a->mode = sshc_get_u32(p + *pos);
		a->is_dir = (a->mode & S_IFMT) == S_IFDIR;
		a->is_reg = (a->mode & S_IFMT) == S_IFREG;
		*pos += 4;
	}
	if (flags & ATTR_TIME) {
		if (*pos + 8 > len)
			return -1;
		a->mtime = (int64_t)sshc_get_u32(p + *pos + 4);
		*pos += 8;
	}
	if (flags & ATTR_EXTENDED) {
		if (*pos + 4 > len)
			return -1;
		uint32_t count = sshc_get_u32(p + *pos);
		*pos += 4;
		for (uint32_t i = 0; i < count; i++)
			if (skip_string(sf, pos) != 0 || skip_string(sf, pos) != 0)
				return -1;
	}
	return 0;
}

/* stat path: 0 with *a, 1 when missing, -1 on errors. */
int sshc_sftp_stat_path(struct sshc_sftp *sf, const char *path, struct sshc_attrs *a,
			struct err *e)
{
	struct fxbuf f;
	uint32_t id = sf->next_id++;
	fx_start(&f, FXP_STAT);
	fx_u32(&f, id);
	fx_str(&f, path, strlen(path));
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	if (sf->pkt[0] == FXP_STATUS) {
		int code = sshc_sftp_status_of(sf);
		if (code == FX_NO_SUCH_FILE)
			return 1;
		return err_set(e, ERR_SSH, "cannot look at %s on %s: %s", path, sf->c->target,
			       sshc_sftp_status_text(sf, code));
	}
	size_t pos = 5;
	if (sf->pkt[0] != FXP_ATTRS || sf->pkt_len < 9 || sshc_sftp_parse_attrs(sf, &pos, a) != 0)
		return err_set(e, ERR_SSH, "the sftp server on %s sent an unexpected reply",
			       sf->c->target);
	return 0;
}

/* mkdir path (0700); an existing directory is fine. */
static int sftp_mkdir(struct sshc_sftp *sf, const char *path, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_MKDIR);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, path, strlen(path));
	fx_u32(&f, ATTR_PERMS);
	fx_u32(&f, 0700);
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	int code = sf->pkt[0] == FXP_STATUS ? sshc_sftp_status_of(sf) : 4;
	if (code == FX_OK)
		return 0;
	/* Someone else made it meanwhile? */
	struct sshc_attrs a;
	if (sshc_sftp_stat_path(sf, path, &a, e) == 0 && a.is_dir)
		return 0;
	return err_set(e, ERR_SSH, "cannot create the directory %s on %s: %s", path,
		       sf->c->target, sshc_sftp_status_text(sf, code));
}

/* mkdir -p dir, 0700 for the directories it makes. */
int sshc_sftp_mkdirs(struct sshc_sftp *sf, const char *dir, struct err *e)
{
	struct sshc_attrs a;
	int r = sshc_sftp_stat_path(sf, dir, &a, e);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (!a.is_dir)
			return err_set(e, ERR_SSH, "%s on %s is not a directory", dir, sf->c->target);
		return 0;
	}
	char *parent = sshc_remote_dirname(dir);
	bool top = strcmp(parent, dir) == 0 || strcmp(parent, ".") == 0 || strcmp(parent, "/") == 0;
	int rc = top ? 0 : sshc_sftp_mkdirs(sf, parent, e);
	free(parent);
	return rc == 0 ? sftp_mkdir(sf, dir, e) : -1;
}

/* Take the handle of a HANDLE reply; -1 when it is not one. */
static int take_handle(struct sshc_sftp *sf)
{
	if (sf->pkt[0] != FXP_HANDLE || sf->pkt_len < 9)
		return -1;
	uint32_t hl = sshc_get_u32(sf->pkt + 5);
	if (hl > sizeof sf->handle || 9 + (size_t)hl > sf->pkt_len)
		return -1;
	memcpy(sf->handle, sf->pkt + 9, hl);
	sf->handle_len = hl;
	return 0;
}

/* Open path with SFTP flags; the handle goes to sf->handle. */
int sshc_sftp_open_file(struct sshc_sftp *sf, const char *path, uint32_t flags, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_OPEN);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, path, strlen(path));
	fx_u32(&f, flags);
	fx_u32(&f, ATTR_PERMS);
	fx_u32(&f, 0600);
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	if (take_handle(sf) == 0)
		return 0;
	int code = sf->pkt[0] == FXP_STATUS ? sshc_sftp_status_of(sf) : 4;
	return err_set(e, ERR_SSH, "cannot %s %s on %s: %s", flags & FXF_WRITE ? "write" : "read",
		       path, sf->c->target, sshc_sftp_status_text(sf, code));
}

/* Open the directory path for reading; 1 when it does not exist. */
int sshc_sftp_open_dir(struct sshc_sftp *sf, const char *path, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_OPENDIR);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, path, strlen(path));
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	if (take_handle(sf) == 0)
		return 0;
	int code = sf->pkt[0] == FXP_STATUS ? sshc_sftp_status_of(sf) : 4;
	if (code == FX_NO_SUCH_FILE)
		return 1;
	return err_set(e, ERR_SSH, "cannot list %s on %s: %s", path, sf->c->target,
		       sshc_sftp_status_text(sf, code));
}

/* Ask for the next batch of names of the open directory (reply in pkt). */
int sshc_sftp_read_dir(struct sshc_sftp *sf, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_READDIR);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, sf->handle, sf->handle_len);
	return sftp_call(sf, &f, e);
}

/* Remove path: 0, 1 when it did not exist, -1 on errors. */
int sshc_sftp_remove_path(struct sshc_sftp *sf, const char *path, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_REMOVE);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, path, strlen(path));
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	int code = sf->pkt[0] == FXP_STATUS ? sshc_sftp_status_of(sf) : 4;
	if (code == FX_OK)
		return 0;
	if (code == FX_NO_SUCH_FILE)
		return 1;
	return err_set(e, ERR_SSH, "cannot remove %s on %s: %s", path, sf->c->target,
		       sshc_sftp_status_text(sf, code));
}

/* Send a read of n bytes at off on the open handle as request id. */
int sshc_sftp_send_read(struct sshc_sftp *sf, uint32_t id, uint64_t off, uint32_t n,
			struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_READ);
	fx_u32(&f, id);
	fx_str(&f, sf->handle, sf->handle_len);
	fx_u32(&f, (uint32_t)(off >> 32));
	fx_u32(&f, (uint32_t)off);
	fx_u32(&f, n);
	return sftp_send(sf, &f, e);
}

/* Close the open handle; errors name path. */
int sshc_sftp_close_handle(struct sshc_sftp *sf, const char *path, struct err *e)
{
	struct fxbuf f;
	fx_start(&f, FXP_CLOSE);
	fx_u32(&f, sf->next_id++);
	fx_str(&f, sf->handle, sf->handle_len);
	if (sftp_call(sf, &f, e) != 0)
		return -1;
	int code = sf->pkt[0] == FXP_STATUS ? sshc_sftp_status_of(sf) : 4;
	if (code != FX_OK)
		return err_set(e, ERR_SSH, "cannot write %s on %s: %s", path, sf->c->target,
			       sshc_sftp_status_text(sf, code));
	return 0;
}

/* Bytes of a write request before its data on the open handle. */
size_t sshc_sftp_write_hdr(const struct sshc_sftp *sf)
{
	return 4 + 1 + 4 + 4 + sf->handle_len + 8 + 4;
}

/* Build a write request's header at p and queue it as outstanding. */
void sshc_sftp_queue_write(struct sshc_sftp *sf, unsigned char *p, uint64_t off, size_t n,
			   size_t nth)
{
	size_t hdr = sshc_sftp_write_hdr(sf);
	uint32_t id = sf->next_id++;
	sshc_put_u32(p, (uint32_t)(hdr - 4 + n));
	p[4] = FXP_WRITE;
	sshc_put_u32(p + 5, id);
	sshc_put_u32(p + 9, (uint32_t)sf->handle_len);
	memcpy(p + 13, sf->handle, sf->handle_len);
	unsigned char *q = p + 13 + sf->handle_len;
	sshc_put_u32(q, (uint32_t)(off >> 32));
	sshc_put_u32(q + 4, (uint32_t)off);
	sshc_put_u32(q + 8, (uint32_t)n);
	size_t k = (sf->out_head + sf->out_n + nth) % SFTP_MAX_OUTSTANDING;
	sf->out[k] = (struct sshc_fx_out){.id = id, .off = off, .end = off + n};
}

/* Mark the write request id answered, and move `confirmed` past the
 * answered prefix of the queue. -1 when no such request is waiting. */
static int write_answered(struct sshc_sftp *sf, uint32_t id)
{
	bool found = false;
	for (size_t i = 0; i < sf->out_n && !found; i++) {
		size_t k = (sf->out_head + i) % SFTP_MAX_OUTSTANDING;
		if (sf->out[k].id == id && !sf->out[k].done) {
			sf->out[k].done = true;
			found = true;
		}
	}
	if (!found)
		return -1;
	while (sf->out_n > 0 && sf->out[sf->out_head].done) {
		sf->confirmed = sf->out[sf->out_head].end;
		sf->out_head = (sf->out_head + 1) % SFTP_MAX_OUTSTANDING;
		sf->out_n--;
	}
	return 0;
}

/* Take write replies that are there (or wait for one when block). */
int sshc_sftp_collect(struct sshc_sftp *sf, bool block, const char *path, struct err *e)
{
	if (block) {
		if (sshc_sftp_next(sf, e) != 0)
			return -1;
	} else {
		int r = sshc_sftp_poll(sf, 0, e);
		if (r <= 0)
			return r;
	}
	do {
		if (sf->pkt[0] != FXP_STATUS || sf->pkt_len < 9)
			return err_set(e, ERR_SSH, "the sftp server on %s sent an unexpected reply",
				       sf->c->target);
		uint32_t id = sshc_get_u32(sf->pkt + 1);
		int code = sshc_sftp_status_of(sf);
		if (code != FX_OK)
			return err_set(e, ERR_SSH, "cannot write %s on %s: %s", path,
				       sf->c->target, sshc_sftp_status_text(sf, code));
		if (write_answered(sf, id) != 0)
			return err_set(e, ERR_SSH, "the sftp server on %s answered a request never made",
				       sf->c->target);
		int r = sshc_sftp_poll(sf, 0, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	} while (true);
}

/* Start the sftp subsystem on a new channel; 1 = the server has none. */
int sshc_sftp_begin(struct sshc_sftp *sf, sshc_conn *c, struct err *e)
{
	sf->c = c;
	sf->next_id = sf->next_id ? sf->next_id : 1;
	if (!sf->doing)
		sf->doing = "sftp session with";
	sf->ch = ssh_channel_new(c->s);
	if (!sf->ch)
		return err_set(e, ERR_SSH, "cannot open a channel to %s: %s", c->target,
			       ssh_get_error(c->s));
	if (ssh_channel_open_session(sf->ch) != SSH_OK)
		return err_set(e, ERR_SSH, "cannot open a session channel to %s: %s",
			       c->target, ssh_get_error(c->s));
	if (ssh_channel_request_subsystem(sf->ch, "sftp") != SSH_OK)
		return 1;
	struct fxbuf f;
	fx_start(&f, FXP_INIT);
	fx_u32(&f, 3);
	if (sftp_send(sf, &f, e) != 0 || sshc_sftp_next(sf, e) != 0)
		return -1;
	if (sf->pkt[0] != FXP_VERSION)
		return err_set(e, ERR_SSH, "the sftp server on %s did not start", c->target);
	return 0;
}

/* Close the channel and free the buffers. */
void sshc_sftp_end(struct sshc_sftp *sf)
{
	if (sf->ch) {
		if (!ssh_channel_is_closed(sf->ch))
			ssh_channel_close(sf->ch);
		ssh_channel_free(sf->ch);
		sf->ch = NULL;
	}
	free(sf->in);
	free(sf->batch);
	sf->in = NULL;
	sf->batch = NULL;
}

/* The directory of a remote path ("." or "/" at the top); caller frees. */
char *sshc_remote_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}
