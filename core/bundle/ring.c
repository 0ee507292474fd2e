/* bundle/ring — a large member's content on two threads.
 *
 * Decompressing, hashing and writing one stream take about the same time
 * each; on two cores a large member goes faster when the reading thread
 * only decompresses and a worker hashes and writes. The buffers go round a
 * small ring, so memory stays at RING_SLOTS buffers whatever the size. */
#include "bundle/bundle_int.h"

#include <pthread.h>
#include <stdlib.h>

#include "util.h"

#define RING_SLOTS 3

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t filled, drained;
	unsigned char *buf[RING_SLOTS];
	size_t len[RING_SLOTS];
	size_t head, count;      /* next slot to fill; slots full */
	bool eof;                /* the reader is done (or stopped) */
	bool failed;             /* the worker hit an error: stop reading */
	/* worker side */
	struct bundle_pass *p;
	const char *member;
	bool to_disk;
	struct hash_ctx *h;
	uint64_t total;
	struct err err;
};

/* The worker: hash and write each full slot, in order. */
static void *ring_worker(void *arg)
{
	struct ring *r = arg;
	size_t tail = 0;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->count == 0 && !r->eof)
			pthread_cond_wait(&r->filled, &r->mu);
		bool done = r->count == 0;
		pthread_mutex_unlock(&r->mu);
		if (done)
			return NULL;
		hash_update(r->h, r->buf[tail], r->len[tail]);
		r->total += r->len[tail];
		int rc = r->to_disk ? bundle_disk_write(r->p, r->member, r->buf[tail], r->len[tail], &r->err) : 0;
		if (rc == 0 && r->p->streaming)
			rc = r->p->content(r->p->ud, r->buf[tail], r->len[tail], &r->err) < 0 ? -1 : 0;
		pthread_mutex_lock(&r->mu);
		r->count--;
		r->failed = rc < 0;
		pthread_cond_signal(&r->drained);
		pthread_mutex_unlock(&r->mu);
		if (rc < 0)
			return NULL;
		tail = (tail + 1) % RING_SLOTS;
	}
}

/* The reader: decompress into free slots until the member ends. */
static int ring_fill(struct ring *r, struct err *e)
{
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->count == RING_SLOTS && !r->failed)
			pthread_cond_wait(&r->drained, &r->mu);
		bool stop = r->failed;
		size_t slot = r->head;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		ssize_t got = bundle_reader_read(r->p->br, r->buf[slot], BUNDLE_BUFSIZE, e);
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		pthread_mutex_lock(&r->mu);
		r->len[slot] = (size_t)got;
		r->head = (slot + 1) % RING_SLOTS;
		r->count++;
		pthread_cond_signal(&r->filled);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	r->eof = true;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* A large member's content through the ring. */
int bundle_ring_content(struct bundle_pass *p, struct bundle_member *m, struct hash_ctx *h,
			bool to_disk, struct err *e)
{
	struct ring r = {.p = p, .member = m->name, .to_disk = to_disk, .h = h};
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.filled, NULL);
	pthread_cond_init(&r.drained, NULL);
	r.buf[0] = p->buf;
	for (size_t i = 1; i < RING_SLOTS; i++)
		r.buf[i] = xmalloc(BUNDLE_BUFSIZE);
	pthread_t th;
	int rc;
	if (pthread_create(&th, NULL, ring_worker, &r) != 0) {
		rc = err_set(e, ERR_FAILED, "cannot start a thread to unpack %s", m->name);
	} else {
		rc = ring_fill(&r, e);
		pthread_join(th, NULL);
		if (rc == 0 && r.failed) {
			*e = r.err;
			rc = -1;
		}
	}
	m->size = r.total;
	for (size_t i = 1; i < RING_SLOTS; i++)
		free(r.buf[i]);
	pthread_cond_destroy(&r.drained);
	pthread_cond_destroy(&r.filled);
	pthread_mutex_destroy(&r.mu);
	return rc;
}

