/* s3_multipart — a large file as an S3 multipart upload, resumable.
 *
 * CreateMultipartUpload carries x-amz-meta-sha256 (the whole file's hash);
 * the parts (part_size bytes each, the last shorter) go up `parallel` at a
 * time, each signed with its own SHA-256; after each finished part the
 * local checkpoint (<state_dir>/<name>.s3upload: the upload id, the file's
 * size, mtime and hash, the finished parts and their ETags) is replaced
 * atomically. A put of the same file that finds a matching checkpoint sends
 * only the parts it does not list. CompleteMultipartUpload, then a
 * HeadObject that checks the size and the stored hash.
 *
 * A failure ferry sees (refused, unreachable after retries, a part that
 * does not verify) aborts the upload (AbortMultipartUpload) and removes
 * the checkpoint: no parts are left behind. An interrupt (Ctrl-C) keeps
 * both, so the same put resumes; so does a crash, by construction. */
#include "s3_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "fsx.h"
#include "hash.h"
#include "util.h"

struct part {
	uint64_t off, len;
	char etag[128];
	bool done;
};

struct mp {
	storage *s;
	const struct s3_store *st;
	const struct storage_put_opts *o;
	char *key;
	char *ckpt;                 /* the checkpoint's path */
	int fd;
	uint64_t size;
	int64_t mtime;
	char sha256[HASH_HEX_SIZE];
	char *upload_id;
	struct part *parts;
	size_t nparts;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t next;                /* the next part a worker looks at */
	int running;
	bool failed, gone;
	struct err err;
	uint64_t moved;             /* bytes handed to the network this run */
	unsigned sent_parts;
	volatile sig_atomic_t stop; /* a worker failed: the others stop */
};

/* ---- the checkpoint ------------------------------------------------------- */

/* Write the checkpoint (called with mu held). */
static void save_checkpoint(struct mp *m)
{
	json_t *parts = json_array();
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].done)
			json_array_append_new(parts, json_pack("{s:I, s:s}", "n", (json_int_t)(i + 1),
							       "etag", m->parts[i].etag));
	json_t *o = json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:s, s:o}", "version", 1, "key", m->key,
			      "upload_id", m->upload_id, "size", (json_int_t)m->size,
			      "mtime", (json_int_t)m->mtime, "part_size", (json_int_t)m->st->part_size,
			      "sha256", m->sha256, "parts", parts);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	struct err ignore = {0};
	if (fsx_mkdir_p(m->st->state_dir, 0700, &ignore) == 0)
		fsx_write_atomic(m->ckpt, text, strlen(text), 0600, &ignore);
	free(text);
}

/* Take the finished parts of a checkpoint that matches this very file. */
static bool load_checkpoint(struct mp *m)
{
	size_t len = 0;
	struct err ignore = {0};
	char *text = fsx_read_file(m->ckpt, 1u << 20, &len, &ignore);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	const char *key = json_string_value(json_object_get(o, "key"));
	const char *id = json_string_value(json_object_get(o, "upload_id"));
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	bool ok = key && id && sha && strcmp(key, m->key) == 0 && strcmp(sha, m->sha256) == 0 &&
		  (uint64_t)json_integer_value(json_object_get(o, "size")) == m->size &&
		  json_integer_value(json_object_get(o, "mtime")) == m->mtime &&
		  (uint64_t)json_integer_value(json_object_get(o, "part_size")) == m->st->part_size;
	if (ok) {
		m->upload_id = xstrdup(id);
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(o, "parts"), i, p) {
			json_int_t n = json_integer_value(json_object_get(p, "n"));
			const char *etag = json_string_value(json_object_get(p, "etag"));
			if (n >= 1 && (size_t)n <= m->nparts && etag) {
				m->parts[n - 1].done = true;
				snprintf(m->parts[n - 1].etag, sizeof m->parts[n - 1].etag, "%s", etag);
			}
		}
	}
	json_decref(o);
	return ok;
}

/* ---- the requests --------------------------------------------------------- */

/* CreateMultipartUpload with the file's hash as metadata. */
static int initiate(struct mp *m, struct err *e)
{
	char *meta = xasprintf("x-amz-meta-sha256: %s", m->sha256);
	const char *hdr[] = {meta, "Content-Type: application/octet-stream", NULL};
	struct s3_call c = {.method = "POST", .key = m->key, .query = "uploads=", .headers = hdr,
			    .cancel = m->o->cancel};
	struct http_response rs;
	int rc = s3_request(m->s, &c, &rs, e);
	if (rc == 1)
		rc = err_set(e, ERR_OFFSITE, "%s: no such bucket", m->s->desc);
	if (rc == 0) {
		m->upload_id = s3_xml_tag(rs.body.data ? rs.body.data : "", "UploadId", NULL);
		if (!m->upload_id)
			rc = err_set(e, ERR_OFFSITE, "%s: CreateMultipartUpload answered without an UploadId",
				     m->s->desc);
	}
	http_response_done(&rs);
	free(meta);
	return rc;
}

/* AbortMultipartUpload, best effort; the checkpoint goes too. */
static void abort_upload(struct mp *m)
{
	if (m->upload_id) {
		char *eid = s3_encode(m->upload_id, false);
		char *query = xasprintf("uploadId=%s", eid);
		struct s3_call c = {.method = "DELETE", .key = m->key, .query = query};
		struct http_response rs;
		struct err ignore = {0};
		if (s3_request(m->s, &c, &rs, &ignore) < 0)
			event_log(m->o->events, EV_WARN, "could not abort the multipart upload of %s: %s",
				  m->key, ignore.msg);
		http_response_done(&rs);
		free(query);
		free(eid);
	}
	unlink(m->ckpt);
}

/* SHA-256 of the part's bytes (the request's payload hash). */
static int hash_part(const struct mp *m, const struct part *p, char hex[HASH_HEX_SIZE], struct err *e)
{
	struct hash_ctx h = {0};
	if (hash_init(&h, e) < 0)
		return -1;
	size_t bufsize = 1u << 20;
	char *buf = xmalloc(bufsize);
	int rc = 0;
	for (uint64_t done = 0; done < p->len;) {
		size_t want = p->len - done < bufsize ? (size_t)(p->len - done) : bufsize;
		ssize_t n = pread(m->fd, buf, want, (off_t)(p->off + done));
		if (n <= 0) {
			rc = err_set(e, ERR_FAILED, "cannot read the file for %s: %s", m->key,
				     n < 0 ? strerror(errno) : "it is shorter than it was");
			break;
		}
		hash_update(&h, buf, (size_t)n);
		done += (uint64_t)n;
	}
	free(buf);
	hash_final(&h, hex);
	hash_done(&h);
	return rc;
}

static void count_bytes(void *ud, uint64_t n)
{
	struct mp *m = ud;
	pthread_mutex_lock(&m->mu);
	m->moved += n;
	pthread_mutex_unlock(&m->mu);
}

/* UploadPart, retried twice when there was no answer or a 5xx: 0, 1 when
 * the upload is gone (NoSuchUpload), -1. */
static int send_part(struct mp *m, size_t i, struct err *e)
{
	struct part *p = &m->parts[i];
	char sha[HASH_HEX_SIZE];
	if (hash_part(m, p, sha, e) < 0)
		return -1;
	char *eid = s3_encode(m->upload_id, false);
	char *query = xasprintf("partNumber=%zu&uploadId=%s", i + 1, eid);
	int rc = -1;
	for (int attempt = 1; attempt <= 3; attempt++) {
		struct s3_call c = {.method = "PUT", .key = m->key, .query = query, .body_from_fd = true,
				    .body_fd = m->fd, .body_offset = p->off, .fd_len = p->len,
				    .body_sha256 = sha, .on_bytes = count_bytes, .ud = m,
				    .cancel = m->o->cancel ? m->o->cancel : &m->stop};
		struct http_response rs;
		rc = s3_request(m->s, &c, &rs, e);
		const char *etag = rc == 0 ? http_response_header(&rs, "etag") : NULL;
		if (rc == 0 && etag)
			snprintf(p->etag, sizeof p->etag, "%s", etag);
		else if (rc == 0)
			rc = err_set(e, ERR_OFFSITE, "%s: part %zu of %s was answered without an ETag",
				     m->s->desc, i + 1, m->key);
		bool retry = rc < 0 && e->kind == ERR_OFFSITE && (rs.status == 0 || rs.status >= 500) &&
			     !m->stop && !(m->o->cancel && *m->o->cancel);
		http_response_done(&rs);
		if (!retry)
			break;
	}
	free(query);
	free(eid);
	return rc;
}

/* A test seam's failure after part i, as a refused part would fail the upload. */
static void fail_injected(struct mp *m, size_t i)
{
	pthread_mutex_lock(&m->mu);
	if (!m->failed) {
		m->failed = true;
		err_set(&m->err, ERR_OFFSITE, "%s: after part %zu: failure injected by FERRY_FAULT",
			m->s->desc, i + 1);
		m->stop = 1;
	}
	pthread_mutex_unlock(&m->mu);
}

/* A worker: parts not done yet, one after another, until none is left or
 * another worker failed. */
static void *worker(void *arg)
{
	struct mp *m = arg;
	for (;;) {
		pthread_mutex_lock(&m->mu);
		while (m->next < m->nparts && m->parts[m->next].done)
			m->next++;
		size_t i = m->next++;
		bool go = i < m->nparts && !m->failed;
		pthread_mutex_unlock(&m->mu);
		if (!go)
			break;
		struct err e = {0};
		int rc = send_part(m, i, &e);
		pthread_mutex_lock(&m->mu);
		if (rc == 0) {
			m->parts[i].done = true;
			m->sent_parts++;
			save_checkpoint(m);
		} else if (!m->failed) {
			m->failed = true;
			m->gone = rc == 1;
			m->err = e;
			m->stop = 1;
		}
		pthread_mutex_unlock(&m->mu);
		if (rc == 0 && fault_point("offsite.s3.part") < 0)
			fail_injected(m, i);
	}
	pthread_mutex_lock(&m->mu);
	m->running--;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* The parts in flight, progress shown from this thread until all are done. */
static int send_parts(struct mp *m, uint64_t resumed, struct err *e)
{
	size_t todo = 0;
	for (size_t i = 0; i < m->nparts; i++)
		todo += !m->parts[i].done;
	int nthreads = m->st->parallel < (int)todo ? m->st->parallel : (int)todo;
	pthread_t *th = xcalloc((size_t)nthreads + 1, sizeof *th);
	m->next = 0;
	m->running = nthreads;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, m);
	const char *step = m->o->step ? m->o->step : "put";
	pthread_mutex_lock(&m->mu);
	while (m->running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&m->cv, &m->mu, &ts);
		uint64_t at = resumed + m->moved;
		pthread_mutex_unlock(&m->mu);
		event_progress(m->o->events, step, at < m->size ? at : m->size, m->size);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	if (!m->failed)
		return 0;
	*e = m->err;
	return m->gone ? 1 : -1;
}

/* CompleteMultipartUpload with every part's ETag, then HeadObject. */
static int complete(struct mp *m, struct err *e)
{
	struct sbuf x = {0};
	sbuf_adds(&x, "<CompleteMultipartUpload>");
	for (size_t i = 0; i < m->nparts; i++)
		sbuf_addf(&x, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
			  m->parts[i].etag);
	sbuf_adds(&x, "</CompleteMultipartUpload>");
	char *eid = s3_encode(m->upload_id, false);
	char *query = xasprintf("uploadId=%s", eid);
	const char *hdr[] = {"Content-Type: application/xml", NULL};
	struct s3_call c = {.method = "POST", .key = m->key, .query = query, .headers = hdr,
			    .body = x.data, .body_len = x.len, .cancel = m->o->cancel};
	struct http_response rs;
	int rc = s3_request(m->s, &c, &rs, e);
	/* S3 may answer 200 and put the error in the body. */
	if (rc == 0 && rs.body.data && strstr(rs.body.data, "<Error>")) {
		char *code = s3_xml_tag(rs.body.data, "Code", NULL);
		rc = err_set(e, ERR_OFFSITE, "%s: completing the upload of %s failed: %s", m->s->desc,
			     m->key, code ? code : "an error");
		free(code);
	}
	http_response_done(&rs);
	free(query);
	free(eid);
	sbuf_done(&x);
	if (rc != 0)
		return rc;
	c = (struct s3_call){.method = "HEAD", .key = m->key};
	rc = s3_request(m->s, &c, &rs, e);
	const char *len = rc == 0 ? http_response_header(&rs, "content-length") : NULL;
	const char *stored = rc == 0 ? http_response_header(&rs, "x-amz-meta-sha256") : NULL;
	if (rc == 0 && (!len || strtoull(len, NULL, 10) != m->size || !stored ||
			strcmp(stored, m->sha256) != 0))
		rc = err_set(e, ERR_VERIFY, "%s: %s after the upload has size %s and sha256 %s; "
			     "expected %llu and %s", m->s->desc, m->key, len ? len : "?",
			     stored ? stored : "none", (unsigned long long)m->size, m->sha256);
	else if (rc == 1)
		rc = err_set(e, ERR_OFFSITE, "%s: %s is missing right after its upload completed",
			     m->s->desc, m->key);
	http_response_done(&rs);
	if (rc < 0 && e->kind == ERR_VERIFY) {   /* a wrong copy is not left under the name */
		struct err ignore = {0};
		c = (struct s3_call){.method = "DELETE", .key = m->key};
		s3_request(m->s, &c, &rs, &ignore);
		http_response_done(&rs);
	}
	return rc;
}

/* ---- the upload ------------------------------------------------------------ */

/* The file opened, hashed and cut into parts. */
static int mp_open(struct mp *m, const char *local_path, struct err *e)
{
	m->fd = open(local_path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (m->fd < 0 || fstat(m->fd, &sb) != 0)
		return err_set(e, ERR_FAILED, "cannot open %s: %s", local_path, strerror(errno));
	m->size = (uint64_t)sb.st_size;
	m->mtime = (int64_t)sb.st_mtime;
	if (hash_file_cancellable(local_path, m->sha256, NULL, m->o->cancel, e) < 0)
		return -1;
	m->nparts = (size_t)((m->size + m->st->part_size - 1) / m->st->part_size);
	m->parts = xcalloc(m->nparts, sizeof *m->parts);
	for (size_t i = 0; i < m->nparts; i++) {
		m->parts[i].off = (uint64_t)i * m->st->part_size;
		m->parts[i].len = m->size - m->parts[i].off < m->st->part_size ? m->size - m->parts[i].off
									  : m->st->part_size;
	}
	return 0;
}

/* Bytes in the parts finished before this run. */
static uint64_t bytes_done(const struct mp *m, unsigned *nparts)
{
	uint64_t b = 0;
	*nparts = 0;
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].done) {
			b += m->parts[i].len;
			(*nparts)++;
		}
	return b;
}

/* Resume from the checkpoint, or start a new upload; send; complete. */
static int upload(struct mp *m, struct storage_put_result *r, struct err *e)
{
	for (int round = 0; round < 2; round++) {
		bool resumed = load_checkpoint(m);
		if (resumed)
			event_log(m->o->events, EV_INFO, "resuming the upload of %s: %u of %zu parts are there",
				  m->key, (bytes_done(m, &r->parts_resumed), r->parts_resumed), m->nparts);
		else if (initiate(m, e) < 0)
			return -1;
		r->resumed_from = bytes_done(m, &r->parts_resumed);
		pthread_mutex_lock(&m->mu);
		save_checkpoint(m);
		pthread_mutex_unlock(&m->mu);
		int rc = send_parts(m, r->resumed_from, e);
		r->sent = m->moved;
		r->parts_sent = m->sent_parts;
		if (rc == 1 && resumed && round == 0) {
			event_log(m->o->events, EV_WARN, "the upload of %s in the checkpoint is gone; "
				  "starting it again", m->key);
			unlink(m->ckpt);
			free(m->upload_id);
			m->upload_id = NULL;
			for (size_t i = 0; i < m->nparts; i++)
				m->parts[i].done = false;
			m->failed = m->gone = false;
			m->stop = 0;
			continue;
		}
		if (rc != 0)
			return -1;
		return complete(m, e);
	}
	return -1;
}

int s3_multipart_put(storage *s, const char *local_path, const char *name,
		     const struct storage_put_opts *o, struct storage_put_result *r, struct err *e)
{
	double t0 = util_now();
	struct mp m = {.s = s, .st = s->priv, .o = o, .fd = -1};
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	m.key = s3_key(m.st, name);
	m.ckpt = xasprintf("%s/%s.s3upload", m.st->state_dir, name);
	int rc = mp_open(&m, local_path, e);
	if (rc == 0) {
		memcpy(r->sha256, m.sha256, sizeof r->sha256);
		r->bytes = m.size;
		r->parts = (unsigned)m.nparts;
		rc = upload(&m, r, e);
		if (rc == 0)
			unlink(m.ckpt);
		else if (e->kind == ERR_INTERRUPTED)
			err_hint(e, "run the same push again: it resumes after the parts that finished");
		else
			abort_upload(&m);
	}
	if (m.fd >= 0)
		close(m.fd);
	free(m.parts);
	free(m.upload_id);
	free(m.ckpt);
	free(m.key);
	pthread_mutex_destroy(&m.mu);
	pthread_cond_destroy(&m.cv);
	r->seconds = util_now() - t0;
	return rc;
}
