/* upload_sftp — the upload's data over the server's sftp subsystem: no
 * shell, the server writes the file itself; pipelined 128 KiB writes,
 * batched into 1 MiB channel writes, while VERIFY (upload.c) hashes what
 * the server has confirmed written. */
#include "ssh_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "fault.h"
#include "util.h"

#define HASH_AHEAD_MIB 32          /* VERIFY gets "hash" lines this often */
#define SFTP_DATA (128 * 1024)     /* data in one SFTP write (< 256 KiB!) */
#define SFTP_BATCH 8               /* SFTP writes per channel write */

/* Tell VERIFY to hash what the server has confirmed, in whole MiB steps. */
static int feed_remote_hash(struct sshc_upload *u, struct sshc_chan_run *verify,
			    uint64_t confirmed, struct err *e)
{
	uint64_t mib = confirmed / MIB;
	if (mib <= u->remote_hash_mib || mib - u->remote_hash_mib < HASH_AHEAD_MIB)
		return 0;
	char line[96];
	snprintf(line, sizeof line, "hash %llu %llu\n", (unsigned long long)u->remote_hash_mib,
		 (unsigned long long)(mib - u->remote_hash_mib));
	u->remote_hash_mib = mib;
	return sshc_upload_say(u, verify, line, e);
}

/* Build up to SFTP_BATCH write requests in sf->batch; returns how many,
 * their bytes in *bytes, or -1 when the file cannot be read. */
static int build_batch(struct sshc_sftp *sf, struct sshc_upload *u, size_t *bytes,
		       struct err *e)
{
	const size_t hdr = sshc_sftp_write_hdr(sf);
	size_t nreq = 0;
	*bytes = 0;
	while (nreq < SFTP_BATCH && u->off < u->size && sf->out_n + nreq < SFTP_MAX_OUTSTANDING) {
		unsigned char *p = (unsigned char *)sf->batch + *bytes;
		size_t n = u->size - u->off > SFTP_DATA ? SFTP_DATA : (size_t)(u->size - u->off);
		if (sshc_upload_read_at(u, (char *)p + hdr, n, u->off, e) != 0)
			return -1;
		sshc_upload_hash_sent(u, (char *)p + hdr, n, u->off);
		sshc_sftp_queue_write(sf, p, u->off, n, nreq);
		u->off += n;
		*bytes += hdr + n;
		nreq++;
	}
	return (int)nreq;
}

/* Send the bytes [u->off, size) as pipelined writes. */
static int send_data(struct sshc_sftp *sf, struct sshc_upload *u, struct sshc_chan_run *verify,
		     const char *path, struct err *e)
{
	const size_t hdr = sshc_sftp_write_hdr(sf);
	sf->confirmed = u->off;
	while (u->off < u->size || sf->out_n > 0) {
		if (u->o->cancel && *u->o->cancel)
			return err_set(e, ERR_INTERRUPTED, "interrupted: upload to %s stopped",
				       u->c->target);
		if (fault_kill_after(u->sent))
			raise(SIGKILL);
		size_t bytes = 0;
		int nreq = build_batch(sf, u, &bytes, e);
		if (nreq < 0)
			return -1;
		if (nreq > 0) {
			if (ssh_channel_write(sf->ch, sf->batch, (uint32_t)bytes) != (int)bytes)
				return err_set(e, ERR_SSH, "connection to %s lost: %s", u->c->target,
					       ssh_get_error(u->c->s));
			sf->out_n += (size_t)nreq;
			u->sent += bytes - (size_t)nreq * hdr;
			event_progress(u->o->events, u->step, u->off, u->size);
		}
		/* Answers: take what is there; wait when we may not send more. */
		bool must_wait = nreq == 0 || sf->out_n >= SFTP_MAX_OUTSTANDING;
		if (sf->out_n > 0 && sshc_sftp_collect(sf, must_wait, path, e) != 0)
			return -1;
		if (feed_remote_hash(u, verify, sf->confirmed, e) != 0)
			return -1;
	}
	return 0;
}

/* Where PART stands: its size in *have (0 when missing); -1 when it is a
 * directory or cannot be looked at. */
static int part_size(struct sshc_sftp *sf, struct sshc_upload *u, const char *part,
		     uint64_t *have, struct err *e)
{
	struct sshc_attrs a;
	int r = sshc_sftp_stat_path(sf, part, &a, e);
	*have = 0;
	if (r < 0)
		return -1;
	if (r == 1)
		return 0;
	if (a.is_dir)
		return err_set(e, ERR_SSH, "%s on %s is a directory", part, u->c->target);
	*have = a.size;
	return 0;
}

/* The data over SFTP; 1 when the server has no sftp subsystem. */
int sshc_upload_sftp(struct sshc_upload *u, struct sshc_chan_run *verify, const char *dir,
		     const char *part, struct err *e)
{
	struct sshc_sftp *sf = xcalloc(1, sizeof *sf);
	sf->cancel = u->o->cancel;
	sf->doing = "upload to";
	int rc = sshc_sftp_begin(sf, u->c, e);
	if (rc == 0)
		rc = sshc_sftp_mkdirs(sf, dir, e);
	uint64_t have = 0;
	if (rc == 0)
		rc = part_size(sf, u, part, &have, e);
	if (rc == 0) {
		u->via_sftp = true;
		sshc_upload_decide_resume(u, have);
		if (sshc_upload_resume_candidate(u))
			rc = sshc_upload_check_prefix(u, verify, part, e);
	}
	if (rc == 0)
		rc = sshc_sftp_open_file(sf, part, FXF_WRITE | FXF_CREAT | (u->append ? 0 : FXF_TRUNC), e);
	if (rc == 0) {
		event_progress(u->o->events, u->step, u->off, u->size);
		sf->batch = xmalloc(SFTP_BATCH * (sshc_sftp_write_hdr(sf) + SFTP_DATA));
		rc = send_data(sf, u, verify, part, e);
		if (rc == 0)
			rc = sshc_sftp_close_handle(sf, part, e);
	}
	sshc_sftp_end(sf);
	free(sf);
	return rc;
}
