/* Unit tests for core/bundle: write, walk, read, scan, extract.
 *
 * Real files in a mkdtemp directory, checked with GNU tar and sha256sum.
 * Crafted hostile tars come from python3's tarfile (this file may not
 * include libarchive). FERRY_BENCH=1 also prints write throughput. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "hash.h"
#include "util.h"

#define BIG_SIZE (20u * 1024 * 1024)
#define BIG_NAME "db/dump/3001.dat"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MANIFEST_TEXT "{\"format\": \"ferry-bundle\", \"test\": true}\n"

struct fixture {
	char dir[64];
	char *src;       /* dir/src: db/ and files/ to back up */
	char *crafter;   /* dir/craft.py */
};

/* ---- helpers ------------------------------------------------------------ */

static char *path_in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *read_all(FILE *fp, size_t *len_out)
{
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + len, 1, cap - len - 1, fp)) > 0) {
		len += got;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

/* Run a shell command; its exit status (or -1). */
__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char cmd[4096];
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run a shell command and return its stdout; caller frees. */
__attribute__((format(printf, 2, 3))) static char *capture(int *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char cmd[4096];
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *fp = popen(cmd, "r");
	assert_non_null(fp);
	char *out = read_all(fp, NULL);
	int st = pclose(fp);
	*status = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed ? seed : 88172645463325252ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (; i < n; i++)
		p[i] = (unsigned char)(x >> (8 * (i % 8)));
}

/* Written in 1 MiB chunks, so the test's own memory stays small. */
static void make_random_file(const char *path, size_t size, uint64_t seed)
{
	size_t chunk = 1024 * 1024;
	unsigned char *data = xmalloc(chunk);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	for (size_t done = 0; done < size; done += chunk) {
		size_t n = size - done < chunk ? size - done : chunk;
		fill_random(data, n, seed + done);
		assert_int_equal(fwrite(data, 1, n, fp), n);
	}
	assert_int_equal(fclose(fp), 0);
	free(data);
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static const char crafter_py[] =
	"import io, sys, tarfile\n"
	"out = sys.argv[1]\n"
	"with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:\n"
	"    for spec in sys.argv[2:]:\n"
	"        kind, name, arg = (spec.split(':', 2) + [''])[:3]\n"
	"        ti = tarfile.TarInfo(name)\n"
	"        if kind == 'f':\n"
	"            data = arg.encode()\n"
	"            ti.size = len(data)\n"
	"            t.addfile(ti, io.BytesIO(data))\n"
	"            continue\n"
	"        ti.type = {'l': tarfile.SYMTYPE, 'h': tarfile.LNKTYPE, 'd': tarfile.DIRTYPE}[kind]\n"
	"        ti.linkname = arg\n"
	"        ti.mode = 0o755\n"
	"        t.addfile(ti)\n";

/* Craft dir/name.tar.zst from "f:name:content", "l:name:target",
 * "h:name:target", "d:name" specs; returns its path. */
static char *craft(struct fixture *f, const char *name, const char *specs)
{
	char *tar = xasprintf("%s/%s.tar", f->dir, name);
	char *zst = xasprintf("%s.zst", tar);
	assert_int_equal(run("python3 '%s' '%s' %s && zstd -q -f --rm '%s' -o '%s'", f->crafter, tar,
			     specs, tar, zst),
			 0);
	free(tar);
	return zst;
}

/* ---- the source tree and a bundle of it ---------------------------------- */

static void make_source_tree(struct fixture *f)
{
	assert_int_equal(run("mkdir -p '%s/db/dump' '%s/files/uploads/empty'", f->src, f->src), 0);
	char *p = path_in(f->src, "db/dump/toc.dat");
	write_file(p, "toc\n", 4);
	free(p);
	p = path_in(f->src, BIG_NAME);
	make_random_file(p, BIG_SIZE, 42);
	free(p);
	static const char *small[] = {"files/uploads/a.txt", "files/uploads/caf\xc3\xa9.txt",
				      "files/uploads/bad\xff.bin", "files/uploads/back\\slash.txt",
				      "files/uploads/new\nline.txt", "files/uploads/zero.bin"};
	for (size_t i = 0; i < sizeof small / sizeof *small; i++) {
		p = path_in(f->src, small[i]);
		write_file(p, small[i], i == 5 ? 0 : strlen(small[i]));
		free(p);
	}
	p = path_in(f->src, "files/uploads/a.txt");
	assert_int_equal(chmod(p, 0640), 0);
	free(p);
	p = path_in(f->src, "files/link");
	assert_int_equal(symlink("uploads/a.txt", p), 0);
	free(p);
}

/* What the pre-pass found: one entry per walked path, hashed. */
struct plan_entry {
	char *name;
	char *full;
	enum bundle_type type;
	char sha256[HASH_HEX_SIZE];
	unsigned mode;
	int64_t mtime;
	char *link;
	uint64_t size;
};

struct plan {
	struct plan_entry v[64];
	size_t n;
};

static int plan_add(void *ud, const struct bundle_walk_entry *ent, struct err *e)
{
	struct plan *pl = ud;
	assert_true(pl->n < 64);
	struct plan_entry *pe = &pl->v[pl->n++];
	*pe = (struct plan_entry){.name = xstrdup(ent->path), .full = xstrdup(ent->full_path),
				  .type = ent->type, .mode = ent->mode, .mtime = ent->mtime,
				  .link = xstrdup(ent->link), .size = ent->size};
	if (ent->type == BUNDLE_REG)
		return hash_file(ent->full_path, pe->sha256, NULL, e);
	return 0;
}

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->v[i].name);
		free(pl->v[i].full);
		free(pl->v[i].link);
	}
	pl->n = 0;
}

static int add_planned(bundle_writer *bw, const struct plan_entry *pe, struct err *e)
{
	switch (pe->type) {
	case BUNDLE_DIR:
		return bundle_writer_add_dir_entry(bw, pe->name, pe->mode, pe->mtime, e);
	case BUNDLE_SYMLINK:
		return bundle_writer_add_symlink(bw, pe->name, pe->link, e);
	default:
		return bundle_writer_add_file(bw, pe->name, pe->full, pe->sha256, e);
	}
}

/* A member as recorded by the writer or seen by scan. */
struct seen {
	char name[256];
	enum bundle_type type;
	char sha256[HASH_HEX_SIZE];
	uint64_t size;
};

struct seen_list {
	struct seen v[64];
	size_t n;
	char *manifest;      /* small_content of manifest.json */
	bool sums_small;     /* SHA256SUMS came with its content */
};

static void seen_push(struct seen_list *sl, const struct bundle_member *m)
{
	assert_true(sl->n < 64);
	struct seen *s = &sl->v[sl->n++];
	snprintf(s->name, sizeof s->name, "%s", m->name);
	s->type = m->type;
	snprintf(s->sha256, sizeof s->sha256, "%s", m->sha256);
	s->size = m->size;
}

static int on_member(void *ud, const struct bundle_member *m, const char *small, struct err *e)
{
	(void)e;
	struct seen_list *sl = ud;
	seen_push(sl, m);
	if (strcmp(m->name, BUNDLE_MANIFEST) == 0) {
		free(sl->manifest);
		sl->manifest = xstrdup(small);
	} else if (strcmp(m->name, BUNDLE_SHA256SUMS) == 0) {
		sl->sums_small = small != NULL;
	} else {
		assert_null(small);
	}
	return 0;
}

/* Back up f->src (db then files) to out; the writer's members go to rec. */
static void build_bundle(struct fixture *f, const char *out, const struct bundle_write_opts *o,
			 struct seen_list *rec)
{
	struct plan pl = {0};
	struct err e = {0};
	assert_int_equal(bundle_walk(f->src, "db", NULL, plan_add, &pl, &e), 0);
	assert_int_equal(bundle_walk(f->src, "files", NULL, plan_add, &pl, &e), 0);
	bundle_writer *bw = bundle_writer_open(out, o, &e);
	assert_non_null(bw);
	assert_int_equal(bundle_writer_add_buffer(bw, BUNDLE_MANIFEST, MANIFEST_TEXT,
						  strlen(MANIFEST_TEXT), &e), 0);
	for (size_t i = 0; i < pl.n; i++)
		if (add_planned(bw, &pl.v[i], &e) < 0)
			fail_msg("add %s: %s", pl.v[i].name, e.msg);
	assert_int_equal(bundle_writer_add_sha256sums(bw, &e), 0);
	if (rec) {
		rec->n = 0;
		for (size_t i = 0; i < bundle_writer_count(bw); i++)
			seen_push(rec, bundle_writer_member(bw, i));
	}
	assert_int_equal(bundle_writer_commit(bw, &e), 0);
	plan_free(&pl);
}

static void seen_free(struct seen_list *sl)
{
	free(sl->manifest);
	sl->manifest = NULL;
}

/* ---- fixture -------------------------------------------------------------- */

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ferry-test-bundle-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->src = path_in(f->dir, "src");
	f->crafter = path_in(f->dir, "craft.py");
	write_file(f->crafter, crafter_py, strlen(crafter_py));
	make_source_tree(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = run("rm -rf '%s'", f->dir);
	free(f->src);
	free(f->crafter);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* ---- writing ------------------------------------------------------------ */

static void test_zstd_bundle_opens_with_gnu_tar(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t1.tar.zst");
	struct seen_list rec = {0};
	build_bundle(f, out, &(struct bundle_write_opts){.compression = BUNDLE_ZSTD, .level = 3,
							 .threads = 2},
		     &rec);

	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	char *part = xasprintf("%s.part", out);
	assert_false(exists(part));

	int status;
	char *list = capture(&status, "tar --zstd -tf '%s'", out);
	assert_int_equal(status, 0);
	assert_true(str_starts(list, "manifest.json\n"));
	assert_true(str_ends(list, "\nSHA256SUMS\n"));
	assert_non_null(strstr(list, "\n" BIG_NAME "\n"));
	free(list);

	/* members in order: manifest, db, files, SHA256SUMS */
	assert_string_equal(rec.v[0].name, BUNDLE_MANIFEST);
	assert_string_equal(rec.v[1].name, "db");
	assert_int_equal(rec.v[1].type, BUNDLE_DIR);
	assert_string_equal(rec.v[rec.n - 1].name, BUNDLE_SHA256SUMS);

	char *x = path_in(f->dir, "t1-x");
	assert_int_equal(run("mkdir '%s' && tar --zstd -xf '%s' -C '%s'", x, out, x), 0);
	assert_int_equal(run("cd '%s' && sha256sum --quiet --strict -c SHA256SUMS", x), 0);
	assert_int_equal(run("cmp '%s/%s' '%s/%s'", f->src, BIG_NAME, x, BIG_NAME), 0);
	assert_int_equal(run("test \"$(readlink '%s/files/link')\" = uploads/a.txt", x), 0);
	free(x);
	free(part);
	free(out);
	seen_free(&rec);
}

static void test_scan_matches_writer(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t2.tar.zst");
	struct seen_list rec = {0}, got = {0};
	build_bundle(f, out, NULL, &rec);
	struct err e = {0};
	assert_int_equal(bundle_scan(out, on_member, &got, NULL, &e), 0);
	assert_int_equal(got.n, rec.n);
	for (size_t i = 0; i < rec.n; i++) {
		assert_string_equal(got.v[i].name, rec.v[i].name);
		assert_int_equal(got.v[i].type, rec.v[i].type);
		assert_string_equal(got.v[i].sha256, rec.v[i].sha256);
		assert_int_equal(got.v[i].size, rec.v[i].size);
	}
	assert_non_null(got.manifest);
	assert_string_equal(got.manifest, MANIFEST_TEXT);
	assert_true(got.sums_small);
	free(out);
	seen_free(&rec);
	seen_free(&got);
}

struct progress {
	int calls;
	uint64_t last;
};

static void on_progress(void *ud, uint64_t done)
{
	struct progress *pr = ud;
	assert_true(done >= pr->last);
	pr->calls++;
	pr->last = done;
}

static void test_progress_reports_total(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t3.tar.zst");
	struct progress pr = {0};
	struct seen_list rec = {0};
	build_bundle(f, out,
		     &(struct bundle_write_opts){.level = 1, .progress = on_progress,
						 .progress_ud = &pr},
		     &rec);
	uint64_t total = 0;
	for (size_t i = 0; i < rec.n; i++)
		total += rec.v[i].size;
	assert_true(pr.calls >= 1);
	assert_true(pr.last == total);
	free(out);
	seen_free(&rec);
}

static void test_changed_file_fails_and_abort_removes_part(void **state)
{
	struct fixture *f = *state;
	char *src = path_in(f->dir, "changing.dat");
	make_random_file(src, 3 * BUNDLE_BUFSIZE + 7, 7);
	char before[HASH_HEX_SIZE];
	struct err e = {0};
	assert_int_equal(hash_file(src, before, NULL, &e), 0);
	/* the file changes between the pre-pass and the write */
	int fd = open(src, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, BUNDLE_BUFSIZE + 5), 1);
	close(fd);

	char *out = path_in(f->dir, "t4.tar.zst");
	char *part = xasprintf("%s.part", out);
	bundle_writer *bw = bundle_writer_open(out, NULL, &e);
	assert_non_null(bw);
	assert_true(exists(part));
	assert_int_equal(bundle_writer_add_file(bw, "files/changing.dat", src, before, &e), -1);
	assert_int_equal(e.kind, ERR_FAILED);
	char *want = xasprintf("%s changed while being backed up (sha-256 is now ", src);
	assert_true(str_starts(e.msg, want));
	assert_non_null(strstr(e.msg, before));
	assert_int_equal(bundle_writer_count(bw), 0);
	/* the writer refuses further work */
	assert_int_equal(bundle_writer_add_buffer(bw, "x", "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "after an earlier failure"));
	bundle_writer_abort(bw);
	assert_false(exists(part));
	assert_false(exists(out));
	bundle_writer_abort(NULL);
	free(want);
	free(part);
	free(out);
	free(src);
}

static void test_commit_after_failure_removes_part(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t5.tar.zst");
	char *part = xasprintf("%s.part", out);
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(out, NULL, &e);
	assert_non_null(bw);
	char *src = path_in(f->src, "db/dump/toc.dat");
	assert_int_equal(bundle_writer_add_file(bw, "db/toc.dat", src, EMPTY_SHA256, &e), -1);
	assert_int_equal(bundle_writer_commit(bw, &e), -1);
	assert_non_null(strstr(e.msg, "incomplete"));
	assert_false(exists(part));
	assert_false(exists(out));
	free(src);
	free(part);
	free(out);
}

struct shrinker {
	const char *path;
	bool done;
};

/* Progress callback that cuts the source file short while it is read. */
static void shrink_source(void *ud, uint64_t done)
{
	struct shrinker *sh = ud;
	if (!sh->done && done > 0) {
		assert_int_equal(truncate(sh->path, 3 * BUNDLE_BUFSIZE / 2), 0);
		sh->done = true;
	}
}

static void test_shrinking_file_fails(void **state)
{
	struct fixture *f = *state;
	char *src = path_in(f->dir, "shrinking.dat");
	make_random_file(src, 8 * BUNDLE_BUFSIZE, 5);
	char *out = path_in(f->dir, "t4b.tar.zst");
	char *part = xasprintf("%s.part", out);
	struct shrinker sh = {.path = src};
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(
		out, &(struct bundle_write_opts){.progress = shrink_source, .progress_ud = &sh}, &e);
	assert_non_null(bw);
	/* the first progress call comes 100 ms after open, while src is read */
	struct timespec pause = {.tv_nsec = 150 * 1000 * 1000};
	nanosleep(&pause, NULL);
	assert_int_equal(bundle_writer_add_file(bw, "db/shrinking.dat", src, NULL, &e), -1);
	assert_true(sh.done);
	char *want = xasprintf("%s changed while being backed up (it shrank to %u of %u bytes)", src,
			       3 * BUNDLE_BUFSIZE / 2, 8 * BUNDLE_BUFSIZE);
	assert_string_equal(e.msg, want);
	bundle_writer_abort(bw);
	assert_false(exists(part));
	free(want);
	free(part);
	free(out);
	free(src);
}

static void test_disk_full_is_err_space(void **state)
{
	struct fixture *f = *state;
	char *mnt = path_in(f->dir, "small");
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (geteuid() != 0 || run("mount -t tmpfs -o size=1m tmpfs '%s' 2>/dev/null", mnt) != 0) {
		free(mnt);
		skip();
		return;
	}
	char *out = path_in(mnt, "b.tar");
	char *part = xasprintf("%s.part", out);
	char *src = path_in(f->src, BIG_NAME);
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(
		out, &(struct bundle_write_opts){.compression = BUNDLE_NONE}, &e);
	int rc = bw ? bundle_writer_add_file(bw, BIG_NAME, src, NULL, &e) : -2;
	if (rc == 0)
		rc = bundle_writer_commit(bw, &e);
	else if (bw)
		bundle_writer_abort(bw);
	bool part_left = exists(part);
	run("umount '%s'", mnt);
	assert_int_equal(rc, -1);
	assert_int_equal(e.kind, ERR_SPACE);
	char *want = xasprintf("no space left writing %s", part);
	assert_string_equal(e.msg, want);
	char *hint = xasprintf("free space in %s or choose another --out", mnt);
	assert_string_equal(e.hint, hint);
	assert_false(part_left);
	free(hint);
	free(want);
	free(src);
	free(part);
	free(out);
	free(mnt);
}

static void test_stale_part_is_replaced(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t6.tar.zst");
	char *part = xasprintf("%s.part", out);
	write_file(part, "stale junk", 10);
	assert_int_equal(chmod(part, 0644), 0);
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(out, &(struct bundle_write_opts){.threads = 1}, &e);
	assert_non_null(bw);
	struct stat st;
	assert_int_equal(stat(part, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(bundle_writer_add_buffer(bw, "manifest.json", "{}", 2, &e), 0);
	assert_int_equal(bundle_writer_add_sha256sums(bw, &e), 0);
	assert_int_equal(bundle_writer_commit(bw, &e), 0);
	assert_false(exists(part));
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(bundle_scan(out, NULL, NULL, NULL, &e), 0);
	free(part);
	free(out);
}

static void test_missing_source_and_bad_names(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t7.tar.zst");
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(out, NULL, &e);
	assert_non_null(bw);
	char *missing = path_in(f->dir, "no-such-file");
	assert_int_equal(bundle_writer_add_file(bw, "files/x", missing, NULL, &e), -1);
	char *want = xasprintf("cannot open %s: No such file or directory", missing);
	assert_string_equal(e.msg, want);
	assert_int_equal(e.kind, ERR_FAILED);
	free(want);

	char *link = path_in(f->src, "files/link");
	assert_int_equal(bundle_writer_add_file(bw, "files/link", link, NULL, &e), -1);
	want = xasprintf("cannot back up %s: it is a symlink, not a regular file", link);
	assert_string_equal(e.msg, want);
	free(want);
	assert_int_equal(bundle_writer_add_file(bw, "files/d", f->dir, NULL, &e), -1);
	want = xasprintf("cannot back up %s: not a regular file", f->dir);
	assert_string_equal(e.msg, want);
	free(want);

	static const char *bad[] = {"", "/abs", "../up", "a/../b", "a//b", "./a", "a/.", "dir/"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(bundle_writer_add_buffer(bw, bad[i], "x", 1, &e), -1);
		assert_true(str_starts(e.msg, "bad bundle member name"));
	}
	/* those refusals did not spoil the writer */
	assert_int_equal(bundle_writer_add_buffer(bw, "ok", "x", 1, &e), 0);
	assert_int_equal(bundle_writer_count(bw), 1);
	assert_null(bundle_writer_member(bw, 1));
	bundle_writer_abort(bw);
	free(link);
	free(missing);
	free(out);
}

static void test_bad_options(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t8.tar.zst");
	struct err e = {0};
	assert_null(bundle_writer_open(out, &(struct bundle_write_opts){.level = 99}, &e));
	assert_int_equal(e.kind, ERR_USAGE);
	assert_string_equal(e.msg, "zstd compression level 99 is out of range");
	assert_null(bundle_writer_open(out, &(struct bundle_write_opts){.compression = BUNDLE_GZIP,
									 .level = 10},
				       &e));
	assert_string_equal(e.msg, "gzip compression level 10 is out of range");
	char *nodir = path_in(f->dir, "no/such/dir/b.tar.zst");
	assert_null(bundle_writer_open(nodir, NULL, &e));
	char *want = xasprintf("cannot create %s.part: No such file or directory", nodir);
	assert_string_equal(e.msg, want);
	assert_non_null(strstr(e.hint, "choose another --out"));
	assert_false(exists(out));
	free(want);
	free(nodir);
	free(out);
}

static void test_sha256sums_text(void **state)
{
	(void)state;
	struct bundle_member m[] = {
		{.name = "manifest.json", .type = BUNDLE_REG, .sha256 = EMPTY_SHA256},
		{.name = "db", .type = BUNDLE_DIR},
		{.name = "files/a\\b\nc", .type = BUNDLE_REG, .sha256 = EMPTY_SHA256},
		{.name = "files/l", .type = BUNDLE_SYMLINK, .link = "a"},
	};
	char *text = bundle_sha256sums_text(m, 4);
	assert_string_equal(text, EMPTY_SHA256 "  manifest.json\n"
			    "\\" EMPTY_SHA256 "  files/a\\\\b\\nc\n");
	free(text);
	text = bundle_sha256sums_text(m, 0);
	assert_string_equal(text, "");
	free(text);
}

/* ---- reading and verifying ------------------------------------------------ */

static void test_reader_errors(void **state)
{
	struct fixture *f = *state;
	struct err e = {0};
	char *missing = path_in(f->dir, "missing.tar.zst");
	assert_null(bundle_reader_open(missing, &e));
	char *want = xasprintf("cannot open bundle %s: No such file or directory", missing);
	assert_string_equal(e.msg, want);
	free(want);

	char *junk = path_in(f->dir, "junk.bin");
	make_random_file(junk, 5000, 9);
	assert_null(bundle_reader_open(junk, &e));
	assert_int_equal(e.kind, ERR_VERIFY);
	want = xasprintf("%s is not a ferry bundle (", junk);
	assert_true(str_starts(e.msg, want));
	free(want);
	assert_int_equal(bundle_scan(junk, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);

	char *empty = path_in(f->dir, "empty.tar.zst");
	write_file(empty, "", 0);
	assert_null(bundle_reader_open(empty, &e));
	assert_int_equal(e.kind, ERR_VERIFY);
	want = xasprintf("%s is not a ferry bundle (", empty);
	assert_true(str_starts(e.msg, want));
	free(want);

	assert_null(bundle_reader_open(f->dir, &e));
	want = xasprintf("cannot open bundle %s: Is a directory", f->dir);
	assert_string_equal(e.msg, want);
	free(want);
	bundle_reader_free(NULL);
	free(empty);
	free(junk);
	free(missing);
}

static void test_reader_streams_members(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t9.tar.zst");
	build_bundle(f, out, NULL, NULL);
	struct err e = {0};
	bundle_reader *br = bundle_reader_open(out, &e);
	assert_non_null(br);
	struct bundle_entry ent;
	int r, n = 0;
	bool saw_link = false, saw_big = false;
	char buf[4096];
	while ((r = bundle_reader_next(br, &ent, &e)) == 1) {
		if (n++ == 0)
			assert_string_equal(ent.name, BUNDLE_MANIFEST);
		if (strcmp(ent.name, "files/link") == 0) {
			saw_link = true;
			assert_int_equal(ent.type, BUNDLE_SYMLINK);
			assert_string_equal(ent.link, "uploads/a.txt");
		}
		if (strcmp(ent.name, "files/uploads/a.txt") == 0)
			assert_int_equal(ent.mode, 0640);
		if (strcmp(ent.name, BIG_NAME) == 0) {
			saw_big = true;
			assert_int_equal(ent.size, BIG_SIZE);
			uint64_t total = 0;
			ssize_t got;
			while ((got = bundle_reader_read(br, buf, sizeof buf, &e)) > 0)
				total += (uint64_t)got;
			assert_int_equal(got, 0);
			assert_int_equal(total, BIG_SIZE);
		}
	}
	assert_int_equal(r, 0);
	assert_true(saw_link && saw_big);
	assert_string_equal(ent.name, BUNDLE_SHA256SUMS);
	bundle_reader_free(br);
	free(out);
}

static void test_flipped_byte_fails_scan(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t10.tar.zst");
	build_bundle(f, out, NULL, NULL);
	off_t size = file_size(out);
	assert_true(size > (off_t)BIG_SIZE / 2);
	int fd = open(out, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, size / 2), 1);
	c ^= 0x55;
	assert_int_equal(pwrite(fd, &c, 1, size / 2), 1);
	close(fd);
	struct err e = {0};
	struct seen_list got = {0};
	assert_int_equal(bundle_scan(out, on_member, &got, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	assert_non_null(strstr(e.msg, out));
	if (!strstr(e.msg, BIG_NAME))
		fail_msg("message does not name the member: %s", e.msg);
	print_message("flipped byte: %s\n", e.msg);
	seen_free(&got);
	free(out);
}

static void test_truncated_bundle_fails_scan(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t11.tar.zst");
	build_bundle(f, out, NULL, NULL);
	assert_int_equal(truncate(out, file_size(out) * 6 / 10), 0);
	struct err e = {0};
	assert_int_equal(bundle_scan(out, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	/* Said as what it is: cut short, its length, where, and libarchive's word. */
	char *want = xasprintf("bundle %s ends after %lld bytes, in member " BIG_NAME
			       ": the bundle is incomplete (Truncated", out, (long long)file_size(out));
	if (!str_starts(e.msg, want))
		fail_msg("unexpected message: %s", e.msg);
	assert_non_null(strstr(e.hint, "was the copy interrupted?"));
	free(want);
	free(out);
}

static void test_scan_requires_sha256sums(void **state)
{
	struct fixture *f = *state;
	struct err e = {0};
	char *no_sums = craft(f, "nosums", "f:manifest.json:{} f:db/a:hello");
	assert_int_equal(bundle_scan(no_sums, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	char *want = xasprintf("bundle %s has no SHA256SUMS at its end", no_sums);
	assert_string_equal(e.msg, want);
	free(want);

	/* a listed member that is missing, and one that is not listed */
	char *sums = xasprintf("f:SHA256SUMS:%s  db/gone", EMPTY_SHA256);
	char *specs = xasprintf("f:db/a:hello '%s'", sums);
	char *odd = craft(f, "oddsums", specs);
	assert_int_equal(bundle_scan(odd, NULL, NULL, NULL, &e), -1);
	want = xasprintf("bundle %s: member db/a is not listed in SHA256SUMS (and 1 more)", odd);
	assert_string_equal(e.msg, want);
	free(want);
	free(specs);
	free(sums);
	free(odd);
	free(no_sums);
}

/* ---- extracting ------------------------------------------------------------ */

/* Ctrl-C while a large member streams: the pass stops inside that member
 * (its callback never comes) and says which member it was reading. */
struct cancel_on_manifest {
	volatile sig_atomic_t flag;
	size_t members_seen;
};

static int cancel_after_manifest(void *ud, const struct bundle_member *m, const char *small,
				 struct err *e)
{
	(void)small, (void)e;
	struct cancel_on_manifest *c = ud;
	c->members_seen++;
	if (strcmp(m->name, BUNDLE_MANIFEST) == 0)
		c->flag = 1;
	return 0;
}

static char *bundle_with_big_member(struct fixture *f, const char *name)
{
	char *src = path_in(f->dir, "big.dat");
	make_random_file(src, 12u << 20, 11);
	char *out = path_in(f->dir, name);
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(out, NULL, &e);
	assert_non_null(bw);
	assert_int_equal(bundle_writer_add_buffer(bw, BUNDLE_MANIFEST, MANIFEST_TEXT,
						  strlen(MANIFEST_TEXT), &e), 0);
	assert_int_equal(bundle_writer_add_file(bw, "db/big.dat", src, NULL, &e), 0);
	assert_int_equal(bundle_writer_add_sha256sums(bw, &e), 0);
	assert_int_equal(bundle_writer_commit(bw, &e), 0);
	free(src);
	return out;
}

static void test_cancel_stops_inside_a_member(void **state)
{
	struct fixture *f = *state;
	char *out = bundle_with_big_member(f, "cancel.tar.zst");
	struct err e = {0};
	struct cancel_on_manifest c = {0};
	assert_int_equal(bundle_scan(out, cancel_after_manifest, &c, &c.flag, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_non_null(strstr(e.msg, "db/big.dat"));
	assert_int_equal(c.members_seen, 1);

	char *dest = path_in(f->dir, "cancel-x");
	assert_int_equal(mkdir(dest, 0700), 0);
	c = (struct cancel_on_manifest){0};
	e = (struct err){0};
	assert_int_equal(bundle_extract(out, dest, NULL, false, cancel_after_manifest, &c, &c.flag, &e),
			 -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_int_equal(c.members_seen, 1);

	/* unset, the same bundle reads whole */
	c = (struct cancel_on_manifest){0};
	volatile sig_atomic_t never = 0;
	assert_int_equal(bundle_scan(out, NULL, NULL, &never, &e), 0);
	free(dest);
	free(out);
}

static void test_cancel_stops_adding_a_file(void **state)
{
	struct fixture *f = *state;
	char *src = path_in(f->dir, "to-add.dat");
	make_random_file(src, 3 * BUNDLE_BUFSIZE, 5);
	char *out = path_in(f->dir, "cancel-w.tar.zst");
	char *part = xasprintf("%s.part", out);
	volatile sig_atomic_t flag = 1;
	struct err e = {0};
	bundle_writer *bw = bundle_writer_open(out, &(struct bundle_write_opts){.cancel = &flag}, &e);
	assert_non_null(bw);
	assert_int_equal(bundle_writer_add_file(bw, "files/to-add.dat", src, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_non_null(strstr(e.msg, src));
	bundle_writer_abort(bw);
	assert_false(exists(part));
	assert_false(exists(out));

	char hex[HASH_HEX_SIZE];
	e = (struct err){0};
	assert_int_equal(hash_file_cancellable(src, hex, NULL, &flag, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	flag = 0;
	assert_int_equal(hash_file_cancellable(src, hex, NULL, &flag, &e), 0);
	free(part);
	free(out);
	free(src);
}

static void test_extract_all_and_prefix(void **state)
{
	struct fixture *f = *state;
	char *out = path_in(f->dir, "t12.tar.zst");
	struct seen_list rec = {0}, got = {0};
	build_bundle(f, out, NULL, &rec);
	struct err e = {0};

	char *all = path_in(f->dir, "x-all");
	assert_int_equal(mkdir(all, 0700), 0);
	assert_int_equal(bundle_extract(out, all, NULL, false, on_member, &got, NULL, &e), 0);
	assert_int_equal(got.n, rec.n);
	for (size_t i = 0; i < rec.n; i++)
		assert_string_equal(got.v[i].sha256, rec.v[i].sha256);
	assert_int_equal(run("diff -r --no-dereference '%s/db' '%s/db' && "
			     "diff -r --no-dereference '%s/files' '%s/files'",
			     f->src, all, f->src, all),
			 0);
	assert_int_equal(run("cd '%s' && sha256sum --quiet -c SHA256SUMS", all), 0);
	char *p = path_in(all, "files/uploads/a.txt");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	free(p);

	char *files = path_in(f->dir, "x-files");
	assert_int_equal(mkdir(files, 0700), 0);
	got.n = 0;
	assert_int_equal(bundle_extract(out, files, "files/", true, on_member, &got, NULL, &e), 0);
	assert_int_equal(run("diff -r --no-dereference '%s/files' '%s'", f->src, files), 0);
	/* Every member is hashed and reported, only files/ is written. */
	bool saw_db = false;
	for (size_t i = 0; i < got.n; i++)
		saw_db = saw_db || str_starts(got.v[i].name, "db");
	assert_true(saw_db);
	p = path_in(files, "db");
	assert_false(exists(p));
	free(p);

	char *db = path_in(f->dir, "x-db");
	assert_int_equal(mkdir(db, 0700), 0);
	assert_int_equal(bundle_extract(out, db, "db", false, NULL, NULL, NULL, &e), 0);
	assert_int_equal(run("cmp '%s/%s' '%s/%s'", f->src, BIG_NAME, db, BIG_NAME), 0);
	assert_int_equal(run("test ! -e '%s/files' && test ! -e '%s/manifest.json'", db, db), 0);

	char *nodest = path_in(f->dir, "no-such-dest");
	assert_int_equal(bundle_extract(out, nodest, NULL, false, NULL, NULL, NULL, &e), -1);
	char *want = xasprintf("extract destination %s is not a directory", nodest);
	assert_string_equal(e.msg, want);
	free(want);
	free(nodest);
	free(db);
	free(files);
	free(all);
	free(out);
	seen_free(&rec);
	seen_free(&got);
}

static void test_extract_refuses_dotdot(void **state)
{
	struct fixture *f = *state;
	char *evil = craft(f, "dotdot", "f:manifest.json:{} f:../evil:gotcha");
	char *dest = path_in(f->dir, "x-dotdot");
	assert_int_equal(mkdir(dest, 0700), 0);
	struct err e = {0};
	assert_int_equal(bundle_extract(evil, dest, NULL, false, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	char *want = xasprintf("bundle %s: member ../evil points outside the destination (\"..\"); "
			       "refusing to extract it",
			       evil);
	assert_string_equal(e.msg, want);
	char *escaped = path_in(f->dir, "evil");
	assert_false(exists(escaped));
	free(escaped);
	free(want);
	free(dest);
	free(evil);
}

static void test_extract_refuses_absolute(void **state)
{
	struct fixture *f = *state;
	char *target = path_in(f->dir, "abs-evil");
	char *specs = xasprintf("f:manifest.json:{} f:%s:gotcha", target);
	char *evil = craft(f, "absolute", specs);
	char *dest = path_in(f->dir, "x-abs");
	assert_int_equal(mkdir(dest, 0700), 0);
	struct err e = {0};
	assert_int_equal(bundle_extract(evil, dest, NULL, false, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	char *want = xasprintf("bundle %s: member %s has an absolute path; refusing to extract it",
			       evil, target);
	assert_string_equal(e.msg, want);
	assert_false(exists(target));
	free(want);
	free(dest);
	free(evil);
	free(specs);
	free(target);
}

static void test_extract_refuses_writing_through_symlink(void **state)
{
	struct fixture *f = *state;
	char *outside = path_in(f->dir, "outside");
	assert_int_equal(mkdir(outside, 0700), 0);
	char *specs = xasprintf("f:manifest.json:{} l:files/link:%s f:files/link/pwned:gotcha",
				outside);
	char *evil = craft(f, "through-link", specs);
	char *dest = path_in(f->dir, "x-link");
	assert_int_equal(mkdir(dest, 0700), 0);
	struct err e = {0};
	assert_int_equal(bundle_extract(evil, dest, NULL, false, NULL, NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	char *want = xasprintf("refusing member files/link/pwned of bundle %s: ", evil);
	if (!str_starts(e.msg, want))
		fail_msg("unexpected message: %s", e.msg);
	char *pwned = path_in(outside, "pwned");
	assert_false(exists(pwned));

	char *hard = craft(f, "hardlink", "f:manifest.json:{} h:files/h:/etc/passwd");
	assert_int_equal(bundle_extract(hard, dest, NULL, false, NULL, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "member files/h is a hard link"));
	free(hard);
	free(pwned);
	free(want);
	free(dest);
	free(evil);
	free(specs);
	free(outside);
}

/* ---- other compressions ------------------------------------------------------ */

static void roundtrip(struct fixture *f, enum bundle_compression c, const char *tar_flag,
		      const char *name)
{
	char *out = path_in(f->dir, name);
	struct seen_list rec = {0}, got = {0};
	build_bundle(f, out, &(struct bundle_write_opts){.compression = c}, &rec);
	int status;
	char *list = capture(&status, "tar %s -tf '%s'", tar_flag, out);
	assert_int_equal(status, 0);
	assert_true(str_starts(list, "manifest.json\n"));
	assert_true(str_ends(list, "\nSHA256SUMS\n"));
	free(list);
	struct err e = {0};
	assert_int_equal(bundle_scan(out, on_member, &got, NULL, &e), 0);
	assert_int_equal(got.n, rec.n);
	for (size_t i = 0; i < rec.n; i++)
		assert_string_equal(got.v[i].sha256, rec.v[i].sha256);
	char *x = xasprintf("%s.x", out);
	assert_int_equal(mkdir(x, 0700), 0);
	assert_int_equal(bundle_extract(out, x, NULL, false, NULL, NULL, NULL, &e), 0);
	assert_int_equal(run("cmp '%s/%s' '%s/%s'", f->src, BIG_NAME, x, BIG_NAME), 0);
	free(x);
	free(out);
	seen_free(&rec);
	seen_free(&got);
}

static void test_gzip_roundtrip(void **state)
{
	roundtrip(*state, BUNDLE_GZIP, "-z", "t13.tar.gz");
}

static void test_none_roundtrip(void **state)
{
	struct fixture *f = *state;
	roundtrip(f, BUNDLE_NONE, "", "t14.tar");
	char *out = path_in(f->dir, "t14.tar");
	assert_true(file_size(out) > (off_t)BIG_SIZE);
	free(out);
}

/* ---- walking ----------------------------------------------------------------- */

struct walk_log {
	char text[4096];
};

static int log_entry(void *ud, const struct bundle_walk_entry *ent, struct err *e)
{
	(void)e;
	struct walk_log *wl = ud;
	char kind = ent->type == BUNDLE_DIR ? 'd' : ent->type == BUNDLE_SYMLINK ? 'l' : 'f';
	size_t len = strlen(wl->text);
	snprintf(wl->text + len, sizeof wl->text - len, "%c %s%s%s\n", kind, ent->path,
		 ent->link ? " -> " : "", ent->link ? ent->link : "");
	return 0;
}

static void make_app_tree(const char *app)
{
	assert_int_equal(run("cd '%s' && mkdir -p uploads/sub uploads/node_modules logs/deep cache "
			     "node_modules && touch uploads/a.txt uploads/b.tmp uploads/sub/c.tmp "
			     "uploads/sub/d.txt uploads/node_modules/n.js logs/x.log logs/y.tmp "
			     "logs/deep/z.tmp cache/big.bin node_modules/m.js && "
			     "ln -s a.txt uploads/ln && mkfifo fifo && printf 12345 > uploads/a.txt",
			     app),
			 0);
}

static void test_walk_sorted_with_excludes(void **state)
{
	struct fixture *f = *state;
	char *app = path_in(f->dir, "app");
	assert_int_equal(mkdir(app, 0700), 0);
	make_app_tree(app);
	struct strv ex = {0};
	strv_push(&ex, "logs/*.tmp");
	strv_push(&ex, "cache");
	strv_push(&ex, "node_modules");
	struct walk_log wl = {{0}};
	struct err e = {0};
	assert_int_equal(bundle_walk(app, NULL, &ex, log_entry, &wl, &e), 0);
	assert_string_equal(wl.text, "d logs\n"
				     "d logs/deep\n"
				     "f logs/x.log\n"
				     "d uploads\n"
				     "f uploads/a.txt\n"
				     "f uploads/b.tmp\n"
				     "l uploads/ln -> a.txt\n"
				     "d uploads/sub\n"
				     "f uploads/sub/c.tmp\n"
				     "f uploads/sub/d.txt\n");

	strv_push(&ex, "uploads/sub");
	strv_push(&ex, "*.tmp");
	wl.text[0] = '\0';
	assert_int_equal(bundle_walk(app, "uploads/", &ex, log_entry, &wl, &e), 0);
	assert_string_equal(wl.text, "d uploads\n"
				     "f uploads/a.txt\n"
				     "l uploads/ln -> a.txt\n");

	wl.text[0] = '\0';
	assert_int_equal(bundle_walk(app, "uploads/a.txt", NULL, log_entry, &wl, &e), 0);
	assert_string_equal(wl.text, "f uploads/a.txt\n");
	strv_done(&ex);
	free(app);
}

static int count_and_stop(void *ud, const struct bundle_walk_entry *ent, struct err *e)
{
	int *n = ud;
	if (++*n == 2)
		return err_set(e, ERR_INTERRUPTED, "stopped at %s", ent->path);
	return 0;
}

static void test_walk_errors(void **state)
{
	struct fixture *f = *state;
	struct err e = {0};
	struct walk_log wl = {{0}};
	assert_int_equal(bundle_walk(f->src, "nope", NULL, log_entry, &wl, &e), -1);
	char *want = xasprintf("app path %s/nope does not exist", f->src);
	assert_string_equal(e.msg, want);
	assert_string_equal(e.hint, "fix app.paths in the profile or create it");
	assert_int_equal(e.kind, ERR_FAILED);
	free(want);
	assert_int_equal(bundle_walk(f->src, "../etc", NULL, log_entry, &wl, &e), -1);
	assert_non_null(strstr(e.msg, "must be relative"));
	int n = 0;
	assert_int_equal(bundle_walk(f->src, "files", NULL, count_and_stop, &n, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_int_equal(n, 2);
}

/* ---- throughput (FERRY_BENCH=1) ------------------------------------------------ */

/* 200 MiB of text shaped like pg_dump COPY data. */
static void make_copy_like_file(const char *path, size_t size)
{
	static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
				      "golf", "hotel", "india", "juliet", "kilo", "lima"};
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t written = 0;
	for (uint64_t id = 1; written < size; id++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		char line[256];
		int n = snprintf(line, sizeof line,
				 "%llu\t%s %s\tuser%llu@example.com\t2024-%02u-%02u %02u:%02u:%02u\t"
				 "%llu.%02u\t%08llx\n",
				 (unsigned long long)id, words[x % 12], words[(x >> 8) % 12],
				 (unsigned long long)(x % 100000), (unsigned)(x >> 16) % 12 + 1,
				 (unsigned)(x >> 20) % 28 + 1, (unsigned)(x >> 24) % 24,
				 (unsigned)(x >> 28) % 60, (unsigned)(x >> 32) % 60,
				 (unsigned long long)(x >> 40) % 10000, (unsigned)(x >> 36) % 100,
				 (unsigned long long)(x >> 20) & 0xffffffffull);
		size_t len = (size_t)n;
		if (written + len > size)
			len = size - written;
		assert_int_equal(fwrite(line, 1, len, fp), len);
		written += len;
	}
	assert_int_equal(fclose(fp), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write src into a bundle in a child process: its own time and peak memory. */
static void bench_one(struct fixture *f, const char *src, const char *label, const char *hex,
		      int level, int threads)
{
	char *out = path_in(f->dir, "bench.tar.zst");
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e = {0};
		double t0 = now_s();
		bundle_writer *bw = bundle_writer_open(
			out, &(struct bundle_write_opts){.level = level, .threads = threads}, &e);
		if (!bw || bundle_writer_add_file(bw, "db/dump/big.dat", src, hex, &e) < 0 ||
		    bundle_writer_commit(bw, &e) < 0) {
			fprintf(stderr, "bench: %s\n", e.msg);
			_exit(1);
		}
		double dt = now_s() - t0;
		double in = (double)file_size(src), outb = (double)file_size(out);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("bench %-6s zstd -%d threads=%d: %6.1f MiB/s in, %.2fs, ratio %.2f, "
		       "peak rss %ld MiB\n",
		       label, level, threads, in / dt / 1048576.0, dt, in / outb, ru.ru_maxrss / 1024);
		fflush(stdout);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(out);
	free(out);
}

static void test_bench_throughput(void **state)
{
	struct fixture *f = *state;
	if (!getenv("FERRY_BENCH"))
		skip();
	size_t size = 200u * 1024 * 1024;
	char *text = path_in(f->dir, "bench-text.dat");
	char *rnd = path_in(f->dir, "bench-random.dat");
	make_copy_like_file(text, size);
	make_random_file(rnd, size, 3);
	char hex_text[HASH_HEX_SIZE], hex_rnd[HASH_HEX_SIZE];
	struct err e = {0};
	double t0 = now_s();
	assert_int_equal(hash_file(text, hex_text, NULL, &e), 0);
	print_message("bench hash_file pre-pass: %.1f MiB/s\n",
		      (double)size / (now_s() - t0) / 1048576.0);
	assert_int_equal(hash_file(rnd, hex_rnd, NULL, &e), 0);
	static const struct {
		int level, threads;
	} runs[] = {{3, 2}, {1, 2}, {3, 1}, {1, 1}};
	for (size_t i = 0; i < sizeof runs / sizeof *runs; i++)
		bench_one(f, text, "text", hex_text, runs[i].level, runs[i].threads);
	for (size_t i = 0; i < 2; i++)
		bench_one(f, rnd, "random", hex_rnd, runs[i].level, runs[i].threads);
	unlink(text);
	unlink(rnd);
	free(text);
	free(rnd);
}

int main(void)
{
	/* as ferry does: run with LANG=C.UTF-8 and LANG=C to cover both */
	setlocale(LC_ALL, "");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zstd_bundle_opens_with_gnu_tar),
		cmocka_unit_test(test_scan_matches_writer),
		cmocka_unit_test(test_progress_reports_total),
		cmocka_unit_test(test_changed_file_fails_and_abort_removes_part),
		cmocka_unit_test(test_commit_after_failure_removes_part),
		cmocka_unit_test(test_shrinking_file_fails),
		cmocka_unit_test(test_disk_full_is_err_space),
		cmocka_unit_test(test_stale_part_is_replaced),
		cmocka_unit_test(test_missing_source_and_bad_names),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_sha256sums_text),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_reader_streams_members),
		cmocka_unit_test(test_flipped_byte_fails_scan),
		cmocka_unit_test(test_truncated_bundle_fails_scan),
		cmocka_unit_test(test_scan_requires_sha256sums),
		cmocka_unit_test(test_cancel_stops_inside_a_member),
		cmocka_unit_test(test_cancel_stops_adding_a_file),
		cmocka_unit_test(test_extract_all_and_prefix),
		cmocka_unit_test(test_extract_refuses_dotdot),
		cmocka_unit_test(test_extract_refuses_absolute),
		cmocka_unit_test(test_extract_refuses_writing_through_symlink),
		cmocka_unit_test(test_gzip_roundtrip),
		cmocka_unit_test(test_none_roundtrip),
		cmocka_unit_test(test_walk_sorted_with_excludes),
		cmocka_unit_test(test_walk_errors),
		cmocka_unit_test(test_bench_throughput),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
