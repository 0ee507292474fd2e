/* bundle/scan — the verifying pass: every member hashed in one stream,
 * checked against SHA256SUMS at the end; extract.c adds the disk side. */
#include "bundle/bundle_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* manifest.json, its signature and SHA256SUMS reach the callback whole. */
static bool is_small_name(const char *name)
{
	return strcmp(name, BUNDLE_MANIFEST) == 0 || strcmp(name, BUNDLE_MANIFEST_SIG) == 0 ||
	       strcmp(name, BUNDLE_SHA256SUMS) == 0;
}

/* Read the current member's content: hash it, keep it when asked (up to
 * BUNDLE_SMALL_MAX; *keep_ok false beyond), write it to disk when asked. */
static int pass_content(struct bundle_pass *p, struct bundle_member *m, struct sbuf *keep,
			bool *keep_ok, bool to_disk, struct err *e)
{
	struct hash_ctx h = {0};
	int rc = hash_init(&h, e);
	uint64_t total = 0;
	if (rc == 0 && !keep && m->size >= BUNDLE_RING_MIN_SIZE) {
		rc = bundle_ring_content(p, m, &h, to_disk, e);
		if (rc == 0)
			hash_final(&h, m->sha256);
		hash_done(&h);
		return rc;
	}
	while (rc == 0) {
		ssize_t got = bundle_reader_read(p->br, p->buf, BUNDLE_BUFSIZE, e);
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		hash_update(&h, p->buf, (size_t)got);
		total += (uint64_t)got;
		if (keep && *keep_ok && total <= BUNDLE_SMALL_MAX)
			sbuf_add(keep, p->buf, (size_t)got);
		else if (keep)
			*keep_ok = false;
		if (to_disk)
			rc = bundle_disk_write(p, m->name, p->buf, (size_t)got, e);
		if (rc == 0 && p->streaming)
			rc = p->content(p->ud, p->buf, (size_t)got, e) < 0 ? -1 : 0;
	}
	if (rc == 0) {
		hash_final(&h, m->sha256);
		m->size = total;
	}
	hash_done(&h);
	return rc;
}

/* Call the member callback, with the content of a small member. */
static int deliver(struct bundle_pass *p, const struct bundle_member *m, const struct sbuf *keep,
		   bool keep_ok, struct err *e)
{
	if (!p->fn)
		return 0;
	const char *small = NULL;
	if (keep && keep_ok)
		small = keep->data ? keep->data : "";
	return p->fn(p->ud, m, small, e) < 0 ? -1 : 0;
}

/* Handle one member: check, hash (and extract), record, call back. */
static int pass_member(struct bundle_pass *p, const struct bundle_entry *ent, struct err *e)
{
	if (p->sums_text) {
		err_set(e, ERR_VERIFY, "bundle %s: member %s follows %s, which must be last", p->path,
			ent->name, BUNDLE_SHA256SUMS);
		return err_hint(e, BUNDLE_UNSAFE_HINT);
	}
	/* The same refusals whether the member is extracted or only hashed:
	 * verify refuses exactly what restore refuses. */
	if (bundle_disk_check_safe(p, ent, e) < 0)
		return -1;
	int wanted = p->header ? p->header(p->ud, ent, e) : 0;
	if (wanted < 0)
		return -1;
	p->streaming = wanted == BUNDLE_STREAM_CONTENT && p->content && ent->type == BUNDLE_REG;
	bool is_sums = strcmp(ent->name, BUNDLE_SHA256SUMS) == 0;
	/* Members outside the prefix are not written but still hashed: one
	 * extracting pass is also a whole verification. */
	char *target = bundle_disk_target(p, ent->name);
	struct bundle_member m = {.name = (char *)ent->name, .type = ent->type, .mode = ent->mode,
				  .size = ent->size, .mtime = ent->mtime, .link = (char *)ent->link};
	struct sbuf keep = {0};
	bool keep_ok = true;
	bool small = ent->type == BUNDLE_REG &&
		     (is_small_name(ent->name) || wanted == BUNDLE_KEEP_CONTENT);
	int rc = target ? bundle_disk_header(p, ent->name, target, e) : 0;
	if (rc == 0 && ent->type == BUNDLE_REG)
		rc = pass_content(p, &m, small ? &keep : NULL, &keep_ok, target != NULL, e);
	if (rc == 0 && target)
		rc = bundle_disk_finish_entry(p, ent->name, e);
	if (rc == 0 && is_sums && !keep_ok) {
		err_set(e, ERR_VERIFY, "bundle %s: %s is larger than %u MiB", p->path,
			BUNDLE_SHA256SUMS, BUNDLE_SMALL_MAX >> 20);
		rc = err_hint(e, BUNDLE_CORRUPT_HINT);
	}
	if (rc == 0 && ent->type == BUNDLE_REG && !is_sums)
		bundle_sums_push(&p->seen, xstrdup(ent->name), m.sha256);
	if (rc == 0)
		rc = deliver(p, &m, small ? &keep : NULL, keep_ok, e);
	if (rc == 0 && is_sums)
		p->sums_text = keep.data ? keep.data : xstrdup("");
	else
		sbuf_done(&keep);
	free(target);
	return rc;
}

/* Every member in turn, then the SHA256SUMS check. */
int bundle_pass_run(struct bundle_pass *p, struct err *e)
{
	p->br = bundle_reader_open(p->path, e);
	if (!p->br)
		return -1;
	bundle_reader_set_cancel(p->br, p->cancel);
	p->buf = xmalloc(BUNDLE_BUFSIZE);
	struct bundle_entry ent;
	int r;
	while ((r = bundle_reader_next(p->br, &ent, e)) == 1)
		if (pass_member(p, &ent, e) < 0)
			return -1;
	if (r < 0)
		return -1;
	if (p->disk && bundle_disk_close(p, e) < 0)
		return -1;
	return bundle_sums_check(p->path, p->sums_text, &p->seen, e);
}

/* Free what bundle_pass_run allocated. */
void bundle_pass_done(struct bundle_pass *p)
{
	bundle_reader_free(p->br);
	bundle_sums_done(&p->seen);
	free(p->sums_text);
	free(p->buf);
}

/* Hash every member and check SHA256SUMS, extracting nothing. */
int bundle_scan(const char *path, bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel,
		struct err *e)
{
	struct bundle_pass_opts o = {.member = fn, .ud = ud, .cancel = cancel};
	return bundle_pass(path, &o, e);
}
