/* upload — copy a local file to the remote side, resumable and verified:
 * the VERIFY script hashes the remote .part while it is written, the data
 * goes over SFTP (upload_sftp.c) or, without an sftp subsystem, through
 * the DATA script's `cat`. */
#include "ssh_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "util.h"

/* remote_dir joined with local_path's base name; caller frees. */
char *sshc_remote_join(const char *remote_dir, const char *local_path)
{
	const char *base = strrchr(local_path, '/');
	base = base ? base + 1 : local_path;
	size_t n = strlen(remote_dir);
	while (n > 1 && remote_dir[n - 1] == '/')
		n--;
	if (n == 0)
		return xstrdup(base);
	if (n == 1 && remote_dir[0] == '/')
		return xasprintf("/%s", base);
	return xasprintf("%.*s/%s", (int)n, remote_dir, base);
}

/* The first word of s as a lowercase SHA-256 hex; -1 when it is not one. */
int sshc_parse_sha256(const char *s, char hex[65])
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (int i = 0; i < 64; i++) {
		char ch = s[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -1;
		hex[i] = ch;
	}
	char end = s[64];
	if (end != '\0' && end != ' ' && end != '\t' && end != '\n' && end != '\r')
		return -1;
	hex[64] = '\0';
	return 0;
}

/* How an upload goes (all of it over the one connection):
 *
 * VERIFY, a small sh script on an exec channel, is started first: its login
 * shell starts while everything else happens. It reads lines on its stdin:
 *   "check N HEX"  (resume) hash the first N bytes of PART, answer
 *                  "ferry-prefix same|differ"
 *   "hash A B"     add MiB blocks [A, A+B) of PART to a running SHA-256
 *   "end A"        add the blocks from A to the end, check PART's size
 *                  ("ferry-short S", exit 6), print "ferry-hashed" and
 *                  "ferry-sha256 HEX"
 *   "want HEX"     ours: equal -> mv PART FINAL, else rm PART and exit 4.
 * So the remote file itself is hashed, while it is being written: each
 * "hash" covers only bytes the server has confirmed written, and only the
 * last few MiB are left to hash when the data is all there.
 *
 * The data goes over SFTP (the server's sftp subsystem; no shell, the server
 * writes the file itself): pipelined 128 KiB writes, batched into 1 MiB
 * channel writes. When the server has no sftp subsystem, it goes to DATA, an
 * exec'd sh script that `cat`s its stdin to PART (after the same prefix
 * check, done by itself), and VERIFY hashes at the end.
 *
 * The local SHA-256 is computed as the file is read for sending. */
static const char VERIFY_SCRIPT[] =
	"exec 3>&1\n"
	"read -r cmd a b || exit 5\n"
	"if [ \"$cmd\" = check ]; then\n"
	"  h=$(head -c \"$a\" \"$1\" | { openssl dgst -sha256 -r 2>/dev/null || sha256sum; }) || exit 3\n"
	"  if [ \"${h%% *}\" = \"$b\" ]; then echo ferry-prefix same; else echo ferry-prefix differ; fi\n"
	"  read -r cmd a b || exit 5\n"
	"fi\n"
	"h=$(while :; do\n"
	"    case $cmd in\n"
	"      hash) dd if=\"$1\" bs=1048576 skip=\"$a\" count=\"$b\" 2>/dev/null || { echo ferry-hash-failed >&3; exit 3; } ;;\n"
	"      end) dd if=\"$1\" bs=1048576 skip=\"$a\" 2>/dev/null || { echo ferry-hash-failed >&3; exit 3; }\n"
	"           echo ferry-hashed >&3; exit 0 ;;\n"
	"      *) exit 5 ;;\n"
	"    esac\n"
	"    read -r cmd a b || exit 5\n"
	"  done | { openssl dgst -sha256 -r 2>/dev/null || sha256sum; }) || exit 3\n"
	"s=$(wc -c < \"$1\") || exit 12\n"
	"[ \"$s\" -eq \"$3\" ] || { echo \"ferry-short $s\"; exit 6; }\n"
	"h=${h%% *}; echo \"ferry-sha256 $h\"\n"
	"read -r cmd want || exit 5\n"
	"[ \"$cmd\" = want ] || exit 5\n"
	"if [ \"$h\" = \"$want\" ]; then mv -f \"$1\" \"$2\" || exit 13; else rm -f \"$1\"; exit 4; fi\n";

/* The fallback data path (no sftp): see above. */
static const char DATA_SCRIPT[] =
	"umask 077\n"
	"mkdir -p \"$1\" || exit 10\n"
	"exec 9>>\"$2\" || exit 10\n"
	"if command -v flock >/dev/null 2>&1; then flock -w 60 9 || exit 14; fi\n"
	"n=$(wc -c < \"$2\") || exit 10\n"
	"echo \"ferry-size $n\"\n"
	"read -r op arg || exit 11\n"
	"if [ \"$op\" = check ]; then\n"
	"  h=$(head -c \"$n\" \"$2\" | { openssl dgst -sha256 -r 2>/dev/null || sha256sum; }) || exit 3\n"
	"  if [ \"${h%% *}\" = \"$arg\" ]; then echo ferry-prefix same; else echo ferry-prefix differ; fi\n"
	"  read -r op arg || exit 11\n"
	"fi\n"
	"case $op in\n"
	"  append) exec cat >> \"$2\" ;;\n"
	"  new) exec cat > \"$2\" ;;\n"
	"esac\n"
	"exit 11\n";

/* Read len bytes at off; -1 with e filled on errors or a short file. */
int sshc_upload_read_at(struct sshc_upload *u, char *buf, size_t len, uint64_t off, struct err *e)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(u->fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, ERR_FAILED, "cannot read %s: %s", u->local, strerror(errno));
		if (n == 0)
			return err_set(e, ERR_FAILED, "%s shrank while it was being sent", u->local);
		got += (size_t)n;
	}
	return 0;
}

/* Data just read at off for sending: feed what the local hash lacks. */
void sshc_upload_hash_sent(struct sshc_upload *u, const char *buf, size_t n, uint64_t off)
{
	if (off + n <= u->hashed || off > u->hashed)
		return;
	uint64_t skip = u->hashed - off;
	hash_update(&u->full, buf + skip, n - (size_t)skip);
	u->hashed = off + n;
}

/* Feed [u->hashed, end) of the local file to the full hash and to pre. */
static int hash_local(struct sshc_upload *u, uint64_t end, struct hash_ctx *pre, struct err *e)
{
	char *buf = xmalloc(UPLOAD_CHUNK);
	int rc = 0;
	while (u->hashed < end) {
		if (u->o->cancel && *u->o->cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "interrupted while hashing %s", u->local);
			break;
		}
		size_t n = end - u->hashed > UPLOAD_CHUNK ? UPLOAD_CHUNK : (size_t)(end - u->hashed);
		if (sshc_upload_read_at(u, buf, n, u->hashed, e) != 0) {
			rc = -1;
			break;
		}
		hash_update(&u->full, buf, n);
		if (pre)
			hash_update(pre, buf, n);
		u->hashed += n;
	}
	free(buf);
	return rc;
}

/* Our hash of [0, len) (the full hash is fed on the way). */
static int hash_prefix(struct sshc_upload *u, uint64_t len, char hex[HASH_HEX_SIZE], struct err *e)
{
	struct hash_ctx pre = {0};
	int rc = hash_init(&pre, e);
	if (rc == 0)
		rc = hash_local(u, len, &pre, e);
	if (rc == 0)
		hash_final(&pre, hex);
	hash_done(&pre);
	return rc;
}

/* s (blanks around allowed) as an unsigned number; *ok says whether it was. */
static uint64_t parse_u64(const char *s, bool *ok)
{
	*ok = false;
	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return 0;
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	*ok = *end == '\0';
	return (uint64_t)v;
}

/* After "ferry-size" / an SFTP stat: what to do with n bytes already there. */
void sshc_upload_decide_resume(struct sshc_upload *u, uint64_t n)
{
	u->remote_have = n;
	if (n > 0 && n <= u->size) {
		event_log(u->o->events, EV_INFO, "found %llu bytes of an earlier upload on %s; "
			  "checking them", (unsigned long long)n, u->c->target);
	} else if (n > u->size) {
		event_log(u->o->events, EV_WARN, "the partial upload on %s is larger than %s; "
			  "starting over", u->c->target, u->local);
	}
}

/* Whether the bytes already there could be a prefix of ours. */
bool sshc_upload_resume_candidate(const struct sshc_upload *u)
{
	return u->remote_have > 0 && u->remote_have <= u->size;
}

/* The remote side said whether PART's prefix is ours: resume or restart. */
static void prefix_answer(struct sshc_upload *u, bool same)
{
	u->prefix_answer = true;
	u->append = same;
	if (same) {
		u->off = u->remote_have;
		event_log(u->o->events, EV_INFO, "resuming after %llu bytes",
			  (unsigned long long)u->remote_have);
	} else {
		event_log(u->o->events, EV_WARN, "the partial upload on %s differs from %s; "
			  "starting over", u->c->target, u->local);
	}
}

/* A line from a script. Other lines (a chatty login shell) are ignored. */
static void upload_line(void *ud, const char *line)
{
	struct sshc_upload *u = ud;
	bool ok = true;
	if (str_starts(line, "ferry-size ") && u->state == UP_WAIT_SIZE) {
		uint64_t n = parse_u64(line + strlen("ferry-size "), &ok);
		if (ok) {
			sshc_upload_decide_resume(u, n);
			u->state = sshc_upload_resume_candidate(u) ? UP_SEND_CHECK : UP_SEND_HEADER;
		}
	} else if (str_starts(line, "ferry-prefix ")) {
		prefix_answer(u, strcmp(line + strlen("ferry-prefix "), "same") == 0);
		if (u->state == UP_WAIT_PREFIX)
			u->state = UP_SEND_HEADER;
	} else if (strcmp(line, "ferry-hashed") == 0) {
		u->remote_hashed = true;
	} else if (strcmp(line, "ferry-hash-failed") == 0) {
		u->hash_failed = true;
	} else if (str_starts(line, "ferry-sha256 ")) {
		ok = sshc_parse_sha256(line + strlen("ferry-sha256 "), u->remote_hex) == 0;
		if (ok && u->state == UP_WAIT_SHA)
			u->state = UP_SEND_WANT;
	} else if (str_starts(line, "ferry-short ")) {
		u->short_size = parse_u64(line + strlen("ferry-short "), &ok);
	}
	if (!ok && !u->protocol_error) {
		u->protocol_error = true;
		snprintf(u->bad_line, sizeof u->bad_line, "%s", line);
	}
}

/* A script's stdout, to the line splitter. */
static void upload_stdout(void *ud, const char *data, size_t len)
{
	struct sshc_upload *u = ud;
	sshc_lines_feed(&u->lines, data, len);
}

/* stdin of the scripts, following the state. */
static ssize_t upload_produce(void *ud, char *buf, size_t max, struct err *e)
{
	struct sshc_upload *u = ud;
	switch (u->state) {
	case UP_WAIT_SIZE:
	case UP_WAIT_PREFIX:
	case UP_WAIT_SHA:
		return PRODUCE_LATER;
	case UP_SEND_CHECK: {
		char hex[HASH_HEX_SIZE];
		if (hash_prefix(u, u->remote_have, hex, e) != 0)
			return -1;
		u->state = UP_WAIT_PREFIX;
		return snprintf(buf, max, "check %s\n", hex);
	}
	case UP_SEND_HEADER:
		u->state = UP_DATA;
		event_progress(u->o->events, u->step, u->off, u->size);
		return snprintf(buf, max, "%s\n", u->append ? "append" : "new");
	case UP_DATA: {
		if (fault_kill_after(u->sent))
			raise(SIGKILL);
		if (u->off >= u->size)
			return 0;
		size_t n = max;
		if (n > u->size - u->off)
			n = (size_t)(u->size - u->off);
		if (sshc_upload_read_at(u, buf, n, u->off, e) != 0)
			return -1;
		sshc_upload_hash_sent(u, buf, n, u->off);
		u->off += n;
		u->sent += n;
		event_progress(u->o->events, u->step, u->off, u->size);
		return (ssize_t)n;
	}
	case UP_SEND_END:
		u->state = UP_WAIT_SHA;
		return snprintf(buf, max, "end %llu\n", (unsigned long long)u->remote_hash_mib);
	case UP_SEND_WANT:
		/* Only for a whole, cleanly hashed PART: else EOF, and VERIFY
		 * exits without touching it. */
		if (!u->remote_hashed || u->hash_failed || u->protocol_error) {
			u->state = UP_DONE;
			return 0;
		}
		if (hash_local(u, u->size, NULL, e) != 0)
			return -1;
		hash_final(&u->full, u->hex);
		u->state = UP_DONE;
		return snprintf(buf, max, "want %s\n", u->hex);
	case UP_DONE:
	default:
		return 0;
	}
}

/* A path for the remote shell: "./" before a leading '-'. Caller frees. */
static char *remote_arg(const char *path)
{
	if (path[0] == '-') {
		char *p = xasprintf("./%s", path);
		char *q = sshc_quote(p);
		free(p);
		return q;
	}
	return sshc_quote(path);
}

/* Turn a script's exit status into an error. */
static int upload_failed(struct sshc_upload *u, const char *part, int status,
			 const struct sshc_exec_info *info, struct err *e)
{
	char tail[512];
	sshc_last_line(info->stderr_tail, tail, sizeof tail);
	const char *sep = tail[0] ? ": " : "";
	switch (status) {
	case 4:
		err_set(e, ERR_VERIFY, "the copy on %s does not match %s: sha256 %s there, %s here; "
			"the partial file was removed", u->c->target, u->local,
			u->remote_hex[0] ? u->remote_hex : "(none)", u->hex);
		return err_hint(e, "run the push again; if it fails the same way, check the remote disk");
	case 6:
		err_set(e, ERR_SSH, "upload of %s to %s is incomplete: %s holds %llu of %llu bytes",
			u->local, u->c->target, part, (unsigned long long)u->short_size,
			(unsigned long long)u->size);
		return err_hint(e, "run the same push again: it resumes after the bytes already copied");
	case 10:
		return err_set(e, ERR_SSH, "cannot prepare the directory of %s on %s%s%s", part,
			       u->c->target, sep, tail);
	case 12:
		return err_set(e, ERR_SSH, "cannot write %s on %s%s%s", part, u->c->target, sep, tail);
	case 13:
		return err_set(e, ERR_SSH, "cannot rename %s into place on %s%s%s", part,
			       u->c->target, sep, tail);
	case 14:
		err_set(e, ERR_SSH, "another upload to %s on %s still runs (waited 60 s for its lock)",
			part, u->c->target);
		return err_hint(e, "wait for it to end, or stop it, and push again");
	case 3:
		err_set(e, ERR_SSH, "cannot hash %s on %s (openssl or sha256sum and dd needed)%s%s",
			part, u->c->target, sep, tail);
		return err_hint(e, "install coreutils on the server");
	case 5:
		if (u->hash_failed || u->protocol_error || (u->state >= UP_SEND_WANT && !u->remote_hashed))
			return err_set(e, ERR_SSH, "hashing %s on %s failed; it was left in place%s%s",
				       part, u->c->target, sep, tail);
		/* fall through */
	default:
		if (info->signal[0])
			return err_set(e, ERR_SSH, "the upload to %s was killed by signal %s%s%s",
				       u->c->target, info->signal, sep, tail);
		if (tail[0] && status == 1)
			return err_set(e, ERR_SSH, "cannot write %s on %s: %s", part, u->c->target, tail);
		return err_set(e, ERR_SSH, "the upload to %s failed (remote script exit status %d)%s%s",
			       u->c->target, status, sep, tail);
	}
}

/* "exec sh -c SCRIPT ferry-upload ARGS...": sh, whatever the login shell. */
static char *script_command(const char *script, const char *const *args, size_t nargs)
{
	char *q = sshc_quote(script);
	char *cmd = xasprintf("exec sh -c %s ferry-upload", q);
	free(q);
	for (size_t i = 0; i < nargs; i++) {
		char *a = remote_arg(args[i]);
		char *next = xasprintf("%s %s", cmd, a);
		free(a);
		free(cmd);
		cmd = next;
	}
	return cmd;
}

/* Pump a script to its end with the upload's producer and line parser. */
static int upload_pump(struct sshc_upload *u, struct sshc_chan_run *r, const char *part,
		       struct err *e)
{
	struct sshc_exec_input in = {.fd = -1, .produce = upload_produce, .ud = u,
				.chunk_size = UPLOAD_CHUNK};
	in.chunk = xmalloc(in.chunk_size);
	struct sshc_exec_info info;
	struct sshc_exec_opts eo = {.on_stdout = upload_stdout, .ud = u, .info = &info,
				    .cancel = u->o->cancel};
	int status = -1;
	int rc = sshc_exec_pump(r, &eo, &in, &status, e);
	sshc_lines_flush(&u->lines);
	free(in.chunk);
	if (rc == 0 && status != 0)
		rc = upload_failed(u, part, status, &info, e);
	return rc;
}

/* Write a line to a script's stdin. */
int sshc_upload_say(struct sshc_upload *u, struct sshc_chan_run *r, const char *line, struct err *e)
{
	size_t len = strlen(line);
	if (ssh_channel_write(r->ch, line, (uint32_t)len) != (int)len)
		return err_set(e, ERR_SSH, "connection to %s lost: %s", u->c->target,
			       ssh_get_error(u->c->s));
	return 0;
}

/* Stop condition: VERIFY answered the prefix check. */
static bool got_prefix_answer(void *ud)
{
	const struct sshc_upload *u = ud;
	return u->prefix_answer;
}

/* Resume check through VERIFY: is PART's prefix ours? */
int sshc_upload_check_prefix(struct sshc_upload *u, struct sshc_chan_run *verify, const char *part,
			       struct err *e)
{
	char hex[HASH_HEX_SIZE];
	if (hash_prefix(u, u->remote_have, hex, e) != 0)
		return -1;
	char line[128];
	snprintf(line, sizeof line, "check %llu %s\n", (unsigned long long)u->remote_have, hex);
	if (sshc_upload_say(u, verify, line, e) != 0)
		return -1;
	struct sshc_exec_input none = {.fd = -1, .done = true};
	struct sshc_exec_info info;
	struct sshc_exec_opts eo = {.on_stdout = upload_stdout, .ud = u, .info = &info,
				    .cancel = u->o->cancel};
	int status = -1;
	int rc = sshc_exec_pump_until(verify, &eo, &none, got_prefix_answer, u, &status, e);
	if (rc == 0)   /* it exited instead of answering */
		return upload_failed(u, part, status == 0 ? 5 : status, &info, e);
	return rc < 0 ? -1 : 0;
}


/* The data through DATA (exec + cat). */
static int upload_exec(struct sshc_upload *u, const char *dir, const char *part, struct err *e)
{
	const char *dargs[] = {dir, part};
	char *dcmd = script_command(DATA_SCRIPT, dargs, 2);
	struct sshc_chan_run data;
	u->state = UP_WAIT_SIZE;
	int rc = sshc_exec_start(u->c, dcmd, &data, e);
	if (rc == 0) {
		rc = upload_pump(u, &data, part, e);
		sshc_exec_close(&data);
		if (rc == 0 && u->state != UP_DATA)
			rc = err_set(e, ERR_SSH, "unexpected answers from %s during the upload%s%s%s",
				     u->c->target, u->protocol_error ? ": \"" : "", u->bad_line,
				     u->protocol_error ? "\"" : "");
	}
	free(dcmd);
	return rc;
}

/* VERIFY started, the data over SFTP (or DATA), then the final check. */
static int upload_run(struct sshc_upload *u, const char *remote_path, struct err *e)
{
	char *part = xasprintf("%s.part", remote_path);
	char *dir = sshc_remote_dirname(remote_path);
	char *size = xasprintf("%llu", (unsigned long long)u->size);
	const char *vargs[] = {part, remote_path, size};
	char *vcmd = script_command(VERIFY_SCRIPT, vargs, 3);
	u->lines.on_line = upload_line;
	u->lines.ud = u;
	struct sshc_chan_run verify;
	int rc = sshc_exec_start(u->c, vcmd, &verify, e);
	if (rc == 0) {
		rc = sshc_upload_sftp(u, &verify, dir, part, e);
		if (rc == 1) {
			event_log(u->o->events, EV_INFO, "%s has no sftp subsystem; sending through "
				  "a remote cat", u->c->target);
			rc = upload_exec(u, dir, part, e);
		}
		if (rc != 0 && u->sent > 0 && e->kind != ERR_VERIFY && e->kind != ERR_INTERRUPTED)
			err_prefix(e, "upload of %s stopped after %llu bytes", u->local,
				   (unsigned long long)u->off);
		if (rc == 0) {
			u->state = UP_SEND_END;
			rc = upload_pump(u, &verify, part, e);
			if (rc == 0 && (u->state != UP_DONE || strcmp(u->remote_hex, u->hex) != 0))
				rc = err_set(e, ERR_VERIFY, "unexpected answers from %s when verifying "
					     "the upload%s%s%s", u->c->target,
					     u->protocol_error ? ": \"" : "", u->bad_line,
					     u->protocol_error ? "\"" : "");
		}
		sshc_exec_close(&verify);
	}
	free(vcmd);
	free(size);
	free(dir);
	free(part);
	return rc;
}

/* Copy local_path to remote_path, resumable and verified (see ssh.h). */
int sshc_upload(sshc_conn *c, const char *local_path, const char *remote_path,
		const struct sshc_upload_opts *o, struct sshc_upload_result *r,
		struct err *e)
{
	static const struct sshc_upload_opts defaults = {0};
	struct sshc_upload_result r_local;
	if (!o)
		o = &defaults;
	if (!r)
		r = &r_local;
	memset(r, 0, sizeof *r);
	if (!remote_path || !*remote_path)
		return err_set(e, ERR_USAGE, "upload of %s: no remote path", local_path);
	double start = util_now();
	struct sshc_upload *u = xcalloc(1, sizeof *u);
	u->c = c;
	u->o = o;
	u->local = local_path;
	u->step = o->step ? o->step : "upload";
	u->fd = open(local_path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0) {
		free(u);
		return err_set(e, ERR_FAILED, "cannot open %s: %s", local_path, strerror(errno));
	}
	struct stat st;
	int rc = 0;
	if (fstat(u->fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = err_set(e, ERR_FAILED, "%s is not a regular file", local_path);
	else
		u->size = (uint64_t)st.st_size;
	posix_fadvise(u->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (rc == 0)
		rc = hash_init(&u->full, e);
	if (rc == 0)
		rc = upload_run(u, remote_path, e);
	if (rc == 0)
		memcpy(r->sha256, u->hex, sizeof r->sha256);
	r->resumed_from = u->append ? u->remote_have : 0;
	r->bytes = u->size;
	r->sent = u->sent;
	r->seconds = util_now() - start;
	hash_done(&u->full);
	close(u->fd);
	free(u);
	return rc;
}

/* --- the SFTP path of an upload --------------------------------------- */

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
